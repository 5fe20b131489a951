/**
 * Issue #19 figures for automatic contact candidates:
 *
 * (a) Recall and precision per contact kind on a simulated district (default 20,000 residents ×
 *     365 days, seed 7): the district goes in through the product's import paths and an
 *     investigation is opened for every symptomatic outbreak case (src/cli/evaluate-contacts, the
 *     same code as `yifang evaluate contacts`). Targets: recall ≥ 0.95, precision ≥ 0.6.
 * (b) Latency of POST /api/investigations/:id/candidates/compute (target < 2 s p95 at
 *     1,000,000 residents). Loading a simulated million-resident district through the product
 *     takes hours on this machine, so the large district is built where the query cost lies:
 *     the stays index (inv_stay) holds a year of encounters of `--stay-residents` residents
 *     (1.9 encounters a resident a year, as the simulator writes, each a ward and a department
 *     row, over 400 places per kind with the busiest taking ~5 %), written by SQL; `--residents`
 *     Patients and their household Groups go in through the FHIR bulk import (the Group search
 *     is an index lookup, so its cost hardly grows with the table). The cases stay at the
 *     busiest places around their onset.
 *
 *   node --import tsx bench/contacts.bench.ts [--population 20000] [--days 365] [--dir DIR]
 *       [--residents 100000] [--stay-residents 1000000] [--cases 30] [--rounds 3]
 *       [--store postgres|pglite] [--only recall|latency] [--quick]
 */
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { importNdjson } from '../src/fhir/import.js';
import { postgresUrl, prepareTemplates, startTestServer, type StoreKind, useProductCache } from '../src/app/test-stores.js';
import { evaluateContacts, TARGETS } from '../src/cli/evaluate-contacts/index.js';
import { addDays, todayInChina } from '../src/shared/dates.js';
import { simulatorFingerprint } from '../src/simulator/index.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

const log = (m: string) => process.stderr.write(`[contacts] ${m}\n`);
const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(3));

async function recallPart(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const population = Number(arg(argv, 'population', quick ? '5000' : '20000'));
  const days = Number(arg(argv, 'days', '365'));
  const seed = Number(arg(argv, 'seed', '7'));
  const dir = arg(argv, 'dir', path.join(os.tmpdir(), `yifang-contacts-${seed}-${population}-${days}-${simulatorFingerprint()}`));
  const r = await evaluateContacts(dir, { seed, population, days, log });
  const rows = [...r.rows, r.overall]
    .filter((k) => k.truth > 0 || k.candidates > 0 || k.kind === 'overall')
    .map((k) => ({
      kind: k.kind,
      'true contacts': k.truth,
      found: k.found,
      recall: fmt(k.recall),
      [`recall ≥ ${TARGETS.recall}`]: k.recall === null ? '—' : k.recall >= TARGETS.recall ? 'met' : 'NOT met',
      candidates: k.candidates,
      correct: k.correct,
      precision: fmt(k.precision),
      [`precision ≥ ${TARGETS.precision}`]: k.precision === null ? '—' : k.precision >= TARGETS.precision ? 'met' : 'NOT met',
    }));
  printTable(
    `Contact candidates vs the simulator's truth: ${population} residents × ${days} days (seed ${seed}), ${r.cases} cases investigated ` +
      `(skipped ${r.skipped.carriers} carriers, ${r.skipped.noRule} salmonellosis cases without rules, ${r.skipped.refused} refused); ` +
      `load ${r.seconds.load.toFixed(0)} s, investigations ${r.seconds.investigate.toFixed(0)} s`,
    rows,
  );
}

const FAMILY = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂';

