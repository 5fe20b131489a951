/**
 * Database loss during an MLLP burst (issue #14), PostgreSQL only (PGlite runs in the process
 * and has no backends to lose): every backend of the server's database is terminated while
 * messages are being stored, several times. A message whose store was cut gets no ACK at all
 * (the connection is closed; an AE/AR would make the sender give up), nothing of it is kept, and
 * the sender's resend is stored once. Every message that got AA is stored exactly once and the
 * server stays up.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../app/test-stores.js';
import { startTestServer, type TestServer } from '../app/testing.js';
import { adt } from './ingest-fixtures.js';
import { encodeFrame } from './mllp.js';
import { ackFields, TestMllpClient } from './test-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until `n` replies arrived or the server closed the connection. */
async function settled(c: TestMllpClient, n: number, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (c.replies.length < n && !c.closed) {
    if (Date.now() > until) throw new Error(`neither ${n} replies nor a close after ${ms} ms (got ${c.replies.length})`);
    await sleep(20);
  }
}

describe.runIf(!!postgresUrl())('HL7 v2: database connection lost mid-burst [postgres]', () => {
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

  it('no ACK for what was cut, every AA stored exactly once, resends accepted once', { timeout: 300_000 }, async () => {
    const port = ((await (await server.api('/api/hl7/status')).json()) as { mllpPort: number }).mllpPort;
    const total = 4 * 150;
    const all = Array.from({ length: total }, (_, i) => `DBL-${i}`);
    const mrnOf = (id: string) => `DBL${Number(id.slice(4)) % 97}`;
    const aa = new Map<string, number>();
    const notAa: string[] = [];
    let cutRounds = 0;
    let pending = all;
    for (let attempt = 0; attempt < 10 && pending.length; attempt++) {
      const clients = await Promise.all([0, 1, 2, 3].map(() => TestMllpClient.connect(port)));
      const share = clients.map((_, k) => pending.filter((_, i) => i % 4 === k));
      await Promise.all(
        clients.map((c, k) => c.write(Buffer.concat(share[k]!.map((id) => encodeFrame(adt(id, { facility: 'DBLHOSP', mrn: mrnOf(id) })))))),
      );
      if (attempt < 3) {
        // cut the database under the burst
        await sleep(40 + attempt * 60);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [
          dbName,
        ]);
      }
      await Promise.all(clients.map((c, k) => settled(c, share[k]!.length)));
      if (clients.some((c, k) => c.replies.length < share[k]!.length)) cutRounds++;
      for (const c of clients) {
        for (const r of c.replies) {
          const msa = ackFields(r).MSA!;
          if (msa[1] === 'AA') aa.set(msa[2]!, (aa.get(msa[2]!) ?? 0) + 1);
          else notAa.push(`${msa[2]} ${msa[1]} ${msa[3]}`);
        }
        c.close();
      }
      pending = all.filter((id) => !aa.has(id));
    }
    // The cut really came mid-burst at least once, and the database faults never became an AE/AR.
    expect(cutRounds).toBeGreaterThan(0);
    expect(notAa).toEqual([]);
    expect(pending).toEqual([]);

    // The server is up and answers (once its pool has replaced the connections that were cut: at most a few seconds).
    await expect.poll(async () => (await fetch(`${server.url}/healthz`)).status, { timeout: 10_000, interval: 200 }).toBe(200);

    // Every message is stored exactly once, and nothing of any message is there twice or half:
    // one Patient per record number, one Encounter per message.
    const rows = await server.db.query<{ control_id: string; n: number }>(
      `SELECT control_id, count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'DBL-%' AND status = 'stored' GROUP BY control_id`,
    );
    expect(rows.rows.length).toBe(total);
    expect(rows.rows.every((r) => r.n === 1)).toBe(true);
    const others = await server.db.query(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'DBL-%' AND status <> 'stored'`);
    expect(others.rows[0].n).toBe(0);
    const patients = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM r_patient WHERE p_identifier && $1::text[]`, [
      [...new Set(all.map(mrnOf))].map((m) => `https://yifang.health/fhir/sid/mrn/DBLHOSP|${m}`),
    ]);
    expect(patients.rows[0]!.n).toBe(97);
    const resources = await server.db.query<{ refs: string[] }>(
      `SELECT resources AS refs FROM hl7_message WHERE control_id LIKE 'DBL-%' AND status = 'stored'`,
    );
    const encounters = new Set(resources.rows.flatMap((r) => r.refs.filter((x) => x.startsWith('Encounter/'))));
    expect(encounters.size).toBe(total);
    const existing = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM r_encounter WHERE id = ANY($1::text[])`, [
      [...encounters].map((e) => e.slice('Encounter/'.length)),
    ]);
    expect(existing.rows[0]!.n).toBe(total);
  });
});
