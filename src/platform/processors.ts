/**
 * Change-log processors: each follows resource_history by seq with its own cursor in
 * processor_cursor, so it catches up after a restart and sees every write exactly once in
 * order (at-least-once delivery: handlers must be idempotent). Writers call `poke()` after
 * committing so processors react within milliseconds instead of waiting for the next poll.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { afterRequests, isConnectionError, type Database, type Queryable } from './db.js';

export interface ChangeRecord {
  seq: number;
  type: string;
  id: string;
  versionId: number;
  deleted: boolean;
  resource: Resource | null;
}

export interface Processor {
  name: string;
  /** Resource types this processor wants (others advance its cursor without a call). */
  types: string[];
  /**
   * The types whose content the processor reads (default: all of `types`); the others come with
   * `resource: null`, for a processor that needs only which resources changed (a high-volume type's
   * content is then not fetched and parsed at every step).
   */
  contentTypes?: string[];
  /** Handles a batch inside one transaction together with the cursor update. */
  handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void>;
}

/**
 * Changes per step. On PostgreSQL the processors have a thread of their own, and larger steps
 * spread each step's fixed cost (cursor, transaction, the identity candidate query) over more
 * changes; on PGlite they share the event loop with intake, and a step holds it.
 */
const BATCH = { postgres: 2000, pglite: 500 } as const;

/** lag(): up to this many log entries behind, the changes a processor wants are counted one by one. */
const LAG_EXACT_UP_TO = 50_000;

/**
 * Poison records: a change a processor fails on is retried alone after 2, 4, 8 and 16 s, then
 * parked in processor_dead_letter with its error (about 30 s after the first failure), and the
 * processor moves on. A loss of the database is not the record's fault: the whole step is
 * retried after a backoff (1 s doubling to 30 s) and nothing is parked.
 */
export interface PoisonPolicy {
  maxAttempts: number;
  firstRetryMs: number;
  retriesPerStep: number;
  checkEveryMs: number;
}
export const POISON: PoisonPolicy = { maxAttempts: 5, firstRetryMs: 2000, retriesPerStep: 50, checkEveryMs: 2000 };
const OUTAGE_BACKOFF = { firstMs: 1000, maxMs: 30_000 } as const;

/** What the server and its modules do with the processors, whether they run here or in the processor thread. */
export interface ProcessorControl {
  start(): void;
  /** A write has committed: look at the log now instead of at the next poll. */
  poke(): void;
  /** Changes the slowest processor has yet to see. */
  lag(): Promise<number>;
  /** Each processor's lag, in the order they were added (status pages). */
  lags(): Promise<ProcessorLag[]>;
  /** Runs every processor until it has caught up with the log. */
  drain(): Promise<void>;
  /** Stops following the log (drain still works). */
  stop(): Promise<void>;
}

/** How far one processor is behind the log. */
export interface ProcessorLag {
  name: string;
  /** Changes of its types past its cursor; when `capped`, the log entries past it (all types). */
  lag: number;
  /** Behind by more than LAG_EXACT_UP_TO entries: `lag` is the distance, not a count. */
  capped: boolean;
}

export class ProcessorRunner implements ProcessorControl {
  private processors: Processor[] = [];
  private running = false;
  /** One wake-up per running loop: a poke wakes them all. */
  private readonly wakes = new Set<() => void>();
  /** Sleepers in an outage backoff: woken by stop() only. */
  private readonly stopWakes = new Set<() => void>();
  private readonly retryChecked = new Map<string, number>();
  private loops: Promise<void>[] = [];
  private pokes = 0;

  constructor(
    private readonly db: Database,
    private readonly pollMs = 1000,
    /** Pause after a step that caught up while writes keep coming; a lone write is handled at once. */
    private readonly settleMs = 200,
    /** Poison-record timing (tests shorten it). */
    private readonly poison: PoisonPolicy = POISON,
  ) {}

  add(p: Processor): void {
    this.processors.push(p);
  }

