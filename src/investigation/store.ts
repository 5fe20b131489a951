/**
 * The investigation tables (migration 700): every SQL statement of the module. Lists and
 * lookups go through an index (worklist by status and deadline, candidates and contacts by
 * investigation, stays by place and start or by patient and start).
 */
import type pg from 'pg';
import { currentContentSql } from '../fhir/schema.js';
import type { Queryable } from '../platform/db.js';
import type { Candidate, Check, Contact, Investigation, InvestigationStatus, OutsideContact } from './schemas.js';
import type { StayRow } from './stays.js';

const iso = (v: unknown): string | null => (v == null ? null : v instanceof Date ? v.toISOString() : String(v));
const day = (v: unknown): string | null => {
  if (v == null) return null;
  if (v instanceof Date) {
    // `date` columns arrive as local-midnight Dates from node-postgres, as strings from PGlite.
    const y = v.getFullYear();
    const m = v.getMonth() + 1;
    const d = v.getDate();
    return `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
  }
  return String(v).slice(0, 10);
};

type Row = Record<string, unknown>;

function investigation(r: Row): Investigation {
  return {
    id: Number(r.id),
    patientId: String(r.patient_id),
    diseaseKey: String(r.disease_key),
    diseaseName: String(r.disease_name),
    diseaseClass: String(r.disease_class),
    source: r.source as Investigation['source'],
    sourceRef: (r.source_ref as string | null) ?? null,
    status: r.status as InvestigationStatus,
    classification: ((r.classification as string | undefined) ?? 'suspected') as Investigation['classification'],
    assignee: (r.assignee as string | null) ?? null,
    organization: (r.organization as string | null) ?? null,
    onsetDate: day(r.onset_date),
    openedBy: String(r.opened_by),
    openedAt: iso(r.opened_at)!,
    deadlineAt: iso(r.deadline_at)!,
    overdue: r.status !== 'closed' && Date.parse(iso(r.deadline_at)!) < Date.now(),
    closedBy: (r.closed_by as string | null) ?? null,
    closedAt: iso(r.closed_at),
    closeNote: (r.close_note as string | null) ?? null,
    note: (r.note as string | null) ?? null,
    responseId: (r.response_id as string | null) ?? null,
    questionnaireId: String(r.questionnaire_id),
    fromContactId: r.from_contact_id == null ? null : Number(r.from_contact_id),
    candidatesAt: iso(r.candidates_at),
    openedAutomatically: r.auto_rule != null,
    autoRule: (r.auto_rule as string | null) ?? null,
    version: Number(r.version),
    updatedAt: iso(r.updated_at)!,
  };
}

export interface NewInvestigation {
  patientId: string;
  diseaseKey: string;
  diseaseName: string;
  diseaseClass: string;
  source: Investigation['source'];
  sourceRef: string | null;
  assignee: string | null;
  organization: string | null;
  onsetDate: string | null;
  openedBy: string;
  deadlineAt: string;
  note: string | null;
  questionnaireId: string;
  fromContactId: number | null;
  /** The rule that opened it by itself (automatic opening from a report card); absent: opened by someone. */
  autoRule?: string | null;
}

export async function insertInvestigation(c: Queryable, n: NewInvestigation): Promise<Investigation> {
  const r = await c.query(
    `INSERT INTO inv_investigation (patient_id, disease_key, disease_name, disease_class, source, source_ref, assignee, organization,
       onset_date, opened_by, deadline_at, note, questionnaire_id, from_contact_id, auto_rule)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
    [
      n.patientId,
      n.diseaseKey,
      n.diseaseName,
      n.diseaseClass,
      n.source,
      n.sourceRef,
      n.assignee,
      n.organization,
      n.onsetDate,
      n.openedBy,
      n.deadlineAt,
      n.note,
      n.questionnaireId,
      n.fromContactId,
      n.autoRule ?? null,
    ],
  );
  return investigation(r.rows[0] as Row);
}