async function latencyPart(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const residents = Number(arg(argv, 'residents', quick ? '20000' : '100000'));
  const stayResidents = Number(arg(argv, 'stay-residents', quick ? '200000' : '1000000'));
  const cases = Number(arg(argv, 'cases', quick ? '10' : '30'));
  const rounds = Number(arg(argv, 'rounds', '3'));
  const kind = arg(argv, 'store', postgresUrl() ? 'postgres' : 'pglite') as StoreKind;
  await prepareTemplates();
  const server = await startTestServer(kind);
  try {
    await server.processors.stop();
    const t0 = performance.now();
    // Residents in households of three, with their household Groups, through the bulk import.
    const hh = Math.ceil(residents / 3);
    const lines = function* (): Generator<string> {
      for (let i = 0; i < residents; i++)
        yield (
          JSON.stringify({
            resourceType: 'Patient',
            id: `r-${i}`,
            name: [{ use: 'official', text: `${FAMILY[i % 20]}${GIVEN[Math.floor(i / 20) % 25]}${GIVEN[i % 7]}` }],
            gender: i % 2 ? 'male' : 'female',
            birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9}`,
          }) + '\n'
        );
      for (let h = 0; h < hh; h++)
        yield (
          JSON.stringify({
            resourceType: 'Group',
            id: `hh-${h}`,
            type: 'person',
            actual: true,
            active: true,
            code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/group-kind', code: 'household' }] },
            name: `户 ${h}`,
            member: [0, 1, 2].filter((k) => 3 * h + k < residents).map((k) => ({ entity: { reference: `Patient/r-${3 * h + k}` } })),
          }) + '\n'
        );
    };
    await importNdjson(server.repo, Readable.from(lines()), 'contacts-bench');
    const tImport = (performance.now() - t0) / 1000;
    log(`${residents} Patients and ${hh} household Groups imported in ${tImport.toFixed(0)} s (${kind})`);
    // A year of stays of `stayResidents` residents: 1.9 encounters each, a ward and a department row.
    const t1 = performance.now();
    const encounters = Math.round(stayResidents * 1.9);
    await server.db.query('DROP INDEX IF EXISTS inv_stay_place, inv_stay_patient, inv_stay_encounter');
    for (let from = 0; from < encounters; from += 500_000) {
      const to = Math.min(encounters, from + 500_000);
      await server.db.query(
        `INSERT INTO inv_stay (encounter_id, patient_id, kind, place_key, label, start_at, end_at)
         SELECT 'enc-' || g, 'p-' || (g % $3), k.kind, k.kind || '|org-' || (p % 40) || '|place-' || p, 'place ' || p, s,
                s + CASE WHEN g % 20 = 0 THEN interval '5 days' ELSE interval '20 minutes' + (g % 70) * interval '1 minute' END
           FROM generate_series($1::int, $2::int) g,
                LATERAL (SELECT floor(400 * power(((g * 2654435761::bigint) % 1000003) / 1000003.0, 2))::int AS p,
                                now() - ((g * 40503::bigint) % 525600) * interval '1 minute' AS s) x,
                (VALUES ('ward'), ('department')) k(kind)`,
        [from + 1, to, stayResidents],
      );
      log(`stays: ${to * 2} of ${encounters * 2} rows`);
    }
    await server.db.query('CREATE INDEX inv_stay_place ON inv_stay (place_key, start_at)');
    await server.db.query('CREATE INDEX inv_stay_patient ON inv_stay (patient_id, start_at)');
    await server.db.query('CREATE INDEX inv_stay_encounter ON inv_stay (encounter_id)');
    await server.db.query('ANALYZE inv_stay');
    const tStays = (performance.now() - t1) / 1000;
    log(`${encounters * 2} stay rows written and indexed in ${tStays.toFixed(0)} s`);
    // The cases: residents spread over the imported ones, onset 10-40 days ago, at the busiest places.
    const today = todayInChina();
    const ids: number[] = [];
    for (let k = 0; k < cases; k++) {
      const patient = `r-${Math.floor((k * residents) / cases)}`;
      const onset = addDays(today, -10 - (k % 30));
      for (const [n, p] of [0, 1, 2 + (k % 5)].entries())
        for (const kind2 of ['ward', 'department'])
          await server.db.query(
            `INSERT INTO inv_stay (encounter_id, patient_id, kind, place_key, label, start_at, end_at)
             VALUES ($1, $2, $3, $4, $5, $6::date + interval '10 hours' + $7 * interval '1 day', $6::date + interval '11 hours' + $7 * interval '1 day')`,
            [`case-${k}-${n}`, patient, kind2, `${kind2}|org-${p % 40}|place-${p}`, `place ${p}`, onset, n],
          );
      const res = await server.api('/api/investigations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ patientId: patient, diseaseCode: 'measles', onsetDate: onset }),
      });
      const body = (await res.json()) as { id: number };
      if (res.status !== 201 && res.status !== 200) throw new Error(`open investigation: HTTP ${res.status} ${JSON.stringify(body)}`);
      ids.push(body.id);
    }
    const ms: number[] = [];
    let candidates = 0;
    for (let r = 0; r < rounds; r++)
      for (const id of ids) {
        const t = performance.now();
        const res = await server.api(`/api/investigations/${id}/candidates/compute`, { method: 'POST' });
        const body = (await res.json()) as { items: unknown[] };
        if (res.status !== 200) throw new Error(`compute: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        ms.push(performance.now() - t);
        candidates += body.items.length;
      }
    ms.sort((a, b) => a - b);
    const p95 = percentile(ms, 95);
    printTable(
      `Contact candidates computed (POST /api/investigations/:id/candidates/compute), ${kind}: stays of ${stayResidents.toLocaleString('en')} residents × 1 year ` +
        `(${(encounters * 2).toLocaleString('en')} rows), ${residents.toLocaleString('en')} Patients with household Groups; setup ${(tImport + tStays).toFixed(0)} s`,
      [
        {
          store: kind,
          cases,
          computations: ms.length,
          'candidates per case (mean)': Math.round(candidates / ms.length),
          'p50 ms': Math.round(percentile(ms, 50)),
          'p95 ms': Math.round(p95),
          'max ms': Math.round(ms[ms.length - 1]!),
          'target < 2,000 ms p95 at 1,000,000':
            stayResidents >= 1_000_000 ? (p95 < 2000 ? 'met' : 'NOT met') : `(measured at ${stayResidents})`,
        },
      ],
    );
  } finally {
    await server.dispose();
  }
}

export async function runContactsBench(argv: string[] = []): Promise<void> {
  const only = arg(argv, 'only', '');
  if (only !== 'latency') await recallPart(argv);
  if (only !== 'recall') await latencyPart(argv);
}

if (process.argv[1]?.endsWith('contacts.bench.ts')) {
  if (process.argv.includes('--help')) {
    console.log(
      'node --import tsx bench/contacts.bench.ts [--population 20000] [--days 365] [--seed 7] [--dir DIR] [--residents 100000] [--stay-residents 1000000] [--cases 30] [--rounds 3] [--store postgres|pglite] [--only recall|latency] [--quick]',
    );
  } else await runContactsBench(process.argv.slice(2));
}
