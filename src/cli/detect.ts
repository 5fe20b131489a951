/**
 * `yifang detect`: run one outbreak detector over a count series stored as JSON.
 *
 *   yifang detect --method earsC --control '{"method":"C2","alpha":0.05}' --input series.json
 *
 * The input file has the layout of ../shared/surveillance-refs/*.json: observed (counts, null
 * for a gap), freq, start [year, period], range (1-based indices to evaluate) and optionally
 * dates (ISO days) or R's epochAsDate with epoch (days since 1970-01-01): a dated weekly series takes
 * Farrington's reference weeks by calendar date as R does. Output on stdout: {"alarm":[...],"upperbound":[...]} over the whole series, null outside
 * the range. Problems go to stderr with exit code 2, naming the offending argument.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { detectorDescriptions, detectors, runDetector } from '../surveillance/detectors/index.js';
import { DetectorInputError, type CountSeries, type DetectorControl } from '../surveillance/index.js';

interface DetectOptions {
  method?: string;
  control?: string;
  input?: string;
  verbose?: boolean;
}

class ArgumentProblem extends Error {}

function readJsonFile(path: string, what: string): unknown {
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

function parseControl(raw: string | undefined): DetectorControl {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  if (raw.startsWith('@')) {
    value = readJsonFile(raw.slice(1), '--control');
  } else {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new ArgumentProblem(`--control: not valid JSON (${(e as Error).message}); give a JSON object or @file`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArgumentProblem('--control: must be a JSON object, e.g. {"alpha":0.05}');
  }
  return value as DetectorControl;
}

function readSeries(path: string | undefined): CountSeries {
  if (!path) throw new ArgumentProblem('--input: required (a JSON file with observed, freq, start, range)');
  const data = readJsonFile(path, '--input');
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new ArgumentProblem(`--input: ${path} must hold a JSON object`);
  const o = data as Record<string, unknown>;
  if (!Array.isArray(o['observed'])) throw new ArgumentProblem(`--input: ${path} has no "observed" array`);
  const series: CountSeries = {
    observed: o['observed'] as (number | null)[],
    freq: (o['freq'] ?? 52) as number,
    start: (o['start'] ?? [2000, 1]) as [number, number],
    range: (o['range'] ?? []) as number[],
  };
  if (Array.isArray(o['dates'])) series.dates = o['dates'] as string[];
  // R's export layout: epochAsDate with epoch as days since 1970-01-01 (the detectors read either layout).
  if (typeof o['epochAsDate'] === 'boolean') series.epochAsDate = o['epochAsDate'];
  if (Array.isArray(o['epoch'])) series.epoch = o['epoch'] as number[];
  return series;
}

function methodHelp(): string {
  const lines = ['', 'Methods (--method) and their controls (--control):'];
  for (const [name, text] of Object.entries(detectorDescriptions)) lines.push(`  ${name.padEnd(18)} ${text}`);
  lines.push(
    '',
    "Every method also takes control.range (1-based indices), overriding the input file's range.",
    'Input: JSON with observed (counts; null = gap), freq (52 weekly, 365 daily), start [year, period], range.',
    'Output: {"alarm":[true|false|null...],"upperbound":[number|null...]} for every time point, null outside the range.',
    'Errors: message on stderr naming the argument, exit code 2.',
  );
  return lines.join('\n');
}

/** Adds `detect` to a commander program (the lead's main.ts registers it). */
export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description('run an outbreak detector over a count series (JSON) and print alarms and upper bounds')
    .option('--method <name>', `detection method: ${Object.keys(detectors).join(', ')}`)
    .option('--control <json>', 'control parameters as a JSON object, or @file.json', '{}')
    .option('--input <file>', 'JSON file with observed, freq, start, range')
    .option('--verbose', 'also print per-method extras and notes in the output JSON')
    .addHelpText('after', methodHelp())
    .action(function (this: Command, opts: DetectOptions) {
      const out = this.configureOutput();
      try {
        if (!opts.method) throw new ArgumentProblem(`--method: required; one of ${Object.keys(detectors).join(', ')}`);
        if (!Object.prototype.hasOwnProperty.call(detectors, opts.method)) {
          throw new ArgumentProblem(`--method: unknown detection method '${opts.method}'; known: ${Object.keys(detectors).join(', ')}`);
        }
        const control = parseControl(opts.control);
        const series = readSeries(opts.input);
        const result = runDetector(opts.method, series, control);
        const payload: Record<string, unknown> = { alarm: result.alarm, upperbound: result.upperbound };
        if (opts.verbose) {
          payload['extra'] = result.extra ?? {};
          payload['messages'] = result.messages ?? [];
        } else {
          for (const m of result.messages ?? []) out.writeErr?.(`yifang detect: note: ${m}\n`);
        }
        out.writeOut?.(`${JSON.stringify(payload)}\n`);
      } catch (e) {
        if (e instanceof ArgumentProblem) {
          this.error(`yifang detect: ${e.message}`, { exitCode: 2, code: 'yifang.detect.badArgument' });
        } else if (e instanceof DetectorInputError) {
          const arg = /^control\./.test(e.message) ? '--control' : /^unknown detection method/.test(e.message) ? '--method' : '--input';
          this.error(`yifang detect: ${arg}: ${e.message}`, { exitCode: 2, code: 'yifang.detect.badArgument' });
        } else {
          throw e;
        }
      }
    });
}
