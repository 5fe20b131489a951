/**
 * Storing a feed upload: the raw file and its outcome in feed_upload, the good lines in the
 * feed's table (upsert on the natural key, so a corrected re-send replaces figures), all in
 * one transaction. The bytes are decoded strictly (src/shared/encoding.ts) and bounded: over MAX_FEED_BYTES
 * or MAX_FEED_ROWS the upload is refused whole (413) and nothing is stored.
 */
import type pg from 'pg';
import type { Database, Queryable } from '../platform/db.js';
import { badRequest, HttpError } from '../platform/errors.js';
import { charsetOf, decodeFeed, normalizeEncoding } from '../shared/encoding.js';
import {
  COLUMNS,
  MAX_FEED_ROWS,
  parseFeed,
  printable,
  type FeedName,
  type ParsedFeed,
  type PharmacySalesRow,
  type SchoolAbsenceRow,
  type SentinelReportRow,
} from './parse.js';
import type { FeedError, FeedResult, FeedUploadList, SentinelStatus } from './schemas.js';
import { sentinelSites } from '../registry/index.js';

export type { FeedResult };

/** The largest upload, in bytes (CSV or JSON text as sent). */
export const MAX_FEED_BYTES = 20 * 1024 * 1024;

const tooLarge = (what: string) => new HttpError(413, `${what}; split the file (e.g. by date) and send the parts one by one`, 'too-costly');

/** Records the upload's AuditEvent in the storing transaction (the route builds it from the signed-in user). */
export type FeedAudit = (client: pg.PoolClient, result: FeedResult) => Promise<void>;

const CHUNK = 2000;

/** Last row wins for a repeated natural key inside one file. */
function dedupe<R>(rows: R[], key: (r: R) => string): R[] {
  const m = new Map<string, R>();
  for (const r of rows) m.set(key(r), r);
  return [...m.values()];
}

export interface StoreFeedOptions {
  /** Where the upload came from: 'http' (the default) or the file name. */
  source?: string;
  /** The encoding the sender named (charset=…, ?encoding=…, --encoding); detected when absent. */
  encoding?: string;
  /** Records the AuditEvent in the storing transaction. */
  audit?: FeedAudit;
}

/**
 * Stores one upload. `format` 'auto': JSON when the text opens with '[' or '{', CSV otherwise.
 * Throws 413 over MAX_FEED_BYTES or MAX_FEED_ROWS and 415 for an unknown named encoding (nothing
 * stored); bytes that do not decode are a `fatal` result (the upload kept raw, no encoding).
 */
