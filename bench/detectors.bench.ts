/**
 * Detector benchmark: speed per evaluated time point, and detection performance of Yifang's
 * default detector against farringtonFlexible with the Noufaily (2013) settings.
 *
 * Run directly:   node --import tsx bench/detectors.bench.ts [--series N] [--skip-speed] [--skip-eval]
 * Or import `runDetectorsBench` from a bench runner.
 *
 * (a) Speed: each detector on a synthetic 15-year weekly series (the last 520 weeks evaluated;
 *     the last year of a 3-year daily series for ESSENCE). Time per evaluated point: the
 *     minimum over several runs after a warm-up (wall clock, which other processes on the
 *     machine inflate), the Farrington family timed in slices of 8 points (their points are
 *     independent), the others over the whole range (charts carry state); and the process CPU
 *     time of those fastest runs. farringtonFlexible with the Noufaily settings is set against
 *     R `surveillance`'s ~17 ms per point on one core.
 * (b) Detection: `default` (yifangCusum) vs `noufaily` (farringtonFlexible, noPeriods 10,
 *     weightsThreshold 2.58, pastWeeksNotIncluded 26, pThresholdTrend 1, nbPlugin, b 5, w 3,
 *     α 0.05) on N simulated series per standard scenario with the evaluation seed (independent
 *     of the training seed used to choose the default's parameters): POD, POD in the first
 *     week, FPR, median delay, per scenario and averaged over scenarios.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatEvaluationTable } from '../src/cli/evaluate.js';
import { cidarsMpm } from '../src/surveillance/detectors/cidars.js';
import { cusum } from '../src/surveillance/detectors/cusum.js';
import { yifangCusum } from '../src/surveillance/detectors/default.js';
import { earsC, earsC3cdc } from '../src/surveillance/detectors/ears.js';
import { essence } from '../src/surveillance/detectors/essence.js';
import { farrington } from '../src/surveillance/detectors/farrington.js';
import { farringtonFlexible } from '../src/surveillance/detectors/farrington-flexible.js';
import { glrnb } from '../src/surveillance/detectors/glr.js';
import { NOUFAILY_CONTROL } from '../src/surveillance/detectors/index.js';
import type { CountSeries, Detector, DetectorControl } from '../src/surveillance/detectors/types.js';
import { addCounts, averageSummaries, countDetections, summarize, type DetectionSummary } from '../src/surveillance/evaluation/metrics.js';
import { createRng, randomPoisson } from '../src/surveillance/evaluation/random.js';
import { EVALUATION_SEED, simulateScenario, STANDARD_SCENARIOS } from '../src/surveillance/evaluation/simulate-series.js';
import { syntheticWeeklySeries } from './farrington.bench.js';
import { timeDetector } from './timing.js';

/** R surveillance's farringtonFlexible (Noufaily settings): about 17 ms per point on one core. */
export const R_MS_PER_POINT = 17;

const NOUFAILY_B5: DetectorControl = { ...NOUFAILY_CONTROL, b: 5, w: 3, alpha: 0.05 };

export interface SpeedRow {
  method: string;
  data: string;
  points: number;
  /** Minimum wall-clock ms per point over the timed runs. */
  msPerPoint: number;
  /** CPU ms per point of the process in the fastest run. */
  cpuMsPerPoint: number;
  /** R's ms per point ÷ ours (wall clock), when there is an R figure. */
  speedup: number | null;
}

function seq(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** A 3-year daily series with a weekly pattern (for ESSENCE). */
function syntheticDailySeries(days: number, seed = 7): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  for (let d = 0; d < days; d++) out.push(randomPoisson(rng, 20 * (d % 7 === 5 || d % 7 === 6 ? 0.6 : 1.1)));
  return out;
}

