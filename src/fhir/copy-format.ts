/**
 * Encoding of values in PostgreSQL's COPY text format: tab-separated columns, \N for NULL,
 * backslash escapes; arrays as array literals with quoted elements.
 * (PostgreSQL manual, "COPY — File Formats — Text Format" and "Arrays — Array Value Input".)
 */
function escapeCopy(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function arrayLiteral(values: unknown[]): string {
  return (
    '{' +
    values
      .map((v) => {
        if (v === null || v === undefined) return 'NULL';
        if (typeof v === 'number') return String(v);
        return '"' + String(v).replace(/["\\]/g, (c) => '\\' + c) + '"';
      })
      .join(',') +
    '}'
  );
}

export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (Array.isArray(value)) return escapeCopy(arrayLiteral(value));
  if (typeof value === 'object') return escapeCopy(JSON.stringify(value));
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return escapeCopy(String(value));
}

export function copyRows(rows: unknown[][]): string {
  let out = '';
  for (const row of rows) out += row.map(copyField).join('\t') + '\n';
  return out;
}
