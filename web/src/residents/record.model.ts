/**
 * Turns the resources of a resident's compartment ($everything) into what the record page
 * shows: sorted clinical lists and chart series (blood pressure, glucose, weight/BMI).
 * Pure functions, no React, so they are easy to reason about and test.
 */
import type {
  AllergyIntolerance,
  CarePlan,
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Procedure,
  Quantity,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { formatHumanName, hasCode, preferredName, timeOf } from '../shared/format.js';

export const LOINC = 'http://loinc.org';
export const BP_PANEL_CODES = ['85354-9', '55284-4'] as const;
export const SYSTOLIC_CODE = '8480-6';
export const DIASTOLIC_CODE = '8462-4';
/** Glucose as mass concentration (usually mg/dL in US data, sometimes mmol/L). */
export const GLUCOSE_MASS_CODES = ['2339-0', '1558-6', '2345-7'] as const;
/** Glucose as substance concentration (mmol/L), as Chinese labs report it. */
export const GLUCOSE_MOLAR_CODES = ['15074-8', '14749-6', '14771-0'] as const;
export const FASTING_GLUCOSE_CODES = ['1558-6', '14771-0'] as const;
export const WEIGHT_CODE = '29463-7';
export const BMI_CODE = '39156-5';

/** One chart point: [ISO time, value]. */
export type Point = [string, number];

export interface RecordModel {
  patient?: Patient;
  encounters: Encounter[];
  conditions: Condition[];
  medications: MedicationRequest[];
  observations: Observation[];
  labs: Observation[];
  immunizations: Immunization[];
  procedures: Procedure[];
  allergies: AllergyIntolerance[];
  reports: DiagnosticReport[];
  carePlans: CarePlan[];
  systolic: Point[];
  diastolic: Point[];
  glucose: Point[];
  fastingGlucose: Point[];
  weight: Point[];
  bmi: Point[];
  /** Names of organizations and practitioners in the bundle, by 'Type/id' and by 'urn:uuid:id'. */
  referenceNames: Map<string, string>;
}

function ofType<T extends Resource>(resources: Resource[], type: T['resourceType']): T[] {
  return resources.filter((r): r is T => r.resourceType === type);
}

const newestFirst =
  <T>(time: (item: T) => string | undefined) =>
  (a: T, b: T) =>
    timeOf(time(b)) - timeOf(time(a));
const oldestFirst = (a: Point, b: Point) => timeOf(a[0]) - timeOf(b[0]);

export function observationTime(observation: Observation): string | undefined {
  return observation.effectiveDateTime ?? observation.effectivePeriod?.start ?? observation.issued;
}

export function encounterTime(encounter: Encounter): string | undefined {
  return encounter.period?.start ?? encounter.period?.end;
}

export function isLaboratory(observation: Observation): boolean {
  return !!observation.category?.some((c) => c.coding?.some((coding) => coding.code === 'laboratory'));
}

function unitOf(quantity: Quantity | undefined): string {
  return (quantity?.code ?? quantity?.unit ?? '').replace(/\s+/g, '').toLowerCase();
}

/**
 * Glucose in mmol/L. mg/dL is divided by 18 (the usual clinical factor for glucose). Without a
 * unit, values above 35 can only be mg/dL; anything else unknown is dropped rather than guessed.
 */
export function glucoseMmolPerL(quantity: Quantity | undefined): number | undefined {
  const value = quantity?.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const unit = unitOf(quantity);
  if (unit === 'mg/dl' || unit === 'mg/100ml') return Math.round((value / 18) * 100) / 100;
  if (unit === 'mmol/l' || unit === 'mmol/liter') return value;
  if (!unit) return value > 35 ? Math.round((value / 18) * 100) / 100 : value;
  return undefined;
}

/** Body weight in kg (pounds converted). */
export function weightKg(quantity: Quantity | undefined): number | undefined {
  const value = quantity?.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const unit = unitOf(quantity);
  if (unit === '[lb_av]' || unit === 'lb' || unit === 'lbs') return Math.round(value * 0.45359237 * 10) / 10;
  if (unit === 'g') return value / 1000;
  return value;
}

function pushUnique(series: Point[], seen: Set<string>, time: string | undefined, value: number | undefined): void {
  if (!time || value === undefined || !Number.isFinite(value)) return;
  const key = `${timeOf(time)}|${value}`;
  if (seen.has(key)) return;
  seen.add(key);
  series.push([time, value]);
}

function referenceKeys(resource: Resource, fullUrl?: string): string[] {
  const keys = [`${resource.resourceType}/${resource.id}`, `urn:uuid:${resource.id}`];
  if (fullUrl) keys.push(fullUrl);
  return keys;
}

/** The display for a reference: its own display, else a name found in the record. */
export function referenceName(ref: Reference | undefined, names: Map<string, string>): string {
  if (!ref) return '';
  if (ref.display) return ref.display;
  if (ref.reference && names.has(ref.reference)) return names.get(ref.reference)!;
  const tail = ref.reference?.split('/').slice(-2).join('/');
  return (tail && names.get(tail)) ?? ref.identifier?.value ?? '';
}

export function buildRecordModel(resources: Resource[]): RecordModel {
  const observations = ofType<Observation>(resources, 'Observation');
  const systolic: Point[] = [];
  const diastolic: Point[] = [];
  const glucose: Point[] = [];
  const fastingGlucose: Point[] = [];
  const weight: Point[] = [];
  const bmi: Point[] = [];
  const seenSys = new Set<string>();
  const seenDia = new Set<string>();
  const seenGlu = new Set<string>();
  const seenFast = new Set<string>();
  const seenWeight = new Set<string>();
  const seenBmi = new Set<string>();

  for (const obs of observations) {
    if (obs.status === 'entered-in-error' || obs.status === 'cancelled') continue;
    const time = observationTime(obs);
    if (hasCode(obs.code, BP_PANEL_CODES, LOINC)) {
      for (const component of obs.component ?? []) {
        if (hasCode(component.code, [SYSTOLIC_CODE], LOINC)) pushUnique(systolic, seenSys, time, component.valueQuantity?.value);
        if (hasCode(component.code, [DIASTOLIC_CODE], LOINC)) pushUnique(diastolic, seenDia, time, component.valueQuantity?.value);
      }
    } else if (hasCode(obs.code, [SYSTOLIC_CODE], LOINC)) {
      pushUnique(systolic, seenSys, time, obs.valueQuantity?.value);
    } else if (hasCode(obs.code, [DIASTOLIC_CODE], LOINC)) {
      pushUnique(diastolic, seenDia, time, obs.valueQuantity?.value);
    } else if (hasCode(obs.code, [...GLUCOSE_MASS_CODES, ...GLUCOSE_MOLAR_CODES], LOINC)) {
      const mmol = glucoseMmolPerL(obs.valueQuantity);
      if (hasCode(obs.code, FASTING_GLUCOSE_CODES, LOINC)) pushUnique(fastingGlucose, seenFast, time, mmol);
      else pushUnique(glucose, seenGlu, time, mmol);
    } else if (hasCode(obs.code, [WEIGHT_CODE], LOINC)) {
      pushUnique(weight, seenWeight, time, weightKg(obs.valueQuantity));
    } else if (hasCode(obs.code, [BMI_CODE], LOINC)) {
      const value = obs.valueQuantity?.value;
      pushUnique(bmi, seenBmi, time, typeof value === 'number' ? Math.round(value * 10) / 10 : undefined);
    }
  }

  const referenceNames = new Map<string, string>();
  for (const org of ofType<Organization>(resources, 'Organization')) {
    if (org.name) for (const key of referenceKeys(org)) referenceNames.set(key, org.name);
  }
  for (const practitioner of ofType<Practitioner>(resources, 'Practitioner')) {
    const name = formatHumanName(preferredName(practitioner.name));
    if (name) for (const key of referenceKeys(practitioner)) referenceNames.set(key, name);
  }

  return {
    patient: ofType<Patient>(resources, 'Patient')[0],
    encounters: ofType<Encounter>(resources, 'Encounter').sort(newestFirst(encounterTime)),
    conditions: ofType<Condition>(resources, 'Condition').sort(
      newestFirst((c) => c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate),
    ),
    medications: ofType<MedicationRequest>(resources, 'MedicationRequest').sort(newestFirst((m) => m.authoredOn)),
    observations,
    labs: observations.filter(isLaboratory).sort(newestFirst(observationTime)),
    immunizations: ofType<Immunization>(resources, 'Immunization').sort(newestFirst((i) => i.occurrenceDateTime)),
    procedures: ofType<Procedure>(resources, 'Procedure').sort(newestFirst((p) => p.performedDateTime ?? p.performedPeriod?.start)),
    allergies: ofType<AllergyIntolerance>(resources, 'AllergyIntolerance'),
    reports: ofType<DiagnosticReport>(resources, 'DiagnosticReport').sort(newestFirst((r) => r.effectiveDateTime ?? r.issued)),
    carePlans: ofType<CarePlan>(resources, 'CarePlan').sort(newestFirst((c) => c.period?.start)),
    systolic: systolic.sort(oldestFirst),
    diastolic: diastolic.sort(oldestFirst),
    glucose: glucose.sort(oldestFirst),
    fastingGlucose: fastingGlucose.sort(oldestFirst),
    weight: weight.sort(oldestFirst),
    bmi: bmi.sort(oldestFirst),
    referenceNames,
  };
}
