/**
 * The public entry of primary care (chronic care, family-doctor care, immunization,
 * indicators). Other modules, the CLI, benchmarks and end-to-end tests import only from here;
 * the module's tables (chronic_*, care_*, imm_dose) are read and written only inside
 * src/primary-care. The web app takes response types from the schemas.ts files with `import type`.
 */

// ---- rules and configuration ----------------------------------------------------------------
export { loadChronicConfig, type ChronicConfig } from './chronic/context.js';
export { ruleSetFor, type ChronicRuleSet } from './chronic/rules.js';

// ---- full recompute (`yifang chronic recompute`, bench) -------------------------------------
export { recomputeAll, type RecomputePhases } from './chronic/store.js';

// ---- bulk facts and derived-table figures (bench, end-to-end seeds) -------------------------
export { copyFactRows, derivedRowCounts, FACT_TABLES, registeredResidents, residentsBornAfter, type FactTable } from './chronic/bulk.js';

// ---- indicators (bench) ---------------------------------------------------------------------
export { computeIndicators, INDICATORS } from './indicators/indicators.js';
export { parsePeriod } from './indicators/period.js';

// ---- the national immunization schedule (the one copy: config/immunization/; the simulator) -
export {
  childScheduleFor,
  childScheduleVersion,
  loadSchedules,
  vaccinesDue,
  type AdultSchedule,
  type ChildSchedule,
  type Schedules,
  type VaccineDue,
} from './immunization/schedule.js';

// ---- basic public-health programmes (config/programmes/; a full re-derivation for the CLI) --
export { loadProgrammes, type Programme } from './programmes/definition.js';
export { recomputeProgrammes } from './programmes/refresh.js';
export { copyProgrammeFactRows } from './programmes/store.js';

// ---- a resident's due services without HTTP (the resident portal's reminders and schedule) ---
export { dueServicesOfResident } from './care/service.js';
export type { DueItem } from './care/schemas.js';

// ---- a programme's indicators without HTTP (the monthly report) -----------------------------
export { programmeIndicators } from './programmes/service.js';
