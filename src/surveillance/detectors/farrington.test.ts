/**
 * Farrington (1996) and Farrington flexible (Noufaily 2013) against R `surveillance` 1.20.3.
 *
 * The reference outputs live in ../shared/surveillance-refs/ next to the repository (override
 * with YIFANG_SURVEILLANCE_REFS). Each file's `params` is the exact R call; the controls below
 * are written out literally and checked against that call before the comparison.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anscombeResiduals, farrington, outbreakWeights, outbreakWeightsFromFit, reweightedFit, rMax1 } from './farrington.js';
import { farringtonFlexible, negBinQuantile, negBinUpperTail } from './farrington-flexible.js';
import { fitGlm, fitPoissonGlm, predictLink } from './glm.js';
import { DetectorInputError, type CountSeries, type Detector, type DetectorControl } from './types.js';

const REFS_DIR =
  process.env['YIFANG_SURVEILLANCE_REFS'] ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/surveillance-refs');

interface Reference {
  method: string;
  params: string;
  freq: number;
  start: [number, number];
  observed: (number | null)[];
  range: number[];
  alarm: (number | boolean | null)[];
  upperbound: (number | null)[];
  extra?: Record<string, (number | null)[]>;
}

function loadReference(name: string): Reference {
  return JSON.parse(readFileSync(path.join(REFS_DIR, `${name}.json`), 'utf8')) as Reference;
}

function seq(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * The `control = list(...)` of an R call as a plain object: TRUE/FALSE, numbers, "strings",
 * c(a, b) and a:b ranges (enough for the reference calls).
 */
function parseRControl(call: string): Record<string, unknown> {
  const startAt = call.indexOf('list(');
  if (startAt < 0) throw new Error(`no control list in ${call}`);
  let depth = 0;
  let body = '';
  for (let i = startAt + 'list('.length; i < call.length; i++) {
    const ch = call[i]!;
    if (ch === '(') depth++;
    if (ch === ')') {
      if (depth === 0) break;
      depth--;
    }
    body += ch;
  }
  const parts: string[] = [];
  depth = 0;
  let cur = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const value = (v: string): unknown => {
    v = v.trim();
    if (v === 'TRUE') return true;
    if (v === 'FALSE') return false;
    if (v.startsWith('"')) return v.slice(1, -1);
    if (v.startsWith('c(')) return v.slice(2, -1).split(',').map(value);
    const m = /^(\d+):(\d+)$/.exec(v);
    if (m) return seq(Number(m[1]), Number(m[2]));
    const num = Number(v);
    if (Number.isNaN(num)) throw new Error(`cannot read R value ${v}`);
    return num;
  };
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    out[part.slice(0, eq).trim()] = value(part.slice(eq + 1));
  }
  return out;
}

const RANGE = seq(209, 312);

const CASES: Array<{ file: string; detector: Detector; control: DetectorControl }> = [
  {
    file: 'salmonella.agona__farrington_b3w3',
    detector: farrington,
    control: {
      range: RANGE,
      b: 3,
      w: 3,
      reweight: true,
      verbose: false,
      alpha: 0.05,
      trend: true,
      limit54: [5, 4],
      powertrans: '2/3',
      fitFun: 'algo.farrington.fitGLM.fast',
    },
  },
  {
    file: 'salmonella.agona__farringtonFlexible_noufaily_b3',
    detector: farringtonFlexible,
    control: {
      range: RANGE,
      b: 3,
      w: 3,
      reweight: true,
      weightsThreshold: 2.58,
      glmWarnings: false,
      alpha: 0.05,
      trend: true,
      pThresholdTrend: 1,
      limit54: [5, 4],
      powertrans: '2/3',
      fitFun: 'algo.farrington.fitGLM.flexible',
      populationOffset: false,
      noPeriods: 10,
      pastWeeksNotIncluded: 26,
      thresholdMethod: 'nbPlugin',
    },
  },
  {
    file: 'salmonella.agona__farringtonFlexible_orig_b3',
    detector: farringtonFlexible,
    control: {
      range: RANGE,
      b: 3,
      w: 3,
      reweight: true,
      weightsThreshold: 1,
      glmWarnings: false,
      alpha: 0.05,
      trend: true,
      pThresholdTrend: 0.05,
      limit54: [5, 4],
      powertrans: '2/3',
      fitFun: 'algo.farrington.fitGLM.flexible',
      populationOffset: false,
      noPeriods: 1,
      pastWeeksNotIncluded: 3,
      thresholdMethod: 'delta',
    },
  },
];