  /**
   * Each processor follows the log in its own loop, on its own connection: while one waits for
   * the database (identity linkage does, for most of its time) the others work, so a burst's
   * derived data catches up in the time of the slowest processor rather than the sum of all.
   */
  start(): void {
    if (this.running || !this.processors.length) return;
    this.running = true;
    this.loops = this.processors.map((p) => this.follow(p));
  }

  poke(): void {
    this.pokes++;
    for (const wake of this.wakes) wake();
  }

  /**
   * Changes some processor has yet to handle (status pages, the benches' "caught up"): past each
   * processor's cursor, of the types it wants, the largest count. Changes of other types (the
   * audit trail's AuditEvents, written on every request) are passed over at the processor's next
   * poll and handled by none, so they do not count. Behind by more than LAG_EXACT_UP_TO log
   * entries, the count is that distance (a backlog's size, read off the two ends of the log).
   */
  async lag(): Promise<number> {
    return Math.max(0, ...(await this.lags()).map((l) => l.lag));
  }

  /**
   * lag() per processor. Bounded whatever the store's size: the newest seq is read off the primary
   * key, and the processors within LAG_EXACT_UP_TO of it share one walk of the seq index from the
   * furthest behind of them, at most that many entries (each entry's heap row is visited for its
   * type, which the index lacks). With 13 processors 50,000 entries behind that is 60 ms on
   * PostgreSQL and 110 ms on PGlite; a walk per processor visited the same rows once for each of
   * them (0.47 s and 0.8 s, PGlite's one session held all along). Further behind, 1 ms.
   */
  async lags(): Promise<ProcessorLag[]> {
    if (!this.processors.length) return [];
    const r = await this.db.query<{ name: string; lag: string; capped: boolean }>(
      `WITH c AS (
         SELECT p.name, p.i, string_to_array(p.types, ',') AS types, coalesce(k.last_seq, 0) AS last_seq
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(name, types, i)
         LEFT JOIN processor_cursor k ON k.processor = p.name
       ), top AS (SELECT coalesce(max(seq), 0) AS s FROM resource_history),
       near AS (SELECT DISTINCT c.i, t.type, c.last_seq FROM c CROSS JOIN top CROSS JOIN unnest(c.types) AS t(type) WHERE top.s - c.last_seq <= ${LAG_EXACT_UP_TO}),
       recent AS (
         SELECT h.seq, h.resource_type FROM resource_history h, top
         WHERE h.seq > (SELECT min(last_seq) FROM near) AND h.seq <= top.s
       ),
       counted AS (
         SELECT near.i, count(*) AS n FROM near JOIN recent ON recent.resource_type = near.type AND recent.seq > near.last_seq
         GROUP BY near.i
       )
       SELECT c.name, top.s - c.last_seq > ${LAG_EXACT_UP_TO} AS capped,
              CASE WHEN top.s - c.last_seq > ${LAG_EXACT_UP_TO} THEN top.s - c.last_seq ELSE coalesce(counted.n, 0) END AS lag
       FROM c CROSS JOIN top LEFT JOIN counted ON counted.i = c.i ORDER BY c.i`,
      [this.processors.map((p) => p.name), this.processors.map((p) => p.types.join(','))],
    );
    return r.rows.map((row) => ({ name: row.name, lag: Math.max(0, Number(row.lag)), capped: row.capped }));
  }

