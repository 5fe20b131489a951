import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Bundle } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { breakGlassPatientOf } from '../api/http.js';
import { breakGlassUntil, rememberBreakGlass, setSession, type SessionUser } from '../api/session.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import type { BreakGlassGrantDto } from '../../../src/app/access-routes.js';
import { clockTime } from './break-glass.component.js';
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
    '/fhir/Patient/p-b/$everything': () => ((opened || options.grants?.length) && stated() ? everything : refusal),
    '/api/identity/patients/p-b/person': () => ((opened || options.grants?.length) && stated() ? { status: 404, body: {} } : refusal),
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

    const sent = purposes();
    const reads = sent.filter(([call]) => call.startsWith('GET /fhir/Patient/p-b/$everything'));
    expect(reads.map(([, p]) => p)).toEqual([undefined, 'BTG']);
    expect(sent.filter(([call]) => call.startsWith('GET /api/identity/patients/p-b/person')).map(([, p]) => p)).toEqual(['BTG']);
    // Only this resident's requests state the purpose.
    expect(sent.filter(([call]) => /\/api\/(break-glass|access)/.test(call)).every(([, p]) => p === undefined)).toBe(true);
    expect(api.unmatched).toEqual([]);
  });

  it('picks up an open grant the user already holds for the resident, without asking again', async () => {
    setSession({ token: 'tok-1', user: doctor });
    const api = stubRecordServer({ grants: [grant(30, { patientId: 'other' }), grant(45)] });
    renderPage(<ResidentRecordPage id="p-b" />);
    expect((await screen.findByTestId('resident-name')).textContent).toBe('孙丽');
    expect(screen.getByTestId('break-glass-banner').textContent).toContain('紧急访问中');
    expect(api.callsTo('POST /api/break-glass')).toHaveLength(0);
    expect(
      purposes()
        .filter(([call]) => call.includes('$everything'))
        .map(([, p]) => p),
    ).toEqual([undefined, 'BTG']);
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
