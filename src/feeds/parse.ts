/**
 * Parsing and checking the surveillance feeds (school absenteeism, pharmacy sales, sentinel sites'
 * daily reports) from CSV
 * or JSON. Every line is checked on its own: bad lines are reported with line number, field and
 * reason; good lines are kept. A wrong header rejects the whole file (nothing can be read).
 * Text that cannot be stored (NUL characters, unpaired surrogates) rejects its line, never the file;
 * a file of more than MAX_FEED_ROWS rows is refused as a whole (`overLimit`).
 */

import type { FeedError, FeedName } from './schemas.js';

export type { FeedError, FeedName };
export const FEEDS: FeedName[] = ['school-absenteeism', 'pharmacy-sales', 'sentinel-reports'];

/** The most data rows one upload may hold (CSV lines after the header, or JSON array items). */
export const MAX_FEED_ROWS = 200_000;
/** The longest text field, in characters (code points). */
export const MAX_FIELD_CHARS = 200;

export interface SchoolAbsenceRow {
  school_code: string;
  school_name: string;
  class_code: string;
  date: string;
  enrolled: number;
  absent: number;
  reason: string;
  symptom: string;
}

export interface PharmacySalesRow {
  pharmacy_code: string;
  pharmacy_name: string;
  date: string;
  category: string;
  units: number;
}

/** A sentinel site's count of one syndrome on one day (0 = the zero report). */
export interface SentinelReportRow {
  site_code: string;
  site_name: string;
  date: string;
  /** fever | respiratory | diarrhoea (the Chinese words 发热, 呼吸道, 腹泻 are read as these). */
  syndrome: SentinelSyndrome;
  cases: number;
}

export type SentinelSyndrome = 'fever' | 'respiratory' | 'diarrhoea';

/** The syndromes a sentinel site counts, with the words a site may send for each. */
export const SENTINEL_SYNDROMES: Record<SentinelSyndrome, { zh: string; en: string; words: string[] }> = {
  fever: { zh: '发热', en: 'fever', words: ['fever', '发热', '发烧'] },
  respiratory: { zh: '呼吸道症状', en: 'respiratory symptoms', words: ['respiratory', '呼吸道', '呼吸道症状'] },
  diarrhoea: { zh: '腹泻', en: 'diarrhoea', words: ['diarrhoea', 'diarrhea', '腹泻'] },
};

/** The syndrome a sent word names, or undefined. */
export function sentinelSyndrome(word: string): SentinelSyndrome | undefined {
  const w = word.trim().toLowerCase();
  return (Object.keys(SENTINEL_SYNDROMES) as SentinelSyndrome[]).find((k) => SENTINEL_SYNDROMES[k].words.includes(w));
}

export interface ParsedFeed<R> {
  rows: { line: number; row: R }[];
  errors: FeedError[];
  /** Data lines seen (excluding the header and blank lines). */
  lines: number;
  /** Set when the file as a whole cannot be read (wrong header, not JSON, ...). */
  fatal?: string;
  /** Set when the file holds more than MAX_FEED_ROWS rows: nothing was checked (refuse it whole, 413). */
  overLimit?: string;
}

const NUL = /\0/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a text cannot be stored as it is (PostgreSQL text holds neither), or undefined. */
export function unstorable(value: string): string | undefined {
  const nul = value.search(NUL);
  if (nul >= 0) return `contains a NUL character (U+0000) at character ${nul + 1}`;
  const m = LONE_SURROGATE.exec(value);
  if (m)
    return `contains an unpaired surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()}) at character ${m.index + 1}, which is not valid Unicode`;
  return undefined;
}

