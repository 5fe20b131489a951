/**
 * Alert workflow: new → triage (研判: assigned, verified within a deadline) → dismissed, or
 * suspected / confirmed event → response (opens an investigation) → closed. Every step records
 * who, when and why; a step out of order is 409; two people acting on one alert at once are
 * separated by the version column (the second gets 409 and reloads).
 */
import { chinaDateTimeOf, todayInChina } from '../../shared/dates.js';
import { tableFile, type TableFile, type TableFormat } from '../../shared/table-file.js';
import type { Task } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import type { Database } from '../../platform/db.js';
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import type { FusionConfig } from '../config.js';
import type { WriteAudit } from '../reporting/store.js';
import {
  ALERT_STATUSES,
  type AlertComment,
  type AlertDetail,
  type AlertEvent,
  type AlertEvidence,
  type AlertNotification,
  type AlertPage,
  type AlertStatus,
  type AlertSummary,
} from '../schemas.js';

export { ALERT_STATUSES };
export type { AlertStatus, AlertSummary };
export const OPEN_STATUSES: AlertStatus[] = ['new', 'triage', 'suspected', 'confirmed', 'response'];

/** Allowed next steps from each status. */
export const TRANSITIONS: Record<AlertStatus, AlertStatus[]> = {
  new: ['triage'],
  triage: ['dismissed', 'suspected', 'confirmed'],
  suspected: ['confirmed', 'dismissed', 'response'],
  confirmed: ['response'],
  response: ['closed'],
  dismissed: [],
  closed: [],
};

interface AlertDbRow {
  id: number;
  status: AlertStatus;
  level: string;
  area_code: string;
  area_codes: string[] | null;
  area_name: string | null;
  title: string;
  disease_key: string | null;
  sources: string[];
  score: number;
  joint_p: number | null;
  first_evidence_day: string;
  last_evidence_day: string;
  trigger_day: string;
  created_at: string;
  updated_at: string;
  assignee: string | null;
  due_at: string | null;
  version: number;
}

const SELECT = `SELECT a.id, a.status, a.level, a.area_code,
  array(SELECT DISTINCT left(e.area_code, 9) || '000' FROM surv_alert_evidence e WHERE e.alert_id = a.id AND length(e.area_code) = 12) AS area_codes, ar.name AS area_name, a.title, a.disease_key, a.sources, a.score, a.joint_p,
  a.first_evidence_day::text AS first_evidence_day, a.last_evidence_day::text AS last_evidence_day, a.trigger_day::text AS trigger_day,
  a.created_at, a.updated_at, a.assignee, a.due_at, a.version FROM surv_alert a LEFT JOIN surv_area ar ON ar.code = a.area_code`;

function summary(r: AlertDbRow, now = new Date()): AlertSummary {
  return {
    id: r.id,
    status: r.status,
    level: r.level,
    areaCode: r.area_code,
    areaCodes: [...new Set([r.area_code, ...(r.area_codes ?? [])])].sort(),
    areaName: r.area_name,
    title: r.title,
    sources: r.sources,
    score: r.score,
    jointP: r.joint_p,
    // Evidence is daily: the first and last evidence times are the starts of those days (UTC+8).
    firstEvidenceAt: `${r.first_evidence_day}T00:00:00+08:00`,
    lastEvidenceAt: `${r.last_evidence_day}T23:59:59+08:00`,
    triggerDay: r.trigger_day,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    assignee: r.assignee,
    dueAt: r.due_at,
    overdue: !!r.due_at && OPEN_STATUSES.includes(r.status) && new Date(r.due_at) < now,
    version: r.version,
  };
}

export interface AlertQuery {
  status?: string;
  level?: string;
  area?: string;
  source?: string;
  disease?: string;
  overdue?: boolean;
  sort?: 'rank' | 'newest';
  limit?: number;
  offset?: number;
}

/** Level order of the board: the worst first. */
const LEVEL_ORDER = `CASE a.level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END`;

/** WHERE clauses of the filters other than status (shared by the page and the counts per status). */
function alertFilters(q: AlertQuery, params: unknown[]): string[] {
  const where: string[] = [];
  if (q.level) where.push(`a.level = ANY($${params.push(q.level.split(','))}::text[])`);
  if (q.area) {
    const prefix = `${q.area.replace(/0+$/, '')}%`;
    const n = params.push(prefix);
    where.push(
      `(a.area_code LIKE $${n} OR EXISTS (SELECT 1 FROM surv_alert_evidence e WHERE e.alert_id = a.id AND e.area_code LIKE $${n}))`,
    );
  }
  if (q.source) where.push(`a.sources && $${params.push(q.source.split(','))}::text[]`);
  if (q.disease) {
    const n = params.push(q.disease);
    where.push(`(a.disease_key = $${n} OR EXISTS (SELECT 1 FROM surv_alert_evidence e WHERE e.alert_id = a.id AND e.signal = $${n}))`);
  }
  if (q.overdue) where.push(`a.due_at < now() AND a.status = ANY($${params.push(OPEN_STATUSES)}::text[])`);
  return where;
}

