/**
 * Vaccine lots, stock and the cold chain end to end through a running server, on both stores:
 * a receipt scanned from a GS1 code, doses given (FHIR Immunization → the processor) taking from
 * the stock, a dose of an unstocked lot flagged, near-expiry and expired warnings, transfers, a
 * reading published to the local MQTT broker stored, excursions (sustained warm; freezing at
 * once) with acknowledgement and escalation (clock injected), a silent sensor, the recall list of
 * an excursion naming the residents given doses of the affected lots afterwards, and the lot trace
 * with an AEFI.
 */
import { randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { gs1CheckDigit } from './gs1.js';
import { ColdChainSubscriber, parsePayload, topicFilter } from './mqtt.js';
import type {
  AlarmList,
  AlarmView,
  ExcursionDetail,
  ExcursionList,
  FridgeView,
  IngestAnswer,
  LotTrace,
  MovementAnswer,
  ReadingList,
  RecipientList,
  StockList,
  WarningList,
  DoseList,
} from './schemas.js';
import { ingestReadings, scanColdChain } from './service.js';
import { loadSettings, parseSettings, SETTINGS_FILE } from './settings.js';
import fs from 'node:fs';

const M = 60_000;
const DAY = 86_400_000;
const settings = loadSettings();
const rules = settings.rules;
const BROKER = process.env.YIFANG_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Whether the broker answers a TCP connect (the MQTT round trip is skipped, and says so, where none runs). */
async function brokerReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 1883) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
const brokerUp = await brokerReachable(BROKER);

/** YYMMDD of a date `days` from today. */
const yymmdd = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(2, 10).replace(/-/g, '');
const isoDay = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);
const gtin = (body13: string) => body13 + gs1CheckDigit(body13);

describe('settings and MQTT payloads (pure)', () => {
  it('reads the shipped settings and refuses a bad file naming the field', () => {
    expect(settings.expiryWarningDays).toEqual([90, 30]);
    expect(rules).toMatchObject({ minCelsius: 2, maxCelsius: 8, excursionMinutes: 30, freezingCelsius: 0 });
    const raw = JSON.parse(fs.readFileSync(SETTINGS_FILE, 'utf8')) as { coldChain: Record<string, unknown>; mqtt: Record<string, unknown> };
    raw.coldChain.excursionMinutes = 'thirty';
    expect(() => parseSettings(JSON.stringify(raw), 's.json')).toThrow(/s\.json: coldChain\.excursionMinutes: Expected number/);
    raw.coldChain.excursionMinutes = 30;
    raw.mqtt.topic = 'yifang/coldchain/+/temperature';
    expect(() => parseSettings(JSON.stringify(raw), 's.json')).toThrow(/mqtt\.topic: the topic must name the sensor/);
  });
  it('turns the topic pattern into a filter and reads JSON or bare-number payloads', () => {
    expect(topicFilter('yifang/coldchain/{sensorId}/temperature')).toEqual({ filter: 'yifang/coldchain/+/temperature', level: 2 });
    const at = new Date('2026-06-01T08:00:00Z');
    expect(parsePayload('S1', '{"t": 4.2, "at": "2026-06-01T07:59:00Z"}', at)).toMatchObject({
      reading: { sensorId: 'S1', celsius: 4.2, at: new Date('2026-06-01T07:59:00Z') },
    });
    expect(parsePayload('S1', '5.5', at)).toMatchObject({ reading: { celsius: 5.5, at } });
    expect(parsePayload('S1', 'warm', at)).toMatchObject({ problem: /neither JSON nor a number/ });
    expect(parsePayload('S1', '{"t": 4, "at": "yesterday"}', at)).toMatchObject({ problem: /not an ISO time/ });
    expect(parsePayload('S1', '{"t": 400}', at)).toMatchObject({ problem: /broken sensor/ });
  });
});

