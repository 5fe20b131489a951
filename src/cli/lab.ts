/**
 * `yifang lab verify`: walks every specimen's custody chain (each hand-over's SHA-256 of the one
 * before) and names the first broken link; exit code 1 when any chain is broken.
 */
import type { Command } from 'commander';
import { migrateAll } from '../app/modules.js';
import { verifyCustody } from '../lab/index.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase, type Database } from '../platform/db.js';

export interface LabCommandOptions {
  /** An open store (tests); otherwise DATABASE_URL or YIFANG_DATA_DIR. */
  db?: Database;
  write?: (s: string) => void;
}

export function registerLabCommands(program: Command, options: LabCommandOptions = {}): void {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const lab = program.command('lab').description('The specimen loop (采送检报): check the custody chains');
  lab
    .command('verify')
    .description("Check every specimen's custody chain (each hand-over's hash of the one before) and name the first broken link")
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      let db = options.db;
      const owned = !db;
      if (!db) {
        const config = loadConfig();
        db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
        await migrateAll(db);
      }
      try {
        const report = await verifyCustody(db);
        if (opts.json) write(JSON.stringify(report, null, 2) + '\n');
        else {
          write(`custody: ${report.specimens} specimens, ${report.events} hand-overs checked in ${report.seconds.toFixed(1)} s\n`);
          if (report.ok) write('OK: every chain verifies\n');
          else {
            const f = report.firstBroken!;
            write(
              `BROKEN: ${report.brokenChains} chain(s); first: specimen ${f.barcode ?? f.specimenId}, hand-over ${f.seq}${f.eventId === null ? '' : ` (event ${f.eventId})`}: ${f.problem}\n`,
            );
          }
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        if (owned) await db.close();
      }
    });
}
