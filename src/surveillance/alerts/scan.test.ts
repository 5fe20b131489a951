/**
 * The daily space-time scan (issue #18 item 4): clusters over the registry's streets from
 * signal_count, stored per (signal, run day) idempotently, evidence of the signal's own source in
 * fusion, and listed by GET /api/surveillance/scan-clusters with area names; bad geography (no
 * centroid, a single area) said, never raised.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { addDays } from '../../shared/dates.js';
import { loadSurveillanceConfig } from '../config.js';
import { createRng, stPermScan } from '../detectors/st-perm-scan.js';
import { loadDistrictGeographyJson } from '../geography.js';
import type { ScanClusterPage } from '../scan-routes.js';
import { fuseDays } from './fusion.js';
import {
  DEFAULT_SCAN_CONFIG,
  loadScanConfig,
  parseScanConfig,
  runScan,
  scanAreaCounts,
  scanEvidence,
  scanSeed,
  type ScanArea,
  type ScanConfig,
} from './scan.js';

const RUN_DAY = '2025-06-30';

function poisson(mean: number, rng: () => number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > l) {
    k++;
    p *= rng();
  }
  return k;
}

/** 6 × 6 streets about 1 km apart; counts over `days` days; 3 extra a day in the first `plant` areas near the middle on the last 3 days. */
function district(days: number, plant: number, seed = 4) {
  const rng = createRng(seed);
  const areas: ScanArea[] = [];
  for (let k = 0; k < 36; k++)
    areas.push({
      code: `339902${String(k + 1).padStart(3, '0')}000`,
      centroid: [120 + 0.0104 * ((k % 6) + 0.3 * (rng() - 0.5)), 30 + 0.009 * (Math.floor(k / 6) + 0.3 * (rng() - 0.5))],
    });
  const counts = new Map<string, number[]>();
  for (const a of areas) {
    const rate = 0.3 + rng();
    counts.set(
      a.code,
      Array.from({ length: days }, (_, d) => poisson(rate * (d % 7 >= 5 ? 0.6 : 1.15), rng)),
    );
  }
  const mid = areas[14]!;
  const dist = (a: ScanArea) => Math.hypot(a.centroid![0] - mid.centroid![0], a.centroid![1] - mid.centroid![1]);
  const planted = [...areas]
    .sort((a, b) => dist(a) - dist(b))
    .slice(0, plant)
    .map((a) => a.code);
  for (const code of planted) for (let d = days - 3; d < days; d++) counts.get(code)![d]! += 3;
  return { areas, counts, planted };
}

const FAST: ScanConfig = { ...DEFAULT_SCAN_CONFIG, studyDays: 120, replications: 199 };

