/**
 * The surveillance HTTP API as zod schemas: what each route accepts (query, parameters, body)
 * and answers. The routes validate and serialize with them, the OpenAPI document is generated
 * from them, and the web app takes the response types from here (`import type`). Every response
 * is camelCase. This file imports nothing but zod, so the browser build can name its types.
 */
import { z } from 'zod';

// ------------------------------------------------------------------------------------ pieces

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** A calendar day, YYYY-MM-DD. */
const Day = z.string().regex(DAY_PATTERN, 'must be YYYY-MM-DD');
/** An optional day in a query string ('' counts as absent). */
const OptionalDay = z.union([z.literal('').transform(() => undefined), Day]).optional();
/** A number from the database or a detector: NaN and ±Infinity (null in JSON) answer null. */
const Num = z.preprocess((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), z.number().nullable());
/** A query flag: only 'true' turns it on. */
const Flag = z
  .string()
  .optional()
  .transform((v) => v === 'true');
/** Free-form JSON object (card contents, event details). */
const JsonObject = z.record(z.unknown());
/** [longitude, latitude] of an area's centre. */
const Centroid = z.tuple([z.number(), z.number()]).nullable();
/** The version read: optimistic concurrency for workflow steps. */
const Version = (required: string) => z.number({ required_error: required, invalid_type_error: required }).int(required);

// ------------------------------------------------------------------------------------ report cards

export const ReportCardStatus = z.enum(['draft', 'submitted', 'reviewed', 'returned', 'superseded']);
export type ReportCardStatus = z.infer<typeof ReportCardStatus>;

