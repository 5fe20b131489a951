/**
 * What the 医防融合月报 says for one month, as titled sections (src/shared/report-file.ts turns
 * them into xlsx and PDF). Every figure comes from another capability's public entry, never from
 * its tables:
 *  - primary care: `computeIndicators` (规范管理率, 控制率, 签约覆盖率, 接种率) for the month and the
 *    year to the month's end, for the district and per street; `programmeIndicators` for every
 *    basic public-health programme (config/programmes);
 *  - scorecard: `readScorecard` per institution and per street, `computeScorecard` when the month
 *    was never computed;
 *  - surveillance: `reportingQualityByFacility` (报告质量 per reporting facility), `countedCardsPage`
 *    (the month's counted report cards, by disease) and `alertPage` (alerts raised in the month);
 *  - portrait: `suppressCells` with its `minCell`: a street's cell with fewer than minCell people
 *    (numerator or denominator) is not shown, nor the one cell that would give it back by subtraction.
 * Everything is in words: indicator, street and facility names, levels and statuses.
 */
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import { loadPortraitConfig, suppressCells } from '../portrait/index.js';
import {
  computeIndicators,
  INDICATORS,
  loadChronicConfig,
  loadProgrammes,
  programmeIndicators,
  type ChronicConfig,
  type Programme,
} from '../primary-care/index.js';
import { facilityNames, streetNames } from '../registry/index.js';
import { computeScorecard, loadScorecards, rankingSection, readScorecard, type ScorecardDefinition } from '../scorecard/index.js';
import type { ReportSection } from '../shared/report-file.js';
import {
  alertPage,
  countedCardsPage,
  parseQualityPeriod,
  REPORTING_QUALITY_DEFINITIONS,
  reportingQualityByFacility,
  type QualityPeriod,
} from '../surveillance/index.js';
import { percentOf } from '../shared/percent.js';

/** The settings and definitions a report is built from (loaded once per module; tests may hand in others). */
export interface ReportSources {
  chronic: ChronicConfig;
  programmes: Programme[];
  scorecards: ScorecardDefinition[];
  /** Fewer people than this in a street's cell: not shown (the portrait's rule). */
  minCell: number;
}

export function loadReportSources(): ReportSources {
  return {
    chronic: loadChronicConfig(),
    programmes: loadProgrammes(),
    scorecards: loadScorecards(),
    minCell: loadPortraitConfig().minCell,
  };
}

export interface BuiltReport {
  title: string;
  subtitle: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  sections: ReportSection<any>[];
}

/** Audits a scorecard computation the report had to make (a write, in its transaction). */
export type ScorecardAudit = (client: pg.PoolClient, what: { opened: number; closed: number; period: string }) => Promise<void>;

type Figure = { numerator: number; denominator: number };

const pct = (f: Figure | undefined): number | null => (f ? percentOf(f.numerator, f.denominator) : null);
const rateText = (f: Figure | undefined) => {
  const v = pct(f);
  return v === null ? '—' : `${v.toFixed(1)}%`;
};
const ratio = (f: Figure | undefined) => (f ? `${f.numerator}/${f.denominator}` : '—');
const GREEN = '#D9F7BE';
const YELLOW = '#FFF1B8';
const RED = '#FFCCC7';
const SUPPRESSED_WORD: Record<string, string> = { small: '不足5人，不公开', complementary: '不公开（防反推）' };
/** The portrait's small-cell rule over these cells: the words shown instead of each hidden one, by key. */
const suppressedWords = (cells: { key: string; numerator: number; denominator: number }[], minCell: number) =>
  new Map([...suppressCells(cells, minCell).cells].map(([key, why]) => [key, why ? SUPPRESSED_WORD[why] : null]));