describe('scanAreaCounts (pure)', () => {
  it('finds a planted cluster of neighbouring areas on the last days, and gives the same answer for the same seed', () => {
    const d = district(120, 3);
    const input = { signal: 'syndrome:diarrhoea', runDay: RUN_DAY, areas: d.areas, counts: d.counts, config: FAST };
    const r = scanAreaCounts(input);
    const top = r.clusters[0]!;
    expect(top.p).toBeLessThanOrEqual(0.01);
    expect(top.rank).toBe(1);
    expect(top.areas.map((a) => a.code)).toEqual(expect.arrayContaining(d.planted));
    expect(top.areas.length).toBeLessThanOrEqual(FAST.maxAreas);
    expect(top.endDay).toBe(RUN_DAY);
    expect(top.startDay >= addDays(RUN_DAY, -6)).toBe(true);
    // The areas' own counts add up to the cluster's.
    expect(top.areas.reduce((s, a) => s + a.observed, 0)).toBe(top.observed);
    expect(top.areas.reduce((s, a) => s + a.expected, 0)).toBeCloseTo(top.expected, 9);
    for (const c of r.clusters) {
      expect(c.p).toBeLessThanOrEqual(FAST.alpha);
      expect(c.evidence).toBe(c.p <= FAST.evidenceAlpha);
    }
    expect(top.evidence).toBe(true);
    const again = scanAreaCounts(input);
    expect({ ...again, ms: 0 }).toEqual({ ...r, ms: 0 });
    expect(r.seed).toBe(scanSeed(FAST.seed, 'syndrome:diarrhoea', RUN_DAY));
    expect(scanSeed(FAST.seed, 'syndrome:diarrhoea', '2025-07-01')).not.toBe(r.seed);
  });

  it('finds nothing significant in data without an outbreak (usually)', () => {
    let significant = 0;
    for (let s = 1; s <= 4; s++) {
      const d = district(120, 0, 100 + s);
      significant += scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: d.areas, counts: d.counts, config: { ...FAST, alpha: 0.01 } })
        .clusters.length;
    }
    expect(significant).toBeLessThanOrEqual(1);
  });

  it('skips areas without a centroid with a note and leaves their cases out, naming them', () => {
    const d = district(120, 3);
    const areas = d.areas.map((a, i) => (i === 0 ? { ...a, centroid: null } : a));
    const r = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas, counts: d.counts, config: FAST });
    expect(r.areas).toBe(35);
    expect(r.messages.join(' ')).toMatch(/1 area\(s\) without a centroid skipped: 339902001000/);
    expect(r.messages.join(' ')).toMatch(/case\(s\) in area\(s\) not on the map left out: 339902001000/);
    expect(r.clusters[0]!.areas.map((a) => a.code)).toEqual(expect.arrayContaining(d.planted));
  });

  it('answers a single area, no area, too few cases and no recent case with a message and no cluster', () => {
    const d = district(120, 3);
    const one = d.areas.slice(0, 1);
    const r1 = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: one, counts: d.counts, config: FAST });
    expect(r1.clusters).toEqual([]);
    expect(r1.messages.join(' ')).toMatch(/1 area\(s\) with a centroid at street level: no scan possible/);
    const r0 = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: [], counts: new Map(), config: FAST });
    expect(r0.messages.join(' ')).toMatch(/no scan possible/);
    const few = new Map([[d.areas[0]!.code, [...new Array<number>(119).fill(0), 5]]]);
    const r2 = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: d.areas, counts: few, config: FAST });
    expect(r2.messages.join(' ')).toMatch(/5 case\(s\) in the 120-day study period, fewer than 20: not scanned/);
    const old = new Map([[d.areas[0]!.code, [...new Array<number>(100).fill(1), ...new Array<number>(20).fill(0)]]]);
    const r3 = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: d.areas, counts: old, config: FAST });
    expect(r3.messages.join(' ')).toMatch(/no case in the last 7 day\(s\)/);
    // All cases in one area: no circle may hold more than half of them.
    const lone = new Map([[d.areas[0]!.code, new Array<number>(120).fill(1)]]);
    const r4 = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: d.areas, counts: lone, config: FAST });
    expect(r4.clusters).toEqual([]);
  });

  it('caps a cluster at maxAreas nearest neighbours', () => {
    const d = district(120, 8);
    const r = scanAreaCounts({ signal: 'x', runDay: RUN_DAY, areas: d.areas, counts: d.counts, config: { ...FAST, maxAreas: 4 } });
    expect(r.clusters.length).toBeGreaterThan(0);
    for (const c of r.clusters) expect(c.areas.length).toBeLessThanOrEqual(4);
    const direct = stPermScan({
      areas: d.areas.map((a) => ({ code: a.code, x: a.centroid![0], y: a.centroid![1] })),
      counts: d.areas.map((a) => [...d.counts.get(a.code)!]),
      endDay: 119,
      maxAreas: 2,
      replications: 9,
    });
    for (const c of direct.clusters) expect(c.areas.length).toBeLessThanOrEqual(2);
    expect(() => stPermScan({ areas: d.areas.map((a) => ({ code: a.code, x: 0, y: 0 })), counts: [], endDay: 1, maxAreas: 0 })).toThrow(
      /maxAreas/,
    );
  });

  it('reads its settings from fusion.json and refuses bad ones naming the field', () => {
    expect(loadScanConfig()).toMatchObject({ level: 'street', studyDays: 365, maxWindowDays: 7, replications: 999, minCases: 20 });
    expect(parseScanConfig(undefined)).toEqual(DEFAULT_SCAN_CONFIG);
    expect(() => parseScanConfig({ replications: 0 })).toThrow(/scan\.replications/);
    expect(() => parseScanConfig({ level: 'district' })).toThrow(/scan\.level/);
    expect(() => parseScanConfig({ radius: 3 })).toThrow(/radius/);
    expect(() => parseScanConfig({ studyDays: 30, maxWindowDays: 30 })).toThrow(/maxWindowDays/);
    expect(() => parseScanConfig({ alpha: 0.01, evidenceAlpha: 0.05 })).toThrow(/evidenceAlpha/);
  });
});

