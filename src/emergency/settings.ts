/**
 * config/emergency/emergency.json: what each response level changes (lab limits column, report
 * deadline, daily zero reporting, acknowledgement limit), the teams' certificate warning, the
 * reserves standard, warnings and item catalogue, and the drill's synthetic area and targets.
 * Parsed with zod; a bad file throws naming the file and the field. `parseEmergencySettings` is
 * pure; `loadEmergencySettings` reads the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DRILL_STEPS, ITEM_CATEGORIES, LEVELS, type Level } from './codes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SETTINGS_FILE = path.join(repoRoot, 'config', 'emergency', 'emergency.json');

const ModeSettings = z
  .object({
    labMode: z.enum(['routine', 'emergency']),
    reportDeadlineHours: z
      .number()
      .positive()
      .max(24 * 7),
    /** When set: an investigation opened in the area is due within this many hours if its disease allows more. */
    investigationDeadlineHours: z
      .number()
      .positive()
      .max(24 * 30)
      .optional(),
    zeroReporting: z.enum(['none', 'daily']),
    ackLimitMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  })
  .strict();
export type ModeSettings = z.infer<typeof ModeSettings>;

const Item = z
  .object({
    code: z.string().regex(/^[a-z0-9-]{1,40}$/, 'item codes are lower-case words joined by -'),
    name: z.string().min(1).max(100),
    category: z.enum(ITEM_CATEGORIES),
    uom: z.string().min(1).max(20),
    scenarioDailyUse: z.number().min(0),
  })
  .strict();
export type Item = z.infer<typeof Item>;

const SettingsFile = z
  .object({
    $comment: z.string().optional(),
    modes: z.object({ routine: ModeSettings, I: ModeSettings, II: ModeSettings, III: ModeSettings, IV: ModeSettings }).strict(),
    teams: z.object({ certificateWarningDays: z.number().int().min(1).max(730) }).strict(),
    reserves: z
      .object({
        standardDays: z.number().int().min(1).max(365),
        consumptionWindowDays: z.number().int().min(1).max(365),
        expiryWarningDays: z
          .array(z.number().int().min(1).max(730))
          .min(1)
          .max(4)
          .refine((a) => a.every((d, i) => i === 0 || d < a[i - 1]!), 'from the longest to the shortest'),
        items: z
          .array(Item)
          .min(1)
          .refine((a) => new Set(a.map((i) => i.code)).size === a.length, 'item codes must be unique'),
      })
      .strict(),
    drill: z
      .object({
        areaCode: z.string().regex(/^\d{12}$/, 'a 12-digit area code'),
        unit: z.string().min(1).max(100),
        disease: z.object({ name: z.string().min(1), icd10: z.string().min(1), class: z.string().min(1) }).strict(),
        targetSeconds: z
          .object(Object.fromEntries(DRILL_STEPS.map((s) => [s, z.number().positive()])) as Record<string, z.ZodNumber>)
          .strict(),
      })
      .strict(),
  })
  .strict();

export interface EmergencySettings {
  modes: Record<Level | 'routine', ModeSettings>;
  certificateWarningDays: number;
  reserves: { standardDays: number; consumptionWindowDays: number; expiryWarningDays: number[]; items: Item[] };
  item(code: string): Item | undefined;
  drill: { areaCode: string; unit: string; disease: { name: string; icd10: string; class: string }; targetSeconds: Record<string, number> };
}

export function parseEmergencySettings(text: string, source = SETTINGS_FILE): EmergencySettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = SettingsFile.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.')}: ${i.message}`);
  }
  const f = parsed.data;
  const items = new Map(f.reserves.items.map((i) => [i.code, i]));
  for (const l of LEVELS) if (!f.modes[l]) throw new Error(`${source}: modes.${l}: Required`);
  return {
    modes: f.modes,
    certificateWarningDays: f.teams.certificateWarningDays,
    reserves: f.reserves,
    item: (code) => items.get(code),
    drill: f.drill,
  };
}

let cached: EmergencySettings | undefined;
/** The shipped settings, read once. */
export function loadEmergencySettings(): EmergencySettings {
  cached ??= parseEmergencySettings(fs.readFileSync(SETTINGS_FILE, 'utf8'));
  return cached;
}
