/**
 * kill -9 during each kind of write (issue #14): the server runs as a child process on a store
 * (a PGlite data directory, or a PostgreSQL database), three clients stream writes of one kind
 * at it, and it is SIGKILLed in the middle of the stream (no shutdown hook, no flush). A server is
 * then started again on the same store (in the test's process), which must open and serve, and
 * every write answered 2xx before the kill must be there exactly once; nothing is half-written (a
 * transaction Bundle, an NDJSON import request of one batch and a feed upload are each all or
 * nothing). Writes without an answer may or may not be there (the sender retries them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../platform/db.js';
import { startServer } from './server.js';
import { freshDatabase, storeKinds, type StoreKind } from './test-stores.js';

const PASSWORD = 'kill-test-pw';
const WRITERS = 3;
/** Answers to wait for before the kill (the rest of the stream is in flight or not yet sent). */
const ACKED_BEFORE_KILL = 24;

interface Child {
  process: ChildProcess;
  url: string;
  api(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  exited: Promise<unknown>;
}

async function startChild(env: NodeJS.ProcessEnv): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'kill-server.testutil.ts')], {
    env: { ...env, KILL_TEST_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { url: string });
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  return { process: child, url, api: await signedIn(url), exited };
}

/** fetch against a server as its administrator. */
async function signedIn(url: string): Promise<Child['api']> {
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  return (p: string, init: RequestInit = {}) =>
    fetch(`${url}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...(init.headers as Record<string, string>) },
    });
}

/** One kind of write: how to send write number `n` (marker m), and how to check the store afterwards. */
interface WriteKind {
  name: string;
  send(api: Child['api'], m: string): Promise<{ ok: boolean; detail?: unknown }>;
  /** Checks the store: acknowledged writes there exactly once, nothing half-written; returns problems. */
  check(db: Database, acked: Map<string, unknown>, attempted: string[]): Promise<string[]>;
}

const SYS = 'https://kill.test/marker';

const countBy = (values: string[]) => {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

/** Identifier keys (system|value) of every stored resource of a type, with how often each occurs. */
async function identifierCounts(db: Database, table: string): Promise<Map<string, number>> {
  const r = await db.query<{ k: string }>(`SELECT unnest(p_identifier) AS k FROM ${table}`);
  return countBy(r.rows.map((x) => x.k).filter((k) => k.startsWith(SYS)));
}

const KINDS: WriteKind[] = [
  {
    name: 'REST create',
    async send(api, m) {
      const res = await api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: SYS, value: m }], name: [{ family: 'Kill', given: [m] }] }),
      });
      if (res.status !== 201) return { ok: false };
      return { ok: true, detail: ((await res.json()) as { id: string }).id };
    },
    async check(db, acked) {
      const problems: string[] = [];
      const counts = await identifierCounts(db, 'r_patient');
      const ids = new Set((await db.query<{ id: string }>('SELECT id FROM r_patient')).rows.map((r) => r.id));
      for (const [m, id] of acked) {
        if (counts.get(`${SYS}|${m}`) !== 1) problems.push(`${m}: stored ${counts.get(`${SYS}|${m}`) ?? 0} times`);
        if (!ids.has(id as string)) problems.push(`${m}: Patient/${id} missing`);
      }
      for (const [k, n] of counts) if (n > 1) problems.push(`${k}: stored ${n} times`);
      return problems;
    },
  },
  {
    name: 'transaction Bundle',
    async send(api, m) {
      const patientUrl = `urn:uuid:${crypto.randomUUID()}`;
      const obs = (j: number) => ({
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'kill test' },
          identifier: [{ system: SYS, value: `${m}/o${j}` }],
          subject: { reference: patientUrl },
          valueQuantity: { value: j, unit: 'mmHg' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
      const res = await api('/fhir', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              fullUrl: patientUrl,
              resource: { resourceType: 'Patient', identifier: [{ system: SYS, value: m }], name: [{ family: 'Kill', given: [m] }] },
              request: { method: 'POST', url: 'Patient' },
            },
            obs(1),
            obs(2),
          ],
        }),
      });
      if (res.status !== 200) return { ok: false };
      await res.body?.cancel();
      return { ok: true };
    },
    async check(db, acked, attempted) {
      const problems: string[] = [];
      const patients = await identifierCounts(db, 'r_patient');
      const observations = await identifierCounts(db, 'r_observation');
      for (const m of attempted) {
        const n = [patients.get(`${SYS}|${m}`) ?? 0, observations.get(`${SYS}|${m}/o1`) ?? 0, observations.get(`${SYS}|${m}/o2`) ?? 0];
        if (acked.has(m) && n.join() !== '1,1,1') problems.push(`${m}: acknowledged, stored ${n.join('/')}`);
        if (!acked.has(m) && n.join() !== '1,1,1' && n.join() !== '0,0,0') problems.push(`${m}: half-written ${n.join('/')}`);
      }
      // Each stored Observation points at a stored Patient.
      const dangling = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM r_observation o WHERE NOT EXISTS (SELECT 1 FROM r_patient p, unnest(o.p_subject) s WHERE s LIKE '%Patient/' || p.id)`,
      );
      if (dangling.rows[0]!.n) problems.push(`${dangling.rows[0]!.n} Observations without their Patient`);
      return problems;
    },
  },
  {
    name: 'NDJSON import',
    async send(api, m) {
      const lines = Array.from({ length: 5 }, (_, j) =>
        JSON.stringify({
          resourceType: 'Patient',
          id: `${m}-${j}`,
          identifier: [{ system: SYS, value: `${m}/${j}` }],
          name: [{ family: 'Kill' }],
        }),
      );
      const res = await api('/api/import', {
        method: 'POST',
        body: lines.join('\n') + '\n',
        headers: { 'content-type': 'application/fhir+ndjson' },
      });
      if (res.status !== 200) return { ok: false };
      const stats = (await res.json()) as { resources: number; errors: unknown[] };
      return { ok: stats.resources === 5 && stats.errors.length === 0 };
    },
    async check(db, acked, attempted) {
      const problems: string[] = [];
      const versions = await db.query<{ id: string; n: number }>(
        `SELECT id, count(*)::int AS n FROM resource_history WHERE resource_type = 'Patient' GROUP BY id`,
      );
      const history = new Map(versions.rows.map((r) => [r.id, r.n]));
      const ids = new Set((await db.query<{ id: string }>('SELECT id FROM r_patient')).rows.map((r) => r.id));
      for (const m of attempted) {
        const present = [0, 1, 2, 3, 4].filter((j) => ids.has(`${m}-${j}`)).length;
        const once = [0, 1, 2, 3, 4].every((j) => history.get(`${m}-${j}`) === 1);
        if (acked.has(m) && (present !== 5 || !once)) problems.push(`${m}: acknowledged, ${present}/5 stored, versions once: ${once}`);
        if (!acked.has(m) && present !== 0 && present !== 5) problems.push(`${m}: half-written ${present}/5`);
      }
      return problems;
    },
  },
  {
    name: 'CSV feed upload',
    async send(api, m) {
      const rows = Array.from({ length: 4 }, (_, j) => `K${m},杀进程小学,${m}-c${j},2026-01-05,40,${j + 1},病假,发热`);
      const res = await api('/api/feeds/school-absenteeism', {
        method: 'POST',
        headers: { 'content-type': 'text/csv; charset=utf-8' },
        body: ['school_code,school_name,class_code,date,enrolled,absent,reason,symptom', ...rows].join('\n'),
      });
      if (res.status !== 200) return { ok: false };
      const r = (await res.json()) as { uploadId: number; accepted: number };
      return { ok: r.accepted === 4, detail: r.uploadId };
    },
    async check(db, acked, attempted) {
      const problems: string[] = [];
      const rows = await db.query<{ class_code: string; upload_id: number }>(`SELECT class_code, upload_id FROM feed_school_absence`);
      const byClass = countBy(rows.rows.map((r) => r.class_code));
      for (const m of attempted) {
        const present = [0, 1, 2, 3].filter((j) => byClass.get(`${m}-c${j}`) === 1).length;
        if (acked.has(m) && present !== 4) problems.push(`${m}: acknowledged, ${present}/4 rows stored`);
        if (!acked.has(m) && present !== 0 && present !== 4) problems.push(`${m}: half-written ${present}/4`);
      }
      const uploads = await db.query<{ id: number; accepted: number; n: number }>(
        `SELECT u.id, u.accepted, (SELECT count(*)::int FROM feed_school_absence a WHERE a.upload_id = u.id) AS n FROM feed_upload u`,
      );
      const byId = new Map(uploads.rows.map((u) => [Number(u.id), u]));
      for (const [m, id] of acked) if (!byId.has(id as number)) problems.push(`${m}: upload ${id} missing`);
      for (const u of uploads.rows) if (u.accepted !== u.n) problems.push(`upload ${u.id}: accepted ${u.accepted}, ${u.n} rows stored`);
      return problems;
    },
  },
];

