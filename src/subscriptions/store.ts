/**
 * The delivery tables (sub_delivery, sub_attempt): what is owed to each Subscription and every
 * attempt made. Only this module reads or writes them.
 */
import type { Queryable } from '../platform/db.js';

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: number;
  subscriptionId: string;
  resourceType: string;
  resourceId: string;
  versionId: number;
  status: DeliveryStatus;
  attempts: number;
  roundAttempts: number;
  nextAttemptAt: string;
  lastHttpStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  resentCount: number;
  resentBy: string | null;
}

export interface AttemptRow {
  attempt: number;
  method: string;
  url: string;
  startedAt: string;
  endedAt: string;
  httpStatus: number | null;
  outcome: 'delivered' | 'http-error' | 'timeout' | 'refused' | 'error';
  detail: string | null;
}

const COLUMNS = `id::int AS id, subscription_id AS "subscriptionId", resource_type AS "resourceType", resource_id AS "resourceId",
  version_id AS "versionId", status, attempts, round_attempts AS "roundAttempts", next_attempt_at AS "nextAttemptAt",
  last_http_status AS "lastHttpStatus", last_error AS "lastError", created_at AS "createdAt", delivered_at AS "deliveredAt",
  resent_count AS "resentCount", resent_by AS "resentBy"`;

/** Queues matching resource versions for a subscription (a version already queued is not queued again). */
export async function queueDeliveries(
  c: Queryable,
  subscriptionId: string,
  matches: { type: string; id: string; versionId: number }[],
): Promise<number> {
  if (!matches.length) return 0;
  const r = await c.query(
    `INSERT INTO sub_delivery (subscription_id, resource_type, resource_id, version_id, status)
     SELECT $1, t, i, v, 'pending' FROM unnest($2::text[], $3::text[], $4::int[]) AS x(t, i, v)
     ON CONFLICT DO NOTHING`,
    [subscriptionId, matches.map((m) => m.type), matches.map((m) => m.id), matches.map((m) => m.versionId)],
  );
  return r.rowCount ?? 0;
}

/** Takes up to `limit` due deliveries for sending, with a lease (skipping rows another loop holds). */
export async function claimDue(c: Queryable, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
  const r = await c.query<DeliveryRow>(
    `UPDATE sub_delivery SET status = 'sending', lease_until = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id IN (SELECT id FROM sub_delivery
                  WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                    AND (status = 'pending' OR lease_until < now())
                  ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
  return r.rows;
}

/** Records one attempt and the delivery's new state. */
export async function recordAttempt(
  c: Queryable,
  d: DeliveryRow,
  attempt: Omit<AttemptRow, 'attempt'>,
  next: { status: DeliveryStatus; nextAttemptAt?: Date; error?: string },
): Promise<void> {
  await c.query(
    `INSERT INTO sub_attempt (delivery_id, attempt, method, url, started_at, ended_at, http_status, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      d.id,
      d.attempts + 1,
      attempt.method,
      attempt.url,
      attempt.startedAt,
      attempt.endedAt,
      attempt.httpStatus,
      attempt.outcome,
      attempt.detail,
    ],
  );
  await c.query(
    `UPDATE sub_delivery SET status = $2, attempts = attempts + 1, round_attempts = round_attempts + 1,
       next_attempt_at = coalesce($3, next_attempt_at), lease_until = NULL, last_http_status = $4, last_error = $5,
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
     WHERE id = $1`,
    [d.id, next.status, next.nextAttemptAt ?? null, attempt.httpStatus, next.error ?? null],
  );
}

/** Gives a delivery up without an attempt (its subscription ended, its resource version is gone). */
export async function failWithoutAttempt(c: Queryable, id: number, reason: string): Promise<void> {
  await c.query(`UPDATE sub_delivery SET status = 'failed', lease_until = NULL, last_error = $2 WHERE id = $1`, [id, reason]);
}

/** A failed delivery back to the queue for a new round of attempts; undefined when there is none to resend. */
export async function requeue(c: Queryable, id: number, by: string): Promise<DeliveryRow | undefined> {
  const r = await c.query<DeliveryRow>(
    `UPDATE sub_delivery SET status = 'pending', round_attempts = 0, next_attempt_at = now(), resent_count = resent_count + 1, resent_by = $2
     WHERE id = $1 AND status = 'failed' RETURNING ${COLUMNS}`,
    [id, by],
  );
  return r.rows[0];
}

export async function getDelivery(c: Queryable, id: number): Promise<{ delivery: DeliveryRow; attempts: AttemptRow[] } | undefined> {
  const d = await c.query<DeliveryRow>(`SELECT ${COLUMNS} FROM sub_delivery WHERE id = $1`, [id]);
  if (!d.rows[0]) return undefined;
  const a = await c.query<AttemptRow>(
    `SELECT attempt, method, url, started_at AS "startedAt", ended_at AS "endedAt", http_status AS "httpStatus", outcome, detail
     FROM sub_attempt WHERE delivery_id = $1 ORDER BY attempt`,
    [id],
  );
  return { delivery: d.rows[0], attempts: a.rows };
}

/** Deliveries newest first, paged, with the total. */
export async function listDeliveries(
  c: Queryable,
  q: { subscription?: string; status?: DeliveryStatus; limit: number; offset: number },
): Promise<{ total: number; items: DeliveryRow[] }> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.subscription) {
    args.push(q.subscription);
    where.push(`subscription_id = $${args.length}`);
  }
  if (q.status) {
    args.push(q.status);
    where.push(`status = $${args.length}`);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM sub_delivery ${w}`, args);
  const rows = await c.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM sub_delivery ${w} ORDER BY id DESC LIMIT ${q.limit} OFFSET ${q.offset}`,
    args,
  );
  return { total: total.rows[0]!.n, items: rows.rows };
}

/** Per subscription: deliveries by status. */
export async function countsBySubscription(c: Queryable, ids: string[]): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const out = new Map<string, Record<DeliveryStatus, number>>();
  if (!ids.length) return out;
  const r = await c.query<{ s: string; status: DeliveryStatus; n: number }>(
    `SELECT subscription_id AS s, status, count(*)::int AS n FROM sub_delivery WHERE subscription_id = ANY($1::text[]) GROUP BY 1, 2`,
    [ids],
  );
  for (const row of r.rows) {
    let m = out.get(row.s);
    if (!m) out.set(row.s, (m = { pending: 0, sending: 0, delivered: 0, failed: 0 }));
    m[row.status] = row.n;
  }
  return out;
}
