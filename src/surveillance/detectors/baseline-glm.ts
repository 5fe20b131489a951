/**
 * Log-link count GLMs for detector baselines (CUSUM m = 'glm', GLR mu0): Poisson, negative
 * binomial with known θ, and negative binomial with θ estimated by maximum likelihood.
 *
 * The fitting follows the textbook iteratively reweighted least squares (McCullagh & Nelder,
 * Generalized Linear Models, 2nd ed. 1989, §2.5) with the conventions of R's glm.fit, so that
 * results agree with R to rounding: start at μ = y + 0.1 (Poisson) or y + [y = 0]/6 (negative
 * binomial), or at a given η; stop when |dev − dev_old| / (|dev| + 0.1) < ε (ε = 1e-8), at most
 * 25 iterations; μ = max(e^η, machine ε).
 *
 * The θ-estimating fit alternates, as in Venables & Ripley (Modern Applied Statistics with S,
 * 4th ed. 2002, §7.4; MASS::glm.nb): a Poisson fit, then θ by Newton–Raphson on the profile
 * score of the NB log-likelihood (tolerance ε^{1/4} of machine precision), then NB fits with θ
 * fixed, each new θ computed from the fitted means of the previous round, until the change in
 * log-likelihood and θ is below ε.
 *
 * The weighted least-squares steps use a Householder QR decomposition (Golub & Van Loan,
 * Matrix Computations, §5.2).
 */
import { digamma, lgamma, trigamma } from 'lib-r-math.js';

const DBL_EPS = 2.220446049250313e-16;

export interface GlmFamily {
  name: string;
  /** Variance function V(μ). */
  variance(mu: number): number;
  /** Unit deviance contribution for one observation (already multiplied by 2·weight). */
  devResid(y: number, mu: number, wt: number): number;
  /** Starting mean from the response. */
  mustart(y: number): number;
  validMu(mu: number): boolean;
}

export function poissonFamily(): GlmFamily {
  return {
    name: 'poisson',
    variance: (mu) => mu,
    devResid: (y, mu, wt) => (y > 0 ? 2 * wt * (y * Math.log(y / mu) - (y - mu)) : 2 * mu * wt),
    mustart: (y) => y + 0.1,
    validMu: (mu) => Number.isFinite(mu) && mu > 0,
  };
}

export function negBinFamily(theta: number): GlmFamily {
  return {
    name: `negbin(${theta})`,
    variance: (mu) => mu + (mu * mu) / theta,
    devResid: (y, mu, wt) => 2 * wt * (y * Math.log(Math.max(1, y) / mu) - (y + theta) * Math.log((y + theta) / (mu + theta))),
    mustart: (y) => y + (y === 0 ? 1 / 6 : 0),
    validMu: (mu) => mu > 0,
  };
}

/** Inverse log link with R's floor at machine epsilon; also dμ/dη for the log link. */
function expFloor(eta: number): number {
  return Math.max(Math.exp(eta), DBL_EPS);
}

export interface GlmFit {
  coefficients: number[];
  mu: number[];
  eta: number[];
  deviance: number;
  iterations: number;
  converged: boolean;
  dfResidual: number;
}

export interface GlmOptions {
  weights?: number[];
  etastart?: number[];
  epsilon?: number;
  maxit?: number;
}

/** Thrown when a GLM cannot be fitted (singular design, no valid coefficients). */
export class GlmFitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlmFitError';
  }
}

/**
 * Least-squares solution of A·β ≈ b by Householder QR. A is n×p given by rows.
 * Throws GlmFitError when A is (numerically) rank deficient.
 */