/** A field named with what is wrong with it. */
export const FieldIssue = z.object({ field: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

/** A stored report card (传染病报告卡): the indexed fields and the card itself. */
export const ReportCardRecord = z.object({
  id: z.string(),
  status: ReportCardStatus,
  cardType: z.string(),
  correctsCardId: z.string().nullable(),
  patientId: z.string().nullable(),
  diseaseKey: z.string(),
  diseaseName: z.string(),
  diseaseClass: z.string().nullable(),
  icd10: z.string().nullable(),
  fixedThreshold: z.boolean(),
  caseClassification: z.string().nullable(),
  areaCode: z.string().nullable(),
  facilityCode: z.string().nullable(),
  facilityName: z.string().nullable(),
  onsetDate: z.string().nullable(),
  diagnosedAt: z.string().nullable(),
  deadlineAt: z.string().nullable(),
  submittedAt: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  returnReason: z.string().nullable(),
  late: z.boolean(),
  incomplete: z.boolean(),
  duplicateOf: z.string().nullable(),
  countedDay: z.string().nullable(),
  card: JsonObject,
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ReportCardRecord = z.infer<typeof ReportCardRecord>;

export const CardChange = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export type CardChange = z.infer<typeof CardChange>;

/** One step in a card's history: who did what, when, why (订正 keeps each field before and after). */
export const CardEvent = z.object({
  action: z.string(),
  actor: z.string(),
  at: z.string(),
  reason: z.string().nullable(),
  detail: z
    .object({ changes: z.array(CardChange).optional(), previousVersion: z.number().optional(), previousStatus: z.string().optional() })
    .passthrough()
    .nullable(),
});
export type CardEvent = z.infer<typeof CardEvent>;

export const ReportCardDetail = ReportCardRecord.extend({ events: z.array(CardEvent) });
export type ReportCardDetail = z.infer<typeof ReportCardDetail>;

export const ReportCardList = z.object({
  total: z.number().int(),
  cards: z.array(ReportCardRecord),
  /** Cards per status under the facility and disease filters (the status filter ignored), plus "overdue" (drafts past their deadline) and "all". */
  counts: z.record(z.number().int()),
});
export type ReportCardList = z.infer<typeof ReportCardList>;

export const CardListQuery = z.object({
  status: z.string().optional().describe('draft, submitted, reviewed, returned, superseded (comma list)'),
  facility: z.string().optional(),
  disease: z.string().optional(),
  overdue: Flag.describe('true: drafts past their deadline'),
  limit: z.coerce.number().int().optional(),
  offset: z.coerce.number().int().optional(),
});

/** The outcome of one received card. */
export const IngestResult = z.object({
  index: z.number().int(),
  cardId: z.string().nullable(),
  status: z.enum(['accepted', 'rejected', 'unchanged']),
  errors: z.array(FieldIssue).optional(),
  warnings: z.array(FieldIssue).optional(),
  duplicateOf: z.string().nullable().optional(),
  late: z.boolean().optional(),
});
export type IngestResult = z.infer<typeof IngestResult>;

export const IngestBatch = z.object({ accepted: z.number().int(), rejected: z.number().int(), results: z.array(IngestResult) });
export type IngestBatch = z.infer<typeof IngestBatch>;

const MAX_CARDS = 5000;
export const ReportCardsInput = z.union(
  [
    JsonObject,
    z.array(z.unknown()).superRefine((a, ctx) => {
      if (a.length > MAX_CARDS) ctx.addIssue({ code: 'custom', message: `At most ${MAX_CARDS} cards per request (got ${a.length})` });
    }),
  ],
  { errorMap: () => ({ message: 'Send one report card (JSON object) or an array of them' }) },
);

export const CardIdParams = z.object({ id: z.string().min(1) });

const CARD_VERSION = 'version is mandatory (optimistic concurrency): send the version you read';
export const DraftUpdateBody = z.object({
  card: z.record(z.unknown(), {
    required_error: 'send the fields to change as an object',
    invalid_type_error: 'send the fields to change as an object',
  }),
  version: Version(CARD_VERSION),
});
export const SubmitBody = z.object({ card: JsonObject.optional(), version: Version(CARD_VERSION) });
export const ReviewBody = z.object({
  action: z.enum(['approve', 'correct', 'return']),
  reason: z.string().optional(),
  corrections: JsonObject.optional(),
  version: Version(CARD_VERSION),
});
export const CorrectBody = z.object({ corrections: JsonObject.optional(), reason: z.string().optional(), version: Version(CARD_VERSION) });

/** Timeliness and completeness of one reporting facility. */
export const FacilityStat = z.object({
  facility: z.string(),
  name: z.string().nullable(),
  total: z.number().int(),
  late: z.number().int(),
  incomplete: z.number().int(),
  duplicate: z.number().int(),
  rejected: z.number().int(),
  returned: z.number().int(),
  overdueDrafts: z.number().int(),
});
export type FacilityStat = z.infer<typeof FacilityStat>;

/** A resident's report card as another capability sees it (primary care's due list). */
export const PatientReportCard = z.object({
  patientId: z.string(),
  id: z.string(),
  taskId: z.string().nullable(),
  status: ReportCardStatus,
  diseaseName: z.string(),
  deadlineAt: z.string().nullable(),
  returnReason: z.string().nullable(),
});
export type PatientReportCard = z.infer<typeof PatientReportCard>;

// ------------------------------------------------------------------------------------ alerts

export const ALERT_STATUSES = ['new', 'triage', 'dismissed', 'suspected', 'confirmed', 'response', 'closed'] as const;
export const AlertStatus = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const AlertSummary = z.object({
  id: z.number().int(),
  status: AlertStatus,
  level: z.string(),
  areaCode: z.string(),
  /** Every street the alert covers: its own and, after a spatial join, those its evidence comes from. */
  areaCodes: z.array(z.string()),
  areaName: z.string().nullable(),
  title: z.string(),
  sources: z.array(z.string()),
  score: z.number(),
  jointP: Num,
  firstEvidenceAt: z.string(),
  lastEvidenceAt: z.string(),
  triggerDay: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  assignee: z.string().nullable(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  version: z.number().int(),
});
export type AlertSummary = z.infer<typeof AlertSummary>;

export const AlertEvidence = z.object({
  signal: z.string(),
  areaCode: z.string(),
  day: z.string(),
  method: z.string(),
  source: z.string(),
  observed: Num,
  threshold: Num,
  expected: Num,
  pValue: Num,
  /** Sub-threshold evidence (the detector did not alarm), counted by the joint rule. */
  weak: z.boolean(),
});
export type AlertEvidence = z.infer<typeof AlertEvidence>;

export const AlertEvent = z.object({
  id: z.number().int(),
  action: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  actor: z.string(),
  at: z.string(),
  reason: z.string().nullable(),
  detail: JsonObject.nullable(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

export const AlertComment = z.object({
  id: z.number().int(),
  author: z.string(),
  organization: z.string().nullable(),
  body: z.string(),
  at: z.string(),
});
export type AlertComment = z.infer<typeof AlertComment>;

export const AlertDetail = AlertSummary.extend({
  diseaseKey: z.string().nullable(),
  evidence: z.array(AlertEvidence),
  events: z.array(AlertEvent),
  comments: z.array(AlertComment),
  nextSteps: z.array(AlertStatus),
});
export type AlertDetail = z.infer<typeof AlertDetail>;

export const AlertListQuery = z.object({
  status: z.string().max(200).optional().describe('comma list of statuses, or "open"'),
  level: z.string().max(100).optional().describe('comma list (red, orange, yellow)'),
  area: z
    .string()
    .regex(/^\d{6,12}$/, 'area must be a 6- to 12-digit area code (统计用区划代码) / 地区代码应为 6–12 位数字')
    .optional()
    .describe('area code: the alert or any of its evidence lies in it'),
  source: z
    .string()
    .max(200)
    .optional()
    .describe('comma list of evidence sources (case-report, clinic-syndrome, lab, school, pharmacy, …): alerts with any of them'),
  disease: z.string().max(100).optional().describe('disease or signal key the alert is about'),
  overdue: Flag,
  sort: z
    .enum(['rank', 'newest'])
    .default('rank')
    .describe(
      'rank (default): open alerts first, those past their 研判 deadline first among them, then by level (red, orange, yellow), agreeing sources and joint p (config/surveillance/fusion.json), then the latest evidence; newest: by creation time',
    ),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size (default 50)'),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

export const AlertPage = z.object({
  rows: z.array(AlertSummary),
  total: z.number().int().describe('alerts matching the filters'),
  counts: z
    .record(z.number().int())
    .describe('alerts per status under the other filters (status filter ignored), plus "open" and "overdue"'),
});
export type AlertPage = z.infer<typeof AlertPage>;

const ALERT_ID = 'alert id must be a positive integer';
export const AlertIdParams = z.object({
  id: z.coerce.number({ invalid_type_error: ALERT_ID }).int(ALERT_ID).positive(ALERT_ID),
});

export const TransitionBody = z.object({
  to: AlertStatus,
  version: Version('mandatory (the version you read), for the optimistic concurrency check'),
  reason: z.string().optional(),
  assignee: z.string().optional(),
});

export const CommentBody = z.object({
  body: z.string({ required_error: 'the comment text is mandatory', invalid_type_error: 'the comment text is mandatory' }),
});

/** A line of the line list behind an alert (visit, report card, lab positive, school class, public report). */
export const AlertCase = z.object({
  kind: z.string(),
  id: z.string(),
  day: z.string(),
  areaCode: z.string(),
  areaName: z.string(),
  detail: z.string(),
  facility: z.string().nullable(),
  location: Centroid,
});
export type AlertCase = z.infer<typeof AlertCase>;

// ------------------------------------------------------------------------------------ signals

/** Daily counts of one signal in one area with the configured detector's bound per day. */
export const SignalSeries = z.object({
  signal: z.string(),
  areaCode: z.string(),
  method: z.string().nullable(),
  days: z.array(z.string()),
  observed: z.array(z.number()),
  denominator: z.array(z.number()),
  /** Observed on the scale of the bound (7-day sums for CIDARS MPM). */
  compared: z.array(z.number()),
  threshold: z.array(Num),
  alarm: z.array(z.boolean()),
  messages: z.array(z.string()),
});
export type SignalSeries = z.infer<typeof SignalSeries>;

/** evidence: 'alarm' (the detector alarmed) or 'weak' (only sub-threshold days, counted by the joint rule). */
export const AlertSeries = SignalSeries.extend({ label: z.string(), evidence: z.enum(['alarm', 'weak']) });
export type AlertSeries = z.infer<typeof AlertSeries>;

export const SeriesQuery = z.object({
  signal: z.string({ required_error: 'mandatory' }).min(1, 'mandatory'),
  area: z.string({ required_error: 'a 6- or 12-digit area code' }).regex(/^\d{6}(\d{6})?$/, 'a 6- or 12-digit area code'),
  from: OptionalDay,
  to: OptionalDay,
});

export const OverviewArea = z.object({
  areaCode: z.string(),
  areaName: z.string(),
  counts: z.array(z.number()),
  denominators: z.array(z.number()),
  alarms: z.array(z.boolean()),
});
export type OverviewArea = z.infer<typeof OverviewArea>;

export const Overview = z.object({
  from: z.string(),
  to: z.string(),
  days: z.array(z.string()),
  signals: z.array(z.object({ signal: z.string(), label: z.string(), source: z.string().nullable(), areas: z.array(OverviewArea) })),
});
export type Overview = z.infer<typeof Overview>;

export const OverviewQuery = z.object({
  days: z.coerce.number().int().optional().describe('span in days (7–180, default 28)'),
  to: OptionalDay,
});

export const IliRow = z.object({ day: z.string(), key: z.string(), ili: z.number(), visits: z.number(), percent: z.number().nullable() });
export type IliRow = z.infer<typeof IliRow>;

export const IliQuery = z.object({ from: OptionalDay, to: OptionalDay, by: z.enum(['facility', 'age_group']).optional() });

export const AREA_LEVELS = ['community', 'street', 'district'] as const;

/** One signal's detector configuration (config/surveillance/signals.json). */
export const SignalConfig = z.object({
  key: z.string().min(1),
  label: z.string().min(1),
  source: z.string().regex(/^[a-z-]+$/),
  areaLevel: z.enum(AREA_LEVELS),
  method: z.string().min(1),
  control: z.record(z.string(), z.unknown()).default({}),
  /**
   * A signal derived from another one's class-level counts instead of read from the counts
   * (school:class_cluster): per class and day, the rule holds when the class has at least
   * minPerDay cases that day or at least minInDays cases over the last days days; the series is
   * the number of classes (per area) for which it holds.
   */
  derive: z
    .object({
      from: z.string().min(1),
      by: z.literal('class'),
      minPerDay: z.number().int().min(1),
      minInDays: z.number().int().min(1),
      days: z.number().int().min(1).max(14),
    })
    .optional(),
  /** Days the detector does not alarm on but whose Poisson tail p is below this are kept as weak evidence (fusion may combine them). */
  weakEvidenceP: z.number().min(0).max(0.5).optional(),
});
export type SignalConfig = z.infer<typeof SignalConfig>;

export const GeographyQuery = z.object({ level: z.enum(['street', 'community']).optional() });

export const GeoFeatureCollection = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(
    z.object({
      type: z.literal('Feature'),
      properties: z.object({ code: z.string(), name: z.string(), level: z.string(), parent: z.string().nullable(), centroid: Centroid }),
      geometry: JsonObject,
    }),
  ),
});
export type GeoFeatureCollection = z.infer<typeof GeoFeatureCollection>;

export const PublicReportBody = z.object({
  day: Day.describe('YYYY-MM-DD'),
  areaCode: z.string().regex(/^\d{12}$/, 'a 12-digit community code'),
  category: z.string().optional(),
  description: z.string().trim().min(1, 'mandatory'),
  source: z.string().optional(),
});
export type PublicReportInput = z.infer<typeof PublicReportBody>;

export const FallbackFeedParams = z.object({
  feed: z.enum(['school-absenteeism', 'pharmacy-sales'], {
    errorMap: () => ({ message: 'school-absenteeism or pharmacy-sales' }),
  }),
});
export const FallbackFeedResult = z.object({
  rows: z.number().int(),
  errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
});
export type FallbackFeedResult = z.infer<typeof FallbackFeedResult>;

export const DetectBody = z.object({ from: Day, to: Day });
export const DetectResult = z.object({
  created: z.array(z.number()),
  updated: z.array(z.number()),
  series: z.number().int(),
  alarms: z.number().int(),
  messages: z.array(z.string()),
});
export type DetectResult = z.infer<typeof DetectResult>;

export const NotificationsQuery = z.object({ since: z.string().optional().describe('ISO time') });
export const AlertNotification = z.object({
  id: z.number().int(),
  alertId: z.number().int(),
  action: z.string(),
  to: z.string().nullable(),
  actor: z.string(),
  at: z.string(),
  reason: z.string().nullable(),
  level: z.string(),
  title: z.string(),
  areaCode: z.string(),
});
export type AlertNotification = z.infer<typeof AlertNotification>;

export const WebhookBody = z.object({ url: z.string({ required_error: 'mandatory' }), secret: z.string().nullable().optional() });
export const WebhookCreated = z.object({ id: z.number().int(), url: z.string() });
export const Webhook = z.object({
  id: z.number().int(),
  url: z.string(),
  active: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  pending: z.number().int(),
  failed: z.number().int(),
});
export type Webhook = z.infer<typeof Webhook>;
export const WebhookIdParams = z.object({ id: z.coerce.number().int().positive() });
export const WebhookDelivery = z.object({
  id: z.number().int(),
  alertId: z.number().int().nullable(),
  event: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