/** A text safe to store and show in a message: NUL and unpaired surrogates written as escapes. */
export function printable(value: string): string {
  return value
    .replace(/\0/g, '\\0')
    .replace(new RegExp(LONE_SURROGATE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A value quoted in a message: printable and at most 40 characters. */
function quote(value: string): string {
  const chars = [...value];
  return `'${printable(chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : value)}'`;
}

export const COLUMNS: Record<FeedName, string[]> = {
  'school-absenteeism': ['school_code', 'school_name', 'class_code', 'date', 'enrolled', 'absent', 'reason', 'symptom'],
  'pharmacy-sales': ['pharmacy_code', 'pharmacy_name', 'date', 'category', 'units'],
  'sentinel-reports': ['site_code', 'site_name', 'date', 'syndrome', 'cases'],
};

/** Splits CSV text into records of fields (RFC 4180 quoting; CRLF or LF). Returns [line number, fields]. */
export function parseCsv(text: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  let field = '';
  let fields: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') inQuotes = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      fields.push(field);
      out.push([recordLine, fields]);
      fields = [];
      field = '';
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (field !== '' || fields.length) {
    fields.push(field);
    out.push([recordLine, fields]);
  }
  return out.filter(([, f]) => !(f.length === 1 && f[0]!.trim() === ''));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date in YYYY-MM-DD, not in the future beyond tomorrow (clock skew). */
export function checkDate(value: string, today = new Date()): string | undefined {
  const m = DATE.exec(value);
  if (!m) return `${quote(value)} is not a date in YYYY-MM-DD form`;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return `'${value}' is not a calendar date`;
  if (y < 2000) return `'${value}' is before 2000`;
  if (dt.getTime() > today.getTime() + 2 * 86_400_000) return `'${value}' is in the future`;
  return undefined;
}

function count(value: string): number | string {
  const t = value.trim();
  if (!/^-?\d+$/.test(t)) return `${quote(value)} is not a whole number`;
  const n = Number(t);
  if (n < 0) return `${n} is negative`;
  if (n > 1_000_000) return `${n} is implausibly large`;
  return n;
}

type Raw = Record<string, unknown>;

function text(raw: Raw, field: string, errors: FeedError[], line: number, required: boolean): string {
  const v = raw[field];
  const s = v === undefined || v === null ? '' : String(v).trim();
  if (required && !s) errors.push({ line, field, message: `${field} is empty` });
  if (s.length > MAX_FIELD_CHARS) {
    const chars = [...s].length;
    if (chars > MAX_FIELD_CHARS)
      errors.push({ line, field, message: `${field} is ${chars} characters long; at most ${MAX_FIELD_CHARS} are allowed` });
  }
  return s;
}

function num(raw: Raw, field: string, errors: FeedError[], line: number): number {
  const v = raw[field];
  const r = count(v === undefined || v === null ? '' : String(v));
  if (typeof r === 'string') {
    errors.push({ line, field, message: `${field}: ${r}` });
    return 0;
  }
  return r;
}

function date(raw: Raw, field: string, errors: FeedError[], line: number, today: Date): string {
  const s = text(raw, field, errors, line, true);
  if (s) {
    const problem = checkDate(s, today);
    if (problem) errors.push({ line, field, message: `${field}: ${problem}` });
  }
  return s;
}

export function checkSchoolRow(raw: Raw, line: number, today = new Date()): { row?: SchoolAbsenceRow; errors: FeedError[] } {
  const errors: FeedError[] = [];
  const row: SchoolAbsenceRow = {
    school_code: text(raw, 'school_code', errors, line, true),
    school_name: text(raw, 'school_name', errors, line, true),
    class_code: text(raw, 'class_code', errors, line, true),
    date: date(raw, 'date', errors, line, today),
    enrolled: num(raw, 'enrolled', errors, line),
    absent: num(raw, 'absent', errors, line),
    reason: text(raw, 'reason', errors, line, false),
    symptom: text(raw, 'symptom', errors, line, false),
  };
  if (!errors.length && row.absent > row.enrolled)
    errors.push({ line, field: 'absent', message: `absent (${row.absent}) exceeds enrolled (${row.enrolled})` });
  if (!errors.length && row.absent > 0 && !row.reason && !row.symptom)
    errors.push({ line, field: 'reason', message: 'absent pupils need a reason or symptom' });
  return errors.length ? { errors } : { row, errors };
}

export function checkPharmacyRow(raw: Raw, line: number, today = new Date()): { row?: PharmacySalesRow; errors: FeedError[] } {
  const errors: FeedError[] = [];
  const row: PharmacySalesRow = {
    pharmacy_code: text(raw, 'pharmacy_code', errors, line, true),
    pharmacy_name: text(raw, 'pharmacy_name', errors, line, true),
    date: date(raw, 'date', errors, line, today),
    category: text(raw, 'category', errors, line, true),
    units: num(raw, 'units', errors, line),
  };
  return errors.length ? { errors } : { row, errors };
}

export function checkSentinelRow(raw: Raw, line: number, today = new Date()): { row?: SentinelReportRow; errors: FeedError[] } {
  const errors: FeedError[] = [];
  const word = text(raw, 'syndrome', errors, line, true);
  const syndrome = word ? sentinelSyndrome(word) : undefined;
  if (word && !syndrome)
    errors.push({
      line,
      field: 'syndrome',
      message: `syndrome ${quote(word)} is not one a sentinel site reports; send fever (发热), respiratory (呼吸道) or diarrhoea (腹泻)`,
    });
  const row: SentinelReportRow = {
    site_code: text(raw, 'site_code', errors, line, true),
    site_name: text(raw, 'site_name', errors, line, false),
    date: date(raw, 'date', errors, line, today),
    syndrome: syndrome ?? 'fever',
    cases: num(raw, 'cases', errors, line),
  };
  return errors.length ? { errors } : { row, errors };
}

const tooMany = (n: number) => `${n} rows; one upload may hold at most ${MAX_FEED_ROWS}`;

/**
 * Values that cannot be read or stored: a JSON object or array where a single value belongs, NUL
 * characters, unpaired surrogates. The line is rejected and each such field named.
 */
function unstorableFields(raw: Raw, line: number, columns: string[]): FeedError[] {
  const errors: FeedError[] = [];
  for (const [key, v] of Object.entries(raw)) {
    const field = printable(key);
    if (v !== null && typeof v === 'object') {
      if (columns.includes(key))
        errors.push({ line, field, message: `${field} is ${Array.isArray(v) ? 'a list' : 'an object'}, not a single value` });
      continue;
    }
    const problem = typeof v === 'string' ? unstorable(v) : undefined;
    if (problem) errors.push({ line, field, message: `${field} ${problem}` });
  }
  return errors;
}

const CHECKERS = {
  'school-absenteeism': checkSchoolRow,
  'pharmacy-sales': checkPharmacyRow,
  'sentinel-reports': checkSentinelRow,
} as const;

type AnyRow = SchoolAbsenceRow | PharmacySalesRow | SentinelReportRow;

export function parseFeed(
  feed: 'school-absenteeism',
  body: string | unknown,
  format: 'csv' | 'json',
  today?: Date,
): ParsedFeed<SchoolAbsenceRow>;
export function parseFeed(
  feed: 'pharmacy-sales',
  body: string | unknown,
  format: 'csv' | 'json',
  today?: Date,
): ParsedFeed<PharmacySalesRow>;
export function parseFeed(
  feed: 'sentinel-reports',
  body: string | unknown,
  format: 'csv' | 'json',
  today?: Date,
): ParsedFeed<SentinelReportRow>;
export function parseFeed(feed: FeedName, body: string | unknown, format: 'csv' | 'json', today?: Date): ParsedFeed<AnyRow>;
export function parseFeed(feed: FeedName, body: string | unknown, format: 'csv' | 'json', today = new Date()): ParsedFeed<AnyRow> {
  const columns = COLUMNS[feed];
  const check = CHECKERS[feed] as (raw: Raw, line: number, today: Date) => { row?: AnyRow; errors: FeedError[] };
  const out: ParsedFeed<AnyRow> = { rows: [], errors: [], lines: 0 };
  let records: { line: number; raw: Raw }[];
  if (format === 'json') {
    let value = body;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch (e) {
        return { ...out, fatal: `not JSON: ${(e as Error).message}` };
      }
    }
    const list = Array.isArray(value)
      ? value
      : value && typeof value === 'object' && Array.isArray((value as { rows?: unknown }).rows)
        ? (value as { rows: unknown[] }).rows
        : undefined;
    if (!list) return { ...out, fatal: 'JSON must be an array of rows or {"rows": [...]}' };
    if (list.length > MAX_FEED_ROWS) return { ...out, lines: list.length, overLimit: tooMany(list.length) };
    records = [];
    list.forEach((r, i) => {
      if (r && typeof r === 'object' && !Array.isArray(r)) records.push({ line: i + 1, raw: r as Raw });
      else out.errors.push({ line: i + 1, message: 'row is not an object' });
    });
    out.lines = list.length;
  } else {
    const csv = parseCsv(typeof body === 'string' ? body : String(body ?? ''));
    if (!csv.length) return { ...out, fatal: 'the file is empty' };
    if (csv.length - 1 > MAX_FEED_ROWS) return { ...out, lines: csv.length - 1, overLimit: tooMany(csv.length - 1) };
    const header = csv[0]![1].map((h) => h.trim().toLowerCase());
    const missing = columns.filter((c) => !header.includes(c));
    if (missing.length) {
      const got = header.join(',');
      return {
        ...out,
        fatal: `wrong header: missing column(s) ${missing.join(', ')}; expected ${columns.join(',')} (got ${printable(got.length > 300 ? `${got.slice(0, 300)}…` : got)})`,
      };
    }
    records = csv.slice(1).map(([line, fields]) => {
      const raw: Raw = {};
      header.forEach((h, i) => (raw[h] = fields[i]));
      if (fields.length !== header.length) raw.__width = fields.length;
      return { line, raw };
    });
    out.lines = records.length;
  }
  for (const { line, raw } of records) {
    if (raw.__width !== undefined) {
      out.errors.push({ line, message: `${String(raw.__width)} fields where the header has ${Object.keys(raw).length - 1}` });
      continue;
    }
    const bad = unstorableFields(raw, line, columns);
    if (bad.length) {
      out.errors.push(...bad);
      continue;
    }
    const r = check(raw, line, today);
    if (r.row) out.rows.push({ line, row: r.row });
    else out.errors.push(...r.errors);
  }
  return out;
}
