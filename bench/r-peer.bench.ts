/**
 * R beside Yifang in one run: time per evaluated point of R `surveillance`'s detectors and of
 * Yifang's (`runDetector`) on the same series with the same control, and whether the alarms
 * agree.
 *
 * Run directly:  node --import tsx bench/r-peer.bench.ts [--quick]
 * Or import `runRPeerBench(argv)` from a bench runner (section name 'r-peer').
 *
 * Needs `Rscript` on PATH with the `surveillance` and `jsonlite` packages (Debian:
 * apt-get install r-base-core r-cran-surveillance); without it the section says so and prints
 * nothing else.
 *
 * Methods: farringtonFlexible with the Noufaily (2013) settings (noPeriods 10, weightsThreshold
 * 2.58, pastWeeksNotIncluded 26, pThresholdTrend 1, thresholdMethod "nbPlugin": R has no
 * thresholdMethod called "Noufaily", its Noufaily method is these settings), classic farrington,
 * earsC C1/C2/C3 (baseline 7, α 0.001) and cusum (k 1.04, h 2.26, m = mean before the range,
 * standard transform). Series: salmonella.agona from ../shared/surveillance-refs (the 104
 * evaluated weeks 209–312, b = 3) and a synthetic 15-year weekly series (the last 500 weeks,
 * b = 5; with --quick the last 104).
 *
 * R's time is measured inside R (scripts/r-refs/peer-timing.R: proc.time around repeated calls,
 * the fastest of several blocks each lasting at least a set time, after a warm-up call), so R's
 * start-up and package loading are not counted; the series go to R through a temporary JSON
 * file. Yifang's time is bench/timing.ts's (fastest of several runs after a warm-up; the
 * Farrington family in slices of 8 points). Ratio = R ms/point ÷ Yifang ms/point by wall clock,
 * and the same by each side's process CPU time in its timed runs (on a loaded machine the wall
 * clocks of the two sides, taken one after the other, are disturbed differently; Yifang's process
 * CPU time also counts V8's background garbage-collector and compiler threads). Target:
 * Farrington flexible (Noufaily) at least 100× faster than R.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NOUFAILY_CONTROL, runDetector } from '../src/surveillance/detectors/index.js';
import type { CountSeries, DetectorControl } from '../src/surveillance/detectors/types.js';
import { syntheticWeeklySeries } from './farrington.bench.js';
import { printTable } from './table.js';
import { timeDetector } from './timing.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const R_SCRIPT = path.resolve(here, '../scripts/r-refs/peer-timing.R');
const REFS_DIR = process.env['YIFANG_SURVEILLANCE_REFS'] ?? path.resolve(here, '../../shared/surveillance-refs');
const TARGET_RATIO = 100;

export interface RPeerRow {
  method: string;
  data: string;
  points: number;
  rMsPerPoint: number;
  yifangMsPerPoint: number;
  /** R ms/point ÷ Yifang ms/point (wall clock). */
  ratio: number;
  /** The same with each side's process CPU time (less disturbed by other load on the machine). */
  cpuRatio: number;
  /** Evaluated points where R's alarm and Yifang's are the same. */
  alarmsIdentical: number;
}

interface Job {
  id: string;
  method: string;
  data: string;
  /** R `surveillance` function name. */
  rMethod: 'farringtonFlexible' | 'farrington' | 'earsC' | 'cusum';
  /** Yifang `runDetector` method name. */
  yMethod: string;
  series: CountSeries;
  /** Same control for both, without range (R gets the series' range). */
  control: DetectorControl;
  /** Time Yifang's detector in slices of this many points (independent points only). */
  batch: number | null;
}

interface RResult {
  id: string;
  points: number;
  reps: number;
  msPerCall: number;
  msPerPoint: number;
  cpuMsPerPoint: number;
  alarm: (number | null)[];
}

/** The full path of `Rscript` when it is an executable file in a PATH directory. */
export function findRscript(): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, process.platform === 'win32' ? 'Rscript.exe' : 'Rscript');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

