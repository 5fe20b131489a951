/**
 * Tables as a document a person files or prints: one or more titled sections, each a table, as
 * an Excel workbook (a sheet per section), as CSV in GB18030 (sections one after another) or as
 * a PDF (A4, landscape when the table is wide; the header row repeated on every page; page
 * numbers; traffic-light cells filled). PDFs are drawn with pdfkit in a Chinese font found on
 * the server (Debian: fonts-noto-cjk); without one the caller gets NO_FONT_MESSAGE to show.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import PDFDocument from 'pdfkit';
import { csvCell } from './csv.js';

export interface ReportColumn<R> {
  header: string;
  value: (row: R) => string | number | null | undefined;
  /** Column width in characters (xlsx; relative width in the PDF). */
  width?: number;
  /** A background for the cell (hex "#RRGGBB"), e.g. a traffic-light colour. */
  fill?: (row: R) => string | undefined;
}

export interface ReportSection<R = unknown> {
  heading: string;
  columns: ReportColumn<R>[];
  rows: Iterable<R>;
  /** A line under the table: a footnote, a suppression rule, a source. */
  note?: string;
}

export type ReportFormat = 'xlsx' | 'csv' | 'pdf';

export interface ReportFile {
  body: Buffer;
  contentType: string;
  /** The file name for Content-Disposition. */
  fileName: string;
}

export interface ReportMeta {
  /** Lines under the title: the period, the area, who generated it and when. */
  subtitle?: string[];
}

