/**
 * `yifang surveillance ...`: the district evaluation from the command line.
 *
 *   yifang surveillance evaluate-district [--dir <simulated dir>] [--seeds 7,11] [--population 2000] [--days 400]
 *
 * Replays a simulated district (simulated into --dir when it holds no manifest.json) through
 * the real pipeline and prints POD, POD on the first day, median delay, false alerts per area
 * per month and alerts per week for each single source, the CIDARS baseline and the fused
 * alerts. The lead wires `registerSurveillanceCommands(program)` into main.ts (or calls
 * `registerDistrictEvaluation` from `yifang evaluate`).
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { evaluateDistrict, formatEvaluationTable, poolEvaluations, type DistrictEvaluation } from './evaluate-district/index.js';
import { simulatorFingerprint } from '../simulator/index.js';

export function registerSurveillanceCommands(program: Command): void {
  const surveillance = program.command('surveillance').description('Infectious-disease surveillance tools');
  surveillance
    .command('evaluate-district')
    .description('Replay a simulated district through the real pipeline and compare alerts with its truth.json')
    .option('--dir <dir>', 'simulator output directory (simulated there when empty)')
    .option('--seeds <list>', 'comma-separated seeds (one district each)', '7')
    .option('--population <n>', 'residents when simulating', '2000')
    .option('--days <n>', 'days when simulating', '400')
    .option('--start <day>', 'first day when simulating', '2024-01-01')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { dir?: string; seeds: string; population: string; days: string; start: string; json?: boolean }) => {
      const seeds = o.seeds.split(',').map((s) => Number(s.trim()));
      if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
        console.error(`--seeds: integers separated by commas (got '${o.seeds}')`);
        process.exit(2);
      }
      const evals: DistrictEvaluation[] = [];
      for (const seed of seeds) {
        const dir = o.dir
          ? seeds.length > 1
            ? path.join(o.dir, `seed-${seed}`)
            : o.dir
          : path.join(os.tmpdir(), `yifang-district-${seed}-${o.population}-${o.days}-${simulatorFingerprint()}`);
        evals.push(
          await evaluateDistrict(dir, {
            seed,
            population: Number(o.population),
            days: Number(o.days),
            start: o.start,
            log: (m) => console.error(`[seed ${seed}] ${m}`),
          }),
        );
      }
      const rows = poolEvaluations(evals);
      console.log(o.json ? JSON.stringify({ rows, districts: evals }, null, 1) : formatEvaluationTable(rows));
      process.exit(0);
    });
}
