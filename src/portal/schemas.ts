/**
 * zod schemas of /api/portal/* (requests and answers); the inferred types are what the web imports.
 * Answers to the resident name their people as `residentId`, never `patientId`: the access hook
 * treats a `patientId` row as one to filter by the caller's care scope, which a resident has not
 * (the portal chooses whose record from the session itself).
 */
import { z } from 'zod';

const Id = z
  .string()
  .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'an id: letters, digits, "-" or ".", at most 64')
  .describe('a Patient id');
const IdNumber = z
  .string()
  .trim()
  .regex(/^\d{17}[\dXx]$/, '公民身份号码: 18 characters, 17 digits and a digit or X')
  .describe('公民身份号码 (18 characters)');
const Phone = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s-]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, ''))
  .pipe(z.string().regex(/^1\d{10}$/, 'a mobile number of 11 digits starting with 1'))
  .describe('mobile phone number (11 digits)');

// ---- sign-in --------------------------------------------------------------------------------
export const LoginStartBody = z.object({ idNumber: IdNumber, phone: Phone }).strict();
export type LoginStartBody = z.infer<typeof LoginStartBody>;
export const LoginStartAnswer = z.object({ message: z.string(), expiresInSeconds: z.number().int() });
export type LoginStartAnswer = z.infer<typeof LoginStartAnswer>;

export const LoginFinishBody = z
  .object({
    idNumber: IdNumber,
    phone: Phone,
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'the 6-digit code'),
  })
  .strict();
export type LoginFinishBody = z.infer<typeof LoginFinishBody>;
export const LoginFinishAnswer = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  displayName: z.string(),
});
export type LoginFinishAnswer = z.infer<typeof LoginFinishAnswer>;

// ---- who am I -------------------------------------------------------------------------------
export const PersonSummary = z.object({
  residentId: z.string(),
  name: z.string(),
  gender: z.string().nullable(),
  birthDate: z.string().nullable(),
  ageYears: z.number().int().nullable(),
});
export type PersonSummary = z.infer<typeof PersonSummary>;
export const Ward = PersonSummary.extend({ relationship: z.string() });
export type Ward = z.infer<typeof Ward>;
export const Me = z.object({ displayName: z.string(), self: PersonSummary, wards: z.array(Ward), unreadNotices: z.number().int() });
export type Me = z.infer<typeof Me>;

export const ForQuery = z.object({ for: Id.optional().describe("a ward's Patient id; yourself when absent") });

// ---- the record in words --------------------------------------------------------------------
export const RECORD_KINDS = ['visit', 'diagnosis', 'result', 'immunization', 'follow-up', 'care-plan', 'home-reading'] as const;
export const RecordItem = z.object({
  kind: z.enum(RECORD_KINDS),
  date: z.string().nullable(),
  title: z.string(),
  detail: z.string(),
  place: z.string().nullable(),
  reference: z.string(),
});
export type RecordItem = z.infer<typeof RecordItem>;
export const RecordQuery = ForQuery.extend({
  kind: z.enum(RECORD_KINDS).optional(),
  _count: z.coerce.number().int().min(1).max(100).default(50),
  _offset: z.coerce.number().int().min(0).max(1000).default(0),
});
export const RecordAnswer = z.object({
  person: PersonSummary,
  /** How many facility records (Patients) the merged record joins. */
  records: z.number().int(),
  total: z.number().int(),
  items: z.array(RecordItem),
});
export type RecordAnswer = z.infer<typeof RecordAnswer>;

