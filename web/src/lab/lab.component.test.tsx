import { readdirSync, readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setSession } from '../api/session.js';
import { mayOpen, navItems } from '../shell/navigation.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { LabDashboardPage } from './dashboard.component.js';
import { enLab } from './en-lab.js';
import type { Dashboard, OutboxView, SpecimenDetail, SpecimenView } from './lab.resource.js';
import { MassTestingPage } from './mass.component.js';
import { OutboxPage } from './outbox.component.js';
import { ScanPage } from './scan.component.js';
import { SpecimenDetailPage } from './specimen.component.js';

const now = Date.now();
const iso = (minFromNow: number) => new Date(now + minFromNow * 60_000).toISOString();

const specimen = (over: Partial<SpecimenView> = {}): SpecimenView => ({
  id: 'sp-1',
  barcode: 'B0001',
  orderId: 'ord-1',
  taskId: 'task-1',
  testCode: 'SARS2',
  mode: 'emergency',
  patientId: 'p1',
  state: 'testing',
  stateZh: '检测中',
  hop: 0,
  collectingUnit: 'CHC-02',
  holder: 'LAB-01',
  lab: 'LAB-01',
  shipmentId: 3,
  specimenType: '咽拭子',
  container: null,
  collector: '王护士',
  collectedAt: iso(-180),
  receivedAt: iso(-60),
  resultAt: null,
  verifiedAt: null,
  reportedAt: null,
  condition: '完好',
  rejectedReason: null,
  result: null,
  leg: 'receipt-result',
  legUnit: 'LAB-01',
  legStartedAt: iso(-60),
  legDeadline: iso(300),
  overdue: false,
  ...over,
});

const event = (seq: number, step: string, fromState: string | null, toState: string, over: Record<string, unknown> = {}) => ({
  id: seq,
  seq,
  step,
  fromState,
  toState,
  at: iso(-200 + seq * 20),
  recordedAt: iso(-200 + seq * 20),
  byUser: 'li.lab',
  performer: null,
  unit: 'LAB-01',
  location: null,
  shipmentId: null,
  detail: {},
  prevHash: '',
  hash: `h${seq}`,
  ...over,
});

const detail = (s: SpecimenView): SpecimenDetail => ({
  ...s,
  order: {
    orderId: 'ord-1',
    serviceRequestId: 'ord-1',
    testCode: 'SARS2',
    testName: '新型冠状病毒核酸',
    limitsGroup: 'nucleic-acid',
    mode: 'emergency',
    patientId: 'p1',
    orderingUnit: 'HOSP-01',
    investigationId: null,
    source: 'api',
    createdAt: iso(-200),
  },
  events: [],
  custody: { ok: true, broken: null },
  breaches: [],
  flags: [],
});

/** The Chinese text of a screen must not show codes of states, legs, steps or statuses. */
const RAW =
  /\b(collected|in-transit|received|rejected|testing|resulted|verified|reported|collection-receipt|receipt-result|result-report|parked|delivered|positive|negative)\b/;

beforeEach(() => setSession({ token: 'tok-lab', user: { username: 'li.lab', displayName: '李检验', roles: ['epidemiologist'] } }));
afterEach(() => {
  setSession(null);
  localStorage.clear();
});

describe('words of the lab screens', () => {
  it('has an English text for every key it uses, and no Chinese in the English table', () => {
    const dir = 'web/src/lab';
    const keys = new Set<string>();
    for (const f of readdirSync(dir).filter((f) => /\.tsx?$/.test(f) && !/test|^en-/.test(f)))
      for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/\bt\(\s*'([\w.]+)',/g)) keys.add(m[1]!);
    expect(keys.size).toBeGreaterThan(200);
    expect([...keys].filter((k) => !enLab[k])).toEqual([]);
    expect(Object.entries(enLab).filter(([, v]) => /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/.test(v))).toEqual([]);
    for (const k of ['nav.lab', 'nav.labScan', 'nav.labDashboard', 'nav.labSpecimens', 'nav.labOutbox', 'nav.labMass'])
      expect(keys.has(k) && enLab[k], k).toBeTruthy();
  });
  it('offers the scan page to those who may write specimens and the dashboard to those who read surveillance', () => {
    const group = navItems().find((i) => i.key === 'lab')!;
    const open = (roles: string[]) =>
      mayOpen(group, { roles }) ? group.children!.filter((c) => mayOpen(c, { roles })).map((c) => c.key) : [];
    expect(open(['epidemiologist'])).toEqual(['/lab/scan', '/lab/dashboard', '/lab/specimens', '/lab/outbox', '/lab/mass']);
    expect(open(['public-health'])).toEqual(['/lab/dashboard', '/lab/specimens', '/lab/outbox', '/lab/mass']);
    expect(open(['integration'])).toEqual(['/lab/scan', '/lab/specimens']);
    expect(open(['viewer'])).toEqual([]);
  });
});

