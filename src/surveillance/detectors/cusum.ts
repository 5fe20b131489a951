/**
 * Poisson CUSUM on standardised counts (Rossi, Lampugnani, Marchi 1999, "An approximate CUSUM
 * procedure for surveillance of health events", Stat Med 18:2111–2122), as in R `surveillance`
 * (algo.cusum / cusum, version 1.20.3).
 *
 * S_0 = 0, S_t = max(0, S_{t−1} + z_t − k), alarm when S_t ≥ h (k = 1.04, h = 2.26).
 * z_t is the count y_t standardised under the in-control mean m_t:
 * - 'standard':  (y − m)/√m
 * - 'rossi':     (y − 3m + 2√(y·m)) / (2√m)         (Rossi et al.'s z3, closer to normal)
 * - 'anscombe':  3/2·(y^{2/3} − m^{2/3}) / m^{1/6}  (Anscombe residual of a Poisson count)
 * - 'anscombe2nd': (y^{2/3} − (m^{2/3} − m^{−1/3}/9)) / (2/3·m^{1/6})  (Pierce & Schafer 1986)
 * - 'pearsonNegBin': (y − m)/√(m + α m²)             (negative binomial Pearson residual)
 * - 'none':      y
 * m: by default the mean of all counts before the first evaluated time point; a number; or
 * 'glm' for a seasonal Poisson GLM log m_t = β0 + β1 cos(2πt/p) + β2 sin(2πt/p) fitted on
 * those earlier counts, with t = start period + index − 1.
 * Upper bound: the count y_t that would make S_t reach h given S_{t−1}, i.e. z(y) = h + k − S_{t−1}
 * solved for y (for 'standard' rounded up, as R does; for 'none' R reports h − S_t). Negative or
 * undefined bounds are reported as 0, as R does.
 * `reset` (ours; R ≤ 1.20.3 has none): after an alarm the chart restarts from S = 0.
 */
import { fitLogLinkGlm, GlmFitError, harmonicDesign, poissonFamily, predictResponse } from './baseline-glm.js';
import {
  booleanControl,
  checkSeriesShape,
  emptyResult,
  enumControl,
  isCount,
  listPoints,
  numberControl,
  rangeExtras,
  resolveRange,
} from './detector-utils.js';
import { DetectorInputError, type CountSeries, type DetectorControl, type DetectorResult } from './types.js';

export type CusumTrans = 'standard' | 'rossi' | 'anscombe' | 'anscombe2nd' | 'pearsonNegBin' | 'none';
const TRANS: readonly CusumTrans[] = ['standard', 'rossi', 'anscombe', 'anscombe2nd', 'pearsonNegBin', 'none'];

function standardise(trans: CusumTrans, x: number, m: number, alpha: number): number {
  switch (trans) {
    case 'standard':
      return (x - m) / Math.sqrt(m);
    case 'rossi':
      return (x - 3 * m + 2 * Math.sqrt(x * m)) / (2 * Math.sqrt(m));
    case 'anscombe':
      return (1.5 * (Math.pow(x, 2 / 3) - Math.pow(m, 2 / 3))) / Math.pow(m, 1 / 6);
    case 'anscombe2nd':
      return (Math.pow(x, 2 / 3) - (Math.pow(m, 2 / 3) - Math.pow(m, -1 / 3) / 9)) / ((2 / 3) * Math.pow(m, 1 / 6));
    case 'pearsonNegBin':
      return (x - m) / Math.sqrt(m + alpha * m * m);
    case 'none':
      return x;
  }
}

/**
 * The count at which the chart would signal, given the previous statistic sPrev (and, for
 * 'none', the current statistic sCur, which is what R reports there).
 */
function boundFor(trans: CusumTrans, m: number, h: number, k: number, sPrev: number, sCur: number, alpha: number): number {
  const a = h + k - sPrev; // the standardised value needed
  const rm = Math.sqrt(m);
  switch (trans) {
    case 'standard':
      return Math.ceil(rm * a + m);
    case 'rossi':
      // Solve (x − 3m + 2√(xm)) / (2√m) = a for x: with s = √x, s² + 2√m·s − (3m + 2a√m) = 0,
      // s = −√m + √(4m + 2a√m), x = s² = 5m + 2a√m − 2√(4m² + 2a·m^{3/2}).
      return 5 * m + 2 * a * rm - 2 * Math.sqrt(4 * m * m + 2 * a * m * rm);
    case 'anscombe': {
      const base = (2 / 3) * Math.pow(m, 1 / 6) * a + Math.pow(m, 2 / 3);
      return base < 0 ? 0 : Math.pow(base, 1.5);
    }
    case 'anscombe2nd': {
      const base = (2 / 3) * Math.pow(m, 1 / 6) * a + (Math.pow(m, 2 / 3) - Math.pow(m, 1 / 3) / 9);
      return base < 0 ? 0 : Math.pow(base, 1.5);
    }
    case 'pearsonNegBin':
      return Math.sqrt(m + alpha * m * m) * a + m;
    case 'none':
      return h - sCur;
  }
}

