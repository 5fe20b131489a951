/**
 * CSV cells for files people open in a spreadsheet: quotes where needed, and a leading apostrophe
 * on a value a spreadsheet would take for a formula (the one copy: de-identified exports, the
 * audit CSV, list exports). `csvText` makes a whole released file: UTF-8 with a byte-order mark
 * (spreadsheet programs then read Chinese correctly) and CRLF line ends.
 */
export function csvCell(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = typeof value === 'number' ? text : text.replace(/^[=+\-@\t\r]/, "'$&");
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvText(header: readonly string[], rows: Iterable<readonly (string | number | null | undefined)[]>): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
