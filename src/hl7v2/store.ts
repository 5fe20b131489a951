/**
 * The hl7_message table as the HTTP API reads and corrects it: dead letters (rejected messages),
 * one message with what it wrote, counts by status. Intake itself (storing, rejecting,
 * reprocessing) is in ingest.ts and batch-store.ts.
 */
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import { decodeChecked } from './charset.js';
import type { DeadLetter, Hl7MessageStatus, Hl7MessageView } from './schemas.js';

export type { DeadLetter, Hl7MessageView };

/** Records a write's AuditEvent inside the writing transaction (the route builds it from the signed-in user). */
export type WriteAudit = (client: pg.PoolClient) => Promise<void>;

/** The text for display: decoded as the intake would (MSH-18, else GB18030), else Latin-1; never a made-up U+FFFD. */
function decodeForDisplay(bytes: Buffer | null): string | null {
  if (!bytes) return null;
  try {
    return decodeChecked(bytes).text;
  } catch {
    return bytes.toString('latin1');
  }
}

function toDeadLetter(row: Record<string, unknown>): DeadLetter {
  return {
    id: Number(row.id),
    facility: (row.facility as string | null) ?? null,
    controlId: (row.control_id as string | null) ?? null,
    messageType: (row.message_type as string | null) ?? null,
    channel: row.channel as string,
    ackCode: row.ack_code as string,
    error: (row.error as string | null) ?? null,
    receivedAt: row.received_at as string,
    updatedAt: row.updated_at as string,
    attempts: Number(row.attempts),
    text: decodeForDisplay(row.payload as Buffer)!,
    // corrections are saved as UTF-8 text (correctDeadLetter)
    correctedText: row.corrected ? (row.corrected as Buffer).toString('utf8') : null,
  };
}

/** Rejected messages waiting for correction, newest first. */
export async function listDeadLetters(db: Database, limit = 200): Promise<DeadLetter[]> {
  const r = await db.query<Record<string, unknown>>(
    `SELECT id, facility, control_id, message_type, channel, ack_code, error, received_at, updated_at, attempts, payload, corrected
     FROM hl7_message WHERE status = 'rejected' ORDER BY received_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return r.rows.map(toDeadLetter);
}

/** One message with its status and the resources it wrote. */
export async function getMessage(db: Database, id: number): Promise<Hl7MessageView | undefined> {
  const r = await db.query<Record<string, unknown>>('SELECT * FROM hl7_message WHERE id = $1', [id]);
  const row = r.rows[0];
  return row
    ? {
        ...toDeadLetter(row),
        status: row.status as Hl7MessageStatus,
        resources: (row.resources as string[] | null) ?? [],
        charsetWarning: (row.charset_warning as string | null) ?? null,
      }
    : undefined;
}

/**
 * Saves a corrected text for a dead letter (the original bytes are kept) with its AuditEvent in
 * the same transaction; returns the message, or undefined when there is no such dead letter.
 */
export async function correctDeadLetter(db: Database, id: number, text: string, audit: WriteAudit): Promise<Hl7MessageView | undefined> {
  const saved = await db.transaction(async (client) => {
    const r = await client.query(`UPDATE hl7_message SET corrected = $2, updated_at = now() WHERE id = $1 AND status = 'rejected'`, [
      id,
      Buffer.from(text, 'utf8'),
    ]);
    if (!r.rowCount) return false;
    await audit(client);
    return true;
  });
  return saved ? getMessage(db, id) : undefined;
}

/** The bytes to run a dead letter through the pipeline with again: its correction if any, else as received. */
export async function deadLetterText(db: Database, id: number): Promise<Buffer | undefined> {
  const r = await db.query<{ payload: Buffer; corrected: Buffer | null }>(
    `SELECT payload, corrected FROM hl7_message WHERE id = $1 AND status = 'rejected'`,
    [id],
  );
  const row = r.rows[0];
  return row ? (row.corrected ?? row.payload) : undefined;
}

/** Messages by status. */
export async function messageCounts(db: Database): Promise<Record<string, number>> {
  const r = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM hl7_message GROUP BY status');
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}
