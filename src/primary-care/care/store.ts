/**
 * Reads and writes of family-doctor care (contracts, teams, check-ins, key populations,
 * referrals) on the module's own tables. The routes reach these through care/service.ts or
 * directly; nothing outside src/primary-care reads these tables.
 */
import { addDays, ageOn } from '../../shared/dates.js';
import { upsertRows } from '../chronic/store.js';
import type { KeyPopulationFact } from '../chronic/facts.js';
import type { Sql } from '../services.js';
import { populationsOf } from './key-populations.js';

/** A client inside a transaction. */
type Tx = Parameters<typeof upsertRows>[0];
import type { CheckInRow, ContractRow, KeyPopulationRow, ReferralRow, TeamRow } from './schemas.js';

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

/** Web check-ins (Encounter arrived) and ADT A04 registrations (ambulatory Encounter in progress) of a day. */
export async function checkInsOn(db: Sql, day: string): Promise<CheckInRow[]> {
  const r = await db.query<CheckInRow>(
    `SELECT e.encounter_id AS "encounterId", e.patient_id AS "patientId", p.name, e.organization_id AS "organizationId" FROM chronic_encounter e
     LEFT JOIN chronic_person p ON p.patient_id = e.patient_id WHERE e.status IN ('arrived', 'in-progress') AND e.visit_date = $1::date AND coalesce(e.class, 'AMB') IN ('AMB', 'EMER') ORDER BY e.encounter_id LIMIT 500`,
    [day],
  );
  return r.rows;
}

/** Family-doctor teams with their members and active contract counts. */
export async function listTeams(db: Sql): Promise<TeamRow[]> {
  const r = await db.query<TeamRow>(
    `SELECT m.team_id AS "teamId", min(m.team_name) AS name, min(m.organization_id) AS "organizationId", array_agg(m.practitioner_id ORDER BY m.practitioner_id) AS members,
            (SELECT count(*)::int FROM care_contract c WHERE c.team_id = m.team_id AND c.status = 'active') AS contracts
     FROM care_team_member m GROUP BY m.team_id ORDER BY m.team_id`,
  );
  return r.rows;
}

/** Living members of a household (Patient ids), as chronic care knows them. */
export async function livingHouseholdMembers(db: Sql, householdId: string): Promise<string[]> {
  const r = await db.query<{ patient_id: string }>(
    'SELECT patient_id FROM chronic_person WHERE household_id = $1 AND NOT deceased ORDER BY patient_id',
    [householdId],
  );
  return r.rows.map((x) => x.patient_id);
}

/** Active contracts of some residents. */
export async function activeContractsOf(
  db: Sql,
  patientIds: string[],
): Promise<{ episodeId: string; patientId: string; teamId: string | null }[]> {
  const r = await db.query<{ episodeId: string; patientId: string; teamId: string | null }>(
    `SELECT episode_id AS "episodeId", patient_id AS "patientId", team_id AS "teamId" FROM care_contract WHERE patient_id = ANY($1) AND status = 'active'`,
    [patientIds],
  );
  return r.rows;
}

/** Writes contract rows at once (the processor writes them too), so the next request sees them. */
export async function storeContracts(c: Tx, rows: object[]): Promise<void> {
  await upsertRows(c, 'care_contract', ['episode_id'], rows);
}