describe('MQTT subscriber with the broker down', () => {
  it('does not throw, logs the outage once, keeps retrying and stops cleanly', async () => {
    const logs: string[] = [];
    const sub = new ColdChainSubscriber({
      url: 'mqtt://127.0.0.1:9', // nothing listens there
      settings: { ...settings.mqtt, clientId: `yifang-test-down-${randomUUID().slice(0, 8)}` },
      log: (m) => logs.push(m),
      store: async () => undefined,
    });
    await sub.start();
    await new Promise((r) => setTimeout(r, 3500));
    expect(sub.stats.connected).toBe(false);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/unreachable .*retrying with backoff/);
    await sub.stop();
  });
});

describeEachStore('vaccine supply and cold chain', (server) => {
  const json = async <T>(r: Response, status: number): Promise<T> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const post = (path: string, body: unknown) =>
    server().api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const get = (path: string) => server().api(path);
  const problem = async (r: Response, status: number): Promise<string> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return text;
  };
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const uniq = randomUUID().slice(0, 8);
  const S_A = `S-A-${uniq}`;
  const S_B = `S-B-${uniq}`;
  const S_SILENT = `S-Q-${uniq}`;
  const S_MQTT = `S-M-${uniq}`;
  const patients: Record<string, string> = {};
  let lotA = 0;
  const LOT = `A${uniq}`.toUpperCase();
  const GTIN = gtin('0690123456789');

  const patient = async (name: string) =>
    (
      await json<Patient>(
        await server().api('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', name: [{ text: name }] }) }),
        201,
      )
    ).id!;
  const immunization = async (
    patientId: string,
    lotNumber: string | undefined,
    place: string,
    at: string,
    extra: Record<string, unknown> = {},
  ) =>
    (
      await json<{ id: string }>(
        await server().api('/fhir/Immunization', {
          method: 'POST',
          body: JSON.stringify({
            resourceType: 'Immunization',
            status: 'completed',
            vaccineCode: { coding: [{ system: 'urn:yifang:vaccine', code: 'HepB', display: '乙肝疫苗' }] },
            patient: { reference: `Patient/${patientId}` },
            occurrenceDateTime: at,
            ...(lotNumber ? { lotNumber } : {}),
            location: { display: place },
            ...extra,
          }),
        }),
        201,
      )
    ).id;
  const stockOf = async (clinic: string, lotId: number) =>
    (await json<StockList>(await get(`/api/vaccine-supply/stock?clinic=${clinic}&lotId=${lotId}&empty=true`), 200)).items[0]?.quantity ?? 0;

  it('registers clinics, the CDC store, fridges with their sensors and residents', async () => {
    await json(await post('/api/vaccine-supply/clinics', { code: 'CDC-STORE', name: '区疾控疫苗库', kind: 'cdc-store' }), 201);
    await json(
      await post('/api/vaccine-supply/clinics', { code: 'VC-A', name: '东城接种门诊', aliases: ['东城接种门诊', 'Location/loc-a'] }),
      201,
    );
    await json(await post('/api/vaccine-supply/clinics', { code: 'VC-B', name: '西城接种门诊', aliases: ['西城接种门诊'] }), 201);
    expect(await problem(await post('/api/vaccine-supply/clinics', { code: 'VC-C', name: 'x', aliases: ['东城接种门诊'] }), 409)).toMatch(
      /already names clinic VC-A/,
    );
    const f = await json<FridgeView>(
      await post('/api/cold-chain/fridges', { id: 'F-A1', clinicCode: 'VC-A', name: '东城1号冰箱', sensorIds: [S_A, S_SILENT] }),
      201,
    );
    expect(f.sensors.map((s) => s.id).sort()).toEqual([S_A, S_SILENT].sort());
    await json(await post('/api/cold-chain/fridges', { id: 'F-B1', clinicCode: 'VC-B', name: '西城1号冰箱', sensorIds: [S_B] }), 201);
    await json(
      await post('/api/cold-chain/fridges', { id: 'F-M', clinicCode: 'VC-B', kind: 'cold-box', name: '冷藏箱', sensorIds: [S_MQTT] }),
      201,
    );
    expect(
      await problem(await post('/api/cold-chain/fridges', { id: 'F-X', clinicCode: 'VC-A', name: 'x', sensorIds: [S_A] }), 409),
    ).toMatch(/already reports/);
    for (const n of ['张早', '李晚', '王西', '赵无']) patients[n] = await patient(n);
  });

  it('parses GS1 codes over HTTP and names a bad one', async () => {
    const code = await json<{ gtin: string; lot: string; expiry: string }>(
      await post('/api/vaccine-supply/gs1', { code: `]d2\x1d01${GTIN}17${yymmdd(200)}10${LOT}\x1d21SN1` }),
      200,
    );
    expect(code).toMatchObject({ gtin: GTIN, lot: LOT, expiry: isoDay(200) });
    const bad = GTIN.slice(0, 13) + ((Number(GTIN[13]) + 1) % 10);
    expect(await problem(await post('/api/vaccine-supply/gs1', { code: `(01)${bad}(10)X` }), 422)).toMatch(/bad check digit/);
  });

  it('receives a lot scanned from its GS1 code; a dose given (FHIR Immunization) takes one from the stock', async () => {
    const r = await json<MovementAnswer>(
      await post('/api/vaccine-supply/receipts', {
        clinicCode: 'VC-A',
        fridgeId: 'F-A1',
        vaccineCode: 'HepB',
        vaccineName: '乙肝疫苗',
        manufacturer: '华北制药',
        gs1: `01${GTIN}17${yymmdd(200)}10${LOT}\x1d21SN1`,
        quantity: 100,
        supplier: 'CDC-STORE',
        at: ago(6 * 60 * M),
      }),
      201,
    );
    expect(r.lot).toMatchObject({ lotNumber: LOT, gtin: GTIN, expiry: isoDay(200), manufacturer: '华北制药', status: 'active' });
    expect(r.warnings).toEqual([]);
    lotA = r.lot.id;
    expect(await stockOf('VC-A', lotA)).toBe(100);
    // The same lot scanned again names it by GTIN alone; a different expiry is refused.
    const again = await json<MovementAnswer>(
      await post('/api/vaccine-supply/receipts', {
        clinicCode: 'VC-A',
        fridgeId: 'F-A1',
        gs1: `(01)${GTIN}(17)${yymmdd(200)}(10)${LOT}`,
        quantity: 10,
        at: ago(6 * 60 * M),
      }),
      201,
    );
    expect(again.lot.id).toBe(lotA);
    expect(
      await problem(
        await post('/api/vaccine-supply/receipts', {
          clinicCode: 'VC-A',
          fridgeId: 'F-A1',
          vaccineCode: 'HepB',
          lotNumber: LOT,
          expiry: isoDay(100),
          quantity: 1,
        }),
        409,
      ),
    ).toMatch(/registered with expiry/);
    expect(
      await problem(await post('/api/vaccine-supply/receipts', { clinicCode: 'VC-B', fridgeId: 'F-A1', lotId: lotA, quantity: 1 }), 422),
    ).toMatch(/F-A1 is at VC-A/);

    await immunization(patients['张早']!, LOT.toLowerCase(), '东城接种门诊', ago(5 * 60 * M));
    await server().processors.drain();
    expect(await stockOf('VC-A', lotA)).toBe(109);
    const doses = await json<DoseList>(await get(`/api/vaccine-supply/doses?lotId=${lotA}`), 200);
    expect(doses.items).toHaveLength(1);
    expect(doses.items[0]).toMatchObject({ clinicCode: 'VC-A', lotId: lotA, flags: [], patientId: patients['张早'] });
  });

  it('flags a dose from a lot the clinic has no stock of (stored, never refused), and one at an unknown place', async () => {
    const id = await immunization(patients['赵无']!, 'NOSUCH-1', '东城接种门诊', ago(60 * M));
    const id2 = await immunization(patients['赵无']!, undefined, '某私立诊所', ago(50 * M));
    await server().processors.drain();
    const flagged = await json<DoseList>(await get('/api/vaccine-supply/doses?flagged=true'), 200);
    expect(flagged.items.find((d) => d.immunizationId === id)).toMatchObject({ clinicCode: 'VC-A', lotId: null, flags: ['unstocked-lot'] });
    expect(flagged.items.find((d) => d.immunizationId === id2)?.flags.sort()).toEqual(['no-lot', 'unknown-clinic']);
    const w = await json<WarningList>(await get('/api/vaccine-supply/warnings?kind=dose-flagged'), 200);
    expect(w.items.find((x) => x.immunizationId === id)?.message).toMatch(/no stock of/);
    // The receipt entered late: the dose joins the lot and takes its dose from the stock; its flag stays.
    const late = await json<MovementAnswer>(
      await post('/api/vaccine-supply/receipts', {
        clinicCode: 'VC-A',
        fridgeId: 'F-A1',
        vaccineCode: 'HepB',
        lotNumber: 'NOSUCH-1',
        expiry: isoDay(300),
        quantity: 20,
        at: ago(30 * M),
      }),
      201,
    );
    expect(await stockOf('VC-A', late.lot.id)).toBe(19);
    const linked = await json<DoseList>(await get(`/api/vaccine-supply/doses?lotId=${late.lot.id}`), 200);
    expect(linked.items.map((d) => [d.immunizationId, d.flags])).toEqual([[id, ['unstocked-lot']]]);
    const failed = await json<{ rows: unknown[] }>(await get('/api/processors/dead-letters'), 200);
    expect(failed.rows).toEqual([]);
  });

  it('warns of lots near expiry (90 and 30 days), expired lots in stock and stock below the minimum', async () => {
    const receipt = (lotNumber: string, days: number, quantity = 5) =>
      post('/api/vaccine-supply/receipts', {
        clinicCode: 'VC-B',
        fridgeId: 'F-B1',
        vaccineCode: 'MMR',
        lotNumber,
        expiry: isoDay(days),
        quantity,
      });
    const near30 = await json<MovementAnswer>(await receipt(`N30-${uniq}`, 20), 201);
    expect(near30.warnings[0]).toMatch(/expires on .* in 20 days/);
    await json(await receipt(`N90-${uniq}`, 60), 201);
    const expired = await json<MovementAnswer>(await receipt(`EXP-${uniq}`, -3), 201);
    expect(expired.warnings[0]).toMatch(/expired on/);
    const w = await json<WarningList>(await get('/api/vaccine-supply/warnings?clinic=VC-B&limit=200'), 200);
    const of = (lot: string) => w.items.filter((x) => x.lotNumber === lot).map((x) => `${x.kind}:${x.days}`);
    expect(of(`N30-${uniq}`)).toEqual(['near-expiry:30']);
    expect(of(`N90-${uniq}`)).toEqual(['near-expiry:90']);
    expect(of(`EXP-${uniq}`)).toEqual(['expired-in-stock:3']);
    // 10 usable MMR doses (the expired ones do not count) against a minimum of 10: not below; discard one and it is.
    expect(w.items.filter((x) => x.kind === 'below-minimum' && x.vaccineCode === 'MMR')).toEqual([]);
    await json(
      await post('/api/vaccine-supply/discards', {
        clinicCode: 'VC-B',
        vaccineCode: 'MMR',
        lotNumber: `N90-${uniq}`,
        quantity: 1,
        reason: '破损',
      }),
      201,
    );
    const w2 = await json<WarningList>(await get('/api/vaccine-supply/warnings?clinic=VC-B&kind=below-minimum'), 200);
    expect(w2.items.find((x) => x.vaccineCode === 'MMR')).toMatchObject({ quantity: 9 });
    expect(
      await problem(
        await post('/api/vaccine-supply/discards', {
          clinicCode: 'VC-B',
          vaccineCode: 'MMR',
          lotNumber: `N90-${uniq}`,
          quantity: 99,
          reason: 'x',
        }),
        409,
      ),
    ).toMatch(/has 4 doses .* fewer than 99/);
  });

  it('opens an excursion from readings kept warm, alarms the clinic, and lists the residents to recall', async () => {
    // Sent on to VC-B after the excursion began, and given there: on the list too.
    const before = await immunization(patients['张早']!, LOT, '东城接种门诊', ago(150 * M));
    const readings: { sensorId: string; at: string; celsius: number }[] = [];
    for (let i = 0; i <= 22; i++) {
      const t = 125 - i * 5; // minutes ago: 125 … 15
      readings.push({ sensorId: S_A, at: ago(t * M), celsius: t <= 115 && t >= 75 ? 9.6 + (i % 3) : 5 });
    }
    readings.push({ sensorId: S_A, at: readings[3]!.at, celsius: 5 }); // a duplicate
    readings.push({ sensorId: `NOBODY-${uniq}`, at: ago(M), celsius: 4 });
    const answer = await json<IngestAnswer>(await post('/api/cold-chain/readings', { readings }), 200);
    expect(answer).toMatchObject({ received: 25, stored: 23, duplicates: 1, unknownSensors: [`NOBODY-${uniq}`] });
    expect(answer.alarms).toHaveLength(1);
    const ex = (await json<ExcursionList>(await get('/api/cold-chain/excursions?fridge=F-A1'), 200)).items;
    expect(ex).toHaveLength(1);
    expect(ex[0]).toMatchObject({ kind: 'warm', sensorId: S_A, clinicCode: 'VC-A', minCelsius: 9.6, maxCelsius: 11.6 });
    expect(Math.abs(Date.parse(ex[0]!.startedAt) - (Date.now() - 115 * M))).toBeLessThan(30_000);
    expect(ex[0]!.endedAt).not.toBeNull();
    expect(ex[0]!.outsideMinutes).toBeGreaterThan(30);
    const startedAt = Date.parse(ex[0]!.startedAt);

    // After the excursion began: a transfer to VC-B, doses at VC-A and VC-B.
    await json(
      await post('/api/vaccine-supply/transfers', {
        fromClinic: 'VC-A',
        toClinic: 'VC-B',
        lotId: lotA,
        quantity: 10,
        toFridgeId: 'F-B1',
        at: new Date(startedAt + 10 * M).toISOString(),
      }),
      201,
    );
    await immunization(patients['李晚']!, LOT, 'Location/loc-a', new Date(startedAt + 20 * M).toISOString(), {
      location: { reference: 'Location/loc-a' },
    });
    await immunization(patients['王西']!, LOT, '西城接种门诊', new Date(startedAt + 30 * M).toISOString());
    await server().processors.drain();
    expect(await stockOf('VC-B', lotA)).toBe(9);

    const detail = await json<ExcursionDetail>(await get(`/api/cold-chain/excursions/${ex[0]!.id}`), 200);
    expect(detail.lots.map((l) => l.lot.id)).toEqual([lotA]);
    expect(detail.recipients).toBe(2);
    const recall = await json<RecipientList>(await get(`/api/cold-chain/excursions/${ex[0]!.id}/recall`), 200);
    expect(recall.total).toBe(2);
    expect(recall.items.map((r) => [r.name, r.clinicCode])).toEqual([
      ['李晚', 'VC-A'],
      ['王西', 'VC-B'],
    ]);
    expect(recall.items.map((r) => r.patientId)).not.toContain(patients['张早']);
    expect(before).toBeTruthy();

    // The alarm: to the clinic, acknowledged; not escalated afterwards.
    const alarms = await json<AlarmList>(await get('/api/cold-chain/alarms?clinic=VC-A&kind=excursion'), 200);
    expect(alarms.items[0]).toMatchObject({ excursionId: ex[0]!.id, level: 'clinic', acknowledgedAt: null });
    expect(alarms.items[0]!.message).toMatch(/东城1号冰箱: 温度过高/);
    const ack = await json<AlarmView>(await post(`/api/cold-chain/alarms/${alarms.items[0]!.id}/acknowledge`, { note: '已转移疫苗' }), 200);
    expect(ack).toMatchObject({ acknowledgedBy: 'admin', note: '已转移疫苗' });
    expect(await problem(await post('/api/cold-chain/alarms/999999/acknowledge', {}), 404)).toMatch(/does not exist/);
  });

  it('raises an alarm for a silent sensor, and resolves it when the sensor is heard again', async () => {
    const now = Date.now();
    await scanColdChain(server().db, rules, new Date(now + 20 * M));
    const none = await json<AlarmList>(await get('/api/cold-chain/alarms?kind=sensor-silent&limit=100'), 200);
    expect(none.items.filter((a) => a.sensorId === S_SILENT)).toEqual([]);
    await scanColdChain(server().db, rules, new Date(now + 31 * M));
    const silent = await json<AlarmList>(await get('/api/cold-chain/alarms?kind=sensor-silent&limit=100'), 200);
    const mine = silent.items.filter((a) => a.sensorId === S_SILENT);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.message).toMatch(/silent since it was registered/);
    // Once only, however often the scan runs.
    await scanColdChain(server().db, rules, new Date(now + 40 * M));
    expect(
      (await json<AlarmList>(await get('/api/cold-chain/alarms?kind=sensor-silent&limit=100'), 200)).items.filter(
        (a) => a.sensorId === S_SILENT,
      ),
    ).toHaveLength(1);
    await json(await post('/api/cold-chain/readings', { readings: [{ sensorId: S_SILENT, at: ago(0), celsius: 5 }] }), 200);
    const after = (await json<AlarmList>(await get('/api/cold-chain/alarms?kind=sensor-silent&limit=100'), 200)).items.find(
      (a) => a.sensorId === S_SILENT,
    )!;
    expect(after.resolvedAt).not.toBeNull();
  });

  it('raises a freezing alarm at once, escalates it to the CDC when nobody acknowledges it in time', async () => {
    const answer = await json<IngestAnswer>(
      await post('/api/cold-chain/readings', {
        readings: [
          { sensorId: S_B, at: ago(10 * M), celsius: 4 },
          { sensorId: S_B, at: ago(5 * M), celsius: -0.5 },
        ],
      }),
      200,
    );
    expect(answer.alarms).toHaveLength(1);
    const alarm = (await json<AlarmList>(await get('/api/cold-chain/alarms?clinic=VC-B&kind=freezing'), 200)).items[0]!;
    expect(alarm).toMatchObject({ level: 'clinic', sensorId: S_B });
    const ex = (await json<ExcursionList>(await get('/api/cold-chain/excursions?fridge=F-B1&open=true'), 200)).items[0]!;
    expect(ex).toMatchObject({ kind: 'freezing', minCelsius: -0.5, endedAt: null });

    const early = await scanColdChain(server().db, rules, new Date(Date.now() + 30 * M));
    expect(early.escalated.map((a) => a.id)).not.toContain(alarm.id);
    const late = await scanColdChain(server().db, rules, new Date(Date.now() + 61 * M));
    expect(late.escalated.find((a) => a.id === alarm.id)).toMatchObject({ level: 'cdc' });
    const acknowledged = (await json<AlarmList>(await get('/api/cold-chain/alarms?clinic=VC-A&kind=excursion'), 200)).items[0]!;
    expect(acknowledged.level).toBe('clinic');
    const cdc = await json<AlarmList>(await get('/api/cold-chain/alarms?level=cdc&kind=freezing'), 200);
    expect(cdc.items.map((a) => a.id)).toContain(alarm.id);
  });

  it.skipIf(!brokerUp)(`stores a reading published to the MQTT broker${brokerUp ? '' : ` — SKIPPED: no broker at ${BROKER}`}`, async () => {
    const prefix = `yifang-test-${randomUUID().slice(0, 12)}`;
    const sub = new ColdChainSubscriber({
      url: BROKER,
      settings: { ...settings.mqtt, topic: `${prefix}/coldchain/{sensorId}/temperature`, clientId: prefix, flushMs: 100 },
      log: () => undefined,
      async store(batch, bad) {
        await ingestReadings(server().db, rules, batch, new Date(), bad);
      },
    });
    await sub.start();
    const pub = await mqtt.connectAsync(BROKER, { clientId: `${prefix}-pub` });
    try {
      const at = ago(2 * M);
      await pub.publishAsync(`${prefix}/coldchain/${S_MQTT}/temperature`, JSON.stringify({ t: 4.2, at }), { qos: 1 });
      await pub.publishAsync(`${prefix}/coldchain/${S_MQTT}/temperature`, '5.1', { qos: 1 });
      await pub.publishAsync(`${prefix}/coldchain/${S_MQTT}/temperature`, 'hot', { qos: 1 });
      let list: ReadingList | undefined;
      for (let i = 0; i < 100; i++) {
        list = await json<ReadingList>(await get(`/api/cold-chain/sensors/${S_MQTT}/readings`), 200);
        if (list.total >= 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(list!.total).toBe(2);
      expect(list!.items.map((r) => r.celsius).sort()).toEqual([4.2, 5.1]);
      expect(list!.items.find((r) => r.celsius === 4.2)!.at).toBe(at);
    } finally {
      await pub.endAsync();
      await sub.stop();
    }
    expect(sub.stats).toMatchObject({ received: 3, stored: 2, failedFlushes: 0 });
  });

  it('traces a lot: where it went, who received it, adverse events, the fridges and their excursions', async () => {
    const [imm] = (await json<DoseList>(await get(`/api/vaccine-supply/doses?lotId=${lotA}&clinic=VC-B`), 200)).items;
    await json(
      await server().api('/fhir/AdverseEvent', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'AdverseEvent',
          actuality: 'actual',
          subject: { reference: `Patient/${patients['王西']}` },
          date: new Date().toISOString(),
          event: { text: '接种部位红肿, 发热 38.5 °C' },
          seriousness: { coding: [{ code: 'non-serious' }] },
          suspectEntity: [{ instance: { reference: `Immunization/${imm!.immunizationId}` } }],
        }),
      }),
      201,
    );
    await server().processors.drain();
    const t = await json<LotTrace>(await get(`/api/vaccine-supply/lots/${lotA}/trace`), 200);
    expect(t.lot.lotNumber).toBe(LOT);
    expect(t.movements.map((m) => `${m.kind}:${m.clinicCode}:${m.quantity}`)).toEqual([
      'receipt:VC-A:100',
      'receipt:VC-A:10',
      'transfer-out:VC-A:-10',
      'transfer-in:VC-B:10',
    ]);
    expect(t.clinics).toEqual([
      { clinicCode: 'VC-A', received: 110, dosesGiven: 3, inStock: 97 },
      { clinicCode: 'VC-B', received: 10, dosesGiven: 1, inStock: 9 },
    ]);
    expect(t.dosesGiven).toBe(4);
    expect(t.adverseEvents).toEqual([
      expect.objectContaining({
        patientId: patients['王西'],
        immunizationId: imm!.immunizationId,
        description: '接种部位红肿, 发热 38.5 °C',
      }),
    ]);
    const fa = t.fridges.find((f) => f.fridgeId === 'F-A1')!;
    expect(fa.excursions.map((e) => e.kind)).toEqual(['warm']);
    expect(t.fridges.find((f) => f.fridgeId === 'F-B1')!.excursions.map((e) => e.kind)).toEqual(['freezing']);
    const who = await json<RecipientList>(await get(`/api/vaccine-supply/lots/${lotA}/recipients?limit=2`), 200);
    expect(who.total).toBe(4);
    expect(who.items.map((r) => r.name)).toEqual(['张早', '张早']);
    expect(await problem(await get('/api/vaccine-supply/lots/999999/trace'), 404)).toMatch(/not registered/);
  });
});
