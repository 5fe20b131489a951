/**
 * One PostgreSQL dialect, two engines: real PostgreSQL (DATABASE_URL) or embedded PGlite
 * (PostgreSQL compiled to WebAssembly, persisted under a data directory). Both are reached
 * through node-postgres's Pool interface so that every query runs the same code path.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from './config.js';
import { PgliteThread, threadPgConfig } from './pglite-thread.js';

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
  /** Cancels the statement running on a backend (PostgreSQL; PGlite has no second session to cancel from). */
  cancel?: (pid: number) => Promise<void>;
  /** PGlite on its thread: the bytes of JavaScript heap that thread uses (a leak there is invisible from the main thread). */
  storeHeapUsed?: () => Promise<number>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** Connections for PostgreSQL; PGlite is always one. */
  poolSize?: number;
  /** PostgreSQL: longest a statement may run before the server cancels it (ms; 0 = no limit). */
  statementTimeoutMs?: number;
  /** PostgreSQL: longest a session may sit idle inside a transaction before it is ended (ms). */
  idleInTransactionTimeoutMs?: number;
  /** PostgreSQL: longest to wait for a connection (a new one, or a free one from the pool) (ms). */
  connectTimeoutMs?: number;
  /** PGlite: its buffer cache in MB (default PGLITE_SHARED_BUFFERS_MB). */
  pgliteSharedBuffersMb?: number;
  /** PGlite: run it on the calling thread instead of a worker thread of its own (pglite-thread.ts); default: YIFANG_PGLITE_THREAD unset or 0. */
  pgliteOnMainThread?: boolean;
}

/**
 * PGlite's buffer cache. Its own default (128 MB) holds little of a district's identity index:
 * at 1,000,000 residents a linkage batch's candidate query missed the cache on most of the ~40
 * pages it reads per Patient, and each miss goes through the WebAssembly file layer, a cost
 * PostgreSQL pays to the kernel's page cache at a fraction. PGlite's memory is capped at 2 GB,
 * and this cache is allocated when the store opens (about 0.45 GB more resident memory than
 * PGlite's default, measured).
 */
export const PGLITE_SHARED_BUFFERS_MB = 512;

/** Defaults for the server's pools: OLTP work, where a minute-long statement is a runaway. */
export const DB_LIMITS = { statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 120_000, connectTimeoutMs: 10_000 } as const;

// ---------------------------------------------------------------------------------------------
// Faults: a lost connection is weather, not death
// ---------------------------------------------------------------------------------------------

const CONNECTION_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53400',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * An error that says the database, not the request, failed: the connection was terminated or
 * refused, the server is shutting down or starting, too many connections, or no connection
 * came free in time. The work on that connection is lost; the same request may succeed later.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const m = e.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|Connection ended unexpectedly|the database system is (starting up|shutting down)|Client was closed and is not queryable/i.test(
    m,
  );
}

/** The statement ran past `statement_timeout` (57014 for that reason, not a user cancel). */
export function isStatementTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === '57014' && /statement timeout/i.test(e.message ?? '');
}

/** The statement was cancelled because the client that asked for it went away. */
export function isCancelledByClient(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return (e?.code === '57014' && /user request/i.test(e.message ?? '')) || e instanceof RequestAborted;
}

export class RequestAborted extends Error {
  constructor() {
    super('The client went away; the request was not completed');
  }
}

/**
 * The database work of one request (an HTTP request): its connections in use, so that when the
 * client disconnects, their running statements are cancelled instead of running on for nobody.
 */
export class QueryScope {
  aborted = false;
  readonly clients = new Set<pg.PoolClient>();
  /** How to cancel a running statement (set by the database that runs it). */
  canceller: ((pid: number) => Promise<void>) | undefined;

  /** Marks the scope aborted and cancels whatever is running in it. */
  async abort(): Promise<void> {
    if (this.aborted) return;
    this.aborted = true;
    const pids = [...this.clients].map((c) => (c as unknown as { processID?: number }).processID).filter((p): p is number => !!p);
    await Promise.all(pids.map((pid) => this.canceller?.(pid).catch(() => undefined)));
  }
}

