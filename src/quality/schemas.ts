/**
 * The data-quality HTTP API as zod schemas (validation, serialization, the OpenAPI document); the
 * web app may `import type` the response types. Imports nothing but zod.
 */
import { z } from 'zod';

export const IssueQuery = z.object({
  facility: z.string().min(1).max(200).optional().describe('Facility id (managing organisation, or the facility of the MRN)'),
  status: z.enum(['open', 'resolved', 'all']).default('open').describe('open (default), resolved or all'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type IssueQuery = z.infer<typeof IssueQuery>;

/** One marked value: a record, the field holding it and what is wrong, open until a version no longer carries the mark. */
export const Issue = z.object({
  id: z.number().int(),
  /** The resident the record is about (rows the user may not see are withheld by the access policy). */
  patientId: z.string(),
  /** 'Patient/<id>'. */
  resource: z.string(),
  /** Path of the marked element without positions: Patient.identifier, Patient.birthDate. */
  field: z.string(),
  /** What is wrong, in Chinese and English (the mark's text). */
  problem: z.string(),
  status: z.enum(['open', 'resolved']),
  facility: z.string(),
  openedVersion: z.number().int(),
  openedAt: z.string(),
  resolvedVersion: z.number().int().nullable(),
  resolvedAt: z.string().nullable(),
});
export type Issue = z.infer<typeof Issue>;

export const IssueList = z.object({
  /** Issues matching the filter (less any rows withheld from this user). */
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  issues: z.array(Issue),
});
export type IssueList = z.infer<typeof IssueList>;

const RECORD_TYPE = z
  .enum(['Patient', 'Encounter', 'Condition', 'Observation', 'Immunization'])
  .optional()
  .describe('record type (default: all followed types)');

export const FacilityQuery = z.object({
  facility: z.string().min(1).max(200).optional(),
  type: RECORD_TYPE,
});

export const RecordQuery = z.object({
  facility: z.string().min(1).max(200).optional(),
  type: RECORD_TYPE,
  problem: z
    .enum(['incomplete', 'invalid', 'late'])
    .describe('the figure: records missing a mandatory field, with an open issue, or received late'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type RecordQuery = z.infer<typeof RecordQuery>;

export const QualityRecord = z.object({
  resource: z.string(),
  type: z.string(),
  facility: z.string(),
  /** The resident the record is about ('' when it names none); rows the user may not see are withheld. */
  patientId: z.string(),
  /** Mandatory fields the newest version lacks. */
  missing: z.array(z.string()),
  openIssues: z.number().int(),
  eventAt: z.string().nullable(),
  receivedAt: z.string().nullable(),
  /** Hours from the event to the first arrival. */
  hoursLate: z.number().nullable(),
});
export const RecordList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  rows: z.array(QualityRecord),
});
export type RecordList = z.infer<typeof RecordList>;

export const FacilityQuality = z.object({
  /** '' for records with neither a managing organisation nor a facility MRN. */
  facility: z.string(),
  /** The facility's name in the registry (null when the registry does not know it). */
  facilityName: z.string().nullable(),
  /** Record type (Patient, Encounter, Condition, Observation, Immunization). */
  type: z.string(),
  /** Records stored (current versions, deleted ones not counted). */
  records: z.number().int(),
  recordsWithOpenIssue: z.number().int(),
  openIssues: z.number().int(),
  /** 规范性: share of records without an open issue (0–1, four decimals). */
  validityRate: z.number(),
  recordsIncomplete: z.number().int(),
  /** 完整性: share of records with every mandatory field. */
  completenessRate: z.number(),
  recordsWithEventTime: z.number().int(),
  recordsLate: z.number().int(),
  /** Records that first arrived more than 30 days after their event (historical loads), left out of timeliness. */
  recordsHistorical: z.number().int(),
  /** 及时性: share of records that say when the event happened (historical loads aside) and arrived within 24 hours of it. */
  timelinessRate: z.number(),
});
export type FacilityQuality = z.infer<typeof FacilityQuality>;

export const FacilityQualityList = z.object({ facilities: z.array(FacilityQuality) });
export type FacilityQualityList = z.infer<typeof FacilityQualityList>;
