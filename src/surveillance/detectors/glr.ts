/**
 * Generalized likelihood ratio (GLR) detectors for Poisson and negative binomial counts with
 * a time-varying in-control mean μ0,t, as in R `surveillance` glrnb (version 1.20.3).
 *
 * References: Höhle M, Paul M (2008). Count data regression charts for the monitoring of
 * surveillance time series. Comput Stat Data Anal 52:4357–4368. Höhle M (2010). Online
 * change-point detection in categorical time series. Lai TL (1995), sequential change-point
 * detection with window-limited GLR.
 *
 * Intercept change: under the alternative μ1,t = μ0,t·e^κ from an unknown change-point k on.
 * - Poisson: l_{n,k}(κ) = κ Σ_{t=k..n} x_t + (1 − e^κ) Σ_{t=k..n} μ0,t, maximised in closed
 *   form at κ̂ = log(Σx/Σμ0), restricted to κ̂ ≥ 0 for dir 'inc' (≤ 0 for 'dec').
 * - Negative binomial (Var = μ + αμ²): l_{n,k}(κ) = Σ κx_t + (x_t + 1/α)·log((1 + αμ0,t)/(1 + αμ0,t e^κ)),
 *   κ̂ by Newton–Raphson (start 0.5 for the first k of each n, then the previous k's estimate;
 *   stop when a step is below 1e-6 or κ < −18), then restricted by direction.
 * GLR_n = max_k l_{n,k}(κ̂_k); alarm when GLR_n ≥ c.ARL, after which the chart restarts at n + 1.
 * With a fixed κ = theta the chart is the likelihood-ratio CUSUM S_n = max(0, S_{n−1} + l_n(κ)),
 * alarm when S_n > c.ARL (strict, as in R).
 * ret 'value' reports the statistic as the upper bound; ret 'cases' (Poisson only) the
 * smallest count at n that would give an alarm.
 * μ0 by default: a GLM log μ0,t = β0 [+ β1 t] + Σ_{s=1..S} (γ_s cos(2πst/p) + δ_s sin(2πst/p)) on
 * all counts before the range, t = index; Poisson when alpha = 0, NB with α estimated by maximum
 * likelihood when alpha is not given (α = 1/θ̂), NB with fixed α otherwise.
 */
import { fitLogLinkGlm, fitNegBinGlm, GlmFitError, harmonicDesign, negBinFamily, poissonFamily, predictResponse } from './baseline-glm.js';
import {
  cfmax,
  checkSeriesShape,
  emptyResult,
  enumControl,
  isCount,
  listPoints,
  numberControl,
  optionalNumberControl,
  rangeExtras,
  resolveRange,
} from './detector-utils.js';
import { DetectorInputError, type CountSeries, type DetectorControl, type DetectorResult } from './types.js';

interface ChartRun {
  /** 0-based position of the first alarm in the slice, or slice length when none. */
  stop: number;
  val: number[];
  cases: number[];
}

interface ChartSettings {
  cARL: number;
  Mtilde: number;
  M: number;
  dir: 1 | -1;
  wantCases: boolean;
}

// --- Poisson GLR ------------------------------------------------------------------------------

/** max over change-points k ≤ n of the Poisson log-likelihood ratio (no window). */
function poissonGlrAt(n: number, x: readonly number[], mu0: readonly number[], dir: 1 | -1): number {
  let sumx = 0;
  let summu = 0;
  let best = -1e99;
  for (let k = n; k >= 0; k--) {
    sumx += x[k]!;
    summu += mu0[k]!;
    const kappa = dir * cfmax(0, dir * Math.log(sumx / summu));
    const l = kappa * sumx + (1 - Math.exp(kappa)) * summu;
    if (l > best) best = l;
  }
  return best;
}

/** Window-limited version: change-points max(0, n − M) ≤ k ≤ n − Mtilde. */
function poissonGlrWindowAt(n: number, x: readonly number[], mu0: readonly number[], dir: 1 | -1, M: number, Mtilde: number): number {
  let sumx = 0;
  let summu = 0;
  for (let l = n - Mtilde + 1; l <= n; l++) {
    sumx += x[l]!;
    summu += mu0[l]!;
  }
  let best = -1e99;
  for (let k = n - Mtilde; k >= Math.max(0, n - M); k--) {
    sumx += x[k]!;
    summu += mu0[k]!;
    const kappa = dir * cfmax(0, dir * Math.log(sumx / summu));
    const l = kappa * sumx + (1 - Math.exp(kappa)) * summu;
    if (l > best) best = l;
  }
  return best;
}

