/**
 * Simulator benchmark. The figure: 1,000,000 residents × 3 years (1,095 days) in under 10 minutes
 * on 2 cores with peak memory under 2 GB. By default a scaled run (100,000 × 365 days) whose time
 * is projected to 1,000,000 × 1,095 (start-up in proportion to residents, the day loop in
 * proportion to resident-days); `--full` runs the real thing (several minutes).
 *
 * The simulation runs in a child process of its own, so that the peak RSS is the simulator's and
 * not that of whatever ran before it in the same process (`npm run bench` runs every suite in one
 * process: a process-wide maxRSS would report the FHIR benchmark's peak here).
 *
 *   node --import tsx bench/simulator.bench.ts            # 100,000 × 365
 *   node --import tsx bench/simulator.bench.ts --quick    # 20,000 × 365
 *   node --import tsx bench/simulator.bench.ts --full     # 1,000,000 × 1,095
 *   options: --population N --days N --bundles --keep (keep the output) --out DIR
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { simulate } from '../src/simulator/index.js';
import { printTable } from './table.js';

const TARGET = { residents: 1_000_000, days: 1095, seconds: 600, rssMb: 2048 } as const;

export interface SimulatorBenchResult {
  residents: number;
  days: number;
  seconds: number;
  cpuSeconds: number;
  /** Seconds before the first simulated day (building the district, reference data, history). */
  startupSeconds: number;
  records: number;
  gigabytes: number;
  /** Peak resident set size of the child process that ran the simulation (both threads). */
  peakRssMb: number;
  projectedSecondsFor1Mx3y: number;
  /** CPU seconds projected the same way: what the wall time approaches on an idle machine. */
  projectedCpuSecondsFor1Mx3y: number;
}

interface ChildRequest {
  residents: number;
  days: number;
  out: string;
  bundles: boolean;
}

interface ChildReply {
  seconds: number;
  cpuSeconds: number;
  startupSeconds: number;
  startupCpuSeconds: number;
  records: number;
  bytes: number;
  maxRssKb: number;
}

/** Runs inside the child: one simulation, timed, then its own peak RSS. */
async function child(req: ChildRequest): Promise<ChildReply> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let firstDay = 0;
  let firstDayCpu = 0;
  const { manifest } = await simulate({
    seed: 1,
    population: req.residents,
    start: '2024-01-01',
    days: req.days,
    outDir: req.out,
    bundles: req.bundles,
    onProgress: (p) => {
      if (p.day !== 1) return;
      firstDay = performance.now();
      const c = process.cpuUsage(cpu0);
      firstDayCpu = (c.user + c.system) / 1e6;
    },
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startupSeconds: (firstDay - t0) / 1000,
    startupCpuSeconds: firstDayCpu,
    records: manifest.files.reduce((a, f) => a + f.records, 0),
    bytes: manifest.files.reduce((a, f) => a + f.bytes, 0),
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

function runChild(req: ChildRequest): Promise<ChildReply> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(req)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reply: ChildReply | null = null;
    proc.on('message', (m) => (reply = m as ChildReply));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (reply) resolve(reply);
      else reject(new Error(`simulator bench child ended without a result (exit ${code ?? signal})`));
    });
  });
}

export async function runSimulatorBench(argv: string[] = process.argv.slice(2)): Promise<SimulatorBenchResult> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const full = argv.includes('--full');
  const quick = argv.includes('--quick');
  const residents = Number(arg('--population') ?? (full ? TARGET.residents : quick ? 20_000 : 100_000));
  const days = Number(arg('--days') ?? (full ? TARGET.days : 365));
  const out = arg('--out') ?? mkdtempSync(join(tmpdir(), 'yifang-sim-bench-'));
  try {
    const r = await runChild({ residents, days, out, bundles: argv.includes('--bundles') });
    // Start-up grows with the residents, the day loop with resident-days.
    const project = (total: number, startup: number): number =>
      Math.round((startup * TARGET.residents) / residents + ((total - startup) * (TARGET.residents * TARGET.days)) / (residents * days));
    const result: SimulatorBenchResult = {
      residents,
      days,
      seconds: round(r.seconds),
      cpuSeconds: round(r.cpuSeconds),
      startupSeconds: round(r.startupSeconds),
      records: r.records,
      gigabytes: round(r.bytes / 1e9, 2),
      peakRssMb: Math.round(r.maxRssKb / 1024),
      projectedSecondsFor1Mx3y: project(r.seconds, r.startupSeconds),
      projectedCpuSecondsFor1Mx3y: project(r.cpuSeconds, r.startupCpuSeconds),
    };
    const atTarget = residents === TARGET.residents && days === TARGET.days;
    const size = `${residents.toLocaleString('en')} × ${days.toLocaleString('en')} days`;
    printTable(`Simulator benchmark: ${size}${atTarget ? '' : ' (scaled)'}; target 1,000,000 × 1,095 days < 600 s on 2 cores, < 2,048 MB`, [
      {
        run: size,
        records: result.records,
        GB: result.gigabytes,
        'start-up s': result.startupSeconds,
        'wall s': result.seconds,
        'CPU s': result.cpuSeconds,
        'peak RSS MB': result.peakRssMb,
        ...(atTarget ? {} : { 'wall s at 1M × 1,095 (projected)': result.projectedSecondsFor1Mx3y }),
        ...(atTarget ? {} : { 'CPU s at 1M × 1,095 (projected)': result.projectedCpuSecondsFor1Mx3y }),
        'target s': `< ${TARGET.seconds}`,
        'target MB': `< ${TARGET.rssMb.toLocaleString('en')}`,
      },
    ]);
    if (!atTarget)
      console.log('Peak RSS is measured, not projected: it grows with residents (typed arrays) and not with days; --full measures it.');
    const share = (result.cpuSeconds / result.seconds) * 100;
    if (share < 80)
      console.log(
        `Note: the run got ${share.toFixed(0)} % of one core's time (a busy machine); wall time on an idle 2-core machine is about the CPU time.`,
      );
    return result;
  } finally {
    if (!argv.includes('--keep') && !arg('--out')) rmSync(out, { recursive: true, force: true });
  }
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const reply = await child(JSON.parse(process.argv[i + 1]!) as ChildRequest);
    process.send!(reply);
  } else {
    await runSimulatorBench();
  }
}
