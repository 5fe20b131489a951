/**
 * The escalation notices' outbox (migration 705): one row per recipient and channel. An 'inbox'
 * row is delivered when written (the FHIR Communication is the recipient's inbox entry); an 'sms'
 * row waits for the dispatcher (notices.ts), which claims due rows (partial index on queued rows,
 * SKIP LOCKED, so two servers share the work), and records what the transport answered.
 */
import type { Queryable } from '../platform/db.js';

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null => (v == null ? null : v instanceof Date ? v.toISOString() : String(v));

export type NoticeChannel = 'inbox' | 'sms';
export type NoticeStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'discarded';

export interface NewNotice {
  escalationId: number;
  channel: NoticeChannel;
  recipientKind: string;
  recipientRef: string;
  recipientDisplay: string | null;
  phone: string | null;
  body: string;
  status: NoticeStatus;
  lastError: string | null;
}

/** A delivery as the screens see it (no phone number, no body). */
export interface Delivery {
  channel: NoticeChannel;
  recipientKind: string;
  recipientRef: string;
  recipientDisplay: string | null;
  status: NoticeStatus;
  attempts: number;
  sentAt: string | null;
  lastError: string | null;
}

export async function insertNotices(c: Queryable, rows: NewNotice[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `INSERT INTO inv_notice_outbox (escalation_id, channel, recipient_kind, recipient_ref, recipient_display, phone, body, status, last_error, sent_at)
     SELECT e, ch, k, r, d, p, b, s, le, CASE WHEN s = 'delivered' THEN now() END
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         AS t (e, ch, k, r, d, p, b, s, le)`,
    [
      rows.map((n) => n.escalationId),
      rows.map((n) => n.channel),
      rows.map((n) => n.recipientKind),
      rows.map((n) => n.recipientRef),
      rows.map((n) => n.recipientDisplay),
      rows.map((n) => n.phone),
      rows.map((n) => n.body),
      rows.map((n) => n.status),
      rows.map((n) => n.lastError),
    ],
  );
}

export interface QueuedNotice {
  id: string;
  escalationId: number;
  phone: string | null;
  body: string;
  attempts: number;
}

/**
 * Claims up to `limit` SMS rows due at `now`, oldest first, by pushing their next attempt two
 * minutes on (a second dispatcher skips them; a crash mid-send retries them then).
 */
export async function claimDueNotices(c: Queryable, now: string, limit: number): Promise<QueuedNotice[]> {
  const r = await c.query(
    `UPDATE inv_notice_outbox SET next_attempt_at = $1::timestamptz + interval '2 minutes'
      WHERE id IN (SELECT id FROM inv_notice_outbox WHERE status = 'queued' AND channel = 'sms' AND next_attempt_at <= $1::timestamptz
                   ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id::text, escalation_id, phone, body, attempts`,
    [now, limit],
  );
  return r.rows.map((x: Row) => ({
    id: String(x.id),
    escalationId: Number(x.escalation_id),
    phone: (x.phone as string | null) ?? null,
    body: String(x.body),
    attempts: Number(x.attempts),
  }));
}

export async function noticeSent(c: Queryable, id: string, providerRef: string | null): Promise<void> {
  await c.query(
    `UPDATE inv_notice_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, provider_ref = $2, last_error = NULL
      WHERE id = $1 AND status = 'queued'`,
    [id, providerRef],
  );
}

/** A failed attempt: tried again after `waitSeconds`, or given up (failed). */
export async function noticeFailed(c: Queryable, id: string, error: string, giveUp: boolean, waitSeconds: number): Promise<void> {
  await c.query(
    `UPDATE inv_notice_outbox SET attempts = attempts + 1, last_error = $2, status = CASE WHEN $3 THEN 'failed' ELSE 'queued' END,
       next_attempt_at = now() + make_interval(secs => $4)
      WHERE id = $1 AND status = 'queued'`,
    [id, error.slice(0, 500), giveUp, waitSeconds],
  );
}

/** An acknowledged notice needs no more messages: what is still queued is discarded. */
export async function discardQueued(c: Queryable, escalationId: number, reason: string): Promise<number> {
  const r = await c.query(
    `UPDATE inv_notice_outbox SET status = 'discarded', last_error = $2 WHERE escalation_id = $1 AND status = 'queued' RETURNING id`,
    [escalationId, reason],
  );
  return r.rows.length;
}

/** The deliveries of these notices, by notice, in the order written. */
export async function deliveriesOf(c: Queryable, escalationIds: number[]): Promise<Map<number, Delivery[]>> {
  const out = new Map<number, Delivery[]>();
  if (!escalationIds.length) return out;
  const r = await c.query(
    `SELECT escalation_id, channel, recipient_kind, recipient_ref, recipient_display, status, attempts, sent_at, last_error
       FROM inv_notice_outbox WHERE escalation_id = ANY($1::bigint[]) ORDER BY escalation_id, id`,
    [escalationIds],
  );
  for (const x of r.rows as Row[]) {
    const id = Number(x.escalation_id);
    const list = out.get(id) ?? [];
    list.push({
      channel: x.channel as NoticeChannel,
      recipientKind: String(x.recipient_kind),
      recipientRef: String(x.recipient_ref),
      recipientDisplay: (x.recipient_display as string | null) ?? null,
      status: x.status as NoticeStatus,
      attempts: Number(x.attempts),
      sentAt: iso(x.sent_at),
      lastError: (x.last_error as string | null) ?? null,
    });
    out.set(id, list);
  }
  return out;
}
