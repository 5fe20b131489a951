/**
 * The pure middle of the full recompute: one key range's facts, as the database wrote them with
 * COPY … TO STDOUT, in; the range's derived rows, as COPY text for the registry and the visit
 * evaluations, out. No I/O, so it runs on a worker thread (recompute-worker.ts) while the
 * database thread reads and writes other ranges, or inline when no worker can be had.
 */
import { derivePatientState, type PatientFacts } from './derive.js';
import type { ChronicRuleSet } from './rules.js';
import { copyLines, copyRows, sqlLiteral, textArray } from './copy-text.js';

export const REGISTRY_COLUMNS = [
  'patient_id',
  'disease',
  'diagnosed_on',
  'source',
  'status',
  'status_reason',
  'team_id',
  'doctor_id',
  'organization_id',
  'area_code',
  'last_visit',
  'next_due',
  'decision',
  'controlled',
  'reasons',
  'updated_at',
] as const;
export const EVAL_COLUMNS = [
  'patient_id',
  'encounter_id',
  'disease',
  'visit_date',
  'mode',
  'rule_version',
  'controlled',
  'decision',
  'due_date',
  'on_time',
  'reasons',
] as const;
export const CONFIRMATION_COLUMNS = ['patient_id', 'disease', 'reason', 'detected_on', 'status'] as const;

/** The tables whose rows make a resident worth deriving (the others only add to those residents). */
export const DRIVING_TABLES = ['chronic_condition', 'chronic_medication', 'chronic_reading', 'chronic_registry'] as const;

/**
 * SELECTs of one range's facts (`w` is its WHERE condition), in the order deriveRange reads
 * their output. The registry's updated_at is read to notice a change before the range is written.
 */
export function factQueries(w: string): string[] {
  return [
    `SELECT patient_id, icd, onset, active FROM chronic_condition WHERE ${w}`,
    `SELECT patient_id, atc, authored, active FROM chronic_medication WHERE ${w}`,
    `SELECT patient_id, encounter_id, kind, taken_on, sbp, dbp, value, flag FROM chronic_reading WHERE ${w}`,
    `SELECT patient_id, disease, updated_at, source, status, status_reason, diagnosed_on FROM chronic_registry WHERE ${w}`,
    `SELECT patient_id, encounter_id, visit_date, follow_up_mode, doctor_id, organization_id, symptoms, adverse_reaction, new_complication
     FROM chronic_encounter WHERE ${w} AND follow_up_mode IS NOT NULL`,
    `SELECT DISTINCT ON (patient_id) patient_id, team_id FROM care_contract WHERE ${w} AND status = 'active' AND team_id IS NOT NULL
     ORDER BY patient_id, start_on DESC NULLS LAST`,
    // Everyone in the range: cheaper for PGlite than picking out the residents with facts in SQL.
    `SELECT patient_id, birth_date, area_code, organization_id, deceased FROM chronic_person WHERE ${w}`,
  ];
}

/** The registry rows of a range as compared before writing: patient, disease and updated_at, as COPY wrote them. */
export function registryKeys(lines: string[][]): string {
  return lines
    .map((f) => `${f[0]}\t${f[1]}\t${f[2]}`)
    .sort()
    .join('\n');
}

/** What the rules and team assignments are for one recompute (sent once to a worker). */
export interface DeriveContext {
  sets: ChronicRuleSet[];
  today: string;
  /** Team per practitioner id. */
  teamOf: Map<string, string>;
  /** updated_at of the registry rows written. */
  stamp: string;
}

export interface DerivedRange {
  /** COPY text of the registry and visit-evaluation rows ('' when none). */
  registry: string;
  evals: string;
  /** Confirmation-list rows as SQL VALUES tuples. */
  confirmations: string[];
  /** registryKeys() of the rows read. */
  registryKeys: string;
  /** Residents with any chronic fact, follow-up encounters included (the count the recompute reports). */
  residents: number;
  /** Residents derived, and rows of the driving tables read (to size the next range). */
  derived: number;
  drivingRows: number;
}