export async function findInvestigation(c: Queryable, id: number, forUpdate = false): Promise<Investigation | undefined> {
  const r = await c.query(`SELECT * FROM inv_investigation WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? investigation(r.rows[0] as Row) : undefined;
}

/** An open or in-progress investigation of this resident for this disease. */
export async function openInvestigationOf(c: Queryable, patientIds: string[], diseaseKey: string): Promise<Investigation | undefined> {
  const r = await c.query(
    `SELECT * FROM inv_investigation WHERE patient_id = ANY($1::text[]) AND disease_key = $2 AND status <> 'closed' ORDER BY id LIMIT 1`,
    [patientIds, diseaseKey],
  );
  return r.rows[0] ? investigation(r.rows[0] as Row) : undefined;
}

export async function listInvestigations(
  c: Queryable,
  q: { statuses: string[]; assignee?: string; patientId?: string; limit: number; offset: number },
): Promise<{ items: Investigation[]; total: number }> {
  const args: unknown[] = [q.statuses];
  const where = ['status = ANY($1::text[])'];
  if (q.assignee) where.push(`assignee = $${args.push(q.assignee)}`);
  if (q.patientId) where.push(`patient_id = $${args.push(q.patientId)}`);
  const total = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM inv_investigation WHERE ${where.join(' AND ')}`, args);
  const r = await c.query(
    `SELECT * FROM inv_investigation WHERE ${where.join(' AND ')}
     ORDER BY (status <> 'closed' AND deadline_at < now()) DESC, deadline_at, id LIMIT $${args.push(q.limit)} OFFSET $${args.push(q.offset)}`,
    args,
  );
  return { items: r.rows.map((x) => investigation(x as Row)), total: total.rows[0]!.n };
}

/**
 * Applies a change if the investigation is still at `version` (one statement: of two concurrent
 * saves, one wins); undefined when the version was stale.
 */
export async function updateInvestigationAt(
  c: Queryable,
  id: number,
  version: number,
  set: Partial<{
    status: InvestigationStatus;
    classification: Investigation['classification'];
    assignee: string;
    note: string;
    closeNote: string;
    closedBy: string;
    closedAt: string;
    responseId: string;
    candidatesAt: string;
  }>,
): Promise<Investigation | undefined> {
  const cols: Record<string, string> = {
    status: 'status',
    classification: 'classification',
    assignee: 'assignee',
    note: 'note',
    closeNote: 'close_note',
    closedBy: 'closed_by',
    closedAt: 'closed_at',
    responseId: 'response_id',
    candidatesAt: 'candidates_at',
  };
  const args: unknown[] = [id, version];
  const sets = ['version = version + 1', 'updated_at = now()'];
  for (const [k, v] of Object.entries(set)) if (v !== undefined) sets.push(`${cols[k]} = $${args.push(v)}`);
  const r = await c.query(`UPDATE inv_investigation SET ${sets.join(', ')} WHERE id = $1 AND version = $2 RETURNING *`, args);
  return r.rows[0] ? investigation(r.rows[0] as Row) : undefined;
}

/** Marks when candidates were computed (no version change: it is not an investigator's edit). */
/** Marks the candidates computed now; `truncated`: the co-stays met CO_STAY_ROW_LIMIT. */
export async function markCandidatesComputed(c: Queryable, id: number, truncated = false): Promise<void> {
  await c.query('UPDATE inv_investigation SET candidates_at = now(), candidates_truncated = $2 WHERE id = $1', [id, truncated]);
}

export async function candidatesTruncated(c: Queryable, id: number): Promise<boolean> {
  const r = await c.query<{ t: boolean }>('SELECT candidates_truncated AS t FROM inv_investigation WHERE id = $1', [id]);
  return r.rows[0]?.t ?? false;
}

// ---------------------------------------------------------------------------------------------
// Stays

export async function replaceStays(c: Queryable, encounterIds: string[], rows: StayRow[]): Promise<void> {
  if (encounterIds.length) await c.query('DELETE FROM inv_stay WHERE encounter_id = ANY($1::text[])', [encounterIds]);
  if (!rows.length) return;
  await c.query(
    `INSERT INTO inv_stay (encounter_id, patient_id, kind, place_key, label, start_at, end_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])`,
    [
      rows.map((r) => r.encounterId),
      rows.map((r) => r.patientId),
      rows.map((r) => r.kind),
      rows.map((r) => r.placeKey),
      rows.map((r) => r.label),
      rows.map((r) => r.start),
      rows.map((r) => r.end),
    ],
  );
}

export interface Stay {
  encounterId?: string;
  patientId: string;
  kind: string;
  placeKey: string;
  label: string;
  start: string;
  end: string | null;
}

