import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Indicators } from '../chronic/chronic.resource.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { DashboardPage } from './dashboard.component.js';

/** The deriving banner's look at the processors: nothing pending. */
const caughtUp = { catchingUp: false, pending: 0, processors: [] };

const user = { username: 'cdc.li', displayName: '李医生', roles: ['epidemiologist', 'family-doctor'] } as Parameters<
  typeof DashboardPage
>[0]['user'];

const indicators = (htn: number, vaccine: number): Indicators => ({
  period: { from: '2026-01-01', to: '2026-12-31', label: '2026' },
  groupBy: 'total',
  definitions: [
    { code: 'htn-standard-management', name: '高血压患者规范管理率', numerator: 'n', denominator: 'd', source: 's', target: 70 },
    { code: 'vaccine-coverage', name: '国家免疫规划疫苗接种率（按出生队列）', numerator: 'n', denominator: 'd', source: 's', target: 90 },
  ],
  values: [
    { indicator: 'htn-standard-management', group: '全区', numerator: 1, denominator: 2, value: htn },
    { indicator: 'vaccine-coverage', group: '全区', population: 'MMR-1', numerator: 1, denominator: 2, value: vaccine },
  ],
});

describe('DashboardPage (工作台)', () => {
  it('shows each figure from the list it links to, and the indicators against target and last year', async () => {
    const year = Number(new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 4));
    const api = stubApi({
      '/api/processors/status': caughtUp,
      '/api/alerts': (c: { path: string }) => {
        const level = new URL(c.path, 'http://x').searchParams.get('level');
        const total = { red: 2, orange: 3, yellow: 4 }[level ?? ''] ?? 9;
        return { rows: [], total, counts: { open: 9, overdue: 1 } };
      },
      '/api/report-cards': (c: { path: string }) => ({ total: c.path.includes('overdue=true') ? 5 : 12, cards: [] }),
      '/api/chronic/worklist': { counts: { due: 7, overdue: 3, recall: 2, referred: 0 } },
      '/api/indicators': (c: { path: string }) => (c.path.includes(`period=${year}&`) ? indicators(65.5, 92) : indicators(60, 88)),
      '/api/investigations/escalations': { items: [], total: 2, limit: 1, offset: 0 },
    });
    renderPage(<DashboardPage user={user} />);
    await screen.findByTestId('home-figures');
    const figures = screen.getAllByTestId('home-figure').map((f) => [f.textContent, f.getAttribute('href')]);
    expect(figures).toEqual([
      ['未结预警9', '#/surveillance/alerts?status=open'],
      ['红色2', '#/surveillance/alerts?status=open&level=red'],
      ['橙色3', '#/surveillance/alerts?status=open&level=orange'],
      ['研判逾期1', '#/surveillance/alerts?status=open'],
      ['待审核12', '#/surveillance/reports?status=submitted'],
      ['逾期未报5', '#/surveillance/reports?status=overdue'],
      ['本周应随访7', '#/chronic'],
      ['逾期随访5', '#/chronic'],
      ['待确认漏访上报2', '#/investigation/follow-ups'],
    ]);
    expect(api.calls.some((c) => c.path === '/api/investigations/escalations?state=open&limit=1')).toBe(true);
    const ind = screen.getAllByTestId('home-indicator').map((f) => f.textContent);
    expect(ind[0]).toBe('高血压患者规范管理率65.5%目标 ≥ 70%　去年 60.0% ');
    // Doses pooled: 1 of 2 given.
    expect(ind[1]).toContain('50.0%');
    expect(api.calls.some((c) => c.path === '/api/chronic/worklist?summary=true')).toBe(true);
    // Working modules carry no 建设中 tag.
    expect(screen.queryByText('建设中')).toBeNull();
  });

  it('leaves out a section the user may not read (403)', async () => {
    stubApi({
      '/api/processors/status': caughtUp,
      '/api/alerts': { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'forbidden' }] } },
      '/api/report-cards': { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'forbidden' }] } },
      '/api/chronic/worklist': { counts: { due: 1, overdue: 0, recall: 0, referred: 0 } },
      '/api/indicators': indicators(50, 50),
      '/api/investigations/escalations': { status: 403, body: { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'forbidden' }] } },
    });
    renderPage(<DashboardPage user={user} />);
    await screen.findByTestId('home-figures');
    await waitFor(() => expect(screen.getAllByTestId('home-figure').map((f) => f.textContent)).toEqual(['本周应随访1', '逾期随访0']));
    expect(screen.queryByText('预警信号')).toBeNull();
  });

  it('shows the emergency modes in force (not drills) with the ways to what they change', async () => {
    const mode = (id: number, over: Record<string, unknown>) => ({
      id,
      areaCode: '339902001',
      level: 'II',
      levelZh: 'Ⅱ级（重大）',
      reason: '霍乱聚集性疫情',
      exercise: false,
      startedAt: '2026-12-05T08:30:00.000Z',
      startedBy: 'cdc.li',
      endedAt: null,
      endedBy: null,
      endReason: null,
      active: true,
      ...over,
    });
    stubApi({
      '/api/processors/status': caughtUp,
      '/api/alerts': { rows: [], total: 0, counts: { open: 0, overdue: 0 } },
      '/api/report-cards': { total: 0, cards: [] },
      '/api/chronic/worklist': { counts: { due: 0, overdue: 0, recall: 0, referred: 0 } },
      '/api/indicators': indicators(50, 50),
      '/api/investigations/escalations': { items: [], total: 0, limit: 1, offset: 0 },
      '/api/emergency/modes': {
        items: [mode(1, {}), mode(2, { exercise: true, level: 'I', reason: '演练' })],
        total: 2,
        limit: 20,
        offset: 0,
      },
    });
    renderPage(<DashboardPage user={user} />);
    const banner = await screen.findByTestId('home-emergency');
    expect(banner.textContent).toContain('应急响应状态生效中');
    expect(banner.textContent).toContain('Ⅱ级（重大）（街道 339902001，自 2026-12-05 16:30）：霍乱聚集性疫情');
    expect(banner.textContent).not.toContain('演练');
    expect([...banner.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual([
      '#/emergency/mode',
      '#/lab/dashboard',
      '#/investigation',
    ]);
  });

  it("asks only for what the user's roles may read", async () => {
    const api = stubApi({
      '/api/processors/status': caughtUp,
      '/api/chronic/worklist': { counts: { due: 2, overdue: 1, recall: 0, referred: 0 } },
      '/api/indicators': indicators(50, 50),
      // Family doctors follow contacts too: their team's notices are theirs to read.
      '/api/investigations/escalations': { items: [], total: 1, limit: 1, offset: 0 },
    });
    renderPage(<DashboardPage user={{ ...user, roles: ['family-doctor'] }} />);
    await screen.findByTestId('home-figures');
    await waitFor(() => expect(screen.getAllByTestId('home-figure')).toHaveLength(3));
    expect(api.calls.filter((c) => /alerts|report-cards/.test(c.path))).toEqual([]);
    expect(api.unmatched).toEqual([]);
  });
});
