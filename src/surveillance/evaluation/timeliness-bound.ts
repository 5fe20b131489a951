/**
 * How early the counts of a simulated district (district-sizes.ts) can tell of an outbreak at all:
 * a ceiling for fused alerts' timeliness (issue #18, median delay ≤ 1 day), computed with what no
 * real system has — the simulator's own background means and each outbreak kind's signature.
 *
 * Per street and day the statistic is the best standardised score over the two outbreak kinds and
 * the last 1, 2 or 3 days: Σ w·(y − μ) / √(Σ w²·φ·μ) over every simulated signal and day of the
 * window, with μ the background mean the simulation drew from (backgroundMean), w = share ÷ μ (the
 * locally most powerful weights for an excess of `share` per outbreak case over a Poisson-like
 * background) and φ the simulation's dispersion. Its threshold is set on the street-days no
 * outbreak touched (no outbreak count in the street within the window) so that it is exceeded on
 * `falseStreetDaysPerYear` of them per district-year; an outbreak counts as visible by day d when
 * the statistic reaches the threshold in one of its streets on some day up to d after its first
 * onset. Detectors must estimate μ from history and cannot know the signature, so they do worse.
 *
 * What it does not bound: the bench's scoring credits an alert with an outbreak when the alert
 * holds an alarm on a (signal, street, day) the outbreak added a count to, whatever made the
 * alarm; a chance alarm on such a day counts (the placebo columns of the bench measure that).
 */
import { daysBetween } from '../../shared/dates.js';
import { backgroundMean, SIMULATED_SIGNALS, type OutbreakKind, type SimulatedDistrict } from './district-sizes.js';

export interface TimelinessBound {
  outbreaks: number;
  /** The statistic's threshold (standardised score). */
  threshold: number;
  /** Street-days the threshold was set on (no outbreak counts in their window). */
  nullStreetDays: number;
  /** Outbreaks visible by day 0, 1, 2, 3 after their first onset (cumulative). */
  visibleByDay: number[];
}

const KINDS: readonly OutbreakKind[] = ['gastrointestinal', 'respiratory'];
const WINDOWS = [1, 2, 3];

/** The best score of one street on day i (see the file comment). */
function streetScore(district: SimulatedDistrict, street: string, i: number, means: number[][], dispersion: number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const kind of KINDS)
    for (const k of WINDOWS) {
      let num = 0;
      let den = 0;
      SIMULATED_SIGNALS.forEach((s, si) => {
        const y = district.counts.get(s.key)!.get(street)!;
        for (let j = i - k + 1; j <= i; j++) {
          const m = means[si]![j]!;
          if (m <= 0 || s.share[kind] <= 0) continue;
          const w = s.share[kind] / m;
          num += w * (y[j]! - m);
          den += w * w * dispersion * m;
        }
      });
      if (den > 0) best = Math.max(best, num / Math.sqrt(den));
    }
  return best;
}

/**
 * The ceiling for districts of one size (seeds pooled): outbreaks visible by day 0–3 at a false
 * rate of `falseStreetDaysPerYear` exceeded street-days per district-year.
 */
export function timelinessBound(
  districts: readonly SimulatedDistrict[],
  falseStreetDaysPerYear: number,
  dispersion = 1.3,
): TimelinessBound {
  const nullScores: number[] = [];
  const best: number[][] = [];
  let years = 0;
  for (const d of districts) {
    years += (d.days.length - d.evalFrom) / 365;
    const means = SIMULATED_SIGNALS.map((s) => d.days.map((day) => backgroundMean(s, d.size, day)));
    const touched = new Set<string>();
    for (const o of d.outbreaks)
      for (const a of o.added) {
        const i = daysBetween(d.days[0]!, a.day);
        for (let j = 0; j < Math.max(...WINDOWS); j++) touched.add(`${a.street}|${i + j}`);
      }
    for (const street of d.streets)
      for (let i = d.evalFrom; i < d.days.length; i++)
        if (!touched.has(`${street}|${i}`)) nullScores.push(streetScore(d, street, i, means, dispersion));
    for (const o of d.outbreaks) {
      const i0 = daysBetween(d.days[0]!, o.firstOnset);
      best.push([0, 1, 2, 3].map((off) => Math.max(...o.streets.map((st) => streetScore(d, st, i0 + off, means, dispersion)))));
    }
  }
  nullScores.sort((a, b) => b - a);
  const rank = Math.min(nullScores.length - 1, Math.max(0, Math.round(falseStreetDaysPerYear * years) - 1));
  const threshold = nullScores.length ? nullScores[rank]! : Number.POSITIVE_INFINITY;
  return {
    outbreaks: best.length,
    threshold,
    nullStreetDays: nullScores.length,
    visibleByDay: [0, 1, 2, 3].map((day) => best.filter((b) => Math.max(...b.slice(0, day + 1)) >= threshold).length),
  };
}
