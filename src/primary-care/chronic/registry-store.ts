/**
 * Reads and writes of the chronic-care API on the module's tables: the registry, worklists,
 * the confirmation list, a resident's chronic record, and the facts a decision needs. The routes
 * call these; nothing outside src/primary-care reads these tables.
 */
import type { Sql } from '../services.js';
import type { Disease } from '../common-schemas.js';
import type {
  ChronicPatient,
  ConfirmationRow,
  Enrolment,
  OpenReferral,
  RegistryPage,
  RegistryQuery,
  Worklist,
  WorkRow,
} from './schemas.js';

/** The registry status as the screens see it: managed residents not seen for too long are lost to follow-up. */
const STATUS_SQL = `CASE WHEN r.status = 'managed' AND coalesce(r.last_visit, r.diagnosed_on) < $1::date - $2::int THEN 'lost-to-follow-up' ELSE r.status END`;

/** One page of the registry (filters as in RegistryQuery; limit at most 1000). */
/** The name of the team in a team-id column (CareTeam.name, kept on its members' rows). */
const teamNameOf = (column: string) => `(SELECT max(m.team_name) FROM care_team_member m WHERE m.team_id = ${column})`;

export async function listRegistry(
  db: Sql,
  q: Omit<RegistryQuery, 'asOf'>,
  asOf: string,
  lostToFollowUpAfterDays: number,
): Promise<RegistryPage> {
  const params: unknown[] = [asOf, lostToFollowUpAfterDays];
  let where = 'true';
  const add = (sql: string, v: unknown) => (params.push(v), (where += ` AND ${sql.replaceAll('?', `$${params.length}`)}`));
  if (q.disease) add('r.disease = ?', q.disease);
  if (q.team) add('r.team_id = ?', q.team);
  if (q.doctor) add('r.doctor_id = ?', q.doctor);
  if (q.q) add('(p.name LIKE ? OR r.patient_id LIKE ?)', `%${q.q}%`);
  if (q.status) add(`${STATUS_SQL} = ?`, q.status);
  const limit = Math.min(q.limit ?? 50, 1000);
  const offset = Math.min(q.offset ?? 0, 10_000_000);
  const rows = await db.query(
    `SELECT r.patient_id AS "patientId", p.name, p.gender, to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate", r.disease, to_char(r.diagnosed_on, 'YYYY-MM-DD') AS "diagnosedOn",
            r.source, ${STATUS_SQL} AS status, r.team_id AS "teamId",
            ${teamNameOf('r.team_id')} AS "teamName",
            r.doctor_id AS "doctorId", r.organization_id AS "organizationId",
            to_char(r.last_visit, 'YYYY-MM-DD') AS "lastVisit", to_char(r.next_due, 'YYYY-MM-DD') AS "nextDue", r.decision, r.controlled,
            count(*) OVER ()::int AS total
     FROM chronic_registry r LEFT JOIN chronic_person p ON p.patient_id = r.patient_id
     WHERE ${where} ORDER BY r.next_due NULLS LAST, r.patient_id LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  return {
    total: (rows.rows[0] as { total?: number } | undefined)?.total ?? 0,
    rows: rows.rows.map(({ total: _t, ...r }) => r) as RegistryPage['rows'],
  };
}

/** Enrols a resident by hand (kept when already enrolled). */
export async function insertManualEnrolment(
  c: Sql,
  patientId: string,
  disease: Disease,
  diagnosedOn: string,
  teamId: string | undefined,
): Promise<void> {
  await c.query(
    `INSERT INTO chronic_registry (patient_id, disease, diagnosed_on, source, team_id) VALUES ($1, $2, $3, 'manual', $4)
     ON CONFLICT (patient_id, disease) DO NOTHING`,
    [patientId, disease, diagnosedOn, teamId ?? null],
  );
}

export async function registryEntry(db: Sql, patientId: string, disease: Disease): Promise<Enrolment | undefined> {
  const r = await db.query<Enrolment>(
    `SELECT patient_id AS "patientId", disease, source, status, to_char(next_due, 'YYYY-MM-DD') AS "nextDue" FROM chronic_registry WHERE patient_id = $1 AND disease = $2`,
    [patientId, disease],
  );
  return r.rows[0];
}

/** Sets a registry status with its reason; false when the resident is not in that registry. */
export async function setRegistryStatus(
  db: Sql,
  patientId: string,
  disease: string,
  status: string,
  reason: string | undefined,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE chronic_registry SET status = $3, status_reason = $4, updated_at = now() WHERE patient_id = $1 AND disease = $2 RETURNING patient_id`,
    [patientId, disease, status, reason ?? null],
  );
  return r.rows.length > 0;
}

