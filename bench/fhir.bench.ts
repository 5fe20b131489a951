/**
 * Health-data hub benchmark (issue #2): bulk import throughput for the Synthea NDJSON and
 * Bundles repeated to at least 200,000 resources, then, with 1,000,000 resources in the store,
 * p50/p95 latency over HTTP of a patient read, a patient search and Patient/$everything for a
 * resident with 500 resources — PGlite and PostgreSQL side by side.
 *
 *   node --import tsx bench/fhir.bench.ts [--resources 200000] [--store-size 1000000] [--samples 300]
 *     [--only pglite|postgres] [--no-processors]
 *
 * Import is measured twice per store kind: as `yifang import` runs (processors stopped; the
 * figure the targets are for) and into a server whose change-log processors follow it.
 * --no-processors skips the second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { importBundles, importNdjson } from '../src/fhir/import.js';
import { prepareTemplates, startTestServer, type StoreKind } from '../src/app/test-stores.js';
import { syntheaResources, writeRepeatedNdjson } from './fhir-data.js';
import { percentile, printTable } from './table.js';

interface Options {
  resources: number;
  storeSize: number;
  stores: StoreKind[];
  samples: number;
  processorModes: ('stopped' | 'following')[];
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
  };
}

/**
 * Synthea transaction Bundles as JSON text with fresh urn:uuid ids per copy (their references
 * are urn:uuid). Made before the clock starts: renumbering ids is the bench's work, not the
 * import's; parsing the text is timed, as `yifang import` parses each file.
 */
