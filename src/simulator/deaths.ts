/**
 * Deaths: who dies during the run, and on which day.
 *
 * Everyone in the district at the start is alive then; from the first day each resident faces
 * the death rate of their age band and sex, and registered cancer patients an excess on top of
 * it. The day of death is a pure function of the seed and the person (hashes, no random stream),
 * so asking it never moves another record of the run, and no per-resident array is kept: each
 * calendar year the day loop scans the residents once and keeps only those who die in it
 * (about 0.6 % a year), to write their Patient again on the day with `deceasedDateTime`.
 * Every part of the simulator asks `alive(person, day)` before writing a resident's record:
 * nothing is dated after the day of death (records on the day itself are allowed: the last
 * admission, the visit of the day).
 *
 * Rates: age-specific death rates by sex of the 2000 census (第五次全国人口普查, 1999-11-01 to
 * 2000-10-31: 国家统计局, 中国统计年鉴2002 表4-11 “Death Population by Age and Sex”), per 1,000
 * a year by five-year band, for the shape by age and sex. Mortality has fallen since (life
 * expectancy 71.4 years in 2000, 78.6 in 2023), so the table is scaled by one factor, DEATH_LEVEL,
 * that gives the district (the 2020 census pyramid, population.ts) the crude death rate of 2023,
 * 7.87 per 1,000 (国家统计局, 2023年国民经济和社会发展统计公报; the same source as the birth
 * rate). Newborns during the run take the 0-4 band.
 *
 * Cancer: the age-standardised 5-year relative survival of cancer patients in China was 40.5 %
 * in 2012-2015 (Zeng H, et al. Changing cancer survival in China during 2003-15: a pooled analysis
 * of 17 population-based cancer registries. Lancet Glob Health 2018;6:e555-67). Relative survival
 * 0.405 over five years is a cumulative excess hazard of −ln 0.405 ≈ 0.90, spread here over the
 * years since diagnosis front-loaded as survival curves are (0.36, 0.20, 0.14, 0.11, 0.09; our
 * own split), then 0.02 a year. Observed (all-cause) survival is lower than relative survival by
 * the background deaths of the patient's age, as the programme's 5年生存率 reads it.
 *
 * The census rates count cancer deaths already, so the residents without a registered cancer take
 * them less the registered patients' excess deaths at their age (the register's prevalence,
 * FOCUS_GROUP_RATES.cancerPrevalentByAge, times a mean excess of 0.10 a year over ten years of
 * registrations): the district's deaths by age stay the census's.
 */
import { ageYears, civilFromDay, dayFromCivil } from './calendar.js';
import { FOCUS_GROUP_RATES } from './focus-groups.js';
import { hashFloat } from './rng.js';
import type { Mortality, World } from './types.js';

/** Deaths per 1,000 a year by five-year band from 0-4 to 100+: [male, female] (2000 census, see above). */
export const DEATH_RATE_PER_1000: readonly (readonly [number, number])[] = [
  [5.25, 6.98], // 0-4
  [0.65, 0.44],
  [0.5, 0.33],
  [0.77, 0.47],
  [1.21, 0.72], // 20-24
  [1.36, 0.84],
  [1.66, 0.98],
  [2.15, 1.18],
  [3.05, 1.7], // 40-44
  [4.33, 2.57],
  [6.71, 4.19],
  [10.57, 6.63],
  [17.92, 11.43], // 60-64
  [29.59, 19.06],
  [51.03, 34.11],
  [79.89, 55.7],
  [133.28, 97.48], // 80-84
  [188.75, 145.36],
  [268.63, 231.23],
  [241.4, 298.02],
  [329.42, 375.24], // 100+
];

/**
 * The factor on the 2000 table that gives the 2023 crude death rate (7.87 ‰) on the simulated
 * pyramid: measured, seed 1, 20,000 residents, 2024-2025 (11.2 ‰ unscaled).
 */
export const DEATH_LEVEL = 0.7;