function runPoissonGlr(x: number[], mu0: readonly number[], s: ChartSettings): ChartRun {
  const len = x.length;
  const val = new Array<number>(len).fill(0);
  const cases = new Array<number>(len).fill(0);
  const windowed = s.M > 0;
  const stat = (n: number) => (windowed ? poissonGlrWindowAt(n, x, mu0, s.dir, s.M, s.Mtilde) : poissonGlrAt(n, x, mu0, s.dir));
  let n = windowed ? s.Mtilde : Math.max(s.Mtilde - 1, 0);
  for (; n < len; n++) {
    val[n] = stat(n);
    if (s.wantCases) {
      // Smallest count at n that moves the statistic across c.ARL (upwards for 'inc').
      const keep = x[n]!;
      let xnew = -1;
      let g = s.cARL - s.dir;
      let guard = 0;
      while (s.dir * g < s.cARL * s.dir && guard++ < 1e6) {
        xnew += 1;
        x[n] = xnew;
        g = stat(n);
      }
      cases[n] = xnew;
      x[n] = keep;
    }
    if (val[n]! >= s.cARL) return { stop: n, val, cases };
  }
  return { stop: len, val, cases };
}

// --- Negative binomial GLR --------------------------------------------------------------------

function runNegBinGlr(x: readonly number[], mu0: readonly number[], alpha: number, s: ChartSettings): ChartRun {
  const len = x.length;
  const val = new Array<number>(len).fill(0);
  const n0 = Math.max(s.Mtilde - 1, 0);
  const score = (kappa: number, k: number, n: number) => {
    let sum = 0;
    const ek = Math.exp(kappa);
    for (let i = k; i <= n; i++) sum += (x[i]! - ek * mu0[i]!) / (1 + alpha * ek * mu0[i]!);
    return sum;
  };
  const fisher = (kappa: number, k: number, n: number) => {
    let sum = 0;
    const ek = Math.exp(kappa);
    for (let i = k; i <= n; i++) {
      const d = 1 + alpha * ek * mu0[i]!;
      sum += (mu0[i]! * (alpha * x[i]! + 1)) / (d * d);
    }
    return ek * sum;
  };
  const lnk = (kappa: number, k: number, n: number) => {
    let sum = 0;
    const ek = Math.exp(kappa);
    for (let i = k; i <= n; i++) {
      sum += kappa * x[i]! + (x[i]! + 1 / alpha) * Math.log((1 + alpha * mu0[i]!) / (1 + alpha * mu0[i]! * ek));
    }
    return sum;
  };
  for (let n = n0; n < len; n++) {
    let best = -1e99;
    let kappaMl = 0.5;
    const low = s.M === -1 ? 0 : Math.max(0, n - s.M);
    const up = n - (s.Mtilde - 1);
    for (let k = low; k <= up; k++) {
      let kOld = 0.4;
      let kNew = kappaMl;
      let iter = 0;
      while (kNew > -18 && Math.abs(kNew - kOld) > 1e-6 && iter < 1000) {
        iter++;
        kOld = kNew;
        kNew = kOld + score(kOld, k, n) / fisher(kOld, k, n);
      }
      kappaMl = s.dir * cfmax(0, s.dir * kNew);
      const l = lnk(kappaMl, k, n);
      if (l > best) best = l;
    }
    val[n] = best;
    if (best >= s.cARL) return { stop: n, val, cases: new Array<number>(len).fill(0) };
  }
  return { stop: len, val, cases: new Array<number>(len).fill(0) };
}

// --- Likelihood-ratio CUSUM with known κ --------------------------------------------------------

function runLrCusum(x: readonly number[], mu0: readonly number[], kappa: number, alpha: number, cARL: number): ChartRun {
  const len = x.length;
  const val = new Array<number>(len).fill(0);
  const cases = new Array<number>(len).fill(0);
  let prev = 0;
  for (let n = 0; n < len; n++) {
    let z: number;
    if (alpha === 0) {
      z = kappa * x[n]! + (1 - Math.exp(kappa)) * mu0[n]!;
      cases[n] = (cARL - prev + mu0[n]! * (Math.exp(kappa) - 1)) / kappa;
    } else {
      const lr = Math.log((1 + alpha * mu0[n]!) / (1 + alpha * mu0[n]! * Math.exp(kappa)));
      z = kappa * x[n]! + (x[n]! + 1 / alpha) * lr;
      cases[n] = -(prev * alpha + lr - cARL * alpha) / alpha / (kappa + lr);
    }
    val[n] = cfmax(0, prev + z);
    prev = val[n]!;
    if (val[n]! > cARL) return { stop: n, val, cases };
  }
  return { stop: len, val, cases };
}

// --- μ0 estimation ---------------------------------------------------------------------------

interface Mu0Model {
  S: number;
  trend: boolean;
  refit: boolean;
}

interface Mu0Estimate {
  mu0: number[];
  /** α of the fitted model (estimated, or the given one). */
  alpha: number;
  note?: string;
}

