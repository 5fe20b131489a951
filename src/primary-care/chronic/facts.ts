/**
 * What chronic care needs from each FHIR resource, as flat rows. Pure: resource in, row out
 * (null when the resource is irrelevant). The processor writes these rows; the refresh derives
 * registries and schedules from them.
 */
import type {
  CareTeam,
  Communication,
  Flag,
  Condition,
  Encounter,
  EpisodeOfCare,
  Immunization,
  MedicationRequest,
  Observation,
  Patient,
  Reference,
  Task,
} from '@medplum/fhirtypes';
import { AREA_CODE_EXTENSION, HOUSEHOLD_EXTENSION, ICD10_SYSTEM, LOINC_SYSTEM } from '../../shared/uris.js';
import {
  ATC_SYSTEM,
  CONTRACT_HOUSEHOLD_EXTENSION,
  EDUCATION_ITEM_SYSTEM,
  FOLLOW_UP_EXTENSION,
  KEY_POPULATION_SYSTEM,
  REFERRAL_TASK_SYSTEM,
  SERVICE_PACKAGE_EXTENSION,
  SNOMED_SYSTEM,
  VACCINE_SYSTEM,
  VISIT_TYPE_SYSTEM,
} from './uris.js';
import { implausibleReadings, type ChronicRuleSet } from './rules.js';
import { addDays } from '../../shared/dates.js';

export const refId = (r: Reference | undefined, type: string): string | null => {
  const ref = r?.reference;
  if (!ref || !ref.startsWith(`${type}/`)) return null;
  return ref.slice(type.length + 1);
};

/** The calendar date of a FHIR dateTime in its own offset (2025-01-02T10:32:00+08:00 → 2025-01-02). */
export const dateOf = (dt: string | undefined): string | null =>
  dt && /^\d{4}-\d{2}-\d{2}/.test(dt) ? dt.slice(0, 10) : dt && /^\d{4}$/.test(dt) ? `${dt}-01-01` : null;

export interface PersonRow {
  patient_id: string;
  name: string | null;
  birth_date: string | null;
  gender: string | null;
  area_code: string | null;
  organization_id: string | null;
  household_id: string | null;
  deceased: boolean;
}

export function personRow(p: Patient): PersonRow {
  const home = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const area = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION)?.valueString ?? null;
  const hh = p.extension?.find((e) => e.url === HOUSEHOLD_EXTENSION)?.valueReference;
  const birth = p.birthDate
    ? p.birthDate.length === 4
      ? `${p.birthDate}-07-01`
      : p.birthDate.length === 7
        ? `${p.birthDate}-15`
        : p.birthDate
    : null;
  return {
    patient_id: p.id!,
    name: p.name?.[0]?.text ?? ([p.name?.[0]?.family, ...(p.name?.[0]?.given ?? [])].filter(Boolean).join('') || null),
    birth_date: birth,
    gender: p.gender ?? null,
    area_code: area,
    organization_id: refId(p.managingOrganization, 'Organization'),
    household_id: refId(hh, 'Group'),
    deceased: p.deceasedBoolean === true || !!p.deceasedDateTime,
  };
}

export function conditionRow(
  c: Condition,
): { condition_id: string; patient_id: string; icd: string; onset: string | null; active: boolean } | null {
  const patient = refId(c.subject, 'Patient');
  const icd = c.code?.coding?.find((x) => x.system === ICD10_SYSTEM)?.code;
  if (!patient || !icd) return null;
  const clinical = c.clinicalStatus?.coding?.[0]?.code ?? 'active';
  const ver = c.verificationStatus?.coding?.[0]?.code ?? 'confirmed';
  const active =
    ['active', 'recurrence', 'relapse'].includes(clinical) && !['refuted', 'entered-in-error', 'provisional', 'differential'].includes(ver);
  return { condition_id: c.id!, patient_id: patient, icd, onset: dateOf(c.onsetDateTime) ?? dateOf(c.recordedDate), active };
}

