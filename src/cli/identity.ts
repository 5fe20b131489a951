/**
 * `yifang identity …`: the master patient index from the command line.
 *
 *   yifang identity link --patient P --person X [--reason …]     manual link (audited, reversible)
 *   yifang identity unlink --patient P                            own Person for P
 *   yifang identity merge --from X --into Y                       all Patients of X into Y
 *   yifang identity undo <event>                                  reverse a link / unlink / merge
 *   yifang identity events                                        manual decisions, newest first
 *   yifang identity review                                        the open review queue
 *   yifang identity match patient.json                            scored candidates from the index
 *   yifang identity evaluate <simulator-output-dir>               precision / recall vs truth.json
 *   yifang identity households [--rebuild]                       household counts; rewrite their Groups
 *   yifang identity fit                                           re-estimate the m/u weights (EM)
 *
 * Manual decisions go through the same Mpi methods as the HTTP API, in one transaction with an
 * AuditEvent (subtype identity-*, agent = --user, default the OS user), and can be undone.
 * Bad arguments end with exit code 2, refused operations with exit code 1, each with one line
 * on stderr that names the problem.
 */
import type { PoolClient } from 'pg';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import type { Command } from 'commander';
import { loadDefinitions } from '../fhir/definitions.js';
import { FhirRepository } from '../fhir/repository.js';
import { evaluateLinkage, linkageQualityColumns, loadLinkageConfig, loadSimulatedIdentities, Mpi, weightsOf } from '../identity/index.js';
import { AuditLog } from '../fhir/audit.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase, type Database } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';

export interface IdentityCommandOptions {
  /** Opens the store (tests hand in a running test server's database). Default: DATABASE_URL or YIFANG_DATA_DIR. */
  openStore?: () => Promise<{ db: Database; close(): Promise<void> }>;
}

/** A problem the user can fix; `exitCode` 2 for a bad argument, 1 for a refused operation. */
class IdentityCliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

async function defaultStore(): Promise<{ db: Database; close(): Promise<void> }> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
  await migrateAll(db);
  return { db, close: () => db.close() };
}

function table(rows: Record<string, string | number>[]): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]!);
  const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1), 0);
  const widths = cols.map((c) => Math.max(width(c), ...rows.map((r) => width(String(r[c] ?? '')))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v + ' '.repeat(widths[i]! - width(v)))
      .join('  ')
      .trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n') + '\n';
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new IdentityCliError(`${option}: must be a positive integer, not '${value}'`);
  return n;
}

function share(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new IdentityCliError(`${option}: must be a number between 0 and 1, not '${value}'`);
  return n;
}