describe('扫码', () => {
  const scanBarcode = async (code: string) => {
    const field = screen.getByLabelText('条码');
    fireEvent.change(field, { target: { value: code } });
    fireEvent.keyDown(field, { key: 'Enter', code: 'Enter', keyCode: 13 });
  };

  it('scans a barcode, shows its state and next steps, and records a result', async () => {
    const testing = specimen();
    const api = stubApi({
      '/api/lab/specimens/B0001': detail(testing),
      'POST /api/lab/scan': (call: { body: unknown }) => ({
        specimen: { ...testing, state: 'resulted', stateZh: '已出结果', result: { value: 'Ct 24', interpretation: 'positive' } },
        event: event(5, 'result', 'testing', 'resulted', { detail: call.body }),
        warnings: [],
      }),
    });
    renderPage(<ScanPage />);
    fireEvent.change(screen.getByTestId('scan-unit').querySelector('input') ?? screen.getByTestId('scan-unit'), {
      target: { value: 'LAB-01' },
    });
    await scanBarcode('B0001');
    const card = await screen.findByTestId('specimen-card');
    expect(within(card).getByTestId('specimen-state').textContent).toBe('检测中');
    expect(card.textContent).toContain('接收→结果');
    expect(card.textContent).toMatch(/剩余 [45] 小时/);
    const next = screen.getByTestId('next-steps');
    expect([...next.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['录入结果', '转送上级实验室']);
    expect(next.textContent).not.toMatch(RAW);

    fireEvent.click(screen.getByTestId('step-result'));
    fireEvent.change(await screen.findByTestId('f-value'), { target: { value: 'Ct 24' } });
    fireEvent.click(screen.getByTestId('submit-step'));
    const done = await screen.findByTestId('scan-done');
    expect(done.textContent).toContain('录入结果 已记录');
    expect(done.textContent).toContain('已出结果');
    expect(api.callsTo('POST /api/lab/scan')[0]!.body).toEqual({ step: 'result', barcode: 'B0001', unit: 'LAB-01', value: 'Ct 24' });
    expect(screen.getByTestId('specimen-state').textContent).toBe('已出结果');
    expect([...screen.getByTestId('next-steps').querySelectorAll('button')].map((b) => b.textContent)).toEqual(['审核结果']);
    expect(localStorage.getItem('yf.lab.unit')).toBe('LAB-01');
    expect(api.unmatched).toEqual([]);
  });

  it('asks for the reason of a rejection on the form, then shows the server’s refusal in words', async () => {
    localStorage.setItem('yf.lab.unit', 'LAB-01');
    const api = stubApi({
      '/api/lab/specimens/B0002': detail(specimen({ barcode: 'B0002', state: 'in-transit', stateZh: '转运中', leg: 'collection-receipt' })),
      'POST /api/lab/scan': {
        status: 409,
        body: {
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'conflict',
              diagnostics:
                'specimen B0002 was already received at LAB-01 on 2026-03-01T02:00:00.000Z and has not been shipped since: received twice (flagged)',
            },
          ],
        },
      },
    });
    renderPage(<ScanPage />);
    await scanBarcode('B0002');
    expect((await screen.findByTestId('specimen-state')).textContent).toBe('转运中');
    fireEvent.click(screen.getByTestId('step-receive'));
    fireEvent.click(within(await screen.findByTestId('f-accepted')).getByText('拒收'));
    fireEvent.click(await screen.findByTestId('submit-step'));
    expect(await screen.findByText('拒收必须填写原因')).toBeTruthy();
    expect(api.callsTo('POST /api/lab/scan')).toHaveLength(0);

    fireEvent.change(screen.getByTestId('f-reason'), { target: { value: '样本渗漏' } });
    fireEvent.click(screen.getByTestId('submit-step'));
    const refusal = await screen.findByTestId('scan-error');
    expect(refusal.textContent).toContain('当前状态不允许这一步：该标本已接收过，不能重复接收（已记录异常）');
    expect(refusal.textContent).toContain('received twice');
    expect(api.callsTo('POST /api/lab/scan')[0]!.body).toEqual({
      step: 'receive',
      barcode: 'B0002',
      unit: 'LAB-01',
      accepted: false,
      rejectReason: '样本渗漏',
    });
  });

  it('offers collection for a barcode never collected', async () => {
    stubApi({ '/api/lab/specimens/NEW-1': { status: 404, body: { error: "unknown barcode 'NEW-1'" } } });
    renderPage(<ScanPage />);
    await scanBarcode('NEW-1');
    expect((await screen.findByTestId('not-found')).textContent).toContain('NEW-1 还没有采过样');
    expect([...screen.getByTestId('next-steps').querySelectorAll('button')].map((b) => b.textContent!.replace(/\s/g, ''))).toEqual([
      '采样',
    ]);
  });
});

