/**
 * Writes the facts of changed resources into the chronic tables and refreshes the derived
 * state of the residents they touch. All work is keyed by patient id (indexed): a batch of
 * changes costs a handful of set-based queries, never a scan of the whole registry.
 */
import type { CareTeam, Communication, Condition, Encounter, EpisodeOfCare, Immunization, MedicationRequest, Observation, Patient, Task } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import type { ChangeRecord } from '../platform/processors.js';
import { careTeamRows, conditionRow, educationRow, contractRow, encounterRow, immunizationRow, medicationRow, personRow, readingRow, referralRow, type EncounterRow, type PersonRow, type ReadingRow } from './facts.js';
import { derivePatientState, type PatientFacts } from './derive.js';
import type { ChronicRuleSet } from './rules.js';

type Q = Pick<pg.PoolClient, 'query'>;

/** Upserts rows (objects with the table's column names) in one statement. */
export async function upsertRows(client: Q, table: string, key: string[], rows: object[]): Promise<void> {
  if (!rows.length) return;
  // The last version of a row in a batch wins (ON CONFLICT cannot touch one row twice).
  const unique = new Map<string, object>();
  for (const r of rows) unique.set(key.map((k) => String((r as Record<string, unknown>)[k])).join('\u0001'), r);
  const cols = Object.keys(rows[0]!);
  const updates = cols.filter((c) => !key.includes(c));
  await client.query(
    `INSERT INTO ${table} (${cols.join(', ')})
     SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)
     ON CONFLICT (${key.join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'NOTHING'}`,
    [JSON.stringify([...unique.values()])],
  );
}

const TABLE_OF: Record<string, { table: string; key: string }> = {
  Patient: { table: 'chronic_person', key: 'patient_id' },
  Condition: { table: 'chronic_condition', key: 'condition_id' },
  MedicationRequest: { table: 'chronic_medication', key: 'request_id' },
  Observation: { table: 'chronic_reading', key: 'observation_id' },
  Encounter: { table: 'chronic_encounter', key: 'encounter_id' },
  Immunization: { table: 'imm_dose', key: 'immunization_id' },
  EpisodeOfCare: { table: 'care_contract', key: 'episode_id' },
  Task: { table: 'care_referral', key: 'task_id' },
  Communication: { table: 'care_education_given', key: 'communication_id' },
};

export const FACT_TYPES = [...Object.keys(TABLE_OF), 'CareTeam'];

export interface AppliedChanges {
  /** Residents whose chronic state may have changed. */
  patients: Set<string>;
  /** Encounters that finished as inpatient stays (down-referral candidates). */
  discharges: EncounterRow[];
  teamsChanged: boolean;
}

/** Stores the facts of a batch of changes (deletions remove them). */
export async function applyChanges(client: Q, changes: ChangeRecord[], rules: ChronicRuleSet): Promise<AppliedChanges> {
  const patients = new Set<string>();
  const discharges: EncounterRow[] = [];
  const rows = new Map<string, object[]>();
  const gone = new Map<string, string[]>();
  let teamsChanged = false;
  const add = (type: string, row: { patient_id: string } | null, id: string) => {
    if (!row) {
      gone.set(type, [...(gone.get(type) ?? []), id]);
      return;
    }
    rows.set(type, [...(rows.get(type) ?? []), row]);
    patients.add(row.patient_id);
  };
  for (const c of changes) {
    if (c.type === 'CareTeam') {
      teamsChanged = true;
      await client.query('DELETE FROM care_team_member WHERE team_id = $1', [c.id]);
      if (!c.deleted && c.resource) await upsertRows(client, 'care_team_member', ['team_id', 'practitioner_id'], careTeamRows(c.resource as CareTeam));
      continue;
    }
    const r = c.deleted ? null : c.resource;
    switch (c.type) {
      case 'Patient':
        if (r) add(c.type, personRow(r as Patient), c.id);
        else (gone.set(c.type, [...(gone.get(c.type) ?? []), c.id]), patients.add(c.id));
        break;
      case 'Condition':
        add(c.type, r ? conditionRow(r as Condition) : null, c.id);
        break;
      case 'MedicationRequest':
        add(c.type, r ? medicationRow(r as MedicationRequest) : null, c.id);
        break;
      case 'Observation':
        add(c.type, r ? readingRow(r as Observation, rules) : null, c.id);
        break;
      case 'Encounter': {
        const e = r ? encounterRow(r as Encounter) : null;
        add(c.type, e, c.id);
        if (e && e.class === 'IMP' && e.status === 'finished' && e.ended_on) discharges.push(e);
        break;
      }
      case 'Immunization':
        add(c.type, r ? immunizationRow(r as Immunization) : null, c.id);
        break;
      case 'EpisodeOfCare':
        add(c.type, r ? contractRow(r as EpisodeOfCare) : null, c.id);
        break;
      case 'Task':
        add(c.type, r ? referralRow(r as Task) : null, c.id);
        break;
      case 'Communication':
        add(c.type, r ? educationRow(r as Communication) : null, c.id);
        break;
    }
  }
  for (const [type, ids] of gone) {
    const t = TABLE_OF[type]!;
    const removed = await client.query<{ patient_id: string }>(`DELETE FROM ${t.table} WHERE ${t.key} = ANY($1) RETURNING patient_id`, [ids]);
    for (const x of removed.rows) patients.add(x.patient_id);
  }
  for (const [type, list] of rows) await upsertRows(client, TABLE_OF[type]!.table, [TABLE_OF[type]!.key], list);
  return { patients, discharges, teamsChanged };
}

