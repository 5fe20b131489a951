/** zod schemas of /api/lab/* (requests and answers); the inferred types are what the web imports. */
import { z } from 'zod';
import { LEGS, MODES, STATES } from './codes.js';

const Unit = z.string().trim().min(1).max(100).describe('Organisation code (unit, lab) where the step happens');
const When = z
  .string()
  .datetime({ offset: true })
  .describe('When it happened (ISO 8601 with offset); now when absent. A time in the future is refused (422)');
export const Barcode = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'a barcode is letters, digits, ".", "_" or "-"');
const Text = (max: number) => z.string().trim().min(1).max(max);

export const OrderBody = z
  .object({
    serviceRequestId: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional()
      .describe('Adopt an existing ServiceRequest (from a hospital, by HL7 or FHIR) instead of creating one'),
    patientId: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional()
      .describe('The resident (Patient id); absent for an environmental sample'),
    testCode: Text(64)
      .optional()
      .describe('Lab-test code (FLUA, SARS2, …, LOINC or the hospital’s own); limits follow config/lab/limits.json'),
    testName: Text(200).optional(),
    testSystem: z.string().url().optional(),
    mode: z.enum(MODES).optional().describe('routine (default) or emergency: the emergency limits apply'),
    orderingUnit: Unit.optional().describe('Who ordered (organisation code); read from the ServiceRequest’s requester when adopting'),
    investigationId: Text(100).optional().describe('An investigation (流调) this order belongs to, as plain text'),
    note: Text(1000).optional(),
  })
  .strict();
export type OrderBody = z.infer<typeof OrderBody>;

export const OrderView = z.object({
  orderId: z.string(),
  serviceRequestId: z.string(),
  testCode: z.string(),
  testName: z.string().nullable(),
  limitsGroup: z.string(),
  mode: z.enum(MODES),
  patientId: z.string().nullable(),
  orderingUnit: z.string(),
  investigationId: z.string().nullable(),
  source: z.enum(['api', 'fhir']),
  createdAt: z.string(),
});
export type OrderView = z.infer<typeof OrderView>;

const ReadingIn = z.object({ at: When.optional(), celsius: z.number().min(-90).max(60) }).strict();
export const ShipmentBody = z
  .object({
    fromUnit: Unit,
    toLab: Unit,
    courier: Text(100),
    sealNumber: Text(64),
    departedAt: When.optional(),
    temperature: z
      .object({ min: z.number().min(-90).max(60), max: z.number().min(-90).max(60) })
      .strict()
      .optional(),
    readings: z.array(ReadingIn).max(1000).default([]),
  })
  .strict();
export type ShipmentBody = z.infer<typeof ShipmentBody>;
export const ReadingsBody = z.object({ readings: z.array(ReadingIn).min(1).max(1000), departedAt: When.optional() }).strict();
export type ReadingsBody = z.infer<typeof ReadingsBody>;

export const ShipmentView = z.object({
  id: z.number().int(),
  fromUnit: z.string(),
  toLab: z.string(),
  courier: z.string(),
  sealNumber: z.string(),
  temperature: z.object({ min: z.number(), max: z.number() }),
  readings: z.array(z.object({ at: z.string(), celsius: z.number(), outOfRange: z.boolean() })),
  outOfRange: z.number().int(),
  departedAt: z.string().nullable(),
  createdAt: z.string(),
  specimens: z.number().int(),
  warnings: z.array(z.string()),
});
export type ShipmentView = z.infer<typeof ShipmentView>;
export const ShipmentParam = z.object({ id: z.coerce.number().int().min(1) });