describeEachStore('space-time scan job', (server) => {
  const cfg = loadSurveillanceConfig();
  const d = district(120, 3);
  const SIGNAL = 'syndrome:diarrhoea';

  beforeAll(async () => {
    const db = server().db;
    await loadDistrictGeographyJson(db, {
      district: { code: '339902', name: '望川区' },
      streets: [
        ...d.areas.map((a, i) => ({ code: a.code, name: `街道${i + 1}`, centroid: a.centroid! })),
        // A street with no geometry at all: skipped with a note.
        { code: '339902099000', name: '无边界街道' },
      ],
    });
    // Counts at community level (12 digits; the street is the first 9 + '000').
    const rows: { signal: string; day: string; area: string; n: number }[] = [];
    for (const a of d.areas)
      d.counts.get(a.code)!.forEach((n, i) => {
        if (n) rows.push({ signal: SIGNAL, day: addDays(RUN_DAY, i - 119), area: `${a.code.slice(0, 9)}001`, n });
      });
    rows.push({ signal: SIGNAL, day: RUN_DAY, area: '339902099001', n: 2 });
    // A signal with too few cases, and a sentinel series (excluded).
    rows.push({ signal: 'lab:norovirus', day: RUN_DAY, area: `${d.areas[3]!.code.slice(0, 9)}002`, n: 3 });
    rows.push({ signal: 'sentinel:fever:S1', day: RUN_DAY, area: `${d.areas[3]!.code.slice(0, 9)}002`, n: 30 });
    await db.query(
      `INSERT INTO signal_count (signal, day, area_code, n) SELECT s, d, a, n FROM json_to_recordset($1::json) AS x(s text, d date, a text, n int)`,
      [JSON.stringify(rows.map((r) => ({ s: r.signal, d: r.day, a: r.area, n: r.n })))],
    );
  });

  const config: ScanConfig = { ...DEFAULT_SCAN_CONFIG, studyDays: 120, replications: 199 };

  it('scans each signal with enough counts, stores its significant clusters, and is idempotent per (signal, run day)', async () => {
    const db = server().db;
    const run = await runScan(db, cfg.signals, { day: RUN_DAY, config });
    expect(run.skippedAreas).toEqual(['339902099000']);
    expect(run.signals.map((s) => s.signal).sort()).toEqual(['lab:norovirus', SIGNAL]);
    const diarrhoea = run.signals.find((s) => s.signal === SIGNAL)!;
    expect(diarrhoea.clusters[0]!.areas.map((a) => a.code)).toEqual(expect.arrayContaining(d.planted));
    expect(diarrhoea.messages.join(' ')).toMatch(/without a centroid skipped: 339902099000/);
    expect(run.signals.find((s) => s.signal === 'lab:norovirus')!.messages.join(' ')).toMatch(/fewer than 20/);
    const stored = async () =>
      (
        await db.query<{ rank: number; area_codes: string[]; p_value: number; source: string; seed: string }>(
          'SELECT rank, area_codes, p_value, source, seed FROM surv_scan_cluster WHERE signal = $1 AND run_day = $2 ORDER BY rank',
          [SIGNAL, RUN_DAY],
        )
      ).rows;
    const first = await stored();
    expect(first.length).toBe(diarrhoea.clusters.length);
    expect(first[0]).toMatchObject({ rank: 1, source: 'clinic-syndrome' });
    await runScan(db, cfg.signals, { day: RUN_DAY, config });
    expect(await stored()).toEqual(first);
    const runs = await db.query<{ signal: string; clusters: number; messages: string[] }>(
      'SELECT signal, clusters, messages FROM surv_scan_run WHERE run_day = $1 ORDER BY signal',
      [RUN_DAY],
    );
    expect(runs.rows.map((r) => r.signal)).toEqual(['lab:norovirus', SIGNAL]);
    // Counts corrected away: the re-run clears the signal's clusters of that day.
    await db.query(
      `INSERT INTO surv_scan_cluster (signal, run_day, rank, source, area_level, center_code, area_codes, area_observed, area_expected,
         start_day, end_day, observed, expected, llr, p_value, evidence, replications, seed, total_cases, study_days)
       VALUES ('syndrome:encephalitis', $1, 1, 'clinic-syndrome', 'street', $2, ARRAY[$2], '{5}', '{1}', $1, $1, 5, 1, 4, 0.001, true, 199, 1, 40, 120)`,
      [RUN_DAY, d.areas[5]!.code],
    );
    await runScan(db, cfg.signals, { day: RUN_DAY, config });
    const left = await db.query('SELECT 1 FROM surv_scan_cluster WHERE signal = $1 AND run_day = $2', ['syndrome:encephalitis', RUN_DAY]);
    expect(left.rows).toEqual([]);
    expect(await stored()).toEqual(first);
  });

  it('lists clusters with area codes and names, paged with the total, and refuses a bad query naming the field', async () => {
    const res = await server().api(`/api/surveillance/scan-clusters?from=${RUN_DAY}&to=${RUN_DAY}&signal=${SIGNAL}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as ScanClusterPage;
    expect(page.total).toBeGreaterThanOrEqual(1);
    const top = page.rows[0]!;
    expect(top).toMatchObject({ signal: SIGNAL, runDay: RUN_DAY, rank: 1, source: 'clinic-syndrome', areaLevel: 'street' });
    expect(top.label).not.toBe('');
    expect(top.areas.map((a) => a.code)).toEqual(expect.arrayContaining(d.planted));
    expect(top.areas.every((a) => /^街道\d+$/.test(a.name))).toBe(true);
    expect(top.center.name).toMatch(/^街道\d+$/);
    expect(top.p).toBeLessThanOrEqual(0.05);
    expect(top.evidence).toBe(top.p <= 0.01);
    const paged = (await (await server().api(`/api/surveillance/scan-clusters?limit=1&offset=0`)).json()) as ScanClusterPage;
    expect(paged.rows.length).toBe(1);
    expect(paged.total).toBe(page.total);
    const none = (await (await server().api(`/api/surveillance/scan-clusters?from=2024-01-01&to=2024-01-31`)).json()) as ScanClusterPage;
    expect(none).toMatchObject({ total: 0, rows: [] });
    const bad = await server().api('/api/surveillance/scan-clusters?from=2025-13-01');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('from');
    const reversed = await server().api('/api/surveillance/scan-clusters?from=2025-07-01&to=2025-06-01');
    expect(reversed.status).toBe(400);
    expect(JSON.stringify(await reversed.json())).toContain('from must not be after to');
  });

  it('is evidence of the signal’s own source in fusion: alone no alert, with another source’s alarm an orange one', async () => {
    const db = server().db;
    // A listed cluster above evidenceAlpha (0.01) is not evidence.
    await db.query(
      `INSERT INTO surv_scan_cluster (signal, run_day, rank, source, area_level, center_code, area_codes, area_observed, area_expected,
         start_day, end_day, observed, expected, llr, p_value, evidence, replications, seed, total_cases, study_days)
       VALUES ('syndrome:fever_rash', $1, 1, 'clinic-syndrome', 'street', $2, ARRAY[$2], '{5}', '{1}', $1, $1, 5, 1, 4, 0.03, false, 199, 1, 40, 120)`,
      [RUN_DAY, d.areas[20]!.code],
    );
    const evidence = await scanEvidence(db, RUN_DAY, RUN_DAY);
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.some((e) => e.signal === 'scan:syndrome:fever_rash')).toBe(false);
    expect(evidence[0]).toMatchObject({ signal: `scan:${SIGNAL}`, source: 'clinic-syndrome', method: 'stPermScan', day: RUN_DAY });
    const alone = await fuseDays(db, cfg.fusion, { from: RUN_DAY, to: RUN_DAY });
    expect(alone.created).toEqual([]);
    // A lab alarm in one of the cluster's streets on the same day: two sources agree (strongly
    // enough for fusion.json's events.raiseMaxJointP).
    const street = d.planted[0]!;
    await db.query(
      `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm)
       VALUES ('lab:norovirus', $1, $2, 'earsC', 'lab', 4, 2, 0.5, 0.0001, true)`,
      [street, RUN_DAY],
    );
    const fused = await fuseDays(db, cfg.fusion, { from: RUN_DAY, to: RUN_DAY, labels: (s) => (s === SIGNAL ? '腹泻' : s) });
    expect(fused.created.length).toBe(1);
    const alert = await db.query<{ level: string; sources: string[]; title: string; area_code: string }>(
      'SELECT level, sources, title, area_code FROM surv_alert WHERE id = $1',
      [fused.created[0]],
    );
    expect(alert.rows[0]).toMatchObject({ level: 'orange', sources: ['clinic-syndrome', 'lab'], area_code: street });
    expect(alert.rows[0]!.title).toContain('腹泻（时空聚集）');
    const ev = await db.query<{ signal: string; area_code: string; method: string }>(
      'SELECT signal, area_code, method FROM surv_alert_evidence WHERE alert_id = $1 ORDER BY signal, area_code',
      [fused.created[0]],
    );
    expect([...new Set(ev.rows.map((r) => r.signal))]).toEqual(['lab:norovirus', `scan:${SIGNAL}`]);
    // The cluster's street opened it; its other streets in the district joined it (spatial join on the same signal).
    const scanRows = ev.rows.filter((r) => r.signal === `scan:${SIGNAL}`);
    expect(scanRows.map((r) => r.area_code)).toContain(street);
    const clusterAreas = new Set(evidence.map((e) => e.areaCode));
    for (const r of scanRows) {
      expect(clusterAreas.has(r.area_code)).toBe(true);
      expect(r.method).toBe('stPermScan');
    }
  });
});
