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
  /**
   * Structured designs only (`fitFactorTrendGlm`): keep the fit's arrays in this workspace
   * instead of new ones; the fit is then valid until the next fit in the same workspace.
   */
  workspace?: GlmWorkspace;
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
  /** Indices of the kept (non-aliased) columns, in order. */
  keptColumns: number[];
  /**
   * x₀'(X'WX)⁻¹x₀ over the kept columns for a design row x₀ (aliased entries ignored): the
   * unscaled variance of the linear predictor x₀'β̂.
   */
  linkVarianceUnscaled(x0: ArrayLike<number>): number;
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
  let iter: number;
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
    keptColumns: qr.kept,
    linkVarianceUnscaled(x0: ArrayLike<number>): number {
      const xk = new Float64Array(rank);
      for (let k = 0; k < rank; k++) xk[k] = x0[qr.kept[k]!]!;
      const v = forwardSolveTransposed(qr.r, rank, xk);
      let q = 0;
      for (let k = 0; k < rank; k++) q += v[k]! * v[k]!;
      return q;
    },
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
  if (fit instanceof FactorTrendFit) return fit.weightedResidualSquares(weights) / fit.dfResidual;
  const r = fit.workingResiduals;
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w > 0) s += w * r[i]! * r[i]!;
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
  let eta = 0;
  for (let k = 0; k < kept.length; k++) {
    const j = kept[k]!;
    eta += x0[j]! * fit.coefficients[j]!;
  }
  return { eta, se: Math.sqrt(fit.linkVarianceUnscaled(x0) * dispersion) };
}

// ---------------------------------------------------------------------------------------------
// Structured designs: intercept + optional time trend + one factor (treatment contrasts).
//
// The Farrington designs have this form, and for it the weighted least-squares step of IRLS
// has a closed form, so no QR decomposition is needed. Reparametrise as one level per factor
// value ("cell means") a_ℓ plus the slope β: η = a_ℓ(i) + β·tᵢ. With W_ℓ = Σ_ℓ w, the weighted
// level means t̄_ℓ, z̄_ℓ and the pooled within-level sums S_tt = Σ w(t − t̄_ℓ)²,
// S_tz = Σ w(t − t̄_ℓ)(z − z̄_ℓ), the weighted least-squares solution is
//   β = S_tz / S_tt,  a_ℓ = z̄_ℓ − β·t̄_ℓ
// (the within-groups estimator of the analysis of covariance; e.g. Searle, "Linear Models",
// 1971, §8.2), and the inverse information follows from z̄_ℓ and β being uncorrelated:
//   Var(Σ g_ℓ a_ℓ + τ β) = Σ g_ℓ²/W_ℓ + (τ − Σ g_ℓ t̄_ℓ)²/S_tt,
//   hᵢ = wᵢ·(1/W_ℓ + (tᵢ − t̄_ℓ)²/S_tt).
// These are the same fitted values, hat values and covariances as the QR route up to rounding
// (a few ulps), in O(rows) per iteration instead of O(rows·columns²). When the structure is
// degenerate (an empty level, a trend that no level can estimate, extreme weight ratios where
// the QR route might declare a column aliased) the general QR fit is used instead.
// ---------------------------------------------------------------------------------------------

/** Intercept, optional time trend and one factor, in the column order [1, t, d₁ … d_{L−1}]. */
export interface FactorTrendDesign {
  /** Factor level (0 … nLevels − 1) of every row; level 0 is the reference (no dummy column). */
  level: Int32Array;
  nLevels: number;
  /** Time of every row, or null for a model without trend. */
  time: Float64Array | null;
}

/** A design given either as rows or as a structured intercept + trend + factor design. */
export type GlmDesign = DesignRows | FactorTrendDesign;

function isFactorTrend(x: GlmDesign): x is FactorTrendDesign {
  return !Array.isArray(x) && (x as FactorTrendDesign).level instanceof Int32Array;
}

/** The design row of a structured design for level `lev` at time `t`, in column order. */
export function factorTrendRow(d: Pick<FactorTrendDesign, 'nLevels' | 'time'>, lev: number, t: number): number[] {
  const row = [1];
  if (d.time !== null) row.push(t);
  for (let j = 1; j < d.nLevels; j++) row.push(lev === j ? 1 : 0);
  return row;
}

