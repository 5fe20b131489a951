/**
 * The notifiable-disease list (config/surveillance/notifiable-diseases.json): which ICD-10
 * codes must be reported on a 传染病报告卡, within how many hours, and which are CIDARS
 * fixed-threshold diseases. The list changes by law, so every entry has effective dates and
 * a lookup takes the date of diagnosis.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { icd10MatchesAny, isValidIcd10Pattern } from './icd10.js';
import { configDir } from './paths.js';

const diseaseSchema = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  subtype: z.string().optional(),
  class: z.enum(['甲', '乙', '丙']),
  icd10: z.array(z.string().refine(isValidIcd10Pattern, 'not an ICD-10 code or range')).min(1),
  deadlineHours: z.number().positive(),
  fixedThreshold: z.boolean().optional(),
  chronicity: z.boolean().optional(),
  subtypes: z.array(z.string()).optional(),
  effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  effectiveTo: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});
const listSchema = z.object({ version: z.string(), diseases: z.array(diseaseSchema).min(1) });

export type NotifiableDisease = z.infer<typeof diseaseSchema>;
export type NotifiableList = z.infer<typeof listSchema>;

export function parseNotifiableList(json: unknown, source = 'notifiable-diseases.json'): NotifiableList {
  const r = listSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.')}: ${i.message}`);
  }
  const keys = new Set<string>();
  for (const d of r.data.diseases) {
    if (keys.has(d.key)) throw new Error(`${source}: disease key '${d.key}' appears twice`);
    keys.add(d.key);
  }
  return r.data;
}

let cached: NotifiableList | undefined;
export function loadNotifiableList(file = path.join(configDir, 'notifiable-diseases.json')): NotifiableList {
  if (file === path.join(configDir, 'notifiable-diseases.json') && cached) return cached;
  const list = parseNotifiableList(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  if (file === path.join(configDir, 'notifiable-diseases.json')) cached = list;
  return list;
}

/** The notifiable disease an ICD-10 code names on a given day (YYYY-MM-DD), if any. */
export function findNotifiable(list: NotifiableList, icd10: string, day: string): NotifiableDisease | undefined {
  return list.diseases.find((d) => day >= d.effectiveFrom && (!d.effectiveTo || day <= d.effectiveTo) && icd10MatchesAny(d.icd10, icd10));
}

/** A disease by its display name (+ subtype), as report cards from other systems name them. */
export function findNotifiableByName(
  list: NotifiableList,
  name: string,
  subtype: string | null | undefined,
  icd10?: string,
  day?: string,
): NotifiableDisease | undefined {
  if (icd10) {
    const byCode = findNotifiable(list, icd10, day ?? '9999-12-31');
    if (byCode) return byCode;
  }
  const candidates = list.diseases.filter((d) => d.name === name);
  return candidates.find((d) => d.subtype && subtype && subtype.startsWith(d.subtype.slice(0, 1))) ?? candidates[0];
}