/** Whether a MedicationRequest's status says the prescription stands (was or is being given). */
export const prescriptionStands = (status: MedicationRequest['status']): boolean => ['active', 'completed', 'on-hold'].includes(status);

export function medicationRow(
  m: MedicationRequest,
): { request_id: string; patient_id: string; atc: string | null; authored: string | null; active: boolean } | null {
  const patient = refId(m.subject, 'Patient');
  if (!patient) return null;
  const atc = m.medicationCodeableConcept?.coding?.find((c) => c.system === ATC_SYSTEM)?.code ?? null;
  return {
    request_id: m.id!,
    patient_id: patient,
    atc,
    authored: dateOf(m.authoredOn),
    active: prescriptionStands(m.status),
  };
}

export interface ReadingRow {
  observation_id: string;
  patient_id: string;
  encounter_id: string | null;
  kind: 'bp' | 'fpg' | 'glucose' | 'hba1c';
  taken_on: string;
  sbp: number | null;
  dbp: number | null;
  value: number | null;
  flag: string | null;
}

const loinc = (o: { code?: { coding?: { system?: string; code?: string }[] } }, code: string) =>
  o.code?.coding?.some((c) => c.system === LOINC_SYSTEM && c.code === code) ?? false;

export function readingRow(o: Observation, rules: ChronicRuleSet): ReadingRow | null {
  const patient = refId(o.subject, 'Patient');
  const taken = dateOf(o.effectiveDateTime) ?? dateOf(o.effectivePeriod?.start) ?? dateOf(o.issued);
  if (!patient || !taken || ['entered-in-error', 'cancelled'].includes(o.status)) return null;
  const base = {
    observation_id: o.id!,
    patient_id: patient,
    encounter_id: refId(o.encounter, 'Encounter'),
    taken_on: taken,
    sbp: null,
    dbp: null,
    value: null,
    flag: null,
  };
  if (loinc(o, '85354-9')) {
    const comp = (code: string) => o.component?.find((c) => loinc(c, code))?.valueQuantity?.value;
    const sbp = comp('8480-6');
    const dbp = comp('8462-4');
    if (sbp === undefined || dbp === undefined) return null;
    const bad = implausibleReadings({ sbp, dbp }, rules);
    return { ...base, kind: 'bp', sbp, dbp, flag: bad.length ? bad.join('; ') : null };
  }
  const kind = loinc(o, '1558-6') ? 'fpg' : loinc(o, '2339-0') || loinc(o, '2345-7') ? 'glucose' : loinc(o, '4548-4') ? 'hba1c' : null;
  const v = o.valueQuantity?.value;
  if (!kind || v === undefined) return null;
  const bad = implausibleReadings(kind === 'hba1c' ? { hba1c: v } : kind === 'fpg' ? { fpg: v } : { glucose: v }, rules);
  return { ...base, kind, value: v, flag: bad.length ? bad.join('; ') : null };
}

export interface EncounterRow {
  encounter_id: string;
  patient_id: string;
  visit_date: string;
  class: string | null;
  status: string;
  follow_up_mode: string | null;
  doctor_id: string | null;
  organization_id: string | null;
  symptoms: string[];
  adverse_reaction: string | null;
  new_complication: boolean;
  ended_on: string | null;
}

/** What chronic care's follow-up form (the Encounter extension) records; undefined when the Encounter has none. */
export interface FollowUpForm {
  /** face-to-face when the form gives none. */
  mode: string;
  symptoms: string[];
  adverseReaction?: string;
  /** Absent when the form does not say. */
  newComplication?: boolean;
}

export function followUpForm(e: Encounter): FollowUpForm | undefined {
  const fu = e.extension?.find((x) => x.url === FOLLOW_UP_EXTENSION);
  if (!fu) return undefined;
  const sub = (url: string) => fu.extension?.filter((x) => x.url === url) ?? [];
  return {
    mode: sub('mode')[0]?.valueCode ?? 'face-to-face',
    symptoms: sub('symptom')
      .map((x) => x.valueCode!)
      .filter(Boolean),
    adverseReaction: sub('adverse-reaction')[0]?.valueCode,
    newComplication: sub('new-complication')[0]?.valueBoolean,
  };
}

