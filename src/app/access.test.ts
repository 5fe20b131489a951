/**
 * The access policy on every channel (issue #15): scope by organisation, area and care
 * relationship, purpose of use, masking, break-glass with review, and the route × role × scope
 * matrix generated from OpenAPI with the expected answers taken from the policy itself.
 */
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { decide, loadPolicy } from '../fhir/policy.js';
import { accessPolicyFile } from './server.js';
import type { Role } from '../platform/auth.js';
import { describeEachStore, type TestServer } from './testing.js';

const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const patient = (id: string, org: string, area: string): Patient => ({
  resourceType: 'Patient',
  id,
  identifier: [{ system: 'https://yifang.health/fhir/sid/resident-id', value: `33010219900101${id.slice(-4).padStart(4, '0')}` }],
  name: [{ text: `居民${id}` }],
  telecom: [{ system: 'phone', value: '13812345678' }],
  address: [{ extension: [{ url: AREA, valueString: area }], text: '某街道某小区' }],
  managingOrganization: { reference: `Organization/${org}` },
});

const USERS: { username: string; roles: Role[]; organization?: string; areas?: string[] }[] = [
  { username: 'fd-a', roles: ['family-doctor'], organization: 'org-a' },
  { username: 'clin-h', roles: ['clinician'], organization: 'org-h' },
  { username: 'ph-q', roles: ['public-health'], organization: 'org-q', areas: ['330102'] },
  { username: 'view-1', roles: ['viewer'], areas: ['330102'] },
  { username: 'epi-1', roles: ['epidemiologist'], organization: 'cdc' },
  { username: 'aud-1', roles: ['auditor'] },
  { username: 'int-1', roles: ['integration'] },
];
const PASSWORD = 'access-test-password-1';

/** What the policy knows of the two residents: pa of centre org-a and its area, pb of org-b, treated at hospital org-h. */
const FACTS = {
  pa: { patientIds: ['pa'], organizations: new Set(['org-a']), areas: ['330102001001'], breakGlass: false, complete: true },
  pb: { patientIds: ['pb'], organizations: new Set(['org-b', 'org-h']), areas: ['330106002001'], breakGlass: false, complete: true },
};

