/**
 * Full recompute (`yifang chronic recompute`, the benchmark): registry entries, visit evaluations
 * and confirmation-list entries of every resident with chronic facts, rebuilt from the fact
 * tables in key ranges of about `chunk` residents.
 *
 * It must not hold up the check-in list. PGlite is one session on the server's own thread: a
 * check-in gets the connection only between two units of the recompute, so the work is cut into
 * short units and the connection is never held while JavaScript runs. Each range is
 *   1. read in one round trip of `COPY (SELECT …) TO STDOUT` statements, which also finds where the
 *      next range ends (ordinary result rows cost PGlite more to decode, field by field, than the
 *      queries cost to run; COPY output is decoded once per table);
 *   2. derived on a worker thread (recompute-derive.ts), while the database thread reads the next range;
 *   3. written in one short transaction: delete the range's derived rows, COPY the new ones.
 * Reading and writing are separate units, so a change that lands in between must not be
 * overwritten: the registry rows of the range (patient, disease, updated_at) are compared when
 * read and when deleted, and a range whose rows changed (the change-log processor refreshed a
 * resident, staff changed a status) is read and derived again.
 *
 * On PostgreSQL it runs on its own small pool, so requests never wait for a connection it holds.
 * Everything here is derived and rebuilt by running it again: commits do not wait for the WAL.
 */
import { extraPool, type Database } from '../../platform/db.js';
import { analyzeTables, RangeDeriver, unitsOn, type RangePhases } from '../../platform/range-deriver.js';
import type { ChronicRuleSet } from './rules.js';
import { copyOut, copyRows, sqlLiteral } from './copy-text.js';
import {
  deriveRange,
  DRIVING_TABLES,
  EVAL_COLUMNS,
  factQueries,
  REGISTRY_COLUMNS,
  rawRows,
  registryKeys,
  type DeriveContext,
  type DerivedRange,
} from './recompute-derive.js';

/** Milliseconds spent in each phase of a full recompute. */
export type RecomputePhases = RangePhases;

/** A range is read and derived again at most this often when its registry rows keep changing; then written anyway. */
const MAX_ATTEMPTS = 3;

/** A key range in the database's ordering: (after, upTo]; undefined = open. */
interface Range {
  after?: string;
  upTo?: string;
}

const rangeWhere = (r: Range): string =>
  [r.after !== undefined ? `patient_id > ${sqlLiteral(r.after)}` : '', r.upTo !== undefined ? `patient_id <= ${sqlLiteral(r.upTo)}` : '']
    .filter(Boolean)
    .join(' AND ') || 'true';

/**
 * The id `offset` fact rows past `after`: the end of the next range. The driving tables' patient
 * indexes are merged in order, so this reads about `offset` index entries, whatever the table sizes.
 */
const boundQuery = (after: string | undefined, offset: number) =>
  `SELECT patient_id FROM (${DRIVING_TABLES.map((t) => `SELECT patient_id FROM ${t}`).join(' UNION ALL ')}) u
   WHERE ${rangeWhere({ after })} ORDER BY patient_id OFFSET ${offset} LIMIT 1`;

/**
 * Full recompute of every resident with chronic facts. `chunk`: residents per range (default
 * 2000 on PostgreSQL; 250 on PGlite, whose single session a check-in shares between units).
 * `concurrency`: ranges in flight (default 2: one is read or written while another is derived).
 * `thread: false` derives on the calling thread.
 */
