/**
 * Issue #15, item 2: one keyed chain for the whole store. An event edited in the database, one
 * deleted, one deleted with the later links recomputed without the key, a chain cut short below
 * a checkpoint, a forged checkpoint: each detected, every time, naming the event. Two writers
 * (the server and the CLI) append to one chain without forking it.
 */
import { randomBytes, createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachStore } from '../app/testing.js';
import { runCommand } from '../cli/run-command.testutil.js';
import { registerAuditCommands } from '../cli/audit.js';
import { AuditLog } from './audit.js';
import { canonicalJson, exportCheckpoints, verifyAuditChain, type ExportedCheckpoint, type VerifyReport } from './audit-chain.js';

const TABLES = ['audit_chain', 'audit_chain_head', 'audit_checkpoint', 'r_auditevent'];

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: 'x' }] })).toBe('{"a":[{"b":"x","d":2}],"b":1}');
  });
});

describeEachStore('the audit chain', (server) => {
  const db = () => server().db;
  const verify = (external?: ExportedCheckpoint[]): Promise<VerifyReport> => verifyAuditChain(db().pool, server().audit.keys, { external });
  const chain = async () =>
    (await db().query<{ seq: number; event_id: string }>('SELECT seq, event_id FROM audit_chain ORDER BY seq')).rows.map((r) => ({
      seq: Number(r.seq),
      id: r.event_id,
    }));

  /** Runs a tampering, checks what verify says, and puts the tables back as they were. */
  async function tampered(tamper: () => Promise<void>, external?: ExportedCheckpoint[]): Promise<VerifyReport> {
    await server().audit.flush();
    for (const t of TABLES) await db().query(`CREATE TABLE bak_${t} AS SELECT * FROM ${t}`);
    await db().query(`CREATE TABLE bak_history AS SELECT * FROM resource_history WHERE resource_type = 'AuditEvent'`);
    try {
      await tamper();
      return await verify(external);
    } finally {
      for (const t of TABLES) await db().query(`DELETE FROM ${t}; INSERT INTO ${t} SELECT * FROM bak_${t}; DROP TABLE bak_${t}`);
      await db().query(
        `DELETE FROM resource_history WHERE resource_type = 'AuditEvent'; INSERT INTO resource_history SELECT * FROM bak_history; DROP TABLE bak_history`,
      );
    }
  }

  beforeAll(async () => {
    // Some history: writes (audited in their transaction) and reads (group commit).
    for (let i = 0; i < 6; i++) {
      const r = await server().api('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', gender: 'male' }) });
      const { id } = (await r.json()) as Resource;
      await Promise.all([1, 2, 3].map(() => server().api(`/fhir/Patient/${id}`)));
    }
    await server().audit.flush();
    expect((await chain()).length).toBeGreaterThan(20);
  });

  it('verifies a chain nobody touched: seq 1…N without gaps, every link and checkpoint', async () => {
    await server().audit.checkpoint();
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const c = await chain();
    expect(c.map((x) => x.seq)).toEqual(c.map((_, i) => i + 1));
    expect(report.checkpoints).toBeGreaterThan(0);
  });

  it("detects an event's content edited in the database, at the start, middle and end, naming it", async () => {
    const c = await chain();
    for (const at of [c[0]!, c[Math.floor(c.length / 2)]!, c[c.length - 1]!]) {
      const report = await tampered(async () => {
        await db().query(
          `UPDATE resource_history SET content = json_build_object('resourceType', 'AuditEvent', 'id', id, 'action', 'D', 'recorded', '2020-01-01T00:00:00Z')
           WHERE resource_type = 'AuditEvent' AND id = $1`,
          [at.id],
        );
      });
      expect(report.ok).toBe(false);
      expect(report.firstBroken).toMatchObject({ seq: at.seq, eventId: at.id });
      expect(report.firstBroken!.problem).toMatch(/content differs/);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('detects a deleted event (store and chain), naming the event after the gap, or the cut at the end', async () => {
    const c = await chain();
    for (const k of [1, Math.floor(c.length / 2), c.length - 2]) {
      const gone = c[k - 1]!;
      const next = c[k]!;
      const report = await tampered(async () => {
        await db().query('DELETE FROM audit_chain WHERE event_id = $1', [gone.id]);
        await db().query('DELETE FROM r_auditevent WHERE id = $1', [gone.id]);
        await db().query(`DELETE FROM resource_history WHERE resource_type = 'AuditEvent' AND id = $1`, [gone.id]);
      });
      expect(report.ok).toBe(false);
      expect(report.firstBroken).toMatchObject({ seq: next.seq, eventId: next.id });
      expect(report.firstBroken!.problem).toMatch(new RegExp(`seq ${gone.seq} was removed|previous`));
    }
    // Only from the store (the chain row kept): named itself.
    const mid = c[3]!;
    const report = await tampered(async () => {
      await db().query('DELETE FROM r_auditevent WHERE id = $1', [mid.id]);
      await db().query(`DELETE FROM resource_history WHERE resource_type = 'AuditEvent' AND id = $1`, [mid.id]);
    });
    expect(report.firstBroken).toMatchObject({ seq: mid.seq, eventId: mid.id, problem: expect.stringMatching(/deleted/) });
  });

  it('detects delete-and-rehash (later links renumbered and recomputed without the key), every time', async () => {
    const c = await chain();
    for (const k of [1, 2, Math.floor(c.length / 2), c.length - 1]) {
      const gone = c[k - 1]!;
      const next = c[k]!;
      for (const attackerKey of [Buffer.alloc(0), randomBytes(32)]) {
        const report = await tampered(async () => {
          await db().query('DELETE FROM audit_chain WHERE event_id = $1', [gone.id]);
          await db().query('DELETE FROM r_auditevent WHERE id = $1', [gone.id]);
          await db().query(`DELETE FROM resource_history WHERE resource_type = 'AuditEvent' AND id = $1`, [gone.id]);
          await db().query('UPDATE audit_chain SET seq = -seq WHERE seq > $1', [gone.seq]);
          await db().query('UPDATE audit_chain SET seq = -seq - 1 WHERE seq < 0');
          const rows = (
            await db().query<{ seq: number; event_id: string; content_hash: string }>(
              'SELECT seq, event_id, content_hash FROM audit_chain WHERE seq >= $1 ORDER BY seq',
              [gone.seq],
            )
          ).rows;
          let prev =
            (await db().query<{ hash: string }>('SELECT hash FROM audit_chain WHERE seq = $1', [gone.seq - 1])).rows[0]?.hash ?? '';
          for (const r of rows) {
            const hash = createHmac('sha256', attackerKey).update(`${r.seq}\n${r.event_id}\n${r.content_hash}\n${prev}`).digest('hex');
            await db().query('UPDATE audit_chain SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, r.seq]);
            prev = hash;
          }
          await db().query('UPDATE audit_chain_head SET seq = seq - 1, hash = $1, checkpoint_seq = 0', [prev]);
          await db().query('DELETE FROM audit_checkpoint');
        });
        expect(report.ok).toBe(false);
        if (next) expect(report.firstBroken).toMatchObject({ seq: gone.seq, eventId: next.id });
        expect(report.firstBroken!.problem).toMatch(/HMAC/);
      }
    }
  });

  it("detects a cut at the end below a checkpoint, and a forged checkpoint, also from a second party's copy", async () => {
    await server().api('/fhir/Patient?_count=1');
    await server().audit.flush();
    await server().audit.checkpoint();
    const held = await exportCheckpoints(db().pool, server().audit.keys);
    const c = await chain();
    const last = c[c.length - 1]!;
    // The last event removed and the head rewritten to match: only the checkpoints tell.
    const cut = await tampered(async () => {
      await db().query('DELETE FROM audit_chain WHERE seq = $1', [last.seq]);
      await db().query('DELETE FROM r_auditevent WHERE id = $1', [last.id]);
      await db().query(`DELETE FROM resource_history WHERE resource_type = 'AuditEvent' AND id = $1`, [last.id]);
      await db().query('UPDATE audit_chain_head SET seq = seq - 1, hash = (SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1)');
    });
    expect(cut.ok).toBe(false);
    expect(cut.problems.some((p) => p.seq === last.seq && /checkpoint/.test(p.problem))).toBe(true);
    // … even when the stored checkpoints go too: the second party's copy.
    const report = await tampered(async () => {
      await db().query('DELETE FROM audit_chain WHERE seq = $1', [last.seq]);
      await db().query('UPDATE audit_chain_head SET seq = seq - 1, hash = (SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1)');
      await db().query('DELETE FROM audit_checkpoint');
    }, held.checkpoints);
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => p.seq === last.seq && /second party/.test(p.problem))).toBe(true);
    expect((await verify(held.checkpoints)).ok).toBe(true);
    const forged = await tampered(async () => {
      await db().query(`UPDATE audit_checkpoint SET statement = replace(statement, '"seq":', '"seq": ')`);
    });
    expect(forged.problems.some((p) => /signature does not verify/.test(p.problem))).toBe(true);
  });

  it('two writers (the server and the CLI) append to one chain without forking it', async () => {
    const cli = new AuditLog(db());
    const user = { username: 'cli', displayName: 'CLI', roles: ['admin'] };
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        db().transaction((client) =>
          cli.recordNow(client, { user, action: 'U', subtype: 'identity-link', entities: [`Patient/p${i}`], outcome: 'success' }),
        ),
      ),
      ...Array.from({ length: 10 }, () => server().api('/fhir/Patient?_count=1')),
      ...Array.from({ length: 10 }, (_, i) =>
        cli.record({ user, action: 'R', subtype: 'read', entities: [`Patient/q${i}`], outcome: 'success' }),
      ),
    ]);
    await cli.close();
    await server().audit.flush();
    const c = await chain();
    expect(c.map((x) => x.seq)).toEqual(c.map((_, i) => i + 1));
    expect((await verify()).ok).toBe(true);
  });

  it('a verify that runs while requests are audited reports no problem (it checks the chain up to the head it read first)', async () => {
    await server().audit.flush();
    let reading = true;
    // Reads audited all along, each appending to the chain while verify walks it in small pages.
    const readers = (async () => {
      while (reading) await server().api('/fhir/Patient?_count=1');
    })();
    const reports: VerifyReport[] = [];
    try {
      for (let i = 0; i < 5; i++) reports.push(await verifyAuditChain(db().pool, server().audit.keys, { pageSize: 3 }));
    } finally {
      reading = false;
      await readers;
    }
    await server().audit.flush();
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
    expect((await verify()).ok).toBe(true);
  });

  it('detects a head moved back over events still in the chain', async () => {
    const r = await tampered(async () => {
      await db().query(
        'UPDATE audit_chain_head SET seq = seq - 2, hash = (SELECT hash FROM audit_chain WHERE seq = (SELECT max(seq) - 2 FROM audit_chain)), checkpoint_seq = 0',
      );
      await db().query('DELETE FROM audit_checkpoint');
    });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.problem).join('\n')).toMatch(/head says seq \d+: the head was moved back/);
  });

  it('GET /api/audit/verify and yifang audit verify report the chain; a broken one names the first broken event', async () => {
    const r = await server().api('/api/audit/verify');
    expect(r.status).toBe(200);
    expect(((await r.json()) as VerifyReport).ok).toBe(true);
    const ok = await runCommand((p) => registerAuditCommands(p, { db: db(), write: (s) => void (out += s) }), 'audit', ['verify']);
    expect(ok.code).toBe(0);
    expect(out).toMatch(/OK: every link/);
    out = '';
    const c = await chain();
    const at = c[2]!;
    await tampered(async () => {
      await db().query(
        `UPDATE resource_history SET content = json_build_object('resourceType', 'AuditEvent', 'id', id) WHERE resource_type = 'AuditEvent' AND id = $1`,
        [at.id],
      );
      await runCommand((p) => registerAuditCommands(p, { db: db(), write: (s) => void (out += s) }), 'audit', ['verify']);
    });
    expect(out).toContain(`BROKEN: first broken event seq ${at.seq} id ${at.id}`);
    process.exitCode = 0;
    const cp = await server().api('/api/audit/checkpoints');
    const exported = (await cp.json()) as { publicKey: string; checkpoints: unknown[] };
    expect(exported.publicKey).toMatch(/BEGIN PUBLIC KEY/);
    expect(exported.checkpoints.length).toBeGreaterThan(0);
  });
});

let out = '';
