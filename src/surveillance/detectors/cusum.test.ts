import { describe, expect, it } from 'vitest';
import { cusum } from './cusum.js';
import { expectMatchesRef, loadRef } from './refs.testutil.js';
import { DetectorInputError, type CountSeries } from './types.js';

describe('cusum reproduces R surveillance 1.20.3', () => {
  it('cusum_default (m = mean before range, standard transform)', () => {
    const ref = loadRef('salmonella.agona__cusum_default.json');
    const got = cusum(ref, { k: 1.04, h: 2.26, m: null, trans: 'standard' });
    expectMatchesRef(ref, got);
    const extra = ref.extra as { m: number; cusumStat: number[] };
    got.extra!['m']!.forEach((v) => expect(v).toBeCloseTo(extra.m, 12));
    extra.cusumStat.forEach((v, j) => expect(got.extra!['cusumStat']![j]).toBeCloseTo(v, 10));
  });
  it('cusum_glm_rossi (seasonal Poisson GLM, Rossi transform)', () => {
    const ref = loadRef('salmonella.agona__cusum_glm_rossi.json');
    const got = cusum(ref, { m: 'glm', trans: 'rossi' });
    expectMatchesRef(ref, got);
    const extra = ref.extra as { m: number[]; cusumStat: number[] };
    extra.m.forEach((v, j) => expect(Math.abs((got.extra!['m']![j] as number) - v)).toBeLessThan(1e-10));
    extra.cusumStat.forEach((v, j) => expect(Math.abs((got.extra!['cusumStat']![j] as number) - v)).toBeLessThan(1e-10));
  });
});

describe('cusum hand-worked example', () => {
  // m = 4 (fixed): z = (y − 4)/2, k = 1, h = 2.
  const series: CountSeries = { observed: [4, 4, 10, 8, 4, 12, 0], freq: 52, start: [2020, 1], range: [3, 4, 5, 6, 7] };
  it('statistic, alarm (S ≥ h) and bound ceil(√m(h + k − S_{t−1}) + m)', () => {
    const r = cusum(series, { m: 4, k: 1, h: 2 });
    // S: 0 + 3 − 1 = 2 (alarm, ≥ h); 2 + 2 − 1 = 3 (alarm); 3 + 0 − 1 = 2 (alarm); 2 + 4 − 1 = 5; max(0, 5 − 2 − 1) = 2.
    expect(r.extra!['cusumStat']).toEqual([2, 3, 2, 5, 2]);
    expect(r.alarm.slice(2)).toEqual([true, true, true, true, true]);
    // bounds: ceil(2·(3 − 0) + 4) = 10, ceil(2·(3 − 2) + 4) = 6, ceil(2·0 + 4) = 4, ceil(2·1 + 4) = 6, ceil(2·(−2) + 4) = 0
    expect(r.upperbound.slice(2)).toEqual([10, 6, 4, 6, 0]);
  });
  it('reset restarts the chart after an alarm (our option; R 1.20.3 has none)', () => {
    const r = cusum(series, { m: 4, k: 1, h: 2, reset: true });
    // S: 2 (alarm → restart), 0 + 2 − 1 = 1, max(0, 1 − 2 − 1) = 0, 0 + 4 − 1 = 3 (alarm), restart: max(0, −2 − 1) = 0
    expect(r.extra!['cusumStat']).toEqual([2, 1, 0, 3, 0]);
    expect(r.alarm.slice(2)).toEqual([true, false, false, true, false]);
  });
  it('other transforms: anscombe and none', () => {
    const a = cusum(series, { m: 4, k: 1, h: 2, trans: 'anscombe' });
    const z = (1.5 * (10 ** (2 / 3) - 4 ** (2 / 3))) / 4 ** (1 / 6);
    expect(a.extra!['cusumStat']![0]).toBeCloseTo(Math.max(0, z - 1), 12);
    expect(a.upperbound[2]).toBeCloseTo(((2 / 3) * 4 ** (1 / 6) * 3 + 4 ** (2 / 3)) ** 1.5, 12);
    const n = cusum(series, { m: 4, k: 1, h: 2, trans: 'none' });
    expect(n.extra!['cusumStat']![0]).toBe(9);
    expect(n.upperbound[2]).toBe(0); // h − S_t < 0 is reported as 0, as R does
  });
});

describe('cusum bad input: no alarm, a message, never a throw', () => {
  it('a gap in range gives no verdict and the chart carries on', () => {
    const s: CountSeries = { observed: [2, 3, 2, 3, null, 9, 9], freq: 52, start: [2020, 1], range: [5, 6, 7] };
    const r = cusum(s, {});
    expect(r.alarm[4]).toBeNull();
    expect(r.upperbound[4]).toBeNull();
    expect(r.alarm[5]).not.toBeNull();
    expect(r.messages!.join(' ')).toMatch(/missing or invalid/);
  });
  it('gaps and invalid counts before the range are left out of m', () => {
    const s: CountSeries = { observed: [2, null, 4, -3, 2.5, 5], freq: 52, start: [2020, 1], range: [6] };
    const r = cusum(s, {});
    expect(r.extra!['m']![0]).toBe(3);
  });
  it('too little history', () => {
    const s: CountSeries = { observed: [5, 6], freq: 52, start: [2020, 1], range: [1, 2] };
    const r = cusum(s, {});
    expect(r.alarm).toEqual([null, null]);
    expect(r.messages!.join(' ')).toMatch(/too little history/);
    const g = cusum({ ...s, observed: [1, 2, 3, 4], range: [4] }, { m: 'glm' });
    expect(g.alarm[3]).toBeNull();
    expect(g.messages!.join(' ')).toMatch(/too little history/);
  });
  it('all-zero history: m = 0 is reported, not divided by', () => {
    const r = cusum({ observed: [0, 0, 0, 3], freq: 52, start: [2020, 1], range: [4] }, {});
    expect(r.alarm[3]).toBeNull();
    expect(r.messages!.join(' ')).toMatch(/m .* is 0/);
  });
  it('bad control parameters throw', () => {
    const s: CountSeries = { observed: [1, 2, 3], freq: 52, start: [2020, 1], range: [3] };
    expect(() => cusum(s, { trans: 'log' })).toThrow(DetectorInputError);
    expect(() => cusum(s, { m: 'mean' })).toThrow(/control\.m/);
    expect(() => cusum(s, { h: -1 })).toThrow(/control\.h/);
  });
});
