/**
 * Group commit of HL7 v2 messages: a burst is stored in shared transactions without changing
 * what each message means — one Patient per record number, later messages win, a repeated
 * control id is stored once, and a message that cannot be stored takes nothing else with it.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { batchable, planBatch, type BatchItem } from './batch-store.js';
import { encodeFrame } from './mllp.js';
import { adt } from './ingest-fixtures.js';
import { parseHl7 } from './parser.js';
import { ackFields, TestMllpClient } from './test-support.js';
import { toFhir } from './to-fhir/index.js';

const msa = (ack: Buffer | string) => ackFields(ack).MSA!;

function item(text: string, key: string): BatchItem {
  const result = toFhir(parseHl7(text));
  return {
    key,
    locks: [],
    result,
    insertRow: { facility: 'F', controlId: key, messageType: 'ADT^A04', channel: 'mllp', raw: Buffer.from(text) },
  };
}

it('only POSTs and conditional PUTs by identifier go through the batch', () => {
  const put = (url: string) =>
    ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'PUT', url }, resource: { resourceType: 'Patient' } }],
    }) as Bundle;
  expect(batchable(put('Patient?identifier=http://x|1'))).toBe(true);
  expect(batchable(put('Patient/abc'))).toBe(false);
  expect(batchable(put('Patient?name=wang'))).toBe(false);
  expect(batchable(put('Patient?identifier=1'))).toBe(false);
  expect(
    batchable({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Patient/1' } }] } as Bundle),
  ).toBe(false);
});

describeEachStore('HL7 v2 group commit', (server) => {
  it('a burst over several connections: one Patient per record number, last message wins, repeats stored once', async () => {
    const status = (await (await server().api('/api/hl7/status')).json()) as { mllpPort: number };
    const clients = await Promise.all([0, 1, 2].map(() => TestMllpClient.connect(status.mllpPort)));
    try {
      // connection c sends 20 messages for 5 record numbers, the last ones renaming the patient
      const sent = clients.map((_, c) =>
        Array.from({ length: 20 }, (_, i) => ({
          id: `GC-${c}-${i}`,
          text: adt(`GC-${c}-${i}`, { facility: 'GCHOSP', mrn: `GC${c}-${i % 5}`, name: i >= 15 ? `李^${c}${i % 5}` : '王^五' }),
        })),
      );
      // and the first connection repeats one control id inside its burst
      sent[0]!.push({ id: 'GC-0-3', text: adt('GC-0-3', { facility: 'GCHOSP', mrn: 'GC0-3' }) });
      await Promise.all(clients.map((cl, c) => cl.write(Buffer.concat(sent[c]!.map((m) => encodeFrame(m.text))))));
      const replies = await Promise.all(clients.map((cl, c) => cl.waitForReplies(sent[c]!.length)));
      replies.forEach((rs, c) => {
        expect(rs.map((r) => msa(r)[2])).toEqual(sent[c]!.map((m) => m.id));
        expect(rs.every((r) => msa(r)[1] === 'AA')).toBe(true);
      });
      const patients = await server().db.query<{ family: string; given: string; version_id: number }>(
        `SELECT h.content->'name'->0->>'family' AS family, h.content->'name'->0->'given'->>0 AS given, t.version_id FROM r_patient t
         JOIN resource_history h ON h.resource_type = 'Patient' AND h.id = t.id AND h.version_id = t.version_id
         WHERE t.p_identifier && ARRAY(SELECT 'https://yifang.health/fhir/sid/mrn/GCHOSP|GC' || c || '-' || k FROM generate_series(0, 2) c, generate_series(0, 4) k)`,
      );
      expect(patients.rows).toHaveLength(15);
      // each record number had 4 messages: versions 1..4, and the renaming messages came last
      expect(patients.rows.every((p) => p.version_id === 4 && p.family === '李')).toBe(true);
      const messages = await server().db.query(
        `SELECT count(*)::int AS n FROM hl7_message WHERE control_id LIKE 'GC-%' AND status = 'stored'`,
      );
      expect(messages.rows[0].n).toBe(60);
      const encounters = await server().db.query(`SELECT count(*)::int AS n FROM r_encounter`);
      expect(encounters.rows[0].n).toBeGreaterThanOrEqual(60);
    } finally {
      clients.forEach((c) => c.close());
    }
  });

  it('a message that fails validation is rejected alone; the others of its batch are planned', async () => {
    const good = item(adt('PB-1', { facility: 'PBHOSP', mrn: 'PB1' }), 'PBHOSP|PB-1');
    const bad = item(adt('PB-2', { facility: 'PBHOSP', mrn: 'PB2' }), 'PBHOSP|PB-2');
    (bad.result.bundle.entry![0]!.resource as unknown as Record<string, unknown>).favouriteColour = 'blue';
    const planned = await server().db.transaction((client) =>
      planBatch(server().repo, client, [good, bad], 'urn:test', new Date().toISOString()),
    );
    expect(planned.outcomes[0]!.kind).toBe('planned');
    expect(planned.outcomes[1]!.kind).toBe('failed');
    expect(String((planned.outcomes[1] as { error: Error }).error.message)).toMatch(/favouriteColour/);
    // Both are new: first versions, encoded for the bulk path.
    expect(planned.rows).toEqual([]);
    expect(planned.firstVersions.map((r) => r.def.type).sort()).toEqual(['Encounter', 'Patient']);
  });
});