// ---- vaccination schedule -------------------------------------------------------------------
/** The kinds of primary care's due list a resident is shown and reminded of. */
export const RESIDENT_SERVICE_KINDS = ['follow-up', 'bp-screening', 'referral-return', 'programme'] as const;
export const ScheduleAnswer = z.object({
  person: PersonSummary,
  schedule: z.string().nullable(),
  given: z.array(z.object({ vaccine: z.string(), name: z.string(), date: z.string() })),
  due: z.array(
    z.object({
      vaccine: z.string(),
      name: z.string(),
      dose: z.number().int(),
      dueDate: z.string(),
      status: z.enum(['due', 'overdue', 'upcoming']),
      reason: z.string(),
    }),
  ),
  /**
   * Other services due from primary care's due list (chronic follow-ups, the yearly blood-pressure
   * check, a return visit after a hospital stay), for every record the resident's view joins.
   */
  services: z.array(
    z.object({
      key: z.string(),
      kind: z.enum(RESIDENT_SERVICE_KINDS),
      title: z.string(),
      detail: z.string(),
      dueDate: z.string().nullable(),
      overdue: z.boolean(),
    }),
  ),
});
export type ScheduleAnswer = z.infer<typeof ScheduleAnswer>;

// ---- home readings --------------------------------------------------------------------------
export const ReadingBody = z
  .object({
    for: Id.optional(),
    kind: z.enum(['blood-pressure', 'glucose']),
    systolic: z.number().int().min(40).max(300).optional(),
    diastolic: z.number().int().min(20).max(200).optional(),
    glucose: z.number().min(0.5).max(40).optional().describe('mmol/L'),
    fasting: z.boolean().optional(),
    takenAt: z.string().datetime({ offset: true }).optional(),
    place: z.enum(['home', 'kiosk']).default('home').describe('kiosk: 健康小屋'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.kind === 'blood-pressure' && (b.systolic === undefined || b.diastolic === undefined))
      ctx.addIssue({ code: 'custom', path: ['systolic'], message: 'systolic and diastolic (mmHg) are needed for a blood pressure' });
    if (b.kind === 'blood-pressure' && b.systolic !== undefined && b.diastolic !== undefined && b.diastolic >= b.systolic)
      ctx.addIssue({ code: 'custom', path: ['diastolic'], message: 'diastolic must be lower than systolic' });
    if (b.kind === 'glucose' && b.glucose === undefined)
      ctx.addIssue({ code: 'custom', path: ['glucose'], message: 'glucose (mmol/L) is needed for a glucose reading' });
    if (b.takenAt && Date.parse(b.takenAt) > Date.now() + 5 * 60_000)
      ctx.addIssue({ code: 'custom', path: ['takenAt'], message: 'a reading cannot be in the future' });
  });
export type ReadingBody = z.input<typeof ReadingBody>;
export const ReadingAnswer = z.object({ observationId: z.string(), text: z.string(), warning: z.string().optional() });
export type ReadingAnswer = z.infer<typeof ReadingAnswer>;

