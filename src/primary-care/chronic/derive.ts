/**
 * Derives one resident's chronic-care state from their facts: registry entries (hypertension,
 * type 2 diabetes), the evaluation of each follow-up visit by the rules in force on its date,
 * the next due date, and suspected undiagnosed cases for the confirmation list. Pure.
 */
import type { EncounterRow, PersonRow, ReadingRow } from './facts.js';
import {
  comorbiditiesOf,
  nextFollowUp,
  onTime,
  ruleSetFor,
  type ChronicRuleSet,
  type Disease,
  type FollowUpDecision,
  type PastVisit,
  type Readings,
} from './rules.js';
import { ageOn } from '../../shared/dates.js';

/** What the derivation reads of a resident and of a follow-up encounter (fewer columns, less to parse at scale). */
export type PersonFacts = Pick<PersonRow, 'patient_id' | 'birth_date' | 'deceased' | 'organization_id' | 'area_code'>;
export type FollowUpRow = Omit<EncounterRow, 'class' | 'status' | 'ended_on'>;

export interface PatientFacts {
  person: PersonFacts | undefined;
  conditions: { icd: string; onset: string | null; active: boolean }[];
  medications: { atc: string | null; authored: string | null; active: boolean }[];
  readings: Omit<ReadingRow, 'observation_id'>[];
  encounters: FollowUpRow[];
  /** Existing registry rows (manual enrolments and status changes survive a refresh). */
  registry: { disease: string; source: string; status: string; status_reason: string | null; diagnosed_on: string | null }[];
  /** Team of the active contract, if any. */
  contractTeam: string | null;
  /** Team per practitioner id. */
  teamOf: Map<string, string>;
}

export interface RegistryState {
  disease: Disease;
  diagnosed_on: string | null;
  source: string;
  status: string;
  status_reason: string | null;
  team_id: string | null;
  doctor_id: string | null;
  organization_id: string | null;
  area_code: string | null;
  last_visit: string | null;
  next_due: string | null;
  decision: FollowUpDecision | null;
  controlled: boolean | null;
  reasons: string[];
}

export interface VisitEval {
  encounter_id: string;
  disease: Disease;
  visit_date: string;
  mode: string | null;
  rule_version: string;
  controlled: boolean | null;
  decision: FollowUpDecision;
  due_date: string;
  on_time: boolean;
  reasons: string[];
}

export interface Confirmation {
  disease: Disease;
  reason: string;
  detected_on: string;
}

export interface PatientState {
  registry: RegistryState[];
  evals: VisitEval[];
  confirmations: Confirmation[];
}

const prefixed = (code: string | null, prefixes: string[]) => !!code && prefixes.some((p) => code.startsWith(p));
const minDate = (dates: (string | null)[]) => dates.filter((d): d is string => !!d).sort()[0] ?? null;

/** Readings of one encounter, plausible ones only, as the decision needs them. */
export function readingsOf(readings: Omit<ReadingRow, 'observation_id'>[]): Readings {
  const out: Readings = {};
  for (const r of readings) {
    if (r.flag) continue;
    if (r.kind === 'bp') {
      out.sbp = r.sbp!;
      out.dbp = r.dbp!;
    } else if (r.kind === 'fpg') out.fpg = r.value!;
    else if (r.kind === 'glucose') out.glucose = r.value!;
    else if (r.kind === 'hba1c') out.hba1c = r.value!;
  }
  return out;
}

