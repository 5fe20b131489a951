import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Bundle } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { breakGlassPatientOf } from '../api/http.js';
import { breakGlassUntil, rememberBreakGlass, setSession, type SessionUser } from '../api/session.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import type { BreakGlassGrantDto } from '../../../src/app/access-routes.js';
import type { MergedRecord } from '../../../src/identity/search-schemas.js';
import { clockTime } from './break-glass.component.js';
import { ResidentListPage } from './resident-list.component.js';
import { ResidentPicker } from './resident-picker.component.js';
import { ResidentRecordPage } from './resident-record.component.js';

const doctor: SessionUser = { username: 'dr.li', displayName: '李医生', roles: ['family-doctor'], organization: 'org-a' };

const refusal = {
  status: 403,
  body: {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'forbidden',
        diagnostics:
          'no rule allows family-doctor to read Patient of resident p-b: outside your organisation and areas; open emergency access (break-glass) with a reason if you must / 超出授权范围',
      },
    ],
  },
};

const everything: Bundle = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    {
      resource: {
        resourceType: 'Patient',
        id: 'p-b',
        name: [{ text: '孙丽', family: '孙', given: ['丽'] }],
        gender: 'female',
        birthDate: '1969-05-15',
        managingOrganization: { reference: 'Organization/org-b' },
      },
    },
  ],
};

/** The merged record the server answers for p-b alone (one facility). */
const mergedOne: MergedRecord = {
  requestedId: 'p-b',
  personId: null,
  person: null,
  patients: [
    {
      patientId: 'p-b',
      facilityId: 'org-b',
      facilityName: '乙社区卫生服务中心',
      assurance: null,
      lastUpdated: '2025-01-01T00:00:00Z',
      name: '孙丽',
      gender: 'female',
      birthDate: '1969-05-15',
      idNumber: null,
      phone: null,
      address: null,
      masked: false,
    },
  ],
  withheldPatients: 0,
  demographics: [
    { field: 'name', value: '孙丽', conflict: false, values: [{ source: 'p-b', value: '孙丽' }] },
    { field: 'gender', value: 'female', conflict: false, values: [{ source: 'p-b', value: 'female' }] },
    { field: 'birthDate', value: '1969-05-15', conflict: false, values: [{ source: 'p-b', value: '1969-05-15' }] },
    { field: 'idNumber', value: null, conflict: false, values: [{ source: 'p-b', value: null }] },
    { field: 'phone', value: null, conflict: false, values: [{ source: 'p-b', value: null }] },
    { field: 'address', value: null, conflict: false, values: [{ source: 'p-b', value: null }] },
  ],
  conflicts: 0,
  facilities: [{ id: 'org-b', name: '乙社区卫生服务中心', patients: 1 }],
  timeline: { items: [], total: 0, offset: 0, limit: 20, withheld: 0, nextBefore: null },
};

const policy = {
  version: 1,
  purposes: { BTG: '紧急访问(破窗) break the glass' },
  rules: [
    { id: 'family-doctor-own-centre', effect: 'allow', roles: ['family-doctor'], scope: 'care' },
    { id: 'break-glass', effect: 'allow', roles: ['clinician', 'family-doctor'], scope: 'break-glass' },
  ],
};

const grant = (minutes: number, over: Partial<BreakGlassGrantDto> = {}): BreakGlassGrantDto => ({
  id: 7,
  username: 'dr.li',
  userOrg: 'org-a',
  patientId: 'p-b',
  ownerOrg: 'org-b',
  reason: '患者急诊昏迷，需查看既往病史与过敏史',
  purpose: 'BTG',
  grantedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + minutes * 60_000).toISOString(),
  endedAt: null,
  noticeRef: 'Communication/n-1',
  reviewStatus: 'open',
  reviewedBy: null,
  reviewedAt: null,
  reviewNote: null,
  ...over,
});

/** The X-Purpose-Of-Use header of every request, by 'METHOD path'. */
function purposes(): [string, string | undefined][] {
  return vi.mocked(fetch).mock.calls.map(([input, init]) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    return [`${init?.method ?? 'GET'} ${String(input)}`, headers['X-Purpose-Of-Use']];
  });
}

