/**
 * The cold chain (issue #22, figures: 500 sensors reporting every minute over MQTT stored with
 * < 1 s lag and no reading lost across a broker restart; excursion → the list of affected
 * residents in < 10 s for a district of 1,000,000 residents and 3 years of immunizations).
 * Against the local Mosquitto broker (YIFANG_MQTT_URL or mqtt://127.0.0.1:1883), per store:
 *   - steady: S sensors × 1 reading/s for D s (a much higher rate than the figure's 500 a minute),
 *     the lag from publish to commit, per reading;
 *   - burst: N readings published at once; readings/s from the first publish to the last commit,
 *     beside the ceiling: the same rows by a plain multi-row INSERT and by COPY;
 *   - away: the subscriber stopped, readings published, the subscriber back (persistent session,
 *     QoS 1): how many arrive (the broker itself is shared and is not restarted);
 *   - excursion → alarm: a freezing reading published, the time until its alarm row is committed;
 *   - recall: vs_dose seeded with 3 years of doses (1,000,000 residents; --quick: 200,000) and one
 *     fridge's lots, the excursion's detail and the first page of its recall list.
 *
 *   node --import tsx bench/cold-chain.bench.ts [--quick] [--sensors 100] [--seconds 20] [--burst 20000]
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { freshDatabase, prepareTemplates, storeKinds, useProductCache } from '../src/app/test-stores.js';
import { FhirRepository } from '../src/fhir/repository.js';
import type { Database } from '../src/platform/db.js';
import {
  ColdChainSubscriber,
  excursionDetail,
  ingestReadings,
  loadSettings,
  recall,
  type IncomingReading,
  type SupplySettings,
} from '../src/vaccine-supply/index.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BROKER = process.env.YIFANG_MQTT_URL || 'mqtt://127.0.0.1:1883';

async function seedSensors(db: Database, n: number, prefix: string): Promise<string[]> {
  const now = new Date();
  await db.query(
    `INSERT INTO vs_clinic (code, name, kind, created_at) VALUES ('BENCH', 'bench clinic', 'clinic', $1) ON CONFLICT DO NOTHING`,
    [now],
  );
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await db.query(
    `INSERT INTO vs_fridge (id, clinic_code, kind, name, created_at) SELECT 'F-' || s, 'BENCH', 'fridge', 'fridge ' || s, $2 FROM unnest($1::text[]) s`,
    [ids, now],
  );
  await db.query(`INSERT INTO vs_sensor (id, fridge_id, created_at) SELECT s, 'F-' || s, $2 FROM unnest($1::text[]) s`, [ids, now]);
  return ids;
}

interface Run {
  sub: ColdChainSubscriber;
  lags: number[];
  stored: () => number;
  alarmsAt: Map<string, number>;
}

/** A subscriber that records, per stored reading, the lag since its publish. */
async function subscribe(
  db: Database,
  settings: SupplySettings,
  topicPrefix: string,
  clientId: string,
  sent: Map<string, number>,
): Promise<Run> {
  const lags: number[] = [];
  const alarmsAt = new Map<string, number>();
  let stored = 0;
  const sub = new ColdChainSubscriber({
    url: BROKER,
    settings: { ...settings.mqtt, topic: `${topicPrefix}/{sensorId}/temperature`, clientId },
    log: () => undefined,
    async store(batch: IncomingReading[], bad) {
      const answer = await ingestReadings(db, settings.rules, batch, new Date(), bad);
      const done = performance.now();
      stored += answer.stored;
      for (const r of batch) {
        const t = sent.get(`${r.sensorId}\t${r.at.getTime()}`);
        if (t !== undefined) lags.push(done - t);
      }
      if (answer.alarms.length) for (const r of batch) if (r.celsius <= settings.rules.freezingCelsius) alarmsAt.set(r.sensorId, done);
    },
  });
  await sub.start();
  return { sub, lags, stored: () => stored, alarmsAt };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) return false;
    await sleep(5);
  }
  return true;
}

/** Forgets the broker's persistent session of a client id. */
async function dropSession(clientId: string) {
  const c = await mqtt.connectAsync(BROKER, { clientId, clean: true });
  await c.endAsync();
}

