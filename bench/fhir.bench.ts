/**
 * Health-data hub benchmark (issues #2, #23): bulk import throughput for the Synthea NDJSON and
 * Bundles repeated to at least 200,000 resources, each beside its ceiling (COPY of the same
 * resources into a table of id and content only); then, with 1,000,000 resources in the store,
 * p50/p95 latency over HTTP of a patient read, a patient search and Patient/$everything for a
 * resident with 500 resources; and transaction Bundles POSTed to /fhir by one and by four clients
 * with the change-log processors running, on a fresh store and on the big one — PGlite and
 * PostgreSQL side by side.
 *
 *   node --import tsx bench/fhir.bench.ts [--resources 200000] [--store-size 1000000] [--samples 300]
 *     [--rest-resources 20000] [--only pglite|postgres] [--no-processors] [--sections import,latency,rest]
 *     [--cpu-profile DIR]
 *
 * Import is measured twice per store kind: as `yifang import` runs (processors stopped; the
 * figure the targets are for) and into a server whose change-log processors follow it.
 * --no-processors skips the second. The big store is grown once, through the bulk path, to
 * --store-size history rows (npm run bench -- --quick: 50,000). REST clients run in a child
 * process; one client sends --rest-resources resources, four clients twice as many. After the
 * last response the bench waits for the processors to catch up and prints how long that took.
 * --cpu-profile writes the server's main-thread CPU profile of each REST run.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { escapeCopy, escapeCopyJson } from '../src/fhir/copy-format.js';
import { importBundles, importNdjson, prepareNdjsonLine } from '../src/fhir/import.js';
import { writeBulkRows, type BulkRow } from '../src/fhir/bulk-write.js';
import { openDatabase, type Database } from '../src/platform/db.js';
import { startServer } from '../src/app/server.js';
import {
  freshDatabase,
  prepareTemplates,
  startTestServer,
  type StoreKind,
  type TestServer,
  useProductCache,
} from '../src/app/test-stores.js';
import { cpuPerUnit, cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { syntheaResources, writeRepeatedNdjson } from './fhir-data.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

interface Options {
  resources: number;
  storeSize: number;
  stores: StoreKind[];
  samples: number;
  processorModes: ('stopped' | 'following')[];
  /** Resources the one-client REST run sends (four clients send twice as many). */
  restResources: number;
  sections: Set<string>;
  profileDir?: string;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = get('only') as StoreKind | undefined;
  const stores: StoreKind[] = only ? [only] : process.env.YIFANG_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];
  const processorModes: ('stopped' | 'following')[] = argv.includes('--no-processors') ? ['stopped'] : ['stopped', 'following'];
  return {
    resources: Number(get('resources') ?? 200_000),
    storeSize: Number(get('store-size') ?? 1_000_000),
    stores,
    samples: Number(get('samples') ?? 300),
    processorModes,
    restResources: Number(get('rest-resources') ?? 20_000),
    sections: new Set((get('sections') ?? 'import,latency,rest').split(',')),
    profileDir: get('cpu-profile'),
  };
}

/**
 * Synthea transaction Bundles as JSON text with fresh urn:uuid ids per copy (their references
 * are urn:uuid), copies numbered from `firstCopy` (runs that must not repeat one another's
 * identifiers take different ranges). Made before the clock starts: renumbering ids is the
 * bench's work, not the import's; parsing the text is timed, as `yifang import` parses each file.
 */
