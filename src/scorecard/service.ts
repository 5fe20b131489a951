/**
 * Computing a scorecard for one level and period: figures from the indicators' providers, cells
 * coloured and scored, units ranked, the run stored, red cells' tasks opened and green cells'
 * tasks closed (in one transaction with the run). The trend reads the stored runs of the earlier
 * periods; an earlier period never computed is computed (and stored) then, without touching tasks.
 */
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import { notFound } from '../platform/errors.js';
import { facilityNames, streetNames } from '../registry/index.js';
import { chinaDateTimeOf } from '../shared/dates.js';
import { reportFile, type ReportFile, type ReportFormat, type ReportSection } from '../shared/report-file.js';
import { parseQualityPeriod, previousPeriods, type QualityPeriod } from '../surveillance/index.js';
import type { ScorecardDefinition } from './definition.js';
import { LEVEL_WORD, percentText, rankingSection } from './ranking-section.js';
import { fetchFigures, INDICATOR_CATALOGUE, type Level } from './indicators.js';
import { cellFor, rank, totalOf, type UnitScore } from './score.js';
import type { ScorecardResult, ScorecardSummary } from './schemas.js';
import { openTaskCounts, readRuns, saveRun, syncTasks, type CellState } from './store.js';

/** How many periods the trend shows, the current one included. */
export const TREND_PERIODS: Record<QualityPeriod['kind'], number> = { month: 6, quarter: 4, year: 3 };

export function summary(def: ScorecardDefinition): ScorecardSummary {
  return {
    id: def.id,
    name: def.name,
    description: def.description ?? null,
    items: def.items.map((i) => ({
      key: i.key,
      name: i.name,
      weight: i.weight,
      indicator: i.indicator,
      indicatorName: INDICATOR_CATALOGUE[i.indicator]!.name,
      better: i.better,
      target: i.target,
      targetSource: i.targetSource,
      bands: i.bands,
      source: i.source,
    })),
  };
}

export function findScorecard(defs: readonly ScorecardDefinition[], id: string): ScorecardDefinition {
  const d = defs.find((x) => x.id === id);
  if (!d) throw notFound(`scorecard '${id}' is not defined (config/scorecard/); known: ${defs.map((x) => x.id).join(', ')}`);
  return d;
}

/** Every unit's cells, total and rank for a period (no storage). */
export async function scoreUnits(db: Database, def: ScorecardDefinition, level: Level, period: QualityPeriod): Promise<UnitScore[]> {
  const figures = await fetchFigures(db, [...new Set(def.items.map((i) => i.indicator))], level, period);
  const codes = new Set<string>();
  for (const m of figures.values()) for (const k of m.keys()) codes.add(k);
  const names = level === 'institution' ? await facilityNames(db.pool, [...codes]) : await streetNames(db.pool, codes);
  const units: UnitScore[] = [...codes].map((code) => {
    const cells = def.items.map((it) => cellFor(it, figures.get(it.indicator)!.get(code)));
    return { code, name: names.get(code) ?? null, cells, total: totalOf(def.items, cells), rank: null };
  });
  return rank(units);
}