function seriesOf(ref: Reference): CountSeries {
  return { observed: ref.observed, freq: ref.freq, start: ref.start, range: ref.range };
}

/** |a − b| ≤ tol·max(1, |b|): absolute for small values, relative for large ones. */
function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

describe.each(CASES)('$file matches R surveillance 1.20.3', ({ file, detector, control }) => {
  const ref = loadReference(file);

  it('uses exactly the control of the R call', () => {
    expect(control).toEqual(parseRControl(ref.params));
  });

  const res = detector(seriesOf(ref), control);

  it('gives identical alarms', () => {
    const ours = ref.observed.map((_, i) => (res.alarm[i] === null ? null : res.alarm[i] === true));
    const theirs = ref.alarm.map((a) => (a === null ? null : a === 1 || a === true));
    expect(ours).toEqual(theirs);
  });

  it('gives upper bounds within 1e-9, null exactly where R has NA', () => {
    expect(res.upperbound).toHaveLength(ref.upperbound.length);
    const bad: string[] = [];
    ref.upperbound.forEach((u, i) => {
      const v = res.upperbound[i];
      if (u === null) {
        if (v !== null) bad.push(`${i + 1}: expected null, got ${v}`);
      } else if (v === null || v === undefined || !close(v, u, 1e-9)) {
        bad.push(`${i + 1}: expected ${u}, got ${v}`);
      }
    });
    expect(bad).toEqual([]);
  });

  it('reproduces the per-week extras', () => {
    for (const [key, values] of Object.entries(ref.extra ?? {})) {
      const ours = res.extra?.[key];
      expect(ours, `extra.${key}`).toBeDefined();
      values.forEach((v, r) => {
        const o = ours![r];
        if (v === null) expect(o, `extra.${key}[${r}]`).toBeNull();
        else expect(close(o as number, v, 1e-8), `extra.${key}[${r}] = ${o}, R ${v}`).toBe(true);
      });
    }
  });

  it('emits no messages on complete data with enough history', () => {
    expect(res.messages ?? []).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------

const agona = loadReference('salmonella.agona__farrington_b3w3');
const NOUFAILY = CASES[1]!.control;
const ORIG = CASES[2]!.control;
const CLASSIC = CASES[0]!.control;

const detectorsUnderTest: Array<[string, Detector, DetectorControl]> = [
  ['farrington', farrington, CLASSIC],
  ['farringtonFlexible (Noufaily)', farringtonFlexible, NOUFAILY],
  ['farringtonFlexible (orig)', farringtonFlexible, ORIG],
];

describe.each(detectorsUnderTest)('%s on awkward input', (_name, detector, control) => {
  it('gives no verdict and a message, never a throw, without b years of history', () => {
    const series: CountSeries = { observed: agona.observed.slice(0, 120), freq: 52, start: [1990, 1], range: seq(100, 120) };
    const res = detector(series, { ...control, range: undefined });
    for (const k of series.range) {
      expect(res.alarm[k - 1]).toBeNull();
      expect(res.upperbound[k - 1]).toBeNull();
    }
    expect((res.messages ?? []).join('\n')).toMatch(/too little history/);
  });

  it('evaluates the points that do have enough history in the same run', () => {
    // Week 157 is the first with a week three years (156 weeks) before it.
    const series: CountSeries = { observed: agona.observed, freq: 52, start: [1990, 1], range: [150, 156, 157, 209] };
    const res = detector(series, { ...control, range: undefined });
    expect(res.alarm[149]).toBeNull();
    expect(res.alarm[155]).toBeNull();
    expect(typeof res.alarm[156]).toBe('boolean');
    expect(typeof res.alarm[208]).toBe('boolean');
    expect(res.messages?.join('\n')).toMatch(/too little history.*150, 156$/m);
  });

  it('drops gaps (null counts) from the baseline instead of failing', () => {
    const observed = [...agona.observed];
    const k = 250;
    // Weeks inside the reference windows of week 250 (one and two years back).
    for (const t of [k - 52, k - 52 - 1, k - 104 + 2]) observed[t - 1] = null;
    const res = detector({ observed, freq: 52, start: [1990, 1], range: [k] }, { ...control, range: undefined });
    expect(typeof res.alarm[k - 1]).toBe('boolean');
    expect(res.upperbound[k - 1]).not.toBeNull();
    expect(Number.isFinite(res.upperbound[k - 1] as number)).toBe(true);
    expect(res.messages?.join('\n')).toMatch(/gaps/);
  });

  it('gives alarm = null for a gap in the evaluated week', () => {
    const observed = [...agona.observed];
    observed[259] = null;
    const res = detector({ observed, freq: 52, start: [1990, 1], range: [260] }, { ...control, range: undefined });
    expect(res.alarm[259]).toBeNull();
  });

  it.each([
    [-1, /observed\[5\].*negative/],
    [2.5, /observed\[5\].*integer/],
    [Number.NaN, /observed\[5\]/],
    [Number.POSITIVE_INFINITY, /observed\[5\]/],
  ])('rejects the count %s with a DetectorInputError naming the field', (bad, msg) => {
    const observed: (number | null)[] = [...agona.observed];
    observed[5] = bad;
    const run = (): unknown => detector({ observed, freq: 52, start: [1990, 1], range: [260] }, { ...control, range: undefined });
    expect(run).toThrow(DetectorInputError);
    expect(run).toThrow(msg);
  });

  it('rejects bad control values and unknown control keys, naming them', () => {
    const series: CountSeries = { observed: agona.observed, freq: 52, start: [1990, 1], range: [260] };
    const cases: Array<[DetectorControl, RegExp]> = [
      [{ alpha: 1.5 }, /control\.alpha/],
      [{ b: 0 }, /control\.b/],
      [{ w: 1.5 }, /control\.w/],
      [{ limit54: [5, 0] }, /control\.limit54/],
      [{ powertrans: '3/4' }, /control\.powertrans/],
      [{ range: [0] }, /control\.range\[0\]/],
      [{ aplha: 0.05 }, /control\.aplha/],
    ];
    for (const [extra, msg] of cases) {
      const run = (): unknown => detector(series, { ...control, range: undefined, ...extra });
      expect(run).toThrow(DetectorInputError);
      expect(run).toThrow(msg);
    }
  });
});

describe('farringtonFlexible specifics', () => {
  it('rejects thresholdMethod and noPeriods it cannot honour', () => {
    const series: CountSeries = { observed: agona.observed, freq: 52, start: [1990, 1], range: [260] };
    expect(() => farringtonFlexible(series, { thresholdMethod: 'exact' })).toThrow(/control\.thresholdMethod/);
    expect(() => farringtonFlexible(series, { noPeriods: 60 })).toThrow(/control\.noPeriods/);
    expect(() => farringtonFlexible(series, { populationOffset: true })).toThrow(/control\.populationOffset/);
  });

  it("computes 'muan' thresholds at least as high as 'nbPlugin' ones", () => {
    const series: CountSeries = { observed: agona.observed, freq: 52, start: [1990, 1], range: RANGE };
    const nb = farringtonFlexible(series, { ...NOUFAILY, range: undefined });
    const muan = farringtonFlexible(series, { ...NOUFAILY, range: undefined, thresholdMethod: 'muan' });
    for (const k of RANGE) {
      const a = nb.upperbound[k - 1];
      const b = muan.upperbound[k - 1];
      expect(a === null).toBe(b === null);
      if (a !== null && b !== null) expect(b).toBeGreaterThanOrEqual(a);
    }
  });

  it('uses R defaults when control is empty (range freq·b + w + 1 … n)', () => {
    const series: CountSeries = { observed: agona.observed, freq: 52, start: [1990, 1], range: [] };
    const res = farringtonFlexible(series, {});
    expect(res.alarm.slice(0, 52 * 5 + 3).every((a) => a === null)).toBe(true);
    expect(res.alarm.slice(52 * 5 + 3).every((a) => typeof a === 'boolean')).toBe(true);
  });
});

describe('dated weekly series', () => {
  // Mondays from 1990-01-01: one and two calendar years back snap to exactly 52 and 104 weeks,
  // so with b = 2 the date-based baselines coincide with the index-based ones.
  const dates = agona.observed.map((_, i) => new Date(Date.UTC(1990, 0, 1 + 7 * i)).toISOString().slice(0, 10));
  const range = seq(209, 312);
  it.each(detectorsUnderTest)('%s gives the same result from dates as from indices when b = 2', (_n, detector, control) => {
    const base = { observed: agona.observed, freq: 52, start: [1990, 1] as [number, number], range };
    const byIndex = detector(base, { ...control, b: 2 });
    const byDate = detector({ ...base, dates }, { ...control, b: 2 });
    expect(byDate.alarm).toEqual(byIndex.alarm);
    byIndex.upperbound.forEach((u, i) => {
      const v = byDate.upperbound[i];
      if (u === null) expect(v).toBeNull();
      else expect(close(v as number, u, 1e-9)).toBe(true);
    });
  });

  it('rejects malformed dates naming the index', () => {
    const bad = [...dates];
    bad[3] = '1990-13-45';
    expect(() => farrington({ observed: agona.observed, freq: 52, start: [1990, 1], range, dates: bad }, {})).toThrow(/dates\[3\]/);
  });
});

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

describe('building blocks', () => {
  it('fits an intercept-only quasi-Poisson model: μ = mean, Pearson dispersion', () => {
    const y = [3, 7, 2, 9, 4, 0, 5, 6];
    const fit = fitPoissonGlm(
      y.map(() => [1]),
      y,
    );
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    expect(fit.converged).toBe(true);
    expect(fit.fitted[0]).toBeCloseTo(mean, 10);
    // R's dispersion uses the working weights of the last solve (μ one step before the final
    // one), so it agrees with the converged Pearson statistic only to about 1e-7.
    const pearson = y.reduce((s, v) => s + (v - mean) ** 2 / mean, 0) / (y.length - 1);
    expect(fit.dispersion).toBeCloseTo(pearson, 6);
    y.forEach((_, i) => expect(fit.hat[i]).toBeCloseTo(1 / y.length, 10));
    const pred = predictLink(fit, [1], 1);
    expect(pred.se).toBeCloseTo(Math.sqrt(1 / (mean * y.length)), 8);
  });

  it('drops a collinear column (R reports NA for it) without changing the fit', () => {
    const y = [3, 7, 2, 9, 4, 0, 5, 6];
    const t = y.map((_, i) => i + 1);
    const a = fitPoissonGlm(
      t.map((v) => [1, v]),
      y,
    );
    const b = fitPoissonGlm(
      t.map((v) => [1, v, 2 * v]),
      y,
    );
    expect(b.aliased).toEqual([false, false, true]);
    expect(Number.isNaN(b.coefficients[2]!)).toBe(true);
    expect(b.coefficients[1]).toBeCloseTo(a.coefficients[1]!, 12);
    expect(b.dfResidual).toBe(a.dfResidual);
  });

  it('down-weights an outbreak week in the baseline', () => {
    const y = [2, 3, 1, 2, 30, 2, 3, 2, 1, 2];
    const m = reweightedFit(
      y.map(() => [1]),
      y,
      true,
      1,
    );
    const w = m.omega!;
    expect(w[4]!).toBeLessThan(0.3 * w[0]!);
    // Weeks below the threshold share the same weight γ.
    expect(w[0]).toBe(w[1]);
  });

  it('outbreak weights from a fit equal those from all the Anscombe residuals, bit for bit', () => {
    // Seasonal counts with two outbreaks, fitted with and without trend; thresholds from
    // negative to above every residual (only rows that can exceed it get the exact residual).
    const n = 150;
    const y = Array.from(
      { length: n },
      (_, i) => Math.round(6 + 4 * Math.sin(i / 5) + ((i * 7919) % 11) / 3) + (i === 40 ? 25 : i === 97 ? 12 : 0),
    );
    const level = Int32Array.from(y, (_, i) => Math.floor(i / 15) % 5);
    const time = Float64Array.from(y, (_, i) => 300 + i + (i > 70 ? 3 : 0));
    for (const withTrend of [true, false]) {
      const fit = fitGlm({ level, nLevels: 5, time: withTrend ? time : null }, y);
      const phi = rMax1(fit.dispersion);
      for (const threshold of [-1, 0, 1, 1.96, 2.58, 4, 100]) {
        const expected = outbreakWeights(anscombeResiduals(fit, y, phi), threshold);
        expect(Array.from(outbreakWeightsFromFit(fit, y, phi, threshold))).toEqual(Array.from(expected));
      }
    }
  });

  it('negative binomial quantile and upper tail match closed forms (size 1: geometric)', () => {
    // Geometric with success probability p: P(Y ≥ y) = (1 − p)^y.
    for (const p of [0.1, 0.37, 0.5, 0.9]) {
      for (const y of [0, 1, 2, 5, 20]) expect(negBinUpperTail(y, 1, p)).toBeCloseTo((1 - p) ** y, 13);
      const q = negBinQuantile(0.95, 1, p);
      expect(1 - (1 - p) ** (q + 1)).toBeGreaterThanOrEqual(0.95);
      expect(1 - (1 - p) ** q).toBeLessThan(0.95);
    }
    // Values from R: qnbinom(0.95, size = 0.6273282541274455, prob = 0.569808660312139) = 2.
    expect(negBinQuantile(0.95, 0.6273282541274455, 0.569808660312139)).toBe(2);
    expect(negBinQuantile(0.95, 0, 0.5)).toBe(0);
  });
});
