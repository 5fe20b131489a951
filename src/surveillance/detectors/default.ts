/**
 * Yifang's recommended detector for weekly counts ("default", also registered as
 * "yifangCusum"): a CUSUM that pools evidence over consecutive weeks, run on a seasonal
 * quasi-Poisson baseline fitted afresh for every week.
 *
 * Why: on Noufaily-style series, rules that judge one week at a time are close to their
 * ceiling; outbreaks that spread their cases over two or three weeks are found more often by
 * accumulating the excess (shared/domain/detectors.md, "Where the headroom is").
 *
 * Baseline for week k (all weeks in the window with a count):
 *  - weeks k − pastWeeksNotIncluded − 52·years … k − pastWeeksNotIncluded − 1: every earlier
 *    week (up to `years` = 12 years back) except the most recent `pastWeeksNotIncluded` (26)
 *    and the current one, as in Noufaily et al. (2013), so that a current outbreak does not
 *    raise its own baseline;
 *  - a quasi-Poisson log-linear model (McCullagh & Nelder 1989, §6.2) with `harmonics` (2)
 *    pairs of Fourier terms sin/cos(2πjt/freq) (Serfling 1963; Stroup, Wharton, Kafadar &
 *    Dean 1993) and a linear trend, fitted by IRLS;
 *  - past outbreaks down-weighted as in Farrington et al. (1996) and Noufaily et al. (2013):
 *    Anscombe residuals s = 3/2·(y^(2/3)·μ^(−1/6) − μ^(1/2))/√(φ(1 − h)), weights γ·s⁻² for
 *    s > weightsThreshold (2.58) and γ otherwise, γ making the weights sum to the number of
 *    weeks, then a refit with those prior weights; φ = max(1, Pearson dispersion);
 *  - the trend is kept when the baseline spans at least two years, its Wald test gives
 *    p < trendP (default 1: always, as Noufaily's pThresholdTrend = 1) and the prediction does
 *    not exceed the largest baseline count (Farrington's guard against extrapolation);
 *  - prediction μ₀ = exp(η₀); the variance used below is φ·μ₀ + c·μ₀²·Var(η₀), i.e. the
 *    effective dispersion φ₀ = φ + c·μ₀·Var(η₀) with c = estimationError (2): an uncertain
 *    baseline (short history, few counts, a long extrapolated trend) raises the bar, and c > 1
 *    because an error in μ₀ is shared by the consecutive weeks the chart adds up.
 *
 * Chart: a CUSUM of quasi-likelihood ratios (Page 1954; Lucas 1985, "Counted data CUSUM's",
 * Technometrics 27:129–144, for the Poisson form) for the shift from μ₀ to μ₁ = μ₀ + δ·σ₀,
 * σ₀ = √(φ₀·μ₀), δ in baseline standard deviations:
 *     L_k = [y_k·log(μ₁/μ₀) − (μ₁ − μ₀)] / φ₀,      S_k = max(0, S_{k−1} + L_k),
 * alarm when S_k > h, after which the chart restarts at 0. The upper bound reported for week k
 * is the count above which week k alarms given S_{k−1}:
 *     U_k = [φ₀·(h − S_{k−1}) + (μ₁ − μ₀)] / log(μ₁/μ₀),   alarm ⇔ y_k > U_k.
 * The chart starts `warmup` (26) weeks before the first evaluated week when history allows,
 * so that the first evaluated weeks see a chart in its running state.
 *
 * Parameters δ = 1.5, h = 1.875, c = 2, trendP = 1 and years = 12 were chosen on simulated
 * training series (../evaluation/simulate-series.ts, 10 scenarios × 200 series, TRAINING_SEED)
 * by a rule fixed in advance: the highest probability of detection, averaged over scenarios,
 * among settings whose average false-positive rate is at most 0.85 × that of
 * farringtonFlexible with the Noufaily settings (α = 0.05, b = 5, w = 3) on the same series.
 * The comparison on independent series (EVALUATION_SEED) is in bench/detectors.bench.ts and
 * `yifang evaluate --simulate N`.
 *
 * Weeks without enough history (minBaselineWeeks = 52 counts in the window) get no verdict
 * (null) and a message; a gap (null count) in an evaluated week gives no verdict and leaves the
 * chart where it was; gaps in the baseline are left out. Designed for weekly counts; with
 * another freq, "weeks" read as periods and the harmonics have period freq.
 *
 * Control: delta, h, harmonics, trend (true), trendP, years, pastWeeksNotIncluded,
 * weightsThreshold, reweight (true), minBaselineWeeks, warmup, estimationError, range.
 * Extras (aligned with the range): expected (μ₀), phi (φ₀), cusum (S_k), trend (1/0).
 */
