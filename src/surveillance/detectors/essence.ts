/**
 * ESSENCE Regression/EWMA switch for daily counts, following the CDC NSSP open implementation
 * (R package Rnssp: alert_regression, alert_ewma, alert_switch).
 *
 * References: Burkom HS et al. (2007), Developments in the roles, features, and evaluation of
 * alerting algorithms for disease outbreak monitoring, Johns Hopkins APL Tech Digest 27(4);
 * Fricker RD (2013), Introduction to Statistical Methods for Biosurveillance, ch. 6–7.
 *
 * For day t, the baseline is the nb days t−g−nb … t−g−1 before a guard band of g days (g = 2);
 * nb = min(B, t − g) with B = 28, and at least `minBaseline` (11) days, so a series can be judged
 * from its 14th day, as in Rnssp.
 *
 * Adaptive regression: least squares y = β0 + β1·τ + Σ_{d=Mon..Sat} γ_d·[dow = d] over the baseline
 * (τ = 1 … nb, Sunday the reference day). Forecast at τ = nb + g + 1 with that day's effect,
 * floored at 0. Residual mean square s² = RSS/(nb − 8); the standard error of prediction is
 * approximated by s·√((nb + 7)(nb − 4) / (nb(nb − 7))), bounded below by 1.01/t_{0.95, nb−8}
 * (t rounded to 5 decimals). Test statistic (y − ŷ)/σ, p = 1 − F_t(stat; nb − 8).
 * Adjusted R² = 1 − (1 − R²)(nb − 1)/(nb − 8), R² = MSS/(MSS + RSS) (0 when undefined).
 *
 * EWMA: two smoothers Z_t = w·y_t + (1 − w)·Z_{t−1}, w = 0.4 (gradual) and 0.9 (sudden), started at
 * Z_1 = y_1. Baseline mean μ and sd s over the same baseline; the sd of Z_t − μ is
 * s·√(w/(2 − w) + 1/nb − 2(1 − w)^{g+1}(1 − (1 − w)^{nb})/nb) plus a small-count correction
 * (0.1289 − (0.2414 − 0.1826(1 − w)^4)·ln 0.5)·w/t_{0.95}, bounded below by (w/t_{0.95})(1 + (1 − w)²/2),
 * with t quantiles on nb − 1 df rounded to 5 decimals. stat = (Z_t − μ)/σ, p = 1 − F_t(stat; nb − 1);
 * the smaller p of the two smoothers is reported. A smoothed value whose |stat| exceeds t_{0.99}
 * is pulled back to μ ± t_{0.99}·σ before it feeds the next day, so an outbreak does not inflate
 * the smoother for long.
 *
 * Switch: regression when its adjusted R² ≥ 0.60, EWMA otherwise.
 * Alert levels: red p < 0.01, yellow 0.01 ≤ p < 0.05. Yifang's alarm: p < alpha (0.05).
 * Upper bound: the count at which p would reach alpha, so alarm ⇔ y > upper bound:
 * regression ŷ + σ·t_{1−α, nb−8}; EWMA min over the two smoothers of (μ + t_{1−α, nb−1}·σ − (1 − w)Z_{t−1})/w.
 */
import { qt as qtApprox } from 'lib-r-math.js';
import { GlmFitError, leastSquares } from './baseline-glm.js';
import { studentCdf, studentQuantile } from './farrington.js';
import {
  checkSeriesShape,
  emptyResult,
  enumControl,
  isCount,
  listPoints,
  mean,
  numberControl,
  rangeExtras,
  resolveRange,
  sampleSd,
} from './detector-utils.js';
import { DetectorInputError, type CountSeries, type DetectorControl, type DetectorResult } from './types.js';

const DAY_MS = 86_400_000;

/** R's round(x, 5) for the positive quantiles used here. */
function round5(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}

/**
 * Student t quantile and distribution function. lib-r-math.js's pt and qt are off by ~1e-7
 * relative (enough to move round5(qt(…)) or a p-value across a threshold), so the exact
 * versions in farrington.ts are used; lib-r-math's qt only gives Newton its starting point.
 */
function qt(p: number, df: number): number {
  return studentQuantile(p, df, qtApprox(p, df));
}

/** Upper-tail probability as Rnssp computes it: 1 − pt(stat, df). */
function upperP(stat: number, df: number): number {
  return 1 - studentCdf(stat, df);
}

/** ISO weekday (1 = Monday … 7 = Sunday) of each position. */
function weekdays(series: CountSeries): number[] {
  const n = series.observed.length;
  if (series.dates && series.dates.length > 0) {
    if (series.dates.length !== n) throw new DetectorInputError(`series.dates has ${series.dates.length} entries for ${n} counts`);
    return series.dates.map((d, i) => {
      const ms = Date.parse(`${d}T00:00:00Z`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(ms))
        throw new DetectorInputError(`series.dates[${i}] is not a YYYY-MM-DD date: ${JSON.stringify(d)}`);
      if (i > 0 && ms - Date.parse(`${series.dates![i - 1]}T00:00:00Z`) !== DAY_MS) {
        throw new DetectorInputError(
          `series.dates must be consecutive days; series.dates[${i}] = ${d} does not follow ${series.dates![i - 1]}`,
        );
      }
      return isoDow(ms);
    });
  }
  if (series.freq !== 365) {
    throw new DetectorInputError(`essence needs daily counts: series.freq is ${series.freq} (expected 365) and no series.dates are given`);
  }
  const [year, day] = series.start;
  const first = Date.UTC(year, 0, 1) + (day - 1) * DAY_MS;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(isoDow(first + i * DAY_MS));
  return out;
}

