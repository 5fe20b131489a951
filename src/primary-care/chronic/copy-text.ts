/**
 * PostgreSQL's COPY text format both ways, for the full recompute: rows leave the database with
 * `COPY (SELECT …) TO STDOUT` (one message per row, escaped by the server, decoded here once per
 * result) and go back with COPY FROM. On PGlite this avoids the per-field decoding of ordinary
 * result rows, which cost as much as running the queries themselves.
 */
import pg from 'pg';
import { copyField } from '../../fhir/copy-format.js';

/** One COPY text line (with its newline) of a row given as its values in column order. */
export function copyLine(values: readonly unknown[]): string {
  let out = copyField(values[0]);
  for (let i = 1; i < values.length; i++) out += '\t' + copyField(values[i]);
  return out + '\n';
}

/** COPY text lines (with the final newline) for rows given as objects, in the columns given. */
export function copyLines(rows: object[], columns: readonly string[]): string {
  let out = '';
  for (const r of rows) {
    const o = r as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) out += (i ? '\t' : '') + copyField(o[columns[i]!]);
    out += '\n';
  }
  return out;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One field of COPY text output: null for \N, escapes undone. */
function field(s: string): string | null {
  if (s.indexOf('\\') < 0) return s;
  if (s === '\\N') return null;
  return s.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g, (_m, oct: string, hex: string, ch: string) =>
    oct ? String.fromCharCode(parseInt(oct, 8)) : hex ? String.fromCharCode(parseInt(hex, 16)) : (ESCAPES[ch] ?? ch),
  );
}

/** The rows of one COPY text result, each as its fields (null for SQL NULL). */
export function copyRows(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const parts: (string | null)[] = text.slice(start, end).split('\t');
    for (let i = 0; i < parts.length; i++) parts[i] = field(parts[i] as string);
    rows.push(parts);
    start = end + 1;
  }
  return rows;
}

/** A text[] value as COPY writes it ({a,"b c"}), parsed as node-postgres would. */
const parseTextArray = pg.types.getTypeParser(1009 as never, 'text') as (value: string) => string[];
export const textArray = (v: string | null): string[] => (v === null ? [] : v === '{}' ? [] : parseTextArray(v));

/** A SQL string literal that reads the same whatever standard_conforming_strings says. */
export const sqlLiteral = (s: string): string => `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * Runs a simple query of one or more `COPY … TO STDOUT` statements in one round trip and returns
 * each statement's output as text. A node-postgres "submittable": it works on a PostgreSQL
 * connection and on PGlite's node-postgres adapter alike.
 */
export function copyOut(client: Pick<pg.ClientBase, 'query'>, sql: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const results: string[] = [];
    // On PostgreSQL a message's chunk is a view of the connection's read buffer, reused for the
    // next read: the bytes are copied out as they come (into one growing buffer per statement).
    let buf = Buffer.allocUnsafe(64 * 1024);
    let used = 0;
    let error: unknown;
    const submittable = {
      submit(connection: { query(text: string): void }) {
        connection.query(sql);
      },
      handleCopyData(msg: { chunk: Uint8Array }) {
        const chunk = msg.chunk;
        if (used + chunk.length > buf.length) {
          const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, used + chunk.length));
          buf.copy(bigger, 0, 0, used);
          buf = bigger;
        }
        buf.set(chunk, used);
        used += chunk.length;
      },
      handleCommandComplete() {
        results.push(buf.toString('utf8', 0, used));
        used = 0;
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handleCopyInResponse(connection: { sendCopyFail(msg: string): void }) {
        connection.sendCopyFail('not a COPY FROM');
      },
      handleError(err: unknown) {
        error ??= err;
      },
      handleReadyForQuery() {
        if (error) return reject(error);
        resolve(results);
      },
    };
    client.query(submittable as unknown as pg.QueryConfig);
  });
}