export function encounterRow(e: Encounter): EncounterRow | null {
  const patient = refId(e.subject, 'Patient');
  const date = dateOf(e.period?.start);
  if (!patient || !date || e.status === 'entered-in-error' || e.status === 'cancelled') return null;
  const visitType = e.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === VISIT_TYPE_SYSTEM)?.code;
  const form = followUpForm(e);
  let mode: string | null = null;
  if (form) mode = form.mode;
  else if (visitType === 'follow-up') mode = e.class?.code === 'HH' ? 'home' : 'face-to-face';
  else if (visitType === 'home-visit') mode = 'home';
  const doctor = e.participant?.map((p) => refId(p.individual, 'Practitioner')).find(Boolean) ?? null;
  return {
    encounter_id: e.id!,
    patient_id: patient,
    visit_date: date,
    class: e.class?.code ?? null,
    status: e.status,
    follow_up_mode: mode,
    doctor_id: doctor,
    organization_id: refId(e.serviceProvider, 'Organization'),
    symptoms: form?.symptoms ?? [],
    adverse_reaction: form?.adverseReaction ?? null,
    new_complication: form?.newComplication === true,
    ended_on: dateOf(e.period?.end),
  };
}

export function careTeamRows(
  t: CareTeam,
): { team_id: string; practitioner_id: string; team_name: string | null; organization_id: string | null }[] {
  const org = refId(t.managingOrganization?.[0], 'Organization');
  return (t.participant ?? [])
    .map((p) => refId(p.member, 'Practitioner'))
    .filter((x): x is string => !!x)
    .map((practitioner_id) => ({ team_id: t.id!, practitioner_id, team_name: t.name ?? null, organization_id: org }));
}

export function immunizationRow(
  i: Immunization,
): { immunization_id: string; patient_id: string; vaccine: string; given_on: string } | null {
  const patient = refId(i.patient, 'Patient');
  const vaccine = i.vaccineCode?.coding?.find((c) => c.system === VACCINE_SYSTEM)?.code;
  const date = dateOf(i.occurrenceDateTime);
  if (!patient || !vaccine || !date || i.status !== 'completed') return null;
  return { immunization_id: i.id!, patient_id: patient, vaccine, given_on: date };
}

export function contractRow(e: EpisodeOfCare): {
  episode_id: string;
  patient_id: string;
  team_id: string | null;
  household_id: string | null;
  package: string | null;
  start_on: string | null;
  end_on: string | null;
  status: string;
} | null {
  const patient = refId(e.patient, 'Patient');
  // A pregnancy episode is a key-population fact (care/key-populations.ts), not a contract.
  if (!patient || isPregnancyEpisode(e)) return null;
  return {
    episode_id: e.id!,
    patient_id: patient,
    team_id: refId(e.team?.[0], 'CareTeam'),
    household_id: refId(e.extension?.find((x) => x.url === CONTRACT_HOUSEHOLD_EXTENSION)?.valueReference, 'Group'),
    package: e.extension?.find((x) => x.url === SERVICE_PACKAGE_EXTENSION)?.valueCoding?.code ?? null,
    start_on: dateOf(e.period?.start),
    end_on: dateOf(e.period?.end),
    status: e.status,
  };
}

