/**
 * A small Poisson / quasi-Poisson generalised linear model with log link, fitted by
 * iteratively reweighted least squares (IRLS). Written for the Farrington detectors, where
 * the design has a handful of columns (intercept, time trend, a seasonal factor) and about
 * 20–160 rows, and where results must agree with R's `glm.fit` to about 1e-12.
 *
 * The algorithm follows the textbook IRLS for an exponential family (McCullagh & Nelder,
 * "Generalized Linear Models", 2nd ed., 1989, §2.5), with the numerical conventions that R's
 * `glm.fit` documents and uses, because matching R bit-for-bit depends on them:
 *
 *  - start values μ = y + 0.1 (the Poisson family's initialisation), η = log μ;
 *  - each iteration solves the weighted least-squares problem for the working response
 *    z = η + (y − μ)/μ with working weights w = prior·μ, by a Householder QR decomposition
 *    of √w·X (so the normal equations are never formed);
 *  - convergence when |dev − dev_old| / (|dev| + 0.1) < ε (ε = 1e-8), at most 25 iterations;
 *  - step halving if the deviance becomes non-finite;
 *  - the working weights, the QR factor, and hence the hat values and the unscaled covariance,
 *    are those of the *last solved* weighted least-squares problem (computed from the μ that
 *    entered the last iteration), while fitted values and working residuals use the final μ.
 *    The Pearson dispersion Σ W·((y − μ)/μ)² / (n − rank) mixes the two, exactly like
 *    R's `summary.glm`.
 *  - a column whose remaining norm after the previous Householder steps falls below
 *    1e-11 × its original norm is treated as aliased (collinear) and dropped, as LINPACK's
 *    `dqrdc2` (limited column pivoting) does in R; its coefficient is reported as NaN.
 */

/** Design matrix in row-major form: x[i][j] is row i, column j. */
export type DesignRows = ReadonlyArray<ArrayLike<number>>;

export interface PoissonGlmOptions {
  /** Prior weights (default all 1). Rows with weight 0 are left out of the fit. */
  priorWeights?: ArrayLike<number>;
  /** Maximum number of IRLS iterations (default 25, as R). */
  maxIterations?: number;
  /** Relative deviance change for convergence (default 1e-8, as R). */
  epsilon?: number;
}

export interface PoissonGlmFit {
  /** Coefficients in the column order of the design; NaN for aliased columns. */
  coefficients: number[];
  /** true for columns dropped as collinear. */
  aliased: boolean[];
  /** Fitted means μ (final iteration). */
  fitted: Float64Array;
  /** Linear predictor η = log μ (final iteration). */
  linearPredictor: Float64Array;
  /** Working residuals (y − μ)/μ with the final μ. */
  workingResiduals: Float64Array;
  /** Working weights prior·μ of the last solved least-squares problem (0 for unused rows). */
  workingWeights: Float64Array;
  /** Prior weights used. */
  priorWeights: Float64Array;
  /** Diagonal of the hat matrix of the last weighted least-squares problem. */
  hat: Float64Array;
  /** Number of non-aliased columns. */
  rank: number;
  /** Number of rows with positive prior weight minus rank. */
  dfResidual: number;
  /** Poisson deviance at the final iteration. */
  deviance: number;
  iterations: number;
  converged: boolean;
  /** Quasi-Poisson (Pearson) dispersion Σ W·r² / dfResidual; NaN when dfResidual ≤ 0. */
  dispersion: number;
  /**
   * (X'WX)⁻¹ for the non-aliased columns, as a p×p row-major array with NaN in rows/columns
   * of aliased coefficients. Multiply by a dispersion to obtain the covariance.
   */
  covUnscaled: number[][];
  /** Upper-triangular factor R (rank × rank, row-major) of √W·X restricted to kept columns. */
  rFactor: Float64Array;
  /** Indices of the kept (non-aliased) columns, in order. */
  keptColumns: number[];
}

const DOUBLE_EPS = 2.220446049250313e-16;
const QR_TOL = 1e-11;

/** Poisson unit deviance 2·wt·(y·log(y/μ) − (y − μ)), with y·log(y/μ) = 0 when y = 0. */
function poissonDeviance(y: ArrayLike<number>, mu: ArrayLike<number>, wt: ArrayLike<number>): number {
  let dev = 0;
  for (let i = 0; i < y.length; i++) {
    const yi = y[i]!;
    const mi = mu[i]!;
    const term = yi > 0 ? yi * Math.log(yi / mi) - (yi - mi) : mi;
    dev += 2 * wt[i]! * term;
  }
  return dev;
}

