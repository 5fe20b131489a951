/**
 * Resilience figures (issue #14), side by side with their targets:
 *
 *  - backend terminations under load (PostgreSQL): 10 rounds of terminating every backend of the
 *    server's database during a burst of writes: server up after each round, acknowledged writes
 *    lost, writes acknowledged / answered 503 / answered otherwise;
 *  - poison records: a change a processor fails on, with the production policy (POISON): seconds
 *    from the first failure to parked, and processors stalled meanwhile;
 *  - hostile inputs (the cases of src/fhir/hostile-inputs.cases.ts): answers of 500, timeouts,
 *    silent replacements;
 *  - 12 concurrent worst-case searches (OR lists and _include at the limits, chains, on a store of
 *    some thousands of resources): /healthz and patient read latency p50/p95/max beside them.
 *
 *   node --import tsx bench/resilience.bench.ts [--quick] [--only pglite|postgres] [--help]
 *   npm run bench -- --only resilience [--quick]
 *
 * --quick (< 2 minutes): fewer writes per round, a smaller store, fewer latency samples.
 */
import { Readable } from 'node:stream';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import {
  prepareTemplates,
  freshDatabase,
  postgresUrl,
  startTestServer,
  storeKinds,
  type StoreKind,
  useProductCache,
} from '../src/app/test-stores.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { FhirRepository } from '../src/fhir/repository.js';
import { importNdjson } from '../src/fhir/import.js';
import { FHIR_LIMITS } from '../src/fhir/limits.js';
import { runHostileCases } from '../src/fhir/hostile-inputs.cases.js';
import { ProcessorRunner, POISON } from '../src/platform/processors.js';
import { listProcessorDeadLetters } from '../src/platform/processor-dead-letters.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

const HELP = `Resilience figures (issue #14): backend terminations under load, poison records, hostile inputs,
health and read latency beside 12 worst-case searches.

  node --import tsx bench/resilience.bench.ts [--quick] [--only pglite|postgres] [--help]
  npm run bench -- --only resilience [--quick]

  --quick   short run (< 2 minutes): fewer writes per round, a smaller store, fewer samples
  --only    one store kind (the termination rounds need PostgreSQL)
  --sections terminations,poison,hostile,searches   only these parts (default all)`;

interface Options {
  quick: boolean;
  sections: string[];
  stores: StoreKind[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A test server; the migrated PostgreSQL template is made again if a run on another schema
 * (another checkout, a migration being written) dropped it meanwhile.
 */
async function retryTemplate<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if (!/template database .* does not exist/.test((err as Error).message)) throw err;
    await prepareTemplates();
    return make();
  }
}
const startServer = (kind: StoreKind) => retryTemplate(() => startTestServer(kind));