/**
 * Fits the in-control GLM on the counts at 1-based indices 1 … firstEval − 1 (gaps skipped) and
 * predicts at `predictAt` (1-based indices, which are also the time covariate).
 */
function estimateMu0(
  obs: readonly (number | null)[],
  freq: number,
  firstEval: number,
  predictAt: readonly number[],
  model: Mu0Model,
  alpha: number | null,
): Mu0Estimate {
  const t: number[] = [];
  const y: number[] = [];
  for (let i = 1; i < firstEval; i++) {
    const v = obs[i - 1];
    if (isCount(v)) {
      t.push(i);
      y.push(v);
    }
  }
  const p = 1 + (model.trend ? 1 : 0) + 2 * model.S;
  if (y.length <= p) {
    throw new GlmFitError(`${y.length} counts before time point ${firstEval}; the μ0 model has ${p} coefficients`);
  }
  const X = harmonicDesign(t, freq, model.S, model.trend);
  const Xnew = harmonicDesign(predictAt, freq, model.S, model.trend);
  if (alpha === null) {
    const fit = fitNegBinGlm(X, y);
    const est: Mu0Estimate = { mu0: predictResponse(Xnew, fit.coefficients), alpha: 1 / fit.theta };
    if (fit.warnings.length) est.note = `negative binomial fit: ${fit.warnings.join('; ')}`;
    return est;
  }
  const fit = fitLogLinkGlm(X, y, alpha === 0 ? poissonFamily() : negBinFamily(1 / alpha));
  const est: Mu0Estimate = { mu0: predictResponse(Xnew, fit.coefficients), alpha };
  if (!fit.converged) est.note = 'μ0 GLM did not converge in 25 iterations';
  return est;
}

function readMu0Model(raw: unknown): Mu0Model {
  const o = (raw ?? {}) as Record<string, unknown>;
  const S = o['S'] ?? 1;
  const trend = o['trend'] ?? false;
  const refit = o['refit'] ?? false;
  if (typeof S !== 'number' || !Number.isInteger(S) || S < 0)
    throw new DetectorInputError(`control.mu0.S must be a non-negative integer, got ${JSON.stringify(S)}`);
  if (typeof trend !== 'boolean') throw new DetectorInputError(`control.mu0.trend must be true or false, got ${JSON.stringify(trend)}`);
  if (typeof refit !== 'boolean') throw new DetectorInputError(`control.mu0.refit must be true or false, got ${JSON.stringify(refit)}`);
  return { S, trend, refit };
}

/**
 * GLR detector (R surveillance::glrnb). Control: range; c.ARL (5); mu0 (an array aligned with
 * the range, or {S: 1, trend: false, refit: false} for the GLM estimate, the default); alpha
 * (0 Poisson; absent or null: estimated NB dispersion; a positive number: fixed NB dispersion);
 * Mtilde (1); M (−1, no window); change ('intercept'); theta (null: GLR; a number: LR CUSUM with
 * that κ); dir ('inc' | 'dec'); ret ('value' | 'cases').
 */
