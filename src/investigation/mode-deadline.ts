/**
 * An investigation's deadline under an emergency mode (平急转换, issue #20 item 8): the emergency
 * module installs, per store at start, a lookup of the hours the mode in force for an area allows
 * (config/emergency investigationDeadlineHours); an investigation opened there is due within
 * them when its disease's rule allows more. Without the lookup, or in routine operation, the
 * rules in config/investigation/rules.json hold alone.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../platform/db.js';
import { storeHook } from '../platform/store-hook.js';
import { homeAreaCode } from '../shared/home-area.js';

/** Hours the mode in force for an area at an instant allows an investigation; undefined when none is set. */
export type InvestigationDeadlineLookup = (client: Queryable, areaCode: string | null, at: Date) => Promise<number | undefined>;

const hook = storeHook<InvestigationDeadlineLookup>();

/** Installs (or, with undefined, removes) the emergency deadline lookup of one store. */
export const useInvestigationDeadlineLookup: (db: Database, fn: InvestigationDeadlineLookup | undefined) => void = hook.use;

/** The rule's hours, or the mode's for the resident's area when shorter. */
export async function hoursUnderMode(db: Database, ruleHours: number, patient: Patient | undefined, at: Date): Promise<number> {
  const lookup = hook.of(db);
  const mode = lookup ? await lookup(db.pool, homeAreaCode(patient), at) : undefined;
  return mode !== undefined ? Math.min(ruleHours, mode) : ruleHours;
}