function isoDow(ms: number): number {
  const d = new Date(ms).getUTCDay(); // 0 = Sunday
  return d === 0 ? 7 : d;
}

export interface EssenceDay {
  model: 'regression' | 'ewma';
  expected: number;
  testStatistic: number;
  pValue: number;
  adjR2: number | null;
  upperbound: number;
}

interface RegressionOut {
  expected: number;
  sigma: number;
  stat: number;
  p: number;
  adjR2: number;
  df: number;
}

function regressionAt(y: readonly number[], dows: readonly number[], t: number, nb: number, g: number): RegressionOut | null {
  const from = t - g - nb;
  const rows: number[][] = [];
  const resp: number[] = [];
  for (let j = 0; j < nb; j++) {
    const i = from + j;
    const row = [1, j + 1, 0, 0, 0, 0, 0, 0];
    const d = dows[i]!;
    if (d <= 6) row[1 + d] = 1;
    rows.push(row);
    resp.push(y[i]!);
  }
  let beta: number[];
  try {
    beta = leastSquares(rows, resp);
  } catch (e) {
    if (e instanceof GlmFitError) return null;
    throw e;
  }
  const df = nb - 8;
  const fitted = rows.map((r) => r.reduce((s, x, j) => s + x * beta[j]!, 0));
  let rss = 0;
  for (let j = 0; j < nb; j++) rss += (resp[j]! - fitted[j]!) ** 2;
  const fm = mean(fitted);
  let mss = 0;
  for (const f of fitted) mss += (f - fm) ** 2;
  // A constant baseline has R² = 0/0; in floating point MSS and RSS are then rounding noise,
  // so decide that case exactly (the counts are integers, their deviations exact).
  const ym = mean(resp);
  const constant = resp.every((v) => v === ym);
  const r2 = constant ? NaN : mss / (rss + mss);
  let adjR2 = 1 - (1 - r2) * ((nb - 1) / df);
  if (Number.isNaN(adjR2)) adjR2 = 0;
  const mse = rss / df;
  const minSigma = 1.01 / round5(qt(0.95, df));
  const sigma = Math.max(Math.sqrt(mse) * Math.sqrt(((nb + 7) * (nb - 4)) / (nb * (nb - 7))), minSigma);
  const tau = nb + g + 1;
  const d = dows[t]!;
  const expected = Math.max(0, beta[0]! + tau * beta[1]! + (d <= 6 ? beta[1 + d]! : 0));
  const stat = (y[t]! - expected) / sigma;
  return { expected, sigma, stat, p: upperP(stat, df), adjR2, df };
}

/**
 * ESSENCE detector. Control: range, alpha (0.05), mode ('switch' | 'regression' | 'ewma'),
 * B (28, a multiple of 7), g (2), minBaseline (11), w1 (0.4), w2 (0.9), r2Threshold (0.6).
 */
