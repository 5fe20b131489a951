/**
 * Runs the full chronic recompute in a worker thread with its own database pool, the way
 * `yifang chronic recompute` runs in its own process beside the server: the server's event loop
 * only answers requests. Used by chronic.bench.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../src/platform/db.js';
import { loadChronicConfig, recomputeAll, type RecomputePhases } from '../src/primary-care/index.js';

export interface RecomputeJob {
  databaseUrl: string;
  today: string;
  chunk?: number;
  concurrency?: number;
}
export interface RecomputeDone {
  residents: number;
  chunks: number;
  phases: RecomputePhases;
  seconds: number;
}

const job = workerData as RecomputeJob;
const db = await openDatabase({ databaseUrl: job.databaseUrl, poolSize: 1 });
try {
  const config = loadChronicConfig();
  const phases: RecomputePhases = { list: 0, load: 0, derive: 0, write: 0, commit: 0 };
  const t0 = performance.now();
  const r = await recomputeAll(db, config.sets, job.today, { chunk: job.chunk, concurrency: job.concurrency, phases });
  parentPort!.postMessage({ ...r, phases, seconds: (performance.now() - t0) / 1000 } satisfies RecomputeDone);
} finally {
  await db.close();
}