/** COPY text rows split into raw fields (escapes kept), as registryKeys compares them. */
export const rawRows = (text: string): string[][] => (text ? text.slice(0, -1).split('\n') : []).map((l) => l.split('\t'));

/**
 * Derives one range. `texts` are the outputs of factQueries in order. With `pause`, it is called
 * every `slice` residents and awaited (inline on the database thread, to let requests in).
 */
export async function deriveRange(
  texts: string[],
  ctx: DeriveContext,
  pause?: { every: number; wait: () => Promise<unknown> },
): Promise<DerivedRange> {
  const [conditions, medications, readings, registry, encounters, contracts, persons] = texts.map((t) => t ?? '');
  const facts = new Map<string, PatientFacts>();
  const of = (id: string): PatientFacts => {
    let f = facts.get(id);
    if (!f) {
      f = {
        person: undefined,
        conditions: [],
        medications: [],
        readings: [],
        encounters: [],
        registry: [],
        contractTeam: null,
        teamOf: ctx.teamOf,
      };
      facts.set(id, f);
    }
    return f;
  };
  let drivingRows = 0;
  for (const [id, icd, onset, active] of copyRows(conditions!)) {
    of(id!).conditions.push({ icd: icd!, onset, active: active === 't' });
    drivingRows++;
  }
  for (const [id, atc, authored, active] of copyRows(medications!)) {
    of(id!).medications.push({ atc, authored, active: active === 't' });
    drivingRows++;
  }
  const num = (v: string | null) => (v === null ? null : parseFloat(v));
  for (const [id, encounter, kind, takenOn, sbp, dbp, value, flag] of copyRows(readings!)) {
    of(id!).readings.push({
      patient_id: id!,
      encounter_id: encounter,
      kind: kind as 'bp',
      taken_on: takenOn!,
      sbp: num(sbp),
      dbp: num(dbp),
      value: num(value),
      flag,
    });
    drivingRows++;
  }
  for (const [id, disease, , source, status, reason, diagnosedOn] of copyRows(registry!)) {
    of(id!).registry.push({ disease: disease!, source: source!, status: status!, status_reason: reason, diagnosed_on: diagnosedOn });
    drivingRows++;
  }
  const residents = new Set(facts.keys());
  for (const [id, encounter, visitDate, mode, doctor, organization, symptoms, reaction, complication] of copyRows(encounters!)) {
    residents.add(id!);
    facts.get(id!)?.encounters.push({
      encounter_id: encounter!,
      patient_id: id!,
      visit_date: visitDate!,
      follow_up_mode: mode,
      doctor_id: doctor,
      organization_id: organization,
      symptoms: textArray(symptoms!),
      adverse_reaction: reaction,
      new_complication: complication === 't',
    });
  }
  for (const [id, team] of copyRows(contracts!)) {
    const f = facts.get(id!);
    if (f) f.contractTeam = team!;
  }
  for (const [id, birth, area, organization, deceased] of copyRows(persons!)) {
    const f = facts.get(id!);
    if (f) f.person = { patient_id: id!, birth_date: birth, area_code: area, organization_id: organization, deceased: deceased === 't' };
  }

  const registryRows: object[] = [];
  const evalRows: object[] = [];
  const confirmations: string[] = [];
  let k = 0;
  for (const [id, f] of facts) {
    const s = derivePatientState(f, ctx.sets, ctx.today);
    for (const r of s.registry) registryRows.push({ patient_id: id, ...r, updated_at: ctx.stamp });
    for (const e of s.evals) evalRows.push({ patient_id: id, ...e });
    for (const c of s.confirmations) {
      const row: Record<string, string> = { patient_id: id, ...c, status: 'open' };
      confirmations.push(`(${CONFIRMATION_COLUMNS.map((col) => sqlLiteral(row[col]!)).join(', ')})`);
    }
    if (pause && ++k % pause.every === 0) await pause.wait();
  }
  return {
    registry: copyLines(registryRows, REGISTRY_COLUMNS),
    evals: copyLines(evalRows, EVAL_COLUMNS),
    confirmations,
    registryKeys: registryKeys(rawRows(registry!)),
    residents: residents.size,
    derived: facts.size,
    drivingRows,
  };
}
