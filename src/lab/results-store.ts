/**
 * SQL of results back: MLLP endpoints per facility, the outbox (claimed by lease so no two
 * loops send one message at once, and a crash mid-send is taken again), the delivery log, and
 * the report-card updates a positive asks for.
 */
import type { Queryable } from '../platform/db.js';

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));

export interface EndpointRow {
  facility: string;
  host: string;
  port: number;
  receivingApplication: string;
  receivingFacility: string;
  active: boolean;
  ackTimeoutMs: number;
  maxAttempts: number;
  maxAeAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  updatedAt: Date;
  updatedBy: string;
}

const ENDPOINT_COLUMNS = `facility, host, port, receiving_application AS "receivingApplication", receiving_facility AS "receivingFacility",
  active, ack_timeout_ms AS "ackTimeoutMs", max_attempts AS "maxAttempts", max_ae_attempts AS "maxAeAttempts", backoff_ms AS "backoffMs",
  max_backoff_ms AS "maxBackoffMs", updated_at AS "updatedAt", updated_by AS "updatedBy"`;
const fixEndpoint = (r: EndpointRow): EndpointRow => ({ ...r, updatedAt: date(r.updatedAt) });

export async function upsertEndpoint(q: Queryable, e: EndpointRow): Promise<void> {
  await q.query(
    `INSERT INTO lab_endpoint (facility, host, port, receiving_application, receiving_facility, active, ack_timeout_ms, max_attempts,
       max_ae_attempts, backoff_ms, max_backoff_ms, updated_at, updated_by)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
     ON CONFLICT (facility) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port, receiving_application = EXCLUDED.receiving_application,
       receiving_facility = EXCLUDED.receiving_facility, active = EXCLUDED.active, ack_timeout_ms = EXCLUDED.ack_timeout_ms,
       max_attempts = EXCLUDED.max_attempts, max_ae_attempts = EXCLUDED.max_ae_attempts, backoff_ms = EXCLUDED.backoff_ms,
       max_backoff_ms = EXCLUDED.max_backoff_ms, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    [
      e.facility,
      e.host,
      e.port,
      e.receivingApplication,
      e.receivingFacility,
      e.active,
      e.ackTimeoutMs,
      e.maxAttempts,
      e.maxAeAttempts,
      e.backoffMs,
      e.maxBackoffMs,
      e.updatedAt,
      e.updatedBy,
    ],
  );
}

export async function getEndpoint(q: Queryable, facility: string): Promise<EndpointRow | undefined> {
  const r = await q.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM lab_endpoint WHERE facility = $1`, [facility]);
  return r.rows[0] && fixEndpoint(r.rows[0]);
}

