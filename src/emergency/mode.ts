/**
 * The emergency mode in force for an area at an instant (平急转换): the most severe mode that is
 * district-wide or whose area code is a prefix of the area's, and what it changes
 * (config/emergency: lab limits column, report deadline, daily zero reporting, acknowledgement
 * limit). Exercise modes are left out unless asked for, so a drill never changes real deadlines.
 * Other modules call `currentMode` through src/emergency/index.ts.
 */
import type { Sql } from './store.js';
import { levelOf, type Level } from './codes.js';
import { loadEmergencySettings, type EmergencySettings, type ModeSettings } from './settings.js';
import { modesAt, type ModeRow } from './store.js';

export interface CurrentMode {
  /** True when some level is in force there. */
  emergency: boolean;
  level: Level | null;
  /** The mode record in force (null in routine operation). */
  mode: ModeRow | null;
  /** What operation looks like there now: the level's settings, or routine's. */
  settings: ModeSettings;
}

export async function currentMode(
  db: Sql,
  areaCode: string | null | undefined,
  at: Date = new Date(),
  opts: { includeExercise?: boolean; settings?: EmergencySettings } = {},
): Promise<CurrentMode> {
  const settings = opts.settings ?? loadEmergencySettings();
  const rows = await modesAt(db, areaCode ?? null, at, opts.includeExercise ?? false);
  const top = rows[0];
  if (!top) return { emergency: false, level: null, mode: null, settings: settings.modes.routine };
  const level = levelOf(top.level);
  return { emergency: true, level, mode: top, settings: settings.modes[level] };
}
