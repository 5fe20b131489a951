/**
 * A list as a file the user opens in a spreadsheet: Excel (.xlsx, written by exceljs) or CSV in
 * GB18030, the encoding Chinese Excel opens without asking (UTF-8 CSV shows as mojibake there),
 * with CRLF line ends. Cells that a spreadsheet would run as a formula (=, +, -, @ first) get a
 * leading apostrophe in CSV; in xlsx every value is written as a value, never a formula.
 */
import ExcelJS from 'exceljs';
import { reportFile, type ReportColumn, type ReportFile, type ReportFormat } from './report-file.js';

export type TableColumn<R> = ReportColumn<R>;

export type TableFormat = ReportFormat;

export type TableFile = ReportFile;

/** One list as a file (a single-section report): a header row, then a row per item. */
export async function tableFile<R>(format: TableFormat, title: string, columns: TableColumn<R>[], rows: Iterable<R>): Promise<TableFile> {
  return reportFile(format, title, [{ heading: title, columns, rows }]);
}

/** Content-Disposition for a download with a Chinese file name (ASCII fallback plus RFC 5987 filename*). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/"/g, '');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** Whether the bytes are an Office Open XML workbook (a zip: "PK\x03\x04"). */
export function isXlsx(bytes: Buffer): boolean {
  return bytes.length > 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** A cell as the text a person sees: dates as YYYY-MM-DD (or with the time when it has one), rich text joined, formulas by their result. */
function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
  }
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('text' in v) return String(v.text);
    if ('error' in v) return String(v.error);
    return '';
  }
  return String(v);
}

/**
 * The first worksheet of an .xlsx file as CSV text (UTF-8, CRLF), so an Excel file goes through
 * the same checks as a CSV one; every cell as the text a person sees in Excel.
 */
export async function xlsxToCsv(bytes: Buffer): Promise<string> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = book.worksheets[0];
  if (!sheet) return '';
  const width = sheet.actualColumnCount || sheet.columnCount;
  const lines: string[] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    const cells: string[] = [];
    for (let c = 1; c <= width; c++) {
      const text = cellText(row.getCell(c).value);
      cells.push(/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
    }
    lines.push(cells.join(','));
  });
  return lines.join('\r\n') + '\r\n';
}