export function runSpeedBench(): SpeedRow[] {
  const rows: SpeedRow[] = [];
  const weekly = syntheticWeeklySeries(15);
  const wSeries: CountSeries = { observed: weekly, freq: 52, start: [2010, 1], range: seq(weekly.length - 519, weekly.length) };
  const wData = 'synthetic 15 years weekly';
  const add = (
    method: string,
    data: string,
    detector: Detector,
    series: CountSeries,
    control: DetectorControl,
    rMs: number | null,
    batch: number | null = null,
  ): void => {
    const t = timeDetector(detector, series, control, batch);
    const points = series.range.length;
    rows.push({
      method,
      data,
      points,
      msPerPoint: t.wall / points,
      cpuMsPerPoint: t.cpu / points,
      speedup: rMs === null ? null : rMs / (t.wall / points),
    });
  };
  add('farringtonFlexible (Noufaily, b=5, w=3)', wData, farringtonFlexible, wSeries, NOUFAILY_B5, R_MS_PER_POINT, 8);
  add('farringtonFlexible (original, b=5, w=3)', wData, farringtonFlexible, wSeries, { b: 5, w: 3 }, null, 8);
  add('farrington (classic, b=5, w=3)', wData, farrington, wSeries, { b: 5, w: 3 }, null, 8);
  add('default (yifangCusum)', wData, yifangCusum, wSeries, {}, null);
  add('earsC (C1)', wData, earsC, wSeries, { method: 'C1' }, null);
  add('earsC3cdc', wData, earsC3cdc, wSeries, {}, null);
  add("cusum (m = 'glm', reset)", wData, cusum, wSeries, { m: 'glm', trans: 'rossi', reset: true }, null);
  add('glrnb (Poisson, c.ARL 5)', wData, glrnb, wSeries, { alpha: 0 }, null);
  add('cidarsMpm', wData, cidarsMpm, wSeries, {}, null);
  const daily = syntheticDailySeries(3 * 365);
  add(
    'essence',
    'synthetic 3 years daily',
    essence,
    { observed: daily, freq: 365, start: [2022, 1], range: seq(daily.length - 364, daily.length) },
    {},
    null,
  );
  return rows;
}

export interface ComparisonRow {
  group: string;
  method: string;
  summary: DetectionSummary;
}

/** default vs noufaily on `perScenario` simulated series per standard scenario. */
export function runComparison(perScenario: number, seed = EVALUATION_SEED): { rows: ComparisonRow[]; overall: ComparisonRow[] } {
  const methods: [string, Detector, DetectorControl][] = [
    ['default', yifangCusum, {}],
    ['noufaily', farringtonFlexible, NOUFAILY_B5],
  ];
  const rows: ComparisonRow[] = [];
  const per = new Map<string, DetectionSummary[]>();
  for (const sc of STANDARD_SCENARIOS) {
    const set = simulateScenario(sc, perScenario, seed);
    for (const [name, detector, control] of methods) {
      const counts = set.map((s) =>
        countDetections(
          detector(s, control).alarm,
          s.truth,
          s.range,
          s.outbreaks.filter((o) => o.current),
        ),
      );
      const summary = summarize(addCounts(...counts));
      rows.push({ group: `${sc.id} ${sc.description}`, method: name, summary });
      per.set(name, [...(per.get(name) ?? []), summary]);
    }
  }
  const overall = methods.map(([name]) => ({ group: 'mean over scenarios', method: name, summary: averageSummaries(per.get(name) ?? []) }));
  return { rows, overall };
}

function formatSpeedTable(rows: readonly SpeedRow[]): string {
  const head = ['method', 'data', 'points', 'ms/point', 'CPU ms/point', 'R ms/point', 'speed-up vs R'];
  const body = rows.map((r) => [
    r.method,
    r.data,
    String(r.points),
    r.msPerPoint.toFixed(3),
    r.cpuMsPerPoint.toFixed(3),
    r.speedup === null ? '—' : String(R_MS_PER_POINT),
    r.speedup === null ? '—' : `${r.speedup.toFixed(0)}×`,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface DetectorsBenchOptions {
  /** Simulated series per scenario for the comparison (default 100). */
  series?: number;
  speed?: boolean;
  evaluation?: boolean;
}

/** Prints the speed table and the default-vs-Noufaily table; returns both. */
export function runDetectorsBench(options: DetectorsBenchOptions = {}): {
  speed: SpeedRow[];
  comparison: { rows: ComparisonRow[]; overall: ComparisonRow[] } | null;
} {
  let speed: SpeedRow[] = [];
  if (options.speed !== false) {
    speed = runSpeedBench();
    console.log('(a) Speed per evaluated point (minimum over runs; CPU time of the same run)\n');
    console.log(formatSpeedTable(speed));
    console.log('');
  }
  let comparison: { rows: ComparisonRow[]; overall: ComparisonRow[] } | null = null;
  if (options.evaluation !== false) {
    const n = options.series ?? 100;
    comparison = runComparison(n);
    console.log(
      `(b) default (yifangCusum) vs noufaily (farringtonFlexible, α = 0.05, b = 5, w = 3): ${n} series per scenario, evaluation seed ${EVALUATION_SEED}\n`,
    );
    console.log(formatEvaluationTable([...comparison.rows, ...comparison.overall]));
    console.log('');
  }
  return { speed, comparison };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--series');
  const series = at >= 0 ? Number(args[at + 1]) : undefined;
  if (series !== undefined && !(Number.isInteger(series) && series > 0)) {
    console.error('--series must be a positive integer');
    process.exit(2);
  }
  runDetectorsBench({
    ...(series !== undefined ? { series } : {}),
    speed: !args.includes('--skip-speed'),
    evaluation: !args.includes('--skip-eval'),
  });
}
