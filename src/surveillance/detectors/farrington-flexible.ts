/**
 * Farrington flexible / improved Farrington outbreak detector.
 *
 * Noufaily, Enki, Farrington, Garthwaite, Andrews & Charlett (2013), "An improved algorithm
 * for outbreak detection in multiple surveillance systems", Statistics in Medicine
 * 32(7):1206–1222; built on Farrington et al. (1996). As in R package `surveillance`
 * (function `farringtonFlexible`, version 1.20.3, which this module reproduces), the same code
 * covers both the original settings (noPeriods = 1, weightsThreshold = 1, delta-method bound)
 * and the Noufaily settings (noPeriods = 10, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
 * negative-binomial quantile "nbPlugin").
 *
 * Baseline for week k: with noPeriods = 1, the 2w+1 weeks around the same week of each of the
 * b previous years; with noPeriods = p > 1, every week from b years back up to week k, where
 * the windows around the reference weeks (and around week k) form level p of a seasonal
 * factor and the weeks between two consecutive windows are cut into p − 1 blocks (levels
 * 1 … p − 1; longer blocks first when the split is uneven). The most recent weeks
 * k − pastWeeksNotIncluded … k are always excluded.
 *
 * Model: quasi-Poisson log-linear in an optional time trend plus the seasonal factor, with
 * Farrington's Anscombe-residual reweighting; the trend is kept when b ≥ 3, its t-test p-value
 * is below pThresholdTrend and the predicted μ₀ does not exceed the largest baseline count.
 *
 * Thresholds (thresholdMethod):
 *  - 'delta': Farrington's delta-method bound on the power scale with the one-sided
 *    z = Φ⁻¹(1 − α);
 *  - 'nbPlugin': U = the (1 − α) quantile of a negative binomial with mean μ₀ = exp(η₀) and
 *    variance φ·μ₀ (size μ₀/(φ − 1), prob 1/φ), Poisson(μ₀) when φ = 1 (Noufaily 2013);
 *  - 'muan': the same with μ₀ replaced by exp of the (1 − α) quantile of η₀ ~ N(η̂₀, se²).
 *
 * Week k alarms when at least limit54[0] cases fell in the last limit54[1] weeks (k included),
 * its count is not 0, and the score (y − f)/(U − f) exceeds 1, where f is the prediction the
 * threshold method works on (μ₀ for 'delta', η₀ for the other two). With too few recent cases
 * the upper bound is null (R's NA) and there is no alarm.
 *
 * Two R details that matter for exact agreement are kept on purpose:
 *  - after reweighting, R stores the prior weights ω in place of the model's working weights,
 *    so the dispersion later used for the trend t-test and for se(η₀) is Σ ω·((y − μ)/μ)²/df
 *    (not the Pearson dispersion; φ itself is computed before the swap);
 *  - se(η₀) uses that unclamped dispersion, not φ = max(1, dispersion).
 */
import { dnbinom, pnorm, ppois, qnorm, qpois } from 'lib-r-math.js';
import {
  checkedCounts,
  coefficientPValue,
  ControlReader,
  createReweightSpace,
  deltaBound,
  finiteOrNull,
  NoteCollector,
  POWER_TRANSFORMS,
  recentCases,
  reweightFrom,
  seriesDays,
  shiftCalendar,
  weekday,
  type PowerTransform,
  type ReweightedFit,
  type ReweightSpace,
} from './farrington.js';
import {
  createGlmWorkspace,
  dispersionWithWeights,
  factorTrendRow,
  fitGlm,
  predictLink,
  type FactorTrendDesign,
  type GlmWorkspace,
} from './glm.js';
import { DetectorInputError, type CountSeries, type Detector, type DetectorControl, type DetectorResult } from './types.js';

export type ThresholdMethod = 'delta' | 'nbPlugin' | 'muan';

export interface FarringtonFlexibleControl {
  b: number;
  w: number;
  reweight: boolean;
  weightsThreshold: number;
  alpha: number;
  trend: boolean;
  pThresholdTrend: number;
  limit54: [number, number];
  powertrans: PowerTransform;
  noPeriods: number;
  pastWeeksNotIncluded: number;
  thresholdMethod: ThresholdMethod;
}