const stay = (r: Row): Stay => ({
  encounterId: String(r.encounter_id),
  patientId: String(r.patient_id),
  kind: String(r.kind),
  placeKey: String(r.place_key),
  label: String(r.label),
  start: iso(r.start_at)!,
  end: iso(r.end_at),
});

/** Stays longer than this are not looked for before the window (bounds the index range). */
export const LONGEST_STAY_DAYS = 180;

/** The stays of these patients that overlap [start, end] (index on patient, start). */
export async function staysOfPatients(c: Queryable, patientIds: string[], start: string, end: string): Promise<Stay[]> {
  const r = await c.query(
    `SELECT encounter_id, patient_id, kind, place_key, label, start_at, end_at FROM inv_stay
     WHERE patient_id = ANY($1::text[]) AND start_at <= $3::timestamptz AND start_at >= $2::timestamptz - interval '${LONGEST_STAY_DAYS} days'
       AND (end_at IS NULL OR end_at >= $2::timestamptz)`,
    [patientIds, start, end],
  );
  return r.rows.map((x) => stay(x as Row));
}

/** The most co-stay rows one computation of candidates reads; beyond it the earliest are kept and the list says it was cut. */
export const CO_STAY_ROW_LIMIT = 20_000;

/**
 * Everyone's stays that overlap one of the case's stays at its place (index on place, start: one
 * range per case stay, over that stay's own period rather than the whole infectious period, so a
 * busy department costs the hours the case spent there). Ordered by start (then place, person),
 * at most `limit` rows; `truncated` when there were more.
 */
export async function staysAtPlaces(
  c: Queryable,
  caseStays: readonly { placeKey: string; start: string; end: string | null }[],
  limit = CO_STAY_ROW_LIMIT,
): Promise<{ stays: Stay[]; truncated: boolean }> {
  if (!caseStays.length) return { stays: [], truncated: false };
  const r = await c.query(
    `SELECT DISTINCT s.encounter_id, s.patient_id, s.kind, s.place_key, s.label, s.start_at, s.end_at
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS q(place_key, from_at, to_at)
       JOIN inv_stay s ON s.place_key = q.place_key AND s.start_at <= coalesce(q.to_at, now())
        AND s.start_at >= q.from_at - interval '${LONGEST_STAY_DAYS} days' AND (s.end_at IS NULL OR s.end_at >= q.from_at)
      ORDER BY s.start_at, s.place_key, s.patient_id, s.encounter_id
      LIMIT $4`,
    [caseStays.map((s) => s.placeKey), caseStays.map((s) => s.start), caseStays.map((s) => s.end), limit + 1],
  );
  const rows = r.rows.map((x) => stay(x as Row));
  return { stays: rows.slice(0, limit), truncated: rows.length > limit };
}

// ---------------------------------------------------------------------------------------------
// Candidates

export interface NewCandidate {
  patientId: string;
  kind: string;
  placeKey: string;
  place: string;
  windowStart: string;
  windowEnd: string;
}

function candidate(r: Row): Candidate {
  return {
    id: Number(r.id),
    investigationId: Number(r.investigation_id),
    patientId: String(r.patient_id),
    kind: r.kind as Candidate['kind'],
    placeKey: String(r.place_key),
    place: String(r.place_label),
    windowStart: iso(r.window_start)!,
    windowEnd: iso(r.window_end)!,
    status: r.status as Candidate['status'],
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: iso(r.decided_at),
    reason: (r.reason as string | null) ?? null,
    contactId: r.contact_id == null ? null : Number(r.contact_id),
  };
}

/**
 * Stores a fresh computation: new candidates are added, proposed ones get the new windows,
 * proposed ones no longer found are removed; decided ones are kept as decided.
 */
export async function saveCandidates(c: Queryable, investigationId: number, list: NewCandidate[]): Promise<void> {
  await c.query(
    `DELETE FROM inv_candidate k WHERE k.investigation_id = $1 AND k.status = 'proposed'
       AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[], $4::text[]) AS n(p, kind, place)
                       WHERE n.p = k.patient_id AND n.kind = k.kind AND n.place = k.place_key)`,
    [investigationId, list.map((x) => x.patientId), list.map((x) => x.kind), list.map((x) => x.placeKey)],
  );
  if (!list.length) return;
  await c.query(
    `INSERT INTO inv_candidate (investigation_id, patient_id, kind, place_key, place_label, window_start, window_end)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
     ON CONFLICT (investigation_id, patient_id, kind, place_key) DO UPDATE
       SET place_label = excluded.place_label, window_start = excluded.window_start, window_end = excluded.window_end
       WHERE inv_candidate.status = 'proposed'`,
    [
      investigationId,
      list.map((x) => x.patientId),
      list.map((x) => x.kind),
      list.map((x) => x.placeKey),
      list.map((x) => x.place),
      list.map((x) => x.windowStart),
      list.map((x) => x.windowEnd),
    ],
  );
}