/** The rows of a structured design (for the general QR fit). */
export function factorTrendRows(d: FactorTrendDesign): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < d.level.length; i++) rows.push(factorTrendRow(d, d.level[i]!, d.time === null ? 0 : d.time[i]!));
  return rows;
}

/** Fits either kind of design: structured designs take the closed-form route when they can. */
export function fitGlm(x: GlmDesign, y: ArrayLike<number>, options: PoissonGlmOptions = {}): PoissonGlmFit {
  if (!isFactorTrend(x)) return fitPoissonGlm(x, y, options);
  return fitFactorTrendGlm(x, y, options) ?? fitPoissonGlm(factorTrendRows(x), y, options);
}

/** R's start η = log(y + 0.1), μ = max(e^η, ε) and log y, tabulated for small integer counts. */
const START_TABLE_SIZE = 4096;
const START_ETA = new Float64Array(START_TABLE_SIZE);
const START_MU = new Float64Array(START_TABLE_SIZE);
const LOG_Y = new Float64Array(START_TABLE_SIZE);
/** The working response z = η + (y − μ)/μ and the unit deviance term at the start values. */
const START_Z = new Float64Array(START_TABLE_SIZE);
const START_DEV = new Float64Array(START_TABLE_SIZE);
for (let y = 0; y < START_TABLE_SIZE; y++) {
  const eta = Math.log(y + 0.1);
  const mu = linkInverse(eta);
  START_ETA[y] = eta;
  START_MU[y] = mu;
  LOG_Y[y] = y > 0 ? Math.log(y) : 0;
  START_Z[y] = eta + (y - mu) / mu;
  START_DEV[y] = y > 0 ? y * Math.log(y / mu) - (y - mu) : mu;
}

/** Smallest ratio of level weights, and of within-level to total trend variation, taken as safe. */
const LEVEL_WEIGHT_RATIO_MIN = 1e-18;
const TREND_VARIATION_RATIO_MIN = 1e-12;
/** Rows between direct evaluations of e^(β·t) in the closed-form IRLS pass. */
const EXP_RESYNC = 32;

/**
 * Space a structured fit keeps its results in (counts, weights, means, time, level sums), given
 * as `workspace` to `fitFactorTrendGlm` / `fitGlm` so that repeated fits allocate nothing. A fit
 * made in a workspace is valid until the next fit in the same workspace: a caller that keeps
 * fits side by side uses one workspace for each.
 */
export interface GlmWorkspace {
  buffer: Float64Array;
  /** The views of the last fit made here (reused while the numbers of rows and levels stay). */
  views: FitViews | null;
}

export function createGlmWorkspace(): GlmWorkspace {
  return { buffer: new Float64Array(0), views: null };
}

/** A fit's arrays: views into one buffer. */
interface FitViews {
  n: number;
  L: number;
  y: Float64Array;
  prior: Float64Array;
  muA: Float64Array;
  muB: Float64Array;
  tShift: Float64Array;
  /** Filled on first use: linear predictor, working weights, working residuals, hat values. */
  linPred: Float64Array;
  ww: Float64Array;
  residuals: Float64Array;
  hat: Float64Array;
  /** Level intercepts a_ℓ (shifted time), weighted level means t̄_ℓ, level weights W_ℓ. */
  a: Float64Array;
  tBar: Float64Array;
  W: Float64Array;
}

const FIT_ROW_ARRAYS = 9;
const FIT_LEVEL_ARRAYS = 3;

function fitViews(own: Float64Array, n: number, L: number): FitViews {
  const row = (k: number): Float64Array => own.subarray(k * n, (k + 1) * n);
  const lev = (k: number): Float64Array => own.subarray(FIT_ROW_ARRAYS * n + k * L, FIT_ROW_ARRAYS * n + (k + 1) * L);
  return {
    n,
    L,
    y: row(0),
    prior: row(1),
    muA: row(2),
    muB: row(3),
    tShift: row(4),
    linPred: row(5),
    ww: row(6),
    residuals: row(7),
    hat: row(8),
    a: lev(0),
    tBar: lev(1),
    W: lev(2),
  };
}

