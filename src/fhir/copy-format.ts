/**
 * Encoding of values in PostgreSQL's COPY text format: tab-separated columns, \N for NULL,
 * backslash escapes; arrays as array literals with quoted elements.
 * (PostgreSQL manual, "COPY — File Formats — Text Format" and "Arrays — Array Value Input".)
 * This runs once per column per imported resource, so the common case (nothing to escape)
 * is tested first and costs one regular-expression scan.
 */
const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;
const NEEDS_ARRAY_ESCAPE = /["\\]/;
/** Either of the above: an array element with none of these goes into the COPY field as it is. */
const NEEDS_ANY_ESCAPE = /["\\\t\n\r]/;

export function escapeCopy(text: string): string {
  if (!NEEDS_COPY_ESCAPE.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * escapeCopy for the output of JSON.stringify, which never holds a raw tab, newline or carriage
 * return (JSON escapes control characters): only backslashes need doubling, and looking for one
 * is cheaper than a regular-expression scan of a long document.
 */
export function escapeCopyJson(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** The inverse of escapeCopy. */
export function unescapeCopy(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/**
 * An array's literal ({"a","b",NULL,1}). `plain`: null as soon as an element holds anything either
 * encoding escapes, so that a COPY field of plain elements (search values: short strings, nearly
 * all plain) is the literal as it is, without escapeCopy's second pass over the whole of it.
 */
function arrayLiteral(values: unknown[], plain = false): string | null {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number') out += String(v);
    else {
      const s = String(v);
      if (plain && NEEDS_ANY_ESCAPE.test(s)) return null;
      out += '"' + (NEEDS_ARRAY_ESCAPE.test(s) ? s.replace(/["\\]/g, (c) => '\\' + c) : s) + '"';
    }
  }
  return out + '}';
}

export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (Array.isArray(value)) return arrayLiteral(value, true) ?? escapeCopy(arrayLiteral(value)!);
  if (typeof value === 'object') return escapeCopy(JSON.stringify(value));
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return escapeCopy(String(value));
}

export function copyRows(rows: unknown[][]): string {
  const lines: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '';
    for (let c = 0; c < row.length; c++) line += (c ? '\t' : '') + copyField(row[c]);
    lines[r] = line;
  }
  return lines.join('\n') + '\n';
}
