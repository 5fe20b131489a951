/**
 * Storing a feed upload: the raw file and its outcome in feed_upload, the good lines in the
 * feed's table (upsert on the natural key, so a corrected re-send replaces figures), all in
 * one transaction.
 */
import type { Database } from '../platform/db.js';
import { parseFeed, type FeedError, type FeedName, type PharmacySalesRow, type SchoolAbsenceRow } from './parse.js';

export interface FeedResult {
  uploadId?: number;
  feed: FeedName;
  lines: number;
  accepted: number;
  rejected: number;
  errors: FeedError[];
  /** Set when nothing could be read (wrong header, not JSON); nothing was stored but the upload. */
  fatal?: string;
}

const CHUNK = 2000;

/** Last row wins for a repeated natural key inside one file. */
function dedupe<R>(rows: R[], key: (r: R) => string): R[] {
  const m = new Map<string, R>();
  for (const r of rows) m.set(key(r), r);
  return [...m.values()];
}

export async function storeFeed(
  db: Database,
  feed: FeedName,
  payload: Buffer | string,
  format: 'csv' | 'json',
  source = 'http',
): Promise<FeedResult> {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const parsed = parseFeed(feed, bytes.toString('utf8'), format);
  const errors = parsed.fatal ? [{ line: 1, message: parsed.fatal }] : parsed.errors;
  return db.transaction(async (client) => {
    const up = await client.query<{ id: number }>(
      `INSERT INTO feed_upload (feed, source, content_type, lines, accepted, rejected, errors, payload) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
      [
        feed,
        source,
        format,
        parsed.lines,
        parsed.rows.length,
        parsed.lines - parsed.rows.length,
        JSON.stringify(errors.slice(0, 1000)),
        bytes,
      ],
    );
    const uploadId = up.rows[0]!.id;
    if (feed === 'school-absenteeism') {
      const rows = dedupe(
        parsed.rows.map((r) => r.row as SchoolAbsenceRow),
        (r) => `${r.class_code}|${r.date}|${r.reason}|${r.symptom}`,
      );
      for (let i = 0; i < rows.length; i += CHUNK) {
        await client.query(
          `INSERT INTO feed_school_absence (school_code, school_name, class_code, date, enrolled, absent, reason, symptom, upload_id)
           SELECT school_code, school_name, class_code, date::date, enrolled, absent, reason, symptom, $2
           FROM jsonb_to_recordset($1::jsonb) AS x(school_code text, school_name text, class_code text, date text, enrolled int, absent int, reason text, symptom text)
           ON CONFLICT (class_code, date, reason, symptom) DO UPDATE SET school_code = EXCLUDED.school_code, school_name = EXCLUDED.school_name,
             enrolled = EXCLUDED.enrolled, absent = EXCLUDED.absent, upload_id = EXCLUDED.upload_id`,
          [JSON.stringify(rows.slice(i, i + CHUNK)), uploadId],
        );
      }
    } else {
      const rows = dedupe(
        parsed.rows.map((r) => r.row as PharmacySalesRow),
        (r) => `${r.pharmacy_code}|${r.date}|${r.category}`,
      );
      for (let i = 0; i < rows.length; i += CHUNK) {
        await client.query(
          `INSERT INTO feed_pharmacy_sales (pharmacy_code, pharmacy_name, date, category, units, upload_id)
           SELECT pharmacy_code, pharmacy_name, date::date, category, units, $2
           FROM jsonb_to_recordset($1::jsonb) AS x(pharmacy_code text, pharmacy_name text, date text, category text, units int)
           ON CONFLICT (pharmacy_code, date, category) DO UPDATE SET pharmacy_name = EXCLUDED.pharmacy_name, units = EXCLUDED.units, upload_id = EXCLUDED.upload_id`,
          [JSON.stringify(rows.slice(i, i + CHUNK)), uploadId],
        );
      }
    }
    return {
      uploadId,
      feed,
      lines: parsed.lines,
      accepted: parsed.rows.length,
      rejected: parsed.lines - parsed.rows.length,
      errors,
      ...(parsed.fatal ? { fatal: parsed.fatal } : {}),
    };
  });
}