/** Views for a fit of n rows and L levels: the workspace's (grown when too small), or new ones. */
function viewsFor(ws: GlmWorkspace | undefined, n: number, L: number): FitViews {
  const size = FIT_ROW_ARRAYS * n + FIT_LEVEL_ARRAYS * L;
  if (ws === undefined) return fitViews(new Float64Array(size), n, L);
  const v = ws.views;
  if (v !== null && v.n === n && v.L === L && v.y.buffer === ws.buffer.buffer) return v;
  if (ws.buffer.length < size) ws.buffer = new Float64Array(Math.max(size, 2 * ws.buffer.length, 1024));
  ws.views = fitViews(ws.buffer, n, L);
  return ws.views;
}

interface FitScratch {
  runEnd: Int32Array;
  /**
   * Segments of rows of one level over which e^(β·t) is carried by the factor e^β (segEnd: one
   * past the last row); segResync = 1 when it is evaluated directly at the segment's first row.
   */
  segEnd: Int32Array;
  segResync: Uint8Array;
  /** Rows where e^(β·t) is evaluated directly, and its value there in the current pass. */
  resyncRows: Int32Array;
  resyncExp: Float64Array;
  sums: Float64Array;
  /** Per level: Σ ω·y and Σ ω·y·t (t shifted), constant over the iterations. */
  ySums: Float64Array;
  expA: Float64Array;
}

let scratch: FitScratch | null = null;

/**
 * The closed-form fit's temporaries for n rows and L levels, reused from call to call (grown
 * when too small). The fit is synchronous and never re-entered, and nothing it returns points
 * into this space.
 */
function scratchFor(n: number, L: number): FitScratch {
  if (scratch === null || scratch.runEnd.length < n || scratch.expA.length < L) {
    const rows = Math.max(n, scratch?.runEnd.length ?? 0, 256);
    const levels = Math.max(L, scratch?.expA.length ?? 0, 16);
    scratch = {
      runEnd: new Int32Array(rows),
      segEnd: new Int32Array(rows),
      segResync: new Uint8Array(rows),
      resyncRows: new Int32Array(rows),
      resyncExp: new Float64Array(rows),
      sums: new Float64Array(5 * levels),
      ySums: new Float64Array(2 * levels),
      expA: new Float64Array(levels),
    };
  }
  return scratch;
}

/**
 * IRLS for a structured design by the closed form above, with exactly the conventions of
 * `fitPoissonGlm` (start, convergence rule, last-solve working weights and hat values, Pearson
 * dispersion). Returns null when the structure is degenerate; the caller then uses the QR fit.
 *
 * After the first iteration the means are μᵢ = e^(a_ℓ + β·tᵢ) of the previous solution, so the
 * working response z = η + (y − μ)/μ gives, per level, Σ w·z = a_ℓ·W_ℓ + β·Σ w·t + Y_ℓ − W_ℓ
 * and Σ w·t·z = a_ℓ·Σ w·t + β·Σ w·t² + YT_ℓ − Σ w·t, with Y_ℓ = Σ ω·y and YT_ℓ = Σ ω·y·t fixed;
 * the least-squares solution is then the Newton step
 *   β' = β + Σ_ℓ (YT_ℓ − t̄_ℓ·Y_ℓ) / S_tt,  a'_ℓ = a_ℓ + (β − β')·t̄_ℓ + Y_ℓ/W_ℓ − 1,
 * and the deviance 2·Σ ω·(y·log y − y·η − y + μ) = 2·(Σ ω·y·log y − Σ_ℓ a_ℓ·Y_ℓ − β·Σ YT_ℓ −
 * Σ Y_ℓ + Σ W_ℓ). A pass over the rows only needs Σ w, Σ w·t and Σ w·t² per level. (While a
 * mean sits on its floor ε the deviance is summed row by row instead.)
 */