export async function recomputeAll(
  db: Pick<Database, 'pool' | 'query' | 'copyFrom' | 'kind'>,
  sets: ChronicRuleSet[],
  today: string,
  options: {
    chunk?: number;
    concurrency?: number;
    thread?: boolean;
    onProgress?: (done: number, total: number) => void;
    phases?: RecomputePhases;
  } = {},
): Promise<{ residents: number; chunks: number }> {
  const chunk = Math.max(1, options.chunk ?? (db.kind === 'pglite' ? 250 : 2000));
  const phases = options.phases ?? { list: 0, load: 0, derive: 0, write: 0, commit: 0 };
  const loops = Math.max(1, options.concurrency ?? 2);
  // PGlite's pool is its one session whatever is asked.
  const extra = extraPool(db, loops);
  const pool = extra.pool;
  const withClient = unitsOn(pool);
  let deriver: RangeDeriver<DeriveContext, DerivedRange> | undefined;
  try {
    let t = performance.now();
    // Teams per practitioner (a small table), and the driving tables' size for progress reports.
    const [teams, estimate] = await withClient((c) =>
      copyOut(
        c,
        `COPY (SELECT practitioner_id, min(team_id) FROM care_team_member GROUP BY practitioner_id) TO STDOUT;
         COPY (SELECT coalesce(sum(greatest(reltuples, 0)), 0)::bigint FROM pg_class WHERE relname IN (${DRIVING_TABLES.map(sqlLiteral).join(', ')})) TO STDOUT`,
      ),
    );
    const teamOf = new Map(copyRows(teams!).map(([p, team]) => [p!, team!]));
    const estimatedRows = Number(estimate!.trim()) || 0;
    deriver = new RangeDeriver(
      deriveRange,
      { sets, today, teamOf, stamp: new Date().toISOString() },
      new URL('./recompute-worker.mjs', import.meta.url),
      options.thread ?? true,
    );
    const derive = deriver;

    // Fact rows per resident, to turn `chunk` residents into a number of fact rows to skip.
    let rowsSeen = 0;
    let residentsSeen = 0;
    const offset = () => Math.max(1, Math.round(chunk * (residentsSeen ? Math.max(1, rowsSeen / residentsSeen) : 4))) - 1;

    /** Reads a range's facts; with `bound`, also where the range after it ends. */
    const read = async (range: Range, bound: boolean): Promise<{ texts: string[]; next?: string }> => {
      const s = performance.now();
      const sql = factQueries(rangeWhere(range));
      if (bound) sql.push(boundQuery(range.upTo, offset()));
      const texts = await withClient((c) => copyOut(c, sql.map((q) => `COPY (${q}) TO STDOUT`).join(';\n')));
      phases.load += performance.now() - s;
      const next = bound ? texts.pop() : undefined;
      return { texts, next: next ? copyRows(next)[0]![0]! : undefined };
    };

    const first = (await withClient((c) => c.query<{ patient_id: string }>(boundQuery(undefined, offset())))).rows[0]?.patient_id;
    phases.list += performance.now() - t;
    // The last range is open at the top, so every derived row falls in exactly one range.
    let pending: Range | undefined = { upTo: first };
    let failure: unknown;
    // Ranges are read one after the other: each read says where the next range ends.
    let reading: Promise<unknown> = Promise.resolve();
    const readNext = async (): Promise<{ range: Range; texts: string[] } | undefined> => {
      const previous = reading;
      let done!: () => void;
      reading = new Promise<void>((r) => (done = r));
      await previous;
      try {
        const range = pending;
        if (!range || failure !== undefined) return undefined;
        const r = await read(range, range.upTo !== undefined);
        pending = range.upTo === undefined ? undefined : { after: range.upTo, upTo: r.next };
        return { range, texts: r.texts };
      } finally {
        done();
      }
    };

    /** Replaces a range's derived rows; false when its registry rows changed since they were read. */
    const write = (range: Range, d: DerivedRange, force: boolean): Promise<boolean> =>
      withClient(async (c) => {
        const w = rangeWhere(range);
        const s = performance.now();
        try {
          // Confirmed or dismissed entries stay; an open one is not re-opened over them.
          const [, , gone] = await copyOut(
            c,
            `BEGIN; SET LOCAL synchronous_commit = off;
             COPY (DELETE FROM chronic_registry WHERE ${w} RETURNING patient_id, disease, updated_at) TO STDOUT;
             DELETE FROM chronic_visit_eval WHERE ${w};
             DELETE FROM chronic_confirmation WHERE ${w} AND status = 'open'` +
              (d.confirmations.length
                ? `; INSERT INTO chronic_confirmation (patient_id, disease, reason, detected_on, status) VALUES ${d.confirmations.join(', ')} ON CONFLICT DO NOTHING`
                : ''),
          );
          const now = registryKeys(rawRows(gone!));
          if (now !== d.registryKeys && !force) {
            await c.query('ROLLBACK');
            return false;
          }
          if (d.registry) await db.copyFrom(c, 'chronic_registry', [...REGISTRY_COLUMNS], d.registry);
          if (d.evals) await db.copyFrom(c, 'chronic_visit_eval', [...EVAL_COLUMNS], d.evals);
          const u = performance.now();
          phases.write += u - s;
          await c.query('COMMIT');
          phases.commit += performance.now() - u;
          return true;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });

    let residents = 0;
    let chunks = 0;
    const loop = async () => {
      try {
        await rangesInTurn();
      } catch (err) {
        // The other loops stop at their next range; the first error is the one reported.
        failure ??= err;
      }
    };
    const rangesInTurn = async () => {
      for (let got = await readNext(); got; got = await readNext()) {
        let texts = got.texts;
        for (let attempt = 1; ; attempt++) {
          const s = performance.now();
          const d = await derive.derive(texts);
          phases.derive += performance.now() - s;
          if (await write(got.range, d, attempt >= MAX_ATTEMPTS)) {
            residents += d.residents;
            rowsSeen += d.drivingRows;
            residentsSeen += d.derived;
            chunks++;
            options.onProgress?.(rowsSeen, Math.max(rowsSeen, estimatedRows));
            break;
          }
          texts = (await read(got.range, false)).texts;
        }
      }
    };
    await Promise.all(Array.from({ length: loops }, loop));
    if (failure !== undefined) throw failure;
    // The derived tables were rewritten: without fresh statistics the planner takes them for
    // what they were before (empty after a first load), and the indicators' plans go wrong.
    t = performance.now();
    await analyzeTables(withClient, ['chronic_registry', 'chronic_visit_eval', 'chronic_confirmation'], db.kind);
    phases.commit += performance.now() - t;
    return { residents, chunks };
  } finally {
    await deriver?.close();
    await extra.close();
  }
}