export async function listEndpoints(q: Queryable): Promise<EndpointRow[]> {
  const r = await q.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM lab_endpoint ORDER BY facility`);
  return r.rows.map(fixEndpoint);
}

export type OutboxStatus = 'pending' | 'sending' | 'delivered' | 'parked';

export interface OutboxRow {
  id: number;
  controlId: string;
  specimenId: string;
  barcode: string;
  facility: string;
  patientId: string | null;
  message: string;
  status: OutboxStatus;
  attempts: number;
  roundAttempts: number;
  roundAe: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  parkedReason: string | null;
  ackCode: string | null;
  ackText: string | null;
  createdAt: Date;
  verifiedAt: Date;
  deliveredAt: Date | null;
  resentCount: number;
  resentBy: string | null;
}

const OUTBOX_COLUMNS = `o.id, o.control_id AS "controlId", o.specimen_id AS "specimenId", s.barcode, o.facility, o.patient_id AS "patientId",
  o.message, o.status, o.attempts, o.round_attempts AS "roundAttempts", o.round_ae AS "roundAe", o.next_attempt_at AS "nextAttemptAt",
  o.last_error AS "lastError", o.parked_reason AS "parkedReason", o.ack_code AS "ackCode", o.ack_text AS "ackText", o.created_at AS "createdAt",
  o.verified_at AS "verifiedAt", o.delivered_at AS "deliveredAt", o.resent_count AS "resentCount", o.resent_by AS "resentBy"`;
const fixOutbox = (r: OutboxRow): OutboxRow => ({
  ...r,
  id: Number(r.id),
  nextAttemptAt: dateOrNull(r.nextAttemptAt),
  createdAt: date(r.createdAt),
  verifiedAt: date(r.verifiedAt),
  deliveredAt: dateOrNull(r.deliveredAt),
});

/** Queues one message; the control id is taken from the row's own number, so it is unique and never changes. */
export async function insertOutbox(
  q: Queryable,
  o: { specimenId: string; facility: string; patientId: string | null; createdAt: Date; verifiedAt: Date },
  build: (controlId: string) => string,
): Promise<{ id: number; controlId: string } | undefined> {
  const id = Number((await q.query<{ id: string }>(`SELECT nextval('lab_outbox_seq') AS id`)).rows[0]!.id);
  const controlId = `YFL${String(id).padStart(12, '0')}`;
  const r = await q.query(
    `INSERT INTO lab_outbox (id, control_id, specimen_id, facility, patient_id, message, status, next_attempt_at, created_at, verified_at)
     VALUES ($1,$2,$3,$4,$5,$6,'pending',$7,$7,$8) ON CONFLICT (specimen_id, facility) DO NOTHING`,
    [id, controlId, o.specimenId, o.facility, o.patientId, build(controlId), o.createdAt, o.verifiedAt],
  );
  return r.rowCount ? { id, controlId } : undefined;
}

/**
 * Takes up to `limit` messages due at `now` (pending, or sending with a lease run out) and leases
 * them for `leaseMs`; rows another loop holds are skipped.
 */
export async function claimDue(q: Queryable, now: Date, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const r = await q.query<OutboxRow>(
    `WITH due AS (
       SELECT id FROM lab_outbox
       WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND (status = 'pending' OR lease_until <= $1)
       ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
     ), taken AS (
       UPDATE lab_outbox o SET status = 'sending', lease_until = $3, next_attempt_at = $3
       FROM due WHERE o.id = due.id RETURNING o.*
     )
     SELECT ${OUTBOX_COLUMNS} FROM taken o JOIN lab_specimen s ON s.id = o.specimen_id ORDER BY o.id`,
    [now, limit, new Date(now.getTime() + leaseMs)],
  );
  return r.rows.map(fixOutbox);
}

/** The earliest time a queued message is due (null: nothing queued). */
export async function nextDue(q: Queryable): Promise<Date | null> {
  const r = await q.query<{ at: unknown }>(`SELECT min(next_attempt_at) AS at FROM lab_outbox WHERE status IN ('pending', 'sending')`);
  return dateOrNull(r.rows[0]?.at);
}

export interface AttemptRow {
  id: number;
  outboxId: number;
  attempt: number;
  controlId: string;
  host: string;
  port: number;
  startedAt: Date;
  endedAt: Date;
  outcome: 'AA' | 'AE' | 'AR' | 'timeout' | 'closed' | 'error' | 'mismatch';
  detail: string | null;
  ack: string | null;
}

/**
 * Records one attempt and the message's state after it, in one statement pair (the caller's
 * transaction): delivered (AA), parked (with the reason) or pending again at `nextAt`.
 */
export async function recordAttempt(
  q: Queryable,
  a: Omit<AttemptRow, 'id' | 'attempt'>,
  next:
    | { status: 'delivered'; ackCode: string; ackText: string; at: Date }
    | { status: 'parked'; reason: string; ackCode: string | null; ackText: string | null }
    | { status: 'pending'; nextAt: Date; error: string; ae: boolean; ackCode: string | null; ackText: string | null },
): Promise<number> {
  const row = await q.query<{ attempts: number }>(
    `UPDATE lab_outbox SET attempts = attempts + 1, round_attempts = round_attempts + 1,
       round_ae = round_ae + CASE WHEN $2 THEN 1 ELSE 0 END, lease_until = NULL,
       status = $3, next_attempt_at = $4, last_error = COALESCE($5, last_error), parked_reason = $6,
       ack_code = COALESCE($7, ack_code), ack_text = COALESCE($8, ack_text), delivered_at = $9
     WHERE id = $1 RETURNING attempts`,
    [
      a.outboxId,
      next.status === 'pending' && next.ae,
      next.status,
      next.status === 'pending' ? next.nextAt : null,
      next.status === 'pending' ? next.error : next.status === 'parked' ? next.reason : null,
      next.status === 'parked' ? next.reason : null,
      next.ackCode,
      next.ackText,
      next.status === 'delivered' ? next.at : null,
    ],
  );
  const attempt = row.rows[0]!.attempts;
  await q.query(
    `INSERT INTO lab_delivery_attempt (outbox_id, attempt, control_id, host, port, started_at, ended_at, outcome, detail, ack)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
    [a.outboxId, attempt, a.controlId, a.host, a.port, a.startedAt, a.endedAt, a.outcome, a.detail, a.ack],
  );
  return attempt;
}

/** A message leased but not sent (its endpoint was removed or switched off): parked with the reason, no attempt logged. */
export async function parkWithoutAttempt(q: Queryable, id: number, reason: string): Promise<void> {
  await q.query(`UPDATE lab_outbox SET status = 'parked', parked_reason = $2, lease_until = NULL, next_attempt_at = NULL WHERE id = $1`, [
    id,
    reason,
  ]);
}