const DOUBLE_EPS = 2.220446049250313e-16;

// ---------------------------------------------------------------------------------------------
// Negative binomial quantile and upper tail.
//
// lib-r-math.js 2.0.3's pnbinom (through its incomplete beta) is off by up to ~6e-4 for size
// near 1, which moves qnbinom near step boundaries. Its dnbinom is accurate (saddle-point form,
// ~1e-12), so the distribution function is summed here from the probability at an anchor
// point with the ratio f(j+1)/f(j) = (j + size)/(j + 1)·(1 − prob), terms added smallest first.
// ---------------------------------------------------------------------------------------------

/** Mode of NB(size, prob) (number of failures before `size` successes). */
function negBinMode(size: number, prob: number): number {
  return size > 1 ? Math.floor(((size - 1) * (1 - prob)) / prob) : 0;
}

/** P(Y ≤ x) by summing downward from x (only used for x ≤ mode, where terms fall going down). */
function negBinLowerSum(x: number, size: number, prob: number): number {
  if (x < 0) return 0;
  const q = 1 - prob;
  const terms: number[] = [];
  let term = dnbinom(x, size, prob);
  let total = 0;
  for (let j = x; j >= 0; j--) {
    terms.push(term);
    total += term;
    if (term <= total * 1e-18 || term === 0) break;
    term = (term * j) / ((j - 1 + size) * q);
  }
  let s = 0;
  for (let i = terms.length - 1; i >= 0; i--) s += terms[i]!;
  return s;
}

/** P(Y ≥ y) by summing upward from y (y above the mode: terms fall going up). */
function negBinUpperSum(y: number, size: number, prob: number): number {
  const q = 1 - prob;
  const terms: number[] = [];
  let term = dnbinom(y, size, prob);
  let total = 0;
  for (let j = y; ; j++) {
    terms.push(term);
    total += term;
    const ratio = ((j + size) * q) / (j + 1);
    const bound = Math.max(ratio, q);
    // Remaining mass is at most term·bound/(1 − bound) once the ratio no longer grows past bound.
    if (term === 0 || (bound < 1 && (term * bound) / (1 - bound) <= total * 1e-17)) break;
    term *= ratio;
  }
  let s = 0;
  for (let i = terms.length - 1; i >= 0; i--) s += terms[i]!;
  return s;
}

/** P(Y ≥ y) for Y ~ NB(size, prob); R's pnbinom(y − 1, size, prob, lower.tail = FALSE). */
export function negBinUpperTail(y: number, size: number, prob: number): number {
  if (Number.isNaN(y) || Number.isNaN(size) || Number.isNaN(prob)) return Number.NaN;
  if (y <= 0) return 1;
  if (size === 0) return 0;
  const mode = negBinMode(size, prob);
  if (y > mode) return negBinUpperSum(y, size, prob);
  return Math.max(0, 1 - negBinLowerSum(y - 1, size, prob));
}

/**
 * Smallest x with P(Y ≤ x) ≥ p for Y ~ NB(size, prob), as R's qnbinom (with its small fuzz
 * p·(1 − 64ε) for left continuity).
 */
export function negBinQuantile(p: number, size: number, prob: number): number {
  if (Number.isNaN(p) || Number.isNaN(size) || Number.isNaN(prob)) return Number.NaN;
  if (size === 0) return 0;
  if (!(size > 0) || !(prob > 0) || !(prob <= 1) || !(p >= 0) || !(p <= 1)) return Number.NaN;
  if (prob === 1) return 0;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const target = p * (1 - 64 * DOUBLE_EPS);
  const q = 1 - prob;
  const mode = negBinMode(size, prob);
  // Mass up to and including the mode.
  let cdf = negBinLowerSum(mode, size, prob);
  if (cdf >= target) {
    // Rare for upper quantiles: step down while the CDF one below still reaches the target.
    let x = mode;
    let term = dnbinom(x, size, prob);
    while (x > 0 && cdf - term >= target) {
      cdf -= term;
      term = (term * x) / ((x - 1 + size) * q);
      x--;
    }
    return x;
  }
  let x = mode;
  let term = dnbinom(x, size, prob);
  while (cdf < target) {
    term *= ((x + size) * q) / (x + 1);
    x++;
    cdf += term;
    if (term === 0 && cdf < target) return x; // numerically exhausted
  }
  return x;
}

