/**
 * A scorecard's ranking as a document's table (src/shared/report-file.ts): rank, unit, total,
 * each item's value in words with its traffic-light fill, and the unit's open tasks. The
 * scorecard's own file and the monthly report both print it, each with its heading, note and
 * wording; the monthly report hides the small streets' cells.
 */
import type { ReportSection } from '../shared/report-file.js';
import type { Level } from './indicators.js';
import type { ScorecardResult } from './schemas.js';

type Unit = ScorecardResult['units'][number];
type Cell = Unit['cells'][number];

/** The traffic-light colours of a cell, as a fill and in words. */
const COLOUR_FILL: Record<string, string> = { green: '#D9F7BE', yellow: '#FFF1B8', red: '#FFCCC7' };
const COLOUR_WORD: Record<string, string> = { green: '达标', yellow: '预警', red: '未达标' };
/** A level in words: the unit column's header. */
export const LEVEL_WORD: Record<Level, string> = { institution: '机构', street: '街道' };

/** A value as a percentage with at most one decimal ("50%", "72.5%"). */
export const percentText = (v: number | null | undefined) => (v === null || v === undefined ? '' : `${Math.round(v * 10) / 10}%`);

export interface RankingSectionOptions {
  heading: string;
  note?: string;
  /**
   * Cells not to publish (the monthly report's small streets), asked per item with every unit's
   * figure: the words shown instead of a unit's cell, by unit code (null or absent: shown). A
   * hidden cell's colour is not shown either.
   */
  suppress?: (cells: { key: string; numerator: number; denominator: number }[]) => ReadonlyMap<string, string | null | undefined>;
  /** How a value reads (default `percentText`: "50%"). */
  percent?: (value: number) => string;
  /** What a cell without a value reads (default "— (numerator/denominator)", and nothing when the unit has no cell). */
  noValue?: (cell: Cell | undefined) => string;
  /** The open-task column's header (default 待办任务). */
  tasksHeader?: string;
  /** Column widths in characters: the unit's (24), each item's (by its name, 10–18), the open tasks' (8). */
  widths?: { unit?: number; item?: number; tasks?: number };
}

/** The units of a scorecard run in rank order (unranked last, by code), as a document's table. */
export function rankingSection(
  sc: Pick<ScorecardResult, 'scorecard' | 'units'>,
  level: Level,
  options: RankingSectionOptions,
): ReportSection<Unit> {
  const items = sc.scorecard.items;
  const cell = (u: Unit, key: string) => u.cells.find((c) => c.item === key);
  const percent = options.percent ?? ((v: number) => percentText(v));
  const noValue = options.noValue ?? ((c: Cell | undefined) => (c ? `— (${c.numerator}/${c.denominator})` : ''));
  const hidden = new Map<string, ReadonlyMap<string, string | null | undefined>>();
  if (options.suppress)
    for (const it of items)
      hidden.set(
        it.key,
        options.suppress(
          sc.units.map((u) => ({
            key: u.code,
            numerator: cell(u, it.key)?.numerator ?? 0,
            denominator: cell(u, it.key)?.denominator ?? 0,
          })),
        ),
      );
  const word = LEVEL_WORD[level];
  return {
    heading: options.heading,
    columns: [
      { header: '名次', value: (u) => u.rank, width: 6 },
      { header: word, value: (u) => u.name ?? u.code, width: options.widths?.unit ?? 24 },
      { header: '总分', value: (u) => (u.total === null ? '' : Math.round(u.total * 10) / 10), width: 8 },
      ...items.map((it) => ({
        header: it.name,
        width: options.widths?.item ?? Math.max(10, Math.min(18, it.name.length * 2)),
        value: (u: Unit) => {
          const instead = hidden.get(it.key)?.get(u.code);
          if (instead) return instead;
          const c = cell(u, it.key);
          if (!c || c.value === null) return noValue(c);
          return `${percent(c.value)} ${c.colour ? COLOUR_WORD[c.colour] : ''}`.trim();
        },
        fill: (u: Unit) => {
          if (hidden.get(it.key)?.get(u.code)) return undefined;
          const colour = cell(u, it.key)?.colour;
          return colour ? COLOUR_FILL[colour] : undefined;
        },
      })),
      { header: options.tasksHeader ?? '待办任务', value: (u) => u.openTasks, width: options.widths?.tasks ?? 8 },
    ],
    rows: [...sc.units].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.code.localeCompare(b.code)),
    note: options.note,
  };
}
