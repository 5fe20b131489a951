/** Rule sets, schedules and education items loaded once per server, plus "today" in China time. */
import { loadChronicRuleSets, type ChronicRuleSet } from './rules.js';
import { loadSchedules, type Schedules } from '../immunization/schedule.js';
import { loadEducationItems, type EducationItem } from '../care/education.js';
import { badRequest } from '../../platform/errors.js';
import { isIsoDate, todayInChina } from '../../shared/dates.js';

export interface ChronicConfig {
  sets: ChronicRuleSet[];
  schedules: Schedules;
  education: EducationItem[];
}

export function loadChronicConfig(): ChronicConfig {
  return { sets: loadChronicRuleSets(), schedules: loadSchedules(), education: loadEducationItems() };
}

/** @deprecated Import from src/shared/dates.ts (re-exported only for bench, src/cli and test/e2e until they switch). */
export { todayInChina };

/** An optional ?asOf=YYYY-MM-DD (for looking at another day), else today. */
export function asOfParam(v: unknown): string {
  if (v === undefined || v === '') return todayInChina();
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v)))
    throw badRequest(`asOf: expected YYYY-MM-DD (got '${String(v)}')`);
  return v;
}
