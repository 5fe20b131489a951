/**
 * Requests and responses of the chronic-care routes (/api/chronic/*) as zod schemas: they
 * validate each request, check each response and make the OpenAPI document. The web app takes
 * the inferred types with `import type`.
 */
import { z } from 'zod';
import { AsOfQuery, DateOrNull, Disease, IsoDate, OptionalText, RequiredText, oneOf } from '../common-schemas.js';

// ---- registry ------------------------------------------------------------------------------
export const RegistryQuery = AsOfQuery.extend({
  disease: Disease.optional(),
  status: OptionalText,
  team: OptionalText,
  doctor: OptionalText,
  q: OptionalText,
  limit: z.coerce.number().int().min(0).optional(),
  offset: z.coerce.number().int().min(0).optional(),
});
export type RegistryQuery = z.infer<typeof RegistryQuery>;

/** A row of the worklist: a resident's registry entry seen from the due date. */
export const WorkRow = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  disease: Disease,
  nextDue: DateOrNull,
  decision: z.string().nullable(),
  controlled: z.boolean().nullable(),
  lastVisit: DateOrNull,
});
export type WorkRow = z.infer<typeof WorkRow>;

export const RegistryRow = WorkRow.extend({
  gender: z.string().nullable(),
  birthDate: DateOrNull,
  diagnosedOn: DateOrNull,
  source: z.string(),
  /** managed, transferred, died, or lost-to-follow-up (derived on read). */
  status: z.string(),
  teamId: z.string().nullable(),
  /** The managing team's name (CareTeam.name), null when the team is unknown. */
  teamName: z.string().nullable(),
  doctorId: z.string().nullable(),
  organizationId: z.string().nullable(),
});
export type RegistryRow = z.infer<typeof RegistryRow>;

export const RegistryPage = z.object({ total: z.number().int(), rows: z.array(RegistryRow) });
export type RegistryPage = z.infer<typeof RegistryPage>;

export const EnrolBody = z.object({
  patientId: RequiredText,
  disease: Disease,
  diagnosedOn: IsoDate.optional(),
  teamId: OptionalText,
});
export type EnrolBody = z.infer<typeof EnrolBody>;

export const Enrolment = z.object({
  patientId: z.string(),
  disease: Disease,
  source: z.string(),
  status: z.string(),
  nextDue: DateOrNull,
});
export type Enrolment = z.infer<typeof Enrolment>;

export const RegistryKey = z.object({ patientId: z.string(), disease: z.string() });

export const RegistryStatus = oneOf(['managed', 'transferred', 'died']);
export const RegistryStatusBody = z.object({ status: RegistryStatus, reason: OptionalText });
export const RegistryStatusChange = z.object({ patientId: z.string(), disease: z.string(), status: RegistryStatus });
export type RegistryStatusChange = z.infer<typeof RegistryStatusChange>;

// ---- worklist ------------------------------------------------------------------------------
export const WorklistQuery = AsOfQuery.extend({
  doctor: OptionalText,
  team: OptionalText,
  summary: z.enum(['true', 'false']).optional().describe('true: only the counts per bucket (the lists come back empty)'),
});

export const OpenReferral = z.object({
  taskId: z.string(),
  patientId: z.string(),
  name: z.string().nullable(),
  direction: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  dueOn: DateOrNull,
});
export type OpenReferral = z.infer<typeof OpenReferral>;

export const Worklist = z.object({
  asOf: z.string(),
  due: z.array(WorkRow),
  overdue: z.array(WorkRow),
  recall: z.array(WorkRow),
  referred: z.array(WorkRow),
  referrals: z.array(OpenReferral),
  /** Residents per bucket, over all of them (each list stops at 2,000 rows). */
  counts: z.object({ due: z.number().int(), overdue: z.number().int(), recall: z.number().int(), referred: z.number().int() }),
});
export type Worklist = z.infer<typeof Worklist>;

