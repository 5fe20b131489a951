/**
 * `yifang simulate`: generates the synthetic district (files, and optionally live to a running
 * Yifang). A thin command over src/simulator: it parses and checks arguments, shows progress
 * on stderr and turns Ctrl-C into a clean stop (no complete-looking files).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { isIsoDate } from '../shared/dates.js';
import { checkOutDir, DEMO_DEFAULTS, LIMITS, LiveSink, simulate, SimulationAbortedError, SimulatorInputError } from '../simulator/index.js';

function integer(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}.`);
    return n;
  };
}

function date(v: string): string {
  if (!isIsoDate(v)) throw new InvalidArgumentError('start must be a real date written YYYY-MM-DD.');
  return v;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new InvalidArgumentError('interval must be a number of seconds from 0 to 3600.');
  return n;
}

function url(v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new InvalidArgumentError('live must be an http(s) URL, e.g. http://localhost:3000.');
  }
  return v;
}

export interface SimulateCommandOptions {
  seed: number;
  population: number;
  start: string;
  days: number;
  out?: string;
  bundles?: boolean;
  live?: string;
  intervalSeconds: number;
  token?: string;
  username: string;
  password: string;
  progress: boolean;
}

export function registerSimulateCommand(program: Command): Command {
  const cmd = program
    .command('simulate')
    .description(
      'Generate a synthetic district (fictional): residents, visits, chronic disease, immunizations, outbreaks with ground truth, in FHIR NDJSON, HL7 v2, CSV and report cards. Same seed and arguments give byte-identical output.',
    )
    .addOption(new Option('--seed <n>', 'random seed').argParser(integer('seed', 0, 0xffffffff)).default(DEMO_DEFAULTS.seed))
    .addOption(
      new Option('--population <n>', 'residents at the start')
        .argParser(integer('population', LIMITS.minPopulation, LIMITS.maxPopulation))
        .default(DEMO_DEFAULTS.population),
    )
    .addOption(new Option('--start <date>', 'first simulated day, YYYY-MM-DD').argParser(date).default(DEMO_DEFAULTS.start))
    .addOption(
      new Option('--days <n>', 'number of simulated days').argParser(integer('days', 1, LIMITS.maxDays)).default(DEMO_DEFAULTS.days),
    )
    .addOption(new Option('--out <dir>', 'output directory (required unless --live is given)'))
    .addOption(new Option('--bundles', 'also write one FHIR transaction Bundle per day under fhir/bundles/'))
    .addOption(new Option('--live <url>', 'send each simulated day to a running Yifang at this URL').argParser(url))
    .addOption(new Option('--interval-seconds <s>', 'live mode: seconds between simulated days').argParser(seconds).default(5))
    .addOption(new Option('--token <token>', 'live mode: bearer token (otherwise log in with --username/--password)'))
    .addOption(new Option('--username <name>', 'live mode: user to log in as').default('admin'))
    .addOption(new Option('--password <password>', 'live mode: password').default('yifang-admin'))
    .addOption(new Option('--no-progress', 'do not show the progress bar'))
    .addHelpText(
      'after',
      `
Output (in --out): fhir/<Type>.ndjson, hl7/<facility>.hl7, feeds/school-absenteeism.csv,
feeds/pharmacy-sales.csv, report-cards.ndjson, district.json, truth.json and, written last,
manifest.json (files, record counts, SHA-256). Files are written as *.partial and renamed at the
end: an interrupted run leaves no file that looks complete.

Examples:
  yifang simulate --seed 1 --population 20000 --start 2024-01-01 --days 730 --out data/demo
  yifang simulate --population 5000 --days 60 --live http://localhost:3000 --interval-seconds 3`,
    )
    .action(async (opts: SimulateCommandOptions) => {
      await runSimulate(cmd, opts);
    });
  return cmd;
}

async function runSimulate(cmd: Command, opts: SimulateCommandOptions): Promise<void> {
  if (!opts.out && !opts.live)
    cmd.error("error: option '--out <dir>' is required (or give --live <url>)", { exitCode: 2, code: 'yifang.simulate.out' });
  const out = opts.out ?? join(tmpdir(), `yifang-live-${opts.seed}`);
  try {
    await checkOutDir(out, '--out');
  } catch (e) {
    cmd.error(`error: option '--out <dir>' argument '${out}' is invalid. ${(e as SimulatorInputError).message.replace(/^--out: /, '')}`, {
      exitCode: 2,
      code: 'yifang.simulate.out',
    });
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let live: LiveSink | undefined;
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'simulate [{bar}] {percentage}% | day {value}/{total} | {records} records | ETA {eta_formatted}',
          hideCursor: true,
          noTTYOutput: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const started = Date.now();
  try {
    if (opts.live) {
      live = new LiveSink({
        url: opts.live,
        intervalSeconds: opts.intervalSeconds,
        token: opts.token,
        username: opts.username,
        password: opts.password,
        signal: controller.signal,
      });
      await live.connect();
    }
    bar?.start(opts.days, 0, { records: 0 });
    const { manifest } = await simulate({
      seed: opts.seed,
      population: opts.population,
      start: opts.start,
      days: opts.days,
      outDir: out,
      bundles: opts.bundles ?? false,
      sink: live,
      signal: controller.signal,
      onProgress: (p) => bar?.update(p.day, { records: p.records }),
    });
    bar?.stop();
    const records = manifest.files.reduce((a, f) => a + f.records, 0);
    process.stderr.write(
      `simulate: ${records} records in ${manifest.files.length} files written to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    if (live) process.stderr.write(live.summary() + '\n');
  } catch (e) {
    bar?.stop();
    if (e instanceof SimulationAbortedError) {
      process.stderr.write(`simulate: ${e.message}\n`);
      process.exitCode = 130;
      return;
    }
    if (e instanceof SimulatorInputError)
      cmd.error(`error: option '--${e.field === 'outDir' ? 'out' : e.field}' is invalid. ${e.message}`, {
        exitCode: 2,
        code: 'yifang.simulate.invalid',
      });
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
