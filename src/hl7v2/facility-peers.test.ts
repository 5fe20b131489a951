/**
 * Issue #15 (trust, part 6): a sending facility's MLLP messages must come from the addresses
 * listed for it under `mllp.facilities` in the intake settings; the settings refuse to load when
 * such a list is malformed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../app/testing.js';
import { parseIntakeConfig, type IntakeConfigFile } from './config.js';
import { Hl7Ingest } from './ingest.js';
import { adt } from './ingest-fixtures.js';
import { encodeFrame } from './mllp.js';
import { ackFields, TestMllpClient } from './test-support.js';

async function mllpPort(server: TestServer): Promise<number> {
  return ((await (await server.api('/api/hl7/status')).json()) as { mllpPort: number }).mllpPort;
}

async function sendFrom(port: number, from: string, bytes: string): Promise<Record<string, string[]>> {
  const c = await TestMllpClient.connect(port, from);
  try {
    await c.write(encodeFrame(Buffer.from(bytes, 'utf8')));
    const [ack] = await c.waitForReplies(1);
    return ackFields(ack!);
  } finally {
    c.close();
  }
}

describe('per-facility MLLP peers in the intake settings', () => {
  it('accepts facilities with peer addresses and CIDR ranges; their peers join the allowed peers', () => {
    const c = parseIntakeConfig({
      mllp: {
        allowedPeers: ['10.9.0.1'],
        facilities: { CITYHOSP: { peers: ['10.1.2.3', '10.1.0.0/16', 'fd00::/8'] }, TOWNCLINIC: {}, VILLAGE: { peers: [] } },
      },
    });
    expect([...c.mllp.facilityPeers]).toEqual([['CITYHOSP', ['10.1.2.3', '10.1.0.0/16', 'fd00::/8']]]);
    expect(c.mllp.allowedPeers).toEqual(['10.9.0.1', '10.1.2.3', '10.1.0.0/16', 'fd00::/8']);
    // onlyAllowedPeers is satisfied by facility peers alone
    expect(() => parseIntakeConfig({ mllp: { onlyAllowedPeers: true, facilities: { CITYHOSP: { peers: ['10.1.2.3'] } } } })).not.toThrow();
  });

  it('refuses a bad CIDR under a facility, naming the facility and the entry', () => {
    expect(() => parseIntakeConfig({ mllp: { facilities: { CITYHOSP: { peers: ['10.1.2.3', '10.1.0.0/40'] } } } })).toThrow(
      /mllp\.facilities\.CITYHOSP\.peers\.1 '10\.1\.0\.0\/40' is not an IP address or CIDR range/,
    );
    expect(() => parseIntakeConfig({ mllp: { facilities: { CITYHOSP: { peers: ['hospital.example'] } } } })).toThrow(
      /mllp\.facilities\.CITYHOSP\.peers\.0 'hospital\.example' is not an IP address/,
    );
  });

  it('refuses unknown keys under a facility, and a facility the allow-list would refuse anyway', () => {
    expect(() => parseIntakeConfig({ mllp: { facilities: { CITYHOSP: { peer: ['10.1.2.3'] } } } })).toThrow(
      /mllp\.facilities\.CITYHOSP Unrecognized key\(s\) in object: 'peer'/,
    );
    expect(() => parseIntakeConfig({ mllp: { facilities: { CITYHOSP: { peers: '10.1.2.3' } } } })).toThrow(
      /mllp\.facilities\.CITYHOSP\.peers Expected array/,
    );
    expect(() =>
      parseIntakeConfig({ mllp: { allowedFacilities: ['TOWNCLINIC'], facilities: { CITYHOSP: { peers: ['10.1.2.3'] } } } }),
    ).toThrow(/mllp\.facilities\.CITYHOSP is not in allowedFacilities/);
  });

  it('checks MLLP messages before anything is stored, and leaves POST /api/hl7 (signed in) unchecked', async () => {
    // A database that fails every write: the MLLP refusal never reaches it, the HTTP message does.
    const failing = { kind: 'pglite', transaction: () => Promise.reject(new Error('reached the store')) };
    const ingest = new Hl7Ingest(failing as never, {} as never, undefined, undefined, {
      facilityPeers: new Map([['CITYHOSP', ['10.1.2.3']]]),
    });
    const viaMllp = await ingest.ingest(Buffer.from(adt('CHAN-1', { facility: 'CITYHOSP' })), 'mllp', undefined, '10.7.7.7');
    expect(viaMllp.ack.ackCode).toBe('AR');
    expect(viaMllp.ack.text).toContain('this message came from 10.7.7.7');
    expect(viaMllp.messageId).toBeUndefined(); // no dead letter either
    const viaHttp = await ingest.ingest(Buffer.from(adt('CHAN-2', { facility: 'CITYHOSP' })), 'http');
    expect(String(viaHttp.outcome.error)).toContain('reached the store');
  });
});

/** A server whose settings file lists peers for two facilities (HL7V2_CONFIG), on each store. */
for (const kind of storeKinds()) {
  describe(`HL7 v2 intake with per-facility peers [${kind}]`, () => {
    let server: TestServer & { dispose(): Promise<void> };
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-peers-'));
      const config: IntakeConfigFile = {
        mllp: {
          facilities: {
            PEERHOSP: { peers: ['127.0.0.5'] },
            RANGEHOSP: { peers: ['127.0.1.0/24'] },
          },
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

    it('accepts a facility from its listed address, refuses it from another with AR naming facility and address, stores nothing', async () => {
      const port = await mllpPort(server);
      const good = await sendFrom(port, '127.0.0.5', adt('PEER-OK-1', { facility: 'PEERHOSP', mrn: 'PEER-MRN-OK' }));
      expect(good.MSA![1]).toBe('AA');

      const bad = await sendFrom(port, '127.0.0.6', adt('PEER-BAD-1', { facility: 'PEERHOSP', mrn: 'PEER-MRN-BAD' }));
      expect(bad.MSA![1]).toBe('AR');
      expect(bad.MSA![2]).toBe('PEER-BAD-1');
      expect(bad.ERR![2]).toBe('MSH^1^4^1');
      expect(bad.ERR![8]).toContain("发送机构 'PEERHOSP'（MSH-4）只能从登记的地址发送，本消息来自 127.0.0.6");
      expect(bad.ERR![8]).toContain(
        "Sending facility 'PEERHOSP' (MSH-4) may only send from its registered addresses; this message came from 127.0.0.6 and was not stored.",
      );
      // Like the facility allow-list: no row at all (no dead letter), no resources.
      const rows = await server.db.query(`SELECT control_id, status FROM hl7_message WHERE control_id IN ('PEER-OK-1', 'PEER-BAD-1')`);
      expect(rows.rows).toEqual([{ control_id: 'PEER-OK-1', status: 'stored' }]);
      const bundle = (await (await server.api('/fhir/Patient?identifier=PEER-MRN-BAD')).json()) as { entry?: unknown[] };
      expect(bundle.entry ?? []).toEqual([]);
    });

    it('matches CIDR ranges, and leaves facilities without peers as before', async () => {
      const port = await mllpPort(server);
      expect((await sendFrom(port, '127.0.1.9', adt('RANGE-1', { facility: 'RANGEHOSP' }))).MSA![1]).toBe('AA');
      const outside = await sendFrom(port, '127.0.2.9', adt('RANGE-2', { facility: 'RANGEHOSP' }));
      expect(outside.MSA![1]).toBe('AR');
      expect(outside.ERR![8]).toContain("'RANGEHOSP'");
      expect(outside.ERR![8]).toContain('127.0.2.9');
      // A facility with no peers listed is served from any address.
      expect((await sendFrom(port, '127.0.2.9', adt('FREE-1', { facility: 'FREEHOSP' }))).MSA![1]).toBe('AA');
      const rows = await server.db.query(
        `SELECT control_id FROM hl7_message WHERE control_id IN ('RANGE-1', 'RANGE-2', 'FREE-1') ORDER BY control_id`,
      );
      expect(rows.rows.map((r) => r.control_id)).toEqual(['FREE-1', 'RANGE-1']);
    });

    it('the same connection keeps being served after a refusal', async () => {
      const c = await TestMllpClient.connect(await mllpPort(server), '127.0.0.5');
      try {
        await c.write(encodeFrame(adt('MIX-1', { facility: 'RANGEHOSP' }))); // not RANGEHOSP's address
        await c.write(encodeFrame(adt('MIX-2', { facility: 'PEERHOSP' })));
        const [first, second] = await c.waitForReplies(2);
        expect(ackFields(first!).MSA!.slice(1, 3)).toEqual(['AR', 'MIX-1']);
        expect(ackFields(second!).MSA!.slice(1, 3)).toEqual(['AA', 'MIX-2']);
        expect(c.closed).toBe(false);
      } finally {
        c.close();
      }
    });
  });
}
