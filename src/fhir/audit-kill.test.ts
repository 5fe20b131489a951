/**
 * Issue #15, item 3: a read's AuditEvent survives the server's death once the read is answered.
 * The server runs in a child process answering a burst of reads on 32 connections and is
 * SIGKILLed under it; after a restart (which replays the read write-ahead file, audit-wal.ts),
 * every read that got a 200 has its AuditEvent (each read is of a patient of its own, so the
 * event's patient entity names the read), and the chain verifies.
 *
 * Variants: PGlite with the write-ahead file (its default), once with the drain running and once
 * with it held back (every answered read is then only in the file when the kill comes, so the
 * replay is what saves them); PostgreSQL with the group commit (its default) and with the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds, type StoreKind } from '../app/testing.js';
import { openDatabase, type Database } from '../platform/db.js';
import { verifyAuditChain } from './audit-chain.js';
import { defaultAuditKeyDir, loadAuditKeys } from './audit-keys.js';

interface Variant {
  kind: StoreKind;
  label: string;
  /** The read write-ahead file on (default: the server's default for the engine). */
  wal?: boolean;
  /** The file's drain held back during the burst. */
  hold?: boolean;
}

const VARIANTS: Variant[] = [
  { kind: 'pglite', label: 'pglite, write-ahead file' },
  { kind: 'pglite', label: 'pglite, write-ahead file, drain held', hold: true },
  { kind: 'postgres', label: 'postgres, group commit' },
  { kind: 'postgres', label: 'postgres, write-ahead file', wal: true },
];

interface Started {
  child: ChildProcess;
  exited: Promise<unknown>;
  url: string;
  wal: boolean;
  replayed: number;
}

function startChild(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'audit-kill-server.testutil.ts')], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  return new Promise<Started>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, exited, ...(JSON.parse(line) as { url: string; wal: boolean; replayed: number }) });
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
}

/** The patients whose reads have an AuditEvent in the store ("Patient/<id>"). */
async function auditedReads(db: Database): Promise<Set<string>> {
  return new Set(
    (
      await db.query<{ t: string }>(
        `SELECT content #>> '{entity,0,what,reference}' AS t FROM resource_history
         WHERE resource_type = 'AuditEvent' AND content #>> '{subtype,0,code}' = 'read'`,
      )
    ).rows.map((r) => r.t),
  );
}

// A patient per read. The kill comes after 300 answers, with up to 32 more in flight (about 350
// sent in runs so far): 500 leave the burst still sending when it lands.
const PATIENTS = 500;

describe('audit: SIGKILL in the middle of a burst of reads', () => {
  for (const v of VARIANTS.filter((x) => storeKinds().includes(x.kind))) {
    it(`every read answered 200 has its AuditEvent after a restart [${v.label}]`, { timeout: 240_000 }, async () => {
      const db = await freshDatabase(v.kind);
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', YIFANG_DATA_DIR: '', YIFANG_AUDIT_READ_WAL: '' };
      let walDir: string | undefined;
      if (v.kind === 'postgres') {
        env.DATABASE_URL = (db.pool as unknown as { options: { connectionString: string } }).options.connectionString;
        if (v.wal) {
          // The file (and the audit keys) in a data directory of this server's own.
          walDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-audit-kill-'));
          env.YIFANG_DATA_DIR = walDir;
          env.YIFANG_AUDIT_READ_WAL = '1';
        }
      } else {
        env.YIFANG_DATA_DIR = db.dataDir!;
        await db.close(); // PGlite is one process's store: the child opens it
      }
      const keyDir = env.YIFANG_DATA_DIR || defaultAuditKeyDir(db.dataDir);
      const withStore = async <T>(fn: (store: Database) => Promise<T>): Promise<T> => {
        const store = v.kind === 'postgres' ? db : await openDatabase({ dataDir: env.YIFANG_DATA_DIR });
        try {
          return await fn(store);
        } finally {
          if (v.kind === 'pglite') await store.close();
        }
      };
      const children: Started[] = [];
      try {
        const first = await startChild({ ...env, YIFANG_TEST_WAL_HOLD: v.hold ? '1' : '' });
        children.push(first);
        expect(first.wal).toBe(v.kind === 'pglite' || Boolean(v.wal));
        const { url } = first;
        const login = await fetch(`${url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'audit-kill-test-pw' }),
        });
        const { access_token: token } = (await login.json()) as { access_token: string };
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
        // A patient per read: the read's AuditEvent names it.
        const created = await fetch(`${url}/fhir`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            entry: Array.from({ length: PATIENTS }, () => ({
              resource: { resourceType: 'Patient' },
              request: { method: 'POST', url: 'Patient' },
            })),
          }),
        });
        expect(created.status).toBe(200);
        const ids = ((await created.json()) as { entry: { response: { location: string } }[] }).entry.map(
          (e) => e.response.location.split('/')[1]!,
        );
        expect(new Set(ids).size).toBe(PATIENTS);

        const answered: string[] = [];
        let sent = 0;
        let killed = false;
        const worker = async () => {
          while (!killed && sent < ids.length) {
            const token = `Patient/${ids[sent++]}`;
            try {
              const r = await fetch(`${url}/fhir/${token}`, { headers });
              await r.arrayBuffer();
              if (r.status === 200) answered.push(token);
              else throw new Error(`GET ${token}: HTTP ${r.status}`);
            } catch (err) {
              if (!killed) throw err;
              return; // the server is gone
            }
          }
        };
        const workers = Promise.all(Array.from({ length: 32 }, () => worker()));
        let failed: unknown;
        workers.catch((err: unknown) => (failed = err));
        while (answered.length < 300 && !failed) await new Promise((r) => setTimeout(r, 5));
        // Killed first, then marked: the workers go on sending until the server is gone, so reads are
        // in flight at the kill (marked first, they stopped sending and every read in flight could
        // still be answered before the signal landed).
        first.child.kill('SIGKILL');
        killed = true;
        await first.exited;
        if (failed) throw failed as Error;
        await workers;
        expect(sent).toBeGreaterThan(answered.length); // the kill came with reads in flight

        // Before the restart: the answered reads whose events are only in the write-ahead file.
        const before = await withStore(auditedReads);
        const onlyInFile = answered.filter((t) => !before.has(t));
        if (v.hold) expect(onlyInFile).toHaveLength(answered.length);
        if (!first.wal) expect(onlyInFile).toEqual([]);

        // Restart: the server replays the file before it listens.
        const second = await startChild(env);
        children.push(second);
        expect(second.replayed).toBeGreaterThanOrEqual(onlyInFile.length);
        second.child.kill('SIGKILL');
        await second.exited;

        await withStore(async (store) => {
          const stored = await auditedReads(store);
          const lost = answered.filter((t) => !stored.has(t));
          console.log(
            `[audit kill ${v.label}] ${answered.length} reads answered 200 of ${sent} sent; ${onlyInFile.length} only in the write-ahead file at the kill, ${second.replayed} events replayed on restart; ${lost.length} without an AuditEvent`,
          );
          expect(lost).toEqual([]);
          const report = await verifyAuditChain(store.pool, loadAuditKeys(keyDir));
          expect(report.problems).toEqual([]);
        });
      } finally {
        for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
        await Promise.all(children.map((c) => c.exited));
        await db.dispose();
        if (walDir) fs.rmSync(walDir, { recursive: true, force: true });
      }
    });
  }
});