/** How many rows of a list's table (with its alias) match the list's filters: the total beside a page. */
async function countWhere(db: Sql, from: string, where: string, params: unknown[]): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${from} WHERE ${where}`, params);
  return Number(r.rows[0]?.n ?? 0);
}

/** Contracts in a status (filters: team, patient) with each resident's key populations today. */
export async function listContracts(
  db: Sql,
  f: { status: string; team?: string; patient?: string; limit: number; offset: number },
  today: string,
): Promise<{ rows: ContractRow[]; total: number }> {
  const params: unknown[] = [f.status];
  let where = 'c.status = $1';
  if (f.team) {
    params.push(f.team);
    where += ` AND c.team_id = $${params.length}`;
  }
  if (f.patient) {
    params.push(f.patient);
    where += ` AND c.patient_id = $${params.length}`;
  }
  const total = await countWhere(db, 'care_contract c', where, params);
  const n = params.length;
  // The page first, then the key populations of its residents only.
  const r = await db.query<
    Omit<ContractRow, 'populations' | 'renewalDue'> & { pregnant: boolean | null; disabled: boolean | null; hardship: boolean | null }
  >(
    `WITH page AS (SELECT c.* FROM care_contract c WHERE ${where} ORDER BY c.start_on DESC, c.patient_id, c.episode_id LIMIT $${n + 1} OFFSET $${n + 2}),
          kp AS (SELECT k.patient_id, bool_or(k.population = 'pregnant') AS pregnant, bool_or(k.population = 'disabled') AS disabled, bool_or(k.population = 'hardship') AS hardship
                 FROM care_key_population k WHERE k.patient_id IN (SELECT patient_id FROM page)
                   AND (k.start_on IS NULL OR k.start_on <= $${n + 3}::date) AND (k.end_on IS NULL OR k.end_on >= $${n + 3}::date)
                 GROUP BY k.patient_id)
     SELECT c.episode_id AS "episodeId", c.patient_id AS "patientId", p.name, to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate", c.team_id AS "teamId", c.package,
            to_char(c.start_on, 'YYYY-MM-DD') AS start, to_char(c.end_on, 'YYYY-MM-DD') AS "end", c.household_id AS "householdId",
            EXISTS (SELECT 1 FROM chronic_registry g WHERE g.patient_id = c.patient_id) AS chronic, kp.pregnant, kp.disabled, kp.hardship
     FROM page c LEFT JOIN chronic_person p ON p.patient_id = c.patient_id LEFT JOIN kp ON kp.patient_id = c.patient_id
     ORDER BY c.start_on DESC, c.patient_id, c.episode_id`,
    [...params, f.limit, f.offset, today],
  );
  const rows = r.rows.map(({ pregnant, disabled, hardship, ...x }) => {
    const age = x.birthDate ? ageOn(x.birthDate, today) : null;
    return {
      ...x,
      populations: populationsOf({ age, chronic: x.chronic, pregnant, disabled, hardship }),
      renewalDue: !!x.end && x.end <= addDays(today, 30),
    };
  });
  return { rows, total };
}

/** Stored key-population memberships (filters: patient, population, in force on asOf). */
export async function listKeyPopulations(
  db: Sql,
  f: { patient?: string; population?: string; asOf?: string; limit: number; offset: number },
): Promise<{ rows: KeyPopulationRow[]; total: number }> {
  const params: unknown[] = [];
  let where = 'true';
  if (f.patient) {
    params.push(f.patient);
    where += ` AND k.patient_id = $${params.length}`;
  }
  if (f.population) {
    params.push(f.population);
    where += ` AND k.population = $${params.length}`;
  }
  if (f.asOf !== undefined) {
    params.push(f.asOf);
    where += ` AND (k.start_on IS NULL OR k.start_on <= $${params.length}::date) AND (k.end_on IS NULL OR k.end_on >= $${params.length}::date)`;
  }
  const total = await countWhere(db, 'care_key_population k', where, params);
  const r = await db.query<KeyPopulationRow>(
    `SELECT k.source, k.patient_id AS "patientId", p.name, k.population, to_char(k.start_on, 'YYYY-MM-DD') AS start, to_char(k.end_on, 'YYYY-MM-DD') AS "end", k.note
     FROM care_key_population k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id WHERE ${where}
     ORDER BY k.patient_id, k.population, k.start_on NULLS FIRST, k.source LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return { rows: r.rows, total };
}

