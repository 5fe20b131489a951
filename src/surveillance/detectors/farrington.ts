/**
 * Classic Farrington outbreak detector.
 *
 * Farrington, Andrews, Beale & Catchpole (1996), "A statistical algorithm for the early
 * detection of outbreaks of infectious disease", J. R. Statist. Soc. A 159(3):547–563.
 *
 * For each evaluated week k the baseline is the 2w+1 weeks centred on the same week of each
 * of the b previous years. A quasi-Poisson log-linear model (optionally with a linear time
 * trend) is fitted to the baseline, past outbreaks are down-weighted with Anscombe residuals,
 * and the upper limit of a prediction interval for week k is computed on a power-transformed
 * scale (2/3 by default) with the delta method. The conventions (reference windows, the trend
 * rule, the 5-cases-in-4-weeks rule, the two-sided z, the zero bound when too few cases) are
 * those of R package `surveillance` (function `farrington`, i.e. `algo.farrington` with
 * `fitFun = "algo.farrington.fitGLM.fast"`), version 1.20.3, which this module reproduces;
 * see `shared/domain/detectors.md` and the reference outputs in `shared/surveillance-refs/`.
 *
 * The module also holds the pieces shared with the flexible variant in
 * `farrington-flexible.ts` (input checks, the reweighted fit, the delta-method bound).
 */
import { lgamma, qnorm } from 'lib-r-math.js';
import {
  createGlmWorkspace,
  fitGlm,
  predictLink,
  type FactorTrendDesign,
  type GlmDesign,
  type GlmWorkspace,
  type PoissonGlmFit,
} from './glm.js';
import { DetectorInputError, type CountSeries, type Detector, type DetectorControl, type DetectorResult } from './types.js';

// ---------------------------------------------------------------------------------------------
// Input checks and control reading (shared with farrington-flexible.ts)
// ---------------------------------------------------------------------------------------------

/**
 * Checks the series and returns its counts. A count must be null (a gap) or a finite
 * non-negative integer; anything else throws DetectorInputError naming `observed[i]`.
 */
export function checkedCounts(series: CountSeries): (number | null)[] {
  if (series === null || typeof series !== 'object') throw new DetectorInputError('series must be an object');
  if (!Array.isArray(series.observed)) throw new DetectorInputError('series.observed must be an array');
  if (typeof series.freq !== 'number' || !Number.isInteger(series.freq) || series.freq < 1) {
    throw new DetectorInputError(`series.freq must be a positive integer, got ${JSON.stringify(series.freq)}`);
  }
  const obs = series.observed;
  for (let i = 0; i < obs.length; i++) {
    const v = obs[i] as unknown;
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new DetectorInputError(`observed[${i}] must be a count or null, got ${JSON.stringify(v) ?? String(v)}`);
    }
    if (v < 0) throw new DetectorInputError(`observed[${i}] must not be negative, got ${v}`);
    if (!Number.isInteger(v)) throw new DetectorInputError(`observed[${i}] must be an integer count, got ${v}`);
  }
  seriesDays(series);
  return obs;
}

/**
 * The dates of a dated series as days since 1970-01-01, or null for an undated series. Dates
 * come from `series.dates` (ISO YYYY-MM-DD) or, in R's sts layout, from `series.epoch` when
 * `series.epochAsDate` is true (both may be given; they must then agree). A dated series must
 * have one entry per period, in time order: consecutive entries 7 days apart for weekly data
 * (freq 52), 1 day for daily (365), one calendar month for monthly (12), and a constant step
 * otherwise. A period without data is given as a null count (a gap), not left out: a left-out
 * week throws DetectorInputError naming it, since R would silently shift the baseline.
 */
