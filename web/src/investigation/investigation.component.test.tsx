import { configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { todayInChina } from '../../../src/shared/dates.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { enInvestigation } from '../i18n/en-investigation.js';
import { layoutChain } from '../../../src/shared/chain-layout.js';
import { OrdersTab } from './chain.component.js';
import { FollowUpWorklistPage } from './follow-ups.component.js';
import { InvestigationDetailPage } from './investigation-detail.component.js';
import { InvestigationListPage } from './investigation-list.component.js';
import { forgetNames, type Candidate, type Contact, type Form, type Investigation } from './investigation.resource.js';
import { chinaTime, timeLeft } from './labels.js';

// The machine these run on is shared and often loaded: the page's requests may take longer than the default second.
configure({ asyncUtilTimeout: 5000 });
const today = todayInChina();
const hour = 3_600_000;

const inv = (id: number, over: Partial<Investigation> = {}): Investigation => ({
  id,
  patientId: `pat-${id}`,
  diseaseKey: 'measles',
  diseaseName: '麻疹',
  diseaseClass: 'B',
  source: 'manual',
  sourceRef: null,
  status: 'open',
  classification: 'suspected',
  assignee: 'zhang.epi',
  organization: 'org-cdc',
  onsetDate: '2026-03-01',
  openedBy: 'admin',
  openedAt: new Date(Date.now() - 2 * hour).toISOString(),
  deadlineAt: new Date(Date.now() + 22 * hour).toISOString(),
  overdue: false,
  closedBy: null,
  closedAt: null,
  closeNote: null,
  note: null,
  responseId: null,
  questionnaireId: 'inv-measles',
  fromContactId: null,
  candidatesAt: new Date().toISOString(),
  openedAutomatically: false,
  autoRule: null,
  version: 3,
  updatedAt: new Date().toISOString(),
  ...over,
});

const patients = (names: Record<string, string>) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: Object.entries(names).map(([id, text]) => ({ resource: { resourceType: 'Patient', id, name: [{ text }] } })),
});
const NAMES = patients({ 'pat-1': '王小明', 'pat-2': '李芳', 'pat-3': '赵一一', 'pat-4': '钱二二' });
const ORGS = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    { resource: { resourceType: 'Organization', id: 'org-chc', name: '青石街道社区卫生服务中心' } },
    { resource: { resourceType: 'Organization', id: 'org-hosp', name: '市儿童医院' } },
  ],
};

const form: Form = {
  investigationId: 1,
  patientId: 'pat-1',
  version: 3,
  questionnaire: {
    resourceType: 'Questionnaire',
    id: 'inv-measles',
    title: '麻疹个案流行病学调查表',
    item: [
      {
        linkId: 'demographics',
        type: 'group',
        text: '基本情况',
        item: [
          { linkId: 'name', type: 'string', text: '姓名', required: true },
          {
            linkId: 'sex',
            type: 'choice',
            text: '性别',
            answerOption: [{ valueCoding: { code: 'male', display: '男' } }, { valueCoding: { code: 'female', display: '女' } }],
          },
          { linkId: 'age', type: 'integer', text: '年龄（岁）' },
        ],
      },
      { linkId: 'symptom-rash', type: 'boolean', text: '出疹' },
      { linkId: 'investigator-notes', type: 'text', text: '调查结论与处置' },
    ],
  },
  response: null,
  answers: { name: '王小明', sex: 'male', age: 6 },
  prefilled: ['name', 'sex', 'age'],
};

const candidate = (id: number, patientId: string, kind: Candidate['kind'], place: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  investigationId: 1,
  patientId,
  kind,
  placeKey: `k-${id}`,
  place,
  windowStart: '2026-02-26T02:00:00.000Z',
  windowEnd: '2026-03-02T04:00:00.000Z',
  status: 'proposed',
  decidedBy: null,
  decidedAt: null,
  reason: null,
  contactId: null,
  ...over,
});

