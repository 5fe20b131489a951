/**
 * Seasonal curves, day-of-week and holiday effects. Influenza: a winter peak around mid-January
 * with a smaller summer peak (as in southern China; CNIC weekly reports), varying in size and
 * timing from year to year. Diarrhoea peaks in summer with a smaller winter (norovirus and
 * rotavirus) peak; HFMD in April-June with a smaller autumn peak (China CDC HFMD surveillance);
 * varicella, mumps and scarlet fever in winter-spring.
 */
import { civilFromDay, dayFromCivil, dayOfYear, weekday } from './calendar.js';
import { hashFloat } from './rng.js';
import type { WorkCalendar } from './calendar.js';

export type Season = 'flu' | 'resp' | 'diarrhoea' | 'hfmd' | 'varicella' | 'mumps' | 'scarlet' | 'mp' | 'summer' | 'flat';

type Bump = readonly [peakDoy: number, width: number, amplitude: number];
const CURVES: Record<Exclude<Season, 'flu'>, { base: number; bumps: Bump[] }> = {
  resp: {
    base: 0.7,
    bumps: [
      [5, 50, 0.8],
      [330, 30, 0.3],
    ],
  },
  diarrhoea: {
    base: 0.7,
    bumps: [
      [205, 35, 0.8],
      [355, 30, 0.45],
    ],
  },
  hfmd: {
    base: 0.15,
    bumps: [
      [135, 30, 2.2],
      [275, 25, 0.8],
    ],
  },
  varicella: {
    base: 0.45,
    bumps: [
      [345, 40, 1.0],
      [120, 35, 0.8],
    ],
  },
  mumps: { base: 0.5, bumps: [[140, 45, 1.2]] },
  scarlet: {
    base: 0.35,
    bumps: [
      [350, 35, 1.0],
      [135, 30, 1.0],
    ],
  },
  mp: { base: 0.6, bumps: [[295, 45, 1.0]] },
  summer: { base: 0.85, bumps: [[210, 45, 0.5]] },
  flat: { base: 1, bumps: [] },
};

const circ = (a: number, b: number): number => {
  const d = Math.abs(a - b) % 365;
  return Math.min(d, 365 - d);
};

function rawCurve(c: { base: number; bumps: Bump[] }, doy: number): number {
  let v = c.base;
  for (const [p, w, a] of c.bumps) {
    const z = circ(doy, p) / w;
    v += a * Math.exp(-0.5 * z * z);
  }
  return v;
}

const MEANS = new Map<string, number>();
for (const [k, c] of Object.entries(CURVES)) {
  let s = 0;
  for (let d = 0; d < 365; d++) s += rawCurve(c, d);
  MEANS.set(k, s / 365);
}

export class Seasons {
  private readonly fluCache = new Map<number, number>();
  constructor(
    private readonly seed: number,
    private readonly cal: WorkCalendar,
  ) {}

  /** Influenza activity (0 = none, ~1 = a typical winter peak), varying by season. */
  fluActivity(day: number): number {
    let v = this.fluCache.get(day);
    if (v !== undefined) return v;
    const { y } = civilFromDay(day);
    v = 0.05;
    for (let yy = y - 1; yy <= y + 1; yy++) {
      const amp = 0.6 + 0.5 * hashFloat(this.seed, yy, 901);
      const shift = Math.round(-18 + 36 * hashFloat(this.seed, yy, 902));
      const winter = dayFromCivil(yy, 1, 12) + shift;
      const zw = (day - winter) / 24;
      v += amp * Math.exp(-0.5 * zw * zw);
      const summerAmp = 0.08 + 0.12 * hashFloat(this.seed, yy, 903);
      const summer = dayFromCivil(yy, 7, 15) + Math.round(-15 + 30 * hashFloat(this.seed, yy, 904));
      const zs = (day - summer) / 20;
      v += summerAmp * Math.exp(-0.5 * zs * zs);
    }
    this.fluCache.set(day, v);
    return v;
  }

  /** Share of influenza-like illness that is influenza. */
  fluPositivity(day: number): number {
    return Math.min(0.65, 0.04 + 0.5 * this.fluActivity(day));
  }

  /** Share of influenza that is type B (late in the winter season and in spring). */
  fluBShare(day: number): number {
    const doy = dayOfYear(day);
    return doy >= 40 && doy < 150 ? 0.55 : 0.15;
  }

  /** Share of influenza A that is A(H1N1)pdm09 in the season containing `day`. */
  h1n1Share(day: number): number {
    const { y, m } = civilFromDay(day);
    return 0.2 + 0.6 * hashFloat(this.seed, m >= 7 ? y : y - 1, 905);
  }

  /** Seasonal multiplier with mean 1 over a year. */
  factor(season: Season, day: number): number {
    if (season === 'flu') return 0.25 + 1.8 * this.fluActivity(day);
    return rawCurve(CURVES[season], dayOfYear(day)) / MEANS.get(season)!;
  }

  /** Outpatient attendance by weekday (Mon..Sun) and on holidays. */
  clinicFactor(day: number): number {
    if (this.cal.isSpringFestival(day)) return 0.3;
    if (this.cal.isHoliday(day)) return 0.5;
    const wd = weekday(day);
    if (!this.cal.isWorkday(day)) return wd === 5 ? 0.75 : 0.65;
    return [1.22, 1.06, 1.0, 1.0, 0.96, 0.9, 0.9][wd]!;
  }

  /** Emergency attendance: flatter, a little higher at weekends and holidays. */
  emergencyFactor(day: number): number {
    if (this.cal.isHoliday(day)) return 1.1;
    return this.cal.isWorkday(day) ? 1.0 : 1.06;
  }
}
