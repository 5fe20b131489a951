/**
 * Bulk access to the chronic fact tables for benchmarks and end-to-end seeds, so that code
 * outside the module never names the module's tables: loading synthetic facts with COPY, and
 * counting or picking residents from the derived tables.
 */
import { copyTextRows, type Database } from '../../platform/db.js';
import type { Disease } from '../common-schemas.js';

/** The fact tables (written by the change-log processor from FHIR) and their columns. */
export const FACT_TABLES = {
  chronic_person: ['patient_id', 'name', 'birth_date', 'gender', 'area_code', 'organization_id', 'household_id', 'deceased'],
  chronic_condition: ['condition_id', 'patient_id', 'icd', 'onset', 'active'],
  chronic_medication: ['request_id', 'patient_id', 'atc', 'authored', 'active'],
  chronic_encounter: [
    'encounter_id',
    'patient_id',
    'visit_date',
    'class',
    'status',
    'follow_up_mode',
    'doctor_id',
    'organization_id',
    'symptoms',
    'adverse_reaction',
    'new_complication',
    'ended_on',
  ],
  chronic_reading: ['observation_id', 'patient_id', 'encounter_id', 'kind', 'taken_on', 'sbp', 'dbp', 'value', 'flag'],
  imm_dose: ['immunization_id', 'patient_id', 'vaccine', 'given_on'],
  care_team_member: ['team_id', 'practitioner_id', 'team_name', 'organization_id'],
} as const;
export type FactTable = keyof typeof FACT_TABLES;

/**
 * Loads synthetic fact rows (PostgreSQL COPY text lines, one per row, in the columns given) in
 * one transaction, then ANALYZEs. Derived state is not computed: run recomputeAll after.
 */
export async function copyFactRows(
  db: Pick<Database, 'transaction' | 'copyFrom' | 'query'>,
  tables: Partial<Record<FactTable, { columns: readonly string[]; lines: string[] }>>,
): Promise<void> {
  for (const table of Object.keys(tables)) if (!(table in FACT_TABLES)) throw new Error(`${table} is not a chronic fact table`);
  await copyTextRows(db, tables);
}

/** Rows in the derived tables: registry entries and follow-up evaluations. */
export async function derivedRowCounts(db: Pick<Database, 'query'>): Promise<{ registry: number; visitEvaluations: number }> {
  const r = await db.query<{ registry: number; evals: number }>(
    'SELECT (SELECT count(*)::int FROM chronic_registry) AS registry, (SELECT count(*)::int FROM chronic_visit_eval) AS evals',
  );
  return { registry: r.rows[0]!.registry, visitEvaluations: r.rows[0]!.evals };
}

/** Residents chronic care knows who were born after a date, by id. */
export async function residentsBornAfter(db: Pick<Database, 'query'>, date: string, limit = 100): Promise<string[]> {
  const r = await db.query<{ patient_id: string }>(
    'SELECT patient_id FROM chronic_person WHERE birth_date > $1::date ORDER BY patient_id LIMIT $2',
    [date, limit],
  );
  return r.rows.map((x) => x.patient_id);
}

/** Residents in a disease registry, the soonest due first. */
export async function registeredResidents(db: Pick<Database, 'query'>, disease: Disease, limit = 100): Promise<string[]> {
  const r = await db.query<{ patient_id: string }>(
    'SELECT patient_id FROM chronic_registry WHERE disease = $1 ORDER BY next_due, patient_id LIMIT $2',
    [disease, limit],
  );
  return r.rows.map((x) => x.patient_id);
}
