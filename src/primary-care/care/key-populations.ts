/**
 * Key populations of family-doctor contracts (重点人群). Age and the registries give the elderly
 * (≥ 65), children (0–6) and chronic patients; the rest come from the record or from staff:
 * - pregnant women: an active pregnancy Condition (SNOMED 77386006 "Pregnancy", ICD-10 Z33–Z35
 *   or O00–O48) or a pregnancy EpisodeOfCare (type SNOMED 77386006 or key-population#pregnant);
 * - disabled residents and special-hardship families: a FHIR Flag (code key-population#disabled
 *   or #hardship) set by staff, because no clinical record says so.
 * Each source resource becomes one row of care_key_population with the days it covers.
 */
import type { Condition, EpisodeOfCare, Flag } from '@medplum/fhirtypes';
import { ICD10_SYSTEM } from '../../shared/uris.js';
import { dateOf, refId } from '../chronic/facts.js';
import { addDays } from '../chronic/rules.js';
import { KEY_POPULATION_SYSTEM, SNOMED_SYSTEM } from '../chronic/uris.js';

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

export const PREGNANCY_SNOMED = '77386006';
/** Z33 pregnant state, Z34/Z35 supervision of (high-risk) pregnancy, O00–O48 conditions of pregnancy (not delivery or puerperium). */
export const PREGNANCY_ICD_PREFIXES = ['Z33', 'Z34', 'Z35', 'O0', 'O1', 'O2', 'O3', 'O4'];
/** A pregnancy with no recorded end counts for at most this many days from its onset (42 weeks plus a margin). */
export const PREGNANCY_MAX_DAYS = 300;

export interface KeyPopulationRow {
  source: string;
  patient_id: string;
  population: string;
  start_on: string | null;
  end_on: string | null;
  note: string | null;
}

const isPregnancyCode = (codings: { system?: string; code?: string }[]) =>
  codings.some(
    (c) =>
      (c.system === SNOMED_SYSTEM && c.code === PREGNANCY_SNOMED) ||
      (c.system === KEY_POPULATION_SYSTEM && c.code === 'pregnant') ||
      (c.system === ICD10_SYSTEM && !!c.code && PREGNANCY_ICD_PREFIXES.some((p) => c.code!.toUpperCase().startsWith(p))),
  );

export function isPregnancyEpisode(e: EpisodeOfCare): boolean {
  return isPregnancyCode(e.type?.flatMap((t) => t.coding ?? []) ?? []);
}

export function pregnancyFromCondition(c: Condition): KeyPopulationRow | null {
  const patient = refId(c.subject, 'Patient');
  if (!patient || !isPregnancyCode(c.code?.coding ?? [])) return null;
  const ver = c.verificationStatus?.coding?.[0]?.code ?? 'confirmed';
  if (['refuted', 'entered-in-error'].includes(ver)) return null;
  const clinical = c.clinicalStatus?.coding?.[0]?.code ?? 'active';
  const start = dateOf(c.onsetDateTime) ?? dateOf(c.onsetPeriod?.start) ?? dateOf(c.recordedDate);
  const ended = dateOf(c.abatementDateTime) ?? dateOf(c.abatementPeriod?.end);
  const active = ['active', 'recurrence', 'relapse'].includes(clinical);
  // A resolved pregnancy without an end date cannot be placed in time: left out.
  if (!active && !ended) return null;
  const end = ended ?? (start ? addDays(start, PREGNANCY_MAX_DAYS) : null);
  return {
    source: `Condition/${c.id}`,
    patient_id: patient,
    population: 'pregnant',
    start_on: start,
    end_on: end,
    note: c.code?.text ?? null,
  };
}

export function pregnancyFromEpisode(e: EpisodeOfCare): KeyPopulationRow | null {
  const patient = refId(e.patient, 'Patient');
  if (!patient || !isPregnancyEpisode(e) || ['cancelled', 'entered-in-error'].includes(e.status)) return null;
  const start = dateOf(e.period?.start);
  const end = dateOf(e.period?.end) ?? (start ? addDays(start, PREGNANCY_MAX_DAYS) : null);
  return { source: `EpisodeOfCare/${e.id}`, patient_id: patient, population: 'pregnant', start_on: start, end_on: end, note: null };
}

export function populationFromFlag(f: Flag): KeyPopulationRow | null {
  const patient = refId(f.subject, 'Patient');
  const code = f.code?.coding?.find((c) => c.system === KEY_POPULATION_SYSTEM)?.code;
  if (!patient || !code || !['disabled', 'hardship', 'pregnant'].includes(code) || f.status === 'entered-in-error') return null;
  const start = dateOf(f.period?.start);
  // An inactive flag without an end ends where it started (it no longer applies).
  const end = dateOf(f.period?.end) ?? (f.status === 'inactive' ? (start ?? '0001-01-01') : null);
  return { source: `Flag/${f.id}`, patient_id: patient, population: code, start_on: start, end_on: end, note: f.code?.text ?? null };
}

/**
 * SQL: per resident, whether they belong to each stored key population on the date in
 * parameter `$dateParam` (one row per resident who belongs to any).
 */
export function keyPopulationsOnSql(dateParam: string): string {
  return `SELECT patient_id,
            bool_or(population = 'pregnant') AS pregnant,
            bool_or(population = 'disabled') AS disabled,
            bool_or(population = 'hardship') AS hardship
     FROM care_key_population
     WHERE (start_on IS NULL OR start_on <= ${dateParam}::date) AND (end_on IS NULL OR end_on >= ${dateParam}::date)
     GROUP BY patient_id`;
}

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