async function seedDoses(db: Database, residents: number, years: number) {
  // 3 doses per resident over `years` (a district's routine and adult programmes), 2,000 lots of
  // 1,500 doses each; one fridge held lots 1–6 when its excursion began.
  const total = residents * 3;
  const now = Date.now();
  const start = now - years * 365 * 86_400_000;
  await db.query(
    `INSERT INTO vs_lot (vaccine_code, lot_number, lot_key, expiry, created_at)
     SELECT 'V' || (i % 20), 'L' || i, 'L' || i, current_date + 400, now() FROM generate_series(1, 2000) i`,
  );
  await db.query(
    `INSERT INTO vs_fridge (id, clinic_code, kind, name, created_at) VALUES ('F-RECALL', 'BENCH', 'fridge', 'recall fridge', now())`,
  );
  await db.query(`INSERT INTO vs_sensor (id, fridge_id, created_at) VALUES ('S-RECALL', 'F-RECALL', now())`);
  const lotIds = (await db.query<{ id: number }>(`SELECT id::int AS id FROM vs_lot ORDER BY id LIMIT 2000`)).rows.map((r) => r.id);
  // Doses run through the lots in time order, 1,500 a lot: the fridge's lots are those in use when the excursion began.
  const exStart = new Date(now - 20 * 86_400_000);
  const atStart = Math.floor((total * (exStart.getTime() - start)) / (now - start));
  const first = Math.floor(atStart / 1500) % 2000;
  for (let k = 0; k < 6; k++)
    await db.query(
      `INSERT INTO vs_movement (kind, clinic_code, lot_id, fridge_id, quantity, at, recorded_at, recorded_by)
       VALUES ('receipt', 'BENCH', $1, 'F-RECALL', 1500, $2, now(), 'bench')`,
      [lotIds[(first + k) % 2000], new Date(exStart.getTime() - 10 * 86_400_000)],
    );
  const chunk = 200_000;
  for (let off = 0; off < total; off += chunk) {
    const n = Math.min(chunk, total - off);
    await db.query(
      `INSERT INTO vs_dose (immunization_id, patient_id, status, vaccine_code, lot_number, lot_key, lot_id, clinic_code, given_at, updated_at)
       SELECT 'imm-' || i, 'pat-' || (i % $2), 'completed', 'V' || (l % 20), 'L' || l, 'L' || l, ($5::bigint[])[l], 'BENCH',
              to_timestamp(($3::float8 + (i::float8 / $4) * ($6::float8 - $3)) / 1000), now()
       FROM generate_series($1::int, $1::int + ${n - 1}) i, LATERAL (SELECT 1 + (i / 1500) % 2000 AS l) x`,
      [off, residents, start, total, lotIds, now],
    );
  }
  await db.query('ANALYZE vs_dose');
  await db.query('ANALYZE vs_movement');
  const ex = await db.query<{ id: number }>(
    `INSERT INTO vs_excursion (sensor_id, fridge_id, clinic_code, kind, started_at, ended_at, min_celsius, max_celsius, outside_seconds, detected_at)
     VALUES ('S-RECALL', 'F-RECALL', 'BENCH', 'warm', $1, $2, 9, 12, 3600, $2) RETURNING id::int AS id`,
    [exStart, new Date(exStart.getTime() + 3_600_000)],
  );
  return { total, excursionId: ex.rows[0]!.id };
}

