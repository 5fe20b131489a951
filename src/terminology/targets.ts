/**
 * The targets of lab-test mapping (Yifang's CodeSystem lab-test) and the built-in LOINC table,
 * from config/terminology/lab-tests.json, validated once: an entry naming an unknown target, a
 * LOINC code listed twice or a target code listed twice refuses the file, naming the entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { YIFANG_BASE } from '../shared/uris.js';

export const LAB_TEST_SYSTEM = `${YIFANG_BASE}/CodeSystem/lab-test`;
export const DEFAULT_LAB_TESTS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/terminology/lab-tests.json');

const Target = z.object({
  code: z.string().regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'upper-case letters, digits and hyphens'),
  zh: z.string().min(1),
  en: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
});
const LoincEntry = z.object({
  loinc: z.string().regex(/^\d{1,7}-\d$/, 'a LOINC code (digits, hyphen, check digit)'),
  target: z.string(),
  name: z.string().min(1),
  source: z.string().min(1),
});
const ByValue = z.object({
  loinc: z.string().regex(/^\d{1,7}-\d$/),
  name: z.string().min(1),
  source: z.string().min(1),
  organisms: z
    .array(z.object({ snomed: z.string().regex(/^\d+$/).optional(), words: z.array(z.string().min(1)).min(1), target: z.string() }))
    .min(1),
});
const File = z.object({
  system: z.literal(LAB_TEST_SYSTEM),
  targets: z.array(Target).min(1),
  loinc: z.array(LoincEntry),
  loincByValue: z.array(ByValue).default([]),
});

export type LabTarget = z.infer<typeof Target>;
export interface LabTables {
  targets: LabTarget[];
  byCode: Map<string, LabTarget>;
  /** LOINC code → target code. */
  loinc: Map<string, string>;
  /** LOINC code whose pathogen is the result value (organism identified) → organisms. */
  loincByValue: Map<string, z.infer<typeof ByValue>['organisms']>;
}

/** Validates the file's content (throws naming the first bad entry). */
export function parseLabTables(raw: unknown, where = 'lab-tests.json'): LabTables {
  const parsed = File.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.')}: ${i.message}`);
  }
  const f = parsed.data;
  const byCode = new Map<string, LabTarget>();
  f.targets.forEach((t, i) => {
    if (byCode.has(t.code)) throw new Error(`${where}: targets.${i}: target code ${t.code} is listed twice`);
    byCode.set(t.code, t);
  });
  const loinc = new Map<string, string>();
  f.loinc.forEach((e, i) => {
    if (!byCode.has(e.target)) throw new Error(`${where}: loinc.${i} (${e.loinc}): unknown target ${e.target}`);
    if (loinc.has(e.loinc)) throw new Error(`${where}: loinc.${i}: LOINC ${e.loinc} is listed twice`);
    loinc.set(e.loinc, e.target);
  });
  const loincByValue = new Map<string, z.infer<typeof ByValue>['organisms']>();
  f.loincByValue.forEach((e, i) => {
    e.organisms.forEach((o, j) => {
      if (!byCode.has(o.target)) throw new Error(`${where}: loincByValue.${i}.organisms.${j}: unknown target ${o.target}`);
    });
    if (loinc.has(e.loinc) || loincByValue.has(e.loinc)) throw new Error(`${where}: loincByValue.${i}: LOINC ${e.loinc} is listed twice`);
    loincByValue.set(e.loinc, e.organisms);
  });
  return { targets: f.targets, byCode, loinc, loincByValue };
}

let cached: LabTables | undefined;

/** The tables of config/terminology/lab-tests.json (read once). */
export function labTables(file = DEFAULT_LAB_TESTS_FILE): LabTables {
  if (file !== DEFAULT_LAB_TESTS_FILE) return parseLabTables(JSON.parse(fs.readFileSync(file, 'utf8')), path.basename(file));
  cached ??= parseLabTables(JSON.parse(fs.readFileSync(file, 'utf8')), path.basename(file));
  return cached;
}
