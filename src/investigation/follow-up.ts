/**
 * Follow-up of close contacts (密接管理), pure: the window runs from the contact's last exposure
 * to that day plus the disease's follow-up days (医学观察期), recomputed from every exposure; one
 * check is due each day of the window from the day the contact was confirmed (China dates). A
 * day without a check is overdue once 24 hours have passed since the day began.
 */
import { addDays, chinaDateOf, dayRange } from '../shared/dates.js';

export interface Window {
  start: string;
  end: string;
}

/** The window of a contact with these exposures (last dates, China dates). */
export function followUpWindow(exposures: readonly { firstDate: string; lastDate: string }[], followUpDays: number): Window {
  const last = exposures.map((e) => e.lastDate).sort();
  const latest = last[last.length - 1]!;
  return { start: latest, end: addDays(latest, followUpDays) };
}

export type CheckStatus = 'done' | 'due' | 'overdue';

/** Start of a China day as an instant (ms). */
export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00+08:00`);

export function checkStatus(day: string, recorded: boolean, now: Date): CheckStatus {
  if (recorded) return 'done';
  return now.getTime() - dayStart(day) >= 24 * 3_600_000 ? 'overdue' : 'due';
}

/** The days a check is due: from the later of the window start and the confirmation day, to the earlier of its end and today. */
export function dueDays(window: Window, confirmedAt: string | Date, now: Date): string[] {
  const from = [window.start, chinaDateOf(confirmedAt)].sort()[1]!;
  const to = [window.end, chinaDateOf(now)].sort()[0]!;
  return from <= to ? dayRange(from, to) : [];
}

/** Why a check for `day` cannot be recorded, or undefined. */
export function checkProblem(window: Window, status: string, day: string, now: Date): string | undefined {
  const today = chinaDateOf(now);
  if (status !== 'monitoring')
    return `the follow-up of this contact is closed (${status === 'became-case' ? 'the contact became a case' : 'ended'}): no more checks are recorded / 医学观察已结束`;
  if (today > window.end)
    return `the follow-up window ended on ${window.end}: no more checks are recorded / 医学观察期已于 ${window.end} 结束`;
  if (day < window.start || day > window.end)
    return `day ${day} is outside the follow-up window ${window.start} – ${window.end} / 不在医学观察期内`;
  if (day > today) return `day ${day} is in the future (today is ${today}) / 不能记录未来日期`;
  return undefined;
}
