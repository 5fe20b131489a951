/**
 * Keeping derived rows current without a new record: items are listed a year ahead and ages
 * move on (a child turns 7, a resident turns 65), so residents whose rows were derived more than
 * 30 days ago are derived again, a few hundred at a time, every ten minutes. `recomputeProgrammes`
 * re-derives everyone (after a programme file changed).
 */
import type { Database } from '../../platform/db.js';
import type { ModuleContext } from '../../platform/module.js';
import { todayInChina } from '../../shared/dates.js';
import type { Programme } from './definition.js';
import { keepCounts } from './counts.js';
import { refreshResidents, staleResidents } from './store.js';

export { recomputeProgrammes, type RecomputeOptions, type RecomputePhases } from './recompute.js';

export const REFRESH = { everyMs: 10 * 60_000, firstAfterMs: 60_000, olderThanDays: 30, batch: 300 } as const;

/** Re-derives up to `batch` residents last derived more than `olderThanDays` ago; returns how many. */
export async function refreshStale(
  db: Database,
  programmes: Programme[],
  today: string,
  opts: { olderThanDays?: number; batch?: number } = {},
): Promise<number> {
  return db.transaction(async (client) => {
    const counts = await keepCounts(client, programmes);
    const ids = await staleResidents(client, today, opts.olderThanDays ?? REFRESH.olderThanDays, opts.batch ?? REFRESH.batch);
    await refreshResidents(client, ids, programmes, today, counts);
    return ids.length;
  });
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
