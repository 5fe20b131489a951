/**
 * The database goes away and comes back (issue #14), through a real TCP proxy between the server
 * and PostgreSQL (the shared PostgreSQL server is never stopped: other tests use it). While the
 * proxy is down (sockets destroyed, connections refused) or a black hole (connections accepted,
 * never answered), every request is answered 503 with Retry-After within the connect timeout:
 * no 500, no hang, the process alive. When it is up again, writes succeed, the change-log
 * processors (in their own thread, through the same proxy) resume from their cursors and catch
 * up, and no acknowledged write is lost. A slow network (each protocol message delayed) that
 * pushes statements past a short statement timeout is answered 503 too.
 * PostgreSQL only: PGlite runs inside the process and has no network to lose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../platform/db.js';
import { startServer, type RunningServer } from './server.js';
import { TcpProxy } from './tcp-proxy.testutil.js';
import { freshDatabase, postgresUrl } from './test-stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONNECT_TIMEOUT_MS = 2000;
/** The longest a request may take while the database is unreachable: the connect timeout and a margin. */
const PROMPT_MS = CONNECT_TIMEOUT_MS + 3000;

interface Proxied {
  server: RunningServer;
  db: Database;
  proxy: TcpProxy;
  api(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

/** A server whose database connections (its pool and the processor thread's) all pass through the proxy. */
async function proxiedServer(options: { statementTimeoutMs?: number } = {}): Promise<Proxied> {
  const base = await freshDatabase('postgres');
  const target = new URL(postgresUrl()!);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  const db = await openDatabase({
    databaseUrl: proxy.proxied(base.url!),
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    statementTimeoutMs: options.statementTimeoutMs,
  });
  const server = await startServer({ db, port: 0, mllpPort: 0, quiet: true, adminPassword: 'outage-pw' });
  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'outage-pw' }),
  });
  expect(login.status).toBe(200);
  const { access_token: token } = (await login.json()) as { access_token: string };
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${server.url}${p}`, {
      ...init,
      signal: init.signal ?? AbortSignal.timeout(60_000),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...(init.headers as Record<string, string>) },
    });
  return {
    server,
    db,
    proxy,
    api,
    async dispose() {
      await proxy.up();
      await server.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      await proxy.close();
      await base.dispose();
    },
  };
}

interface Answer {
  what: string;
  status: number;
  ms: number;
  retryAfter: string | null;
  id?: string;
}

async function timed(what: string, run: () => Promise<Response>): Promise<Answer> {
  const t0 = performance.now();
  const res = await run();
  const answer: Answer = { what, status: res.status, ms: Math.round(performance.now() - t0), retryAfter: res.headers.get('retry-after') };
  if (res.status === 201) answer.id = ((await res.json()) as { id: string }).id;
  else await res.body?.cancel();
  return answer;
}

const patient = (family: string) => JSON.stringify({ resourceType: 'Patient', name: [{ family, given: ['断网'] }], gender: 'female' });

describe.runIf(!!postgresUrl())('database stop and start through a TCP proxy [postgres]', () => {
  let s: Proxied;
  beforeAll(async () => {
    s = await proxiedServer();
  });
  afterAll(async () => {
    await s?.dispose();
  });

  /** Requests of every kind while the database is unreachable: all 503 + Retry-After, all prompt. */
  const duringOutage = async (label: string, knownId: string): Promise<Answer[]> => {
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) =>
        timed(`${label} create ${i}`, () => s.api('/fhir/Patient', { method: 'POST', body: patient(`停机${i}`) })),
      ),
      timed(`${label} read`, () => s.api(`/fhir/Patient/${knownId}`)),
      timed(`${label} search`, () => s.api('/fhir/Patient?family=停机')),
      timed(`${label} healthz`, () => fetch(`${s.server.url}/healthz`)),
      timed(`${label} transaction`, () =>
        s.api('/fhir', {
          method: 'POST',
          body: JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              {
                fullUrl: 'urn:uuid:8c7e7b2a-6a0e-4b7e-9d3e-000000000001',
                resource: JSON.parse(patient('停机事务')),
                request: { method: 'POST', url: 'Patient' },
              },
            ],
          }),
        }),
      ),
    ]);
    return answers;
  };

  it(
    'answers 503 promptly while the database is gone, then recovers: writes, processors, nothing acknowledged lost',
    { timeout: 120_000 },
    async () => {
      const acknowledged: string[] = [];
      const write = async (family: string) => {
        const a = await timed('create', () => s.api('/fhir/Patient', { method: 'POST', body: patient(family) }));
        if (a.status === 201) acknowledged.push(a.id!);
        return a;
      };
      // Before: writes succeed and the processors link each Patient to a Person.
      for (let i = 0; i < 5; i++) expect((await write(`通前${i}`)).status).toBe(201);
      const first = acknowledged[0]!;
      await waitFor(
        async () => (await s.api(`/api/identity/patients/${first}/person`)).status === 200,
        30_000,
        'identity Person before the outage',
      );

      // Down: sockets destroyed, connections refused.
      await s.proxy.down();
      const refused: Answer[] = [];
      for (let round = 0; round < 3; round++) {
        refused.push(...(await duringOutage(`down#${round}`, first)));
        await sleep(300);
      }
      // A black hole: connections accepted and never answered; the connect timeout bounds the wait.
      await s.proxy.blackhole();
      const unanswered = await duringOutage('blackhole', first);
      const outage = [...refused, ...unanswered];
      const bad = outage.filter((a) => a.status !== 503 || !a.retryAfter || a.ms > PROMPT_MS);
      expect(bad).toEqual([]);

      // Up: the first writes may still meet a connection the outage broke; within seconds they succeed.
      await s.proxy.up();
      const upAt = Date.now();
      let recovered = false;
      while (!recovered && Date.now() - upAt < 15_000) {
        const a = await write('恢复');
        expect([201, 503]).toContain(a.status);
        recovered = a.status === 201;
        if (!recovered) await sleep(200);
      }
      expect(recovered).toBe(true);
      for (let i = 0; i < 10; i++) expect((await write(`通后${i}`)).status).toBe(201);
      expect((await fetch(`${s.server.url}/healthz`)).status).toBe(200);

      // The processors (their own pool, through the proxy) resume from their cursors and catch up:
      // a Patient written after the recovery gets its Person, and the lag comes back to 0.
      const after = acknowledged[acknowledged.length - 1]!;
      await waitFor(
        async () => (await s.api(`/api/identity/patients/${after}/person`)).status === 200,
        60_000,
        'identity Person after the outage',
      );
      await waitFor(async () => (await s.server.processors.lag()) === 0, 30_000, 'processor lag 0');
      for (const id of acknowledged) {
        const person = await s.api(`/api/identity/patients/${id}/person`);
        expect(person.status, `Person of Patient/${id}`).toBe(200);
      }

      // No acknowledged write lost, none doubled; writes answered 503 changed nothing (a 503 is only
      // "may not have happened" when the connection died during COMMIT: none here did).
      const rows = await s.db.query<{ id: string }>(`SELECT id FROM r_patient`);
      const stored = rows.rows.map((r) => r.id);
      expect(stored.filter((id) => acknowledged.includes(id)).sort()).toEqual([...acknowledged].sort());
      expect(new Set(stored).size).toBe(stored.length);
      expect(stored.length).toBe(acknowledged.length);
    },
  );

  it('answers 503, not 500, when a slow network pushes statements past the statement timeout', { timeout: 90_000 }, async () => {
    const slow = await proxiedServer({ statementTimeoutMs: 400 });
    try {
      const created = await timed('create', () => slow.api('/fhir/Patient', { method: 'POST', body: patient('慢网') }));
      expect(created.status).toBe(201);
      // Each protocol message from server to database is delayed: Parse…Sync of one statement
      // spans several delays, more than the statement timeout.
      slow.proxy.delayMs = 250;
      const answers = await Promise.all([
        timed('create', () => slow.api('/fhir/Patient', { method: 'POST', body: patient('慢网写') })),
        timed('read', () => slow.api(`/fhir/Patient/${created.id}`)),
        timed('search', () => slow.api('/fhir/Patient?family=慢网')),
        timed('healthz', () => fetch(`${slow.server.url}/healthz`)),
      ]);
      slow.proxy.delayMs = 0;
      const bad = answers.filter((a) => a.status >= 500 && a.status !== 503);
      expect(bad).toEqual([]);
      expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
      for (const a of answers.filter((x) => x.status === 503)) expect(a.retryAfter, a.what).toBeTruthy();
      // A write answered 503 stored nothing; once the network is fast again all is well.
      const kept = await slow.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM r_patient`);
      expect(kept.rows[0]!.n).toBe(1 + answers.filter((a) => a.what === 'create' && a.status === 201).length);
      let ok = await timed('create', () => slow.api('/fhir/Patient', { method: 'POST', body: patient('快网') }));
      for (let i = 0; i < 10 && ok.status !== 201; i++) {
        await sleep(200);
        ok = await timed('create', () => slow.api('/fhir/Patient', { method: 'POST', body: patient('快网') }));
      }
      expect(ok.status).toBe(201);
    } finally {
      await slow.dispose();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
