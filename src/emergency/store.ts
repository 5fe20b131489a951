/** The SQL of the emergency module (em_* tables); nothing else reads or writes them. */
import type { Database } from '../platform/db.js';

/** A pool, the database or a transaction's client: anything that runs a query. */
export type Sql = Pick<Database, 'query'>;
import type { MemberRole, MovementKind, TeamKind } from './codes.js';

const num = (v: unknown): number => Number(v);
// ---------------------------------------------------------------------------------------------
// Units

export interface UnitRow {
  code: string;
  name: string;
  areaCode: string | null;
  createdAt: Date;
}
const UNIT_COLS = 'code, name, area_code AS "areaCode", created_at AS "createdAt"';

export async function upsertUnit(c: Sql, u: { code: string; name: string; areaCode: string | null }, at: Date, by: string) {
  const r = await c.query<UnitRow>(
    `INSERT INTO em_unit (code, name, area_code, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, area_code = EXCLUDED.area_code
     RETURNING ${UNIT_COLS}`,
    [u.code, u.name, u.areaCode, at, by],
  );
  return r.rows[0]!;
}
export async function getUnit(c: Sql, code: string): Promise<UnitRow | undefined> {
  return (await c.query<UnitRow>(`SELECT ${UNIT_COLS} FROM em_unit WHERE code = $1`, [code])).rows[0];
}
export async function listUnits(c: Sql, q: { limit: number; offset: number }) {
  const r = await c.query<UnitRow>(`SELECT ${UNIT_COLS} FROM em_unit ORDER BY code LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
  const total = num((await c.query<{ n: string }>('SELECT count(*) AS n FROM em_unit')).rows[0]!.n);
  return { rows: r.rows, total };
}
export async function allUnits(c: Sql, code?: string): Promise<UnitRow[]> {
  return (await c.query<UnitRow>(`SELECT ${UNIT_COLS} FROM em_unit WHERE ($1::text IS NULL OR code = $1) ORDER BY code`, [code ?? null]))
    .rows;
}

// ---------------------------------------------------------------------------------------------
// Teams, members, training, rota

export interface TeamRow {
  id: number;
  unit: string;
  kind: TeamKind;
  name: string;
  createdAt: Date;
  members: number;
  onCall: number;
}
const TEAM_COLS = `t.id::int AS id, t.unit, t.kind, t.name, t.created_at AS "createdAt",
  (SELECT count(*)::int FROM em_member m WHERE m.team_id = t.id AND m.active) AS members,
  (SELECT count(*)::int FROM em_rota r WHERE r.team_id = t.id AND r.day = $1::date) AS "onCall"`;

export async function insertTeam(c: Sql, t: { unit: string; kind: TeamKind; name: string }, at: Date, by: string): Promise<number> {
  const r = await c.query<{ id: number }>(
    `INSERT INTO em_team (unit, kind, name, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (unit, name) DO NOTHING RETURNING id::int AS id`,
    [t.unit, t.kind, t.name, at, by],
  );
  return r.rows[0]?.id ?? 0;
}
export async function getTeam(c: Sql, id: number, today: string): Promise<TeamRow | undefined> {
  return (await c.query<TeamRow>(`SELECT ${TEAM_COLS} FROM em_team t WHERE t.id = $2`, [today, id])).rows[0];
}
export async function listTeams(c: Sql, q: { unit?: string; kind?: string; limit: number; offset: number }, today: string) {
  const r = await c.query<TeamRow & { total: string }>(
    `SELECT ${TEAM_COLS}, count(*) OVER () AS total FROM em_team t
     WHERE ($2::text IS NULL OR t.unit = $2) AND ($3::text IS NULL OR t.kind = $3)
     ORDER BY t.unit, t.kind, t.name LIMIT $4 OFFSET $5`,
    [today, q.unit ?? null, q.kind ?? null, q.limit, q.offset],
  );
  const total = r.rows.length
    ? num(r.rows[0]!.total)
    : num(
        (
          await c.query<{ n: string }>(
            'SELECT count(*) AS n FROM em_team t WHERE ($1::text IS NULL OR t.unit = $1) AND ($2::text IS NULL OR t.kind = $2)',
            [q.unit ?? null, q.kind ?? null],
          )
        ).rows[0]!.n,
      );
  return { rows: r.rows, total };
}

export interface MemberRow {
  teamId: number;
  practitionerId: string;
  name: string;
  role: MemberRole;
  phone: string | null;
  active: boolean;
}
const MEMBER_COLS = 'team_id::int AS "teamId", practitioner_id AS "practitionerId", name, role, phone, active';
export async function upsertMember(
  c: Sql,
  teamId: number,
  m: { practitionerId: string; name: string; role: MemberRole; phone?: string; active: boolean },
  at: Date,
) {
  await c.query(
    `INSERT INTO em_member (team_id, practitioner_id, name, role, phone, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (team_id, practitioner_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
       phone = COALESCE(EXCLUDED.phone, em_member.phone), active = EXCLUDED.active, updated_at = EXCLUDED.updated_at`,
    [teamId, m.practitionerId, m.name, m.role, m.phone ?? null, m.active, at],
  );
}
export async function membersOf(c: Sql, teamIds: number[], activeOnly: boolean): Promise<MemberRow[]> {
  return (
    await c.query<MemberRow>(
      `SELECT ${MEMBER_COLS} FROM em_member WHERE team_id = ANY($1::bigint[]) AND ($2::boolean IS FALSE OR active)
       ORDER BY team_id, CASE role WHEN 'leader' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, name`,
      [teamIds, activeOnly],
    )
  ).rows;
}

export interface TrainingRow {
  id: number;
  practitionerId: string;
  name: string;
  kind: 'training' | 'certificate';
  title: string;
  issuer: string | null;
  completedOn: string;
  expiresOn: string | null;
  hours: number | null;
}
const TRAINING_COLS = `id::int AS id, practitioner_id AS "practitionerId", name, kind, title, issuer,
  to_char(completed_on, 'YYYY-MM-DD') AS "completedOn", to_char(expires_on, 'YYYY-MM-DD') AS "expiresOn", hours::float8 AS hours`;
export async function insertTraining(c: Sql, t: Omit<TrainingRow, 'id'>, at: Date, by: string): Promise<TrainingRow> {
  const r = await c.query<TrainingRow>(
    `INSERT INTO em_training (practitioner_id, name, kind, title, issuer, completed_on, expires_on, hours, recorded_at, recorded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${TRAINING_COLS}`,
    [t.practitionerId, t.name, t.kind, t.title, t.issuer, t.completedOn, t.expiresOn, t.hours, at, by],
  );
  return r.rows[0]!;
}
/** Trainings and certificates, filtered; `state` is judged on `on` with the warning window. */
export async function listTrainings(
  c: Sql,
  q: { practitionerId?: string; teamId?: number; state?: 'expired' | 'expiring' | 'valid'; limit: number; offset: number },
  on: string,
  warningDays: number,
) {
  const cond = `($1::text IS NULL OR practitioner_id = $1)
    AND ($2::bigint IS NULL OR practitioner_id IN (SELECT practitioner_id FROM em_member WHERE team_id = $2 AND active))
    AND (CASE $3::text
      WHEN 'expired' THEN expires_on < $4::date
      WHEN 'expiring' THEN expires_on >= $4::date AND expires_on <= $4::date + $5::int
      WHEN 'valid' THEN expires_on IS NULL OR expires_on > $4::date + $5::int
      ELSE true END)`;
  const args = [q.practitionerId ?? null, q.teamId ?? null, q.state ?? null, on, warningDays];
  const r = await c.query<TrainingRow>(
    `SELECT ${TRAINING_COLS} FROM em_training WHERE ${cond} ORDER BY expires_on NULLS LAST, id LIMIT $6 OFFSET $7`,
    [...args, q.limit, q.offset],
  );
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_training WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}
/** Certificate expiry dates per practitioner (for the members' counts). */
export async function certificatesOf(c: Sql, practitionerIds: string[]): Promise<{ practitionerId: string; expiresOn: string | null }[]> {
  return (
    await c.query<{ practitionerId: string; expiresOn: string | null }>(
      `SELECT practitioner_id AS "practitionerId", to_char(expires_on, 'YYYY-MM-DD') AS "expiresOn"
       FROM em_training WHERE kind = 'certificate' AND practitioner_id = ANY($1::text[])`,
      [practitionerIds],
    )
  ).rows;
}

export async function replaceRotaDay(c: Sql, teamId: number, d: string, practitionerIds: string[]) {
  await c.query('DELETE FROM em_rota WHERE team_id = $1 AND day = $2::date', [teamId, d]);
  if (practitionerIds.length)
    await c.query(
      `INSERT INTO em_rota (team_id, day, practitioner_id) SELECT $1, $2::date, p FROM unnest($3::text[]) AS p ON CONFLICT DO NOTHING`,
      [teamId, d, practitionerIds],
    );
}
export async function onCall(
  c: Sql,
  d: string,
  f: { unit?: string; kind?: string; teamId?: number },
): Promise<(MemberRow & { unit: string; kind: TeamKind; teamName: string })[]> {
  return (
    await c.query<MemberRow & { unit: string; kind: TeamKind; teamName: string }>(
      `SELECT m.team_id::int AS "teamId", m.practitioner_id AS "practitionerId", m.name, m.role, m.phone, m.active,
              t.unit, t.kind, t.name AS "teamName"
       FROM em_rota r JOIN em_team t ON t.id = r.team_id
       JOIN em_member m ON m.team_id = r.team_id AND m.practitioner_id = r.practitioner_id AND m.active
       WHERE r.day = $1::date AND ($2::text IS NULL OR t.unit = $2) AND ($3::text IS NULL OR t.kind = $3) AND ($4::bigint IS NULL OR t.id = $4)
       ORDER BY t.unit, t.kind, t.id, CASE m.role WHEN 'leader' THEN 0 WHEN 'deputy' THEN 1 ELSE 2 END, m.name`,
      [d, f.unit ?? null, f.kind ?? null, f.teamId ?? null],
    )
  ).rows;
}
export async function rotaOf(c: Sql, teamIds: number[], d: string): Promise<{ teamId: number; practitionerId: string }[]> {
  return (
    await c.query<{ teamId: number; practitionerId: string }>(
      'SELECT team_id::int AS "teamId", practitioner_id AS "practitionerId" FROM em_rota WHERE team_id = ANY($1::bigint[]) AND day = $2::date',
      [teamIds, d],
    )
  ).rows;
}

// ---------------------------------------------------------------------------------------------
// Mobilisations

export interface MobilisationRow {
  id: number;
  sourceKind: string;
  sourceId: string;
  reason: string | null;
  teamIds: number[];
  onCallOnly: boolean;
  ackLimitMinutes: number;
  exercise: boolean;
  createdAt: Date;
  createdBy: string;
  notified: number;
  acknowledged: number;
  overdue: number;
}
const MOB_COLS = (nowParam: string) => `mb.id::int AS id, mb.source_kind AS "sourceKind", mb.source_id AS "sourceId", mb.reason,
  mb.team_ids::int[] AS "teamIds", mb.on_call_only AS "onCallOnly", mb.ack_limit_minutes AS "ackLimitMinutes", mb.exercise,
  mb.created_at AS "createdAt", mb.created_by AS "createdBy",
  (SELECT count(*)::int FROM em_mobilisation_member x WHERE x.mobilisation_id = mb.id) AS notified,
  (SELECT count(*)::int FROM em_mobilisation_member x WHERE x.mobilisation_id = mb.id AND x.acknowledged_at IS NOT NULL) AS acknowledged,
  (SELECT count(*)::int FROM em_mobilisation_member x WHERE x.mobilisation_id = mb.id AND x.acknowledged_at IS NULL AND x.due_at <= ${nowParam}) AS overdue`;

export async function insertMobilisation(
  c: Sql,
  m: Omit<MobilisationRow, 'id' | 'notified' | 'acknowledged' | 'overdue'>,
): Promise<number> {
  const r = await c.query<{ id: number }>(
    `INSERT INTO em_mobilisation (source_kind, source_id, reason, team_ids, on_call_only, ack_limit_minutes, exercise, created_at, created_by)
     VALUES ($1, $2, $3, $4::bigint[], $5, $6, $7, $8, $9) RETURNING id::int AS id`,
    [m.sourceKind, m.sourceId, m.reason, m.teamIds, m.onCallOnly, m.ackLimitMinutes, m.exercise, m.createdAt, m.createdBy],
  );
  return r.rows[0]!.id;
}
export async function insertMobilisedMembers(
  c: Sql,
  id: number,
  rows: { practitionerId: string; teamId: number; name: string; role: string }[],
  notifiedAt: Date,
  dueAt: Date,
) {
  await c.query(
    `INSERT INTO em_mobilisation_member (mobilisation_id, practitioner_id, team_id, name, role, notified_at, due_at)
     SELECT $1, p, t, n, r, $6, $7 FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(p, t, n, r)`,
    [id, rows.map((r) => r.practitionerId), rows.map((r) => r.teamId), rows.map((r) => r.name), rows.map((r) => r.role), notifiedAt, dueAt],
  );
}
export async function getMobilisation(c: Sql, id: number, now: Date): Promise<MobilisationRow | undefined> {
  return (await c.query<MobilisationRow>(`SELECT ${MOB_COLS('$2')} FROM em_mobilisation mb WHERE mb.id = $1`, [id, now])).rows[0];
}
export async function listMobilisations(c: Sql, q: { sourceKind?: string; sourceId?: string; limit: number; offset: number }, now: Date) {
  const cond = '($1::text IS NULL OR mb.source_kind = $1) AND ($2::text IS NULL OR mb.source_id = $2)';
  const r = await c.query<MobilisationRow>(
    `SELECT ${MOB_COLS('$3')} FROM em_mobilisation mb WHERE ${cond} ORDER BY mb.id DESC LIMIT $4 OFFSET $5`,
    [q.sourceKind ?? null, q.sourceId ?? null, now, q.limit, q.offset],
  );
  const total = num(
    (await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_mobilisation mb WHERE ${cond}`, [q.sourceKind ?? null, q.sourceId ?? null]))
      .rows[0]!.n,
  );
  return { rows: r.rows, total };
}

export interface MobilisedRow {
  mobilisationId: number;
  sourceKind: string;
  sourceId: string;
  practitionerId: string;
  teamId: number;
  name: string;
  role: string;
  notifiedAt: Date;
  dueAt: Date;
  acknowledgedAt: Date | null;
}
const MM_COLS = `x.mobilisation_id::int AS "mobilisationId", mb.source_kind AS "sourceKind", mb.source_id AS "sourceId",
  x.practitioner_id AS "practitionerId", x.team_id::int AS "teamId", x.name, x.role, x.notified_at AS "notifiedAt", x.due_at AS "dueAt",
  x.acknowledged_at AS "acknowledgedAt"`;
export async function mobilisedMembers(c: Sql, id: number): Promise<MobilisedRow[]> {
  return (
    await c.query<MobilisedRow>(
      `SELECT ${MM_COLS} FROM em_mobilisation_member x JOIN em_mobilisation mb ON mb.id = x.mobilisation_id
       WHERE x.mobilisation_id = $1 ORDER BY x.team_id, x.name`,
      [id],
    )
  ).rows;
}
export async function lockMobilisedMember(c: Sql, id: number, practitionerId: string) {
  return (
    await c.query<MobilisedRow>(
      `SELECT ${MM_COLS} FROM em_mobilisation_member x JOIN em_mobilisation mb ON mb.id = x.mobilisation_id
       WHERE x.mobilisation_id = $1 AND x.practitioner_id = $2 FOR UPDATE OF x`,
      [id, practitionerId],
    )
  ).rows[0];
}
export async function acknowledge(c: Sql, id: number, practitionerId: string, at: Date, by: string) {
  await c.query(
    'UPDATE em_mobilisation_member SET acknowledged_at = $3, acknowledged_by = $4 WHERE mobilisation_id = $1 AND practitioner_id = $2',
    [id, practitionerId, at, by],
  );
}
/** Acknowledgements still awaited, the earliest due first (the partial index em_mobilisation_pending). */
export async function pendingAcks(c: Sql, q: { overdue?: boolean; mobilisationId?: number; limit: number; offset: number }, now: Date) {
  const cond = `x.acknowledged_at IS NULL AND ($1::boolean IS NOT TRUE OR x.due_at <= $2) AND ($3::bigint IS NULL OR x.mobilisation_id = $3)`;
  const args = [q.overdue ?? null, now, q.mobilisationId ?? null];
  const r = await c.query<MobilisedRow>(
    `SELECT ${MM_COLS} FROM em_mobilisation_member x JOIN em_mobilisation mb ON mb.id = x.mobilisation_id
     WHERE ${cond} ORDER BY x.due_at, x.mobilisation_id, x.practitioner_id LIMIT $4 OFFSET $5`,
    [...args, q.limit, q.offset],
  );
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_mobilisation_member x WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}

// ---------------------------------------------------------------------------------------------
// Reserves

export interface BatchRow {
  unit: string;
  item: string;
  batchNo: string;
  expiresOn: string | null;
  quantity: number;
}
const BATCH_COLS = `unit, item, batch_no AS "batchNo", to_char(expires_on, 'YYYY-MM-DD') AS "expiresOn", quantity::float8 AS quantity`;

/** The batches of one item at one unit, locked for the movement being written. */
export async function lockBatches(c: Sql, unit: string, item: string): Promise<BatchRow[]> {
  return (
    await c.query<BatchRow>(`SELECT ${BATCH_COLS} FROM em_batch WHERE unit = $1 AND item = $2 ORDER BY batch_no FOR UPDATE`, [unit, item])
  ).rows;
}
export async function addToBatch(c: Sql, b: { unit: string; item: string; batchNo: string; expiresOn: string | null }, quantity: number) {
  await c.query(
    `INSERT INTO em_batch (unit, item, batch_no, expires_on, quantity) VALUES ($1, $2, $3, $4::date, $5)
     ON CONFLICT (unit, item, batch_no) DO UPDATE SET quantity = em_batch.quantity + EXCLUDED.quantity`,
    [b.unit, b.item, b.batchNo, b.expiresOn, quantity],
  );
}
export async function takeFromBatch(c: Sql, unit: string, item: string, batchNo: string, quantity: number) {
  await c.query('UPDATE em_batch SET quantity = quantity - $4 WHERE unit = $1 AND item = $2 AND batch_no = $3', [
    unit,
    item,
    batchNo,
    quantity,
  ]);
}
export async function listBatches(c: Sql, q: { unit?: string; item?: string; empty?: boolean; limit: number; offset: number }) {
  const cond = '($1::text IS NULL OR unit = $1) AND ($2::text IS NULL OR item = $2) AND ($3::boolean IS TRUE OR quantity > 0)';
  const args = [q.unit ?? null, q.item ?? null, q.empty ?? null];
  const r = await c.query<BatchRow>(
    `SELECT ${BATCH_COLS} FROM em_batch WHERE ${cond} ORDER BY unit, item, expires_on NULLS LAST, batch_no LIMIT $4 OFFSET $5`,
    [...args, q.limit, q.offset],
  );
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_batch WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}
/** Stock of every batch with some left (for cover and warnings), optionally of one unit. */
export async function stockBatches(c: Sql, unit?: string): Promise<BatchRow[]> {
  return (
    await c.query<BatchRow>(`SELECT ${BATCH_COLS} FROM em_batch WHERE quantity > 0 AND ($1::text IS NULL OR unit = $1)`, [unit ?? null])
  ).rows;
}

export interface MovementRow {
  id: number;
  kind: MovementKind;
  unit: string;
  item: string;
  batchNo: string;
  expiresOn: string | null;
  quantity: number;
  counterpart: string | null;
  transferId: string | null;
  note: string | null;
  exercise: boolean;
  at: Date;
  byUser: string;
}
const MOVE_COLS = `id::int AS id, kind, unit, item, batch_no AS "batchNo", to_char(expires_on, 'YYYY-MM-DD') AS "expiresOn",
  quantity::float8 AS quantity, counterpart, transfer_id AS "transferId", note, exercise, at, by_user AS "byUser"`;
export async function insertMovement(c: Sql, m: Omit<MovementRow, 'id'>, recordedAt: Date): Promise<MovementRow> {
  const r = await c.query<MovementRow>(
    `INSERT INTO em_movement (kind, unit, item, batch_no, expires_on, quantity, counterpart, transfer_id, note, exercise, at, recorded_at, by_user)
     VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${MOVE_COLS}`,
    [
      m.kind,
      m.unit,
      m.item,
      m.batchNo,
      m.expiresOn,
      m.quantity,
      m.counterpart,
      m.transferId,
      m.note,
      m.exercise,
      m.at,
      recordedAt,
      m.byUser,
    ],
  );
  return r.rows[0]!;
}
export async function listMovements(c: Sql, q: { unit?: string; item?: string; kind?: string; limit: number; offset: number }) {
  const cond = '($1::text IS NULL OR unit = $1) AND ($2::text IS NULL OR item = $2) AND ($3::text IS NULL OR kind = $3)';
  const args = [q.unit ?? null, q.item ?? null, q.kind ?? null];
  const r = await c.query<MovementRow>(`SELECT ${MOVE_COLS} FROM em_movement WHERE ${cond} ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5`, [
    ...args,
    q.limit,
    q.offset,
  ]);
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_movement WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}
/** Issued quantity per unit and item in [from, to). */
export async function issuedBetween(
  c: Sql,
  from: Date,
  to: Date,
  unit?: string,
): Promise<{ unit: string; item: string; quantity: number }[]> {
  return (
    await c.query<{ unit: string; item: string; quantity: number }>(
      `SELECT unit, item, sum(quantity)::float8 AS quantity FROM em_movement
       WHERE kind = 'issue' AND at >= $1 AND at < $2 AND ($3::text IS NULL OR unit = $3) GROUP BY unit, item`,
      [from, to, unit ?? null],
    )
  ).rows;
}
export async function upsertScenarioUse(c: Sql, unit: string, item: string, dailyUse: number, at: Date, by: string) {
  await c.query(
    `INSERT INTO em_scenario_use (unit, item, daily_use, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (unit, item) DO UPDATE SET daily_use = EXCLUDED.daily_use, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    [unit, item, dailyUse, at, by],
  );
}
export async function scenarioUses(c: Sql, unit?: string): Promise<{ unit: string; item: string; dailyUse: number }[]> {
  return (
    await c.query<{ unit: string; item: string; dailyUse: number }>(
      'SELECT unit, item, daily_use::float8 AS "dailyUse" FROM em_scenario_use WHERE ($1::text IS NULL OR unit = $1)',
      [unit ?? null],
    )
  ).rows;
}

// ---------------------------------------------------------------------------------------------
// Modes

export interface ModeRow {
  id: number;
  areaCode: string | null;
  level: number;
  reason: string;
  exercise: boolean;
  startedAt: Date;
  startedBy: string;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
}
const MODE_COLS = `id::int AS id, area_code AS "areaCode", level, reason, exercise, started_at AS "startedAt", started_by AS "startedBy",
  ended_at AS "endedAt", ended_by AS "endedBy", end_reason AS "endReason"`;
export async function insertMode(c: Sql, m: Omit<ModeRow, 'id' | 'endedAt' | 'endedBy' | 'endReason'>): Promise<ModeRow> {
  const r = await c.query<ModeRow>(
    `INSERT INTO em_mode (area_code, level, reason, exercise, started_at, started_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${MODE_COLS}`,
    [m.areaCode, m.level, m.reason, m.exercise, m.startedAt, m.startedBy],
  );
  return r.rows[0]!;
}
export async function lockOpenModeFor(c: Sql, areaCode: string | null, exercise: boolean): Promise<ModeRow | undefined> {
  return (
    await c.query<ModeRow>(
      `SELECT ${MODE_COLS} FROM em_mode WHERE ended_at IS NULL AND area_code IS NOT DISTINCT FROM $1 AND exercise = $2 FOR UPDATE`,
      [areaCode, exercise],
    )
  ).rows[0];
}
export async function lockMode(c: Sql, id: number): Promise<ModeRow | undefined> {
  return (await c.query<ModeRow>(`SELECT ${MODE_COLS} FROM em_mode WHERE id = $1 FOR UPDATE`, [id])).rows[0];
}
export async function endMode(c: Sql, id: number, at: Date, by: string, reason: string): Promise<ModeRow> {
  return (
    await c.query<ModeRow>(`UPDATE em_mode SET ended_at = $2, ended_by = $3, end_reason = $4 WHERE id = $1 RETURNING ${MODE_COLS}`, [
      id,
      at,
      by,
      reason,
    ])
  ).rows[0]!;
}
/** Modes in force at an instant, for an area (district-wide ones and those whose area contains it). */
export async function modesAt(c: Sql, areaCode: string | null, at: Date, includeExercise: boolean): Promise<ModeRow[]> {
  return (
    await c.query<ModeRow>(
      `SELECT ${MODE_COLS} FROM em_mode
       WHERE started_at <= $2 AND (ended_at IS NULL OR ended_at > $2) AND ($3::boolean OR NOT exercise)
         AND (area_code IS NULL OR ($1::text IS NOT NULL AND left($1::text, length(area_code)) = area_code))
       ORDER BY level, started_at DESC`,
      [areaCode, at, includeExercise],
    )
  ).rows;
}
export async function listModes(c: Sql, q: { active?: boolean; areaCode?: string; limit: number; offset: number }, now: Date) {
  const cond = `($1::boolean IS NULL OR (($1 AND started_at <= $3 AND (ended_at IS NULL OR ended_at > $3)) OR (NOT $1 AND ended_at IS NOT NULL AND ended_at <= $3)))
    AND ($2::text IS NULL OR area_code LIKE $2 || '%' OR (area_code IS NOT NULL AND left($2::text, length(area_code)) = area_code))`;
  const args = [q.active ?? null, q.areaCode ?? null, now];
  const r = await c.query<ModeRow>(`SELECT ${MODE_COLS} FROM em_mode WHERE ${cond} ORDER BY started_at DESC, id DESC LIMIT $4 OFFSET $5`, [
    ...args,
    q.limit,
    q.offset,
  ]);
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_mode WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}

// ---------------------------------------------------------------------------------------------
// Zero reports

export interface ZeroReportRow {
  unit: string;
  day: string;
  counts: Record<string, number>;
  zero: boolean;
  note: string | null;
  reportedAt: Date;
  reportedBy: string;
}
const ZR_COLS = `unit, to_char(day, 'YYYY-MM-DD') AS day, counts, zero, note, reported_at AS "reportedAt", reported_by AS "reportedBy"`;
export async function upsertZeroReport(c: Sql, z: ZeroReportRow): Promise<{ row: ZeroReportRow; replaced: boolean }> {
  const r = await c.query<ZeroReportRow & { inserted: boolean }>(
    `INSERT INTO em_zero_report (unit, day, counts, zero, note, reported_at, reported_by) VALUES ($1, $2::date, $3, $4, $5, $6, $7)
     ON CONFLICT (unit, day) DO UPDATE SET counts = EXCLUDED.counts, zero = EXCLUDED.zero, note = EXCLUDED.note,
       reported_at = EXCLUDED.reported_at, reported_by = EXCLUDED.reported_by
     RETURNING ${ZR_COLS}, (xmax = 0) AS inserted`,
    [z.unit, z.day, JSON.stringify(z.counts), z.zero, z.note, z.reportedAt, z.reportedBy],
  );
  const { inserted, ...row } = r.rows[0]!;
  return { row, replaced: !inserted };
}
export async function listZeroReports(c: Sql, q: { day?: string; unit?: string; limit: number; offset: number }) {
  const cond = '($1::date IS NULL OR day = $1::date) AND ($2::text IS NULL OR unit = $2)';
  const args = [q.day ?? null, q.unit ?? null];
  const r = await c.query<ZeroReportRow>(`SELECT ${ZR_COLS} FROM em_zero_report WHERE ${cond} ORDER BY day DESC, unit LIMIT $3 OFFSET $4`, [
    ...args,
    q.limit,
    q.offset,
  ]);
  const total = num((await c.query<{ n: string }>(`SELECT count(*) AS n FROM em_zero_report WHERE ${cond}`, args)).rows[0]!.n);
  return { rows: r.rows, total };
}
export async function reportedUnits(c: Sql, d: string): Promise<Set<string>> {
  return new Set((await c.query<{ unit: string }>('SELECT unit FROM em_zero_report WHERE day = $1::date', [d])).rows.map((r) => r.unit));
}

// ---------------------------------------------------------------------------------------------
// Drills

export interface DrillRow {
  id: number;
  name: string;
  scenario: Record<string, unknown>;
  status: 'planned' | 'running' | 'done' | 'failed';
  plannedFor: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  report: unknown;
  createdAt: Date;
  createdBy: string;
}
const DRILL_COLS = `id::int AS id, name, scenario, status, planned_for AS "plannedFor", started_at AS "startedAt", ended_at AS "endedAt",
  report, created_at AS "createdAt", created_by AS "createdBy"`;
export async function insertDrill(c: Sql, d: { name: string; scenario: unknown; plannedFor: Date | null; at: Date; by: string }) {
  return (
    await c.query<DrillRow>(
      `INSERT INTO em_drill (name, scenario, status, planned_for, created_at, created_by) VALUES ($1, $2, 'planned', $3, $4, $5)
       RETURNING ${DRILL_COLS}`,
      [d.name, JSON.stringify(d.scenario), d.plannedFor, d.at, d.by],
    )
  ).rows[0]!;
}
export async function getDrill(c: Sql, id: number, lock = false): Promise<DrillRow | undefined> {
  return (await c.query<DrillRow>(`SELECT ${DRILL_COLS} FROM em_drill WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])).rows[0];
}
export async function setDrillState(
  c: Sql,
  id: number,
  s: { status: DrillRow['status']; startedAt?: Date; endedAt?: Date; report?: unknown },
) {
  await c.query(
    `UPDATE em_drill SET status = $2, started_at = COALESCE($3, started_at), ended_at = COALESCE($4, ended_at),
       report = COALESCE($5::jsonb, report) WHERE id = $1`,
    [id, s.status, s.startedAt ?? null, s.endedAt ?? null, s.report === undefined ? null : JSON.stringify(s.report)],
  );
}
export async function listDrills(c: Sql, q: { limit: number; offset: number }) {
  const r = await c.query<DrillRow>(`SELECT ${DRILL_COLS} FROM em_drill ORDER BY id DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
  const total = num((await c.query<{ n: string }>('SELECT count(*) AS n FROM em_drill')).rows[0]!.n);
  return { rows: r.rows, total };
}