const contact = (id: number, patientId: string, over: Partial<Contact> = {}): Contact => ({
  id,
  investigationId: 1,
  patientId,
  organization: 'org-chc',
  followUpStart: today,
  followUpEnd: '2099-01-01',
  status: 'monitoring',
  caseInvestigationId: null,
  confirmedBy: 'admin',
  confirmedAt: new Date().toISOString(),
  exposures: [
    {
      id: 1,
      type: '共同居住 household',
      place: '荷花路8号',
      firstDate: '2026-02-26',
      lastDate: today,
      candidateId: 11,
      recordedBy: 'admin',
      recordedAt: new Date().toISOString(),
    },
  ],
  ...over,
});

const detailRoutes = (over: Record<string, unknown> = {}) => ({
  '/api/investigations/1': inv(1),
  '/api/investigations/1/form': form,
  '/api/investigations/1/trajectory': {
    investigationId: 1,
    patientId: 'pat-1',
    from: '2026-02-08T16:00:00.000Z',
    to: new Date().toISOString(),
    items: [
      {
        patientId: 'pat-1',
        encounterId: 'enc-1',
        facility: 'org-hosp',
        facilityName: null,
        kind: 'ward',
        place: '儿科三病区',
        start: '2026-02-28T02:00:00.000Z',
        end: null,
        placeIndex: null,
      },
    ],
    places: [],
    withoutPosition: [],
  },
  '/api/investigations/escalations': { items: [], total: 0, limit: 10, offset: 0 },
  '/api/surveillance/geography': { type: 'FeatureCollection', features: [] },
  '/api/investigations/1/candidates': {
    investigationId: 1,
    patientId: 'pat-1',
    computedAt: new Date().toISOString(),
    items: [candidate(11, 'pat-2', 'household', '荷花路8号2幢301室'), candidate(12, 'pat-3', 'ward', '儿科三病区')],
  },
  '/api/investigations/1/contacts': { investigationId: 1, patientId: 'pat-1', items: [], outOfDistrict: [] },
  '/fhir/Patient': NAMES,
  '/fhir/Organization': ORGS,
  '/api/investigations/follow-ups': { organization: 'org-chc', team: null, date: today, total: 0, limit: 20, offset: 0, items: [] },
  ...over,
});

beforeEach(() => forgetNames());
afterEach(() => forgetNames());

describe('words of the investigation screens', () => {
  it('says the time left or how long overdue, and shows instants in China time', () => {
    const now = Date.parse('2026-03-02T00:00:00Z');
    expect(timeLeft('2026-03-02T05:30:00Z', false, now).text).toBe('剩余 5 小时 30 分钟');
    expect(timeLeft('2026-03-01T22:00:00Z', false, now)).toEqual({ text: '已超时 2 小时', overdue: true });
    expect(timeLeft('2026-03-05T00:00:00Z', false, now).text).toBe('剩余 3 天');
    expect(chinaTime('2026-03-01T17:30:00Z')).toBe('2026-03-02 01:30');
  });
  it('has an English text for every key it uses', () => {
    expect(enInvestigation['inv.conflict']).toMatch(/refresh/);
    expect(Object.values(enInvestigation).filter((v) => /[\u4e00-\u9fff]/.test(v))).toEqual([]);
  });
});

