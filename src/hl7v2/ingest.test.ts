/**
 * End to end through a running server: the MLLP port and POST /api/hl7, bad input of every kind,
 * idempotency by facility + MSH-10, dead letters, and AA only after commit.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../platform/db.js';
import { describeEachStore, freshDatabase, storeKinds } from '../app/testing.js';
import { startServer } from '../app/server.js';
import { encodeFrame } from './mllp.js';
import { adt } from './ingest-fixtures.js';
import { ackFields, TestMllpClient } from './test-support.js';

async function mllpPort(api: (p: string) => Promise<Response>): Promise<number> {
  const s = (await (await api('/api/hl7/status')).json()) as { mllpPort: number };
  return s.mllpPort;
}

const msa = (ack: Buffer | string) => ackFields(ack).MSA!;

describeEachStore('HL7 v2 ingest end to end', (server) => {
  it('stores a message over MLLP, answers AA after commit, and a resend creates nothing new', async () => {
    const port = await mllpPort(server().api);
    const c = await TestMllpClient.connect(port);
    try {
      await c.write(encodeFrame(adt('IDEM-1', { mrn: 'IDEM-MRN' })));
      const [ack] = await c.waitForReplies(1);
      expect(msa(ack!)[1]).toBe('AA');
      expect(msa(ack!)[2]).toBe('IDEM-1');
      const count = async () => (await server().db.query(`SELECT count(*)::int AS n FROM r_patient`)).rows[0].n as number;
      const before = await count();
      await c.write(encodeFrame(adt('IDEM-1', { mrn: 'IDEM-MRN' })));
      const replies = await c.waitForReplies(2);
      expect(msa(replies[1]!)[1]).toBe('AA');
      expect(await count()).toBe(before);
      const rows = await server().db.query(`SELECT status, resources FROM hl7_message WHERE control_id = 'IDEM-1'`);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0].status).toBe('stored');
      expect((rows.rows[0].resources as string[]).some((r) => r.startsWith('Patient/'))).toBe(true);
    } finally {
      c.close();
    }
  });

  it('handles a message split across TCP reads and several messages in one read', async () => {
    const c = await TestMllpClient.connect(await mllpPort(server().api));
    try {
      const frame = encodeFrame(adt('SPLIT-1'));
      await c.write(frame.subarray(0, 7));
      await new Promise((r) => setTimeout(r, 30));
      await c.write(frame.subarray(7, 60));
      await new Promise((r) => setTimeout(r, 30));
      await c.write(frame.subarray(60));
      await c.waitForReplies(1);
      await c.write(Buffer.concat([encodeFrame(adt('MULTI-1')), encodeFrame(adt('MULTI-2')), encodeFrame(adt('MULTI-3'))]));
      const replies = await c.waitForReplies(4);
      expect(replies.map((r) => msa(r)[2])).toEqual(['SPLIT-1', 'MULTI-1', 'MULTI-2', 'MULTI-3']);
      expect(replies.every((r) => msa(r)[1] === 'AA')).toBe(true);
    } finally {
      c.close();
    }
  });

  const bad: [string, string | Buffer, RegExp][] = [
    ['truncated message', adt('TRUNC-1').slice(0, 40), /A[ER]/],
    ['missing MSH', 'PID|1||X^^^F^MR||张^伟||19800101|M\rPV1|1|O', /AR/],
    [
      'wrong field separators',
      adt('SEP-1')
        .split('\r')
        .map((seg, i) => (i === 0 ? seg : seg.replace(/\|/g, '#')))
        .join('\r'),
      /A[ER]/,
    ],
    [
      'segments out of order',
      adt('ORDER-1')
        .split('\r')
        .reverse()
        .join('\r')
        .replace(/^(.*)$/, (m) => m),
      /A[ER]/,
    ],
    ['unknown message type', adt('TYPE-1', { type: 'ZZZ^Z99' }), /A[ER]/],
    ['invalid date', adt('DATE-1', { birth: '19801345' }), /A[ER]/],
  ];
  for (const [name, payload, code] of bad) {
    it(`rejects ${name} with an ERR segment, keeps it as a dead letter, and keeps serving`, async () => {
      const c = await TestMllpClient.connect(await mllpPort(server().api));
      try {
        const text = typeof payload === 'string' ? payload : payload.toString('latin1');
        // segments out of order: put MSH back first so the header is readable
        const sent =
          name === 'segments out of order' ? ['MSH' + text.split('\rMSH')[1], ...text.split('\rMSH')[0]!.split('\r')].join('\r') : text;
        await c.write(encodeFrame(sent));
        const [ack] = await c.waitForReplies(1);
        const f = ackFields(ack!);
        expect(f.MSA![1]).toMatch(code);
        expect(f.ERR).toBeDefined();
        expect((f.MSA![3] ?? '').length).toBeGreaterThan(3);
        const dl = (await (await server().api('/api/hl7/dead-letters')).json()) as { items: { text: string; error: string }[] };
        expect(dl.items.some((d) => d.text.startsWith(sent.slice(0, 30)) && d.error)).toBe(true);
        await c.write(encodeFrame(adt(`AFTER-${name.replace(/\W/g, '')}`)));
        const replies = await c.waitForReplies(2);
        expect(msa(replies[1]!)[1]).toBe('AA');
      } finally {
        c.close();
      }
    });
  }

  it('survives random bytes (no crash, no hang) and a silent client does not block others', async () => {
    const port = await mllpPort(server().api);
    const silent = await TestMllpClient.connect(port);
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
    for (let round = 0; round < 20; round++) {
      const c = await TestMllpClient.connect(port);
      const junk = Buffer.from(Array.from({ length: 50 + (rnd() % 2000) }, () => rnd() % 256));
      await c.write(round % 2 ? junk : encodeFrame(Buffer.concat([Buffer.from('MSH|^~\\&|'), junk])));
      await new Promise((r) => setTimeout(r, 5));
      c.close();
    }
    const ok = await TestMllpClient.connect(port);
    try {
      await ok.write(encodeFrame(adt('AFTER-FUZZ')));
      const [ack] = await ok.waitForReplies(1);
      expect(msa(ack!)[1]).toBe('AA');
      expect(silent.closed).toBe(false);
    } finally {
      ok.close();
      silent.close();
    }
  });

  it('accepts several concurrent connections', async () => {
    const port = await mllpPort(server().api);
    const clients = await Promise.all([0, 1, 2, 3].map(() => TestMllpClient.connect(port)));
    try {
      await Promise.all(
        clients.map((c, i) =>
          c.write(Buffer.concat(Array.from({ length: 10 }, (_, k) => encodeFrame(adt(`CONC-${i}-${k}`, { mrn: `CONC${i}-${k % 3}` }))))),
        ),
      );
      const all = await Promise.all(clients.map((c) => c.waitForReplies(10, 20_000)));
      expect(all.flat().every((r) => msa(r)[1] === 'AA')).toBe(true);
      // 4 connections × 3 distinct MRNs each: conditional creates never duplicated a Patient
      const n = await server().db.query(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'CONC-%' AND status = 'stored'`);
      expect(n.rows[0].n).toBe(40);
    } finally {
      clients.forEach((c) => c.close());
    }
  });

  it('POST /api/hl7 takes one or more messages and answers their ACKs; rejects an empty body', async () => {
    const body = [adt('HTTP-1'), adt('HTTP-2', { birth: '2026-13-45' }), adt('HTTP-3')].join('\n');
    const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body });
    expect(r.status).toBe(200);
    const acks = (await r.text()).split('\r\n').filter((s) => s.startsWith('MSH'));
    expect(acks.map((a) => msa(a)[1])).toEqual(['AA', expect.stringMatching(/A[ER]/), 'AA']);
    const plain = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'MSH nonsense' });
    expect(plain.status).toBe(200);
    expect(msa(await plain.text())[1]).toBe('AR');
    const empty = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: ' ' });
    expect(empty.status).toBe(400);
  });

  it('corrects and reprocesses a dead letter (audited), which then leaves the list', async () => {
    const r = await server().api('/api/hl7', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: adt('FIXME-1', { birth: '19801345', mrn: 'FIX-MRN' }),
    });
    expect(msa(await r.text())[1]).toMatch(/A[ER]/);
    const list = (await (await server().api('/api/hl7/dead-letters')).json()) as {
      items: { id: number; controlId: string; text: string }[];
    };
    const dead = list.items.find((d) => d.controlId === 'FIXME-1')!;
    expect(dead).toBeDefined();
    const fail = (await (await server().api(`/api/hl7/dead-letters/${dead.id}/reprocess`, { method: 'POST' })).json()) as {
      ackCode: string;
    };
    expect(fail.ackCode).not.toBe('AA');
    const put = await server().api(`/api/hl7/dead-letters/${dead.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: dead.text.replace('19801345', '19800115'),
    });
    expect(put.status).toBe(200);
    const ok = (await (await server().api(`/api/hl7/dead-letters/${dead.id}/reprocess`, { method: 'POST' })).json()) as { ackCode: string };
    expect(ok.ackCode).toBe('AA');
    const after = (await (await server().api('/api/hl7/dead-letters')).json()) as { items: { id: number }[] };
    expect(after.items.some((d) => d.id === dead.id)).toBe(false);
    const row = (await server().db.query(`SELECT status, payload, corrected FROM hl7_message WHERE id = $1`, [dead.id])).rows[0];
    expect(row.status).toBe('stored');
    expect(Buffer.from(row.payload).toString()).toContain('19801345'); // original bytes kept
    const pat = await server().api('/fhir/Patient?identifier=FIX-MRN');
    expect(((await pat.json()) as { total?: number; entry?: unknown[] }).entry?.length).toBe(1);
    expect((await server().api('/api/hl7/dead-letters/999999/reprocess', { method: 'POST' })).status).toBe(404);
  });
});

describe('HL7 v2 ingest: killing the server mid-burst', () => {
  it('every control id acknowledged with AA is stored', { timeout: 120_000 }, async () => {
    const db = await freshDatabase('pglite');
    const server = await startServer({ db, port: 0, quiet: true, mllpPort: 0, adminPassword: 'kill-test-pw' });
    try {
      const login = await fetch(`${server.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'kill-test-pw' }),
      });
      const { access_token } = (await login.json()) as { access_token: string };
      const status = (await (
        await fetch(`${server.url}/api/hl7/status`, { headers: { authorization: `Bearer ${access_token}` } })
      ).json()) as { mllpPort: number };
      const c = await TestMllpClient.connect(status.mllpPort);
      const n = 60;
      await c.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame(adt(`KILL-${i}`)))));
      // let part of the burst through, then stop the server under it
      await c.waitForReplies(5, 45_000);
      await server.close();
      await new Promise((r) => setTimeout(r, 50));
      const acked = c.replies
        .map((r) => msa(r))
        .filter((m) => m[1] === 'AA')
        .map((m) => m[2]!);
      expect(acked.length).toBeGreaterThanOrEqual(5);
      const stored = new Set(
        (await db.query<{ control_id: string }>(`SELECT control_id FROM hl7_message WHERE status = 'stored'`)).rows.map(
          (r) => r.control_id,
        ),
      );
      for (const id of acked) expect(stored.has(id)).toBe(true);
      c.close();
    } finally {
      await db.dispose();
    }
  });
});

/**
 * The real crash: the server runs in a child process that is SIGKILLed in the middle of a burst
 * on 4 connections (no shutdown hook, no flush). Every control id that got AA must be in the store
 * when it is opened again; messages without an ACK may or may not be there (the sender resends).
 */
