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

const BATCH = 500;

export class ProcessorRunner {
  private processors: Processor[] = [];
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private pokes = 0;

  constructor(private readonly db: Database, private readonly pollMs = 1000) {}

  add(p: Processor): void {
    this.processors.push(p);
  }

  start(): void {
    if (this.running || !this.processors.length) return;
    this.running = true;
    this.loop = this.run();
  }

  poke(): void {
    this.pokes++;
    this.wake?.();
  }

  /** Runs every processor until it has caught up with the log (tests, CLI). */
  async drain(): Promise<void> {
    for (const p of this.processors) while ((await this.step(p)) > 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = 0;
      for (const p of this.processors) {
        try {
          worked += await this.step(p);
        } catch (err) {
          console.error(`[processor ${p.name}] failed, will retry:`, (err as Error).message);
        }
      }
      if (worked === 0 && this.running) {
        const seen = this.pokes;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
          if (this.pokes !== seen) this.wake();
        });
        this.wake = undefined;
      }
    }
  }

  /** Processes one batch for one processor; returns how many changes it consumed. */
  private async step(p: Processor): Promise<number> {
    return this.db.transaction(async (client) => {
      await client.query('INSERT INTO processor_cursor (processor, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [p.name]);
      const cur = await client.query<{ last_seq: number }>('SELECT last_seq FROM processor_cursor WHERE processor = $1 FOR UPDATE', [p.name]);
      const last = cur.rows[0]!.last_seq;
      const rows = await client.query<{ seq: number; resource_type: string; id: string; version_id: number; deleted: boolean; content: Resource | null }>(
        `SELECT seq, resource_type, id, version_id, deleted, content FROM resource_history WHERE seq > $1 ORDER BY seq LIMIT ${BATCH}`,
        [last],
      );
      if (!rows.rows.length) return 0;
      const wanted = rows.rows
        .filter((r) => p.types.includes(r.resource_type))
        .map((r) => ({ seq: r.seq, type: r.resource_type, id: r.id, versionId: r.version_id, deleted: r.deleted, resource: r.content }));
      if (wanted.length) await p.handle(wanted, client);
      await client.query('UPDATE processor_cursor SET last_seq = $2, updated_at = now() WHERE processor = $1', [p.name, rows.rows.at(-1)!.seq]);
      return rows.rows.length;
    });
  }
}