function repeatedBundleTexts(total: number): string[] {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/data/synthea-fhir-r4-bundles');
  const texts = fs
    .readdirSync(dir)
    .filter((f) => /^[A-Z]/.test(f) && f.endsWith('.json'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const entries = texts.map((t) => (JSON.parse(t) as Bundle).entry?.length ?? 0);
  const out: string[] = [];
  let made = 0;
  for (let k = 0; made < total; k++) {
    for (let i = 0; i < texts.length && made < total; i++) {
      // Conditional references point at shared organisations not loaded here: drop them.
      out.push(
        texts[i]!.replace(
          /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)([0-9a-f]{12})/g,
          (_m, head: string, tail: string) =>
            `${head}${(parseInt(tail.slice(0, 6), 16) ^ k).toString(16).padStart(6, '0')}${tail.slice(6)}`,
        ).replace(/"reference":\s*"[A-Za-z]+\?[^"]*"/g, '"display":"conditional reference"'),
      );
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

export async function runFhirBench(argv: string[] = []): Promise<void> {
  const opts = parseArgs(argv);
  loadDefinitions();
  await prepareTemplates();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-bench-'));
  const ndjson = path.join(tmp, 'repeated.ndjson');
  const written = writeRepeatedNdjson(ndjson, opts.resources);
  const importRows: Record<string, string | number>[] = [];
  const latencyRows: Record<string, string | number>[] = [];

  // PostgreSQL first: its template database is the one other test runs may replace meanwhile.
  for (const kind of [...opts.stores].sort((a, b) => (a === 'postgres' ? -1 : b === 'postgres' ? 1 : 0))) {
    // Two stores per kind. The first takes the imports as `yifang import` does (the change-log
    // processors do not run; a server works through the backlog when it starts), is then grown
    // to the target size and serves the latency figures. The second takes the same imports into
    // a running server whose processors (identity, surveillance, chronic care) follow them.
    for (const processors of opts.processorModes) {
      let started: Awaited<ReturnType<typeof startTestServer>> | undefined;
      try {
        const server = await startTestServer(kind);
        started = server;
        if (processors === 'stopped') await server.processors.stop();
        const label = processors === 'stopped' ? 'stopped (yifang import)' : 'following (server)';
        const target = processors === 'stopped' ? (kind === 'postgres' ? '≥ 10,000/s' : '≥ 5,000/s') : '';
        // 1. NDJSON bulk import.
        let t0 = performance.now();
        let cpu0 = process.cpuUsage();
        const s1 = await importNdjson(server.repo, fs.createReadStream(ndjson), 'bench');
        let sec = (performance.now() - t0) / 1000;
        importRows.push({
          store: kind,
          input: 'Synthea NDJSON (repeated)',
          processors: label,
          resources: s1.resources,
          seconds: sec,
          'resources/s': Math.round(s1.resources / sec),
          'node CPU µs/res': cpuPer(cpu0, s1.resources),
          'load 1m': load(),
          target,
        });

        // 2. Transaction Bundles, each all or nothing, written in groups while the next are prepared.
        const bundleTexts = repeatedBundleTexts(opts.resources);
        t0 = performance.now();
        cpu0 = process.cpuUsage();
        const bundleResources = (
          await importBundles(
            server.repo,
            bundleTexts.map((text) => ({ text, file: 'bench' })),
          )
        ).resources;
        sec = (performance.now() - t0) / 1000;
        importRows.push({
          store: kind,
          input: 'Synthea transaction Bundles (repeated)',
          processors: label,
          resources: bundleResources,
          seconds: sec,
          'resources/s': Math.round(bundleResources / sec),
          'node CPU µs/res': cpuPer(cpu0, bundleResources),
          'load 1m': load(),
          target,
        });
        if (processors === 'following') continue;

        // 3. Grow the store to the target size with more NDJSON copies (new ids).
        let inStore = s1.resources + bundleResources;
        for (let round = 1; inStore < opts.storeSize; round++) {
          const more = path.join(tmp, `more-${round}.ndjson`);
          writeRepeatedNdjson(more, Math.min(opts.resources, opts.storeSize - inStore), round * 1000);
          inStore += (await importNdjson(server.repo, fs.createReadStream(more), 'bench')).resources;
          fs.rmSync(more);
          process.stderr.write(`\r[bench ${kind}] ${inStore.toLocaleString()} resources in the store`);
        }
        process.stderr.write('\n');
        // Latency is measured on a settled store: without this, PostgreSQL's autovacuum (insert
        // threshold) and a checkpoint run during the requests after a bulk load of 1M rows.
        await server.db.query('VACUUM ANALYZE');
        if (kind === 'postgres') await server.db.query('CHECKPOINT');

        // 4. A resident with exactly 500 resources in their compartment.
        const patientId = 'bench-resident-500';
        const resident = syntheaResources()
          .filter((r) => r.resourceType === 'Observation')
          .slice(0, 499);
        await importNdjson(
          server.repo,
          (await import('node:stream')).Readable.from(
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
        latencyRows.push({ store: kind, request: 'resources in store', n: inStore + 500, 'p50 ms': '', 'p95 ms': '', target: '1,000,000' });
      } catch (err) {
        importRows.push({ store: kind, input: `failed: ${(err as Error).message}`, processors });
      } finally {
        await started?.dispose();
      }
      // Each store's rows as soon as they exist, should a later store fail or be stopped.
      process.stderr.write(JSON.stringify([...importRows, ...latencyRows].filter((r) => r.store === kind)) + '\n');
    }
  }
  // Side by side in the order asked for (PGlite, then PostgreSQL).
  const order = (r: Record<string, string | number>) => opts.stores.indexOf(r.store as StoreKind);
  importRows.sort((a, b) => order(a) - order(b));
  latencyRows.sort((a, b) => order(a) - order(b));
  fs.rmSync(tmp, { recursive: true, force: true });
  printTable(`FHIR bulk import (${written.toLocaleString()} NDJSON resources per run; ${os.cpus().length} cores)`, importRows);
  printTable('FHIR API latency over HTTP with the store at size (sequential requests, bearer token, audited)', latencyRows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--help')) {
    console.log(
      'node --import tsx bench/fhir.bench.ts [--resources 200000] [--store-size 1000000] [--samples 300] [--only pglite|postgres] [--no-processors]',
    );
    process.exit(0);
  }
  await runFhirBench(process.argv.slice(2));
}