const scopes = new AsyncLocalStorage<QueryScope>();

/** Runs fn (and everything it awaits) inside a query scope; `scope.abort()` cancels its statements. */
export function runInQueryScope<T>(scope: QueryScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/**
 * Every connection taken from the pool, by any code path (`pool.query`, `pool.connect`, a
 * transaction), is registered with the query scope of the request that took it while in use,
 * so `scope.abort()` can cancel what it runs. The scope is the caller's, captured when it asks.
 */
function scopePool(pool: pg.Pool, canceller: () => Database['cancel']): void {
  const connect = pool.connect.bind(pool) as (
    cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
  ) => unknown;
  const register = (scope: QueryScope | undefined, client: pg.PoolClient | undefined): void => {
    if (!scope || !client) return;
    scope.canceller ??= canceller();
    scope.clients.add(client);
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => {
      scope.clients.delete(client);
      return release(err);
    };
  };
  (pool as { connect: unknown }).connect = (
    cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
  ) => {
    const scope = scopes.getStore();
    if (scope?.aborted) {
      const err = new RequestAborted();
      if (cb) return void process.nextTick(() => cb(err));
      return Promise.reject(err);
    }
    if (cb)
      return connect((err, client, done) => {
        register(scope, client);
        cb(err, client, done && client ? (release?: unknown) => client.release(release as Error | undefined) : done);
      });
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      register(scope, client);
      return client;
    });
  };
}

/**
 * PGlite's one session, shared by requests and background work (a full recompute): requests go
 * first. Foreground is every connection taken through the pool's own `connect` (requests,
 * processors, anything that is not background work; the processors wait for requests in flight
 * before each step, `afterRequests`) while it is awaited or held, and every HTTP
 * request from its arrival to its answer (`enterForeground`), so the gaps between one request's
 * statements count too. Background work takes the connection only when the foreground is idle,
 * one unit at a time: when the foreground goes idle the first waiting unit runs, and the next
 * only if nothing arrived meanwhile. A request then waits for at most the one unit already
 * running when it came. Under a stream of requests with no gap, a unit still runs after
 * `maxWaitMs`, so background work moves. 100 ms rather than less: a check-in (~20 ms of
 * statements at 1,000,000 residents) that arrived behind a unit then finishes before the next
 * unit may cut in, instead of waiting for two units (bench/chronic.bench.ts, check-ins at 10 a
 * second during the full recompute: p95 47 ms, recompute 33 s).
 */
class ForegroundGate {
  private active = 0;
  private requests = 0;
  /** Background units holding the connection or queued for it (more than one only after a wait limit). */
  private backgroundBusy = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(
    private readonly pool: pg.Pool,
    private readonly maxWaitMs = 100,
  ) {
    const connect = pool.connect.bind(pool) as (
      cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
    ) => unknown;
    this.backgroundConnect = () => connect() as Promise<pg.PoolClient>;
    const held = (client: pg.PoolClient | undefined) => {
      if (!client) return this.leave();
      const release = client.release.bind(client);
      let once = false;
      client.release = (err?: Error | boolean) => {
        if (!once) {
          once = true;
          this.leave();
        }
        return release(err);
      };
    };
    (pool as { connect: unknown }).connect = (
      cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
    ) => {
      this.active++;
      if (cb)
        return connect((err, client, done) => {
          held(err ? undefined : client);
          cb(err, client, done && client && !err ? (release?: unknown) => client.release(release as Error | undefined) : done);
        });
      return (connect() as Promise<pg.PoolClient>).then(
        (client) => {
          held(client);
          return client;
        },
        (err: unknown) => {
          held(undefined);
          throw err;
        },
      );
    };
  }

  private leave(): void {
    this.active--;
    this.admit();
  }

  /** An HTTP request arrived: foreground until the returned function is called (once). */
  enter(): () => void {
    this.requests++;
    let once = false;
    return () => {
      if (once) return;
      once = true;
      this.requests--;
      if (this.requests === 0) for (const go of this.requestWaiters.splice(0)) go();
      this.admit();
    };
  }