/**
 * A doctor's or team's worklist on a day: due within 7 days, overdue up to 30 days, to recall
 * after that, referred awaiting return; and the open referrals (of the doctor when given).
 */
export async function worklist(db: Sql, asOf: string, f: { doctor?: string; team?: string; summary?: boolean }): Promise<Worklist> {
  const params: unknown[] = [asOf];
  let where = `r.status = 'managed'`;
  if (f.doctor) {
    params.push(f.doctor);
    where += ` AND r.doctor_id = $${params.length}`;
  }
  if (f.team) {
    params.push(f.team);
    where += ` AND r.team_id = $${params.length}`;
  }
  const bucket = `CASE WHEN r.decision IN ('refer', 'urgent-referral') AND r.next_due >= $1::date - 30 THEN 'referred'
                   WHEN r.next_due > $1::date + 7 THEN NULL
                   WHEN r.next_due >= $1::date THEN 'due'
                   WHEN r.next_due >= $1::date - 30 THEN 'overdue'
                   ELSE 'recall' END`;
  // Counts over every managed resident in a bucket (the lists below stop at 2,000).
  const counted = await db.query<{ bucket: string | null; n: number }>(
    `SELECT ${bucket} AS bucket, count(*)::int AS n FROM chronic_registry r WHERE ${where} AND r.next_due <= $1::date + 30 GROUP BY 1`,
    params,
  );
  const counts = { due: 0, overdue: 0, recall: 0, referred: 0 };
  for (const c of counted.rows) if (c.bucket && c.bucket in counts) counts[c.bucket as keyof typeof counts] = c.n;
  if (f.summary) return { asOf, due: [], overdue: [], recall: [], referred: [], referrals: [], counts };
  const rows = await db.query<WorkRow & { bucket: string }>(
    `SELECT * FROM (
       SELECT r.patient_id AS "patientId", p.name, r.disease, to_char(r.next_due, 'YYYY-MM-DD') AS "nextDue", r.decision, r.controlled,
              to_char(r.last_visit, 'YYYY-MM-DD') AS "lastVisit", ${bucket} AS bucket
       FROM chronic_registry r LEFT JOIN chronic_person p ON p.patient_id = r.patient_id
       WHERE ${where} AND r.next_due <= $1::date + 30) x
     WHERE bucket IS NOT NULL ORDER BY "nextDue", "patientId" LIMIT 2000`,
    params,
  );
  const referrals = await db.query<OpenReferral>(
    `SELECT k.task_id AS "taskId", k.patient_id AS "patientId", p.name, k.direction, k.status, k.reason, to_char(k.due_on, 'YYYY-MM-DD') AS "dueOn"
     FROM care_referral k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id
     WHERE k.status IN ('requested', 'received', 'accepted', 'in-progress') ${f.doctor ? `AND k.owner = $1` : ''} ORDER BY k.due_on NULLS LAST LIMIT 500`,
    f.doctor ? [`Practitioner/${f.doctor}`] : [],
  );
  const pick = (b: string) => rows.rows.filter((r) => r.bucket === b).map(({ bucket: _b, ...r }) => r);
  return {
    asOf,
    due: pick('due'),
    overdue: pick('overdue'),
    recall: pick('recall'),
    referred: pick('referred'),
    referrals: referrals.rows,
    counts,
  };
}

/** Suspected undiagnosed cases in one status (open, confirmed, dismissed). */
export async function listConfirmations(db: Sql, status: string): Promise<ConfirmationRow[]> {
  const r = await db.query<ConfirmationRow>(
    `SELECT c.patient_id AS "patientId", p.name, c.disease, c.reason, to_char(c.detected_on, 'YYYY-MM-DD') AS "detectedOn", c.status
     FROM chronic_confirmation c LEFT JOIN chronic_person p ON p.patient_id = c.patient_id WHERE c.status = $1 ORDER BY c.detected_on DESC LIMIT 1000`,
    [status],
  );
  return r.rows;
}