export function leastSquares(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = A.length;
  const p = n > 0 ? A[0]!.length : 0;
  if (n < p) throw new GlmFitError(`fewer observations (${n}) than coefficients (${p})`);
  // Column-major working copy.
  const cols: number[][] = [];
  for (let j = 0; j < p; j++) {
    const c = new Array<number>(n);
    for (let i = 0; i < n; i++) c[i] = A[i]![j]!;
    cols.push(c);
  }
  const rhs = b.slice();
  const colNorm0 = cols.map((c) => Math.sqrt(c.reduce((s, v) => s + v * v, 0)));
  for (let k = 0; k < p; k++) {
    const c = cols[k]!;
    let norm = 0;
    for (let i = k; i < n; i++) norm += c[i]! * c[i]!;
    norm = Math.sqrt(norm);
    if (norm <= 1e-7 * (colNorm0[k]! || 1)) throw new GlmFitError(`design matrix is rank deficient (column ${k + 1})`);
    const alpha = c[k]! > 0 ? -norm : norm;
    // Householder vector v = x − α e_k, stored in place.
    const v = new Array<number>(n).fill(0);
    for (let i = k; i < n; i++) v[i] = c[i]!;
    v[k] = v[k]! - alpha;
    let vv = 0;
    for (let i = k; i < n; i++) vv += v[i]! * v[i]!;
    if (vv === 0) continue;
    const apply = (x: number[]) => {
      let d = 0;
      for (let i = k; i < n; i++) d += v[i]! * x[i]!;
      const f = (2 * d) / vv;
      for (let i = k; i < n; i++) x[i] = x[i]! - f * v[i]!;
    };
    for (let j = k; j < p; j++) apply(cols[j]!);
    apply(rhs);
  }
  // Back substitution with R (upper triangle of the transformed columns).
  const beta = new Array<number>(p).fill(0);
  for (let k = p - 1; k >= 0; k--) {
    let s = rhs[k]!;
    for (let j = k + 1; j < p; j++) s -= cols[j]![k]! * beta[j]!;
    beta[k] = s / cols[k]![k]!;
  }
  return beta;
}

function linearPredictor(X: readonly (readonly number[])[], beta: readonly number[]): number[] {
  return X.map((row) => row.reduce((s, x, j) => s + x * beta[j]!, 0));
}

/**
 * IRLS fit of a log-link GLM, mirroring R's glm.fit (no offset).
 */
export function fitLogLinkGlm(X: readonly (readonly number[])[], y: readonly number[], family: GlmFamily, opts: GlmOptions = {}): GlmFit {
  const n = y.length;
  const p = n > 0 ? X[0]!.length : 0;
  const wts = opts.weights ?? new Array<number>(n).fill(1);
  const epsilon = opts.epsilon ?? 1e-8;
  const maxit = opts.maxit ?? 25;
  if (X.length !== n) throw new GlmFitError('design matrix and response differ in length');

  let eta = opts.etastart ? opts.etastart.slice() : y.map((yi) => Math.log(family.mustart(yi)));
  let mu = eta.map(expFloor);
  const devOf = (m: readonly number[]) => {
    let d = 0;
    for (let i = 0; i < n; i++) d += family.devResid(y[i]!, m[i]!, wts[i]!);
    return d;
  };
  let devold = devOf(mu);
  let dev = devold;
  let coef: number[] = new Array<number>(p).fill(0);
  let coefold: number[] | null = null;
  let converged = false;
  let iter: number;
  for (iter = 1; iter <= maxit; iter++) {
    const rows: number[][] = [];
    const zw: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!(wts[i]! > 0)) continue;
      const me = expFloor(eta[i]!);
      if (me === 0) continue;
      const z = eta[i]! + (y[i]! - mu[i]!) / me;
      const w = Math.sqrt((wts[i]! * me * me) / family.variance(mu[i]!));
      rows.push(X[i]!.map((x) => x * w));
      zw.push(z * w);
    }
    coef = leastSquares(rows, zw);
    eta = linearPredictor(X, coef);
    mu = eta.map(expFloor);
    dev = devOf(mu);
    // Step halving when the deviance is not finite or the means are invalid (as glm.fit does).
    if (!Number.isFinite(dev) || !mu.every((m) => family.validMu(m))) {
      if (!coefold) throw new GlmFitError('no valid set of coefficients: please supply starting values');
      let ii = 1;
      while (!Number.isFinite(dev) || !mu.every((m) => family.validMu(m))) {
        if (ii > maxit) throw new GlmFitError('inner loop: cannot correct step size');
        ii++;
        const prev: number[] = coefold;
        coef = coef.map((c, j) => (c + prev[j]!) / 2);
        eta = linearPredictor(X, coef);
        mu = eta.map(expFloor);
        dev = devOf(mu);
      }
    }
    if (Math.abs(dev - devold) / (Math.abs(dev) + 0.1) < epsilon) {
      converged = true;
      break;
    }
    devold = dev;
    coefold = coef;
  }
  return { coefficients: coef, mu, eta, deviance: dev, iterations: Math.min(iter, maxit), converged, dfResidual: n - p };
}