/** The record as the server answers it: refused unless an emergency grant was opened and BTG is stated. */
function stubRecordServer(options: { grants?: BreakGlassGrantDto[]; policyRoles?: string[] } = {}) {
  let opened: BreakGlassGrantDto | undefined;
  const stated = () => purposes().at(-1)?.[1] === 'BTG';
  const api = stubApi({
    '/api/residents/p-b/record': () => ((opened || options.grants?.length) && stated() ? mergedOne : refusal),
    '/fhir/Patient/p-b/$everything': () => ((opened || options.grants?.length) && stated() ? everything : refusal),
    '/api/break-glass': { total: options.grants?.length ?? 0, rows: options.grants ?? [] },
    '/api/access/policy': options.policyRoles
      ? { ...policy, rules: [{ id: 'break-glass', effect: 'allow', roles: options.policyRoles, scope: 'break-glass' }] }
      : policy,
    'POST /api/break-glass': (c: { body: unknown }) => {
      opened = grant((c.body as { minutes: number }).minutes);
      return { status: 201, body: opened };
    },
  });
  return api;
}

describe('ResidentRecordPage: a resident outside the user’s scope', () => {
  afterEach(() => setSession(null));

  it('refuses in words, opens emergency access with a reason and a duration, then sends BTG for that resident', async () => {
    setSession({ token: 'tok-1', user: doctor });
    const api = stubRecordServer();
    renderPage(<ResidentRecordPage id="p-b" />);

    const refused = await screen.findByTestId('out-of-scope');
    expect(within(refused).getByText('该居民不在您的管理或服务范围内')).toBeTruthy();
    expect(refused.textContent).toContain('可申请紧急访问（破窗）');
    expect(screen.queryByText('档案加载失败')).toBeNull();
    expect(screen.queryByTestId('break-glass-banner')).toBeNull();

    fireEvent.click(screen.getByTestId('break-glass-open'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('本次访问将被完整记录');
    expect(dialog.textContent).toContain('通知该居民的管理机构');
    expect(dialog.textContent).toContain('审计员');

    // The reason is required and at least 10 characters, checked before asking the server.
    const confirm = within(dialog).getByRole('button', { name: '确认紧急访问' });
    fireEvent.click(confirm);
    expect(await within(dialog).findByText('请说明紧急访问的理由')).toBeTruthy();
    const reason = within(dialog).getByTestId('break-glass-reason');
    fireEvent.change(reason, { target: { value: '急诊需要' } });
    fireEvent.click(confirm);
    expect(await within(dialog).findByText('理由至少 10 个字')).toBeTruthy();
    expect(api.callsTo('POST /api/break-glass')).toHaveLength(0);

    fireEvent.change(reason, { target: { value: '患者急诊昏迷，需查看既往病史与过敏史' } });
    fireEvent.click(within(dialog).getByText('2 小时'));
    fireEvent.click(confirm);
    await waitFor(() => expect(api.callsTo('POST /api/break-glass')).toHaveLength(1));
    expect(api.callsTo('POST /api/break-glass')[0]!.body).toEqual({
      patientId: 'p-b',
      reason: '患者急诊昏迷，需查看既往病史与过敏史',
      minutes: 120,
      purpose: 'BTG',
    });

    // The record loads with BTG stated; the red banner says until when.
    expect((await screen.findByTestId('resident-name')).textContent).toBe('孙丽');
    const until = breakGlassUntil('p-b')!;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(119 * 60_000);
    const banner = screen.getByTestId('break-glass-banner');
    expect(banner.textContent).toContain(`紧急访问中，至 ${clockTime(until)} 结束`);
    expect(screen.queryByTestId('out-of-scope')).toBeNull();

    const reads = purposes().filter(([call]) => call.startsWith('GET /api/residents/p-b/record'));
    expect(reads[0]![1]).toBeUndefined();
    expect(reads.slice(1).map(([, p]) => p)).toEqual(reads.slice(1).map(() => 'BTG'));
    expect(reads.length).toBeGreaterThan(1);
    await waitFor(() => expect(purposes().filter(([call]) => call.startsWith('GET /fhir/Patient/p-b/$everything')).length).toBe(1));
    expect(
      purposes()
        .filter(([call]) => call.startsWith('GET /fhir/Patient/p-b/$everything'))
        .map(([, p]) => p),
    ).toEqual(['BTG']);
    // Only this resident's requests state the purpose.
    expect(
      purposes()
        .filter(([call]) => /\/api\/(break-glass|access)/.test(call))
        .every(([, p]) => p === undefined),
    ).toBe(true);
    expect(api.unmatched).toEqual([]);
  });

  it('picks up an open grant the user already holds for the resident, without asking again', async () => {
    setSession({ token: 'tok-1', user: doctor });
    const api = stubRecordServer({ grants: [grant(30, { patientId: 'other' }), grant(45)] });
    renderPage(<ResidentRecordPage id="p-b" />);
    expect((await screen.findByTestId('resident-name')).textContent).toBe('孙丽');
    expect(screen.getByTestId('break-glass-banner').textContent).toContain('紧急访问中');
    expect(api.callsTo('POST /api/break-glass')).toHaveLength(0);
    const reads = purposes()
      .filter(([call]) => call.startsWith('GET /api/residents/p-b/record'))
      .map(([, p]) => p);
    expect(reads[0]).toBeUndefined();
    expect(reads[1]).toBe('BTG');
  });

  it('offers no emergency access to a role the policy gives none', async () => {
    setSession({ token: 'tok-1', user: { ...doctor, roles: ['viewer'] } });
    stubRecordServer({ policyRoles: ['clinician'] });
    renderPage(<ResidentRecordPage id="p-b" />);
    const refused = await screen.findByTestId('out-of-scope');
    expect(refused.textContent).toContain('您的角色没有紧急访问权限');
    expect(screen.queryByTestId('break-glass-open')).toBeNull();
  });
});

const both: MergedRecord = {
  ...mergedOne,
  requestedId: 'p-a',
  personId: 'person-1',
  patients: [
    {
      ...mergedOne.patients[0]!,
      patientId: 'p-a',
      facilityId: 'org-a',
      facilityName: '甲社区卫生服务中心',
      phone: '13800001111',
      assurance: 'level4',
    },
    {
      ...mergedOne.patients[0]!,
      patientId: 'p-h',
      facilityId: 'org-h',
      facilityName: '市第一人民医院',
      phone: '13900002222',
      assurance: 'level4',
    },
  ],
  withheldPatients: 1,
  demographics: mergedOne.demographics.map((d) =>
    d.field === 'phone'
      ? {
          field: 'phone',
          value: '13800001111',
          conflict: true,
          values: [
            { source: 'p-a', value: '13800001111' },
            { source: 'p-h', value: '13900002222' },
          ],
        }
      : { ...d, values: [d.values[0]!, { ...d.values[0]!, source: 'p-h' }] },
  ),
  conflicts: 1,
  facilities: [
    { id: 'org-a', name: '甲社区卫生服务中心', patients: 1 },
    { id: 'org-h', name: '市第一人民医院', patients: 1 },
  ],
  timeline: {
    items: [
      {
        key: 'Observation/lab-h',
        kind: 'lab',
        resourceType: 'Observation',
        id: 'lab-h',
        date: '2025-03-02T09:00:00+08:00',
        title: '空腹血糖',
        detail: '7.4 mmol/L',
        status: 'final',
        facilityId: 'org-h',
        facilityName: '市第一人民医院',
        sourcePatient: 'p-h',
        resource: { resourceType: 'Observation', id: 'lab-h', status: 'final', code: { text: '空腹血糖' } },
      },
      {
        key: 'Encounter/enc-a',
        kind: 'encounter',
        resourceType: 'Encounter',
        id: 'enc-a',
        date: '2025-02-01T09:00:00+08:00',
        title: '慢病随访',
        detail: null,
        status: 'finished',
        facilityId: 'org-a',
        facilityName: '甲社区卫生服务中心',
        sourcePatient: 'p-a',
        resource: { resourceType: 'Encounter', id: 'enc-a', status: 'finished' },
      },
    ],
    total: 42,
    offset: 0,
    limit: 20,
    withheld: 3,
    nextBefore: null,
  },
};

describe('ResidentRecordPage: one record per resident', () => {
  afterEach(() => setSession(null));

  it('shows both facilities on one timeline with a facility column, the conflicting phone side by side, and what is withheld', async () => {
    setSession({ token: 'tok-1', user: doctor });
    const api = stubApi({
      '/api/residents/p-a/record': both,
      '/fhir/Patient/p-a/$everything': { ...everything, entry: [{ resource: { resourceType: 'Patient', id: 'p-a' } }] },
    });
    renderPage(<ResidentRecordPage id="p-a" />);
    expect((await screen.findByTestId('resident-name')).textContent).toBe('孙丽');
    const conflicts = screen.getByTestId('conflict-table');
    expect(conflicts.textContent).toContain('甲社区卫生服务中心');
    expect(conflicts.textContent).toContain('市第一人民医院');
    expect(conflicts.textContent).toContain('13800001111');
    expect(conflicts.textContent).toContain('13900002222');
    expect(screen.getByTestId('merged-phone').closest('.ant-space')!.textContent).toContain('不一致');
    expect(screen.getByTestId('withheld-patients').textContent).toContain('另有 1 份');
    expect(screen.getByTestId('withheld-items').textContent).toContain('3 条记录超出您的授权范围');
    const facilities = screen.getAllByTestId('item-facility').map((e) => e.textContent);
    expect(facilities).toEqual(['市第一人民医院', '甲社区卫生服务中心']);
    expect(screen.getByTestId('timeline-table').textContent).toContain('空腹血糖');
    expect(screen.getByTestId('timeline-total').textContent).toBe('共 42 条');
    // The next page asks the server for the next 20.
    fireEvent.click(screen.getByTitle('2'));
    await waitFor(() => expect(api.calls.some((c) => c.path.includes('/api/residents/p-a/record?limit=20&offset=20'))).toBe(true));
    expect(api.unmatched).toEqual([]);
  });
});

describe('ResidentListPage: finding people', () => {
  it('searches by pinyin initials through the resident search and lists one row per person with its facilities', async () => {
    const api = stubApi({
      '/api/residents/search': {
        q: 'zsf',
        kind: 'pinyin',
        rows: [
          {
            patientId: 'p-a',
            personId: 'person-1',
            recordId: 'p-a',
            patientIds: ['p-a', 'p-h'],
            name: '张三丰',
            gender: 'male',
            birthDate: '1962-04-09',
            idNumber: '330102196204093716',
            phone: '13800001111',
            address: '荷花路8号',
            facilities: [
              { id: 'org-a', name: '甲社区卫生服务中心' },
              { id: 'org-h', name: '市第一人民医院' },
            ],
            matchedBy: 'pinyin',
          },
        ],
        total: 21,
        capped: false,
        offset: 0,
        limit: 20,
        withheld: 1,
      },
    });
    renderPage(<ResidentListPage query="zsf" />);
    const link = await screen.findByTestId('resident-link');
    expect(link.textContent).toBe('张三丰');
    expect(link.getAttribute('href')).toBe('#/residents/p-a');
    const table = screen.getByTestId('resident-table');
    expect(table.textContent).toContain('330102********3716');
    expect(table.textContent).toContain('市第一人民医院');
    expect(screen.getByTestId('search-kind').textContent).toBe('按拼音（首字母）查询：zsf');
    expect(screen.getByText('共 21 人 · 第 1 页')).toBeTruthy();
    expect(screen.getByText('本页另有 1 人超出您的授权范围，未显示')).toBeTruthy();
    expect(api.calls[0]!.path).toBe('/api/residents/search?q=zsf&limit=20&offset=0');
    fireEvent.click(screen.getByTestId('page-next'));
    await waitFor(() => expect(api.calls.at(-1)!.path).toBe('/api/residents/search?q=zsf&limit=20&offset=20'));
  });
});

describe('ResidentPicker: the check-in desk finds a resident while typing', () => {
  it('offers the persons matching a phone’s last digits and puts the chosen record id in the field', async () => {
    const api = stubApi({
      '/api/residents/search': {
        q: '1111',
        kind: 'digits',
        rows: [
          {
            patientId: 'p-a',
            personId: 'person-1',
            recordId: 'p-a',
            patientIds: ['p-a'],
            name: '张三丰',
            gender: 'male',
            birthDate: '1962-04-09',
            idNumber: null,
            phone: '13800001111',
            address: null,
            facilities: [{ id: 'org-a', name: '甲社区卫生服务中心' }],
            matchedBy: 'digits',
          },
        ],
        total: 1,
        capped: false,
        offset: 0,
        limit: 10,
        withheld: 0,
      },
    });
    const chosen: string[] = [];
    renderPage(<ResidentPicker value="" onChange={(v) => chosen.push(v)} />);
    const input = screen.getByPlaceholderText('输入姓名、拼音首字母、身份证号或电话');
    fireEvent.change(input, { target: { value: 'p-1' } });
    fireEvent.change(input, { target: { value: '1111' } });
    const option = await screen.findByTestId('resident-option');
    expect(option.textContent).toContain('张三丰');
    expect(option.textContent).toContain('甲社区卫生服务中心');
    expect(api.calls.map((c) => c.path)).toEqual(['/api/residents/search?q=1111&limit=10&offset=0']);
    fireEvent.click(option);
    await waitFor(() => expect(chosen.at(-1)).toBe('p-a'));
  });
});

describe('breakGlassPatientOf: which requests state BTG', () => {
  afterEach(() => setSession(null));

  it('covers the resident’s reads, searches and /api routes while the grant lasts, and nothing else', () => {
    const ids = ['p-b'];
    expect(breakGlassPatientOf('/fhir/Patient/p-b', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/fhir/Patient/p-b/$everything?_count=1000', ids)).toBe('p-b');
    expect(breakGlassPatientOf('http://localhost:8080/fhir/Patient/p-b/$everything?_offset=1000', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/fhir/Observation?patient=p-b&code=8480-6', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/fhir/Condition?subject=Patient%2Fp-b', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/api/identity/patients/p-b/person', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/api/residents/p-b/due-services', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/api/contracts?patientId=p-b', ids)).toBe('p-b');
    expect(breakGlassPatientOf('/fhir/Patient/p-bb', ids)).toBeUndefined();
    expect(breakGlassPatientOf('/fhir/Patient?name=p-b', ids)).toBeUndefined();
    expect(breakGlassPatientOf('/fhir/Observation?patient=p-c', ids)).toBeUndefined();
    expect(breakGlassPatientOf('/api/break-glass', ids)).toBeUndefined();
    expect(breakGlassPatientOf('/auth/me', ids)).toBeUndefined();
    expect(breakGlassPatientOf('/fhir/Patient/p-b', [])).toBeUndefined();

    setSession({ token: 'tok-1', user: doctor });
    rememberBreakGlass('p-b', new Date(Date.now() + 60_000).toISOString());
    rememberBreakGlass('p-old', new Date(Date.now() - 1).toISOString());
    expect(breakGlassPatientOf('/fhir/Patient/p-b')).toBe('p-b');
    expect(breakGlassPatientOf('/fhir/Patient/p-old')).toBeUndefined();
    // Another user signing in in the same tab does not inherit the grant; signing out forgets it.
    setSession({ token: 'tok-2', user: { ...doctor, username: 'dr.zhao' } });
    expect(breakGlassPatientOf('/fhir/Patient/p-b')).toBeUndefined();
    setSession({ token: 'tok-1', user: doctor });
    expect(breakGlassPatientOf('/fhir/Patient/p-b')).toBe('p-b');
    setSession(null);
    setSession({ token: 'tok-1', user: doctor });
    expect(breakGlassPatientOf('/fhir/Patient/p-b')).toBeUndefined();
  });
});
