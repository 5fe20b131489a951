/**
 * EARS C1, C2, C3 (CDC Early Aberration Reporting System).
 *
 * References: Hutwagner L, Thompson W, Seeman GM, Treadwell T. The bioterrorism preparedness
 * and response Early Aberration Reporting System (EARS). J Urban Health 2003;80(2 Suppl 1):
 * i89–i96. Fricker RD, Hegler BL, Dunfee DA. Comparing syndromic surveillance detection
 * methods: EARS' versus a CUSUM-based methodology. Stat Med 2008;27:3407–3429.
 * R package `surveillance` (Salmon, Schumacher, Höhle 2016, J Stat Softw 70(10)), function earsC.
 *
 * Definitions (y_t the count at t, b the baseline length, default 7):
 * - C1: mean and sd (n − 1 denominator) of y_{t−b} … y_{t−1}.
 * - C2: the same over y_{t−b−2} … y_{t−3} (a two-period guard band).
 * - Upper bound U_t = mean + z·max(sd, minSigma) with z = Φ⁻¹(1 − α); alarm when y_t > U_t.
 * - C3 as the CDC defines it: C3_t = Σ_{i=t−2..t} max(0, C2_i − 1), with
 *   C2_i = (y_i − mean_i)/sd_i; alarm when C3_t > z. That is `earsC3cdc` below.
 * - `earsC` with method 'C3' reproduces R `surveillance` 1.20.3, which sets
 *   U_t = y_t + sd_t·(z − max(0, C2_{t−1} − 1) − max(0, C2_{t−2} − 1)), floored at 0. Because U_t
 *   contains y_t itself, that alarm fires exactly when the two lagged terms exceed z and never
 *   looks at the current count. It is kept only to match R; prefer `earsC3cdc`.
 */
import { qnorm } from 'lib-r-math.js';
import {
  checkSeriesShape,
  emptyResult,
  enumControl,
  finiteOrNull,
  isCount,
  mean,
  numberControl,
  optionalNumberControl,
  rangeExtras,
  resolveRange,
  sampleSd,
  seqFrom,
  listPoints,
} from './detector-utils.js';
import type { CountSeries, DetectorControl, DetectorResult } from './types.js';

export type EarsMethod = 'C1' | 'C2' | 'C3';

interface BaselineStats {
  mean: number;
  /** max(sd, minSigma) */
  sigma: number;
}

/**
 * Mean and bounded sd of the counts at 0-based positions from..to (inclusive), or null if the
 * window leaves the series or holds a gap or an invalid count.
 */
function windowStats(obs: readonly (number | null)[], from: number, to: number, minSigma: number): BaselineStats | null {
  if (from < 0 || to >= obs.length) return null;
  const vals: number[] = [];
  for (let i = from; i <= to; i++) {
    const v = obs[i];
    if (!isCount(v)) return null;
    vals.push(v);
  }
  return { mean: mean(vals), sigma: Math.max(sampleSd(vals), minSigma) };
}

/** C2 statistic at 0-based position s (baseline s−b−2 … s−3), NaN propagated as in R; null if data are missing. */
function c2At(obs: readonly (number | null)[], s: number, b: number, minSigma: number): { c2: number; stats: BaselineStats } | null {
  const y = obs[s];
  if (!isCount(y)) return null;
  const stats = windowStats(obs, s - b - 2, s - 3, minSigma);
  if (!stats) return null;
  return { c2: (y - stats.mean) / stats.sigma, stats };
}

/** R's pmax(0, v): NaN stays NaN. */
function rPmax0(v: number): number {
  return Number.isNaN(v) ? NaN : Math.max(0, v);
}

function readCommon(control: DetectorControl) {
  const baseline = numberControl(control, 'baseline', 7, { integer: true, min: 3 });
  const minSigma = numberControl(control, 'minSigma', 0, { min: 0 });
  return { baseline, minSigma };
}

/**
 * EARS C1/C2 and R's C3 variant (surveillance::earsC). Control: range, method ('C1' default),
 * baseline (7), minSigma (0), alpha (0.001 for C1/C2; 0.025 for C3 when not given, as R does
 * when the control list has no alpha).
 */
