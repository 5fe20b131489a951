/**
 * The lab loop's clocks (config/lab/limits.json): hours per leg, by test and by mode, the
 * shipment temperature range and the allowed clock skew. Parsed with zod; a bad file throws
 * naming the file and the field (`tests.nucleic-acid.emergency.receipt-result: …`).
 * `parseLabLimits` is pure; `loadLabLimits` reads the file once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Leg, Mode } from './codes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const LIMITS_FILE = path.join(repoRoot, 'config', 'lab', 'limits.json');

const Hours = z
  .number()
  .positive('must be more than 0 hours')
  .max(24 * 60, 'at most 1,440 hours (60 days)');
const LegHours = z.object({ 'collection-receipt': Hours, 'receipt-result': Hours, 'result-report': Hours }).strict();
const ModeLimits = z.object({ routine: LegHours, emergency: LegHours }).strict();
const Range = z
  .object({ min: z.number().min(-90).max(60), max: z.number().min(-90).max(60) })
  .strict()
  .refine((r) => r.min < r.max, { message: 'min must be below max', path: ['max'] });
const TestLimits = ModeLimits.extend({
  zh: z.string().min(1),
  codes: z.array(z.string().min(1).max(64)).default([]),
}).strict();
const LimitsFile = z
  .object({
    $comment: z.string().optional(),
    temperature: Range,
    futureSkewSeconds: z.number().int().min(0).max(3600),
    default: ModeLimits,
    tests: z.record(z.string().regex(/^[a-z0-9-]{1,40}$/, 'test keys are lower-case words joined by -'), TestLimits),
  })
  .strict();

export type LegHours = z.infer<typeof LegHours>;

export interface LabLimits {
  temperature: { min: number; max: number };
  futureSkewMs: number;
  /** The limits group of a test code (its key, one of its codes, or 'default'). */
  groupOf(testCode: string): string;
  /** Hours allowed for a leg of a test in a mode. */
  hours(testCode: string, mode: Mode, leg: Leg): number;
  /** The whole table, for the limits route. */
  table(): { group: string; zh: string; codes: string[]; routine: LegHours; emergency: LegHours }[];
}

export function parseLabLimits(text: string, source = LIMITS_FILE): LabLimits {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = LimitsFile.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const file = parsed.data;
  const byCode = new Map<string, string>();
  for (const [key, t] of Object.entries(file.tests)) {
    if (key === 'default') throw new Error(`${source}: tests.default: 'default' is the fallback, not a test key`);
    for (const code of [key, ...t.codes]) {
      const k = code.toLowerCase();
      const other = byCode.get(k);
      if (other !== undefined && other !== key) throw new Error(`${source}: tests.${key}.codes: '${code}' is also listed under ${other}`);
      byCode.set(k, key);
    }
  }
  const groupOf = (testCode: string) => byCode.get(testCode.toLowerCase()) ?? 'default';
  const limitsOf = (group: string) => (group === 'default' ? file.default : file.tests[group]!);
  return {
    temperature: file.temperature,
    futureSkewMs: file.futureSkewSeconds * 1000,
    groupOf,
    hours: (testCode, mode, leg) => limitsOf(groupOf(testCode))[mode][leg],
    table: () => [
      ...Object.entries(file.tests).map(([group, t]) => ({
        group,
        zh: t.zh,
        codes: [...t.codes],
        routine: { ...t.routine },
        emergency: { ...t.emergency },
      })),
      { group: 'default', zh: '其他检测', codes: [], routine: { ...file.default.routine }, emergency: { ...file.default.emergency } },
    ],
  };
}

let loaded: LabLimits | undefined;

/** The shipped limits file, read and checked once (throws naming the bad field). */
export function loadLabLimits(file = LIMITS_FILE): LabLimits {
  if (file !== LIMITS_FILE) return parseLabLimits(fs.readFileSync(file, 'utf8'), file);
  loaded ??= parseLabLimits(fs.readFileSync(file, 'utf8'), file);
  return loaded;
}
