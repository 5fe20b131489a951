/**
 * One PostgreSQL dialect, two engines: real PostgreSQL (DATABASE_URL) or embedded PGlite
 * (PostgreSQL compiled to WebAssembly, persisted under a data directory). Both are reached
 * through node-postgres's Pool interface so that every query runs the same code path.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** Anything that runs a query: the pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export type EngineKind = 'pglite' | 'postgres';

export interface Database {
  kind: EngineKind;
  pool: pg.Pool;
  /** Where PGlite keeps its files (undefined for PostgreSQL). */
  dataDir?: string;
  /** PostgreSQL's connection string: another thread opens its own pool with it (undefined for PGlite). */
  url?: string;
  /** Runs fn inside one transaction on one connection; rolls back on any error. */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * COPY FROM in PostgreSQL's text format on the given (checked-out) client: the bulk path.
   * PostgreSQL streams it over the wire; PGlite reads it as a blob in the same session.
   */
  copyFrom(client: pg.PoolClient, table: string, columns: string[], data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** Connections for PostgreSQL; PGlite is always one. */
  poolSize?: number;
}

// Return bigint/numeric as JS numbers and timestamps as ISO strings: FHIR wants strings, and
// JS Date would lose microseconds and timezone intent.
pg.types.setTypeParser(20, (v) => Number(v)); // int8
pg.types.setTypeParser(1700, (v) => Number(v)); // numeric
pg.types.setTypeParser(1184, (v) => new Date(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString()); // timestamptz
pg.types.setTypeParser(1114, (v) => v); // timestamp

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 12 });
    pool.on('error', (err) => console.error('[db] idle client error:', err.message));
    await pool.query('select 1');
    const { from: copyFromStream } = await import('pg-copy-streams');
    const { pipeline } = await import('node:stream/promises');
    const { Readable } = await import('node:stream');
    const db = wrap('postgres', pool, async (client, table, columns, data) => {
      const stream = client.query(copyFromStream(`COPY ${table} (${columns.join(',')}) FROM STDIN`));
      await pipeline(Readable.from([typeof data === 'string' ? Buffer.from(data, 'utf8') : data]), stream);
    });
    db.url = options.databaseUrl;
    return db;
  }
  const dataDir = path.resolve(options.dataDir ?? './data');
  fs.mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const pglite = new PGlite(path.join(dataDir, 'pgdata'));
  await pglite.waitReady;
  // PGlite is a single connection: one pooled client, so transactions never interleave.
  const pool = new pg.Pool({ ...(createPgConfig(pglite) as unknown as pg.PoolConfig), max: 1 });
  // PGlite is one session: inside a transaction held through the pool's only client, a direct
  // PGlite query runs in that same transaction.
  const db = wrap(
    'pglite',
    pool,
    async (_client, table, columns, data) => {
      await pglite.query(`COPY ${table} (${columns.join(',')}) FROM '/dev/blob'`, [], { blob: new Blob([data as BlobPart]) });
    },
    dataDir,
    async () => {
      await pglite.close();
    },
  );
  return db;
}

function wrap(kind: EngineKind, pool: pg.Pool, copyFrom: Database['copyFrom'], dataDir?: string, onClose?: () => Promise<void>): Database {
  return {
    kind,
    pool,
    dataDir,
    copyFrom,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    query(text, params) {
      return pool.query(text, params as unknown[]);
    },
    async close() {
      await pool.end();
      await onClose?.();
    },
  };
}
