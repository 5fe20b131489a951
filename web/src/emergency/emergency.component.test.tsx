import { readdirSync, readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDays, todayInChina } from '../../../src/shared/dates.js';
import { setSession } from '../api/session.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { DrillReportPage, DrillsPage } from './drills.component.js';
import { enEmergency } from './en-emergency.js';
import type {
  DrillView,
  MobilisationDetail,
  MobilisationView,
  ModeView,
  TeamDetail,
  TeamView,
  TrainingView,
  UnitCover,
} from './emergency.resource.js';
import { ModePage } from './mode.component.js';
import { ReservesPage } from './reserves.component.js';
import { TeamDetailPage } from './team-detail.component.js';
import { TeamsPage } from './teams.component.js';
import { duration } from './labels.js';

const today = todayInChina();
const now = new Date().toISOString();
const minute = 60_000;

const UNITS = {
  items: [
    { code: 'CDC-01', name: '区疾病预防控制中心', areaCode: '339902', createdAt: now },
    { code: 'CHC-02', name: '青石街道社区卫生服务中心', areaCode: '339902001', createdAt: now },
  ],
  total: 2,
  limit: 200,
  offset: 0,
};
const ITEMS = {
  items: [
    { code: 'n95', name: '医用防护口罩 (N95)', category: 'ppe', uom: '只', scenarioDailyUse: 100 },
    { code: 'na-kit', name: '核酸检测试剂盒', category: 'test-kit', uom: '人份', scenarioDailyUse: 500 },
  ],
  standardDays: 30,
  expiryWarningDays: [90, 30],
};
const names = { '/api/emergency/units': UNITS, '/api/emergency/reserves/items': ITEMS };

const team = (id: number, over: Partial<TeamView> = {}): TeamView => ({
  id,
  unit: 'CDC-01',
  kind: 'epidemiology',
  kindZh: '流调队',
  name: `第${id}流调队`,
  members: 6,
  onCallToday: 2,
  createdAt: '2026-01-05T02:00:00.000Z',
  ...over,
});

/** The Chinese text of a screen must not show codes: unit, item, kind, role, level or state values. */
const RAW =
  /\b(CDC-01|CHC-02|n95|na-kit|epidemiology|testing|leader|deputy|expired|expiring|valid|pending|below-standard|near-expiry|within-\d+|receipt|issue|skipped|done|planned)\b/;

/** Chooses an option of an antd Select (the element given, or the search input inside it). */
const pick = async (select: Element, text: string) => {
  fireEvent.mouseDown(select.getAttribute('role') === 'combobox' ? select : select.querySelector('[role="combobox"]')!);
  await waitFor(() =>
    expect([...document.querySelectorAll('.ant-select-item-option')].some((o) => o.textContent?.startsWith(text))).toBe(true),
  );
  const option = [...document.querySelectorAll('.ant-select-item-option')].filter((o) => o.textContent?.startsWith(text)).pop()!;
  fireEvent.click(option);
};

beforeEach(() => setSession({ token: 'tok-em', user: { username: 'li.epi', displayName: '李流调', roles: ['epidemiologist'] } }));
afterEach(() => setSession(null));

describe('words of the emergency screens', () => {
  it('has an English text for every key it uses, and no Chinese in the English table', () => {
    const dir = 'web/src/emergency';
    const keys = new Set<string>();
    for (const f of readdirSync(dir).filter((f) => /\.tsx?$/.test(f) && !/test|^en-/.test(f)))
      for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/\bt\(\s*'([\w.]+)',/g)) keys.add(m[1]!);
    expect(keys.size).toBeGreaterThan(250);
    expect([...keys].filter((k) => !enEmergency[k])).toEqual([]);
    expect(Object.entries(enEmergency).filter(([, v]) => /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/.test(v))).toEqual([]);
    // The menu entries are in the table too.
    for (const k of ['nav.emergency', 'nav.emergencyTeams', 'nav.emergencyReserves', 'nav.emergencyMode', 'nav.emergencyDrills'])
      expect(keys.has(k) || enEmergency[k], k).toBeTruthy();
  });
  it('says durations in words', () => {
    expect(duration(850)).toBe('850 毫秒');
    expect(duration(12_340)).toBe('12.3 秒');
    expect(duration(245_000)).toBe('4 分 5 秒');
    expect(duration(7_380_000)).toBe('2 小时 3 分');
  });
});

