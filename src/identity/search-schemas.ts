/**
 * Schemas of the merged resident record (GET /api/residents/{id}/record) and the resident search
 * (GET /api/residents/search): validation, serialization and the OpenAPI document. The web app
 * imports the types. Imports nothing but zod.
 */
import { z } from 'zod';

export const DEMOGRAPHIC_FIELDS = ['name', 'gender', 'birthDate', 'idNumber', 'phone', 'address'] as const;
export type DemographicField = (typeof DEMOGRAPHIC_FIELDS)[number];

/** Kinds of timeline item (filters). Observations other than labs and vital signs are 'observation'. */
export const TIMELINE_KINDS = ['encounter', 'condition', 'medication', 'lab', 'vital', 'observation', 'immunization', 'careplan'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const RecordParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a Patient or Person id') });

export const RecordQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('items per page (1–100)'),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(990)
    .default(0)
    .describe('items to skip; offset + limit ≤ 1000 — page further back with `before`'),
  types: z
    .string()
    .regex(
      new RegExp(`^(${TIMELINE_KINDS.join('|')})(,(${TIMELINE_KINDS.join('|')}))*$`),
      `comma-separated kinds: ${TIMELINE_KINDS.join(', ')}`,
    )
    .optional()
    .describe('only these kinds of item'),
  facility: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/)
    .optional()
    .describe('only the records of the Patient(s) this Organization manages'),
  before: z
    .string()
    .regex(/^\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/, 'a date or dateTime')
    .optional()
    .describe('only items dated before this (a cursor for pages beyond the first 1000)'),
});
export type RecordQuery = z.infer<typeof RecordQuery>;

export const LinkedPatient = z.object({
  patientId: z.string(),
  facilityId: z.string().nullable(),
  facilityName: z.string().nullable(),
  /** level4 ID number / level3 score or manual / level2 awaiting review; null: not linked yet. */
  assurance: z.string().nullable(),
  lastUpdated: z.string().nullable(),
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: z.string().nullable(),
  idNumber: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  /** The access policy masked some of this Patient's fields for this user. */
  masked: z.boolean(),
});
export type LinkedPatient = z.infer<typeof LinkedPatient>;

export const DemographicComparison = z.object({
  field: z.enum(DEMOGRAPHIC_FIELDS),
  /** The value shown in the header: the one most Patients give, the most recently updated on a tie. */
  value: z.string().nullable(),
  /** Linked Patients give different values (after normalising spaces, case and punctuation). */
  conflict: z.boolean(),
  values: z.array(z.object({ source: z.string().describe('Patient id'), value: z.string().nullable() })),
});
export type DemographicComparison = z.infer<typeof DemographicComparison>;

export const TimelineItem = z.object({
  key: z.string().describe('Type/id'),
  kind: z.enum(TIMELINE_KINDS),
  resourceType: z.string(),
  id: z.string(),
  date: z.string().nullable(),
  title: z.string(),
  detail: z.string().nullable(),
  status: z.string().nullable(),
  facilityId: z.string().nullable(),
  facilityName: z.string().nullable(),
  sourcePatient: z.string(),
  resource: z.record(z.unknown()),
});
export type TimelineItem = z.infer<typeof TimelineItem>;

export const MergedRecord = z.object({
  requestedId: z.string(),
  personId: z.string().nullable(),
  person: z.record(z.unknown()).nullable(),
  /** The linked Patients this user may see (masked as the policy says). */
  patients: z.array(LinkedPatient),
  /** Linked Patients outside the user's access scope: not shown, counted. */
  withheldPatients: z.number().int(),
  demographics: z.array(DemographicComparison),
  conflicts: z.number().int(),
  facilities: z.array(z.object({ id: z.string(), name: z.string().nullable(), patients: z.number().int() })),
  timeline: z.object({
    items: z.array(TimelineItem),
    /** Items matching the filters in the Patients shown (exact up to 10,000 per type). */
    total: z.number().int(),
    offset: z.number().int(),
    limit: z.number().int(),
    /** Items not shown: those of withheld Patients, plus items on this page a rule withholds. */
    withheld: z.number().int(),
    /** Pass as `before` to continue past offset 1000. */
    nextBefore: z.string().nullable(),
  }),
});
export type MergedRecord = z.infer<typeof MergedRecord>;

export const ResidentSearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .describe(
      'a name (or its start), pinyin initials or full pinyin, an ID number (whole, its start or its last 4+ digits) or a phone (whole or its last 4+ digits)',
    ),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_980).default(0),
});
export type ResidentSearchQuery = z.infer<typeof ResidentSearchQuery>;

export const ResidentHit = z.object({
  /** The Patient to open (one the user may see); the row is withheld when none is. */
  patientId: z.string(),
  personId: z.string().nullable(),
  /** Open #/residents/{recordId}: a Patient of the person the user may see (stable across merges; opens the whole merged record). */
  recordId: z.string(),
  patientIds: z.array(z.string()),
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: z.string().nullable(),
  idNumber: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  facilities: z.array(z.object({ id: z.string(), name: z.string().nullable() })),
  /** What matched: name, pinyin, initials, idNumber, phone. */
  matchedBy: z.string(),
});
export type ResidentHit = z.infer<typeof ResidentHit>;

export const ResidentSearchResult = z.object({
  q: z.string(),
  /** How the query was read: name, pinyin (initials or full), idNumber, phone or digits (ID number or phone). */
  kind: z.enum(['name', 'pinyin', 'idNumber', 'phone', 'digits']),
  rows: z.array(ResidentHit),
  /** Persons matching (exact up to 2,000; `capped` beyond). */
  total: z.number().int(),
  capped: z.boolean(),
  offset: z.number().int(),
  limit: z.number().int(),
  /** Rows on this page outside the user's access scope (not shown). */
  withheld: z.number().int(),
});
export type ResidentSearchResult = z.infer<typeof ResidentSearchResult>;
