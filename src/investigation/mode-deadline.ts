/**
 * An investigation's deadline under an emergency mode (平急转换, issue #20 item 8): the emergency
 * module installs, per store at start, a lookup of the hours the mode in force for an area allows
 * (config/emergency investigationDeadlineHours); an investigation opened there is due within
 * them when its disease's rule allows more. Without the lookup, or in routine operation, the
 * rules in config/investigation/rules.json hold alone.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../platform/db.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';

/** Hours the mode in force for an area at an instant allows an investigation; undefined when none is set. */
export type InvestigationDeadlineLookup = (client: Queryable, areaCode: string | null, at: Date) => Promise<number | undefined>;

const lookups = new Map<Database, InvestigationDeadlineLookup>();

/** Installs (or, with undefined, removes) the emergency deadline lookup of one store. */
export function useInvestigationDeadlineLookup(db: Database, fn: InvestigationDeadlineLookup | undefined): void {
  if (fn) lookups.set(db, fn);
  else lookups.delete(db);
}

/** A resident's area code (统计用区划代码) from the home address's extension, if recorded. */
export function areaCodeOf(p: Patient | undefined): string | null {
  const home = p?.address?.find((a) => a.use === 'home') ?? p?.address?.[0];
  const ext = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION);
  return ext?.valueCode ?? ext?.valueString ?? null;
}

/** The rule's hours, or the mode's for the resident's area when shorter. */
export async function hoursUnderMode(db: Database, ruleHours: number, patient: Patient | undefined, at: Date): Promise<number> {
  const lookup = lookups.get(db);
  const mode = lookup ? await lookup(db.pool, areaCodeOf(patient), at) : undefined;
  return mode !== undefined ? Math.min(ruleHours, mode) : ruleHours;
}
