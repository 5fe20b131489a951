/**
 * The programmes' full recompute (`yifang programmes recompute`, the benchmark): every resident's
 * enrolments, indicator summaries and scheduled items derived again, in key ranges of `chunk`
 * residents (in the database's ordering of their ids). Each range is
 *   1. read in one round trip of `COPY (SELECT …) TO STDOUT` statements, without a lock or a
 *      transaction (ordinary result rows cost the client more to decode, field by field, than the
 *      queries cost to run; COPY output is decoded once per table, on the worker thread);
 *   2. derived on a worker thread (recompute-derive.ts), while the database thread reads and
 *      writes other ranges;
 *   3. written in one short transaction holding the writers' lock: delete the range's derived
 *      rows (by key range: the rows of residents in it, whatever they are), COPY the new ones,
 *      mark the range derived. A range whose person rows changed since it was read (the
 *      processor re-derived a resident in between: every writer of derived rows changes the
 *      resident's person row) is read and derived again under the lock first.
 * On PostgreSQL it runs on a small pool of its own, so requests never wait for a connection it
 * holds; on PGlite, through the background pool that gives way to requests (platform/db.ts).
 * Everything here is derived and rebuilt by running it again: commits do not wait for the WAL.
 */
import { extraPool, type Database } from '../../platform/db.js';
import { analyzeTables, RangeDeriver, unitsOn, type RangePhases } from '../../platform/range-deriver.js';
import type { Programme } from './definition.js';
import { deriveRange, type DeriveContext, type DerivedRange } from './recompute-derive.js';
import { allResidentIds, beginRangeWrite, DERIVED_TABLES, readKeyRange, replaceKeyRange, type KeyRange } from './store.js';

/** Milliseconds spent in each phase of a full recompute, and the statistics refreshed at its end. */
export interface RecomputePhases extends RangePhases {
  /** Fresh statistics for the rewritten tables at the end. */
  analyze: number;
}

export interface RecomputeOptions {
  /**
   * Residents per transaction (default 2000 on PostgreSQL, 500 on PGlite, whose one session the
   * server's requests share between them).
   */
  chunk?: number;
  /** Ranges in flight (default 2: one is read or written while another is derived). */
  concurrency?: number;
  /** false: derive on the calling thread (in slices that let requests through) instead of a worker thread. */
  thread?: boolean;
  /** Called after each transaction with the residents done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Filled with the time spent in each phase. */
  phases?: RecomputePhases;
}

/**
 * Re-derives every resident, `chunk` per transaction; returns how many residents were listed.
 * Ranges are read one after the other and derived and written `concurrency` at a time.
 */
export async function recomputeProgrammes(
  db: Pick<Database, 'kind' | 'pool' | 'copyFrom'>,
  programmes: Programme[],
  today: string,
  opts: number | RecomputeOptions = {},
): Promise<number> {
  const options = typeof opts === 'number' ? { chunk: opts } : opts;
  const chunk = Math.max(1, options.chunk ?? (db.kind === 'postgres' ? 2000 : 500));
  const phases = options.phases ?? { list: 0, load: 0, derive: 0, write: 0, commit: 0, analyze: 0 };
  const loops = Math.max(1, options.concurrency ?? 2);
  // PGlite's pool is its one session whatever is asked.
  const extra = extraPool(db, loops);
  const pool = extra.pool;
  const withClient = unitsOn(pool);
  let deriver: RangeDeriver<DeriveContext, DerivedRange> | undefined;
  try {
    let t = performance.now();
    const ids = await withClient((c) => allResidentIds(c));
    phases.list += performance.now() - t;
    options.onProgress?.(0, ids.length);
    deriver = new RangeDeriver(
      deriveRange,
      { programmes, today },
      new URL('./recompute-worker.mjs', import.meta.url),
      options.thread ?? true,
    );
    const derive = deriver;

    // The first range is open at the bottom and the last at the top: a resident who arrives
    // meanwhile falls in exactly one range, and whatever is derived for it is replaced.
    const ranges: { range: KeyRange; size: number }[] = [];
    for (let k = 0; k < ids.length; k += chunk)
      ranges.push({
        range: { after: k ? ids[k - 1] : undefined, upTo: k + chunk < ids.length ? ids[k + chunk - 1] : undefined },
        size: Math.min(chunk, ids.length - k),
      });

    const read = async (range: KeyRange) => {
      const s = performance.now();
      const r = await withClient((c) => readKeyRange(c, range));
      phases.load += performance.now() - s;
      return r;
    };

    let failure: unknown;
    let next = 0;
    // Ranges are read one after the other (one read at a time holds a connection).
    let reading: Promise<unknown> = Promise.resolve();
    const readNext = async () => {
      const previous = reading;
      let done!: () => void;
      reading = new Promise<void>((r) => (done = r));
      await previous;
      try {
        if (failure !== undefined || next >= ranges.length) return undefined;
        const r = ranges[next++]!;
        return { ...r, ...(await read(r.range)) };
      } finally {
        done();
      }
    };

    const write = (range: KeyRange, versions: string, derived: DerivedRange) =>
      withClient(async (c) => {
        const s = performance.now();
        try {
          let d = derived;
          if ((await beginRangeWrite(c, range, db.kind === 'postgres')) !== versions) {
            // Someone derived a resident of the range since it was read: read it again under the lock.
            d = await derive.derive((await readKeyRange(c, range)).texts);
          }
          await replaceKeyRange(c, range, d, today, (table, columns, text) => db.copyFrom(c, table, [...columns], text));
          const u = performance.now();
          phases.write += u - s;
          await c.query('COMMIT');
          phases.commit += performance.now() - u;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });

    let done = 0;
    const loop = async () => {
      try {
        for (let got = await readNext(); got; got = await readNext()) {
          const s = performance.now();
          const d = await derive.derive(got.texts);
          phases.derive += performance.now() - s;
          await write(got.range, got.versions, d);
          done += got.size;
          options.onProgress?.(done, ids.length);
        }
      } catch (err) {
        // The other loops stop at their next range; the first error is the one reported.
        failure ??= err;
      }
    };
    await Promise.all(Array.from({ length: loops }, loop));
    if (failure !== undefined) throw failure;
    // The derived tables were rewritten: without fresh statistics the planner takes them for
    // what they were before (empty after a first load), and the indicators' plans go wrong.
    t = performance.now();
    await analyzeTables(withClient, DERIVED_TABLES, db.kind);
    phases.analyze += performance.now() - t;
    return ids.length;
  } finally {
    await deriver?.close();
    await extra.close();
  }
}