describe('InvestigationListPage', () => {
  it('lists investigations in words with the total, overdue first and marked red, stating EPIINV', async () => {
    const api = stubApi({
      '/api/investigations': {
        items: [
          inv(2, {
            diseaseKey: 'cholera',
            diseaseName: '霍乱',
            diseaseClass: 'A',
            overdue: true,
            deadlineAt: new Date(Date.now() - 3 * hour).toISOString(),
          }),
          inv(1, { status: 'in-progress' }),
        ],
        total: 42,
        limit: 20,
        offset: 0,
      },
      '/fhir/Patient': NAMES,
    });
    renderPage(<InvestigationListPage />);
    await screen.findByText('李芳');
    const rows = document.querySelectorAll('.ant-table-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('霍乱');
    expect(rows[0]!.textContent).toContain('甲类');
    expect(rows[0]!.textContent).toContain('待调查');
    expect(rows[0]!.textContent).toMatch(/已超时 3 小时/);
    expect(rows[0]!.querySelector('[data-testid="deadline"]')!.getAttribute('data-overdue')).toBe('true');
    expect(rows[1]!.textContent).toContain('王小明');
    expect(rows[1]!.textContent).toContain('调查中');
    expect(rows[1]!.textContent).toContain('zhang.epi');
    expect(rows[1]!.textContent).toMatch(/剩余 2[12] 小时/);
    expect(screen.getByText('共 42 项调查')).toBeTruthy();
    // Words, not codes.
    expect(document.body.textContent).not.toMatch(/pat-|org-|in-progress|measles/);
    const list = api.callsTo('GET /api/investigations')[0]!;
    expect(list.path).toContain('limit=20');
    expect(api.unmatched).toEqual([]);
  });

  it('opens an investigation by hand for a resident and a disease', async () => {
    const api = stubApi({
      '/api/investigations': { items: [], total: 0, limit: 20, offset: 0 },
      'POST /api/investigations': { status: 201, body: inv(9) },
      '/api/residents/search': { total: 0, rows: [] },
    });
    renderPage(<InvestigationListPage />);
    fireEvent.click(await screen.findByTestId('new-investigation'));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByPlaceholderText('输入姓名、拼音首字母、身份证号或电话'), { target: { value: 'pat-7' } });
    fireEvent.mouseDown(within(dialog).getAllByRole('combobox')[1]!);
    await waitFor(() => expect(document.querySelectorAll('.ant-select-item-option').length).toBeGreaterThan(0));
    fireEvent.click([...document.querySelectorAll('.ant-select-item-option')].find((o) => o.textContent?.startsWith('麻疹'))!);
    fireEvent.click(within(dialog).getByRole('button', { name: /新\s*建/ }));
    await waitFor(() => expect(api.callsTo('POST /api/investigations')).toHaveLength(1));
    expect(api.callsTo('POST /api/investigations')[0]!.body).toEqual({ patientId: 'pat-7', diseaseCode: 'measles' });
    await waitFor(() => expect(window.location.hash).toBe('#/investigation/9'));
  });
});