export function fitFactorTrendGlm(d: FactorTrendDesign, y: ArrayLike<number>, options: PoissonGlmOptions = {}): PoissonGlmFit | null {
  const n = y.length;
  if (d.level.length !== n || (d.time !== null && d.time.length !== n)) {
    throw new Error(`design has ${d.level.length} rows but y has ${n} values`);
  }
  const L = d.nLevels;
  const time = d.time;
  const withTrend = time !== null;
  const level = d.level;
  const p = L + (withTrend ? 1 : 0);
  const maxit = options.maxIterations ?? 25;
  const epsilon = options.epsilon ?? 1e-8;
  // What the returned fit keeps lives in one buffer (the caller's workspace, or its own); the
  // loop's temporaries in the module's scratch space (allocations, not arithmetic, were a large
  // share of a fit's time).
  const views = viewsFor(options.workspace, n, L);
  const { y: yv, prior, muA, muB, tShift, a, tBar, W } = views;
  tBar.fill(0);
  const sc = scratchFor(n, L);
  // Time is shifted by its midrange so that the one-pass sums below lose no precision.
  const t0 = withTrend && n > 0 ? time[0]! + (time[n - 1]! - time[0]!) / 2 : 0;
  // e^η is computed as e^(a_ℓ)·e^(β·t): one exp per level, and e^(β·t) carried from row to row
  // by the factor e^β where the time advances by exactly 1 (consecutive weeks), evaluated
  // directly every EXP_RESYNC rows and after any other step. This agrees with exp(η) to a few
  // ulps (≈ 1e-14 relative) and replaces an exp per row and iteration by a multiplication.
  const segEnd = sc.segEnd;
  const segResync = sc.segResync;
  let nSeg = 0;
  const resyncRows = sc.resyncRows;
  const resyncExp = sc.resyncExp;
  let nResync = 0;
  // Runs of consecutive rows with the same level (runEnd[r] = one past the run's last row).
  const runEnd = sc.runEnd;
  let nRuns = 0;
  // Per-level sums (Σw, Σwt, Σwz, Σwt², Σwtz) of the problem being solved: Σwz and Σwtz only
  // for the first (from the start values), later problems are solved from the rest.
  const sums = sc.sums;
  sums.fill(0, 0, 5 * L);
  const ySums = sc.ySums;
  ySums.fill(0, 0, 2 * L);
  const expA = sc.expA;
  let beta = 0;
  let sTT = Number.POSITIVE_INFINITY;
  let m = 0;
  let devOld = 0;
  let yLogY = 0; // Σ ω·y·log y
  let ySum = 0; // Σ ω·y
  let ytSum = 0; // Σ ω·y·t
  // Checks and the design's structure: runs of one level, shifted time, unit time steps. (The
  // passes below are kept small: loops touching many arrays at once compile to slower code.)
  for (let i = 0; i < n; i++) {
    const l = level[i]!;
    if (!(l >= 0 && l < L)) throw new Error(`level[${i}] = ${l} is outside 0 … ${L - 1}`);
    const newRun = i > 0 && l !== level[i - 1];
    if (newRun) runEnd[nRuns++] = i;
    if (withTrend) {
      tShift[i] = time[i]! - t0;
      const unit = i > 0 && time[i]! - time[i - 1]! === 1 && i % EXP_RESYNC !== 0;
      if (!unit) resyncRows[nResync++] = i;
      if (i === 0 || newRun || !unit) {
        if (i > 0) segEnd[nSeg++] = i;
        segResync[nSeg] = unit ? 0 : 1;
      }
    } else {
      tShift[i] = 0;
    }
  }
  if (n > 0) runEnd[nRuns++] = n;
  if (withTrend && n > 0) segEnd[nSeg++] = n;
  const pwIn = options.priorWeights;
  // Without prior weights every ω is 1 and the passes skip multiplying by it.
  const unitPrior = pwIn === undefined;
  // (x >= 0 && x <= MAX_VALUE: finite and non-negative, false for NaN.)
  if (pwIn === undefined) prior.fill(1);
  else {
    for (let i = 0; i < n; i++) {
      const pw = pwIn[i]!;
      if (!(pw >= 0 && pw <= Number.MAX_VALUE)) throw new Error(`prior weight ${i} is not a finite non-negative number`);
      prior[i] = pw;
    }
  }
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    if (!(yi >= 0 && yi <= Number.MAX_VALUE)) throw new Error(`y[${i}] is not a finite non-negative number`);
    yv[i] = yi;
  }
  // R's start values μ = y + 0.1 (tabulated for small counts), the start deviance, and the sums
  // of the first least-squares problem, run by run.
  for (let r = 0, i = 0; r < nRuns; r++) {
    const end = runEnd[r]!;
    const l = level[i]!;
    let sw = 0;
    let swt = 0;
    let swz = 0;
    let swtt = 0;
    let swtz = 0;
    let sy = 0;
    let syt = 0;
    for (; i < end; i++) {
      const yi = yv[i]!;
      const pw = prior[i]!;
      const ti = tShift[i]!;
      let mui: number;
      let zi: number;
      let devTerm: number;
      let ly: number;
      if (yi < START_TABLE_SIZE && Number.isInteger(yi)) {
        mui = START_MU[yi]!;
        ly = LOG_Y[yi]!;
        zi = START_Z[yi]!;
        devTerm = START_DEV[yi]!;
      } else {
        const eta = Math.log(yi + 0.1);
        mui = linkInverse(eta);
        ly = yi > 0 ? Math.log(yi) : 0;
        // dμ/dη = max(e^η, ε) is μ itself for the log link.
        zi = eta + (yi - mui) / mui;
        devTerm = yi > 0 ? yi * Math.log(yi / mui) - (yi - mui) : mui;
      }
      muA[i] = mui;
      devOld += 2 * pw * devTerm;
      if (!(pw > 0)) continue;
      m++;
      const py = pw * yi;
      yLogY += py * ly;
      sy += py;
      syt += py * ti;
      const wi = pw * mui;
      const wz = wi * zi;
      const wt = wi * ti;
      sw += wi;
      swt += wt;
      swz += wz;
      swtt += wt * ti;
      swtz += wt * zi;
    }
    ySum += sy;
    ytSum += syt;
    ySums[2 * l] = ySums[2 * l]! + sy;
    ySums[2 * l + 1] = ySums[2 * l + 1]! + syt;
    const o = 5 * l;
    sums[o] = sums[o]! + sw;
    sums[o + 1] = sums[o + 1]! + swt;
    sums[o + 2] = sums[o + 2]! + swz;
    sums[o + 3] = sums[o + 3]! + swtt;
    sums[o + 4] = sums[o + 4]! + swtz;
  }
  if (m === 0) return null;
  let dev = devOld;
  let converged = false;
  let iter: number;
  // Means entering the current iteration and those it produces (swapped after each).
  let muCur: Float64Array = muA;
  let muNew: Float64Array = muB;
  // Level weights of the problem last solved.
  for (let l = 0; l < L; l++) W[l] = sums[5 * l]!;

  for (iter = 1; iter <= maxit; iter++) {
    // Solve the weighted least-squares problem from the sums.
    let wMin = Number.POSITIVE_INFINITY;
    let wMax = 0;
    let stt = 0;
    let stz = 0;
    let wtt = 0;
    for (let l = 0; l < L; l++) {
      const o = 5 * l;
      const wl = sums[o]!;
      if (!(wl > 0) || !Number.isFinite(wl)) return null; // empty level: aliased dummy
      if (wl < wMin) wMin = wl;
      if (wl > wMax) wMax = wl;
      const wt = sums[o + 1]!;
      const tb = wt / wl;
      tBar[l] = tb;
      W[l] = wl;
      if (iter === 1) {
        a[l] = sums[o + 2]! / wl; // z̄_ℓ for now
        if (withTrend) stz += sums[o + 4]! - (wt * sums[o + 2]!) / wl;
      } else if (withTrend) {
        stz += ySums[2 * l + 1]! - tb * ySums[2 * l]!;
      }
      if (withTrend) {
        stt += sums[o + 3]! - (wt * wt) / wl;
        wtt += sums[o + 3]!;
      }
    }
    if (wMin < LEVEL_WEIGHT_RATIO_MIN * wMax) return null;
    if (withTrend && !(stt > TREND_VARIATION_RATIO_MIN * wtt)) return null; // trend not estimable within levels
    if (iter === 1) {
      beta = 0;
      if (withTrend) {
        beta = stz / stt;
        for (let l = 0; l < L; l++) a[l] = a[l]! - beta * tBar[l]!;
      }
    } else {
      const betaNew = withTrend ? beta + stz / stt : 0;
      const db = beta - betaNew;
      for (let l = 0; l < L; l++) a[l] = a[l]! + db * tBar[l]! + ySums[2 * l]! / sums[5 * l]! - 1;
      beta = betaNew;
    }
    if (withTrend) sTT = stt;
    // New means, and the next problem's weights and sums, in one pass over the runs of rows with
    // one level (their sums kept in locals until the run ends). Rows of prior weight 0 add 0.
    for (let l = 0; l < L; l++) expA[l] = Math.exp(a[l]!);
    const expBeta = Math.exp(beta);
    if (withTrend) {
      for (let k = 0; k < nResync; k++) {
        const i = resyncRows[k]!;
        resyncExp[i] = Math.exp(beta * tShift[i]!);
      }
    }
    let expBt = 1;
    let floored = false;
    let wTotal = 0;
    sums.fill(0, 0, 5 * L);
    if (withTrend) {
      // Segment by segment: e^(β·t) at the first row, then times e^β from row to row.
      let i = 0;
      for (let s = 0; s < nSeg; s++) {
        const end = segEnd[s]!;
        const l = level[i]!;
        const eal = expA[l]!;
        let sw = 0;
        let swt = 0;
        let swtt = 0;
        expBt = segResync[s] === 1 ? resyncExp[i]! : expBt * expBeta;
        if (unitPrior) {
          for (;;) {
            const ti = tShift[i]!;
            let mui = eal * expBt;
            if (!(mui > DOUBLE_EPS)) {
              mui = DOUBLE_EPS;
              floored = true;
            }
            muNew[i] = mui;
            const wt = mui * ti;
            sw += mui;
            swt += wt;
            swtt += wt * ti;
            if (++i >= end) break;
            expBt *= expBeta;
          }
        } else {
          for (;;) {
            const ti = tShift[i]!;
            let mui = eal * expBt;
            if (!(mui > DOUBLE_EPS)) {
              mui = DOUBLE_EPS;
              floored = true;
            }
            muNew[i] = mui;
            const wi = prior[i]! * mui;
            const wt = wi * ti;
            sw += wi;
            swt += wt;
            swtt += wt * ti;
            if (++i >= end) break;
            expBt *= expBeta;
          }
        }
        const o = 5 * l;
        sums[o] = sums[o]! + sw;
        sums[o + 1] = sums[o + 1]! + swt;
        sums[o + 3] = sums[o + 3]! + swtt;
        wTotal += sw;
      }
    } else {
      for (let r = 0, i = 0; r < nRuns; r++) {
        const end = runEnd[r]!;
        const l = level[i]!;
        let mui = expA[l]!;
        if (!(mui > DOUBLE_EPS)) {
          mui = DOUBLE_EPS;
          floored = true;
        }
        let sw = 0;
        for (; i < end; i++) {
          muNew[i] = mui;
          sw += prior[i]! * mui;
        }
        sums[5 * l] = sums[5 * l]! + sw;
        wTotal += sw;
      }
    }
    if (floored) {
      // y·log(y/μ) − (y − μ) row by row (0·log 0 = 0) where a mean is on its floor.
      dev = 0;
      for (let r = 0, j = 0; r < nRuns; r++) {
        const end = runEnd[r]!;
        const al = a[level[j]!]!;
        for (; j < end; j++) {
          const yi = yv[j]!;
          const mui = muNew[j]!;
          const eta = al + beta * tShift[j]!;
          const ly = yi < START_TABLE_SIZE && Number.isInteger(yi) ? LOG_Y[yi]! : yi > 0 ? Math.log(yi) : 0;
          const term = mui > DOUBLE_EPS ? yi * (ly - eta) - (yi - mui) : yi > 0 ? yi * Math.log(yi / mui) - (yi - mui) : mui;
          dev += 2 * prior[j]! * term;
        }
      }
    } else {
      let ya = 0;
      for (let l = 0; l < L; l++) ya += a[l]! * ySums[2 * l]!;
      dev = 2 * (yLogY - ya - beta * ytSum - ySum + wTotal);
    }
    if (!Number.isFinite(dev)) return null; // let the general fit do its step halving
    if (Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < epsilon) {
      converged = true;
      break;
    }
    devOld = dev;
    const muSwap = muCur;
    muCur = muNew;
    muNew = muSwap;
  }
  if (iter > maxit) iter = maxit;
  // The means are the last pass's; the weights (and the level weights W) those of the problem
  // last solved, from the means before it, as in R's glm.fit and the QR route. When the
  // iterations ran out, the last iteration has already swapped the buffers.
  const swapped = !converged && maxit >= 1;
  const mu = swapped || maxit < 1 ? muCur : muNew;
  const weightMu = swapped ? muNew : muCur;
  // The Pearson dispersion Σ ω·μ_w·((y − μ)/μ)² (μ_w: the means the weights came from).
  let pearson = 0;
  for (let i = 0; i < n; i++) {
    const pw = prior[i]!;
    const mui = mu[i]!;
    const res = (yv[i]! - mui) / mui;
    if (pw > 0) pearson += pw * weightMu[i]! * res * res;
  }

  const coefficients = new Array<number>(p);
  coefficients[0] = a[0]! - beta * t0;
  if (withTrend) coefficients[1] = beta;
  const off = withTrend ? 2 : 1;
  for (let l = 1; l < L; l++) coefficients[off + l - 1] = a[l]! - a[0]!;
  const dfResidual = m - p;
  return new FactorTrendFit(
    views,
    coefficients,
    mu,
    weightMu,
    dfResidual,
    dev,
    iter,
    converged,
    dfResidual > 0 ? pearson / dfResidual : Number.NaN,
    level,
    withTrend,
    beta,
    t0,
    sTT,
    maxit >= 1,
  );
}

