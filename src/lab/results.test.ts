/**
 * Results back and mass testing, end to end through a running server on both stores: a test
 * MLLP listener (an ephemeral port) that acknowledges, drops the connection, answers AE or AR,
 * or never answers; the ORU^R01 it receives; the outbox, its attempt log and resend; the report
 * card moved to 确诊病例 through surveillance's classifyCaseFromLab (订正 once submitted); pools (negative, positive with
 * re-test orders, progress by area) and their bad input.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../hl7v2/index.js';
import { startReceiver, type Behaviour } from './mllp-receiver.testutil.js';
import { describeEachStore } from '../app/testing.js';
import { backoffAfter, parseResultsConfig, RESULTS_FILE } from './results-config.js';
import { readAck } from './oru.js';
import fs from 'node:fs';
import type { OutboxDetail, OutboxList, OutboxView, PoolView, ProgressView, ScanAnswer, SpecimenDetail } from './schemas.js';

const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 8000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('results back (pure)', () => {
  it('reads the shipped results config; backoff doubles and is capped', () => {
    const c = parseResultsConfig(fs.readFileSync(RESULTS_FILE, 'utf8'));
    expect(c.diseasesFor('flua')).toContain('流行性感冒');
    expect(c.diseasesFor('XYZ')).toEqual([]);
    expect(backoffAfter({ backoffMs: 100, maxBackoffMs: 350 }, 1)).toBe(100);
    expect(backoffAfter({ backoffMs: 100, maxBackoffMs: 350 }, 2)).toBe(200);
    expect(backoffAfter({ backoffMs: 100, maxBackoffMs: 350 }, 3)).toBe(350);
    expect(() =>
      parseResultsConfig('{"sendingApplication":"x","delivery":{},"classification":"确诊病例","caseDiseases":{}}', 'r.json'),
    ).toThrow(/r\.json: delivery\.ackTimeoutMs: Required/);
  });
  it('reads ACKs in original and enhanced mode', () => {
    expect(readAck('MSH|^~\\&|A|B|C|D|20260101||ACK|1|P|2.5\rMSA|CA|YFL1\r')).toMatchObject({ code: 'AA', ackedControlId: 'YFL1' });
    expect(readAck('MSH|^~\\&|A|B|C|D|20260101||ACK|1|P|2.5\rMSA|AE|YFL2|bad\rERR||PID^1^3|204^x^HL70357|E||||未知患者\r')).toMatchObject({
      code: 'AE',
      text: '未知患者',
    });
    expect(() => readAck('MSH|^~\\&|A|B|C|D|20260101||ACK|1|P|2.5\rMSA|ZZ|x\r')).toThrow(/not an acknowledgment code/);
  });
});

describeEachStore('lab results back and mass testing', (server) => {
  const json = async <T>(r: Response, status: number): Promise<T> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const send = (method: string, path: string, body: unknown) =>
    server().api(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const post = (path: string, body: unknown) => send('POST', path, body);
  const get = (path: string) => server().api(path);
  const scanOk = async (body: Record<string, unknown>) => json<ScanAnswer>(await post('/api/lab/scan', body), 200);
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const M = 60_000;
  let seq = 0;
  const barcode = () => `R${Date.now().toString(36)}${++seq}`;
  let patientId = '';
  const receivers: { close(): Promise<void> }[] = [];

  afterAll(async () => {
    for (const r of receivers) await r.close();
  });

  const receiver = async (b: Behaviour, facility: string, extra: Record<string, unknown> = {}) => {
    const r = await startReceiver(b);
    receivers.push(r);
    await json(
      await send('PUT', `/api/lab/endpoints/${facility}`, {
        host: '127.0.0.1',
        port: r.port,
        receivingApplication: 'HIS',
        ackTimeoutMs: 300,
        backoffMs: 100,
        maxBackoffMs: 400,
        maxAttempts: 3,
        maxAeAttempts: 2,
        ...extra,
      }),
      200,
    );
    return r;
  };

  /** Order → collect → ship → receive → test → result; answers the barcode (verify is the caller's). */
  const resulted = async (facility: string, interpretation: 'positive' | 'negative', pid = patientId) => {
    const o = await json<{ orderId: string }>(
      await post('/api/lab/orders', { patientId: pid, testCode: 'FLUA', orderingUnit: facility }),
      201,
    );
    const b = barcode();
    await scanOk({
      step: 'collect',
      barcode: b,
      orderId: o.orderId,
      unit: 'CHC-01',
      at: ago(60 * M),
      specimenType: '咽拭子',
      collector: '李护士',
    });
    const box = await json<{ id: number }>(
      await post('/api/lab/shipments', { fromUnit: 'CHC-01', toLab: 'CDC-D', courier: '张', sealNumber: `S${seq}` }),
      201,
    );
    await scanOk({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id, at: ago(50 * M) });
    await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(40 * M) });
    await scanOk({ step: 'test', barcode: b, unit: 'CDC-D', at: ago(30 * M) });
    await scanOk({
      step: 'result',
      barcode: b,
      unit: 'CDC-D',
      at: ago(20 * M),
      value: interpretation === 'positive' ? '阳性 Ct=22' : '阴性',
      interpretation,
    });
    return b;
  };
  const outboxOf = async (b: string) => {
    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    const rows = (await server().db.query<{ id: string }>('SELECT id FROM lab_outbox WHERE specimen_id = $1', [d.id])).rows;
    return rows[0] ? json<OutboxDetail>(await get(`/api/lab/outbox/${rows[0].id}`), 200) : undefined;
  };

  it('registers a resident with a suspected influenza card (a draft from a provisional diagnosis)', async () => {
    const p = await json<{ id: string }>(
      await server().api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Patient',
          name: [{ family: '陈', given: ['小红'] }],
          gender: 'female',
          birthDate: '1990-05-01',
          address: [
            {
              text: '浙江省温州市鹿城区五马街道1号',
              extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/area-code', valueCode: '330302001001' }],
            },
          ],
        }),
      }),
      201,
    );
    patientId = p.id;
    await json(
      await server().api('/fhir/Condition', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Condition',
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'J11.1' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
          subject: { reference: `Patient/${patientId}` },
          recordedDate: new Date().toISOString(),
        }),
      }),
      201,
    );
    await server().processors.drain();
    const cards = await json<{ cards: { id: string; patientId: string; card: { caseClassification?: string } }[] }>(
      await get('/api/report-cards?status=draft&limit=200'),
      200,
    );
    expect(cards.cards.find((c) => c.patientId === patientId)?.card.caseClassification).toBe('疑似病例');
  });

  it('sends a verified positive to the ordering facility as ORU^R01 within seconds, confirmed by AA, and moves the card to 确诊病例', async () => {
    const rx = await receiver('ack', 'H-RX1');
    const b = await resulted('H-RX1', 'positive');
    const t0 = Date.now();
    await scanOk({ step: 'verify', barcode: b, unit: 'CDC-D' });
    const got = await waitFor('the ORU at the listener', async () => rx.received[0]);
    expect(got.at - t0).toBeLessThan(5000);
    const m = parseHl7(got.text);
    expect(m.messageTypeKey).toMatch(/ORU\^R01/);
    expect(m.get('OBX-5')).toBe('阳性 Ct=22');
    expect(m.get('OBX-8')).toBe('POS');
    expect(m.get('OBX-11')).toBe('F');
    expect(m.segment('PID')!.raw(3)).toContain(`${patientId}^^^YIFANG^PI`);
    expect(m.segment('PID')!.raw(5)).toBe('陈^小红');
    expect(m.segment('SPM')!.value(2, 2)).toBe(b);
    expect(m.receivingFacility).toBe('H-RX1');
    const o = await waitFor('delivered', async () => {
      const x = await outboxOf(b);
      return x?.status === 'delivered' && x;
    });
    expect(o).toMatchObject({ controlId: m.controlId, attempts: 1, ackCode: 'AA' });
    expect(o.attemptLog.map((a) => a.outcome)).toEqual(['AA']);
    // The resident's record has the result (Observation final, DiagnosticReport) — the lab wrote them at verification.
    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    const obs = (await (await get(`/fhir/Observation?specimen=Specimen/${d.id}`)).json()) as {
      entry?: { resource: { status: string; subject: unknown } }[];
    };
    expect(obs.entry?.[0]?.resource).toMatchObject({ status: 'final', subject: { reference: `Patient/${patientId}` } });
    // The report card: 疑似病例 → 确诊病例.
    const upd = await waitFor('the card update', async () => {
      const r = await server().db.query<{ status: string; detail: string | null }>(
        'SELECT status, detail FROM lab_case_update WHERE specimen_id = $1',
        [d.id],
      );
      return r.rows[0]?.status !== 'pending' && r.rows[0];
    });
    expect(upd.detail).toMatch(/确诊病例/);
    expect(upd.status).toBe('applied');
    const cards = await json<{ cards: { patientId: string; card: { caseClassification?: string } }[] }>(
      await get('/api/report-cards?status=draft&limit=200'),
      200,
    );
    expect(cards.cards.find((c) => c.patientId === patientId)?.card.caseClassification).toBe('确诊病例');
  });

  it('retries after the receiver drops the connection mid-way: the same control id, processed once, one confirmed delivery', async () => {
    const rx = await receiver('drop-first', 'H-RX2');
    const b = await resulted('H-RX2', 'negative');
    await scanOk({ step: 'verify', barcode: b, unit: 'CDC-D' });
    const o = await waitFor('delivered after a retry', async () => {
      const x = await outboxOf(b);
      return x?.status === 'delivered' && x;
    });
    expect(rx.received.map((r) => r.controlId)).toEqual([o.controlId, o.controlId]);
    expect(rx.processed.get(o.controlId)).toBe(1);
    expect(o.attemptLog.map((a) => a.outcome)).toEqual(['closed', 'AA']);
    expect(o.attemptLog.filter((a) => a.outcome === 'AA')).toHaveLength(1);
    expect(new Set(o.attemptLog.map((a) => a.controlId))).toEqual(new Set([o.controlId]));
    expect(rx.received[0]!.text).toBe(rx.received[1]!.text);
  });

  it('parks a result the receiver answers AE (after its AE limit) with the receiver’s text, and resends it on request', async () => {
    await receiver('ae', 'H-RX3');
    const b = await resulted('H-RX3', 'negative');
    await scanOk({ step: 'verify', barcode: b, unit: 'CDC-D' });
    const o = await waitFor('parked', async () => {
      const x = await outboxOf(b);
      return x?.status === 'parked' && x;
    });
    expect(o.attemptLog.map((a) => a.outcome)).toEqual(['AE', 'AE']);
    expect(o.parkedReason).toMatch(/AE 2 time\(s\): 患者ID未知 unknown patient/);
    const parked = await json<OutboxList>(await get('/api/lab/outbox?status=parked&facility=H-RX3'), 200);
    expect(parked.items.map((x) => x.id)).toContain(o.id);

    // The facility fixes its side; a user resends: same control id, delivered.
    const rx = await receiver('ack', 'H-RX3');
    const again = await json<OutboxView>(await post(`/api/lab/outbox/${o.id}/resend`, {}), 200);
    expect(again).toMatchObject({ status: 'pending', controlId: o.controlId, resentCount: 1 });
    const done = await waitFor('delivered after resend', async () => {
      const x = await outboxOf(b);
      return x?.status === 'delivered' && x;
    });
    expect(rx.received.map((r) => r.controlId)).toEqual([o.controlId]);
    expect(done.attemptLog.map((a) => a.outcome)).toEqual(['AE', 'AE', 'AA']);
    const refused = await post(`/api/lab/outbox/${o.id}/resend`, {});
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/delivered .* not sent twice/);
  });

  it('parks at once on AR, and retries a receiver that never answers, then parks it after N attempts', async () => {
    await receiver('ar', 'H-RX4');
    const b1 = await resulted('H-RX4', 'negative');
    await scanOk({ step: 'verify', barcode: b1, unit: 'CDC-D' });
    const ar = await waitFor('parked (AR)', async () => {
      const x = await outboxOf(b1);
      return x?.status === 'parked' && x;
    });
    expect(ar.attemptLog.map((a) => a.outcome)).toEqual(['AR']);
    expect(ar.parkedReason).toMatch(/rejected by the receiver \(AR\): 患者ID未知/);

    const rx = await receiver('silent', 'H-RX5');
    const b2 = await resulted('H-RX5', 'negative');
    await scanOk({ step: 'verify', barcode: b2, unit: 'CDC-D' });
    const silent = await waitFor('parked (no answer)', async () => {
      const x = await outboxOf(b2);
      return x?.status === 'parked' && x;
    });
    expect(silent.attemptLog.map((a) => a.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(silent.parkedReason).toMatch(/no acknowledgment after 3 attempt\(s\)/);
    expect(new Set(rx.received.map((r) => r.controlId))).toEqual(new Set([silent.controlId]));
  });

  describe('mass testing', () => {
    let campaignId = 0;
    const people = Array.from({ length: 12 }, (_, i) => ({
      code: `QR${i + 1}`,
      name: `居民${i + 1}`,
      areaCode: i < 6 ? '330302001001' : '330302001002',
      phone: '13800000000',
    }));
    const pool = async (b: string, members: string[]) =>
      post('/api/lab/mass/pools', {
        campaignId,
        barcode: b,
        unit: 'SITE-1',
        collector: '采样员',
        at: ago(90 * M),
        members: members.map((personCode) => ({ personCode, tubeBarcode: `T-${b}-${personCode}` })),
      });
    const throughResult = async (b: string, interpretation: 'positive' | 'negative') => {
      const box = await json<{ id: number }>(
        await post('/api/lab/shipments', { fromUnit: 'SITE-1', toLab: 'CDC-D', courier: '张', sealNumber: `M${++seq}` }),
        201,
      );
      await scanOk({ step: 'ship', barcode: b, unit: 'SITE-1', shipmentId: box.id, at: ago(80 * M) });
      await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(70 * M) });
      await scanOk({ step: 'test', barcode: b, unit: 'CDC-D', at: ago(60 * M) });
      await scanOk({
        step: 'result',
        barcode: b,
        unit: 'CDC-D',
        at: ago(50 * M),
        value: interpretation === 'positive' ? '阳性' : '阴性',
        interpretation,
      });
      return scanOk({ step: 'verify', barcode: b, unit: 'CDC-D', at: ago(45 * M) });
    };

    it('opens a campaign and registers people from a list and a CSV, naming bad lines', async () => {
      const c = await json<{ id: number; poolSize: number; mode: string }>(
        await post('/api/lab/mass/campaigns', { name: '鹿城区第一轮', testCode: 'SARS2', orderingUnit: 'CDC-D', poolSize: 10 }),
        201,
      );
      expect(c).toMatchObject({ poolSize: 10, mode: 'emergency' });
      campaignId = c.id;
      const r = await json<{ registered: number; refused: { line: number; reason: string }[] }>(
        await post(`/api/lab/mass/campaigns/${campaignId}/people`, { people: people.slice(0, 10) }),
        200,
      );
      expect(r.registered).toBe(10);
      const csv = [
        'code,name,idNumber,phone,areaCode',
        'QR11,居民11,,,330302001002',
        'QR12,居民12,,,330302001002',
        'QR1,重复,,,330302001001',
        'BAD,,,,1',
      ].join('\n');
      const r2 = await json<{ registered: number; alreadyRegistered: number; refused: { line: number; reason: string }[] }>(
        await post(`/api/lab/mass/campaigns/${campaignId}/people`, { csv }),
        200,
      );
      expect(r2).toMatchObject({ registered: 2, alreadyRegistered: 1 });
      expect(r2.refused).toEqual([{ line: 5, code: 'BAD', reason: expect.stringMatching(/name/) }]);
    });

    it('a negative pool makes its members negative; a positive pool flags each member for re-test with a new order', async () => {
      const neg = barcode();
      await json<PoolView>(await pool(neg, ['QR1', 'QR2', 'QR3', 'QR4', 'QR5']), 201);
      const answer = await throughResult(neg, 'negative');
      expect(answer.warnings.join(' ')).toMatch(/negative: 5 member\(s\) negative/);
      const pn = await json<PoolView>(await get(`/api/lab/mass/pools/${neg}`), 200);
      expect(pn.members.map((m) => m.state)).toEqual(Array(5).fill('negative'));

      const pos = barcode();
      await json<PoolView>(await pool(pos, ['QR6', 'QR7']), 201);
      await json<PoolView>(await post(`/api/lab/mass/pools/${pos}/members`, { members: [{ personCode: 'QR8' }] }), 200);
      const a2 = await throughResult(pos, 'positive');
      expect(a2.warnings.join(' ')).toMatch(/positive: 3 member\(s\) flagged for an individual re-test/);
      const pp = await json<PoolView>(await get(`/api/lab/mass/pools/${pos}`), 200);
      expect(pp.outcome).toBe('positive');
      expect(pp.members.every((m) => m.state === 'retest' && m.retestOrderId && m.patientId)).toBe(true);

      // One member's individual re-test goes round the loop under the new order.
      const m0 = pp.members[0]!;
      const rb = barcode();
      await scanOk({
        step: 'collect',
        barcode: rb,
        orderId: m0.retestOrderId,
        unit: 'SITE-1',
        at: ago(40 * M),
        specimenType: '咽拭子',
        collector: '采样员',
      });
      const box = await json<{ id: number }>(
        await post('/api/lab/shipments', { fromUnit: 'SITE-1', toLab: 'CDC-D', courier: '张', sealNumber: `N${++seq}` }),
        201,
      );
      await scanOk({ step: 'ship', barcode: rb, unit: 'SITE-1', shipmentId: box.id, at: ago(35 * M) });
      await scanOk({ step: 'receive', barcode: rb, unit: 'CDC-D', accepted: true, at: ago(30 * M) });
      await scanOk({ step: 'test', barcode: rb, unit: 'CDC-D', at: ago(25 * M) });
      await scanOk({ step: 'result', barcode: rb, unit: 'CDC-D', at: ago(20 * M), value: '阳性', interpretation: 'positive' });
      const v = await scanOk({ step: 'verify', barcode: rb, unit: 'CDC-D', at: ago(15 * M) });
      expect(v.specimen.patientId).toBe(m0.patientId);

      const pr = await json<ProgressView>(await get(`/api/lab/mass/campaigns/${campaignId}/progress`), 200);
      expect(pr.total).toMatchObject({
        registered: 12,
        sampled: 8,
        tested: 8,
        negative: 5,
        // The one positive pool had members in both areas: in each area's row, once in the total.
        positivePools: 1,
        retestOrdered: 3,
        retested: 1,
        retestPositive: 1,
      });
      const a1 = pr.byArea.find((x) => x.areaCode === '330302001001')!;
      const a2b = pr.byArea.find((x) => x.areaCode === '330302001002')!;
      expect(a1).toMatchObject({ registered: 6, sampled: 6, negative: 5, positivePools: 1, retestOrdered: 1 });
      expect(a2b).toMatchObject({ registered: 6, sampled: 2, positivePools: 1, retestOrdered: 2 });
    });

    it('refuses a pool result with no members (422), a member in two pools (409), and a result for a rejected pool (409)', async () => {
      const empty = barcode();
      await json<PoolView>(await pool(empty, []), 201);
      const box = await json<{ id: number }>(
        await post('/api/lab/shipments', { fromUnit: 'SITE-1', toLab: 'CDC-D', courier: '张', sealNumber: `E${++seq}` }),
        201,
      );
      await scanOk({ step: 'ship', barcode: empty, unit: 'SITE-1', shipmentId: box.id, at: ago(80 * M) });
      await scanOk({ step: 'receive', barcode: empty, unit: 'CDC-D', accepted: true, at: ago(70 * M) });
      await scanOk({ step: 'test', barcode: empty, unit: 'CDC-D', at: ago(60 * M) });
      const r = await post('/api/lab/scan', { step: 'result', barcode: empty, unit: 'CDC-D', value: '阴性', interpretation: 'negative' });
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/has no members/);
      // Members may not be added once it has left the site.
      const late = await post(`/api/lab/mass/pools/${empty}/members`, { members: [{ personCode: 'QR9' }] });
      expect(late.status).toBe(409);

      const twice = await pool(barcode(), ['QR9', 'QR1']);
      expect(twice.status).toBe(409);
      expect(await twice.text()).toMatch(/QR1 is already in pool/);
      const tooMany = await pool(barcode(), ['QR9', 'QR10', 'QR11', 'QR12', 'QR9']);
      expect(tooMany.status).toBe(422);

      const rej = barcode();
      await json<PoolView>(await pool(rej, ['QR9']), 201);
      const box2 = await json<{ id: number }>(
        await post('/api/lab/shipments', { fromUnit: 'SITE-1', toLab: 'CDC-D', courier: '张', sealNumber: `F${++seq}` }),
        201,
      );
      await scanOk({ step: 'ship', barcode: rej, unit: 'SITE-1', shipmentId: box2.id, at: ago(80 * M) });
      await scanOk({ step: 'receive', barcode: rej, unit: 'CDC-D', accepted: false, rejectReason: '管壁破裂', at: ago(70 * M) });
      const res = await post('/api/lab/scan', { step: 'result', barcode: rej, unit: 'CDC-D', value: '阴性', interpretation: 'negative' });
      expect(res.status).toBe(409);
      expect(await res.text()).toMatch(/rejected at receipt \(管壁破裂\)/);
    });
  });
});