export function earsC(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const method = enumControl<EarsMethod>(control, 'method', ['C1', 'C2', 'C3'], 'C1');
  const { baseline: b, minSigma } = readCommon(control);
  const alpha = numberControl(control, 'alpha', method === 'C3' ? 0.025 : 0.001, { gt: 0, lt: 1 });
  const z = qnorm(1 - alpha);
  const maxLag = method === 'C1' ? b : method === 'C2' ? b + 2 : b + 4;
  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => seqFrom(maxLag + 1, len));

  const res = emptyResult(n);
  const extraNames = method === 'C3' ? ['C2', 'lag1', 'lag2', 'sigma'] : ['mean', 'sigma'];
  const extra = rangeExtras(extraNames, range.length);
  const skipped: number[] = [];
  const tooEarly: number[] = [];

  range.forEach((t1, j) => {
    const t = t1 - 1;
    if (t - maxLag < 0) {
      tooEarly.push(t1);
      return;
    }
    const y = obs[t];
    if (!isCount(y)) {
      skipped.push(t1);
      return;
    }
    if (method === 'C1' || method === 'C2') {
      const stats = method === 'C1' ? windowStats(obs, t - b, t - 1, minSigma) : windowStats(obs, t - b - 2, t - 3, minSigma);
      if (!stats) {
        skipped.push(t1);
        return;
      }
      const ub = stats.mean + z * stats.sigma;
      extra['mean']![j] = stats.mean;
      extra['sigma']![j] = stats.sigma;
      res.upperbound[t] = finiteOrNull(ub);
      res.alarm[t] = Number.isNaN(ub) ? null : y > ub;
      return;
    }
    // R's C3 variant.
    const cur = c2At(obs, t, b, minSigma);
    const l1 = c2At(obs, t - 1, b, minSigma);
    const l2 = c2At(obs, t - 2, b, minSigma);
    if (!cur || !l1 || !l2) {
      skipped.push(t1);
      return;
    }
    const lag1 = rPmax0(l1.c2 - 1);
    const lag2 = rPmax0(l2.c2 - 1);
    const ub = rPmax0(y + cur.stats.sigma * (z - (lag2 + lag1)));
    extra['C2']![j] = finiteOrNull(cur.c2);
    extra['lag1']![j] = finiteOrNull(lag1);
    extra['lag2']![j] = finiteOrNull(lag2);
    extra['sigma']![j] = cur.stats.sigma;
    if (Number.isNaN(ub)) {
      res.messages!.push(`time point ${t1}: C3 bound undefined (zero baseline sd with minSigma 0): no verdict`);
      return;
    }
    res.upperbound[t] = ub;
    res.alarm[t] = y > ub;
  });

  if (tooEarly.length) {
    res.messages!.push(
      `too little history for ${method} (needs ${maxLag} earlier periods) at time point(s) ${listPoints(tooEarly)}: no verdict`,
    );
  }
  if (skipped.length) {
    res.messages!.push(`missing or invalid counts in the current period or baseline at time point(s) ${listPoints(skipped)}: no verdict`);
  }
  res.extra = extra;
  return res;
}

/**
 * EARS C3 as defined by the CDC (Hutwagner et al. 2003; Fricker et al. 2008):
 * C3_t = Σ_{i=t−2..t} max(0, C2_i − 1), where C2_i uses the baseline i−b−2 … i−3 and a NaN C2
 * (zero baseline sd and y equal to the mean) counts as 0. Alarm when C3_t > z, z = Φ⁻¹(1 − α)
 * (α = 0.025 by default, z ≈ 1.96, the CDC's "about 2").
 * Upper bound: the smallest count above which C3_t would exceed z given the two lagged terms,
 * U_t = mean_t + sd_t·(1 + z − lag1 − lag2); null when the lagged terms alone already exceed z
 * (then any count alarms). This matches the reference files earsC_C3doc_*.
 */
export function earsC3cdc(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const { baseline: b, minSigma } = readCommon(control);
  const alpha = numberControl(control, 'alpha', 0.025, { gt: 0, lt: 1 });
  const threshold = optionalNumberControl(control, 'threshold');
  const z = threshold ?? qnorm(1 - alpha);
  const maxLag = b + 4;
  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => seqFrom(maxLag + 1, len));

  const res = emptyResult(n);
  const extra = rangeExtras(['C2', 'C3'], range.length);
  const skipped: number[] = [];
  const tooEarly: number[] = [];
  const c2cdc = (s: number) => {
    const r = c2At(obs, s, b, minSigma);
    if (!r) return null;
    return { c2: Number.isNaN(r.c2) ? 0 : r.c2, stats: r.stats };
  };

  range.forEach((t1, j) => {
    const t = t1 - 1;
    if (t - maxLag < 0) {
      tooEarly.push(t1);
      return;
    }
    const cur = c2cdc(t);
    const l1 = c2cdc(t - 1);
    const l2 = c2cdc(t - 2);
    if (!cur || !l1 || !l2) {
      skipped.push(t1);
      return;
    }
    const lagSum = Math.max(0, l1.c2 - 1) + Math.max(0, l2.c2 - 1);
    const c3 = lagSum + Math.max(0, cur.c2 - 1);
    extra['C2']![j] = finiteOrNull(cur.c2);
    extra['C3']![j] = finiteOrNull(c3);
    res.alarm[t] = c3 > z;
    res.upperbound[t] = lagSum <= z ? cur.stats.mean + cur.stats.sigma * (1 + z - lagSum) : null;
  });

  if (tooEarly.length) {
    res.messages!.push(`too little history for C3 (needs ${maxLag} earlier periods) at time point(s) ${listPoints(tooEarly)}: no verdict`);
  }
  if (skipped.length) {
    res.messages!.push(`missing or invalid counts in the current period or baseline at time point(s) ${listPoints(skipped)}: no verdict`);
  }
  res.extra = extra;
  return res;
}
