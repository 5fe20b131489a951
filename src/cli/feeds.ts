/** `yifang feed school-absenteeism FILE` and `yifang feed pharmacy-sales FILE`: load a feed file into the store. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { COLUMNS, FEEDS, storeFeed, type FeedName } from '../feeds/index.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';

export function registerFeedCommands(program: Command): void {
  const feed = program.command('feed').description('Load surveillance feed files (CSV or JSON)');
  for (const name of FEEDS) {
    feed
      .command(name)
      .description(`Load ${name} rows; CSV header ${COLUMNS[name].join(',')}, or a JSON array`)
      .argument('<file>', 'a .csv or .json file')
      .action(async (file: string) => {
        if (!fs.existsSync(file)) {
          console.error(`yifang: file '${file}' does not exist`);
          process.exit(2);
        }
        const config = loadConfig();
        const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
        try {
          await migrateAll(db);
          const bytes = fs.readFileSync(file);
          const format = file.toLowerCase().endsWith('.json') ? 'json' : 'csv';
          const r = await storeFeed(db, name as FeedName, bytes, format, file);
          for (const e of r.errors.slice(0, 50)) console.error(`${file}:${e.line}: ${e.message}`);
          if (r.errors.length > 50) console.error(`… and ${r.errors.length - 50} more errors`);
          console.log(`${name}: ${r.accepted} of ${r.lines} lines stored, ${r.rejected} rejected (upload ${r.uploadId})`);
          if (r.fatal || r.rejected) process.exitCode = 1;
        } finally {
          await db.close();
        }
      });
  }
}
