/**
 * Calendar dates as YYYY-MM-DD strings, and China's local time (UTC+8, no daylight saving).
 * The one copy of these helpers: follow-up schedules, detectors, the simulator and the web app
 * all count days the same way.
 */

const MS_PER_DAY = 86_400_000;
const CHINA_OFFSET_MS = 8 * 3600_000;

/** Today's date in China (UTC+8), YYYY-MM-DD. */
export function todayInChina(now = Date.now()): string {
  return new Date(now + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The present instant in China's local time, `YYYY-MM-DDTHH:mm:ss+08:00`. */
export function nowInChina(now = Date.now()): string {
  return `${new Date(now + CHINA_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** The date in China (YYYY-MM-DD) of an instant (ISO string with offset, or a Date). */
export function chinaDateOf(instant: string | Date): string {
  const t = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  return new Date(t + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** An instant as China's wall-clock time, `YYYY-MM-DD HH:mm` (for files and screens). */
export function chinaDateTimeOf(instant: string | Date): string {
  const t = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  return new Date(t + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** A date `days` later (earlier when negative). Integer arithmetic: hot in full recomputes. */
export function addDays(date: string, days: number): string {
  const d = new Date(Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) + days * MS_PER_DAY);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  return `${y}-${m < 10 ? '0' : ''}${m}-${dd < 10 ? '0' : ''}${dd}`;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round(
    (Date.UTC(+to.slice(0, 4), +to.slice(5, 7) - 1, +to.slice(8, 10)) -
      Date.UTC(+from.slice(0, 4), +from.slice(5, 7) - 1, +from.slice(8, 10))) /
      MS_PER_DAY,
  );
}

/** Whole years between a birth date (YYYY, YYYY-MM or YYYY-MM-DD) and a date. */
export function ageOn(birthDate: string, date: string): number {
  const by = +birthDate.slice(0, 4);
  const bmd =
    birthDate.length >= 10
      ? +birthDate.slice(5, 7) * 100 + +birthDate.slice(8, 10)
      : birthDate.length >= 7
        ? +birthDate.slice(5, 7) * 100 + 1
        : 101;
  const md = +date.slice(5, 7) * 100 + +date.slice(8, 10);
  return +date.slice(0, 4) - by - (bmd > md ? 1 : 0);
}

/** Every date from `from` to `to`, both included. */
export function dayRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A YYYY-MM-DD string that names a real calendar date. */
export function isIsoDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const t = Date.parse(`${v}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === v;
}