describe('标本详情', () => {
  it('shows the timeline of scans with who, when and where, and the custody chain intact', async () => {
    const s = detail(specimen({ state: 'received', stateZh: '已接收' }));
    s.events = [
      event(1, 'collect', null, 'collected', {
        unit: 'CHC-02',
        performer: '王护士',
        location: '发热门诊',
        detail: { specimenType: '咽拭子' },
      }),
      event(2, 'ship', 'collected', 'in-transit', {
        unit: 'CHC-02',
        shipmentId: 3,
        detail: { courier: '顺丰', sealNumber: 'S-9', toLab: 'LAB-01' },
      }),
      event(3, 'receive', 'in-transit', 'received', { shipmentId: 3, detail: { accepted: true, condition: '完好' } }),
    ] as never;
    stubApi({ '/api/lab/specimens/B0001': s });
    renderPage(<SpecimenDetailPage barcode="B0001" />);
    const items = await screen.findAllByTestId('timeline-item');
    expect(items.map((i) => i.querySelector('strong')!.textContent)).toEqual(['采样', '送出（装箱转运）', '接收']);
    expect(items[0]!.textContent).toContain('王护士（li.lab 登记），CHC-02 · 发热门诊');
    expect(items[1]!.textContent).toContain('封条 S-9');
    expect(screen.getByTestId('custody-state').textContent).toContain('完整：3 次交接');
    expect(document.body.textContent).not.toMatch(RAW);
  });
});

describe('在途看板', () => {
  it('shows specimens in flight and breaches by leg and unit, the open breaches’ clocks, turnaround and rejection rates', async () => {
    const d: Dashboard = {
      now: iso(0),
      from: iso(-30 * 1440),
      to: iso(0),
      inFlight: {
        total: 12,
        overdue: 2,
        byLegAndUnit: [
          { leg: 'collection-receipt', legZh: '采样→接收', unit: 'CHC-02', count: 7, overdue: 2 },
          { leg: 'receipt-result', legZh: '接收→结果', unit: 'LAB-01', count: 5, overdue: 0 },
        ],
      },
      breaches: {
        total: 4,
        open: 2,
        byLegAndUnit: [{ leg: 'collection-receipt', legZh: '采样→接收', unit: 'CHC-02', open: 2, total: 4 }],
      },
      turnaround: [
        {
          testCode: 'SARS2',
          lab: 'LAB-01',
          verified: 40,
          receiptToResultHours: { median: 3.5, p90: 5.9 },
          collectionToReportHours: { median: 8, p90: null },
        },
      ],
      rejections: [{ testCode: 'SARS2', unit: 'CHC-02', received: 50, rejected: 3, rate: 0.06 }],
    };
    const api = stubApi({
      '/api/lab/dashboard': d,
      '/api/lab/breaches': {
        items: [
          {
            id: 9,
            specimenId: 'sp-9',
            barcode: 'B0009',
            patientId: 'p9',
            leg: 'collection-receipt',
            legZh: '采样→接收',
            hop: 0,
            unit: 'CHC-02',
            testCode: 'SARS2',
            mode: 'emergency',
            startedAt: iso(-300),
            deadline: iso(-90),
            detectedAt: iso(-89),
            closedAt: null,
          },
        ],
        total: 2,
        limit: 10,
        offset: 0,
      },
      '/api/lab/specimens': (call: { path: string }) =>
        call.path.includes('inFlight=true')
          ? { items: [specimen()], total: 12, limit: 10, offset: 0 }
          : { items: [], total: call.path.includes('state=collected') ? 7 : 1, limit: 1, offset: 0 },
    });
    renderPage(<LabDashboardPage />);
    const flight = await screen.findByTestId('in-flight-table');
    await waitFor(() => expect(flight.querySelectorAll('tbody tr.ant-table-row')).toHaveLength(2));
    expect(flight.textContent).toContain('采样→接收');
    const cardOf = (id: string) => screen.getByTestId(id).closest('.ant-card')!.textContent;
    expect(cardOf('in-flight-table')).toContain('共 2 项');
    expect(cardOf('breach-table')).toContain('共 1 项');
    const open = screen.getByTestId('open-breaches');
    await waitFor(() => expect(open.textContent).toContain('B0009'));
    expect(within(open).getByTestId('breach-clock').textContent).toBe('超时 1 小时 30 分');
    expect(cardOf('open-breaches')).toContain('共 2 个超时');
    await waitFor(() => expect(cardOf('in-flight-list')).toContain('在途标本共 12 份'));
    expect(screen.getByTestId('turnaround-table').textContent).toContain('3.5 小时');
    expect(screen.getByTestId('rejection-table').textContent).toContain('6%');
    expect(screen.getByTestId('lab-figures').textContent).toContain('12');
    await waitFor(() => expect(screen.getByTestId('state-counts').textContent).toContain('已采样7'));
    expect(document.body.textContent).not.toMatch(RAW);
    expect(api.callsTo('GET /api/lab/breaches')[0]!.path).toContain('open=true');
  });
});