  /** Runs every processor until it has caught up with the log (tests, CLI). */
  async drain(): Promise<void> {
    for (const p of this.processors) {
      while ((await this.step(p)).seen > 0);
      await this.retryFailures(p);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakes.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      // stop() wakes sleepers; a poke does not cut an outage backoff short.
      if (!this.running) wake();
      else this.stopWakes.add(wake);
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakes) wake();
    for (const wake of this.stopWakes) wake();
    this.stopWakes.clear();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async follow(p: Processor): Promise<void> {
    let outageMs = 0;
    while (this.running) {
      let worked: number;
      let wanted: number;
      // A poke that comes while the step runs wakes the sleep below at once: the step may have read
      // the log before that write committed.
      const seen = this.pokes;
      try {
        // Requests first (PGlite's one session): a step that waits a few ms costs nothing.
        await afterRequests(this.db);
        ({ seen: worked, wanted } = await this.step(p));
        // Failed changes are looked at every couple of seconds, not on every step of a burst.
        if (Date.now() - (this.retryChecked.get(p.name) ?? 0) >= this.poison.checkEveryMs) {
          this.retryChecked.set(p.name, Date.now());
          const retried = await this.retryFailures(p);
          worked += retried;
          wanted += retried;
        }
        outageMs = 0;
      } catch (err) {
        // Only the database failing reaches here (a record's failure is parked in the step):
        // back off, then resume from the cursor.
        outageMs = Math.min(OUTAGE_BACKOFF.maxMs, outageMs ? outageMs * 2 : OUTAGE_BACKOFF.firstMs);
        console.error(
          `[processor ${p.name}] ${isConnectionError(err) ? 'database unavailable' : 'failed'}; retrying in ${outageMs / 1000} s:`,
          (err as Error).message,
        );
        await this.sleep(outageMs);
        continue;
      }
      // On PGlite a query never leaves the process: four loops with work would chain promise after
      // promise and starve the event loop (no HTTP, no MLLP). Yield to it between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.running || worked >= BATCH[this.db.kind]) continue;
      // Only changes of other types (the audit trail's AuditEvents, written on every request):
      // the cursor moved past them, and nothing is gained by looking again before the next poll.
      // Settling on them made every processor step five times a second while a desk was asking,
      // each step a transaction on PGlite's one session between the desk's statements.
      if (worked > 0 && wanted > 0) {
        // Caught up while writes keep coming (a burst of HL7 messages): let them gather for a
        // moment, so they are taken in one transaction instead of a dozen small ones.
        await new Promise<void>((resolve) => setTimeout(resolve, this.settleMs));
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakes.delete(wake);
          resolve();
        };
        // Spread over ±25 % of the poll: loops started together would otherwise poll together, a
        // burst of transactions that a request arriving then waits behind.
        const timer = setTimeout(wake, this.pollMs * (0.75 + Math.random() / 2));
        this.wakes.add(wake);
        if (this.pokes !== seen) wake();
      });
    }
  }

  /**
   * Retries the processor's failed changes that are due, each alone: handled → resolved; a later
   * version of the record was handled since → superseded; failed again → retried later, or
   * parked after this.poison.maxAttempts. Returns how many it looked at.
   */
  private async retryFailures(p: Processor): Promise<number> {
    return this.db.transaction(async (client) => {
      type Due = { seq: number; resource_type: string; resource_id: string; version_id: number; attempts: number };
      const due = await client.query<Due>(
        `SELECT seq, resource_type, resource_id, version_id, attempts FROM processor_dead_letter
         WHERE processor = $1 AND status = 'retrying' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT ${this.poison.retriesPerStep} FOR UPDATE SKIP LOCKED`,
        [p.name],
      );
      for (const d of due.rows) {
        const newer = await client.query(
          `SELECT 1 FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id > $3 LIMIT 1`,
          [d.resource_type, d.resource_id, d.version_id],
        );
        if (newer.rows.length) {
          await client.query(
            `UPDATE processor_dead_letter SET status = 'superseded', next_attempt_at = NULL WHERE processor = $1 AND seq = $2`,
            [p.name, d.seq],
          );
          continue;
        }
        const row = await client.query<{ deleted: boolean; content: Resource | null }>(
          `SELECT deleted, content FROM resource_history WHERE seq = $1`,
          [d.seq],
        );
        const change: ChangeRecord = {
          seq: d.seq,
          type: d.resource_type,
          id: d.resource_id,
          versionId: d.version_id,
          deleted: row.rows[0]?.deleted ?? true,
          resource: row.rows[0]?.content ?? null,
        };
        const failure = await handleOne(p, change, client);
        if (failure === undefined) {
          await client.query(
            `UPDATE processor_dead_letter SET status = 'resolved', next_attempt_at = NULL WHERE processor = $1 AND seq = $2`,
            [p.name, d.seq],
          );
        } else {
          const attempts = d.attempts + 1;
          const park = attempts >= this.poison.maxAttempts;
          if (park)
            console.error(
              `[processor ${p.name}] ${d.resource_type}/${d.resource_id} (seq ${d.seq}) parked after ${attempts} attempts: ${failure}`,
            );
          await client.query(
            `UPDATE processor_dead_letter SET attempts = $3, error = $4, last_failed_at = now(), status = $5,
               next_attempt_at = CASE WHEN $5 = 'parked' THEN NULL ELSE now() + make_interval(secs => $6) END
             WHERE processor = $1 AND seq = $2`,
            [p.name, d.seq, attempts, failure, park ? 'parked' : 'retrying', (this.poison.firstRetryMs / 1000) * 2 ** (attempts - 1)],
          );
        }
      }
      return due.rows.length;
    });
  }

  /**
   * Processes one batch for one processor; returns how many changes it consumed (`seen`) and how
   * many of them were of its types (`wanted`).
   *
   * Sequence numbers are taken when a row is inserted but become visible at commit, so a
   * transaction with an earlier seq can commit after one with a later seq. The cursor would pass
   * it by; instead the numbers skipped over are kept as gaps and looked for again on every step
   * until they appear (a late commit: processed then) or are older than GAP_TTL_MS (a rollback).
   */
  private async step(p: Processor): Promise<{ seen: number; wanted: number }> {
    return this.db.transaction(async (client) => {
      const cursor = () =>
        client.query<{ last_seq: number; gaps: Gap[] }>('SELECT last_seq, gaps FROM processor_cursor WHERE processor = $1 FOR UPDATE', [
          p.name,
        ]);
      // The cursor row is made when missing, not asked for on every step (an idle step is then
      // BEGIN, the cursor, the log and COMMIT).
      let cur = await cursor();
      if (!cur.rows.length) {
        await client.query('INSERT INTO processor_cursor (processor, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [p.name]);
        cur = await cursor();
      }
      const last = cur.rows[0]!.last_seq;
      const now = Date.now();
      let gaps = (cur.rows[0]!.gaps ?? []).filter((g) => now - g[2] < GAP_TTL_MS);
      type Row = { seq: number; resource_type: string; id: string; version_id: number; deleted: boolean; content: Resource | null };
      // Every seq is read (the gap bookkeeping needs them all), content only for the types this
      // processor wants: four processors would otherwise each fetch and parse every resource.
      const columns = 'seq, resource_type, id, version_id, deleted, CASE WHEN resource_type = ANY($1::text[]) THEN content END AS content';
      const rows = await client.query<Row>(
        `SELECT ${columns} FROM resource_history WHERE seq > $2 ORDER BY seq LIMIT ${BATCH[this.db.kind]}`,
        [p.contentTypes ?? p.types, last],
      );
      let late: Row[] = [];
      if (gaps.length) {
        // One index probe per open gap, whatever their number and the table's size. (An OR of up
        // to 200 BETWEENs became a scan of the whole history, repeated by every processor on every
        // step, slower as the district grew.) OFFSET 0 keeps the lateral subquery from being pulled
        // up into a plain range join: planned generically, that join walked the whole seq index in
        // order to spare a sort (312 ms on a million rows against 0.2 ms for the probes), which
        // halved four clients' Bundle throughput on a store with a million history rows.
        late = (
          await client.query<Row>(
            `SELECT h.seq, h.resource_type, h.id, h.version_id, h.deleted,
                    CASE WHEN h.resource_type = ANY($1::text[]) THEN h.content END AS content
             FROM unnest($2::bigint[], $3::bigint[]) AS g(lo, hi)
             CROSS JOIN LATERAL (SELECT * FROM resource_history WHERE seq BETWEEN g.lo AND g.hi OFFSET 0) h
             ORDER BY h.seq`,
            [p.contentTypes ?? p.types, gaps.map((g) => g[0]), gaps.map((g) => g[1])],
          )
        ).rows;
        gaps = subtractSeqs(
          gaps,
          late.map((r) => r.seq),
        );
      }
      // numbers passed over by this batch become gaps
      let expected = last + 1;
      for (const r of rows.rows) {
        if (r.seq > expected) gaps.push([expected, r.seq - 1, now]);
        expected = r.seq + 1;
      }
      if (gaps.length > MAX_GAPS) gaps = gaps.slice(-MAX_GAPS);
      const all = [...late, ...rows.rows];
      if (!all.length) {
        if (gaps.length !== (cur.rows[0]!.gaps ?? []).length)
          await client.query('UPDATE processor_cursor SET gaps = $2 WHERE processor = $1', [p.name, JSON.stringify(gaps)]);
        return { seen: 0, wanted: 0 };
      }
      const wanted = all
        .filter((r) => p.types.includes(r.resource_type))
        .map((r) => ({ seq: r.seq, type: r.resource_type, id: r.id, versionId: r.version_id, deleted: r.deleted, resource: r.content }));
      if (wanted.length) await handleIsolatingPoison(p, wanted, client, this.poison.firstRetryMs);
      await client.query('UPDATE processor_cursor SET last_seq = $2, gaps = $3, updated_at = now() WHERE processor = $1', [
        p.name,
        rows.rows.at(-1)?.seq ?? last,
        JSON.stringify(gaps),
      ]);
      return { seen: all.length, wanted: wanted.length };
    });
  }
}