describe('应急队伍', () => {
  it('lists teams with unit names and kinds in words, paged with the total, and filters by kind', async () => {
    const api = stubApi({
      ...names,
      '/api/emergency/teams': (c: { path: string }) => ({
        items: c.path.includes('kind=testing')
          ? [team(3, { kind: 'testing', kindZh: '检测队', name: '核酸检测队', unit: 'CHC-02', onCallToday: 0 })]
          : [team(1), team(2, { kind: 'disinfection', kindZh: '消杀队', name: '消杀一队' })],
        total: c.path.includes('kind=testing') ? 1 : 42,
        limit: 20,
        offset: 0,
      }),
    });
    renderPage(<TeamsPage />);
    const table = await screen.findByTestId('teams-table');
    await waitFor(() => expect(table.textContent).toContain('第1流调队'));
    await waitFor(() => expect(table.textContent).toContain('区疾病预防控制中心'));
    expect(table.textContent).toContain('流调队');
    expect(table.textContent).toContain('消杀队');
    expect(document.body.textContent).toContain('共 42 支队伍');
    expect(table.textContent).not.toMatch(RAW);
    await pick(screen.getByTestId('kind-filter'), '检测队');
    await waitFor(() => expect(table.textContent).toContain('核酸检测队'));
    expect(api.calls.some((c) => c.path.startsWith('/api/emergency/teams?') && c.path.includes('kind=testing'))).toBe(true);
    expect(table.textContent).toContain('未排班');
    expect(api.unmatched).toEqual([]);
  });

  it("shows a team's members, certificates (expired red, expiring orange) and the rota of the next 14 days", async () => {
    const detail: TeamDetail = {
      ...team(1),
      memberList: [
        {
          practitionerId: 'zhang.san',
          name: '张三',
          role: 'leader',
          phone: '13800000001',
          active: true,
          certificates: { valid: 1, expiring: 1, expired: 0 },
        },
        {
          practitionerId: 'li.si',
          name: '李四',
          role: 'member',
          phone: null,
          active: true,
          certificates: { valid: 0, expiring: 0, expired: 1 },
        },
      ],
    };
    const cert = (id: number, over: Partial<TrainingView>): TrainingView => ({
      id,
      practitionerId: 'zhang.san',
      name: '张三',
      kind: 'certificate',
      title: '流行病学调查员证',
      issuer: '省疾控中心',
      completedOn: '2024-01-01',
      expiresOn: '2027-01-01',
      hours: null,
      state: 'valid',
      daysLeft: 300,
      ...over,
    });
    const api = stubApi({
      ...names,
      '/api/emergency/teams/1': detail,
      '/api/emergency/trainings': {
        items: [
          cert(1, { practitionerId: 'li.si', name: '李四', expiresOn: '2026-01-01', state: 'expired', daysLeft: -40 }),
          cert(2, { title: '突发事件卫生应急培训', expiresOn: addDays(today, 20), state: 'expiring', daysLeft: 20 }),
          cert(3, {}),
        ],
        total: 3,
        limit: 20,
        offset: 0,
      },
      '/api/emergency/on-call': (c: { path: string }) => {
        const day = new URLSearchParams(c.path.split('?')[1]).get('day')!;
        return {
          day,
          teams:
            day === today
              ? [
                  {
                    teamId: 1,
                    unit: 'CDC-01',
                    kind: 'epidemiology',
                    name: '第1流调队',
                    onCall: [{ practitionerId: 'zhang.san', name: '张三', role: 'leader', phone: null }],
                  },
                ]
              : [],
        };
      },
    });
    renderPage(<TeamDetailPage id={1} />);
    const members = await screen.findByTestId('members-table');
    expect(members.textContent).toContain('张三');
    expect(members.textContent).toContain('队长');
    expect(members.textContent).toContain('即将到期 1');
    expect(members.textContent).toContain('已过期 1');
    const certs = await screen.findByTestId('certificates-table');
    await waitFor(() => expect(certs.textContent).toContain('流行病学调查员证'));
    const states = [...certs.querySelectorAll('[data-testid="cert-state"]')];
    expect(states.map((s) => s.getAttribute('data-state'))).toEqual(['expired', 'expiring', 'valid']);
    expect(states[0]!.querySelector('.ant-tag-red')?.textContent).toBe('已过期');
    expect(states[1]!.querySelector('.ant-tag-orange')?.textContent).toBe('即将到期');
    expect(states[1]!.textContent).toContain('剩 20 天');
    expect(document.body.textContent).toContain('共 3 条培训与证书');
    const rota = await screen.findByTestId('rota-table');
    await waitFor(() => expect(rota.querySelectorAll('tbody tr.ant-table-row')).toHaveLength(14));
    expect(rota.textContent).toContain(`${today}`);
    expect(rota.textContent).toContain('张三（队长）');
    expect(rota.textContent).toContain(addDays(today, 13));
    expect(rota.textContent).toContain('未排班');
    expect(api.callsTo('GET /api/emergency/on-call')).toHaveLength(14);
    expect(api.callsTo('GET /api/emergency/trainings')[0]!.path).toContain('teamId=1');
    expect(document.querySelector('[data-testid="team-detail"]')!.textContent).not.toMatch(RAW);
    expect(api.unmatched).toEqual([]);
  });

  it("shows each member's acknowledgement of a mobilisation and lets the signed-in member acknowledge", async () => {
    const t0 = Date.now() - 40 * minute;
    const member = (practitionerId: string, name: string, over: Partial<MobilisationDetail['members'][number]> = {}) => ({
      practitionerId,
      name,
      role: 'member',
      teamId: 1,
      notifiedAt: new Date(t0).toISOString(),
      dueAt: new Date(t0 + 30 * minute).toISOString(),
      acknowledgedAt: null,
      overdue: false,
      late: false,
      ...over,
    });
    const view: MobilisationView = {
      id: 7,
      source: { kind: 'alert', id: '55' },
      reason: '霍乱聚集性疫情',
      teamIds: [1, 2],
      onCallOnly: false,
      ackLimitMinutes: 30,
      exercise: false,
      createdAt: new Date(t0).toISOString(),
      createdBy: 'admin',
      notified: 3,
      acknowledged: 1,
      pending: 2,
      overdue: 2,
    };
    const detail: MobilisationDetail = {
      ...view,
      members: [
        member('zhang.san', '张三', { role: 'leader', acknowledgedAt: new Date(t0 + 5 * minute).toISOString() }),
        member('li.epi', '李流调', { overdue: true }),
        member('wang.wu', '王五', { overdue: true }),
      ],
    };
    const api = stubApi({
      '/api/emergency/mobilisations': { items: [view], total: 1, limit: 20, offset: 0 },
      '/api/emergency/mobilisations/7': detail,
      'POST /api/emergency/mobilisations/7/acknowledgements': {
        ...detail,
        members: detail.members.map((m) =>
          m.practitionerId === 'li.epi' ? { ...m, acknowledgedAt: new Date().toISOString(), overdue: false, late: true } : m,
        ),
      },
    });
    renderPage(<TeamsPage tab="mobilisations" />);
    const table = await screen.findByTestId('mobilisations-table');
    await waitFor(() => expect(table.textContent).toContain('预警信号'));
    expect(table.textContent).toContain('2 人超时');
    expect(document.body.textContent).toContain('共 1 次调动');
    fireEvent.click(screen.getByTestId('open-mobilisation'));
    const members = await screen.findByTestId('mobilised-members');
    const states = () => [...members.querySelectorAll('[data-testid="ack-state"]')].map((s) => s.getAttribute('data-state'));
    await waitFor(() => expect(states()).toEqual(['done', 'overdue', 'overdue']));
    expect(members.textContent).toContain('超时未确认');
    expect(document.body.textContent).toContain('已超过确认时限');
    fireEvent.click(screen.getByTestId('acknowledge'));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/mobilisations/7/acknowledgements')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/mobilisations/7/acknowledgements')[0]!.body).toEqual({ practitionerId: 'li.epi' });
    await waitFor(() => expect(states()).toEqual(['done', 'late', 'overdue']));
    expect(members.textContent).toContain('已确认（超时）');
    expect(screen.queryByTestId('acknowledge')).toBeNull();
    expect(api.unmatched).toEqual([]);
  });
});