/**
 * A page of alerts with the total and the count per status. Ranked (the default): open before
 * ended, past the 研判 deadline first, then level, agreeing sources and joint p as fusion ranks
 * them (config/surveillance/fusion.json: sources, then -log10 p), then the latest evidence.
 */
export async function alertPage(db: Database, q: AlertQuery = {}): Promise<AlertPage> {
  const params: unknown[] = [];
  const where = alertFilters(q, params);
  const counted = [...where];
  const countParams = [...params];
  if (q.status) {
    const list = q.status === 'open' ? OPEN_STATUSES : q.status.split(',');
    where.push(`a.status = ANY($${params.push(list)}::text[])`);
  }
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
  const offset = Math.max(q.offset ?? 0, 0);
  const filterParams = params.length;
  const open = () => `a.status = ANY($${params.push(OPEN_STATUSES)}::text[])`;
  const order =
    q.sort === 'newest'
      ? 'a.created_at DESC, a.id DESC'
      : `(${open()}) DESC, (${open()} AND a.due_at < now()) DESC, ${LEVEL_ORDER}, cardinality(a.sources) DESC,
         coalesce(a.joint_p, 1) ASC, a.score DESC, a.last_evidence_day DESC, a.id DESC`;
  const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [rows, total, counts] = await Promise.all([
    db.query<AlertDbRow>(`${SELECT} ${whereSql} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`, params),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM surv_alert a ${whereSql}`, params.slice(0, filterParams)),
    db.query<{ status: string; n: number; overdue: number }>(
      `SELECT a.status, count(*)::int AS n, count(*) FILTER (WHERE a.due_at < now())::int AS overdue FROM surv_alert a
       ${counted.length ? `WHERE ${counted.join(' AND ')}` : ''} GROUP BY a.status`,
      countParams,
    ),
  ]);
  const byStatus: Record<string, number> = Object.fromEntries(ALERT_STATUSES.map((s) => [s, 0]));
  let openCount = 0;
  let overdue = 0;
  for (const c of counts.rows) {
    byStatus[c.status] = c.n;
    if (OPEN_STATUSES.includes(c.status as AlertStatus)) {
      openCount += c.n;
      overdue += c.overdue;
    }
  }
  return { rows: rows.rows.map((x) => summary(x)), total: total.rows[0]!.n, counts: { ...byStatus, open: openCount, overdue } };
}

/** Alerts as a plain list (ranked like the board): for callers that want no page. */
export async function listAlerts(db: Database, q: AlertQuery = {}): Promise<AlertSummary[]> {
  return (await alertPage(db, { limit: 200, ...q })).rows;
}

export async function getAlert(db: Database, id: number): Promise<AlertDetail> {
  if (!Number.isInteger(id) || id < 1) throw badRequest(`alert id must be a positive integer (got ${id})`);
  const r = await db.query<AlertDbRow>(`${SELECT} WHERE a.id = $1`, [id]);
  if (!r.rows[0]) throw notFound(`alert ${id} not found`);
  const evidence = await db.query<AlertEvidence>(
    `SELECT signal, area_code AS "areaCode", day::text AS day, method, source, observed, threshold, expected, p_value AS "pValue", weak FROM surv_alert_evidence WHERE alert_id = $1 ORDER BY day, signal`,
    [id],
  );
  const events = await db.query<AlertEvent>(
    `SELECT id, action, from_status AS "from", to_status AS "to", actor, at, reason, detail FROM surv_alert_event WHERE alert_id = $1 ORDER BY at, id`,
    [id],
  );
  const comments = await db.query<AlertComment>(
    `SELECT id, author, organization, body, at FROM surv_alert_comment WHERE alert_id = $1 ORDER BY at, id`,
    [id],
  );
  const s = summary(r.rows[0]);
  return {
    ...s,
    diseaseKey: r.rows[0].disease_key,
    evidence: evidence.rows,
    events: events.rows,
    comments: comments.rows,
    nextSteps: TRANSITIONS[s.status],
  };
}

export interface TransitionInput {
  to: string;
  version: unknown;
  reason?: string;
  assignee?: string;
}

export async function transitionAlert(
  deps: {
    db: Database;
    repo: FhirRepository;
    fusion: FusionConfig;
    /** Told of the step once it has committed (webhooks); its failure does not fail the step. */
    notify?: (e: { alertId: number; kind: string; level: string; areaCode: string }) => Promise<void>;
  },
  id: number,
  input: TransitionInput,
  actor: { username: string; organization?: string },
  audit?: WriteAudit,
): Promise<AlertSummary> {
  if (!ALERT_STATUSES.includes(input.to as AlertStatus))
    throw badRequest(`to: must be one of ${ALERT_STATUSES.join(', ')} (got ${JSON.stringify(input.to)})`);
  if (input.version === undefined || input.version === null || !Number.isInteger(Number(input.version)))
    throw badRequest('version: mandatory (the version you read), for the optimistic concurrency check');
  const to = input.to as AlertStatus;
  if ((to === 'dismissed' || to === 'closed' || to === 'confirmed' || to === 'suspected') && !input.reason?.trim())
    throw badRequest(`reason: mandatory when moving an alert to ${to}`);
  if (to === 'triage' && !(input.assignee ?? '').trim()) throw badRequest('assignee: 研判 needs the person responsible');
  const after = await deps.db.transaction(async (c) => {
    const cur = (await c.query<AlertDbRow>(`${SELECT} WHERE a.id = $1`, [id])).rows[0];
    if (!cur) throw notFound(`alert ${id} not found`);
    if (!TRANSITIONS[cur.status].includes(to))
      throw conflict(
        `alert ${id} is '${cur.status}': it cannot move to '${to}' (allowed: ${TRANSITIONS[cur.status].join(', ') || 'none — the alert is finished'})`,
      );
    const now = new Date();
    let due: string | null = cur.due_at;
    if (to === 'suspected' || to === 'confirmed')
      due = new Date(now.getTime() + (deps.fusion.responseHours[cur.level] ?? 72) * 3_600_000).toISOString();
    if (to === 'response' || to === 'dismissed' || to === 'closed') due = null;
    let investigation: string | null = null;
    if (to === 'response') {
      const task: Task = {
        resourceType: 'Task',
        status: 'in-progress',
        intent: 'order',
        code: {
          coding: [
            { system: 'https://yifang.health/fhir/CodeSystem/surveillance-task', code: 'outbreak-investigation', display: '流行病学调查' },
          ],
        },
        description: `${cur.title}（预警 #${id}）`,
        authoredOn: now.toISOString(),
        identifier: [{ system: 'https://yifang.health/fhir/sid/alert', value: String(id) }],
        ...(input.reason ? { note: [{ text: input.reason }] } : {}),
      };
      investigation = (await deps.repo.create(task, c)).id ?? null;
    }
    // The version check and the update are one statement: of two concurrent steps, one wins.
    const upd = await c.query(
      `UPDATE surv_alert SET status = $2, assignee = coalesce($3, assignee), due_at = $4, updated_at = now(), version = version + 1 WHERE id = $1 AND version = $5`,
      [id, to, input.assignee?.trim() || null, due, Number(input.version)],
    );
    if (!upd.rowCount)
      throw conflict(
        `alert ${id} was changed by someone else (now version ${cur.version}, you sent ${String(input.version)}): reload and try again`,
      );
    await c.query(
      `INSERT INTO surv_alert_event (alert_id, action, from_status, to_status, actor, reason, detail) VALUES ($1, 'transition', $2, $3, $4, $5, $6)`,
      [
        id,
        cur.status,
        to,
        actor.username,
        input.reason?.trim() || null,
        JSON.stringify({ assignee: input.assignee ?? null, investigationTask: investigation, organization: actor.organization ?? null }),
      ],
    );
    await audit?.(c, {
      subtype: 'alert-transition',
      entities: [`alert ${id}`, ...(investigation ? [`Task/${investigation}`] : [])],
      outcomeText: `alert ${id}: ${cur.status} → ${to}${input.reason?.trim() ? ` — ${input.reason.trim()}` : ''}`.slice(0, 1000),
    });
    const r = await c.query<AlertDbRow>(`${SELECT} WHERE a.id = $1`, [id]);
    return summary(r.rows[0]!);
  });
  void deps.notify?.({ alertId: id, kind: `status.${after.status}`, level: after.level, areaCode: after.areaCode }).catch(() => undefined);
  return after;
}

