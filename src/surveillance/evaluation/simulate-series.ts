/**
 * Simulated weekly surveillance series with known outbreaks, for judging detectors.
 *
 * The design follows the simulation study of Noufaily, Enki, Farrington, Garthwaite, Andrews &
 * Charlett (2013), "An improved algorithm for outbreak detection in multiple surveillance
 * systems", Statistics in Medicine 32(7):1206–1222, §3:
 *
 *  - Baseline counts are negative binomial with mean μ_t and variance φ·μ_t (φ = 1: Poisson),
 *      log μ_t = α + β·t + Σ_{j=1}^{m} [γ₁·cos(2πjt/52) + γ₂·sin(2πjt/52)],   t = 1 … n,
 *    so α sets the level, β the trend per week, γ₁ and γ₂ the seasonal amplitude and m the
 *    number of harmonics (0 = no seasonality).
 *  - An outbreak starting in week t₀ has a Poisson number of cases with mean k times the
 *    baseline standard deviation in that week, k·√(φ·μ_{t₀}); each case falls d weeks after
 *    t₀ where d follows a lognormal distribution (meanlog 0, sdlog 0.5) discretised to whole
 *    weeks 0 … 19 (P(d) ∝ F(d + 1) − F(d)), so most outbreaks last one to three weeks.
 *  - Series are 624 weeks (12 years); earlier outbreaks sit in the years a detector uses as
 *    its baseline, and one "current" outbreak falls in the final 49 weeks, which are the weeks
 *    evaluated (series.range).
 *
 * How many earlier outbreaks there are and their k values (4 outbreaks, k drawn from 2 … 10 in
 * the 5 years before the evaluated weeks; current outbreak k from 1 … 10) and the scenario
 * parameters below are our choices, made to span the paper's range of situations (low and
 * high counts, with and without trend and seasonality, dispersion 1.5 to 5); they are not a
 * copy of the paper's Table 1.
 *
 * Everything is deterministic given the seed (see ./random.ts).
 */
import { pnorm } from 'lib-r-math.js';
import type { CountSeries } from '../detectors/types.js';
import { createRng, mixSeed, randomCategorical, randomInt, randomNegBin, randomPoisson, type Rng } from './random.js';

/** Parameters of one simulation scenario (Noufaily et al. 2013, §3 notation). */
export interface NoufailyScenario {
  id: string;
  description: string;
  /** Intercept of log μ (the paper's α, or θ). */
  alpha: number;
  /** Linear trend per week on the log scale. */
  beta: number;
  /** Cosine and sine coefficients of each harmonic. */
  gamma1: number;
  gamma2: number;
  /** Number of seasonal harmonics (0, 1 or 2). */
  m: number;
  /** Dispersion: variance = φ·mean (φ ≥ 1). */
  phi: number;
}

export interface SimulationOptions {
  /** Series length in weeks (624 = 12 years). */
  weeks?: number;
  /** Evaluated weeks at the end of the series (49). */
  evaluationWeeks?: number;
  /** Outbreaks placed in the baseline years before the evaluated weeks (4). */
  pastOutbreaks?: number;
  /** Years before the evaluated weeks in which the earlier outbreaks are placed (5). */
  pastYears?: number;
  /** Range of k for the earlier outbreaks ([2, 10]). */
  pastK?: [number, number];
  /** Outbreaks starting in the evaluated weeks (1). */
  currentOutbreaks?: number;
  /** Range of k for the current outbreaks ([1, 10]). */
  currentK?: [number, number];
  /** [year, week] of the first week (2010, 1). */
  start?: [number, number];
}

/** One injected outbreak. Weeks are 1-based indices into observed. */
export interface SimulatedOutbreak {
  /** Week the outbreak was seeded (t₀); it may receive no cases if the draw was small. */
  seedWeek: number;
  /** Multiple of the baseline standard deviation. */
  k: number;
  /** Total outbreak cases. */
  cases: number;
  /** Weeks that received at least one case of this outbreak, ascending. */
  weeks: number[];
  /** true for the outbreaks seeded in the evaluated weeks. */
  current: boolean;
}

export interface SimulatedSeries extends CountSeries {
  truth: number[];
  /** The baseline mean μ_t of every week. */
  baselineMean: number[];
  outbreaks: SimulatedOutbreak[];
  scenario: string;
  seed: number;
}