import { ControlReader, finiteOrNull, NoteCollector } from './farrington.js';
import type { CountSeries, DetectorControl, DetectorResult } from './types.js';

const DOUBLE_EPS = 2.220446049250313e-16;

export interface YifangCusumControl {
  delta: number;
  h: number;
  harmonics: number;
  trend: boolean;
  trendP: number;
  years: number;
  pastWeeksNotIncluded: number;
  weightsThreshold: number;
  reweight: boolean;
  minBaselineWeeks: number;
  warmup: number;
  /** Weight c of the prediction variance in the effective dispersion φ₀ = φ + c·μ₀·Var(η₀). */
  estimationError: number;
}

export const YIFANG_CUSUM_DEFAULTS: Readonly<YifangCusumControl> = Object.freeze({
  delta: 1.5,
  h: 1.875,
  harmonics: 2,
  trend: true,
  trendP: 1,
  years: 12,
  pastWeeksNotIncluded: 26,
  weightsThreshold: 2.58,
  reweight: true,
  minBaselineWeeks: 52,
  warmup: 26,
  estimationError: 2,
});

// ---------------------------------------------------------------------------------------------
// A small quasi-Poisson log-linear fit by IRLS with the normal equations (few columns, the
// time variable centred on the predicted week so that X'WX stays well conditioned).
// ---------------------------------------------------------------------------------------------

interface LogLinearFit {
  beta: Float64Array;
  mu: Float64Array;
  /** (X'WX)⁻¹ of the last solve, p×p row-major. */
  cov: Float64Array;
  /** Hat values w·x'(X'WX)⁻¹x of the last solve. */
  hat: Float64Array;
  /** Pearson dispersion Σ prior·(y − μ)²/μ / (n − p); NaN without residual degrees of freedom. */
  dispersion: number;
  converged: boolean;
}

/** Cholesky factorisation in place (lower triangle, row-major); false if not positive definite. */
function cholesky(a: Float64Array, p: number): boolean {
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let k = 0; k < j; k++) d -= a[j * p + k]! * a[j * p + k]!;
    if (!(d > 1e-12 * Math.abs(a[j * p + j]!)) || !(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= a[i * p + k]! * a[j * p + k]!;
      a[i * p + j] = s / l;
    }
  }
  return true;
}

