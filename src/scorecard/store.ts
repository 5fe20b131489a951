/** The SQL of the scorecard capability: computed runs (scorecard_run) and red-cell tasks (scorecard_task). */
import type pg from 'pg';
import type { Queryable } from '../platform/db.js';
import type { UnitScore } from './score.js';
import type { TaskList, TaskQuery, TaskView } from './schemas.js';

export interface StoredRun {
  computedAt: string;
  units: UnitScore[];
}

export async function saveRun(
  client: Queryable,
  r: { scorecardId: string; level: string; period: string; periodTo: string; units: UnitScore[] },
): Promise<string> {
  const res = await client.query<{ computed_at: string }>(
    `INSERT INTO scorecard_run (scorecard_id, level, period, period_to, result) VALUES ($1, $2, $3, $4::date, $5::jsonb)
     ON CONFLICT (scorecard_id, level, period) DO UPDATE SET period_to = EXCLUDED.period_to, result = EXCLUDED.result, computed_at = now()
     RETURNING computed_at`,
    [r.scorecardId, r.level, r.period, r.periodTo, JSON.stringify({ units: r.units })],
  );
  return res.rows[0]!.computed_at;
}

/** Stored runs of these periods (by key), keyed by period label. */
export async function readRuns(db: Queryable, scorecardId: string, level: string, periods: string[]): Promise<Map<string, StoredRun>> {
  if (!periods.length) return new Map();
  const r = await db.query<{ period: string; computed_at: string; result: { units: UnitScore[] } }>(
    'SELECT period, computed_at, result FROM scorecard_run WHERE scorecard_id = $1 AND level = $2 AND period = ANY($3::text[])',
    [scorecardId, level, periods],
  );
  return new Map(r.rows.map((x) => [x.period, { computedAt: x.computed_at, units: x.result.units }]));
}

export interface CellState {
  owner: string;
  ownerName: string | null;
  item: string;
  itemName: string;
  value: number | null;
}

/**
 * Red cells open a task for their owner unless one is open for the same item; green cells close
 * the open task of their item when it was opened for this period or an earlier one.
 */
export async function syncTasks(
  client: pg.PoolClient,
  k: { scorecardId: string; level: string; period: string; periodTo: string },
  red: CellState[],
  green: CellState[],
): Promise<{ opened: number; closed: number }> {
  let opened = 0;
  let closed = 0;
  if (red.length) {
    const r = await client.query(
      `INSERT INTO scorecard_task (scorecard_id, level, owner_code, owner_name, item_key, item_name, period, period_to, opened_value)
       SELECT $1, $2, x.owner, x."ownerName", x.item, x."itemName", $3, $4::date, x.value
       FROM json_to_recordset($5::json) AS x(owner text, "ownerName" text, item text, "itemName" text, value numeric)
       ON CONFLICT (scorecard_id, level, owner_code, item_key) WHERE closed_at IS NULL DO NOTHING
       RETURNING id`,
      [k.scorecardId, k.level, k.period, k.periodTo, JSON.stringify(red)],
    );
    opened = r.rowCount ?? 0;
  }
  if (green.length) {
    const r = await client.query(
      `UPDATE scorecard_task t SET closed_at = now(), closed_period = $3, closed_value = x.value
       FROM json_to_recordset($5::json) AS x(owner text, item text, value numeric)
       WHERE t.closed_at IS NULL AND t.scorecard_id = $1 AND t.level = $2 AND t.owner_code = x.owner AND t.item_key = x.item
         AND t.period_to <= $4::date
       RETURNING t.id`,
      [k.scorecardId, k.level, k.period, k.periodTo, JSON.stringify(green)],
    );
    closed = r.rowCount ?? 0;
  }
  return { opened, closed };
}

/** Open tasks per owner (one index range of the open-task index). */
export async function openTaskCounts(db: Queryable, scorecardId: string, level: string): Promise<Map<string, number>> {
  const r = await db.query<{ owner_code: string; n: number }>(
    `SELECT owner_code, count(*)::int AS n FROM scorecard_task WHERE scorecard_id = $1 AND level = $2 AND closed_at IS NULL GROUP BY owner_code`,
    [scorecardId, level],
  );
  return new Map(r.rows.map((x) => [x.owner_code, x.n]));
}

interface TaskRow {
  id: string;
  scorecard_id: string;
  level: 'institution' | 'street';
  owner_code: string;
  owner_name: string | null;
  item_key: string;
  item_name: string;
  period: string;
  opened_value: number | null;
  opened_at: string;
  closed_at: string | null;
  closed_period: string | null;
  closed_value: number | null;
}

const taskView = (r: TaskRow): TaskView => ({
  id: String(r.id),
  scorecardId: r.scorecard_id,
  level: r.level,
  ownerCode: r.owner_code,
  ownerName: r.owner_name,
  itemKey: r.item_key,
  itemName: r.item_name,
  period: r.period,
  openedValue: r.opened_value,
  openedAt: r.opened_at,
  closedAt: r.closed_at,
  closedPeriod: r.closed_period,
  closedValue: r.closed_value,
});

/** Tasks of a scorecard, newest first, a page at a time with the total. */
export async function listTasks(db: Queryable, scorecardId: string, q: TaskQuery): Promise<TaskList> {
  const params: unknown[] = [scorecardId];
  const where = ['scorecard_id = $1'];
  if (q.level) where.push(`level = $${params.push(q.level)}`);
  if (q.owner) where.push(`owner_code = $${params.push(q.owner)}`);
  if (q.status === 'open') where.push('closed_at IS NULL');
  if (q.status === 'closed') where.push('closed_at IS NOT NULL');
  const w = where.join(' AND ');
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scorecard_task WHERE ${w}`, params);
  const rows = await db.query<TaskRow>(
    `SELECT id::text AS id, scorecard_id, level, owner_code, owner_name, item_key, item_name, period, opened_value::float8 AS opened_value,
            opened_at, closed_at, closed_period, closed_value::float8 AS closed_value
     FROM scorecard_task WHERE ${w} ORDER BY opened_at DESC, id DESC LIMIT ${q.limit} OFFSET ${q.offset}`,
    params,
  );
  return { total: total.rows[0]!.n, limit: q.limit, offset: q.offset, tasks: rows.rows.map(taskView) };
}
