/**
 * The kinds of code Yifang maps and the target system of each: lab tests (Yifang's CodeSystem
 * lab-test), specimen types (SNOMED CT specimen concepts) and units (UCUM); diagnoses map to ICD-10
 * but are not queued (a diagnosis code system is a facility's whole catalogue, not a short list).
 */
import { ICD10_SYSTEM } from '../shared/uris.js';
import {
  SPECIMEN_SYSTEM,
  specimenTables,
  UCUM_SYSTEM,
  unitTables,
  type NamedTarget,
  type SpecimenTables,
  type UnitTables,
} from './code-tables.js';
import { LAB_TEST_SYSTEM, labTables, type LabTables } from './targets.js';

export const MAPPING_KINDS = ['lab', 'specimen', 'unit'] as const;
export type MappingKind = (typeof MAPPING_KINDS)[number];

export const KIND_TARGET_SYSTEM: Readonly<Record<MappingKind, string>> = {
  lab: LAB_TEST_SYSTEM,
  specimen: SPECIMEN_SYSTEM,
  unit: UCUM_SYSTEM,
};

/** Target code systems a ConceptMap may map to. */
export const TARGET_SYSTEMS = [LAB_TEST_SYSTEM, SPECIMEN_SYSTEM, UCUM_SYSTEM, ICD10_SYSTEM] as const;

export function kindOfTargetSystem(system: string): MappingKind | undefined {
  return MAPPING_KINDS.find((k) => KIND_TARGET_SYSTEM[k] === system);
}

export interface TerminologyTables {
  lab: LabTables;
  specimen: SpecimenTables;
  unit: UnitTables;
}

/** Every built-in table (each read and validated once). */
export function terminologyTables(): TerminologyTables {
  return { lab: labTables(), specimen: specimenTables(), unit: unitTables() };
}

export function targetsOf(tables: TerminologyTables, kind: MappingKind): NamedTarget[] {
  return tables[kind].targets;
}

/** Whether `code` is a target of the kind's table. */
export function isKnownTarget(tables: TerminologyTables, kind: MappingKind, code: string): boolean {
  return tables[kind].byCode.has(code);
}

export const KIND_LABEL: Readonly<Record<MappingKind, string>> = {
  lab: '检验项目 lab tests',
  specimen: '标本类型 specimen types',
  unit: '单位 units',
};
