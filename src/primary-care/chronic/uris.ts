/**
 * URIs for chronic care, immunization prescriptions, contracts, referrals and education. All
 * under YIFANG_BASE; a published URI never changes. (Kept here rather than in src/fhir/uris.ts
 * so the shared file stays small; listed in src/chronic/README.md.)
 */
import { YIFANG_BASE } from '../../shared/uris.js';

/** Kind of visit (same system the simulator and HL7 mapping use): follow-up, home-visit, ... */
export const VISIT_TYPE_SYSTEM = `${YIFANG_BASE}/CodeSystem/visit-type`;
/** Extension on Encounter marking a chronic follow-up visit; sub-extensions mode, disease, adherence, adverse-reaction, new-complication, symptom, advice. */
export const FOLLOW_UP_EXTENSION = `${YIFANG_BASE}/StructureDefinition/chronic-follow-up`;
/** How a follow-up was done: face-to-face, phone, home. */
export const FOLLOW_UP_MODE_SYSTEM = `${YIFANG_BASE}/CodeSystem/follow-up-mode`;
/** Chronic programme codes: htn (高血压), dm (2型糖尿病). */
export const CHRONIC_PROGRAM_SYSTEM = `${YIFANG_BASE}/CodeSystem/chronic-program`;
/** EpisodeOfCare.type for a family-doctor contract (签约). */
export const CONTRACT_TYPE_SYSTEM = `${YIFANG_BASE}/CodeSystem/episode-type`;
/** Service package codes of a contract (basic, elderly, chronic, maternal, child, disabled, hardship). */
export const SERVICE_PACKAGE_SYSTEM = `${YIFANG_BASE}/CodeSystem/service-package`;
/** Extension on EpisodeOfCare: the service package (valueCoding). */
export const SERVICE_PACKAGE_EXTENSION = `${YIFANG_BASE}/StructureDefinition/service-package`;
/** Extension on EpisodeOfCare: the household contracted together (valueReference to Group). */
export const CONTRACT_HOUSEHOLD_EXTENSION = `${YIFANG_BASE}/StructureDefinition/contract-household`;
/** Task.code for referral tasks: up-referral, down-referral. */
export const REFERRAL_TASK_SYSTEM = `${YIFANG_BASE}/CodeSystem/referral-task`;
/** Communication.category / topic for health-education items (item ids from config/care/education-items.json). */
export const EDUCATION_ITEM_SYSTEM = `${YIFANG_BASE}/CodeSystem/education-item`;
export const VACCINE_SYSTEM = `${YIFANG_BASE}/CodeSystem/vaccine`;
export const ATC_SYSTEM = 'http://www.whocc.no/atc';
/** Key populations of family-doctor contracts set by staff or derived: pregnant, disabled, hardship (Flag.code, EpisodeOfCare.type). */
export const KEY_POPULATION_SYSTEM = `${YIFANG_BASE}/CodeSystem/key-population`;
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
