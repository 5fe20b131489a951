/**
 * Counts kept as records arrive. An indicator query answered from the summaries (summarySums: a
 * pass over a programme's stored rows and, for a screening of everyone of an age, its population)
 * keeps its answer, numerators and denominators by group, in prog_count_cache. Every writer of
 * derived rows (the change-log processor, the periodic refresh, enrolment and statuses by hand)
 * opens a CountKeeper in its transaction: before its residents' rows change it counts what they
 * add to each kept answer, after the change it counts again, and adds the difference. The same
 * query asked again reads one row. The full recompute and a bulk load of facts forget every answer
 * (store.ts FORGET_COUNTS).
 *
 * Why this is exact: an answer is a sum over residents, and a resident's part depends only on
 * their own rows (prog_enrolment, prog_person), which only those writers change, under one lock.
 * A query's first answer is kept only when no writer committed while it was computed: it reads
 * prog_count_gen first, and inserts only if the row still holds that value and no writer holds it
 * (each writer bumps it first thing, and keeps its row lock until it commits).
 *
 * Not kept: answers by family-doctor team (the team comes from contracts, which chronic care
 * writes without a CountKeeper); figures of survival indicators (store.ts survivalSql reads a
 * status 死亡 set by hand from prog_registration, which the registry routes write before their
 * CountKeeper counts "before": a kept answer would miss the change), counted afresh each time
 * beside the kept answer of the programme's other indicators. Answers nobody asked for lately,
 * past the most recently asked (COUNT_CACHE), or of a programme definition no longer loaded are
 * dropped by the next writer.
 */
import crypto from 'node:crypto';
import type { Sql } from '../services.js';
import { indicatorsOn, readsSurvival, type Indicator, type Programme } from './definition.js';
import { countsOfSums, DERIVE_LOCK, summarySums, type CountKeeper, type SummaryQuery } from './store.js';

/**
 * maxEntries, keepHours: which answers are kept (most recently asked). deltaBudget: past this many
 * residents × kept answers in one write (a bulk load, the first catch-up after a start), the write
 * forgets every kept answer instead of counting its residents twice for each: one resident costs an
 * index probe per answer (about 0.5 ms for the 300 residents × 6 answers of a 1,000,000 district),
 * and a query counted afresh costs about a second.
 */
export const COUNT_CACHE = { maxEntries: 48, keepHours: 36, deltaBudget: 12_000 } as const;

type Sums = Map<string, number[]>;

/** The query of a kept answer, as stored (prog_count_cache.query). */
interface KeptQuery {
  /** code@version of each indicator, in order (an answer's columns are d0, n0, d1, n1, … in this order). */
  indicators: string[];
  q: SummaryQuery;
}

const definitions = new WeakMap<Programme, string>();
/** A digest of a programme's definition: an answer is kept for the definition it was counted by. */
function definitionOf(p: Programme): string {
  let d = definitions.get(p);
  if (!d) {
    d = crypto.createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 32);
    definitions.set(p, d);
  }
  return d;
}

function keptQuery(indicators: Indicator[], q: SummaryQuery): KeptQuery {
  return {
    indicators: indicators.map((i) => `${i.code}@${i.version}`),
    q: {
      from: q.from,
      until: q.until,
      asOf: q.asOf,
      groupBy: q.groupBy,
      area: q.area ?? undefined,
      organization: q.organization ?? undefined,
    },
  };
}

const keyOf = (p: Programme, query: KeptQuery) =>
  crypto
    .createHash('sha256')
    .update(`${p.code}\n${definitionOf(p)}\n${JSON.stringify(query)}`)
    .digest('hex');

const sumsOf = (json: Record<string, number[]>): Sums => new Map(Object.entries(json));
const jsonOf = (sums: Sums): Record<string, number[]> => Object.fromEntries(sums);

/**
 * Denominators and numerators of indicators by group, as summarySums counts them: a kept answer
 * when there is one, else counted and kept.
 */
