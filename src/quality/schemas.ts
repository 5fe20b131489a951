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

export const FacilityQuery = z.object({
  facility: z.string().min(1).max(200).optional(),
});

export const FacilityQuality = z.object({
  /** '' for records with neither a managing organisation nor a facility MRN. */
  facility: z.string(),
  /** Patient records stored (current versions, deleted ones not counted). */
  records: z.number().int(),
  recordsWithOpenIssue: z.number().int(),
  openIssues: z.number().int(),
  /** Share of records without an open issue (0–1, four decimals). */
  validityRate: z.number(),
});
export type FacilityQuality = z.infer<typeof FacilityQuality>;

export const FacilityQualityList = z.object({ facilities: z.array(FacilityQuality) });
export type FacilityQualityList = z.infer<typeof FacilityQualityList>;