/** The staff flag (Flag/…) that puts a resident in a population on a day, if any. */
export async function flagInForce(db: Sql, patientId: string, population: string, day: string): Promise<string | undefined> {
  const r = await db.query<{ source: string }>(
    `SELECT source FROM care_key_population WHERE patient_id = $1 AND population = $2 AND source LIKE 'Flag/%' AND (end_on IS NULL OR end_on >= $3::date)`,
    [patientId, population, day],
  );
  return r.rows[0]?.source;
}

/** Whether a resident is pregnant on a day by the stored key populations. */
export async function pregnantOn(db: Sql, patientId: string, day: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM care_key_population WHERE patient_id = $1 AND population = 'pregnant' AND (start_on IS NULL OR start_on <= $2::date) AND (end_on IS NULL OR end_on >= $2::date) LIMIT 1`,
    [patientId, day],
  );
  return r.rows.length > 0;
}

/** Writes a key-population row at once (the processor writes it too), so coverage and the contract list see it. */
export async function storeKeyPopulation(c: Tx, row: KeyPopulationFact): Promise<void> {
  await upsertRows(c, 'care_key_population', ['source'], [row]);
}

/** Referrals visible to both ends (filters: patient, direction, status, owner). */
export async function listReferrals(
  db: Sql,
  f: { patient?: string; direction?: string; status?: string; owner?: string; limit: number; offset: number },
): Promise<{ rows: ReferralRow[]; total: number }> {
  const params: unknown[] = [];
  let where = 'true';
  for (const [k, col] of [
    ['patient', 'k.patient_id'],
    ['direction', 'k.direction'],
    ['status', 'k.status'],
    ['owner', 'k.owner'],
  ] as const)
    if (f[k]) {
      params.push(f[k]);
      where += ` AND ${col} = $${params.length}`;
    }
  const r = await db.query<ReferralRow>(
    `SELECT k.task_id AS "taskId", k.service_request_id AS "serviceRequestId", k.patient_id AS "patientId", p.name, k.direction, k.status, k.urgency, k.reason,
            k.requester, k.owner, to_char(k.due_on, 'YYYY-MM-DD') AS "dueOn", to_char(k.authored_on, 'YYYY-MM-DD') AS "authoredOn", k.source_encounter_id AS "encounterId"
     FROM care_referral k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id WHERE ${where}
     ORDER BY k.authored_on DESC NULLS LAST, k.task_id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return { rows: r.rows, total: await countWhere(db, 'care_referral k', where, params) };
}

/** What the check-in desk shows of a resident: name, sex, birth date, the active contract's team, stored key-population flags. */
export async function residentBasics(
  db: Sql,
  patientId: string,
  day: string,
): Promise<
  | { name: string | null; gender: string | null; birthDate: string | null; team: string | null; managed: boolean; flags: string[] }
  | undefined
> {
  const r = await db.query<{
    name: string | null;
    gender: string | null;
    birthDate: string | null;
    team: string | null;
    managed: boolean;
    flags: string[];
  }>(
    `SELECT p.name, p.gender, to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate",
            (SELECT coalesce(max(m.team_name), c.team_id) FROM care_contract c LEFT JOIN care_team_member m ON m.team_id = c.team_id
              WHERE c.patient_id = $1 AND c.status = 'active' GROUP BY c.team_id, c.start_on ORDER BY c.start_on DESC NULLS LAST LIMIT 1) AS team,
            EXISTS (SELECT 1 FROM chronic_registry g WHERE g.patient_id = $1 AND g.status = 'managed') AS managed,
            (SELECT coalesce(array_agg(DISTINCT k.population), '{}') FROM care_key_population k WHERE k.patient_id = $1
              AND (k.start_on IS NULL OR k.start_on <= $2::date) AND (k.end_on IS NULL OR k.end_on >= $2::date)) AS flags
     FROM chronic_person p WHERE p.patient_id = $1`,
    [patientId, day],
  );
  return r.rows[0];
}