describe('物资储备', () => {
  const row = (item: string, name: string, uom: string, days: number | null, meets: boolean) => ({
    item,
    name,
    uom,
    stock: 1200,
    observedDailyUse: 10,
    daysAtObservedRate: 120,
    scenarioDailyUse: 100,
    emergencyDailyUse: 100,
    rateBasis: 'scenario' as const,
    emergencyDays: days,
    meetsStandard: meets,
    shortfall: meets ? 0 : 1800,
  });
  const cover: UnitCover = {
    unit: 'CDC-01',
    name: '区疾病预防控制中心',
    standardDays: 30,
    meetsStandard: false,
    belowStandard: ['n95'],
    items: [row('n95', '医用防护口罩 (N95)', '只', 12, false), row('na-kit', '核酸检测试剂盒', '人份', 45, true)],
  };

  it('shows days of cover against the 30-day standard, red when below, and the warnings in words', async () => {
    const api = stubApi({
      ...names,
      '/api/emergency/reserves/cover': { items: [cover], total: 1, limit: 10, offset: 0 },
    });
    renderPage(<ReservesPage />);
    const unit = await screen.findByTestId('cover-unit');
    expect(unit.textContent).toContain('区疾病预防控制中心');
    expect(unit.textContent).toContain('未达标：1 种物资不足 30 天');
    const bars = [...unit.querySelectorAll('[data-testid="cover-days"]')];
    expect(bars.map((b) => b.getAttribute('data-below'))).toEqual(['true', 'false']);
    expect(bars[0]!.textContent).toContain('12 天');
    expect(bars[0]!.textContent).toContain('缺 1800只');
    expect(bars[0]!.querySelector('.ant-progress-status-exception')).toBeTruthy();
    expect(bars[1]!.querySelector('.ant-progress-status-success')).toBeTruthy();
    expect(document.body.textContent).toContain('可保障天数（标准 30 天）');
    expect(document.body.textContent).toContain('共 1 个单位');
    expect(unit.textContent).not.toMatch(RAW);
    expect(api.unmatched).toEqual([]);
  });

  it('lists the warnings: below standard, expiring within 90 or 30 days, expired', async () => {
    stubApi({
      ...names,
      '/api/emergency/reserves/warnings': {
        items: [
          {
            kind: 'below-standard',
            unit: 'CDC-01',
            item: 'n95',
            batchNo: null,
            expiresOn: null,
            days: 12,
            window: null,
            quantity: 1200,
            message: 'x',
          },
          {
            kind: 'expired',
            unit: 'CHC-02',
            item: 'na-kit',
            batchNo: 'K2401',
            expiresOn: '2026-01-01',
            days: -5,
            window: null,
            quantity: 50,
            message: 'x',
          },
          {
            kind: 'near-expiry',
            unit: 'CDC-01',
            item: 'na-kit',
            batchNo: 'K2402',
            expiresOn: addDays(today, 20),
            days: 20,
            window: 30,
            quantity: 200,
            message: 'x',
          },
          {
            kind: 'near-expiry',
            unit: 'CDC-01',
            item: 'n95',
            batchNo: 'M77',
            expiresOn: addDays(today, 80),
            days: 80,
            window: 90,
            quantity: 500,
            message: 'x',
          },
        ],
        total: 4,
        limit: 20,
        offset: 0,
      },
    });
    renderPage(<ReservesPage tab="warnings" />);
    const table = await screen.findByTestId('warnings-table');
    await waitFor(() => expect(table.querySelectorAll('[data-testid="warning-kind"]')).toHaveLength(4));
    await waitFor(() => expect(table.textContent).toContain('青石街道社区卫生服务中心'));
    expect([...table.querySelectorAll('[data-testid="warning-kind"]')].map((w) => w.textContent)).toEqual([
      '低于储备标准',
      '已过期',
      '30 天内到期',
      '90 天内到期',
    ]);
    expect(table.textContent).toContain('可保障 12 天，低于 30 天标准');
    expect(table.textContent).toContain('批号 K2401 已于 2026-01-01 过期，50人份 不能出库');
    expect(table.textContent).not.toMatch(RAW);
    expect(document.body.textContent).toContain('共 4 条预警');
  });

  it('checks an issue on the form first, then shows why the server refuses one larger than the stock', async () => {
    const api = stubApi({
      ...names,
      '/api/emergency/reserves/cover': { items: [], total: 0, limit: 10, offset: 0 },
      'POST /api/emergency/reserves/issues': {
        status: 409,
        body: {
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'conflict',
              diagnostics:
                'issue of 5000 n95 at CDC-01 refused: only 1200 in unexpired stock (300 more expired, not issued); nothing was written',
            },
          ],
        },
      },
    });
    renderPage(<ReservesPage />);
    fireEvent.click(await screen.findByTestId('issue-button'));
    const dialog = await screen.findByRole('dialog');
    // Nothing filled in: the form says so and sends nothing.
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    expect(await within(dialog).findByText('请选择单位')).toBeTruthy();
    expect(within(dialog).getByText('请选择物资')).toBeTruthy();
    expect(within(dialog).getByText('请填写数量')).toBeTruthy();
    const combos = within(dialog).getAllByRole('combobox');
    await pick(combos[0]!, '区疾病预防控制中心');
    await pick(combos[1]!, '医用防护口罩');
    fireEvent.change(within(dialog).getByRole('spinbutton'), { target: { value: '0' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    expect(await within(dialog).findByText('数量须大于 0')).toBeTruthy();
    expect(api.callsTo('POST /api/emergency/reserves/issues')).toHaveLength(0);
    fireEvent.change(within(dialog).getByRole('spinbutton'), { target: { value: '5000' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/reserves/issues')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/reserves/issues')[0]!.body).toEqual({ unit: 'CDC-01', item: 'n95', quantity: 5000 });
    const error = await within(dialog).findByTestId('movement-error');
    expect(error.textContent).toContain('库存不足：未过期库存仅 1200只（另有 300只 已过期，不能出库），未做任何变动');
    expect(error.textContent).toContain('only 1200 in unexpired stock');
  });

  it('refuses on the form a transfer to the same unit', async () => {
    const api = stubApi({ ...names, '/api/emergency/reserves/cover': { items: [], total: 0, limit: 10, offset: 0 } });
    renderPage(<ReservesPage />);
    fireEvent.click(await screen.findByTestId('transfer-button'));
    const dialog = await screen.findByRole('dialog');
    const combos = within(dialog).getAllByRole('combobox');
    await pick(combos[0]!, '区疾病预防控制中心');
    await pick(combos[1]!, '区疾病预防控制中心');
    await pick(combos[2]!, '核酸检测试剂盒');
    fireEvent.change(within(dialog).getByRole('spinbutton'), { target: { value: '10' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    expect(await within(dialog).findByText('调入单位不能与调出单位相同')).toBeTruthy();
    expect(api.callsTo('POST /api/emergency/reserves/transfers')).toHaveLength(0);
  });
});

describe('应急状态与零报告', () => {
  const mode = (id: number, over: Partial<ModeView> = {}): ModeView => ({
    id,
    areaCode: null,
    level: 'III',
    levelZh: 'Ⅲ级（较大）',
    reason: '霍乱疫情扩散',
    exercise: false,
    startedAt: '2026-03-01T01:30:00.000Z',
    startedBy: 'zhao.chief',
    endedAt: null,
    endedBy: null,
    endReason: null,
    active: true,
    ...over,
  });
  const routes = (over: Record<string, unknown> = {}) => ({
    ...names,
    '/api/emergency/modes/current': {
      areaCode: null,
      at: now,
      emergency: true,
      level: 'III',
      mode: mode(4),
      settings: { labMode: 'emergency', reportDeadlineHours: 12, zeroReporting: 'daily', ackLimitMinutes: 30 },
    },
    '/api/emergency/modes': {
      items: [mode(4), mode(5, { areaCode: '339902001', level: 'II', levelZh: 'Ⅱ级（重大）', reason: '街道聚集性疫情' })],
      total: 2,
      limit: 20,
      offset: 0,
    },
    '/api/emergency/zero-reports/missing': {
      day: today,
      required: 2,
      reported: 1,
      items: [{ unit: 'CHC-02', name: '青石街道社区卫生服务中心', areaCode: '339902001', level: 'II', modeId: 5 }],
      total: 1,
      limit: 20,
      offset: 0,
    },
    '/api/emergency/zero-reports': {
      items: [
        {
          unit: 'CDC-01',
          day: today,
          counts: { fever: 0 },
          zero: true,
          note: null,
          reportedAt: now,
          reportedBy: 'li.epi',
        },
      ],
      total: 1,
      limit: 10,
      offset: 0,
    },
    ...over,
  });

  it('shows the mode in force with level, who and when and what it changes, and the units that have not reported', async () => {
    const api = stubApi(routes());
    renderPage(<ModePage />);
    const current = await screen.findByTestId('current-mode');
    await waitFor(() => expect(current.textContent).toContain('Ⅲ级（较大）应急响应'));
    expect(current.textContent).toContain('zhao.chief 于 2026-03-01 09:30 启动');
    expect(current.textContent).toContain('霍乱疫情扩散');
    expect(current.textContent).toContain('应急标准');
    expect(current.textContent).toContain('12 小时');
    expect(current.textContent).toContain('每日报告');
    expect(current.textContent).toContain('30 分钟');
    const active = screen.getByTestId('active-modes');
    await waitFor(() => expect(active.textContent).toContain('街道 339902001'));
    expect(active.textContent).toContain('全区');
    expect(active.textContent).toContain('Ⅱ级（重大）');
    expect(document.body.textContent).toContain('共 2 项生效中的应急响应');
    const summary = await screen.findByTestId('zero-summary');
    expect(summary.textContent).toBe('应报 2 家，已报 1 家，未报 1 家');
    const missing = screen.getByTestId('missing-table');
    expect(missing.textContent).toContain('青石街道社区卫生服务中心');
    const received = screen.getByTestId('received-table');
    await waitFor(() => expect(received.textContent).toContain('区疾病预防控制中心'));
    expect(received.textContent).toContain('零报告');
    expect(document.querySelector('[data-testid="emergency-mode"]')!.textContent).not.toMatch(RAW);
    expect(api.callsTo('GET /api/emergency/modes')[0]!.path).toContain('active=true');
    expect(api.unmatched).toEqual([]);
  });

  it('switches an area to a level after a confirm dialog naming the change', async () => {
    const api = stubApi(
      routes({
        'POST /api/emergency/modes': { status: 201, body: { mode: mode(6, { areaCode: '339902001', level: 'I' }), replaced: mode(5) } },
      }),
    );
    renderPage(<ModePage />);
    fireEvent.click(await screen.findByTestId('start-mode'));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: /下一步/ }));
    expect(await within(dialog).findByText('请选择级别')).toBeTruthy();
    expect(within(dialog).getByText('请填写启动原因')).toBeTruthy();
    fireEvent.click(within(dialog).getByLabelText('指定区域'));
    fireEvent.change(await within(dialog).findByTestId('mode-area'), { target: { value: '3399x' } });
    await pick(within(dialog).getByRole('combobox'), 'Ⅰ级');
    fireEvent.change(within(dialog).getByTestId('mode-reason'), { target: { value: '疫情持续扩散' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /下一步/ }));
    expect(await within(dialog).findByText('区划代码为 2–12 位数字')).toBeTruthy();
    fireEvent.change(within(dialog).getByTestId('mode-area'), { target: { value: '339902001' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /下一步/ }));
    const confirm = await screen.findByTestId('mode-confirm');
    expect(confirm.textContent).toContain('街道 339902001：Ⅱ级（重大） → Ⅰ级（特别重大）');
    expect(confirm.textContent).toContain('原Ⅱ级（重大）响应将结束');
    expect(confirm.textContent).toContain('记入审计日志');
    expect(api.callsTo('POST /api/emergency/modes')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: '确认切换' }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/modes')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/modes')[0]!.body).toEqual({
      areaCode: '339902001',
      level: 'I',
      reason: '疫情持续扩散',
      exercise: false,
    });
  });

  it('ends a mode with a reason, and posts a unit’s report for today', async () => {
    const api = stubApi(
      routes({
        'POST /api/emergency/modes/5/end': { ...mode(5), active: false, endedAt: now },
        'POST /api/emergency/zero-reports': (c: { body: unknown }) => ({
          ...(c.body as object),
          zero: false,
          note: null,
          reportedAt: now,
          reportedBy: 'li.epi',
          replaced: false,
        }),
      }),
    );
    renderPage(<ModePage />);
    const active = await screen.findByTestId('active-modes');
    await waitFor(() => expect(active.querySelectorAll('[data-testid="end-mode"]')).toHaveLength(2));
    fireEvent.click(active.querySelectorAll('[data-testid="end-mode"]')[1]!);
    const confirm = await screen.findByTestId('end-mode-confirm');
    expect(confirm.textContent).toContain('街道 339902001：Ⅱ级（重大） → 常态（平时）');
    fireEvent.click(screen.getByRole('button', { name: '确认结束' }));
    expect(await screen.findByText('请填写结束原因')).toBeTruthy();
    expect(api.callsTo('POST /api/emergency/modes/5/end')).toHaveLength(0);
    fireEvent.change(screen.getByTestId('end-reason'), { target: { value: '疫情平稳' } });
    fireEvent.click(screen.getByRole('button', { name: '确认结束' }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/modes/5/end')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/modes/5/end')[0]!.body).toEqual({ reason: '疫情平稳' });

    fireEvent.click(await screen.findByTestId('report-for-unit'));
    const form = await screen.findByTestId('zero-report-form');
    await waitFor(() => expect(form.textContent).toContain('青石街道社区卫生服务中心'));
    fireEvent.change(within(form).getByTestId('zero-count-fever'), { target: { value: '3' } });
    const dialog = form.closest('.ant-modal') as HTMLElement;
    fireEvent.click(within(dialog).getByRole('button', { name: /提\s*交/ }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/zero-reports')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/zero-reports')[0]!.body).toEqual({
      unit: 'CHC-02',
      day: today,
      counts: { fever: 3, diarrhoea: 0, suspected: 0, cluster: 0 },
    });
    expect(await screen.findByText('已提交今日报告')).toBeTruthy();
  });

  it('shows the server’s message when a report is refused', async () => {
    stubApi(
      routes({
        'POST /api/emergency/zero-reports': {
          status: 422,
          body: {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'processing', diagnostics: "unit 'CHC-02' is not a registered unit" }],
          },
        },
      }),
    );
    renderPage(<ModePage />);
    fireEvent.click(await screen.findByTestId('new-zero-report'));
    const form = await screen.findByTestId('zero-report-form');
    const dialog = form.closest('.ant-modal') as HTMLElement;
    fireEvent.click(within(dialog).getByRole('button', { name: /提\s*交/ }));
    expect(await within(dialog).findByText('请选择单位')).toBeTruthy();
    await pick(within(form).getByRole('combobox'), '青石街道');
    fireEvent.click(within(dialog).getByRole('button', { name: /提\s*交/ }));
    const error = await within(dialog).findByTestId('zero-report-error');
    expect(error.textContent).toContain("无法处理：unit 'CHC-02' is not a registered unit");
  });
});

