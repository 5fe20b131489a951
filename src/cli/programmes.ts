/**
 * `yifang programmes recompute`: re-derives every resident's enrolments, indicator summaries and scheduled items of
 * the basic public-health programmes (config/programmes) from the facts the processor keeps, in
 * short transactions, with progress. Run it after a programme file changed (a new version of a
 * norm, a changed window or target); the periodic refresh would otherwise take up to 30 days.
 */
import type { Command } from 'commander';
import { migrateAll } from '../app/modules.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase, type Database } from '../platform/db.js';
import { loadProgrammes, recomputeProgrammes, type Programme } from '../primary-care/index.js';
import { isIsoDate, todayInChina } from '../shared/dates.js';

export interface ProgrammeCommandOptions {
  /** An open store (tests); otherwise DATABASE_URL or YIFANG_DATA_DIR. */
  db?: Database;
  /** The programme files (tests); otherwise config/programmes. */
  programmes?: () => Programme[];
  write?: (s: string) => void;
  progress?: (s: string) => void;
}

export function registerProgrammeCommands(program: Command, options: ProgrammeCommandOptions = {}): void {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const progress = options.progress ?? ((s: string) => process.stderr.write(s));
  const fail = (message: string) => {
    progress(`yifang: ${message}\n`);
    process.exitCode = 2;
  };
  const programmes = program
    .command('programmes')
    .description('Basic public-health programmes (0–6 children, maternal, 65+, severe mental disorders, tuberculosis)');
  programmes
    .command('recompute')
    .description(
      "Re-derive every resident's programme enrolments and scheduled items from the stored facts (after a programme file in config/programmes changed)",
    )
    .option('--as-of <date>', 'the day to derive for (YYYY-MM-DD), default today in China')
    .option(
      '--chunk <n>',
      'residents per transaction (default 2000 on PostgreSQL, 500 on PGlite; short transactions let check-ins through between them)',
    )
    .action(async (opts: { asOf?: string; chunk?: string }) => {
      const chunk = opts.chunk === undefined ? undefined : Number(opts.chunk);
      if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1))
        return fail(`--chunk must be a positive integer, not '${opts.chunk}'`);
      if (opts.asOf !== undefined && !isIsoDate(opts.asOf)) return fail(`--as-of must be a date YYYY-MM-DD, not '${opts.asOf}'`);
      let defs: Programme[];
      try {
        defs = (options.programmes ?? loadProgrammes)();
      } catch (err) {
        // A bad programme file is named with its line.
        return fail((err as Error).message);
      }
      let db = options.db;
      const owned = !db;
      if (!db) {
        const env = loadConfig();
        db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.YIFANG_DATA_DIR });
        await migrateAll(db);
      }
      try {
        const started = Date.now();
        const size = chunk ?? (db.kind === 'postgres' ? 2000 : 500);
        const n = await recomputeProgrammes(db, defs, opts.asOf ?? todayInChina(), {
          chunk: size,
          onProgress: (done, total) => progress(`\rrecompute ${done}/${total} residents`),
        });
        progress('\n');
        write(
          `recomputed ${n} residents for ${defs.length} programmes (${defs.map((p) => p.code).join(', ')}) in ${Math.ceil(n / size)} transactions, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } finally {
        if (owned) await db.close();
      }
    });
}