export interface KeyRange {
  /** Inclusive bounds in the database's own ordering; undefined = unbounded. */
  from?: string;
  to?: string;
}

function rangeSql(r: KeyRange): { where: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (r.from !== undefined) (args.push(r.from), parts.push(`patient_id >= $${args.length}`));
  if (r.to !== undefined) (args.push(r.to), parts.push(`patient_id <= $${args.length}`));
  return { where: parts.length ? `(${parts.join(' AND ')})` : 'true', args };
}

/** Loads the facts of some residents in a few set-based queries. */
export async function loadFacts(client: Q, ids: string[], range?: KeyRange): Promise<Map<string, PatientFacts>> {
  const facts = new Map<string, PatientFacts>();
  const blank = (): PatientFacts => ({ person: undefined, conditions: [], medications: [], readings: [], encounters: [], registry: [], contractTeam: null, teamOf: new Map() });
  for (const id of ids) facts.set(id, blank());
  // By id list (incremental) or by a key range (full recompute, an index range scan).
  const each = async <R extends { patient_id: string }>(sql: string, fn: (f: PatientFacts, r: R) => void) => {
    const res = range ? await client.query<R>(sql.replaceAll('patient_id = ANY($1)', rangeSql(range).where), rangeSql(range).args) : await client.query<R>(sql, [ids]);
    for (const r of res.rows) {
      let f = facts.get(r.patient_id);
      if (!f) facts.set(r.patient_id, (f = blank()));
      fn(f, r);
    }
  };
  await each<PersonRow>(`SELECT patient_id, name, birth_date::text AS birth_date, gender, area_code, organization_id, household_id, deceased FROM chronic_person WHERE patient_id = ANY($1)`, (f, r) => (f.person = r));
  await each<{ patient_id: string; icd: string; onset: string | null; active: boolean }>(`SELECT patient_id, icd, onset::text AS onset, active FROM chronic_condition WHERE patient_id = ANY($1)`, (f, r) => f.conditions.push(r));
  await each<{ patient_id: string; atc: string | null; authored: string | null; active: boolean }>(`SELECT patient_id, atc, authored::text AS authored, active FROM chronic_medication WHERE patient_id = ANY($1)`, (f, r) => f.medications.push(r));
  await each<ReadingRow>(`SELECT observation_id, patient_id, encounter_id, kind, taken_on::text AS taken_on, sbp, dbp, value, flag FROM chronic_reading WHERE patient_id = ANY($1)`, (f, r) => f.readings.push(r));
  await each<EncounterRow>(
    `SELECT encounter_id, patient_id, visit_date::text AS visit_date, class, status, follow_up_mode, doctor_id, organization_id, symptoms, adverse_reaction, new_complication, ended_on::text AS ended_on
     FROM chronic_encounter WHERE patient_id = ANY($1) AND follow_up_mode IS NOT NULL`,
    (f, r) => f.encounters.push(r),
  );
  await each<{ patient_id: string; disease: string; source: string; status: string; status_reason: string | null; diagnosed_on: string | null }>(
    `SELECT patient_id, disease, source, status, status_reason, diagnosed_on::text AS diagnosed_on FROM chronic_registry WHERE patient_id = ANY($1)`,
    (f, r) => f.registry.push(r),
  );
  await each<{ patient_id: string; team_id: string }>(
    `SELECT DISTINCT ON (patient_id) patient_id, team_id FROM care_contract WHERE patient_id = ANY($1) AND status = 'active' AND team_id IS NOT NULL ORDER BY patient_id, start_on DESC NULLS LAST`,
    (f, r) => (f.contractTeam = r.team_id),
  );
  const doctors = [...new Set([...facts.values()].flatMap((f) => f.encounters.map((e) => e.doctor_id).filter((x): x is string => !!x)))];
  if (doctors.length) {
    const teams = await client.query<{ practitioner_id: string; team_id: string }>('SELECT practitioner_id, min(team_id) AS team_id FROM care_team_member WHERE practitioner_id = ANY($1) GROUP BY practitioner_id', [doctors]);
    const teamOf = new Map(teams.rows.map((t) => [t.practitioner_id, t.team_id]));
    for (const f of facts.values()) f.teamOf = teamOf;
  }
  return facts;
}

