/**
 * The portrait's own table (portrait_resident): one row per Patient with home street, sex and
 * birth date, written by the processor and read as population counts.
 */
import type { Patient } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Queryable } from '../platform/db.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';

export interface PortraitResidentRow {
  patientId: string;
  areaCode: string | null;
  streetCode: string | null;
  gender: string | null;
  birthDate: string | null;
  deceased: boolean;
}

/** A Patient as the portrait counts it (partial birth dates at mid-year or mid-month, as primary care reads them). */
export function residentOf(p: Patient): PortraitResidentRow {
  const home = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const ext = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION);
  const raw = ext?.valueString ?? ext?.valueCode ?? null;
  const area = raw && /^\d{12}$/.test(raw) ? raw : null;
  const b = p.birthDate;
  const birth = !b
    ? null
    : /^\d{4}$/.test(b)
      ? `${b}-07-01`
      : /^\d{4}-\d{2}$/.test(b)
        ? `${b}-15`
        : /^\d{4}-\d{2}-\d{2}$/.test(b)
          ? b
          : null;
  return {
    patientId: p.id!,
    areaCode: area,
    streetCode: area ? `${area.slice(0, 9)}000` : null,
    gender: p.gender ?? null,
    birthDate: birth,
    deceased: p.deceasedBoolean === true || !!p.deceasedDateTime,
  };
}

/** Replaces the rows of these patients (deleted ones are left out of `rows`). */
export async function replaceResidents(client: pg.PoolClient, ids: string[], rows: PortraitResidentRow[]): Promise<void> {
  if (!ids.length) return;
  await client.query('DELETE FROM portrait_resident WHERE patient_id = ANY($1::text[])', [ids]);
  if (!rows.length) return;
  await client.query(
    `INSERT INTO portrait_resident (patient_id, area_code, street_code, gender, birth_date, deceased)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::boolean[])`,
    [
      rows.map((r) => r.patientId),
      rows.map((r) => r.areaCode),
      rows.map((r) => r.streetCode),
      rows.map((r) => r.gender),
      rows.map((r) => r.birthDate),
      rows.map((r) => r.deceased),
    ],
  );
}

/** Living residents by street, sex and age in whole years on a date (age null: birth date unknown). */
export interface PopulationCount {
  street: string;
  gender: string | null;
  age: number | null;
  count: number;
}

export async function populationCounts(db: Queryable, on: string, street?: string): Promise<PopulationCount[]> {
  const params: unknown[] = [on];
  const where = street ? `AND street_code = $${params.push(street)}` : 'AND street_code IS NOT NULL';
  const r = await db.query<{ street: string; gender: string | null; age: number | null; n: number }>(
    `SELECT street_code AS street, gender, extract(year FROM age($1::date, birth_date))::int AS age, count(*)::int AS n
     FROM portrait_resident
     WHERE NOT deceased AND (birth_date IS NULL OR birth_date <= $1::date) ${where}
     GROUP BY 1, 2, 3`,
    params,
  );
  return r.rows.map((x) => ({ street: x.street, gender: x.gender, age: x.age, count: x.n }));
}
