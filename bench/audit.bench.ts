/**
 * Issue #15: the cost of durable read auditing. GET /fhir/Patient/{id} on 32 connections for a
 * fixed time, with the read's AuditEvent buffered and flushed each second ("before", kept as
 * `AuditLog.readMode = 'buffered'` for this comparison only) and committed before the response
 * through the group commit ("after", the default) — PGlite and PostgreSQL side by side.
 *
 *   node --import tsx bench/audit.bench.ts [--seconds 10] [--connections 32] [--only pglite|postgres]
 */
import { prepareTemplates, startTestServer, type StoreKind, useProductCache } from '../src/app/test-stores.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function runAuditBench(argv: string[] = []): Promise<void> {
  const seconds = Number(arg(argv, 'seconds') ?? (argv.includes('--quick') ? 4 : 10));
  const connections = Number(arg(argv, 'connections') ?? 32);
  const only = arg(argv, 'only') as StoreKind | undefined;
  const stores: StoreKind[] = only ? [only] : process.env.YIFANG_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];
  loadDefinitions();
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  for (const kind of stores) {
    const server = await startTestServer(kind);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await server.api('/fhir/Patient', {
          method: 'POST',
          body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `Bench${i}` }], gender: 'female' }),
        });
        ids.push(((await r.json()) as { id: string }).id);
      }
      const run = async (durationMs: number) => {
        const latencies: number[] = [];
        let errors = 0;
        const until = Date.now() + durationMs;
        const started = Date.now();
        await Promise.all(
          Array.from({ length: connections }, async (_, k) => {
            for (let i = k; Date.now() < until; i += connections) {
              const t0 = performance.now();
              const r = await server.api(`/fhir/Patient/${ids[i % ids.length]}`);
              await r.arrayBuffer();
              if (r.status !== 200) errors++;
              latencies.push(performance.now() - t0);
            }
          }),
        );
        return { latencies: latencies.sort((a, b) => a - b), errors, seconds: (Date.now() - started) / 1000 };
      };
      const results: Record<string, number> = {};
      for (const mode of ['buffered', 'durable'] as const) {
        server.audit.readMode = mode;
        await run(1500); // warm up
        await server.audit.flush();
        const before = { ...server.audit.stats };
        const r = await run(seconds * 1000);
        await server.audit.flush();
        const batches = server.audit.stats.batches - before.batches;
        const events = server.audit.stats.events - before.events;
        const rps = r.latencies.length / r.seconds;
        results[mode] = rps;
        rows.push({
          store: kind,
          audit: mode === 'buffered' ? 'before: buffered (1 s flush)' : 'after: durable (group commit)',
          'reads/s': Math.round(rps),
          'p50 ms': percentile(r.latencies, 50),
          'p95 ms': percentile(r.latencies, 95),
          'events/insert': batches ? events / batches : 0,
          errors: r.errors,
        });
      }
      rows.push({ store: kind, audit: 'after / before', 'reads/s': `${((results.durable! / results.buffered!) * 100).toFixed(0)} %` });
    } finally {
      await server.dispose();
    }
  }
  printTable(`GET /fhir/Patient/{id}, ${connections} connections, ${seconds} s per mode: read auditing before and after`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await runAuditBench(process.argv.slice(2));
