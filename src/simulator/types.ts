/**
 * Types shared across the simulator, at the bottom of its module graph: the world the day loop
 * works on, what each facility knows about a person, and the visits and diagnoses the recorder
 * writes. Only type imports from leaf modules here, so that any module may import this file
 * without making a cycle.
 */
import type { Clock, WorkCalendar } from './calendar.js';
import type { Department, District, DistrictConfig, Facility, Practitioner } from './district.js';
import type { EncounterClass, PostalAddress, VisitType } from './fhir.js';
import type { NameBook } from './names.js';
import type { ChronicState, Population } from './population.js';
import type { Schools } from './schools.js';
import type { Schedule } from './vaccines.js';

export interface World {
  seed: number;
  startDay: number;
  /** First day after the run. */
  endDay: number;
  days: number;
  cfg: DistrictConfig;
  names: NameBook;
  district: District;
  pop: Population;
  chronic: ChronicState;
  schools: Schools;
  care: { residents: number[][]; staff: number[][] };
  cal: WorkCalendar;
  clock: Clock;
  schedule: Schedule;
  /** Who dies during the run and when (deaths.ts): every record of a resident is written only while `alive`. */
  deaths: Mortality;
}

/** The day of death of each resident (deaths.ts `Deaths`). */
export interface Mortality {
  /** The day a resident dies during the run, or a day after every day of the run. */
  deathDay(person: number): number;
  /** Alive on a day (the day of death included: its records are written). */
  alive(person: number, day: number): boolean;
}

export type VariantKind =
  'typo' | 'traditional' | 'homophone' | 'pinyin' | 'swapped-day-month' | 'missing-id' | 'wrong-id' | 'old-phone' | 'newborn-name';

export interface PatientView {
  person: number;
  /** FHIR Patient id at a FHIR-fed facility; null for HL7-only records. */
  fhirId: string | null;
  facility: Facility;
  mrn: string;
  name: { text: string; family: string; given: string };
  sex: 1 | 2;
  birthDate: string;
  idNumber: string | null;
  phone: string | null;
  address: PostalAddress;
  variants: VariantKind[];
}

export interface IdentityRecord {
  source: 'fhir' | 'hl7v2';
  facility: string;
  /** FHIR Patient id (fhir) or the facility's MRN (hl7v2). */
  id: string;
  variants: VariantKind[];
}

export interface Dx {
  icd: string;
  display: string;
  provisional?: boolean;
}

export type Extra = { kind: 'bp'; sbp: number; dbp: number } | { kind: 'glucose'; value: number } | { kind: 'hba1c'; value: number };

export interface VisitSpec {
  person: number;
  facility: Facility;
  dept: Department;
  cls: EncounterClass;
  visitType: VisitType;
  day: number;
  /** Minute of day; drawn from the department's hours when omitted. */
  startMin?: number;
  durationMin?: number;
  /** Inpatient stay in days. */
  losDays?: number;
  complaint: string;
  temperature?: number | null;
  dx: Dx[];
  onsetDay: number;
  extras?: Extra[];
  doctor?: number;
}

export interface Visit {
  id: string;
  person: number;
  view: PatientView;
  facility: Facility;
  dept: Department;
  cls: EncounterClass;
  day: number;
  startMin: number;
  endDay: number;
  endMin: number;
  doctor: Practitioner;
  /** FHIR Encounter exists (FHIR-fed facility). */
  fhir: boolean;
  complaint: string;
  temperature: number | null;
  dx: Dx[];
  onsetDay: number;
}

export interface LabResult {
  code: string;
  positive: boolean;
}