/**
 * Hands a batch to the processor; if it fails for a reason other than the database, the changes
 * are handed over one at a time (each in a savepoint) and the ones that fail are recorded for
 * retry, so one bad record never holds the rest of the district's changes back.
 */
async function handleIsolatingPoison(p: Processor, changes: ChangeRecord[], client: pg.PoolClient, firstRetryMs: number): Promise<void> {
  await client.query('SAVEPOINT processor_batch');
  try {
    await p.handle(changes, client);
    await client.query('RELEASE SAVEPOINT processor_batch');
    return;
  } catch (err) {
    if (isConnectionError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT processor_batch');
  }
  for (const c of changes) {
    const failure = await handleOne(p, c, client);
    if (failure !== undefined) await recordFailure(client, p.name, c, failure, firstRetryMs);
  }
}

/** One change in a savepoint: undefined when handled, else the error message. */
async function handleOne(p: Processor, c: ChangeRecord, client: pg.PoolClient): Promise<string | undefined> {
  await client.query('SAVEPOINT processor_change');
  try {
    await p.handle([c], client);
    await client.query('RELEASE SAVEPOINT processor_change');
    return undefined;
  } catch (err) {
    if (isConnectionError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT processor_change');
    const e = err as { message?: string; code?: string };
    return `${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}`.slice(0, 2000);
  }
}

async function recordFailure(client: Queryable, processor: string, c: ChangeRecord, error: string, firstRetryMs: number): Promise<void> {
  console.error(`[processor ${processor}] ${c.type}/${c.id} (seq ${c.seq}) failed; will retry alone: ${error}`);
  await client.query(
    `INSERT INTO processor_dead_letter (processor, seq, resource_type, resource_id, version_id, error, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
     ON CONFLICT (processor, seq) DO UPDATE SET status = 'retrying', error = excluded.error, last_failed_at = now(),
       attempts = processor_dead_letter.attempts + 1, next_attempt_at = excluded.next_attempt_at`,
    [processor, c.seq, c.type, c.id, c.versionId, error, firstRetryMs / 1000],
  );
}

/** [first seq, last seq, first seen (ms since epoch)] */
type Gap = [number, number, number];

/** How long a skipped sequence number is waited for before it counts as a rolled-back write. */
const GAP_TTL_MS = 10 * 60_000;
/** Most gap ranges kept per processor (the oldest are dropped first). */
const MAX_GAPS = 200;

/** The gap ranges without the given sequence numbers (found since). */
export function subtractSeqs(gaps: Gap[], found: number[]): Gap[] {
  if (!found.length) return gaps;
  const seen = new Set(found);
  const out: Gap[] = [];
  for (const [from, to, since] of gaps) {
    let start = from;
    for (const s of [...seen].filter((x) => x >= from && x <= to).sort((a, b) => a - b)) {
      if (s > start) out.push([start, s - 1, since]);
      start = s + 1;
    }
    if (start <= to) out.push([start, to, since]);
  }
  return out;
}