export async function addComment(
  db: Database,
  id: number,
  body: unknown,
  actor: { username: string; displayName?: string; organization?: string },
  audit?: WriteAudit,
): Promise<AlertComment> {
  if (typeof body !== 'string' || !body.trim()) throw badRequest('body: the comment text is mandatory');
  if (body.length > 10_000) throw badRequest('body: at most 10,000 characters');
  return db.transaction(async (c) => {
    const exists = await c.query('SELECT 1 FROM surv_alert WHERE id = $1', [id]);
    if (!exists.rows.length) throw notFound(`alert ${id} not found`);
    const r = await c.query<AlertComment>(
      `INSERT INTO surv_alert_comment (alert_id, author, organization, body) VALUES ($1, $2, $3, $4) RETURNING id, author, organization, body, at`,
      [id, actor.displayName ?? actor.username, actor.organization ?? null, body.trim()],
    );
    await audit?.(c, {
      subtype: 'alert-comment',
      entities: [`alert ${id}`],
      outcomeText: `研判会商 comment ${r.rows[0]!.id} on alert ${id}`,
    });
    return r.rows[0]!;
  });
}

/** Recent alert events for in-app notifications. */
export async function notifications(db: Database, since?: string): Promise<AlertNotification[]> {
  const r = await db.query<AlertNotification>(
    `SELECT e.id, e.alert_id AS "alertId", e.action, e.to_status AS "to", e.actor, e.at, e.reason, a.level, a.title, a.area_code AS "areaCode"
     FROM surv_alert_event e JOIN surv_alert a ON a.id = e.alert_id
     WHERE e.at > coalesce($1::timestamptz, now() - interval '7 days') ORDER BY e.at DESC, e.id DESC LIMIT 100`,
    [since ?? null],
  );
  return r.rows;
}

