/**
 * Code systems a programme file may name, and the local ones the programmes add. A programme
 * file naming any other system is refused at start: a typo in a system URI would otherwise
 * match nothing and leave a programme silently empty. Local URIs sit under YIFANG_BASE and
 * never change once published.
 */
import { ICD10_SYSTEM, LOINC_SYSTEM, YIFANG_BASE } from '../../shared/uris.js';
import { ATC_SYSTEM, FOLLOW_UP_EXTENSION, KEY_POPULATION_SYSTEM, SNOMED_SYSTEM, VISIT_TYPE_SYSTEM } from '../chronic/uris.js';

/** Encounter.type for a programme service: newborn-visit, child-checkup, antenatal-care, ... */
export const PROGRAMME_SERVICE_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-service`;
/** Observation.code for programme assessments: mental-condition, tb-treatment-outcome, stroke-risk-assessment, copd-sq, crc-risk-assessment. */
export const PROGRAMME_OBSERVATION_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-observation`;
/** Flag.code set by staff for a programme: high-risk-pregnancy, ... */
export const PROGRAMME_FLAG_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-flag`;
/** Values of the mental-condition assessment (病情): stable, basically-stable, unstable. */
export const MENTAL_CONDITION_SYSTEM = `${YIFANG_BASE}/CodeSystem/mental-condition`;
/** Values of the tuberculosis treatment outcome: cured, completed, failed, died, lost, not-evaluated. */
export const TB_OUTCOME_SYSTEM = `${YIFANG_BASE}/CodeSystem/tb-outcome`;
/**
 * Values of a screening's result (机会性筛查): a risk assessment's high-risk, medium-risk or
 * low-risk (脑卒中风险评估, 结直肠癌危险度评估), a test's positive or negative (粪便免疫化学检测).
 */
export const SCREENING_RESULT_SYSTEM = `${YIFANG_BASE}/CodeSystem/screening-result`;

/**
 * A Condition's clinical and verification statuses (FHIR R4): facts.ts keeps them as the
 * Condition fact's value codes, so that an entry's activeStatuses can choose which enrol.
 */
export const CONDITION_CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

/**
 * An Encounter's status (FHIR R4 encounter-status): facts.ts keeps it as the Encounter fact's
 * value code, so that a service's `statuses` can count a planned follow-up as chronic care does.
 */
export const ENCOUNTER_STATUS_SYSTEM = 'http://hl7.org/fhir/encounter-status';

/**
 * The fields of chronic care's follow-up extension on an Encounter (`chronic-follow-up`), read by
 * facts.ts as codings of the Encounter fact: system "<extension url>#<field>", code its value
 * (`mode` is face-to-face when the extension gives none, as chronic care reads it;
 * `new-complication` is "true" or "false"). A programme file names them like any code system.
 */
export const FOLLOW_UP_FIELDS = ['mode', 'symptom', 'adverse-reaction', 'new-complication'] as const;
export const followUpFieldSystem = (field: (typeof FOLLOW_UP_FIELDS)[number]) => `${FOLLOW_UP_EXTENSION}#${field}`;

/** Every system a programme file may use, with a word for error messages and the web screen. */
export const KNOWN_CODE_SYSTEMS: ReadonlyMap<string, string> = new Map([
  [ICD10_SYSTEM, 'ICD-10'],
  [LOINC_SYSTEM, 'LOINC'],
  [SNOMED_SYSTEM, 'SNOMED CT'],
  [ATC_SYSTEM, 'ATC'],
  [VISIT_TYPE_SYSTEM, 'visit-type'],
  [KEY_POPULATION_SYSTEM, 'key-population'],
  [PROGRAMME_SERVICE_SYSTEM, 'programme-service'],
  [PROGRAMME_OBSERVATION_SYSTEM, 'programme-observation'],
  [PROGRAMME_FLAG_SYSTEM, 'programme-flag'],
  [MENTAL_CONDITION_SYSTEM, 'mental-condition'],
  [TB_OUTCOME_SYSTEM, 'tb-outcome'],
  [SCREENING_RESULT_SYSTEM, 'screening-result'],
  ...FOLLOW_UP_FIELDS.map((f) => [followUpFieldSystem(f), `chronic-follow-up ${f}`] as const),
]);
