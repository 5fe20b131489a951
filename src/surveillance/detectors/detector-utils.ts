/**
 * Small helpers shared by the detectors in this folder: reading control values with clear
 * errors, resolving the evaluation range, recognising usable counts, and building results.
 * Everything here is pure.
 */
import { DetectorInputError, type CountSeries, type DetectorControl, type DetectorResult } from './types.js';

/** A count a detector may use: a finite, non-negative integer. null (a gap) and anything else are not. */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && Number.isInteger(v);
}

/** Describes why observed[i] (0-based) is unusable, or returns null when it is a proper count. */
export function countProblem(v: unknown): string | null {
  if (v === null || v === undefined) return 'missing (gap)';
  if (typeof v !== 'number' || !Number.isFinite(v)) return `not a number (${String(v)})`;
  if (v < 0) return `negative (${v})`;
  if (!Number.isInteger(v)) return `not an integer (${v})`;
  return null;
}

/** A result with every position null (no verdict). */
export function emptyResult(n: number): DetectorResult {
  return { alarm: new Array<boolean | null>(n).fill(null), upperbound: new Array<number | null>(n).fill(null), messages: [] };
}

/** The C library's fmax: a NaN argument is ignored (JavaScript's Math.max would return NaN). */
export function cfmax(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return a > b ? a : b;
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (denominator n − 1), as R's sd(); NaN for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (n - 1));
}

// ---------------------------------------------------------------------------------------------
// Control parsing. Every failure throws DetectorInputError naming the control field.
// ---------------------------------------------------------------------------------------------

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  gt?: number;
  /** Exclusive upper bound. */
  lt?: number;
  integer?: boolean;
}

function checkNumber(name: string, v: number, rule: NumberRule): number {
  if (!Number.isFinite(v)) throw new DetectorInputError(`control.${name} must be a finite number, got ${String(v)}`);
  if (rule.integer && !Number.isInteger(v)) throw new DetectorInputError(`control.${name} must be an integer, got ${v}`);
  if (rule.min !== undefined && v < rule.min) throw new DetectorInputError(`control.${name} must be ≥ ${rule.min}, got ${v}`);
  if (rule.max !== undefined && v > rule.max) throw new DetectorInputError(`control.${name} must be ≤ ${rule.max}, got ${v}`);
  if (rule.gt !== undefined && !(v > rule.gt)) throw new DetectorInputError(`control.${name} must be > ${rule.gt}, got ${v}`);
  if (rule.lt !== undefined && !(v < rule.lt)) throw new DetectorInputError(`control.${name} must be < ${rule.lt}, got ${v}`);
  return v;
}

/** A numeric control value; undefined or null gives the default. */
export function numberControl(control: DetectorControl, name: string, dflt: number, rule: NumberRule = {}): number {
  const v = control[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number') throw new DetectorInputError(`control.${name} must be a number, got ${JSON.stringify(v)}`);
  return checkNumber(name, v, rule);
}

/** A numeric control value that may be absent (returns null). */
export function optionalNumberControl(control: DetectorControl, name: string, rule: NumberRule = {}): number | null {
  const v = control[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') throw new DetectorInputError(`control.${name} must be a number, got ${JSON.stringify(v)}`);
  return checkNumber(name, v, rule);
}

export function booleanControl(control: DetectorControl, name: string, dflt: boolean): boolean {
  const v = control[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new DetectorInputError(`control.${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function enumControl<T extends string>(control: DetectorControl, name: string, allowed: readonly T[], dflt: T): T {
  const v = control[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new DetectorInputError(`control.${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Checks the series shape (not the counts: bad counts are handled per time point by each detector). */
export function checkSeriesShape(series: CountSeries): void {
  if (!series || !Array.isArray(series.observed)) throw new DetectorInputError('series.observed must be an array');
  if (typeof series.freq !== 'number' || !Number.isInteger(series.freq) || series.freq < 1) {
    throw new DetectorInputError(`series.freq must be a positive integer, got ${JSON.stringify(series.freq)}`);
  }
  if (
    !Array.isArray(series.start) ||
    series.start.length !== 2 ||
    !series.start.every((v) => typeof v === 'number' && Number.isInteger(v))
  ) {
    throw new DetectorInputError(`series.start must be [year, period], got ${JSON.stringify(series.start)}`);
  }
}

/**
 * The 1-based time points to evaluate, sorted and de-duplicated: control.range when given,
 * otherwise series.range, otherwise `fallback` (a function of the series length).
 */
export function resolveRange(series: CountSeries, control: DetectorControl, fallback: (n: number) => number[]): number[] {
  const n = series.observed.length;
  const raw = control['range'] ?? (series.range && series.range.length > 0 ? series.range : null);
  const where = control['range'] !== undefined && control['range'] !== null ? 'control.range' : 'series.range';
  let r: number[];
  if (raw === null || raw === undefined) {
    r = fallback(n);
  } else {
    if (!Array.isArray(raw)) throw new DetectorInputError(`${where} must be an array of 1-based indices`);
    r = raw.map((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > n) {
        throw new DetectorInputError(`${where}[${i}] must be an integer index in 1..${n}, got ${JSON.stringify(v)}`);
      }
      return v;
    });
  }
  return [...new Set(r)].sort((a, b) => a - b);
}

/** Per-range extras container, filled in range order. */
export function rangeExtras(names: readonly string[], len: number): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  for (const k of names) out[k] = new Array<number | null>(len).fill(null);
  return out;
}

/** NaN / ±Infinity → null, for JSON-friendly extras. */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The integers from..to inclusive (empty when from > to). */
export function seqFrom(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** "3, 4, 5" or "3, 4, 5, … (12 in all)" for long lists of time points in messages. */
export function listPoints(points: readonly number[]): string {
  if (points.length <= 8) return points.join(', ');
  return `${points.slice(0, 8).join(', ')}, … (${points.length} in all)`;
}