const ALERT_LEVEL_WORD: Record<string, string> = { red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色' };
const ALERT_STATUS_WORD: Record<string, string> = {
  new: '新预警',
  triage: '研判中',
  suspected: '疑似事件',
  confirmed: '确认事件',
  response: '响应处置',
  dismissed: '已排除',
  closed: '已关闭',
};
const CLASS_WORD: Record<string, string> = { 甲: '甲类', 乙: '乙类', 丙: '丙类', A: '甲类', B: '乙类', C: '丙类' };

const add = (m: Map<string, Figure>, key: string, n: number, d: number) => {
  const f = m.get(key) ?? { numerator: 0, denominator: 0 };
  f.numerator += n;
  f.denominator += d;
  m.set(key, f);
};

/** The title a month's report and its files are named by. */
export const reportTitle = (month: string) => `医防融合月报（${month.slice(0, 4)}年${Number(month.slice(5))}月）`;

/** The first instant of a China date, as a Date. */
const chinaStart = (day: string) => new Date(`${day}T00:00:00+08:00`);

/** The month's end in China time as an instant (the first instant of the next month). */
export function monthEnd(month: string): Date {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return chinaStart(`${next}-01`);
}

// ---- primary care ------------------------------------------------------------------------

/** The chronic-care, contract and immunization indicators, one line per figure (contract coverage per key population, vaccines summed over doses). */
type CareLine = { key: string; name: string; target: number | null };

function careLines(): CareLine[] {
  return INDICATORS.flatMap((d) => {
    if (d.code === 'contract-coverage')
      return ['all', 'elderly', 'children', 'chronic', 'pregnant', 'disabled', 'hardship'].map((p) => ({
        key: `${d.code}|${p}`,
        name: `${d.name}（${POPULATION_WORD[p]}）`,
        target: d.target,
      }));
    if (d.code === 'vaccine-coverage') return [{ key: d.code, name: `${d.name}（全部剂次合计）`, target: d.target }];
    return [{ key: d.code, name: d.name, target: d.target }];
  });
}

const POPULATION_WORD: Record<string, string> = {
  all: '全人群',
  elderly: '65岁及以上老年人',
  children: '0–6岁儿童',
  chronic: '慢病患者',
  pregnant: '孕产妇',
  disabled: '残疾人',
  hardship: '特困家庭',
};

/** indicator line → group → figure. */
async function careFigures(
  db: Database,
  src: ReportSources,
  period: { from: string; to: string; label: string },
  groupBy: 'total' | 'street',
  asOf: string,
): Promise<Map<string, Map<string, Figure>>> {
  const values = await computeIndicators(
    db.pool,
    INDICATORS.map((i) => i.code),
    { period, groupBy, asOf: period.to < asOf ? period.to : asOf },
    src.chronic.sets,
    src.chronic.schedules,
  );
  const out = new Map<string, Map<string, Figure>>();
  for (const v of values) {
    if (v.group === '(none)') continue;
    // Contract coverage per key population; vaccine coverage summed over its doses.
    const key = v.indicator === 'contract-coverage' ? `${v.indicator}|${v.population ?? 'all'}` : v.indicator;
    const m = out.get(key) ?? new Map<string, Figure>();
    add(m, v.group, v.numerator, v.denominator);
    out.set(key, m);
  }
  return out;
}

async function careSections(db: Database, src: ReportSources, period: QualityPeriod, today: string) {
  const year = period.from.slice(0, 4);
  const month = await careFigures(db, src, period, 'total', today);
  const ytd = await careFigures(db, src, { from: `${year}-01-01`, to: period.to, label: `${year}-01-01/${period.to}` }, 'total', today);
  type Row = CareLine & { month?: Figure; ytd?: Figure };
  const rows: Row[] = careLines()
    .map((l) => ({ ...l, month: month.get(l.key)?.get('all'), ytd: ytd.get(l.key)?.get('all') }))
    .filter((r) => r.month || r.ytd || !r.key.startsWith('contract-coverage|') || r.key.endsWith('|all'));
  const met = (r: Row) => {
    const v = pct(r.ytd);
    return v === null || r.target === null ? null : v >= r.target;
  };
  const district: ReportSection<Row> = {
    heading: '慢病管理、签约与免疫（全区）',
    columns: [
      { header: '指标', value: (r) => r.name, width: 30 },
      { header: '本月 分子/分母', value: (r) => ratio(r.month), width: 14 },
      { header: '本月', value: (r) => rateText(r.month), width: 9 },
      { header: `${year}年累计 分子/分母`, value: (r) => ratio(r.ytd), width: 16 },
      { header: `${year}年累计`, value: (r) => rateText(r.ytd), width: 10 },
      { header: '目标', value: (r) => (r.target === null ? '区县自定' : `${r.target}%`), width: 9 },
      {
        header: '达标情况',
        value: (r) => (met(r) === null ? '—' : met(r) ? '达标' : '未达标'),
        width: 9,
        fill: (r) => (met(r) === null ? undefined : met(r) ? GREEN : RED),
      },
    ],
    rows,
    note: '规范管理率按期内随访次数与按时随访判定，月度数值随访次数少，宜看年度累计。签约覆盖率、接种率为期末时点值。口径见 /api/indicators 的指标定义。',
  };

  // Per street: the month, small cells suppressed per indicator.
  const byStreet = await careFigures(db, src, period, 'street', today);
  const lines = careLines().filter((l) => !l.key.startsWith('contract-coverage|') || l.key.endsWith('|all'));
  const streets = [...new Set([...byStreet.values()].flatMap((m) => [...m.keys()]))].sort();
  const names = await streetNames(db.pool, streets);
  const hidden = new Map<string, Map<string, string | null>>();
  for (const l of lines) {
    const m = byStreet.get(l.key) ?? new Map<string, Figure>();
    hidden.set(
      l.key,
      suppressedWords(
        streets.map((code) => ({ key: code, numerator: m.get(code)?.numerator ?? 0, denominator: m.get(code)?.denominator ?? 0 })),
        src.minCell,
      ),
    );
  }
  const perStreet: ReportSection<string> = {
    heading: '慢病管理、签约与免疫（按街道，本月）',
    columns: [
      { header: '街道', value: (code) => names.get(code) ?? code, width: 18 },
      ...lines.map((l) => ({
        header: l.name.replace('（全人群）', ''),
        width: 14,
        value: (code: string) => {
          const instead = hidden.get(l.key)?.get(code);
          if (instead) return instead;
          const f = byStreet.get(l.key)?.get(code);
          return f ? `${rateText(f)}（${ratio(f)}）` : '—';
        },
      })),
    ],
    rows: streets,
    note: `人数少于 ${src.minCell} 人的单元格不公开；若只隐藏一个单元格可由合计反推，则同时隐藏另一个（与健康画像同一规则）。`,
  };
  return [district, perStreet];
}

async function programmeSection(db: Database, src: ReportSources, period: QualityPeriod, today: string) {
  const year = period.from.slice(0, 4);
  type Row = { programme: string; name: string; month?: Figure; ytd?: Figure; target: number | null; met: boolean | null };
  const rows: Row[] = [];
  const asOf = period.to < today ? period.to : today;
  for (const p of src.programmes) {
    const month = await programmeIndicators(db, p, { period: `${period.from}/${period.to}`, groupBy: 'total', asOf }, today);
    const ytd = await programmeIndicators(db, p, { period: `${year}-01-01/${period.to}`, groupBy: 'total', asOf }, today);
    for (const d of month.definitions) {
      const m = month.values.find((v) => v.indicator === d.code);
      const y = ytd.values.find((v) => v.indicator === d.code);
      rows.push({ programme: p.name, name: d.name, month: m, ytd: y, target: d.target, met: y?.meetsTarget ?? null });
    }
  }
  const section: ReportSection<Row> = {
    heading: '基本公共卫生服务项目（全区）',
    columns: [
      { header: '项目', value: (r) => r.programme, width: 20 },
      { header: '指标', value: (r) => r.name, width: 24 },
      { header: '本月 分子/分母', value: (r) => ratio(r.month), width: 14 },
      { header: '本月', value: (r) => rateText(r.month), width: 9 },
      { header: `${year}年累计 分子/分母`, value: (r) => ratio(r.ytd), width: 16 },
      { header: `${year}年累计`, value: (r) => rateText(r.ytd), width: 10 },
      { header: '目标', value: (r) => (r.target === null ? '—' : `${r.target}%`), width: 8 },
      {
        header: '达标情况',
        value: (r) => (r.met === null ? '—' : r.met ? '达标' : '未达标'),
        width: 9,
        fill: (r) => (r.met === null ? undefined : r.met ? GREEN : RED),
      },
    ],
    rows,
    note: '项目与指标定义见 config/programmes（国家基本公共卫生服务规范）。',
  };
  return section;
}

// ---- scorecards --------------------------------------------------------------------------

type Scorecard = Awaited<ReturnType<typeof readScorecard>>;

async function scorecardOf(db: Database, def: ScorecardDefinition, level: 'institution' | 'street', month: string, audit?: ScorecardAudit) {
  const stored = await readScorecard(db, def, level, month);
  if (stored.computedAt) return stored;
  return computeScorecard(db, def, level, month, audit);
}

/** A scorecard's ranking in the report: the scorecard's table, small streets' cells hidden (the portrait's rule). */
export function scorecardSection(
  sc: Scorecard,
  level: 'institution' | 'street',
  minCell: number,
): ReportSection<Scorecard['units'][number]> {
  const word = level === 'institution' ? '机构' : '街道';
  return rankingSection(sc, level, {
    heading: `${sc.scorecard.name}（${word}）`,
    note:
      level === 'street'
        ? `总分 = 100 × Σ(权重 × 达成度) ÷ 有数据项目的权重之和；人数少于 ${minCell} 人的单元格不公开（与健康画像同一规则）。`
        : '总分 = 100 × Σ(权重 × 达成度) ÷ 有数据项目的权重之和；红色项目自动生成整改任务。',
    // Streets: a cell with few people is not shown (nor its colour), per item over the streets.
    suppress: level === 'street' ? (cells) => suppressedWords(cells, minCell) : undefined,
    percent: (v) => `${v.toFixed(1)}%`,
    noValue: () => '—',
    tasksHeader: '待整改任务',
    widths: { unit: 22, item: 14, tasks: 9 },
  });
}

// ---- surveillance ------------------------------------------------------------------------

async function qualitySection(db: Database, period: QualityPeriod) {
  const rq = await reportingQualityByFacility(db.pool, period.label);
  const names = await facilityNames(
    db.pool,
    rq.facilities.map((f) => f.facility),
  );
  type Row = { name: string; reported: number; awaitingReview: number; rates: Map<string, Figure> };
  const rows: Row[] = rq.facilities.map((f) => ({
    name: names.get(f.facility) ?? f.name ?? (f.facility || '未注明报告单位'),
    reported: f.reported,
    awaitingReview: f.awaitingReview,
    rates: new Map(f.rates.map((r) => [r.code, r])),
  }));
  rows.sort((a, b) => b.reported - a.reported || a.name.localeCompare(b.name));
  const total: Row = { name: '全区合计', reported: 0, awaitingReview: 0, rates: new Map() };
  for (const r of rows) {
    total.reported += r.reported;
    total.awaitingReview += r.awaitingReview;
    for (const [code, f] of r.rates) add(total.rates, code, f.numerator, f.denominator);
  }
  const section: ReportSection<Row> = {
    heading: '传染病报告质量（按报告单位）',
    columns: [
      { header: '报告单位', value: (r) => r.name, width: 24 },
      { header: '报告卡数', value: (r) => r.reported, width: 9 },
      { header: '待审核', value: (r) => r.awaitingReview, width: 8 },
      ...REPORTING_QUALITY_DEFINITIONS.map((d) => ({
        header: d.name,
        width: 14,
        value: (r: Row) => {
          const f = r.rates.get(d.code);
          return f && f.denominator ? `${rateText(f)}（${ratio(f)}）` : '—';
        },
      })),
    ],
    rows: rows.length ? [...rows, total] : [],
    note: '初次报告卡按首次报告时间（北京时间）计入当月；时限与审核时限依《传染病信息报告管理规范（2015年版）》。',
  };
  return { section, total };
}

async function casesSection(db: Database, period: QualityPeriod) {
  type Row = { cls: string; name: string; cases: number };
  const byDisease = new Map<string, Row>();
  let after: { diagnosedAt: string; id: string } | undefined;
  for (;;) {
    const page = await countedCardsPage(db.pool, { from: period.from, to: period.to, after, limit: 5000 });
    for (const c of page) {
      const r = byDisease.get(c.diseaseKey) ?? { cls: CLASS_WORD[c.diseaseClass ?? ''] ?? '其他', name: c.diseaseName, cases: 0 };
      r.cases++;
      byDisease.set(c.diseaseKey, r);
    }
    if (page.length < 5000) break;
    const last = page.at(-1)!;
    after = { diagnosedAt: new Date(last.diagnosedAt).toISOString(), id: last.id };
  }
  const order = ['甲类', '乙类', '丙类', '其他'];
  const rows = [...byDisease.values()].sort(
    (a, b) => order.indexOf(a.cls) - order.indexOf(b.cls) || b.cases - a.cases || a.name.localeCompare(b.name),
  );
  const total = rows.reduce((s, r) => s + r.cases, 0);
  const section: ReportSection<Row> = {
    heading: '法定传染病报告病例（按病种）',
    columns: [
      { header: '类别', value: (r) => r.cls, width: 8 },
      { header: '病种', value: (r) => r.name, width: 24 },
      { header: '报告病例数', value: (r) => r.cases, width: 10 },
    ],
    rows: rows.length ? [...rows, { cls: '', name: '合计', cases: total }] : [],
    note: '按诊断日期（北京时间）计入当月；已提交或已审核、非重卡、未被订正卡替代的报告卡。',
  };
  return { section, total };
}

async function alertsSection(db: Database, period: QualityPeriod) {
  const start = chinaStart(period.from).getTime();
  const end = monthEnd(period.label).getTime();
  const counts = new Map<string, number>();
  let total = 0;
  let red = 0;
  for (let offset = 0; offset < 100_000; offset += 200) {
    const page = await alertPage(db, { sort: 'newest', limit: 200, offset });
    for (const a of page.rows) {
      const at = new Date(a.createdAt).getTime();
      if (at >= end || at < start) continue;
      const k = `${a.level}\u0001${a.status}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      total++;
      if (a.level === 'red') red++;
    }
    const last = page.rows.at(-1);
    if (page.rows.length < 200 || !last || new Date(last.createdAt).getTime() < start) break;
  }
  type Row = { level: string; status: string; n: number };
  const levelOrder = ['red', 'orange', 'yellow', 'blue'];
  const statusOrder = Object.keys(ALERT_STATUS_WORD);
  const rows: Row[] = [...counts]
    .map(([k, n]) => {
      const [level, status] = k.split('\u0001') as [string, string];
      return { level, status, n };
    })
    .sort(
      (a, b) => levelOrder.indexOf(a.level) - levelOrder.indexOf(b.level) || statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status),
    );
  const section: ReportSection<Row> = {
    heading: '预警信号（按级别与当前状态）',
    columns: [
      {
        header: '预警级别',
        value: (r) => ALERT_LEVEL_WORD[r.level] ?? r.level,
        width: 10,
        fill: (r) => (r.level === 'red' ? RED : r.level === 'orange' ? '#FFE7BA' : r.level === 'yellow' ? YELLOW : undefined),
      },
      { header: '当前状态', value: (r) => ALERT_STATUS_WORD[r.status] ?? r.status, width: 12 },
      { header: '预警数', value: (r) => r.n, width: 8 },
    ],
    rows,
    note: '当月产生的预警（北京时间），状态为生成报告时的状态。',
  };
  return { section, total, red };
}

// ---- the report --------------------------------------------------------------------------

export interface BuildInput {
  db: Database;
  sources: ReportSources;
  month: string;
  /** Today in China (YYYY-MM-DD): figures of a month not over yet run to today. */
  today: string;
  scorecardAudit?: ScorecardAudit;
}

export async function buildMonthlyReport(input: BuildInput): Promise<BuiltReport> {
  const { db, sources, month, today } = input;
  const period = parseQualityPeriod(month, today);
  const care = await careSections(db, sources, period, today);
  const programmes = await programmeSection(db, sources, period, today);
  const scorecards: ReportSection<unknown>[] = [];
  for (const def of sources.scorecards)
    for (const level of ['institution', 'street'] as const)
      scorecards.push(
        scorecardSection(await scorecardOf(db, def, level, month, input.scorecardAudit), level, sources.minCell) as ReportSection<unknown>,
      );
  const quality = await qualitySection(db, period);
  const cases = await casesSection(db, period);
  const alerts = await alertsSection(db, period);

  type Line = { item: string; value: string | number };
  const timely = quality.total.rates.get('timely-reporting');
  const overview: ReportSection<Line> = {
    heading: '本月概况',
    columns: [
      { header: '项目', value: (r) => r.item, width: 30 },
      { header: '数值', value: (r) => r.value, width: 20 },
    ],
    rows: [
      { item: '法定传染病报告病例数', value: cases.total },
      { item: '传染病报告卡数（初次报告）', value: quality.total.reported },
      { item: '及时报告率', value: timely?.denominator ? `${rateText(timely)}（${ratio(timely)}）` : '—' },
      { item: '新发预警数', value: alerts.total },
      { item: '其中红色预警', value: alerts.red },
    ],
  };
  const partial = period.to >= today;
  return {
    title: reportTitle(month),
    subtitle: [`统计期：${period.from} 至 ${period.to}${partial ? `（本月尚未结束，数据截至 ${today}）` : ''}`],
    sections: [overview, ...care, programmes, ...scorecards, quality.section, cases.section, alerts.section],
  };
}
