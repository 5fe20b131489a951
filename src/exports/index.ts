/**
 * The public entry of de-identified exports: the module, and the pure de-identification
 * functions and profile loader for the CLI or other capabilities. Request and response shapes
 * are in schemas.ts (the web app `import type`s them).
 */
export { default as exportsModule } from './module.js';
export {
  ageAt,
  ageBand,
  isoWeek,
  pseudonymise,
  residentIdentity,
  scopeKey,
  sexLabel,
  shiftDate,
  streetOf,
  suppressSmallCells,
  type Pseudonymised,
  type SuppressedTable,
  type Table,
} from './deidentify.js';
export { loadExportProfiles, parseExportProfiles, profileRefusal, type ExportProfile, type ExportProfiles } from './profiles.js';
export { exportKeyConfig, loadExportKey, type ExportKey } from './keys.js';
