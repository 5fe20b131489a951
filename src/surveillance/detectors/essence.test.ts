import { describe, expect, it } from 'vitest';
import { essence } from './essence.js';
import { DetectorInputError, type CountSeries } from './types.js';

/** Daily series starting Monday 2024-01-01 (day 1 of 2024). */
const daily = (observed: (number | null)[], range: number[]): CountSeries => ({ observed, freq: 365, start: [2024, 1], range });

// Quantiles used in the hand calculations (R: qt(0.95, 27), qt(0.95, 20); Rnssp rounds them to 5 decimals).
const T95_27 = 1.7032884457221265;
const T95_20 = 1.7247182429207866;

describe('ESSENCE EWMA branch, hand-worked on a flat series', () => {
  // 40 days of 5 cases. Day 40: baseline = days 10–37 (28 days, guard band 38–39): mean 5, sd 0.
  // Regression: all residuals 0 and MSS 0, so R² is undefined → adjusted R² 0 < 0.6 → EWMA.
  // With sd 0 each smoother's sigma is its floor (w / t95)(1 + (1 − w)²/2), t95 = round(qt(.95, 27), 5) = 1.70329:
  //   w = 0.4: 0.4/1.70329 · 1.18  = 0.277111;  w = 0.9: 0.9/1.70329 · 1.005 = 0.531031.
  // Both smoothers sit at 5, so the count y alarms when w(y − 5)/σ_w > qt(.95, 27) for either w:
  //   y > 5 + qt(.95, 27) · min(0.277111/0.4, 0.531031/0.9) = 5 + 1.703288 · 0.590035 = 6.00500.
  const sigma2 = (0.9 / 1.70329) * (1 + 0.5 * 0.1 ** 2);
  const flat = (last: number) => daily([...Array(39).fill(5), last], [40]);
  it('upper bound and alarm', () => {
    const r6 = essence(flat(6), {});
    expect(r6.extra!['regression']![0]).toBe(0);
    expect(r6.extra!['adjR2']![0]).toBe(0);
    expect(r6.extra!['expected']![0]).toBe(5);
    expect(r6.upperbound[39]).toBeCloseTo(5 + (T95_27 * sigma2) / 0.9, 9);
    expect(r6.upperbound[39]).toBeCloseTo(6.005, 3);
    expect(r6.alarm[39]).toBe(false); // stat 0.9/0.531 = 1.695 < 1.703: p just above 0.05
    expect(r6.extra!['pValue']![0]).toBeGreaterThan(0.05);
    expect(r6.extra!['pValue']![0]).toBeLessThan(0.052);
    const r7 = essence(flat(7), {});
    expect(r7.alarm[39]).toBe(true);
    expect(r7.extra!['level']![0]).toBe(2); // stat 1.8/0.531 = 3.39: p < 0.01, red
    expect(r7.extra!['testStatistic']![0]).toBeCloseTo(1.8 / sigma2, 9);
  });
  it('a spike does not keep the smoother high: values beyond t99 are pulled back', () => {
    // Day 30 = 100: red. Day 31 = 5: the 0.9-smoother would still be 14.5 without the pull-back;
    // with it, it restarts from 5 + t99·σ, and day 31 is quiet (its baseline ends on day 28).
    const obs = [...Array(29).fill(5), 100, 5];
    const r = essence(daily(obs, [30, 31]), {});
    expect(r.alarm[29]).toBe(true);
    expect(r.extra!['level']![0]).toBe(2);
    expect(r.alarm[30]).toBe(false);
  });
});

