/**
 * The lab loop end to end through a running server, on both stores: orders, shipments and barcode
 * scans from collection to the delivered report, a referral keeping the specimen's identity, the
 * clocks (a breach recorded once when its limit passes, with the clock injected; emergency
 * limits), the custody chain (verified, a tampered event named) and every bad input refused
 * with a clear message.
 */
import type { Bundle, DiagnosticReport, Observation, Patient, Specimen, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { LEGS } from './codes.js';
import { canonicalJson, checkChain, eventHash, type StoredCustodyEvent } from './custody.js';
import { parseLabLimits, loadLabLimits } from './limits.js';
import { applyStep, type SpecimenSnapshot } from './machine.js';
import type { BreachList, Dashboard, FlagList, ScanAnswer, ShipmentView, SpecimenDetail, SpecimenList } from './schemas.js';
import { scanBreaches, verifyCustody } from './service.js';
import fs from 'node:fs';
import { LIMITS_FILE } from './limits.js';

const H = 3_600_000;
const M = 60_000;

describe('lab limits and state machine (pure)', () => {
  it('reads the shipped limits: nucleic acid in an emergency gets 6 h from receipt to result; unknown tests take the default', () => {
    const l = loadLabLimits();
    expect(l.groupOf('FLUA')).toBe('nucleic-acid');
    expect(l.hours('FLUA', 'emergency', 'receipt-result')).toBe(6);
    expect(l.hours('FLUA', 'routine', 'receipt-result')).toBe(24);
    expect(l.groupOf('XYZ-999')).toBe('default');
  });
  it('refuses a bad limits file naming the field', () => {
    const raw = JSON.parse(fs.readFileSync(LIMITS_FILE, 'utf8')) as { tests: Record<string, { emergency: Record<string, unknown> }> };
    raw.tests['nucleic-acid']!.emergency['receipt-result'] = 'six';
    expect(() => parseLabLimits(JSON.stringify(raw), 'limits.json')).toThrow(
      /limits\.json: tests\.nucleic-acid\.emergency\.receipt-result: Expected number/,
    );
    raw.tests['nucleic-acid']!.emergency['receipt-result'] = -1;
    expect(() => parseLabLimits(JSON.stringify(raw), 'limits.json')).toThrow(/receipt-result: must be more than 0 hours/);
    delete raw.tests['nucleic-acid']!.emergency['result-report'];
    raw.tests['nucleic-acid']!.emergency['receipt-result'] = 6;
    expect(() => parseLabLimits(JSON.stringify(raw), 'limits.json')).toThrow(/emergency\.result-report: Required/);
  });
  it('ends and starts legs with their deadlines, and refuses steps out of order', () => {
    const limits = loadLabLimits();
    const t0 = new Date('2026-03-01T08:00:00Z');
    const s: SpecimenSnapshot = {
      id: 'x',
      barcode: 'B1',
      state: 'in-transit',
      hop: 0,
      testCode: 'FLUA',
      mode: 'emergency',
      collectingUnit: 'CHC',
      holder: 'shipment:1',
      lab: null,
      shipmentId: 1,
      leg: 'collection-receipt',
      legUnit: 'CHC',
      legStartedAt: t0,
      legDeadline: new Date(t0.getTime() + 4 * H),
      lastAt: t0,
      receivedAt: null,
      rejectedReason: null,
    };
    const now = new Date(t0.getTime() + 10 * H);
    const late = applyStep(
      s,
      { step: 'receive', unit: 'LAB', at: new Date(t0.getTime() + 5 * H), accepted: true, shipmentTo: 'LAB' },
      now,
      limits,
    );
    expect(late.ended).toMatchObject({ leg: 'collection-receipt', late: true, unit: 'CHC' });
    expect(late.leg).toMatchObject({ leg: 'receipt-result', unit: 'LAB' });
    expect(late.leg!.deadline.getTime() - late.leg!.startedAt.getTime()).toBe(6 * H);
    expect(() => applyStep({ ...s, state: 'collected' }, { step: 'result', unit: 'LAB', at: now }, now, limits)).toThrow(/cannot result/);
    expect(() => applyStep(s, { step: 'test', unit: 'LAB', at: new Date(now.getTime() + H) }, now, limits)).toThrow(/in the future/);
    expect(LEGS).toHaveLength(3);
  });
});

describe('custody chain (pure)', () => {
  const chain = () => {
    const out: StoredCustodyEvent[] = [];
    let prev = '';
    for (const [i, step] of ['collect', 'ship', 'receive'].entries()) {
      const e = {
        specimenId: 's1',
        seq: i + 1,
        step,
        fromState: null,
        toState: step,
        at: new Date(Date.UTC(2026, 0, 1, i)).toISOString(),
        recordedAt: new Date(Date.UTC(2026, 0, 1, i)).toISOString(),
        byUser: 'u',
        performer: null,
        unit: 'U1',
        location: null,
        shipmentId: null,
        detail: { n: i, note: '完好' },
        prevHash: prev,
      };
      prev = eventHash(e);
      out.push({ ...e, id: 10 + i, hash: prev });
    }
    return out;
  };
  it('holds for an intact chain and names the first broken link otherwise', () => {
    const events = chain();
    const head = { seq: 3, hash: events[2]!.hash };
    expect(checkChain('s1', events, head)).toBeUndefined();
    expect(canonicalJson({ b: 1, a: { d: [1, { f: null, e: 'x' }], c: undefined } })).toBe('{"a":{"d":[1,{"e":"x","f":null}]},"b":1}');
    const edited = chain();
    edited[1] = { ...edited[1]!, detail: { n: 9, note: '完好' } };
    expect(checkChain('s1', edited, head)).toMatchObject({ seq: 2, eventId: 11, problem: expect.stringMatching(/changed after/) });
    expect(checkChain('s1', [events[0]!, events[2]!], head)).toMatchObject({ seq: 3, problem: expect.stringMatching(/missing/) });
    expect(checkChain('s1', events.slice(0, 2), head)).toMatchObject({
      seq: 3,
      eventId: null,
      problem: expect.stringMatching(/removed from the end/),
    });
    const rehashed = chain();
    rehashed[1] = { ...rehashed[1]!, unit: 'U2' };
    rehashed[1].hash = eventHash({ ...rehashed[1], id: undefined, hash: undefined } as never);
    expect(checkChain('s1', rehashed, head)).toMatchObject({ seq: 3, problem: expect.stringMatching(/does not carry the hash/) });
  });
});

describeEachStore('lab loop', (server) => {
  const json = async <T>(r: Response, status: number): Promise<T> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const post = (path: string, body: unknown) =>
    server().api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const get = (path: string) => server().api(path);
  const scan = (body: Record<string, unknown>) => post('/api/lab/scan', body);
  const scanOk = async (body: Record<string, unknown>) => json<ScanAnswer>(await scan(body), 200);
  const problem = async (r: Response, status: number): Promise<string> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return text;
  };
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  let patientId = '';
  let seq = 0;
  const barcode = () => `T${Date.now().toString(36)}${++seq}`;

  const order = async (extra: Record<string, unknown> = {}) =>
    json<{ orderId: string; mode: string; limitsGroup: string }>(
      await post('/api/lab/orders', { patientId, testCode: 'FLUA', orderingUnit: 'H001', ...extra }),
      201,
    );
  const shipment = async (fromUnit: string, toLab: string, extra: Record<string, unknown> = {}) =>
    json<ShipmentView>(await post('/api/lab/shipments', { fromUnit, toLab, courier: '张师傅', sealNumber: `S-${++seq}`, ...extra }), 201);
  /** Collects and ships a specimen (collected `startMs` ago) to CDC-D; returns its barcode. */
  const collectAndShip = async (orderId: string, startMs: number, toLab = 'CDC-D') => {
    const b = barcode();
    await scanOk({ step: 'collect', barcode: b, orderId, unit: 'CHC-01', at: ago(startMs), specimenType: '咽拭子', collector: '李护士' });
    const box = await shipment('CHC-01', toLab);
    await scanOk({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id, at: ago(startMs - 5 * M) });
    return b;
  };

  it('registers a resident for the orders', async () => {
    const p = await json<Patient>(
      await server().api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({ resourceType: 'Patient', name: [{ text: '王小明' }] }),
      }),
      201,
    );
    patientId = p.id!;
  });

  it('runs the whole loop by barcode scans: order → collect → ship → receive → test → result → verify → report', async () => {
    const o = await order({ investigationId: 'INV-2026-001', testName: '甲型流感病毒核酸' });
    expect(o).toMatchObject({ mode: 'routine', limitsGroup: 'nucleic-acid' });
    const box = await shipment('CHC-01', 'CDC-D', { departedAt: ago(170 * M), readings: [{ at: ago(160 * M), celsius: 4.5 }] });
    expect(box).toMatchObject({ outOfRange: 0, warnings: [], temperature: { min: 2, max: 8 } });
    const b = barcode();
    const t0 = Date.now() - 3 * H;
    const at = (min: number) => new Date(t0 + min * M).toISOString();

    const c = await scanOk({
      step: 'collect',
      barcode: b,
      orderId: o.orderId,
      unit: 'CHC-01',
      at: at(0),
      specimenType: '咽拭子',
      container: '病毒采样管',
      collector: '李护士',
      location: '发热门诊',
    });
    expect(c.specimen).toMatchObject({ state: 'collected', leg: 'collection-receipt', legUnit: 'CHC-01', patientId });
    expect(new Date(c.specimen.legDeadline!).getTime() - t0).toBe(24 * H);
    expect(c.event).toMatchObject({ seq: 1, prevHash: '', step: 'collect', unit: 'CHC-01', byUser: 'admin', performer: '李护士' });

    const s = await scanOk({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id, at: at(10), performer: '张师傅' });
    expect(s.specimen).toMatchObject({ state: 'in-transit', holder: `shipment:${box.id}` });
    expect(s.event.prevHash).toBe(c.event.hash);
    const r = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, condition: '完好', at: at(60) });
    expect(r.specimen).toMatchObject({ state: 'received', lab: 'CDC-D', leg: 'receipt-result', legUnit: 'CDC-D' });
    await scanOk({ step: 'test', barcode: b, unit: 'CDC-D', at: at(90) });
    const res = await scanOk({ step: 'result', barcode: b, unit: 'CDC-D', at: at(120), value: '阳性 Ct=24', interpretation: 'positive' });
    expect(res.specimen.result).toEqual({ value: '阳性 Ct=24', interpretation: 'positive' });
    const v = await scanOk({ step: 'verify', barcode: b, unit: 'CDC-D', at: at(132) });
    expect(v.specimen).toMatchObject({ state: 'verified', leg: 'result-report' });
    const rep = await scanOk({ step: 'report', barcode: b, unit: 'CDC-D', at: at(150), deliveredTo: '区人民医院检验科' });
    expect(rep.specimen).toMatchObject({ state: 'reported', leg: null, legDeadline: null, overdue: false });
    expect(rep.event.seq).toBe(7);

    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    expect(d.events.map((e) => e.step)).toEqual(['collect', 'ship', 'receive', 'test', 'result', 'verify', 'report']);
    expect(d.events.map((e) => e.unit)).toEqual(['CHC-01', 'CHC-01', 'CDC-D', 'CDC-D', 'CDC-D', 'CDC-D', 'CDC-D']);
    expect(d.custody).toEqual({ ok: true, broken: null });
    expect(d.order).toMatchObject({ investigationId: 'INV-2026-001', orderingUnit: 'H001' });
    expect(d.breaches).toEqual([]);

    const task = await json<Task>(await get(`/fhir/Task/${d.taskId}`), 200);
    expect(task).toMatchObject({
      status: 'completed',
      focus: { reference: `Specimen/${d.id}` },
      for: { reference: `Patient/${patientId}` },
    });
    expect(task.businessStatus?.coding?.[0]?.code).toBe('reported');
    const history = await json<Bundle>(await get(`/fhir/Task/${d.taskId}/_history`), 200);
    expect(history.entry).toHaveLength(7);
    const sp = await json<Specimen>(await get(`/fhir/Specimen/${d.id}`), 200);
    expect(sp.receivedTime).toBe(at(60));
    expect(sp.collection?.collector?.display).toBe('李护士');
    const obs = await json<Bundle>(await get(`/fhir/Observation?specimen=Specimen/${d.id}`), 200);
    expect((obs.entry?.[0]?.resource as Observation).status).toBe('final');
    const dr = await json<Bundle>(await get(`/fhir/DiagnosticReport?specimen=Specimen/${d.id}`), 200);
    expect((dr.entry?.[0]?.resource as DiagnosticReport).status).toBe('final');

    // The change-log processors (signals, linkage, …) take the lab's FHIR writes without a failure.
    await server().processors.drain();
    const failed = await json<{ total: number; rows: unknown[] }>(await get('/api/processors/dead-letters'), 200);
    expect(failed.rows).toEqual([]);

    const dash = await json<Dashboard>(await get('/api/lab/dashboard'), 200);
    const tat = dash.turnaround.find((x) => x.testCode === 'FLUA' && x.lab === 'CDC-D')!;
    expect(tat.verified).toBe(1);
    expect(tat.receiptToResultHours.median).toBeCloseTo(1.2, 2);
    expect(tat.collectionToReportHours.median).toBeCloseTo(2.5, 2);
  });

  it('adopts a hospital ServiceRequest as an order: its priority sets the mode', async () => {
    const sr = await json<{ id: string }>(
      await server().api('/fhir/ServiceRequest', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          priority: 'stat',
          code: { coding: [{ system: 'http://loinc.org', code: '94500-6', display: 'SARS-CoV-2 RNA' }] },
          subject: { reference: `Patient/${patientId}` },
          requester: { identifier: { system: 'https://yifang.health/fhir/sid/organization', value: 'H002' } },
        }),
      }),
      201,
    );
    const o = await json<{ orderId: string; mode: string; source: string; orderingUnit: string; limitsGroup: string }>(
      await post('/api/lab/orders', { serviceRequestId: sr.id }),
      201,
    );
    expect(o).toMatchObject({ orderId: sr.id, mode: 'emergency', source: 'fhir', orderingUnit: 'H002', limitsGroup: 'nucleic-acid' });
    expect(await problem(await post('/api/lab/orders', { serviceRequestId: sr.id }), 409)).toMatch(/already a lab order/);

    // A hospital order scanned at collection before anyone registered it is adopted there.
    const sr2 = await json<{ id: string }>(
      await server().api('/fhir/ServiceRequest', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          priority: 'routine',
          code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/lab-test', code: 'MEV-IGM', display: '麻疹病毒IgM抗体' }] },
          subject: { reference: `Patient/${patientId}` },
          requester: { identifier: { system: 'https://yifang.health/fhir/sid/organization', value: 'H003' } },
        }),
      }),
      201,
    );
    const c = await scanOk({
      step: 'collect',
      barcode: barcode(),
      orderId: sr2.id,
      unit: 'H003',
      specimenType: '血清',
      collector: '周护士',
      at: ago(M),
    });
    expect(c.specimen).toMatchObject({ orderId: sr2.id, testCode: 'MEV-IGM', mode: 'routine', patientId });
    expect(new Date(c.specimen.legDeadline!).getTime() - new Date(c.specimen.collectedAt).getTime()).toBe(48 * H);
  });

  it('refers a specimen to another lab under the same identity', async () => {
    const o = await order();
    const b = await collectAndShip(o.orderId, 4 * H);
    const first = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(3 * H) });
    const onward = await shipment('CDC-D', 'CDC-M');
    const wrongBox = await shipment('CHC-01', 'CDC-M');
    expect(await problem(await scan({ step: 'refer', barcode: b, unit: 'CDC-D', shipmentId: wrongBox.id }), 422)).toMatch(
      /is at lab CDC-D; shipment \d+ leaves from CHC-01/,
    );
    const ref = await scanOk({ step: 'refer', barcode: b, unit: 'CDC-D', shipmentId: onward.id, at: ago(2 * H) });
    expect(ref.specimen).toMatchObject({ id: first.specimen.id, hop: 1, state: 'in-transit', leg: 'collection-receipt', legUnit: 'CDC-D' });
    const second = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-M', accepted: true, at: ago(H) });
    expect(second.specimen).toMatchObject({
      id: first.specimen.id,
      barcode: b,
      lab: 'CDC-M',
      hop: 1,
      leg: 'receipt-result',
      legUnit: 'CDC-M',
    });
    await scanOk({ step: 'test', barcode: b, unit: 'CDC-M' });
    expect(await problem(await scan({ step: 'result', barcode: b, unit: 'CDC-D', value: '阴性' }), 422)).toMatch(/at lab CDC-M/);
    await scanOk({ step: 'result', barcode: b, unit: 'CDC-M', value: '阴性', interpretation: 'negative' });

    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    expect(d.events.map((e) => `${e.step}@${e.unit}`)).toEqual([
      'collect@CHC-01',
      'ship@CHC-01',
      'receive@CDC-D',
      'refer@CDC-D',
      'receive@CDC-M',
      'test@CDC-M',
      'result@CDC-M',
    ]);
    expect(d.custody.ok).toBe(true);
    const specimens = await json<Bundle>(
      await get(`/fhir/Specimen?identifier=${encodeURIComponent(`https://yifang.health/fhir/sid/specimen-barcode|${b}`)}`),
      200,
    );
    expect(specimens.entry?.map((e) => e.resource!.id)).toEqual([first.specimen.id]);
  });

  it('records a breach once when its limit passes (clock injected), for the unit answering for the leg, with a no-receipt flag', async () => {
    const o = await order();
    const b = barcode();
    const collectedAt = Date.now() - H;
    const c = await scanOk({
      step: 'collect',
      barcode: b,
      orderId: o.orderId,
      unit: 'CHC-02',
      at: new Date(collectedAt).toISOString(),
      specimenType: '咽拭子',
      collector: '赵医生',
    });
    const limit = collectedAt + 24 * H;
    expect(new Date(c.specimen.legDeadline!).getTime()).toBe(limit);
    const mine = (list: { barcode: string }[]) => list.filter((x) => x.barcode === b);
    expect(mine(await scanBreaches(server().db, new Date(limit - M)))).toEqual([]);
    const found = mine(await scanBreaches(server().db, new Date(limit + 1000)));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ leg: 'collection-receipt', unit: 'CHC-02', hop: 0, mode: 'routine', closedAt: null });
    expect(mine(await scanBreaches(server().db, new Date(limit + 1000)))).toEqual([]);
    expect(mine(await scanBreaches(server().db, new Date(limit + 48 * H)))).toEqual([]);

    const list = await json<BreachList>(await get('/api/lab/breaches?unit=CHC-02&leg=collection-receipt'), 200);
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ barcode: b, unit: 'CHC-02', patientId });
    const flags = await json<FlagList>(await get('/api/lab/flags?kind=no-receipt'), 200);
    expect(flags.items.filter((f) => f.barcode === b)).toHaveLength(1);
    const dash = await json<Dashboard>(await get('/api/lab/dashboard'), 200);
    expect(dash.breaches.byLegAndUnit.find((x) => x.unit === 'CHC-02')).toMatchObject({ leg: 'collection-receipt', open: 1, total: 1 });
    expect(dash.inFlight.byLegAndUnit.find((x) => x.unit === 'CHC-02' && x.leg === 'collection-receipt')).toMatchObject({ count: 1 });
  });

  it('records a leg that ends after its limit once, even when the scan has not yet seen it, and closes it', async () => {
    const o = await order();
    const b = await collectAndShip(o.orderId, 30 * H);
    const r = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true });
    expect(r.warnings.join(' ')).toMatch(/collection-receipt leg ended .* after its limit .* breach is recorded for CHC-01/);
    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    expect(d.breaches).toHaveLength(1);
    expect(d.breaches[0]!.closedAt).not.toBeNull();
    expect((await scanBreaches(server().db)).filter((x) => x.barcode === b)).toEqual([]);
  });

  it('applies the emergency limits: nucleic acid result within 6 h of receipt', async () => {
    const o = await order({ mode: 'emergency' });
    expect(o.mode).toBe('emergency');
    const b = await collectAndShip(o.orderId, 3 * H);
    const d0 = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    expect(new Date(d0.legDeadline!).getTime() - new Date(d0.collectedAt).getTime()).toBe(4 * H);
    const receivedAt = Date.now() - 2 * H;
    const r = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: new Date(receivedAt).toISOString() });
    expect(new Date(r.specimen.legDeadline!).getTime()).toBe(receivedAt + 6 * H);
    const mine = (list: { barcode: string }[]) => list.filter((x) => x.barcode === b);
    expect(mine(await scanBreaches(server().db, new Date(receivedAt + 5 * H)))).toEqual([]);
    const found = mine(await scanBreaches(server().db, new Date(receivedAt + 6 * H + 1000)));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ leg: 'receipt-result', unit: 'CDC-D', mode: 'emergency' });
    // The same test ordered routinely gets 24 h.
    const routine = await order();
    const b2 = await collectAndShip(routine.orderId, 3 * H);
    const r2 = await scanOk({ step: 'receive', barcode: b2, unit: 'CDC-D', accepted: true, at: new Date(receivedAt).toISOString() });
    expect(new Date(r2.specimen.legDeadline!).getTime()).toBe(receivedAt + 24 * H);

    const inFlight = await json<SpecimenList>(await get('/api/lab/specimens?inFlight=true&leg=receipt-result&unit=CDC-D&limit=1'), 200);
    expect(inFlight.total).toBeGreaterThanOrEqual(2);
    expect(inFlight.items).toHaveLength(1);
  });

  describe('bad input', () => {
    it('refuses an unknown barcode (404), a duplicate barcode on collection (409) and an unknown order (404)', async () => {
      expect(await problem(await scan({ step: 'receive', barcode: 'NO-SUCH-1', unit: 'CDC-D', accepted: true }), 404)).toMatch(
        /unknown barcode 'NO-SUCH-1'/,
      );
      expect(await problem(await get('/api/lab/specimens/NO-SUCH-1'), 404)).toMatch(/unknown barcode/);
      const o = await order();
      const b = barcode();
      const body = { step: 'collect', barcode: b, orderId: o.orderId, unit: 'CHC-01', specimenType: '血清', collector: '李护士' };
      await scanOk(body);
      expect(await problem(await scan(body), 409)).toMatch(new RegExp(`duplicate barcode '${b}'`));
      expect(await problem(await scan({ ...body, barcode: barcode(), orderId: 'no-such-order' }), 404)).toMatch(/unknown order/);
    });

    it('refuses a receipt before shipment (409) and a receipt at another lab than the shipment’s (422)', async () => {
      const o = await order();
      const b = barcode();
      await scanOk({
        step: 'collect',
        barcode: b,
        orderId: o.orderId,
        unit: 'CHC-01',
        specimenType: '血清',
        collector: '李护士',
        at: ago(H),
      });
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true }), 409)).toMatch(
        /receipt before shipment/,
      );
      const box = await shipment('CHC-01', 'CDC-D');
      await scanOk({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id, at: ago(50 * M) });
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-M', accepted: true }), 422)).toMatch(/goes to CDC-D/);
    });

    it('refuses any result for a rejected specimen (409), and a rejection without its reason (422)', async () => {
      const o = await order();
      const b = await collectAndShip(o.orderId, 2 * H);
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: false }), 422)).toMatch(/rejectReason/);
      const r = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: false, rejectReason: '标本渗漏', condition: '渗漏' });
      expect(r.specimen).toMatchObject({ state: 'rejected', leg: null, rejectedReason: '标本渗漏' });
      expect(await problem(await scan({ step: 'result', barcode: b, unit: 'CDC-D', value: '阳性' }), 409)).toMatch(
        /rejected at receipt \(标本渗漏\): no result may be recorded/,
      );
      expect(await problem(await scan({ step: 'test', barcode: b, unit: 'CDC-D' }), 409)).toMatch(/rejected/);
      const task = await json<Task>(await get(`/fhir/Task/${r.specimen.taskId}`), 200);
      expect(task).toMatchObject({ status: 'rejected', statusReason: { text: '标本渗漏' } });
      const dash = await json<Dashboard>(await get('/api/lab/dashboard'), 200);
      const rej = dash.rejections.find((x) => x.testCode === 'FLUA' && x.unit === 'CHC-01')!;
      expect(rej.rejected).toBeGreaterThanOrEqual(1);
      expect(rej.rate).toBeGreaterThan(0);
    });

    it('flags a specimen received twice (409, flagged)', async () => {
      const o = await order();
      const b = await collectAndShip(o.orderId, 2 * H);
      await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(H) });
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true }), 409)).toMatch(/received twice/);
      const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
      expect(d.flags.map((f) => f.kind)).toEqual(['received-twice']);
      expect(d.state).toBe('received');
    });

    it('stores a temperature reading out of range, flagged (not refused), and warns at receipt', async () => {
      const box = await shipment('CHC-01', 'CDC-D', {
        readings: [
          { at: ago(30 * M), celsius: 5 },
          { at: ago(20 * M), celsius: 12.5 },
        ],
      });
      expect(box.outOfRange).toBe(1);
      expect(box.warnings).toEqual([expect.stringMatching(/temperature 12.5 °C .* outside 2–8 °C/)]);
      const more = await json<ShipmentView>(await post(`/api/lab/shipments/${box.id}/readings`, { readings: [{ celsius: -3 }] }), 200);
      expect(more.readings.map((r) => r.outOfRange)).toEqual([false, true, true]);
      const flags = await json<FlagList>(await get('/api/lab/flags?kind=temperature'), 200);
      expect(flags.items.filter((f) => f.shipmentId === box.id)).toHaveLength(2);
      const o = await order();
      const b = barcode();
      await scanOk({
        step: 'collect',
        barcode: b,
        orderId: o.orderId,
        unit: 'CHC-01',
        specimenType: '血清',
        collector: '李护士',
        at: ago(H),
      });
      await scanOk({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id, at: ago(50 * M) });
      const r = await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true });
      expect(r.warnings.join(' ')).toMatch(/2 temperature reading\(s\) outside 2–8 °C/);
      expect(
        await problem(
          await post('/api/lab/shipments', { fromUnit: 'A', toLab: 'B', courier: 'x', sealNumber: 'y', readings: [{ celsius: 99 }] }),
          400,
        ),
      ).toMatch(/celsius/);
    });

    it('refuses a step whose time is in the future or before the last step (422)', async () => {
      const o = await order();
      const future = new Date(Date.now() + H).toISOString();
      expect(
        await problem(
          await scan({
            step: 'collect',
            barcode: barcode(),
            orderId: o.orderId,
            unit: 'CHC-01',
            specimenType: '血清',
            collector: '李护士',
            at: future,
          }),
          422,
        ),
      ).toMatch(/is in the future/);
      const b = await collectAndShip(o.orderId, 2 * H);
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: future }), 422)).toMatch(
        /in the future/,
      );
      expect(await problem(await scan({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(3 * H) }), 422)).toMatch(
        /before specimen .*'s last step/,
      );
      expect(
        await problem(
          await post('/api/lab/shipments', { fromUnit: 'A', toLab: 'B', courier: 'x', sealNumber: 'y', departedAt: future }),
          422,
        ),
      ).toMatch(/in the future/);
    });

    it('refuses a step not allowed in the state (409 naming what comes next) and an unknown step (400)', async () => {
      const o = await order();
      const b = barcode();
      await scanOk({
        step: 'collect',
        barcode: b,
        orderId: o.orderId,
        unit: 'CHC-01',
        specimenType: '血清',
        collector: '李护士',
        at: ago(H),
      });
      expect(await problem(await scan({ step: 'verify', barcode: b, unit: 'CHC-01' }), 409)).toMatch(
        /cannot verify .* it is collected .* next: scan 'ship'/,
      );
      expect(await problem(await scan({ step: 'teleport', barcode: b, unit: 'CHC-01' }), 400)).toMatch(/step/);
    });
  });

  it('documents every lab route in OpenAPI and guards each with its permission', async () => {
    const docs = (await (await fetch(`${server().url}/api/docs`)).json()) as { paths: Record<string, unknown> };
    const labPaths = Object.keys(docs.paths).filter((p) => p.startsWith('/api/lab/'));
    expect(labPaths.sort()).toEqual(
      [
        '/api/lab/breaches',
        '/api/lab/custody/verify',
        '/api/lab/dashboard',
        '/api/lab/flags',
        '/api/lab/limits',
        '/api/lab/orders',
        '/api/lab/scan',
        '/api/lab/shipments',
        '/api/lab/shipments/{id}',
        '/api/lab/shipments/{id}/readings',
        '/api/lab/specimens',
        '/api/lab/specimens/{barcode}',
        '/api/lab/endpoints',
        '/api/lab/endpoints/{facility}',
        '/api/lab/outbox',
        '/api/lab/outbox/{id}',
        '/api/lab/outbox/{id}/resend',
        '/api/lab/mass/campaigns',
        '/api/lab/mass/campaigns/{id}/people',
        '/api/lab/mass/campaigns/{id}/progress',
        '/api/lab/mass/pools',
        '/api/lab/mass/pools/{barcode}',
        '/api/lab/mass/pools/{barcode}/members',
      ].sort(),
    );
    const password = 'lab-viewer-pass-2026';
    await server().auth.addUser({ username: 'lab-viewer', password, roles: ['viewer'] });
    const login = await fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'lab-viewer', password }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const as = (path: string, init: RequestInit = {}) =>
      fetch(`${server().url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const body = JSON.stringify({ step: 'test', barcode: 'B-1', unit: 'CDC-D' });
    expect((await as('/api/lab/scan', { method: 'POST', body })).status).toBe(403);
    expect((await as('/api/lab/dashboard')).status).toBe(403);
    expect((await as('/api/lab/custody/verify')).status).toBe(403);
    expect((await as('/api/lab/limits')).status).toBe(200);
    expect((await fetch(`${server().url}/api/lab/limits`)).status).toBe(401);

    // A clinician may scan, but only specimens of residents in their care: the barcode names the resident.
    await server().auth.addUser({ username: 'lab-clinician', password, roles: ['clinician'], organization: 'OTHER-HOSP' });
    const clinician = (
      (await (
        await fetch(`${server().url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'lab-clinician', password }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const o = await order();
    const b = barcode();
    await scanOk({
      step: 'collect',
      barcode: b,
      orderId: o.orderId,
      unit: 'CHC-01',
      specimenType: '血清',
      collector: '李护士',
      at: ago(H),
    });
    const box = await shipment('CHC-01', 'CDC-D');
    const refused = await fetch(`${server().url}/api/lab/scan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinician}`, 'content-type': 'application/json' },
      body: JSON.stringify({ step: 'ship', barcode: b, unit: 'CHC-01', shipmentId: box.id }),
    });
    expect(await problem(refused, 403)).toMatch(/超出授权范围/);
    expect((await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200)).state).toBe('collected');
  });

  it('verifies every custody chain, refuses changes to an event, and names a tampered event', async () => {
    const ok = await verifyCustody(server().db);
    expect(ok).toMatchObject({ ok: true, brokenChains: 0, firstBroken: null });
    expect(ok.specimens).toBeGreaterThan(5);
    const o = await order();
    const b = await collectAndShip(o.orderId, 2 * H);
    await scanOk({ step: 'receive', barcode: b, unit: 'CDC-D', accepted: true, at: ago(H) });
    const d = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    const shipEvent = d.events[1]!;
    const attempt = (sql: string) => server().db.transaction((c) => c.query(sql, [shipEvent.id]));
    await expect(attempt(`UPDATE lab_event SET unit = 'ELSEWHERE' WHERE id = $1`)).rejects.toThrow(/append-only/);
    await expect(attempt(`DELETE FROM lab_event WHERE id = $1`)).rejects.toThrow(/append-only/);

    // Someone with the database's owner rights goes around the trigger.
    await server().db.transaction(async (c) => {
      await c.query('ALTER TABLE lab_event DISABLE TRIGGER lab_event_append_only');
      await c.query(`UPDATE lab_event SET unit = 'ELSEWHERE' WHERE id = $1`, [shipEvent.id]);
      await c.query('ALTER TABLE lab_event ENABLE TRIGGER lab_event_append_only');
    });
    const bad = await verifyCustody(server().db);
    expect(bad).toMatchObject({ ok: false, brokenChains: 1 });
    expect(bad.firstBroken).toMatchObject({ specimenId: d.id, barcode: b, seq: 2, eventId: shipEvent.id });
    expect(bad.firstBroken!.problem).toMatch(/changed after it was recorded/);
    const viaApi = await json<{ ok: boolean; firstBroken: { barcode: string } }>(await get('/api/lab/custody/verify'), 200);
    expect(viaApi).toMatchObject({ ok: false, firstBroken: { barcode: b } });
    const after = await json<SpecimenDetail>(await get(`/api/lab/specimens/${b}`), 200);
    expect(after.custody).toMatchObject({ ok: false, broken: { seq: 2 } });
  });
});