/** Profile-likelihood estimate of the NB size θ for given means (MASS::theta.ml's Newton scheme). */
export function thetaMl(y: readonly number[], mu: readonly number[], limit = 25): { theta: number; warning?: string } {
  const n = y.length;
  const eps = Math.pow(DBL_EPS, 0.25);
  let s = 0;
  for (let i = 0; i < n; i++) s += (y[i]! / mu[i]! - 1) ** 2;
  let t0 = n / s;
  let it = 0;
  let del = 1;
  while (++it < limit && Math.abs(del) > eps) {
    t0 = Math.abs(t0);
    let score = 0;
    let info = 0;
    for (let i = 0; i < n; i++) {
      const yi = y[i]!;
      const mi = mu[i]!;
      score += digamma(t0 + yi) - digamma(t0) + Math.log(t0) + 1 - Math.log(t0 + mi) - (yi + t0) / (mi + t0);
      info += -trigamma(t0 + yi) + trigamma(t0) - 1 / t0 + 2 / (mi + t0) - (yi + t0) / (mi + t0) ** 2;
    }
    del = score / info;
    t0 += del;
  }
  let warning: string | undefined;
  if (t0 < 0) {
    t0 = 0;
    warning = 'theta estimate truncated at zero';
  }
  if (it === limit) warning = 'theta iteration limit reached';
  return warning ? { theta: t0, warning } : { theta: t0 };
}

function nbLogLik(theta: number, mu: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const yi = y[i]!;
    const mi = mu[i]!;
    s +=
      lgamma(theta + yi) -
      lgamma(theta) -
      lgamma(yi + 1) +
      theta * Math.log(theta) +
      yi * Math.log(mi + (yi === 0 ? 1 : 0)) -
      (theta + yi) * Math.log(theta + mi);
  }
  return s;
}

export interface NegBinFit extends GlmFit {
  theta: number;
  warnings: string[];
}

/** Negative binomial GLM with log link and θ estimated by maximum likelihood (alternating fits). */
export function fitNegBinGlm(
  X: readonly (readonly number[])[],
  y: readonly number[],
  opts: { epsilon?: number; maxit?: number } = {},
): NegBinFit {
  const epsilon = opts.epsilon ?? 1e-8;
  const maxit = opts.maxit ?? 25;
  const warnings: string[] = [];
  let fit = fitLogLinkGlm(X, y, poissonFamily(), { epsilon, maxit });
  let mu = fit.mu;
  let th = thetaMl(y, mu, maxit);
  if (th.warning) warnings.push(th.warning);
  let theta = th.theta;
  const d1 = Math.sqrt(2 * Math.max(1, fit.dfResidual));
  const d2 = 1;
  let del = 1;
  let Lm = nbLogLik(theta, mu, y);
  let Lm0 = Lm + 2 * d1;
  let iter = 0;
  while (++iter <= maxit && Math.abs(Lm0 - Lm) / d1 + Math.abs(del) / d2 > epsilon) {
    const etastart = mu.map((m) => Math.log(m));
    fit = fitLogLinkGlm(X, y, negBinFamily(theta), { etastart, epsilon, maxit });
    const t0 = theta;
    th = thetaMl(y, mu, maxit);
    if (th.warning) warnings.push(th.warning);
    theta = th.theta;
    mu = fit.mu;
    del = t0 - theta;
    Lm0 = Lm;
    Lm = nbLogLik(theta, mu, y);
  }
  if (iter > maxit) warnings.push('alternation limit reached');
  return { ...fit, theta, warnings };
}

/** exp(x·β) with R's floor, for predictions at new design rows. */
export function predictResponse(Xnew: readonly (readonly number[])[], beta: readonly number[]): number[] {
  return linearPredictor(Xnew, beta).map(expFloor);
}

/**
 * Design rows for log μ_t = β0 [+ β1·t] + Σ_{s=1..S} (γ_s cos(2πst/p) + δ_s sin(2πst/p)),
 * the seasonal baseline used by R surveillance's cusum (m = 'glm', S = 1) and glrnb.
 */
export function harmonicDesign(times: readonly number[], period: number, S: number, trend: boolean): number[][] {
  return times.map((t) => {
    const row = [1];
    if (trend) row.push(t);
    for (let s = 1; s <= S; s++) {
      const arg = ((2 * s * Math.PI) / period) * t;
      row.push(Math.cos(arg), Math.sin(arg));
    }
    return row;
  });
}