describeEachStore('access policy', (server) => {
  const tokens = new Map<string, string>();
  const as = (username: string, path: string, init: RequestInit & { purpose?: string } = {}) =>
    server().api(path, {
      ...init,
      headers: {
        authorization: `Bearer ${tokens.get(username)}`,
        'content-type': 'application/json',
        ...(init.purpose ? { 'x-purpose-of-use': init.purpose } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  const put = (r: Resource) => server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });

  beforeAll(async () => {
    const s: TestServer = server();
    for (const org of ['org-a', 'org-b', 'org-h', 'org-q', 'cdc'])
      expect((await put({ resourceType: 'Organization', id: org, name: org } as Resource)).status).toBeLessThan(300);
    expect((await put(patient('pa', 'org-a', '330102001001'))).status).toBe(201);
    expect((await put(patient('pb', 'org-b', '330106002001'))).status).toBe(201);
    for (const p of ['pa', 'pb'])
      await put({
        resourceType: 'Observation',
        id: `obs-${p}`,
        status: 'final',
        code: { text: '血压' },
        subject: { reference: `Patient/${p}` },
      } as Resource);
    await put({
      resourceType: 'Encounter',
      id: 'enc-pb-h',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/pb' },
      serviceProvider: { reference: 'Organization/org-h' },
    } as Resource);
    for (const u of USERS) {
      await s.auth.addUser({ ...u, password: PASSWORD });
      const login = await fetch(`${s.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: PASSWORD }),
      });
      tokens.set(u.username, ((await login.json()) as { access_token: string }).access_token);
    }
  });

  it('scopes a family doctor to their own centre on reads, searches, $everything and Bundles', async () => {
    expect((await as('fd-a', '/fhir/Patient/pa')).status).toBe(200);
    const denied = await as('fd-a', '/fhir/Patient/pb');
    expect(denied.status).toBe(403);
    expect(await denied.text()).toMatch(/break-glass/);
    expect((await as('fd-a', '/fhir/Patient/pb/$everything')).status).toBe(403);
    expect((await as('fd-a', '/fhir/Observation/obs-pb')).status).toBe(403);
    const search = (await (await as('fd-a', '/fhir/Observation?_id=obs-pa,obs-pb')).json()) as Bundle;
    const ids = (search.entry ?? []).map((e) => e.resource?.id);
    expect(ids).toContain('obs-pa');
    expect(ids).not.toContain('obs-pb');
    expect(JSON.stringify(search)).toMatch(/withheld/);
    const batch = await as('fd-a', '/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'GET', url: 'Patient/pb' } }, { request: { method: 'GET', url: 'Observation?subject=Patient/pb' } }],
      }),
    });
    expect(JSON.stringify(await batch.json())).not.toMatch(/居民pb/);
  });

  it('follows care relationships: a hospital that treated a resident reads them, not others', async () => {
    expect((await as('clin-h', '/fhir/Patient/pb')).status).toBe(200);
    expect((await as('clin-h', '/fhir/Patient/pa')).status).toBe(403);
  });

  it('refuses writes outside the scope, for the resource sent and for the one stored', async () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: '体温' }, subject: { reference: 'Patient/pb' } };
    expect((await as('fd-a', '/fhir/Observation', { method: 'POST', body: JSON.stringify(obs) })).status).toBe(403);
    const moved = { ...patient('pb', 'org-a', '330106002001') };
    expect((await as('fd-a', '/fhir/Patient/pb', { method: 'PUT', body: JSON.stringify(moved) })).status).toBe(403);
    const txn = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: 'Observation/obs-pb' } }],
    };
    expect((await as('fd-a', '/fhir', { method: 'POST', body: JSON.stringify(txn) })).status).toBe(403);
    expect((await server().api('/fhir/Observation/obs-pb')).status).toBe(200);
  });

  it('masks the ID number and phone for public-health staff reaching residents by area', async () => {
    const p = (await (await as('ph-q', '/fhir/Patient/pa')).json()) as Patient;
    expect(p.identifier?.[0]?.value).toMatch(/^3301\*+/);
    expect(p.telecom?.[0]?.value).toBe('138****5678');
    expect(p.meta?.security?.some((s) => s.code === 'REDACTED')).toBe(true);
    expect((await as('ph-q', '/fhir/Patient/pb')).status).toBe(403);
    const epi = (await (await as('epi-1', '/fhir/Patient/pb')).json()) as Patient;
    expect(epi.identifier?.[0]?.value).not.toMatch(/\*/);
  });

  it('checks the stated purpose: unknown codes are a 400, research reads are denied', async () => {
    expect((await as('epi-1', '/fhir/Patient/pa', { purpose: 'FUN' })).status).toBe(400);
    expect((await as('epi-1', '/fhir/Patient/pa', { purpose: 'EPIINV' })).status).toBe(200);
    expect((await as('epi-1', '/fhir/Patient/pa', { purpose: 'HRESCH' })).status).toBe(403);
  });

  it('opens break-glass for one resident with a reason, notifies the owner and opens a review', async () => {
    expect((await as('fd-a', '/api/break-glass', { method: 'POST', body: JSON.stringify({ patientId: 'pb', reason: '短' }) })).status).toBe(
      400,
    );
    const opened = await as('fd-a', '/api/break-glass', {
      method: 'POST',
      body: JSON.stringify({ patientId: 'pb', reason: '居民在本中心晕倒，需查看既往病史与用药', minutes: 30 }),
    });
    expect(opened.status).toBe(201);
    const grant = (await opened.json()) as { id: number; ownerOrg: string; noticeRef: string; reviewStatus: string };
    expect(grant).toMatchObject({ ownerOrg: 'org-b', reviewStatus: 'open' });
    expect((await as('fd-a', '/fhir/Patient/pb')).status).toBe(403);
    expect((await as('fd-a', '/fhir/Patient/pb', { purpose: 'BTG' })).status).toBe(200);
    expect((await as('fd-a', '/fhir/Patient/pa', { purpose: 'BTG' })).status).toBe(200);
    const notice = (await (await server().api(`/fhir/${grant.noticeRef}`)).json()) as { recipient: { reference: string }[] };
    expect(notice.recipient[0]!.reference).toBe('Organization/org-b');
    expect((await as('fd-a', '/api/break-glass/reviews')).status).toBe(403);
    const reviews = (await (await as('aud-1', '/api/break-glass/reviews')).json()) as { total: number; rows: { id: number }[] };
    expect(reviews.rows.map((r) => r.id)).toContain(grant.id);
    const closed = await as('aud-1', `/api/break-glass/reviews/${grant.id}`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'justified' }),
    });
    expect(closed.status).toBe(200);
    // Closing the review ends the grant.
    expect((await as('fd-a', '/fhir/Patient/pb', { purpose: 'BTG' })).status).toBe(403);
    const flags = (await (await as('aud-1', '/api/audit/flags')).json()) as { flags: { kind: string; username: string }[] };
    expect(flags.flags.some((f) => f.kind === 'break-glass' && f.username === 'fd-a')).toBe(true);
  });

  it('applies the policy to /api routes: one resident checked before, lists filtered after', async () => {
    expect((await as('fd-a', '/api/immunization/residents/pb/recommendation')).status).toBe(403);
    expect((await as('fd-a', '/api/immunization/residents/pa/recommendation')).status).not.toBe(403);
    expect((await as('aud-1', '/api/chronic/registry')).status).toBe(403);
  });

  it('records refusals in the audit trail', async () => {
    await as('view-1', '/fhir/Patient/pb');
    await server().audit.flush();
    const events = (await (await server().api('/api/audit/events?user=view-1&outcome=failure')).json()) as {
      rows: { subtype?: string; outcomeText?: string }[];
    };
    expect(JSON.stringify(events)).toMatch(/access-denied/);
  });

  it('covers every /api route in the policy table, and answers the route × role × scope matrix as the policy says', async () => {
    const docs = (await (await server().api('/api/docs')).json()) as { paths: Record<string, Record<string, unknown>> };
    const table = loadPolicy(accessPolicyFile()).routes;
    const missing: string[] = [];
    const routes: string[] = [];
    for (const [p, ops] of Object.entries(docs.paths)) {
      if (!p.startsWith('/api/')) continue;
      for (const m of Object.keys(ops)) {
        const key = `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`;
        routes.push(key);
        if (!table.has(key)) missing.push(key);
      }
    }
    expect(missing).toEqual([]);
    expect(routes.length).toBeGreaterThan(80);

    // Every route that names one resident, for every role, for a resident in and out of each role's scope.
    const policy = loadPolicy(accessPolicyFile());
    const unexpected: string[] = [];
    let checked = 0;
    for (const [key, r] of table) {
      if (!r.resident || !key.startsWith('GET ')) continue;
      for (const u of USERS) {
        for (const who of ['pa', 'pb'] as const) {
          const path = key
            .slice(4)
            .replace(/:([A-Za-z]+)/g, (_m, name: string) => (`params.${name}` === r.resident ? who : 'hypertension'));
          const d = decide(policy, { user: u, action: r.action, resourceType: r.resourceType, resident: FACTS[who] });
          const res = await as(u.username, path);
          const body = await res.text();
          checked++;
          // Allowed by the policy: anything but a policy refusal (the route's own permission may still say no, naming it).
          if (d.allowed && res.status === 403 && !/needs permission/.test(body))
            unexpected.push(`${u.username} ${path}: policy allows, got 403 ${body.slice(0, 120)}`);
          if (!d.allowed && res.status !== 403) unexpected.push(`${u.username} ${path}: policy denies, got ${res.status}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(unexpected).toEqual([]);

    // FHIR reads of every kind of record: the interaction matrix below.
    expect(unexpected).toEqual([]);
  });

  it('answers the FHIR interaction × type × role × scope matrix as the policy says', async () => {
    const policy = loadPolicy(accessPolicyFile());
    const stored = async (type: string, id: string) => (await (await server().api(`/fhir/${type}/${id}`)).json()) as Resource;
    const bundleIds = (b: Bundle) => (b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    const unexpected: string[] = [];
    let checked = 0;
    for (const u of USERS)
      for (const who of ['pa', 'pb'] as const)
        for (const [type, id] of [
          ['Patient', who],
          ['Observation', `obs-${who}`],
        ] as const) {
          const read = decide(policy, { user: u, action: 'read', resourceType: type, resident: FACTS[who] }).allowed;
          const write = decide(policy, { user: u, action: 'write', resourceType: type, resident: FACTS[who] }).allowed;
          const key = `${type}/${id}`;
          const expectStatus = async (what: string, res: Response, allowed: boolean) => {
            const body = await res.text();
            checked++;
            const permissionOnly = res.status === 403 && /needs permission/.test(body);
            if (allowed ? res.status >= 300 && !permissionOnly : res.status !== 403)
              unexpected.push(`${u.username} ${what} ${key}: policy ${allowed ? 'allows' : 'denies'}, got ${res.status}`);
          };
          const expectListed = async (what: string, res: Response, allowed: boolean) => {
            checked++;
            const body = await res.text();
            if (res.status === 403) {
              if (allowed && !/needs permission/.test(body)) unexpected.push(`${u.username} ${what}: policy allows ${key}, got 403`);
              return;
            }
            const listed = bundleIds(JSON.parse(body) as Bundle).includes(key);
            if (listed !== allowed)
              unexpected.push(`${u.username} ${what}: ${key} ${listed ? 'listed' : 'not listed'}, policy ${allowed ? 'allows' : 'denies'}`);
          };
          await expectStatus('read', await as(u.username, `/fhir/${key}`), read);
          await expectStatus('vread', await as(u.username, `/fhir/${key}/_history/1`), read);
          await expectListed('instance _history', await as(u.username, `/fhir/${key}/_history`), read);
          await expectListed('search by _id', await as(u.username, `/fhir/${type}?_id=${id}`), read);
          if (type === 'Observation')
            await expectListed('search by subject', await as(u.username, `/fhir/Observation?subject=Patient/${who}`), read);
          if (type === 'Patient') {
            await expectStatus('$everything', await as(u.username, `/fhir/Patient/${who}/$everything`), read);
            await expectListed('_revinclude', await as(u.username, `/fhir/Patient?_id=${who}&_revinclude=Observation:subject`), read);
          }
          // A batch's GET entry answers as the plain read would.
          const batch = await as(u.username, '/fhir', {
            method: 'POST',
            body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: key } }] }),
          });
          checked++;
          if (batch.status === 200) {
            const status = ((await batch.json()) as Bundle).entry?.[0]?.response?.status ?? '';
            if (read !== status.startsWith('200'))
              unexpected.push(`${u.username} batch GET ${key}: policy ${read ? 'allows' : 'denies'}, entry ${status}`);
          } else if (read && !/needs permission/.test(await batch.text()))
            unexpected.push(`${u.username} batch GET ${key}: got ${batch.status}`);
          // Update with the stored content: allowed only by a write rule in scope.
          await expectStatus(
            'update',
            await as(u.username, `/fhir/${key}`, { method: 'PUT', body: JSON.stringify(await stored(type, id)) }),
            write,
          );
        }
    // The audit trail: readable by the auditor only; written by nobody through the API.
    await server().audit.flush();
    for (const u of USERS) {
      const search = await as(u.username, '/fhir/AuditEvent?_count=1');
      checked++;
      const auditor = u.roles.includes('auditor');
      if (auditor ? search.status !== 200 : search.status !== 403) unexpected.push(`${u.username} AuditEvent search: got ${search.status}`);
      const create = await as(u.username, '/fhir/AuditEvent', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'AuditEvent',
          type: { code: 'rest' },
          recorded: new Date().toISOString(),
          agent: [],
          source: { observer: {} },
        }),
      });
      checked++;
      if (create.status !== 403 && create.status !== 405) unexpected.push(`${u.username} AuditEvent create: got ${create.status}`);
    }
    expect(checked).toBeGreaterThan(200);
    expect(unexpected).toEqual([]);
  });

  it('audits every personal-data /api read', async () => {
    const access = loadPolicy(accessPolicyFile());
    const paths: string[] = [];
    for (const [key, r] of access.routes) {
      if (!r.personal || !key.startsWith('GET ')) continue;
      paths.push(
        key
          .slice(4)
          .replace(/:([A-Za-z]+)/g, (_m, name: string) => (`params.${name}` === r.resident ? 'pa' : name === 'code' ? 'HT-01' : '1')),
      );
    }
    const answered: string[] = [];
    for (const p of paths) {
      const res = await as('epi-1', p);
      if (res.status < 400) answered.push(p);
    }
    await server().audit.flush();
    const unaudited: string[] = [];
    for (const p of answered) {
      const events = (await (await server().api(`/api/audit/events?user=epi-1&_count=500`)).json()) as { rows: unknown[] };
      if (!JSON.stringify(events).includes(`GET ${p.split('?')[0]}`)) unaudited.push(p);
    }
    expect(answered.length).toBeGreaterThanOrEqual(3);
    expect(unaudited).toEqual([]);
  });
});