describe('结果回传', () => {
  const parked: OutboxView = {
    id: 7,
    controlId: 'YFL7',
    specimenId: 'sp-7',
    barcode: 'B0007',
    facility: 'HOSP-01',
    patientId: 'p7',
    status: 'parked',
    attempts: 3,
    nextAttemptAt: null,
    lastError: 'AE: patient unknown',
    parkedReason: 'the receiver answered AE 3 times: patient unknown',
    ackCode: 'AE',
    ackText: 'patient unknown',
    createdAt: iso(-30),
    verifiedAt: iso(-30),
    deliveredAt: null,
    resentCount: 0,
  };

  it('lists parked messages with the receiver’s error and sends one again', async () => {
    let resent = false;
    const api = stubApi({
      '/api/lab/outbox': () => ({ items: resent ? [] : [parked], total: resent ? 0 : 1, limit: 20, offset: 0 }),
      'POST /api/lab/outbox/7/resend': () => {
        resent = true;
        return { ...parked, status: 'pending', resentCount: 1 };
      },
    });
    renderPage(<OutboxPage />);
    const table = await screen.findByTestId('outbox-table');
    await waitFor(() => expect(table.textContent).toContain('B0007'));
    expect(within(table).getByTestId('outbox-status').textContent).toBe('已搁置（需处理）');
    expect(within(table).getByTestId('outbox-error').textContent).toContain('patient unknown');
    expect(document.body.textContent).toContain('共 1 条');
    expect(api.calls[0]!.path).toContain('status=parked');
    fireEvent.click(within(table).getByTestId('resend'));
    await waitFor(() => expect(api.callsTo('POST /api/lab/outbox/7/resend')).toHaveLength(1));
    await waitFor(() => expect(api.callsTo('GET /api/lab/outbox')).toHaveLength(2));
    await waitFor(() => expect(table.textContent).not.toContain('B0007'));
    expect(document.body.textContent).toContain('已重新排队发送：B0007 → HOSP-01');
  });

  it('shows in words why a resend is refused', async () => {
    stubApi({
      '/api/lab/outbox': { items: [parked], total: 1, limit: 20, offset: 0 },
      'POST /api/lab/outbox/7/resend': { status: 409, body: { error: 'message 7 is delivered; a delivered message is never sent twice' } },
    });
    renderPage(<OutboxPage />);
    fireEvent.click(await screen.findByTestId('resend'));
    expect((await screen.findByTestId('outbox-refusal')).textContent).toContain('该消息不是搁置状态，不能重发');
  });
});

describe('大规模检测', () => {
  it('shows the first campaign’s progress by area, paged with the total', async () => {
    const p = (over: Record<string, number> = {}) => ({
      registered: 100,
      sampled: 80,
      tested: 60,
      negative: 50,
      positivePools: 1,
      retestOrdered: 10,
      retested: 4,
      retestPositive: 1,
      ...over,
    });
    const campaign = {
      id: 4,
      name: '青石街道全员核酸',
      testCode: 'SARS2',
      mode: 'emergency' as const,
      orderingUnit: 'CDC-01',
      orderId: 'o4',
      poolSize: 10,
      createdAt: iso(-600),
      createdBy: 'li.lab',
    };
    const api = stubApi({
      '/api/lab/mass/campaigns': { items: [campaign] },
      '/api/lab/mass/campaigns/4/progress': {
        campaign,
        total: p({ registered: 200, sampled: 150 }),
        byArea: [
          { areaCode: '339902001001', ...p() },
          { areaCode: '339902001002', ...p({ sampled: 70 }) },
        ],
      },
    });
    renderPage(<MassTestingPage />);
    const areas = await screen.findByTestId('mass-areas');
    expect(areas.querySelectorAll('tbody tr.ant-table-row')).toHaveLength(2);
    expect(document.body.textContent).toContain('共 2 个区划');
    expect(screen.getByTestId('mass-totals').textContent).toContain('(75%)');
    expect(document.body.textContent).toContain('青石街道全员核酸（应急，10 混 1');
    expect(api.unmatched).toEqual([]);
  });
});
