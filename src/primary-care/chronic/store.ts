/**
 * Writes the facts of changed resources into the chronic tables and refreshes the derived
 * state of the residents they touch. All work is keyed by patient id (indexed): a batch of
 * changes costs a handful of set-based queries, never a scan of the whole registry.
 */
import type {
  CareTeam,
  Communication,
  Condition,
  Encounter,
  EpisodeOfCare,
  Flag,
  Immunization,
  MedicationRequest,
  Observation,
  Patient,
  Task,
} from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord } from '../../platform/processors.js';
import {
  careTeamRows,
  conditionRow,
  educationRow,
  contractRow,
  encounterRow,
  immunizationRow,
  medicationRow,
  personRow,
  populationFromFlag,
  pregnancyFromCondition,
  pregnancyFromEpisode,
  readingRow,
  referralRow,
  type KeyPopulationFact,
  type EncounterRow,
  type ReadingRow,
} from './facts.js';
import { derivePatientState, type FollowUpRow, type PatientFacts, type PersonFacts } from './derive.js';
import { choicePatientsOf, residentReadingsWithheld } from './resident-readings.js';
import type { ChronicRuleSet } from './rules.js';
import { isResidentEntered } from '../../fhir/access.js';

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

export const FACT_TYPES = [...Object.keys(TABLE_OF), 'CareTeam', 'Flag'];
/** Types that change residents' sharing choices: which of their home readings may be copied (resident-readings.ts). */
export const CHOICE_TYPES = ['Consent', 'Person'];

export interface AppliedChanges {
  /** Residents whose chronic state may have changed. */
  patients: Set<string>;
  /** Encounters that finished as inpatient stays (down-referral candidates). */
  discharges: EncounterRow[];
  teamsChanged: boolean;
  /** Residents whose sharing choices may have changed: a Consent about them, a Person linking them. */
  choicesChanged: { consent: Set<string>; person: Set<string> };
}

/** Stores the facts of a batch of changes (deletions remove them). */
export async function applyChanges(client: Q, changes: ChangeRecord[], rules: ChronicRuleSet): Promise<AppliedChanges> {
  const patients = new Set<string>();
  const discharges: EncounterRow[] = [];
  const rows = new Map<string, object[]>();
  const gone = new Map<string, string[]>();
  let teamsChanged = false;
  const choicesChanged = { consent: new Set<string>(), person: new Set<string>() };
  // Observations by id, the last version in the batch winning: a home reading's copy waits for its resident's choice.
  const observations = new Map<string, Observation | null>();
  // Key populations (pregnant, disabled, hardship) come from Conditions, EpisodeOfCare and Flags.
  const keySources: string[] = [];
  const keyRows: KeyPopulationFact[] = [];
  const keyRow = (source: string, row: KeyPopulationFact | null) => {
    keySources.push(source);
    if (row) {
      keyRows.push(row);
      patients.add(row.patient_id);
    }
  };
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
      if (!c.deleted && c.resource)
        await upsertRows(client, 'care_team_member', ['team_id', 'practitioner_id'], careTeamRows(c.resource as CareTeam));
      continue;
    }
    const r = c.deleted ? null : c.resource;
    if (c.type === 'Consent' || c.type === 'Person') {
      for (const id of await choicePatientsOf(client, c)) choicesChanged[c.type === 'Consent' ? 'consent' : 'person'].add(id);
      continue;
    }
    if (c.type === 'Flag') {
      keyRow(`Flag/${c.id}`, r ? populationFromFlag(r as Flag) : null);
      continue;
    }
    if (c.type === 'Condition') keyRow(`Condition/${c.id}`, r ? pregnancyFromCondition(r as Condition) : null);
    if (c.type === 'EpisodeOfCare') keyRow(`EpisodeOfCare/${c.id}`, r ? pregnancyFromEpisode(r as EpisodeOfCare) : null);
    switch (c.type) {
      case 'Patient':
        if (r) add(c.type, personRow(r as Patient), c.id);
        else {
          gone.set(c.type, [...(gone.get(c.type) ?? []), c.id]);
          patients.add(c.id);
        }
        break;
      case 'Condition':
        add(c.type, r ? conditionRow(r as Condition) : null, c.id);
        break;
      case 'MedicationRequest':
        add(c.type, r ? medicationRow(r as MedicationRequest) : null, c.id);
        break;
      case 'Observation':
        observations.set(c.id, r as Observation | null);
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
  // Home readings the resident entered: copied only while share-with-family-doctor is in effect.
  const residentEntered: ReadingRow[] = [];
  for (const [id, o] of observations) {
    const row = o ? readingRow(o, rules) : null;
    if (row && isResidentEntered(o!)) residentEntered.push(row);
    else add('Observation', row, id);
  }
  if (residentEntered.length) {
    const withheld = await residentReadingsWithheld(client, [...new Set(residentEntered.map((x) => x.patient_id))]);
    for (const row of residentEntered)
      if (withheld.has(row.patient_id)) {
        add('Observation', null, row.observation_id);
        patients.add(row.patient_id);
      } else add('Observation', row, row.observation_id);
  }
  for (const [type, ids] of gone) {
    const t = TABLE_OF[type]!;
    const removed = await client.query<{ patient_id: string }>(`DELETE FROM ${t.table} WHERE ${t.key} = ANY($1) RETURNING patient_id`, [
      ids,
    ]);
    for (const x of removed.rows) patients.add(x.patient_id);
  }
  for (const [type, list] of rows) await upsertRows(client, TABLE_OF[type]!.table, [TABLE_OF[type]!.key], list);
  if (keySources.length) {
    const removed = await client.query<{ patient_id: string }>(
      'DELETE FROM care_key_population WHERE source = ANY($1) RETURNING patient_id',
      [keySources],
    );
    for (const x of removed.rows) patients.add(x.patient_id);
    await upsertRows(client, 'care_key_population', ['source'], keyRows);
  }
  return { patients, discharges, teamsChanged, choicesChanged };
}