describe('InvestigationDetailPage', () => {
  it('shows the header in words and the tabs: the prefilled form, the trajectory and the candidates', async () => {
    const api = stubApi(detailRoutes());
    renderPage(<InvestigationDetailPage id={1} />);
    const header = await screen.findByTestId('investigation-header');
    await waitFor(() => expect(header.textContent).toContain('王小明'));
    expect(header.textContent).toContain('麻疹');
    expect(header.textContent).toContain('乙类');
    expect(header.textContent).toContain('待调查');
    expect(header.textContent).toMatch(/剩余 2[12] 小时/);
    expect(header.textContent).toContain('zhang.epi');
    expect(header.textContent).not.toMatch(/pat-1/);
    // The form: items from the Questionnaire, prefilled from the record.
    expect(await screen.findByText('麻疹个案流行病学调查表')).toBeTruthy();
    expect((screen.getByRole('textbox', { name: /姓名/ }) as HTMLInputElement).value).toBe('王小明');
    expect(screen.getAllByText('来自档案')).toHaveLength(3);
    // Trajectory: the facility and the ward in words, admission in China time.
    fireEvent.click(screen.getByRole('tab', { name: '行动轨迹' }));
    const stop = await screen.findByTestId('trajectory-stop');
    await waitFor(() => expect(stop.textContent).toContain('市儿童医院'));
    expect(stop.textContent).toContain('病区');
    expect(stop.textContent).toContain('儿科三病区');
    expect(stop.textContent).toContain('入院 2026-02-28 10:00');
    expect(stop.textContent).toContain('仍在院');
    // Candidates: kind in words, place, exposure window.
    fireEvent.click(screen.getByRole('tab', { name: '密接候选' }));
    await waitFor(() => expect(screen.getAllByTestId('candidate-name').map((n) => n.textContent)).toEqual(['李芳', '赵一一']));
    const table = screen.getByTestId('candidates-table');
    expect(table.textContent).toContain('同住');
    expect(table.textContent).toContain('同病区');
    expect(table.textContent).toContain('2026-02-26 10:00 — 2026-03-02 12:00');
    expect(api.calls.filter((c) => c.path.startsWith('/api/')).length).toBeGreaterThan(0);
    expect(api.unmatched).toEqual([]);
  });

  it('says when the investigation was opened automatically by the rules, and by which', async () => {
    stubApi(
      detailRoutes({
        '/api/investigations/1': inv(1, { source: 'report-card', openedAutomatically: true, autoRule: '病种 麻疹', assignee: null }),
      }),
    );
    renderPage(<InvestigationDetailPage id={1} />);
    const tag = await screen.findByTestId('opened-automatically');
    expect(tag.textContent).toBe('自动开启（病种 麻疹）');
    expect(screen.getByTestId('investigation-header').textContent).toContain('传染病报告卡');
    expect(screen.getByTestId('investigation-header').textContent).toContain('未分派');
  });

  it('sends EPIINV as the purpose of use on investigation requests', async () => {
    const seen: string[] = [];
    const api = stubApi(detailRoutes());
    const original = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init: RequestInit = {}) => {
      const path = typeof input === 'string' ? input : String(input);
      if (!path.startsWith('/fhir/Organization')) seen.push((init.headers as Record<string, string>)['X-Purpose-Of-Use'] ?? '');
      return original(input, init);
    }) as typeof fetch;
    renderPage(<InvestigationDetailPage id={1} />);
    await screen.findByTestId('investigation-header');
    await waitFor(() => expect(api.callsTo('GET /api/investigations/1')).toHaveLength(1));
    await waitFor(() => expect(api.callsTo('GET /fhir/Patient')).toHaveLength(1));
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['EPIINV']));
  });

  it('confirms a candidate, and the contact appears with its window, last check and overdue days', async () => {
    let confirmed = false;
    const api = stubApi(
      detailRoutes({
        '/api/investigations/1/candidates': () => ({
          investigationId: 1,
          patientId: 'pat-1',
          computedAt: new Date().toISOString(),
          items: [candidate(11, 'pat-2', 'household', '荷花路8号2幢301室', confirmed ? { status: 'confirmed', contactId: 5 } : {})],
        }),
        'POST /api/investigations/1/candidates/11/confirm': () => {
          confirmed = true;
          return { status: 201, body: contact(5, 'pat-2') };
        },
        '/api/investigations/1/contacts': () => ({
          investigationId: 1,
          patientId: 'pat-1',
          items: confirmed ? [contact(5, 'pat-2', { followUpStart: '2026-01-01' })] : [],
          outOfDistrict: [],
        }),
        '/api/investigations/follow-ups': (c: { path: string }) => ({
          organization: 'org-chc',
          date: today,
          items: c.path.includes('status=done')
            ? [
                {
                  contactId: 5,
                  patientId: 'pat-2',
                  investigationId: 1,
                  diseaseName: '麻疹',
                  day: '2026-01-02',
                  status: 'done',
                  symptoms: false,
                  followUpEnd: '2099-01-01',
                },
              ]
            : [3, 4].map((d) => ({
                contactId: 5,
                patientId: 'pat-2',
                investigationId: 1,
                diseaseName: '麻疹',
                day: `2026-01-0${d}`,
                status: 'overdue',
                symptoms: null,
                followUpEnd: '2099-01-01',
              })),
        }),
      }),
    );
    renderPage(<InvestigationDetailPage id={1} tab="candidates" />);
    fireEvent.click(await screen.findByTestId('candidate-confirm'));
    await waitFor(() => expect(api.callsTo('POST /api/investigations/1/candidates/11/confirm')).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId('candidates-table').textContent).toContain('已确认为密接'));
    fireEvent.click(screen.getByRole('tab', { name: '密切接触者' }));
    await waitFor(() => expect(screen.getByTestId('contact-name').textContent).toBe('李芳'));
    const table = screen.getByTestId('contacts-table');
    expect(table.textContent).toContain('2026-01-01 — 2099-01-01');
    expect(table.textContent).toContain('医学观察中');
    await waitFor(() => expect(table.textContent).toContain('2026-01-02'));
    expect(screen.getByTestId('contact-overdue').textContent).toBe('2 天');
    await waitFor(() => expect(table.textContent).toContain('青石街道社区卫生服务中心'));
    expect(table.textContent).not.toMatch(/org-|pat-/);
  });

  it('records a daily check for a contact', async () => {
    const api = stubApi(
      detailRoutes({
        '/api/investigations/1/contacts': { investigationId: 1, patientId: 'pat-1', items: [contact(5, 'pat-2')], outOfDistrict: [] },
        'POST /api/investigations/contacts/5/checks': (c: { body: unknown }) => ({
          status: 201,
          body: {
            contactId: 5,
            ...(c.body as object),
            temperature: 37.8,
            note: null,
            recordedBy: 'admin',
            recordedAt: new Date().toISOString(),
          },
        }),
      }),
    );
    renderPage(<InvestigationDetailPage id={1} tab="contacts" />);
    await waitFor(() => expect(screen.getByTestId('contact-name').textContent).toBe('李芳'), { timeout: 5000 });
    fireEvent.click(await screen.findByTestId('contact-check'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('记录健康监测 · 李芳');
    fireEvent.click(within(dialog).getByLabelText('有症状'));
    fireEvent.change(within(dialog).getByRole('spinbutton'), { target: { value: '37.8' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(api.callsTo('POST /api/investigations/contacts/5/checks')).toHaveLength(1));
    expect(api.callsTo('POST /api/investigations/contacts/5/checks')[0]!.body).toEqual({ day: today, symptoms: true, temperature: 37.8 });
    expect(await screen.findByText('已记录：有症状，请考虑转为疑似病例')).toBeTruthy();
  });

  it('turns a contact into a suspected case after a confirmation', async () => {
    const api = stubApi(
      detailRoutes({
        '/api/investigations/1/contacts': { investigationId: 1, patientId: 'pat-1', items: [contact(5, 'pat-2')], outOfDistrict: [] },
        'POST /api/investigations/contacts/5/suspect': { status: 201, body: inv(7, { patientId: 'pat-2', source: 'contact' }) },
      }),
    );
    renderPage(<InvestigationDetailPage id={1} tab="contacts" />);
    await waitFor(() => expect(screen.getByTestId('contact-name').textContent).toBe('李芳'), { timeout: 5000 });
    fireEvent.click(await screen.findByTestId('contact-suspect'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('确认将 李芳 转为疑似病例？');
    expect(api.callsTo('POST /api/investigations/contacts/5/suspect')).toHaveLength(0);
    fireEvent.click(within(dialog).getByRole('button', { name: '确认转为疑似病例' }));
    await waitFor(() => expect(api.callsTo('POST /api/investigations/contacts/5/suspect')).toHaveLength(1));
    expect((await screen.findAllByText('已为其新建调查，是否现在打开？')).length).toBeGreaterThan(0);
  });

  it('says someone else changed it on a 409 and reloads, for a status change and for the form', async () => {
    let version = 3;
    const api = stubApi(
      detailRoutes({
        '/api/investigations/1': () => inv(1, { version }),
        'PATCH /api/investigations/1': () => {
          version = 4;
          return {
            status: 409,
            body: {
              resourceType: 'OperationOutcome',
              issue: [{ diagnostics: 'investigation 1 was changed by someone else (version 4; you sent version 3)' }],
            },
          };
        },
        'PUT /api/investigations/1/form': {
          status: 409,
          body: {
            resourceType: 'OperationOutcome',
            issue: [{ diagnostics: 'investigation 1 was changed by someone else (version 5; you sent version 4)' }],
          },
        },
      }),
    );
    renderPage(<InvestigationDetailPage id={1} />);
    fireEvent.click(await screen.findByTestId('status-in-progress'));
    await waitFor(() => expect(api.callsTo('PATCH /api/investigations/1')).toHaveLength(1));
    expect(api.callsTo('PATCH /api/investigations/1')[0]!.body).toEqual({ version: 3, status: 'in-progress' });
    expect((await screen.findByTestId('conflict')).textContent).toContain('已被他人修改，请刷新后重试');
    await waitFor(() => expect(api.callsTo('GET /api/investigations/1')).toHaveLength(2));
    // The form keeps what was typed and is sent with the version reloaded.
    const notes = await screen.findByRole('textbox', { name: /调查结论与处置/ });
    fireEvent.change(notes, { target: { value: '家庭聚集' } });
    fireEvent.click(screen.getByTestId('form-save'));
    await waitFor(() => expect(api.callsTo('PUT /api/investigations/1/form')).toHaveLength(1));
    expect(api.callsTo('PUT /api/investigations/1/form')[0]!.body).toMatchObject({
      version: 4,
      answers: { name: '王小明', 'investigator-notes': '家庭聚集' },
    });
    expect((await screen.findByTestId('form-error')).textContent).toContain('已被他人修改，请刷新后重试');
    expect((screen.getByRole('textbox', { name: /调查结论与处置/ }) as HTMLTextAreaElement).value).toBe('家庭聚集');
  });
});

describe('transmission chain and orders', () => {
  it('lays the chain out by day within one band per cluster, nobody on top of another', () => {
    // Answer order (by day): case 1 on day 0, case 9 on day 1, contacts 1 and 2 of case 1 on day 2.
    const { x, y, rows, span } = layoutChain({ day: [0, 1, 2, 2], cluster: [0, 1, 0, 0], generation: [0, 0, 1, 1] });
    expect([x[0], y[0]]).toEqual([0, 0]);
    expect([x[2], y[2]]).toEqual([2, 0]);
    expect([x[3], y[3]]).toEqual([2, 1]);
    // The second cluster starts below the first one's two rows and a gap.
    expect([x[1], y[1]]).toEqual([1, 3]);
    expect(span).toBe(2);
    expect(rows).toBe(5);
  });

  it('asks for the missing dates before sending an order, and lists none in words', async () => {
    const api = stubApi(detailRoutes({ '/api/investigations/1/orders': { investigationId: 1, items: [] } }));
    renderPage(<OrdersTab inv={inv(1)} readOnly={false} />);
    expect(await screen.findByText('尚未签发通知书')).toBeTruthy();
    fireEvent.click(screen.getByTestId('order-new'));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('地点'), { target: { value: '市传染病医院' } });
    fireEvent.change(within(dialog).getByLabelText('事由'), { target: { value: '确诊病例' } });
    fireEvent.click(within(dialog).getByRole('button', { name: /签\s*发/ }));
    expect(await within(dialog).findAllByText('请选择日期')).toHaveLength(2);
    expect(api.callsTo('POST /api/investigations/1/orders')).toHaveLength(0);
  });
});

describe('FollowUpWorklistPage', () => {
  it("lists a centre's contacts overdue first with the total and records a check", async () => {
    const row = (contactId: number, patientId: string, day: string, status: string) => ({
      contactId,
      patientId,
      investigationId: 1,
      diseaseName: '麻疹',
      day,
      status,
      symptoms: null,
      followUpEnd: '2099-01-01',
      taskId: null,
      team: null,
      teamName: null,
      assignee: null,
      assigneeName: null,
      escalation: null,
    });
    const api = stubApi({
      '/api/investigations/follow-ups': {
        organization: 'org-chc',
        team: null,
        date: today,
        total: 2,
        limit: 20,
        offset: 0,
        items: [row(5, 'pat-2', '2026-01-01', 'overdue'), row(6, 'pat-3', today, 'due')],
      },
      '/api/investigations/escalations': { items: [], total: 0, limit: 10, offset: 0 },
      '/fhir/CareTeam': { resourceType: 'Bundle', type: 'searchset', entry: [] },
      '/fhir/Patient': NAMES,
      '/fhir/Organization': ORGS,
      'POST /api/investigations/contacts/6/checks': {
        status: 201,
        body: { contactId: 6, day: today, symptoms: false, temperature: null, note: null, recordedBy: 'fd', recordedAt: '' },
      },
    });
    renderPage(<FollowUpWorklistPage organization="org-chc" />);
    await waitFor(() => expect(screen.getAllByTestId('worklist-name').map((n) => n.textContent)).toEqual(['李芳', '赵一一']));
    expect(screen.getAllByTestId('worklist-status').map((n) => n.textContent)).toEqual(['逾期未查', '今日待查']);
    expect(screen.getByText('共 2 项')).toBeTruthy();
    expect(screen.getByTestId('worklist-summary').textContent).toContain('逾期 1 项，今日待查 1 项');
    expect(api.callsTo('GET /api/investigations/follow-ups')[0]!.path).toContain('organization=org-chc');
    fireEvent.click(screen.getAllByTestId('worklist-check')[1]!);
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(api.callsTo('POST /api/investigations/contacts/6/checks')).toHaveLength(1));
    expect(api.callsTo('POST /api/investigations/contacts/6/checks')[0]!.body).toEqual({ day: today, symptoms: false });
    await waitFor(() => expect(api.callsTo('GET /api/investigations/follow-ups')).toHaveLength(2));
  });
});
