/** `yifang chronic ...`: maintenance of the chronic-care registries and schedules. */
import type { Command } from 'commander';
import { loadConfig } from '../platform/config.js';
import { openDatabase } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';
import { loadChronicConfig, recomputeAll } from '../primary-care/index.js';
import { todayInChina } from '../shared/dates.js';

export function registerChronicCommands(program: Command): void {
  const chronic = program.command('chronic').description('Chronic-disease registries, follow-up schedules and indicators');
  chronic
    .command('recompute')
    .description(
      'Recompute every registry entry, follow-up evaluation, schedule and confirmation-list entry from the stored facts (after a rule-set change)',
    )
    .option('--as-of <date>', 'the day to compute for (YYYY-MM-DD), default today in China')
    .option('--chunk <n>', 'residents per transaction (default 2000 on PostgreSQL, 200 on PGlite, which serves check-ins between them)')
    .action(async (opts: { asOf?: string; chunk?: string }) => {
      const chunk = opts.chunk === undefined ? undefined : Number(opts.chunk);
      if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1)) {
        console.error(`yifang: --chunk must be a positive integer, not '${opts.chunk}'`);
        process.exit(2);
      }
      if (opts.asOf && !/^\d{4}-\d{2}-\d{2}$/.test(opts.asOf)) {
        console.error(`yifang: --as-of must be YYYY-MM-DD, not '${opts.asOf}'`);
        process.exit(2);
      }
      let config;
      try {
        config = loadChronicConfig();
      } catch (err) {
        // Rule-set errors name the file and line.
        console.error(`yifang: ${(err as Error).message}`);
        process.exit(2);
      }
      const env = loadConfig();
      const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.YIFANG_DATA_DIR });
      await migrateAll(db);
      const started = Date.now();
      const r = await recomputeAll(db, config.sets, opts.asOf ?? todayInChina(), {
        chunk,
        onProgress: (done, total) => process.stderr.write(`\rrecompute ${done}/${total}`),
      });
      process.stderr.write('\n');
      console.log(`recomputed ${r.residents} residents in ${r.chunks} transactions, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await db.close();
    });
}
