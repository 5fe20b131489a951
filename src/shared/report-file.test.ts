import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { findChineseFont, reportFile, type ReportSection } from './report-file.js';
import { tableFile } from './table-file.js';

interface Unit {
  name: string;
  rate: number | null;
  colour: 'red' | 'green';
}
const units: Unit[] = Array.from({ length: 120 }, (_, i) => ({
  name: `街道${i + 1}`,
  rate: i % 7 ? 60 + (i % 30) : null,
  colour: i % 3 ? 'green' : 'red',
}));
const section: ReportSection<Unit> = {
  heading: '高血压规范管理率',
  columns: [
    { header: '街道', value: (u) => u.name, width: 16 },
    { header: '规范管理率（%）', value: (u) => u.rate, fill: (u) => (u.colour === 'red' ? '#F4B4B4' : undefined) },
  ],
  rows: units,
  note: '分母为0时不计算。',
};

/** Pages of a pdfkit document (page objects are written uncompressed). */
const pages = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;

describe('report files', () => {
  it('a workbook has a sheet per section under the title, with the filled cells', async () => {
    const file = await reportFile('xlsx', '2026年11月医防融合月报', [section, { ...section, heading: '糖尿病规范管理率' }], {
      subtitle: ['统计期：2026-11-01 至 2026-11-30'],
    });
    expect(file.fileName).toBe('2026年11月医防融合月报.xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(file.body as unknown as ArrayBuffer);
    expect(book.worksheets.map((w) => w.name)).toEqual(['高血压规范管理率', '糖尿病规范管理率']);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).toBe('2026年11月医防融合月报');
    expect(sheet.getRow(2).getCell(1).value).toBe('统计期：2026-11-01 至 2026-11-30');
    // Title, subtitle, heading, a blank line, then the header row and the first unit (red).
    expect(sheet.getRow(5).values).toEqual([undefined, '街道', '规范管理率（%）']);
    expect(sheet.getRow(6).getCell(1).value).toBe('街道1');
    expect(sheet.getRow(6).getCell(2).value).toBeNull();
    expect((sheet.getRow(6).getCell(2).fill as ExcelJS.FillPattern).fgColor?.argb).toBe('FFF4B4B4');
    expect(sheet.getRow(7).getCell(2).fill?.type).toBeUndefined();
    expect(sheet.getRow(6 + units.length + 1).getCell(1).value).toBe('分母为0时不计算。');
  });

  it('a single list stays a plain list: header first in CSV (GB18030) and xlsx', async () => {
    const csv = await tableFile('csv', '街道', section.columns, units.slice(0, 2));
    expect(iconv.decode(csv.body, 'gb18030')).toBe('街道,规范管理率（%）\r\n街道1,\r\n街道2,61\r\n');
    const xlsx = await tableFile('xlsx', '街道', section.columns, units.slice(0, 2));
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    expect(book.worksheets[0]!.getRow(1).values).toEqual([undefined, '街道', '规范管理率（%）']);
  });

  it('a report in CSV puts the sections one after another under their headings', async () => {
    const csv = await reportFile('csv', '月报', [{ ...section, rows: units.slice(0, 1) }], { subtitle: ['2026-11'] });
    expect(iconv.decode(csv.body, 'gb18030').split('\r\n')).toEqual([
      '月报',
      '2026-11',
      '',
      '高血压规范管理率',
      '街道,规范管理率（%）',
      '街道1,',
      '分母为0时不计算。',
      '',
      '',
    ]);
  });

  it.runIf(!!findChineseFont())('a PDF runs over pages as the rows need, each page numbered', async () => {
    const short = await reportFile('pdf', '月报', [{ ...section, rows: units.slice(0, 3) }]);
    expect(short.contentType).toBe('application/pdf');
    expect(short.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pages(short.body)).toBe(1);
    const long = await reportFile('pdf', '月报', [section, { heading: '空表', columns: section.columns, rows: [] }]);
    expect(pages(long.body)).toBeGreaterThanOrEqual(3);
  });
});