/** The discretised lognormal delay distribution of outbreak cases, weeks 0 … dMax − 1. */
export function lognormalWeekProbabilities(dMax = 20, meanlog = 0, sdlog = 0.5): number[] {
  const cdf = (x: number): number => (x <= 0 ? 0 : pnorm((Math.log(x) - meanlog) / sdlog, 0, 1, true, false));
  const total = cdf(dMax);
  const out: number[] = [];
  for (let d = 0; d < dMax; d++) out.push((cdf(d + 1) - cdf(d)) / total);
  return out;
}

const DELAY_PROBS = lognormalWeekProbabilities();

/** log μ_t of a scenario. */
export function scenarioLogMean(s: NoufailyScenario, t: number): number {
  let season = 0;
  for (let j = 1; j <= s.m; j++) {
    season += s.gamma1 * Math.cos((2 * Math.PI * j * t) / 52) + s.gamma2 * Math.sin((2 * Math.PI * j * t) / 52);
  }
  return s.alpha + s.beta * t + season;
}

/**
 * Standard scenarios: low (mean ≈ 0.6–3), medium (≈ 7–20) and high (≈ 50–150) weekly counts;
 * flat, trending and seasonal (one or two harmonics); dispersion 1.5 to 5.
 */
export const STANDARD_SCENARIOS: readonly NoufailyScenario[] = Object.freeze([
  { id: 'S1', description: 'very low, seasonal', alpha: -0.5, beta: 0, gamma1: 0.3, gamma2: 0.3, m: 1, phi: 1.5 },
  { id: 'S2', description: 'low, flat', alpha: 0.5, beta: 0, gamma1: 0, gamma2: 0, m: 0, phi: 1.5 },
  { id: 'S3', description: 'low, trend, seasonal', alpha: 0.2, beta: 0.0015, gamma1: 0.6, gamma2: 0.6, m: 1, phi: 2 },
  { id: 'S4', description: 'medium, flat', alpha: 2.5, beta: 0, gamma1: 0, gamma2: 0, m: 0, phi: 2 },
  { id: 'S5', description: 'medium, seasonal', alpha: 2.2, beta: 0, gamma1: 0.4, gamma2: 0.5, m: 1, phi: 3 },
  { id: 'S6', description: 'medium, trend, two harmonics', alpha: 1.8, beta: 0.001, gamma1: 0.5, gamma2: 0.3, m: 2, phi: 3 },
  { id: 'S7', description: 'medium, falling trend', alpha: 3, beta: -0.0012, gamma1: 0.2, gamma2: 0.2, m: 1, phi: 2 },
  { id: 'S8', description: 'high, flat, overdispersed', alpha: 4, beta: 0, gamma1: 0, gamma2: 0, m: 0, phi: 5 },
  { id: 'S9', description: 'high, trend, seasonal', alpha: 3.5, beta: 0.001, gamma1: 0.5, gamma2: 0.3, m: 1, phi: 5 },
  { id: 'S10', description: 'high, two harmonics', alpha: 4.8, beta: 0, gamma1: 0.3, gamma2: 0.3, m: 2, phi: 1.5 },
]);

function resolve(options: SimulationOptions): Required<SimulationOptions> {
  const o: Required<SimulationOptions> = {
    weeks: options.weeks ?? 624,
    evaluationWeeks: options.evaluationWeeks ?? 49,
    pastOutbreaks: options.pastOutbreaks ?? 4,
    pastYears: options.pastYears ?? 5,
    pastK: options.pastK ?? [2, 10],
    currentOutbreaks: options.currentOutbreaks ?? 1,
    currentK: options.currentK ?? [1, 10],
    start: options.start ?? [2010, 1],
  };
  if (!Number.isInteger(o.weeks) || o.weeks < 2) throw new Error(`weeks must be an integer ≥ 2, got ${o.weeks}`);
  if (!Number.isInteger(o.evaluationWeeks) || o.evaluationWeeks < 1 || o.evaluationWeeks >= o.weeks) {
    throw new Error(`evaluationWeeks must be an integer in 1 … ${o.weeks - 1}, got ${o.evaluationWeeks}`);
  }
  return o;
}