/** Confirms or dismisses a suspected case; false when there is none. */
export async function setConfirmationStatus(db: Sql, patientId: string, disease: string, status: string): Promise<boolean> {
  const r = await db.query(`UPDATE chronic_confirmation SET status = $3 WHERE patient_id = $1 AND disease = $2 RETURNING 1`, [
    patientId,
    disease,
    status,
  ]);
  return r.rows.length > 0;
}

/** A resident's registry entries, follow-up evaluations and recent readings. */
export async function chronicPatient(db: Sql, id: string): Promise<ChronicPatient> {
  const [reg, evals, readings, person] = await Promise.all([
    db.query<ChronicPatient['registry'][number]>(
      `SELECT disease, to_char(diagnosed_on, 'YYYY-MM-DD') AS "diagnosedOn", source, status, team_id AS "teamId",
              ${teamNameOf('chronic_registry.team_id')} AS "teamName",
              doctor_id AS "doctorId", to_char(last_visit, 'YYYY-MM-DD') AS "lastVisit", to_char(next_due, 'YYYY-MM-DD') AS "nextDue", decision, controlled, reasons FROM chronic_registry WHERE patient_id = $1`,
      [id],
    ),
    db.query<ChronicPatient['followUps'][number]>(
      `SELECT encounter_id AS "encounterId", disease, to_char(visit_date, 'YYYY-MM-DD') AS "visitDate", mode, rule_version AS "ruleVersion", controlled, decision, to_char(due_date, 'YYYY-MM-DD') AS "dueDate", on_time AS "onTime", reasons FROM chronic_visit_eval WHERE patient_id = $1 ORDER BY visit_date DESC LIMIT 100`,
      [id],
    ),
    db.query<ChronicPatient['readings'][number]>(
      `SELECT kind, to_char(taken_on, 'YYYY-MM-DD') AS "takenOn", sbp, dbp, value, flag FROM chronic_reading WHERE patient_id = $1 ORDER BY taken_on DESC LIMIT 50`,
      [id],
    ),
    db.query<NonNullable<ChronicPatient['person']>>(
      `SELECT name, gender, to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", area_code AS "areaCode", organization_id AS "organizationId" FROM chronic_person WHERE patient_id = $1`,
      [id],
    ),
  ]);
  return { patientId: id, person: person.rows[0] ?? null, registry: reg.rows, followUps: evals.rows, readings: readings.rows };
}

/** A resident as chronic care knows them: birth date and name (undefined when not seen yet). */
export async function personBasics(db: Sql, patientId: string): Promise<{ birthDate: string | null; name: string | null } | undefined> {
  const r = await db.query<{ birthDate: string | null; name: string | null }>(
    `SELECT to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", name FROM chronic_person WHERE patient_id = $1`,
    [patientId],
  );
  return r.rows[0];
}

/** Active ICD-10 codes of a resident (the one copy of this query). */
export async function activeConditionCodes(db: Sql, patientId: string): Promise<string[]> {
  const r = await db.query<{ icd: string }>('SELECT icd FROM chronic_condition WHERE patient_id = $1 AND active', [patientId]);
  return r.rows.map((x) => x.icd);
}

/** ATC codes of a resident's active prescriptions. */
export async function activeMedicationCodes(db: Sql, patientId: string): Promise<string[]> {
  const r = await db.query<{ atc: string }>('SELECT atc FROM chronic_medication WHERE patient_id = $1 AND active AND atc IS NOT NULL', [
    patientId,
  ]);
  return r.rows.map((x) => x.atc);
}

/** Diseases a resident is registered for. */
export async function registeredDiseases(db: Sql, patientId: string): Promise<Disease[]> {
  const r = await db.query<{ disease: Disease }>('SELECT disease FROM chronic_registry WHERE patient_id = $1', [patientId]);
  return r.rows.map((x) => x.disease);
}

/** The last evaluated visit for a disease on or before a date (the history a decision looks at). */
export async function lastVisitEvaluation(
  db: Sql,
  patientId: string,
  disease: string,
  onOrBefore: string,
): Promise<{ controlled: boolean | null; decision: string; visitDate: string } | undefined> {
  const r = await db.query<{ controlled: boolean | null; decision: string; visitDate: string }>(
    `SELECT controlled, decision, to_char(visit_date, 'YYYY-MM-DD') AS "visitDate" FROM chronic_visit_eval
     WHERE patient_id = $1 AND disease = $2 AND visit_date <= $3 ORDER BY visit_date DESC, encounter_id DESC LIMIT 1`,
    [patientId, disease, onOrBefore],
  );
  return r.rows[0];
}
