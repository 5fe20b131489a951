/**
 * Detection performance on series with known outbreaks, as defined in
 * shared/domain/detectors.md ("How to judge a detector") and used by Noufaily et al. (2013)
 * and Bédubourg & Le Strat (2017, PLoS ONE 12(7):e0181227):
 *
 *  - POD: the share of outbreaks with at least one alarm in a week that received cases of
 *    that outbreak;
 *  - POD in the first week: the share of outbreaks with an alarm in their first week with
 *    cases;
 *  - FPR: alarms in weeks without outbreak cases ÷ such weeks;
 *  - median delay: weeks from the first week of an outbreak to its first alarm (in one of its
 *    weeks with cases), among the outbreaks detected.
 *
 * Only evaluated weeks count (the series' range). An outbreak counts when its first week with
 * cases is evaluated; weeks of outbreaks that began before the range are outbreak weeks (not
 * in the FPR denominator) but the outbreak itself is not scored. A week without a verdict
 * (alarm null) is neither a false alarm nor in the FPR denominator, and does not detect.
 *
 * All functions are pure. Weeks are 1-based indices into the series.
 */

/** An outbreak: the weeks (1-based, ascending) that received its cases. */
export interface OutbreakWeeks {
  weeks: number[];
}

/** Raw counts from one or more series; add them up with `addCounts`. */
export interface DetectionCounts {
  /** Outbreaks scored (first week with cases inside the range). */
  outbreaks: number;
  detected: number;
  detectedFirstWeek: number;
  /** Delay in weeks of every detected outbreak. */
  delays: number[];
  /** Evaluated weeks without outbreak cases and with a verdict. */
  quietWeeks: number;
  /** Alarms in those weeks. */
  falseAlarms: number;
  /** All alarms in evaluated weeks. */
  alarms: number;
  /** Evaluated weeks without a verdict (alarm null). */
  noVerdict: number;
}

export interface DetectionSummary {
  outbreaks: number;
  /** NaN when there is no outbreak. */
  pod: number;
  podFirstWeek: number;
  /** NaN when there is no quiet week. */
  fpr: number;
  /** NaN when nothing was detected. */
  medianDelay: number;
  alarms: number;
  falseAlarms: number;
  quietWeeks: number;
  noVerdict: number;
}

export function emptyCounts(): DetectionCounts {
  return { outbreaks: 0, detected: 0, detectedFirstWeek: 0, delays: [], quietWeeks: 0, falseAlarms: 0, alarms: 0, noVerdict: 0 };
}

/**
 * Outbreaks read from a truth array (outbreak cases per week): maximal runs of consecutive
 * weeks with truth > 0. (A simulated outbreak whose cases skip a week appears as two runs;
 * pass the simulation's own outbreak list when it is known.)
 */
export function outbreaksFromTruth(truth: readonly (number | null)[]): OutbreakWeeks[] {
  const out: OutbreakWeeks[] = [];
  let current: number[] | null = null;
  for (let i = 0; i < truth.length; i++) {
    const v = truth[i];
    if (v !== null && v !== undefined && v > 0) {
      if (current === null) {
        current = [];
        out.push({ weeks: current });
      }
      current.push(i + 1);
    } else {
      current = null;
    }
  }
  return out;
}

/**
 * Counts for one series: `alarm` as returned by a detector (full length, null = no verdict),
 * `truth` the outbreak cases per week, `range` the evaluated weeks, `outbreaks` the outbreak
 * list (by default read from truth).
 */
export function countDetections(
  alarm: readonly (boolean | null)[],
  truth: readonly (number | null)[],
  range: readonly number[],
  outbreaks: readonly OutbreakWeeks[] = outbreaksFromTruth(truth),
): DetectionCounts {
  const c = emptyCounts();
  const evaluated = new Set(range);
  for (const t of evaluated) {
    const a = alarm[t - 1];
    if (a === null || a === undefined) {
      c.noVerdict++;
      continue;
    }
    if (a) c.alarms++;
    const cases = truth[t - 1] ?? 0;
    if (cases > 0) continue;
    c.quietWeeks++;
    if (a) c.falseAlarms++;
  }
  for (const o of outbreaks) {
    if (o.weeks.length === 0) continue;
    const first = o.weeks[0]!;
    if (!evaluated.has(first)) continue;
    c.outbreaks++;
    const hit = o.weeks.find((w) => evaluated.has(w) && alarm[w - 1] === true);
    if (hit !== undefined) {
      c.detected++;
      c.delays.push(hit - first);
      if (hit === first) c.detectedFirstWeek++;
    }
  }
  return c;
}

/** Sum of counts (pooling series). */
export function addCounts(...parts: DetectionCounts[]): DetectionCounts {
  const c = emptyCounts();
  for (const p of parts) {
    c.outbreaks += p.outbreaks;
    c.detected += p.detected;
    c.detectedFirstWeek += p.detectedFirstWeek;
    for (const d of p.delays) c.delays.push(d);
    c.quietWeeks += p.quietWeeks;
    c.falseAlarms += p.falseAlarms;
    c.alarms += p.alarms;
    c.noVerdict += p.noVerdict;
  }
  return c;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(c: DetectionCounts): DetectionSummary {
  return {
    outbreaks: c.outbreaks,
    pod: c.outbreaks > 0 ? c.detected / c.outbreaks : Number.NaN,
    podFirstWeek: c.outbreaks > 0 ? c.detectedFirstWeek / c.outbreaks : Number.NaN,
    fpr: c.quietWeeks > 0 ? c.falseAlarms / c.quietWeeks : Number.NaN,
    medianDelay: median(c.delays),
    alarms: c.alarms,
    falseAlarms: c.falseAlarms,
    quietWeeks: c.quietWeeks,
    noVerdict: c.noVerdict,
  };
}

/**
 * The unweighted mean of several summaries (e.g. one per scenario) for POD, POD in the first
 * week, FPR and median delay (NaN entries skipped); counts are summed.
 */
export function averageSummaries(parts: readonly DetectionSummary[]): DetectionSummary {
  const avg = (f: (s: DetectionSummary) => number): number => {
    const v = parts.map(f).filter((x) => !Number.isNaN(x));
    return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const sum = (f: (s: DetectionSummary) => number): number => parts.reduce((a, s) => a + f(s), 0);
  return {
    outbreaks: sum((s) => s.outbreaks),
    pod: avg((s) => s.pod),
    podFirstWeek: avg((s) => s.podFirstWeek),
    fpr: avg((s) => s.fpr),
    medianDelay: avg((s) => s.medianDelay),
    alarms: sum((s) => s.alarms),
    falseAlarms: sum((s) => s.falseAlarms),
    quietWeeks: sum((s) => s.quietWeeks),
    noVerdict: sum((s) => s.noVerdict),
  };
}