/** Solves L·L'·x = b for the factor from `cholesky`. */
function cholSolve(l: Float64Array, p: number, b: Float64Array, out: Float64Array): void {
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * out[k]!;
    out[i] = s / l[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = out[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * out[k]!;
    out[i] = s / l[i * p + i]!;
  }
}

/**
 * IRLS for log E[y] = Xβ (X n×p row-major) with optional prior weights, R's convergence rule
 * (relative deviance change < 1e-8, at most 25 iterations), starting from R's μ = y + 0.1 or
 * from given fitted means (the refit after reweighting starts from the first fit). Hat values
 * only when asked for. Returns null when X'WX is singular.
 */
function fitLogLinear(
  x: Float64Array,
  y: Float64Array,
  logY: Float64Array,
  p: number,
  prior: Float64Array | null,
  start: Float64Array | null,
  withHat: boolean,
): LogLinearFit | null {
  const n = y.length;
  const eta = new Float64Array(n);
  const mu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    mu[i] = start ? start[i]! : y[i]! + 0.1;
    eta[i] = Math.log(mu[i]!);
  }
  // X'WX and X'Wz of the problem being solved, and of the next one (filled while the new means
  // are computed, so that each iteration makes a single pass over the rows).
  let a = new Float64Array(p * p);
  let b = new Float64Array(p);
  let aNext = new Float64Array(p * p);
  let bNext = new Float64Array(p);
  let w = new Float64Array(n);
  let wNext = new Float64Array(n);
  const beta = new Float64Array(p);
  const accumulate = (i: number, am: Float64Array, bm: Float64Array, wm: Float64Array): void => {
    const wi = (prior ? prior[i]! : 1) * mu[i]!;
    wm[i] = wi;
    if (wi === 0) return;
    const zi = eta[i]! + (y[i]! - mu[i]!) / mu[i]!;
    const row = i * p;
    for (let j = 0; j < p; j++) {
      const wx = wi * x[row + j]!;
      bm[j] = bm[j]! + wx * zi;
      for (let k = 0; k <= j; k++) am[j * p + k] = am[j * p + k]! + wx * x[row + k]!;
    }
  };
  let devOld = 0;
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    devOld += 2 * (prior ? prior[i]! : 1) * (yi > 0 ? yi * Math.log(yi / mu[i]!) - (yi - mu[i]!) : mu[i]!);
    accumulate(i, a, b, w);
  }
  let converged = false;
  for (let iter = 1; iter <= 25; iter++) {
    if (!cholesky(a, p)) return null;
    cholSolve(a, p, b, beta);
    aNext.fill(0);
    bNext.fill(0);
    let dev = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * p;
      for (let j = 0; j < p; j++) s += x[row + j]! * beta[j]!;
      eta[i] = s;
      const e = Math.exp(s);
      const m = e > DOUBLE_EPS ? e : DOUBLE_EPS;
      mu[i] = m;
      const yi = y[i]!;
      // y·log(y/μ) = y·(log y − η) while μ = e^η is above its floor.
      dev += 2 * (prior ? prior[i]! : 1) * (yi > 0 ? yi * (m === e ? logY[i]! - s : Math.log(yi / m)) - (yi - m) : m);
      accumulate(i, aNext, bNext, wNext);
    }
    if (!Number.isFinite(dev)) return null;
    if (Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < 1e-8) {
      converged = true;
      break;
    }
    devOld = dev;
    [a, aNext] = [aNext, a];
    [b, bNext] = [bNext, b];
    [w, wNext] = [wNext, w];
  }
  // Without convergence the buffers hold the next problem (weights from the final means).
  if (!converged && !cholesky(a, p)) return null;
  // (X'WX)⁻¹ column by column from the last factorisation.
  const cov = new Float64Array(p * p);
  const e = new Float64Array(p);
  const col = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    e.fill(0);
    e[j] = 1;
    cholSolve(a, p, e, col);
    for (let i = 0; i < p; i++) cov[i * p + j] = col[i]!;
  }
  const hat = new Float64Array(n);
  let pearson = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const pw = prior ? prior[i]! : 1;
    if (pw > 0) {
      used++;
      const r = y[i]! - mu[i]!;
      pearson += (pw * r * r) / mu[i]!;
    }
    if (!withHat) continue;
    const row = i * p;
    let q = 0;
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += cov[j * p + k]! * x[row + k]!;
      q += x[row + j]! * s;
    }
    hat[i] = w[i]! * q;
  }
  const df = used - p;
  return { beta, mu, cov, hat, dispersion: df > 0 ? pearson / df : Number.NaN, converged };
}

/** cos and sin of 2πr/freq for r = 0 … freq − 1 (integer frequencies), cached per frequency. */
const harmonicTables = new Map<number, { cos: Float64Array; sin: Float64Array }>();
function harmonicTable(freq: number): { cos: Float64Array; sin: Float64Array } | null {
  if (!Number.isInteger(freq) || freq > 10000) return null;
  let t = harmonicTables.get(freq);
  if (t === undefined) {
    t = { cos: new Float64Array(freq), sin: new Float64Array(freq) };
    for (let r = 0; r < freq; r++) {
      t.cos[r] = Math.cos((2 * Math.PI * r) / freq);
      t.sin[r] = Math.sin((2 * Math.PI * r) / freq);
    }
    harmonicTables.set(freq, t);
  }
  return t;
}