/** Loads the facts of some residents in a few set-based queries. */
export async function loadFacts(client: Q, ids: string[]): Promise<Map<string, PatientFacts>> {
  const facts = new Map<string, PatientFacts>();
  const blank = (): PatientFacts => ({
    person: undefined,
    conditions: [],
    medications: [],
    readings: [],
    encounters: [],
    registry: [],
    contractTeam: null,
    teamOf: new Map(),
  });
  for (const id of ids) facts.set(id, blank());
  const each = async <R extends { patient_id: string }>(sql: string, fn: (f: PatientFacts, r: R) => void) => {
    const res = await client.query<R>(sql, [ids]);
    for (const r of res.rows) {
      let f = facts.get(r.patient_id);
      if (!f) facts.set(r.patient_id, (f = blank()));
      fn(f, r);
    }
  };
  await each<PersonFacts>(
    `SELECT patient_id, birth_date::text AS birth_date, area_code, organization_id, deceased FROM chronic_person WHERE patient_id = ANY($1)`,
    (f, r) => (f.person = r),
  );
  await each<{ patient_id: string; icd: string; onset: string | null; active: boolean }>(
    `SELECT patient_id, icd, onset::text AS onset, active FROM chronic_condition WHERE patient_id = ANY($1)`,
    (f, r) => f.conditions.push(r),
  );
  await each<{ patient_id: string; atc: string | null; authored: string | null; active: boolean }>(
    `SELECT patient_id, atc, authored::text AS authored, active FROM chronic_medication WHERE patient_id = ANY($1)`,
    (f, r) => f.medications.push(r),
  );
  await each<Omit<ReadingRow, 'observation_id'>>(
    `SELECT patient_id, encounter_id, kind, taken_on::text AS taken_on, sbp, dbp, value, flag FROM chronic_reading WHERE patient_id = ANY($1)`,
    (f, r) => f.readings.push(r),
  );
  await each<FollowUpRow & { patient_id: string }>(
    `SELECT encounter_id, patient_id, visit_date::text AS visit_date, follow_up_mode, doctor_id, organization_id, symptoms, adverse_reaction, new_complication
     FROM chronic_encounter WHERE patient_id = ANY($1) AND follow_up_mode IS NOT NULL`,
    (f, r) => f.encounters.push(r),
  );
  await each<{
    patient_id: string;
    disease: string;
    source: string;
    status: string;
    status_reason: string | null;
    diagnosed_on: string | null;
  }>(
    `SELECT patient_id, disease, source, status, status_reason, diagnosed_on::text AS diagnosed_on FROM chronic_registry WHERE patient_id = ANY($1)`,
    (f, r) => f.registry.push(r),
  );
  await each<{ patient_id: string; team_id: string }>(
    `SELECT DISTINCT ON (patient_id) patient_id, team_id FROM care_contract WHERE patient_id = ANY($1) AND status = 'active' AND team_id IS NOT NULL ORDER BY patient_id, start_on DESC NULLS LAST`,
    (f, r) => (f.contractTeam = r.team_id),
  );
  const doctors = [...new Set([...facts.values()].flatMap((f) => f.encounters.map((e) => e.doctor_id).filter((x): x is string => !!x)))];
  if (doctors.length) {
    const teams = await client.query<{ practitioner_id: string; team_id: string }>(
      'SELECT practitioner_id, min(team_id) AS team_id FROM care_team_member WHERE practitioner_id = ANY($1) GROUP BY practitioner_id',
      [doctors],
    );
    const teamOf = new Map(teams.rows.map((t) => [t.practitioner_id, t.team_id]));
    for (const f of facts.values()) f.teamOf = teamOf;
  }
  return facts;
}

