/**
 * `yifang evaluate`: judge outbreak detectors on series with known outbreaks.
 *
 *   yifang evaluate --series a.json b.json --methods default,noufaily
 *   yifang evaluate --simulate 100 --seed 20240505 --methods default,noufaily,earsC
 *
 * Series files have the layout of ../shared/surveillance-refs/*.json (observed, freq, start,
 * range, optionally dates) plus `truth`: the outbreak cases in each period (0 when none).
 * Outbreaks are the runs of consecutive periods with truth > 0, unless the file lists them in
 * `outbreaks` (arrays of 1-based period indices). `--simulate N` instead generates N
 * Noufaily-style series per standard scenario (src/surveillance/evaluation/simulate-series.ts).
 *
 * Output: one row per method with POD, POD in the first outbreak week, FPR, median delay and
 * the number of alarms (definitions in src/surveillance/evaluation/metrics.ts); with
 * --simulate, one block per scenario and the mean over scenarios. --json prints the same as
 * JSON. Problems go to stderr with exit code 2, naming the offending argument.
 *
 * Other code (e.g. a simulated district) can reuse `evaluateAlarmSets` and
 * `formatEvaluationTable` with its own alarms and outbreak lists.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { detectors, runDetector } from '../surveillance/detectors/index.js';
import { DetectorInputError, type CountSeries, type DetectorControl } from '../surveillance/index.js';
import {
  addCounts,
  averageSummaries,
  countDetections,
  emptyCounts,
  summarize,
  type DetectionCounts,
  type DetectionSummary,
  type OutbreakWeeks,
} from '../surveillance/index.js';
import { EVALUATION_SEED, simulateScenario, STANDARD_SCENARIOS } from '../surveillance/index.js';
import { registerEvaluateContactsCommand } from './evaluate-contacts/command.js';
import { simulatorFingerprint } from '../simulator/index.js';

export const DEFAULT_EVALUATION_METHODS: readonly string[] = ['default', 'noufaily'];

// ---------------------------------------------------------------------------------------------
// Reusable evaluation (the hook for other callers)
// ---------------------------------------------------------------------------------------------

/** The alarms of one method on one series, with what is known about its outbreaks. */
export interface AlarmSet {
  method: string;
  /** Full length; null = no verdict. */
  alarm: readonly (boolean | null)[];
  /** Evaluated periods (1-based). */
  range: readonly number[];
  /** Outbreak cases per period; used for quiet weeks and, without `outbreaks`, for outbreaks. */
  truth: readonly (number | null)[];
  /** Outbreaks (periods with their cases); default: runs of truth > 0. */
  outbreaks?: readonly OutbreakWeeks[];
}

export interface MethodEvaluation {
  method: string;
  counts: DetectionCounts;
  summary: DetectionSummary;
}

/** Pools the alarm sets of each method (in order of first appearance) and summarises them. */
export function evaluateAlarmSets(sets: readonly AlarmSet[]): MethodEvaluation[] {
  const byMethod = new Map<string, DetectionCounts>();
  for (const s of sets) {
    const c = countDetections(s.alarm, s.truth, s.range, s.outbreaks ? [...s.outbreaks] : undefined);
    byMethod.set(s.method, addCounts(byMethod.get(s.method) ?? emptyCounts(), c));
  }
  return [...byMethod.entries()].map(([method, counts]) => ({ method, counts, summary: summarize(counts) }));
}

/** A series with ground truth, as read from a file or simulated. */
export interface TruthSeries extends CountSeries {
  truth: number[];
  outbreaks?: OutbreakWeeks[];
}

/** Runs each method on each series and pools the results per method. */
export function evaluateMethods(
  series: readonly TruthSeries[],
  methods: readonly string[],
  controls: Readonly<Record<string, DetectorControl>> = {},
): MethodEvaluation[] {
  const sets: AlarmSet[] = [];
  for (const s of series) {
    const range = s.range && s.range.length > 0 ? s.range : s.observed.map((_, i) => i + 1);
    for (const method of methods) {
      const result = runDetector(method, s, controls[method] ?? {});
      sets.push({ method, alarm: result.alarm, range, truth: s.truth, ...(s.outbreaks ? { outbreaks: s.outbreaks } : {}) });
    }
  }
  return evaluateAlarmSets(sets);
}

function fmtRate(v: number, digits = 3): string {
  return Number.isNaN(v) ? '—' : v.toFixed(digits);
}

