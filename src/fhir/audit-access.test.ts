/**
 * Issue #15, item 1: AuditEvent is read-only on every channel, and reading the audit trail or
 * any history needs `audit:read`. One test per path an attacker's test found.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, expect, it } from 'vitest';
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { describeEachStore, type TestServer } from '../app/testing.js';
import { importBundle, importNdjson, importPath } from './import.js';

const FORGED = {
  resourceType: 'AuditEvent',
  type: { code: 'rest' },
  recorded: '2024-01-01T00:00:00Z',
  action: 'D',
  agent: [{ who: { display: 'forged-admin' }, requestor: true }],
  source: { observer: { display: 'forged' } },
  entity: [{ what: { reference: 'Patient/forged' } }],
};

async function login(
  server: TestServer,
  username: string,
  roles: string[],
  organization?: string,
): Promise<(p: string, init?: RequestInit) => Promise<Response>> {
  const password = `${username}-Passw0rd-long!`;
  await server.auth.addUser({ username, password, roles, displayName: username, organization });
  const r = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const { access_token: token } = (await r.json()) as { access_token: string };
  return (p, init = {}) =>
    fetch(`${server.url}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...(init.headers as Record<string, string>) },
    });
}

describeEachStore('AuditEvent is read-only; the audit trail and history need audit:read', (server) => {
  let clinician: Awaited<ReturnType<typeof login>>;
  let viewer: Awaited<ReturnType<typeof login>>;
  let patientId: string;
  let eventId: string;

  /** How many stored AuditEvents carry the forged marker (none may). */
  const forgedCount = async () =>
    (
      await server().db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM resource_history WHERE resource_type = 'AuditEvent' AND content::text LIKE '%forged%'`,
      )
    ).rows[0]!.n;
  const expectRefused = async (r: Response) => {
    expect(r.status).toBe(403);
    expect(JSON.stringify(await r.json())).toContain('audit-read-only');
    expect(await forgedCount()).toBe(0);
  };

  beforeAll(async () => {
    // The clinician works where the resident is managed: the access policy lets them read the record.
    clinician = await login(server(), 'clin1', ['clinician'], 'org-audit-test');
    viewer = await login(server(), 'view1', ['viewer']);
    const p = await server().api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Patient',
        gender: 'female',
        managingOrganization: { reference: 'Organization/org-audit-test' },
      }),
    });
    patientId = ((await p.json()) as Resource).id!;
    expect((await server().api(`/fhir/Patient/${patientId}`)).status).toBe(200);
    const events = (await (await server().api(`/fhir/AuditEvent?entity=Patient/${patientId}&_count=1`)).json()) as Bundle<AuditEvent>;
    eventId = events.entry![0]!.resource!.id!;
  });

  it('refuses POST /fhir/AuditEvent (a clinician forging an administrator deleting a Patient), and from an administrator', async () => {
    await expectRefused(await clinician('/fhir/AuditEvent', { method: 'POST', body: JSON.stringify(FORGED) }));
    await expectRefused(await server().api('/fhir/AuditEvent', { method: 'POST', body: JSON.stringify(FORGED) }));
  });

  it('refuses an AuditEvent body sent to another type', async () => {
    const r = await clinician('/fhir/Patient', { method: 'POST', body: JSON.stringify(FORGED) });
    await expectRefused(r);
  });

  it('refuses POST with If-None-Exist on AuditEvent (which would also reveal one)', async () => {
    const r = await clinician('/fhir/AuditEvent', {
      method: 'POST',
      body: JSON.stringify(FORGED),
      headers: { 'if-none-exist': `_id=${eventId}` },
    });
    await expectRefused(r);
  });

  it('refuses PUT /fhir/AuditEvent/{id}: the event is unchanged', async () => {
    await expectRefused(
      await clinician(`/fhir/AuditEvent/${eventId}`, { method: 'PUT', body: JSON.stringify({ ...FORGED, id: eventId }) }),
    );
    await expectRefused(
      await server().api(`/fhir/AuditEvent/${eventId}`, { method: 'PUT', body: JSON.stringify({ ...FORGED, id: eventId }) }),
    );
    const e = (await (await server().api(`/fhir/AuditEvent/${eventId}`)).json()) as AuditEvent;
    expect(e.meta?.versionId).toBe('1');
  });

  it('refuses conditional PUT /fhir/AuditEvent?…', async () => {
    await expectRefused(await clinician(`/fhir/AuditEvent?_id=${eventId}`, { method: 'PUT', body: JSON.stringify(FORGED) }));
    await expectRefused(await clinician(`/fhir/AuditEvent?_id=nothing-here`, { method: 'PUT', body: JSON.stringify(FORGED) }));
  });

  it('refuses DELETE /fhir/AuditEvent/{id}, even for an administrator', async () => {
    await expectRefused(await server().api(`/fhir/AuditEvent/${eventId}`, { method: 'DELETE' }));
    expect((await server().api(`/fhir/AuditEvent/${eventId}`)).status).toBe(200);
  });

  it('has no PATCH for AuditEvent', async () => {
    const r = await server().api(`/fhir/AuditEvent/${eventId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/action', value: 'D' }]),
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    const e = (await (await server().api(`/fhir/AuditEvent/${eventId}`)).json()) as AuditEvent;
    expect(e.meta?.versionId).toBe('1');
  });

  it('refuses transaction and batch Bundles with POST, PUT or DELETE entries of AuditEvent: nothing of them stored', async () => {
    for (const type of ['transaction', 'batch'] as const) {
      for (const entry of [
        { resource: FORGED, request: { method: 'POST', url: 'AuditEvent' } },
        { resource: { ...FORGED, id: eventId }, request: { method: 'PUT', url: `AuditEvent/${eventId}` } },
        { resource: FORGED, request: { method: 'PUT', url: `AuditEvent?_id=${eventId}` } },
        { request: { method: 'DELETE', url: `AuditEvent/${eventId}` } },
        { resource: FORGED, request: { method: 'POST', url: 'Patient' } },
      ]) {
        const bundle = {
          resourceType: 'Bundle',
          type,
          entry: [
            {
              resource: { resourceType: 'Patient', gender: 'male', name: [{ family: 'bundled-forgery' }] },
              request: { method: 'POST', url: 'Patient' },
            },
            entry,
          ],
        };
        await expectRefused(await clinician('/fhir', { method: 'POST', body: JSON.stringify(bundle) }));
      }
    }
    const stored = (await (await server().api('/fhir/Patient?family=bundled-forgery')).json()) as Bundle;
    expect(stored.entry ?? []).toHaveLength(0);
    expect((await server().api(`/fhir/AuditEvent/${eventId}`)).status).toBe(200);
  });

  it('refuses AuditEvents in bulk import (/api/import Bundle and NDJSON, yifang import): nothing of them stored', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { ...FORGED, id: 'forged-1' }, request: { method: 'POST', url: 'AuditEvent' } }],
    };
    const r = await server().api('/api/import', { method: 'POST', body: JSON.stringify(bundle) });
    await expectRefused(r);
    const nd = await server().api('/api/import', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+ndjson' },
      body: JSON.stringify({ ...FORGED, id: 'forged-2' }) + '\n',
    });
    const stats = (await nd.json()) as { resources: number; errors: { message: string }[] };
    expect(stats.resources).toBe(0);
    expect(stats.errors[0]!.message).toContain('audit-read-only');
    await expect(importBundle(server().repo, bundle as Bundle, 'b.json')).rejects.toThrow(/audit-read-only/);
    const s = await importNdjson(server().repo, Readable.from([JSON.stringify({ ...FORGED, id: 'forged-3' }) + '\n']), 'a.ndjson');
    expect(s.errors[0]!.message).toContain('audit-read-only');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-import-'));
    fs.writeFileSync(path.join(dir, 'AuditEvent.000.ndjson'), JSON.stringify({ ...FORGED, id: 'forged-4' }) + '\n');
    fs.writeFileSync(path.join(dir, 'forged.json'), JSON.stringify(bundle));
    const cli = await importPath(server().repo, dir, { worker: false });
    expect(cli.resources).toBe(0);
    expect(cli.errors.map((e) => e.message).join('\n')).toMatch(/audit-read-only[\s\S]*audit-read-only/);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(await forgedCount()).toBe(0);
  });

  it('reading AuditEvent (read, vread, search, POST _search) needs audit:read', async () => {
    for (const p of [
      `/fhir/AuditEvent/${eventId}`,
      `/fhir/AuditEvent/${eventId}/_history/1`,
      '/fhir/AuditEvent',
      '/fhir/AuditEvent?_count=5',
    ]) {
      expect((await viewer(p)).status, p).toBe(403);
      expect((await clinician(p)).status, p).toBe(403);
      expect((await server().api(p)).status, p).toBe(200);
    }
    const post = (f: typeof viewer) =>
      f('/fhir/AuditEvent/_search', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '_count=1' });
    expect((await post(viewer)).status).toBe(403);
    expect((await post(server().api)).status).toBe(200);
  });

  it('_history at system, type and instance level needs audit:read', async () => {
    for (const p of ['/fhir/_history', '/fhir/Patient/_history', `/fhir/Patient/${patientId}/_history`]) {
      expect((await viewer(p)).status, p).toBe(403);
      expect((await clinician(p)).status, p).toBe(403);
      expect((await server().api(p)).status, p).toBe(200);
    }
  });

  it('_include / _revinclude reaching AuditEvent, and chains into it, need audit:read', async () => {
    for (const p of [
      `/fhir/Patient?_id=${patientId}&_revinclude=AuditEvent:entity`,
      `/fhir/Patient?_id=${patientId}&_revinclude=AuditEvent:patient`,
      `/fhir/Patient?_id=${patientId}&_revinclude:iterate=AuditEvent:patient`,
      `/fhir/Provenance?target:AuditEvent.action=R`,
    ]) {
      expect((await viewer(p)).status, p).toBe(403);
      expect((await clinician(p)).status, p).toBe(403);
    }
    const admin = (await (await server().api(`/fhir/Patient?_id=${patientId}&_revinclude=AuditEvent:entity`)).json()) as Bundle;
    expect(admin.entry!.some((e) => e.resource?.resourceType === 'AuditEvent')).toBe(true);
  });

  it('If-None-Exist that reaches AuditEvent needs audit:read', async () => {
    const r = await clinician('/fhir/Patient', {
      method: 'POST',
      headers: { 'if-none-exist': `_id=${patientId}&_revinclude=AuditEvent:entity` },
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    expect(r.status).toBe(403);
  });

  it('Bundle GET entries of AuditEvent, of history or reaching AuditEvent need audit:read', async () => {
    for (const url of [
      `AuditEvent/${eventId}`,
      'AuditEvent?_count=1',
      `Patient/${patientId}/_history`,
      `Patient?_id=${patientId}&_revinclude=AuditEvent:entity`,
    ]) {
      const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url } }] };
      const r = await clinician('/fhir', { method: 'POST', body: JSON.stringify(bundle) });
      expect(r.status, url).toBe(403);
    }
    const ok = await clinician('/fhir', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${patientId}` } }] }),
    });
    expect(ok.status).toBe(200);
    // … and that read is audited, naming the patient.
    const events = (await (await server().api(`/fhir/AuditEvent?patient=Patient/${patientId}&altid=clin1`)).json()) as Bundle<AuditEvent>;
    expect(events.entry?.length).toBeGreaterThan(0);
  });

  it('conditional references to AuditEvent in a Bundle need audit:read', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Provenance',
            target: [{ reference: `AuditEvent?_id=${eventId}` }],
            recorded: '2024-01-01T00:00:00Z',
            agent: [{ who: { display: 'x' } }],
          },
          request: { method: 'POST', url: 'Provenance' },
        },
      ],
    };
    expect((await clinician('/fhir', { method: 'POST', body: JSON.stringify(bundle) })).status).toBe(403);
  });

  it('$everything does not include AuditEvents', async () => {
    const r = (await (await clinician(`/fhir/Patient/${patientId}/$everything`)).json()) as Bundle;
    expect(r.entry!.some((e) => e.resource?.resourceType === 'AuditEvent')).toBe(false);
  });

  it('records the refused attempts themselves', async () => {
    const events = (await (await server().api('/fhir/AuditEvent?subtype=audit-write-refused&altid=clin1')).json()) as Bundle<AuditEvent>;
    expect(events.entry!.length).toBeGreaterThan(0);
    expect(events.entry![0]!.resource!.outcome).toBe('8');
  });
});
