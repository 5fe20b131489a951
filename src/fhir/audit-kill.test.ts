/**
 * Issue #15, item 3: a read's AuditEvent is in the database before its response leaves. The
 * server runs in a child process answering a burst of reads on 32 connections and is SIGKILLed
 * under it; when the store is opened again, every read that got a 200 has its AuditEvent (each
 * read carries a token in X-Purpose-Of-Use, which the event keeps), and the chain verifies.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds } from '../app/testing.js';
import { openDatabase } from '../platform/db.js';
import { verifyAuditChain } from './audit-chain.js';
import { defaultAuditKeyDir, loadAuditKeys } from './audit-keys.js';

describe('audit: SIGKILL in the middle of a burst of reads', () => {
  for (const kind of storeKinds()) {
    it(`every read answered 200 has its AuditEvent [${kind}]`, { timeout: 180_000 }, async () => {
      const db = await freshDatabase(kind);
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', YIFANG_DATA_DIR: '' };
      if (kind === 'postgres')
        env.DATABASE_URL = (db.pool as unknown as { options: { connectionString: string } }).options.connectionString;
      else {
        env.YIFANG_DATA_DIR = db.dataDir!;
        await db.close(); // PGlite is one process's store: the child opens it
      }
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'audit-kill-server.testutil.ts')], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      try {
        const { url } = await new Promise<{ url: string }>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            const line = out.split('\n').find((l) => l.startsWith('{'));
            if (line) resolve(JSON.parse(line) as { url: string });
          });
          child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
        });
        const login = await fetch(`${url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'audit-kill-test-pw' }),
        });
        const { access_token: token } = (await login.json()) as { access_token: string };
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
        const created = await fetch(`${url}/fhir/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient' }) });
        const { id } = (await created.json()) as { id: string };

        const answered: string[] = [];
        let sent = 0;
        let killed = false;
        const worker = async (k: number) => {
          for (let i = 0; !killed; i++) {
            const token = `kill-${k}-${i}`;
            sent++;
            try {
              const r = await fetch(`${url}/fhir/Patient/${id}`, { headers: { ...headers, 'x-purpose-of-use': token } });
              await r.arrayBuffer();
              if (r.status === 200) answered.push(token);
            } catch {
              return; // the server is gone
            }
          }
        };
        const workers = Array.from({ length: 32 }, (_, k) => worker(k));
        while (answered.length < 300) await new Promise((r) => setTimeout(r, 5));
        child.kill('SIGKILL');
        killed = true;
        await exited;
        await Promise.all(workers);
        expect(sent).toBeGreaterThan(answered.length); // the kill came with reads in flight

        const reopened = kind === 'postgres' ? db : await openDatabase({ dataDir: env.YIFANG_DATA_DIR });
        try {
          const stored = new Set(
            (
              await reopened.query<{ t: string }>(
                `SELECT content #>> '{purposeOfEvent,0,text}' AS t FROM resource_history WHERE resource_type = 'AuditEvent'`,
              )
            ).rows.map((r) => r.t),
          );
          const lost = answered.filter((t) => !stored.has(t));
          console.log(`[audit kill ${kind}] ${answered.length} reads answered 200 of ${sent} sent; ${lost.length} without an AuditEvent`);
          expect(lost).toEqual([]);
          const report = await verifyAuditChain(reopened.pool, loadAuditKeys(defaultAuditKeyDir(reopened.dataDir)));
          expect(report.problems).toEqual([]);
        } finally {
          if (kind === 'pglite') await reopened.close();
        }
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await db.dispose();
      }
    });
  }
});
