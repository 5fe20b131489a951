/**
 * The embedded store keeps serving after a statement fails: pg-pool drops a client whose query
 * failed, and with PGlite's one connection object shared by every client the store used to be
 * lost ("Connection terminated unexpectedly") until a restart — after a parameterised statement
 * failing (division by zero, a constraint) or a trigger refusing a change. The client is now kept.
 */
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../app/test-stores.js';
import { enterForeground, extraPool } from './db.js';

describe('PGlite store', () => {
  it('keeps answering after failing statements, through db.query and the pool', async () => {
    const db = await freshDatabase('pglite');
    try {
      await expect(db.query('SELECT 1/$1::int', [0])).rejects.toThrow(/division by zero/);
      expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
      await db.query(`CREATE TABLE append_only (a int);
        CREATE FUNCTION append_only_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'append-only'; END $$;
        CREATE TRIGGER append_only_t BEFORE UPDATE OR DELETE ON append_only FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
        INSERT INTO append_only VALUES (1);`);
      await expect(db.query('UPDATE append_only SET a = 2')).rejects.toThrow(/append-only/);
      await expect(db.pool.query('UPDATE append_only SET a = $1', [3])).rejects.toThrow(/append-only/);
      expect((await db.pool.query<{ a: number }>('SELECT a FROM append_only')).rows).toEqual([{ a: 1 }]);
      // A transaction still works after the failures, and a failing one rolls back.
      await expect(
        db.transaction(async (c) => {
          await c.query('INSERT INTO append_only VALUES (5)');
          await c.query('SELECT 1/0');
        }),
      ).rejects.toThrow(/division by zero/);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM append_only')).rows[0]!.n).toBe(1);
      // Failures and queries interleaved under load: every query is answered (none waits forever on a confused session).
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 4 === 0
            ? db.query('SELECT 1/$1::int AS n', [0]).then(
                () => 'answered',
                () => 'refused',
              )
            : db.query<{ n: number }>('SELECT $1::int AS n', [i]).then((r) => (r.rows[0]!.n === i ? 'answered' : 'wrong')),
        ),
      );
      expect(answers.filter((a) => a === 'refused')).toHaveLength(10);
      expect(answers.filter((a) => a === 'answered')).toHaveLength(30);
    } finally {
      await db.dispose();
    }
  });

  it('lets background work in only between requests, one unit at a time, and never starves it', async () => {
    const db = await freshDatabase('pglite');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      const background = extraPool(db, 2).pool;
      const events: string[] = [];
      const unit = async (name: string, holdMs: number) => {
        const c = await background.connect();
        events.push(`${name} start`);
        await c.query('SELECT 1');
        await sleep(holdMs);
        events.push(`${name} end`);
        c.release();
      };
      // A request in flight between its statements: the unit waits for its answer, not for a free connection.
      const leave = enterForeground(db);
      await db.query('SELECT 1');
      const waiting = unit('a', 0);
      await sleep(10);
      events.push('request done');
      leave();
      await waiting;
      expect(events).toEqual(['request done', 'a start', 'a end']);

      // Two units waiting: the second runs after the first has released the connection, and a
      // request that arrived meanwhile goes before it.
      events.length = 0;
      const leave2 = enterForeground(db);
      const both = Promise.all([unit('b', 15), unit('c', 0)]);
      await sleep(5);
      leave2();
      await sleep(5);
      const leave3 = enterForeground(db);
      events.push('request 3 came');
      await sleep(5);
      events.push('request 3 done');
      leave3();
      await both;
      expect(events).toEqual(['b start', 'request 3 came', 'request 3 done', 'b end', 'c start', 'c end']);

      // A request that never ends does not hold background work forever: its turn comes after the wait limit.
      events.length = 0;
      const endless = enterForeground(db);
      const t = performance.now();
      await unit('d', 0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(25);
      expect(performance.now() - t).toBeLessThan(1000);
      endless();
      endless(); // a second call changes nothing
      await unit('e', 0);
      expect(events).toEqual(['d start', 'd end', 'e start', 'e end']);
    } finally {
      await db.dispose();
    }
  });
  it('runs statements on a thread of its own: the event loop keeps turning during a long one, and errors keep their fields', async () => {
    const db = await freshDatabase('pglite', { pgliteThread: true });
    try {
      // A statement of a few hundred milliseconds of CPU inside PGlite. In-process it held the
      // event loop for all of it (no timer could fire); on the store's thread, timers keep firing.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      let during = 0;
      const t0 = performance.now();
      await db.query('SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 3').then(() => (during = ticks));
      const ms = performance.now() - t0;
      clearInterval(timer);
      expect(ms).toBeGreaterThan(50);
      expect(during).toBeGreaterThanOrEqual(3);
      // PostgreSQL's error fields come back from the thread, through the protocol and through COPY.
      await db.query('CREATE TABLE thread_copy (id text PRIMARY KEY)');
      const viaQuery = await db.query(`INSERT INTO thread_copy VALUES ('a'), ('a')`).catch((e: unknown) => e);
      expect(viaQuery).toMatchObject({ code: '23505', constraint: 'thread_copy_pkey' });
      const viaCopy = await db.transaction((c) => db.copyFrom(c, 'thread_copy', ['id'], 'b\nb\n')).catch((e: unknown) => e);
      expect(viaCopy).toBeInstanceOf(Error);
      expect(viaCopy).toMatchObject({ code: '23505' });
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_copy')).rows[0]!.n).toBe(0);
      // COPY inside a transaction sees and is seen by the transaction's statements.
      await db.transaction(async (c) => {
        await c.query(`INSERT INTO thread_copy VALUES ('x')`);
        await db.copyFrom(c, 'thread_copy', ['id'], 'y\nz\n');
        expect((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_copy')).rows[0]!.n).toBe(3);
      });
    } finally {
      await db.dispose();
    }
  });
  it("keeps no rows on the store's thread once they are answered: 200,000 rows read leave its heap where it was", async () => {
    const db = await freshDatabase('pglite', { pgliteThread: true });
    try {
      // PGlite 0.5's execProtocolRaw also parsed every answer into a list only execProtocol
      // empties; on the thread that list grew with every row ever read (a demo's catch-up ran the
      // thread out of memory). Ten reads of 20,000 rows of 200 characters: about 60 MB if kept.
      await db.query('SELECT 1');
      const before = await db.storeHeapUsed!();
      for (let i = 0; i < 10; i++) {
        const r = await db.query(`SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g`);
        expect(r.rows).toHaveLength(20_000);
      }
      const grown = (await db.storeHeapUsed!()) - before;
      expect(grown).toBeLessThan(30e6);
    } finally {
      await db.dispose();
    }
  });
});
