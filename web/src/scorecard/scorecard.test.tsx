import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { ReportingQualityPage } from './reporting-quality.component.js';
import { ScorecardPage } from './scorecard.component.js';
import type { ReportingQualityCards, ReportingQualityList, ScorecardList, ScorecardResult, TaskList } from './scorecard.resource.js';

const CODES = ['timely-reporting', 'card-completeness', 'duplicate-cards', 'timely-review', 'corrected-cards'] as const;
const NAMES = ['及时报告率', '报告卡完整率', '重卡率', '审核及时率', '订正率'];
const period = { label: '2025-03', kind: 'month' as const, from: '2025-03-01', to: '2025-03-31' };
const rates = (n: number[], d: number) =>
  CODES.map((code, i) => ({ code, numerator: n[i]!, denominator: d, value: d ? Math.round((1000 * n[i]!) / d) / 10 : null }));

const quality: ReportingQualityList = {
  period,
  definitions: CODES.map((code, i) => ({
    code,
    name: NAMES[i]!,
    numerator: `${NAMES[i]}分子`,
    denominator: '报告卡数',
    better: code === 'duplicate-cards' || code === 'corrected-cards' ? 'lower' : 'higher',
    source: '传染病信息报告管理规范（2015年版）',
  })),
  district: { facility: '', name: '全区', reported: 7, awaitingReview: 1, rates: rates([5, 6, 1, 1, 2], 7) },
  facilities: [
    { facility: 'F1', name: '第一医院', reported: 6, awaitingReview: 1, rates: rates([4, 5, 1, 1, 2], 6) },
    { facility: 'F2', name: '第二医院', reported: 1, awaitingReview: 0, rates: rates([1, 1, 0, 0, 0], 1) },
  ],
};

const lateCards: ReportingQualityCards = {
  period,
  indicator: 'timely-reporting',
  facility: 'F1',
  total: 2,
  limit: 20,
  offset: 0,
  cards: [
    {
      cardId: 'RQ-B',
      patientId: 'p-b',
      name: '质控乙',
      diseaseName: '流行性感冒',
      reportedAt: '2025-03-05T01:00:00.000Z',
      deadlineAt: '2025-03-04T00:00:00.000Z',
      timely: false,
      missing: [],
      duplicateOf: null,
      firstReviewedAt: null,
      reviewLimitHours: 24,
      reviewTimely: false,
      corrected: true,
      inNumerator: false,
    },
    {
      cardId: 'RQ-F',
      patientId: null,
      name: '质控戊',
      diseaseName: '霍乱',
      reportedAt: '2025-03-15T05:00:00.000Z',
      deadlineAt: '2025-03-15T04:00:00.000Z',
      timely: false,
      missing: ['idNumber'],
      duplicateOf: null,
      firstReviewedAt: '2025-03-15T10:00:00.000Z',
      reviewLimitHours: 2,
      reviewTimely: false,
      corrected: false,
      inNumerator: false,
    },
  ],
};