describe('演练', () => {
  const drill = (over: Partial<DrillView> = {}): DrillView => ({
    id: 3,
    name: '霍乱疫情桌面推演',
    exercise: true,
    status: 'done',
    plannedFor: null,
    startedAt: '2026-03-02T02:00:00.000Z',
    endedAt: '2026-03-02T02:02:10.000Z',
    createdAt: '2026-03-01T02:00:00.000Z',
    createdBy: 'admin',
    scenario: {},
    report: null,
    ...over,
  });

  it('lists drills with the total, creates one and starts a planned one after a confirm', async () => {
    const { scenario: _s, report: _r, ...row } = drill();
    const api = stubApi({
      '/api/emergency/drills': {
        items: [{ ...row, id: 4, name: '检测队拉动演练', status: 'planned', startedAt: null }, row],
        total: 12,
        limit: 20,
        offset: 0,
      },
      '/api/emergency/teams': { items: [team(1)], total: 1, limit: 200, offset: 0 },
      'POST /api/emergency/drills': { status: 201, body: drill({ id: 9, status: 'planned' }) },
      'POST /api/emergency/drills/4/run': drill({ id: 4 }),
    });
    renderPage(<DrillsPage />);
    const table = await screen.findByTestId('drills-table');
    await waitFor(() => expect(table.textContent).toContain('检测队拉动演练'));
    expect([...table.querySelectorAll('[data-testid="drill-status"]')].map((s) => s.textContent)).toEqual(['计划中', '已完成']);
    expect(document.body.textContent).toContain('共 12 次演练');
    expect(table.textContent).not.toMatch(RAW);

    fireEvent.click(screen.getByTestId('new-drill'));
    const form = await screen.findByTestId('new-drill-form');
    const dialog = form.closest('.ant-modal') as HTMLElement;
    fireEvent.click(within(dialog).getByRole('button', { name: /新\s*建/ }));
    expect(await within(dialog).findByText('请填写演练名称')).toBeTruthy();
    fireEvent.change(within(dialog).getByTestId('drill-name'), { target: { value: '流调队夜间拉动' } });
    await pick(within(dialog).getByRole('combobox'), '第1流调队');
    fireEvent.click(within(dialog).getByRole('button', { name: /新\s*建/ }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/drills')).toHaveLength(1));
    expect(api.callsTo('POST /api/emergency/drills')[0]!.body).toEqual({ name: '流调队夜间拉动', teamIds: [1] });

    fireEvent.click(screen.getByTestId('run-drill'));
    await waitFor(() => expect(document.querySelector('.ant-modal-confirm')?.textContent).toContain('开始演练“检测队拉动演练”？'));
    const confirm = document.querySelector('.ant-modal-confirm') as HTMLElement;
    fireEvent.click(within(confirm).getByRole('button', { name: '开始演练' }));
    await waitFor(() => expect(api.callsTo('POST /api/emergency/drills/4/run')).toHaveLength(1));
    await waitFor(() => expect(window.location.hash).toBe('#/emergency/drills/4'));
  });

  it('shows the after-action report: steps timed against targets, late in red, skipped with the reason', async () => {
    const step = (s: string, over: Record<string, unknown> = {}) => ({
      step: s,
      status: 'done',
      startedAt: '2026-03-02T02:00:00.000Z',
      endedAt: '2026-03-02T02:00:02.500Z',
      durationMs: 2500,
      targetMs: 60_000,
      late: false,
      refs: [],
      detail: 'ok',
      ...over,
    });
    const skipped = (s: string, module: string) =>
      step(s, {
        status: 'skipped',
        startedAt: null,
        endedAt: null,
        durationMs: null,
        targetMs: 7_200_000,
        detail: `not driven: src/${module}/index.ts exports no function that opens an investigation (it is reachable only through POST /api/...)`,
      });
    stubApi({
      '/api/emergency/drills/3': drill({
        report: {
          drillId: 3,
          exercise: true,
          startedAt: '2026-03-02T02:00:00.000Z',
          endedAt: '2026-03-02T02:02:10.000Z',
          totalMs: 130_000,
          steps: [
            step('alert'),
            step('mobilise', {
              startedAt: '2026-03-02T02:00:02.500Z',
              endedAt: '2026-03-02T02:02:10.000Z',
              durationMs: 127_500,
              late: true,
            }),
            skipped('investigation', 'investigation'),
            skipped('specimen', 'lab'),
            skipped('result', 'lab'),
          ] as never,
          late: ['mobilise'],
          skipped: ['investigation', 'specimen', 'result'],
          failed: [],
          summary: 'drill 3: 2 of 5 steps done',
        },
      }),
    });
    renderPage(<DrillReportPage id={3} />);
    const steps = await screen.findByTestId('steps-table');
    const rows = [...steps.querySelectorAll('tbody tr.ant-table-row')];
    expect(rows).toHaveLength(5);
    expect(rows[0]!.textContent).toContain('预警生成');
    expect(rows[0]!.textContent).toContain('10:00:00');
    expect(rows[0]!.textContent).toContain('2.5 秒');
    expect(rows[0]!.textContent).toContain('1 分 0 秒');
    expect(rows[1]!.textContent).toContain('队伍调动');
    expect(rows[1]!.textContent).toContain('超时');
    const late = rows[1]!.querySelector('[data-testid="step-duration"]') as HTMLElement;
    expect(late.textContent).toBe('2 分 8 秒');
    expect(late.style.color).toMatch(/cf1322|207, 19, 34/);
    expect(rows[1]!.textContent).toContain('超出目标');
    expect(rows[2]!.textContent).toContain('跳过');
    expect(rows[2]!.textContent).toContain('未执行：流行病学调查模块尚未提供可供演练调用的功能');
    expect(rows[3]!.textContent).toContain('检验（采送检报）模块');
    const summary = screen.getByTestId('drill-summary');
    expect(summary.textContent).toContain('共 5 个步骤：完成 2，超时 1，跳过 3，失败 0；总用时 2 分 10 秒。');
    expect(summary.textContent).toContain('超时步骤：队伍调动');
    expect(document.querySelector('[data-testid="drill-report"]')!.textContent).not.toMatch(/not driven|src\//);
  });
});