// ---- confirmations -------------------------------------------------------------------------
export const ConfirmationsQuery = z.object({ status: OptionalText });
export const ConfirmationRow = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  disease: z.string(),
  reason: z.string(),
  detectedOn: z.string(),
  status: z.string(),
});
export type ConfirmationRow = z.infer<typeof ConfirmationRow>;
export const Confirmations = z.object({ rows: z.array(ConfirmationRow) });
export type Confirmations = z.infer<typeof Confirmations>;

export const ConfirmationDecision = oneOf(['confirmed', 'dismissed'], 'confirmed or dismissed');
export const ConfirmationBody = z.object({ status: ConfirmationDecision });
export const ConfirmationChange = z.object({ patientId: z.string(), disease: z.string(), status: ConfirmationDecision });

// ---- one resident --------------------------------------------------------------------------
export const PatientParams = z.object({ id: z.string() });

export const ChronicPerson = z.object({
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: DateOrNull,
  areaCode: z.string().nullable(),
  organizationId: z.string().nullable(),
});
export const PatientRegistryEntry = z.object({
  disease: Disease,
  diagnosedOn: DateOrNull,
  source: z.string(),
  status: z.string(),
  teamId: z.string().nullable(),
  /** The managing team's name (CareTeam.name), null when the team is unknown. */
  teamName: z.string().nullable(),
  doctorId: z.string().nullable(),
  lastVisit: DateOrNull,
  nextDue: DateOrNull,
  decision: z.string().nullable(),
  controlled: z.boolean().nullable(),
  reasons: z.array(z.string()),
});
export const VisitEvaluation = z.object({
  encounterId: z.string(),
  disease: z.string(),
  visitDate: z.string(),
  mode: z.string().nullable(),
  ruleVersion: z.string(),
  controlled: z.boolean().nullable(),
  decision: z.string(),
  dueDate: z.string(),
  onTime: z.boolean(),
  reasons: z.array(z.string()),
});
export const ReadingEntry = z.object({
  kind: z.string(),
  takenOn: z.string(),
  sbp: z.number().nullable(),
  dbp: z.number().nullable(),
  value: z.number().nullable(),
  /** Why the reading is implausible (then left out of decisions). */
  flag: z.string().nullable(),
});
export const ChronicPatient = z.object({
  patientId: z.string(),
  person: ChronicPerson.nullable(),
  registry: z.array(PatientRegistryEntry),
  followUps: z.array(VisitEvaluation),
  readings: z.array(ReadingEntry),
});
export type ChronicPatient = z.infer<typeof ChronicPatient>;

// ---- follow-up visits ----------------------------------------------------------------------
/** A reading as a number; blank or null counts as not measured. */
const Reading = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.coerce.number().finite().optional());

export const FollowUpMode = oneOf(['face-to-face', 'phone', 'home']);
export const AdverseReaction = oneOf(['none', 'manageable', 'unmanageable'], 'none, manageable or unmanageable');

export const FollowUpBody = z.object({
  patientId: RequiredText,
  date: IsoDate,
  mode: FollowUpMode,
  readings: z.object({ sbp: Reading, dbp: Reading, fpg: Reading, hba1c: Reading }).optional(),
  symptoms: z.array(z.coerce.string()).optional(),
  adherence: OptionalText,
  adverseReaction: AdverseReaction.optional(),
  newComplication: z.boolean().optional(),
  advice: z.array(z.coerce.string()).optional(),
  doctorId: OptionalText,
  organizationId: OptionalText,
});
export type FollowUpInput = z.infer<typeof FollowUpBody>;

export const FollowUpPlan = z.object({
  disease: z.string(),
  decision: z.string(),
  /** Undefined when the visit had no reading that decides control. */
  controlled: z.boolean().optional(),
  dueDate: z.string(),
  reasons: z.array(z.string()),
});
export const FollowUpResult = z.object({
  encounterId: z.string(),
  observationIds: z.array(z.string()),
  plans: z.array(FollowUpPlan),
  ruleVersion: z.string(),
  /** The day the resident counts as lost to follow-up without another visit. */
  recallBy: z.string(),
});
export type FollowUpResult = z.infer<typeof FollowUpResult>;
