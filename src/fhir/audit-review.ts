/**
 * Audit review (issue #15, item 4): the queries behind the review screen, its CSV export, the
 * unusual-pattern flags and the resident-facing "who read my record". They read the AuditEvent
 * search columns (r_auditevent) and the event content from history.
 */
import { csvCell } from '../shared/csv.js';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { BREAK_GLASS_CODES } from './audit.js';
import { PREFIX_KEY_MAX } from './schema.js';

export interface AuditFilter {
  /** Username (exact) or part of the display name. */
  user?: string;
  /** A resident: Patient id, or the beginning of a name. */
  resident?: string;
  /** Purpose of use: code or words (part of). */
  purpose?: string;
  /** C, R, U, D or E. */
  action?: string;
  /** Operation (AuditEvent.subtype code: read, search, create, login, …) or part of the route/object. */
  subtype?: string;
  from?: string;
  to?: string;
  outcome?: 'success' | 'failure';
}

export interface AuditRow {
  id: string;
  recorded: string;
  username: string;
  userName: string;
  organization?: string;
  roles: string[];
  action: string;
  subtype: string;
  outcome: 'success' | 'failure';
  outcomeText?: string;
  residents: { id: string; name?: string }[];
  objects: string[];
  query?: string;
  purpose?: string;
  purposeCode?: string;
  address?: string;
}

const REF_PREFIX = 'Patient/';