export function repeatedBundleTexts(total: number, firstCopy = 0): { text: string; entries: number }[] {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/data/synthea-fhir-r4-bundles');
  const texts = fs
    .readdirSync(dir)
    .filter((f) => /^[A-Z]/.test(f) && f.endsWith('.json'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const entries = texts.map((t) => (JSON.parse(t) as Bundle).entry?.length ?? 0);
  const out: { text: string; entries: number }[] = [];
  let made = 0;
  for (let k = firstCopy; made < total; k++) {
    for (let i = 0; i < texts.length && made < total; i++) {
      // Conditional references point at shared organisations not loaded here: drop them.
      out.push({
        text: texts[i]!.replace(
          /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)([0-9a-f]{12})/g,
          (_m, head: string, tail: string) =>
            `${head}${(parseInt(tail.slice(0, 6), 16) ^ k).toString(16).padStart(6, '0')}${tail.slice(6)}`,
        ).replace(/"reference":\s*"[A-Za-z]+\?[^"]*"/g, '"display":"conditional reference"'),
        entries: entries[i]!,
      });
      made += entries[i]!;
    }
  }
  return out;
}

const load = () => os.loadavg()[0]!.toFixed(1);
const cpuPer = (since: NodeJS.CpuUsage, n: number) => {
  const c = process.cpuUsage(since);
  return Math.round((c.user + c.system) / n);
};

async function timeRequests(label: string, n: number, fn: (i: number) => Promise<Response>): Promise<Record<string, string | number>> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fn(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { request: label, n, 'p50 ms': percentile(times, 50), 'p95 ms': percentile(times, 95) };
}

type BenchServer = TestServer & { dispose(): Promise<void> };

/**
 * A server on a fresh store, as production runs it: on PostgreSQL with the default pool (twelve
 * connections, so four clients of one user are not held back by the test stores' pool of four).
 */
async function startBenchServer(kind: StoreKind): Promise<BenchServer> {
  if (kind === 'pglite') return startTestServer(kind);
  const base = await freshDatabase(kind);
  const db = await openDatabase({ databaseUrl: base.url });
  const server = await startServer({ db, port: 0, mllpPort: 0, quiet: true, adminPassword: 'bench-admin-pw' });
  await server.auth.addUser({ username: 'admin', password: 'bench-admin-pw', roles: ['admin'] });
  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-pw' }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${server.url}${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/fhir+json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  return Object.assign(server, {
    kind,
    token,
    api,
    async dispose() {
      await server.close();
      await db.close().catch(() => undefined);
      await base.dispose();
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The ceiling: COPY of the same resources into (id primary key, content json)
// ---------------------------------------------------------------------------------------------

const CEILING_BATCH = { postgres: 10_000, pglite: 5_000 } as const;

/**
 * COPY lines into a table holding only the id (primary key) and the content (json), a batch per
 * transaction (synchronous_commit off, as imports), the next batch read while the previous one is
 * written. The least any store must do with these resources: what the import is measured against.
 */
async function copyCeiling(db: Database, batches: AsyncIterable<string[]> | Iterable<string[]>): Promise<number> {
  const table = `bench_ceiling_${process.pid}`;
  await db.query(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id text PRIMARY KEY, content json)`);
  // Content compressed as history's is (LZ4 where the server has it).
  const compression = await db.query<{ c: string | null }>(
    `SELECT attcompression::text AS c FROM pg_attribute WHERE attrelid = 'resource_history'::regclass AND attname = 'content'`,
  );
  if (compression.rows[0]?.c === 'l') await db.query(`ALTER TABLE ${table} ALTER COLUMN content SET COMPRESSION lz4`);
  let rows = 0;
  let inflight: Promise<void> | undefined;
  try {
    for await (const lines of batches) {
      await inflight;
      rows += lines.length;
      inflight = db.transaction(async (client) => {
        if (db.kind === 'postgres') await client.query('SET LOCAL synchronous_commit = off');
        await db.copyFrom(client, table, ['id', 'content'], Buffer.from(lines.join(''), 'utf8'));
      });
    }
    await inflight;
  } finally {
    await inflight?.catch(() => undefined);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
  }
  return rows;
}

/** The NDJSON file's lines as COPY lines: the id taken from the text, the line kept as it is. */
async function* ndjsonCeilingBatches(file: string, size: number): AsyncGenerator<string[]> {
  let lines: string[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const id = /"id":"([^"]+)"/.exec(line)![1]!;
    lines.push(`${escapeCopy(id)}\t${escapeCopyJson(line)}\n`);
    if (lines.length >= size) {
      yield lines;
      lines = [];
    }
  }
  if (lines.length) yield lines;
}

/** The Bundles' resources as COPY lines: each Bundle parsed, every resource written out again. */
function* bundleCeilingBatches(texts: { text: string }[], size: number): Generator<string[]> {
  let lines: string[] = [];
  for (const { text } of texts) {
    for (const e of (JSON.parse(text) as Bundle).entry ?? []) {
      lines.push(`${escapeCopy(e.fullUrl!.replace(/^urn:uuid:/, ''))}\t${escapeCopyJson(JSON.stringify(e.resource))}\n`);
    }
    if (lines.length >= size) {
      yield lines;
      lines = [];
    }
  }
  if (lines.length) yield lines;
}

/**
 * The store's own writes alone: the same resources (new ids) prepared beforehand as the import
 * prepares them, then written batch by batch as the import writes them, with the time per table.
 * What the import would reach if reading, parsing, validating and encoding cost nothing.
 */
async function writesAloneRate(db: Database, file: string): Promise<{ rate: number; split: string }> {
  const at = new Date().toISOString();
  const rows: BulkRow[] = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity }))
    if (line) rows.push(prepareNdjsonLine(line, at));
  const spent = { 'type tables': 0, resource_history: 0, string_search: 0 };
  const timed: Database = {
    ...db,
    copyFrom: async (client, table, columns, data) => {
      const t0 = performance.now();
      await db.copyFrom(client, table, columns, data);
      const key = table === 'resource_history' || table === 'string_search' ? table : 'type tables';
      spent[key] += performance.now() - t0;
    },
  };
  const batch = CEILING_BATCH[db.kind];
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batch) await db.transaction((client) => writeBulkRows(timed, client, rows.slice(i, i + batch)));
  const rate = Math.round(rows.length / ((performance.now() - t0) / 1000));
  return {
    rate,
    split: Object.entries(spent)
      .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
      .join(', '),
  };
}

/** Times a ceiling run: resources per second. */
async function ceilingRate(db: Database, batches: AsyncIterable<string[]> | Iterable<string[]>): Promise<number> {
  const t0 = performance.now();
  const n = await copyCeiling(db, batches);
  return Math.round(n / ((performance.now() - t0) / 1000));
}

// ---------------------------------------------------------------------------------------------
// Transaction Bundles over REST
// ---------------------------------------------------------------------------------------------

interface RestJob {
  url: string;
  token: string;
  clients: number;
  resources: number;
  firstCopy: number;
  /** Bundles sent (one client) before `ready`, to warm the server's code and plans. */
  warm: number;
}

interface RestResult {
  bundles: number;
  resources: number;
  seconds: number;
  latencies: number[];
  failures: number;
  firstFailure?: string;
  cpuMs: number;
}

/** POSTs transaction Bundles from `clients` loops, each sending its next Bundle when the last is answered. */
async function postBundles(job: RestJob, texts: { text: string; entries: number }[]): Promise<RestResult> {
  let next = 0;
  const latencies: number[] = [];
  let resources = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const loop = async () => {
    while (next < texts.length) {
      const { text, entries } = texts[next++]!;
      const t0 = performance.now();
      const res = await fetch(`${job.url}/fhir`, {
        method: 'POST',
        headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/fhir+json' },
        body: text,
      });
      const body = await res.text();
      latencies.push(performance.now() - t0);
      if (res.status === 200) resources += entries;
      else {
        failures++;
        firstFailure ??= `HTTP ${res.status}: ${body.slice(0, 300)}`;
      }
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.clients }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { bundles: texts.length, resources, seconds, latencies, failures, firstFailure, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The clients' side, in a process of their own (as other systems would be): Bundles made first. */
async function restClientMain(): Promise<void> {
  const job = await new Promise<RestJob>((resolve) => process.once('message', (m) => resolve(m as RestJob)));
  for (let i = 0; i < job.warm; i++) await postBundles({ ...job, clients: 1 }, repeatedBundleTexts(1, job.firstCopy + 500 + i));
  const texts = repeatedBundleTexts(job.resources, job.firstCopy);
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  process.send!('ready');
  await go;
  const result = await postBundles(job, texts);
  process.send!(result, () => process.exit(0));
}

async function profiled<T>(dir: string | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!dir) return fn();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * CPU ticks of this store's PostgreSQL backends by pid (intake and processor connections; the
 * machine's other databases, which other work on this host uses, are left out). Empty on PGlite.
 */
async function backendTicks(server: BenchServer): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (server.kind !== 'postgres') return out;
  const pids = await server.db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  for (const { pid } of pids.rows) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // Not on this host (or gone): not counted.
    }
  }
  return out;
}

const settle = async (server: BenchServer) => {
  while ((await server.processors.lag()) > 0) await new Promise((r) => setTimeout(r, 50));
};

/**
 * Transaction Bundles POSTed to /fhir by `clients` concurrent clients in a child process, the
 * server's processors running. Throughput, Bundle latency, CPU per resource by part, and how long
 * after the last response the processors have caught up.
 */
async function runRest(
  server: BenchServer,
  label: string,
  clients: number,
  resources: number,
  firstCopy: number,
  profileDir: string | undefined,
): Promise<Record<string, string | number>> {
  const child = fork(fileURLToPath(import.meta.url), ['--rest-client'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let cpu0: CpuSnapshot | null = null;
  let pg0 = new Map<number, number>();
  const history = async () => Number((await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_history')).rows[0]!.n);
  const historyBefore = await history();
  const job: RestJob = { url: server.url, token: server.token, clients, resources, firstCopy, warm: 4 };
  const result = await profiled(
    profileDir,
    `rest-${server.kind}-${clients}-${label.replace(/\W+/g, '_')}`,
    () =>
      new Promise<RestResult>((resolve, reject) => {
        child.on('message', (m) => {
          if (m === 'ready') {
            // Warmed up: the processors catch up with the warm-up before the clock starts.
            void settle(server)
              .then(async () => {
                pg0 = await backendTicks(server);
                cpu0 = cpuSnapshot();
                child.send('go');
              })
              .catch(reject);
          } else resolve(m as RestResult);
        });
        child.once('error', reject);
        child.once('exit', (code) => (code ? reject(new Error(`bench client exited with ${code}`)) : undefined));
        child.send(job);
      }),
  );
  const answered = performance.now();
  const cpu = cpuPerUnit(cpu0, cpuSnapshot(), result.resources / 1000);
  let pgTicks = 0;
  for (const [pid, t] of await backendTicks(server)) pgTicks += t - (pg0.get(pid) ?? 0);
  const lagAtEnd = await server.processors.lag();
  await settle(server);
  const caughtUp = (performance.now() - answered) / 1000;
  const lat = result.latencies.sort((a, b) => a - b);
  if (result.failures) console.error(`[bench rest] ${result.failures} Bundles failed; first: ${result.firstFailure}`);
  return {
    store: server.kind,
    run: label,
    clients,
    'history rows before': historyBefore,
    bundles: result.bundles,
    failed: result.failures,
    resources: result.resources,
    seconds: result.seconds,
    'resources/s': Math.round(result.resources / result.seconds),
    'Bundle p50 ms': Math.round(percentile(lat, 50)),
    'Bundle p95 ms': Math.round(percentile(lat, 95)),
    'CPU ms/1k res main': cpu?.mainThread ?? '',
    'other threads': cpu?.otherThreads ?? '',
    "this store's backends": server.kind === 'postgres' ? ((pgTicks * 10) / (result.resources / 1000)).toFixed(2) : '',
    'all postgres': cpu?.postgres ?? '',
    machine: cpu?.machineBusy ?? '',
    'behind at end': lagAtEnd,
    'caught up after s': caughtUp.toFixed(2),
    'load 1m': load(),
  };
}

// ---------------------------------------------------------------------------------------------

export async function runFhirBench(argv: string[] = []): Promise<void> {
  const opts = parseArgs(argv);
  loadDefinitions();
  await prepareTemplates();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-bench-'));
  const ndjson = path.join(tmp, 'repeated.ndjson');
  const written = opts.sections.has('import') ? writeRepeatedNdjson(ndjson, opts.resources) : 0;
  const importRows: Record<string, string | number>[] = [];
  const latencyRows: Record<string, string | number>[] = [];
  const restRows: Record<string, string | number>[] = [];

  // PostgreSQL first: its template database is the one other test runs may replace meanwhile.
  for (const kind of [...opts.stores].sort((a, b) => (a === 'postgres' ? -1 : b === 'postgres' ? 1 : 0))) {
    // Transaction Bundles over REST into a fresh store, processors running: one client, then four.
    let processorNames: string[] = [];
    if (opts.sections.has('rest')) {
      let server: BenchServer | undefined;
      try {
        server = await startBenchServer(kind);
        restRows.push({
          ...(await runRest(server, 'fresh store', 1, opts.restResources, 1000, opts.profileDir)),
          target: '≥ 1,500/s, caught up ≤ 2 s',
        });
        restRows.push({
          ...(await runRest(server, 'fresh store', 4, opts.restResources * 2, 2000, opts.profileDir)),
          target: kind === 'postgres' ? '≥ 3,000/s' : '',
        });
        processorNames = (await server.db.query<{ processor: string }>('SELECT processor FROM processor_cursor')).rows.map(
          (r) => r.processor,
        );
      } catch (err) {
        restRows.push({ store: kind, run: `failed: ${(err as Error).message}` });
      } finally {
        await server?.dispose();
      }
    }

    // Two stores per kind. The first takes the imports as `yifang import` does (the change-log
    // processors do not run; a server works through the backlog when it starts), is then grown
    // to the target size and serves the latency figures and the REST figures on a big store.
    // The second takes the same imports into a running server whose processors (identity,
    // surveillance, chronic care) follow them.
    for (const processors of opts.processorModes) {
      if (processors === 'following' && !opts.sections.has('import')) continue;
      let started: BenchServer | undefined;
      try {
        const server = await startBenchServer(kind);
        started = server;
        if (processors === 'stopped') await server.processors.stop();
        const label = processors === 'stopped' ? 'stopped (yifang import)' : 'following (server)';
        const target = processors === 'stopped' ? (kind === 'postgres' ? '≥ 10,000/s, ≥ 50 % of ceiling' : '≥ 5,000/s') : '';
        let inStore = 0;
        if (opts.sections.has('import')) {
          // 1. NDJSON bulk import, and the COPY ceiling for the same file.
          let t0 = performance.now();
          let cpu0 = process.cpuUsage();
          const s1 = await importNdjson(server.repo, fs.createReadStream(ndjson), 'bench');
          let sec = (performance.now() - t0) / 1000;
          const ndjsonRate = Math.round(s1.resources / sec);
          const ndjsonCeiling =
            processors === 'stopped' ? await ceilingRate(server.db, ndjsonCeilingBatches(ndjson, CEILING_BATCH[kind])) : 0;
          importRows.push({
            store: kind,
            input: 'Synthea NDJSON (repeated)',
            processors: label,
            resources: s1.resources,
            seconds: sec,
            'resources/s': ndjsonRate,
            'COPY ceiling /s': ndjsonCeiling || '',
            'of ceiling': ndjsonCeiling ? `${Math.round((100 * ndjsonRate) / ndjsonCeiling)} %` : '',
            'node CPU µs/res': cpuPer(cpu0, s1.resources),
            'load 1m': load(),
            target,
          });
          if (processors === 'stopped') {
            // The same resources again under new ids, prepared before the clock starts.
            const again = path.join(tmp, 'again.ndjson');
            const n = writeRepeatedNdjson(again, opts.resources, 500_000);
            const alone = await writesAloneRate(server.db, again);
            fs.rmSync(again);
            inStore += n;
            importRows.push({
              store: kind,
              input: `the same, the store's writes alone (prepared beforehand; ${alone.split})`,
              processors: label,
              resources: n,
              seconds: n / alone.rate,
              'resources/s': alone.rate,
              'COPY ceiling /s': ndjsonCeiling,
              'of ceiling': `${Math.round((100 * alone.rate) / ndjsonCeiling)} %`,
              'node CPU µs/res': '',
              'load 1m': load(),
              target: '',
            });
          }

          // 2. Transaction Bundles, each all or nothing, written in groups while the next are prepared.
          const bundleTexts = repeatedBundleTexts(opts.resources);
          t0 = performance.now();
          cpu0 = process.cpuUsage();
          const bundleResources = (
            await importBundles(
              server.repo,
              bundleTexts.map(({ text }) => ({ text, file: 'bench' })),
            )
          ).resources;
          sec = (performance.now() - t0) / 1000;
          const bundleRate = Math.round(bundleResources / sec);
          const bundleCeiling =
            processors === 'stopped' ? await ceilingRate(server.db, bundleCeilingBatches(bundleTexts, CEILING_BATCH[kind])) : 0;
          importRows.push({
            store: kind,
            input: 'Synthea transaction Bundles (repeated)',
            processors: label,
            resources: bundleResources,
            seconds: sec,
            'resources/s': bundleRate,
            'COPY ceiling /s': bundleCeiling || '',
            'of ceiling': bundleCeiling ? `${Math.round((100 * bundleRate) / bundleCeiling)} %` : '',
            'node CPU µs/res': cpuPer(cpu0, bundleResources),
            'load 1m': load(),
            target: processors === 'stopped' ? (kind === 'postgres' ? '≥ 10,000/s' : '≥ 5,000/s') : '',
          });
          inStore += s1.resources + bundleResources;
        }
        if (processors === 'following') continue;

        // 3. Grow the store to the target size with more NDJSON copies (new ids), through the bulk path.
        for (let round = 1; inStore < opts.storeSize; round++) {
          const more = path.join(tmp, `more-${round}.ndjson`);
          writeRepeatedNdjson(more, Math.min(200_000, opts.storeSize - inStore), round * 1000);
          inStore += (await importNdjson(server.repo, fs.createReadStream(more), 'bench')).resources;
          fs.rmSync(more);
          process.stderr.write(`\r[bench ${kind}] ${inStore.toLocaleString()} resources in the store`);
        }
        process.stderr.write('\n');
        // Latency is measured on a settled store: without this, PostgreSQL's autovacuum (insert
        // threshold) and a checkpoint run during the requests after a bulk load of 1M rows.
        await server.db.query('VACUUM ANALYZE');
        if (kind === 'postgres') await server.db.query('CHECKPOINT');

        if (opts.sections.has('latency')) {
          // 4. A resident with exactly 500 resources in their compartment.
          const patientId = 'bench-resident-500';
          const resident = syntheaResources()
            .filter((r) => r.resourceType === 'Observation')
            .slice(0, 499);
          await importNdjson(
            server.repo,
            Readable.from(
              [
                JSON.stringify({ resourceType: 'Patient', id: patientId, name: [{ text: '基准测试' }] }),
                ...resident.map((r, i) =>
                  JSON.stringify({ ...r, id: `bench-obs-${i}`, subject: { reference: `Patient/${patientId}` }, encounter: undefined }),
                ),
              ].join('\n'),
            ),
            'bench',
          );
          const ids = (await server.db.query<{ id: string }>('SELECT id FROM r_patient LIMIT 200')).rows.map((r) => r.id);
          const names = ['Frankie', 'Jast', 'Carroll', 'Rohan', 'Kallie', 'Gab', 'Fram', "O'Hara"];
          await server.api(`/fhir/Patient/${patientId}`);
          latencyRows.push({
            store: kind,
            ...(await timeRequests('GET Patient/{id}', opts.samples, (i) => server.api(`/fhir/Patient/${ids[i % ids.length]}`))),
            'load 1m': load(),
            target: 'p95 < 10 ms',
          });
          latencyRows.push({
            store: kind,
            ...(await timeRequests('GET Patient?name=…&_count=20', opts.samples, (i) =>
              server.api(`/fhir/Patient?name=${encodeURIComponent(names[i % names.length]!)}&_count=20`),
            )),
            'load 1m': load(),
            target: '(prefix index)',
          });
          const everything = await timeRequests('GET Patient/{id}/$everything (500 resources)', Math.min(opts.samples, 100), () =>
            server.api(`/fhir/Patient/${patientId}/$everything`),
          );
          latencyRows.push({ store: kind, ...everything, 'load 1m': load(), target: 'p95 < 100 ms' });
          latencyRows.push({
            store: kind,
            request: 'resources in store',
            n: inStore + 500,
            'p50 ms': '',
            'p95 ms': '',
            target: '1,000,000',
          });
        }

        // 5. Four clients' transaction Bundles on the big store. What was bulk-loaded is not the
        // processors' backlog here (their cursors are moved to the end of the log): the run
        // measures writes into big tables and indexes, with the processors following only them.
        if (opts.sections.has('rest') && processorNames.length) {
          await server.db.query(
            `INSERT INTO processor_cursor (processor, last_seq) SELECT p, (SELECT max(seq) FROM resource_history) FROM unnest($1::text[]) AS p
             ON CONFLICT (processor) DO UPDATE SET last_seq = EXCLUDED.last_seq, gaps = '[]'`,
            [processorNames],
          );
          server.processors.start();
          const row = await runRest(server, 'big store', 4, opts.restResources * 2, 3000, opts.profileDir);
          const fresh = restRows.find((r) => r.store === kind && r.run === 'fresh store' && r.clients === 4);
          restRows.push({
            ...row,
            target: fresh
              ? `within 10 % of ${fresh['resources/s']}/s: ${Math.round((100 * Number(row['resources/s'])) / Number(fresh['resources/s']))} %`
              : '',
          });
        }
      } catch (err) {
        importRows.push({ store: kind, input: `failed: ${(err as Error).stack ?? (err as Error).message}`, processors });
      } finally {
        await started?.dispose();
      }
      // Each store's rows as soon as they exist, should a later store fail or be stopped.
      process.stderr.write(JSON.stringify([...importRows, ...latencyRows, ...restRows].filter((r) => r.store === kind)) + '\n');
    }
  }
  // Side by side in the order asked for (PGlite, then PostgreSQL).
  const order = (r: Record<string, string | number>) => opts.stores.indexOf(r.store as StoreKind);
  importRows.sort((a, b) => order(a) - order(b));
  latencyRows.sort((a, b) => order(a) - order(b));
  restRows.sort((a, b) => order(a) - order(b));
  fs.rmSync(tmp, { recursive: true, force: true });
  if (importRows.length)
    printTable(
      `FHIR bulk import (${written.toLocaleString()} NDJSON resources per run; ${os.cpus().length} cores; COPY ceiling: the same resources into (id primary key, content json))`,
      importRows,
    );
  if (latencyRows.length)
    printTable('FHIR API latency over HTTP with the store at size (sequential requests, bearer token, audited)', latencyRows);
  if (restRows.length)
    printTable(
      `FHIR transaction Bundles over REST (POST /fhir, Synthea patients, processors running; clients in another process; CPU per 1,000 resources; ${os.cpus().length} cores)`,
      restRows,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--help')) {
    console.log(
      'node --import tsx bench/fhir.bench.ts [--resources 200000] [--store-size 1000000] [--samples 300] [--rest-resources 20000] [--only pglite|postgres] [--no-processors] [--sections import,latency,rest] [--cpu-profile DIR]',
    );
    process.exit(0);
  }
  if (process.argv.includes('--rest-client')) await restClientMain();
  else {
    await runFhirBench(process.argv.slice(2));
    process.exit(0);
  }
}