/** exp with the lower clamp R's log link applies (μ ≥ machine epsilon). */
function linkInverse(eta: number): number {
  return Math.max(Math.exp(eta), DOUBLE_EPS);
}

interface QrFactor {
  /** Number of rows in the reduced problem (rows with positive weight). */
  m: number;
  /**
   * The m×p matrix (column-major) after factorisation: for the t-th kept column, rows 0 … t−1
   * hold column t of R and rows t … m−1 hold the Householder vector of reflection t.
   */
  a: Float64Array;
  /** v'v of each reflection (0 means the identity). */
  vtv: Float64Array;
  /** R factor (rank × rank, row-major). */
  r: Float64Array;
  /** Original column index of each kept column. */
  kept: number[];
  /** Q'b for the right-hand side, first rank entries used. */
  qtb: Float64Array;
}

/**
 * Householder QR of the m×p matrix a (column-major, overwritten) with right-hand side b
 * (overwritten with Q'b), skipping columns numerically dependent on earlier ones.
 */
function householderQr(a: Float64Array, m: number, p: number, b: Float64Array): QrFactor {
  const vtv = new Float64Array(p);
  const kept: number[] = [];
  const diag: number[] = [];
  let rank = 0;
  for (let j = 0; j < p; j++) {
    const cj = j * m;
    let orig = 0;
    for (let i = 0; i < m; i++) orig += a[cj + i]! * a[cj + i]!;
    // Norm of the part of column j not yet represented by earlier kept columns. (The original
    // norm is measured on the column as transformed so far: reflections preserve the total.)
    let ss = 0;
    for (let i = rank; i < m; i++) ss += a[cj + i]! * a[cj + i]!;
    const rem = Math.sqrt(ss);
    if (rank >= m || orig === 0 || !(rem >= QR_TOL * Math.sqrt(orig))) continue; // aliased
    const x0 = a[cj + rank]!;
    const alpha = x0 >= 0 ? -rem : rem;
    a[cj + rank] = x0 - alpha;
    let vv = 0;
    for (let i = rank; i < m; i++) vv += a[cj + i]! * a[cj + i]!;
    if (vv > 0) {
      for (let jj = j + 1; jj < p; jj++) {
        const cjj = jj * m;
        let dot = 0;
        for (let i = rank; i < m; i++) dot += a[cj + i]! * a[cjj + i]!;
        const f = (2 * dot) / vv;
        for (let i = rank; i < m; i++) a[cjj + i] = a[cjj + i]! - f * a[cj + i]!;
      }
      let dot = 0;
      for (let i = rank; i < m; i++) dot += a[cj + i]! * b[i]!;
      const f = (2 * dot) / vv;
      for (let i = rank; i < m; i++) b[i] = b[i]! - f * a[cj + i]!;
    }
    vtv[rank] = vv;
    diag.push(vv > 0 ? alpha : x0);
    kept.push(j);
    rank++;
  }
  const r = new Float64Array(rank * rank);
  for (let k = 0; k < rank; k++) {
    const ck = kept[k]! * m;
    for (let i = 0; i < k; i++) r[i * rank + k] = a[ck + i]!;
    r[k * rank + k] = diag[k]!;
  }
  return { m, a, vtv, r, kept, qtb: b };
}

/** Solve R·β = c for upper-triangular R (n×n row-major). */
function backSolve(r: Float64Array, n: number, c: ArrayLike<number>): Float64Array {
  const beta = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = c[i]!;
    for (let k = i + 1; k < n; k++) s -= r[i * n + k]! * beta[k]!;
    beta[i] = s / r[i * n + i]!;
  }
  return beta;
}

/** Solve R'·v = c for upper-triangular R (n×n row-major), i.e. a forward substitution. */
export function forwardSolveTransposed(r: ArrayLike<number>, n: number, c: ArrayLike<number>): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = c[i]!;
    for (let k = 0; k < i; k++) s -= r[k * n + i]! * v[k]!;
    v[i] = s / r[i * n + i]!;
  }
  return v;
}

