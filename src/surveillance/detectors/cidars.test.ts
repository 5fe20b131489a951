import { describe, expect, it } from 'vitest';
import { cidarsFixed, cidarsMpm, quantileType7 } from './cidars.js';
import { DetectorInputError, type CountSeries } from './types.js';

describe('percentile (R quantile type 7 / Excel PERCENTILE)', () => {
  it('matches R', () => {
    expect(quantileType7([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.8)).toBeCloseTo(8.2, 12); // quantile(1:10, .8)
    expect(quantileType7([3, 1, 2], 0.5)).toBe(2);
    expect(quantileType7([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
    expect(quantileType7([5], 0.8)).toBe(5);
  });
});

describe('CIDARS moving percentile, weekly series (blocks of one week)', () => {
  // Three years of weekly history, all zero except the same-season weeks (t − 52y + o,
  // y = 1…3, o = −2…2), which hold 1 … 15. Evaluated week: index 160 (1-based).
  const t = 160;
  const make = (current: number): CountSeries => {
    const obs = new Array<number>(t).fill(0);
    let v = 1;
    for (let y = 1; y <= 3; y++) for (let o = -2; o <= 2; o++) obs[t - 1 - 52 * y + o] = v++;
    obs[t - 1] = current;
    return { observed: obs, freq: 52, start: [2020, 1], range: [t] };
  };
  it('P80 of the 15 blocks (h = 14·0.8 = 11.2 → 12 + 0.2·1 = 12.2); 13 signals, 12 does not', () => {
    const r12 = cidarsMpm(make(12), {});
    expect(r12.upperbound[t - 1]).toBeCloseTo(12.2, 12);
    expect(r12.alarm[t - 1]).toBe(false);
    expect(r12.extra!['blocks']![0]).toBe(15);
    expect(cidarsMpm(make(13), {}).alarm[t - 1]).toBe(true);
  });
  it('reaching the threshold signals (count ≥ percentile): P50 = 8, count 8 alarms', () => {
    const r = cidarsMpm(make(8), { percentile: 50 });
    expect(r.upperbound[t - 1]).toBe(8);
    expect(r.alarm[t - 1]).toBe(true);
    expect(cidarsMpm(make(7), { percentile: 50 }).alarm[t - 1]).toBe(false);
  });
  it('years limits the look-back', () => {
    const r = cidarsMpm(make(5), { years: 1 }); // blocks 1…5: P80 = 4.2
    expect(r.extra!['blocks']![0]).toBe(5);
    expect(r.upperbound[t - 1]).toBeCloseTo(4.2, 12);
    expect(r.alarm[t - 1]).toBe(true);
  });
});

describe('CIDARS moving percentile, daily series (7-day blocks)', () => {
  // Two years + of one case a day: every same-season 7-day block holds 7 cases.
  const n = 2 * 365 + 30;
  const make = (lastWeek: number[]): CountSeries => {
    const obs = new Array<number>(n).fill(1);
    lastWeek.forEach((v, i) => (obs[n - 7 + i] = v));
    return { observed: obs, freq: 365, start: [2022, 1], range: [n] };
  };
  it('compares the last 7 days with P80 of 2 years × 5 blocks', () => {
    const quiet = cidarsMpm(make([1, 1, 1, 1, 1, 1, 0]), {});
    expect(quiet.extra!['current']![0]).toBe(6);
    expect(quiet.extra!['blocks']![0]).toBe(10);
    expect(quiet.upperbound[n - 1]).toBe(7);
    expect(quiet.alarm[n - 1]).toBe(false);
    expect(cidarsMpm(make([1, 1, 1, 1, 1, 1, 1]), {}).alarm[n - 1]).toBe(true);
    expect(cidarsMpm(make([0, 0, 0, 0, 0, 0, 9]), {}).alarm[n - 1]).toBe(true);
  });
});

describe('CIDARS bad input: no alarm, a message, never a throw', () => {
  it('an all-zero history does not signal on zero cases (minCases 1)', () => {
    const obs = new Array<number>(200).fill(0);
    const r = cidarsMpm({ observed: obs, freq: 52, start: [2020, 1], range: [200] }, {});
    expect(r.upperbound[199]).toBe(0);
    expect(r.alarm[199]).toBe(false);
    obs[199] = 1;
    expect(cidarsMpm({ observed: obs, freq: 52, start: [2020, 1], range: [200] }, {}).alarm[199]).toBe(true);
  });
  it('too little history, gaps and invalid counts', () => {
    const obs: (number | null)[] = new Array<number>(120).fill(2);
    obs[119] = null;
    obs[118] = -1;
    const r = cidarsMpm({ observed: obs, freq: 52, start: [2020, 1], range: [30, 118, 119, 120] }, {});
    expect(r.alarm[29]).toBeNull();
    expect(r.alarm[117]).toBe(true); // 2 ≥ P80 of a flat history of 2
    expect(r.alarm[118]).toBeNull();
    expect(r.alarm[119]).toBeNull();
    expect(r.messages!.join(' ')).toMatch(/too little history/);
    expect(r.messages!.join(' ')).toMatch(/missing or invalid/);
  });
  it('bad controls throw', () => {
    const s: CountSeries = { observed: [1, 2, 3], freq: 52, start: [2020, 1], range: [3] };
    expect(() => cidarsMpm(s, { percentile: 120 })).toThrow(DetectorInputError);
    expect(() => cidarsMpm(s, { years: 0 })).toThrow(/control\.years/);
    expect(() => cidarsFixed(s, { threshold: 0 })).toThrow(/control\.threshold/);
  });
});

describe('CIDARS fixed threshold', () => {
  it('one case signals; upperbound is the threshold', () => {
    const s: CountSeries = { observed: [0, 1, 0, 2, null, -1], freq: 365, start: [2024, 1], range: [1, 2, 3, 4, 5, 6] };
    const r = cidarsFixed(s, {});
    expect(r.alarm).toEqual([false, true, false, true, null, null]);
    expect(r.upperbound).toEqual([1, 1, 1, 1, null, null]);
    expect(r.messages!.length).toBe(1);
    expect(cidarsFixed(s, { threshold: 2 }).alarm).toEqual([false, false, false, true, null, null]);
  });
  it('blockLength sums the last periods', () => {
    const s: CountSeries = { observed: [1, 0, 1, 0, 0, 0], freq: 365, start: [2024, 1], range: [3, 6] };
    const r = cidarsFixed(s, { threshold: 2, blockLength: 3 });
    expect(r.alarm[2]).toBe(true);
    expect(r.alarm[5]).toBe(false);
  });
});
