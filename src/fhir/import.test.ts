import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { describeEachStore, repoRoot, sharedDir } from '../app/testing.js';
import { importPath } from './import.js';

const run = promisify(execFile);
const ndjsonDir = path.join(sharedDir, 'data/synthea-bulk-ndjson-10-patients');

describeEachStore('bulk import', (server) => {
  it('imports the Synthea bulk export and finds every resource again', async () => {
    const stats = await importPath(server().repo, ndjsonDir);
    expect(stats.errors).toEqual([]);
    let expected = 0;
    for (const f of fs.readdirSync(ndjsonDir).filter((f) => f.endsWith('.ndjson') && !f.startsWith('log'))) {
      expected += fs
        .readFileSync(path.join(ndjsonDir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim()).length;
    }
    expect(stats.resources).toBe(expected);
    const lines = (f: string) =>
      fs
        .readFileSync(path.join(ndjsonDir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim()).length;
    const patients = (await (await server().api('/fhir/Patient?_summary=count')).json()) as Bundle;
    expect(patients.total).toBe(lines('Patient.000.ndjson'));
    const encounters = (await (await server().api('/fhir/Encounter?_summary=count')).json()) as Bundle;
    const encounterLines = fs.readFileSync(path.join(ndjsonDir, 'Encounter.000.ndjson'), 'utf8').split('\n').filter(Boolean).length;
    expect(encounters.total).toBe(encounterLines);
    // A second import makes new versions, not duplicates.
    const again = await importPath(server().repo, path.join(ndjsonDir, 'Patient.000.ndjson'));
    expect(again.resources).toBe(lines('Patient.000.ndjson'));
    const first = JSON.parse(fs.readFileSync(path.join(ndjsonDir, 'Patient.000.ndjson'), 'utf8').split('\n')[0]!) as { id: string };
    const p = (await (await server().api(`/fhir/Patient/${first.id}`)).json()) as { meta: { versionId: string } };
    expect(p.meta.versionId).toBe('2');
  });

  it('keeps good lines and names each bad line over HTTP, streaming NDJSON', async () => {
    const body = [
      JSON.stringify({ resourceType: 'Patient', id: 'imp-1', name: [{ text: '导入一' }] }),
      '{"resourceType": "Patient", "id": "imp-2", ',
      JSON.stringify({ resourceType: 'Patient', id: 'imp-3', unknownThing: 1 }),
      JSON.stringify({
        resourceType: 'Observation',
        id: 'imp-4',
        status: 'final',
        code: { text: '体温' },
        subject: { reference: 'Patient/imp-1' },
        valueQuantity: { value: 38.5, unit: 'Cel' },
      }),
      '',
    ].join('\n');
    const res = await server().api('/api/import', { method: 'POST', body, headers: { 'content-type': 'application/fhir+ndjson' } });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { resources: number; errors: { line: number; message: string }[] };
    expect(stats.resources).toBe(2);
    expect(stats.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(stats.errors[0]!.message).toMatch(/malformed JSON/);
    expect(stats.errors[1]!.message).toMatch(/unknownThing/);
    expect((await server().api('/fhir/Observation/imp-4')).status).toBe(200);
  });

  it('imports a transaction Bundle through the HTTP endpoint', async () => {
    const file = fs.readdirSync(path.join(sharedDir, 'data/synthea-fhir-r4-bundles')).find((f) => f.startsWith('Kallie862'))!;
    const bundle = fs.readFileSync(path.join(sharedDir, 'data/synthea-fhir-r4-bundles', file), 'utf8');
    // Its conditional references name shared organisations: load those first.
    for (const shared of ['hospitalInformation1596649672088.json', 'practitionerInformation1596649672088.json']) {
      const r = await server().api('/api/import', {
        method: 'POST',
        body: fs.readFileSync(path.join(sharedDir, 'data/synthea-fhir-r4-bundles', shared), 'utf8'),
      });
      expect(r.status).toBe(200);
    }
    const res = await server().api('/api/import', { method: 'POST', body: bundle });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { resources: number }).resources).toBe((JSON.parse(bundle) as Bundle).entry!.length);
  });
});

it('yifang import shows help, rejects a missing path and imports with progress', async () => {
  const cli = path.join(repoRoot, 'bin/yifang.js');
  const help = await run(cli, ['import', '--help']);
  expect(help.stdout).toMatch(/NDJSON/);
  await expect(run(cli, ['import', '/no/such/path'])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/path '\/no\/such\/path' does not exist/),
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-cli-'));
  try {
    const out = await run(cli, ['import', path.join(ndjsonDir, 'Patient.000.ndjson')], {
      env: { ...process.env, YIFANG_DATA_DIR: dataDir, DATABASE_URL: '' },
    });
    expect(out.stdout).toMatch(/^13 resources from 1 files/m);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
