/**
 * The arithmetic of the street health portrait, pure and tested alone:
 *
 *  - direct age standardisation: each age band's own rate weighted by a standard population's
 *    share of that band (the standard is data, config/portrait/portrait.json);
 *  - Marshall's global empirical-Bayes estimator, which pulls a small street's unstable rate
 *    towards the district's mean by how little information it carries
 *    (Marshall RJ. Mapping disease and mortality rates using empirical Bayes estimators.
 *    Journal of the Royal Statistical Society, Series C (Applied Statistics) 1991;40(2):283–294);
 *  - small-cell suppression with one complementary cell, so a suppressed street cannot be
 *    recovered by subtracting the published streets from the published district total.
 */

/** One age band of one area: events in it and people in it. */
export interface Stratum {
  events: number;
  population: number;
}

/**
 * The directly standardised rate per `per` people: Σ wⱼ·(yⱼ/nⱼ) / Σ wⱼ over every band of the
 * standard. A band with nobody in it and no event contributes a rate of 0 (there is no one to
 * have the event). A band with events but no population cannot be given a rate: the result is
 * null with the reason, rather than a rate that silently drops those events.
 */
export function directStandardised(
  strata: readonly Stratum[],
  weights: readonly number[],
  per: number,
): { rate: number | null; reason: string | null } {
  if (strata.length !== weights.length) throw new Error(`directStandardised: ${strata.length} strata for ${weights.length} weights`);
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('directStandardised: the weights must add up to more than 0');
  if (strata.every((s) => s.population === 0)) return { rate: null, reason: 'no population' };
  let sum = 0;
  for (let j = 0; j < strata.length; j++) {
    const s = strata[j]!;
    if (s.population === 0) {
      if (s.events > 0) return { rate: null, reason: `events in age band ${j + 1} with no population counted in it` };
      continue;
    }
    sum += weights[j]! * (s.events / s.population);
  }
  return { rate: (per * sum) / total, reason: null };
}

/** One area for smoothing: events and the population at risk. */
export interface AreaCount {
  events: number;
  population: number;
}

/**
 * Marshall's (1991) global empirical-Bayes estimates, method of moments:
 *   m  = Σyᵢ / Σnᵢ                       the pooled rate
 *   s² = Σ nᵢ (rᵢ − m)² / Σ nᵢ           the population-weighted variance of the crude rates
 *   A  = max(0, s² − m / n̄),  n̄ = Σnᵢ / k   the between-area variance (k areas with people)
 *   Cᵢ = A / (A + m / nᵢ)                 how much of its own rate an area keeps
 *   θᵢ = m + Cᵢ (rᵢ − m)
 * Rates are per person (multiply by 100 or 100 000 outside). An area with no population gets
 * null and takes no part in m, s² or n̄. When A is 0 every area gets m; when m is 0 every rate
 * is 0 already and is returned as it is.
 */
export function marshallGlobalEb(areas: readonly AreaCount[]): {
  smoothed: (number | null)[];
  mean: number | null;
  betweenVariance: number | null;
} {
  const used = areas.filter((a) => a.population > 0);
  if (!used.length) return { smoothed: areas.map(() => null), mean: null, betweenVariance: null };
  const N = used.reduce((s, a) => s + a.population, 0);
  const m = used.reduce((s, a) => s + a.events, 0) / N;
  const s2 = used.reduce((s, a) => s + a.population * (a.events / a.population - m) ** 2, 0) / N;
  const nBar = N / used.length;
  const A = Math.max(0, s2 - m / nBar);
  const smoothed = areas.map((a) => {
    if (a.population <= 0) return null;
    const r = a.events / a.population;
    const noise = m / a.population;
    if (A + noise === 0) return r;
    return m + (A / (A + noise)) * (r - m);
  });
  return { smoothed, mean: m, betweenVariance: A };
}

/** Why a cell is hidden from a role outside the CDC. */
export type Suppression = 'small' | 'complementary' | null;

/**
 * The primary rule: a count of 1 to 4 people, in the numerator or the denominator, is too few to
 * publish. A zero is published: it names nobody (and a zero denominator has no rate at all).
 */
export function isSmall(count: number, minCell: number): boolean {
  return count > 0 && count < minCell;
}

export interface SuppressionInput {
  key: string;
  numerator: number;
  denominator: number;
}

/**
 * Which cells of one map (one indicator, one period) are hidden, and whether the total is.
 * Primary: a cell whose numerator or denominator is small. Complementary: when the total is
 * published and exactly one cell is hidden, it could be recovered by subtraction, so the
 * unhidden cell with the smallest non-zero denominator (then key order) is hidden as well; when
 * there is no such cell the total is hidden instead. The total is also hidden when it is small
 * itself. The same heuristic as the de-identified exports (src/exports, suppressSmallCells):
 * it stops recovery by one subtraction, not by solving several published lines at once.
 */
export function suppressCells(
  cells: readonly SuppressionInput[],
  minCell: number,
): { cells: Map<string, Suppression>; total: Suppression } {
  // Views that share a denominator (every disease's incidence over one population; 规范管理率 and
  // 控制率 over one managed count) must hide the same denominators, or one view would publish the
  // partner another view hid. So the cells the denominators alone would hide are hidden in every
  // view, whatever the numerators add.
  const own = suppressOneView(cells, minCell);
  const shared = suppressOneView(
    cells.map((c) => ({ ...c, numerator: 0 })),
    minCell,
  );
  const out = new Map<string, Suppression>();
  for (const c of cells) out.set(c.key, own.cells.get(c.key) ?? shared.cells.get(c.key) ?? null);
  return { cells: out, total: own.total ?? shared.total };
}

function suppressOneView(cells: readonly SuppressionInput[], minCell: number): { cells: Map<string, Suppression>; total: Suppression } {
  const out = new Map<string, Suppression>();
  for (const c of cells) out.set(c.key, isSmall(c.numerator, minCell) || isSmall(c.denominator, minCell) ? 'small' : null);
  const n = cells.reduce((s, c) => s + c.numerator, 0);
  const d = cells.reduce((s, c) => s + c.denominator, 0);
  let total: Suppression = isSmall(n, minCell) || isSmall(d, minCell) ? 'small' : null;
  const hidden = [...out.values()].filter(Boolean).length;
  if (hidden === 1 && !total) {
    const partner = cells
      .filter((c) => !out.get(c.key) && c.denominator > 0)
      .sort((a, b) => a.denominator - b.denominator || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))[0];
    if (partner) out.set(partner.key, 'complementary');
    else total = 'complementary';
  }
  return { cells: out, total };
}

/** A rate rounded for display: `digits` decimals, null stays null. */
export function rounded(v: number | null, digits = 1): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** An age band index of a standard whose bands are [from, to] (to null: and over); -1 when the age is unknown. */
export function bandOf(age: number | null | undefined, bands: readonly { from: number; to: number | null }[]): number {
  if (age === null || age === undefined || !Number.isFinite(age) || age < 0) return -1;
  return bands.findIndex((b) => age >= b.from && (b.to === null || age <= b.to));
}
