/**
 * Fusion's spatial join on the registry's map: a statistical alarm joins an open alert of its
 * own street or a neighbouring one (boundaries touching), never one across the district; a
 * district-level alarm forms alerts of its own; a fixed-threshold disease keeps one alert per
 * district; the district-wide join of before stays available to compare with. Alarms of one
 * syndrome group are one event (fusion.json events.groups), and agreeing sources are raised only
 * at a joint p within events.raiseMaxJointP (1e-4): pairs of alarms below use p = 0.001 each
 * (Fisher joint p 1.5e-5) where an alert must open — before the gate they used 0.01 (joint
 * p 1.1e-3, now recorded, not raised).
 */
import { expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { loadSurveillanceConfig } from '../config.js';
import { loadDistrictGeographyJson } from '../geography.js';
import { fuseDays, loadAreaNeighbours } from './fusion.js';

const square = (x: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, 30],
      [x + 0.02, 30],
      [x + 0.02, 30.02],
      [x, 30.02],
      [x, 30],
    ],
  ],
});
// A row of streets 1–2–3, and street 9 apart.
const STREETS = [
  { code: '339902001000', x: 120 },
  { code: '339902002000', x: 120.02 },
  { code: '339902003000', x: 120.04 },
  { code: '339902009000', x: 120.3 },
];