function instant(v: string | undefined, name: string): string | undefined {
  if (!v) return undefined;
  if (Number.isNaN(Date.parse(v))) throw badRequest(`${name} '${v}' is not a date or time`);
  // A bare date is a whole China day (UTC+8).
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+08:00` : v;
}

/** WHERE conditions and arguments for a filter (t = r_auditevent, h = its history row). */
async function conditions(db: Queryable, f: AuditFilter): Promise<{ where: string; args: unknown[] }> {
  const args: unknown[] = [];
  const bind = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  const where: string[] = [];
  if (f.user) {
    const u = f.user.trim();
    where.push(`(t.p_altid && ${bind([u])}::text[] OR EXISTS (SELECT 1 FROM unnest(t.p_agent_name) n WHERE n ILIKE ${bind(`%${u}%`)}))`);
  }
  if (f.resident) {
    const r = f.resident.trim().replace(/^Patient\//, '');
    const ids = new Set<string>();
    if (/^[A-Za-z0-9\-.]{1,64}$/.test(r)) ids.add(r);
    const key = r.toLowerCase().slice(0, PREFIX_KEY_MAX);
    if (key) {
      const byName = await db.query<{ id: string }>(
        `SELECT DISTINCT id FROM string_search WHERE resource_type = 'Patient' AND code = 'name' AND key >= $1 AND key < $2 LIMIT 1000`,
        [key, key + '\u{10FFFF}'],
      );
      for (const row of byName.rows) ids.add(row.id);
    }
    where.push(`t.p_patient && ${bind([...ids].map((id) => REF_PREFIX + id))}::text[]`);
  }
  if (f.purpose) where.push(`(h.content->'purposeOfEvent')::text ILIKE ${bind(`%${f.purpose.trim()}%`)}`);
  if (f.action) {
    if (!/^[CRUDE]$/.test(f.action)) throw badRequest(`action must be one of C, R, U, D, E, not '${f.action}'`);
    where.push(`t.p_action && ${bind([f.action])}::text[]`);
  }
  if (f.subtype) {
    const s = f.subtype.trim();
    where.push(
      `(t.p_subtype && ${bind([s])}::text[] OR EXISTS (SELECT 1 FROM unnest(t.p_entity) e WHERE e ILIKE ${bind(`%${s}%`)}) OR (h.content->'entity')::text ILIKE ${bind(`%${s}%`)})`,
    );
  }
  const from = instant(f.from, 'from');
  const to = instant(f.to, 'to');
  if (from) where.push(`t.p_date_lo >= ${bind(from)}::timestamptz`);
  if (to)
    where.push(
      `t.p_date_lo < ${/^\d{4}-\d{2}-\d{2}$/.test(f.to ?? '') ? `${bind(to)}::timestamptz + interval '1 day'` : `${bind(to)}::timestamptz`}`,
    );
  if (f.outcome) where.push(`t.p_outcome && ${bind([f.outcome === 'success' ? '0' : '8'])}::text[]`);
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

const FROM = `FROM r_auditevent t JOIN resource_history h ON h.resource_type = 'AuditEvent' AND h.id = t.id AND h.version_id = t.version_id`;

/** Display names of residents, by Patient id. */
async function residentNames(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!ids.length) return out;
  const r = await db.query<{ id: string; name: { text?: string; family?: string; given?: string[] }[] | null }>(
    `SELECT h.id, h.content->'name' AS name FROM r_patient t JOIN resource_history h
       ON h.resource_type = 'Patient' AND h.id = t.id AND h.version_id = t.version_id WHERE t.id = ANY($1::text[])`,
    [ids],
  );
  for (const row of r.rows) {
    const n = row.name?.[0];
    const text = n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join('');
    if (text) out.set(row.id, text);
  }
  return out;
}

function toRow(e: AuditEvent, names: Map<string, string>): AuditRow {
  const agent = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const residents: AuditRow['residents'] = [];
  const objects: string[] = [];
  let query: string | undefined;
  for (const en of e.entity ?? []) {
    const ref = en.what?.reference;
    if (en.role?.code === '24' && en.query) query = en.description ?? Buffer.from(en.query, 'base64').toString('utf8');
    else if (ref?.startsWith(REF_PREFIX)) {
      const id = ref.slice(REF_PREFIX.length);
      residents.push({ id, ...(names.get(id) ? { name: names.get(id) } : {}) });
    } else if (ref || en.what?.display) objects.push(ref ?? en.what!.display!);
  }
  const purpose = e.purposeOfEvent?.[0];
  return {
    id: e.id!,
    recorded: e.recorded,
    username: agent?.altId ?? agent?.who?.identifier?.value ?? '',
    userName: agent?.name ?? agent?.who?.display ?? agent?.altId ?? '',
    ...(agent?.location?.display ? { organization: agent.location.display } : {}),
    roles: (agent?.role ?? []).map((r) => r.text ?? r.coding?.[0]?.code ?? '').filter(Boolean),
    action: e.action ?? '',
    subtype: e.subtype?.[0]?.code ?? '',
    outcome: !e.outcome || e.outcome === '0' ? 'success' : 'failure',
    ...(e.outcomeDesc ? { outcomeText: e.outcomeDesc } : {}),
    residents,
    objects,
    ...(query ? { query } : {}),
    ...(purpose ? { purpose: purpose.text ?? purpose.coding?.[0]?.display ?? purpose.coding?.[0]?.code } : {}),
    ...(purpose?.coding?.[0]?.code ? { purposeCode: purpose.coding[0].code } : {}),
    ...(agent?.network?.address ? { address: agent.network.address } : {}),
  };
}

async function rowsOf(db: Queryable, events: AuditEvent[]): Promise<AuditRow[]> {
  const ids = new Set<string>();
  for (const e of events)
    for (const en of e.entity ?? []) if (en.what?.reference?.startsWith(REF_PREFIX)) ids.add(en.what.reference.slice(REF_PREFIX.length));
  const names = await residentNames(db, [...ids]);
  return events.map((e) => toRow(e, names));
}

export async function searchAuditEvents(
  db: Queryable,
  f: AuditFilter,
  page: { count: number; offset: number },
): Promise<{ total: number; rows: AuditRow[] }> {
  const { where, args } = await conditions(db, f);
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n ${FROM} ${where}`, args)).rows[0]!.n;
  const r = await db.query<{ content: AuditEvent }>(
    `SELECT h.content ${FROM} ${where} ORDER BY t.p_date_lo DESC NULLS LAST, t.id DESC LIMIT ${Number(page.count)} OFFSET ${Number(page.offset)}`,
    args,
  );
  return {
    total,
    rows: await rowsOf(
      db,
      r.rows.map((x) => x.content),
    ),
  };
}