export async function summaryCounts(
  db: Sql,
  p: Programme,
  indicators: Indicator[],
  q: SummaryQuery,
): Promise<Map<string, { group: string; numerator: number; denominator: number }[]>> {
  if (!indicators.length || q.groupBy === 'team') return countsOfSums(indicators, await summarySums(db, p, indicators, q));
  const fresh = indicators.filter(readsSurvival);
  if (fresh.length) {
    const kept = indicators.filter((i) => !readsSurvival(i));
    const [a, b] = [await summaryCounts(db, p, kept, q), countsOfSums(fresh, await summarySums(db, p, fresh, q))];
    return new Map(indicators.map((i) => [i.code, (a.get(i.code) ?? b.get(i.code))!]));
  }
  const query = keptQuery(indicators, q);
  const key = keyOf(p, query);
  const kept = await db.query<{ counts: Record<string, number[]>; stale: boolean }>(
    `SELECT counts, used_at < now() - interval '10 minutes' AS stale FROM prog_count_cache WHERE key = $1`,
    [key],
  );
  if (kept.rows[0]) {
    // When it was last asked (what keeps it), noted at most every ten minutes and never waiting for a writer.
    if (kept.rows[0].stale)
      await db.query(
        `UPDATE prog_count_cache SET used_at = now() WHERE key = (SELECT key FROM prog_count_cache WHERE key = $1 FOR UPDATE SKIP LOCKED)`,
        [key],
      );
    return countsOfSums(indicators, sumsOf(kept.rows[0].counts));
  }
  const gen = (await db.query<{ gen: string }>(`SELECT gen FROM prog_count_gen`)).rows[0]?.gen;
  const sums = await summarySums(db, p, indicators, q);
  if (gen !== undefined)
    await db.query(
      `INSERT INTO prog_count_cache (key, programme, definition, query, counts)
       SELECT $1, $2, $3, $4::jsonb, $5::jsonb FROM prog_count_gen WHERE gen = $6::bigint FOR SHARE SKIP LOCKED
       ON CONFLICT (key) DO NOTHING`,
      [key, p.code, definitionOf(p), JSON.stringify(query), JSON.stringify(jsonOf(sums)), gen],
    );
  return countsOfSums(indicators, sums);
}

interface Entry {
  key: string;
  p: Programme;
  indicators: Indicator[];
  q: SummaryQuery;
  delta: Sums;
}

const add = (into: Sums, sums: Sums, sign: 1 | -1) => {
  for (const [g, values] of sums) {
    const acc = into.get(g) ?? values.map(() => 0);
    values.forEach((v, i) => (acc[i] = (acc[i] ?? 0) + sign * v));
    into.set(g, acc);
  }
};

/**
 * Opens the keeping of counts in a writer's transaction (call it before any derived row of the
 * change is written): takes the writers' lock, bumps prog_count_gen and drops answers no longer
 * kept. Nothing is counted when no answer is kept.
 */
export async function keepCounts(client: Sql, programmes: Programme[]): Promise<CountKeeper> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [DERIVE_LOCK]);
  await client.query('UPDATE prog_count_gen SET gen = gen + 1');
  await client.query(
    `DELETE FROM prog_count_cache WHERE used_at < now() - make_interval(hours => $1::int)
        OR key IN (SELECT key FROM prog_count_cache ORDER BY used_at DESC OFFSET $2::int)`,
    [COUNT_CACHE.keepHours, COUNT_CACHE.maxEntries],
  );
  const rows = (
    await client.query<{ key: string; programme: string; definition: string; query: KeptQuery }>(
      `SELECT key, programme, definition, query FROM prog_count_cache`,
    )
  ).rows;
  const entries: Entry[] = [];
  const dropped: string[] = [];
  for (const r of rows) {
    const p = programmes.find((x) => x.code === r.programme);
    const indicators = p && definitionOf(p) === r.definition ? indicatorsOn(p, r.query.q.until) : [];
    const chosen = r.query.indicators.map((iv) => indicators.find((i) => `${i.code}@${i.version}` === iv));
    if (!p || !chosen.length || chosen.some((i) => !i)) dropped.push(r.key);
    else entries.push({ key: r.key, p, indicators: chosen as Indicator[], q: r.query.q, delta: new Map() });
  }
  if (dropped.length) await client.query(`DELETE FROM prog_count_cache WHERE key = ANY($1::text[])`, [dropped]);
  const seen = new Set<string>();
  return {
    async before(patientIds) {
      const fresh = [...new Set(patientIds)].filter((id) => !seen.has(id));
      if (!entries.length || !fresh.length) return;
      for (const id of fresh) seen.add(id);
      if (seen.size * entries.length > COUNT_CACHE.deltaBudget) {
        await client.query('DELETE FROM prog_count_cache');
        entries.length = 0;
        return;
      }
      for (const e of entries) add(e.delta, await summarySums(client, e.p, e.indicators, e.q, fresh), -1);
    },
    async after() {
      if (!entries.length || !seen.size) return;
      const ids = [...seen];
      for (const e of entries) add(e.delta, await summarySums(client, e.p, e.indicators, e.q, ids), 1);
      const changed = entries.filter((e) => [...e.delta.values()].some((v) => v.some((x) => x !== 0)));
      if (!changed.length) return;
      const current = await client.query<{ key: string; counts: Record<string, number[]> }>(
        `SELECT key, counts FROM prog_count_cache WHERE key = ANY($1::text[])`,
        [changed.map((e) => e.key)],
      );
      const updates = current.rows.map((r) => {
        const sums = sumsOf(r.counts);
        add(sums, changed.find((e) => e.key === r.key)!.delta, 1);
        return { key: r.key, counts: jsonOf(sums) };
      });
      await client.query(
        `UPDATE prog_count_cache c SET counts = x.counts FROM json_to_recordset($1::json) AS x(key text, counts jsonb) WHERE c.key = x.key`,
        [JSON.stringify(updates)],
      );
    },
  };
}