export function seriesDays(series: CountSeries): number[] | null {
  const n = series.observed.length;
  const asDate = series.epochAsDate;
  if (asDate !== undefined && asDate !== null && typeof asDate !== 'boolean') {
    throw new DetectorInputError(`series.epochAsDate must be true or false, got ${JSON.stringify(asDate)}`);
  }
  let fromEpoch: number[] | null = null;
  if (asDate === true && (series.epoch !== undefined || series.dates === undefined)) {
    const epoch = series.epoch as unknown;
    if (!Array.isArray(epoch) || epoch.length !== n) {
      throw new DetectorInputError(
        `series.epoch must hold one date per observed value (${n}) as days since 1970-01-01 when series.epochAsDate is true`,
      );
    }
    fromEpoch = epoch.map((v: unknown, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 1e8) {
        throw new DetectorInputError(`epoch[${i}] must be a whole number of days since 1970-01-01, got ${JSON.stringify(v)}`);
      }
      return v;
    });
  }
  let fromDates: number[] | null = null;
  if (series.dates !== undefined) {
    if (!Array.isArray(series.dates) || series.dates.length !== n) {
      throw new DetectorInputError(`series.dates must have one date per observed value (${n})`);
    }
    fromDates = series.dates.map((d: unknown, i) => {
      const day = typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d) ? isoToDay(d) : Number.NaN;
      // The round trip rejects impossible dates such as 2019-02-30, which Date.parse rolls over.
      if (Number.isNaN(day) || dayToIso(day) !== d) {
        throw new DetectorInputError(`dates[${i}] must be an ISO date YYYY-MM-DD, got ${JSON.stringify(d) ?? String(d)}`);
      }
      return day;
    });
  }
  if (fromDates !== null && fromEpoch !== null) {
    const i = fromDates.findIndex((d, j) => d !== fromEpoch[j]);
    if (i >= 0) {
      throw new DetectorInputError(
        `epoch[${i}] (${dayToIso(fromEpoch[i]!)}) and dates[${i}] (${series.dates![i]}) disagree: give one of series.dates or series.epoch`,
      );
    }
  }
  const days = fromDates ?? fromEpoch;
  if (days === null) return null;
  checkRegularDates(days, series.freq, fromDates !== null ? 'dates' : 'epoch');
  return days;
}

/** Throws unless consecutive dates are exactly one period apart (see seriesDays). */
function checkRegularDates(days: readonly number[], freq: number, field: string): void {
  const unit = freq === 52 ? 'week' : freq === 365 ? 'day' : freq === 12 ? 'month' : 'period';
  const what = freq === 52 ? 'weekly' : freq === 365 ? 'daily' : freq === 12 ? 'monthly' : `freq ${freq}`;
  const monthOf = (day: number): number => {
    const d = new Date(day * DAY_MS);
    return d.getUTCFullYear() * 12 + d.getUTCMonth();
  };
  const step = freq === 52 ? 7 : freq === 365 ? 1 : days.length > 1 ? days[1]! - days[0]! : 1;
  for (let i = 1; i < days.length; i++) {
    const prev = days[i - 1]!;
    const cur = days[i]!;
    const ok = freq === 12 ? monthOf(cur) - monthOf(prev) === 1 : cur - prev === step && step > 0;
    if (ok) continue;
    const gap = cur - prev;
    const how =
      gap <= 0 ? `is not after ${field}[${i - 1}] (${dayToIso(prev)})` : `is ${gap} days after ${field}[${i - 1}] (${dayToIso(prev)})`;
    throw new DetectorInputError(
      `${field}[${i}] (${dayToIso(cur)}) ${how}: a dated ${what} series needs one entry per ${unit}, in time order; ` +
        `give a ${unit} without data as a null count (a gap) instead of leaving it out`,
    );
  }
}

