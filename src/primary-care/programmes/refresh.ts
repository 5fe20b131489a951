/**
 * Keeping derived rows current without a new record: items are listed a year ahead and ages
 * move on (a child turns 7, a resident turns 65), so residents whose rows were derived more than
 * 30 days ago are derived again, a few hundred at a time, every ten minutes. `recomputeProgrammes`
 * re-derives everyone (after a programme file changed).
 */
import type pg from 'pg';
import { extraPool, type Database } from '../../platform/db.js';
import type { ModuleContext } from '../../platform/module.js';
import { todayInChina } from '../../shared/dates.js';
import type { Programme } from './definition.js';
import { allResidentIds, deriveRows, readRange, refreshResidents, staleResidents, writeRange, type Derived } from './store.js';

/** Residents derived between two turns of the event loop in a full recompute. */
const DERIVE_SLICE = 250;

export const REFRESH = { everyMs: 10 * 60_000, firstAfterMs: 60_000, olderThanDays: 30, batch: 300 } as const;

/** Re-derives up to `batch` residents last derived more than `olderThanDays` ago; returns how many. */
export async function refreshStale(
  db: Database,
  programmes: Programme[],
  today: string,
  opts: { olderThanDays?: number; batch?: number } = {},
): Promise<number> {
  return db.transaction(async (client) => {
    const ids = await staleResidents(client, today, opts.olderThanDays ?? REFRESH.olderThanDays, opts.batch ?? REFRESH.batch);
    await refreshResidents(client, ids, programmes, today);
    return ids.length;
  });
}

export interface RecomputeOptions {
  /**
   * Residents per transaction (default 2000 on PostgreSQL, 500 on PGlite, whose one session the
   * server's requests share between them).
   */
  chunk?: number;
  /** Called after each transaction with the residents done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Re-derives every resident, `chunk` per transaction; returns how many. Each range is read and
 * derived outside any transaction while the range before it is written (on a pool of its own on
 * PostgreSQL, so requests never wait for its connections); the write takes the writers' lock and
 * derives again any resident the processor re-derived in between (store.ts `writeRange`).
 */
export async function recomputeProgrammes(
  db: Database,
  programmes: Programme[],
  today: string,
  opts: number | RecomputeOptions = {},
): Promise<number> {
  const { chunk = db.kind === 'postgres' ? 2000 : 500, onProgress } = typeof opts === 'number' ? { chunk: opts } : opts;
  const ids = await allResidentIds(db);
  onProgress?.(0, ids.length);
  const extra = extraPool(db, 4);
  const pool = extra.pool;
  const inTransaction = async (fn: (c: pg.PoolClient) => Promise<void>) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      // Derived rows are rebuilt by running it again: commits need not wait for the WAL.
      if (db.kind === 'postgres') await c.query('SET LOCAL synchronous_commit = off');
      await fn(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
  const read = async (k: number) => {
    if (k >= ids.length) return undefined;
    // A connection of its own (PGlite's background pool hands out connections only this way).
    const c = await pool.connect();
    try {
      return await readRange(c, ids.slice(k, k + chunk));
    } finally {
      c.release();
    }
  };
  try {
    let writing: Promise<void> = Promise.resolve();
    let reading = read(0);
    for (let k = 0; k < ids.length; k += chunk) {
      const range = (await reading)!;
      // The next range is read while this one is derived and written.
      reading = read(k + chunk);
      reading.catch(() => undefined);
      const derived: Derived = { enrolments: [], items: [] };
      for (let i = 0; i < range.residents.length; i += DERIVE_SLICE) {
        const d = deriveRows(range.residents.slice(i, i + DERIVE_SLICE), programmes, today);
        derived.enrolments.push(...d.enrolments);
        derived.items.push(...d.items);
        // Requests on this thread get their turn between slices.
        await new Promise((r) => setImmediate(r));
      }
      await writing;
      const done = Math.min(k + chunk, ids.length);
      writing = inTransaction((c) =>
        writeRange(c, range, derived, programmes, today, (table, columns, text) => db.copyFrom(c, table, [...columns], text)),
      ).then(() => onProgress?.(done, ids.length));
      // A failed write stops the loop at the next range rather than after the last one.
      writing.catch(() => undefined);
    }
    await writing;
  } finally {
    await extra.close();
  }
  return ids.length;
}

/** Starts the periodic refresh on the server; stopped when the server closes. */
export function startProgrammeRefresh(ctx: ModuleContext, programmes: Programme[]): void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await refreshStale(ctx.db, programmes, todayInChina());
    } catch (err) {
      ctx.log(`programme refresh: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void run(), REFRESH.firstAfterMs);
  const every = setInterval(() => void run(), REFRESH.everyMs);
  first.unref();
  every.unref();
  ctx.onClose(async () => {
    clearTimeout(first);
    clearInterval(every);
  });
}