/** Excess deaths a year of a registered cancer patient by whole years since diagnosis (0-4), then after. */
export const CANCER_EXCESS_HAZARD = { byYear: [0.36, 0.2, 0.14, 0.11, 0.09], after: 0.02 } as const;

/** The yearly death rate (a hazard, per person-year) of a resident of an age and sex, from the census table. */
export function deathHazard(age: number, sex: number): number {
  const band = DEATH_RATE_PER_1000[Math.min(DEATH_RATE_PER_1000.length - 1, Math.max(0, Math.floor(age / 5)))]!;
  // The census gives central rates m, used as a constant hazard within the year.
  return (band[sex === 2 ? 1 : 0] / 1000) * DEATH_LEVEL;
}

/** Mean excess hazard of a register of patients diagnosed up to ten years back (evenly): (0.90 + 5 × 0.02) / 10. */
const REGISTER_MEAN_EXCESS = 0.1;

/**
 * The yearly death rate of a resident without a registered cancer: the census rate less the share
 * the register's excess deaths take of it at that age (at most half).
 */
export function deathHazardWithoutCancer(age: number, sex: number): number {
  const all = deathHazard(age, sex);
  const [b30, b60, b75] = FOCUS_GROUP_RATES.cancerPrevalentByAge;
  const prevalence = age < 30 ? 0 : age < 60 ? b30! : age < 75 ? b60! : b75!;
  return all - Math.min(all / 2, prevalence * REGISTER_MEAN_EXCESS);
}

/** The excess hazard a year of a cancer patient, years after diagnosis. */
export function cancerExcessHazard(yearsSince: number): number {
  const k = Math.floor(yearsSince);
  return k < 0 ? 0 : (CANCER_EXCESS_HAZARD.byYear[k] ?? CANCER_EXCESS_HAZARD.after);
}

/** The highest excess hazard of a cancer patient (the year of diagnosis). */
const MAX_EXCESS = Math.max(...CANCER_EXCESS_HAZARD.byYear, CANCER_EXCESS_HAZARD.after);

/** The chance of dying within a number of days at a constant yearly hazard. */
const chance = (hazard: number, days: number): number => 1 - Math.exp((-hazard * days) / 365.25);

/** No death within the run. */
export const NEVER = 0x7fffffff;

/** Salts of the hashes (apart from every other use of the seed). */
const S = { death: 8101, deathDay: 8102 } as const;
/** Entries of the direct-mapped cache of recent answers. */
const CACHE = 1 << 14;

export class Deaths implements Mortality {
  /**
   * The day a resident's cancer was registered, if by the end of a calendar year; null when none
   * (FocusGroups.cancerSince, set by the day loop; without it nobody has cancer).
   */
  cancerSince: (person: number, year: number) => number | null = () => null;
  /** Residents who died in the years planned so far, and their day (small: a few percent of the district). */
  private readonly died = new Map<number, number>();
  /** Deaths by day in the year planned last. */
  private readonly byDay = new Map<number, number[]>();
  /** Days before this one are planned (the died map is complete for them). */
  private plannedTo: number;
  private readonly cacheKey = new Int32Array(CACHE).fill(-1);
  private readonly cacheDay = new Int32Array(CACHE);

  constructor(private readonly w: World) {
    this.plannedTo = w.startDay;
  }

  /**
   * The day a resident dies during the run, or NEVER. A pure function of the seed and the person:
   * each calendar year of the run (from birth, for a newborn) is cut where a cancer is diagnosed,
   * and each piece draws once against its constant hazard; the first piece that draws a death
   * places it uniformly within itself.
   */
  deathDay(person: number): number {
    // Within the years planned the map knows every death; past them, the hashes.
    const known = this.died.get(person);
    if (known !== undefined) return known;
    if (this.plannedTo >= this.w.endDay) return NEVER;
    const slot = person & (CACHE - 1);
    if (this.cacheKey[slot] === person) return this.cacheDay[slot]!;
    const day = this.compute(person);
    this.cacheKey[slot] = person;
    this.cacheDay[slot] = day;
    return day;
  }