const ScanCommon = {
  barcode: Barcode,
  unit: Unit,
  at: When.optional(),
  location: Text(200).optional().describe('Where, in words (room, site, vehicle)'),
  performer: Text(100).optional().describe('Who did it, when not the signed-in user (the courier, a nurse)'),
};
export const ScanBody = z.discriminatedUnion('step', [
  z
    .object({
      step: z.literal('collect'),
      ...ScanCommon,
      orderId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
      specimenType: Text(100).describe('咽拭子, 血清, 粪便, …'),
      container: Text(100).optional(),
      collector: Text(100),
    })
    .strict(),
  z.object({ step: z.literal('ship'), ...ScanCommon, shipmentId: z.number().int().min(1) }).strict(),
  z
    .object({
      step: z.literal('refer'),
      ...ScanCommon,
      shipmentId: z.number().int().min(1).describe('A shipment from this lab to the lab the specimen is referred to'),
    })
    .strict(),
  z
    .object({
      step: z.literal('receive'),
      ...ScanCommon,
      accepted: z.boolean(),
      condition: Text(200).optional().describe('完好, 渗漏, 溶血, …'),
      rejectReason: Text(500).optional().describe('Required when not accepted'),
    })
    .strict(),
  z.object({ step: z.literal('test'), ...ScanCommon }).strict(),
  z
    .object({
      step: z.literal('result'),
      ...ScanCommon,
      value: Text(500),
      interpretation: z.enum(['positive', 'negative', 'indeterminate']).optional(),
    })
    .strict(),
  z.object({ step: z.literal('verify'), ...ScanCommon }).strict(),
  z.object({ step: z.literal('report'), ...ScanCommon, deliveredTo: Text(200).describe('Who received the report') }).strict(),
]);
export type ScanBody = z.infer<typeof ScanBody>;

export const SpecimenView = z.object({
  id: z.string(),
  barcode: z.string(),
  orderId: z.string(),
  taskId: z.string(),
  testCode: z.string(),
  mode: z.enum(MODES),
  patientId: z.string().nullable(),
  state: z.enum(STATES),
  stateZh: z.string(),
  hop: z.number().int().describe('0 at the first lab, +1 per referral (the same specimen, the same barcode)'),
  collectingUnit: z.string(),
  holder: z.string(),
  lab: z.string().nullable(),
  shipmentId: z.number().int().nullable(),
  specimenType: z.string().nullable(),
  container: z.string().nullable(),
  collector: z.string().nullable(),
  collectedAt: z.string(),
  receivedAt: z.string().nullable(),
  resultAt: z.string().nullable(),
  verifiedAt: z.string().nullable(),
  reportedAt: z.string().nullable(),
  condition: z.string().nullable(),
  rejectedReason: z.string().nullable(),
  result: z.object({ value: z.string(), interpretation: z.string().nullable() }).nullable(),
  leg: z.enum(LEGS).nullable(),
  legUnit: z.string().nullable(),
  legStartedAt: z.string().nullable(),
  legDeadline: z.string().nullable(),
  overdue: z.boolean(),
});
export type SpecimenView = z.infer<typeof SpecimenView>;

