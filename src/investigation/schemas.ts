/** zod schemas of /api/investigations/* (requests and answers); the inferred types are what the web imports. */
import { z } from 'zod';
import { isIsoDate } from '../shared/dates.js';
import { CONTACT_KINDS } from './rules.js';

const Day = z.string().refine(isIsoDate, 'a date YYYY-MM-DD');
const PatientId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a Patient id');
const Username = z.string().regex(/^[A-Za-z0-9_.@-]{2,64}$/, 'a username');

export const INVESTIGATION_STATUSES = ['open', 'in-progress', 'closed'] as const;
export const InvestigationStatus = z.enum(INVESTIGATION_STATUSES);
export type InvestigationStatus = z.infer<typeof InvestigationStatus>;

export const IdParam = z.object({ id: z.coerce.number().int().min(1) });
export const CandidateParams = z.object({ id: z.coerce.number().int().min(1), candidateId: z.coerce.number().int().min(1) });
export const ContactParam = z.object({ contactId: z.coerce.number().int().min(1) });

export const Classification = z.enum(['suspected', 'clinical', 'confirmed', 'excluded']);
export type Classification = z.infer<typeof Classification>;

export const Investigation = z.object({
  id: z.number().int(),
  patientId: z.string(),
  diseaseKey: z.string(),
  diseaseName: z.string(),
  diseaseClass: z.string(),
  source: z.enum(['alert', 'report-card', 'manual', 'contact']),
  sourceRef: z.string().nullable(),
  status: InvestigationStatus,
  classification: Classification.describe('case classification: suspected 疑似, clinical 临床诊断, confirmed 确诊, excluded 排除'),
  assignee: z.string().nullable(),
  organization: z.string().nullable(),
  onsetDate: z.string().nullable(),
  openedBy: z.string(),
  openedAt: z.string(),
  deadlineAt: z.string(),
  overdue: z.boolean().describe('not closed and past its deadline'),
  closedBy: z.string().nullable(),
  closedAt: z.string().nullable(),
  closeNote: z.string().nullable(),
  note: z.string().nullable(),
  responseId: z.string().nullable().describe('QuestionnaireResponse holding the form'),
  questionnaireId: z.string(),
  fromContactId: z.number().int().nullable().describe('the contact this case was found as'),
  candidatesAt: z.string().nullable().describe('when contact candidates were last computed'),
  openedAutomatically: z.boolean().describe('opened by the rules when its report card arrived (config/investigation/rules.json autoOpen)'),
  autoRule: z.string().nullable().describe('the rule that opened it, in words (甲类传染病, 病种 麻疹)'),
  version: z.number().int().describe('send it back with every change (optimistic concurrency)'),
  updatedAt: z.string(),
});
export type Investigation = z.infer<typeof Investigation>;

export const OpenBody = z
  .object({
    patientId: PatientId.optional().describe('the resident (Patient id); taken from the report card when opened from one'),
    diseaseCode: z.string().min(1).max(40).optional().describe('disease key of the rules (measles, covid19, …) or an ICD-10 code'),
    alertId: z.number().int().min(1).optional().describe('the alert the investigation answers (counts as an outbreak: 2 h)'),
    reportCardId: z.string().min(1).max(100).optional().describe('the report card (传染病报告卡) it starts from'),
    assignee: Username.optional().describe('the investigator (username); the opener when absent'),
    onsetDate: Day.optional().describe("onset; else the Condition's or the card's"),
    note: z.string().max(2000).optional(),
  })
  .strict()
  .refine((b) => !(b.alertId && b.reportCardId), { message: 'give alertId or reportCardId, not both' });