  /** Work that gives way to requests but not to background units (change-log processors). */
  private readonly requestWaiters: (() => void)[] = [];

  /** Resolves when no HTTP request is in flight, or after `maxWaitMs` whatever happens. */
  requestsDone(): Promise<void> {
    if (this.requests === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const go = () => {
        clearTimeout(timer);
        const i = this.requestWaiters.indexOf(go);
        if (i >= 0) this.requestWaiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(go, this.maxWaitMs);
      this.requestWaiters.push(go);
    });
  }

  private idle(): boolean {
    return this.active === 0 && this.requests === 0;
  }

  /** Hands the connection to the first waiting background unit when nothing else wants it. */
  private admit(): void {
    if (this.backgroundBusy > 0 || !this.idle()) return;
    this.waiters.shift()?.();
  }

  /** The pool's connect without the count: for background work, which waits for its turn first. */
  readonly backgroundConnect: () => Promise<pg.PoolClient>;

  /** Resolves when the foreground is idle and no other background unit runs, or after `maxWaitMs` whatever happens. */
  private turn(): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const go = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        this.backgroundBusy++;
        resolve();
      };
      const timer = setTimeout(go, this.maxWaitMs);
      this.waiters.push(go);
      // Let the event loop read requests that have arrived before deciding the foreground is idle.
      setImmediate(() => this.admit());
    });
  }

  /** A pool whose `connect` waits for its turn: what background work on PGlite uses. */
  backgroundPool(): pg.Pool {
    const pool = Object.create(this.pool) as pg.Pool;
    (pool as { connect: unknown }).connect = async () => {
      await this.turn();
      let client: pg.PoolClient;
      try {
        client = await this.backgroundConnect();
      } catch (err) {
        this.backgroundDone();
        throw err;
      }
      const release = client.release.bind(client);
      let once = false;
      client.release = (err?: Error | boolean) => {
        const r = release(err);
        if (!once) {
          once = true;
          this.backgroundDone();
        }
        return r;
      };
      return client;
    };
    return pool;
  }

  private backgroundDone(): void {
    this.backgroundBusy--;
    // The next unit only after the event loop has turned: requests that came meanwhile go first.
    setImmediate(() => this.admit());
  }
}

const gates = new WeakMap<pg.Pool, ForegroundGate>();

/**
 * Loads rows given as PostgreSQL COPY text lines (one per row, in the columns given) into tables
 * in one transaction, 200,000 lines per COPY, then ANALYZEs: the bulk seed of benchmarks and
 * end-to-end tests. Each module wraps it for its own tables, so callers never name them.
 */
export async function copyTextRows(
  db: Pick<Database, 'transaction' | 'copyFrom' | 'query'>,
  tables: Record<string, { columns: readonly string[]; lines: string[] }>,
): Promise<void> {
  await db.transaction(async (c) => {
    for (const [table, t] of Object.entries(tables))
      for (let i = 0; i < t.lines.length; i += 200_000)
        await db.copyFrom(c, table, [...t.columns], t.lines.slice(i, i + 200_000).join('\n') + '\n');
  });
  await db.query('ANALYZE');
}

/**
 * Marks an HTTP request as foreground work on PGlite until the returned function is called, so
 * background work (a full recompute) does not step in between its statements. No-op on PostgreSQL.
 */
export function enterForeground(db: Pick<Database, 'pool'>): () => void {
  return gates.get(db.pool)?.enter() ?? (() => undefined);
}

/**
 * On PGlite, waits until no HTTP request is in flight (at most the gate's wait limit): the
 * change-log processors call it before each step, so a desk's statements and its audit record
 * are not queued behind a round of processor transactions on the one session. A step still
 * goes before a background unit (a recompute), and a stream of requests with no gap delays a
 * step by at most the wait limit. No-op on PostgreSQL, where each has a connection of its own.
 */
