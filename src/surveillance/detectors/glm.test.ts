import { describe, expect, it } from 'vitest';
import { createRng, randomNegBin } from '../evaluation/random.js';
import {
  createGlmWorkspace,
  dispersionWithWeights,
  factorTrendRows,
  fitFactorTrendGlm,
  fitGlm,
  fitPoissonGlm,
  predictLink,
  type FactorTrendDesign,
} from './glm.js';

/** A Farrington-like design: 4 levels, times 101 … 100 + n, negative binomial counts. */
function example(n: number, seed: number, withTrend: boolean): { d: FactorTrendDesign; y: number[] } {
  const rng = createRng(seed);
  const level = new Int32Array(n);
  const time = new Float64Array(n);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    level[i] = Math.floor(i / 5) % 4;
    time[i] = 101 + i;
    y.push(randomNegBin(rng, Math.exp(1.5 + 0.3 * level[i]! + 0.002 * i), 2));
  }
  return { d: { level, nLevels: 4, time: withTrend ? time : null }, y };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

describe('closed-form IRLS for intercept + trend + factor designs', () => {
  for (const withTrend of [true, false]) {
    it(`agrees with the QR fit to rounding (${withTrend ? 'with' : 'without'} trend, with and without prior weights)`, () => {
      const { d, y } = example(120, withTrend ? 1 : 2, withTrend);
      const prior = y.map((_, i) => 0.5 + (i % 7) / 7);
      for (const options of [{}, { priorWeights: prior }]) {
        const fast = fitFactorTrendGlm(d, y, options)!;
        const qr = fitPoissonGlm(factorTrendRows(d), y, options);
        expect(fast).not.toBeNull();
        expect(fast.iterations).toBe(qr.iterations);
        expect(fast.converged).toBe(qr.converged);
        fast.coefficients.forEach((c, j) => expect(rel(c, qr.coefficients[j]!)).toBeLessThan(1e-10));
        for (let i = 0; i < y.length; i++) {
          expect(rel(fast.fitted[i]!, qr.fitted[i]!)).toBeLessThan(1e-11);
          expect(rel(fast.hat[i]!, qr.hat[i]!)).toBeLessThan(1e-10);
          expect(rel(fast.workingWeights[i]!, qr.workingWeights[i]!)).toBeLessThan(1e-11);
        }
        expect(rel(fast.dispersion, qr.dispersion)).toBeLessThan(1e-11);
        expect(rel(fast.deviance, qr.deviance)).toBeLessThan(1e-11);
        const p = fast.coefficients.length;
        for (let a = 0; a < p; a++)
          for (let b = 0; b < p; b++) expect(rel(fast.covUnscaled[a]![b]!, qr.covUnscaled[a]![b]!)).toBeLessThan(1e-9);
        const x0 = withTrend ? [1, 240, 0, 0, 1] : [1, 0, 0, 1];
        const pf = predictLink(fast, x0, 1.7);
        const pq = predictLink(qr, x0, 1.7);
        expect(rel(pf.eta, pq.eta)).toBeLessThan(1e-11);
        expect(rel(pf.se, pq.se)).toBeLessThan(1e-10);
      }
    });
  }

  it('agrees with the QR fit with gaps in time, zero prior weights, large and fractional counts, and when it stops unconverged', () => {
    const { d, y } = example(150, 5, true);
    // Gaps: every 11th week missing (the time steps by 2 there), as with null counts dropped.
    const time = Float64Array.from(d.time!, (t, i) => t + Math.floor(i / 11));
    const counts = y.map((v, i) => (i === 7 ? 5000 : i === 8 ? v + 0.5 : v));
    const prior = counts.map((_, i) => (i % 13 === 0 ? 0 : 1 + (i % 3) / 3));
    const gapped: FactorTrendDesign = { ...d, time };
    for (const options of [{ priorWeights: prior }, { maxIterations: 2 }, { priorWeights: prior, maxIterations: 1 }]) {
      const fast = fitFactorTrendGlm(gapped, counts, options)!;
      const qr = fitPoissonGlm(factorTrendRows(gapped), counts, options);
      expect(fast.iterations).toBe(qr.iterations);
      expect(fast.converged).toBe(qr.converged);
      fast.coefficients.forEach((c, j) => expect(rel(c, qr.coefficients[j]!)).toBeLessThan(1e-10));
      for (let i = 0; i < counts.length; i++) {
        expect(rel(fast.fitted[i]!, qr.fitted[i]!)).toBeLessThan(1e-11);
        expect(rel(fast.linearPredictor[i]!, qr.linearPredictor[i]!)).toBeLessThan(1e-11);
        expect(Math.abs(fast.workingWeights[i]! - qr.workingWeights[i]!)).toBeLessThanOrEqual(1e-11 * Math.abs(qr.workingWeights[i]!));
        expect(Math.abs(fast.hat[i]! - qr.hat[i]!)).toBeLessThanOrEqual(1e-10 * Math.max(1e-300, Math.abs(qr.hat[i]!)));
      }
      expect(rel(fast.dispersion, qr.dispersion)).toBeLessThan(1e-11);
    }
  });

  it('gives the same fit whatever was fitted before it (its work space is reused)', () => {
    const small = example(40, 6, true);
    const first = fitFactorTrendGlm(small.d, small.y)!;
    const big = example(400, 7, true);
    fitFactorTrendGlm(big.d, big.y, { priorWeights: big.y.map(() => 2) });
    const again = fitFactorTrendGlm(small.d, small.y)!;
    expect(again.coefficients).toEqual(first.coefficients);
    expect(Array.from(again.fitted)).toEqual(Array.from(first.fitted));
    expect(Array.from(again.workingWeights)).toEqual(Array.from(first.workingWeights));
    expect(again.dispersion).toBe(first.dispersion);
  });

  it('gives the same fit in a workspace as without one, and keeps it until that workspace is reused', () => {
    const a = example(90, 8, true);
    const b = example(90, 9, true);
    const wsA = createGlmWorkspace();
    const wsB = createGlmWorkspace();
    const prior = a.y.map((_, i) => 0.5 + (i % 5) / 5);
    for (const options of [{}, { priorWeights: prior }]) {
      const plain = fitFactorTrendGlm(a.d, a.y, options)!;
      const inA = fitFactorTrendGlm(a.d, a.y, { ...options, workspace: wsA })!;
      fitFactorTrendGlm(b.d, b.y, { ...options, workspace: wsB }); // another workspace: inA untouched
      expect(inA.coefficients).toEqual(plain.coefficients);
      expect(inA.iterations).toBe(plain.iterations);
      expect(inA.dispersion).toBe(plain.dispersion);
      expect(inA.deviance).toBe(plain.deviance);
      for (const key of ['fitted', 'linearPredictor', 'workingWeights', 'workingResiduals', 'hat', 'priorWeights'] as const) {
        expect(Array.from(inA[key]), key).toEqual(Array.from(plain[key]));
      }
      expect(inA.covUnscaled).toEqual(plain.covUnscaled);
      expect(dispersionWithWeights(inA, prior)).toBe(dispersionWithWeights(plain, prior));
      const qr = fitPoissonGlm(factorTrendRows(a.d), a.y, options);
      expect(rel(dispersionWithWeights(inA, prior), dispersionWithWeights(qr, prior))).toBeLessThan(1e-11);
    }
  });

  it('hands degenerate designs (an empty level, no trend variation within levels) to the QR fit', () => {
    const { d, y } = example(60, 3, true);
    const empty: FactorTrendDesign = { ...d, nLevels: 5 }; // level 4 has no rows: its dummy is aliased
    expect(fitFactorTrendGlm(empty, y)).toBeNull();
    const fit = fitGlm(empty, y);
    expect(fit.aliased).toEqual([false, false, false, false, false, true]);
    expect(Number.isNaN(fit.coefficients[5]!)).toBe(true);
    const oneTimePerLevel: FactorTrendDesign = { level: Int32Array.from([0, 1, 2]), nLevels: 3, time: Float64Array.from([1, 2, 3]) };
    expect(fitFactorTrendGlm(oneTimePerLevel, [1, 2, 3])).toBeNull();
    expect(() => fitGlm(oneTimePerLevel, [1, 2, 3])).not.toThrow();
  });
});