/** Runs a section and says how long it took. */
async function section<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await run();
  } finally {
    console.log(`  (${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}

export async function runResilienceBench(argv: string[] = []): Promise<void> {
  if (argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] as StoreKind) : undefined;
  const sections = argv.includes('--sections')
    ? argv[argv.indexOf('--sections') + 1]!.split(',')
    : ['terminations', 'poison', 'hostile', 'searches'];
  const opts: Options = { quick: argv.includes('--quick'), sections, stores: storeKinds().filter((k) => !only || k === only) };
  loadDefinitions();
  await prepareTemplates();

  // The poison record waits out its retries (about 30 s) in the background, beside the rest.
  const poison = sections.includes('poison') ? section('poison record', () => poisonRecords(opts)) : Promise.resolve([]);
  const terminations = !sections.includes('terminations')
    ? []
    : opts.stores.includes('postgres')
      ? await section('terminations', () => backendTerminations(opts))
      : undefined;
  const hostile: Record<string, string | number>[] = [];
  for (const kind of sections.includes('hostile') ? opts.stores : [])
    hostile.push(await section(`hostile inputs ${kind}`, () => hostileInputs(kind)));
  const poisoned = await poison;
  const latency: Record<string, string | number>[] = [];
  for (const kind of sections.includes('searches') ? opts.stores : [])
    latency.push(...(await section(`worst-case searches ${kind}`, () => latencyBesideWorstSearches(kind, opts))));

  const rows: Record<string, string | number>[] = [];
  if (terminations) rows.push(...terminations);
  else rows.push({ figure: 'backend terminations', store: '-', value: 'skipped: needs PostgreSQL', target: '' });
  rows.push(...poisoned);
  for (const h of hostile) rows.push(h);
  printTable('Resilience (issue #14)', rows);
  printTable('/healthz and a patient read beside 12 concurrent worst-case searches (ms)', latency);
}

// ---------------------------------------------------------------------------------------------
// Backend terminations under load
// ---------------------------------------------------------------------------------------------

async function backendTerminations(opts: Options): Promise<Record<string, string | number>[]> {
  const server = await startServer('postgres');
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    const dbName = new URL(server.db.url!).pathname.slice(1);
    const perRound = opts.quick ? 20 : 40;
    const acknowledged: string[] = [];
    const statuses = new Map<string, number>();
    let up = 0;
    let noRetryAfter = 0;
    let terminated = 0;
    for (let round = 0; round < 10; round++) {
      const writes = Array.from({ length: perRound }, (_, i) =>
        server
          .api('/fhir/Patient', {
            method: 'POST',
            body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `断线${round}`, given: [`${i}`] }] }),
          })
          .then(async (res) => {
            const key = String(res.status);
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
            if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
            else {
              if (res.status === 503 && !res.headers.get('retry-after')) noRetryAfter++;
              await res.body?.cancel();
            }
          })
          .catch(() => statuses.set('no answer', (statuses.get('no answer') ?? 0) + 1)),
      );
      await sleep(5 + round * 3);
      const t = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [dbName],
      );
      terminated += t.rows[0]!.n;
      await Promise.all(writes);
      // Up: /healthz answers 200 within 5 s of the burst.
      const deadline = Date.now() + 5000;
      for (;;) {
        const ok = await fetch(`${server.url}/healthz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) {
          up++;
          break;
        }
        if (Date.now() > deadline) break;
        await sleep(100);
      }
    }
    const stored = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM r_patient WHERE id = ANY($1::text[])`, [
      acknowledged,
    ]);
    const lost = acknowledged.length - stored.rows[0]!.n;
    const other = [...statuses].filter(([s]) => s !== '201' && s !== '503');
    return [
      { figure: 'terminations: server up after the round', store: 'postgres', value: `${up}/10`, target: '10/10' },
      { figure: 'terminations: acknowledged writes lost', store: 'postgres', value: lost, target: '0' },
      {
        figure: 'terminations: acknowledged / 503 (of sent)',
        store: 'postgres',
        value: `${statuses.get('201') ?? 0} / ${statuses.get('503') ?? 0} (of ${perRound * 10}; ${terminated} backends ended)`,
        target: 'all 201 or 503',
      },
      {
        figure: 'terminations: other answers, 503 without Retry-After',
        store: 'postgres',
        value: `${other.length ? other.map(([s, n]) => `${s}×${n}`).join(' ') : 0}, ${noRetryAfter}`,
        target: '0, 0',
      },
    ];
  } finally {
    await admin.end();
    await server.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Poison records
// ---------------------------------------------------------------------------------------------

async function poisonRecords(opts: Options): Promise<Record<string, string | number>[]> {
  const kind: StoreKind = opts.stores.includes('postgres') ? 'postgres' : 'pglite';
  const db = await retryTemplate(() => freshDatabase(kind));
  const runner = new ProcessorRunner(db, 1000, 200, POISON);
  try {
    const repo = new FhirRepository(db);
    let firstFailure = 0;
    const seen = new Map<string, number>();
    // A processor with a bug: it fails on one record (a Patient of unknown gender), as a real one
    // fails on a record it cannot handle; a healthy processor follows the same log beside it.
    runner.add({
      name: 'bench-poison',
      types: ['Patient'],
      handle: async (changes, client) => {
        for (const c of changes) {
          if ((c.resource as { gender?: string } | null)?.gender === 'unknown') {
            firstFailure ||= performance.now();
            await client.query('SELECT 1/0');
          }
          seen.set(`bench-poison:${c.id}`, performance.now());
        }
      },
    });
    runner.add({
      name: 'bench-healthy',
      types: ['Patient'],
      handle: async (changes) => {
        for (const c of changes) seen.set(`bench-healthy:${c.id}`, performance.now());
      },
    });
    await repo.update('Patient', 'before', { resourceType: 'Patient', id: 'before' });
    await repo.update('Patient', 'poison', { resourceType: 'Patient', id: 'poison', gender: 'unknown' });
    runner.start();
    runner.poke();
    // A change written while the poison one is retrying must be handled by both processors.
    while (!firstFailure) await sleep(20);
    await sleep(500);
    const afterWritten = performance.now();
    await repo.update('Patient', 'after', { resourceType: 'Patient', id: 'after' });
    runner.poke();
    let parkedAt = 0;
    const deadline = Date.now() + 120_000;
    while (!parkedAt && Date.now() < deadline) {
      if ((await listProcessorDeadLetters(db.pool, { status: 'parked' })).rows.length) parkedAt = performance.now();
      else await sleep(100);
    }
    // Stalled: a processor that had not handled the later change within 5 s of its write.
    const stalled = ['bench-poison', 'bench-healthy'].filter((p) => {
      const at = seen.get(`${p}:after`);
      return at === undefined || at - afterWritten > 5000;
    }).length;
    const lag = await runner.lag();
    return [
      { figure: 'poison: processors stalled', store: kind, value: stalled, target: '0' },
      {
        figure: 'poison: first failure → parked (POISON policy)',
        store: kind,
        value: parkedAt ? `${((parkedAt - firstFailure) / 1000).toFixed(1)} s` : 'not parked in 120 s',
        target: '< 60 s',
      },
      { figure: 'poison: processor lag once parked', store: kind, value: lag, target: '0' },
    ];
  } finally {
    await runner.stop();
    await db.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs
// ---------------------------------------------------------------------------------------------

async function hostileInputs(kind: StoreKind): Promise<Record<string, string | number>> {
  const server = await startServer(kind);
  try {
    const { tally, failures } = await runHostileCases(server);
    for (const f of failures.slice(0, 5)) console.log(`  [hostile ${kind}] ${f}`);
    const health = await fetch(`${server.url}/healthz`);
    return {
      figure: `hostile inputs: 500s / timeouts / replaced (of ${tally.cases})`,
      store: kind,
      value: `${tally.serverErrors} / ${tally.timeouts} / ${tally.replaced}${failures.length ? ` (${failures.length} other failures)` : ''}${health.status === 200 ? '' : `, /healthz ${health.status}`}`,
      target: '0 / 0 / 0',
    };
  } finally {
    await server.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Latency beside worst-case searches
// ---------------------------------------------------------------------------------------------

const FAMILIES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];

async function latencyBesideWorstSearches(kind: StoreKind, opts: Options): Promise<Record<string, string | number>[]> {
  const patients = opts.quick ? 1500 : 5000;
  const perPatient = 3;
  let t0 = Date.now();
  const server = await startServer(kind);
  console.log(`  (${kind}: server started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  try {
    // The processors would be linking thousands of residents during the measurement: not what is measured here.
    await server.processors.stop();
    const lines: string[] = [];
    for (let i = 0; i < patients; i++) {
      lines.push(
        JSON.stringify({
          resourceType: 'Patient',
          id: `rp${i}`,
          name: [{ family: FAMILIES[i % 10], given: [`民${i}`] }],
          gender: i % 2 ? 'male' : 'female',
          birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
        }),
      );
      for (let j = 0; j < perPatient; j++)
        lines.push(
          JSON.stringify({
            resourceType: 'Observation',
            id: `ro${i}-${j}`,
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: j ? '8480-6' : '8462-4' }] },
            subject: { reference: `Patient/rp${i}` },
            effectiveDateTime: `2025-0${1 + (j % 9)}-1${i % 10}`,
            valueQuantity: { value: 100 + (i % 60), unit: 'mmHg' },
          }),
        );
    }
    t0 = Date.now();
    const loaded = await importNdjson(server.repo, Readable.from(lines.map((l) => l + '\n')), 'bench');
    const or = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(',');
    const includes = [
      'Observation:subject',
      'Observation:patient',
      'Observation:performer',
      'Observation:encounter',
      'Observation:specimen',
    ];
    const worst = [
      `/fhir/Patient?name=${encodeURIComponent(or(FHIR_LIMITS.searchOrValues, (i) => `民${i * 7}`))}&_count=1000`,
      `/fhir/Observation?subject=${or(FHIR_LIMITS.searchOrValues, (i) => `Patient/rp${i * 3}`)}&_include=${includes.join('&_include=')}&_count=1000`,
      `/fhir/Observation?subject:Patient.name=${encodeURIComponent('民1')}&_count=1000`,
      `/fhir/Observation?code=8480-6&_include=Observation:subject&_count=1000`,
      `/fhir/Patient?family=${encodeURIComponent('王')}&_revinclude=Observation:subject&_count=1000`,
      `/fhir/Observation?value-quantity=${or(50, (i) => `gt${100 + i}`)}&_count=1000`,
    ];
    console.log(`  (${kind}: ${loaded.resources} resources imported in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    let stop = false;
    const searchStatus = new Map<number, number>();
    const searchers = Array.from({ length: 12 }, async (_, k) => {
      while (!stop) {
        const res = await server.api(worst[k % worst.length]!).catch(() => undefined);
        const status = res?.status ?? 0;
        searchStatus.set(status, (searchStatus.get(status) ?? 0) + 1);
        // Read to the end: a response cut off leaves the connection busy, and closing the
        // server then waits for Fastify's keep-alive timeout (72 s).
        await res?.arrayBuffer().catch(() => undefined);
      }
    });
    await sleep(500); // the searches are under way
    const samples = opts.quick ? 60 : 200;
    const until = Date.now() + (opts.quick ? 15_000 : 60_000);
    const health: number[] = [];
    const read: number[] = [];
    const failures = new Map<string, number>();
    for (let i = 0; i < samples && Date.now() < until; i++) {
      let t = performance.now();
      const h = await fetch(`${server.url}/healthz`);
      health.push(performance.now() - t);
      await h.body?.cancel();
      t = performance.now();
      const r = await server.api(`/fhir/Patient/rp${(i * 37) % patients}`);
      read.push(performance.now() - t);
      await r.body?.cancel();
      for (const [what, status] of [
        ['healthz', h.status],
        ['read', r.status],
      ] as const)
        if (status !== 200) failures.set(`${what} ${status}`, (failures.get(`${what} ${status}`) ?? 0) + 1);
      await sleep(50);
    }
    stop = true;
    t0 = Date.now();
    await Promise.all(searchers);
    console.log(`  (${kind}: the searches in flight ended in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const row = (what: string, xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return {
        store: kind,
        request: what,
        p50: Math.round(percentile(s, 50)),
        p95: Math.round(percentile(s, 95)),
        max: Math.round(s[s.length - 1]!),
        target: '< 200',
        'store size': loaded.resources,
        'searches: answers': [...searchStatus].map(([s, n]) => `${s}×${n}`).join(' '),
        'not 200': [...failures].map(([s, n]) => `${s}×${n}`).join(' ') || 0,
      };
    };
    return [row('/healthz', health), row('Patient read', read)];
  } finally {
    t0 = Date.now();
    await server.close();
    console.log(`  (${kind}: server closed in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    t0 = Date.now();
    await (server.db as typeof server.db & { dispose(): Promise<void> }).dispose();
    console.log(`  (${kind}: database dropped in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (!process.env.YIFANG_TEST_PG_URL && !process.argv.includes('--help')) {
    const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    if (
      await c.connect().then(
        () => true,
        () => false,
      )
    )
      process.env.YIFANG_TEST_PG_URL = url;
    await c.end().catch(() => undefined);
  }
  await runResilienceBench(process.argv.slice(2));
  process.exit(0);
}