export function afterRequests(db: Pick<Database, 'pool'>): Promise<void> {
  return gates.get(db.pool)?.requestsDone() ?? Promise.resolve();
}

/**
 * A second pool on the same PostgreSQL database with the same settings (timeouts, jit off) and
 * the same guard on its connections: for work that must not queue behind the main pool (a full
 * recompute). PGlite is one session: its own pool, through which the work gives way to requests.
 */
export function extraPool(db: Pick<Database, 'kind' | 'pool'>, max: number): { pool: pg.Pool; close(): Promise<void> } {
  if (db.kind !== 'postgres') return { pool: gates.get(db.pool)?.backgroundPool() ?? db.pool, close: async () => undefined };
  const pool = new pg.Pool({ ...(db.pool as unknown as { options: pg.PoolConfig }).options, max });
  guardClients(pool, ' extra');
  return { pool, close: () => pool.end() };
}

/** Keeps an error handler on every connection for its whole life: pg-pool removes its own on checkout. */
function guardClients(pool: pg.Pool, label: string): void {
  let last = 0;
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      // The query on this client fails with its own error; this only stops the process dying of
      // an unhandled 'error' event. Log at most once a second (a failover ends every connection).
      if (Date.now() - last > 1000) console.error(`[db${label}] connection lost: ${err.message}`);
      last = Date.now();
    });
  });
  pool.on('error', (err) => {
    if (Date.now() - last > 1000) console.error(`[db${label}] idle connection lost: ${err.message}`);
    last = Date.now();
  });
}

// Return bigint/numeric as JS numbers and timestamps as ISO strings: FHIR wants strings, and
// JS Date would lose microseconds and timezone intent.
pg.types.setTypeParser(20, (v) => Number(v)); // int8
pg.types.setTypeParser(1700, (v) => Number(v)); // numeric
pg.types.setTypeParser(1184, (v) => new Date(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString()); // timestamptz
pg.types.setTypeParser(1114, (v) => v); // timestamp

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  if (options.databaseUrl) {
    const statementTimeout = options.statementTimeoutMs ?? DB_LIMITS.statementTimeoutMs;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 12,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DB_LIMITS.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      ...(statementTimeout ? { statement_timeout: statementTimeout } : {}),
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DB_LIMITS.idleInTransactionTimeoutMs,
      // JIT compilation pays off for long analytic scans, not for the short statements here; one
      // runaway query once spent 20 minutes compiling and ignored pg_terminate_backend.
      options: '-c jit=off',
    });
    guardClients(pool, '');
    await pool.query('select 1');
    const { from: copyFromStream } = await import('pg-copy-streams');
    const { pipeline } = await import('node:stream/promises');
    const { Readable } = await import('node:stream');
    const db = wrap('postgres', pool, async (client, table, columns, data) => {
      const stream = client.query(copyFromStream(`COPY ${table} (${columns.join(',')}) FROM STDIN`));
      await pipeline(Readable.from([typeof data === 'string' ? Buffer.from(data, 'utf8') : data]), stream);
    });
    db.url = options.databaseUrl;
    const url = options.databaseUrl;
    db.cancel = async (pid) => {
      // A cancel needs a session of its own: the pool may be full of the very queries to cancel.
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    return db;
  }
  const dataDir = path.resolve(options.dataDir ?? './data');
  fs.mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const startParams = ['-c', `shared_buffers=${options.pgliteSharedBuffersMb ?? PGLITE_SHARED_BUFFERS_MB}MB`];
  // In-process by default. With YIFANG_PGLITE_THREAD (or pgliteOnMainThread: false) on a thread
  // of its own (pglite-thread.ts): its statements no longer stop the event loop, but on the 1M
  // chronic bench with a desk at 10 check-ins/s the recompute took 59–63 s there against 43–59 s
  // in-process (same machine, same hour), so in-process stays the default.
  let pool: pg.Pool;
  let copyInto: (sql: string, data: string | Uint8Array) => Promise<void>;
  let closeStore: () => Promise<void>;
  let heapUsed: (() => Promise<number>) | undefined;
  if (!(options.pgliteOnMainThread ?? !loadConfig().YIFANG_PGLITE_THREAD)) {
    const thread = await PgliteThread.open(path.join(dataDir, 'pgdata'), startParams);
    pool = new pg.Pool({ ...(await threadPgConfig(thread)), max: 1 });
    copyInto = (sql, data) => thread.copyFrom(sql, data);
    closeStore = () => thread.close();
    heapUsed = () => thread.heapUsed();
  } else {
    const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
    const pglite = new PGlite(path.join(dataDir, 'pgdata'), { startParams: [...PGlite.defaultStartParams, ...startParams] });
    await pglite.waitReady;
    pool = new pg.Pool({ ...(createPgConfig(pglite) as unknown as pg.PoolConfig), max: 1 });
    copyInto = async (sql, data) => {
      await pglite.query(sql, [], { blob: new Blob([data as BlobPart]) });
    };
    closeStore = () => pglite.close();
  }
  // PGlite is a single connection: one pooled client, so transactions never interleave.
  keepPgliteClient(pool);
  gates.set(pool, new ForegroundGate(pool));
  // PGlite is one session: inside a transaction held through the pool's only client, a COPY
  // sent beside it runs in that same transaction.
  const db = wrap(
    'pglite',
    pool,
    async (_client, table, columns, data) => copyInto(`COPY ${table} (${columns.join(',')}) FROM '/dev/blob'`, data),
    dataDir,
    closeStore,
  );
  if (heapUsed) db.storeHeapUsed = heapUsed;
  return db;
}

