/**
 * The processors' dead letters (processor_dead_letter): changes a change-log processor failed
 * on, retried and then parked with their error. Listed on the integration screen; a parked
 * change can be replayed once its record or the processor is fixed.
 */
import type { Queryable } from './db.js';

export type ProcessorDeadLetterStatus = 'retrying' | 'parked' | 'resolved' | 'superseded';

export interface ProcessorDeadLetter {
  processor: string;
  seq: number;
  resourceType: string;
  resourceId: string;
  versionId: number;
  status: ProcessorDeadLetterStatus;
  attempts: number;
  error: string;
  firstFailedAt: string;
  lastFailedAt: string;
  nextAttemptAt: string | null;
  replayedBy: string | null;
}

export async function listProcessorDeadLetters(
  db: Queryable,
  filter: { status?: ProcessorDeadLetterStatus; processor?: string; limit?: number; offset?: number },
): Promise<{ total: number; rows: ProcessorDeadLetter[] }> {
  const params: unknown[] = [filter.status ?? null, filter.processor ?? null];
  const where = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR processor = $2)`;
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM processor_dead_letter WHERE ${where}`, params);
  const rows = await db.query<ProcessorDeadLetter>(
    `SELECT processor, seq, resource_type AS "resourceType", resource_id AS "resourceId", version_id AS "versionId", status, attempts, error,
            first_failed_at AS "firstFailedAt", last_failed_at AS "lastFailedAt", next_attempt_at AS "nextAttemptAt", replayed_by AS "replayedBy"
     FROM processor_dead_letter WHERE ${where}
     ORDER BY (status = 'parked') DESC, last_failed_at DESC, processor, seq LIMIT $3 OFFSET $4`,
    [...params, Math.min(filter.limit ?? 50, 500), filter.offset ?? 0],
  );
  return { total: total.rows[0]?.n ?? 0, rows: rows.rows };
}

/** Queues a parked (or still retrying) change for one more try now; false if there is no such change. */
export async function replayProcessorDeadLetter(db: Queryable, processor: string, seq: number, by: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE processor_dead_letter SET status = 'retrying', attempts = 0, next_attempt_at = now(), replayed_by = $3
     WHERE processor = $1 AND seq = $2 AND status IN ('parked', 'retrying') RETURNING seq`,
    [processor, seq, by],
  );
  return r.rows.length > 0;
}
