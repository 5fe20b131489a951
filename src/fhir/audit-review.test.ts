/** Issue #15, item 4 (server side): review search with paging and total, CSV, flags, who read a resident's record. */
import { beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachStore } from '../app/testing.js';
import type { AuditFlag, AuditRow } from './audit-review.js';

describeEachStore('audit review routes', (server) => {
  let patientId: string;
  beforeAll(async () => {
    const p = await server().api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: '王', given: ['小明'], text: '王小明' }] }),
    });
    patientId = ((await p.json()) as Resource).id!;
    await server().api(`/fhir/Patient/${patientId}`, { headers: { 'x-purpose-of-use': 'ETREAT' } });
    await server().api(`/fhir/Patient?_id=${patientId}`, { headers: { 'x-purpose-of-use': 'TREAT' } });
  });

  it('searches by user, resident (id or name), purpose, action and time, with the total and paging', async () => {
    const get = async (q: string) => (await (await server().api(`/api/audit/events?${q}`)).json()) as { total: number; rows: AuditRow[] };
    const byId = await get(`resident=${patientId}`);
    expect(byId.total).toBeGreaterThanOrEqual(3);
    expect(byId.rows[0]!.residents[0]).toEqual({ id: patientId, name: '王小明' });
    expect((await get(`resident=${encodeURIComponent('王')}`)).total).toBe(byId.total);
    const glass = await get('purpose=ETREAT&action=R&user=admin');
    expect(glass.total).toBe(1);
    expect(glass.rows[0]).toMatchObject({ subtype: 'read', purposeCode: 'ETREAT', username: 'admin' });
    const search = await get('subtype=search&purpose=TREAT');
    expect(search.rows[0]!.query).toContain(`Patient?_id=${patientId}`);
    const page = await get('_count=1&_offset=1');
    expect(page.rows).toHaveLength(1);
    expect(page.total).toBeGreaterThan(1);
    expect((await get(`from=2000-01-01&to=2000-01-02`)).total).toBe(0);
  });

  it('exports the filtered list as CSV', async () => {
    const r = await server().api(`/api/audit/events.csv?resident=${patientId}`);
    expect(r.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await r.text();
    expect(text.split('\r\n')[0]).toContain('时间');
    expect(text).toContain('王小明');
  });

  it('flags break-glass access, and a user reading more residents a day than the limit', async () => {
    const r = (await (await server().api('/api/audit/flags?maxResidents=0')).json()) as { flags: AuditFlag[] };
    expect(r.flags.some((f) => f.kind === 'break-glass' && f.username === 'admin')).toBe(true);
    expect(r.flags.some((f) => f.kind === 'many-residents' && f.username === 'admin' && f.count >= 1)).toBe(true);
  });

  it("lists who read a resident's record", async () => {
    const r = (await (await server().api(`/api/audit/residents/${patientId}/reads`)).json()) as {
      total: number;
      reads: { who: string; purpose?: string; what: string }[];
    };
    expect(r.total).toBeGreaterThanOrEqual(2);
    expect(r.reads.some((x) => x.purpose === 'ETREAT' && x.what === 'read')).toBe(true);
  });

  it('answers 403 without audit:read', async () => {
    await server().auth.addUser({ username: 'viewer9', password: 'viewer9-Passw0rd-long!', roles: ['viewer'] });
    const login = await fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'viewer9', password: 'viewer9-Passw0rd-long!' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    for (const p of [
      '/api/audit/events',
      '/api/audit/flags',
      `/api/audit/residents/${patientId}/reads`,
      '/api/audit/verify',
      '/api/audit/checkpoints',
    ])
      expect((await fetch(`${server().url}${p}`, { headers: { authorization: `Bearer ${token}` } })).status, p).toBe(403);
  });
});