function seq(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function jobsFor(data: string, series: CountSeries, b: number): Job[] {
  const farrington = { b, w: 3, alpha: 0.05 };
  const key = data.replace(/[^a-z0-9]+/gi, '_');
  const jobs: Job[] = [
    {
      id: `${key}_noufaily`,
      method: `farringtonFlexible (Noufaily, b=${b}, w=3)`,
      data,
      rMethod: 'farringtonFlexible',
      yMethod: 'farringtonFlexible',
      series,
      control: { ...NOUFAILY_CONTROL, ...farrington },
      batch: 8,
    },
    {
      id: `${key}_farrington`,
      method: `farrington (classic, b=${b}, w=3)`,
      data,
      rMethod: 'farrington',
      yMethod: 'farrington',
      series,
      control: farrington,
      batch: 8,
    },
  ];
  for (const m of ['C1', 'C2', 'C3']) {
    jobs.push({
      id: `${key}_ears${m}`,
      method: `earsC (${m}, baseline 7, α 0.001)`,
      data,
      rMethod: 'earsC',
      yMethod: 'earsC',
      series,
      control: { method: m, baseline: 7, minSigma: 0, alpha: 0.001 },
      batch: null,
    });
  }
  jobs.push({
    id: `${key}_cusum`,
    method: 'cusum (k 1.04, h 2.26, standard)',
    data,
    rMethod: 'cusum',
    yMethod: 'cusum',
    series,
    // m absent: the mean of the counts before the range, in both (R's m = NULL).
    control: { k: 1.04, h: 2.26, trans: 'standard' },
    batch: null,
  });
  return jobs;
}

function runR(jobs: Job[], quick: boolean): { version: string; results: Map<string, RResult> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yifang-r-peer-'));
  try {
    const input = path.join(dir, 'jobs.json');
    const output = path.join(dir, 'out.json');
    writeFileSync(
      input,
      JSON.stringify({
        minSeconds: quick ? 0.2 : 0.5,
        blocks: quick ? 1 : 3,
        jobs: jobs.map((j) => ({
          id: j.id,
          method: j.rMethod,
          observed: j.series.observed,
          freq: j.series.freq,
          start: j.series.start,
          control: { ...j.control, range: j.series.range },
        })),
      }),
    );
    try {
      execFileSync('Rscript', [R_SCRIPT, input, output], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 << 20 });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString('utf8').trim();
      throw new Error(`Rscript ${path.relative(process.cwd(), R_SCRIPT)} failed${stderr ? `: ${stderr}` : ''}`, { cause: err });
    }
    const out = JSON.parse(readFileSync(output, 'utf8')) as { R: string; surveillance: string; results: RResult[] };
    return { version: `R ${out.R}, surveillance ${out.surveillance}`, results: new Map(out.results.map((r) => [r.id, r])) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmtRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

/**
 * Prints the side-by-side table (or one line saying Rscript is absent); returns the rows
 * (empty without R).
 */
export async function runRPeerBench(argv: string[] = []): Promise<{ rows: RPeerRow[] }> {
  const quick = argv.includes('--quick');
  if (!findRscript()) {
    console.log('R peer comparison skipped: Rscript is not on PATH (apt-get install r-base-core r-cran-surveillance).');
    return { rows: [] };
  }

  const jobs: Job[] = [];
  const agonaFile = path.join(REFS_DIR, 'salmonella.agona__farrington_b3w3.json');
  if (existsSync(agonaFile)) {
    const ref = JSON.parse(readFileSync(agonaFile, 'utf8')) as { observed: number[]; freq: number; start: [number, number] };
    jobs.push(...jobsFor('salmonella.agona', { observed: ref.observed, freq: ref.freq, start: ref.start, range: seq(209, 312) }, 3));
  } else {
    console.log(`(salmonella.agona not found in ${REFS_DIR}: synthetic series only)`);
  }
  const weekly = syntheticWeeklySeries(15);
  // R needs b·52 + w weeks before the first evaluated one (b = 5): 500 of the 780 weeks.
  const evaluated = quick ? 104 : 500;
  jobs.push(
    ...jobsFor(
      `synthetic 15 years weekly`,
      { observed: weekly, freq: 52, start: [2010, 1], range: seq(weekly.length - evaluated + 1, weekly.length) },
      5,
    ),
  );

  const r = runR(jobs, quick);
  const rows: RPeerRow[] = [];
  let same = 0;
  let total = 0;
  for (const job of jobs) {
    const rr = r.results.get(job.id);
    if (!rr) throw new Error(`R gave no result for ${job.id}`);
    const points = job.series.range.length;
    const t = timeDetector((s, c) => runDetector(job.yMethod, s, c), job.series, job.control, job.batch);
    const ours = runDetector(job.yMethod, job.series, job.control).alarm;
    // R returns the sts cut to the range; accept a full-length answer too.
    const rAlarm = rr.alarm.length === points ? rr.alarm : job.series.range.map((i) => rr.alarm[i - 1] ?? null);
    let agree = 0;
    job.series.range.forEach((i, k) => {
      const a = rAlarm[k];
      const rBool = a === null || a === undefined ? null : a === 1;
      // Strict: R's NA (no verdict) must be Yifang's null, 0 false, 1 true.
      if (rBool === (ours[i - 1] ?? null)) agree++;
    });
    same += agree;
    total += points;
    const yMs = t.wall / points;
    rows.push({
      method: job.method,
      data: job.data,
      points,
      rMsPerPoint: rr.msPerPoint,
      yifangMsPerPoint: yMs,
      ratio: rr.msPerPoint / yMs,
      cpuRatio: rr.cpuMsPerPoint / Math.max(t.cpu / points, 1e-9),
      alarmsIdentical: agree,
    });
  }

  printTable(
    `R beside Yifang, ms per evaluated point (${r.version}; R timed inside R, fastest block; Yifang fastest run)`,
    rows.map((row) => ({
      method: row.method,
      data: row.data,
      points: row.points,
      'R ms/point': fmtMs(row.rMsPerPoint),
      'Yifang ms/point': fmtMs(row.yifangMsPerPoint),
      ratio: fmtRatio(row.ratio),
      'ratio (CPU time)': fmtRatio(row.cpuRatio),
      'alarms identical': `${row.alarmsIdentical}/${row.points}`,
    })),
  );
  console.log(`alarms identical: ${same}/${total}`);
  const flex = rows.filter((row) => row.method.startsWith('farringtonFlexible'));
  const worst = Math.min(...flex.map((row) => row.ratio));
  const worstCpu = Math.min(...flex.map((row) => row.cpuRatio));
  console.log(
    `Farrington flexible (Noufaily): ${worst.toFixed(0)}× faster than R at worst by wall clock, ${worstCpu.toFixed(0)}× by CPU time (target ≥ ${TARGET_RATIO}×: ${worst >= TARGET_RATIO ? 'met' : 'NOT met'})`,
  );
  return { rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runRPeerBench(process.argv.slice(2));
}
