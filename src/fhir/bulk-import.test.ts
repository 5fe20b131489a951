import { Readable } from 'node:stream';
import { expect, it, onTestFinished } from 'vitest';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { describeEachStore } from '../app/testing.js';
import { importBundle, importBundles, importNdjson } from './import.js';
import { prefixKeys } from './schema.js';
import { escapeCopy, unescapeCopy } from './copy-format.js';
import { prepareBulkRow } from './bulk-write.js';
import { loadDefinitions } from './definitions.js';

const ndjson = (resources: object[]) => Readable.from([resources.map((r) => JSON.stringify(r)).join('\n') + '\n']);
const names = async (api: (p: string) => Promise<Response>, query: string) => {
  const b = (await (await api(`/fhir/Patient?${query}&_count=100`)).json()) as Bundle<Patient>;
  return (b.entry ?? []).map((e) => e.resource!.id).sort();
};

it('string prefix keys are the lowercased value and every word-suffix', () => {
  expect(prefixKeys(['Frankie Jast', '张伟'])).toEqual(['frankie jast', 'jast', '张伟']);
  expect(prefixKeys(['a  b', ''])).toEqual(['a  b', ' b', 'b']);
});

describeEachStore('bulk write path', (server) => {
  it('keeps versions and the change log across re-imports, duplicates in a batch and deletes', async () => {
    const { repo, db } = server();
    const p = (id: string, family: string) => ({ resourceType: 'Patient', id, name: [{ family, given: ['Ann'] }] });
    // Two lines with one id in one batch: the later wins, as one version.
    let s = await importNdjson(repo, ndjson([p('bw-1', 'First'), p('bw-2', 'Other'), p('bw-1', 'Second')]), 't');
    expect(s.errors).toEqual([]);
    expect(((await repo.read('Patient', 'bw-1')) as Patient).name![0]!.family).toBe('Second');
    // A re-import makes version 2; a deleted resource re-imported continues its history.
    await repo.delete('Patient', 'bw-2');
    s = await importNdjson(repo, ndjson([p('bw-1', 'Third'), p('bw-2', 'Back'), p('bw-3', 'New')]), 't');
    expect(s.errors).toEqual([]);
    const versions = await db.query<{ id: string; v: number[]; deleted: boolean[] }>(
      `SELECT id, array_agg(version_id ORDER BY seq) AS v, array_agg(deleted ORDER BY seq) AS deleted FROM resource_history WHERE id LIKE 'bw-%' GROUP BY id ORDER BY id`,
    );
    expect(versions.rows).toEqual([
      { id: 'bw-1', v: [1, 2], deleted: [false, false] },
      { id: 'bw-2', v: [1, 2, 3], deleted: [false, true, false] },
      { id: 'bw-3', v: [1], deleted: [false] },
    ]);
    expect(((await repo.read('Patient', 'bw-2')) as Patient).meta!.versionId).toBe('3');
    // History holds the content processors read, as written.
    const h = await db.query<{ content: Patient }>(`SELECT content FROM resource_history WHERE id = 'bw-1' AND version_id = 2`);
    expect(h.rows[0]!.content.name![0]!.family).toBe('Third');
  });

  it('finds names through the prefix lookup after bulk import, update and delete', async () => {
    const { repo, api } = server();
    await importNdjson(
      repo,
      ndjson([
        { resourceType: 'Patient', id: 'sp-1', name: [{ family: 'Jast432', given: ['Frankie174'] }] },
        { resourceType: 'Patient', id: 'sp-2', name: [{ text: '张伟' }] },
        { resourceType: 'Patient', id: 'sp-3', name: [{ family: "O'Hara", given: ['Carroll'] }] },
        { resourceType: 'Practitioner', id: 'sp-4', name: [{ family: 'Jastrow', given: ['Ann'] }] },
      ]),
      't',
    );
    expect(await names(api, 'name=jast')).toEqual(['sp-1']);
    expect(await names(api, 'name=FRANKIE174 JA')).toEqual(['sp-1']);
    expect(await names(api, 'family=Jast432')).toEqual(['sp-1']);
    expect(await names(api, 'given=frank')).toEqual(['sp-1']);
    expect(await names(api, 'name=张')).toEqual(['sp-2']);
    expect(await names(api, "name=o'h")).toEqual(['sp-3']);
    expect(await names(api, 'name=ast')).toEqual([]);
    expect(await names(api, 'name:contains=ast')).toEqual(['sp-1']);
    expect(await names(api, 'name=zz,jast')).toEqual(['sp-1']);
    expect(await names(api, 'name=100%25')).toEqual([]);
    const practitioners = (await (await api('/fhir/Practitioner?name=jastr')).json()) as Bundle;
    expect(practitioners.total).toBe(1);
    // Over REST: an update replaces the keys, a delete removes them.
    const put = await api('/fhir/Patient/sp-1', {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Patient', id: 'sp-1', name: [{ family: 'Rohan584', given: ['Gabriele201'] }] }),
    });
    expect(put.status).toBe(200);
    expect(await names(api, 'name=jast')).toEqual([]);
    expect(await names(api, 'name=roh')).toEqual(['sp-1']);
    expect((await api('/fhir/Patient/sp-2', { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await names(api, 'name=张')).toEqual([]);
    // Chained through a reference.
    await importNdjson(
      repo,
      ndjson([{ resourceType: 'Observation', id: 'sp-o', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/sp-3' } }]),
      't',
    );
    const chained = (await (await api("/fhir/Observation?subject:Patient.name=o'hara")).json()) as Bundle;
    expect(chained.entry?.map((e) => e.resource!.id)).toEqual(['sp-o']);
  });

  it('imports a Bundle with urn:uuid references through the bulk path, all or nothing', async () => {
    const { repo } = server();
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:8c2a4e5e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Patient', name: [{ family: 'Bulk' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          fullUrl: 'urn:uuid:8c2a4e5e-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Encounter',
            status: 'finished',
            class: { code: 'AMB' },
            subject: { reference: 'urn:uuid:8c2a4e5e-0000-4000-8000-000000000001' },
          },
          request: { method: 'POST', url: 'Encounter' },
        },
      ],
    };
    const s = await importBundle(repo, bundle, 'b');
    expect(s.resources).toBe(2);
    const enc = await repo.read('Encounter', '8c2a4e5e-0000-4000-8000-000000000002');
    expect((enc as { subject: { reference: string } }).subject.reference).toBe('Patient/8c2a4e5e-0000-4000-8000-000000000001');
    // A broken entry rejects the whole Bundle.
    const broken: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:8c2a4e5e-0000-4000-8000-000000000003',
          resource: { resourceType: 'Patient' },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:missing' } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    await expect(importBundle(repo, broken, 'b')).rejects.toThrow(/urn:uuid:missing/);
    await expect(repo.read('Patient', '8c2a4e5e-0000-4000-8000-000000000003')).rejects.toThrow(/not found/);
  });

  it('keeps quotes, backslashes, tabs, newlines and CJK text exact through the bulk encodings', async () => {
    const { repo, api } = server();
    const awkward = `O'Brien \\ "q" \t tab\tnew\nline\r\n 张\\u4e2d '' \\N`;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:8c2a4e5e-0000-4000-8000-0000000000a1',
          resource: {
            resourceType: 'Patient',
            name: [{ family: awkward, given: ['\\N', "it's"] }],
            identifier: [
              { system: 'urn:x', value: `id'"{}` },
              { system: 'urn:y', value: 'a\\b' },
            ],
          } as Patient,
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    };
    // A small Bundle: on PostgreSQL it goes as one INSERT statement, on PGlite through COPY.
    await importBundle(repo, bundle, 'awkward');
    const read = (await repo.read('Patient', '8c2a4e5e-0000-4000-8000-0000000000a1')) as Patient;
    expect(read.name![0]!.family).toBe(awkward);
    expect(read.name![0]!.given).toEqual(['\\N', "it's"]);
    expect(read.identifier![1]!.value).toBe('a\\b');
    // The search columns hold the same text: the identifier token and the name prefix match.
    const byIdentifier = (await (await api(`/fhir/Patient?identifier=${encodeURIComponent(`urn:x|id'"{}`)}`)).json()) as Bundle;
    expect(byIdentifier.entry?.map((e) => e.resource!.id)).toEqual(['8c2a4e5e-0000-4000-8000-0000000000a1']);
    expect(await names(api, `name=${encodeURIComponent("O'Brien")}`)).toContain('8c2a4e5e-0000-4000-8000-0000000000a1');
  });

  it('pipelines many Bundles: writes stay in order, a broken one is reported alone and the rest land', async () => {
    const { repo } = server();
    const org = (n: number): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Organization', id: `pipe-org`, name: `v${n}` },
          request: { method: 'PUT', url: 'Organization/pipe-org' },
        },
      ],
    });
    const bad: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:nowhere' } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    const errors: string[] = [];
    const files = [org(1), org(2), bad, org(3)].map((bundle, i) => ({ bundle, file: `b${i}` }));
    const s = await importBundles(repo, files, undefined, (file, e) => errors.push(`${file}: ${e.message}`));
    expect(s.resources).toBe(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^b2: .*urn:uuid:nowhere/);
    // the three versions were written in order: the last one wins and history has all three
    const stored = (await repo.read('Organization', 'pipe-org')) as { name: string; meta: { versionId: string } };
    expect(stored.name).toBe('v3');
    expect(stored.meta.versionId).toBe('3');
    // without an error handler, the first failure rejects the call (also while a later Bundle is being prepared)
    await expect(importBundles(repo, [{ bundle: bad, file: 'x' }])).rejects.toThrow(/urn:uuid:nowhere/);
    const bigOrg = (n: number): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 100 }, (_, i) => ({
        resource: { resourceType: 'Organization', id: `pipe-${n}-${i}`, name: 'x' },
        request: { method: 'PUT', url: `Organization/pipe-${n}-${i}` },
      })),
    });
    await expect(
      importBundles(repo, [
        { bundle: bad, file: 'x' },
        { bundle: bigOrg(1), file: 'y' },
        { bundle: bigOrg(2), file: 'z' },
      ]),
    ).rejects.toThrow(/urn:uuid:nowhere/);
  });

  it('prepares a long NDJSON stream on the worker thread: same rows, same line numbers for bad lines', async () => {
    const { repo } = server();
    const lines: string[] = [];
    for (let i = 1; i <= 45; i++) {
      if (i === 7 || i === 23) lines.push('{"resourceType": "Patient", "id": ');
      // Text of several bytes a character in UTF-8, and escapes, through the worker's buffer.
      else if (i === 12)
        lines.push(JSON.stringify({ resourceType: 'Patient', id: 'wk-12', name: [{ family: '张\t"三"\\😀', given: ['名'] }] }));
      else if (i === 31) lines.push(JSON.stringify({ resourceType: 'Patient', id: 'wk-bad', birthDate: 'yesterday' }));
      else lines.push(JSON.stringify({ resourceType: 'Patient', id: `wk-${i}`, name: [{ family: `Worker${i}` }] }));
    }
    // Batches of 10: the first is prepared inline, the other four on the worker.
    const s = await importNdjson(repo, Readable.from([lines.join('\n') + '\n']), 'worker.ndjson', { batchSize: 10 });
    expect(s.errors.map((e) => e.line)).toEqual([7, 23, 31]);
    expect(s.errors[2]!.message).toMatch(/birthDate/);
    expect(s.resources).toBe(42);
    const p = (await repo.read('Patient', 'wk-44')) as Patient;
    expect(p.name![0]!.family).toBe('Worker44');
    expect(((await repo.read('Patient', 'wk-12')) as Patient).name).toEqual([{ family: '张\t"三"\\😀', given: ['名'] }]);
    expect(await names(server().api, 'family=Worker4')).toEqual(['wk-4', 'wk-40', 'wk-41', 'wk-42', 'wk-43', 'wk-44', 'wk-45']);
    // Without the worker, the same.
    const again = await importNdjson(repo, Readable.from([lines.join('\n') + '\n']), 'inline.ndjson', { batchSize: 10, worker: false });
    expect(again.errors.map((e) => e.line)).toEqual([7, 23, 31]);
    expect(((await repo.read('Patient', 'wk-44')) as Patient).meta!.versionId).toBe('2');
  });

  it('writes small Bundles in shared transactions; a group the database refuses is retried Bundle by Bundle', async () => {
    const { repo } = server();
    // A trigger stands in for whatever the database may refuse at write time (a constraint, a
    // full disk): it rejects one resource, so only the write fails.
    const { db } = server();
    await db.query(`CREATE FUNCTION refuse_test_patient() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.content::text LIKE '%refuse-me%' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$`);
    await db.query(
      'CREATE TRIGGER refuse_test_patient BEFORE INSERT ON resource_history FOR EACH ROW EXECUTE FUNCTION refuse_test_patient()',
    );
    onTestFinished(async () => {
      await db.query('DROP TRIGGER refuse_test_patient ON resource_history');
      await db.query('DROP FUNCTION refuse_test_patient()');
    });
    const patients = (n: number, value = 'ok'): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [0, 1, 2].map((i) => ({
        fullUrl: `urn:uuid:00000000-0000-4000-8000-0000000${n}000${i}`,
        resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:group', value: i === 1 ? value : `${n}-${i}` }] },
        request: { method: 'POST', url: 'Patient' },
      })),
    });
    const files = [patients(1), patients(2), patients(3, 'refuse-me'), patients(4), patients(5)].map((bundle, i) => ({
      bundle,
      file: `g${i}`,
    }));
    const errors: string[] = [];
    const written: string[] = [];
    const s = await importBundles(
      repo,
      files,
      undefined,
      (file, e) => errors.push(`${file}: ${e.message}`),
      (file) => written.push(file),
      { groupRows: 100 },
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^g2: /);
    expect(written).toEqual(['g0', 'g1', 'g3', 'g4']);
    expect(s.resources).toBe(12);
    await expect(repo.read('Patient', '00000000-0000-4000-8000-000000030000')).rejects.toThrow(/not found/);
    expect((await repo.read('Patient', '00000000-0000-4000-8000-000000050002')).id).toBe('00000000-0000-4000-8000-000000050002');
    // Without a refusal, the Bundles of a group commit together: their rows share one transaction id.
    await importBundles(
      repo,
      [patients(6), patients(7), patients(8)].map((bundle, i) => ({ bundle, file: `h${i}` })),
      undefined,
      undefined,
      undefined,
      { groupRows: 100 },
    );
    const xids = await db.query<{ n: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM r_patient WHERE id LIKE '00000000-0000-4000-8000-0000000_000_' AND id >= '00000000-0000-4000-8000-000000060000'`,
    );
    expect(xids.rows[0]!.n).toBe(1);
    // Bundles given as file text are parsed and prepared on the worker thread; what is wrong with one is named.
    const textErrors: string[] = [];
    const t = await importBundles(
      repo,
      [
        { text: JSON.stringify(patients(9)), file: 't0' },
        { text: '{"resourceType": "Bundle", ', file: 't1' },
        { text: '{"resourceType": "Patient"}', file: 't2' },
      ],
      undefined,
      (file, e) => textErrors.push(`${file}: ${e.message}`),
    );
    expect(t.resources).toBe(3);
    expect(textErrors).toEqual([expect.stringMatching(/^t1: malformed JSON/), 't2: not a Bundle (use .ndjson for one resource per line)']);
    expect((await repo.read('Patient', '00000000-0000-4000-8000-000000090001')).id).toBe('00000000-0000-4000-8000-000000090001');
  });
});

it('COPY escaping round-trips', () => {
  const text = 'tab\there\nnew\\line\r{"a":"\\n"}';
  expect(unescapeCopy(escapeCopy(text))).toBe(text);
});

it('stamps version 1 into a copy of the meta, its other keys kept in their order', () => {
  loadDefinitions();
  const at = '2026-01-02T03:04:05.678Z';
  const content = (resource: Patient) => {
    const line = prepareBulkRow(resource, at, { text: true }).historyLine as string;
    return unescapeCopy(line.slice(line.lastIndexOf('\t') + 1, -1));
  };
  const meta = { profile: ['http://example.org/p'], versionId: '9', source: 'x', lastUpdated: '2020-01-01T00:00:00Z' };
  const given = { resourceType: 'Patient', id: 'm1', meta } as Patient;
  const stamped = { ...given };
  expect(content(stamped)).toBe(
    '{"resourceType":"Patient","id":"m1","meta":{"profile":["http://example.org/p"],"versionId":"1","source":"x","lastUpdated":"2026-01-02T03:04:05.678Z"}}',
  );
  // The resource is taken over, its meta object is not: a shallow copy's caller keeps its own.
  expect(stamped.meta).not.toBe(meta);
  expect(given.meta).toEqual({ profile: ['http://example.org/p'], versionId: '9', source: 'x', lastUpdated: '2020-01-01T00:00:00Z' });
  expect(content({ resourceType: 'Patient', id: 'm2' } as Patient)).toBe(
    '{"resourceType":"Patient","id":"m2","meta":{"versionId":"1","lastUpdated":"2026-01-02T03:04:05.678Z"}}',
  );
});
