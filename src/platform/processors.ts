/**
 * Change-log processors: each follows resource_history by seq with its own cursor in
 * processor_cursor, so it catches up after a restart and sees every write exactly once in
 * order (at-least-once delivery: handlers must be idempotent). Writers call `poke()` after
 * committing so processors react within milliseconds instead of waiting for the next poll.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Database } from './db.js';

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
  /** Handles a batch inside one transaction together with the cursor update. */
  handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void>;
}

/**
 * Changes per step. On PostgreSQL the processors have a thread of their own, and larger steps
 * spread each step's fixed cost (cursor, transaction, the identity candidate query) over more
 * changes; on PGlite they share the event loop with intake, and a step holds it.
 */
const BATCH = { postgres: 2000, pglite: 500 } as const;

/** What the server and its modules do with the processors, whether they run here or in the processor thread. */
export interface ProcessorControl {
  start(): void;
  /** A write has committed: look at the log now instead of at the next poll. */
  poke(): void;
  /** Changes the slowest processor has yet to see. */
  lag(): Promise<number>;
  /** Runs every processor until it has caught up with the log. */
  drain(): Promise<void>;
  /** Stops following the log (drain still works). */
  stop(): Promise<void>;
}

export class ProcessorRunner implements ProcessorControl {
  private processors: Processor[] = [];
  private running = false;
  /** One wake-up per running loop: a poke wakes them all. */
  private readonly wakes = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private pokes = 0;

  constructor(
    private readonly db: Database,
    private readonly pollMs = 1000,
    /** Pause after a step that caught up while writes keep coming; a lone write is handled at once. */
    private readonly settleMs = 200,
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

  /** Changes the slowest processor has yet to see (status pages, the MLLP bench). */
  async lag(): Promise<number> {
    const r = await this.db.query<{ lag: string | null }>(
      'SELECT (SELECT max(seq) FROM resource_history) - (SELECT min(last_seq) FROM processor_cursor WHERE processor = ANY($1::text[])) AS lag',
      [this.processors.map((p) => p.name)],
    );
    return Math.max(0, Number(r.rows[0]?.lag ?? 0));
  }

  /** Runs every processor until it has caught up with the log (tests, CLI). */
  async drain(): Promise<void> {
    for (const p of this.processors) while ((await this.step(p)) > 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakes) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async follow(p: Processor): Promise<void> {
    while (this.running) {
      let worked = 0;
      try {
        worked = await this.step(p);
      } catch (err) {
        console.error(`[processor ${p.name}] failed, will retry:`, (err as Error).message);
      }
      // On PGlite a query never leaves the process: four loops with work would chain promise after
      // promise and starve the event loop (no HTTP, no MLLP). Yield to it between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.running || worked >= BATCH[this.db.kind]) continue;
      if (worked > 0) {
        // Caught up while writes keep coming (a burst of HL7 messages): let them gather for a
        // moment, so they are taken in one transaction instead of a dozen small ones.
        await new Promise<void>((resolve) => setTimeout(resolve, this.settleMs));
        continue;
      }
      const seen = this.pokes;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.wakes.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, this.pollMs);
        this.wakes.add(wake);
        if (this.pokes !== seen) wake();
      });
    }
  }

  /**
   * Processes one batch for one processor; returns how many changes it consumed.
   *
   * Sequence numbers are taken when a row is inserted but become visible at commit, so a
   * transaction with an earlier seq can commit after one with a later seq. The cursor would pass
   * it by; instead the numbers skipped over are kept as gaps and looked for again on every step
   * until they appear (a late commit: processed then) or are older than GAP_TTL_MS (a rollback).
   */
  private async step(p: Processor): Promise<number> {
    return this.db.transaction(async (client) => {
      await client.query('INSERT INTO processor_cursor (processor, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [p.name]);
      const cur = await client.query<{ last_seq: number; gaps: Gap[] }>(
        'SELECT last_seq, gaps FROM processor_cursor WHERE processor = $1 FOR UPDATE',
        [p.name],
      );
      const last = cur.rows[0]!.last_seq;
      const now = Date.now();
      let gaps = (cur.rows[0]!.gaps ?? []).filter((g) => now - g[2] < GAP_TTL_MS);
      type Row = { seq: number; resource_type: string; id: string; version_id: number; deleted: boolean; content: Resource | null };
      // Every seq is read (the gap bookkeeping needs them all), content only for the types this
      // processor wants: four processors would otherwise each fetch and parse every resource.
      const columns = 'seq, resource_type, id, version_id, deleted, CASE WHEN resource_type = ANY($1::text[]) THEN content END AS content';
      const rows = await client.query<Row>(
        `SELECT ${columns} FROM resource_history WHERE seq > $2 ORDER BY seq LIMIT ${BATCH[this.db.kind]}`,
        [p.types, last],
      );
      let late: Row[] = [];
      if (gaps.length) {
        const where = gaps.map((_, i) => `seq BETWEEN $${2 * i + 2} AND $${2 * i + 3}`).join(' OR ');
        late = (
          await client.query<Row>(`SELECT ${columns} FROM resource_history WHERE ${where} ORDER BY seq`, [
            p.types,
            ...gaps.flatMap((g) => [g[0], g[1]]),
          ])
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
        return 0;
      }
      const wanted = all
        .filter((r) => p.types.includes(r.resource_type))
        .map((r) => ({ seq: r.seq, type: r.resource_type, id: r.id, versionId: r.version_id, deleted: r.deleted, resource: r.content }));
      if (wanted.length) await p.handle(wanted, client);
      await client.query('UPDATE processor_cursor SET last_seq = $2, gaps = $3, updated_at = now() WHERE processor = $1', [
        p.name,
        rows.rows.at(-1)?.seq ?? last,
        JSON.stringify(gaps),
      ]);
      return all.length;
    });
  }
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
