import { describe, expect, it } from 'vitest';
import { addCounts, countDetections, summarize } from '../evaluation/metrics.js';
import { createRng, randomNegBin, randomPoisson } from '../evaluation/random.js';
import { EVALUATION_SEED, simulateScenario, STANDARD_SCENARIOS } from '../evaluation/simulate-series.js';
import { weekBaseline, YIFANG_CUSUM_DEFAULTS, yifangCusum } from './default.js';
import { farringtonFlexible } from './farrington-flexible.js';
import { NOUFAILY_CONTROL, runDetector } from './index.js';
import { DetectorInputError, type CountSeries } from './types.js';

/** Weekly Poisson counts with mean 10 and a mild season, 6 years. */
function flatSeries(seed: number, weeks = 312): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  for (let t = 1; t <= weeks; t++) out.push(randomPoisson(rng, 10 * Math.exp(0.3 * Math.cos((2 * Math.PI * t) / 52))));
  return out;
}

const lastWeeks = (n: number, count: number): number[] => Array.from({ length: count }, (_, i) => n - count + 1 + i);

describe('yifangCusum (default)', () => {
  it('alarms on a clear outbreak and not before it', () => {
    const obs = flatSeries(1);
    const n = obs.length;
    // Weeks n−9 and n−8 get 25 and 20 extra cases.
    obs[n - 10] = obs[n - 10]! + 25;
    obs[n - 9] = obs[n - 9]! + 20;
    const series: CountSeries = { observed: obs, freq: 52, start: [2015, 1], range: lastWeeks(n, 20) };
    const r = yifangCusum(series, {});
    const alarmWeeks = r.alarm.map((a, i) => (a ? i + 1 : 0)).filter((w) => w > 0);
    expect(alarmWeeks).toContain(n - 9);
    expect(alarmWeeks.filter((w) => w < n - 9)).toEqual([]);
    expect(r.messages).toEqual([]);
  });

  it('alarm ⇔ count > upper bound, and the chart restarts after an alarm', () => {
    const obs = flatSeries(2);
    const n = obs.length;
    obs[n - 15] = obs[n - 15]! + 30;
    const series: CountSeries = { observed: obs, freq: 52, start: [2015, 1], range: lastWeeks(n, 30) };
    const r = yifangCusum(series, {});
    const cus = r.extra!['cusum']!;
    let sawAlarm = false;
    series.range.forEach((k, j) => {
      const y = obs[k - 1]!;
      const u = r.upperbound[k - 1]!;
      expect(r.alarm[k - 1]).toBe(y > u);
      if (r.alarm[k - 1]) {
        sawAlarm = true;
        expect(cus[j]!).toBeGreaterThan(YIFANG_CUSUM_DEFAULTS.h);
        // The next week's statistic starts from 0: its bound is the largest possible.
        const next = j + 1 < cus.length ? cus[j + 1]! : null;
        if (next !== null) expect(next).toBeLessThan(cus[j]!);
      } else {
        expect(cus[j]!).toBeGreaterThanOrEqual(0);
        expect(cus[j]!).toBeLessThanOrEqual(YIFANG_CUSUM_DEFAULTS.h);
      }
    });
    expect(sawAlarm).toBe(true);
  });

  it('accumulates moderate excesses over consecutive weeks that no single week shows', () => {
    const obs = flatSeries(3);
    const n = obs.length;
    const range = lastWeeks(n, 12);
    const k = n - 5;
    // Four weeks at about 1.6 standard deviations above the baseline each: the chart adds them up.
    const bumped = obs.slice();
    for (let w = k; w < k + 4; w++) {
      const b = weekBaseline(bumped, w, 52, YIFANG_CUSUM_DEFAULTS);
      if (typeof b === 'string') throw new Error(b);
      bumped[w - 1] = Math.round(b.mu + 1.6 * Math.sqrt(b.mu));
    }
    const r = yifangCusum({ observed: bumped, freq: 52, start: [2015, 1], range }, {});
    expect(r.alarm[k - 1]).toBe(false);
    expect(r.alarm.slice(k - 1, k + 3).some((a) => a === true)).toBe(true);
  });

  it('gives no verdict and a message for short history, and never throws on gaps', () => {
    const obs = flatSeries(4, 70);
    const short = yifangCusum({ observed: obs, freq: 52, start: [2020, 1], range: [70] }, {});
    expect(short.alarm[69]).toBeNull();
    expect(short.upperbound[69]).toBeNull();
    expect(short.messages!.join(' ')).toMatch(/too little history/);
    const gappy: (number | null)[] = flatSeries(5);
    for (let i = 0; i < gappy.length; i += 9) gappy[i] = null;
    const n = gappy.length;
    gappy[n - 1] = null;
    const r = yifangCusum({ observed: gappy, freq: 52, start: [2015, 1], range: lastWeeks(n, 10) }, {});
    expect(r.alarm[n - 1]).toBeNull();
    expect(r.messages!.join(' ')).toMatch(/gap/);
    for (let w = n - 9; w < n; w++) expect(r.alarm[w - 1] === null).toBe(gappy[w - 1] === null);
    // Default range: every week with enough history.
    const all = yifangCusum({ observed: flatSeries(6, 100), freq: 52, start: [2020, 1], range: [] }, {});
    expect(all.alarm.slice(0, 78).every((a) => a === null)).toBe(true);
    expect(all.alarm.slice(78).every((a) => a !== null)).toBe(true);
  });

  it('copes with an all-zero baseline and very low counts', () => {
    const zeros = new Array<number>(200).fill(0);
    zeros[199] = 3;
    const r = yifangCusum({ observed: zeros, freq: 52, start: [2020, 1], range: [198, 199, 200] }, {});
    expect(r.alarm.slice(197)).toEqual([false, false, true]);
    expect(r.upperbound[199]).toBeGreaterThanOrEqual(0);
  });

  it('rejects bad or unknown control values, naming them', () => {
    const s: CountSeries = { observed: flatSeries(7), freq: 52, start: [2015, 1], range: [312] };
    expect(() => yifangCusum(s, { delta: -1 })).toThrow(DetectorInputError);
    expect(() => yifangCusum(s, { delta: -1 })).toThrow(/control\.delta/);
    expect(() => yifangCusum(s, { hh: 2 })).toThrow(/control\.hh/);
    expect(() => runDetector('default', s, { harmonics: 1.5 })).toThrow(/control\.harmonics/);
  });

  it('beats farringtonFlexible (Noufaily settings, α = 0.05) on POD and FPR on a fixed simulated set', () => {
    // Two scenarios fixed in advance (medium counts with seasonality; high counts with trend
    // and seasonality), 20 series each, evaluation seed. The full comparison over all
    // scenarios is in bench/detectors.bench.ts.
    const scenarios = STANDARD_SCENARIOS.filter((s) => s.id === 'S5' || s.id === 'S9');
    const noufaily = { ...NOUFAILY_CONTROL, b: 5, w: 3, alpha: 0.05 };
    const partsD = [];
    const partsN = [];
    for (const sc of scenarios) {
      for (const s of simulateScenario(sc, 20, EVALUATION_SEED)) {
        const ob = s.outbreaks.filter((o) => o.current);
        partsD.push(countDetections(yifangCusum(s, {}).alarm, s.truth, s.range, ob));
        partsN.push(countDetections(farringtonFlexible(s, noufaily).alarm, s.truth, s.range, ob));
      }
    }
    const d = summarize(addCounts(...partsD));
    const nf = summarize(addCounts(...partsN));
    expect(d.outbreaks).toBe(nf.outbreaks);
    expect(d.pod).toBeGreaterThanOrEqual(nf.pod);
    expect(d.fpr).toBeLessThanOrEqual(nf.fpr);
  }, 60_000);

  it('baseline: recovers the mean and dispersion of a seasonal negative binomial series', () => {
    const rng = createRng(11);
    const mu = (t: number): number => Math.exp(2.5 + 0.5 * Math.cos((2 * Math.PI * t) / 52));
    const obs: number[] = [];
    for (let t = 1; t <= 400; t++) obs.push(randomNegBin(rng, mu(t), 2));
    const b = weekBaseline(obs, 400, 52, YIFANG_CUSUM_DEFAULTS);
    if (typeof b === 'string') throw new Error(b);
    expect(b.mu / mu(400)).toBeGreaterThan(0.85);
    expect(b.mu / mu(400)).toBeLessThan(1.15);
    expect(b.phi).toBeGreaterThan(1.5);
    expect(b.phi).toBeLessThan(2.6);
  });
});
