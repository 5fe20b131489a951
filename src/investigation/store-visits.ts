/**
 * The follow-up job's tables (migration 704): daily visits (the mirror of each contact's daily
 * FHIR Task), the round-robin turn per team, escalation notices, and the report cards waiting to
 * open an investigation by themselves. Every statement the job runs is bounded: contacts to plan
 * by the partial index on plan_from, visits come due by the partial index on escalate_at, cards
 * by the partial index on pending rows, each with a LIMIT.
 */
import type { Queryable } from '../platform/db.js';

const iso = (v: unknown): string | null => (v == null ? null : v instanceof Date ? v.toISOString() : String(v));
const day = (v: unknown): string => {
  if (v instanceof Date) {
    const m = v.getMonth() + 1;
    const d = v.getDate();
    return `${v.getFullYear()}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
  }
  return String(v).slice(0, 10);
};
type Row = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Planning daily visits

export interface ContactToPlan {
  id: number;
  investigationId: number;
  patientId: string;
  organization: string | null;
  team: string | null;
  planFrom: string;
  followUpStart: string;
  followUpEnd: string;
  confirmedDay: string;
  diseaseName: string;
  /** The investigation's investigator (username) and organisation: who keeps a contact no centre covers. */
  investigationAssignee: string | null;
  investigationOrganization: string | null;
}

/**
 * Contacts under follow-up with days still to plan up to `through` (partial index on plan_from),
 * oldest first, at most `limit`; locked so two servers never plan one contact at once.
 */
export async function contactsToPlan(c: Queryable, through: string, limit: number): Promise<ContactToPlan[]> {
  const r = await c.query(
    `SELECT k.id, k.investigation_id, k.patient_id, k.organization, k.team, k.plan_from, k.follow_up_start, k.follow_up_end,
            (k.confirmed_at AT TIME ZONE 'Asia/Shanghai')::date AS confirmed_day, i.disease_name,
            i.assignee AS inv_assignee, i.organization AS inv_organization
       FROM inv_contact k JOIN inv_investigation i ON i.id = k.investigation_id
      WHERE k.status = 'monitoring' AND k.plan_from IS NOT NULL AND k.plan_from <= $1::date AND k.patient_id IS NOT NULL
      ORDER BY k.plan_from, k.id LIMIT $2 FOR UPDATE OF k SKIP LOCKED`,
    [through, limit],
  );
  return r.rows.map((x: Row) => ({
    id: Number(x.id),
    investigationId: Number(x.investigation_id),
    patientId: String(x.patient_id),
    organization: (x.organization as string | null) ?? null,
    team: (x.team as string | null) ?? null,
    planFrom: day(x.plan_from),
    followUpStart: day(x.follow_up_start),
    followUpEnd: day(x.follow_up_end),
    confirmedDay: day(x.confirmed_day),
    diseaseName: String(x.disease_name),
    investigationAssignee: (x.inv_assignee as string | null) ?? null,
    investigationOrganization: (x.inv_organization as string | null) ?? null,
  }));
}

/** Where planning of a contact stands: the next day to plan (null: planned to the end), its team and the team's organisation. */
export async function setPlan(
  c: Queryable,
  contactId: number,
  planFrom: string | null,
  team: string | null,
  teamOrganization: string | null = null,
): Promise<void> {
  await c.query(
    'UPDATE inv_contact SET plan_from = $2, team = coalesce($3, team), team_organization = coalesce($4, team_organization) WHERE id = $1',
    [contactId, planFrom, team, teamOrganization],
  );
}

/** Takes `n` turns of a team's rotation; answers the first turn taken. */
export async function takeTurns(c: Queryable, team: string, n: number): Promise<number> {
  const r = await c.query<{ turn: string }>(
    `INSERT INTO inv_team_turn (team, turn) VALUES ($1, $2) ON CONFLICT (team) DO UPDATE SET turn = inv_team_turn.turn + $2
     RETURNING turn`,
    [team, n],
  );
  return Number(r.rows[0]!.turn) - n;
}

export interface NewVisit {
  contactId: number;
  day: string;
  investigationId: number;
  patientId: string;
  team: string | null;
  teamName: string | null;
  assignee: string | null;
  assigneeName: string | null;
  taskId: string;
  escalateAt: string;
  /** The hand-over note (协查) of a visit kept by the investigation's owner. */
  note: string | null;
}

/** Adds visits (a day already planned is left as it is); answers the days added. */
export async function insertVisits(c: Queryable, rows: NewVisit[]): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const r = await c.query<{ contact_id: string; day: unknown }>(
    `INSERT INTO inv_visit (contact_id, day, investigation_id, patient_id, team, team_name, assignee, assignee_name, task_id, escalate_at, note)
     SELECT * FROM unnest($1::bigint[], $2::date[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                          $10::timestamptz[], $11::text[])
     ON CONFLICT (contact_id, day) DO NOTHING RETURNING contact_id, day`,
    [
      rows.map((v) => v.contactId),
      rows.map((v) => v.day),
      rows.map((v) => v.investigationId),
      rows.map((v) => v.patientId),
      rows.map((v) => v.team),
      rows.map((v) => v.teamName),
      rows.map((v) => v.assignee),
      rows.map((v) => v.assigneeName),
      rows.map((v) => v.taskId),
      rows.map((v) => v.escalateAt),
      rows.map((v) => v.note),
    ],
  );
  return new Set(r.rows.map((x) => `${String(x.contact_id)}|${day(x.day)}`));
}

export interface VisitRow {
  contactId: number;
  day: string;
  investigationId: number;
  patientId: string;
  team: string | null;
  teamName: string | null;
  assignee: string | null;
  assigneeName: string | null;
  taskId: string;
  status: 'due' | 'done' | 'escalated' | 'cancelled';
  escalateAt: string;
  note: string | null;
}

const visit = (x: Row): VisitRow => ({
  contactId: Number(x.contact_id),
  day: day(x.day),
  investigationId: Number(x.investigation_id),
  patientId: String(x.patient_id),
  team: (x.team as string | null) ?? null,
  teamName: (x.team_name as string | null) ?? null,
  assignee: (x.assignee as string | null) ?? null,
  assigneeName: (x.assignee_name as string | null) ?? null,
  taskId: String(x.task_id),
  status: x.status as VisitRow['status'],
  escalateAt: iso(x.escalate_at)!,
  note: (x.note as string | null) ?? null,
});

/** Marks a day's visit done (a check was recorded); answers it when there was one still open. */
export async function visitDone(c: Queryable, contactId: number, d: string): Promise<VisitRow | undefined> {
  const r = await c.query(
    `UPDATE inv_visit SET status = 'done' WHERE contact_id = $1 AND day = $2::date AND status IN ('due', 'escalated') RETURNING *`,
    [contactId, d],
  );
  return r.rows[0] ? visit(r.rows[0] as Row) : undefined;
}

/** Cancels a contact's visits still due (the contact became a case); answers them. */
export async function cancelVisits(c: Queryable, contactId: number): Promise<VisitRow[]> {
  const r = await c.query(`UPDATE inv_visit SET status = 'cancelled' WHERE contact_id = $1 AND status = 'due' RETURNING *`, [contactId]);
  return r.rows.map((x) => visit(x as Row));
}

/** The visits of these contacts (the worklist joins them by contact and day). */
export async function visitsOf(c: Queryable, contactIds: number[], from: string, to: string): Promise<Map<string, VisitRow>> {
  if (!contactIds.length) return new Map();
  const r = await c.query('SELECT * FROM inv_visit WHERE contact_id = ANY($1::bigint[]) AND day BETWEEN $2::date AND $3::date', [
    contactIds,
    from,
    to,
  ]);
  return new Map(r.rows.map((x) => [`${String((x as Row).contact_id)}|${day((x as Row).day)}`, visit(x as Row)]));
}

export interface DueVisit extends VisitRow {
  contactStatus: string;
  organization: string | null;
  checked: boolean;
  investigationAssignee: string | null;
  investigationOrganization: string | null;
  diseaseName: string;
}

/**
 * Visits still due whose escalation time has come (partial index on escalate_at), oldest first,
 * at most `limit`, locked (SKIP LOCKED: two servers share the work), with what escalating needs.
 */
export async function visitsComeDue(c: Queryable, now: string, limit: number): Promise<DueVisit[]> {
  const r = await c.query(
    `SELECT v.*, k.status AS contact_status, k.organization, i.assignee AS inv_assignee, i.organization AS inv_organization, i.disease_name,
            EXISTS (SELECT 1 FROM inv_check x WHERE x.contact_id = v.contact_id AND x.day = v.day) AS checked
       FROM inv_visit v JOIN inv_contact k ON k.id = v.contact_id JOIN inv_investigation i ON i.id = v.investigation_id
      WHERE v.status = 'due' AND v.escalate_at <= $1::timestamptz
      ORDER BY v.escalate_at LIMIT $2 FOR UPDATE OF v SKIP LOCKED`,
    [now, limit],
  );
  return r.rows.map((x: Row) => ({
    ...visit(x),
    contactStatus: String(x.contact_status),
    organization: (x.organization as string | null) ?? null,
    checked: Boolean(x.checked),
    investigationAssignee: (x.inv_assignee as string | null) ?? null,
    investigationOrganization: (x.inv_organization as string | null) ?? null,
    diseaseName: String(x.disease_name),
  }));
}

export async function setVisitStatus(c: Queryable, contactId: number, d: string, status: VisitRow['status']): Promise<void> {
  await c.query('UPDATE inv_visit SET status = $3 WHERE contact_id = $1 AND day = $2::date', [contactId, d, status]);
}

// ---------------------------------------------------------------------------------------------
// Escalation notices

export interface Recipient {
  kind: 'investigator' | 'team' | 'supervisor' | 'cdc';
  ref: string;
  display: string;
}

export interface EscalationRow {
  id: number;
  contactId: number;
  day: string;
  investigationId: number;
  patientId: string;
  organization: string | null;
  team: string | null;
  recipients: Recipient[];
  createdAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  ackNote: string | null;
  /** The FHIR Communication the notice was sent as (id). */
  communicationId: string | null;
}

const escalation = (x: Row): EscalationRow => ({
  id: Number(x.id),
  contactId: Number(x.contact_id),
  day: day(x.day),
  investigationId: Number(x.investigation_id),
  patientId: String(x.patient_id),
  organization: (x.organization as string | null) ?? null,
  team: (x.team as string | null) ?? null,
  recipients: (typeof x.recipients === 'string' ? JSON.parse(x.recipients) : x.recipients) as Recipient[],
  createdAt: iso(x.created_at)!,
  acknowledgedBy: (x.acknowledged_by as string | null) ?? null,
  acknowledgedAt: iso(x.acknowledged_at),
  ackNote: (x.ack_note as string | null) ?? null,
  communicationId: (x.communication_id as string | null) ?? null,
});

/** Records a notice (once per contact and day); undefined when one was already there. */
export async function insertEscalation(
  c: Queryable,
  n: Omit<EscalationRow, 'id' | 'createdAt' | 'acknowledgedBy' | 'acknowledgedAt' | 'ackNote' | 'communicationId'>,
): Promise<EscalationRow | undefined> {
  const r = await c.query(
    `INSERT INTO inv_escalation (contact_id, day, investigation_id, patient_id, organization, team, recipients)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (contact_id, day) DO NOTHING RETURNING *`,
    [n.contactId, n.day, n.investigationId, n.patientId, n.organization, n.team, JSON.stringify(n.recipients)],
  );
  return r.rows[0] ? escalation(r.rows[0] as Row) : undefined;
}

/** Names the Communication a notice was sent as. */
export async function setEscalationCommunication(c: Queryable, id: number, communicationId: string): Promise<void> {
  await c.query('UPDATE inv_escalation SET communication_id = $2 WHERE id = $1', [id, communicationId]);
}

export async function findEscalation(c: Queryable, id: number, forUpdate = false): Promise<EscalationRow | undefined> {
  const r = await c.query(`SELECT * FROM inv_escalation WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? escalation(r.rows[0] as Row) : undefined;
}

export async function acknowledgeEscalation(c: Queryable, id: number, by: string, note: string | null): Promise<EscalationRow> {
  const r = await c.query(
    'UPDATE inv_escalation SET acknowledged_by = $2, acknowledged_at = now(), ack_note = $3 WHERE id = $1 RETURNING *',
    [id, by, note],
  );
  return escalation(r.rows[0] as Row);
}

/** Notices by investigation, organisation or team, open or acknowledged; newest first, a page with the total. */
export async function listEscalations(
  c: Queryable,
  q: {
    investigationId?: number;
    organization?: string;
    team?: string;
    state: 'open' | 'acknowledged' | 'all';
    limit: number;
    offset: number;
  },
): Promise<{ items: (EscalationRow & { diseaseName: string })[]; total: number }> {
  const args: unknown[] = [];
  const where: string[] = [];
  if (q.investigationId !== undefined) where.push(`e.investigation_id = $${args.push(q.investigationId)}`);
  if (q.organization) where.push(`e.organization = $${args.push(q.organization)}`);
  if (q.team) where.push(`e.team = $${args.push(q.team)}`);
  if (q.state === 'open') where.push('e.acknowledged_at IS NULL');
  if (q.state === 'acknowledged') where.push('e.acknowledged_at IS NOT NULL');
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM inv_escalation e ${w}`, args);
  const r = await c.query(
    `SELECT e.*, i.disease_name FROM inv_escalation e JOIN inv_investigation i ON i.id = e.investigation_id ${w}
      ORDER BY (e.acknowledged_at IS NULL) DESC, e.created_at DESC, e.id DESC LIMIT $${args.push(q.limit)} OFFSET $${args.push(q.offset)}`,
    args,
  );
  return {
    items: r.rows.map((x) => ({ ...escalation(x as Row), diseaseName: String((x as Row).disease_name) })),
    total: total.rows[0]!.n,
  };
}

/** The notices of these contacts ("contactId|day" → notice), for the worklist. */
export async function escalationsOf(c: Queryable, contactIds: number[]): Promise<Map<string, EscalationRow>> {
  if (!contactIds.length) return new Map();
  const r = await c.query('SELECT * FROM inv_escalation WHERE contact_id = ANY($1::bigint[])', [contactIds]);
  return new Map(r.rows.map((x) => [`${String((x as Row).contact_id)}|${day((x as Row).day)}`, escalation(x as Row)]));
}

// ---------------------------------------------------------------------------------------------
// Report cards that open an investigation by themselves

/** Notes a card to act on (once per card, whatever happens to it later); true when it was new. */
export async function queueAutoOpen(
  c: Queryable,
  n: { cardId: string; taskId: string; diseaseKey: string; rule: string },
): Promise<boolean> {
  const r = await c.query(
    `INSERT INTO inv_auto_open (card_id, task_id, disease_key, rule) VALUES ($1, $2, $3, $4) ON CONFLICT (card_id) DO NOTHING RETURNING card_id`,
    [n.cardId, n.taskId, n.diseaseKey, n.rule],
  );
  return r.rows.length > 0;
}

export interface AutoOpenRow {
  cardId: string;
  taskId: string;
  diseaseKey: string;
  rule: string;
  status: 'pending' | 'opened' | 'skipped' | 'failed';
  investigationId: number | null;
  attempts: number;
  note: string | null;
}

const autoOpen = (x: Row): AutoOpenRow => ({
  cardId: String(x.card_id),
  taskId: String(x.task_id),
  diseaseKey: String(x.disease_key),
  rule: String(x.rule),
  status: x.status as AutoOpenRow['status'],
  investigationId: x.investigation_id == null ? null : Number(x.investigation_id),
  attempts: Number(x.attempts),
  note: (x.note as string | null) ?? null,
});

/** Cards waiting, oldest first (partial index on pending rows), at most `limit`. */
export async function pendingAutoOpens(c: Queryable, limit: number): Promise<AutoOpenRow[]> {
  const r = await c.query(`SELECT * FROM inv_auto_open WHERE status = 'pending' ORDER BY created_at, card_id LIMIT $1`, [limit]);
  return r.rows.map((x) => autoOpen(x as Row));
}

export async function finishAutoOpen(
  c: Queryable,
  cardId: string,
  status: 'opened' | 'skipped' | 'failed' | 'pending',
  investigationId: number | null,
  note: string | null,
): Promise<void> {
  await c.query(
    `UPDATE inv_auto_open SET status = $2, investigation_id = $3, note = $4, attempts = attempts + 1,
       done_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
     WHERE card_id = $1`,
    [cardId, status, investigationId, note],
  );
}

export async function autoOpenOf(c: Queryable, cardId: string): Promise<AutoOpenRow | undefined> {
  const r = await c.query('SELECT * FROM inv_auto_open WHERE card_id = $1', [cardId]);
  return r.rows[0] ? autoOpen(r.rows[0] as Row) : undefined;
}

/** The investigation a card opened by itself (the unique index on source_ref of automatic ones). */
export async function autoInvestigationOfCard(c: Queryable, cardId: string): Promise<number | undefined> {
  const r = await c.query<{ id: string }>('SELECT id FROM inv_investigation WHERE source_ref = $1 AND auto_rule IS NOT NULL', [cardId]);
  return r.rows[0] ? Number(r.rows[0].id) : undefined;
}
