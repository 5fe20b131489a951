/** Rule sets, schedules and education items loaded once per server. */
import { loadChronicRuleSets } from './rule-sets.js';
import type { ChronicRuleSet } from './rules.js';
import { loadSchedules, type Schedules } from '../immunization/schedule.js';
import { loadEducationItems, type EducationItem } from '../care/education.js';

export interface ChronicConfig {
  sets: ChronicRuleSet[];
  schedules: Schedules;
  education: EducationItem[];
}

export function loadChronicConfig(): ChronicConfig {
  return { sets: loadChronicRuleSets(), schedules: loadSchedules(), education: loadEducationItems() };
}
