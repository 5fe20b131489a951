/**
 * The kinds of code Yifang maps and the target system of each: lab tests (Yifang's CodeSystem
 * lab-test), specimen types (SNOMED CT specimen concepts), units (UCUM) and diagnoses (ICD-10).
 * A diagnosis's target list is the notifiable diseases' ICD-10 codes (diagnoses.ts), but a map may
 * name any ICD-10 code (syndromes read codes beyond the list, J06.9 for one); only encounter
 * diagnoses whose local code no map knows and whose text names no single target are queued.
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
import { diagnosisTables, ICD10_TARGET, type DiagnosisTables } from './diagnoses.js';
import { LAB_TEST_SYSTEM, labTables, type LabTables } from './targets.js';

export const MAPPING_KINDS = ['lab', 'specimen', 'unit', 'diagnosis'] as const;
export type MappingKind = (typeof MAPPING_KINDS)[number];

export const KIND_TARGET_SYSTEM: Readonly<Record<MappingKind, string>> = {
  lab: LAB_TEST_SYSTEM,
  specimen: SPECIMEN_SYSTEM,
  unit: UCUM_SYSTEM,
  diagnosis: ICD10_SYSTEM,
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
  diagnosis: DiagnosisTables;
}

/** Every built-in table (each read and validated once). */
export function terminologyTables(): TerminologyTables {
  return { lab: labTables(), specimen: specimenTables(), unit: unitTables(), diagnosis: diagnosisTables() };
}

export function targetsOf(tables: TerminologyTables, kind: MappingKind): NamedTarget[] {
  return tables[kind].targets;
}

/** Whether `code` may be mapped to: a target of the kind's table; for diagnoses, any ICD-10 code. */
export function isKnownTarget(tables: TerminologyTables, kind: MappingKind, code: string): boolean {
  return kind === 'diagnosis' ? ICD10_TARGET.test(code) : tables[kind].byCode.has(code);
}

export const KIND_LABEL: Readonly<Record<MappingKind, string>> = {
  lab: '检验项目 lab tests',
  specimen: '标本类型 specimen types',
  unit: '单位 units',
  diagnosis: '诊断 diagnoses',
};
