/**
 * The terminology HTTP API as zod schemas (validation, serialization, OpenAPI); the web app may
 * `import type` the response types. Imports nothing but zod.
 */
import { z } from 'zod';

const text = (max: number) => z.string().max(max);

/**
 * lab = lab-test codes (OBX-3), specimen = specimen types (SPM-4 / OBR-15 / Specimen.type), unit =
 * units (OBX-6 / valueQuantity.unit), diagnosis = local diagnosis codes (Condition.code, DG1-3) to ICD-10.
 */
export const Kind = z.enum(['lab', 'specimen', 'unit', 'diagnosis']);
export type Kind = z.infer<typeof Kind>;
export const KindOrAll = z.enum(['lab', 'specimen', 'unit', 'diagnosis', 'all']);

export const UnmappedQuery = z.object({
  kind: KindOrAll.default('lab').describe(
    'lab (default): lab-test codes; specimen: specimen types; unit: units; diagnosis: diagnoses; all',
  ),
  facility: text(200).optional().describe("Facility (Organization id or HL7 MSH-4); '' for results without one"),
  status: z.enum(['open', 'mapped', 'ignored', 'all']).default('open').describe('open (default), mapped, ignored or all'),
  q: text(100).optional().describe('Part of the code or its text'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type UnmappedQuery = z.infer<typeof UnmappedQuery>;

export const Suggestion = z.object({ code: z.string(), zh: z.string(), en: z.string(), score: z.number() });
export type Suggestion = z.infer<typeof Suggestion>;

export const UnmappedCode = z.object({
  kind: Kind,
  facility: z.string(),
  /** '' = sent without a code system (e.g. an HL7 OBX-3 with a local coding-system name). */
  system: z.string(),
  code: z.string(),
  display: z.string().nullable(),
  /** Results that carried the code (counted as they arrived). */
  records: z.number().int(),
  /** Up to five record ids: Observations (lab tests, units), Specimens (specimen types) or Conditions (diagnoses). */
  examples: z.array(z.string()),
  firstSeen: z.string(),
  lastSeen: z.string(),
  status: z.enum(['open', 'mapped', 'ignored']),
  target: z.string().nullable(),
  /** Best targets for the code's text (open codes only). */
  suggestions: z.array(Suggestion).optional(),
});
export type UnmappedCode = z.infer<typeof UnmappedCode>;

export const UnmappedList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  items: z.array(UnmappedCode),
});
export type UnmappedList = z.infer<typeof UnmappedList>;

export const FacilityQueue = z.object({
  facility: z.string(),
  openCodes: z.number().int(),
  openRecords: z.number().int(),
  codes: z.number().int(),
});
export type FacilityQueue = z.infer<typeof FacilityQueue>;
export const FacilityQuery = z.object({ kind: KindOrAll.default('all').describe('Count codes of one kind, or all (default)') });
export const FacilityQueueList = z.object({ total: z.number().int(), facilities: z.array(FacilityQueue) });
export type FacilityQueueList = z.infer<typeof FacilityQueueList>;

export const SuggestQuery = z.object({
  kind: Kind.default('lab'),
  text: text(200).min(1).describe('The local code text, e.g. 甲型流感病毒核酸, 鼻咽拭子, μmol/L, 流行性感冒'),
  limit: z.coerce.number().int().min(1).max(20).default(5),
});
export const SuggestionList = z.object({ suggestions: z.array(Suggestion) });
export type SuggestionList = z.infer<typeof SuggestionList>;

export const TargetsQuery = z.object({ kind: Kind.default('lab') });
export const LabTargetDto = z.object({
  code: z.string(),
  zh: z.string(),
  en: z.string(),
  /** LOINC codes that count as this target without any mapping (lab tests). */
  loinc: z.array(z.string()),
  /** Other spellings that resolve to it (units, specimen text) or help suggestions. */
  aliases: z.array(z.string()),
  /** Specimen types: the group signal rules use (upper-respiratory, blood, …). */
  class: z.string().optional(),
  /** Specimen types: HL7 v2 table 0487/0070 codes that resolve to it without mapping, as `0487:SER`. */
  hl7v2: z.array(z.string()).optional(),
  /** Diagnoses: the notifiable disease the code belongs to (its key in the list) and its legal class (甲, 乙, 丙). */
  disease: z.string().optional(),
  diseaseClass: z.string().optional(),
});
export type LabTargetDto = z.infer<typeof LabTargetDto>;
export const LabTargetList = z.object({
  kind: Kind,
  system: z.string(),
  source: z.string().optional(),
  total: z.number().int(),
  targets: z.array(LabTargetDto),
});
export type LabTargetList = z.infer<typeof LabTargetList>;

export const MappingBody = z.object({
  kind: Kind.default('lab').describe('What the code is: lab (default), specimen, unit or diagnosis'),
  facility: text(200).describe("The facility whose code it is; '' = every facility (only for a code with a system)"),
  system: text(500).default('').describe("The code's system; '' = sent without one"),
  code: text(200).min(1),
  display: text(500).optional(),
  /** A target of the kind (lab-test code, SNOMED CT specimen concept, UCUM code, ICD-10 code), or null: reviewed, not needed (the code leaves the queue). */
  target: text(64).nullable(),
});
export type MappingBody = z.infer<typeof MappingBody>;

export const MappingResult = z.object({
  conceptMap: z.string().describe('ConceptMap/<id>'),
  version: z.string(),
  /** Queue rows settled by this mapping. */
  settled: z.number().int(),
});
export type MappingResult = z.infer<typeof MappingResult>;

export const ConceptMapSummary = z.object({
  id: z.string(),
  version: z.string(),
  lastUpdated: z.string().nullable(),
  title: z.string().nullable(),
  status: z.string(),
  facility: z.string(),
  sourceSystem: z.string(),
  targetSystem: z.string(),
  elements: z.number().int(),
});
export type ConceptMapSummary = z.infer<typeof ConceptMapSummary>;
export const ConceptMapPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export const ConceptMapList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  maps: z.array(ConceptMapSummary),
});
export type ConceptMapList = z.infer<typeof ConceptMapList>;

export const ConceptMapParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/) });
/** A whole ConceptMap (checked by the FHIR validator and the mapping rules before it is stored). */
export const ConceptMapBody = z.object({ resourceType: z.literal('ConceptMap') }).passthrough();
