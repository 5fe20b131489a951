import { describe, expect, it } from 'vitest';
import { createRng, randomGamma, randomNegBin, randomPoisson } from './random.js';
import { lognormalWeekProbabilities, scenarioLogMean, simulateScenario, simulateSeries, STANDARD_SCENARIOS } from './simulate-series.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]): number => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1);
};

describe('random variates', () => {
  it('are deterministic for a seed and differ between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('have the intended means and variances', () => {
    const rng = createRng(7);
    const n = 20000;
    const pois = Array.from({ length: n }, () => randomPoisson(rng, 3.5));
    expect(mean(pois)).toBeCloseTo(3.5, 1);
    const big = Array.from({ length: n }, () => randomPoisson(rng, 150));
    expect(mean(big)).toBeGreaterThan(149);
    expect(mean(big)).toBeLessThan(151);
    expect(variance(big) / 150).toBeGreaterThan(0.95);
    expect(variance(big) / 150).toBeLessThan(1.05);
    const gam = Array.from({ length: n }, () => randomGamma(rng, 0.7));
    expect(mean(gam)).toBeCloseTo(0.7, 1);
    const nb = Array.from({ length: n }, () => randomNegBin(rng, 10, 3));
    expect(mean(nb)).toBeGreaterThan(9.7);
    expect(mean(nb)).toBeLessThan(10.3);
    expect(variance(nb) / mean(nb)).toBeGreaterThan(2.8); // variance φ·μ with φ = 3
    expect(variance(nb) / mean(nb)).toBeLessThan(3.2);
  });
});

describe('Noufaily-style simulation', () => {
  it('the lognormal delay puts half the cases in the first week', () => {
    const p = lognormalWeekProbabilities();
    expect(p).toHaveLength(20);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0]).toBeCloseTo(0.5, 6);
    expect(p[1]).toBeCloseTo(0.4172, 3);
  });

  it('is deterministic in the seed', () => {
    const s = STANDARD_SCENARIOS[4]!;
    const a = simulateSeries(s, 123);
    const b = simulateSeries(s, 123);
    const c = simulateSeries(s, 124);
    expect(a).toEqual(b);
    expect(a.observed).not.toEqual(c.observed);
    expect(simulateScenario(s, 3, 9)).toEqual(simulateScenario(s, 3, 9));
  });

  it('produces a 624-week series, the last 49 weeks evaluated, with truth and outbreaks', () => {
    const s = simulateSeries(STANDARD_SCENARIOS[3]!, 5);
    expect(s.observed).toHaveLength(624);
    expect(s.truth).toHaveLength(624);
    expect(s.range).toEqual(Array.from({ length: 49 }, (_, i) => 576 + i));
    expect(s.freq).toBe(52);
    const current = s.outbreaks.filter((o) => o.current);
    const past = s.outbreaks.filter((o) => !o.current);
    expect(current).toHaveLength(1);
    expect(past).toHaveLength(4);
    for (const o of past) expect(o.seedWeek).toBeLessThan(576 - 20);
    expect(current[0]!.seedWeek).toBeGreaterThanOrEqual(576);
    // truth is the sum of the outbreaks' cases, and observed ≥ truth
    const total = s.outbreaks.reduce((a, o) => a + o.cases, 0);
    expect(s.truth.reduce((a, b) => a + b, 0)).toBe(total);
    s.observed.forEach((y, i) => expect(y!).toBeGreaterThanOrEqual(s.truth[i]!));
    for (const o of s.outbreaks) for (const w of o.weeks) expect(s.truth[w - 1]).toBeGreaterThan(0);
  });

  it('baseline counts follow the scenario mean and dispersion', () => {
    const sc = { id: 'T', description: 'test', alpha: 2, beta: 0, gamma1: 0, gamma2: 0, m: 0, phi: 2 };
    const ys: number[] = [];
    for (const s of simulateScenario(sc, 20, 1, { pastOutbreaks: 0, currentOutbreaks: 0 })) ys.push(...(s.observed as number[]));
    expect(mean(ys) / Math.exp(2)).toBeGreaterThan(0.97);
    expect(mean(ys) / Math.exp(2)).toBeLessThan(1.03);
    expect(variance(ys) / mean(ys)).toBeGreaterThan(1.85);
    expect(variance(ys) / mean(ys)).toBeLessThan(2.15);
  });

  it('outbreak size scales with k times the baseline standard deviation', () => {
    const sc = { id: 'K', description: 'test', alpha: 3, beta: 0, gamma1: 0, gamma2: 0, m: 0, phi: 2 };
    const sizes = simulateScenario(sc, 200, 3, { currentK: [6, 6], pastOutbreaks: 0 }).map((s) => s.outbreaks[0]!.cases);
    const expected = 6 * Math.sqrt(2 * Math.exp(3));
    expect(mean(sizes) / expected).toBeGreaterThan(0.95);
    expect(mean(sizes) / expected).toBeLessThan(1.05);
  });

  it('seasonality and trend enter log μ as in Noufaily et al.', () => {
    const sc = { id: 'x', description: '', alpha: 1, beta: 0.01, gamma1: 0.5, gamma2: 0.2, m: 2, phi: 1 };
    const t = 13;
    const expected =
      1 +
      0.01 * t +
      0.5 * Math.cos((2 * Math.PI * t) / 52) +
      0.2 * Math.sin((2 * Math.PI * t) / 52) +
      0.5 * Math.cos((4 * Math.PI * t) / 52) +
      0.2 * Math.sin((4 * Math.PI * t) / 52);
    expect(scenarioLogMean(sc, t)).toBeCloseTo(expected, 14);
  });

  it('has at least 8 standard scenarios spanning low and high counts, trend, seasonality and dispersion 1.5–5', () => {
    expect(STANDARD_SCENARIOS.length).toBeGreaterThanOrEqual(8);
    expect(STANDARD_SCENARIOS.some((s) => s.alpha < 1)).toBe(true);
    expect(STANDARD_SCENARIOS.some((s) => s.alpha >= 4)).toBe(true);
    expect(STANDARD_SCENARIOS.some((s) => s.beta !== 0)).toBe(true);
    expect(STANDARD_SCENARIOS.some((s) => s.m === 0)).toBe(true);
    expect(STANDARD_SCENARIOS.some((s) => s.m === 2)).toBe(true);
    expect(Math.min(...STANDARD_SCENARIOS.map((s) => s.phi))).toBe(1.5);
    expect(Math.max(...STANDARD_SCENARIOS.map((s) => s.phi))).toBe(5);
    expect(new Set(STANDARD_SCENARIOS.map((s) => s.id)).size).toBe(STANDARD_SCENARIOS.length);
  });
});
