/**
 * Follows the feeds capability's uploads (feed_upload.id as a cursor in processor_cursor, like a
 * change-log processor) and folds the rows of each new upload into the signal counts. The feed
 * tables hold one row per class, day, reason and symptom; the counts want class-days, so the
 * follower re-reads every row of the class-days (pharmacy-days) the upload touched and hands
 * them to ingestAbsenceRows / ingestPharmacyRows, which move the counts by the difference.
 * If the feeds module is not installed (no feed_upload table) the follower does nothing.
 *
 * Why this is not one of the module's change-log processors: the processor machinery
 * (platform/processors.ts) follows resource_history, the FHIR change log, by seq; feed uploads
 * are not FHIR resources and never appear there, so a processor would never be handed them.
 * Following feed_upload.id through that machinery needs a processor source other than the
 * change log (a platform change). Until then the follower keeps its own cursor row in
 * processor_cursor, runs on the main thread and is poked after every non-GET request.
 */
import type { Database } from '../../platform/db.js';
import { PollingLoop } from '../../platform/polling-loop.js';
import type { TouchListener } from './counts.js';
import { ingestAbsenceRows, ingestPharmacyRows, ingestSentinelRows } from './feeds.js';

const CURSOR = 'surveillance-feeds';

export class FeedFollower {
  private readonly loop: PollingLoop;
  private available: boolean | undefined;
  private sentinel = false;

  constructor(
    private readonly db: Database,
    private readonly touch?: TouchListener,
    pollMs = 1000,
  ) {
    this.loop = new PollingLoop(() => this.drain(), pollMs, 'surveillance feeds');
  }

  start(): void {
    this.loop.start();
  }

  poke(): void {
    this.loop.poke();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Processes every upload not yet seen; returns how many. */
  async drain(): Promise<number> {
    if (this.available === undefined) {
      const r = await this.db.query(
        `SELECT 1 FROM information_schema.tables WHERE table_name IN ('feed_upload', 'feed_school_absence', 'feed_pharmacy_sales')`,
      );
      this.available = r.rows.length === 3;
      this.sentinel =
        (await this.db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'feed_sentinel_report'`)).rows.length === 1;
    }
    if (!this.available) return 0;
    let done = 0;
    for (;;) {
      const n = await this.db.transaction(async (c) => {
        await c.query('INSERT INTO processor_cursor (processor, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [CURSOR]);
        const last = (
          await c.query<{ last_seq: number }>('SELECT last_seq FROM processor_cursor WHERE processor = $1 FOR UPDATE', [CURSOR])
        ).rows[0]!.last_seq;
        const up = await c.query<{ id: number; feed: string }>('SELECT id, feed FROM feed_upload WHERE id > $1 ORDER BY id LIMIT 1', [
          last,
        ]);
        const u = up.rows[0];
        if (!u) return 0;
        if (u.feed === 'school-absenteeism') {
          const rows = await c.query<{
            school: string;
            class_code: string;
            day: string;
            enrolled: number;
            absent: number;
            illness: number;
          }>(
            `SELECT f.school_code AS school, f.class_code, f.date::text AS day, max(f.enrolled)::int AS enrolled, sum(f.absent)::int AS absent,
                    sum(f.absent) FILTER (WHERE f.reason = '病假')::int AS illness
             FROM feed_school_absence f
             WHERE (f.class_code, f.date) IN (SELECT class_code, date FROM feed_school_absence WHERE upload_id = $1)
             GROUP BY 1, 2, 3`,
            [u.id],
          );
          await ingestAbsenceRows(
            c,
            rows.rows.map((r) => ({
              school: r.school,
              classCode: r.class_code,
              day: r.day,
              enrolled: r.enrolled,
              absent: r.absent,
              illnessAbsent: r.illness ?? 0,
            })),
            this.touch,
          );
        } else if (u.feed === 'pharmacy-sales') {
          const rows = await c.query<{ pharmacy: string; category: string; day: string; units: number }>(
            `SELECT pharmacy_code AS pharmacy, category, date::text AS day, units FROM feed_pharmacy_sales WHERE upload_id = $1`,
            [u.id],
          );
          await ingestPharmacyRows(c, rows.rows, this.touch);
        } else if (u.feed === 'sentinel-reports' && this.sentinel) {
          const rows = await c.query<{ site: string; syndrome: string; day: string; cases: number }>(
            `SELECT site_code AS site, syndrome, date::text AS day, cases FROM feed_sentinel_report WHERE upload_id = $1`,
            [u.id],
          );
          await ingestSentinelRows(c, rows.rows, this.touch);
        }
        await c.query('UPDATE processor_cursor SET last_seq = $2, updated_at = now() WHERE processor = $1', [CURSOR, u.id]);
        return 1;
      });
      if (!n) break;
      done += n;
    }
    return done;
  }
}