export async function getOutbox(q: Queryable, id: number, forUpdate = false): Promise<OutboxRow | undefined> {
  const r = await q.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS} FROM lab_outbox o JOIN lab_specimen s ON s.id = o.specimen_id WHERE o.id = $1 ${forUpdate ? 'FOR UPDATE OF o' : ''}`,
    [id],
  );
  return r.rows[0] && fixOutbox(r.rows[0]);
}

export async function listOutbox(
  q: Queryable,
  f: { status?: OutboxStatus; facility?: string; specimenId?: string; limit: number; offset: number },
): Promise<{ items: OutboxRow[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.status) where.push(`o.status = $${params.push(f.status)}`);
  if (f.facility) where.push(`o.facility = $${params.push(f.facility)}`);
  if (f.specimenId) where.push(`o.specimen_id = $${params.push(f.specimenId)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM lab_outbox o ${w}`, params)).rows[0]!.n);
  const r = await q.query<OutboxRow>(
    `SELECT ${OUTBOX_COLUMNS} FROM lab_outbox o JOIN lab_specimen s ON s.id = o.specimen_id ${w}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return { items: r.rows.map(fixOutbox), total };
}

export async function outboxCounts(q: Queryable): Promise<Record<OutboxStatus, number>> {
  const r = await q.query<{ status: OutboxStatus; n: string }>(`SELECT status, count(*) AS n FROM lab_outbox GROUP BY status`);
  const out: Record<OutboxStatus, number> = { pending: 0, sending: 0, delivered: 0, parked: 0 };
  for (const x of r.rows) out[x.status] = Number(x.n);
  return out;
}

export async function attemptsOf(q: Queryable, outboxId: number): Promise<AttemptRow[]> {
  const r = await q.query<AttemptRow>(
    `SELECT id, outbox_id AS "outboxId", attempt, control_id AS "controlId", host, port, started_at AS "startedAt", ended_at AS "endedAt",
            outcome, detail, ack
     FROM lab_delivery_attempt WHERE outbox_id = $1 ORDER BY attempt`,
    [outboxId],
  );
  return r.rows.map((x) => ({
    ...x,
    id: Number(x.id),
    outboxId: Number(x.outboxId),
    startedAt: date(x.startedAt),
    endedAt: date(x.endedAt),
  }));
}

/** A parked message queued again by a user: a new round of attempts, the same control id and bytes. */
export async function requeue(q: Queryable, id: number, now: Date, by: string): Promise<void> {
  await q.query(
    `UPDATE lab_outbox SET status = 'pending', next_attempt_at = $2, round_attempts = 0, round_ae = 0, parked_reason = NULL,
       resent_count = resent_count + 1, resent_by = $3 WHERE id = $1`,
    [id, now, by],
  );
}

// ---------------------------------------------------------------------------------------------
// Report-card updates

export interface CaseUpdateRow {
  id: number;
  specimenId: string;
  patientId: string;
  testCode: string;
  resultValue: string;
  status: 'pending' | 'applied' | 'no-card' | 'waiting';
  cardId: string | null;
  detail: string | null;
  verifiedAt: Date;
  createdAt: Date;
  doneAt: Date | null;
}

const CASE_COLUMNS = `id, specimen_id AS "specimenId", patient_id AS "patientId", test_code AS "testCode", result_value AS "resultValue",
  status, card_id AS "cardId", detail, verified_at AS "verifiedAt", created_at AS "createdAt", done_at AS "doneAt"`;
const fixCase = (r: CaseUpdateRow): CaseUpdateRow => ({
  ...r,
  id: Number(r.id),
  verifiedAt: date(r.verifiedAt),
  createdAt: date(r.createdAt),
  doneAt: dateOrNull(r.doneAt),
});

export async function insertCaseUpdate(
  q: Queryable,
  u: { specimenId: string; patientId: string; testCode: string; resultValue: string; verifiedAt: Date; createdAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO lab_case_update (specimen_id, patient_id, test_code, result_value, status, verified_at, created_at)
     VALUES ($1,$2,$3,$4,'pending',$5,$6) ON CONFLICT (specimen_id) DO NOTHING`,
    [u.specimenId, u.patientId, u.testCode, u.resultValue, u.verifiedAt, u.createdAt],
  );
}

export async function pendingCaseUpdates(q: Queryable, limit: number): Promise<CaseUpdateRow[]> {
  const r = await q.query<CaseUpdateRow>(`SELECT ${CASE_COLUMNS} FROM lab_case_update WHERE status = 'pending' ORDER BY id LIMIT $1`, [
    limit,
  ]);
  return r.rows.map(fixCase);
}

export async function finishCaseUpdate(
  q: Queryable,
  id: number,
  status: CaseUpdateRow['status'],
  cardId: string | null,
  detail: string,
  at: Date,
): Promise<void> {
  await q.query(`UPDATE lab_case_update SET status = $2, card_id = $3, detail = $4, done_at = $5 WHERE id = $1`, [
    id,
    status,
    cardId,
    detail,
    status === 'waiting' ? null : at,
  ]);
}

export async function caseUpdateOf(q: Queryable, specimenId: string): Promise<CaseUpdateRow | undefined> {
  const r = await q.query<CaseUpdateRow>(`SELECT ${CASE_COLUMNS} FROM lab_case_update WHERE specimen_id = $1`, [specimenId]);
  return r.rows[0] && fixCase(r.rows[0]);
}