export function referralRow(t: Task): {
  task_id: string;
  service_request_id: string | null;
  patient_id: string;
  direction: string;
  status: string;
  urgency: string | null;
  reason: string | null;
  requester: string | null;
  owner: string | null;
  due_on: string | null;
  authored_on: string | null;
  source_encounter_id: string | null;
} | null {
  const direction = t.code?.coding?.find((c) => c.system === REFERRAL_TASK_SYSTEM)?.code;
  const patient = refId(t.for, 'Patient');
  if (!direction || !patient) return null;
  const who = (r: Reference | undefined) => (r?.reference ? r.reference : null);
  return {
    task_id: t.id!,
    service_request_id: refId(t.focus, 'ServiceRequest'),
    patient_id: patient,
    direction: direction === 'down-referral' ? 'down' : 'up',
    status: t.status,
    urgency: t.priority ?? null,
    reason: t.description ?? t.reasonCode?.text ?? null,
    requester: who(t.requester),
    owner: who(t.owner),
    due_on: dateOf(t.restriction?.period?.end),
    authored_on: dateOf(t.authoredOn),
    source_encounter_id: refId(t.encounter, 'Encounter'),
  };
}

export function educationRow(
  c: Communication,
): { communication_id: string; patient_id: string; item_id: string; encounter_id: string | null; given_on: string } | null {
  const patient = refId(c.subject, 'Patient');
  const item = c.category?.flatMap((x) => x.coding ?? []).find((x) => x.system === EDUCATION_ITEM_SYSTEM)?.code;
  const date = dateOf(c.sent);
  if (!patient || !item || !date || c.status !== 'completed') return null;
  return { communication_id: c.id!, patient_id: patient, item_id: item, encounter_id: refId(c.encounter, 'Encounter'), given_on: date };
}

// ---- key populations (重点人群) from the record ---------------------------------------------
// - pregnant women: an active pregnancy Condition (SNOMED 77386006 "Pregnancy", ICD-10 Z33–Z35
//   or O00–O48) or a pregnancy EpisodeOfCare (type SNOMED 77386006 or key-population#pregnant);
// - disabled residents and special-hardship families: a FHIR Flag (code key-population#disabled
//   or #hardship) set by staff, because no clinical record says so.
// Each source resource becomes one row of care_key_population with the days it covers.

export const PREGNANCY_SNOMED = '77386006';
/** Z33 pregnant state, Z34/Z35 supervision of (high-risk) pregnancy, O00–O48 conditions of pregnancy (not delivery or puerperium). */
export const PREGNANCY_ICD_PREFIXES = ['Z33', 'Z34', 'Z35', 'O0', 'O1', 'O2', 'O3', 'O4'];
/** A pregnancy with no recorded end counts for at most this many days from its onset (42 weeks plus a margin). */
export const PREGNANCY_MAX_DAYS = 300;

export interface KeyPopulationFact {
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

export function pregnancyFromCondition(c: Condition): KeyPopulationFact | null {
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

export function pregnancyFromEpisode(e: EpisodeOfCare): KeyPopulationFact | null {
  const patient = refId(e.patient, 'Patient');
  if (!patient || !isPregnancyEpisode(e) || ['cancelled', 'entered-in-error'].includes(e.status)) return null;
  const start = dateOf(e.period?.start);
  const end = dateOf(e.period?.end) ?? (start ? addDays(start, PREGNANCY_MAX_DAYS) : null);
  return { source: `EpisodeOfCare/${e.id}`, patient_id: patient, population: 'pregnant', start_on: start, end_on: end, note: null };
}

export function populationFromFlag(f: Flag): KeyPopulationFact | null {
  const patient = refId(f.subject, 'Patient');
  const code = f.code?.coding?.find((c) => c.system === KEY_POPULATION_SYSTEM)?.code;
  if (!patient || !code || !['disabled', 'hardship', 'pregnant'].includes(code) || f.status === 'entered-in-error') return null;
  const start = dateOf(f.period?.start);
  // An inactive flag without an end ends where it started (it no longer applies).
  const end = dateOf(f.period?.end) ?? (f.status === 'inactive' ? (start ?? '0001-01-01') : null);
  return { source: `Flag/${f.id}`, patient_id: patient, population: code, start_on: start, end_on: end, note: f.code?.text ?? null };
}