export async function runColdChainBench(argv: string[] = process.argv.slice(2)): Promise<void> {
  const quick = argv.includes('--quick');
  const sensors = Number(arg(argv, 'sensors', quick ? '100' : '500'));
  const seconds = Number(arg(argv, 'seconds', quick ? '10' : '30'));
  const burst = Number(arg(argv, 'burst', quick ? '5000' : '20000'));
  const residents = Number(arg(argv, 'residents', quick ? '200000' : '1000000'));
  const settings = loadSettings();
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  const ceilings: Record<string, string | number>[] = [];
  const recalls: Record<string, string | number>[] = [];
  for (const kind of storeKinds()) {
    const db = await freshDatabase(kind);
    const run = randomUUID().slice(0, 8);
    const prefix = `yifang-bench-${run}/coldchain`;
    const clientId = `yifang-bench-${run}`;
    const sent = new Map<string, number>();
    const pub = await mqtt.connectAsync(BROKER, { clientId: `${clientId}-pub` });
    try {
      const ids = await seedSensors(db, sensors, `S${run}`);
      let r = await subscribe(db, settings, prefix, clientId, sent);
      const publish = async (sensorId: string, at: Date, t: number) => {
        sent.set(`${sensorId}\t${at.getTime()}`, performance.now());
        return pub.publishAsync(`${prefix}/${sensorId}/temperature`, JSON.stringify({ t, at: at.toISOString() }), { qos: 1 });
      };

      // Steady: every sensor once a second, spread over the second.
      const base = Date.now() - (seconds + 120) * 1000;
      const t0 = performance.now();
      for (let s = 0; s < seconds; s++) {
        const tick = performance.now();
        await Promise.all(ids.map((id, k) => sleep((k * 1000) / ids.length).then(() => publish(id, new Date(base + s * 1000 + k), 5))));
        await sleep(Math.max(0, 1000 - (performance.now() - tick)));
      }
      const steadyN = seconds * ids.length;
      await waitFor(() => r.stored() >= steadyN, 30_000);
      const steadyLags = [...r.lags].sort((a, b) => a - b);
      const steadyS = (performance.now() - t0) / 1000;

      // Burst: N readings at once.
      r.lags.length = 0;
      const before = r.stored();
      const b0 = performance.now();
      const burstBase = base + seconds * 1000 + 10_000;
      // Published in chunks of 250, each awaited (QoS 1): the broker queues at most max_queued_messages
      // (1000 by default in Mosquitto) per subscriber beyond those in flight, and drops the rest.
      for (let k = 0; k < burst; k += 250)
        await Promise.all(
          Array.from({ length: Math.min(250, burst - k) }, (_, j) => {
            const i = k + j;
            return publish(ids[i % ids.length]!, new Date(burstBase + Math.floor(i / ids.length) * 1000 + (i % 1000)), 5);
          }),
        );
      const burstOk = await waitFor(() => r.stored() - before >= burst, 120_000);
      const burstMs = performance.now() - b0;
      const burstStored = r.stored() - before;
      const burstLags = [...r.lags].sort((a, b) => a - b);

      // Away: the subscriber stops (its session stays at the broker), readings are published, it comes back.
      await r.sub.stop();
      // Below Mosquitto's default max_queued_messages (1000): beyond it the broker drops (raise it in production).
      const awayN = Math.min(900, ids.length * 10);
      const awayBase = burstBase + Math.ceil(burst / ids.length) * 1000 + 10_000;
      await Promise.all(
        Array.from({ length: awayN }, (_, i) => publish(ids[i % ids.length]!, new Date(awayBase + Math.floor(i / ids.length) * 1000), 5)),
      );
      const back = await subscribe(db, settings, prefix, clientId, sent);
      await waitFor(() => back.stored() >= awayN, 30_000);
      const awayStored = back.stored();
      r = back;

      // Excursion → alarm: a freezing reading for 20 sensors, one at a time.
      const alarmMs: number[] = [];
      for (const id of ids.slice(0, 20)) {
        const at = new Date();
        const p0 = performance.now();
        await publish(id, at, -1.5);
        await waitFor(() => r.alarmsAt.has(id), 10_000);
        const got = r.alarmsAt.get(id);
        if (got !== undefined) alarmMs.push(got - p0);
      }
      alarmMs.sort((a, b) => a - b);
      await r.sub.stop();
      await dropSession(clientId);
      const alarms = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM vs_alarm WHERE kind = 'freezing'`)).rows[0]!.n);

      const lagP99 = percentile(steadyLags, 99);
      rows.push({
        store: kind,
        [`steady ${ids.length} sensors × 1/s × ${seconds} s`]: `${steadyN} in ${steadyS.toFixed(1)} s`,
        'lag p50/p99/max ms': `${percentile(steadyLags, 50).toFixed(0)}/${lagP99.toFixed(0)}/${(steadyLags.at(-1) ?? NaN).toFixed(0)}`,
        [`burst of ${burst}`]: `${((burst / burstMs) * 1000).toFixed(0)} readings/s, ${burstStored} stored${burstOk ? '' : ' (NOT all)'}`,
        'burst lag p50/max ms': `${percentile(burstLags, 50).toFixed(0)}/${(burstLags.at(-1) ?? NaN).toFixed(0)}`,
        'published while away → stored': `${awayN} → ${awayStored}`,
        'freezing reading → alarm p50/max ms (n=20)': `${percentile(alarmMs, 50).toFixed(0)}/${(alarmMs.at(-1) ?? NaN).toFixed(0)} (${alarms} alarms)`,
        'lag < 1 s (500 sensors/min)': lagP99 < 1000 ? 'met' : 'NOT met',
        'nothing lost while away': awayStored >= awayN ? 'met' : 'NOT met',
      });

      // The ceiling: the same number of rows as the burst, by a plain INSERT of 500-row batches and by COPY.
      const ceilIds = ids;
      const mk = (offset: number) =>
        Array.from({ length: burst }, (_, i) => ({
          sensorId: ceilIds[i % ceilIds.length]!,
          at: new Date(offset + Math.floor(i / ceilIds.length) * 1000 + (i % 1000)),
          celsius: 5,
        }));
      const insRows = mk(awayBase + 10_000_000);
      const i0 = performance.now();
      for (let k = 0; k < insRows.length; k += 500) {
        const part = insRows.slice(k, k + 500);
        await db.query(
          `INSERT INTO vs_reading (sensor_id, at, celsius, received_at) SELECT s, a, t, now() FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) u(s, a, t)`,
          [part.map((x) => x.sensorId), part.map((x) => x.at), part.map((x) => x.celsius)],
        );
      }
      const insMs = performance.now() - i0;
      const copyRows = mk(awayBase + 20_000_000);
      const text = copyRows.map((x) => `${x.sensorId}\t${x.at.toISOString()}\t${x.celsius}\t${new Date().toISOString()}`).join('\n') + '\n';
      const c0 = performance.now();
      await db.transaction((c) => db.copyFrom(c, 'vs_reading', ['sensor_id', 'at', 'celsius', 'received_at'], text));
      const copyMs = performance.now() - c0;
      ceilings.push({
        store: kind,
        rows: burst,
        'over MQTT (detector, batches) readings/s': burstOk ? ((burst / burstMs) * 1000).toFixed(0) : '—',
        'INSERT unnest ×500 readings/s': ((burst / insMs) * 1000).toFixed(0),
        'COPY readings/s': ((burst / copyMs) * 1000).toFixed(0),
      });

      // Recall at district scale.
      const s0 = performance.now();
      const { total, excursionId } = await seedDoses(db, residents, 3);
      const seedS = (performance.now() - s0) / 1000;
      const deps = { db, repo: new FhirRepository(db), settings };
      const times: number[] = [];
      let found = 0;
      let lotsN = 0;
      for (let k = 0; k < 3; k++) {
        const q0 = performance.now();
        const d = await excursionDetail(deps, excursionId);
        const page = await recall(deps, excursionId, { limit: 100, offset: 0 });
        times.push(performance.now() - q0);
        found = page.total;
        lotsN = d.lots.length;
      }
      times.sort((a, b) => a - b);
      recalls.push({
        store: kind,
        'doses (residents)': `${total.toLocaleString('en')} (${residents.toLocaleString('en')})`,
        'seeded in s': seedS.toFixed(0),
        'lots in the fridge': lotsN,
        'residents to recall': found,
        'detail + first page ms (best/worst of 3)': `${times[0]!.toFixed(0)}/${times.at(-1)!.toFixed(0)}`,
        'excursion → list < 10 s': times.at(-1)! < 10_000 ? 'met' : 'NOT met',
      });
    } finally {
      await pub.endAsync().catch(() => undefined);
      await db.dispose();
    }
  }
  printTable(`Cold chain over MQTT (${BROKER}): publish → commit, excursion → alarm; target: 500 sensors a minute with < 1 s lag`, rows);
  printTable(`Ingest rate beside the ceiling (the same rows into vs_reading)`, ceilings);
  printTable(`Excursion → recall list (3 years of doses; target < 10 s at 1,000,000 residents)`, recalls);
}

if (import.meta.url === `file://${process.argv[1]}`) await runColdChainBench();