export const EventView = z.object({
  id: z.number().int(),
  seq: z.number().int(),
  step: z.string(),
  fromState: z.string().nullable(),
  toState: z.string(),
  at: z.string(),
  recordedAt: z.string(),
  byUser: z.string(),
  performer: z.string().nullable(),
  unit: z.string(),
  location: z.string().nullable(),
  shipmentId: z.number().int().nullable(),
  detail: z.record(z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type EventView = z.infer<typeof EventView>;

export const ScanAnswer = z.object({ specimen: SpecimenView, event: EventView, warnings: z.array(z.string()) });
export type ScanAnswer = z.infer<typeof ScanAnswer>;

export const BrokenLinkView = z.object({
  specimenId: z.string(),
  barcode: z.string().optional(),
  seq: z.number().int(),
  eventId: z.number().int().nullable(),
  problem: z.string(),
});
export const BreachView = z.object({
  id: z.number().int(),
  specimenId: z.string(),
  barcode: z.string(),
  patientId: z.string().nullable(),
  leg: z.enum(LEGS),
  legZh: z.string(),
  hop: z.number().int(),
  unit: z.string().describe('The unit answering for the leg: the notice is theirs'),
  testCode: z.string(),
  mode: z.enum(MODES),
  startedAt: z.string(),
  deadline: z.string(),
  detectedAt: z.string(),
  closedAt: z.string().nullable(),
});
export type BreachView = z.infer<typeof BreachView>;
export const FlagView = z.object({
  id: z.number().int(),
  kind: z.string(),
  specimenId: z.string().nullable(),
  barcode: z.string().nullable(),
  patientId: z.string().nullable(),
  shipmentId: z.number().int().nullable(),
  hop: z.number().int().nullable(),
  unit: z.string().nullable(),
  detail: z.string(),
  raisedAt: z.string(),
  raisedBy: z.string().nullable(),
});
export type FlagView = z.infer<typeof FlagView>;

export const SpecimenDetail = SpecimenView.extend({
  order: OrderView,
  events: z.array(EventView),
  custody: z.object({ ok: z.boolean(), broken: BrokenLinkView.nullable() }),
  breaches: z.array(BreachView),
  flags: z.array(FlagView),
});
export type SpecimenDetail = z.infer<typeof SpecimenDetail>;
export const BarcodeParam = z.object({ barcode: Barcode });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');
export const SpecimenQuery = PageQuery.extend({
  state: z.enum(STATES).optional(),
  inFlight: Bool.optional().describe('true: specimens on a clocked leg'),
  leg: z.enum(LEGS).optional(),
  unit: z.string().max(100).optional().describe('Answering for the leg, collecting, or the lab'),
  testCode: z.string().max(64).optional(),
  overdue: Bool.optional().describe('true: past the current leg’s deadline'),
  orderId: z.string().max(64).optional(),
  investigationId: z.string().max(100).optional(),
});
const list = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
export const SpecimenList = list(SpecimenView);
export type SpecimenList = z.infer<typeof SpecimenList>;
export const BreachQuery = PageQuery.extend({
  leg: z.enum(LEGS).optional(),
  unit: z.string().max(100).optional(),
  open: Bool.optional().describe('true: legs still running late'),
});
export const BreachList = list(BreachView);
export type BreachList = z.infer<typeof BreachList>;
export const FlagQuery = PageQuery.extend({ kind: z.enum(['no-receipt', 'received-twice', 'temperature']).optional() });
export const FlagList = list(FlagView);
export type FlagList = z.infer<typeof FlagList>;

export const DashboardQuery = z.object({
  from: z.string().datetime({ offset: true }).optional().describe('Indicators over specimens collected from (default: 30 days ago)'),
  to: z.string().datetime({ offset: true }).optional(),
});
const Hours = z.number().nullable();
export const Dashboard = z.object({
  now: z.string(),
  from: z.string(),
  to: z.string(),
  inFlight: z.object({
    total: z.number().int(),
    overdue: z.number().int(),
    byLegAndUnit: z.array(
      z.object({ leg: z.enum(LEGS), legZh: z.string(), unit: z.string(), count: z.number().int(), overdue: z.number().int() }),
    ),
  }),
  breaches: z.object({
    total: z.number().int(),
    open: z.number().int(),
    byLegAndUnit: z.array(
      z.object({ leg: z.enum(LEGS), legZh: z.string(), unit: z.string(), open: z.number().int(), total: z.number().int() }),
    ),
  }),
  turnaround: z
    .array(
      z.object({
        testCode: z.string(),
        lab: z.string(),
        verified: z.number().int(),
        receiptToResultHours: z.object({ median: Hours, p90: Hours }),
        collectionToReportHours: z.object({ median: Hours, p90: Hours }),
      }),
    )
    .describe('Per test and lab, specimens verified (collection→report over those reported)'),
  rejections: z
    .array(z.object({ testCode: z.string(), unit: z.string(), received: z.number().int(), rejected: z.number().int(), rate: z.number() }))
    .describe('Per test and collecting unit: specimens received at a lab and the share rejected'),
});
export type Dashboard = z.infer<typeof Dashboard>;

export const CustodyReport = z.object({
  ok: z.boolean(),
  specimens: z.number().int(),
  events: z.number().int(),
  brokenChains: z.number().int(),
  firstBroken: BrokenLinkView.nullable(),
  seconds: z.number(),
});
export type CustodyReport = z.infer<typeof CustodyReport>;

const LegHoursView = z.object({ 'collection-receipt': z.number(), 'receipt-result': z.number(), 'result-report': z.number() });
export const LimitsView = z.object({
  temperature: z.object({ min: z.number(), max: z.number() }),
  futureSkewSeconds: z.number(),
  tests: z.array(
    z.object({ group: z.string(), zh: z.string(), codes: z.array(z.string()), routine: LegHoursView, emergency: LegHoursView }),
  ),
});
export type LimitsView = z.infer<typeof LimitsView>;

// ---------------------------------------------------------------------------------------------
// Results back: MLLP endpoints and the outbox

export const FacilityParam = z.object({ facility: z.string().trim().min(1).max(100) });
export const EndpointBody = z
  .object({
    host: z.string().trim().min(1).max(253).describe('Host name or address of the facility’s MLLP listener'),
    port: z.number().int().min(1).max(65535),
    receivingApplication: z.string().max(100).optional().describe('MSH-5 (default empty)'),
    receivingFacility: z.string().max(100).optional().describe('MSH-6 (default the facility code)'),
    active: z.boolean().optional().describe('false: results for this facility are not queued'),
    ackTimeoutMs: z.number().int().min(50).max(600_000).optional().describe('Wait for one ACK (default config/lab/results.json)'),
    maxAttempts: z.number().int().min(1).max(100).optional().describe('Attempts with no answer before parking'),
    maxAeAttempts: z.number().int().min(1).max(100).optional().describe('AE answers before parking (AR parks at once)'),
    backoffMs: z.number().int().min(10).max(3_600_000).optional().describe('First retry after this long, doubling'),
    maxBackoffMs: z.number().int().min(10).max(86_400_000).optional(),
  })
  .strict();
export type EndpointBody = z.infer<typeof EndpointBody>;
export const EndpointView = z.object({
  facility: z.string(),
  host: z.string(),
  port: z.number().int(),
  receivingApplication: z.string(),
  receivingFacility: z.string(),
  active: z.boolean(),
  ackTimeoutMs: z.number().int(),
  maxAttempts: z.number().int(),
  maxAeAttempts: z.number().int(),
  backoffMs: z.number().int(),
  maxBackoffMs: z.number().int(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type EndpointView = z.infer<typeof EndpointView>;
export const EndpointList = z.object({ items: z.array(EndpointView) });

export const OUTBOX_STATUSES = ['pending', 'sending', 'delivered', 'parked'] as const;
export const OutboxView = z.object({
  id: z.number().int(),
  controlId: z.string().describe('MSH-10, the same on every attempt and resend'),
  specimenId: z.string(),
  barcode: z.string(),
  facility: z.string(),
  patientId: z.string().nullable(),
  status: z.enum(OUTBOX_STATUSES),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  parkedReason: z.string().nullable(),
  ackCode: z.string().nullable(),
  ackText: z.string().nullable(),
  createdAt: z.string(),
  verifiedAt: z.string(),
  deliveredAt: z.string().nullable(),
  resentCount: z.number().int(),
});
export type OutboxView = z.infer<typeof OutboxView>;
export const AttemptView = z.object({
  attempt: z.number().int(),
  controlId: z.string(),
  host: z.string(),
  port: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string(),
  outcome: z.enum(['AA', 'AE', 'AR', 'timeout', 'closed', 'error', 'mismatch']),
  detail: z.string().nullable(),
  ack: z.string().nullable(),
});
export type AttemptView = z.infer<typeof AttemptView>;
export const OutboxDetail = OutboxView.extend({ message: z.string().describe('The ORU^R01 (ER7)'), attemptLog: z.array(AttemptView) });
export type OutboxDetail = z.infer<typeof OutboxDetail>;
export const OutboxQuery = PageQuery.extend({ status: z.enum(OUTBOX_STATUSES).optional(), facility: z.string().max(100).optional() });
export const OutboxList = list(OutboxView);
export type OutboxList = z.infer<typeof OutboxList>;
export const OutboxParam = z.object({ id: z.coerce.number().int().min(1) });

// ---------------------------------------------------------------------------------------------
// Mass testing

export const CampaignBody = z
  .object({
    name: Text(200),
    testCode: Text(64),
    testName: Text(200).optional(),
    mode: z.enum(MODES).optional().describe('emergency (default) or routine'),
    orderingUnit: Unit,
    poolSize: z.number().int().min(1).max(50).optional().describe('Members per pool tube (default 10: 10-in-1)'),
  })
  .strict();
export type CampaignBody = z.infer<typeof CampaignBody>;
export const CampaignView = z.object({
  id: z.number().int(),
  name: z.string(),
  testCode: z.string(),
  mode: z.enum(MODES),
  orderingUnit: z.string(),
  orderId: z.string(),
  poolSize: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type CampaignView = z.infer<typeof CampaignView>;
export const CampaignList = z.object({ items: z.array(CampaignView) });
export const CampaignParam = z.object({ id: z.coerce.number().int().min(1) });

const PersonIn = z.object({
  code: z.string().describe('The person’s QR code or barcode'),
  name: z.string(),
  idNumber: z.string().optional(),
  phone: z.string().optional(),
  areaCode: z.string().describe('统计用区划代码 of where they live or were sampled'),
  patientId: z.string().optional(),
});
export const PeopleBody = z
  .object({
    people: z.array(PersonIn.passthrough()).max(20_000).optional().describe('A list, or one person scanned by QR code'),
    csv: z.string().max(5_000_000).optional().describe('Or a CSV list: header code,name,idNumber,phone,areaCode[,patientId]'),
  })
  .strict()
  .refine((b) => (b.people ? 1 : 0) + (b.csv !== undefined ? 1 : 0) === 1, { message: 'send people or csv (one of them)' });
export type PeopleBody = z.infer<typeof PeopleBody>;
export const PeopleAnswer = z.object({
  campaignId: z.number().int(),
  received: z.number().int(),
  registered: z.number().int(),
  alreadyRegistered: z.number().int(),
  refused: z.array(z.object({ line: z.number().int(), code: z.string().nullable(), reason: z.string() })),
});
export type PeopleAnswer = z.infer<typeof PeopleAnswer>;

const MemberIn = z
  .object({
    personCode: z.string().trim().min(1).max(64),
    tubeBarcode: Barcode.optional().describe('The member’s own tube, when sampled into one'),
  })
  .strict();
export const MembersBody = z.object({ members: z.array(MemberIn).min(1).max(50) }).strict();
export type MembersBody = z.infer<typeof MembersBody>;
export const PoolBody = z
  .object({
    campaignId: z.number().int().min(1),
    barcode: Barcode.describe('The pool tube'),
    unit: Unit,
    at: When.optional(),
    location: Text(200).optional(),
    specimenType: Text(100).optional(),
    container: Text(100).optional(),
    collector: Text(100),
    members: z.array(MemberIn).max(50).default([]),
  })
  .strict();
export type PoolBody = z.infer<typeof PoolBody>;
export const PoolView = z.object({
  campaignId: z.number().int(),
  outcome: z.string().nullable(),
  specimen: SpecimenView,
  members: z.array(
    z.object({
      personCode: z.string(),
      name: z.string(),
      areaCode: z.string(),
      patientId: z.string().nullable(),
      tubeBarcode: z.string().nullable(),
      state: z.enum(['pooled', 'negative', 'retest']),
      retestOrderId: z.string().nullable(),
      retestResult: z.string().nullable(),
      retestAt: z.string().nullable(),
    }),
  ),
});
export type PoolView = z.infer<typeof PoolView>;
const Progress = z.object({
  registered: z.number().int(),
  sampled: z.number().int(),
  tested: z.number().int(),
  negative: z.number().int(),
  positivePools: z.number().int(),
  retestOrdered: z.number().int(),
  retested: z.number().int(),
  retestPositive: z.number().int(),
});
export const ProgressView = z.object({
  campaign: CampaignView,
  total: Progress,
  byArea: z.array(Progress.extend({ areaCode: z.string() })),
});
export type ProgressView = z.infer<typeof ProgressView>;
