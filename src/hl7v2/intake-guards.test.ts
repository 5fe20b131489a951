/**
 * Issue #14 through a running server, on each store: a message whose bytes do not match MSH-18
 * (stored exactly right with an ERR W, or refused naming the offset), POST /api/hl7 limits, and
 * the MLLP allow-lists from the settings file (HL7V2_CONFIG).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore, startTestServer, storeKinds, type TestServer } from '../app/testing.js';
import type { IntakeConfigFile } from './config.js';
import { adt } from './ingest-fixtures.js';
import { encodeFrame } from './mllp.js';
import { ackFields, TestMllpClient } from './test-support.js';

async function mllpPort(server: TestServer): Promise<number> {
  return ((await (await server.api('/api/hl7/status')).json()) as { mllpPort: number }).mllpPort;
}

async function sendOne(port: number, bytes: Buffer, from?: string): Promise<Record<string, string[]>> {
  const c = await TestMllpClient.connect(port, from);
  try {
    await c.write(encodeFrame(bytes));
    const [ack] = await c.waitForReplies(1);
    return ackFields(ack!.toString('latin1'));
  } finally {
    c.close();
  }
}

const patientNamed = async (server: TestServer, mrn: string) => {
  const b = (await (await server.api(`/fhir/Patient?identifier=${mrn}`)).json()) as {
    entry?: { resource: { name?: { family?: string; given?: string[] }[]; address?: { line?: string[] }[] } }[];
  };
  return b.entry?.map((e) => e.resource) ?? [];
};

describeEachStore('HL7 v2 intake guards', (server) => {
  it('stores GB18030 bytes under a UTF-8 MSH-18 exactly right, with an ERR of severity W', async () => {
    const raw = iconv.encode(adt('GB-1', { mrn: 'GB-MRN-1', name: '欧阳^娜娜', street: '解放路𠀀号' }), 'gb18030');
    const ack = await sendOne(await mllpPort(server()), raw);
    expect(ack.MSA![1]).toBe('AA');
    expect(ack.ERR![4]).toBe('W');
    expect(ack.ERR![2]).toBe('MSH^1^18^1');
    expect(ack.ERR![8]).toMatch(
      /^MSH-18 'UNICODE UTF-8' but the bytes are not valid UTF-8 \(first at byte offset \d+\); decoded as GB18030 instead$/,
    );
    const [p] = await patientNamed(server(), 'GB-MRN-1');
    expect(p?.name?.[0]).toMatchObject({ family: '欧阳', given: ['娜娜'] });
    expect(JSON.stringify(p)).not.toContain('\uFFFD');
    expect(p?.address?.[0]?.line?.[0]).toBe('解放路𠀀号');
    const row = (await server().db.query(`SELECT id, status, charset_warning, payload FROM hl7_message WHERE control_id = 'GB-1'`)).rows[0];
    expect(row.status).toBe('stored');
    expect(row.charset_warning).toBe(ack.ERR![8]);
    expect(Buffer.from(row.payload).equals(raw)).toBe(true); // the bytes as received
    const view = (await (await server().api(`/api/hl7/messages/${row.id}`)).json()) as { charsetWarning: string; text: string };
    expect(view.charsetWarning).toBe(row.charset_warning);
    expect(view.text).toContain('欧阳^娜娜');
  });

  it('refuses bytes that decode in no candidate charset with AR naming the offset; nothing is stored', async () => {
    const utf8 = Buffer.from(adt('BADBYTES-1', { mrn: 'BAD-MRN-1' }), 'utf8');
    const at = utf8.indexOf('张');
    const raw = Buffer.concat([utf8.subarray(0, at), Buffer.from([0xff, 0xfe]), utf8.subarray(at)]);
    const ack = await sendOne(await mllpPort(server()), raw);
    expect(ack.MSA![1]).toBe('AR');
    expect(ack.ERR![3]).toMatch(/^102\^/);
    expect(ack.ERR![8]).toContain(`byte offset ${at} (0xff)`);
    expect(await patientNamed(server(), 'BAD-MRN-1')).toEqual([]);
    // kept as a dead letter (the raw bytes, for the operators), never stored
    const rows = (await server().db.query(`SELECT status, error FROM hl7_message WHERE payload = $1`, [raw])).rows;
    expect(rows.map((r) => r.status)).toEqual(['rejected']);
    expect(rows[0].error).toContain(`byte offset ${at}`);
  });

  it('POST /api/hl7 with 10,001 messages is refused with 413 naming the limit, before anything is stored', async () => {
    const body = Array.from({ length: 10_001 }, (_, i) => adt(`LIM-${i}`, { mrn: `LIM${i % 50}` })).join('\n');
    const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body });
    expect(r.status).toBe(413);
    const text = ((await r.json()) as { issue: { diagnostics: string }[] }).issue[0]!.diagnostics;
    expect(text).toContain('The body holds 10001 messages');
    expect(text).toContain('at most 10000 messages');
    const n = await server().db.query(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'LIM-%'`);
    expect(n.rows[0].n).toBe(0);
  });

  it('POST /api/hl7 refuses an announced body over the size limit with 413', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x41);
    const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: big });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { issue: { diagnostics: string }[] }).issue[0]!.diagnostics).toMatch(
      /The body is 17 MB.*16 MB per request/,
    );
  });

  it('POST /api/hl7 answers many messages in order, each stored once', async () => {
    const body = Array.from({ length: 1200 }, (_, i) => adt(`MANY-${i}`, { mrn: `MANY${i % 30}` })).join('\r\n');
    const r = await server().api('/api/hl7', { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body });
    expect(r.status).toBe(200);
    const acks = (await r.text()).split('\r\n').filter((s) => s.startsWith('MSH'));
    expect(acks.map((a) => ackFields(a).MSA![2])).toEqual(Array.from({ length: 1200 }, (_, i) => `MANY-${i}`));
    expect(acks.every((a) => ackFields(a).MSA![1] === 'AA')).toBe(true);
    const n = await server().db.query(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'MANY-%' AND status = 'stored'`);
    expect(n.rows[0].n).toBe(1200);
  });
});

/** A server started with its own settings file (HL7V2_CONFIG), on each store. */
for (const kind of storeKinds()) {
  describe(`HL7 v2 intake with allow-lists [${kind}]`, () => {
    let server: TestServer & { dispose(): Promise<void> };
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-config-'));
      const config: IntakeConfigFile = {
        mllp: {
          maxConnections: 10,
          reservedForAllowedPeers: 3,
          maxConnectionsPerPeer: 6,
          idleTimeoutMinutes: 1,
          allowedFacilities: ['GOODHOSP'],
          allowedPeers: ['127.0.0.3'],
        },
      };
      fs.writeFileSync(path.join(dir, 'intake.json'), JSON.stringify(config));
      const before = process.env.HL7V2_CONFIG;
      process.env.HL7V2_CONFIG = path.join(dir, 'intake.json');
      try {
        server = await startTestServer(kind);
      } finally {
        if (before === undefined) delete process.env.HL7V2_CONFIG;
        else process.env.HL7V2_CONFIG = before;
      }
    });
    afterAll(async () => {
      await server?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('refuses an unknown sending facility with AR and a reason, keeps the connection, stores nothing', async () => {
      const c = await TestMllpClient.connect(await mllpPort(server));
      try {
        await c.write(encodeFrame(adt('EVIL-1', { facility: 'EVILHOSP', mrn: 'EVIL-MRN' })));
        const [nak] = await c.waitForReplies(1);
        const f = ackFields(nak!);
        expect(f.MSA![1]).toBe('AR');
        expect(f.ERR![2]).toBe('MSH^1^4^1');
        expect(f.ERR![8]).toContain("Sending facility 'EVILHOSP' (MSH-4) is not on this hub's allow-list");
        // same connection, an allowed facility: served
        await c.write(encodeFrame(adt('GOOD-1', { facility: 'GOODHOSP', mrn: 'GOOD-MRN' })));
        const replies = await c.waitForReplies(2);
        expect(ackFields(replies[1]!).MSA![1]).toBe('AA');
        expect(c.closed).toBe(false);
        const rows = await server.db.query(`SELECT control_id FROM hl7_message WHERE control_id IN ('EVIL-1', 'GOOD-1')`);
        expect(rows.rows.map((r) => r.control_id)).toEqual(['GOOD-1']);
      } finally {
        c.close();
      }
    });

    it('a stranger holding its share of idle connections cannot block the allow-listed sender', async () => {
      const port = await mllpPort(server);
      const held = await Promise.all(Array.from({ length: 6 }, () => TestMllpClient.connect(port, '127.0.0.2')));
      const more = await Promise.all(Array.from({ length: 2 }, () => TestMllpClient.connect(port, '127.0.0.4')));
      const refused = await TestMllpClient.connect(port, '127.0.0.2');
      const refused2 = await TestMllpClient.connect(port, '127.0.0.4');
      try {
        await refused.waitForClose(3000); // over its own share
        await refused2.waitForClose(3000); // the shared part (10 − 3) is full
        const ack = await sendOne(port, Buffer.from(adt('RESERVE-1', { facility: 'GOODHOSP' })), '127.0.0.3');
        expect(ack.MSA![1]).toBe('AA');
        expect(held.every((c) => !c.closed)).toBe(true);
      } finally {
        [...held, ...more, refused, refused2].forEach((c) => c.close());
      }
    });
  });
}
