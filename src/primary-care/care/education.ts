/**
 * Health-education prescriptions (健康教育处方, the second half of 双处方): items chosen by
 * diagnosis, risk and age from config/care/education-items.json.
 */
import path from 'node:path';
import { z } from 'zod';
import { loadRuleFile, repoConfigDir, RuleFileError } from '../chronic/rule-file.js';

/** One education item (健康教育处方) of config/care/education-items.json. */
export const EducationItemSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    title: z.string(),
    kind: z.enum(['text', 'sheet', 'link']),
    text: z.string(),
    url: z.string().url().optional(),
    icdPrefixes: z.array(z.string()).optional(),
    requiresMedicationAtc: z.array(z.string()).optional(),
    risks: z.array(z.string()).optional(),
    minAge: z.number().int().min(0).optional(),
    maxAge: z.number().int().min(0).optional(),
  })
  .strict();

export const EducationFileSchema = z.object({ version: z.string(), source: z.string(), items: z.array(EducationItemSchema) }).strict();
export type EducationItem = z.infer<typeof EducationItemSchema>;

export function loadEducationItems(file = path.join(repoConfigDir, 'care/education-items.json')): EducationItem[] {
  return loadRuleFile(file, EducationFileSchema, (v, lineOf) => {
    const ids = new Set<string>();
    v.items.forEach((it, k) => {
      if (ids.has(it.id)) throw new RuleFileError(path.basename(file), lineOf(['items', k, 'id']), `item id "${it.id}" is used twice`);
      ids.add(it.id);
      if (it.kind === 'link' && !it.url)
        throw new RuleFileError(path.basename(file), lineOf(['items', k]), `link item "${it.id}" needs a url`);
    });
  }).items;
}

export interface EducationFacts {
  age: number;
  conditions: string[];
  /** ATC codes of active prescriptions. */
  medicationsAtc: string[];
  risks: string[];
}

/**
 * Items that fit the resident. An item with a diagnosis or risk criterion needs one of them;
 * items with only an age range apply by age alone.
 */
export function educationItemsFor(facts: EducationFacts, items: EducationItem[]): EducationItem[] {
  return items.filter((it) => {
    if (it.minAge !== undefined && facts.age < it.minAge) return false;
    if (it.maxAge !== undefined && facts.age > it.maxAge) return false;
    const byDx = it.icdPrefixes ? facts.conditions.some((c) => it.icdPrefixes!.some((p) => c.startsWith(p))) : undefined;
    const byRisk = it.risks ? facts.risks.some((r) => it.risks!.includes(r)) : undefined;
    if (byDx === false && byRisk !== true) return false;
    if (byRisk === false && byDx !== true) return false;
    if (it.requiresMedicationAtc && !facts.medicationsAtc.some((a) => it.requiresMedicationAtc!.some((p) => a.startsWith(p)))) return false;
    return true;
  });
}