/** Registry, visit-evaluation and confirmation rows derived from residents' facts. */
export interface DerivedRows {
  registry: object[];
  evals: object[];
  confirmations: object[];
}

function deriveOne(out: DerivedRows, id: string, f: PatientFacts, sets: ChronicRuleSet[], today: string, stamp: string): void {
  const s = derivePatientState(f, sets, today);
  for (const r of s.registry) out.registry.push({ patient_id: id, ...r, updated_at: stamp });
  for (const e of s.evals) out.evals.push({ patient_id: id, ...e });
  for (const c of s.confirmations) out.confirmations.push({ patient_id: id, ...c, status: 'open' });
}

/** Replaces the derived rows of some residents. */
async function writeDerived(client: Q, rows: DerivedRows, ids: string[]): Promise<void> {
  await client.query(`DELETE FROM chronic_registry WHERE patient_id = ANY($1)`, [ids]);
  await client.query(`DELETE FROM chronic_visit_eval WHERE patient_id = ANY($1)`, [ids]);
  await client.query(`DELETE FROM chronic_confirmation WHERE patient_id = ANY($1) AND status = 'open'`, [ids]);
  await upsertRows(client, 'chronic_registry', ['patient_id', 'disease'], rows.registry);
  await upsertRows(client, 'chronic_visit_eval', ['encounter_id', 'disease'], rows.evals);
  if (rows.confirmations.length) {
    // Confirmed or dismissed entries stay; an open one is not re-opened over them.
    const cols = ['patient_id', 'disease', 'reason', 'detected_on', 'status'];
    await client.query(
      `INSERT INTO chronic_confirmation (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::chronic_confirmation, $1::jsonb) ON CONFLICT DO NOTHING`,
      [JSON.stringify(rows.confirmations)],
    );
  }
}

/** Recomputes registry entries, visit evaluations and confirmation-list entries of some residents. */
export async function refreshPatients(client: Q, ids: string[], sets: ChronicRuleSet[], today: string): Promise<void> {
  if (!ids.length) return;
  const facts = await loadFacts(client, ids);
  const rows: DerivedRows = { registry: [], evals: [], confirmations: [] };
  const stamp = new Date().toISOString();
  for (const [id, f] of facts) deriveOne(rows, id, f, sets, today, stamp);
  await writeDerived(client, rows, ids);
}

// The full recompute lives in recompute.ts; its entry is kept here, beside the incremental refresh.
export { recomputeAll, type RecomputePhases } from './recompute.js';