/**
 * A closed-form fit. The covariance, hat values and variances of predictions come from the
 * level weights W_ℓ, the weighted level means t̄_ℓ of the (shifted) time and S_tt; the per-row
 * arrays other than the fitted means are filled on first use.
 */
class FactorTrendFit implements PoissonGlmFit {
  readonly rank: number;
  readonly aliased: boolean[];
  readonly keptColumns: number[];
  private readonly y: Float64Array;
  readonly priorWeights: Float64Array;
  private readonly tShift: Float64Array;
  private readonly a: Float64Array;
  private readonly tBar: Float64Array;
  private readonly W: Float64Array;
  private linPredCache: Float64Array | null = null;
  private wwCache: Float64Array | null = null;
  private residualCache: Float64Array | null = null;
  private hatCache: Float64Array | null = null;
  private covCache: number[][] | null = null;

  constructor(
    views: FitViews,
    readonly coefficients: number[],
    readonly fitted: Float64Array,
    /** The means the working weights of the last solved problem came from. */
    private readonly weightMu: Float64Array,
    readonly dfResidual: number,
    readonly deviance: number,
    readonly iterations: number,
    readonly converged: boolean,
    readonly dispersion: number,
    private readonly level: Int32Array,
    private readonly withTrend: boolean,
    private readonly beta: number,
    private readonly t0: number,
    private readonly sTT: number,
    /** false: no iteration ran, the linear predictor is the start values'. */
    private readonly iterated: boolean,
  ) {
    const p = coefficients.length;
    this.rank = p;
    this.aliased = new Array<boolean>(p).fill(false);
    const kept: number[] = [];
    for (let j = 0; j < p; j++) kept.push(j);
    this.keptColumns = kept;
    this.y = views.y;
    this.priorWeights = views.prior;
    this.tShift = views.tShift;
    this.a = views.a;
    this.tBar = views.tBar;
    this.W = views.W;
    this.lazyRows = [views.linPred, views.ww, views.residuals, views.hat];
  }