export async function listCandidates(c: Queryable, investigationId: number): Promise<Candidate[]> {
  const r = await c.query(
    `SELECT * FROM inv_candidate WHERE investigation_id = $1
     ORDER BY CASE status WHEN 'proposed' THEN 0 WHEN 'confirmed' THEN 1 ELSE 2 END, kind, window_start, patient_id`,
    [investigationId],
  );
  return r.rows.map((x) => candidate(x as Row));
}

export async function findCandidate(c: Queryable, investigationId: number, id: number): Promise<Candidate | undefined> {
  const r = await c.query('SELECT * FROM inv_candidate WHERE id = $1 AND investigation_id = $2 FOR UPDATE', [id, investigationId]);
  return r.rows[0] ? candidate(r.rows[0] as Row) : undefined;
}

export async function decideCandidate(
  c: Queryable,
  id: number,
  d: { status: 'confirmed' | 'rejected'; by: string; reason: string | null; contactId: number | null },
): Promise<Candidate> {
  const r = await c.query(
    'UPDATE inv_candidate SET status = $2, decided_by = $3, decided_at = now(), reason = $4, contact_id = $5 WHERE id = $1 RETURNING *',
    [id, d.status, d.by, d.reason, d.contactId],
  );
  return candidate(r.rows[0] as Row);
}

// ---------------------------------------------------------------------------------------------
// Contacts, exposures, checks

export interface ContactRow {
  id: number;
  investigationId: number;
  patientId: string | null;
  name: string | null;
  phone: string | null;
  handoverNote: string | null;
  organization: string | null;
  followUpStart: string;
  followUpEnd: string;
  status: Contact['status'];
  caseInvestigationId: number | null;
  confirmedBy: string;
  confirmedAt: string;
}

const contactRow = (r: Row): ContactRow => ({
  id: Number(r.id),
  investigationId: Number(r.investigation_id),
  patientId: (r.patient_id as string | null) ?? null,
  name: (r.name as string | null) ?? null,
  phone: (r.phone as string | null) ?? null,
  handoverNote: (r.handover_note as string | null) ?? null,
  organization: (r.organization as string | null) ?? null,
  followUpStart: day(r.follow_up_start)!,
  followUpEnd: day(r.follow_up_end)!,
  status: r.status as Contact['status'],
  caseInvestigationId: r.case_investigation_id == null ? null : Number(r.case_investigation_id),
  confirmedBy: String(r.confirmed_by),
  confirmedAt: iso(r.confirmed_at)!,
});

