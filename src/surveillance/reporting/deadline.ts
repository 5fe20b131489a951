/**
 * A report card's deadline: diagnosis + the disease's hours (config/surveillance/notifiable-
 * diseases.json deadlineHours: 2 h for 甲类 and the 乙类 managed as 甲类, 24 h for the others),
 * shortened when an emergency mode is in force for the resident's area at diagnosis (平急转换,
 * issue #20 item 8: config/emergency's reportDeadlineHours, e.g. 2 h at levels I–II after the
 * 突发公共卫生事件应急条例's 2-hour report). The emergency module installs the lookup per store at
 * start (no import from here to there, so no cycle); without it the disease's hours hold.
 */
import type { Database, Queryable } from '../../platform/db.js';
import { storeHook } from '../../platform/store-hook.js';
import type { NotifiableDisease } from '../notifiable.js';

/** Hours the mode in force for an area at an instant allows for a report; undefined in routine operation. */
export type ReportDeadlineLookup = (client: Queryable, areaCode: string | null, at: Date) => Promise<number | undefined>;

const hook = storeHook<ReportDeadlineLookup>();

/** Installs (or, with undefined, removes) the emergency deadline lookup of one store. */
export const useReportDeadlineLookup: (db: Database, fn: ReportDeadlineLookup | undefined) => void = hook.use;

/** The card's deadline and the hours it allows: the disease's, or the mode's when shorter. */
export async function reportDeadline(
  db: Database,
  client: Queryable,
  disease: Pick<NotifiableDisease, 'deadlineHours'>,
  diagnosedAt: string,
  areaCode: string | null | undefined,
): Promise<{ at: string; hours: number }> {
  const lookup = hook.of(db);
  const modeHours = lookup ? await lookup(client, areaCode || null, new Date(diagnosedAt)) : undefined;
  const hours = modeHours !== undefined ? Math.min(disease.deadlineHours, modeHours) : disease.deadlineHours;
  return { at: new Date(Date.parse(diagnosedAt) + hours * 3_600_000).toISOString(), hours };
}
