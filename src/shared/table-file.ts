/**
 * A list as a file the user opens in a spreadsheet: Excel (.xlsx, written by exceljs) or CSV in
 * GB18030, the encoding Chinese Excel opens without asking (UTF-8 CSV shows as mojibake there),
 * with CRLF line ends. Cells that a spreadsheet would run as a formula (=, +, -, @ first) get a
 * leading apostrophe in CSV; in xlsx every value is written as a value, never a formula.
 */
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

export interface TableColumn<R> {
  header: string;
  value: (row: R) => string | number | null | undefined;
  /** Column width in characters (xlsx). */
  width?: number;
}

export type TableFormat = 'xlsx' | 'csv';

export interface TableFile {
  body: Buffer;
  contentType: string;
  /** The file name for Content-Disposition (UTF-8, RFC 5987 encoded by contentDisposition). */
  fileName: string;
}

const FORMULA = /^[=+\-@\t\r]/;

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : FORMULA.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function tableFile<R>(format: TableFormat, title: string, columns: TableColumn<R>[], rows: Iterable<R>): Promise<TableFile> {
  if (format === 'csv') {
    const lines = [columns.map((c) => csvCell(c.header)).join(',')];
    for (const r of rows) lines.push(columns.map((c) => csvCell(c.value(r))).join(','));
    return {
      body: iconv.encode(lines.join('\r\n') + '\r\n', 'gb18030'),
      contentType: 'text/csv; charset=gb18030',
      fileName: `${title}.csv`,
    };
  }
  const book = new ExcelJS.Workbook();
  book.creator = 'Yifang 医防';
  const sheet = book.addWorksheet(title.slice(0, 31).replace(/[\\/?*[\]:]/g, ' '), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((c, i) => ({ header: c.header, key: String(i), width: c.width ?? Math.max(10, c.header.length * 2 + 2) }));
  sheet.getRow(1).font = { bold: true };
  for (const r of rows) sheet.addRow(columns.map((c) => c.value(r) ?? null));
  const body = Buffer.from(await book.xlsx.writeBuffer());
  return { body, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', fileName: `${title}.xlsx` };
}

/** Content-Disposition for a download with a Chinese file name (ASCII fallback plus RFC 5987 filename*). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