describe('HL7 v2 ingest: SIGKILL in the middle of a burst', () => {
  for (const kind of storeKinds()) {
    it(`loses no message acknowledged with AA [${kind}]`, { timeout: 120_000 }, async () => {
      const db = await freshDatabase(kind);
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', YIFANG_DATA_DIR: '' };
      if (kind === 'postgres')
        env.DATABASE_URL = (db.pool as unknown as { options: { connectionString: string } }).options.connectionString;
      else {
        env.YIFANG_DATA_DIR = db.dataDir!;
        await db.close(); // PGlite is one process's store: the child opens it
      }
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'kill-test-server.testutil.ts')], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      try {
        const started = await new Promise<{ mllpPort: number }>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            const line = out.split('\n').find((l) => l.startsWith('{'));
            if (line) resolve(JSON.parse(line) as { mllpPort: number });
          });
          child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
        });
        const clients = await Promise.all([0, 1, 2, 3].map(() => TestMllpClient.connect(started.mllpPort)));
        const perClient = 150;
        await Promise.all(
          clients.map((c, k) =>
            c.write(
              Buffer.concat(
                Array.from({ length: perClient }, (_, i) =>
                  encodeFrame(adt(`SK-${k}-${i}`, { facility: 'SKHOSP', mrn: `SK${k}-${i % 40}` })),
                ),
              ),
            ),
          ),
        );
        // let part of the burst through, then kill the server under it
        await clients[0]!.waitForReplies(20, 60_000);
        child.kill('SIGKILL');
        await exited;
        await new Promise((r) => setTimeout(r, 100));
        const acked = clients.flatMap((c) =>
          c.replies
            .map((r) => msa(r))
            .filter((m) => m[1] === 'AA')
            .map((m) => m[2]!),
        );
        clients.forEach((c) => c.close());
        expect(acked.length).toBeGreaterThanOrEqual(20);
        expect(acked.length).toBeLessThan(4 * perClient); // the kill really came mid-burst
        const reopened = kind === 'postgres' ? db : await openDatabase({ dataDir: env.YIFANG_DATA_DIR });
        try {
          const stored = new Set(
            (await reopened.query<{ control_id: string }>(`SELECT control_id FROM hl7_message WHERE status = 'stored'`)).rows.map(
              (r) => r.control_id,
            ),
          );
          const lost = acked.filter((id) => !stored.has(id));
          expect(lost).toEqual([]);
          // and each acknowledged message's Patient is there too
          const patients = await reopened.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM r_patient WHERE p_identifier && $1::text[]`,
            [
              acked.map((id) => {
                const [, k, i] = id.split('-');
                return `https://yifang.health/fhir/sid/mrn/SKHOSP|SK${k}-${Number(i) % 40}`;
              }),
            ],
          );
          expect(patients.rows[0]!.n).toBe(
            new Set(
              acked.map((id) => {
                const [, k, i] = id.split('-');
                return `${k}-${Number(i) % 40}`;
              }),
            ).size,
          );
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
