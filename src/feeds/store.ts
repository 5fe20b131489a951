/**
 * Storing a feed upload: the raw file and its outcome in feed_upload, the good lines in the
 * feed's table (upsert on the natural key, so a corrected re-send replaces figures), all in
 * one transaction.
 */
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { COLUMNS, parseFeed, type FeedName, type PharmacySalesRow, type SchoolAbsenceRow } from './parse.js';
import type { FeedResult, FeedUploadList } from './schemas.js';

export type { FeedResult };

/** Records the upload's AuditEvent in the storing transaction (the route builds it from the signed-in user). */
export type FeedAudit = (client: pg.PoolClient, result: FeedResult) => Promise<void>;

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
  audit?: FeedAudit,
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
    const result: FeedResult = {
      uploadId,
      feed,
      lines: parsed.lines,
      accepted: parsed.rows.length,
      rejected: parsed.lines - parsed.rows.length,
      errors,
      ...(parsed.fatal ? { fatal: parsed.fatal } : {}),
    };
    await audit?.(client, result);
    return result;
  });
}

/**
 * An HTTP upload: a Buffer (text/csv, or JSON sent as text) or a parsed JSON body. The format is
 * JSON when the content type says so or the text opens with '[' or '{', CSV otherwise.
 */
export async function receiveFeed(
  db: Database,
  feed: FeedName,
  body: unknown,
  contentType: string,
  audit?: FeedAudit,
): Promise<FeedResult> {
  let payload: Buffer;
  let format: 'csv' | 'json';
  if (Buffer.isBuffer(body)) {
    payload = body;
    const head = body.subarray(0, 64).toString('utf8').trimStart();
    format = contentType.includes('json') || head.startsWith('[') || head.startsWith('{') ? 'json' : 'csv';
  } else if (body !== undefined && body !== null) {
    payload = Buffer.from(JSON.stringify(body), 'utf8');
    format = 'json';
  } else throw badRequest(`Send the ${feed} rows as text/csv (header ${COLUMNS[feed].join(',')}) or application/json`);
  return storeFeed(db, feed, payload, format, 'http', audit);
}

/** The last 100 uploads with their line counts and errors, newest first. */
export async function listUploads(db: Database): Promise<FeedUploadList> {
  const r = await db.query<FeedUploadList['items'][number]>(
    `SELECT id, feed, source, content_type AS "contentType", received_at AS "receivedAt", lines, accepted, rejected, errors
     FROM feed_upload ORDER BY id DESC LIMIT 100`,
  );
  return { items: r.rows };
}
