import { describe, expect, it } from 'vitest';
import { checkMigrationSources, type MigrationSource } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { allMigrations, MODULES, migrationSources } from './modules.js';
import { startServer } from './server.js';
import { freshDatabase } from './testing.js';

const sql = (text: string) => () => text;

describe('module migrations', () => {
  it('every module keeps its migrations in its own range and its own tables', () => {
    const list = allMigrations();
    expect(list.map((m) => m.version)).toEqual([...list.map((m) => m.version)].sort((a, b) => a - b));
    expect(migrationSources().map((s) => s.module)).toEqual(['core', ...MODULES.map((m) => m.name)]);
  });

  it('refuses a migration outside its module range, naming the module and the migration', () => {
    const sources: MigrationSource[] = [
      { module: 'core', range: [1, 99], migrations: [{ version: 1, name: 'a', sql: sql('CREATE TABLE a (x int)') }] },
      {
        module: 'lab',
        range: [400, 409],
        migrations: [{ version: 410, name: 'lab-specimens', sql: sql('CREATE TABLE lab_specimen (x int)') }],
      },
    ];
    expect(() => checkMigrationSources(sources)).toThrow(/module 'lab': migration 410 'lab-specimens' is outside its range 400–409/);
  });

  it('refuses two modules that create one table or overlap, naming both', () => {
    const sources: MigrationSource[] = [
      {
        module: 'lab',
        range: [400, 409],
        migrations: [{ version: 400, name: 'lab', sql: sql('CREATE TABLE IF NOT EXISTS specimen (x int)') }],
      },
      {
        module: 'emergency',
        range: [405, 419],
        migrations: [{ version: 410, name: 'em', sql: sql('create unlogged table "specimen" (y int)') }],
      },
    ];
    expect(() => checkMigrationSources(sources)).toThrow(/table 'specimen' is created by module 'lab' and by module 'emergency'/);
    expect(() => checkMigrationSources(sources)).toThrow(
      /modules 'lab' \(400–409\) and 'emergency' \(405–419\) claim overlapping migration ranges/,
    );
  });

  it('stops the server at start when two modules claim one table', async () => {
    const db = await freshDatabase('pglite');
    const claimer = (name: string, version: number): YifangModule => ({
      name,
      migrations: {
        range: [version, version],
        list: [{ version, name: `${name}-tables`, sql: sql('CREATE TABLE chronic_registry (x int)') }],
      },
      register: async () => undefined,
    });
    try {
      await expect(startServer({ db, quiet: true, modules: [...MODULES, claimer('rogue', 990)] })).rejects.toThrow(
        /table 'chronic_registry' is created by module 'primary-care' and by module 'rogue'/,
      );
      const applied = await db.query(`SELECT count(*)::int AS n FROM schema_migrations WHERE version = 990`);
      expect(applied.rows[0]).toEqual({ n: 0 });
    } finally {
      await db.dispose();
    }
  });
});