  /** The arrays filled on first use: linear predictor, working weights, residuals, hat values. */
  private readonly lazyRows: readonly [Float64Array, Float64Array, Float64Array, Float64Array];

  private rowArray(k: 0 | 1 | 2 | 3): Float64Array {
    return this.lazyRows[k];
  }

  get linearPredictor(): Float64Array {
    if (this.linPredCache === null) {
      const out = this.rowArray(0);
      const { a, beta, tShift, level, y } = this;
      for (let i = 0; i < out.length; i++) {
        const yi = y[i]!;
        out[i] = this.iterated
          ? a[level[i]!]! + beta * tShift[i]!
          : yi < START_TABLE_SIZE && Number.isInteger(yi)
            ? START_ETA[yi]!
            : Math.log(yi + 0.1);
      }
      this.linPredCache = out;
    }
    return this.linPredCache;
  }

  /** Working weights ω·μ of the last solved least-squares problem. */
  get workingWeights(): Float64Array {
    if (this.wwCache === null) {
      const out = this.rowArray(1);
      const { priorWeights: prior, weightMu } = this;
      for (let i = 0; i < out.length; i++) out[i] = prior[i]! * weightMu[i]!;
      this.wwCache = out;
    }
    return this.wwCache;
  }

  /** Working residuals (y − μ)/μ with the final μ. */
  get workingResiduals(): Float64Array {
    if (this.residualCache === null) {
      const out = this.rowArray(2);
      const { y, fitted } = this;
      for (let i = 0; i < out.length; i++) out[i] = (y[i]! - fitted[i]!) / fitted[i]!;
      this.residualCache = out;
    }
    return this.residualCache;
  }

