/**
 * Database faults are weather, not death (issue #14): backends terminated under load, a pool full
 * of slow statements, statements that outlive their client. The server must stay up, answer
 * each request correctly (done, or 503 with Retry-After), and lose no acknowledged write.
 * PostgreSQL only: PGlite runs inside the process and has no backends to lose.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from './test-stores.js';
import { startTestServer, type TestServer } from './testing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(!!postgresUrl())('database faults [postgres]', () => {
  let server: TestServer & { dispose(): Promise<void> };
  let admin: pg.Client;
  let dbName: string;
  beforeAll(async () => {
    server = await startTestServer('postgres');
    dbName = new URL(server.db.url!).pathname.slice(1);
    admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.dispose();
  });

  const terminateAll = () =>
    admin.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [
      dbName,
    ]);

  it('survives 10 rounds of every backend terminated mid-burst and loses no acknowledged write', async () => {
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    for (let round = 0; round < 10; round++) {
      const writes = Array.from({ length: 40 }, (_, i) =>
        server
          .api('/fhir/Patient', {
            method: 'POST',
            body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `断线${round}`, given: [`${i}`] }] }),
          })
          .then(async (res) => {
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
            else {
              expect(res.status).toBe(503);
              expect(res.headers.get('retry-after')).toBeTruthy();
              await res.body?.cancel();
            }
          }),
      );
      await sleep(5 + round * 3);
      await terminateAll();
      await Promise.all(writes);
    }
    expect([...statuses.keys()].every((s) => s === 201 || s === 503)).toBe(true);
    // The server is up and the pool has reconnected.
    let health = await fetch(`${server.url}/healthz`);
    for (let i = 0; i < 20 && health.status !== 200; i++) {
      await sleep(250);
      health = await fetch(`${server.url}/healthz`);
    }
    expect(health.status).toBe(200);
    // Every acknowledged write is there.
    for (const id of acknowledged) expect((await server.api(`/fhir/Patient/${id}`)).status).toBe(200);
    expect(acknowledged.length).toBeGreaterThan(0);
  });

  it('keeps health and patient reads fast while one user fills its budget with slow statements', async () => {
    const created = await server.api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', gender: 'female' }),
    });
    const { id } = (await created.json()) as { id: string };
    // Twelve slow requests from one user (pg_sleep through a route that runs SQL would need a
    // hook; a held advisory lock does the same: each search waits behind it in PostgreSQL).
    const holder = new pg.Client({ connectionString: server.db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE r_observation IN ACCESS EXCLUSIVE MODE');
    const slow = Array.from({ length: 12 }, () => server.api('/fhir/Observation?code=8480-6').then((r) => r.status));
    await sleep(300);
    const t0 = performance.now();
    const health = await fetch(`${server.url}/healthz`);
    const read = await server.api(`/fhir/Patient/${id}`);
    const ms = performance.now() - t0;
    await holder.query('ROLLBACK');
    await holder.end();
    const slowStatuses = await Promise.all(slow);
    expect(health.status).toBe(200);
    expect(read.status).toBe(200);
    expect(ms).toBeLessThan(2000); // generous for a loaded CI machine; the bench reports the figure
    expect(slowStatuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  it('cancels a statement when its client goes away', async () => {
    const holder = new pg.Client({ connectionString: server.db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE r_condition IN ACCESS EXCLUSIVE MODE');
    const ac = new AbortController();
    const req = server.api('/fhir/Condition?code=I10', { signal: ac.signal }).catch(() => 'aborted');
    // Wait until the search is waiting for the lock in PostgreSQL.
    const waiting = async () =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query ILIKE '%r_condition%'`,
          [dbName],
        )
      ).rows[0]!.n;
    for (let i = 0; i < 50 && (await waiting()) === 0; i++) await sleep(50);
    expect(await waiting()).toBe(1);
    ac.abort();
    expect(await req).toBe('aborted');
    for (let i = 0; i < 50 && (await waiting()) > 0; i++) await sleep(50);
    expect(await waiting()).toBe(0);
    await holder.query('ROLLBACK');
    await holder.end();
  });
});
