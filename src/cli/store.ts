/**
 * The store a CLI command writes to: DATABASE_URL or YIFANG_DATA_DIR, migrated; tests hand in a
 * running test server's database instead through `openStore`.
 */
import { loadConfig } from '../platform/config.js';
import { openDatabase, type Database } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';

export interface CliStore {
  db: Database;
  close(): Promise<void>;
}

export interface StoreCommandOptions {
  /** Opens the store (tests hand in a running test server's database). Default: DATABASE_URL or YIFANG_DATA_DIR. */
  openStore?: () => Promise<CliStore>;
}

/** Opens and migrates the configured database. */
export async function openDefaultStore(): Promise<CliStore> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
  await migrateAll(db);
  return { db, close: () => db.close() };
}
