/**
 * Test stores: every storage test runs against PGlite and, when reachable, PostgreSQL.
 * PGlite tests copy a data directory migrated once per run (opening a fresh one costs seconds);
 * PostgreSQL tests get their own database cloned from a migrated template.
 * (No vitest import here: the global setup loads this file outside the test workers.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../platform/db.js';
import { createHash } from 'node:crypto';
import { allMigrations, migrateAll } from './modules.js';
import { startServer, type RunningServer } from './server.js';

export type StoreKind = 'pglite' | 'postgres';

// Keyed by the schema itself, so a changed migration never meets a stale template.
const schemaHash = createHash('sha1')
  .update(
    allMigrations()
      .map((m) => `${m.version}:${m.sql()}`)
      .join('\n'),
  )
  .digest('hex')
  .slice(0, 12);
const templateDir = path.join(os.tmpdir(), `yifang-test-template-${schemaHash}`);
const PG_TEMPLATE = `yifang_tpl_${schemaHash}`;

export function postgresUrl(): string | undefined {
  return process.env.YIFANG_TEST_PG_URL || undefined;
}

export function storeKinds(): StoreKind[] {
  return postgresUrl() ? ['pglite', 'postgres'] : ['pglite'];
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

/** Prepares the migrated templates (called once per run from the global setup). */
export async function prepareTemplates(): Promise<void> {
  if (!fs.existsSync(path.join(templateDir, 'ready'))) {
    fs.rmSync(templateDir, { recursive: true, force: true });
    const db = await openDatabase({ dataDir: templateDir, pgliteSharedBuffersMb: TEST_PGLITE_CACHE_MB });
    await migrateAll(db);
    await db.close();
    fs.writeFileSync(path.join(templateDir, 'ready'), '');
  }
  const url = postgresUrl();
  if (url) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Several test runs may share the server (developers, CI): serialise setup, and drop only
      // databases left behind by runs whose process is gone.
      await admin.query('SELECT pg_advisory_lock(7262002)');
      // Newest first (oids grow): runs of other checkouts or branches have templates of their own
      // schema, so the four newest are kept and only older ones dropped.
      const old = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE 'yifang_test_%' OR datname LIKE 'yifang_tpl_%' ORDER BY oid DESC`,
      );
      let templates = 0;
      for (const { datname } of old.rows) {
        const pid = Number(/^yifang_test_(\d+)_/.exec(datname)?.[1]);
        const stale = datname.startsWith('yifang_tpl_') ? datname !== PG_TEMPLATE && ++templates > 4 : !isAlive(pid);
        if (stale) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_TEMPLATE]);
      if (!exists.rows.length) {
        await admin.query(`CREATE DATABASE ${PG_TEMPLATE}`);
        const db = await openDatabase({ databaseUrl: withDatabase(url, PG_TEMPLATE) });
        await migrateAll(db);
        await db.close();
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(7262002)').catch(() => undefined);
      await admin.end();
    }
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let counter = 0;

/**
 * PGlite's cache in a test store: its own default, 128 MB. The product's (PGLITE_SHARED_BUFFERS_MB)
 * is allocated when the store opens and would cost every test store's start the memory of a
 * district's working set; benchmarks at a district's size ask for the product's default.
 */
const TEST_PGLITE_CACHE_MB = 128;
let productCacheByDefault = false;

/** Benchmarks: PGlite stores opened from here take the product's cache size, as a district's server does. */
export function useProductCache(): void {
  productCacheByDefault = true;
}

/** A fresh, migrated, empty store of the given kind. `productCache`: PGlite with the product's cache size. */
export async function freshDatabase(
  kind: StoreKind,
  options: { productCache?: boolean; pgliteThread?: boolean } = {},
): Promise<Database & { dispose(): Promise<void> }> {
  const name = `yifang_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  if (kind === 'pglite') {
    const dir = path.join(os.tmpdir(), name);
    fs.cpSync(templateDir, dir, { recursive: true });
    const db = await openDatabase({
      dataDir: dir,
      ...((options.productCache ?? productCacheByDefault) ? {} : { pgliteSharedBuffersMb: TEST_PGLITE_CACHE_MB }),
      ...(options.pgliteThread === undefined ? {} : { pgliteOnMainThread: !options.pgliteThread }),
    });
    return Object.assign(db, {
      async dispose() {
        await db.close().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    });
  }
  const url = postgresUrl()!;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${PG_TEMPLATE}`);
  await admin.end();
  const db = await openDatabase({ databaseUrl: withDatabase(url, name), poolSize: 4 });
  return Object.assign(db, {
    async dispose() {
      await db.close().catch(() => undefined);
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  });
}

export interface TestServer extends RunningServer {
  kind: StoreKind;
  token: string;
  /** fetch against the server with the admin token (unless headers override it). */
  api(pathAndQuery: string, init?: RequestInit): Promise<Response>;
}

export async function startTestServer(
  kind: StoreKind,
  options: { bodyLimitMb?: number; productCache?: boolean } = {},
): Promise<TestServer & { dispose(): Promise<void> }> {
  const db = await freshDatabase(kind, { productCache: options.productCache });
  const server = await startServer({
    db,
    port: 0,
    mllpPort: 0,
    quiet: true,
    adminPassword: 'test-admin-pw',
    bodyLimitMb: options.bodyLimitMb,
  });
  if (kind === 'postgres') await server.auth.addUser({ username: 'admin', password: 'test-admin-pw', roles: ['admin'] });
  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'test-admin-pw' }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${server.url}${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/fhir+json',
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  return Object.assign(server, {
    kind,
    token,
    api,
    async dispose() {
      await server.close();
      await db.dispose();
    },
  });
}