describe('ReportingQualityPage', () => {
  it('shows the five rates per facility with numerator/denominator and the district row', async () => {
    const api = stubApi({ '/api/reporting-quality': quality });
    renderPage(<ReportingQualityPage initialPeriod="2025-03" />);
    expect(await screen.findByText('第一医院')).toBeTruthy();
    expect(api.callsTo('GET /api/reporting-quality')[0]!.path).toBe('/api/reporting-quality?period=2025-03');
    for (const n of NAMES) expect(screen.getByText(n)).toBeTruthy();
    expect(screen.getByTestId('rq-F1-timely-reporting').textContent).toBe('66.7%');
    expect(screen.getByTestId('rq-F1-card-completeness').textContent).toBe('83.3%');
    expect(screen.getByTestId('rq-F1-duplicate-cards').textContent).toBe('16.7%');
    expect(screen.getByText('待审核 1')).toBeTruthy();
    const rows = screen.getAllByRole('row');
    expect(rows.at(-1)!.textContent).toContain('全区');
    expect(rows.at(-1)!.textContent).toContain('71.4% (5/7)');
  });

  it('drills down to the cards behind a figure, paged with the total', async () => {
    const api = stubApi({ '/api/reporting-quality': quality, '/api/reporting-quality/cards': lateCards });
    renderPage(<ReportingQualityPage initialPeriod="2025-03" />);
    const cell = (await screen.findByTestId('rq-F1-timely-reporting')).closest('td')!;
    fireEvent.click(within(cell).getByText('未达'));
    const drawer = await screen.findByRole('dialog');
    expect(await within(drawer).findByText('质控乙')).toBeTruthy();
    expect(within(drawer).getByText('第一医院 · 及时报告率 · 未计入分子')).toBeTruthy();
    expect(within(drawer).getByText('共 2 张')).toBeTruthy();
    expect(within(drawer).getByText('质控乙').getAttribute('href')).toBe('#/residents/p-b');
    expect(within(drawer).getByText('RQ-F').getAttribute('href')).toBe('#/surveillance/reports?open=RQ-F');
    expect(within(drawer).getByText('缺 idNumber')).toBeTruthy();
    expect(within(drawer).getByText('审核超 2 小时')).toBeTruthy();
    expect(within(drawer).getByText('已订正')).toBeTruthy();
    await waitFor(() => expect(api.callsTo('GET /api/reporting-quality/cards')).toHaveLength(1));
    expect(api.callsTo('GET /api/reporting-quality/cards')[0]!.path).toBe(
      '/api/reporting-quality/cards?period=2025-03&facility=F1&indicator=timely-reporting&numerator=false&limit=20&offset=0',
    );
  });
});

const item = (key: string, name: string, weight: number, better: 'higher' | 'lower' = 'higher') => ({
  key,
  name,
  weight,
  indicator: key,
  indicatorName: name,
  better,
  target: better === 'higher' ? 100 : 2,
  targetSource: '规范',
  bands: [],
  source: 'issue #21',
});
const summary: ScorecardList['scorecards'][number] = {
  id: 'yifang-integration',
  name: '医防融合评估',
  description: null,
  items: [item('timely-reporting', '传染病及时报告率', 70), item('duplicate-cards', '传染病报告重卡率', 30, 'lower')],
};
const result = (computedAt: string | null): ScorecardResult => ({
  scorecard: summary,
  level: 'institution',
  period: { label: '2025-01', kind: 'month', from: '2025-01-01', to: '2025-01-31' },
  computedAt,
  tasksOpened: computedAt ? 1 : 0,
  tasksClosed: 0,
  units: computedAt
    ? [
        {
          code: 'SC-F2',
          name: '第二医院',
          total: 100,
          rank: 1,
          openTasks: 0,
          trend: [
            { period: '2024-12', total: null },
            { period: '2025-01', total: 100 },
          ],
          cells: [
            { item: 'timely-reporting', numerator: 1, denominator: 1, value: 100, colour: 'green', score: 70 },
            { item: 'duplicate-cards', numerator: 0, denominator: 1, value: 0, colour: 'green', score: 30 },
          ],
        },
        {
          code: 'SC-F1',
          name: '第一医院',
          total: 65,
          rank: 2,
          openTasks: 1,
          trend: [
            { period: '2024-12', total: 80 },
            { period: '2025-01', total: 65 },
          ],
          cells: [
            { item: 'timely-reporting', numerator: 1, denominator: 2, value: 50, colour: 'red', score: 35 },
            { item: 'duplicate-cards', numerator: 0, denominator: 2, value: 0, colour: 'green', score: 30 },
          ],
        },
      ]
    : [],
});
const tasks: TaskList = {
  total: 1,
  limit: 10,
  offset: 0,
  tasks: [
    {
      id: '1',
      scorecardId: 'yifang-integration',
      level: 'institution',
      ownerCode: 'SC-F1',
      ownerName: '第一医院',
      itemKey: 'timely-reporting',
      itemName: '传染病及时报告率',
      period: '2025-01',
      openedValue: 50,
      openedAt: '2025-02-01T01:00:00.000Z',
      closedAt: null,
      closedPeriod: null,
      closedValue: null,
    },
  ],
};

