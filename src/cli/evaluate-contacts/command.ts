/**
 * `yifang evaluate contacts [dir]`: contact candidates of the investigation module scored
 * against a simulated district's contact truth (index.ts); recall and precision per contact
 * kind. Progress on stderr, the table (or --json) on stdout; bad arguments exit 2.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { simulatorFingerprint } from '../../simulator/index.js';
import { evaluateContacts, formatContactTable } from './index.js';

class ArgumentProblem extends Error {}

function positiveInteger(raw: string | undefined, what: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new ArgumentProblem(`${what}: must be a positive integer, got ${JSON.stringify(raw)}`);
  return v;
}

interface ContactsOptions {
  seed?: string;
  population?: string;
  days?: string;
  start?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Adds `contacts` under the `evaluate` command. */
export function registerEvaluateContactsCommand(evaluate: Command): void {
  evaluate
    .command('contacts [dir]')
    .description('score the contact candidates of investigations against a simulated district (recall and precision per contact kind)')
    .option('--seed <s>', 'seed when simulating (default 7)')
    .option('--population <n>', 'residents when simulating (default 20000)')
    .option('--days <n>', 'days when simulating (default 365)')
    .option('--start <date>', 'first day when simulating (default 2024-01-01)')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      [
        '',
        'dir: simulator output with truth.json (simulated there when it has no manifest.json; default a',
        '  directory under the system temp dir named after seed, population and days).',
        'The district is loaded through the product (registry files, FHIR import, HL7 v2 over /api/hl7,',
        '  processors drained); an investigation is opened for every symptomatic outbreak case whose disease',
        '  has rules (influenza, norovirus, measles, cholera; not the salmonellosis meals) and its candidates',
        '  are compared with the true contacts the records can reveal (truth.json contacts).',
        'recall of a kind: true contacts of that kind proposed (under any kind) ÷ true contacts of that kind;',
        'precision of a kind: candidates of that kind who are true contacts ÷ candidates of that kind.',
        'Targets (issue #19): recall ≥ 0.95, precision ≥ 0.6.',
      ].join('\n'),
    )
    .action(async function (this: Command, dirArg: string | undefined) {
      const out = this.configureOutput();
      // `evaluate` has --seed, --population, --days and --json of its own, and commander gives an
      // option after the subcommand to the parent: read both.
      const opts = this.optsWithGlobals<ContactsOptions>();
      try {
        const seed = opts.seed === undefined ? 7 : Number(opts.seed);
        if (!Number.isInteger(seed) || seed < 0)
          throw new ArgumentProblem(`--seed: must be an integer ≥ 0, got ${JSON.stringify(opts.seed)}`);
        const population = positiveInteger(opts.population, '--population', 20000);
        const days = positiveInteger(opts.days, '--days', 365);
        if (opts.start !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.start))
          throw new ArgumentProblem(`--start: a date YYYY-MM-DD, got ${JSON.stringify(opts.start)}`);
        const dir = dirArg ?? path.join(os.tmpdir(), `yifang-contacts-${seed}-${population}-${days}-${simulatorFingerprint()}`);
        const log = opts.quiet ? undefined : (m: string) => process.stderr.write(`[contacts] ${m}\n`);
        const r = await evaluateContacts(dir, { seed, population, days, start: opts.start, log });
        if (opts.json) {
          out.writeOut?.(`${JSON.stringify({ ...r, openMs: undefined })}\n`);
        } else {
          out.writeOut?.(
            `${r.cases} cases investigated in ${dir} (${r.residents} residents); skipped: ${r.skipped.carriers} carriers, ${r.skipped.noRule} without investigation rules, ${r.skipped.refused} refused\n${formatContactTable(r)}\n`,
          );
        }
      } catch (e) {
        if (e instanceof ArgumentProblem)
          this.error(`yifang evaluate contacts: ${e.message}`, { exitCode: 2, code: 'yifang.evaluate.badArgument' });
        throw e;
      }
    });
}
