/**
 * The public entry of code mapping: the module, and what the signal processors call — the
 * resolver (a result's codes → a lab-test code, a specimen type → a SNOMED CT specimen concept, a
 * unit → UCUM, a diagnosis → ICD-10, or unmapped), the facility of a result, whether a result is
 * positive, the unmapped queue, and the stored records with one code.
 */
export { default as terminologyModule } from './module.js';
export { createLabResolver, type LabResolver } from './resolver.js';
export { TerminologyIndex, type CodeResolution, type LabResolution } from './resolve.js';
export { resultFacility } from './facility.js';
export { isPositiveResult } from './positive.js';
export {
  conditionsOfEncounters,
  conditionsWithCode,
  noteUnmapped,
  observationsWithCode,
  settleQueue,
  type UnmappedSighting,
} from './store.js';
export { mappingsOf, SOURCE_FACILITY_EXTENSION, type Mapping } from './concept-map.js';
export { LAB_TEST_SYSTEM, labTables } from './targets.js';
export {
  normaliseUnit,
  SPECIMEN_SYSTEM,
  specimenTables,
  UCUM_SYSTEM,
  unitTables,
  type SpecimenClass,
  type SpecimenTarget,
  type UnitTarget,
} from './code-tables.js';
export { MAPPING_KINDS, terminologyTables, type MappingKind, type TerminologyTables } from './kinds.js';
export { resolveSpecimenType, resolveUnit, unmappedDiagnoses, type ResolvedSpecimenType, type ResolvedUnit } from './resolve-codes.js';
export { diagnosisTables, type DiagnosisTarget } from './diagnoses.js';
export { suggestTargets } from './suggest.js';
