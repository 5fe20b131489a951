/**
 * Timing of the Farrington detectors.
 *
 * Run directly:  node --import tsx bench/farrington.bench.ts
 * Or import `runFarringtonBench` from a bench runner.
 *
 * Rows: farringtonFlexible with the Noufaily (2013) settings on R's salmonella.agona (b = 3,
 * the 104 weeks of the reference outputs) and on a synthetic 15-year weekly series (b = 5,
 * the last 520 weeks evaluated), compared with the R `surveillance` figure of 17 ms per
 * evaluated point; plus the original-settings flexible method and classic Farrington on
 * salmonella.agona for information. Each row times the range in slices of 8 points, each the
 * minimum of several runs after a warm-up (robust to other load on the machine), with the
 * process CPU time of those runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { farrington } from '../src/surveillance/detectors/farrington.js';
import { farringtonFlexible } from '../src/surveillance/detectors/farrington-flexible.js';
import type { CountSeries, Detector, DetectorControl } from '../src/surveillance/detectors/types.js';
import { timeDetector } from './timing.js';
import { rng as prng } from './rng.js';

const R_MS_PER_POINT = 17;

const NOUFAILY: DetectorControl = {
  noPeriods: 10,
  weightsThreshold: 2.58,
  pastWeeksNotIncluded: 26,
  pThresholdTrend: 1,
  thresholdMethod: 'nbPlugin',
};

const REFS_DIR =
  process.env['YIFANG_SURVEILLANCE_REFS'] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/surveillance-refs');

function normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000). */
function gamma(shape: number, rand: () => number): number {
  if (shape < 1) return gamma(shape + 1, rand) * Math.pow(rand(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rand);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Poisson by sequential inversion (means here stay below ~100). */
function poisson(mean: number, rand: () => number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  const u = rand();
  while (u > cdf && k < 10_000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/**
 * A Noufaily-style weekly series: log-linear trend and annual seasonality, negative binomial
 * noise (dispersion 1.5), and a handful of outbreaks added as extra Poisson cases.
 */
export function syntheticWeeklySeries(years: number, seed = 20130101): number[] {
  const rand = prng(seed);
  const n = 52 * years;
  const phi = 1.5;
  const out: number[] = [];
  for (let t = 1; t <= n; t++) {
    const mu = Math.exp(1.5 + 0.001 * t + 0.6 * Math.cos((2 * Math.PI * t) / 52) + 0.3 * Math.sin((2 * Math.PI * t) / 52));
    const lambda = (mu * gamma(mu / (phi - 1), rand)) / (mu / (phi - 1));
    out.push(poisson(lambda, rand));
  }
  for (let o = 0; o < years; o++) {
    const start = Math.floor(rand() * (n - 8));
    const size = 10 + Math.floor(rand() * 30);
    for (let j = 0; j < 6; j++) out[start + j] = out[start + j]! + poisson(size / 6, rand);
  }
  return out;
}

function seq(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

export async function runFarringtonBench(): Promise<{ rows: Array<Record<string, string | number>> }> {
  const rows: Array<Record<string, string | number>> = [];
  const add = (
    method: string,
    data: string,
    detector: Detector,
    series: CountSeries,
    control: DetectorControl,
    compareWithR: boolean,
  ): void => {
    const points = series.range.length;
    const t = timeDetector(detector, series, control, 8);
    const ms = t.wall / points;
    rows.push({
      method,
      data,
      points,
      'ms/point': Number(ms.toFixed(3)),
      'CPU ms/point': Number((t.cpu / points).toFixed(3)),
      'R ms/point': compareWithR ? R_MS_PER_POINT : '—',
      speedup: compareWithR ? `${(R_MS_PER_POINT / ms).toFixed(0)}×` : '—',
    });
  };

  const agonaFile = path.join(REFS_DIR, 'salmonella.agona__farrington_b3w3.json');
  if (existsSync(agonaFile)) {
    const ref = JSON.parse(readFileSync(agonaFile, 'utf8')) as { observed: number[]; start: [number, number] };
    const agona: CountSeries = { observed: ref.observed, freq: 52, start: ref.start, range: seq(209, 312) };
    add('farringtonFlexible (Noufaily, b=3)', 'salmonella.agona', farringtonFlexible, agona, { ...NOUFAILY, b: 3, w: 3 }, true);
    add('farringtonFlexible (orig, delta, b=3)', 'salmonella.agona', farringtonFlexible, agona, { b: 3, w: 3, weightsThreshold: 1 }, false);
    add('farrington (classic, b=3, w=3)', 'salmonella.agona', farrington, agona, { b: 3, w: 3 }, false);
  }

  const years = 15;
  const observed = syntheticWeeklySeries(years);
  const synthetic: CountSeries = { observed, freq: 52, start: [2010, 1], range: seq(observed.length - 519, observed.length) };
  add(
    'farringtonFlexible (Noufaily, b=5)',
    `synthetic ${years} years weekly`,
    farringtonFlexible,
    synthetic,
    { ...NOUFAILY, b: 5, w: 3 },
    true,
  );
  add('farrington (classic, b=5, w=3)', `synthetic ${years} years weekly`, farrington, synthetic, { b: 5, w: 3 }, false);

  return { rows };
}

function printTable(rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]): string => cells.map((s, i) => s.padEnd(width[i]!)).join('  ');
  console.log(line(cols));
  console.log(width.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { rows } = await runFarringtonBench();
  printTable(rows);
}