describe('ScorecardPage', () => {
  it('shows coloured cells, totals, ranks, trends and open tasks', async () => {
    stubApi({
      '/api/scorecards': { scorecards: [summary], total: 1 },
      '/api/scorecards/yifang-integration': result('2025-02-01T01:00:00.000Z'),
      '/api/scorecards/yifang-integration/tasks': tasks,
    });
    renderPage(<ScorecardPage />);
    expect(await screen.findByTestId('sc-total-SC-F1')).toBeTruthy();
    expect(screen.getByTestId('sc-total-SC-F1').textContent).toBe('65.0');
    expect(screen.getByTestId('sc-cell-SC-F1-timely-reporting').getAttribute('data-colour')).toBe('red');
    expect(screen.getByTestId('sc-cell-SC-F1-timely-reporting').textContent).toBe('■ 50.0%');
    expect(screen.getByTestId('sc-cell-SC-F2-timely-reporting').getAttribute('data-colour')).toBe('green');
    const body = screen.getAllByRole('row').filter((r) => r.querySelector('[data-testid^="sc-total-"]'));
    expect(body.map((r) => r.textContent!.slice(0, 5))).toEqual(['1第二医院', '2第一医院']);
    expect(screen.getByText('整改 1')).toBeTruthy();
    expect(screen.getByTestId('sc-trend-SC-F1')).toBeTruthy();
    const taskCard = screen.getByText('整改任务（未关闭）').closest('.ant-card') as HTMLElement;
    expect(await within(taskCard).findByText('第一医院')).toBeTruthy();
    expect(within(taskCard).getByText('50%')).toBeTruthy();
    expect(within(taskCard).getByText('共 1 项')).toBeTruthy();
  });

  it('computes on request and reports the tasks opened', async () => {
    let computed = false;
    const api = stubApi({
      '/api/scorecards': { scorecards: [summary], total: 1 },
      // The stored run: none until the computation, then the computed one.
      '/api/scorecards/yifang-integration': () => result(computed ? '2025-02-01T01:00:00.000Z' : null),
      'POST /api/scorecards/yifang-integration/compute': () => {
        computed = true;
        return result('2025-02-01T01:00:00.000Z');
      },
      '/api/scorecards/yifang-integration/tasks': { total: 0, limit: 10, offset: 0, tasks: [] },
    });
    renderPage(<ScorecardPage />);
    expect(await screen.findByText('本期尚未计算，点击“计算”。')).toBeTruthy();
    // The button is enabled once the list has named the scorecard (under load the list can come after the text above).
    const button = screen.getByRole('button', { name: /计\s*算/ });
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(button);
    // The toast comes after the compute answer and a re-read; a busy machine needs more than the default second.
    expect(await screen.findByText('已计算：新开整改任务 1 项，关闭 0 项', undefined, { timeout: 15000 })).toBeTruthy();
    const call = api.callsTo('POST /api/scorecards/yifang-integration/compute')[0]!;
    expect(call.body).toMatchObject({ level: 'institution' });
    expect(await screen.findByTestId('sc-total-SC-F2')).toBeTruthy();
  });

  it('downloads the computed scorecard as a PDF for the level and period on screen', async () => {
    stubApi({
      '/api/scorecards': { scorecards: [summary], total: 1 },
      '/api/scorecards/yifang-integration': result('2025-02-01T01:00:00.000Z'),
      '/api/scorecards/yifang-integration/tasks': tasks,
    });
    renderPage(<ScorecardPage />);
    await screen.findByTestId('sc-total-SC-F1');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:pdf', revokeObjectURL: () => undefined }));
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const fetchStub = vi.mocked(fetch);
    fetchStub.mockImplementationOnce(
      async () =>
        new Response('%PDF-1.3', {
          status: 200,
          headers: { 'content-type': 'application/pdf', 'content-disposition': "attachment; filename*=UTF-8''%E8%AF%84%E4%BC%B0.pdf" },
        }),
    );
    fireEvent.click(screen.getByTestId('sc-export-pdf'));
    await waitFor(() => expect(clicked).toHaveBeenCalled());
    const [url] = fetchStub.mock.calls.at(-1)! as [string];
    const q = new URL(url, 'http://x');
    expect(q.pathname).toBe('/api/scorecards/yifang-integration/file');
    expect(Object.fromEntries(q.searchParams)).toMatchObject({ format: 'pdf', level: 'institution' });
    expect((clicked.mock.contexts[0] as HTMLAnchorElement).download).toBe('评估.pdf');
    expect(screen.getByTestId('sc-export-xlsx')).toBeTruthy();
    clicked.mockRestore();
  });
});
