/**
 * China Infectious Disease Automated-alert and Response System (CIDARS) temporal methods.
 *
 * References: Yang W, Li Z, Lan Y, et al. A nationwide web-based automated system for outbreak
 * early detection and rapid response in China. Western Pac Surveill Response J 2011;2(1):10–15.
 * Wang R, Jiang Y, Guo X, et al. How to select a proper early warning threshold to detect
 * infectious disease outbreaks based on CIDARS. BMC Public Health 2017;17:570 (moving window of
 * 5 weeks × 5 years). Zhang H, Lai S, et al. 2014年国家传染病自动预警系统运行结果分析.
 * 疾病监测 2016;31(11):896–902.
 *
 * Moving percentile method (MPM): the count of the most recent block (7 days on a daily series,
 * one period on a weekly or monthly one) is compared with the P-th percentile of the counts of
 * the same-season blocks in each of the previous `years` years: the block ending on the same
 * day one, two, … years back and the `weeks` blocks before and after it (5 × 5 = 25 blocks by
 * default). Years are `freq` periods (365 days on a daily series, so a leap day shifts the
 * window by one day, well inside the ±2-week window). The percentile is the usual linear
 * interpolation between order statistics (R's quantile type 7, Excel's PERCENTILE), as in the
 * spreadsheets of Wang et al.
 *
 * Signal rule: CIDARS defines a warning signal as the case count of the current observation
 * period *reaching* the warning threshold (预警信号: 当前观察周期内病例数达到预警阈值时系统发出的
 * 提示信息 — Shaanxi CDC CIDARS training material; "当前值超过历史数据P50" in the 2006 pilot
 * description is the same rule with integer counts). So Yifang signals when count ≥ threshold,
 * and additionally requires at least `minCases` (default 1) cases so that an all-zero history
 * does not signal on zero. upperbound = the percentile threshold (note: unlike the R-derived
 * detectors, where the alarm is count > upperbound, CIDARS alarms at count ≥ upperbound).
 *
 * Fixed threshold method: for rare or severe diseases one case is a signal: alarm when the
 * count of the period reaches `threshold` (default 1); upperbound = threshold.
 */
import { checkSeriesShape, emptyResult, isCount, listPoints, numberControl, rangeExtras, resolveRange, seqFrom } from './detector-utils.js';
import type { CountSeries, DetectorControl, DetectorResult } from './types.js';

/** Sample quantile with linear interpolation between order statistics (R type 7). */
export function quantileType7(values: readonly number[], prob: number): number {
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return NaN;
  const h = (n - 1) * prob;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return xs[lo]! + (h - lo) * (xs[hi]! - xs[lo]!);
}

/** Sum of observed[end − len + 1 … end] (0-based), or null if it leaves the series or has a gap. */
function blockSum(obs: readonly (number | null)[], end: number, len: number): number | null {
  if (end - len + 1 < 0 || end >= obs.length) return null;
  let s = 0;
  for (let i = end - len + 1; i <= end; i++) {
    const v = obs[i];
    if (!isCount(v)) return null;
    s += v;
  }
  return s;
}

/**
 * CIDARS moving percentile method. Control: range, percentile (80; CIDARS uses P50–P90 by
 * disease), years (5), weeks (2: blocks before and after the same-season block), blockLength
 * (periods per block: 7 on a daily series, 1 otherwise), minBlocks (historical blocks needed:
 * 2·weeks + 1, one year's worth), minCases (1).
 */
export function cidarsMpm(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const percentile = numberControl(control, 'percentile', 80, { min: 0, max: 100 });
  const years = numberControl(control, 'years', 5, { integer: true, min: 1 });
  const weeks = numberControl(control, 'weeks', 2, { integer: true, min: 0 });
  const blockLength = numberControl(control, 'blockLength', series.freq >= 365 ? 7 : 1, { integer: true, min: 1 });
  const minBlocks = numberControl(control, 'minBlocks', 2 * weeks + 1, { integer: true, min: 1 });
  const minCases = numberControl(control, 'minCases', 1, { min: 0 });
  const freq = series.freq;
  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => seqFrom(freq + (weeks + 1) * blockLength, len));
  const res = emptyResult(n);
  const extra = rangeExtras(['current', 'threshold', 'blocks'], range.length);
  res.extra = extra;
  const tooLittle: number[] = [];
  const gaps: number[] = [];

  range.forEach((t1, j) => {
    const t = t1 - 1;
    const current = blockSum(obs, t, blockLength);
    if (current === null) {
      if (t - blockLength + 1 < 0) tooLittle.push(t1);
      else gaps.push(t1);
      return;
    }
    const hist: number[] = [];
    for (let y = 1; y <= years; y++) {
      for (let o = -weeks; o <= weeks; o++) {
        const end = t - y * freq + o * blockLength;
        if (end > t - blockLength) continue; // never overlap the current block
        const s = blockSum(obs, end, blockLength);
        if (s !== null) hist.push(s);
      }
    }
    extra['current']![j] = current;
    extra['blocks']![j] = hist.length;
    if (hist.length < minBlocks) {
      tooLittle.push(t1);
      return;
    }
    const threshold = quantileType7(hist, percentile / 100);
    extra['threshold']![j] = threshold;
    res.upperbound[t] = threshold;
    res.alarm[t] = current >= threshold && current >= minCases;
  });
  if (tooLittle.length) {
    res.messages!.push(
      `too little history (needs ${minBlocks} same-season blocks from earlier years) at time point(s) ${listPoints(tooLittle)}: no verdict`,
    );
  }
  if (gaps.length) res.messages!.push(`missing or invalid counts in the current block at time point(s) ${listPoints(gaps)}: no verdict`);
  return res;
}

/**
 * CIDARS fixed-threshold method: alarm when the count of the period (or of the last
 * `blockLength` periods) reaches `threshold` (default 1: a single case is a signal).
 */
export function cidarsFixed(series: CountSeries, control: DetectorControl = {}): DetectorResult {
  checkSeriesShape(series);
  const threshold = numberControl(control, 'threshold', 1, { gt: 0 });
  const blockLength = numberControl(control, 'blockLength', 1, { integer: true, min: 1 });
  const obs = series.observed;
  const n = obs.length;
  const range = resolveRange(series, control, (len) => seqFrom(blockLength, len));
  const res = emptyResult(n);
  const extra = rangeExtras(['current'], range.length);
  res.extra = extra;
  const skipped: number[] = [];
  range.forEach((t1, j) => {
    const t = t1 - 1;
    const current = blockSum(obs, t, blockLength);
    if (current === null) {
      skipped.push(t1);
      return;
    }
    extra['current']![j] = current;
    res.upperbound[t] = threshold;
    res.alarm[t] = current >= threshold;
  });
  if (skipped.length)
    res.messages!.push(
      `missing or invalid counts (or too little history for the block) at time point(s) ${listPoints(skipped)}: no verdict`,
    );
  return res;
}