const ACTION_WORDS: Record<string, string> = { C: '新建', R: '查看', U: '修改', D: '删除', E: '执行' };

/** The filtered events as CSV (UTF-8 with BOM, for spreadsheet programs), newest first, up to `limit`. */
export async function auditEventsCsv(db: Queryable, f: AuditFilter, limit = 50_000): Promise<string> {
  const { rows } = await searchAuditEvents(db, f, { count: limit, offset: 0 });
  const lines = [
    [
      '时间 time (UTC+8)',
      '用户 user',
      '姓名 name',
      '机构 organization',
      '操作 action',
      '类型 operation',
      '居民 residents',
      '对象 objects',
      '目的 purpose',
      '来源地址 address',
      '结果 outcome',
    ].join(','),
  ];
  for (const r of rows) {
    lines.push(
      [
        chinaTime(r.recorded),
        r.username,
        r.userName,
        r.organization,
        ACTION_WORDS[r.action] ?? r.action,
        r.subtype,
        r.residents.map((p) => (p.name ? `${p.name} (${p.id})` : p.id)).join('; '),
        [...r.objects, ...(r.query ? [r.query] : [])].join('; '),
        r.purpose,
        r.address,
        r.outcome === 'success' ? '成功 success' : `失败 failure${r.outcomeText ? ': ' + r.outcomeText : ''}`,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

/** "2024-05-01 21:03:07" in China time (UTC+8, no daylight saving). */
export function chinaTime(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
}

export interface AuditFlag {
  kind: 'many-residents' | 'off-hours' | 'break-glass';
  username: string;
  userName: string;
  /** China day (UTC+8) of the pattern. */
  day: string;
  count: number;
  /** Up to 20 of the events behind the flag. */
  eventIds: string[];
  detail: string;
}

export interface FlagOptions {
  from?: string;
  to?: string;
  /** A user reading more distinct residents than this in a day is flagged (default 50). */
  maxResidentsPerDay?: number;
  /** Working hours in China time: reads outside [start, end) are flagged (default 7–20). */
  dayStartHour?: number;
  dayEndHour?: number;
}

/**
 * Unusual patterns, computed here rather than in the browser: a user reading more than N distinct
 * residents in a day, reads of residents' records outside 07:00–20:00 China time, and every
 * emergency (break-glass) access.
 */
export async function auditFlags(db: Queryable, o: FlagOptions = {}): Promise<AuditFlag[]> {
  const max = o.maxResidentsPerDay ?? 50;
  const start = o.dayStartHour ?? 7;
  const end = o.dayEndHour ?? 20;
  const from = instant(o.from, 'from') ?? new Date(Date.now() - 30 * 86400_000).toISOString();
  const to = instant(o.to, 'to') ?? new Date(Date.now() + 60_000).toISOString();
  // Local China time without relying on the server's time zone data: UTC+8 all year.
  const local = `((t.p_date_lo AT TIME ZONE 'UTC') + interval '8 hours')`;
  const username = `COALESCE((SELECT a FROM unnest(t.p_altid) a WHERE a NOT LIKE '|%' LIMIT 1), '')`;
  const userName = `COALESCE(h.content #>> '{agent,0,name}', ${username})`;
  const reads = `t.p_date_lo >= $1::timestamptz AND t.p_date_lo < $2::timestamptz AND t.p_action && ARRAY['R','E']::text[] AND t.p_patient IS NOT NULL`;
  const flags: AuditFlag[] = [];
  const many = await db.query<{ username: string; user_name: string; day: string; n: number; ids: string[] }>(
    `SELECT ${username} AS username, max(${userName}) AS user_name, to_char(${local}, 'YYYY-MM-DD') AS day,
            count(DISTINCT p)::int AS n, (array_agg(DISTINCT t.id))[1:20] AS ids
     ${FROM}, unnest(t.p_patient) p WHERE ${reads} GROUP BY 1, 3 HAVING count(DISTINCT p) > $3 ORDER BY 3 DESC, 4 DESC`,
    [from, to, max],
  );
  for (const r of many.rows)
    flags.push({
      kind: 'many-residents',
      username: r.username,
      userName: r.user_name,
      day: r.day,
      count: r.n,
      eventIds: r.ids,
      detail: `read the records of ${r.n} residents in one day (more than ${max})`,
    });
  const off = await db.query<{ username: string; user_name: string; day: string; n: number; ids: string[] }>(
    `SELECT ${username} AS username, max(${userName}) AS user_name, to_char(${local}, 'YYYY-MM-DD') AS day,
            count(*)::int AS n, (array_agg(t.id ORDER BY t.p_date_lo))[1:20] AS ids
     ${FROM} WHERE ${reads} AND (extract(hour FROM ${local}) < $3 OR extract(hour FROM ${local}) >= $4)
     GROUP BY 1, 3 ORDER BY 3 DESC, 4 DESC`,
    [from, to, start, end],
  );
  for (const r of off.rows)
    flags.push({
      kind: 'off-hours',
      username: r.username,
      userName: r.user_name,
      day: r.day,
      count: r.n,
      eventIds: r.ids,
      detail: `${r.n} reads of residents' records outside ${String(start).padStart(2, '0')}:00–${end}:00 China time`,
    });
  const glass = await db.query<{ username: string; user_name: string; day: string; n: number; ids: string[] }>(
    `SELECT ${username} AS username, max(${userName}) AS user_name, to_char(${local}, 'YYYY-MM-DD') AS day,
            count(*)::int AS n, (array_agg(t.id ORDER BY t.p_date_lo))[1:20] AS ids
     ${FROM} WHERE t.p_date_lo >= $1::timestamptz AND t.p_date_lo < $2::timestamptz
       AND (EXISTS (SELECT 1 FROM json_array_elements(COALESCE(h.content->'purposeOfEvent', '[]'::json)) pe,
                    json_array_elements(COALESCE(pe->'coding', '[]'::json)) c WHERE c->>'code' = ANY($3::text[]))
            OR (h.content->'purposeOfEvent')::text ~* '(break.?glass|emergency|紧急)')
     GROUP BY 1, 3 ORDER BY 3 DESC`,
    [from, to, BREAK_GLASS_CODES],
  );
  for (const r of glass.rows)
    flags.push({
      kind: 'break-glass',
      username: r.username,
      userName: r.user_name,
      day: r.day,
      count: r.n,
      eventIds: r.ids,
      detail: `${r.n} emergency (break-glass) accesses`,
    });
  return flags;
}

export interface ResidentRead {
  when: string;
  who: string;
  username: string;
  organization?: string;
  purpose?: string;
  /** What was done: read, search, everything, … */
  what: string;
}

/** Who read a resident's record: for the resident portal ("who read my record"). */
export async function residentReads(
  db: Queryable,
  patientId: string,
  page: { count: number; offset: number },
): Promise<{ total: number; reads: ResidentRead[] }> {
  const f = `${FROM} WHERE t.p_patient && $1::text[] AND t.p_action && ARRAY['R','E']::text[]`;
  const args = [[REF_PREFIX + patientId]];
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n ${f}`, args)).rows[0]!.n;
  const r = await db.query<{ content: AuditEvent }>(
    `SELECT h.content ${f} ORDER BY t.p_date_lo DESC, t.id DESC LIMIT ${Number(page.count)} OFFSET ${Number(page.offset)}`,
    args,
  );
  const rows = await rowsOf(
    db,
    r.rows.map((x) => x.content),
  );
  return {
    total,
    reads: rows.map((row) => ({
      when: row.recorded,
      who: row.userName,
      username: row.username,
      ...(row.organization ? { organization: row.organization } : {}),
      ...(row.purpose ? { purpose: row.purpose } : {}),
      what: row.subtype,
    })),
  };
}
