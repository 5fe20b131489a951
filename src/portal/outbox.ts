/**
 * The portal's outbox: every message (a sign-in code, a weekly reminder) is a row first and a
 * delivery second. A dispatcher takes queued SMS rows, hands each to the transport and records
 * the outcome (sent with the gateway's reference, or retried with backoff and given up after
 * MAX_ATTEMPTS). In-portal notices need no transport: they are delivered when written.
 *
 * Transports are pluggable: `HttpSmsTransport` posts JSON to a gateway (YIFANG_SMS_GATEWAY_URL),
 * `LogTransport` writes the text to the server log (the demo, where the sign-in code is read
 * from the log). A sign-in code is blanked in the stored body once it has left.
 */
import type { Database } from '../platform/db.js';

export interface SmsMessage {
  to: string;
  text: string;
  /** The outbox row id, for the gateway's delivery reports. */
  reference: string;
}

export interface SmsTransport {
  readonly name: string;
  /** Sends one message; resolves with the gateway's id for it, rejects on any failure. */
  send(message: SmsMessage): Promise<string | undefined>;
}

/** Posts `{to, text, reference}` as JSON; a 2xx answer is a success (its `id`, if any, is kept). */
export class HttpSmsTransport implements SmsTransport {
  readonly name = 'http';
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: SmsMessage): Promise<string | undefined> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`SMS gateway answered ${res.status}: ${text.slice(0, 200)}`);
    try {
      const body = JSON.parse(text) as { id?: unknown; messageId?: unknown };
      const id = body.id ?? body.messageId;
      return id === undefined ? undefined : String(id).slice(0, 200);
    } catch {
      return undefined;
    }
  }
}

/** The demo's transport: the message goes to the server log (phone partly hidden). */
export class LogTransport implements SmsTransport {
  readonly name = 'log';
  constructor(private readonly log: (line: string) => void) {}

  async send(message: SmsMessage): Promise<string | undefined> {
    this.log(`[portal] SMS to ${maskPhone(message.to)}: ${message.text}`);
    return undefined;
  }
}

export function maskPhone(phone: string): string {
  return phone.length > 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : '****';
}

export const MAX_ATTEMPTS = 5;
const BATCH = 50;

/** Seconds before the next try after a failed attempt (the `attempts`-th): 15 s doubling, at most an hour. */
export const retryDelaySeconds = (attempts: number) => Math.min(3600, 15 * 2 ** (attempts - 1));

/** A text message due in a sender's queue. */
export interface DueSms {
  id: string;
  phone: string | null;
  body: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** A failed attempt as the queue records it: tried again after `waitSeconds`, or given up. */
export interface SmsFailure {
  error: string;
  /** Attempts made, this one included. */
  attempts: number;
  giveUp: boolean;
  waitSeconds: number;
}

/**
 * One sender's queue of text messages: its own table and its own SQL to claim the due rows and
 * to record what became of each (the portal's outbox, the investigation's notices).
 */
export interface SmsQueue<R extends DueSms> {
  /** Claims up to `limit` rows due at `now` (so that another dispatcher skips them). */
  claim(now: Date, limit: number): Promise<R[]>;
  /** The reference the gateway is given for a row (for its delivery reports). */
  reference(row: R): string;
  /** Attempts after which a row is given up. */
  maxAttempts(row: R): number;
  /** A row without a phone: not sent, never retried. */
  noPhone(row: R): Promise<void>;
  sent(row: R, providerRef: string | null): Promise<void>;
  failed(row: R, failure: SmsFailure): Promise<void>;
}

/**
 * Sends what is due in `queue`: each claimed row handed to the transport and marked sent, or
 * retried with backoff (`retryDelaySeconds`) and given up after its `maxAttempts`. Returns how
 * many were sent and how many failed this round.
 */
export async function dispatchSms<R extends DueSms>(
  queue: SmsQueue<R>,
  transport: SmsTransport,
  now = new Date(),
  batch = BATCH,
): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (const row of await queue.claim(now, batch)) {
    if (!row.phone) {
      await queue.noPhone(row);
      continue;
    }
    try {
      const ref = await transport.send({ to: row.phone, text: row.body, reference: queue.reference(row) });
      await queue.sent(row, ref ?? null);
      sent++;
    } catch (e) {
      const attempts = row.attempts + 1;
      await queue.failed(row, {
        error: (e as Error).message,
        attempts,
        giveUp: attempts >= queue.maxAttempts(row),
        waitSeconds: retryDelaySeconds(attempts),
      });
      failed++;
    }
  }
  return { sent, failed };
}

interface QueuedRow extends DueSms {
  kind: string;
}

/** The portal's outbox as an SMS queue: sign-in codes are given up after two attempts and blanked once they have left. */
const portalQueue = (db: Database): SmsQueue<QueuedRow> => ({
  // Claimed by pushing next_attempt_at forward, so a second dispatcher (another process) skips them.
  claim: async (now, limit) =>
    (
      await db.query<QueuedRow>(
        `UPDATE portal_outbox SET next_attempt_at = $1::timestamptz + interval '2 minutes'
          WHERE id IN (SELECT id FROM portal_outbox WHERE status = 'queued' AND channel = 'sms' AND next_attempt_at <= $1
                       ORDER BY next_attempt_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED)
          RETURNING id::text, phone, body, kind, attempts`,
        [now.toISOString()],
      )
    ).rows,
  reference: (row) => row.id,
  maxAttempts: (row) => (row.kind === 'login-code' ? 2 : MAX_ATTEMPTS),
  noPhone: async (row) => {
    await db.query(`UPDATE portal_outbox SET status = 'discarded', last_error = 'no phone' WHERE id = $1`, [row.id]);
  },
  // A sign-in code is of no use to anyone once sent: it is not kept in clear.
  sent: async (row, ref) => {
    await db.query(
      `UPDATE portal_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, provider_ref = $2, last_error = NULL,
         body = CASE WHEN kind = 'login-code' THEN regexp_replace(body, '[0-9]{6}', '******') ELSE body END
       WHERE id = $1`,
      [row.id, ref],
    );
  },
  failed: async (row, f) => {
    await db.query(
      `UPDATE portal_outbox SET attempts = $2, last_error = $3, status = $4,
         next_attempt_at = now() + make_interval(secs => $5),
         body = CASE WHEN kind = 'login-code' AND $4 = 'failed' THEN regexp_replace(body, '[0-9]{6}', '******') ELSE body END
       WHERE id = $1`,
      [row.id, f.attempts, f.error.slice(0, 500), f.giveUp ? 'failed' : 'queued', f.waitSeconds],
    );
  },
});

/** Sends what is due in the outbox; returns how many were sent and how many failed this round. */
export function dispatchOutbox(db: Database, transport: SmsTransport, now = new Date()): Promise<{ sent: number; failed: number }> {
  return dispatchSms(portalQueue(db), transport, now);
}