  /** Σ wᵢ·rᵢ² over the rows with wᵢ > 0 (r: working residuals), without storing r. */
  weightedResidualSquares(weights: ArrayLike<number>): number {
    const { y, fitted } = this;
    let s = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      const mu = fitted[i]!;
      const r = (y[i]! - mu) / mu;
      if (w > 0) s += w * r * r;
    }
    return s;
  }

  /** Hat values (only for residual diagnostics): computed on first use. */
  get hat(): Float64Array {
    if (this.hatCache === null) {
      const out = this.rowArray(3);
      const { priorWeights: prior, weightMu, level, tShift, W, tBar, sTT, withTrend } = this;
      for (let i = 0; i < out.length; i++) {
        const pw = prior[i]!;
        if (!(pw > 0)) {
          out[i] = 0;
          continue;
        }
        const l = level[i]!;
        let hv = 1 / W[l]!;
        if (withTrend) {
          const dt = tShift[i]! - tBar[l]!;
          hv += (dt * dt) / sTT;
        }
        hv *= pw * weightMu[i]!;
        out[i] = hv > 1 - 10 * DOUBLE_EPS ? 1 : hv;
      }
      this.hatCache = out;
    }
    return this.hatCache;
  }

  /** The full covariance is rarely needed (the trend test reads one entry): built on first use. */
  get covUnscaled(): number[][] {
    if (this.covCache === null) {
      const p = this.rank;
      const cov: number[][] = [];
      const e = new Float64Array(p);
      const f = new Float64Array(p);
      for (let j = 0; j < p; j++) {
        const row = new Array<number>(p);
        for (let k = 0; k < p; k++) {
          e.fill(0);
          f.fill(0);
          e[j] = 1;
          f[k] = 1;
          row[k] = this.covRows(e, f);
        }
        cov.push(row);
      }
      this.covCache = cov;
    }
    return this.covCache;
  }

  /**
   * Covariance of x₁'β̂ and x₂'β̂ (unscaled) for treatment-contrast rows x = [c, τ, e₁ … e_{L−1}]:
   * in cell-means form g₀ = c − Σe, g_ℓ = e_ℓ, it is Σ g₁g₂/W_ℓ + (τ₁ − Σ g₁t̄)(τ₂ − Σ g₂t̄)/S_tt.
   */
  private covRows(x1: ArrayLike<number>, x2: ArrayLike<number>): number {
    const { W, tBar, t0, withTrend } = this;
    const L = W.length;
    const off = withTrend ? 2 : 1;
    let sum1 = 0;
    let sum2 = 0;
    for (let l = 1; l < L; l++) {
      sum1 += x1[off + l - 1]!;
      sum2 += x2[off + l - 1]!;
    }
    let s = 0;
    let c1 = withTrend ? x1[1]! : 0;
    let c2 = withTrend ? x2[1]! : 0;
    for (let l = 0; l < L; l++) {
      const u = l === 0 ? x1[0]! - sum1 : x1[off + l - 1]!;
      const v = l === 0 ? x2[0]! - sum2 : x2[off + l - 1]!;
      if (u !== 0 && v !== 0) s += (u * v) / W[l]!;
      c1 -= u * (tBar[l]! + t0);
      c2 -= v * (tBar[l]! + t0);
    }
    return withTrend ? s + (c1 * c2) / this.sTT : s;
  }

  linkVarianceUnscaled(x0: ArrayLike<number>): number {
    const { W, tBar, t0, withTrend } = this;
    const L = W.length;
    const off = withTrend ? 2 : 1;
    let sumE = 0;
    for (let l = 1; l < L; l++) sumE += x0[off + l - 1]!;
    let s = 0;
    let c = withTrend ? x0[1]! : 0;
    for (let l = 0; l < L; l++) {
      const u = l === 0 ? x0[0]! - sumE : x0[off + l - 1]!;
      if (u !== 0) s += (u * u) / W[l]!;
      c -= u * (tBar[l]! + t0);
    }
    return withTrend ? s + (c * c) / this.sTT : s;
  }
}
