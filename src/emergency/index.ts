/**
 * The emergency capability's public entry: the module, `currentMode` (what other modules ask to
 * know whether an area is in emergency mode and what that changes), and the settings.
 */
export { default as emergencyModule } from './module.js';
export { currentMode, type CurrentMode } from './mode.js';
export { loadEmergencySettings, parseEmergencySettings, SETTINGS_FILE, type EmergencySettings, type ModeSettings } from './settings.js';
export { LEVELS, TEAM_KINDS, type Level, type TeamKind } from './codes.js';
export type {
  AfterActionReport,
  CoverList,
  CurrentModeView,
  DrillView,
  MobilisationDetail,
  ModeView,
  TeamDetail,
  TeamList,
  WarningList,
} from './schemas.js';
