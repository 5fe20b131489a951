/**
 * Key populations of family-doctor contracts (重点人群). Age and the registries give the elderly
 * (≥ 65), children (0–6) and chronic patients; the rest come from the record or from staff
 * (care_key_population rows, made from Conditions, EpisodeOfCare and Flags by chronic/facts.ts).
 * Pure vocabulary and classification: no I/O.
 */

/** Every key population, in display order; the first four are computed, not stored. */
export const KEY_POPULATIONS = ['all', 'elderly', 'children', 'chronic', 'pregnant', 'disabled', 'hardship'] as const;
export type KeyPopulation = (typeof KEY_POPULATIONS)[number];
/** Populations that staff flag (no clinical source). */
export const FLAGGED_POPULATIONS = ['disabled', 'hardship'] as const;
export const POPULATION_LABEL: Record<string, string> = {
  all: '全人群',
  elderly: '65岁及以上老年人',
  children: '0–6岁儿童',
  chronic: '慢病患者',
  pregnant: '孕产妇',
  disabled: '残疾人',
  hardship: '特困家庭',
};

/** The key populations of one resident from age, registry membership and stored rows. */
export function populationsOf(r: {
  age: number | null;
  chronic: boolean;
  pregnant?: boolean | null;
  disabled?: boolean | null;
  hardship?: boolean | null;
}): KeyPopulation[] {
  return [
    ...(r.age !== null && r.age >= 65 ? (['elderly'] as const) : []),
    ...(r.age !== null && r.age <= 6 ? (['children'] as const) : []),
    ...(r.chronic ? (['chronic'] as const) : []),
    ...(r.pregnant ? (['pregnant'] as const) : []),
    ...(r.disabled ? (['disabled'] as const) : []),
    ...(r.hardship ? (['hardship'] as const) : []),
  ];
}