/**
 * Seasonal level (1 … noPeriods) of every time point (index 1 … n; 0 = not in the baseline)
 * given the reference points, most recent first (refs[0] = k), written into `level` (length
 * n + 1, reused from point to point). Only indices lo … k are written and meaningful, where lo
 * (returned) is the first week of the oldest reference window.
 */
function seasonalLevels(level: Int32Array, n: number, refs: readonly number[], w: number, p: number): number {
  const k = refs[0]!;
  const lo = Math.max(1, refs[refs.length - 1]! - w);
  level.fill(0, lo, Math.min(n, k) + 1);
  const setRange = (from: number, to: number, v: number): void => {
    for (let t = Math.max(1, from); t <= Math.min(n, to); t++) level[t] = v;
  };
  setRange(k - w, k, p);
  for (let i = 1; i < refs.length; i++) {
    const refWeek = refs[i]!;
    setRange(refWeek - w, refWeek + w, p);
    if (p === 1) continue;
    // Weeks strictly between this window and the next one, split into p − 1 blocks with the
    // remainder of the division spread over the first blocks.
    const period = refs[i - 1]! - 2 * w - 1 - refWeek;
    if (period < p - 1) {
      throw new DetectorInputError(`control.noPeriods (${p}) is too large: only ${period} weeks lie between two reference windows`);
    }
    const len = Math.floor(period / (p - 1));
    const rest = period % (p - 1);
    let start = refWeek + w + 1;
    for (let j = 1; j <= p - 1; j++) {
      const size = len + (j <= rest ? 1 : 0);
      setRange(start, start + size - 1, j);
      start += size;
    }
  }
  return lo;
}

interface Workspace {
  /** Seasonal level by week (index 1 … n). */
  level: Int32Array;
  rowLevel: Int32Array;
  rowTime: Float64Array;
  /** Baseline rows (weeks) and their counts. */
  rows: Int32Array;
  response: Float64Array;
  /** The unweighted fit's arrays, and the reweighted fit's (kept for one point only). */
  first: GlmWorkspace;
  reweight: ReweightSpace;
}

let workspace: Workspace | null = null;

/**
 * Work space for a series of n weeks, kept between calls (the detector is synchronous, so one
 * call never overlaps another) and grown when a longer series comes.
 */
function workspaceFor(n: number): Workspace {
  if (workspace === null || workspace.rowTime.length < n) {
    const size = Math.max(n, 2 * (workspace?.rowTime.length ?? 0), 1024);
    workspace = {
      level: new Int32Array(size + 1),
      rowLevel: new Int32Array(size),
      rowTime: new Float64Array(size),
      rows: new Int32Array(size),
      response: new Float64Array(size),
      first: workspace?.first ?? createGlmWorkspace(),
      reweight: workspace?.reweight ?? createReweightSpace(),
    };
  }
  return workspace;
}

/**
 * Reference points k, k − 1 year, …, k − b years as 1-based indices, most recent first, or
 * null when one of them is not in the series. Dated weekly series step back one calendar year
 * and snap to the nearest same weekday as week k (the nearer of the two candidates, the
 * earlier-computed one on a tie), as R does.
 */
function referencePoints(k: number, b: number, freq: number, days: number[] | null, dayIndex: Map<number, number>): number[] | null {
  const out: number[] = [];
  if (days === null) {
    for (let i = 0; i <= b; i++) {
      const t = k - freq * i;
      if (t < 1) return null;
      out.push(t);
    }
    return out;
  }
  const t0 = days[k - 1]!;
  for (let i = 0; i <= b; i++) {
    let d = shiftCalendar(t0, -i, 0);
    if (freq === 52) {
      const a = d - (weekday(d) - weekday(t0));
      const alt = a + (a > d ? -7 : 7);
      d = Math.abs(a - d) > Math.abs(alt - d) ? alt : a;
    }
    const idx = dayIndex.get(d);
    if (idx === undefined) return null;
    out.push(idx);
  }
  return out.sort((u, v) => v - u);
}

