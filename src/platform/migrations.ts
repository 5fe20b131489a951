/**
 * Versioned migrations, applied in order on start inside one transaction each. A migration is
 * never edited once released; changes come as a new version.
 *
 * Each module declares its own migrations in a version range of its own (`MigrationSource`);
 * the composition root (src/app/) collects them. `checkMigrationSources` refuses, before any
 * SQL runs, a version outside its module's range, two modules with overlapping ranges or one
 * version, and two modules that create the same table, naming both.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: () => string;
}

/** The migrations one module owns, and the version range they must stay in (inclusive). */
export interface MigrationSource {
  module: string;
  range: readonly [number, number];
  migrations: readonly Migration[];
}

/** A migration read from an SQL file beside the module (`new URL('./migrations/x.sql', import.meta.url)`). */
export function sqlFile(url: URL): () => string {
  const file = fileURLToPath(url);
  return () => fs.readFileSync(file, 'utf8');
}

/** Table names a migration's SQL creates (CREATE [UNLOGGED] TABLE [IF NOT EXISTS] name). */
export function tablesCreatedBy(sql: string): string[] {
  const out: string[] = [];
  const re = /\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi;
  for (let m = re.exec(sql); m; m = re.exec(sql)) out.push(m[1]!.toLowerCase());
  return out;
}

/** Throws one error listing every conflict between the sources; returns their migrations sorted. */
export function checkMigrationSources(sources: readonly MigrationSource[]): Migration[] {
  const problems: string[] = [];
  const byModule = new Map<string, MigrationSource>();
  for (const s of sources) {
    if (byModule.has(s.module)) problems.push(`module '${s.module}' declares migrations twice`);
    byModule.set(s.module, s);
    const [lo, hi] = s.range;
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi))
      problems.push(`module '${s.module}': range ${lo}–${hi} is not a range of positive versions`);
    for (const m of s.migrations) {
      if (m.version < lo || m.version > hi)
        problems.push(`module '${s.module}': migration ${m.version} '${m.name}' is outside its range ${lo}–${hi}`);
    }
  }
  for (let i = 0; i < sources.length; i++) {
    for (let j = i + 1; j < sources.length; j++) {
      const a = sources[i]!;
      const b = sources[j]!;
      if (a.range[0] <= b.range[1] && b.range[0] <= a.range[1]) {
        problems.push(
          `modules '${a.module}' (${a.range[0]}–${a.range[1]}) and '${b.module}' (${b.range[0]}–${b.range[1]}) claim overlapping migration ranges`,
        );
      }
    }
  }
  const versions = new Map<number, string>();
  const tables = new Map<string, string>();
  for (const s of sources) {
    for (const m of s.migrations) {
      const other = versions.get(m.version);
      if (other !== undefined) problems.push(`migration ${m.version} is declared by '${other}' and by '${s.module}'`);
      versions.set(m.version, s.module);
      for (const t of tablesCreatedBy(m.sql())) {
        const owner = tables.get(t);
        if (owner !== undefined && owner !== s.module)
          problems.push(`table '${t}' is created by module '${owner}' and by module '${s.module}'`);
        else tables.set(t, s.module);
      }
    }
  }
  if (problems.length) throw new Error(`Module migrations conflict:\n  - ${problems.join('\n  - ')}`);
  return sources.flatMap((s) => s.migrations).sort((a, b) => a.version - b.version);
}

export async function migrate(
  db: Database,
  sources: readonly MigrationSource[],
  log: (msg: string) => void = () => undefined,
): Promise<number[]> {
  const migrations = checkMigrationSources(sources);
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  // Several servers may start at once against one PostgreSQL: a session lock serialises them.
  const applied: number[] = [];
  await db.transaction(async (client) => {
    if (db.kind === 'postgres') await client.query('SELECT pg_advisory_xact_lock(7262001)');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      log(`migration ${m.version} ${m.name}`);
      await client.query(m.sql());
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return applied;
}