/** Chinese fonts looked for, in order (Debian's fonts-noto-cjk first); a .ttc names its face. */
const FONT_CANDIDATES: { file: string; family?: string }[] = [
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'NotoSansCJKsc-Regular' },
  { file: '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', family: 'NotoSerifCJKsc-Regular' },
  { file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', family: 'WenQuanYiMicroHei' },
  { file: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', family: 'WenQuanYiZenHei' },
  { file: '/System/Library/Fonts/PingFang.ttc', family: 'PingFangSC-Regular' },
];

export function findChineseFont(candidates = FONT_CANDIDATES): { file: string; family?: string } | undefined {
  return candidates.find((c) => fs.existsSync(c.file));
}

export const NO_FONT_MESSAGE =
  'No Chinese font is installed on the server, so the PDF cannot be drawn: install one (Debian: apt-get install fonts-noto-cjk) / 服务器未安装中文字体，无法生成PDF';

/** Thrown when a PDF is asked for and the server has no Chinese font. */
export class NoChineseFontError extends Error {
  constructor() {
    super(NO_FONT_MESSAGE);
  }
}

/** A section of any row type (a report mixes tables of different rows). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySection = ReportSection<any>;

export async function reportFile(format: ReportFormat, title: string, sections: AnySection[], meta: ReportMeta = {}): Promise<ReportFile> {
  if (format === 'csv')
    return { body: reportCsv(title, sections, meta), contentType: 'text/csv; charset=gb18030', fileName: `${title}.csv` };
  if (format === 'pdf') return { body: await reportPdf(title, sections, meta), contentType: 'application/pdf', fileName: `${title}.pdf` };
  return {
    body: await reportXlsx(title, sections, meta),
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    fileName: `${title}.xlsx`,
  };
}

function reportCsv(title: string, sections: AnySection[], meta: ReportMeta): Buffer {
  const lines: string[] = [];
  // One section alone is a plain table (a header row first), so it opens as a list.
  const single = sections.length === 1 && !meta.subtitle?.length;
  if (!single) lines.push(csvCell(title), ...(meta.subtitle ?? []).map((s) => csvCell(s)), '');
  for (const s of sections) {
    if (!single) lines.push(csvCell(s.heading));
    lines.push(s.columns.map((c) => csvCell(c.header)).join(','));
    for (const r of s.rows) lines.push(s.columns.map((c) => csvCell(c.value(r))).join(','));
    if (s.note) lines.push(csvCell(s.note));
    if (!single) lines.push('');
  }
  return iconv.encode(lines.join('\r\n') + '\r\n', 'gb18030');
}

/** A sheet name Excel accepts: at most 31 characters, none of \ / ? * [ ] :, unique in the book. */
function sheetName(heading: string, used: Set<string>): string {
  const base = heading.slice(0, 31).replace(/[\\/?*[\]:]/g, ' ') || 'Sheet';
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base.slice(0, 27)}(${i})`;
  used.add(name);
  return name;
}

async function reportXlsx(title: string, sections: AnySection[], meta: ReportMeta): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Yifang 医防';
  book.title = title;
  const used = new Set<string>();
  for (const s of sections) {
    // A lone table keeps its header in the first row (a list others can read back); a report's
    // sheets start with the report's title and subtitle above the table.
    const top = sections.length === 1 && !meta.subtitle?.length ? [] : [title, ...(meta.subtitle ?? []), s.heading, ''];
    const sheet = book.addWorksheet(sheetName(sections.length === 1 ? title : s.heading, used), {
      views: [{ state: 'frozen', ySplit: top.length + 1 }],
    });
    for (const line of top) sheet.addRow([line]);
    if (top.length) sheet.getRow(1).font = { bold: true, size: 14 };
    const header = sheet.addRow(s.columns.map((c) => c.header));
    header.font = { bold: true };
    s.columns.forEach((c, i) => (sheet.getColumn(i + 1).width = c.width ?? Math.max(10, c.header.length * 2 + 2)));
    for (const r of s.rows) {
      const row = sheet.addRow(s.columns.map((c) => c.value(r) ?? null));
      s.columns.forEach((c, i) => {
        const colour = c.fill?.(r);
        if (colour)
          row.getCell(i + 1).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: `FF${colour.replace('#', '').toUpperCase()}` } };
      });
    }
    if (s.note) {
      sheet.addRow([]);
      sheet.addRow([s.note]);
    }
  }
  if (!sections.length) book.addWorksheet('Sheet');
  return Buffer.from(await book.xlsx.writeBuffer());
}

const MARGIN = 40;

/**
 * A pdfkit document in the Chinese font (registered as 'zh' and chosen), its pages buffered for
 * numbering, and the bytes it will have once `doc.end()` is called.
 */
export function chineseDocument(
  options: PDFKit.PDFDocumentOptions,
  font: { file: string; family?: string },
): { doc: PDFKit.PDFDocument; done: Promise<Buffer> } {
  const doc = new PDFDocument({ ...options, bufferPages: true });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('zh', font.file, font.family);
  doc.font('zh');
  return { doc, done };
}

async function reportPdf(title: string, sections: AnySection[], meta: ReportMeta): Promise<Buffer> {
  const font = findChineseFont();
  if (!font) throw new NoChineseFontError();
  const wide = sections.some((s) => s.columns.reduce((n, c) => n + (c.width ?? Math.max(10, c.header.length * 2 + 2)), 0) > 110);
  const { doc, done } = chineseDocument(
    { size: 'A4', layout: wide ? 'landscape' : 'portrait', margin: MARGIN, info: { Title: title } },
    font,
  );
  const width = doc.page.width - 2 * MARGIN;
  const bottom = () => doc.page.height - MARGIN - 18;

  doc.fontSize(16).fillColor('#000').text(title, { align: 'center' });
  doc.fontSize(9).fillColor('#444');
  for (const line of meta.subtitle ?? []) doc.text(line, { align: 'center' });
  doc.moveDown(0.6);

  for (const s of sections) {
    const rel = s.columns.map((c) => c.width ?? Math.max(10, c.header.length * 2 + 2));
    const sum = rel.reduce((a, b) => a + b, 0) || 1;
    const widths = rel.map((w) => (w / sum) * width);
    const size = s.columns.length > 10 ? 7 : 8.5;
    const drawRow = (cells: string[], opts: { header?: boolean; fills?: (string | undefined)[]; zebra?: boolean }) => {
      doc.fontSize(size);
      const heights = cells.map((c, i) => doc.heightOfString(c || ' ', { width: widths[i]! - 6 }));
      const h = Math.max(...heights, size + 2) + 6;
      if (doc.y + h > bottom()) {
        doc.addPage();
        if (!opts.header) drawHeader();
      }
      const y = doc.y;
      let x = MARGIN;
      cells.forEach((c, i) => {
        const fill = opts.header ? '#E8ECEF' : (opts.fills?.[i] ?? (opts.zebra ? '#F7F8FA' : undefined));
        if (fill) doc.save().rect(x, y, widths[i]!, h).fill(fill).restore();
        doc.save().rect(x, y, widths[i]!, h).lineWidth(0.4).stroke('#C8CDD2').restore();
        doc.fillColor(opts.header ? '#222' : '#000').text(c, x + 3, y + 3, { width: widths[i]! - 6 });
        x += widths[i]!;
      });
      doc.x = MARGIN;
      doc.y = y + h;
    };
    const drawHeader = () =>
      drawRow(
        s.columns.map((c) => c.header),
        { header: true },
      );
    if (doc.y > bottom() - 60) doc.addPage();
    doc.fontSize(12).fillColor('#000').text(s.heading, MARGIN, doc.y);
    doc.moveDown(0.3);
    drawHeader();
    let i = 0;
    for (const r of s.rows) {
      drawRow(
        s.columns.map((c) => {
          const v = c.value(r);
          return v === null || v === undefined ? '' : String(v);
        }),
        { fills: s.columns.map((c) => c.fill?.(r)), zebra: i++ % 2 === 1 },
      );
    }
    if (!i) drawRow([s.columns.length ? '（无数据）' : ''], {});
    if (s.note) doc.moveDown(0.3).fontSize(8).fillColor('#555').text(s.note, MARGIN, doc.y, { width });
    doc.moveDown(1);
  }

  const range = doc.bufferedPageRange();
  for (let p = range.start; p < range.start + range.count; p++) {
    doc.switchToPage(p);
    // Below the bottom margin pdfkit would start a new page for the text: no margin for the footer.
    doc.page.margins.bottom = 0;
    doc
      .fontSize(8)
      .fillColor('#777')
      .text(`${title} · 第 ${p + 1} / ${range.count} 页`, MARGIN, doc.page.height - MARGIN - 6, {
        width,
        align: 'center',
        lineBreak: false,
      });
  }
  doc.end();
  return done;
}
