/** 月度报告: last month's report generated on request, listed with its status and downloaded as a PDF and a workbook. */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import { expect, it } from 'vitest';
import { addDays, todayInChina } from '../../src/shared/dates.js';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { MonthlyReportPage } from './pages/monthly-report.page.js';

describeInBrowser('the monthly report for the health bureau', { store: chronicDistrict }, (fx) => {
  it('generates last month, lists it as complete and downloads it as PDF and Excel', async () => {
    const { page, errors } = await fx().signIn();
    const reports = new MonthlyReportPage(page, fx().url);
    await reports.open();
    // The picker starts on last month (China time).
    const month = addDays(`${todayInChina().slice(0, 7)}-01`, -1).slice(0, 7);
    await reports.generate(month);
    expect(await reports.status(`${month.slice(0, 4)}年${Number(month.slice(5))}月`)).toBe('完整');

    const pdf = await reports.download(month, 'pdf');
    expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
    expect(
      fs
        .readFileSync((await pdf.path())!)
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const xlsx = await reports.download(month, 'xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile((await xlsx.path())!);
    // A sheet per section, the first the month's overview.
    expect(book.worksheets.length).toBeGreaterThan(4);
    await reports.screenshot('monthly-report.png');
    expect(errors).toEqual([]);
  });
});