export function glrnb(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const cARL = numberControl(control, 'c.ARL', numberControl(control, 'cARL', 5, { gt: 0 }), { gt: 0 });
  const Mtilde = numberControl(control, 'Mtilde', 1, { integer: true, min: 1 });
  const M = numberControl(control, 'M', -1, { integer: true, min: -1 });
  if (M === 0 || (M > 0 && M < Mtilde)) throw new DetectorInputError(`control.M must be −1 (no window) or ≥ Mtilde (${Mtilde}), got ${M}`);
  const change = enumControl(control, 'change', ['intercept', 'epi'] as const, 'intercept');
  if (change !== 'intercept') throw new DetectorInputError("control.change 'epi' (epidemic chart) is not implemented; use 'intercept'");
  const dirName = enumControl(control, 'dir', ['inc', 'dec'] as const, 'inc');
  const dir: 1 | -1 = dirName === 'inc' ? 1 : -1;
  const ret = enumControl(control, 'ret', ['value', 'cases'] as const, 'value');
  const theta = optionalNumberControl(control, 'theta');
  if (theta !== null && theta === 0) throw new DetectorInputError('control.theta must be non-zero (the change in intercept to detect)');
  const alphaGiven = control['alpha'] === undefined || control['alpha'] === null ? null : numberControl(control, 'alpha', 0, { min: 0 });

  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => (len >= 2 ? [len] : []));
  const res = emptyResult(n);
  const extra = rangeExtras(['mu0', 'alpha', 'statistic'], range.length);
  res.extra = extra;
  if (range.length === 0) {
    res.messages!.push('nothing to evaluate: the range is empty');
    return res;
  }

  // μ0 and α.
  let mu0: number[];
  let alpha: number;
  let model: Mu0Model | null = null;
  const mu0Raw = control['mu0'];
  if (Array.isArray(mu0Raw)) {
    if (mu0Raw.length !== range.length) {
      throw new DetectorInputError(`control.mu0 has ${mu0Raw.length} values but the range has ${range.length} time points`);
    }
    mu0Raw.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw new DetectorInputError(`control.mu0[${i}] must be a positive number, got ${JSON.stringify(v)}`);
    });
    mu0 = mu0Raw as number[];
    alpha = alphaGiven ?? 0;
    if (alphaGiven === null) res.messages!.push('mu0 given without alpha: using the Poisson GLR (alpha = 0)');
  } else if (mu0Raw === undefined || mu0Raw === null || typeof mu0Raw === 'object') {
    model = readMu0Model(mu0Raw);
    try {
      const est = estimateMu0(obs, series.freq, range[0]!, range, model, alphaGiven);
      mu0 = est.mu0;
      alpha = est.alpha;
      if (est.note) res.messages!.push(est.note);
    } catch (e) {
      if (e instanceof GlmFitError) {
        res.messages!.push(`too little history or unusable data to estimate mu0: ${e.message}: no verdict`);
        return res;
      }
      throw e;
    }
  } else {
    throw new DetectorInputError(
      `control.mu0 must be an array of means, an object {S, trend, refit} or null, got ${JSON.stringify(mu0Raw)}`,
    );
  }
  if (!(Number.isFinite(alpha) && alpha >= 0)) {
    res.messages!.push(`estimated dispersion alpha is not usable (${alpha}): no verdict`);
    return res;
  }
  if (alpha > 0 && ret === 'cases' && theta === null) {
    throw new DetectorInputError(
      "control.ret 'cases' is implemented for the Poisson GLR (alpha = 0) and for fixed theta only; use ret 'value'",
    );
  }

  // Counts in range; a gap contributes nothing (x = 0 and μ0 = 0 leave every sum unchanged).
  const gaps: number[] = [];
  const xAll: number[] = range.map((t1) => {
    const v = obs[t1 - 1];
    if (isCount(v)) return v;
    gaps.push(t1);
    return 0;
  });
  const isGap = range.map((t1) => !isCount(obs[t1 - 1]));
  const mu0Eff = () => mu0.map((m, i) => (isGap[i] ? 0 : m));

  const settings: ChartSettings = { cARL, Mtilde, M, dir, wantCases: ret === 'cases' };
  const L = range.length;
  const ub = new Array<number>(L).fill(0);
  const stat = new Array<number>(L).fill(0);
  const alarm = new Array<boolean>(L).fill(false);
  let done = 0;
  let mu0Cur = mu0Eff();
  while (done < L) {
    const x = xAll.slice(done);
    const m = mu0Cur.slice(done);
    const run =
      theta !== null
        ? runLrCusum(x, m, theta, alpha, cARL)
        : alpha === 0
          ? runPoissonGlr(x, m, settings)
          : runNegBinGlr(x, m, alpha, settings);
    const upto = Math.min(run.stop + 1, x.length);
    for (let i = 0; i < upto; i++) {
      stat[done + i] = run.val[i]!;
      ub[done + i] = ret === 'value' ? run.val[i]! : run.cases[i]!;
    }
    if (run.stop < x.length) {
      alarm[done + run.stop] = true;
      if (model?.refit && done + run.stop + 1 < L) {
        // Re-estimate μ0 on all data before the new start (α is not re-estimated, as in R).
        const nextStart = range[done + run.stop + 1]!;
        try {
          const est = estimateMu0(obs, series.freq, nextStart, range.slice(done + run.stop + 1), model, alpha);
          const refreshed = est.mu0.map((v, i) => (isGap[done + run.stop + 1 + i] ? 0 : v));
          mu0Cur = [...mu0Cur.slice(0, done + run.stop + 1), ...refreshed];
          mu0 = [...mu0.slice(0, done + run.stop + 1), ...est.mu0];
        } catch (e) {
          if (!(e instanceof GlmFitError)) throw e;
          res.messages!.push(
            `refit of mu0 after the alarm at time point ${range[done + run.stop]} failed (${e.message}); keeping the previous mu0`,
          );
        }
      }
    }
    done += upto;
  }

  range.forEach((t1, j) => {
    extra['mu0']![j] = mu0[j]!;
    extra['alpha']![j] = alpha;
    if (isGap[j]) return;
    let u = ub[j]!;
    if (Number.isNaN(u) || u < 0) u = 0;
    res.upperbound[t1 - 1] = u;
    res.alarm[t1 - 1] = alarm[j]!;
    extra['statistic']![j] = stat[j]!;
  });
  if (gaps.length)
    res.messages!.push(
      `missing or invalid counts at time point(s) ${listPoints(gaps)}: no verdict there; they add nothing to the statistic`,
    );
  return res;
}
