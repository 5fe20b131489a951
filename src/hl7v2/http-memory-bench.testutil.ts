/**
 * Peak memory of one POST /api/hl7 body of N messages (issue #14): `new` is Hl7Ingest.receive
 * (split lazily, bounded concurrency), `old` is what receive did before (every message parsed and
 * queued at once). Run in its own process per mode:
 *   node --expose-gc [--max-old-space-size=256] --import tsx src/hl7v2/http-memory-bench.testutil.ts new|old 15000 [postgres-url]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../app/server.js';
import { adt } from './ingest-fixtures.js';
import hl7Module from './module.js';
import { splitMessages } from './ingest.js';

const mode = process.argv[2] === 'old' ? 'old' : 'new';
const n = Number(process.argv[3] ?? 15000);
const databaseUrl = process.argv[4];
const dataDir = databaseUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-mem-'));
const server = await startServer({ dataDir, databaseUrl, port: 0, quiet: true, mllpPort: 0, processorThread: false });
const ingest = hl7Module.runtime!.ingest;
// HL7_BENCH_CONCURRENCY: try another window than the configured one
if (process.env.HL7_BENCH_CONCURRENCY)
  (ingest as unknown as { options: { httpConcurrency: number } }).options.httpConcurrency = Number(process.env.HL7_BENCH_CONCURRENCY);
const body = Buffer.from(
  Array.from({ length: n }, (_, i) => adt(`MEM-${mode}-${i}`, { facility: 'MEMHOSP', mrn: `M${i % 5000}` })).join('\n'),
  'utf8',
);
global.gc?.();
const base = process.memoryUsage().rss;
let peak = base;
let peakHeap = process.memoryUsage().heapUsed;
const timer = setInterval(() => {
  const m = process.memoryUsage();
  peak = Math.max(peak, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 20);
const t0 = performance.now();
let acks: number;
if (mode === 'new') {
  const out = await ingest.receive(body);
  acks = out
    ? out
        .toString('latin1')
        .split('\r\n')
        .filter((s) => s.startsWith('MSH')).length
    : 0;
} else {
  const results = await Promise.all(splitMessages(body).map((m) => ingest.ingest(m, 'http')));
  acks = results.filter((r) => r.reply).length;
}
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
global.gc?.();
const heapAfterGc = process.memoryUsage().heapUsed;
const mb = (b: number) => Math.round(b / 1024 / 1024);
console.log(
  JSON.stringify({
    mode,
    messages: n,
    store: databaseUrl ? 'postgres' : 'pglite',
    bodyMb: Math.round((body.length / 1024 / 1024) * 10) / 10,
    acks,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    rssBeforeMb: mb(base),
    peakRssMb: mb(peak),
    growthMb: mb(peak - base),
    peakHeapUsedMb: mb(peakHeap),
    heapAfterGcMb: mb(heapAfterGc),
    concurrency: process.env.HL7_BENCH_CONCURRENCY ?? 'configured',
  }),
);
await server.close();
if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