/** CUSUM detector (R surveillance::cusum). See the module comment for the definitions. */
export function cusum(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const k = numberControl(control, 'k', 1.04);
  const h = numberControl(control, 'h', 2.26, { gt: 0 });
  const trans = enumControl(control, 'trans', TRANS, 'standard');
  const alpha = numberControl(control, 'alpha', 0.1, { min: 0 });
  const reset = booleanControl(control, 'reset', false);
  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => (len >= 2 ? [len] : []));
  const res = emptyResult(n);
  const extra = rangeExtras(['m', 'cusumStat'], range.length);
  res.extra = extra;
  if (range.length === 0) {
    res.messages!.push('nothing to evaluate: the range is empty');
    return res;
  }
  const first = range[0]!; // 1-based
  const history: { t: number; y: number }[] = [];
  for (let i = 0; i < first - 1; i++) {
    const v = obs[i];
    if (isCount(v)) history.push({ t: i + 1, y: v });
  }

  // In-control mean per evaluated time point.
  const mRaw = control['m'];
  let m: number[];
  if (mRaw === undefined || mRaw === null) {
    if (history.length === 0) {
      res.messages!.push(`too little history: no counts before time point ${first} to estimate m: no verdict`);
      return res;
    }
    const mean = history.reduce((s, p) => s + p.y, 0) / history.length;
    if (!(mean > 0)) {
      res.messages!.push(`the in-control mean m of the counts before time point ${first} is 0: the CUSUM is undefined: no verdict`);
      return res;
    }
    m = range.map(() => mean);
  } else if (typeof mRaw === 'number') {
    if (!(Number.isFinite(mRaw) && mRaw > 0))
      throw new DetectorInputError(`control.m must be a positive number, 'glm' or null, got ${mRaw}`);
    m = range.map(() => mRaw);
  } else if (mRaw === 'glm') {
    if (history.length < 4) {
      res.messages!.push(
        `too little history: ${history.length} counts before time point ${first}, the seasonal GLM needs at least 4: no verdict`,
      );
      return res;
    }
    const toTime = (idx1: number) => series.start[1] + idx1 - 1;
    try {
      const fit = fitLogLinkGlm(
        harmonicDesign(
          history.map((p) => toTime(p.t)),
          series.freq,
          1,
          false,
        ),
        history.map((p) => p.y),
        poissonFamily(),
      );
      m = predictResponse(harmonicDesign(range.map(toTime), series.freq, 1, false), fit.coefficients);
      if (!fit.converged) res.messages!.push('the seasonal GLM for m did not converge in 25 iterations');
    } catch (e) {
      if (e instanceof GlmFitError) {
        res.messages!.push(`cannot fit the seasonal GLM for m: ${e.message}: no verdict`);
        return res;
      }
      throw e;
    }
  } else {
    throw new DetectorInputError(`control.m must be null, a positive number or 'glm', got ${JSON.stringify(mRaw)}`);
  }

  let s = 0;
  const gaps: number[] = [];
  range.forEach((t1, j) => {
    const t = t1 - 1;
    const mj = m[j]!;
    extra['m']![j] = mj;
    const y = obs[t];
    if (!isCount(y)) {
      gaps.push(t1);
      extra['cusumStat']![j] = s;
      return;
    }
    const zt = standardise(trans, y, mj, alpha);
    const sPrev = s;
    const sCur = Math.max(0, sPrev + (zt - k)); // NaN when z is undefined
    const alarm = sCur >= h;
    let ub = boundFor(trans, mj, h, k, sPrev, sCur, alpha);
    if (Number.isNaN(ub) || ub < 0) ub = 0;
    res.upperbound[t] = ub;
    res.alarm[t] = Number.isNaN(sCur) ? null : alarm;
    extra['cusumStat']![j] = Number.isNaN(sCur) ? null : sCur;
    s = Number.isNaN(sCur) ? sPrev : reset && alarm ? 0 : sCur;
  });
  if (gaps.length)
    res.messages!.push(`missing or invalid counts at time point(s) ${listPoints(gaps)}: no verdict there; the chart carries on`);
  return res;
}