export async function findContact(c: Queryable, id: number, forUpdate = false): Promise<ContactRow | undefined> {
  const r = await c.query(`SELECT * FROM inv_contact WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? contactRow(r.rows[0] as Row) : undefined;
}

export async function contactOfPatient(c: Queryable, investigationId: number, patientIds: string[]): Promise<ContactRow | undefined> {
  const r = await c.query('SELECT * FROM inv_contact WHERE investigation_id = $1 AND patient_id = ANY($2::text[]) LIMIT 1', [
    investigationId,
    patientIds,
  ]);
  return r.rows[0] ? contactRow(r.rows[0] as Row) : undefined;
}

export async function insertContact(
  c: Queryable,
  n: Omit<ContactRow, 'id' | 'status' | 'caseInvestigationId' | 'confirmedAt'>,
): Promise<ContactRow> {
  const r = await c.query(
    `INSERT INTO inv_contact (investigation_id, patient_id, name, phone, handover_note, organization, follow_up_start, follow_up_end, confirmed_by, plan_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $2::text IS NULL THEN NULL ELSE $7::date END) RETURNING *`,
    [n.investigationId, n.patientId, n.name, n.phone, n.handoverNote, n.organization, n.followUpStart, n.followUpEnd, n.confirmedBy],
  );
  return contactRow(r.rows[0] as Row);
}

/** A new window; a window that now ends later has its further days planned again (from the old end, unless planning was behind). */
export async function setContactWindow(c: Queryable, id: number, start: string, end: string): Promise<void> {
  await c.query(
    `UPDATE inv_contact SET follow_up_start = $2, follow_up_end = $3, version = version + 1,
       plan_from = CASE WHEN patient_id IS NOT NULL AND $3::date > follow_up_end THEN coalesce(plan_from, follow_up_end + 1) ELSE plan_from END
     WHERE id = $1`,
    [id, start, end],
  );
}

export async function setContactCase(c: Queryable, id: number, caseInvestigationId: number): Promise<void> {
  await c.query(
    `UPDATE inv_contact SET status = 'became-case', case_investigation_id = $2, plan_from = NULL, version = version + 1 WHERE id = $1`,
    [id, caseInvestigationId],
  );
}

export interface ExposureRow {
  id: number;
  contactId: number;
  type: string;
  place: string | null;
  firstDate: string;
  lastDate: string;
  candidateId: number | null;
  recordedBy: string;
  recordedAt: string;
}

const exposureRow = (r: Row): ExposureRow => ({
  id: Number(r.id),
  contactId: Number(r.contact_id),
  type: String(r.type),
  place: (r.place as string | null) ?? null,
  firstDate: day(r.first_date)!,
  lastDate: day(r.last_date)!,
  candidateId: r.candidate_id == null ? null : Number(r.candidate_id),
  recordedBy: String(r.recorded_by),
  recordedAt: iso(r.recorded_at)!,
});

export async function insertExposure(c: Queryable, n: Omit<ExposureRow, 'id' | 'recordedAt'>): Promise<void> {
  await c.query(
    'INSERT INTO inv_exposure (contact_id, type, place, first_date, last_date, candidate_id, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [n.contactId, n.type, n.place, n.firstDate, n.lastDate, n.candidateId, n.recordedBy],
  );
}

export async function exposuresOf(c: Queryable, contactIds: number[]): Promise<ExposureRow[]> {
  if (!contactIds.length) return [];
  const r = await c.query('SELECT * FROM inv_exposure WHERE contact_id = ANY($1::bigint[]) ORDER BY first_date, id', [contactIds]);
  return r.rows.map((x) => exposureRow(x as Row));
}

/** A contact with its exposures, in the answer's shape (resident or out of district). */
export function contactAnswer(row: ContactRow, exposures: ExposureRow[]): Contact | OutsideContact {
  const core = {
    id: row.id,
    investigationId: row.investigationId,
    followUpStart: row.followUpStart,
    followUpEnd: row.followUpEnd,
    status: row.status,
    caseInvestigationId: row.caseInvestigationId,
    confirmedBy: row.confirmedBy,
    confirmedAt: row.confirmedAt,
    exposures: exposures
      .filter((e) => e.contactId === row.id)
      .map(({ id, type, place, firstDate, lastDate, candidateId, recordedBy, recordedAt }) => ({
        id,
        type,
        place,
        firstDate,
        lastDate,
        candidateId,
        recordedBy,
        recordedAt,
      })),
  };
  return row.patientId
    ? { ...core, patientId: row.patientId, organization: row.organization }
    : { ...core, name: row.name ?? '', phone: row.phone, handoverNote: row.handoverNote };
}

export async function contactsOf(c: Queryable, investigationId: number): Promise<ContactRow[]> {
  const r = await c.query('SELECT * FROM inv_contact WHERE investigation_id = $1 ORDER BY id', [investigationId]);
  return r.rows.map((x) => contactRow(x as Row));
}

const check = (r: Row): Check => ({
  contactId: Number(r.contact_id),
  day: day(r.day)!,
  symptoms: Boolean(r.symptoms),
  temperature: r.temperature == null ? null : Number(r.temperature),
  note: (r.note as string | null) ?? null,
  recordedBy: String(r.recorded_by),
  recordedAt: iso(r.recorded_at)!,
});

/** Records (or corrects) the check of one day. */
export async function upsertCheck(
  c: Queryable,
  n: { contactId: number; day: string; symptoms: boolean; temperature: number | null; note: string | null; by: string },
): Promise<Check> {
  const r = await c.query(
    `INSERT INTO inv_check (contact_id, day, symptoms, temperature, note, recorded_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (contact_id, day) DO UPDATE SET symptoms = excluded.symptoms, temperature = excluded.temperature, note = excluded.note,
       recorded_by = excluded.recorded_by, recorded_at = now()
     RETURNING *`,
    [n.contactId, n.day, n.symptoms, n.temperature, n.note, n.by],
  );
  return check(r.rows[0] as Row);
}

/** Contacts under follow-up managed by an organisation whose window has not ended before `since`. */
export async function monitoredContacts(
  c: Queryable,
  by: { organization?: string; team?: string },
  since: string,
): Promise<(ContactRow & { diseaseName: string; team: string | null })[]> {
  // An organisation's worklist: the contacts it manages and those its teams follow (team_organization).
  const filter = by.team ? 'k.team = $1' : '(k.organization = $1 OR k.team_organization = $1)';
  const r = await c.query(
    `SELECT k.*, i.disease_name FROM inv_contact k JOIN inv_investigation i ON i.id = k.investigation_id
     WHERE k.status = 'monitoring' AND ${filter} AND k.follow_up_end >= $2 ORDER BY k.id LIMIT 5000`,
    [by.team ?? by.organization, since],
  );
  return r.rows.map((x) => ({
    ...contactRow(x as Row),
    diseaseName: String((x as Row).disease_name),
    team: ((x as Row).team as string | null) ?? null,
  }));
}

/** The checks recorded for these contacts: "contactId|day" → whether symptoms were reported. */
export async function checkDays(c: Queryable, contactIds: number[]): Promise<Map<string, boolean>> {
  if (!contactIds.length) return new Map();
  const r = await c.query('SELECT contact_id, day, symptoms FROM inv_check WHERE contact_id = ANY($1::bigint[])', [contactIds]);
  return new Map(r.rows.map((x) => [`${String((x as Row).contact_id)}|${day((x as Row).day)}`, Boolean((x as Row).symptoms)]));
}

export type Client = pg.PoolClient;

// ---------------------------------------------------------------------------------------------
// Transmission chains, epi curve, quarantine orders

/**
 * The investigations connected to the given ones through contacts who became cases, in either
 * direction (a contact's investigation ↔ the case investigation it became), at most `limit`.
 * Each step follows the two partial indexes (inv_contact_case, inv_investigation_from_contact)
 * and the contact's investigation index, so the walk costs the size of the chain, not the table.
 */
export async function chainInvestigationIds(c: Queryable, start: number[], limit: number): Promise<number[]> {
  if (!start.length) return [];
  const r = await c.query<{ id: string }>(
    `WITH RECURSIVE comp(id) AS (
       SELECT unnest($1::bigint[])
       UNION
       SELECT n.id FROM comp CROSS JOIN LATERAL (
         SELECT k.case_investigation_id AS id FROM inv_contact k
          WHERE k.investigation_id = comp.id AND k.case_investigation_id IS NOT NULL
         UNION ALL
         SELECT k.investigation_id FROM inv_investigation i JOIN inv_contact k ON k.id = i.from_contact_id
          WHERE i.id = comp.id
       ) n
     )
     SELECT id FROM comp LIMIT $2`,
    [start, limit],
  );
  return r.rows.map((x) => Number(x.id));
}

export async function investigationsByIds(c: Queryable, ids: number[]): Promise<Investigation[]> {
  if (!ids.length) return [];
  const r = await c.query('SELECT * FROM inv_investigation WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
  return r.rows.map((x) => investigation(x as Row));
}

export async function contactsOfMany(c: Queryable, investigationIds: number[], limit: number): Promise<ContactRow[]> {
  if (!investigationIds.length) return [];
  const r = await c.query('SELECT * FROM inv_contact WHERE investigation_id = ANY($1::bigint[]) ORDER BY id LIMIT $2', [
    investigationIds,
    limit,
  ]);
  return r.rows.map((x) => contactRow(x as Row));
}

/** A contact as the chain draws it: one row per contact with the span and kinds of its exposures. */
export interface ChainContactRow {
  id: number;
  investigationId: number;
  patientId: string | null;
  name: string | null;
  caseInvestigationId: number | null;
  followUpStart: string;
  types: string[];
  firstDate: string | null;
  lastDate: string | null;
}

/**
 * The contacts of the given investigations for the chain, oldest first, at most `limit`: only
 * the columns it draws, dates as text, and each contact's exposures folded into its first and
 * last day and distinct types (one index probe per contact, after the limit).
 */
export async function chainContacts(c: Queryable, investigationIds: number[], limit: number): Promise<ChainContactRow[]> {
  if (!investigationIds.length) return [];
  const r = await c.query<{
    id: string;
    investigation_id: string;
    patient_id: string | null;
    name: string | null;
    case_investigation_id: string | null;
    follow_up_start: string;
    types: string[] | null;
    first_date: string | null;
    last_date: string | null;
  }>(
    `WITH k AS (
       SELECT id, investigation_id, patient_id, name, case_investigation_id, follow_up_start FROM inv_contact
        WHERE investigation_id = ANY($1::bigint[]) ORDER BY id LIMIT $2
     )
     SELECT k.id, k.investigation_id, k.patient_id, k.name, k.case_investigation_id, k.follow_up_start::text AS follow_up_start,
            e.types, e.first_date::text AS first_date, e.last_date::text AS last_date
       FROM k LEFT JOIN LATERAL (
         SELECT array_agg(DISTINCT x.type) AS types, min(x.first_date) AS first_date, max(x.last_date) AS last_date
           FROM inv_exposure x WHERE x.contact_id = k.id
       ) e ON true
      ORDER BY k.id`,
    [investigationIds, limit],
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    investigationId: Number(x.investigation_id),
    patientId: x.patient_id,
    name: x.name,
    caseInvestigationId: x.case_investigation_id == null ? null : Number(x.case_investigation_id),
    followUpStart: x.follow_up_start,
    types: x.types ?? [],
    firstDate: x.first_date,
    lastDate: x.last_date,
  }));
}

/**
 * The `name` element of each current Patient of the list, in one statement: the FHIR store's
 * type table by id, and of each row's current version only its names (the rest of the
 * resource never leaves the database). Deleted or unknown ids are absent.
 */
export async function patientNameElements(c: Queryable, ids: string[]): Promise<Map<string, HumanNameLike[]>> {
  const out = new Map<string, HumanNameLike[]>();
  if (!ids.length) return out;
  const r = await c.query<{ id: string; name: HumanNameLike[] | null }>(
    `SELECT p.id, ${currentContentSql('p', 'Patient')}->'name' AS name FROM r_patient p WHERE p.id = ANY($1::text[])`,
    [ids],
  );
  for (const x of r.rows) if (x.name) out.set(x.id, x.name);
  return out;
}

/** Patient.name as stored (FHIR HumanName, the parts a display name is made of). */
export interface HumanNameLike {
  use?: string;
  text?: string;
  family?: string;
  given?: string[];
}

/** Investigations of a disease (any when absent) with onset (or opening day) in [from, to], oldest first, at most `limit`. */
export async function investigationsInPeriod(
  c: Queryable,
  q: { diseaseKey?: string; from: string; to: string; limit: number },
): Promise<Investigation[]> {
  const args: unknown[] = [q.from, q.to];
  const where = [`coalesce(onset_date, (opened_at AT TIME ZONE 'Asia/Shanghai')::date) BETWEEN $1::date AND $2::date`];
  if (q.diseaseKey) where.push(`disease_key = $${args.push(q.diseaseKey)}`);
  const r = await c.query(
    `SELECT * FROM inv_investigation WHERE ${where.join(' AND ')} ORDER BY coalesce(onset_date, opened_at::date), id LIMIT $${args.push(q.limit)}`,
    args,
  );
  return r.rows.map((x) => investigation(x as Row));
}

export interface OrderRow {
  id: number;
  investigationId: number;
  contactId: number | null;
  patientId: string | null;
  personName: string | null;
  kind: 'isolation' | 'quarantine' | 'home-observation';
  place: string;
  startDate: string;
  endDate: string;
  reason: string;
  status: 'active' | 'revoked';
  issuedBy: string;
  issuedAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
  revokeReason: string | null;
}

const orderRow = (r: Row): OrderRow => ({
  id: Number(r.id),
  investigationId: Number(r.investigation_id),
  contactId: r.contact_id == null ? null : Number(r.contact_id),
  patientId: (r.patient_id as string | null) ?? null,
  personName: (r.person_name as string | null) ?? null,
  kind: r.kind as OrderRow['kind'],
  place: String(r.place),
  startDate: day(r.start_date)!,
  endDate: day(r.end_date)!,
  reason: String(r.reason),
  status: r.status as OrderRow['status'],
  issuedBy: String(r.issued_by),
  issuedAt: iso(r.issued_at)!,
  revokedBy: (r.revoked_by as string | null) ?? null,
  revokedAt: iso(r.revoked_at),
  revokeReason: (r.revoke_reason as string | null) ?? null,
});

export async function insertOrder(
  c: Queryable,
  n: Omit<OrderRow, 'id' | 'status' | 'issuedAt' | 'revokedBy' | 'revokedAt' | 'revokeReason'>,
): Promise<OrderRow> {
  const r = await c.query(
    `INSERT INTO inv_order (investigation_id, contact_id, patient_id, person_name, kind, place, start_date, end_date, reason, issued_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [n.investigationId, n.contactId, n.patientId, n.personName, n.kind, n.place, n.startDate, n.endDate, n.reason, n.issuedBy],
  );
  return orderRow(r.rows[0] as Row);
}

/** An active order of the same person and kind overlapping [start, end] (one person, one place at a time). */
export async function overlappingOrder(
  c: Queryable,
  q: { investigationId: number; contactId: number | null; kind: string; start: string; end: string },
): Promise<OrderRow | undefined> {
  const r = await c.query(
    `SELECT * FROM inv_order WHERE investigation_id = $1 AND contact_id IS NOT DISTINCT FROM $2 AND kind = $3 AND status = 'active'
        AND start_date <= $5::date AND end_date >= $4::date LIMIT 1`,
    [q.investigationId, q.contactId, q.kind, q.start, q.end],
  );
  return r.rows[0] ? orderRow(r.rows[0] as Row) : undefined;
}

export async function ordersOf(c: Queryable, investigationId: number): Promise<OrderRow[]> {
  const r = await c.query('SELECT * FROM inv_order WHERE investigation_id = $1 ORDER BY id', [investigationId]);
  return r.rows.map((x) => orderRow(x as Row));
}

export async function findOrder(c: Queryable, id: number, forUpdate = false): Promise<OrderRow | undefined> {
  const r = await c.query(`SELECT * FROM inv_order WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? orderRow(r.rows[0] as Row) : undefined;
}

export async function revokeOrder(c: Queryable, id: number, by: string, reason: string): Promise<OrderRow> {
  const r = await c.query(
    `UPDATE inv_order SET status = 'revoked', revoked_by = $2, revoked_at = now(), revoke_reason = $3 WHERE id = $1 RETURNING *`,
    [id, by, reason],
  );
  return orderRow(r.rows[0] as Row);
}

export interface ReportRow {
  id: number;
  investigationId: number;
  generatedBy: string;
  generatedAt: string;
  sha256: string;
  bytes: number;
}

const reportRow = (r: Row): ReportRow => ({
  id: Number(r.id),
  investigationId: Number(r.investigation_id),
  generatedBy: String(r.generated_by),
  generatedAt: iso(r.generated_at)!,
  sha256: String(r.sha256),
  bytes: Number(r.bytes),
});

export async function insertReport(c: Queryable, investigationId: number, by: string, sha256: string, pdf: Buffer): Promise<ReportRow> {
  const r = await c.query(
    'INSERT INTO inv_report (investigation_id, generated_by, sha256, bytes, pdf) VALUES ($1, $2, $3, $4, $5) RETURNING id, investigation_id, generated_by, generated_at, sha256, bytes',
    [investigationId, by, sha256, pdf.length, pdf],
  );
  return reportRow(r.rows[0] as Row);
}

export async function reportsOf(c: Queryable, investigationId: number): Promise<ReportRow[]> {
  const r = await c.query(
    'SELECT id, investigation_id, generated_by, generated_at, sha256, bytes FROM inv_report WHERE investigation_id = $1 ORDER BY generated_at DESC, id DESC LIMIT 100',
    [investigationId],
  );
  return r.rows.map((x) => reportRow(x as Row));
}

export async function reportPdf(c: Queryable, id: number): Promise<(ReportRow & { pdf: Buffer }) | undefined> {
  const r = await c.query('SELECT * FROM inv_report WHERE id = $1', [id]);
  const row = r.rows[0] as Row | undefined;
  if (!row) return undefined;
  const pdf = row.pdf instanceof Uint8Array ? Buffer.from(row.pdf) : Buffer.from(String(row.pdf));
  return { ...reportRow(row), pdf };
}