/** Reads control values with R's names; every failure names the field. */
export class ControlReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly control: DetectorControl,
    private readonly detector: string,
  ) {
    if (control === null || typeof control !== 'object' || Array.isArray(control)) {
      throw new DetectorInputError('control must be an object');
    }
  }

  private raw(name: string): unknown {
    this.seen.add(name);
    const v = this.control[name];
    return v === null ? undefined : v;
  }

  number(name: string, dflt: number, check: (v: number) => boolean, what: string): number {
    const v = this.raw(name);
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      throw new DetectorInputError(`control.${name} must be ${what}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  integer(name: string, dflt: number, min: number): number {
    return this.number(name, dflt, (v) => Number.isInteger(v) && v >= min, `an integer ≥ ${min}`);
  }

  optionalInteger(name: string, min: number): number | null {
    const v = this.raw(name);
    if (v === undefined) return null;
    return this.integer(name, 0, min);
  }

  boolean(name: string, dflt: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new DetectorInputError(`control.${name} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  choice<T extends string>(name: string, allowed: readonly T[], dflt: T): T {
    const v = this.raw(name);
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw new DetectorInputError(`control.${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** limit54 = [cases, weeks]: cases ≥ 0, weeks a positive integer (R's check). */
  limit54(): [number, number] {
    const v = this.raw('limit54');
    if (v === undefined) return [5, 4];
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      typeof v[0] !== 'number' ||
      typeof v[1] !== 'number' ||
      !Number.isFinite(v[0]) ||
      !(v[0] >= 0) ||
      !Number.isInteger(v[1]) ||
      !(v[1] > 0)
    ) {
      throw new DetectorInputError(`control.limit54 must be [cases ≥ 0, weeks ≥ 1] (weeks an integer), got ${JSON.stringify(v)}`);
    }
    return [v[0], v[1]];
  }

  /**
   * The 1-based points to evaluate: control.range if given, else series.range if non-empty,
   * else the method's R default. Sorted, without duplicates.
   */
  range(series: CountSeries, fallback: () => number[]): number[] {
    const n = series.observed.length;
    const fromControl = this.raw('range');
    const where = fromControl !== undefined ? 'control.range' : 'series.range';
    const raw = fromControl ?? (Array.isArray(series.range) && series.range.length > 0 ? series.range : undefined);
    let r: number[];
    if (raw === undefined) {
      r = fallback().filter((k) => k >= 1 && k <= n);
    } else {
      if (!Array.isArray(raw)) throw new DetectorInputError(`${where} must be an array of 1-based indices`);
      r = raw.map((v: unknown, i: number) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > n) {
          throw new DetectorInputError(`${where}[${i}] must be an integer index in 1..${n}, got ${JSON.stringify(v)}`);
        }
        return v;
      });
    }
    return [...new Set(r)].sort((a, b) => a - b);
  }

  /** Accepts a key whose value does not change the computation (verbose, plot, ...). */
  ignore(name: string): void {
    this.seen.add(name);
  }

  /** Throws for control keys this detector does not know (catches typos such as `aplha`). */
  rejectUnknown(): void {
    for (const key of Object.keys(this.control)) {
      if (!this.seen.has(key)) {
        throw new DetectorInputError(`control.${key} is not a ${this.detector} control option`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers for dated series (R's "epochAsDate" mode)
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of an ISO date. */
export function isoToDay(d: string): number {
  return Math.round(Date.parse(`${d}T00:00:00Z`) / DAY_MS);
}

/** ISO date YYYY-MM-DD of a day number (days since 1970-01-01). */
export function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Day of the week, 0 = Sunday … 6 = Saturday. */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/**
 * Shift a date by whole calendar years or months, keeping the day of the month and letting
 * an impossible date roll over (29 February → 1 March), as R's seq.Date does.
 */
export function shiftCalendar(day: number, years: number, months: number): number {
  const d = new Date(day * DAY_MS);
  return Math.round(Date.UTC(d.getUTCFullYear() + years, d.getUTCMonth() + months, d.getUTCDate()) / DAY_MS);
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Snap a date to the epoch grid of t0 as R's algo.farrington does: the nearest same weekday
 * (weekly data) or the same day of the month (monthly data); daily dates are kept.
 */
function snapToEpoch(d: number, t0: number, freq: number): number {
  if (freq === 52) {
    const fwd = mod(weekday(t0) - weekday(d), 7);
    const bwd = mod(weekday(d) - weekday(t0), 7);
    return d + (fwd < bwd ? fwd : -bwd);
  }
  if (freq === 12) return d - (new Date(d * DAY_MS).getUTCDate() - new Date(t0 * DAY_MS).getUTCDate());
  return d;
}

/**
 * Reference indices (1-based) of the classic method for a dated series: for each of the b
 * previous years, the date one year (i years) back and w periods either side, each snapped
 * to the nearest same weekday as week k (weekly data) or to the same day of the month
 * (monthly data). Dates not in the series are dropped.
 */
function classicReferenceByDate(k: number, b: number, w: number, freq: number, dayIndex: Map<number, number>, days: number[]): number[] {
  const t0 = days[k - 1]!;
  const out: number[] = [];
  for (let i = 1; i <= b; i++) {
    const ref = shiftCalendar(t0, -i, 0);
    const window: number[] = [];
    for (let j = -w; j <= w; j++) {
      if (freq === 52) window.push(ref + 7 * j);
      else if (freq === 12) window.push(shiftCalendar(ref, 0, j));
      else window.push(ref + j);
    }
    for (const d of window) {
      const idx = dayIndex.get(snapToEpoch(d, t0, freq));
      if (idx !== undefined) out.push(idx);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The reweighted quasi-Poisson fit (shared)
// ---------------------------------------------------------------------------------------------

/**
 * Standardised Anscombe residuals of a Poisson fit (McCullagh & Nelder 1989, §2.4.2):
 * s = 3/2·(y^(2/3)·μ^(−1/6) − μ^(1/2)) / √(φ·(1 − h)).
 * A row with leverage 1 gives no information about outlyingness and gets s = 0.
 */
export function anscombeResiduals(fit: PoissonGlmFit, y: ArrayLike<number>, phi: number): Float64Array {
  return anscombeInto(new Float64Array(y.length), fit, y, phi);
}

/** Residuals of `anscombeResiduals` written into s (at least y.length long). */
function anscombeInto(s: Float64Array, fit: PoissonGlmFit, y: ArrayLike<number>, phi: number): Float64Array {
  const fitted = fit.fitted;
  const hat = fit.hat;
  for (let i = 0; i < y.length; i++) {
    const mu = fitted[i]!;
    // y^(2/3)·μ^(−1/6) by cube roots (cheaper than pow, equal to rounding).
    const yi = y[i]!;
    const cy = yi < CBRT_TABLE_SIZE && Number.isInteger(yi) ? CBRT[yi]! : Math.cbrt(yi);
    const a = 1.5 * ((cy * cy) / Math.sqrt(Math.cbrt(mu)) - Math.sqrt(mu));
    const oneMinusH = 1 - hat[i]!;
    s[i] = oneMinusH > 0 ? a / Math.sqrt(phi * oneMinusH) : 0;
  }
  return s;
}

/** Cube roots of small counts. */
const CBRT_TABLE_SIZE = 1024;
const CBRT = new Float64Array(CBRT_TABLE_SIZE);
for (let v = 0; v < CBRT_TABLE_SIZE; v++) CBRT[v] = Math.cbrt(v);

/** Work space for the residuals of `reweightFrom` (grown on demand; used synchronously). */
let residualScratch = new Float64Array(256);

/**
 * `outbreakWeights(anscombeResiduals(fit, y, phi), threshold)`, written into `out` when given,
 * with the same values, computing the Anscombe residual only where it can exceed the
 * threshold. For y ≤ μ it is ≤ 0; otherwise, as x^(2/3) is concave,
 * y^(2/3) ≤ μ^(2/3) + (2/3)·μ^(−1/3)·(y − μ), so it is at most the Pearson residual
 * (y − μ)/√(μ·φ·(1 − h)), which needs no cube root. (Rows whose bound is within a relative 1e-9
 * of the threshold get the exact residual, far more than rounding can move either value.)
 */
export function outbreakWeightsFromFit(
  fit: PoissonGlmFit,
  y: ArrayLike<number>,
  phi: number,
  threshold: number,
  out?: Float64Array,
): Float64Array {
  const n = y.length;
  if (residualScratch.length < n) residualScratch = new Float64Array(Math.max(n, 2 * residualScratch.length));
  const above = residualScratch; // the residual of rows above the threshold
  const fitted = fit.fitted;
  const hat = fit.hat;
  const bound = threshold * (1 - 1e-9);
  const screen = threshold > 0;
  let denom = 0;
  for (let i = 0; i < n; i++) {
    const mu = fitted[i]!;
    const yi = y[i]!;
    const oneMinusH = 1 - hat[i]!;
    let s: number;
    if (screen && (yi <= mu || (yi - mu) / Math.sqrt(mu * phi * oneMinusH) < bound)) {
      s = Number.NEGATIVE_INFINITY; // at most the threshold
    } else {
      const cy = yi < CBRT_TABLE_SIZE && Number.isInteger(yi) ? CBRT[yi]! : Math.cbrt(yi);
      const a = 1.5 * ((cy * cy) / Math.sqrt(Math.cbrt(mu)) - Math.sqrt(mu));
      s = oneMinusH > 0 ? a / Math.sqrt(phi * oneMinusH) : 0;
    }
    above[i] = s;
    denom += s > threshold ? Math.pow(s, -2) : 1;
  }
  const gamma = n / denom;
  const omega = out !== undefined && out.length >= n ? out.subarray(0, n) : new Float64Array(n);
  for (let i = 0; i < n; i++) omega[i] = above[i]! > threshold ? gamma * Math.pow(above[i]!, -2) : gamma;
  return omega;
}

/**
 * Farrington's reweighting: ωᵢ = γ·sᵢ⁻² when sᵢ > threshold, else γ, with γ chosen so that the
 * weights sum to the number of baseline weeks. Reads the first n entries of s.
 */
export function outbreakWeights(s: ArrayLike<number>, threshold: number, n = s.length): Float64Array {
  let denom = 0;
  for (let i = 0; i < n; i++) denom += s[i]! > threshold ? Math.pow(s[i]!, -2) : 1;
  const gamma = n / denom;
  const omega = new Float64Array(n);
  for (let i = 0; i < n; i++) omega[i] = s[i]! > threshold ? gamma * Math.pow(s[i]!, -2) : gamma;
  return omega;
}

export interface ReweightedFit {
  fit: PoissonGlmFit;
  /** max(1, dispersion) of the final fit. */
  phi: number;
  /** Prior weights of the final fit (null without reweighting). */
  omega: Float64Array | null;
  /** Convergence of the first (unweighted) fit, which is what R checks. */
  converged: boolean;
}

/**
 * Fit, then (optionally) compute Anscombe residuals with φ = max(1, dispersion), derive
 * weights and refit with them as prior weights; φ is recomputed from the refit.
 */
export function reweightedFit(x: GlmDesign, y: ArrayLike<number>, reweight: boolean, threshold: number): ReweightedFit {
  return reweightFrom(fitGlm(x, y), x, y, reweight, threshold);
}

/**
 * Where `reweightFrom` keeps the refit and its weights, reused from point to point: the refit
 * and `omega` are then valid until the next call with the same space.
 */
export interface ReweightSpace {
  fit: GlmWorkspace;
  omega: Float64Array;
}

export function createReweightSpace(): ReweightSpace {
  return { fit: createGlmWorkspace(), omega: new Float64Array(0) };
}

/** The reweighting step of `reweightedFit`, starting from an existing unweighted fit. */
export function reweightFrom(
  first: PoissonGlmFit,
  x: GlmDesign,
  y: ArrayLike<number>,
  reweight: boolean,
  threshold: number,
  space?: ReweightSpace,
): ReweightedFit {
  let phi = rMax1(first.dispersion);
  if (!reweight) return { fit: first, phi, omega: null, converged: first.converged };
  if (space !== undefined && space.omega.length < y.length) space.omega = new Float64Array(Math.max(y.length, 2 * space.omega.length, 256));
  const omega = outbreakWeightsFromFit(first, y, phi, threshold, space?.omega);
  const second = fitGlm(x, y, space !== undefined ? { priorWeights: omega, workspace: space.fit } : { priorWeights: omega });
  phi = rMax1(second.dispersion);
  return { fit: second, phi, omega, converged: first.converged };
}

/** R's max(x, 1): NaN propagates. */
export function rMax1(v: number): number {
  return Number.isNaN(v) ? v : Math.max(v, 1);
}

// ---------------------------------------------------------------------------------------------
// Student t tail for coefficient tests.
//
// lib-r-math.js 2.0.3's pt (through its incomplete beta) is off by up to ~1e-7 relative, which
// could flip a trend decision right at the threshold; this evaluates the regularised incomplete
// beta by its continued fraction (DLMF 8.17.22) with the modified Lentz method instead.
// ---------------------------------------------------------------------------------------------

/** Continued fraction of I_x(a, b) (without the prefactor), modified Lentz. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 10000; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 4e-16) break;
  }
  return f;
}

/**
 * Regularised incomplete beta I_x(a, b), given both x and 1 − x (so that callers can pass an
 * accurately computed complement).
 */
export function incompleteBeta(x: number, oneMinusX: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (oneMinusX <= 0) return 1;
  const logPrefix = a * Math.log(x) + b * Math.log(oneMinusX) - (lgamma(a) + lgamma(b) - lgamma(a + b));
  if (x < (a + 1) / (a + b + 2)) {
    return (Math.exp(logPrefix) * betaContinuedFraction(x, a, b)) / a;
  }
  return 1 - (Math.exp(logPrefix) * betaContinuedFraction(oneMinusX, b, a)) / b;
}

/** Two-sided p-value 2·P(T_df > |t|) of a Student t statistic. */
export function studentTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
  return Math.min(1, incompleteBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5));
}

/**
 * Student t distribution function P(T_df ≤ t) (lowerTail) or P(T_df > t), from the same exact
 * incomplete beta (P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)); a replacement for lib-r-math.js's
 * pt, which is off by up to ~1e-7 relative.
 */
export function studentCdf(t: number, df: number, lowerTail = true): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return lowerTail ? 1 : 0;
  if (t === Number.NEGATIVE_INFINITY) return lowerTail ? 0 : 1;
  const t2 = t * t;
  const tail = 0.5 * incompleteBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5); // P(T > |t|)
  const upper = t > 0 ? tail : 1 - tail;
  return lowerTail ? 1 - upper : upper;
}

/** Student t density. */
export function studentDensity(t: number, df: number): number {
  const logC = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Student t quantile: the t with P(T_df ≤ t) = p, by Newton steps on the exact distribution
 * function from a starting value (lib-r-math.js's qt, good to ~1e-7), falling back to
 * bisection if Newton does not settle. Replaces lib-r-math.js's qt.
 */
export function studentQuantile(p: number, df: number, start?: number): number {
  if (Number.isNaN(p) || !(df > 0) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  // Work in the upper half (symmetry) for accuracy: find t > 0 with P(T > t) = q.
  const q = p > 0.5 ? 1 - p : p;
  const sign = p > 0.5 ? 1 : -1;
  let x = start !== undefined && Number.isFinite(start) && start !== 0 ? Math.abs(start) : 1;
  for (let i = 0; i < 60; i++) {
    const f = studentCdf(x, df, false) - q;
    const d = studentDensity(x, df);
    if (!(d > 0)) break;
    const next = x + f / d;
    if (!(next > 0) || !Number.isFinite(next)) break;
    if (Math.abs(next - x) <= 4e-16 * Math.abs(next)) return sign * next;
    x = next;
  }
  // Bisection on P(T > t) = q over [0, hi].
  let lo = 0;
  let hi = Math.max(1, x);
  while (studentCdf(hi, df, false) > q) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 4e-16 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentCdf(mid, df, false) > q) lo = mid;
    else hi = mid;
  }
  return (sign * (lo + hi)) / 2;
}

/** A unit design row, reused (linkVarianceUnscaled reads only the first p entries). */
const UNIT_ROW = new Float64Array(64);

/** Two-sided p-value of the t statistic of coefficient j with the given dispersion. */
export function coefficientPValue(fit: PoissonGlmFit, j: number, dispersion: number): number {
  // The one diagonal entry of (X'WX)⁻¹ needed, as the variance of the unit row e_j (the full
  // matrix is not built).
  const p = fit.coefficients.length;
  const unit = p <= UNIT_ROW.length ? UNIT_ROW : new Float64Array(p);
  unit.fill(0, 0, p);
  unit[j] = 1;
  const se = Math.sqrt(dispersion * (fit.aliased[j] ? Number.NaN : fit.linkVarianceUnscaled(unit)));
  const t = fit.coefficients[j]! / se;
  if (!Number.isFinite(t) || fit.dfResidual <= 0) return Number.NaN;
  return studentTwoSidedP(t, fit.dfResidual);
}

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

export type PowerTransform = 'none' | '1/2' | '2/3';
export const POWER_TRANSFORMS: readonly PowerTransform[] = ['none', '1/2', '2/3'];

export interface DeltaBound {
  lower: number;
  upper: number;
  /** Standard deviation on the transformed scale. */
  sd: number;
  exponent: number;
}

/**
 * Prediction interval by the delta method on a power scale (Farrington et al. 1996, §3.4):
 * with τ = φ + se(μ₀)²/μ₀, the variance of μ₀^e is approximated by e²·μ₀^(2e−1)·τ, giving
 * sd = √(μ₀·τ) (e = 1), √(τ/4) (e = 1/2), √(4/9·μ₀^(1/3)·τ) (e = 2/3); the bounds are
 * (μ₀^e ∓ z·sd)^(1/e). An undefined bound (a negative base raised to 3/2) is ignored and the
 * lower bound is floored at 0, as in R.
 */
export function deltaBound(mu0: number, seMu0: number, phi: number, transform: PowerTransform, z: number): DeltaBound {
  const tau = phi + (seMu0 * seMu0) / mu0;
  let sd: number;
  let exponent: number;
  if (transform === 'none') {
    sd = Math.sqrt(mu0 * tau);
    exponent = 1;
  } else if (transform === '1/2') {
    sd = Math.sqrt((1 / 4) * tau);
    exponent = 1 / 2;
  } else {
    sd = Math.sqrt((4 / 9) * Math.pow(mu0, 1 / 3) * tau);
    exponent = 2 / 3;
  }
  const centre = Math.pow(mu0, exponent);
  const a = Math.pow(centre - z * sd, 1 / exponent);
  const b = Math.pow(centre + z * sd, 1 / exponent);
  // Sort with undefined values first, then floor the first at 0.
  const vals = [a, b].filter((v) => !Number.isNaN(v)).sort((u, v) => u - v);
  let lower: number;
  let upper: number;
  if (vals.length === 2) {
    lower = vals[0]!;
    upper = vals[1]!;
  } else if (vals.length === 1) {
    lower = Number.NaN;
    upper = vals[0]!;
  } else {
    lower = Number.NaN;
    upper = Number.NaN;
  }
  lower = Number.isNaN(lower) ? 0 : Math.max(0, lower);
  return { lower, upper, sd, exponent };
}

/** Sum of the counts in weeks k−weeks+1 … k (1-based, gaps count as 0, clipped at the start). */
export function recentCases(obs: readonly (number | null)[], k: number, weeks: number): number {
  let s = 0;
  for (let t = Math.max(1, k - weeks + 1); t <= k; t++) s += obs[t - 1] ?? 0;
  return s;
}

/** "3, 4, 5" or "3, 4, 5, … (12 in all)". */
export function listPoints(points: readonly number[]): string {
  if (points.length <= 8) return points.join(', ');
  return `${points.slice(0, 8).join(', ')}, … (${points.length} in all)`;
}

/** Collects per-point notes and renders one message per kind. */
export class NoteCollector {
  private readonly notes = new Map<string, number[]>();

  add(kind: string, k: number): void {
    const list = this.notes.get(kind);
    if (list) list.push(k);
    else this.notes.set(kind, [k]);
  }

  messages(): string[] {
    return [...this.notes.entries()].map(([kind, pts]) => `${kind} at time point${pts.length > 1 ? 's' : ''} ${listPoints(pts)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The classic detector
// ---------------------------------------------------------------------------------------------

interface ClassicControl {
  b: number;
  w: number;
  reweight: boolean;
  alpha: number;
  trend: boolean;
  limit54: [number, number];
  powertrans: PowerTransform;
}

/** The classic detector's fits, reused from point to point (the detector is synchronous). */
const classicSpace = { first: createGlmWorkspace(), reweight: createReweightSpace() };

/**
 * Classic Farrington (1996). Control (R names and defaults): range (default
 * freq·b − w … n), b = 5, w = 3, reweight = true, alpha = 0.05 (two-sided: z = Φ⁻¹(1 − α/2)),
 * trend = true, limit54 = [5, 4], powertrans = '2/3', fitFun ('algo.farrington.fitGLM.fast' or
 * 'algo.farrington.fitGLM', same result); verbose and plot are accepted and ignored.
 *
 * Output per evaluated week: upperbound = 0 and alarm = false when fewer than limit54[0] cases
 * fell in the last limit54[1] weeks (current week included), as R does; otherwise alarm when
 * (y − μ₀)/(U − μ₀) > 1. A week b years back must exist (else no verdict, with a message);
 * window weeks before the start of the series and gaps (null counts) are left out of the
 * baseline. A gap in the evaluated week gives alarm = null. Extras: expected (μ₀), phi,
 * trend (1 when the trend was kept), score ((y − μ₀)/(U − μ₀), 0 when too few cases).
 *
 * Dated series (series.dates, or R's epochAsDate = true with epoch; see seriesDays), as R's
 * refvalIdxByDate: for i = 1 … b the date i calendar years before week k (29 February rolls
 * over to 1 March) and the w weeks either side of it, each moved to the nearest date with
 * week k's weekday, are looked up among the series' dates; the time variable stays the index.
 * Weeks left out of a dated series are refused (give them as null counts).
 */
export const farrington: Detector = (series: CountSeries, control: DetectorControl): DetectorResult => {
  const obs = checkedCounts(series);
  const n = obs.length;
  const freq = series.freq;
  const rd = new ControlReader(control ?? {}, 'farrington');
  const c: ClassicControl = {
    b: rd.integer('b', 5, 1),
    w: rd.integer('w', 3, 0),
    reweight: rd.boolean('reweight', true),
    alpha: rd.number('alpha', 0.05, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    trend: rd.boolean('trend', true),
    limit54: rd.limit54(),
    powertrans: rd.choice('powertrans', POWER_TRANSFORMS, '2/3'),
  };
  rd.choice('fitFun', ['algo.farrington.fitGLM.fast', 'algo.farrington.fitGLM'] as const, 'algo.farrington.fitGLM.fast');
  rd.ignore('verbose');
  rd.ignore('plot');
  const range = rd.range(series, () => {
    const out: number[] = [];
    for (let k = freq * c.b - c.w; k <= n; k++) out.push(k);
    return out;
  });
  rd.rejectUnknown();

  const alarm: (boolean | null)[] = new Array<boolean | null>(n).fill(null);
  const upperbound: (number | null)[] = new Array<number | null>(n).fill(null);
  const extra: Record<string, (number | null)[]> = {
    expected: new Array<number | null>(range.length).fill(null),
    phi: new Array<number | null>(range.length).fill(null),
    trend: new Array<number | null>(range.length).fill(null),
    score: new Array<number | null>(range.length).fill(null),
  };
  const notes = new NoteCollector();
  const z = qnorm(1 - c.alpha / 2);

  const seriesDates = seriesDays(series);
  const useDates = seriesDates !== null && [52, 12, 365].includes(freq);
  const days = useDates ? seriesDates : [];
  const dayIndex = new Map<number, number>();
  days.forEach((d, i) => dayIndex.set(d, i + 1));

  range.forEach((k, r) => {
    // Reference weeks: the window around the same week of each previous year, oldest first.
    let refs: number[];
    if (useDates) {
      if (!dayIndex.has(snapToEpoch(shiftCalendar(days[k - 1]!, -c.b, 0), days[k - 1]!, freq))) {
        notes.add(`too little history (${c.b} years needed): no verdict`, k);
        return;
      }
      refs = classicReferenceByDate(k, c.b, c.w, freq, dayIndex, days);
    } else {
      if (k - freq * c.b < 1) {
        notes.add(`too little history (${c.b} years needed): no verdict`, k);
        return;
      }
      refs = [];
      for (let i = c.b; i >= 1; i--) {
        for (let t = k - freq * i - c.w; t <= k - freq * i + c.w; t++) if (t >= 1 && t <= n) refs.push(t);
      }
    }
    if (refs.length < c.b * (2 * c.w + 1)) notes.add('reference weeks outside the series left out of the baseline', k);
    const wtime = refs.filter((t) => obs[t - 1] !== null);
    if (wtime.length < refs.length) notes.add('gaps (null counts) left out of the baseline', k);
    const response = wtime.map((t) => obs[t - 1]!);
    if (response.length < 3) {
      notes.add('fewer than 3 baseline counts: no verdict', k);
      return;
    }

    // Intercept (and trend): a one-level structured design, fitted in closed form.
    const levelZero = new Int32Array(wtime.length);
    const times = Float64Array.from(wtime);
    const designFor = (withTrend: boolean): FactorTrendDesign => ({ level: levelZero, nLevels: 1, time: withTrend ? times : null });
    const fitModel = (withTrend: boolean): { m: ReweightedFit; withTrend: boolean } => {
      // Both fits live in the work space until the next point (or the next fitModel call).
      let first = fitGlm(designFor(withTrend), response, { workspace: classicSpace.first });
      // R (fitGLM.fast) drops the trend when the first fit does not converge, then carries on.
      if (withTrend && !first.converged) {
        withTrend = false;
        notes.add('no convergence with the time trend: refitted without it', k);
        first = fitGlm(designFor(false), response, { workspace: classicSpace.first });
      }
      return { m: reweightFrom(first, designFor(withTrend), response, c.reweight, 1, classicSpace.reweight), withTrend };
    };

    let { m, withTrend } = fitModel(c.trend);
    let doTrend = false;
    if (withTrend) {
      const p = coefficientPValue(m.fit, 1, m.fit.dispersion);
      const mu0Hat = Math.exp(predictLink(m.fit, [1, k], 1).eta);
      const noExtrapolation = mu0Hat <= Math.max(...response);
      doTrend = c.b >= 3 && p < 0.05 && noExtrapolation;
      if (!doTrend) {
        ({ m, withTrend } = fitModel(false));
      }
    }
    if (!m.fit.converged) notes.add('GLM did not converge in 25 iterations (result kept, as R does)', k);

    const pred = predictLink(m.fit, withTrend ? [1, k] : [1], m.phi);
    const mu0 = Math.max(Math.exp(pred.eta), 2.220446049250313e-16);
    const seMu0 = pred.se * mu0;
    const bound = deltaBound(mu0, seMu0, m.phi, c.powertrans, z);
    const y = obs[k - 1] ?? null;
    const enough = recentCases(obs, k, c.limit54[1]) >= c.limit54[0];
    const score = y === null ? Number.NaN : enough ? (y - mu0) / (bound.upper - mu0) : 0;

    upperbound[k - 1] = enough ? finiteOrNull(bound.upper) : 0;
    alarm[k - 1] = y === null ? null : score > 1;
    if (y === null) notes.add('no count (gap) in the evaluated week: no verdict', k);
    extra.expected![r] = finiteOrNull(mu0);
    extra.phi![r] = finiteOrNull(m.phi);
    extra.trend![r] = doTrend ? 1 : 0;
    extra.score![r] = finiteOrNull(score);
  });

  return { alarm, upperbound, extra, messages: notes.messages() };
};

/** NaN / ±Infinity → null. */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