export async function storeFeed(
  db: Database,
  feed: FeedName,
  payload: Buffer | string,
  format: 'csv' | 'json' | 'auto',
  options: StoreFeedOptions = {},
): Promise<FeedResult> {
  const { source = 'http', audit } = options;
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  if (bytes.length > MAX_FEED_BYTES)
    throw tooLarge(`The upload is ${(bytes.length / 1048576).toFixed(1)} MB; one upload may be at most ${MAX_FEED_BYTES / 1048576} MB`);
  const decoded = decodeFeed(bytes, options.encoding);
  if (!decoded.ok && decoded.status === 415) throw new HttpError(415, decoded.message, 'not-supported');
  let parsed: ParsedFeed<SchoolAbsenceRow | PharmacySalesRow | SentinelReportRow>;
  let kind: 'csv' | 'json' = format === 'json' ? 'json' : 'csv';
  let errors: FeedError[];
  if (decoded.ok) {
    if (format === 'auto') kind = /^\s*[[{]/.test(decoded.text.slice(0, 64)) ? 'json' : 'csv';
    parsed = parseFeed(feed, decoded.text, kind);
    if (parsed.overLimit) throw tooLarge(`The upload holds ${parsed.overLimit}`);
    errors = parsed.fatal ? [{ line: 1, message: parsed.fatal }] : parsed.errors;
  } else {
    parsed = { rows: [], errors: [], lines: 0, fatal: decoded.message };
    errors = [{ line: decoded.line ?? 1, message: decoded.message }];
  }
  // Messages may quote what was sent: keep them storable (no NUL, no unpaired surrogate).
  errors = errors.map((e) => ({ ...e, message: printable(e.message), ...(e.field ? { field: printable(e.field) } : {}) }));
  const encoding = decoded.ok ? decoded.encoding : undefined;
  return db.transaction(async (client) => {
    const up = await client.query<{ id: number }>(
      `INSERT INTO feed_upload (feed, source, content_type, lines, accepted, rejected, errors, payload, encoding)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
      [
        feed,
        source,
        kind,
        parsed.lines,
        parsed.rows.length,
        parsed.lines - parsed.rows.length,
        JSON.stringify(errors.slice(0, 1000)),
        bytes,
        encoding ?? null,
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
    } else if (feed === 'sentinel-reports') {
      const rows = dedupe(
        parsed.rows.map((r) => r.row as SentinelReportRow),
        (r) => `${r.site_code}|${r.date}|${r.syndrome}`,
      );
      for (let i = 0; i < rows.length; i += CHUNK) {
        await client.query(
          `INSERT INTO feed_sentinel_report (site_code, site_name, date, syndrome, cases, upload_id)
           SELECT site_code, site_name, date::date, syndrome, cases, $2
           FROM jsonb_to_recordset($1::jsonb) AS x(site_code text, site_name text, date text, syndrome text, cases int)
           ON CONFLICT (site_code, date, syndrome) DO UPDATE SET site_name = EXCLUDED.site_name, cases = EXCLUDED.cases, upload_id = EXCLUDED.upload_id`,
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
      ...(encoding ? { encoding } : {}),
      ...(parsed.fatal ? { fatal: printable(parsed.fatal) } : {}),
    };
    await audit?.(client, result);
    return result;
  });
}

/**
 * An HTTP upload: a Buffer (text/csv, or JSON sent as text) or a parsed JSON body. The format is
 * JSON when the content type says so or the text opens with '[' or '{', CSV otherwise. The
 * encoding is `encoding` (the ?encoding= parameter) or the Content-Type's charset, else detected.
 */
export async function receiveFeed(
  db: Database,
  feed: FeedName,
  body: unknown,
  contentType: string,
  options: { encoding?: string; audit?: FeedAudit } = {},
): Promise<FeedResult> {
  const charset = charsetOf(contentType);
  const { encoding: query, audit } = options;
  if (query !== undefined && charset !== undefined && (normalizeEncoding(query) ?? query) !== (normalizeEncoding(charset) ?? charset))
    throw badRequest(`?encoding=${query} and the Content-Type's charset=${charset} disagree; name the encoding once`);
  const declared = query ?? charset;
  if (Buffer.isBuffer(body))
    return storeFeed(db, feed, body, contentType.includes('json') ? 'json' : 'auto', { source: 'http', encoding: declared, audit });
  if (body === undefined || body === null)
    throw badRequest(`Send the ${feed} rows as text/csv (header ${COLUMNS[feed].join(',')}) or application/json`);
  // A stream (NDJSON and the like are passed through unread): not a feed format.
  if (typeof (body as { pipe?: unknown }).pipe === 'function')
    throw new HttpError(415, `Send the ${feed} rows as text/csv (header ${COLUMNS[feed].join(',')}) or application/json`, 'not-supported');
  // A parsed JSON body was read as UTF-8 before it got here: another encoding cannot be honoured.
  if (declared !== undefined && normalizeEncoding(declared) !== 'utf-8')
    throw new HttpError(
      415,
      `application/json is read as UTF-8; send ${declared} text as text/plain; charset=${declared} (or convert it to UTF-8)`,
      'not-supported',
    );
  const rows = Array.isArray(body) ? body : (body as { rows?: unknown }).rows;
  if (Array.isArray(rows) && rows.length > MAX_FEED_ROWS)
    throw tooLarge(`The upload holds ${rows.length} rows; one upload may hold at most ${MAX_FEED_ROWS}`);
  return storeFeed(db, feed, Buffer.from(JSON.stringify(body), 'utf8'), 'json', { source: 'http', audit });
}

/** The last 100 uploads with their line counts and errors, newest first. */
export async function listUploads(db: Database): Promise<FeedUploadList> {
  const r = await db.query<FeedUploadList['items'][number]>(
    `SELECT id, feed, source, content_type AS "contentType", encoding, received_at AS "receivedAt", lines, accepted, rejected, errors
     FROM feed_upload ORDER BY id DESC LIMIT 100`,
  );
  return { items: r.rows };
}

/** The most sentinel sites one status answer considers (a district has tens to hundreds). */
const MAX_SENTINEL_SITES = 10_000;

/**
 * One day of the sentinel sites (哨点日报): the registry's sentinel sites, each with what it sent
 * for the day (cases per syndrome; a zero report counts as reported) or marked missing, paged
 * (missing first when asked) with the totals over all sites. Two indexed reads: the sites, then
 * the day's rows.
 */
export async function sentinelStatus(
  db: Database,
  q: { date: string; offset: number; limit: number; area?: string; missingOnly?: boolean },
): Promise<SentinelStatus> {
  const { total, items } = await sentinelSites(db, { offset: 0, limit: MAX_SENTINEL_SITES, area: q.area });
  const r = await db.query<{ site_code: string; syndrome: string; cases: number }>(
    `SELECT site_code, syndrome, cases FROM feed_sentinel_report WHERE date = $1::date AND site_code = ANY($2::text[])`,
    [q.date, items.map((s) => s.code)],
  );
  const reports = new Map<string, Record<string, number>>();
  for (const row of r.rows) reports.set(row.site_code, { ...(reports.get(row.site_code) ?? {}), [row.syndrome]: row.cases });
  const listed = q.missingOnly ? items.filter((s) => !reports.has(s.code)) : items;
  return {
    date: q.date,
    total,
    reported: reports.size,
    missing: total - reports.size,
    rows: listed.slice(q.offset, q.offset + q.limit).map((s) => ({
      siteCode: s.code,
      siteName: s.name,
      sentinelTypes: s.sentinelTypes,
      areaCode: s.areaCode,
      reported: reports.has(s.code),
      cases: reports.get(s.code) ?? {},
    })),
  };
}

/**
 * The days each class was reported to the school-absence feed with pupils enrolled (a school that
 * reports a class that day had it in session), between two days: for whoever needs a class's real
 * school days rather than the district calendar. One indexed range per call; classes never
 * reported are left out.
 */
export async function classDaysReported(
  db: Queryable,
  classCodes: readonly string[],
  from: string,
  to: string,
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const codes = [...new Set(classCodes)].filter(Boolean);
  if (!codes.length || from > to) return out;
  const r = await db.query<{ class_code: string; day: string }>(
    `SELECT DISTINCT class_code, to_char(date, 'YYYY-MM-DD') AS day FROM feed_school_absence
      WHERE class_code = ANY($1::text[]) AND date BETWEEN $2::date AND $3::date AND enrolled > 0`,
    [codes, from, to],
  );
  for (const x of r.rows) {
    const days = out.get(x.class_code) ?? new Set<string>();
    days.add(x.day);
    out.set(x.class_code, days);
  }
  return out;
}
