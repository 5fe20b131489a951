/**
 * Dates as integer day numbers (days since 1970-01-01), China Standard Time (+08:00) for
 * clock times, and the Chinese working calendar: public holidays, make-up workdays (调休) and
 * school terms. No Date.now, no local time zone: output must not depend on where it runs.
 * The simulator counts in integer day numbers for speed; the rules for what a valid date is and
 * how old someone is are src/shared/dates.ts's (isIsoDate, ageOn), not a copy here.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ageOn, isIsoDate } from '../shared/dates.js';
import { configPath } from './config.js';

const MINUTES_PER_DAY = 1440;

/** Day number of a civil date (Howard Hinnant's days_from_civil). */
export function dayFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of a day number. */
export function civilFromDay(z0: number): { y: number; m: number; d: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: y + (m <= 2 ? 1 : 0), m, d };
}

/** Day number of a YYYY-MM-DD string; null when it is not a real date (src/shared/dates.ts decides). */
export function parseIsoDate(s: string): number | null {
  return isIsoDate(s) ? dayFromCivil(+s.slice(0, 4), +s.slice(5, 7), +s.slice(8, 10)) : null;
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

export function isoDate(day: number): string {
  const { y, m, d } = civilFromDay(day);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

export function yearOf(day: number): number {
  return civilFromDay(day).y;
}

/** Day of year, 0-based. */
export function dayOfYear(day: number): number {
  return day - dayFromCivil(civilFromDay(day).y, 1, 1);
}

/** Age in whole years at a given day (the rule of ageOn in src/shared/dates.ts, on day numbers). */
export function ageYears(birthDay: number, atDay: number): number {
  return ageOn(isoDate(birthDay), isoDate(atDay));
}

/** Adds calendar months, clamping to the month's last day (for vaccine due dates). */
export function addMonths(day: number, months: number): number {
  const { y, m, d } = civilFromDay(day);
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  const last = civilFromDay(dayFromCivil(nm === 12 ? ny + 1 : ny, nm === 12 ? 1 : nm + 1, 1) - 1).d;
  return dayFromCivil(ny, nm, Math.min(d, last));
}

/**
 * Clock formatting with a per-day cache of the date part: the simulator formats millions of
 * timestamps, always in China Standard Time.
 */
export class Clock {
  private readonly isoCache = new Map<number, string>();
  private readonly compactCache = new Map<number, string>();

  iso(day: number): string {
    let s = this.isoCache.get(day);
    if (s === undefined) {
      s = isoDate(day);
      this.isoCache.set(day, s);
    }
    return s;
  }

  compact(day: number): string {
    let s = this.compactCache.get(day);
    if (s === undefined) {
      s = this.iso(day).replace(/-/g, '');
      this.compactCache.set(day, s);
    }
    return s;
  }

  /** FHIR dateTime, e.g. 2024-01-15T09:23:00+08:00. Minutes may run past midnight. */
  fhir(day: number, minute: number): string {
    const { d, m } = normalise(day, minute);
    return `${this.iso(d)}T${pad2(Math.floor(m / 60))}:${pad2(m % 60)}:00+08:00`;
  }

  /** HL7 v2 DTM, e.g. 20240115092300+0800. */
  hl7(day: number, minute: number): string {
    const { d, m } = normalise(day, minute);
    return `${this.compact(d)}${pad2(Math.floor(m / 60))}${pad2(m % 60)}00+0800`;
  }
}

function normalise(day: number, minute: number): { d: number; m: number } {
  const m = Math.round(minute);
  const carry = Math.floor(m / MINUTES_PER_DAY);
  return { d: day + carry, m: m - carry * MINUTES_PER_DAY };
}

const HolidayFile = z.object({
  source: z.string(),
  years: z.record(
    z.object({
      holidays: z.array(z.tuple([z.string(), z.string(), z.string()])),
      workdays: z.array(z.string()),
    }),
  ),
  springFestival: z.record(z.string()),
});

const FLAG_HOLIDAY = 1;
const FLAG_WORKDAY = 2;
const FLAG_SCHOOL = 4;
const FLAG_SPRING_FESTIVAL = 8;

/**
 * Working calendar for a window of days. Years without an official notice in
 * config/simulator/holidays.json use fixed-date holidays plus the Spring Festival week.
 */
export class WorkCalendar {
  private readonly flags: Uint8Array;
  constructor(
    readonly firstDay: number,
    readonly lastDay: number,
  ) {
    const raw = HolidayFile.parse(JSON.parse(readFileSync(configPath('holidays.json'), 'utf8')));
    const n = lastDay - firstDay + 1;
    this.flags = new Uint8Array(n);
    const set = (day: number, flag: number): void => {
      if (day >= firstDay && day <= lastDay) this.flags[day - firstDay]! |= flag;
    };
    const clear = (day: number, flag: number): void => {
      if (day >= firstDay && day <= lastDay) this.flags[day - firstDay]! &= ~flag;
    };
    const y0 = yearOf(firstDay) - 1;
    const y1 = yearOf(lastDay) + 1;
    const sf = (y: number): number => {
      const s = raw.springFestival[String(y)];
      // Outside the table: the mean Spring Festival date (about 4 February) is close enough.
      return s ? parseIsoDate(s)! : dayFromCivil(y, 2, 4);
    };
    for (let day = firstDay; day <= lastDay; day++) {
      if (weekday(day) < 5) set(day, FLAG_WORKDAY);
    }
    for (let y = y0; y <= y1; y++) {
      const official = raw.years[String(y)];
      const span = (a: number, b: number): void => {
        for (let d = a; d <= b; d++) {
          set(d, FLAG_HOLIDAY);
          clear(d, FLAG_WORKDAY);
        }
      };
      if (official) {
        for (const [a, b] of official.holidays) span(parseIsoDate(a)!, parseIsoDate(b)!);
        for (const w of official.workdays) {
          const d = parseIsoDate(w)!;
          set(d, FLAG_WORKDAY);
        }
      } else {
        span(dayFromCivil(y, 1, 1), dayFromCivil(y, 1, 1));
        span(sf(y) - 1, sf(y) + 6);
        span(dayFromCivil(y, 4, 4), dayFromCivil(y, 4, 6));
        span(dayFromCivil(y, 5, 1), dayFromCivil(y, 5, 5));
        span(dayFromCivil(y, 10, 1), dayFromCivil(y, 10, 7));
      }
      for (let d = sf(y) - 1; d <= sf(y) + 6; d++) set(d, FLAG_SPRING_FESTIVAL);
      // School terms (typical for the eastern provinces): autumn term from 1 September to
      // about 20 January (earlier if Spring Festival is early), spring term from about 16 days
      // after Spring Festival to 30 June.
      const autumnStart = dayFromCivil(y, 9, 1);
      const autumnEnd = Math.min(dayFromCivil(y + 1, 1, 20), sf(y + 1) - 10);
      const springStart = Math.max(sf(y) + 16, dayFromCivil(y, 2, 15));
      const springEnd = dayFromCivil(y, 6, 30);
      for (const [a, b] of [
        [autumnStart, autumnEnd],
        [springStart, springEnd],
      ] as const) {
        for (let d = a; d <= b; d++) if (d >= firstDay && d <= lastDay && this.flags[d - firstDay]! & FLAG_WORKDAY) set(d, FLAG_SCHOOL);
      }
    }
  }

  private flag(day: number): number {
    if (day < this.firstDay || day > this.lastDay) return weekday(day) < 5 ? FLAG_WORKDAY : 0;
    return this.flags[day - this.firstDay]!;
  }
  isHoliday(day: number): boolean {
    return (this.flag(day) & FLAG_HOLIDAY) !== 0;
  }
  isWorkday(day: number): boolean {
    return (this.flag(day) & FLAG_WORKDAY) !== 0;
  }
  isSchoolDay(day: number): boolean {
    return (this.flag(day) & FLAG_SCHOOL) !== 0;
  }
  isSpringFestival(day: number): boolean {
    return (this.flag(day) & FLAG_SPRING_FESTIVAL) !== 0;
  }
  /** The first workday on or after `day`. */
  nextWorkday(day: number): number {
    let d = day;
    while (!this.isWorkday(d)) d++;
    return d;
  }
}