/** Computes, stores and acts on one period (tasks); returns what the screen shows. */
export async function computeScorecard(
  db: Database,
  def: ScorecardDefinition,
  level: Level,
  periodLabel: string | undefined,
  audit?: (client: pg.PoolClient, what: { opened: number; closed: number; period: string }) => Promise<void>,
): Promise<ScorecardResult> {
  const period = parseQualityPeriod(periodLabel);
  const units = await scoreUnits(db, def, level, period);
  const key = { scorecardId: def.id, level, period: period.label, periodTo: period.to };
  const red: CellState[] = [];
  const green: CellState[] = [];
  for (const u of units)
    for (const c of u.cells) {
      const item = def.items.find((i) => i.key === c.item)!;
      const s = { owner: u.code, ownerName: u.name, item: c.item, itemName: item.name, value: c.value };
      if (c.colour === 'red') red.push(s);
      else if (c.colour === 'green') green.push(s);
    }
  const { computedAt, opened, closed } = await db.transaction(async (client) => {
    const at = await saveRun(client, { ...key, units });
    const t = await syncTasks(client, key, red, green);
    await audit?.(client, { ...t, period: period.label });
    return { computedAt: at, ...t };
  });
  // Earlier periods for the trend: computed once when missing.
  const earlier = previousPeriods(period, TREND_PERIODS[period.kind]).slice(0, -1);
  const stored = await readRuns(
    db.pool,
    def.id,
    level,
    earlier.map((p) => p.label),
  );
  for (const p of earlier)
    if (!stored.has(p.label)) {
      const u = await scoreUnits(db, def, level, p);
      await saveRun(db.pool, { scorecardId: def.id, level, period: p.label, periodTo: p.to, units: u });
    }
  const result = await readScorecard(db, def, level, period.label);
  return { ...result, tasksOpened: opened, tasksClosed: closed, computedAt };
}

/** The stored run of a period with its trend and open tasks (computedAt null when never computed). */
export async function readScorecard(
  db: Database,
  def: ScorecardDefinition,
  level: Level,
  periodLabel: string | undefined,
): Promise<ScorecardResult> {
  const period = parseQualityPeriod(periodLabel);
  const periods = previousPeriods(period, TREND_PERIODS[period.kind]);
  const runs = await readRuns(
    db.pool,
    def.id,
    level,
    periods.map((p) => p.label),
  );
  const current = runs.get(period.label);
  const open = await openTaskCounts(db.pool, def.id, level);
  return {
    scorecard: summary(def),
    level,
    period,
    computedAt: current?.computedAt ?? null,
    units: (current?.units ?? []).map((u) => ({
      ...u,
      trend: periods.map((p) => ({ period: p.label, total: runs.get(p.label)?.units.find((x) => x.code === u.code)?.total ?? null })),
      openTasks: open.get(u.code) ?? 0,
    })),
    tasksOpened: 0,
    tasksClosed: 0,
  };
}

/**
 * One stored scorecard run as a document (xlsx, CSV or PDF): the ranked units with each item's
 * value in words and colour, then the items with weight, target and source. The figures are the
 * screen's (readScorecard); a period never computed gives the tables with no rows.
 */
export async function scorecardFile(
  db: Database,
  def: ScorecardDefinition,
  level: Level,
  periodLabel: string | undefined,
  format: ReportFormat,
): Promise<ReportFile> {
  const sc = await readScorecard(db, def, level, periodLabel);
  const items = sc.scorecard.items;
  const units = rankingSection(sc, level, { heading: `${LEVEL_WORD[level]}排名`, note: sc.computedAt ? undefined : '本期尚未计算。' });
  const itemList: ReportSection<(typeof items)[number]> = {
    heading: '评估项目',
    columns: [
      { header: '项目', value: (i) => i.name, width: 20 },
      { header: '权重', value: (i) => i.weight, width: 6 },
      { header: '指标', value: (i) => i.indicatorName, width: 20 },
      { header: '方向', value: (i) => (i.better === 'higher' ? '越高越好' : '越低越好'), width: 8 },
      { header: '目标', value: (i) => percentText(i.target), width: 8 },
      { header: '目标来源', value: (i) => i.targetSource, width: 20 },
      { header: '依据', value: (i) => i.source, width: 24 },
    ],
    rows: items,
  };
  const title = `${def.name}（${LEVEL_WORD[level]}，${sc.period.label}）`;
  return reportFile(format, title, [units, itemList], {
    subtitle: [
      `统计期：${sc.period.from} 至 ${sc.period.to}`,
      sc.computedAt ? `计算时间：${chinaDateTimeOf(sc.computedAt)}` : '本期尚未计算',
    ],
  });
}