/** Farrington's outbreak weights from Anscombe residuals (see farrington.ts). */
function downWeights(fit: LogLinearFit, y: Float64Array, phi: number, threshold: number): Float64Array {
  const n = y.length;
  const s = new Float64Array(n);
  let denom = 0;
  for (let i = 0; i < n; i++) {
    const mu = fit.mu[i]!;
    const cy = Math.cbrt(y[i]!);
    const a = 1.5 * ((cy * cy) / Math.sqrt(Math.cbrt(mu)) - Math.sqrt(mu));
    const oneMinusH = 1 - fit.hat[i]!;
    s[i] = oneMinusH > 0 ? a / Math.sqrt(phi * oneMinusH) : 0;
    denom += s[i]! > threshold ? 1 / (s[i]! * s[i]!) : 1;
  }
  const gamma = n / denom;
  const omega = new Float64Array(n);
  for (let i = 0; i < n; i++) omega[i] = s[i]! > threshold ? gamma / (s[i]! * s[i]!) : gamma;
  return omega;
}

// ---------------------------------------------------------------------------------------------
// Baseline for one week
// ---------------------------------------------------------------------------------------------

export interface WeekBaseline {
  /** Predicted mean μ₀. */
  mu: number;
  /** φ = max(1, dispersion) of the reweighted fit. */
  phi: number;
  /** Var(η₀) = φ·x₀'(X'WX)⁻¹x₀ of the prediction on the log scale. */
  varEta: number;
  trend: boolean;
}

/**
 * The seasonal quasi-Poisson baseline for week k (1-based) or a reason why there is none.
 * Pure; exported for evaluation and tuning.
 */