/** Diagonal of Q₁Q₁' (the hat matrix) from the Householder vectors. */
function hatDiagonal(qr: QrFactor): Float64Array {
  const { m, a, vtv, kept } = qr;
  const rank = kept.length;
  const h = new Float64Array(m);
  const e = new Float64Array(m);
  for (let k = 0; k < rank; k++) {
    // Q e_k = H_0 H_1 … H_{rank−1} e_k: apply the reflections from last to first.
    e.fill(0);
    e[k] = 1;
    for (let t = rank - 1; t >= 0; t--) {
      const vv = vtv[t]!;
      if (vv === 0) continue;
      const ct = kept[t]! * m;
      let dot = 0;
      for (let i = t; i < m; i++) dot += a[ct + i]! * e[i]!;
      const f = (2 * dot) / vv;
      for (let i = t; i < m; i++) e[i] = e[i]! - f * a[ct + i]!;
    }
    for (let i = 0; i < m; i++) h[i] = h[i]! + e[i]! * e[i]!;
  }
  return h;
}

/**
 * Fit log E[y] = Xβ for counts y by IRLS. Quasi-Poisson and Poisson share the same fit; only
 * the dispersion differs (use `fit.dispersion` for quasi-Poisson, 1 for Poisson).
 */
export function fitPoissonGlm(x: DesignRows, y: ArrayLike<number>, options: PoissonGlmOptions = {}): PoissonGlmFit {
  const n = y.length;
  if (x.length !== n) throw new Error(`design has ${x.length} rows but y has ${n} values`);
  const p = n > 0 ? x[0]!.length : 0;
  const maxit = options.maxIterations ?? 25;
  const epsilon = options.epsilon ?? 1e-8;
  const prior = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = options.priorWeights ? options.priorWeights[i]! : 1;
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`prior weight ${i} is not a finite non-negative number`);
    prior[i] = w;
  }
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    if (!(yi >= 0) || !Number.isFinite(yi)) throw new Error(`y[${i}] is not a finite non-negative number`);
  }
  // Rows taking part in the least-squares problems.
  const good: number[] = [];
  for (let i = 0; i < n; i++) if (prior[i]! > 0) good.push(i);
  const m = good.length;

  const linPred = new Float64Array(n);
  const mu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = y[i]! + 0.1;
    linPred[i] = Math.log(start);
    mu[i] = linkInverse(linPred[i]!);
  }
  let devOld = poissonDeviance(y, mu, prior);
  let dev = devOld;
  let coef: Float64Array | null = null; // full-length, aliased entries 0
  let coefOld: Float64Array | null = null;
  let converged = false;
  let iter = 0;
  let lastQr: QrFactor | null = null;
  const ww = new Float64Array(n); // working weights of the last solve

  const computeEta = (beta: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const row = x[i]!;
      let s = 0;
      for (let j = 0; j < p; j++) if (beta[j] !== 0) s += row[j]! * beta[j]!;
      linPred[i] = s;
      mu[i] = linkInverse(s);
    }
  };

  for (iter = 1; iter <= maxit; iter++) {
    const cols = new Float64Array(m * p);
    const rhs = new Float64Array(m);
    for (let g = 0; g < m; g++) {
      const i = good[g]!;
      const muEta = Math.max(Math.exp(linPred[i]!), DOUBLE_EPS);
      const z = linPred[i]! + (y[i]! - mu[i]!) / muEta;
      const wSqrt = Math.sqrt((prior[i]! * muEta * muEta) / mu[i]!);
      ww[i] = wSqrt * wSqrt;
      const row = x[i]!;
      for (let j = 0; j < p; j++) cols[j * m + g] = row[j]! * wSqrt;
      rhs[g] = z * wSqrt;
    }
    const qr = householderQr(cols, m, p, rhs);
    lastQr = qr;
    const rank = qr.kept.length;
    const betaKept = backSolve(qr.r, rank, qr.qtb);
    const beta = new Float64Array(p);
    for (let k = 0; k < rank; k++) beta[qr.kept[k]!] = betaKept[k]!;
    computeEta(beta);
    dev = poissonDeviance(y, mu, prior);
    // Step halving while the deviance is not finite.
    let halvings = 0;
    while (!Number.isFinite(dev)) {
      if (coefOld === null || halvings >= maxit) {
        throw new Error('IRLS diverged: non-finite deviance and no previous coefficients to fall back on');
      }
      for (let j = 0; j < p; j++) beta[j] = (beta[j]! + coefOld[j]!) / 2;
      computeEta(beta);
      dev = poissonDeviance(y, mu, prior);
      halvings++;
    }
    coef = beta;
    if (Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < epsilon) {
      converged = true;
      break;
    }
    devOld = dev;
    coefOld = beta;
  }
  if (iter > maxit) iter = maxit;
  if (lastQr === null || coef === null) {
    throw new Error('GLM fit needs at least one row with positive weight and one column');
  }

  const qr = lastQr;
  const rank = qr.kept.length;
  const workingResiduals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    workingResiduals[i] = (y[i]! - mu[i]!) / Math.max(Math.exp(linPred[i]!), DOUBLE_EPS);
  }
  // Hat values are only needed for residual diagnostics: computed on first use.
  let hatCache: Float64Array | null = null;
  const hatValues = (): Float64Array => {
    if (hatCache === null) {
      const hatGood = hatDiagonal(qr);
      hatCache = new Float64Array(n);
      for (let g = 0; g < m; g++) {
        const hv = hatGood[g]!;
        hatCache[good[g]!] = hv > 1 - 10 * DOUBLE_EPS ? 1 : hv;
      }
    }
    return hatCache;
  };
  const dfResidual = m - rank;
  let dispersion = Number.NaN;
  if (dfResidual > 0) {
    let s = 0;
    for (const i of good) s += ww[i]! * workingResiduals[i]! * workingResiduals[i]!;
    dispersion = s / dfResidual;
  }
  // (R'R)⁻¹ = R⁻¹R⁻ᵀ.
  const rInv = new Float64Array(rank * rank);
  for (let k = 0; k < rank; k++) {
    const e = new Float64Array(rank);
    e[k] = 1;
    const col = backSolve(qr.r, rank, e);
    for (let i = 0; i < rank; i++) rInv[i * rank + k] = col[i]!;
  }
  const covUnscaled: number[][] = [];
  for (let a = 0; a < p; a++) covUnscaled.push(new Array<number>(p).fill(Number.NaN));
  for (let a = 0; a < rank; a++) {
    for (let c = 0; c < rank; c++) {
      let s = 0;
      for (let k = Math.max(a, c); k < rank; k++) s += rInv[a * rank + k]! * rInv[c * rank + k]!;
      covUnscaled[qr.kept[a]!]![qr.kept[c]!] = s;
    }
  }
  const aliased = new Array<boolean>(p).fill(true);
  for (const j of qr.kept) aliased[j] = false;
  const coefficients = Array.from(coef, (v, j) => (aliased[j] ? Number.NaN : v));
  return {
    coefficients,
    aliased,
    fitted: mu,
    linearPredictor: linPred,
    workingResiduals,
    workingWeights: ww,
    priorWeights: prior,
    get hat(): Float64Array {
      return hatValues();
    },
    rank,
    dfResidual,
    deviance: dev,
    iterations: iter,
    converged,
    dispersion,
    covUnscaled,
    rFactor: qr.r,
    keptColumns: qr.kept,
  };
}