export const ListQuery = z.object({
  status: z.string().max(40).optional().describe('open, in-progress, closed (comma list); open and in-progress when absent'),
  assignee: z.string().max(64).optional(),
  patientId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export const InvestigationList = z.object({
  items: z.array(Investigation).describe('overdue first, then by deadline'),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type InvestigationList = z.infer<typeof InvestigationList>;

export const UpdateBody = z
  .object({
    version: z.number().int().min(1).describe('the version you read'),
    status: InvestigationStatus.optional(),
    classification: Classification.optional(),
    assignee: Username.optional(),
    note: z.string().max(2000).optional(),
    closeNote: z.string().max(2000).optional(),
  })
  .strict();

const AnswerValue = z.union([z.string().max(4000), z.number(), z.boolean()]);
export const FormBody = z
  .object({
    version: z.number().int().min(1).describe('the version of the investigation you read'),
    answers: z
      .record(AnswerValue)
      .refine((r) => Object.keys(r).length <= 500, 'at most 500 answers')
      .describe('linkId → value (text, number, true/false, date YYYY-MM-DD, or the code of a choice)'),
    complete: z.boolean().default(false).describe('true: the form is finished (QuestionnaireResponse completed)'),
  })
  .strict();
export const Form = z.object({
  investigationId: z.number().int(),
  patientId: z.string(),
  version: z.number().int(),
  questionnaire: z.record(z.unknown()).describe('the FHIR Questionnaire'),
  response: z.record(z.unknown()).nullable().describe('the stored QuestionnaireResponse'),
  answers: z.record(AnswerValue).describe('saved answers, else what the record pre-fills'),
  prefilled: z.array(z.string()).describe('linkIds filled from the record (not yet saved by an investigator)'),
});
export type Form = z.infer<typeof Form>;

export const ContactKind = z.enum(CONTACT_KINDS);
export const Candidate = z.object({
  id: z.number().int(),
  investigationId: z.number().int(),
  patientId: z.string(),
  kind: ContactKind.describe('why: household, same room, ward or department at once, same school class, same care home'),
  placeKey: z.string(),
  place: z.string(),
  windowStart: z.string().describe('exposure window: when the case and the candidate were together (first)'),
  windowEnd: z.string(),
  status: z.enum(['proposed', 'confirmed', 'rejected']),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  reason: z.string().nullable(),
  contactId: z.number().int().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;
export const CandidateList = z.object({
  investigationId: z.number().int(),
  patientId: z.string().describe('the case (the access policy checks it)'),
  computedAt: z.string().nullable(),
  truncated: z
    .boolean()
    .describe(
      "the case's places had more overlapping stays than one computation reads (20,000): the earliest were used, later co-stays may be missing",
    ),
  items: z.array(Candidate),
});
export type CandidateList = z.infer<typeof CandidateList>;

export const ConfirmBody = z
  .object({
    type: z.string().min(1).max(60).optional().describe('exposure type (共同居住, 同病房, …); the candidate kind when absent'),
    firstDate: Day.optional().describe("first exposure; the candidate window's start when absent"),
    lastDate: Day.optional(),
  })
  .strict();
export const RejectBody = z.object({ reason: z.string().max(1000).optional() }).strict();

export const ExposureBody = z
  .object({
    type: z.string().min(1).max(60).describe('共同居住, 同病房, 同班级, 共同进餐, …'),
    place: z.string().max(200).optional(),
    firstDate: Day,
    lastDate: Day,
  })
  .strict();
export const ContactBody = ExposureBody.extend({
  patientId: PatientId.optional().describe('a resident of the district'),
  name: z.string().min(1).max(100).optional().describe('a contact outside the district (with phone and hand-over note)'),
  phone: z.string().max(40).optional(),
  handoverNote: z.string().max(2000).optional().describe('协查: what the other district is asked to do'),
}).strict();

export const Exposure = z.object({
  id: z.number().int(),
  type: z.string(),
  place: z.string().nullable(),
  firstDate: z.string(),
  lastDate: z.string(),
  candidateId: z.number().int().nullable(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});
export const ContactStatus = z.enum(['monitoring', 'ended', 'became-case']);
const ContactCore = z.object({
  id: z.number().int(),
  investigationId: z.number().int(),
  followUpStart: z.string(),
  followUpEnd: z.string().describe('last exposure + the follow-up days of the disease'),
  status: ContactStatus,
  caseInvestigationId: z.number().int().nullable(),
  confirmedBy: z.string(),
  confirmedAt: z.string(),
  exposures: z.array(Exposure),
});
export const Contact = ContactCore.extend({ patientId: z.string(), organization: z.string().nullable() });
export type Contact = z.infer<typeof Contact>;
export const OutsideContact = ContactCore.extend({ name: z.string(), phone: z.string().nullable(), handoverNote: z.string().nullable() });
export type OutsideContact = z.infer<typeof OutsideContact>;
export const ContactAnswer = z.union([Contact, OutsideContact]);
export const ContactList = z.object({
  investigationId: z.number().int(),
  patientId: z.string().describe('the case (the access policy checks it)'),
  items: z.array(Contact).describe('residents of the district'),
  outOfDistrict: z.array(OutsideContact).describe('contacts handed over to another district (协查)'),
});
export type ContactList = z.infer<typeof ContactList>;

export const TrajectoryStop = z.object({
  patientId: z.string().describe("the facility's Patient (one of the case's Person)"),
  encounterId: z.string(),
  facility: z.string().describe('organisation id or code ("" when the encounter names none)'),
  facilityName: z.string().nullable().describe("the facility's name (registry or FHIR Organization)"),
  kind: z.enum(['room', 'ward', 'department']),
  place: z.string(),
  start: z.string(),
  end: z.string().nullable().describe('null: still there'),
  placeIndex: z.number().int().nullable().describe('index into places of where it is on the map (null: no coordinates known)'),
});
export const TrajectoryPlace = z.object({
  key: z.string().describe('Organization/…, Location/… or the facility code'),
  name: z.string(),
  kind: z.enum(['facility', 'ward', 'school', 'care-home']),
  source: z.enum(['visit', 'registry']).describe("visit: a facility or ward the case stayed at; registry: the case's school or care home"),
  longitude: z.number(),
  latitude: z.number(),
});
export const Trajectory = z.object({
  investigationId: z.number().int(),
  patientId: z.string().describe('the case'),
  from: z.string(),
  to: z.string(),
  items: z.array(TrajectoryStop).describe('every stay across facilities through the Person, oldest first'),
  places: z.array(TrajectoryPlace).describe('the places with coordinates, for the map: where the stays were, then the registry places'),
  withoutPosition: z.array(z.string()).describe('names of places visited whose coordinates are not known (not on the map)'),
});
export type Trajectory = z.infer<typeof Trajectory>;

export const CheckBody = z
  .object({
    day: Day,
    symptoms: z.boolean(),
    temperature: z.number().min(30).max(45).optional().describe('°C'),
    note: z.string().max(1000).optional(),
  })
  .strict();
export const Check = z.object({
  contactId: z.number().int(),
  day: z.string(),
  symptoms: z.boolean(),
  temperature: z.number().nullable(),
  note: z.string().nullable(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});
export type Check = z.infer<typeof Check>;

export const WorklistQuery = z
  .object({
    organization: z.string().min(1).max(100).optional().describe("the contacts' managing organisation (community health centre)"),
    team: z
      .string()
      .regex(/^(CareTeam|Organization)\/[A-Za-z0-9\-.]{1,64}$/, 'CareTeam/<id> or Organization/<id>')
      .optional()
      .describe('the team owning the daily monitoring Tasks (CareTeam/… of the family-doctor contract, else Organization/…)'),
    date: Day.optional().describe('today (China) when absent'),
    status: z.enum(['due', 'overdue', 'done', 'open']).optional().describe('open: due or overdue'),
    limit: z.coerce.number().int().min(1).max(500).default(200),
    offset: z.coerce.number().int().min(0).max(100_000).default(0),
  })
  .refine((q) => q.organization || q.team, { message: 'organization or team is required' });
export const EscalationMark = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
});
export const WorklistRow = z.object({
  contactId: z.number().int(),
  patientId: z.string(),
  investigationId: z.number().int(),
  diseaseName: z.string(),
  day: z.string(),
  status: z.enum(['done', 'due', 'overdue']),
  symptoms: z
    .boolean()
    .nullable()
    .describe('what the check reported (null: no check yet); a contact with symptoms is turned into a suspected case'),
  followUpEnd: z.string(),
  taskId: z.string().nullable().describe("the day's FHIR Task (daily monitoring), once planned"),
  team: z.string().nullable().describe('CareTeam/… or Organization/… owning the Task'),
  teamName: z.string().nullable(),
  assignee: z.string().nullable().describe('the team member the Task is assigned to (Practitioner/…, in turn)'),
  assigneeName: z.string().nullable(),
  escalation: EscalationMark.nullable().describe('the notice sent when the check stayed missing (漏访上报)'),
  note: z
    .string()
    .nullable()
    .describe("the Task's note: the hand-over (协查) when the investigation's owner keeps a contact outside the district"),
});
export const Worklist = z.object({
  organization: z.string().nullable(),
  team: z.string().nullable(),
  date: z.string(),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  items: z.array(WorklistRow).describe('overdue first, then by day'),
});
export type Worklist = z.infer<typeof Worklist>;

export const SuspectBody = z.object({ note: z.string().max(2000).optional(), assignee: Username.optional() }).strict();

// Transmission chains, epi curve, quarantine orders

const Interval = z.object({
  n: z.number().int(),
  mean: z.number(),
  median: z.number(),
  sd: z.number().nullable(),
  min: z.number(),
  max: z.number(),
});
export const EpiCurveDay = z.object({
  day: z.string(),
  suspected: z.number().int(),
  clinical: z.number().int(),
  confirmed: z.number().int(),
  excluded: z.number().int(),
});
const Ints = z.array(z.number().int());
export const ChainAnswer = z
  .object({
    investigationId: z.number().int().optional(),
    patientId: z.string().optional().describe("the investigation's case (one investigation's chain; the access policy checks it)"),
    truncated: z.boolean().describe('more than 10,000 people: the oldest 10,000 are drawn'),
    namesWithheld: z.number().int().describe("residents drawn without their name: outside the reader's access scope"),
    firstDay: z.string().describe("day 0 of nodes.day (YYYY-MM-DD); '' when there is nobody"),
    groups: z
      .array(z.string())
      .describe("what nodes.group codes stand for: 'suspected', 'clinical', 'confirmed', 'excluded' (a case's classification), 'contact'"),
    nodes: z
      .object({
        id: Ints.describe("a case's investigation id, a contact's contact id"),
        group: Ints.describe('index into groups'),
        name: z.array(z.string().nullable()).describe("the resident's name (or an out-of-district contact's)"),
        day: Ints.describe("days from firstDay: a case's onset (else the day its investigation opened), a contact's last exposure"),
        generation: Ints,
        cluster: Ints.describe('index of the root case of its cluster'),
      })
      .describe('one entry per person in each array (parallel arrays), oldest first'),
    edges: z
      .object({ from: Ints, to: Ints, type: Ints.describe('index into exposureTypes; -1 when none is recorded') })
      .describe('who exposed whom, by person index (parallel arrays)'),
    exposureTypes: z.array(z.string()).describe('the exposure types of the edges (several joined by 、)'),
    stats: z.object({
      cases: z.number().int(),
      contacts: z.number().int(),
      clusters: z.number().int(),
      generations: z.number().int(),
      serialInterval: Interval.nullable().describe('days from the onset of the case who exposed to the onset of the exposed case'),
    }),
    epiCurve: z.array(EpiCurveDay),
  })
  .describe(
    'A transmission chain in parallel arrays: person i is nodes.id[i], nodes.group[i], …; edge j goes from person edges.from[j] to edges.to[j]',
  );
export const PeriodQuery = z.object({
  disease: z.string().min(1).max(64).optional().describe('a disease key of config/investigation/rules.json or an ICD-10 code'),
  from: Day,
  to: Day,
});
export const EpiCurveAnswer = z.object({
  from: z.string(),
  to: z.string(),
  disease: z.string().nullable(),
  cases: z.number().int(),
  days: z.array(EpiCurveDay),
});

export const OrderKind = z.enum(['isolation', 'quarantine', 'home-observation']);
export const OrderBody = z
  .object({
    contactId: z.number().int().min(1).optional().describe("one of the investigation's contacts; absent: the case"),
    kind: OrderKind.describe('isolation 隔离治疗, quarantine 集中隔离医学观察, home-observation 居家医学观察'),
    place: z.string().trim().min(1).max(200),
    startDate: Day,
    endDate: Day,
    reason: z.string().trim().min(1).max(1000),
  })
  .strict();
export const RevokeBody = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();
export const Order = z.object({
  id: z.number().int(),
  investigationId: z.number().int(),
  contactId: z.number().int().nullable(),
  patientId: z.string().nullable(),
  personName: z.string().nullable(),
  kind: OrderKind,
  place: z.string(),
  startDate: z.string(),
  endDate: z.string(),
  reason: z.string(),
  status: z.enum(['active', 'revoked']),
  issuedBy: z.string(),
  issuedAt: z.string(),
  revokedBy: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokeReason: z.string().nullable(),
});
export const OrderList = z.object({ investigationId: z.number().int(), items: z.array(Order) });
export const OrderParam = z.object({ orderId: z.coerce.number().int().min(1) });
export type ChainAnswer = z.infer<typeof ChainAnswer>;
export type EpiCurveAnswer = z.infer<typeof EpiCurveAnswer>;
export type Order = z.infer<typeof Order>;
export type OrderList = z.infer<typeof OrderList>;

export const ReportParam = z.object({ reportId: z.coerce.number().int().min(1) });
export const ReportList = z.object({
  investigationId: z.number().int(),
  items: z.array(
    z.object({
      id: z.number().int(),
      investigationId: z.number().int(),
      generatedBy: z.string(),
      generatedAt: z.string(),
      sha256: z.string(),
      bytes: z.number().int(),
    }),
  ),
});
export type ReportList = z.infer<typeof ReportList>;

// Escalation notices (漏访上报)

export const EscalationParam = z.object({ escalationId: z.coerce.number().int().min(1) });
export const EscalationQuery = z.object({
  investigationId: z.coerce.number().int().min(1).optional(),
  organization: z.string().min(1).max(100).optional(),
  team: z.string().min(1).max(100).optional(),
  state: z.enum(['open', 'acknowledged', 'all']).default('open').describe('open: not yet acknowledged'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export const AcknowledgeBody = z.object({ note: z.string().max(1000).optional() }).strict();
export const Recipient = z.object({
  kind: z.enum(['investigator', 'team', 'supervisor', 'cdc']),
  ref: z.string().describe('user:<username>, CareTeam/…, Practitioner/…, Organization/… or role:epidemiologist'),
  display: z.string(),
});
export const Delivery = z.object({
  channel: z.enum(['inbox', 'sms']).describe('inbox: the FHIR Communication (工作台) or the 漏访上报 screen; sms: a text message'),
  recipientKind: z.string(),
  recipientRef: z.string(),
  recipientDisplay: z.string().nullable(),
  status: z
    .enum(['queued', 'sent', 'delivered', 'failed', 'discarded'])
    .describe(
      'queued (waiting or retrying), sent (the gateway took it), delivered (inbox), failed (given up), discarded (no phone, or acknowledged first)',
    ),
  attempts: z.number().int(),
  sentAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type Delivery = z.infer<typeof Delivery>;
export const Escalation = z.object({
  id: z.number().int(),
  contactId: z.number().int(),
  day: z.string().describe('the day whose check was missed'),
  investigationId: z.number().int(),
  patientId: z.string().describe('the contact'),
  organization: z.string().nullable(),
  team: z.string().nullable(),
  recipients: z.array(Recipient),
  createdAt: z.string(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  ackNote: z.string().nullable(),
  communicationId: z
    .string()
    .nullable()
    .describe('the FHIR Communication (category alert) the notice was sent as: in-progress until acknowledged, then completed'),
  deliveries: z
    .array(Delivery)
    .describe(
      'one per recipient and channel: the inbox (the Communication, or this screen for the investigator) and a text message where a phone is on record',
    ),
});
export type Escalation = z.infer<typeof Escalation>;
export const EscalationList = z.object({
  items: z.array(Escalation.extend({ diseaseName: z.string() })).describe('open first, newest first'),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type EscalationList = z.infer<typeof EscalationList>;