export function weekBaseline(
  obs: readonly (number | null)[],
  k: number,
  freq: number,
  c: Pick<
    YifangCusumControl,
    'harmonics' | 'trend' | 'trendP' | 'years' | 'pastWeeksNotIncluded' | 'weightsThreshold' | 'reweight' | 'minBaselineWeeks'
  >,
): WeekBaseline | string {
  const last = k - c.pastWeeksNotIncluded - 1;
  const first = Math.max(1, last - Math.round(freq * c.years) + 1);
  const weeks: number[] = [];
  for (let t = first; t <= last; t++) if (obs[t - 1] !== null && obs[t - 1] !== undefined) weeks.push(t);
  if (weeks.length < c.minBaselineWeeks) return `too little history (${c.minBaselineWeeks} baseline weeks needed)`;
  const n = weeks.length;
  const y = new Float64Array(n);
  const logY = new Float64Array(n);
  let total = 0;
  let maxY = 0;
  for (let i = 0; i < n; i++) {
    y[i] = obs[weeks[i]! - 1]!;
    logY[i] = y[i]! > 0 ? Math.log(y[i]!) : 0;
    total += y[i]!;
    if (y[i]! > maxY) maxY = y[i]!;
  }
  // Half a case over the whole baseline: the smallest mean we are prepared to predict.
  const muFloor = 0.5 / n;
  if (total === 0) return { mu: muFloor, phi: 1, varEta: 0, trend: false };

  const span = weeks[n - 1]! - weeks[0]! + 1;
  const harmonics = span >= freq ? c.harmonics : 0;
  const wantTrend = c.trend && span >= 2 * freq;
  const build = (withTrend: boolean): { x: Float64Array; x0: Float64Array; p: number } => {
    const p = 1 + (withTrend ? 1 : 0) + 2 * harmonics;
    const x = new Float64Array(n * p);
    const table = harmonicTable(freq);
    const row = (t: number, out: Float64Array, off: number): void => {
      out[off] = 1;
      let j = 1;
      if (withTrend) out[off + j++] = (t - k) / freq;
      for (let hh = 1; hh <= harmonics; hh++) {
        if (table !== null) {
          const r = (((hh * t) % freq) + freq) % freq;
          out[off + j++] = table.cos[r]!;
          out[off + j++] = table.sin[r]!;
        } else {
          out[off + j++] = Math.cos((2 * Math.PI * hh * t) / freq);
          out[off + j++] = Math.sin((2 * Math.PI * hh * t) / freq);
        }
      }
    };
    for (let i = 0; i < n; i++) row(weeks[i]!, x, i * p);
    const x0 = new Float64Array(p);
    row(k, x0, 0);
    return { x, x0, p };
  };
  const fitModel = (withTrend: boolean): { fit: LogLinearFit; phi: number; x0: Float64Array; p: number } | null => {
    const { x, x0, p } = build(withTrend);
    if (n <= p) return null;
    let fit = fitLogLinear(x, y, logY, p, null, null, c.reweight);
    if (fit === null) return null;
    let phi = Number.isNaN(fit.dispersion) ? 1 : Math.max(1, fit.dispersion);
    if (c.reweight) {
      const omega = downWeights(fit, y, phi, c.weightsThreshold);
      const refit = fitLogLinear(x, y, logY, p, omega, fit.mu, false);
      if (refit !== null) {
        fit = refit;
        phi = Number.isNaN(fit.dispersion) ? 1 : Math.max(1, fit.dispersion);
      }
    }
    return { fit, phi, x0, p };
  };
  const predict = (m: { fit: LogLinearFit; phi: number; x0: Float64Array; p: number }): { eta: number; varEta: number } => {
    let eta = 0;
    let q = 0;
    for (let j = 0; j < m.p; j++) {
      eta += m.x0[j]! * m.fit.beta[j]!;
      let s = 0;
      for (let l = 0; l < m.p; l++) s += m.fit.cov[j * m.p + l]! * m.x0[l]!;
      q += m.x0[j]! * s;
    }
    return { eta, varEta: m.phi * q };
  };

  let model = wantTrend ? fitModel(true) : null;
  let trend = false;
  if (model !== null) {
    // Wald test of the trend coefficient (index 1) with the quasi-Poisson variance.
    const se = Math.sqrt(model.phi * model.fit.cov[1 * model.p + 1]!);
    const z = Math.abs(model.fit.beta[1]! / se);
    const pValue = 2 * normalUpperTail(z);
    const pred = predict(model);
    trend = pValue < c.trendP && Math.exp(pred.eta) <= maxY;
  }
  if (!trend) model = fitModel(false);
  if (model === null) return 'the baseline model could not be fitted';
  const pred = predict(model);
  return { mu: Math.max(Math.exp(pred.eta), muFloor), phi: model.phi, varEta: pred.varEta, trend };
}

/** P(Z > z) for a standard normal, by the complementary error function (W. J. Cody's rational
 * approximations are overkill here: Abramowitz & Stegun 7.1.26 has 1.5e-7 absolute error, and
 * the trend decision only compares with a threshold). */
function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return x < 0 ? 1 - 0.5 * poly * Math.exp(-x * x) : 0.5 * poly * Math.exp(-x * x);
}

// ---------------------------------------------------------------------------------------------
// The chart
// ---------------------------------------------------------------------------------------------

/** One step of the chart: the likelihood-ratio increment's pieces for a baseline. */
export function cusumIncrement(b: WeekBaseline, delta: number, estimationError: number): { logRatio: number; shift: number; phi0: number } {
  const phi0 = b.phi + estimationError * b.mu * b.varEta;
  const shift = delta * Math.sqrt(phi0 * b.mu); // μ₁ − μ₀
  return { logRatio: Math.log1p(shift / b.mu), shift, phi0 };
}

