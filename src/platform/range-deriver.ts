/**
 * The thread half of a full recompute (chronic care's, the programmes'): a module's pure
 * derivation of one key range (its facts as COPY text in, its derived rows out) runs on a worker
 * thread while the database reads and writes other ranges. The module names its worker entry and
 * the context every range needs; ranges are sent as they are read, answered in any order. When no
 * worker can be had, or the worker dies, ranges are derived on the calling thread instead, in
 * slices that let the event loop turn.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { EngineKind } from './db.js';

/** Milliseconds a range recompute spends in each phase (summed over its parallel loops). */
export interface RangePhases {
  /** Finding the residents or where the first range ends. */
  list: number;
  /** Reading ranges' facts. */
  load: number;
  /** Waiting for ranges to be derived (on the worker thread, mostly while other ranges are read or written). */
  derive: number;
  /** Deleting and writing ranges' derived rows. */
  write: number;
  commit: number;
}

export type RangeRequest<C> = { type: 'context'; context: C } | { type: 'range'; id: number; texts: string[] };
export type RangeReply<R> = { id: number; result?: R; error?: string };

/** Derives one range; `slices` (inline only) says how often to let the event loop turn. */
export type DeriveRange<C, R> = (texts: string[], context: C, slices?: { every: number; wait: () => Promise<unknown> }) => Promise<R>;

/**
 * The derive thread's young generation (V8's new space, two semi-spaces and the space for large new
 * objects: 384 MB gives semi-spaces of 128 MB, where a worker's default stops at 16 MB). A range's
 * residents, facts and episodes live until the range is derived, so with small semi-spaces every
 * scavenge copies them again; with large ones most of a range's objects die before the next
 * scavenge. The space grows only as the work fills it. Measured on the programmes' derive of
 * 50,000 residents (25 ranges, derive only, loaded machine, best of 6): 5.3–6.0 s of CPU by default,
 * 3.8–5.1 s with 384 MB. The NDJSON import's preparation threads do the same (fhir/prepare-pool.ts).
 */
const DERIVE_YOUNG_GENERATION_MB = 384;

/** Residents derived between two turns of the event loop when deriving inline (about a millisecond). */
const DERIVE_SLICE = 100;

export const yieldLoop = (): Promise<unknown> => new Promise((r) => setImmediate(r));

/**
 * Units of work on connections of `pool`, each taken for it alone. The event loop turns first,
 * so a request that arrived meanwhile is read off its socket and (on PGlite, whose one session
 * the recompute shares) queues for the connection before the recompute takes it again.
 */
export function unitsOn(pool: pg.Pool): <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T> {
  return async (fn) => {
    await yieldLoop();
    const client = await pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  };
}

/**
 * Fresh statistics for the tables a full recompute rewrote, one table per unit of `withClient`
 * (unitsOn), so requests go between them. On PGlite, whose one session requests share (on the
 * server's own thread by default), each table is sampled with a statistics target of
 * PGLITE_ANALYZE_TARGET instead of PostgreSQL's default 100 (300 × target rows): ANALYZE of the
 * three chronic tables in one statement stopped the event loop for 460–490 ms at 300,000 residents,
 * the longest pause of the whole recompute and most of the check-ins' p95 during it; per table at
 * 30 it is 8–100 ms. PostgreSQL runs the recompute on connections of its own and keeps the default.
 */
export const PGLITE_ANALYZE_TARGET = 30;

export async function analyzeTables(
  withClient: <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>,
  tables: readonly string[],
  kind: EngineKind,
): Promise<void> {
  for (const table of tables)
    await withClient(async (c) => {
      if (kind === 'postgres') await c.query(`ANALYZE ${table}`);
      else await c.query(`BEGIN; SET LOCAL default_statistics_target = ${PGLITE_ANALYZE_TARGET}; ANALYZE ${table}; COMMIT`);
    });
}

/** Derives ranges on a worker thread (`workerUrl`, which calls `serveRanges`), or inline when it cannot have one. */
export class RangeDeriver<C, R> {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { texts: string[]; resolve: (r: R) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly derive_: DeriveRange<C, R>,
    private readonly context: C,
    workerUrl: URL,
    thread: boolean,
  ) {
    if (!thread) return;
    try {
      this.worker = new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: DERIVE_YOUNG_GENERATION_MB } });
      this.worker.on('message', (m: RangeReply<R>) => {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.result) w?.resolve(m.result);
        else w?.reject(new Error(m.error));
      });
      const failed = () => {
        // Whatever the worker was given is derived here instead.
        this.worker = undefined;
        for (const w of this.waiting.values()) this.inline(w.texts).then(w.resolve, w.reject);
        this.waiting.clear();
      };
      this.worker.on('error', failed);
      this.worker.on('exit', failed);
      this.worker.postMessage({ type: 'context', context } satisfies RangeRequest<C>);
    } catch {
      this.worker = undefined;
    }
  }

  private inline(texts: string[]): Promise<R> {
    return this.derive_(texts, this.context, { every: DERIVE_SLICE, wait: yieldLoop });
  }

  derive(texts: string[]): Promise<R> {
    const worker = this.worker;
    if (!worker) return this.inline(texts);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { texts, resolve, reject });
      worker.postMessage({ type: 'range', id, texts } satisfies RangeRequest<C>);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    worker?.removeAllListeners();
    await worker?.terminate();
  }
}

/**
 * How much the derive thread lowers its own scheduling priority (Linux nice steps). The recompute
 * is background work: where the cores are busy, the server's thread (its requests and, on PGlite,
 * the database itself) and PostgreSQL's backends go first. Measured on the chronic recompute of
 * 300,000 residents on PGlite with a desk at 10 check-ins a second (2 cores, two alternating pairs):
 * check-in p95 64–71 ms at the thread's inherited priority, 53–55 ms lowered, the recompute as
 * long; single runs later spread 55–82 ms, so the effect is within this machine's noise. The
 * programmes' recompute of 400,000 residents on PostgreSQL: 38.3 and 45.9 s lowered, 49.9 and
 * 44.1 s not (alternating): no cost seen.
 */
const DERIVE_THREAD_NICE = 10;

/**
 * Lowers the calling thread's priority by DERIVE_THREAD_NICE. Linux gives each thread its own nice
 * value, set through its thread id (/proc/thread-self); elsewhere, or when not allowed, nothing changes.
 */
function lowerThreadPriority(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, Math.min(19, os.getPriority(tid) + DERIVE_THREAD_NICE));
  } catch {
    // Not Linux, or no /proc: the thread keeps its priority.
  }
}

/** The worker side: keeps the context sent first and answers each range with `derive`. */
export function serveRanges<C, R>(derive: DeriveRange<C, R>): void {
  const port = parentPort!;
  lowerThreadPriority();
  let context: C | undefined;
  port.on('message', (m: RangeRequest<C>) => {
    if (m.type === 'context') {
      context = m.context;
      return;
    }
    derive(m.texts, context!).then(
      (result) => port.postMessage({ id: m.id, result } satisfies RangeReply<R>),
      (e: unknown) =>
        port.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies RangeReply<R>),
    );
  });
}
