import { describe, expect, it } from 'vitest';
import { createRng, permuteCaseDays, stPermScan, type StArea, type StPermScanInput } from './st-perm-scan.js';
import { DetectorInputError } from './types.js';

/** Poisson variate by inversion (small means only). */
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

/** 5 × 5 grid of areas A00…A44 about one unit apart (jittered, so that distances do not tie). */
const areas: StArea[] = [];
for (let i = 0; i < 5; i++)
  for (let j = 0; j < 5; j++) {
    const k = 5 * i + j;
    areas.push({ code: `A${i}${j}`, x: i + 0.3 * Math.sin(1.7 * k), y: j + 0.3 * Math.cos(2.3 * k) });
  }
const dist = (a: StArea, b: StArea) => Math.hypot(a.x - b.x, a.y - b.y);
/** A22 and its two nearest neighbours. */
const centre = areas.find((a) => a.code === 'A22')!;
const planted = [...areas]
  .sort((a, b) => dist(a, centre) - dist(b, centre))
  .slice(0, 3)
  .map((a) => a.code);

/** 60 days of background cases: area rates 0.5–2 per day, a weekly rhythm, no space-time interaction. */
function background(seed: number): { area: string; day: number }[] {
  const rng = createRng(seed);
  const cases: { area: string; day: number }[] = [];
  areas.forEach((a, k) => {
    const rate = 0.5 + (1.5 * k) / (areas.length - 1);
    for (let day = 1; day <= 60; day++) {
      const weekly = day % 7 === 0 || day % 7 === 6 ? 0.6 : 1.15;
      const n = poisson(rate * weekly, rng);
      for (let c = 0; c < n; c++) cases.push({ area: a.code, day });
    }
  });
  return cases;
}

describe('space-time permutation scan (Kulldorff 2005)', () => {
  it('finds a planted cluster with p ≤ 0.01', () => {
    const cases = background(11);
    // Outbreak: 6 extra cases a day in A22 and its two nearest neighbours over the last 3 days (58–60).
    expect(planted[0]).toBe('A22');
    for (const code of planted) for (const day of [58, 59, 60]) for (let c = 0; c < 6; c++) cases.push({ area: code, day });
    const res = stPermScan({ areas, cases, endDay: 60, replications: 999, seed: 42 });
    const top = res.clusters[0]!;
    expect(top.p).toBeLessThanOrEqual(0.01);
    expect(top.recurrenceIntervalDays).toBeGreaterThanOrEqual(100);
    expect(top.areas).toEqual(expect.arrayContaining(planted));
    expect(top.areas.length).toBeLessThanOrEqual(5);
    expect(top.endDay).toBe(60);
    expect(top.startDay).toBeGreaterThanOrEqual(57);
    expect(top.observed).toBeGreaterThan(2 * top.expected);
    // llr formula check
    const C = res.totalCases;
    const c = top.observed;
    const mu = top.expected;
    expect(top.llr).toBeCloseTo(c * Math.log(c / mu) + (C - c) * Math.log((C - c) / (C - mu)), 9);
    // clusters are sorted and do not share areas
    for (let i = 1; i < res.clusters.length; i++) expect(res.clusters[i]!.llr).toBeLessThanOrEqual(res.clusters[i - 1]!.llr);
    const seen = new Set<string>();
    for (const cl of res.clusters)
      for (const a of cl.areas) {
        expect(seen.has(a)).toBe(false);
        seen.add(a);
      }
  });

  it('data without a cluster give p > 0.05 (typically)', () => {
    const ps: number[] = [];
    for (let s = 1; s <= 8; s++) {
      const res = stPermScan({ areas, cases: background(100 + s), endDay: 60, replications: 199, seed: s });
      ps.push(res.clusters[0]?.p ?? 1);
    }
    // Under the null p is uniform: 8 data sets with p ≤ 0.05 more than twice would be very unlikely.
    expect(ps.filter((p) => p <= 0.05).length).toBeLessThanOrEqual(2);
    const one = stPermScan({ areas, cases: background(101), endDay: 60, replications: 999, seed: 7 });
    expect(one.clusters[0]!.p).toBeGreaterThan(0.05);
  });

  it('permuting the days keeps every area total and every day total', () => {
    const cases = background(5);
    const perm = permuteCaseDays(cases, createRng(9));
    const tally = (xs: { area: string; day: number }[], key: 'area' | 'day') => {
      const m = new Map<string | number, number>();
      for (const x of xs) m.set(x[key], (m.get(x[key]) ?? 0) + 1);
      return [...m.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    };
    expect(tally(perm, 'area')).toEqual(tally(cases, 'area'));
    expect(tally(perm, 'day')).toEqual(tally(cases, 'day'));
    expect(perm.some((p, i) => p.day !== cases[i]!.day)).toBe(true);
  });

  it('is deterministic for a seed, and the count matrix gives the same answer as the case list', () => {
    const cases = background(3);
    const input: StPermScanInput = { areas, cases, endDay: 60, replications: 99, seed: 5 };
    const a = stPermScan(input);
    const b = stPermScan(input);
    expect(b).toEqual(a);
    const counts = areas.map((ar) =>
      Array.from({ length: 60 }, (_, d) => cases.filter((c) => c.area === ar.code && c.day === d + 1).length),
    );
    const m = stPermScan({ areas, counts, firstDay: 1, endDay: 60, replications: 99, seed: 5 });
    expect(m.clusters).toEqual(a.clusters);
    const rng1 = createRng(123);
    const rng2 = createRng(123);
    for (let i = 0; i < 5; i++) expect(rng1()).toBe(rng2());
  });

  it('respects the spatial and temporal limits', () => {
    const cases = background(11);
    for (const day of [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]) for (let c = 0; c < 4; c++) cases.push({ area: 'A00', day });
    const res = stPermScan({ areas, cases, endDay: 60, maxWindowDays: 3, maxSpatialShare: 0.2, replications: 9, seed: 1 });
    const byArea = new Map<string, number>();
    for (const c of cases) byArea.set(c.area, (byArea.get(c.area) ?? 0) + 1);
    for (const cl of res.clusters) {
      expect(cl.endDay - cl.startDay + 1).toBeLessThanOrEqual(3);
      const inZone = cl.areas.reduce((s, a) => s + (byArea.get(a) ?? 0), 0);
      expect(inZone).toBeLessThanOrEqual(0.2 * res.totalCases);
    }
  });

  it('bad input throws DetectorInputError; too few cases give a message', () => {
    expect(() => stPermScan({ areas, cases: [{ area: 'ZZ', day: 1 }], endDay: 1 })).toThrow(DetectorInputError);
    expect(() => stPermScan({ areas, cases: [{ area: 'A00', day: 1.5 }], endDay: 2 })).toThrow(/cases\[0\]\.day/);
    expect(() => stPermScan({ areas: [], cases: [], endDay: 1 })).toThrow(/areas/);
    expect(() => stPermScan({ areas, cases: [], endDay: 1, maxSpatialShare: 2 })).toThrow(/maxSpatialShare/);
    const r = stPermScan({ areas, cases: [{ area: 'A00', day: 1 }], endDay: 1 });
    expect(r.clusters).toEqual([]);
    expect(r.messages.join(' ')).toMatch(/nothing to scan/);
  });
});