function readControl(rd: ControlReader): FarringtonFlexibleControl {
  const b = rd.integer('b', 5, 1);
  const w = rd.integer('w', 3, 0);
  const c: FarringtonFlexibleControl = {
    b,
    w,
    reweight: rd.boolean('reweight', true),
    weightsThreshold: rd.number('weightsThreshold', 2.58, () => true, 'a number'),
    alpha: rd.number('alpha', 0.05, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    trend: rd.boolean('trend', true),
    pThresholdTrend: rd.number('pThresholdTrend', 0.05, (v) => v >= 0, 'a number ≥ 0'),
    limit54: rd.limit54(),
    powertrans: rd.choice('powertrans', POWER_TRANSFORMS, '2/3'),
    noPeriods: rd.integer('noPeriods', 1, 1),
    pastWeeksNotIncluded: rd.optionalInteger('pastWeeksNotIncluded', 0) ?? w,
    thresholdMethod: rd.choice('thresholdMethod', ['delta', 'nbPlugin', 'muan'] as const, 'delta'),
  };
  rd.choice('fitFun', ['algo.farrington.fitGLM.flexible'] as const, 'algo.farrington.fitGLM.flexible');
  if (rd.boolean('populationOffset', false)) {
    throw new DetectorInputError('control.populationOffset = true is not supported: the series carries no population');
  }
  rd.ignore('verbose');
  rd.ignore('glmWarnings');
  return c;
}

/**
 * Farrington flexible. Control (R names and defaults): range (default freq·b + w + 1 … n),
 * b = 5, w = 3, reweight = true, weightsThreshold = 2.58, alpha = 0.05 (one-sided),
 * trend = true, pThresholdTrend = 0.05, limit54 = [5, 4], powertrans = '2/3', noPeriods = 1,
 * pastWeeksNotIncluded = w, thresholdMethod = 'delta' | 'nbPlugin' | 'muan',
 * fitFun = 'algo.farrington.fitGLM.flexible', populationOffset = false (only);
 * verbose and glmWarnings are accepted and ignored.
 *
 * Noufaily (2013) settings: { noPeriods: 10, weightsThreshold: 2.58, pastWeeksNotIncluded: 26,
 * pThresholdTrend: 1, thresholdMethod: 'nbPlugin' }.
 *
 * Points without b years of history before them, or whose model does not converge even without
 * the trend, get no verdict (null) and a message; gaps (null counts) are left out of the
 * baseline; a gap in the evaluated week gives alarm = null. Extras (aligned with the range):
 * expected, score, pvalue, mu0 (not for 'delta'), phi, trend (1/0), trendCoef.
 *
 * Dated series (series.dates, or R's epochAsDate = true with epoch; see seriesDays), as R's
 * algo.farrington.referencetimepoints: the reference weeks are the dates i = 1 … b calendar
 * years before week k, each moved to the nearer date with week k's weekday; the windows and
 * seasonal blocks are then laid out around those weeks by index, and the time variable is
 * (date − first baseline date)/(days per period). Weeks left out of a dated series are refused
 * (give them as null counts).
 */
export const farringtonFlexible: Detector = (series: CountSeries, control: DetectorControl): DetectorResult => {
  const obs = checkedCounts(series);
  const n = obs.length;
  const freq = series.freq;
  const rd = new ControlReader(control ?? {}, 'farringtonFlexible');
  const c = readControl(rd);
  const range = rd.range(series, () => {
    const out: number[] = [];
    for (let k = freq * c.b + c.w + 1; k <= n; k++) out.push(k);
    return out;
  });
  rd.rejectUnknown();
  const p = c.noPeriods;
  const days = seriesDays(series);
  if (p > 1 && days === null && freq - 2 * c.w - 1 < p - 1) {
    throw new DetectorInputError(
      `control.noPeriods (${p}) is too large for freq ${freq} and w ${c.w}: at most ${freq - 2 * c.w} levels fit in a year`,
    );
  }

  const alarm: (boolean | null)[] = new Array<boolean | null>(n).fill(null);
  const upperbound: (number | null)[] = new Array<number | null>(n).fill(null);
  const extraNames = ['expected', 'score', 'pvalue', ...(c.thresholdMethod === 'delta' ? [] : ['mu0']), 'phi', 'trend', 'trendCoef'];
  const extra: Record<string, (number | null)[]> = {};
  for (const name of extraNames) extra[name] = new Array<number | null>(range.length).fill(null);
  const notes = new NoteCollector();

  const dayIndex = new Map<number, number>();
  days?.forEach((d, i) => dayIndex.set(d, i + 1));
  const dayStep = days !== null && days.length > 1 ? days[1]! - days[0]! : 1;

  const zDelta = qnorm(1 - c.alpha);
  // Per-point work space, reused: seasonal level by week, which levels occur, their indices, and
  // the design's columns (nothing fitted for one point is kept for the next).
  const ws = workspaceFor(n);
  const { level, rowLevel: rowLevelBuf, rowTime: rowTimeBuf, rows, response: responseBuf } = ws;
  const present = new Uint8Array(p + 1);
  const levelIndex = new Int32Array(p + 1);
  // The counts as numbers (NaN for a gap), read faster than the mixed array.
  const counts = new Float64Array(n);
  for (let i = 0; i < n; i++) counts[i] = obs[i] ?? Number.NaN;

  range.forEach((k, r) => {
    const refs = referencePoints(k, c.b, freq, days, dayIndex);
    if (refs === null) {
      notes.add(`too little history (${c.b} years needed): no verdict`, k);
      return;
    }
    const lo = seasonalLevels(level, n, refs, c.w, p);
    for (let t = Math.max(1, k - c.pastWeeksNotIncluded); t <= k; t++) level[t] = 0;

    // Baseline rows (weeks with a count) in time order; factor levels are those of the baseline
    // weeks before gaps are dropped.
    present.fill(0);
    let firstWeek = 0;
    let gaps = false;
    let nRows = 0;
    let maxResponse = 0;
    for (let t = lo; t <= k; t++) {
      const lev = level[t]!;
      if (lev === 0) continue;
      if (firstWeek === 0) firstWeek = t;
      present[lev] = 1;
      const v = counts[t - 1]!;
      if (Number.isNaN(v)) {
        gaps = true;
        continue;
      }
      rows[nRows] = t;
      rowLevelBuf[nRows] = lev; // the seasonal level for now, its index among those present below
      responseBuf[nRows] = v;
      if (v > maxResponse) maxResponse = v;
      nRows++;
    }
    const response = responseBuf.subarray(0, nRows);
    if (firstWeek === 0) {
      notes.add('empty baseline: no verdict', k);
      return;
    }
    const useFactor = p !== 1;
    if (useFactor && present[p] === 0) {
      notes.add('no baseline weeks in the reference windows: no verdict', k);
      return;
    }
    // Index of each present level among the present ones, in increasing order.
    let nPresent = 0;
    for (let lev = 1; lev <= p; lev++) levelIndex[lev] = present[lev] === 1 ? nPresent++ : -1;
    if (gaps) notes.add('gaps (null counts) left out of the baseline', k);
    // Dated series: time in periods since the first baseline week (R measures the prediction
    // from the first non-missing week instead, which shifts the trend when that week is a gap).
    const origin = days === null ? 0 : days[firstWeek - 1]!;
    const timeOf = (t: number): number => (days === null ? t : (days[t - 1]! - origin) / dayStep);
    const nCols = 1 + (useFactor ? nPresent - 1 : 0);
    if (response.length <= nCols) {
      notes.add('too few baseline counts for the model: no verdict', k);
      return;
    }

    // Intercept, trend and the seasonal factor as a structured design (closed-form IRLS steps).
    const rowLevel = rowLevelBuf.subarray(0, nRows);
    const rowTime = rowTimeBuf.subarray(0, nRows);
    for (let i = 0; i < nRows; i++) {
      rowLevel[i] = useFactor ? levelIndex[rowLevel[i]!]! : 0;
      rowTime[i] = days === null ? rows[i]! : timeOf(rows[i]!);
    }
    const nLevels = useFactor ? nPresent : 1;
    const design = (withTrend: boolean): FactorTrendDesign => ({ level: rowLevel, nLevels, time: withTrend ? rowTime : null });
    const x0 = (withTrend: boolean): number[] => factorTrendRow(design(withTrend), useFactor ? levelIndex[p]! : 0, timeOf(k));

    // Fit with R's fallback: drop the trend when the first fit does not converge; give up
    // (null) when it does not converge without the trend either.
    const fitModel = (withTrend: boolean): { m: ReweightedFit; withTrend: boolean; disp: number } | null => {
      // Both fits live in the work space until the next point (or the next fitModel call).
      let first = fitGlm(design(withTrend), response, { workspace: ws.first });
      if (!first.converged && withTrend) {
        withTrend = false;
        first = fitGlm(design(false), response, { workspace: ws.first });
      }
      if (!first.converged) return null;
      const m = reweightFrom(first, design(withTrend), response, c.reweight, c.weightsThreshold, ws.reweight);
      const disp = m.omega !== null ? dispersionWithWeights(m.fit, m.omega) : m.fit.dispersion;
      return { m, withTrend, disp };
    };

    // A trend needs at least one residual degree of freedom beyond the seasonal model.
    let model = fitModel(c.trend && response.length > nCols + 1);
    let doTrend = false;
    if (model !== null && model.withTrend) {
      const pValue = coefficientPValue(model.m.fit, 1, model.disp);
      const mu0Hat = Math.max(Math.exp(predictLink(model.m.fit, x0(true), 1).eta), DOUBLE_EPS);
      doTrend = c.b >= 3 && pValue < c.pThresholdTrend && mu0Hat <= maxResponse;
      if (!doTrend) model = fitModel(false);
    }
    if (model === null) {
      notes.add('the GLM did not converge with or without the trend: no verdict', k);
      return;
    }
    const { m, disp } = model;
    const phi = m.phi;
    const pred = predictLink(m.fit, x0(model.withTrend), disp);
    const y = obs[k - 1] ?? null;
    const yv = y ?? Number.NaN;

    let upper: number;
    let prob: number;
    let fitForScore: number;
    let expectedValue: number;
    let mu0Extra: number | null = null;
    if (c.thresholdMethod === 'delta') {
      const mu0 = Math.max(Math.exp(pred.eta), DOUBLE_EPS);
      const bound = deltaBound(mu0, pred.se * mu0, phi, c.powertrans, zDelta);
      upper = bound.upper;
      prob = pnorm(Math.pow(yv, bound.exponent), Math.pow(mu0, bound.exponent), bound.sd, false);
      fitForScore = mu0;
      expectedValue = mu0;
    } else {
      const mu0q = c.thresholdMethod === 'nbPlugin' ? Math.exp(pred.eta) : Math.exp(qnorm(1 - c.alpha, pred.eta, pred.se));
      mu0Extra = mu0q;
      if (mu0q === Number.POSITIVE_INFINITY) {
        upper = Number.NaN;
        prob = Number.NaN;
      } else {
        const size = mu0q / (phi - 1);
        upper = phi > 1 ? negBinQuantile(1 - c.alpha, size, 1 / phi) : qpois(1 - c.alpha, mu0q);
        prob = phi !== 1 ? negBinUpperTail(yv, size, 1 / phi) : ppois(yv - 1, mu0q, false);
      }
      fitForScore = pred.eta;
      expectedValue = Math.exp(pred.eta);
    }
    const score = Number.isNaN(upper) ? Number.NaN : (yv - fitForScore) / (upper - fitForScore);
    const enough = recentCases(obs, k, c.limit54[1]) >= c.limit54[0];

    if (y === null) {
      alarm[k - 1] = null;
      notes.add('no count (gap) in the evaluated week: no verdict', k);
    } else {
      alarm[k - 1] = enough && !Number.isNaN(score) && score > 1 && y !== 0;
    }
    upperbound[k - 1] = enough ? finiteOrNull(upper) : null;
    extra.expected![r] = enough && !Number.isNaN(upper) ? finiteOrNull(expectedValue) : null;
    extra.score![r] = finiteOrNull(score);
    extra.pvalue![r] = finiteOrNull(prob);
    if (extra.mu0) extra.mu0[r] = mu0Extra === null ? null : finiteOrNull(mu0Extra);
    extra.phi![r] = finiteOrNull(phi);
    extra.trend![r] = doTrend ? 1 : 0;
    extra.trendCoef![r] = doTrend ? finiteOrNull(m.fit.coefficients[1]!) : null;
  });

  return { alarm, upperbound, extra, messages: notes.messages() };
};