/** Reads a Patient (or a $match Parameters holding one) from a JSON file. */
function readPatient(file: string): Patient {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new IdentityCliError(`<file>: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let body: { resourceType?: string; parameter?: { name: string; resource?: unknown }[] };
  try {
    body = JSON.parse(text.replace(/^\uFEFF/, '')) as typeof body;
  } catch (e) {
    throw new IdentityCliError(`<file>: '${file}' is not valid JSON (${(e as Error).message})`);
  }
  const patient = body?.resourceType === 'Parameters' ? body.parameter?.find((p) => p.name === 'resource')?.resource : body;
  if (!patient || (patient as { resourceType?: string }).resourceType !== 'Patient') {
    throw new IdentityCliError(
      `<file>: '${file}' holds no Patient (expected a Patient resource or a Parameters resource with parameter "resource")`,
    );
  }
  return patient as Patient;
}

export function registerIdentityCommands(program: Command, options: IdentityCommandOptions = {}): Command {
  const openStore = options.openStore ?? defaultStore;
  const identity = program
    .command('identity')
    .description(
      'Master patient index: manual link / unlink / merge / undo (audited), the review queue, matching a Patient, linkage quality',
    )
    .addHelpText(
      'after',
      `
Uses DATABASE_URL when set, else the embedded store in YIFANG_DATA_DIR (./data).
Manual decisions are the same as in the web app and the API: each is one transaction with an
AuditEvent (subtype identity-link, identity-unlink, identity-merge, identity-undo) and can be
reversed with 'yifang identity undo <event>'. Thresholds and weights: config/identity/linkage.json.`,
    );

  /** Runs an action with the store open, turning problems into one stderr line and an exit code. */
  const action = <A extends unknown[]>(
    fn: (ctx: { db: Database; mpi: Mpi; audit: AuditLog; write: (s: string) => void; cmd: Command }, ...args: A) => Promise<void>,
    check?: (...args: never[]) => void,
  ) =>
    async function (this: Command, ...args: A): Promise<void> {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- commander passes the command as `this`; closures below need it
      const cmd = this;
      const write = (s: string) => cmd.configureOutput().writeOut!(s);
      let store: Awaited<ReturnType<typeof openStore>> | undefined;
      try {
        (check as ((...a: unknown[]) => void) | undefined)?.(...args); // arguments first: a typo never opens (or creates) the store
        loadDefinitions();
        store = await openStore();
        const audit = new AuditLog(store.db);
        await fn({ db: store.db, mpi: new Mpi(store.db, new FhirRepository(store.db)), audit, write, cmd }, ...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof IdentityCliError)
          cmd.error(`yifang identity ${cmd.name()}: ${message}`, { exitCode: e.exitCode, code: 'yifang.identity.error' });
        // Domain refusals from the index (unknown patient, person without records, already undone…)
        if (e instanceof Error && !('code' in e) && !('status' in e)) {
          cmd.error(`yifang identity ${cmd.name()}: ${message}`, { exitCode: 1, code: 'yifang.identity.refused' });
        }
        throw e;
      } finally {
        await store?.close();
      }
    };

  /** A manual decision: one transaction with its audit record. */
  const decide = async <T>(
    ctx: { db: Database; audit: AuditLog },
    user: string,
    subtype: string,
    entities: string[],
    fn: (client: PoolClient, username: string) => Promise<T>,
  ): Promise<T> =>
    ctx.db.transaction(async (client) => {
      const result = await fn(client, user);
      await ctx.audit.recordNow(client, {
        user: { username: user, displayName: `${user} (yifang CLI)`, roles: [] },
        action: 'U',
        subtype,
        entities,
        outcome: 'success',
        sourceAddress: 'cli',
      });
      return result;
    });

  const osUser = (() => {
    try {
      return os.userInfo().username || 'cli';
    } catch {
      return process.env.USER || 'cli'; // no passwd entry (some containers)
    }
  })();
  const userOption = ['--user <name>', 'who decides (recorded in the AuditEvent and mpi_event)', osUser] as const;
  const reasonOption = ['--reason <text>', 'why (kept with the event)'] as const;

  identity
    .command('link')
    .description('Link a Patient to a Person (assurance level3); audited, reversible with undo')
    .requiredOption('--patient <id>', 'the Patient id')
    .requiredOption('--person <id>', 'the Person id to link it to')
    .option(...reasonOption)
    .option(...userOption)
    .action(
      action(async (ctx, opts: { patient: string; person: string; reason?: string; user: string }) => {
        const event = await decide(ctx, opts.user, 'identity-link', [`Patient/${opts.patient}`, `Person/${opts.person}`], (c, u) =>
          ctx.mpi.link(c, opts.patient, opts.person, u, opts.reason),
        );
        ctx.write(`linked Patient/${opts.patient} to Person/${opts.person} (event ${event}; undo with: yifang identity undo ${event})\n`);
      }),
    );

  identity
    .command('unlink')
    .description('Take a Patient out of its Person into a new Person of its own; audited, reversible with undo')
    .requiredOption('--patient <id>', 'the Patient id')
    .option(...reasonOption)
    .option(...userOption)
    .action(
      action(async (ctx, opts: { patient: string; reason?: string; user: string }) => {
        const r = await decide(ctx, opts.user, 'identity-unlink', [`Patient/${opts.patient}`], (c, u) =>
          ctx.mpi.unlink(c, opts.patient, u, opts.reason),
        );
        ctx.write(
          `unlinked Patient/${opts.patient} into new Person/${r.person} (event ${r.event}; undo with: yifang identity undo ${r.event})\n`,
        );
      }),
    );

  identity
    .command('merge')
    .description('Move every Patient of one Person into another; audited, reversible with undo')
    .requiredOption('--from <person>', 'the Person that is merged away')
    .requiredOption('--into <person>', 'the Person that stays')
    .option(...reasonOption)
    .option(...userOption)
    .action(
      action(async (ctx, opts: { from: string; into: string; reason?: string; user: string }) => {
        const event = await decide(ctx, opts.user, 'identity-merge', [`Person/${opts.from}`, `Person/${opts.into}`], (c, u) =>
          ctx.mpi.merge(c, opts.from, opts.into, u, opts.reason),
        );
        ctx.write(`merged Person/${opts.from} into Person/${opts.into} (event ${event}; undo with: yifang identity undo ${event})\n`);
      }),
    );

  identity
    .command('undo')
    .description('Reverse a manual link, unlink or merge (each moved Patient goes back)')
    .argument('<event>', 'the event number printed by link / unlink / merge, or listed by events')
    .option(...userOption)
    .action(
      action(
        async (ctx, eventArg: string, opts: { user: string }) => {
          const eventId = positiveInt(eventArg, '<event>');
          const id = await decide(ctx, opts.user, 'identity-undo', [`mpi_event ${eventId}`], (c, u) => ctx.mpi.undo(c, eventId, u));
          ctx.write(`undid event ${eventId} (event ${id})\n`);
        },
        (eventArg: string) => void positiveInt(eventArg, '<event>'),
      ),
    );

  identity
    .command('events')
    .description('Manual identity decisions, newest first')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(
      action(
        async (ctx, opts: { limit: string; json?: boolean }) => {
          const limit = positiveInt(opts.limit, '--limit');
          const r = await ctx.db.query<{
            id: number;
            action: string;
            username: string;
            at: string;
            reason: string | null;
            moves: { patient: string; from: string; to: string }[];
            undone_by: number | null;
          }>('SELECT id, action, username, at, reason, moves, undone_by FROM mpi_event ORDER BY id DESC LIMIT $1', [limit]);
          if (opts.json) return ctx.write(`${JSON.stringify({ items: r.rows })}\n`);
          if (!r.rows.length) return ctx.write('no manual identity decisions yet\n');
          ctx.write(
            table(
              r.rows.map((e) => ({
                event: e.id,
                action: e.action,
                user: e.username,
                at: e.at,
                patients: e.moves.length,
                'undone by': e.undone_by ?? '',
                reason: e.reason ?? '',
              })),
            ),
          );
        },
        (opts: { limit: string }) => void positiveInt(opts.limit, '--limit'),
      ),
    );

  identity
    .command('review')
    .description('List the open review queue (pairs scored between the thresholds), highest score first')
    .option('--limit <n>', 'how many items', '50')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nDecide an item with: yifang identity link --patient <patient> --person <candidate person>\n(or reject it in the web app, 数据接入 › 身份核查).',
    )
    .action(
      action(
        async (ctx, opts: { limit: string; json?: boolean }) => {
          const limit = positiveInt(opts.limit, '--limit');
          const r = await ctx.db.query<{
            id: number;
            patient_id: string;
            candidate_person_id: string;
            candidate_patient_id: string;
            score: number;
            patient: { name?: string; birthDate?: string; facility?: string } | null;
            candidate: { name?: string; birthDate?: string; facility?: string } | null;
          }>(
            `SELECT v.id, v.patient_id, v.candidate_person_id, v.candidate_patient_id, v.score, a.data AS patient, b.data AS candidate
           FROM mpi_review v LEFT JOIN mpi_record a ON a.patient_id = v.patient_id LEFT JOIN mpi_record b ON b.patient_id = v.candidate_patient_id
           WHERE v.status = 'open' ORDER BY v.score DESC, v.id LIMIT $1`,
            [limit],
          );
          const { thresholds } = loadLinkageConfig();
          if (opts.json) return ctx.write(`${JSON.stringify({ items: r.rows, thresholds })}\n`);
          if (!r.rows.length) return ctx.write('review queue is empty\n');
          const who = (d: { name?: string; birthDate?: string; facility?: string } | null) =>
            d ? `${d.name || '(no name)'} ${d.birthDate ?? ''} @${d.facility ?? ''}`.trim() : '(gone)';
          ctx.write(`${r.rows.length} open item(s); thresholds: review ≥ ${thresholds.lower}, link ≥ ${thresholds.upper}\n`);
          ctx.write(
            table(
              r.rows.map((i) => ({
                item: i.id,
                score: i.score.toFixed(2),
                patient: i.patient_id,
                record: who(i.patient),
                'candidate person': i.candidate_person_id,
                'candidate record': who(i.candidate),
              })),
            ),
          );
        },
        (opts: { limit: string }) => void positiveInt(opts.limit, '--limit'),
      ),
    );

  identity
    .command('match')
    .description('Score a Patient JSON file against the index (like FHIR Patient/$match)')
    .argument('<file>', 'a Patient resource, or a Parameters resource with parameter "resource"')
    .option('--count <n>', 'at most this many candidates', '10')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nGrades: certain (shared valid ID number), probable (score ≥ upper threshold),\npossible (between the thresholds), certainly-not (below).',
    )
    .action(
      action(
        async (ctx, file: string, opts: { count: string; json?: boolean }) => {
          const count = positiveInt(opts.count, '--count');
          const patient = readPatient(file);
          const matches = await ctx.mpi.match(patient, count);
          if (opts.json) return ctx.write(`${JSON.stringify({ matches })}\n`);
          if (!matches.length) return ctx.write('no candidates in the index\n');
          ctx.write(
            table(
              matches.map((m, i) => ({ rank: i + 1, person: m.personId, patient: m.patientId, score: m.score.toFixed(2), grade: m.grade })),
            ),
          );
        },
        (file: string, opts: { count: string }) => {
          positiveInt(opts.count, '--count');
          readPatient(file);
        },
      ),
    );

  identity
    .command('evaluate')
    .description("Linkage quality against a simulated district's truth.json: pairwise precision, recall and confusion counts")
    .argument('<path>', 'a simulator output directory (or its truth.json): fhir/Patient.ndjson, hl7/*.hl7 and truth.json')
    .option('--upper <score>', 'link threshold (default from config/identity/linkage.json)')
    .option('--lower <score>', 'review threshold (default from config/identity/linkage.json)')
    .option('--min-precision <p>', 'exit with code 1 when precision is below this (0–1)')
    .option('--min-recall <r>', 'exit with code 1 when recall is below this (0–1)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRuns the production matcher in memory (no database); the pairs are all pairs of records of one person.\nMake a district with: yifang simulate --seed 7 --population 20000 --out ./district',
    )
    .action(async function (
      this: Command,
      target: string,
      opts: { upper?: string; lower?: string; minPrecision?: string; minRecall?: string; json?: boolean },
    ) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- commander passes the command as `this`; closures below need it
      const cmd = this;
      const fail = (message: string, exitCode: 1 | 2 = 2): never =>
        cmd.error(`yifang identity evaluate: ${message}`, { exitCode, code: 'yifang.identity.error' });
      const dir = target.endsWith('.json') ? path.dirname(target) : target;
      if (!fs.existsSync(path.join(dir, 'truth.json'))) fail(`<path>: no truth.json in '${dir}'`);
      if (!fs.existsSync(path.join(dir, 'fhir', 'Patient.ndjson'))) fail(`<path>: no fhir/Patient.ndjson in '${dir}'`);
      const cfg = loadLinkageConfig();
      const num = (v: string | undefined, name: string, fallback: number) => {
        if (v === undefined) return fallback;
        const n = Number(v);
        return Number.isFinite(n) ? n : fail(`${name}: must be a number, not '${v}'`);
      };
      const thresholds = {
        upper: num(opts.upper, '--upper', cfg.thresholds.upper),
        lower: num(opts.lower, '--lower', cfg.thresholds.lower),
      };
      if (thresholds.lower > thresholds.upper) fail(`--lower (${thresholds.lower}) must not be above --upper (${thresholds.upper})`);
      let minPrecision: number | undefined;
      let minRecall: number | undefined;
      try {
        minPrecision = share(opts.minPrecision, '--min-precision');
        minRecall = share(opts.minRecall, '--min-recall');
      } catch (e) {
        fail((e as Error).message);
      }
      let labelled;
      try {
        labelled = loadSimulatedIdentities(dir);
      } catch (e) {
        fail(`<path>: cannot read the district in '${dir}': ${(e as Error).message}`);
      }
      const r = evaluateLinkage(labelled!, weightsOf(cfg.defaults), thresholds);
      const out = cmd.configureOutput().writeOut!;
      if (opts.json) out(`${JSON.stringify({ thresholds, ...r })}\n`);
      else {
        out(`${r.records} records, ${r.persons} persons found; thresholds upper ${thresholds.upper}, lower ${thresholds.lower}\n`);
        out(table([{ 'linked pairs': r.predictedPairs, ...linkageQualityColumns(r) }]));
      }
      const short = [
        minPrecision !== undefined && r.precision < minPrecision ? `precision ${r.precision.toFixed(4)} < ${minPrecision}` : '',
        minRecall !== undefined && r.recall < minRecall ? `recall ${r.recall.toFixed(4)} < ${minRecall}` : '',
      ].filter(Boolean);
      if (short.length) fail(short.join('; '), 1);
    });

  identity
    .command('households')
    .description('Count the address households; --rebuild writes the FHIR Group of every household')
    .option('--rebuild', 'rewrite every household Group from the index (after an upgrade, or to repair)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nHouseholds are the residents at one normalised house address; each is a FHIR Group\n(type person, actual) found with GET /fhir/Group?member=Patient/{id}. They are kept current as\nPatients arrive and move; --rebuild is only needed for an index that predates the Groups.',
    )
    .action(
      action(async (ctx, opts: { rebuild?: boolean; json?: boolean }) => {
        const rebuilt = opts.rebuild ? await ctx.mpi.rebuildHouseholdGroups() : undefined;
        const s = (
          await ctx.db.query<{ households: number; patients: number; persons: number; largest: number | null }>(
            `SELECT count(*)::int AS households, coalesce(sum(n), 0)::int AS patients, coalesce(sum(p), 0)::int AS persons, max(p)::int AS largest
             FROM (SELECT address_key, count(*) AS n, count(DISTINCT person_id) AS p FROM mpi_household GROUP BY address_key) h`,
          )
        ).rows[0]!;
        if (opts.json) return ctx.write(`${JSON.stringify({ ...s, ...(rebuilt ? { rebuilt } : {}) })}\n`);
        if (rebuilt) ctx.write(`wrote ${rebuilt.households} household Groups (${rebuilt.members} member Patients)\n`);
        ctx.write(`${s.households} households; ${s.persons} residents (${s.patients} Patients); largest ${s.largest ?? 0} residents\n`);
      }),
    );

  identity
    .command('fit')
    .description('Re-estimate the m/u weights by EM on the index and use them from now on (stored in mpi_weights)')
    .option('--sample <n>', 'records to fit on', '50000')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nThresholds belong to the weights' scale: check linkage quality afterwards (yifang identity evaluate, npm run bench -- --only linkage).",
    )
    .action(
      action(
        async (ctx, opts: { sample: string; json?: boolean }) => {
          const sample = positiveInt(opts.sample, '--sample');
          const indexed = Number((await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM mpi_record')).rows[0]?.n ?? 0);
          if (indexed < 2) throw new IdentityCliError(`the index holds ${indexed} record(s): link some Patients first; nothing stored`, 1);
          const fit = await ctx.mpi.fitWeights(sample);
          if (opts.json) return ctx.write(`${JSON.stringify(fit)}\n`);
          ctx.write(`fitted on ${fit.pairs} candidate pairs; match share ${fit.matchShare.toFixed(3)}; stored as the weights in force\n`);
        },
        (opts: { sample: string }) => void positiveInt(opts.sample, '--sample'),
      ),
    );

  return identity;
}
