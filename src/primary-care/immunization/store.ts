/** Reads of immunization data on the module's tables (imm_dose is written by the change-log processor). */
import type { Sql } from '../services.js';
import type { GivenDose } from './schedule.js';

/** The doses a resident has been given, oldest first. */
export async function givenDoses(db: Sql, patientId: string): Promise<GivenDose[]> {
  const r = await db.query<GivenDose>(
    `SELECT vaccine, to_char(given_on, 'YYYY-MM-DD') AS date FROM imm_dose WHERE patient_id = $1 ORDER BY given_on`,
    [patientId],
  );
  return r.rows;
}
