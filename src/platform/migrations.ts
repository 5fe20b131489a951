/**
 * Versioned migrations, applied in order on start inside one transaction each. A migration
 * is never edited once released; changes come as a new version. Version 2's SQL is generated
 * from the pinned R4 definitions, so it is as fixed as a hand-written file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fhirSchemaSql, fhirSchemaV3Sql, fhirSchemaV5Sql, fhirSchemaV6Sql, fhirSchemaV7Sql } from '../fhir/schema.js';
import type { Database } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: () => string;
}

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A module's SQL file, path relative to src/ (e.g. 'hl7v2/migrations/100_messages.sql'). */
const sqlFile = (relative: string) => () => fs.readFileSync(path.join(srcDir, relative), 'utf8');

/**
 * Version ranges per capability, so modules add migrations without colliding:
 * 1–99 platform and FHIR, 100–199 hl7v2/feeds/identity, 200–249 surveillance reporting and
 * signals, 250–299 alerts, 300–399 chronic care, immunization, contracts, indicators.
 */
export const MIGRATIONS: Migration[] = [
  { version: 1, name: 'platform', sql: sqlFile('platform/migrations/001_platform.sql') },
  { version: 2, name: 'fhir-r4-tables', sql: fhirSchemaSql },
  { version: 3, name: 'fhir-json-content-and-string-prefix', sql: fhirSchemaV3Sql },
  { version: 4, name: 'processor-gaps', sql: sqlFile('platform/migrations/004_processor_gaps.sql') },
  { version: 5, name: 'fhir-identifier-index-without-pending-list', sql: fhirSchemaV5Sql },
  { version: 6, name: 'fhir-content-kept-once-in-history', sql: fhirSchemaV6Sql },
  { version: 7, name: 'fhir-history-content-lz4', sql: fhirSchemaV7Sql },
  { version: 200, name: 'surveillance-reporting', sql: sqlFile('surveillance/migrations/200_reporting.sql') },
  { version: 210, name: 'surveillance-signals', sql: sqlFile('surveillance/migrations/210_signals.sql') },
  { version: 250, name: 'surveillance-alerts', sql: sqlFile('surveillance/migrations/250_alerts.sql') },
  { version: 251, name: 'surveillance-weak-evidence', sql: sqlFile('surveillance/migrations/251_weak_evidence.sql') },
  { version: 100, name: 'hl7v2-inbound', sql: sqlFile('hl7v2/migrations/100_hl7_inbound.sql') },
  { version: 110, name: 'feeds', sql: sqlFile('feeds/migrations/110_feeds.sql') },
  { version: 120, name: 'identity-mpi', sql: sqlFile('identity/migrations/120_identity.sql') },
  { version: 121, name: 'identity-households', sql: sqlFile('identity/migrations/121_identity_households.sql') },
  { version: 300, name: 'chronic-care', sql: sqlFile('chronic/migrations/300_chronic.sql') },
  { version: 301, name: 'care-key-populations', sql: sqlFile('chronic/migrations/301_key_populations.sql') },
];

export async function migrate(db: Database, log: (msg: string) => void = () => undefined): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  // Several servers may start at once against one PostgreSQL: a session lock serialises them.
  const applied: number[] = [];
  await db.transaction(async (client) => {
    if (db.kind === 'postgres') await client.query('SELECT pg_advisory_xact_lock(7262001)');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      log(`migration ${m.version} ${m.name}`);
      await client.query(m.sql());
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return applied;
}