// ---- who read my record ---------------------------------------------------------------------
export const AccessLogQuery = ForQuery.extend({
  _count: z.coerce.number().int().min(1).max(100).default(20),
  _offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export const AccessLogRow = z.object({
  when: z.string(),
  who: z.string(),
  roles: z.array(z.string()),
  organization: z.string().nullable(),
  purpose: z.string().nullable(),
  purposeCode: z.string().nullable(),
  what: z.string(),
});
export type AccessLogRow = z.infer<typeof AccessLogRow>;
export const AccessLog = z.object({ total: z.number().int(), rows: z.array(AccessLogRow) });
export type AccessLog = z.infer<typeof AccessLog>;

// ---- consent --------------------------------------------------------------------------------
// The choices are the access policy's (src/fhir/policy.ts), which enforces them.
export { CONSENT_CHOICES } from '../fhir/policy.js';
import { CONSENT_CHOICES } from '../fhir/policy.js';
export const ConsentChoice = z.object({ choice: z.enum(CONSENT_CHOICES), allow: z.boolean() });
export const ConsentBody = z.object({ for: Id.optional(), choices: z.array(ConsentChoice).min(1).max(CONSENT_CHOICES.length) }).strict();
export type ConsentBody = z.infer<typeof ConsentBody>;
export const ConsentAnswer = z.object({
  consentId: z.string().nullable(),
  updated: z.string().nullable(),
  choices: z.array(ConsentChoice.extend({ label: z.string() })),
});
export type ConsentAnswer = z.infer<typeof ConsentAnswer>;

// ---- preferences and notices ----------------------------------------------------------------
export const Preferences = z.object({ smsReminders: z.boolean(), noticeReminders: z.boolean() });
export type Preferences = z.infer<typeof Preferences>;
export const PreferencesBody = Preferences.partial().strict();
export const Notice = z.object({ id: z.string(), created: z.string(), body: z.string(), read: z.boolean() });
export type Notice = z.infer<typeof Notice>;
export const NoticeList = z.object({ total: z.number().int(), rows: z.array(Notice) });
export type NoticeList = z.infer<typeof NoticeList>;
export const NoticeParam = z.object({ id: z.string().regex(/^\d{1,18}$/) });

// ---- guardians ------------------------------------------------------------------------------
export const WardBody = z.object({ childIdNumber: IdNumber, relationship: z.enum(['parent', 'guardian']).default('parent') }).strict();
export type WardBody = z.input<typeof WardBody>;

// ---- contracts ------------------------------------------------------------------------------
export const Team = z.object({
  teamId: z.string(),
  name: z.string(),
  organizationId: z.string().nullable(),
  organizationName: z.string().nullable(),
  members: z.array(z.string()),
});
export const Package = z.object({ code: z.string(), name: z.string(), services: z.array(z.string()) });
export const TeamsAnswer = z.object({ teams: z.array(Team), packages: z.array(Package) });
export type TeamsAnswer = z.infer<typeof TeamsAnswer>;

export const ContractBody = z
  .object({
    for: Id.optional(),
    kind: z.enum(['sign', 'renew', 'transfer']),
    teamId: Id,
    package: z.string().regex(/^[a-z-]{1,40}$/),
    agree: z.literal(true, { errorMap: () => ({ message: 'read and agree to the service agreement (agree: true)' }) }),
  })
  .strict();
export type ContractBody = z.infer<typeof ContractBody>;

export const ContractRequestView = z.object({
  requestId: z.string(),
  kind: z.enum(['sign', 'renew', 'transfer']),
  teamId: z.string(),
  package: z.string(),
  contractId: z.string(),
  signedAt: z.string(),
  signatureMethod: z.string(),
  status: z.enum(['pending', 'accepted', 'declined']),
  decidedAt: z.string().nullable(),
  reason: z.string().nullable(),
  episodeId: z.string().nullable(),
  tasks: z.number().int(),
});
export type ContractRequestView = z.infer<typeof ContractRequestView>;
export const MyContracts = z.object({
  current: z.array(
    z.object({ episodeId: z.string(), teamId: z.string().nullable(), package: z.string().nullable(), end: z.string().nullable() }),
  ),
  requests: z.array(ContractRequestView),
});
export type MyContracts = z.infer<typeof MyContracts>;

/** What the team sees: here the resident is named as `patientId`, so the access hook filters rows by the doctor's scope. */
export const TeamRequestList = z.object({
  rows: z.array(ContractRequestView.extend({ patientId: z.string(), residentName: z.string().nullable() })),
});
export type TeamRequestList = z.infer<typeof TeamRequestList>;
export const TeamRequestQuery = z.object({
  status: z.enum(['pending', 'accepted', 'declined']).default('pending'),
  team: Id.optional(),
});
export const DecisionBody = z.object({ accept: z.boolean(), reason: z.string().trim().max(500).optional() }).strict();
export const DecisionParam = z.object({ id: Id });
export const DecisionAnswer = ContractRequestView;

export const ReminderRun = z.object({ residents: z.number().int(), messages: z.number().int(), skippedOptOut: z.number().int() });
export type ReminderRun = z.infer<typeof ReminderRun>;