/** Recomputes registry entries, visit evaluations and confirmation-list entries of some residents. */
/** COPY text format for one value (NULL, arrays of text, escapes). */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (Array.isArray(v)) v = `{${v.map((x) => `"${String(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export type CopyFrom = Database['copyFrom'];

async function writeRows(client: Q, table: string, key: string[], rows: object[], copy?: CopyFrom): Promise<void> {
  if (!rows.length) return;
  if (!copy) return upsertRows(client, table, key, rows);
  // Bulk path (full recompute, the range was just emptied): COPY, no conflict handling needed.
  const cols = Object.keys(rows[0]!);
  const text = rows.map((r) => cols.map((c) => copyValue((r as Record<string, unknown>)[c])).join('\t')).join('\n') + '\n';
  await copy(client as pg.PoolClient, table, cols, text);
}

export async function refreshPatients(client: Q, ids: string[], sets: ChronicRuleSet[], today: string, range?: KeyRange, copy?: CopyFrom): Promise<void> {
  if (!ids.length && !range) return;
  const facts = await loadFacts(client, ids, range);
  const registry: object[] = [];
  const evals: object[] = [];
  const confirmations: object[] = [];
  for (const [id, f] of facts) {
    const s = derivePatientState(f, sets, today);
    for (const r of s.registry) registry.push({ patient_id: id, ...r, updated_at: new Date().toISOString() });
    for (const e of s.evals) evals.push({ patient_id: id, ...e });
    for (const c of s.confirmations) confirmations.push({ patient_id: id, ...c, status: 'open' });
  }
  const { where, args } = range ? rangeSql(range) : { where: 'patient_id = ANY($1)', args: [ids] as unknown[] };
  await client.query(`DELETE FROM chronic_registry WHERE ${where}`, args);
  await client.query(`DELETE FROM chronic_visit_eval WHERE ${where}`, args);
  await client.query(`DELETE FROM chronic_confirmation WHERE ${where} AND status = 'open'`, args);
  await writeRows(client, 'chronic_registry', ['patient_id', 'disease'], registry, copy);
  await writeRows(client, 'chronic_visit_eval', ['encounter_id', 'disease'], evals, copy);
  if (confirmations.length) {
    const cols = ['patient_id', 'disease', 'reason', 'detected_on', 'status'];
    await client.query(
      `INSERT INTO chronic_confirmation (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::chronic_confirmation, $1::jsonb) ON CONFLICT DO NOTHING`,
      [JSON.stringify(confirmations)],
    );
  }
}

/**
 * Full recompute (`yifang chronic recompute`, the benchmark): every resident with chronic facts,
 * in key ranges of `chunk` residents, each range in its own short transaction so that check-in
 * queries interleave with it.
 */
export async function recomputeAll(
  db: Pick<Database, 'transaction' | 'query' | 'copyFrom' | 'kind'>,
  sets: ChronicRuleSet[],
  today: string,
  options: { chunk?: number; concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ residents: number; chunks: number }> {
  const chunk = options.chunk ?? 2000;
  const ids = (
    await db.query<{ patient_id: string }>(
      `SELECT patient_id FROM chronic_condition UNION SELECT patient_id FROM chronic_medication UNION SELECT patient_id FROM chronic_reading
       UNION SELECT patient_id FROM chronic_encounter WHERE follow_up_mode IS NOT NULL UNION SELECT patient_id FROM chronic_registry ORDER BY 1`,
    )
  ).rows.map((r) => r.patient_id);
  let chunks = 0;
  let next = 0;
  // PostgreSQL recomputes several ranges at once (leaving connections for requests); PGlite is one session.
  const workers = options.concurrency ?? (db.kind === 'postgres' ? 3 : 1);
  const worker = async () => {
    for (;;) {
      const i = next;
      next += chunk;
      if (i >= ids.length) return;
      // Ranges follow the database's ordering (ORDER BY above) and are open at both ends, so
      // every derived row falls in exactly one of them.
      const range: KeyRange = { from: i === 0 ? undefined : ids[i]!, to: i + chunk >= ids.length ? undefined : ids[i + chunk - 1]! };
      await db.transaction((c) => refreshPatients(c, [], sets, today, range, db.copyFrom));
      chunks++;
      options.onProgress?.(Math.min(next, ids.length), ids.length);
      // Let waiting requests (check-in lists) have the connection between ranges.
      await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return { residents: ids.length, chunks };
}