describe('kill -9 during writes', () => {
  for (const kind of storeKinds()) {
    for (const write of KINDS) {
      it(`${write.name} [${kind}]: every acknowledged write there exactly once after a restart`, { timeout: 90_000 }, async () => {
        await killDuring(kind, write);
      });
    }
  }
});

async function killDuring(kind: StoreKind, write: WriteKind): Promise<void> {
  const db = await freshDatabase(kind);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', YIFANG_DATA_DIR: '' };
  if (kind === 'postgres') env.DATABASE_URL = db.url;
  else {
    env.YIFANG_DATA_DIR = db.dataDir!;
    await db.close(); // PGlite is one process's store: the child opens it
  }
  let child: Child | undefined;
  try {
    child = await startChild(env);
    const acked = new Map<string, unknown>();
    const attempted: string[] = [];
    const unexpected: string[] = [];
    let killed = false;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((r) => (reached = r));
    const api = child.api;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; !killed; i++) {
        const m = `${w}x${i}`;
        attempted.push(m);
        try {
          const r = await write.send(api, m);
          if (r.ok) acked.set(m, r.detail);
          else if (!r.ok && !killed) unexpected.push(`${m}: refused`);
          if (acked.size >= ACKED_BEFORE_KILL) reached();
        } catch {
          return; // the server is gone
        }
      }
    });
    await Promise.race([enough, new Promise((r) => setTimeout(r, 30_000))]);
    killed = true;
    child.process.kill('SIGKILL');
    await child.exited;
    await Promise.all(writers);
    expect(unexpected).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(ACKED_BEFORE_KILL);

    // The same store opens again and serves: a server started in this process on what the kill
    // left (the killed process's start is what had to be a process of its own), and the store is
    // checked through it.
    const restarted = await startServer({
      databaseUrl: kind === 'postgres' ? env.DATABASE_URL : undefined,
      dataDir: kind === 'pglite' ? env.YIFANG_DATA_DIR : undefined,
      port: 0,
      mllpPort: 0,
      quiet: true,
      adminPassword: PASSWORD,
    });
    try {
      if (kind === 'postgres') await restarted.auth.addUser({ username: 'admin', password: PASSWORD, roles: ['admin'] });
      expect((await fetch(`${restarted.url}/healthz`)).status).toBe(200);
      expect((await write.send(await signedIn(restarted.url), 'after')).ok).toBe(true);
      const problems = await write.check(restarted.db, acked, attempted);
      console.info(`[kill ${kind} ${write.name}] acknowledged ${acked.size}, sent ${attempted.length}, problems ${problems.length}`);
      expect(problems).toEqual([]);
    } finally {
      await restarted.close();
    }
  } finally {
    if (child && child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await db.dispose();
  }
}