/** A plain-text table: one row per method (optionally with a leading group label column). */
export function formatEvaluationTable(rows: readonly { group?: string; method: string; summary: DetectionSummary }[]): string {
  const withGroup = rows.some((r) => r.group !== undefined);
  const head = [...(withGroup ? ['scenario'] : []), 'method', 'outbreaks', 'POD', 'POD week 1', 'FPR', 'median delay', 'alarms'];
  const body = rows.map((r) => [
    ...(withGroup ? [r.group ?? ''] : []),
    r.method,
    String(r.summary.outbreaks),
    fmtRate(r.summary.pod),
    fmtRate(r.summary.podFirstWeek),
    fmtRate(r.summary.fpr, 4),
    Number.isNaN(r.summary.medianDelay) ? '—' : String(+r.summary.medianDelay.toFixed(2)),
    String(r.summary.alarms),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < (withGroup ? 2 : 1) ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

class ArgumentProblem extends Error {}

interface EvaluateOptions {
  series?: string[];
  methods?: string;
  control?: string;
  simulate?: string;
  seed?: string;
  scenarios?: string;
  json?: boolean;
  district?: string | boolean;
  districtSeeds?: string;
  population?: string;
  days?: string;
}

/**
 * `--district`: replays simulated districts (src/simulator output with truth.json; simulated
 * into the directory when it is empty) through the real pipeline and prints the per-method table
 * (fused alerts, each single source, the CIDARS baseline) — src/surveillance/evaluation-district.
 */
async function evaluateDistricts(opts: EvaluateOptions, write: (s: string) => void): Promise<void> {
  const seeds = (opts.districtSeeds ?? '7')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (!seeds.length || seeds.some((x) => !Number.isInteger(x) || x < 0))
    throw new ArgumentProblem(`--district-seeds: integers separated by commas (got '${opts.districtSeeds}')`);
  const population = opts.population === undefined ? 2000 : positiveInteger(opts.population, '--population');
  const days = opts.days === undefined ? 730 : positiveInteger(opts.days, '--days');
  const os = await import('node:os');
  const path = await import('node:path');
  const { evaluateDistrict, formatEvaluationTable: districtTable, poolEvaluations } = await import('./evaluate-district/index.js');
  const base = typeof opts.district === 'string' ? opts.district : undefined;
  const evals = [];
  for (const seed of seeds) {
    const dir = base
      ? seeds.length > 1
        ? path.join(base, `seed-${seed}`)
        : base
      : path.join(os.tmpdir(), `yifang-district-${seed}-${population}-${days}-${simulatorFingerprint()}`);
    evals.push(await evaluateDistrict(dir, { seed, population, days, log: (m) => console.error(`[seed ${seed}] ${m}`) }));
  }
  const rows = poolEvaluations(evals);
  write(
    opts.json
      ? `${JSON.stringify({ rows, districts: evals })}\n`
      : `${seeds.length} simulated district(s), seeds ${seeds.join(',')}; ${population} residents, ${days} days each\n${districtTable(rows)}\n`,
  );
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ArgumentProblem(`${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ArgumentProblem(`${what}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function parseMethods(raw: string | undefined): string[] {
  const list = (raw ?? DEFAULT_EVALUATION_METHODS.join(','))
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  if (list.length === 0) throw new ArgumentProblem('--methods: give at least one method');
  for (const m of list) {
    if (!Object.prototype.hasOwnProperty.call(detectors, m)) {
      throw new ArgumentProblem(`--methods: unknown detection method '${m}'; known: ${Object.keys(detectors).join(', ')}`);
    }
  }
  return [...new Set(list)];
}

function parseControls(raw: string | undefined, methods: readonly string[]): Record<string, DetectorControl> {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  if (raw.startsWith('@')) value = readJson(raw.slice(1), '--control');
  else {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new ArgumentProblem(`--control: not valid JSON (${(e as Error).message}); give {"method": {control}, ...} or @file`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArgumentProblem('--control: must be a JSON object keyed by method, e.g. {"noufaily":{"alpha":0.01}}');
  }
  const out: Record<string, DetectorControl> = {};
  for (const [method, ctl] of Object.entries(value as Record<string, unknown>)) {
    if (!methods.includes(method))
      throw new ArgumentProblem(`--control: '${method}' is not one of the methods evaluated (${methods.join(', ')})`);
    if (ctl === null || typeof ctl !== 'object' || Array.isArray(ctl))
      throw new ArgumentProblem(`--control: the control of '${method}' must be a JSON object`);
    out[method] = ctl as DetectorControl;
  }
  return out;
}

function positiveInteger(raw: string, what: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new ArgumentProblem(`${what}: must be a positive integer, got ${JSON.stringify(raw)}`);
  return v;
}

/** Reads a series file with a truth array; the message names the file and field on problems. */
export function readTruthSeries(path: string): TruthSeries {
  const data = readJson(path, '--series');
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new ArgumentProblem(`--series: ${path} must hold a JSON object`);
  const o = data as Record<string, unknown>;
  if (!Array.isArray(o['observed'])) throw new ArgumentProblem(`--series: ${path} has no "observed" array`);
  const observed = o['observed'] as (number | null)[];
  const truth = o['truth'];
  if (!Array.isArray(truth)) throw new ArgumentProblem(`--series: ${path} has no "truth" array (outbreak cases per period)`);
  if (truth.length !== observed.length) {
    throw new ArgumentProblem(`--series: ${path}: "truth" has ${truth.length} entries for ${observed.length} observed periods`);
  }
  truth.forEach((v, i) => {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new ArgumentProblem(`--series: ${path}: truth[${i}] must be a number ≥ 0 (or null), got ${JSON.stringify(v)}`);
    }
  });
  const series: TruthSeries = {
    observed,
    freq: (o['freq'] ?? 52) as number,
    start: (o['start'] ?? [2000, 1]) as [number, number],
    range: (o['range'] ?? []) as number[],
    truth: truth.map((v) => (v === null ? 0 : (v as number))),
  };
  if (Array.isArray(o['dates'])) series.dates = o['dates'] as string[];
  // R's export layout: epochAsDate with epoch as days since 1970-01-01 (the detectors read either layout).
  if (typeof o['epochAsDate'] === 'boolean') series.epochAsDate = o['epochAsDate'];
  if (Array.isArray(o['epoch'])) series.epoch = o['epoch'] as number[];
  if (o['outbreaks'] !== undefined) {
    const ob = o['outbreaks'];
    if (!Array.isArray(ob) || !ob.every((w) => Array.isArray(w) && w.every((t) => Number.isInteger(t) && t >= 1 && t <= observed.length))) {
      throw new ArgumentProblem(`--series: ${path}: "outbreaks" must be an array of arrays of 1-based period indices`);
    }
    series.outbreaks = (ob as number[][]).map((w) => ({ weeks: [...w].sort((a, b) => a - b) }));
  }
  return series;
}

function helpText(): string {
  return [
    '',
    'Measures (per method; see src/surveillance/evaluation/metrics.ts):',
    '  POD           share of outbreaks with an alarm in a week that received outbreak cases',
    '  POD week 1    share of outbreaks with an alarm in their first week with cases',
    '  FPR           alarms in weeks without outbreak cases ÷ such weeks (weeks with a verdict)',
    '  median delay  weeks from the first outbreak week to the first alarm, detected outbreaks',
    '  alarms        all alarms in the evaluated weeks',
    "Only the evaluated weeks (the file's range; all weeks if it has none) count.",
    '',
    'Series files: JSON with observed, freq, start, range (as ../shared/surveillance-refs) and',
    '  truth (outbreak cases per period); optionally outbreaks: [[period, ...], ...] (1-based).',
    '--simulate N: N series per standard scenario (Noufaily et al. 2013 style, 624 weeks, the',
    `  last 49 evaluated, one current outbreak each); --seed (default ${EVALUATION_SEED}) makes it`,
    `  reproducible; --scenarios picks some of ${STANDARD_SCENARIOS.map((s) => s.id).join(', ')}.`,
    '--control: {"method": {control}, ...}, e.g. {"noufaily":{"alpha":0.01},"default":{"h":2.5}}, or @file.json.',
    `Methods: ${Object.keys(detectors).join(', ')} (default: ${DEFAULT_EVALUATION_METHODS.join(', ')}).`,
    'yifang evaluate contacts [dir]: contact candidates of investigations scored on a simulated district (see its --help).',
    '--district [dir]: a simulated district (src/simulator) replayed through the real pipeline; prints',
    '  per method (fused alerts, each data source alone, the CIDARS moving-percentile baseline on',
    '  report cards): POD, POD on the first day, median delay (days), alerts, false alerts per street',
    '  per month, alerts per week. --district-seeds 11,23 pools several districts.',
    'Errors: message on stderr naming the argument, exit code 2.',
  ].join('\n');
}

/** Adds `evaluate` to a commander program. */
export function registerEvaluateCommand(program: Command): void {
  const evaluate = program
    .command('evaluate')
    .description('measure POD, FPR and delay of detectors on series with known outbreaks (files with a truth array, or simulated)')
    .option('--series <files...>', 'JSON series files with a truth array')
    .option('--methods <list>', `comma-separated detection methods (default ${DEFAULT_EVALUATION_METHODS.join(',')})`)
    .option('--control <json>', 'controls per method as a JSON object keyed by method, or @file.json')
    .option('--simulate <n>', 'simulate N series per standard scenario instead of reading files')
    .option('--seed <s>', `seed of the simulation (default ${EVALUATION_SEED})`)
    .option('--scenarios <ids>', 'comma-separated scenario ids for --simulate (default: all)')
    .option('--json', 'print the results as JSON')
    .option(
      '--district [dir]',
      'replay simulated districts through the real pipeline instead (dir: simulator output with truth.json, simulated there when empty)',
    )
    .option('--district-seeds <list>', 'with --district: comma-separated seeds, one district each (default 7)')
    .option('--population <n>', 'with --district: residents when simulating (default 2000)')
    .option('--days <n>', 'with --district: days when simulating (default 730)')
    .addHelpText('after', helpText())
    .action(async function (this: Command, opts: EvaluateOptions) {
      const out = this.configureOutput();
      try {
        if (opts.district !== undefined) {
          if (opts.series !== undefined || opts.simulate !== undefined)
            throw new ArgumentProblem('--district: give --district, --series or --simulate, one of them');
          await evaluateDistricts(opts, (text) => out.writeOut?.(text));
          return;
        }
        if (opts.districtSeeds !== undefined || opts.population !== undefined || opts.days !== undefined)
          throw new ArgumentProblem('--district-seeds/--population/--days: only with --district');
        const methods = parseMethods(opts.methods);
        const controls = parseControls(opts.control, methods);
        if (opts.simulate !== undefined && opts.series !== undefined)
          throw new ArgumentProblem('--simulate: give either --series files or --simulate, not both');
        if (opts.simulate === undefined && (opts.series === undefined || opts.series.length === 0)) {
          throw new ArgumentProblem('--series: required (JSON files with a truth array), or use --simulate N');
        }
        if (opts.simulate === undefined) {
          if (opts.seed !== undefined || opts.scenarios !== undefined)
            throw new ArgumentProblem('--seed/--scenarios: only with --simulate');
          const series = opts.series!.map(readTruthSeries);
          const results = evaluateMethods(series, methods, controls);
          if (opts.json) {
            out.writeOut?.(
              `${JSON.stringify({ series: opts.series!.length, results: results.map((r) => ({ method: r.method, ...r.summary })) })}\n`,
            );
          } else {
            out.writeOut?.(
              `${opts.series!.length} series\n${formatEvaluationTable(results.map((r) => ({ method: r.method, summary: r.summary })))}\n`,
            );
          }
          return;
        }
        const n = positiveInteger(opts.simulate, '--simulate');
        const seed = opts.seed === undefined ? EVALUATION_SEED : Number(opts.seed);
        if (!Number.isInteger(seed)) throw new ArgumentProblem(`--seed: must be an integer, got ${JSON.stringify(opts.seed)}`);
        let scenarios = [...STANDARD_SCENARIOS];
        if (opts.scenarios !== undefined) {
          const ids = opts.scenarios
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
          for (const id of ids) {
            if (!scenarios.some((s) => s.id === id))
              throw new ArgumentProblem(`--scenarios: unknown scenario '${id}'; known: ${scenarios.map((s) => s.id).join(', ')}`);
          }
          scenarios = scenarios.filter((s) => ids.includes(s.id));
        }
        const rows: { group: string; method: string; summary: DetectionSummary }[] = [];
        const perMethod = new Map<string, DetectionSummary[]>();
        for (const sc of scenarios) {
          const series: TruthSeries[] = simulateScenario(sc, n, seed).map((s) => ({
            ...s,
            outbreaks: s.outbreaks.filter((o) => o.weeks.length > 0).map((o) => ({ weeks: o.weeks })),
          }));
          for (const r of evaluateMethods(series, methods, controls)) {
            rows.push({ group: `${sc.id} ${sc.description}`, method: r.method, summary: r.summary });
            perMethod.set(r.method, [...(perMethod.get(r.method) ?? []), r.summary]);
          }
        }
        const overall = methods.map((m) => ({
          group: 'mean over scenarios',
          method: m,
          summary: averageSummaries(perMethod.get(m) ?? []),
        }));
        if (opts.json) {
          out.writeOut?.(
            `${JSON.stringify({ simulate: n, seed, scenarios: scenarios.map((s) => s.id), results: rows.map((r) => ({ scenario: r.group, method: r.method, ...r.summary })), overall: overall.map((r) => ({ method: r.method, ...r.summary })) })}\n`,
          );
        } else {
          out.writeOut?.(
            `${n} simulated series per scenario, seed ${seed}; FPR and POD averaged over scenarios in the last rows\n${formatEvaluationTable([...rows, ...overall])}\n`,
          );
        }
      } catch (e) {
        if (e instanceof ArgumentProblem) {
          this.error(`yifang evaluate: ${e.message}`, { exitCode: 2, code: 'yifang.evaluate.badArgument' });
        } else if (e instanceof DetectorInputError) {
          const arg = /^control\./.test(e.message) ? '--control' : '--series';
          this.error(`yifang evaluate: ${arg}: ${e.message}`, { exitCode: 2, code: 'yifang.evaluate.badArgument' });
        } else {
          throw e;
        }
      }
    });
  registerEvaluateContactsCommand(evaluate);
}
