/**
 * The targets of specimen-type and unit mapping, from config/terminology/specimen-types.json
 * (SNOMED CT specimen concepts, with the HL7 v2 table 0487/0070 codes that resolve to them
 * without mapping) and config/terminology/units.json (UCUM codes, with the spellings Chinese LIS
 * use). Validated once: a code listed twice, an HL7 v2 code or an alias claimed by two targets
 * refuses the file, naming the entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UCUM_SYSTEM } from '../shared/uris.js';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
/** Specimen types map to SNOMED CT specimen concepts. */
export const SPECIMEN_SYSTEM = SNOMED_SYSTEM;
export { UCUM_SYSTEM };
export const V2_0487 = 'http://terminology.hl7.org/CodeSystem/v2-0487';
export const V2_0070 = 'http://terminology.hl7.org/CodeSystem/v2-0070';

const CONFIG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/terminology');
export const DEFAULT_SPECIMEN_FILE = path.join(CONFIG_DIR, 'specimen-types.json');
export const DEFAULT_UNITS_FILE = path.join(CONFIG_DIR, 'units.json');

const SPECIMEN_CLASSES = ['upper-respiratory', 'lower-respiratory', 'blood', 'stool', 'urine', 'csf', 'other'] as const;
export type SpecimenClass = (typeof SPECIMEN_CLASSES)[number];

const SpecimenTarget = z.object({
  code: z.string().regex(/^\d{6,18}$/, 'a SNOMED CT concept id'),
  zh: z.string().min(1),
  en: z.string().min(1),
  class: z.enum(SPECIMEN_CLASSES),
  aliases: z.array(z.string().min(1)).default([]),
  hl7v2: z
    .object({
      '0487': z.array(z.string().regex(/^[A-Z0-9]{1,8}$/)).default([]),
      '0070': z.array(z.string().regex(/^[A-Z0-9]{1,8}$/)).default([]),
    })
    .default({ '0487': [], '0070': [] }),
});
const UnitTarget = z.object({
  code: z.string().regex(/^[\x21-\x7e]{1,40}$/, 'a UCUM code (printable ASCII, no spaces)'),
  zh: z.string().min(1),
  en: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
});
const SpecimenFile = z.object({ system: z.literal(SPECIMEN_SYSTEM), source: z.string().min(1), targets: z.array(SpecimenTarget).min(1) });
const UnitFile = z.object({ system: z.literal(UCUM_SYSTEM), source: z.string().min(1), targets: z.array(UnitTarget).min(1) });

export type SpecimenTarget = z.infer<typeof SpecimenTarget>;
export type UnitTarget = z.infer<typeof UnitTarget>;

/** What suggestions and the mapping screen need of any target. */
export interface NamedTarget {
  code: string;
  zh: string;
  en: string;
  aliases: string[];
}

export interface CodeTable<T extends NamedTarget> {
  system: string;
  source: string;
  targets: T[];
  byCode: Map<string, T>;
  /** Normalised name or alias → target code (text that resolves without any mapping). */
  byText: Map<string, string>;
}

export interface SpecimenTables extends CodeTable<SpecimenTarget> {
  /** `<v2 table system>|<code>` → target code. */
  hl7v2: Map<string, string>;
}
export type UnitTables = CodeTable<UnitTarget>;

/** Specimen text compared for an exact match: trimmed, case and width folded, spaces dropped. */
export const normaliseSpecimenText = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');

/**
 * A unit string folded for comparison: full-width to ASCII, µ/μ to u, "×10^9", "x10E9", "10~9" to
 * "10*9", brackets and braces dropped ([IU] = IU), spaces dropped, lower case.
 */
export function normaliseUnit(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/[\u00b5\u03bc]/g, 'u')
    .replace(/\s+/g, '')
    .replace(/^[×xX*]\s*(?=10)/, '')
    .replace(/10(?:\^|~|E|e|\*\*)(?=[-+]?\d)/g, '10*')
    .replace(/[[\]{}]/g, '')
    .toLowerCase();
}

function fail(where: string, issue: z.ZodIssue): never {
  throw new Error(`${where}: ${issue.path.join('.')}: ${issue.message}`);
}

function indexTargets<T extends NamedTarget>(
  where: string,
  targets: T[],
  norm: (s: string) => string,
): [Map<string, T>, Map<string, string>] {
  const byCode = new Map<string, T>();
  const byText = new Map<string, string>();
  targets.forEach((t, i) => {
    if (byCode.has(t.code)) throw new Error(`${where}: targets.${i}: code ${t.code} is listed twice`);
    byCode.set(t.code, t);
  });
  targets.forEach((t, i) => {
    for (const text of [t.code, t.zh, t.en, ...t.aliases]) {
      const k = norm(text);
      if (!k) continue;
      const other = byText.get(k);
      if (other !== undefined && other !== t.code)
        throw new Error(`${where}: targets.${i} (${t.code}): ${JSON.stringify(text)} is also a name or alias of ${other}`);
      byText.set(k, t.code);
    }
  });
  return [byCode, byText];
}

export function parseSpecimenTables(raw: unknown, where = 'specimen-types.json'): SpecimenTables {
  const parsed = SpecimenFile.safeParse(raw);
  if (!parsed.success) fail(where, parsed.error.issues[0]!);
  const f = parsed.data;
  const [byCode, byText] = indexTargets(where, f.targets, normaliseSpecimenText);
  const hl7v2 = new Map<string, string>();
  f.targets.forEach((t, i) => {
    for (const [table, system] of [
      ['0487', V2_0487],
      ['0070', V2_0070],
    ] as const)
      for (const code of t.hl7v2[table]) {
        const k = `${system}|${code}`;
        if (hl7v2.has(k)) throw new Error(`${where}: targets.${i} (${t.code}): HL7 v2 ${table} code ${code} is listed twice`);
        hl7v2.set(k, t.code);
      }
  });
  return { system: f.system, source: f.source, targets: f.targets, byCode, byText, hl7v2 };
}

export function parseUnitTables(raw: unknown, where = 'units.json'): UnitTables {
  const parsed = UnitFile.safeParse(raw);
  if (!parsed.success) fail(where, parsed.error.issues[0]!);
  const f = parsed.data;
  const [byCode, byText] = indexTargets(where, f.targets, normaliseUnit);
  return { system: f.system, source: f.source, targets: f.targets, byCode, byText };
}

let specimens: SpecimenTables | undefined;
let units: UnitTables | undefined;
const read = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** The specimen-type targets (config/terminology/specimen-types.json, read once). */
export function specimenTables(file = DEFAULT_SPECIMEN_FILE): SpecimenTables {
  if (file !== DEFAULT_SPECIMEN_FILE) return parseSpecimenTables(read(file), path.basename(file));
  specimens ??= parseSpecimenTables(read(file), path.basename(file));
  return specimens;
}

/** The unit targets (config/terminology/units.json, read once). */
export function unitTables(file = DEFAULT_UNITS_FILE): UnitTables {
  if (file !== DEFAULT_UNITS_FILE) return parseUnitTables(read(file), path.basename(file));
  units ??= parseUnitTables(read(file), path.basename(file));
  return units;
}
