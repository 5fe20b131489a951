/**
 * Stable URIs for Yifang's local code systems, identifier systems and extensions.
 * Documented in docs/uris.md; never change a published URI, add a new one instead.
 */
export { RESIDENT_ID_SYSTEM } from './id-number.js';

export const YIFANG_BASE = 'https://yifang.health/fhir';

/** Extension on Address carrying the GB/T 2260 / 12-digit statistical division code. */
export const AREA_CODE_EXTENSION = `${YIFANG_BASE}/StructureDefinition/area-code`;
/** Extension on Patient: the household (Group id) a resident belongs to. */
export const HOUSEHOLD_EXTENSION = `${YIFANG_BASE}/StructureDefinition/household`;
/** Extension on Patient: 人群分类 (occupation class on the report card). */
export const OCCUPATION_CLASS_EXTENSION = `${YIFANG_BASE}/StructureDefinition/occupation-class`;

/** Code system for GB/T 2260 area codes and 12-digit statistical division codes. */
export const AREA_CODE_SYSTEM = `${YIFANG_BASE}/CodeSystem/area-code`;
/** 人群分类 value codes (the report card's population categories). */
export const OCCUPATION_CLASS_SYSTEM = `${YIFANG_BASE}/CodeSystem/occupation-class`;
/** Hospital department (科室) codes. */
export const DEPARTMENT_SYSTEM = `${YIFANG_BASE}/CodeSystem/department`;
/** Facility kind: general hospital, CHC, school, pharmacy, care home, ... */
export const FACILITY_KIND_SYSTEM = `${YIFANG_BASE}/CodeSystem/facility-kind`;
/** Identifier system for a facility's own patient numbers: append '/<facility org id>'. */
export const FACILITY_MRN_SYSTEM_PREFIX = `${YIFANG_BASE}/sid/mrn`;
/** Identifier system for organisations' unified social credit / institution codes. */
export const ORGANIZATION_CODE_SYSTEM = `${YIFANG_BASE}/sid/organization`;
/** ICD-10 (WHO; national clinical edition mapping is configuration). */
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** Vaccine codes used in Chinese schedules (HepB, BCG, IPV, bOPV, DTaP, ...). */
export const VACCINE_SYSTEM = `${YIFANG_BASE}/CodeSystem/vaccine`;