/**
 * Pearson-type dispersion Σ wᵢ·rᵢ² / dfResidual with caller-supplied weights wᵢ in place of the
 * working weights (rows with wᵢ ≤ 0 skipped). R's farringtonFlexible overwrites the model's
 * working weights with the prior weights after reweighting, so its later calls to summary()
 * and predict() use this variant with wᵢ = prior weight.
 */
export function dispersionWithWeights(fit: PoissonGlmFit, weights: ArrayLike<number>): number {
  if (fit.dfResidual <= 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w > 0) s += w * fit.workingResiduals[i]! * fit.workingResiduals[i]!;
  }
  return s / fit.dfResidual;
}

/** Standard errors √(dispersion·diag((X'WX)⁻¹)); NaN for aliased coefficients. */
export function standardErrors(fit: PoissonGlmFit, dispersion: number): number[] {
  return fit.coefficients.map((_, j) => Math.sqrt(dispersion * fit.covUnscaled[j]![j]!));
}

export interface LinkPrediction {
  /** Linear predictor x₀'β (aliased coefficients count as 0). */
  eta: number;
  /** Standard error of η for the given dispersion: √(dispersion · x₀'(X'WX)⁻¹x₀). */
  se: number;
}

/** Prediction on the link (log) scale at a new design row x0. */
export function predictLink(fit: PoissonGlmFit, x0: ArrayLike<number>, dispersion: number): LinkPrediction {
  const kept = fit.keptColumns;
  const rank = kept.length;
  let eta = 0;
  const xk = new Float64Array(rank);
  for (let k = 0; k < rank; k++) {
    const j = kept[k]!;
    xk[k] = x0[j]!;
    eta += x0[j]! * fit.coefficients[j]!;
  }
  const v = forwardSolveTransposed(fit.rFactor, rank, xk);
  let q = 0;
  for (let k = 0; k < rank; k++) q += v[k]! * v[k]!;
  return { eta, se: Math.sqrt(q * dispersion) };
}
