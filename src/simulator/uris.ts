/**
 * URIs the simulator needs beyond src/fhir/uris.ts. All under the same base; a published URI is
 * never changed. Listed in src/simulator/README.md.
 */
import { YIFANG_BASE } from '../shared/uris.js';

/** Identifier system for household numbers (Group of kind household). */
export const HOUSEHOLD_ID_SYSTEM = `${YIFANG_BASE}/sid/household`;
/** Identifier system for school class codes (Group of kind school-class). */
export const SCHOOL_CLASS_ID_SYSTEM = `${YIFANG_BASE}/sid/school-class`;
/** Identifier system for practitioners' licence numbers (医师/护士执业证书编码). */
export const PRACTITIONER_LICENCE_SYSTEM = `${YIFANG_BASE}/sid/practitioner-licence`;
/** Identifier system for laboratory order numbers. */
export const LAB_ORDER_ID_SYSTEM = `${YIFANG_BASE}/sid/lab-order`;
/** Kinds of Group: household, school-class, care-home-residents. */
export const GROUP_KIND_SYSTEM = `${YIFANG_BASE}/CodeSystem/group-kind`;
/** Kind of visit: outpatient, emergency, inpatient, follow-up, vaccination, home-visit. */
export const VISIT_TYPE_SYSTEM = `${YIFANG_BASE}/CodeSystem/visit-type`;
/** Laboratory tests and analytes without a verified LOINC code (13-pathogen panel, ...). */
export const LAB_TEST_SYSTEM = `${YIFANG_BASE}/CodeSystem/lab-test`;
/** Local medication codes (with ATC where one exists). */
export const MEDICATION_SYSTEM = `${YIFANG_BASE}/CodeSystem/medication`;
/** Extension on Specimen: when it was shipped to the laboratory (valueDateTime). */
export const SPECIMEN_SHIPPED_EXTENSION = `${YIFANG_BASE}/StructureDefinition/specimen-shipped`;
/** Extension on DiagnosticReport: when the test was run (valueDateTime). */
export const LAB_TESTED_EXTENSION = `${YIFANG_BASE}/StructureDefinition/lab-tested`;
export const ATC_SYSTEM = 'http://www.whocc.no/atc';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const CVX_SYSTEM = 'http://hl7.org/fhir/sid/cvx';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
/** EpisodeOfCare.type of a family-doctor contract (签约), as the product reads it. */
export const CONTRACT_TYPE_SYSTEM = `${YIFANG_BASE}/CodeSystem/episode-type`;
/** Service package codes of a contract: basic, elderly, chronic, child, ... */
export const SERVICE_PACKAGE_SYSTEM = `${YIFANG_BASE}/CodeSystem/service-package`;
/** Extension on EpisodeOfCare: the service package (valueCoding). */
export const SERVICE_PACKAGE_EXTENSION = `${YIFANG_BASE}/StructureDefinition/service-package`;
