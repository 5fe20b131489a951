/**
 * Reporting-quality indicators per reporting facility and period (issue #21 item 3):
 * 及时报告率, 报告卡完整率, 重卡率, 审核及时率, 订正率.
 *
 * How the figures are kept: every transaction that writes a card (store.ts: receive, submit,
 * review, 订正, supersede by a 订正卡) ends by calling `syncReportQuality` for the cards it
 * touched. It reads those card rows by key, works out what each card now contributes (the pure
 * `cardQuality`), compares it with what the card contributed before (surv_report_quality_card)
 * and adds the difference to surv_report_quality_count (facility × month). Reading a rate sums at
 * most 12 rows per facility; a drill-down reads one facility-month index range. Migration 254
 * backfills both tables from the cards already stored.
 *
 * Why in the writing transaction and not a change-log processor: what the rates need (first
 * report time, deadline, duplicate link, review time, 订正) is on the surv_report_card row, not in
 * the FHIR Task, and every path that changes it already holds that row's lock in its own
 * transaction, so the counts move exactly with the card (no lag, no second reader of the Task).
 *
 * Definitions and limits — 《传染病信息报告管理规范（2015年版）》（国卫办疾控发〔2015〕53号）:
 *  - 「报告时限」: 甲类, and 乙类 managed as 甲类 (肺炭疽, 传染性非典型肺炎), within 2 h of the
 *    diagnosis; other 乙/丙 cases within 24 h. The hours per disease are configuration
 *    (config/surveillance/notifiable-diseases.json deadlineHours); the card's deadline_at holds them.
 *  - 「报告数据管理 — 审核」: the county CDC confirms 甲类 / managed-as-甲类 reports within 2 h
 *    and other 乙/丙 cards within 24 h. So the review limit here is 2 h for cards whose reporting
 *    limit is 2 h and 24 h for the rest, counted from the card's report time.
 *  - 「报告数据管理 — 订正」 and 「查重」: corrected cards and duplicate reports.
 *  - 「填报要求」: the card filled in completely; the mandatory fields are card.ts validateCard.
 * The rate form (cards meeting the rule ÷ cards reported × 100%) follows the 考核指标 of
 * 《国家基本公共卫生服务规范（第三版）》 (传染病疫情报告及时率 = 报告及时的病例数 / 报告传染病病例数).
 *
 * Which cards count: initial cards (card_type 'initial') once reported (not drafts), each in the
 * month (China time) of its first report; a 订正卡 from another system is not a new report, it
 * marks the card it corrects as corrected. Returned (退卡) and superseded cards stay counted: they
 * were reported.
 */
import type { Database, Queryable } from '../../platform/db.js';
import { badRequest } from '../../platform/errors.js';
import { facilityNames } from '../../registry/index.js';
import { todayInChina } from '../../shared/dates.js';
import { validateCard } from './card.js';
import type {
  FacilityReportingQuality,
  QualityPeriod,
  ReportingQualityCard,
  ReportingQualityCards,
  ReportingQualityCardsQuery,
  ReportingQualityCode,
  ReportingQualityDefinition,
  ReportingQualityList,
} from './quality-schemas.js';
import { percentOf } from '../../shared/percent.js';

const NORM = '《传染病信息报告管理规范（2015年版）》（国卫办疾控发〔2015〕53号）';

export const REPORTING_QUALITY_DEFINITIONS: ReportingQualityDefinition[] = [
  {
    code: 'timely-reporting',
    name: '及时报告率',
    numerator: '首次报告时间不晚于法定时限（甲类及按甲类管理的乙类：诊断后 2 小时；其他乙、丙类：诊断后 24 小时）的报告卡数',
    denominator: '期内首次报告的初次报告卡数（不含草稿；退卡、被订正卡仍计入）',
    better: 'higher',
    source: `${NORM}「报告时限」；率的算法同《国家基本公共卫生服务规范（第三版）》传染病疫情报告及时率`,
  },
  {
    code: 'card-completeness',
    name: '报告卡完整率',
    numerator: '必填项齐全的报告卡数（必填项见 card.ts validateCard；证件类型 99 且无证件号者为不完整）',
    denominator: '期内首次报告的初次报告卡数',
    better: 'higher',
    source: `${NORM}「填报要求」：报告卡内容完整、准确，须填报有效证件号码`,
  },
  {
    code: 'duplicate-cards',
    name: '重卡率',
    numerator: '同一人（证件号，或姓名+出生日期+性别）同一病种 365 天内已有报告卡而重复报告的卡数',
    denominator: '期内首次报告的初次报告卡数',
    better: 'lower',
    source: `${NORM}「报告数据管理—查重」`,
  },
  {
    code: 'timely-review',
    name: '审核及时率',
    numerator: '报告后在审核时限内（甲类及按甲类管理的乙类 2 小时，其他 24 小时）首次审核（审核通过、退卡或疾控订正）的报告卡数',
    denominator: '期内首次报告的初次报告卡数（尚未审核者计入分母、不计入分子）',
    better: 'higher',
    source: `${NORM}「报告数据管理—审核」`,
  },
  {
    code: 'corrected-cards',
    name: '订正率',
    numerator: '报告后被订正（订正操作或由订正卡替代）的报告卡数',
    denominator: '期内首次报告的初次报告卡数',
    better: 'lower',
    source: `${NORM}「报告数据管理—订正」`,
  },
];