function readControl(rd: ControlReader): YifangCusumControl {
  const d = YIFANG_CUSUM_DEFAULTS;
  return {
    delta: rd.number('delta', d.delta, (v) => v > 0, 'a number > 0'),
    h: rd.number('h', d.h, (v) => v > 0, 'a number > 0'),
    harmonics: rd.integer('harmonics', d.harmonics, 0),
    trend: rd.boolean('trend', d.trend),
    trendP: rd.number('trendP', d.trendP, (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
    years: rd.number('years', d.years, (v) => v > 0, 'a number > 0'),
    pastWeeksNotIncluded: rd.integer('pastWeeksNotIncluded', d.pastWeeksNotIncluded, 0),
    weightsThreshold: rd.number('weightsThreshold', d.weightsThreshold, (v) => v > 0, 'a number > 0'),
    reweight: rd.boolean('reweight', d.reweight),
    minBaselineWeeks: rd.integer('minBaselineWeeks', d.minBaselineWeeks, 1),
    warmup: rd.integer('warmup', d.warmup, 0),
    estimationError: rd.number('estimationError', d.estimationError, (v) => v >= 0, 'a number ≥ 0'),
  };
}

/**
 * The Yifang CUSUM detector. See the module comment for the definition; `control` may override
 * any of YIFANG_CUSUM_DEFAULTS and give `range` (default: every week with enough history).
 */
export function yifangCusum(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  const rd = new ControlReader(control ?? {}, 'default (yifangCusum)');
  const c = readControl(rd);
  const obs = series.observed;
  if (!Array.isArray(obs)) throw new TypeError('series.observed must be an array');
  const n = obs.length;
  const freq = series.freq;
  const range = rd.range(series, () => {
    const out: number[] = [];
    for (let k = c.pastWeeksNotIncluded + c.minBaselineWeeks + 1; k <= n; k++) out.push(k);
    return out;
  });
  rd.rejectUnknown();
  const alarm: (boolean | null)[] = new Array<boolean | null>(n).fill(null);
  const upperbound: (number | null)[] = new Array<number | null>(n).fill(null);
  const extra: Record<string, (number | null)[]> = {
    expected: new Array<number | null>(range.length).fill(null),
    phi: new Array<number | null>(range.length).fill(null),
    cusum: new Array<number | null>(range.length).fill(null),
    trend: new Array<number | null>(range.length).fill(null),
  };
  const notes = new NoteCollector();
  if (range.length === 0) return { alarm, upperbound, extra, messages: ['nothing to evaluate: the range is empty'] };

  const inRange = new Map<number, number>();
  range.forEach((k, r) => inRange.set(k, r));
  const firstWeek = Math.max(1, range[0]! - c.warmup);
  const lastWeek = range[range.length - 1]!;
  let s = 0;
  for (let k = firstWeek; k <= lastWeek; k++) {
    const r = inRange.get(k);
    const evaluated = r !== undefined;
    // Warm-up weeks before the range and weeks between range entries keep the chart running.
    const base = weekBaseline(obs, k, freq, c);
    if (typeof base === 'string') {
      if (evaluated) notes.add(`${base}: no verdict`, k);
      s = 0;
      continue;
    }
    const { logRatio, shift, phi0 } = cusumIncrement(base, c.delta, c.estimationError);
    const y = obs[k - 1];
    const bound = (phi0 * (c.h - s) + shift) / logRatio;
    if (evaluated) {
      upperbound[k - 1] = finiteOrNull(bound);
      extra.expected![r] = finiteOrNull(base.mu);
      extra.phi![r] = finiteOrNull(phi0);
      extra.trend![r] = base.trend ? 1 : 0;
    }
    if (y === null || y === undefined) {
      if (evaluated) {
        notes.add('no count (gap) in the evaluated week: no verdict', k);
        extra.cusum![r] = s;
      }
      continue;
    }
    s = Math.max(0, s + (y * logRatio - shift) / phi0);
    const alarmed = s > c.h;
    if (evaluated) {
      alarm[k - 1] = alarmed;
      extra.cusum![r] = s;
    }
    if (alarmed) s = 0;
  }
  return { alarm, upperbound, extra, messages: notes.messages() };
}