describe('ESSENCE regression branch, hand-worked on an exact line', () => {
  // y = 10 + t + 5 on Mondays (t = day index from 0). The model (trend + Mon…Sat indicators)
  // fits exactly: residuals 0, R² = 1, so regression is used; the forecast is the line itself
  // and σ is its floor 1.01 / round(qt(.95, 20), 5) = 1.01/1.72472 (28-day baseline: 20 df).
  // Upper bound = ŷ + σ·qt(.95, 20) = ŷ + 1.01 · 1.7247182/1.72472 ≈ ŷ + 1.0100.
  const line = Array.from({ length: 40 }, (_, t) => 10 + t + (t % 7 === 0 ? 5 : 0));
  it('forecast, bound and p = 0.5 on the line', () => {
    const r = essence(daily(line, [40]), {});
    const yhat = line[39]!;
    expect(r.extra!['regression']![0]).toBe(1);
    expect(r.extra!['adjR2']![0]).toBeCloseTo(1, 9);
    expect(r.extra!['expected']![0]).toBeCloseTo(yhat, 9);
    expect(r.extra!['pValue']![0]).toBeCloseTo(0.5, 9);
    expect(r.upperbound[39]).toBeCloseTo(yhat + (1.01 / 1.72472) * T95_20, 9);
    expect(r.alarm[39]).toBe(false);
  });
  it('one case above the line is not an alarm, two are (red)', () => {
    const up1 = [...line];
    up1[39] = line[39]! + 1;
    expect(essence(daily(up1, [40]), {}).alarm[39]).toBe(false);
    const up2 = [...line];
    up2[39] = line[39]! + 2;
    const r = essence(daily(up2, [40]), {});
    expect(r.alarm[39]).toBe(true);
    expect(r.extra!['level']![0]).toBe(2);
  });
  it('Monday effect: day 36 (a Monday) is forecast with its +5', () => {
    const r = essence(daily(line, [36]), {});
    expect(r.extra!['expected']![0]).toBeCloseTo(line[35]!, 9);
    expect(line[35]! - line[34]!).toBe(6);
  });
  it('mode forces one branch; alpha moves the bound', () => {
    const e = essence(daily(line, [40]), { mode: 'ewma' });
    expect(e.extra!['regression']![0]).toBe(0);
    const strict = essence(daily(line, [40]), { alpha: 0.01 });
    expect(strict.upperbound[39]!).toBeGreaterThan(essence(daily(line, [40]), {}).upperbound[39]!);
  });
  it('dates give the same weekdays as start', () => {
    const dates = line.map((_, t) => new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10));
    const a = essence(daily(line, [38, 39, 40]), {});
    const b = essence({ observed: line, freq: 7, start: [0, 0], range: [38, 39, 40], dates }, {});
    expect(b.upperbound).toEqual(a.upperbound);
  });
});

describe('ESSENCE bad input: no alarm, a message, never a throw', () => {
  const counts = Array.from({ length: 30 }, (_, t) => 3 + (t % 3));
  it('too little history (fewer than 11 baseline days + 2 guard days)', () => {
    const r = essence(daily(counts, [5, 13, 14]), {});
    expect(r.alarm[4]).toBeNull();
    expect(r.alarm[12]).toBeNull();
    expect(r.alarm[13]).not.toBeNull();
    expect(r.messages!.join(' ')).toMatch(/too little history/);
  });
  it('gaps and invalid counts', () => {
    const obs: (number | null)[] = [...counts];
    obs[20] = null;
    obs[25] = -1;
    obs[26] = 2.5;
    const r = essence(daily(obs, [21, 22, 26, 27, 30]), {});
    expect(r.alarm[20]).toBeNull();
    expect(r.alarm[21]).not.toBeNull(); // the gap is in the guard band, not the baseline
    expect(r.alarm[25]).toBeNull();
    expect(r.alarm[26]).toBeNull();
    expect(r.alarm[29]).toBeNull(); // baseline days 2–27 hold the gap
    expect(r.messages!.join(' ')).toMatch(/missing or invalid/);
  });
  it('non-daily series and bad controls throw DetectorInputError', () => {
    expect(() => essence({ observed: counts, freq: 52, start: [2024, 1], range: [30] }, {})).toThrow(DetectorInputError);
    expect(() => essence(daily(counts, [30]), { B: 30 })).toThrow(/control\.B/);
    expect(() => essence(daily(counts, [30]), { mode: 'cusum' })).toThrow(/control\.mode/);
    expect(() => essence({ ...daily(counts, [30]), dates: ['2024-01-01'] }, {})).toThrow(/series\.dates/);
  });
});

describe('exact Student t (replacing lib-r-math.js pt/qt, off by ~1e-7)', () => {
  it('quantiles match R to rounding and invert the distribution function', async () => {
    const { studentCdf, studentQuantile } = await import('./farrington.js');
    expect(Math.abs(studentQuantile(0.95, 27) - T95_27)).toBeLessThan(1e-14);
    expect(Math.abs(studentQuantile(0.95, 20) - T95_20)).toBeLessThan(1e-14);
    expect(studentQuantile(0.05, 20)).toBeCloseTo(-T95_20, 14);
    expect(Math.abs(studentQuantile(0.975, 1) - 12.706204736174698)).toBeLessThan(1e-12); // tan(0.475π)
    for (const df of [1, 2, 5, 27, 200]) {
      for (const p of [0.001, 0.05, 0.5, 0.9, 0.99]) expect(Math.abs(studentCdf(studentQuantile(p, df), df) - p)).toBeLessThan(1e-15);
    }
    // Cauchy (df = 1): P(T ≤ 1) = 3/4 exactly.
    expect(Math.abs(studentCdf(1, 1) - 0.75)).toBeLessThan(1e-15);
  });
});