describeEachStore('spatial join', (server) => {
  const fusion = loadSurveillanceConfig().fusion;
  const ins = (signal: string, source: string, area: string, day: string, p: number, method = 'earsC') =>
    server().db.query(
      `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm) VALUES ($1, $2, $3, $4, $5, 5, 3, 1, $6, true)`,
      [signal, area, day, method, source, p],
    );
  const evidenceAreas = async (id: number) =>
    (
      await server().db.query<{ area_code: string }>('SELECT DISTINCT area_code FROM surv_alert_evidence WHERE alert_id = $1 ORDER BY 1', [
        id,
      ])
    ).rows.map((r) => r.area_code);
  const clear = () => server().db.query('TRUNCATE surv_alert, surv_alert_evidence, surv_alert_event, surv_detection CASCADE');

  it('reads the neighbours from the registry: streets whose boundaries touch', async () => {
    await loadDistrictGeographyJson(server().db, {
      district: { code: '339902', name: '望川区' },
      streets: STREETS.map((s) => ({
        code: s.code,
        name: `街道${s.code.slice(6, 9)}`,
        polygon: square(s.x),
        centroid: [s.x + 0.01, 30.01],
      })),
      communities: [],
    });
    const n = await loadAreaNeighbours(server().db, 'street');
    expect([...n.get('339902002000')!].sort()).toEqual(['339902001000', '339902003000']);
    expect([...n.get('339902001000')!]).toEqual(['339902002000']);
    expect([...n.get('339902009000')!]).toEqual([]);
  });

  it('joins the same signal of a neighbouring street, not of streets farther away', async () => {
    await clear();
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-06-01', 0.001);
    await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-06-01', 0.001);
    // Next day the same syndrome in the neighbour (2), two streets away (3) and across the district (9).
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902002000', '2026-06-02', 0.02);
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902003000', '2026-06-02', 0.02);
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902009000', '2026-06-02', 0.02);
    const r = await fuseDays(server().db, fusion, { from: '2026-06-01', to: '2026-06-02' });
    expect(r.created).toHaveLength(1); // the lone alarms of 3 and 9 are no alert of their own
    expect(await evidenceAreas(r.created[0]!)).toEqual(['339902001000', '339902002000']);
    const ev = await server().db.query<{ reason: string }>(
      `SELECT reason FROM surv_alert_event WHERE alert_id = $1 AND action = 'evidence'`,
      [r.created[0]],
    );
    expect(ev.rows.map((e) => e.reason)).toEqual(['1 new signal(s) from 339902002000']);

    // The district-wide join of before gathers all four streets into the one alert.
    await clear();
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-06-01', 0.001);
    await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-06-01', 0.001);
    for (const s of ['339902002000', '339902003000', '339902009000'])
      await ins('syndrome:diarrhoea', 'clinic-syndrome', s, '2026-06-02', 0.02);
    const wide = await fuseDays(server().db, fusion, { from: '2026-06-01', to: '2026-06-02', spatialJoinScope: 'district' });
    expect(wide.created).toHaveLength(1);
    expect(await evidenceAreas(wide.created[0]!)).toEqual(['339902001000', '339902002000', '339902003000', '339902009000']);
  });

  it('opens an alert of its own where a far street has evidence enough, and keeps district-level evidence apart', async () => {
    await clear();
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-07-01', 0.001);
    await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-07-01', 0.001);
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902009000', '2026-07-02', 0.001);
    await ins('lab:NOV', 'lab', '339902009000', '2026-07-02', 0.001);
    // A district-level series (a detector run on the district's total) alarming on the same syndrome.
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902', '2026-07-02', 1e-6);
    const r = await fuseDays(server().db, fusion, { from: '2026-07-01', to: '2026-07-02' });
    expect(r.created).toHaveLength(3);
    const homes = await server().db.query<{ id: number; area_code: string; level: string }>(
      'SELECT id, area_code, level FROM surv_alert ORDER BY id',
    );
    expect(homes.rows.map((a) => [a.area_code, a.level])).toEqual([
      ['339902001000', 'orange'],
      ['339902000000', 'yellow'], // district-wide evidence: an alert whose place is the district
      ['339902009000', 'orange'],
    ]);
    expect(await evidenceAreas(homes.rows[0]!.id)).toEqual(['339902001000']);
    expect(await evidenceAreas(homes.rows[1]!.id)).toEqual(['339902']);
  });

  it('keeps one alert per fixed-threshold disease in the district, wherever its cases live', async () => {
    await clear();
    await ins('report:measles', 'case-report', '339902001000', '2026-08-01', 0.001, 'cidarsFixed');
    await ins('report:measles', 'case-report', '339902009000', '2026-08-05', 0.001, 'cidarsFixed');
    const r = await fuseDays(server().db, fusion, { from: '2026-08-01', to: '2026-08-05' });
    expect(r.created).toHaveLength(1);
    expect(r.updated).toEqual([r.created[0]]);
    expect(await evidenceAreas(r.created[0]!)).toEqual(['339902001000', '339902009000']);
  });

  it('raises agreeing sources only at a joint p within the gate; a weaker picture waits for more evidence', async () => {
    await clear();
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-09-01', 0.01);
    await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-09-01', 0.01);
    let r = await fuseDays(server().db, fusion, { from: '2026-09-01', to: '2026-09-01' });
    expect(r.created).toEqual([]); // two sources, joint p 1.1e-3: recorded, not raised
    // The same pair without the gate (fusion.json before 2026-12) was an orange alert.
    const ungated = { ...fusion, events: { raiseMaxJointP: 1 } } as typeof fusion;
    expect((await fuseDays(server().db, ungated, { from: '2026-09-01', to: '2026-09-01' })).created).toHaveLength(1);
    await clear();
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-09-01', 0.01);
    await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-09-01', 0.01);
    await fuseDays(server().db, fusion, { from: '2026-09-01', to: '2026-09-01' });
    // Next day a lab positive: three sources, joint p 1.5e-5 — raised, with the first day's alarms.
    await ins('lab:NOV-GII', 'lab', '339902001000', '2026-09-02', 0.001);
    r = await fuseDays(server().db, fusion, { from: '2026-09-02', to: '2026-09-02' });
    expect(r.created).toHaveLength(1);
    const a = await server().db.query<{ level: string; sources: string[]; first_evidence_day: string; trigger_day: string }>(
      'SELECT level, sources, first_evidence_day::text, trigger_day::text FROM surv_alert WHERE id = $1',
      [r.created[0]],
    );
    expect(a.rows[0]).toMatchObject({
      level: 'red',
      sources: ['case-report', 'clinic-syndrome', 'lab'],
      first_evidence_day: '2026-09-01',
      trigger_day: '2026-09-02',
    });
  });

  it('joins a neighbour’s alert with an alarm of the same syndrome group, not of another group', async () => {
    const open = async (cfg: typeof fusion) => {
      await clear();
      await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902001000', '2026-10-01', 0.001);
      await ins('report:otherDiarrhoea', 'case-report', '339902001000', '2026-10-01', 0.001);
      // Next door, next day: norovirus positives (the same event, another signal) …
      await ins('lab:NOV-GII', 'lab', '339902002000', '2026-10-02', 0.02);
      // … and two days later a respiratory syndrome alarm (another event).
      await ins('syndrome:fever_respiratory', 'clinic-syndrome', '339902002000', '2026-10-04', 0.02);
      return fuseDays(server().db, cfg, { from: '2026-10-01', to: '2026-10-04' });
    };
    const r = await open(fusion);
    expect(r.created).toHaveLength(1);
    expect(await evidenceAreas(r.created[0]!)).toEqual(['339902001000', '339902002000']);
    const ev = await server().db.query<{ signal: string }>('SELECT signal FROM surv_alert_evidence WHERE alert_id = $1 ORDER BY signal', [
      r.created[0],
    ]);
    expect(ev.rows.map((e) => e.signal)).toEqual(['lab:NOV-GII', 'report:otherDiarrhoea', 'syndrome:diarrhoea']);
    // Without groups (the join before 2026-12) only the very same signal joined: the lab alarm stays out.
    const before = await open({ ...fusion, events: { groups: {}, raiseMaxJointP: 1e-4 } } as typeof fusion);
    expect(before.created).toHaveLength(1);
    expect(await evidenceAreas(before.created[0]!)).toEqual(['339902001000']);
  });
});