/**
 * PGlite's one pooled client is never dropped for a statement's own error. pg-pool drops a client
 * released with an error (pool.query does so whenever a query fails) and ends its connection; the
 * PGlite adapter has one connection object for all clients, so every later client found it ended
 * ("Connection terminated unexpectedly") and the store was lost until a restart — and a fresh
 * connection object per client would interleave the dropped one's late protocol messages (its
 * Sync after the error) with the next client's on the one backend, leaving a request waiting for
 * an answer that never comes. A failed statement leaves the session usable (outside a
 * transaction; a transaction is rolled back by its owner), so the client is released as healthy
 * unless the error is the connection's own.
 */
function keepPgliteClient(pool: pg.Pool): void {
  type Release = (err?: Error | boolean) => void;
  const keep = (client: pg.PoolClient): pg.PoolClient => {
    const marked = client as pg.PoolClient & { __kept?: boolean };
    if (marked.__kept) return client;
    marked.__kept = true;
    const release = client.release.bind(client) as Release;
    (client as { release: Release }).release = (err?: Error | boolean) =>
      release(err instanceof Error && isConnectionError(err) ? err : err === true ? true : undefined);
    return client;
  };
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: Release) => void) => unknown;
  (pool as { connect: unknown }).connect = (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: Release) => void) => {
    if (typeof cb === 'function')
      return connect((err, client, done) => {
        if (err || !client) return cb(err, client, done);
        keep(client);
        cb(err, client, (e?: Error | boolean) => client.release(e));
      });
    return (connect() as Promise<pg.PoolClient>).then(keep);
  };
}

function wrap(kind: EngineKind, pool: pg.Pool, copyFrom: Database['copyFrom'], dataDir?: string, onClose?: () => Promise<void>): Database {
  /** A connection from the pool (registered with the request's scope by scopePool). */
  const checkout = async (): Promise<{ client: pg.PoolClient; done: (err?: unknown) => void }> => {
    const client = await pool.connect();
    return {
      client,
      // A connection that failed is destroyed, not handed to the next request.
      done: (err) => client.release(err !== undefined && isConnectionError(err) ? (err as Error) : undefined),
    };
  };
  if (kind === 'postgres') scopePool(pool, () => db.cancel);
  const db: Database = {
    kind,
    pool,
    dataDir,
    copyFrom,
    async transaction(fn) {
      const { client, done } = await checkout();
      let failure: unknown;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        failure = err;
        if (!isConnectionError(err)) await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        done(failure);
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
  return db;
}
