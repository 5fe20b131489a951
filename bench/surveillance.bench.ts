/**
 * Surveillance benchmark.
 * 1. Full re-run of every configured detector over 3 years × 200 areas × 20 signals (daily
 *    series; target < 10 s), exactly the code the daily job runs per series (judgeSeries +
 *    alarmsFromVerdict), on Poisson counts with a weekly rhythm.
 * 2. With --district: the district evaluation table (evaluateDistrict: simulate, import through
 *    the real paths, replay detectors and fusion, compare with truth.json).
 *
 *   node --import tsx bench/surveillance.bench.ts [--areas 200] [--signals 20] [--days 1095] [--district [--seeds 7,11] [--population 2000] [--days-sim 400]]
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dayRange } from '../src/shared/dates.js';
import { alarmsFromVerdict, judgeSeries } from '../src/surveillance/alerts/detect.js';
import { loadSurveillanceConfig, signalConfigFor } from '../src/surveillance/config.js';
import { evaluateDistrict, formatEvaluationTable, poolEvaluations, type DistrictEvaluation } from '../src/cli/evaluate-district/index.js';
import { printTable } from './table.js';
import { rng } from './rng.js';
import { simulatorFingerprint } from '../src/simulator/index.js';

function poisson(r: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

/** The 20 signals of a district: every configured family, in configured proportions. */
const SIGNALS = [
  'syndrome:fever_respiratory',
  'syndrome:diarrhoea',
  'syndrome:fever_rash',
  'syndrome:fever_haemorrhage',
  'syndrome:encephalitis',
  'ili',
  'lab:FLUA',
  'lab:NOROGII',
  'school:illness_absence',
  'pharmacy:antipyretic',
  'pharmacy:cold',
  'pharmacy:antidiarrhoeal',
  'report:influenza',
  'report:otherDiarrhoea',
  'report:hfmd',
  'report:measles',
  'report:tuberculosis',
  'report:cholera',
  'report:scarletFever',
  'public:report',
];

export async function runSurveillanceBench(args: string[] = []): Promise<{ seconds: number; series: number; evaluation?: string }> {
  const arg = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] && !args[i + 1]!.startsWith('--') ? args[i + 1]! : def;
  };
  const areas = Number(arg('areas', '200'));
  const nSignals = Math.min(Number(arg('signals', '20')), SIGNALS.length);
  const days = Number(arg('days', '1095'));
  const cfg = loadSurveillanceConfig();
  const dayList = dayRange('2023-01-01', new Date(Date.parse('2023-01-01T00:00:00Z') + (days - 1) * 86_400_000).toISOString().slice(0, 10));
  const r = rng(42);
  // Build the series first so only detection is timed.
  const series: { signal: string; observed: number[] }[] = [];
  for (const signal of SIGNALS.slice(0, nSignals)) {
    const base = signal.startsWith('pharmacy')
      ? 6
      : signal.startsWith('report:cholera') || signal === 'public:report'
        ? 0.002
        : signal.startsWith('report')
          ? 0.3
          : 1.5;
    for (let a = 0; a < areas; a++) series.push({ signal, observed: dayList.map((_, i) => poisson(r, base * (i % 7 >= 5 ? 0.6 : 1.1))) });
  }
  const byMethod = new Map<string, { series: number; ms: number; alarms: number }>();
  const t0 = performance.now();
  let alarms = 0;
  for (const s of series) {
    const c = signalConfigFor(cfg.signals, s.signal)!;
    const t = performance.now();
    const v = judgeSeries(c, dayList, s.observed, 0);
    const a = alarmsFromVerdict(c, s.signal, '339902001000', v, 0).length;
    alarms += a;
    const m = byMethod.get(c.method) ?? { series: 0, ms: 0, alarms: 0 };
    m.series++;
    m.ms += performance.now() - t;
    m.alarms += a;
    byMethod.set(c.method, m);
  }
  const seconds = (performance.now() - t0) / 1000;
  printTable(`Full detector re-run: ${areas} areas × ${nSignals} signals × ${days} days (${series.length} series)`, [
    ...[...byMethod.entries()].map(([method, m]) => ({
      method,
      series: m.series,
      seconds: m.ms / 1000,
      'ms/series': m.ms / m.series,
      alarms: m.alarms,
    })),
    { method: 'total', series: series.length, seconds, 'ms/series': (seconds * 1000) / series.length, alarms },
  ]);
  console.log(`target < 10 s: ${seconds < 10 ? 'met' : 'NOT met'} (${seconds.toFixed(2)} s)`);
  let evaluation: string | undefined;
  if (args.includes('--district')) {
    const seeds = arg('seeds', '7').split(',').map(Number);
    const evals: DistrictEvaluation[] = [];
    for (const seed of seeds) {
      evals.push(
        await evaluateDistrict(
          path.join(
            os.tmpdir(),
            `yifang-bench-district-${seed}-${arg('population', '2000')}-${arg('days-sim', '400')}-${simulatorFingerprint()}`,
          ),
          {
            seed,
            population: Number(arg('population', '2000')),
            days: Number(arg('days-sim', '400')),
            log: (m) => console.log(`  [seed ${seed}] ${m}`),
          },
        ),
      );
    }
    evaluation = formatEvaluationTable(poolEvaluations(evals));
    console.log(`\nDistrict evaluation (${seeds.length} district(s), pooled)\n${evaluation}`);
  }
  return { seconds, series: series.length, evaluation };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runSurveillanceBench(process.argv.slice(2));
