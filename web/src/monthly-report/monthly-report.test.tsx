import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { MonthlyReportPage } from './monthly-report.component.js';
import { lastMonthInChina } from './monthly-report.resource.js';
import type { MonthlyReportList, MonthlyReportView } from './monthly-report.resource.js';

const sections = [
  { heading: '本月概况', rows: 5 },
  { heading: '传染病报告质量（按报告单位）', rows: 3 },
];
const report = (month: string, over: Partial<MonthlyReportView> = {}): MonthlyReportView => ({
  month,
  generatedAt: `${month}-28T01:00:00.000Z`,
  generatedBy: 'schedule',
  xlsxBytes: 12000,
  pdfBytes: 80000,
  pdfError: null,
  summary: { sections, partial: false },
  ...over,
});
// 12 months stored: 2025-01 … 2025-12, newest first.
const all = Array.from({ length: 12 }, (_, i) => report(`2025-${String(12 - i).padStart(2, '0')}`));
all[1] = report('2025-11', { generatedBy: 'zhang', pdfBytes: null, pdfError: 'No Chinese font is installed on the server' });
const pageOf = (path: string): MonthlyReportList => {
  const q = new URL(path, 'http://x').searchParams;
  const limit = Number(q.get('limit'));
  const offset = Number(q.get('offset'));
  return { total: all.length, limit, offset, rows: all.slice(offset, offset + limit) };
};

describe('MonthlyReportPage', () => {
  it('lists the reports newest first, paged with the total, with who made them and the PDF only where one was drawn', async () => {
    const api = stubApi({ '/api/monthly-reports': (c: { path: string }) => pageOf(c.path) });
    renderPage(<MonthlyReportPage initialMonth="2025-10" />);
    expect(await screen.findByText('2025年12月')).toBeTruthy();
    expect(api.callsTo('GET /api/monthly-reports')[0]!.path).toBe('/api/monthly-reports?limit=10&offset=0');
    expect(screen.getByText('共 12 份')).toBeTruthy();
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(10);
    expect(within(rows[0]!).getByText('定时生成')).toBeTruthy();
    expect(within(rows[1]!).getByText('zhang')).toBeTruthy();
    expect(within(rows[0]!).getByText('2 部分')).toBeTruthy();
    expect((screen.getByTestId('mr-2025-11-pdf') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('mr-2025-12-pdf') as HTMLButtonElement).disabled).toBe(false);
    // The month on screen has a report: the button regenerates it.
    expect(screen.getByTestId('mr-generate').textContent).toBe('重新生成');

    fireEvent.click(screen.getByTitle('2'));
    expect(await screen.findByText('2025年1月')).toBeTruthy();
    expect(api.callsTo('GET /api/monthly-reports').at(-1)!.path).toBe('/api/monthly-reports?limit=10&offset=10');
    expect(screen.getAllByRole('row').slice(1)).toHaveLength(2);
    expect(api.unmatched).toEqual([]);
  });

  it('generates the month picked (last month by default) and reloads the list', async () => {
    const month = lastMonthInChina();
    let stored: MonthlyReportView[] = [];
    const api = stubApi({
      '/api/monthly-reports': () => ({ total: stored.length, limit: 10, offset: 0, rows: stored }),
      [`POST /api/monthly-reports/${month}`]: () => {
        stored = [report(month, { generatedBy: 'admin', summary: { sections, partial: false } })];
        return stored[0];
      },
    });
    renderPage(<MonthlyReportPage />);
    expect(await screen.findByText('尚无报告：选择月份后点击“生成”。')).toBeTruthy();
    expect((screen.getByTestId('mr-month').querySelector('input') ?? screen.getByTestId('mr-month')).getAttribute('value')).toBe(month);
    expect(screen.getByTestId('mr-generate').textContent).toBe('生 成');
    fireEvent.click(screen.getByTestId('mr-generate'));
    await waitFor(() => expect(api.callsTo(`POST /api/monthly-reports/${month}`)).toHaveLength(1));
    expect(await screen.findByText('admin')).toBeTruthy();
    expect(screen.getByTestId('mr-generate').textContent).toBe('重新生成');
  });

  it('downloads a stored file under the name the server gives', async () => {
    stubApi({ '/api/monthly-reports': (c: { path: string }) => pageOf(c.path) });
    renderPage(<MonthlyReportPage initialMonth="2025-12" />);
    await screen.findByText('2025年12月');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:xlsx', revokeObjectURL: () => undefined }));
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const fetchStub = vi.mocked(fetch);
    fetchStub.mockImplementationOnce(
      async () =>
        new Response('PK', {
          status: 200,
          headers: { 'content-disposition': "attachment; filename*=UTF-8''%E6%9C%88%E6%8A%A5.xlsx" },
        }),
    );
    fireEvent.click(screen.getByTestId('mr-2025-12-xlsx'));
    await waitFor(() => expect(clicked).toHaveBeenCalled());
    expect(fetchStub.mock.calls.at(-1)![0]).toBe('/api/monthly-reports/2025-12/file?format=xlsx');
    expect((clicked.mock.contexts[0] as HTMLAnchorElement).download).toBe('月报.xlsx');
    clicked.mockRestore();
  });
});
