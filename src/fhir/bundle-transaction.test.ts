/**
 * Transaction Bundles on the bulk write path (bundle.ts, BulkEntryWriter): the FHIR semantics
 * the per-resource path had — versions of PUT targets, a resource written twice, DELETE then
 * PUT, If-Match, If-None-Exist, conditional references, reads that see earlier entries, all or
 * nothing across more rows than one slice of writes, one AuditEvent for the lot.
 */
import { expect, it } from 'vitest';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { describeEachStore } from '../app/testing.js';

const tx = (entry: BundleEntry[]): string => JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });

describeEachStore('transaction Bundles on the bulk write path', (server) => {
  const post = async (entry: BundleEntry[]) => {
    const res = await server().api('/fhir', { method: 'POST', body: tx(entry) });
    return { status: res.status, body: (await res.json()) as Bundle & { issue?: { diagnostics?: string }[] } };
  };
  const count = async (query: string) =>
    ((await (await server().api(`/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`)).json()) as Bundle).total ?? 0;

  it('stores text with quotes, backslashes, tabs, newlines and non-BMP characters exactly as sent', async () => {
    const odd = `O'Hara \\ "q" \t tab\nline\r 王小明 😀 $$ E'x' \\N`;
    const sent = {
      resourceType: 'Patient',
      name: [{ text: odd, family: odd, given: [`'${odd}'`] }],
      identifier: [{ system: "urn:test:o'dd", value: odd }],
      address: [{ line: [odd], city: '\\N' }],
    };
    const out = await post([{ resource: sent as Resource, request: { method: 'POST', url: 'Patient' } }]);
    expect(out.status).toBe(200);
    const location = out.body.entry![0]!.response!.location!.replace(/\/_history.*/, '');
    const read = (await (await server().api(`/fhir/${location}`)).json()) as Record<string, unknown>;
    expect({ name: read.name, identifier: read.identifier, address: read.address }).toEqual({
      name: sent.name,
      identifier: sent.identifier,
      address: sent.address,
    });
    // The search columns and prefix keys hold what the parameterised write path stores for it.
    const id = location.split('/')[1]!;
    const other = await server().repo.create(sent);
    const columns = async (rid: string) => {
      const row = (await server().db.query<Record<string, unknown>>('SELECT * FROM r_patient WHERE id = $1', [rid])).rows[0]!;
      const { id: _i, version_id: _v, last_updated: _l, compartments: _c, ...rest } = row;
      const keys = await server().db.query(
        `SELECT code, key FROM string_search WHERE resource_type = 'Patient' AND id = $1 ORDER BY code, key`,
        [rid],
      );
      return { rest, keys: keys.rows };
    };
    const mine = await columns(id);
    expect(mine.keys.length).toBeGreaterThan(0);
    expect(mine).toEqual(await columns(other.id!));
  });

  it('keeps versions of resources written twice, deleted and written again in one Bundle', async () => {
    const id = 'bulk-tx-twice';
    const patient = (name: string) => ({ resourceType: 'Patient', id, name: [{ text: name }] }) as Resource;
    const first = await post([
      { resource: patient('一'), request: { method: 'PUT', url: `Patient/${id}` } },
      { resource: patient('二'), request: { method: 'PUT', url: `Patient/${id}` } },
    ]);
    expect(first.status).toBe(200);
    expect(first.body.entry!.map((e) => [e.response!.status, e.response!.etag])).toEqual([
      ['201 Created', 'W/"1"'],
      ['200 OK', 'W/"2"'],
    ]);
    const second = await post([
      { request: { method: 'DELETE', url: `Patient/${id}` } },
      { resource: patient('三'), request: { method: 'PUT', url: `Patient/${id}` } },
    ]);
    expect(second.status).toBe(200);
    // The deletion is version 3; the resource comes back as version 4, created anew.
    expect(second.body.entry![1]!.response).toMatchObject({ status: '201 Created', etag: 'W/"4"' });
    const read = (await (await server().api(`/fhir/Patient/${id}`)).json()) as Resource & { name: { text: string }[] };
    expect(read.meta?.versionId).toBe('4');
    expect(read.name[0]!.text).toBe('三');
    const history = (await (await server().api(`/fhir/Patient/${id}/_history`)).json()) as Bundle;
    expect(history.entry).toHaveLength(4);
  });

  it('checks If-Match against the stored version and writes nothing of a Bundle that fails it', async () => {
    const id = 'bulk-tx-ifmatch';
    await post([{ resource: { resourceType: 'Patient', id }, request: { method: 'PUT', url: `Patient/${id}` } }]);
    const ok = await post([
      { resource: { resourceType: 'Patient', id, gender: 'female' }, request: { method: 'PUT', url: `Patient/${id}`, ifMatch: 'W/"1"' } },
    ]);
    expect(ok.status).toBe(200);
    expect(ok.body.entry![0]!.response!.etag).toBe('W/"2"');
    const before = await count('Encounter');
    const stale = await post([
      {
        resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${id}` } },
        request: { method: 'POST', url: 'Encounter' },
      },
      { resource: { resourceType: 'Patient', id, gender: 'male' }, request: { method: 'PUT', url: `Patient/${id}`, ifMatch: 'W/"1"' } },
    ]);
    expect(stale.status).toBe(412);
    expect(await count('Encounter')).toBe(before);
    expect(((await (await server().api(`/fhir/Patient/${id}`)).json()) as Resource).meta?.versionId).toBe('2');
  });

  it('resolves If-None-Exist and conditional references, and reads what earlier entries wrote', async () => {
    const system = 'urn:test:bulk-tx';
    await post([
      {
        resource: { resourceType: 'Patient', identifier: [{ system, value: 'known' }] },
        request: { method: 'POST', url: 'Patient' },
      },
    ]);
    const out = await post([
      {
        fullUrl: 'urn:uuid:5b0b8f4e-0000-4000-8000-000000000001',
        resource: { resourceType: 'Patient', identifier: [{ system, value: 'known' }] },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${system}|known` },
      },
      {
        fullUrl: 'urn:uuid:5b0b8f4e-0000-4000-8000-000000000002',
        resource: { resourceType: 'Patient', identifier: [{ system, value: 'new' }] },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${system}|new` },
      },
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'a' },
          subject: { reference: `Patient?identifier=${system}|known` },
          focus: [{ reference: 'urn:uuid:5b0b8f4e-0000-4000-8000-000000000002' }],
        },
        request: { method: 'POST', url: 'Observation' },
      },
      { request: { method: 'GET', url: `Patient?identifier=${system}|new` } },
    ]);
    expect(out.status).toBe(200);
    const [known, created, obs, read] = out.body.entry!;
    expect(known!.response!.status).toBe('200 OK');
    expect(created!.response!.status).toBe('201 Created');
    const knownId = known!.response!.location!.split('/')[1];
    const newId = created!.response!.location!.split('/')[1];
    const stored = (await (
      await server().api(`/${obs!.response!.location!.replace(/\/_history.*/, '')}`.replace(/^\//, '/fhir/'))
    ).json()) as {
      subject: { reference: string };
      focus: { reference: string }[];
    };
    expect(stored.subject.reference).toBe(`Patient/${knownId}`);
    expect(stored.focus[0]!.reference).toBe(`Patient/${newId}`);
    const found = read!.resource as Bundle;
    expect(found.entry?.filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id)).toEqual([newId]);
  });

  it('writes nothing when the last of more entries than one slice of writes fails', async () => {
    const before = await count('Patient?name=slice-test');
    const entry: BundleEntry[] = Array.from({ length: 1500 }, () => ({
      resource: { resourceType: 'Patient', name: [{ text: 'slice-test' }] },
      request: { method: 'POST' as const, url: 'Patient' },
    }));
    entry.push({ resource: { resourceType: 'Patient', bogus: true } as Resource, request: { method: 'POST', url: 'Patient' } });
    const out = await post(entry);
    expect(out.status).toBe(400);
    expect(await count('Patient?name=slice-test')).toBe(before);
    entry.pop();
    const ok = await post(entry);
    expect(ok.status).toBe(200);
    expect(await count('Patient?name=slice-test')).toBe(before + 1500);
  });

  it('audits the writes of a transaction as one event committed with them', async () => {
    const out = await post([
      {
        fullUrl: 'urn:uuid:6c0b8f4e-0000-4000-8000-000000000001',
        resource: { resourceType: 'Patient' },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: 'urn:uuid:6c0b8f4e-0000-4000-8000-000000000001' },
        },
        request: { method: 'POST', url: 'Encounter' },
      },
    ]);
    const [patient, encounter] = out.body.entry!.map((e) => e.response!.location!.replace(/\/_history.*/, ''));
    const events = (await (await server().api(`/fhir/AuditEvent?entity=${encounter}`)).json()) as Bundle;
    const event = events.entry!.map((e) => e.resource as Resource & { entity: { what?: { reference?: string } }[] })[0]!;
    const what = event.entity.map((e) => e.what?.reference);
    expect(what).toEqual(expect.arrayContaining([patient, encounter]));
  });
});