/**
 * Alerts nobody has acted on (still 新预警) whose newest evidence is older than `staleDays` close
 * themselves, each with an event saying why: a district that loads its history sees the present,
 * not years of unhandled alerts. Alerts someone has touched are left to people. Returns how many.
 */
export async function closeStaleAlerts(db: Database, today: string, staleDays: number): Promise<number> {
  const r = await db.query<{ id: number }>(
    `WITH stale AS (
       UPDATE surv_alert SET status = 'closed', due_at = NULL, updated_at = now(), version = version + 1
       WHERE status = 'new' AND last_evidence_day < $1::date - $2::int
       RETURNING id, last_evidence_day)
     INSERT INTO surv_alert_event (alert_id, action, from_status, to_status, actor, reason, detail)
     SELECT id, 'transition', 'new', 'closed', 'system',
            '无人处置，且最后一条证据已超过 ' || $2::int || ' 天（' || to_char(last_evidence_day, 'YYYY-MM-DD') || '），系统自动关闭',
            json_build_object('autoClosed', true, 'lastEvidenceDay', last_evidence_day, 'staleDays', $2::int)
     FROM stale RETURNING alert_id AS id`,
    [today, staleDays],
  );
  return r.rowCount ?? r.rows.length;
}

const ALERT_STATUS_WORDS: Record<string, string> = {
  new: '新预警',
  triage: '研判中',
  suspected: '疑似事件',
  confirmed: '确认事件',
  response: '响应处置',
  dismissed: '已排除',
  closed: '已关闭',
};
const LEVEL_WORDS: Record<string, string> = { red: '红色', orange: '橙色', yellow: '黄色' };
const SOURCE_WORDS: Record<string, string> = {
  'case-report': '传染病报告',
  'clinic-syndrome': '门急诊症候群',
  lab: '实验室',
  school: '学校缺课',
  pharmacy: '药店销售',
  public: '舆情/群众报告',
  sentinel: '哨点日报',
};

/** The filtered alert list as Excel or GB18030 CSV, in the board's order, in words, at most 10,000 alerts. */
export async function alertsFile(db: Database, q: AlertQuery, format: TableFormat): Promise<TableFile> {
  const rows: AlertSummary[] = [];
  for (let offset = 0; offset < 10_000; offset += 1000) {
    const page = await alertPage(db, { ...q, limit: 1000, offset });
    rows.push(...page.rows);
    if (page.rows.length < 1000) break;
  }
  return tableFile(
    format,
    `预警信号-${todayInChina()}`,
    [
      { header: '编号', value: (a) => a.id, width: 8 },
      { header: '级别', value: (a) => LEVEL_WORDS[a.level] ?? a.level, width: 8 },
      { header: '预警内容', value: (a) => a.title, width: 40 },
      { header: '地区', value: (a) => a.areaName ?? a.areaCode, width: 14 },
      { header: '证据来源', value: (a) => a.sources.map((x) => SOURCE_WORDS[x] ?? x).join('、'), width: 24 },
      { header: '首条证据', value: (a) => a.firstEvidenceAt.slice(0, 10), width: 12 },
      { header: '最新证据', value: (a) => a.lastEvidenceAt.slice(0, 10), width: 12 },
      { header: '状态', value: (a) => ALERT_STATUS_WORDS[a.status] ?? a.status, width: 10 },
      { header: '负责人', value: (a) => a.assignee ?? '', width: 12 },
      { header: '研判时限', value: (a) => (a.dueAt ? chinaDateTimeOf(a.dueAt) : ''), width: 18 },
      { header: '超时', value: (a) => (a.overdue ? '是' : ''), width: 6 },
      { header: '生成时间', value: (a) => chinaDateTimeOf(a.createdAt), width: 18 },
    ],
    rows,
  );
}