  /** Whether a resident is alive on a day (the day of death counts as alive: its records are written). */
  alive(person: number, day: number): boolean {
    if (day < this.plannedTo) {
      const d = this.died.get(person);
      return d === undefined || day <= d;
    }
    return day <= this.deathDay(person);
  }

  /** A newborn added during the year planned: a death before the year ends is put on its day. */
  newborn(person: number): void {
    const d = this.compute(person, this.plannedTo);
    if (d < this.plannedTo) this.add(person, d);
  }

  /**
   * Plans the deaths of a calendar year (from the first day of the run): called by the day loop
   * on the year's first day; scans the residents once. Returns nothing; `on(day)` gives the day's.
   */
  planYear(day: number): void {
    const { y } = civilFromDay(day);
    const to = Math.min(this.w.endDay, dayFromCivil(y + 1, 1, 1));
    this.byDay.clear();
    this.plannedTo = to;
    const n = this.w.pop.n;
    for (let i = 0; i < n; i++) {
      if (this.died.has(i)) continue;
      const d = this.compute(i, to);
      if (d < to) this.add(i, d);
    }
  }

  /** The residents who die on a day of the year planned. */
  on(day: number): readonly number[] {
    return this.byDay.get(day) ?? [];
  }

  /** How many residents died by the end of the years planned. */
  get count(): number {
    return this.died.size;
  }

  private add(person: number, day: number): void {
    this.died.set(person, day);
    const list = this.byDay.get(day);
    if (list) list.push(person);
    else this.byDay.set(day, [person]);
  }

  /** The day of death, looking no further than the day `until` (NEVER when none before it). */
  private compute(person: number, until: number = this.w.endDay): number {
    const { pop, startDay, endDay } = this.w;
    const birth = pop.birthDay[person]!;
    const sex = pop.sex[person]!;
    const first = Math.max(startDay, birth + 1);
    if (first >= endDay) return NEVER;
    const y0 = civilFromDay(first).y;
    const yEnd = civilFromDay(Math.min(endDay, until) - 1).y;
    for (let y = y0; y <= yEnd; y++) {
      const from = Math.max(first, dayFromCivil(y, 1, 1));
      const to = Math.min(endDay, dayFromCivil(y + 1, 1, 1));
      if (from >= to) continue;
      const age = ageYears(birth, from);
      const base = deathHazard(age, sex);
      const without = deathHazardWithoutCancer(age, sex);
      // Only adults are ever registered with cancer (FocusGroups: from 25). Asking whether one is
      // costs more than the draws: when neither draw of the year could come out a death even at
      // the highest excess, the answer is no death whatever it is (the same result, sooner).
      if (
        age >= 25 &&
        this.u(person, y * 2) >= chance(without, to - from) &&
        this.u(person, y * 2 + 1) >= chance(base + MAX_EXCESS, to - from)
      )
        continue;
      const cancer = age >= 25 ? this.cancerSince(person, y) : null;
      if (cancer === null || cancer >= to) {
        const d = this.draw(person, y * 2, from, to, without);
        if (d !== NEVER) return d;
        continue;
      }
      // Cut the year at the diagnosis: before it the background rate, after it the excess as well.
      const cut = Math.max(from, cancer);
      if (cut > from) {
        const d = this.draw(person, y * 2, from, cut, without);
        if (d !== NEVER) return d;
      }
      const d = this.draw(person, y * 2 + 1, cut, to, base + cancerExcessHazard((cut - cancer) / 365.25));
      if (d !== NEVER) return d;
    }
    return NEVER;
  }

  /** One draw for the days [from, to) at a constant yearly hazard: the day of death, or NEVER. */
  private draw(person: number, key: number, from: number, to: number, hazard: number): number {
    if (this.u(person, key) >= chance(hazard, to - from)) return NEVER;
    return from + Math.floor(hashFloat(this.w.seed, person, S.deathDay, key) * (to - from));
  }

  /** The uniform draw of a piece of a year. */
  private u(person: number, key: number): number {
    return hashFloat(this.w.seed, person, S.death, key);
  }
}