// ------------------------------------------------------------------------------------------
// Periods

const pad = (n: number) => String(n).padStart(2, '0');
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** A period label (YYYY, YYYY-Qn, YYYY-MM) as first and last day; default: this month in China. */
export function parseQualityPeriod(label: string | undefined, today = todayInChina()): QualityPeriod {
  const p = label ?? today.slice(0, 7);
  let m = /^(\d{4})$/.exec(p);
  if (m) return { label: p, kind: 'year', from: `${m[1]}-01-01`, to: `${m[1]}-12-31` };
  m = /^(\d{4})-Q([1-4])$/.exec(p);
  if (m) {
    const y = Number(m[1]);
    const last = Number(m[2]) * 3;
    return { label: p, kind: 'quarter', from: `${y}-${pad(last - 2)}-01`, to: `${y}-${pad(last)}-${pad(lastDay(y, last))}` };
  }
  m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(p);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    return { label: p, kind: 'month', from: `${p}-01`, to: `${p}-${pad(lastDay(y, mo))}` };
  }
  throw badRequest(`period: expected YYYY, YYYY-Qn or YYYY-MM (got '${p}')`);
}

/** The `n` periods of the same kind ending with `period` (oldest first). */
export function previousPeriods(period: QualityPeriod, n: number): QualityPeriod[] {
  const out: QualityPeriod[] = [];
  const y = Number(period.label.slice(0, 4));
  for (let i = n - 1; i >= 0; i--) {
    if (period.kind === 'year') out.push(parseQualityPeriod(String(y - i)));
    else if (period.kind === 'quarter') {
      const q = y * 4 + Number(period.label.slice(6)) - 1 - i;
      out.push(parseQualityPeriod(`${Math.floor(q / 4)}-Q${(q % 4) + 1}`));
    } else {
      const k = y * 12 + Number(period.label.slice(5, 7)) - 1 - i;
      out.push(parseQualityPeriod(`${Math.floor(k / 12)}-${pad((k % 12) + 1)}`));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// One card's contribution (pure)

/** The card row fields the rules read. */
export interface QualitySourceRow {
  id: string;
  status: string;
  card_type: string;
  facility_code: string | null;
  facility_name: string | null;
  patient_id: string | null;
  submitted_at: string | null;
  deadline_at: string | null;
  diagnosed_at: string | null;
  reviewed_at: string | null;
  duplicate_of: string | null;
  card: unknown;
  /** A 'correct' event exists for the card. */
  corrected_event: boolean;
}

/** What a card contributes, as stored in surv_report_quality_card. */
export interface QualityCardRow {
  card_id: string;
  facility: string;
  month: string;
  patient_id: string | null;
  reported_at: string;
  deadline_at: string | null;
  timely: boolean;
  missing: string[];
  duplicate: boolean;
  review_limit_hours: number;
  first_reviewed_at: string | null;
  review_timely: boolean;
  corrected: boolean;
}

/** The review limit: 2 h for cards with a 2-hour reporting limit, 24 h otherwise (see the header). */
export function reviewLimitHours(deadlineAt: string | null, diagnosedAt: string | null): 2 | 24 {
  if (!deadlineAt || !diagnosedAt) return 24;
  return Date.parse(deadlineAt) - Date.parse(diagnosedAt) <= 2 * 3_600_000 ? 2 : 24;
}

/** The month (YYYY-MM-01) of an instant in China time. */
export function chinaMonthOf(instant: string): string {
  return `${new Date(Date.parse(instant) + 8 * 3_600_000).toISOString().slice(0, 7)}-01`;
}

/** Mandatory fields a card lacks (the card.ts rules in submit mode; warnings count as missing). */
export function missingFields(card: unknown): string[] {
  const { issues, warnings } = validateCard(card, 'submit');
  return [...new Set([...issues, ...warnings].map((i) => i.field))].sort();
}

/**
 * What a card contributes now, given what it contributed before (`prev`: its first report time
 * and first review stay). Null when the card does not count (a draft, or a 订正卡 itself).
 */
export function cardQuality(row: QualitySourceRow, prev: QualityCardRow | null): QualityCardRow | null {
  if (row.card_type !== 'initial' || row.status === 'draft' || !row.submitted_at) return null;
  const reportedAt = prev?.reported_at ?? row.submitted_at;
  const limit = reviewLimitHours(row.deadline_at, row.diagnosed_at);
  const candidates = [prev?.first_reviewed_at, row.reviewed_at].filter((x): x is string => !!x);
  const firstReview = candidates.length ? candidates.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null;
  return {
    card_id: row.id,
    facility: row.facility_code ?? '',
    month: chinaMonthOf(reportedAt),
    patient_id: row.patient_id,
    reported_at: reportedAt,
    deadline_at: row.deadline_at,
    timely: !row.deadline_at || Date.parse(reportedAt) <= Date.parse(row.deadline_at),
    missing: missingFields(row.card),
    duplicate: row.duplicate_of !== null,
    review_limit_hours: limit,
    first_reviewed_at: firstReview,
    review_timely: !!firstReview && Date.parse(firstReview) - Date.parse(reportedAt) <= limit * 3_600_000,
    corrected: !!prev?.corrected || row.status === 'superseded' || row.corrected_event,
  };
}

/** The counts a card adds: reported, timely, complete, duplicate, reviewed, review_timely, corrected. */
export function contribution(q: QualityCardRow | null): number[] {
  if (!q) return [0, 0, 0, 0, 0, 0, 0];
  const b = (x: boolean) => (x ? 1 : 0);
  return [1, b(q.timely), b(q.missing.length === 0), b(q.duplicate), b(!!q.first_reviewed_at), b(q.review_timely), b(q.corrected)];
}

// ------------------------------------------------------------------------------------------
// Keeping the counts (called inside the transaction that wrote the cards)

const QUALITY_COLS = `card_id, facility, month::text AS month, patient_id, reported_at, deadline_at, timely, missing, duplicate,
  review_limit_hours, first_reviewed_at, review_timely, corrected`;

/**
 * Brings the quality rows and counts of these cards up to date with their stored rows. Idempotent:
 * calling it again for an unchanged card moves nothing. Cost: two key lookups and two upserts.
 */
export async function syncReportQuality(client: Queryable, ids: readonly string[]): Promise<void> {
  const unique = [...new Set(ids.filter(Boolean))];
  if (!unique.length) return;
  const rows = await client.query<QualitySourceRow>(
    `SELECT c.id, c.status, c.card_type, c.facility_code, c.facility_name, c.patient_id, c.submitted_at, c.deadline_at, c.diagnosed_at, c.reviewed_at,
            c.duplicate_of, c.card,
            EXISTS (SELECT 1 FROM surv_report_card_event e WHERE e.card_id = c.id AND e.action = 'correct') AS corrected_event
     FROM surv_report_card c WHERE c.id = ANY($1::text[])`,
    [unique],
  );
  const prevRows = await client.query<QualityCardRow>(
    `SELECT ${QUALITY_COLS} FROM surv_report_quality_card WHERE card_id = ANY($1::text[])`,
    [unique],
  );
  const prev = new Map(prevRows.rows.map((r) => [r.card_id, r]));
  const deltas = new Map<string, { facility: string; month: string; name: string | null; n: number[] }>();
  const add = (q: QualityCardRow | null, sign: 1 | -1, name: string | null) => {
    if (!q) return;
    const key = `${q.facility}\u0000${q.month}`;
    const d = deltas.get(key) ?? { facility: q.facility, month: q.month, name, n: [0, 0, 0, 0, 0, 0, 0] };
    d.name = name ?? d.name;
    contribution(q).forEach((x, i) => (d.n[i]! += sign * x));
    deltas.set(key, d);
  };
  const upserts: QualityCardRow[] = [];
  const removed: string[] = [];
  for (const row of rows.rows) {
    const before = prev.get(row.id) ?? null;
    const after = cardQuality(row, before);
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    add(before, -1, null);
    add(after, 1, row.facility_name);
    if (after) upserts.push(after);
    else if (before) removed.push(row.id);
  }
  if (removed.length) await client.query('DELETE FROM surv_report_quality_card WHERE card_id = ANY($1::text[])', [removed]);
  if (upserts.length)
    await client.query(
      `INSERT INTO surv_report_quality_card AS q (card_id, facility, month, patient_id, reported_at, deadline_at, timely, missing, duplicate,
                                                  review_limit_hours, first_reviewed_at, review_timely, corrected)
       SELECT x.card_id, x.facility, x.month::date, x.patient_id, x.reported_at::timestamptz, x.deadline_at::timestamptz, x.timely,
              ARRAY(SELECT json_array_elements_text(x.missing)), x.duplicate, x.review_limit_hours, x.first_reviewed_at::timestamptz,
              x.review_timely, x.corrected
       FROM json_to_recordset($1::json) AS x(card_id text, facility text, month text, patient_id text, reported_at text, deadline_at text,
            timely boolean, missing json, duplicate boolean, review_limit_hours int, first_reviewed_at text, review_timely boolean, corrected boolean)
       ON CONFLICT (card_id) DO UPDATE SET facility = EXCLUDED.facility, month = EXCLUDED.month, patient_id = EXCLUDED.patient_id,
         reported_at = EXCLUDED.reported_at, deadline_at = EXCLUDED.deadline_at, timely = EXCLUDED.timely, missing = EXCLUDED.missing,
         duplicate = EXCLUDED.duplicate, review_limit_hours = EXCLUDED.review_limit_hours, first_reviewed_at = EXCLUDED.first_reviewed_at,
         review_timely = EXCLUDED.review_timely, corrected = EXCLUDED.corrected`,
      [JSON.stringify(upserts)],
    );
  const moved = [...deltas.values()].filter((d) => d.n.some((x) => x !== 0));
  if (!moved.length) return;
  const col = (i: number) => moved.map((d) => d.n[i]!);
  await client.query(
    `INSERT INTO surv_report_quality_count AS c (facility, month, name, reported, timely, complete, duplicate, reviewed, review_timely, corrected)
     SELECT f, m::date, nm, a, b, cc, d, e, g, h
     FROM unnest($1::text[], $2::text[], $10::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
       AS x(f, m, nm, a, b, cc, d, e, g, h)
     ON CONFLICT (facility, month) DO UPDATE SET name = coalesce(EXCLUDED.name, c.name), reported = c.reported + EXCLUDED.reported, timely = c.timely + EXCLUDED.timely,
       complete = c.complete + EXCLUDED.complete, duplicate = c.duplicate + EXCLUDED.duplicate, reviewed = c.reviewed + EXCLUDED.reviewed,
       review_timely = c.review_timely + EXCLUDED.review_timely, corrected = c.corrected + EXCLUDED.corrected`,
    [
      moved.map((d) => d.facility),
      moved.map((d) => d.month),
      col(0),
      col(1),
      col(2),
      col(3),
      col(4),
      col(5),
      col(6),
      moved.map((d) => d.name),
    ],
  );
}

// ------------------------------------------------------------------------------------------
// Reading

interface CountRow {
  facility: string;
  name: string | null;
  reported: number;
  timely: number;
  complete: number;
  duplicate: number;
  reviewed: number;
  review_timely: number;
  corrected: number;
}

const pct = percentOf;

/** The numerator of each indicator from a facility's counts (the denominator is `reported`). */
function numeratorOf(c: Omit<CountRow, 'facility' | 'name'>, code: ReportingQualityCode): number {
  switch (code) {
    case 'timely-reporting':
      return c.timely;
    case 'card-completeness':
      return c.complete;
    case 'duplicate-cards':
      return c.duplicate;
    case 'timely-review':
      return c.review_timely;
    case 'corrected-cards':
      return c.corrected;
  }
}

function facilityFigures(facility: string, name: string | null, c: Omit<CountRow, 'facility' | 'name'>): FacilityReportingQuality {
  return {
    facility,
    name,
    reported: c.reported,
    awaitingReview: c.reported - c.reviewed,
    rates: REPORTING_QUALITY_DEFINITIONS.map((d) => {
      const n = numeratorOf(c, d.code);
      return { code: d.code, numerator: n, denominator: c.reported, value: pct(n, c.reported) };
    }),
  };
}

async function countsFor(db: Queryable, period: QualityPeriod, facility?: string): Promise<CountRow[]> {
  const params: unknown[] = [period.from, period.to];
  const r = await db.query<CountRow>(
    `SELECT facility, max(name) AS name, sum(reported)::int AS reported, sum(timely)::int AS timely, sum(complete)::int AS complete,
            sum(duplicate)::int AS duplicate, sum(reviewed)::int AS reviewed, sum(review_timely)::int AS review_timely,
            sum(corrected)::int AS corrected
     FROM surv_report_quality_count WHERE month BETWEEN $1::date AND $2::date${facility !== undefined ? ` AND facility = $${params.push(facility)}` : ''}
     GROUP BY facility HAVING sum(reported) > 0 ORDER BY facility`,
    params,
  );
  return r.rows;
}

/** The five rates per reporting facility for a period, and the district's (counts summed, then divided). */
export async function reportingQuality(db: Queryable, q: { period?: string; facility?: string }): Promise<ReportingQualityList> {
  const period = parseQualityPeriod(q.period);
  const rows = await countsFor(db, period, q.facility);
  const names = await facilityNames(
    db,
    rows.map((r) => r.facility),
  );
  const sum = { reported: 0, timely: 0, complete: 0, duplicate: 0, reviewed: 0, review_timely: 0, corrected: 0 };
  for (const r of rows) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += r[k];
  return {
    period,
    definitions: REPORTING_QUALITY_DEFINITIONS,
    district: facilityFigures('', '全区', sum),
    facilities: rows.map((r) => facilityFigures(r.facility, names.get(r.facility) ?? r.name ?? null, r)),
  };
}

/**
 * The figures per facility for a period, as another capability reads them (the scorecard):
 * each facility's numerator and denominator per indicator.
 */
export async function reportingQualityByFacility(
  db: Queryable,
  periodLabel: string,
): Promise<{ period: QualityPeriod; facilities: FacilityReportingQuality[] }> {
  const period = parseQualityPeriod(periodLabel);
  const rows = await countsFor(db, period);
  return { period, facilities: rows.map((r) => facilityFigures(r.facility, r.name, r)) };
}

const NUMERATOR_SQL: Record<ReportingQualityCode, string> = {
  'timely-reporting': 'q.timely',
  'card-completeness': 'cardinality(q.missing) = 0',
  'duplicate-cards': 'q.duplicate',
  'timely-review': 'q.review_timely',
  'corrected-cards': 'q.corrected',
};

/**
 * Drill-down: the cards behind one facility's figure, by report time, a page at a time. The total
 * comes from the counts (no count over the cards).
 */
export async function reportingQualityCards(db: Database, q: ReportingQualityCardsQuery): Promise<ReportingQualityCards> {
  const period = parseQualityPeriod(q.period);
  const counts = (await countsFor(db.pool, period, q.facility))[0];
  const n = counts ? numeratorOf(counts, q.indicator) : 0;
  const d = counts?.reported ?? 0;
  const total = q.numerator === 'true' ? n : q.numerator === 'false' ? d - n : d;
  const num = NUMERATOR_SQL[q.indicator];
  const filter = q.numerator === 'true' ? ` AND (${num})` : q.numerator === 'false' ? ` AND NOT (${num})` : '';
  const r = await db.query<{
    card_id: string;
    patient_id: string | null;
    name: string | null;
    disease_name: string;
    reported_at: string;
    deadline_at: string | null;
    timely: boolean;
    missing: string[];
    duplicate_of: string | null;
    first_reviewed_at: string | null;
    review_limit_hours: number;
    review_timely: boolean;
    corrected: boolean;
    in_numerator: boolean;
  }>(
    `SELECT q.card_id, q.patient_id, c.card->>'name' AS name, c.disease_name, q.reported_at, q.deadline_at, q.timely, q.missing,
            c.duplicate_of, q.first_reviewed_at, q.review_limit_hours, q.review_timely, q.corrected, (${num}) AS in_numerator
     FROM surv_report_quality_card q JOIN surv_report_card c ON c.id = q.card_id
     WHERE q.facility = $1 AND q.month BETWEEN $2::date AND $3::date${filter}
     ORDER BY q.reported_at, q.card_id LIMIT ${q.limit} OFFSET ${q.offset}`,
    [q.facility, period.from, period.to],
  );
  const cards: ReportingQualityCard[] = r.rows.map((x) => ({
    cardId: x.card_id,
    patientId: x.patient_id,
    name: x.name,
    diseaseName: x.disease_name,
    reportedAt: x.reported_at,
    deadlineAt: x.deadline_at,
    timely: x.timely,
    missing: x.missing,
    duplicateOf: x.duplicate_of,
    firstReviewedAt: x.first_reviewed_at,
    reviewLimitHours: x.review_limit_hours,
    reviewTimely: x.review_timely,
    corrected: x.corrected,
    inNumerator: x.in_numerator,
  }));
  return { period, indicator: q.indicator, facility: q.facility, total, limit: q.limit, offset: q.offset, cards };
}
