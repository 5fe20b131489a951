/**
 * Scoring (pure): each cell's colour from its item's bands, its achievement against the target,
 * each unit's weighted total and the ranking.
 *
 *  - achievement, `higher` items: value ÷ target, at most 1 (a target of 0 is always met);
 *    `lower` items: 1 at or below the target, then falling linearly to 0 at 100 %.
 *  - a cell without a figure (denominator 0) is not scored, and the total is taken over the weights
 *    of the scored items: total = 100 × Σ(weight × achievement) ÷ Σ(weight of scored items).
 *  - ranking: by total, highest first; equal totals share a rank (1, 2, 2, 4); units without a
 *    total are not ranked.
 */
import type { Band, Colour, ScorecardItem } from './definition.js';
import type { UnitFigure } from './indicators.js';

export interface Cell {
  item: string;
  numerator: number;
  denominator: number;
  value: number | null;
  colour: Colour | null;
  /** Points earned out of the item's weight; null when not scored. */
  score: number | null;
}

export interface UnitScore {
  code: string;
  name: string | null;
  cells: Cell[];
  total: number | null;
  rank: number | null;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function colourOf(value: number, bands: readonly Band[]): Colour {
  for (const b of bands) if (value >= b.from && (value < b.to || (b.to === 100 && value <= 100))) return b.colour;
  // Bands span 0–100 (checked at start); a value outside it takes the nearest end.
  return value < 0 ? bands[0]!.colour : bands.at(-1)!.colour;
}

export function achievement(value: number, target: number, better: 'higher' | 'lower'): number {
  if (better === 'higher') return target <= 0 ? 1 : Math.min(1, Math.max(0, value / target));
  if (value <= target) return 1;
  return target >= 100 ? 0 : Math.max(0, (100 - value) / (100 - target));
}

export function cellFor(item: ScorecardItem, f: UnitFigure | undefined): Cell {
  const n = f?.numerator ?? 0;
  const d = f?.denominator ?? 0;
  if (d <= 0) return { item: item.key, numerator: n, denominator: d, value: null, colour: null, score: null };
  const value = round1((100 * n) / d);
  return {
    item: item.key,
    numerator: n,
    denominator: d,
    value,
    colour: colourOf(value, item.bands),
    score: round1(item.weight * achievement(value, item.target, item.better)),
  };
}

export function totalOf(items: readonly ScorecardItem[], cells: readonly Cell[]): number | null {
  let earned = 0;
  let weights = 0;
  for (const it of items) {
    const c = cells.find((x) => x.item === it.key);
    if (!c || c.value === null) continue;
    earned += it.weight * achievement(c.value, it.target, it.better);
    weights += it.weight;
  }
  return weights > 0 ? round1((100 * earned) / weights) : null;
}

/** Ranks units in place (1, 2, 2, 4) and returns them ordered by rank, unranked last by code. */
export function rank(units: UnitScore[]): UnitScore[] {
  const sorted = [...units].sort((a, b) => (b.total ?? -Infinity) - (a.total ?? -Infinity) || a.code.localeCompare(b.code));
  let prev: number | null = null;
  let prevRank = 0;
  sorted.forEach((u, i) => {
    if (u.total === null) {
      u.rank = null;
      return;
    }
    u.rank = u.total === prev ? prevRank : i + 1;
    prev = u.total;
    prevRank = u.rank;
  });
  return sorted;
}