/** Adds an outbreak of k standard deviations seeded in week t0 (1-based); returns its record. */
function injectOutbreak(
  rng: Rng,
  observed: number[],
  truth: number[],
  mu: readonly number[],
  phi: number,
  t0: number,
  k: number,
  current: boolean,
): SimulatedOutbreak {
  const cases = randomPoisson(rng, k * Math.sqrt(phi * mu[t0 - 1]!));
  const perWeek = new Map<number, number>();
  for (let c = 0; c < cases; c++) {
    const week = t0 + randomCategorical(rng, DELAY_PROBS);
    if (week > observed.length) continue; // falls after the end of the series
    perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
  }
  const weeks = [...perWeek.keys()].sort((a, b) => a - b);
  for (const w of weeks) {
    observed[w - 1] = observed[w - 1]! + perWeek.get(w)!;
    truth[w - 1] = truth[w - 1]! + perWeek.get(w)!;
  }
  return { seedWeek: t0, k, cases: weeks.reduce((s, w) => s + perWeek.get(w)!, 0), weeks, current };
}

/** Picks `count` seed weeks in lo … hi at least `gap` weeks apart (fewer if they do not fit). */
function spacedWeeks(rng: Rng, count: number, lo: number, hi: number, gap: number): number[] {
  const out: number[] = [];
  for (let attempt = 0; out.length < count && attempt < 1000; attempt++) {
    const w = randomInt(rng, lo, hi);
    if (out.every((v) => Math.abs(v - w) >= gap)) out.push(w);
  }
  return out.sort((a, b) => a - b);
}

/** One simulated series of a scenario; deterministic in (scenario parameters, seed, options). */
export function simulateSeries(scenario: NoufailyScenario, seed: number, options: SimulationOptions = {}): SimulatedSeries {
  const o = resolve(options);
  if (!(scenario.phi >= 1)) throw new Error(`scenario ${scenario.id}: φ must be ≥ 1, got ${scenario.phi}`);
  const rng = createRng(seed);
  const n = o.weeks;
  const mu: number[] = [];
  const observed: number[] = [];
  for (let t = 1; t <= n; t++) {
    const m = Math.exp(scenarioLogMean(scenario, t));
    mu.push(m);
    observed.push(randomNegBin(rng, m, scenario.phi));
  }
  const truth = new Array<number>(n).fill(0);
  const firstEvaluated = n - o.evaluationWeeks + 1;
  const outbreaks: SimulatedOutbreak[] = [];
  // Earlier outbreaks: in the pastYears before the evaluated weeks, ending (at the latest
  // possible delay) before them.
  const pastLo = Math.max(1, firstEvaluated - 52 * o.pastYears);
  const pastHi = firstEvaluated - DELAY_PROBS.length - 1;
  if (pastHi >= pastLo) {
    for (const t0 of spacedWeeks(rng, o.pastOutbreaks, pastLo, pastHi, DELAY_PROBS.length)) {
      outbreaks.push(injectOutbreak(rng, observed, truth, mu, scenario.phi, t0, randomInt(rng, o.pastK[0], o.pastK[1]), false));
    }
  }
  // Current outbreaks: seeded in the evaluated weeks, at least 4 weeks before the end.
  const curHi = Math.max(firstEvaluated, n - 4);
  for (const t0 of spacedWeeks(rng, o.currentOutbreaks, firstEvaluated, curHi, 8)) {
    outbreaks.push(injectOutbreak(rng, observed, truth, mu, scenario.phi, t0, randomInt(rng, o.currentK[0], o.currentK[1]), true));
  }
  const range: number[] = [];
  for (let t = firstEvaluated; t <= n; t++) range.push(t);
  return { observed, freq: 52, start: o.start, range, truth, baselineMean: mu, outbreaks, scenario: scenario.id, seed };
}

/**
 * `count` series of a scenario. Series i uses seed mixSeed(seed, scenario id, i), so sets with
 * different seeds are independent and each series can be regenerated on its own.
 */
export function simulateScenario(
  scenario: NoufailyScenario,
  count: number,
  seed: number,
  options: SimulationOptions = {},
): SimulatedSeries[] {
  const out: SimulatedSeries[] = [];
  const idHash = hashString(scenario.id);
  for (let i = 0; i < count; i++) out.push(simulateSeries(scenario, mixSeed(seed, idHash, i), options));
  return out;
}

/** A stable 32-bit hash of a string (FNV-1a). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Seeds used to tune the default detector; evaluation uses EVALUATION_SEED. */
export const TRAINING_SEED = 20130101;
export const EVALUATION_SEED = 20240505;