export function derivePatientState(f: PatientFacts, sets: ChronicRuleSet[], today: string): PatientState {
  // Most residents have no chronic facts at all: nothing to derive.
  if (!f.conditions.length && !f.medications.length && !f.readings.length && !f.registry.length)
    return { registry: [], evals: [], confirmations: [] };
  const current = ruleSetFor(sets, today);
  const reg = current.registry;
  const active = f.conditions.filter((c) => c.active);
  const activeIcd = active.map((c) => c.icd);
  const age = f.person?.birth_date ? ageOn(f.person.birth_date, today) : undefined;
  const deceased = f.person?.deceased ?? false;

  const evidence = new Map<Disease, string | null>();
  const htnDx = active.filter((c) => prefixed(c.icd, reg.hypertensionIcdPrefixes));
  if (htnDx.length && (age === undefined || age >= reg.hypertensionMinAge)) evidence.set('htn', minDate(htnDx.map((c) => c.onset)));
  const dmDx = active.filter((c) => prefixed(c.icd, reg.diabetesIcdPrefixes));
  const dmRx = f.medications.filter((m) => m.active && prefixed(m.atc, reg.diabetesAtcPrefixes));
  if (dmDx.length || dmRx.length) evidence.set('dm', minDate([...dmDx.map((c) => c.onset), ...dmRx.map((m) => m.authored)]));
  for (const r of f.registry)
    if (r.source === 'manual' && !evidence.has(r.disease as Disease)) evidence.set(r.disease as Disease, r.diagnosed_on);

  const readingsByEncounter = new Map<string, Omit<ReadingRow, 'observation_id'>[]>();
  for (const r of f.readings) {
    if (!r.encounter_id) continue;
    const list = readingsByEncounter.get(r.encounter_id);
    if (list) list.push(r);
    else readingsByEncounter.set(r.encounter_id, [r]);
  }
  const followUps = f.encounters
    .filter((e) => e.follow_up_mode)
    .sort((a, b) =>
      a.visit_date < b.visit_date
        ? -1
        : a.visit_date > b.visit_date
          ? 1
          : a.encounter_id < b.encounter_id
            ? -1
            : a.encounter_id > b.encounter_id
              ? 1
              : 0,
    );

  const registry: RegistryState[] = [];
  const evals: VisitEval[] = [];
  for (const [disease, diagnosedOn] of evidence) {
    const prior = f.registry.find((r) => r.disease === disease);
    const history: (PastVisit & { due: string })[] = [];
    let lastEncounter: FollowUpRow | undefined;
    for (const e of followUps) {
      if (diagnosedOn && e.visit_date < diagnosedOn) continue;
      const readings = readingsOf(readingsByEncounter.get(e.encounter_id) ?? []);
      const relevant =
        disease === 'htn'
          ? readings.sbp !== undefined
          : readings.fpg !== undefined || readings.glucose !== undefined || readings.hba1c !== undefined;
      // A follow-up for the other programme only (no reading for this one) is not this programme's visit.
      if (!relevant && !e.symptoms.length) continue;
      const rules = ruleSetFor(sets, e.visit_date);
      const facts = {
        age: f.person?.birth_date ? ageOn(f.person.birth_date, e.visit_date) : 60,
        comorbidities: comorbiditiesOf(activeIcd, rules),
      };
      const plan = nextFollowUp(
        history,
        {
          date: e.visit_date,
          disease,
          readings,
          symptoms: e.symptoms,
          adverseReaction: (e.adverse_reaction ?? undefined) as never,
          newComplication: e.new_complication,
        },
        facts,
        rules,
      );
      const previousDue = history.at(-1)?.due;
      evals.push({
        encounter_id: e.encounter_id,
        disease,
        visit_date: e.visit_date,
        mode: e.follow_up_mode,
        rule_version: rules.version,
        controlled: plan.controlled ?? null,
        decision: plan.decision,
        due_date: plan.dueDate,
        on_time: onTime(previousDue, e.visit_date, rules),
        reasons: plan.reasons,
      });
      history.push({ date: e.visit_date, controlled: plan.controlled, decision: plan.decision, due: plan.dueDate });
      lastEncounter = e;
    }
    const last = evals.filter((v) => v.disease === disease).at(-1);
    const doctor = lastEncounter?.doctor_id ?? null;
    const status = deceased ? 'died' : prior && prior.status !== 'managed' && prior.status !== 'died' ? prior.status : 'managed';
    registry.push({
      disease,
      diagnosed_on: diagnosedOn,
      source:
        prior?.source === 'manual' && !(disease === 'htn' ? htnDx.length : dmDx.length || dmRx.length)
          ? 'manual'
          : (prior?.source ?? 'record'),
      status,
      status_reason: status === 'died' ? '死亡' : (prior?.status_reason ?? null),
      team_id: f.contractTeam ?? (doctor ? (f.teamOf.get(doctor) ?? null) : null),
      doctor_id: doctor,
      organization_id: f.person?.organization_id ?? lastEncounter?.organization_id ?? null,
      area_code: f.person?.area_code ?? null,
      last_visit: last?.visit_date ?? null,
      next_due: last ? last.due_date : diagnosedOn ? diagnosedOn : today,
      decision: last?.decision ?? null,
      controlled: last?.controlled ?? null,
      reasons: last?.reasons ?? [],
    });
  }

  // Suspected undiagnosed cases (confirmation list): rules.md §3 diagnosis criteria.
  const confirmations: Confirmation[] = [];
  const sc = current.screening;
  if (!evidence.has('htn')) {
    const highDays = [
      ...new Set(
        f.readings
          .filter((r) => r.kind === 'bp' && !r.flag && (r.sbp! >= sc.suspectedSbpAtLeast || r.dbp! >= sc.suspectedDbpAtLeast))
          .map((r) => r.taken_on),
      ),
    ].sort();
    if (highDays.length >= sc.suspectedHypertensionReadings)
      confirmations.push({
        disease: 'htn',
        reason: `${highDays.length} 天血压 ≥ ${sc.suspectedSbpAtLeast}/${sc.suspectedDbpAtLeast} mmHg`,
        detected_on: highDays[sc.suspectedHypertensionReadings - 1]!,
      });
    else if (f.medications.some((m) => m.active && prefixed(m.atc, reg.antihypertensiveAtcPrefixes)) && !htnDx.length) {
      const d = minDate(f.medications.filter((m) => prefixed(m.atc, reg.antihypertensiveAtcPrefixes)).map((m) => m.authored));
      if (d) confirmations.push({ disease: 'htn', reason: '使用降压药但无高血压诊断', detected_on: d });
    }
  }
  if (!evidence.has('dm')) {
    const high = f.readings
      .filter(
        (r) =>
          !r.flag &&
          ((r.kind === 'fpg' && r.value! >= sc.suspectedFpgAtLeast) || (r.kind === 'hba1c' && r.value! >= sc.suspectedHba1cAtLeast)),
      )
      .sort((a, b) => a.taken_on.localeCompare(b.taken_on));
    if (high.length)
      confirmations.push({
        disease: 'dm',
        reason:
          high[0]!.kind === 'fpg'
            ? `空腹血糖 ${high[0]!.value} ≥ ${sc.suspectedFpgAtLeast} mmol/L`
            : `糖化血红蛋白 ${high[0]!.value}% ≥ ${sc.suspectedHba1cAtLeast}%`,
        detected_on: high[0]!.taken_on,
      });
  }
  return { registry, evals, confirmations };
}