export function essence(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const alpha = numberControl(control, 'alpha', 0.05, { gt: 0, lt: 1 });
  const mode = enumControl(control, 'mode', ['switch', 'regression', 'ewma'] as const, 'switch');
  const B = numberControl(control, 'B', 28, { integer: true, min: 7 });
  if (B % 7 !== 0) throw new DetectorInputError(`control.B must be a multiple of 7, got ${B}`);
  const g = numberControl(control, 'g', 2, { integer: true, min: 0 });
  const minBaseline = numberControl(control, 'minBaseline', 11, { integer: true, min: 9, max: B });
  const w1 = numberControl(control, 'w1', 0.4, { gt: 0, lt: 1 });
  const w2 = numberControl(control, 'w2', 0.9, { gt: 0, lt: 1 });
  const r2Threshold = numberControl(control, 'r2Threshold', 0.6);
  const obs = series.observed;
  const n = obs.length;
  const dows = weekdays(series);
  const range = resolveRange(series, control, (len) => (len >= minBaseline + g + 1 ? [len] : []));
  const res = emptyResult(n);
  const extra = rangeExtras(['expected', 'testStatistic', 'pValue', 'adjR2', 'regression', 'level'], range.length);
  res.extra = extra;

  const y = obs.map((v) => (isCount(v) ? v : NaN));
  const ok = obs.map((v) => isCount(v));
  // prefix count of usable values, to test a window for gaps in O(1)
  const okPrefix = [0];
  for (let i = 0; i < n; i++) okPrefix.push(okPrefix[i]! + (ok[i] ? 1 : 0));
  const windowOk = (from: number, to: number) => from >= 0 && okPrefix[to + 1]! - okPrefix[from]! === to - from + 1;

  // EWMA over the whole series (so a verdict does not depend on which days are in range).
  const ws = [w1, w2];
  const z: number[][] = [new Array<number>(n).fill(NaN), new Array<number>(n).fill(NaN)];
  const ewmaDay: ({ p: number; stat: number; expected: number; ub: number } | null)[] = new Array(n).fill(null);
  for (let t = 0; t < n; t++) {
    const nb = Math.min(B, t - g);
    const testable = ok[t] && nb >= minBaseline && windowOk(t - g - nb, t - g - 1);
    for (let j = 0; j < 2; j++) {
      const w = ws[j]!;
      const prev = t > 0 ? z[j]![t - 1]! : NaN;
      if (!ok[t])
        z[j]![t] = prev; // a gap: carry the smoother forward
      else z[j]![t] = Number.isNaN(prev) ? y[t]! : w * y[t]! + (1 - w) * prev;
    }
    if (!testable) continue;
    const base = y.slice(t - g - nb, t - g);
    const mu = mean(base);
    const s = sampleSd(base);
    const df = nb - 1;
    const uclAlert = round5(qt(0.99, df));
    const uclWarn = round5(qt(0.95, df));
    const q = qt(1 - alpha, df);
    const per: { p: number; stat: number }[] = [];
    let ub = Infinity;
    for (let j = 0; j < 2; j++) {
      const w = ws[j]!;
      const corr = Math.sqrt(w / (2 - w) + 1 / nb - 2 * Math.pow(1 - w, g + 1) * ((1 - Math.pow(1 - w, nb)) / nb));
      const minSigma = (w / uclWarn) * (1 + 0.5 * (1 - w) ** 2);
      const constant = (0.1289 - (0.2414 - 0.1826 * (1 - w) ** 4) * Math.log(10 * 0.05)) * (w / uclWarn);
      const sigma = Math.max(minSigma, s * corr + constant);
      const prev = t > 0 ? z[j]![t - 1]! : NaN;
      const stat = (z[j]![t]! - mu) / sigma;
      if (Math.abs(stat) > uclAlert) z[j]![t] = mu + Math.sign(stat) * uclAlert * sigma;
      per.push({ p: upperP(stat, df), stat });
      // The count y_t with w·y_t + (1 − w)·Z_{t−1} = μ + t_{1−α}·σ (Z starts at y_t when it has no past).
      ub = Math.min(ub, Number.isNaN(prev) ? mu + q * sigma : (mu + q * sigma - (1 - w) * prev) / w);
    }
    // The smaller p-value; a tie goes to the second smoother, as in Rnssp.
    const best = per[0]!.p < per[1]!.p ? per[0]! : per[1]!;
    ewmaDay[t] = { p: best.p, stat: best.stat, expected: mu, ub };
  }

  const noHistory: number[] = [];
  const gaps: number[] = [];
  range.forEach((t1, j) => {
    const t = t1 - 1;
    if (!ok[t]) {
      gaps.push(t1);
      return;
    }
    const nb = Math.min(B, t - g);
    if (nb < minBaseline) {
      noHistory.push(t1);
      return;
    }
    if (!windowOk(t - g - nb, t - g - 1)) {
      gaps.push(t1);
      return;
    }
    const reg = mode === 'ewma' ? null : regressionAt(y, dows, t, nb, g);
    let day: EssenceDay;
    if (reg && (mode === 'regression' || reg.adjR2 >= r2Threshold)) {
      day = {
        model: 'regression',
        expected: reg.expected,
        testStatistic: reg.stat,
        pValue: reg.p,
        adjR2: reg.adjR2,
        upperbound: reg.expected + reg.sigma * qt(1 - alpha, reg.df),
      };
    } else {
      const e = ewmaDay[t]!;
      day = { model: 'ewma', expected: e.expected, testStatistic: e.stat, pValue: e.p, adjR2: reg ? reg.adjR2 : null, upperbound: e.ub };
    }
    res.alarm[t] = day.pValue < alpha;
    res.upperbound[t] = day.upperbound;
    extra['expected']![j] = day.expected;
    extra['testStatistic']![j] = day.testStatistic;
    extra['pValue']![j] = day.pValue;
    extra['adjR2']![j] = day.adjR2;
    extra['regression']![j] = day.model === 'regression' ? 1 : 0;
    extra['level']![j] = day.pValue < 0.01 ? 2 : day.pValue < 0.05 ? 1 : 0;
  });
  if (noHistory.length) {
    res.messages!.push(
      `too little history (needs ${minBaseline} baseline days plus a ${g}-day guard band) at time point(s) ${listPoints(noHistory)}: no verdict`,
    );
  }
  if (gaps.length)
    res.messages!.push(`missing or invalid counts on the day or in its baseline at time point(s) ${listPoints(gaps)}: no verdict`);
  return res;
}
