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

interface QueuedRow {
  id: string;
  phone: string | null;
  body: string;
  kind: string;
  attempts: number;
}

/** Sends what is due in the outbox; returns how many were sent and how many failed this round. */
export async function dispatchOutbox(db: Database, transport: SmsTransport, now = new Date()): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  // Claimed by pushing next_attempt_at forward, so a second dispatcher (another process) skips them.
  const claimed = await db.query<QueuedRow>(
    `UPDATE portal_outbox SET next_attempt_at = $1::timestamptz + interval '2 minutes'
      WHERE id IN (SELECT id FROM portal_outbox WHERE status = 'queued' AND channel = 'sms' AND next_attempt_at <= $1
                   ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
      RETURNING id::text, phone, body, kind, attempts`,
    [now.toISOString()],
  );
  for (const row of claimed.rows) {
    if (!row.phone) {
      await db.query(`UPDATE portal_outbox SET status = 'discarded', last_error = 'no phone' WHERE id = $1`, [row.id]);
      continue;
    }
    try {
      const ref = await transport.send({ to: row.phone, text: row.body, reference: row.id });
      // A sign-in code is of no use to anyone once sent: it is not kept in clear.
      await db.query(
        `UPDATE portal_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, provider_ref = $2, last_error = NULL,
           body = CASE WHEN kind = 'login-code' THEN regexp_replace(body, '[0-9]{6}', '******') ELSE body END
         WHERE id = $1`,
        [row.id, ref ?? null],
      );
      sent++;
    } catch (e) {
      const attempts = row.attempts + 1;
      const giveUp = attempts >= (row.kind === 'login-code' ? 2 : MAX_ATTEMPTS);
      const waitS = Math.min(3600, 15 * 2 ** (attempts - 1));
      await db.query(
        `UPDATE portal_outbox SET attempts = $2, last_error = $3, status = $4,
           next_attempt_at = now() + make_interval(secs => $5),
           body = CASE WHEN kind = 'login-code' AND $4 = 'failed' THEN regexp_replace(body, '[0-9]{6}', '******') ELSE body END
         WHERE id = $1`,
        [row.id, attempts, (e as Error).message.slice(0, 500), giveUp ? 'failed' : 'queued', waitS],
      );
      failed++;
    }
  }
  return { sent, failed };
}
