import { describe, expect, it } from 'vitest';
import {
  fitLogLinkGlm,
  fitNegBinGlm,
  GlmFitError,
  harmonicDesign,
  leastSquares,
  negBinFamily,
  poissonFamily,
  predictResponse,
  thetaMl,
} from './baseline-glm.js';
import { loadRef } from './refs.testutil.js';

describe('least squares by Householder QR', () => {
  it('solves an exactly determined and an overdetermined system', () => {
    expect(
      leastSquares(
        [
          [2, 0],
          [0, 4],
        ],
        [2, 8],
      ).map((v) => Number(v.toFixed(12))),
    ).toEqual([1, 2]);
    // y = 1 + 2x observed without noise at x = 0…4
    const b = leastSquares(
      [0, 1, 2, 3, 4].map((x) => [1, x]),
      [1, 3, 5, 7, 9],
    );
    expect(b[0]).toBeCloseTo(1, 12);
    expect(b[1]).toBeCloseTo(2, 12);
  });
  it('rejects a rank-deficient design', () => {
    expect(() =>
      leastSquares(
        [
          [1, 2],
          [2, 4],
          [3, 6],
        ],
        [1, 2, 3],
      ),
    ).toThrow(GlmFitError);
  });
});

describe('log-link GLMs', () => {
  it('intercept-only Poisson and NB fits give the sample mean', () => {
    const y = [0, 3, 1, 4, 2, 7, 1, 0, 2, 5];
    const X = y.map(() => [1]);
    const p = fitLogLinkGlm(X, y, poissonFamily());
    expect(p.converged).toBe(true);
    expect(Math.exp(p.coefficients[0]!)).toBeCloseTo(2.5, 10);
    const nb = fitLogLinkGlm(X, y, negBinFamily(2));
    expect(Math.exp(nb.coefficients[0]!)).toBeCloseTo(2.5, 10);
  });
  it('theta.ml solves the NB profile score equation', () => {
    const y = [0, 3, 1, 4, 2, 7, 1, 0, 2, 5, 9, 0, 1];
    const mu = y.map(() => y.reduce((s, v) => s + v, 0) / y.length);
    const { theta } = thetaMl(y, mu);
    // check by a finite difference of the NB log-likelihood in θ at the estimate
    const ll = (th: number) =>
      y.reduce((s, v, i) => {
        let lg = 0;
        for (let j = 0; j < v; j++) lg += Math.log(th + j); // log Γ(th + v) − log Γ(th)
        return s + lg + th * Math.log(th / (th + mu[i]!)) + v * Math.log(mu[i]! / (th + mu[i]!));
      }, 0);
    const h = 1e-5;
    expect(Math.abs((ll(theta + h) - ll(theta - h)) / (2 * h))).toBeLessThan(1e-4);
  });
  it('negative binomial with estimated θ reproduces MASS::glm.nb on salmonella.agona (via the glrnb reference)', () => {
    const ref = loadRef('salmonella.agona__glrnb_nb_cARL5.json');
    const y = ref.observed.slice(0, 208) as number[];
    const t = y.map((_, i) => i + 1);
    const fit = fitNegBinGlm(harmonicDesign(t, 52, 1, false), y);
    const extra = ref.extra as { alpha: number; mu0: number[] };
    expect(Math.abs(1 / fit.theta - extra.alpha)).toBeLessThan(1e-12);
    const pred = predictResponse(harmonicDesign(ref.range, 52, 1, false), fit.coefficients);
    pred.forEach((m, j) => expect(Math.abs(m - extra.mu0[j]!)).toBeLessThan(1e-12));
  });
});
