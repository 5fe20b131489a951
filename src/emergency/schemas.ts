/** zod schemas of /api/emergency/* (requests and answers); the inferred types are what the web imports. */
import { z } from 'zod';
import { DRILL_STEPS, ITEM_CATEGORIES, LEVELS, MEMBER_ROLES, MOVEMENT_KINDS, TEAM_KINDS } from './codes.js';

const Text = (max: number) => z.string().trim().min(1).max(max);
const Code = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._-]+$/, 'a code is letters, digits, ".", "_" or "-"');
const UnitCode = Code.describe('Organisation code of the unit (CDC, hospital, health centre)');
const AreaCode = z
  .string()
  .regex(/^\d{2,12}$/, '统计用区划代码 or a prefix of one (2–12 digits)')
  .describe('Area code (统计用区划代码) or a prefix: 6 digits a district, 9 a street');
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    'not a calendar date',
  );
const When = z.string().datetime({ offset: true }).describe('ISO 8601 with offset; now when absent');
const Id = z.coerce.number().int().min(1);
const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');
export const IdParam = z.object({ id: Id });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
const list = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

// ---------------------------------------------------------------------------------------------
// Units

export const UnitBody = z.object({ code: UnitCode, name: Text(200), areaCode: AreaCode.optional() }).strict();
export type UnitBody = z.infer<typeof UnitBody>;
export const UnitView = z.object({ code: z.string(), name: z.string(), areaCode: z.string().nullable(), createdAt: z.string() });
export type UnitView = z.infer<typeof UnitView>;
export const UnitList = list(UnitView);
export type UnitList = z.infer<typeof UnitList>;

// ---------------------------------------------------------------------------------------------
// Teams

export const TeamBody = z.object({ unit: UnitCode, kind: z.enum(TEAM_KINDS), name: Text(200) }).strict();
export type TeamBody = z.infer<typeof TeamBody>;
export const MemberBody = z
  .object({
    practitionerId: Code.describe('Practitioner id (or staff number)'),
    name: Text(100),
    role: z.enum(MEMBER_ROLES).default('member'),
    phone: z
      .string()
      .regex(/^[0-9+\- ]{3,30}$/)
      .optional(),
    active: z.boolean().default(true).describe('false takes the member off the team (kept for the record)'),
  })
  .strict();
export type MemberBody = z.infer<typeof MemberBody>;
export const MembersBody = z.object({ members: z.array(MemberBody).min(1).max(200) }).strict();
export type MembersBody = z.infer<typeof MembersBody>;

export const CertificateState = z.enum(['expired', 'expiring', 'valid']);
export const MemberView = z.object({
  practitionerId: z.string(),
  name: z.string(),
  role: z.enum(MEMBER_ROLES),
  phone: z.string().nullable(),
  active: z.boolean(),
  certificates: z.object({ valid: z.number().int(), expiring: z.number().int(), expired: z.number().int() }),
});
export type MemberView = z.infer<typeof MemberView>;
export const TeamView = z.object({
  id: z.number().int(),
  unit: z.string(),
  kind: z.enum(TEAM_KINDS),
  kindZh: z.string(),
  name: z.string(),
  members: z.number().int().describe('active members'),
  onCallToday: z.number().int(),
  createdAt: z.string(),
});
export type TeamView = z.infer<typeof TeamView>;
export const TeamDetail = TeamView.extend({ memberList: z.array(MemberView) });
export type TeamDetail = z.infer<typeof TeamDetail>;
export const TeamQuery = PageQuery.extend({ unit: z.string().max(100).optional(), kind: z.enum(TEAM_KINDS).optional() });
export const TeamList = list(TeamView);
export type TeamList = z.infer<typeof TeamList>;

export const TrainingBody = z
  .object({
    practitionerId: Code,
    name: Text(100),
    kind: z.enum(['training', 'certificate']),
    title: Text(200).describe('e.g. 突发事件卫生应急培训, 流行病学调查员证'),
    issuer: Text(200).optional(),
    completedOn: Day,
    expiresOn: Day.optional().describe('A certificate’s expiry; none for training without one'),
    hours: z.number().min(0).max(10_000).optional(),
  })
  .strict()
  .refine((b) => !b.expiresOn || b.expiresOn >= b.completedOn, { message: 'expiresOn is before completedOn', path: ['expiresOn'] });
export type TrainingBody = z.infer<typeof TrainingBody>;
export const TrainingView = z.object({
  id: z.number().int(),
  practitionerId: z.string(),
  name: z.string(),
  kind: z.enum(['training', 'certificate']),
  title: z.string(),
  issuer: z.string().nullable(),
  completedOn: z.string(),
  expiresOn: z.string().nullable(),
  hours: z.number().nullable(),
  state: CertificateState.describe('expired, expiring within the warning window (90 days), or valid'),
  daysLeft: z.number().int().nullable(),
});
export type TrainingView = z.infer<typeof TrainingView>;
export const TrainingQuery = PageQuery.extend({
  practitionerId: z.string().max(100).optional(),
  teamId: Id.optional(),
  state: CertificateState.optional().describe('expired or expiring: the certificates to renew'),
  on: Day.optional().describe('The day states are judged on (today when absent)'),
});
export const TrainingList = list(TrainingView);
export type TrainingList = z.infer<typeof TrainingList>;

export const RotaBody = z
  .object({
    entries: z
      .array(z.object({ day: Day, practitionerIds: z.array(Code).max(50) }).strict())
      .min(1)
      .max(366)
      .describe('Who is on call each day; a day listed replaces that day’s entries (empty: nobody)'),
  })
  .strict();
export type RotaBody = z.infer<typeof RotaBody>;
export const OnCallQuery = z.object({
  day: Day.optional().describe('Today when absent'),
  unit: z.string().max(100).optional(),
  kind: z.enum(TEAM_KINDS).optional(),
  teamId: Id.optional(),
});
export const OnCallView = z.object({
  day: z.string(),
  teams: z.array(
    z.object({
      teamId: z.number().int(),
      unit: z.string(),
      kind: z.enum(TEAM_KINDS),
      name: z.string(),
      onCall: z.array(z.object({ practitionerId: z.string(), name: z.string(), role: z.enum(MEMBER_ROLES), phone: z.string().nullable() })),
    }),
  ),
});
export type OnCallView = z.infer<typeof OnCallView>;

export const MobiliseBody = z
  .object({
    source: z.object({ kind: z.enum(['alert', 'investigation']), id: Text(100) }).strict(),
    teamIds: z.array(z.number().int().min(1)).min(1).max(50),
    onCallOnly: z.boolean().default(false).describe('Only the members on call today (all active members when the rota is empty)'),
    ackLimitMinutes: z.number().int().min(1).max(1440).optional().describe('Default: the current mode’s (config/emergency)'),
    areaCode: AreaCode.optional().describe('Where: the mode in force there sets the default acknowledgement limit'),
    reason: Text(1000).optional(),
    at: When.optional(),
  })
  .strict();
export type MobiliseBody = z.infer<typeof MobiliseBody>;
export const MobilisedMember = z.object({
  practitionerId: z.string(),
  name: z.string(),
  role: z.string(),
  teamId: z.number().int(),
  notifiedAt: z.string(),
  dueAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  overdue: z.boolean().describe('not acknowledged by the limit'),
  late: z.boolean().describe('acknowledged after the limit'),
});
export type MobilisedMember = z.infer<typeof MobilisedMember>;
export const MobilisationView = z.object({
  id: z.number().int(),
  source: z.object({ kind: z.string(), id: z.string() }),
  reason: z.string().nullable(),
  teamIds: z.array(z.number().int()),
  onCallOnly: z.boolean(),
  ackLimitMinutes: z.number().int(),
  exercise: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
  notified: z.number().int(),
  acknowledged: z.number().int(),
  pending: z.number().int(),
  overdue: z.number().int(),
});
export type MobilisationView = z.infer<typeof MobilisationView>;
export const MobilisationDetail = MobilisationView.extend({ members: z.array(MobilisedMember) });
export type MobilisationDetail = z.infer<typeof MobilisationDetail>;
export const MobilisationQuery = PageQuery.extend({
  sourceKind: z.enum(['alert', 'investigation', 'drill']).optional(),
  sourceId: z.string().max(100).optional(),
});
export const MobilisationList = list(MobilisationView);
export type MobilisationList = z.infer<typeof MobilisationList>;
export const AckBody = z.object({ practitionerId: Code, at: When.optional() }).strict();
export type AckBody = z.infer<typeof AckBody>;
export const PendingQuery = PageQuery.extend({
  overdue: Bool.optional().describe('true: only those past their limit'),
  mobilisationId: Id.optional(),
});
export const PendingAck = MobilisedMember.extend({
  mobilisationId: z.number().int(),
  source: z.object({ kind: z.string(), id: z.string() }),
});
export type PendingAck = z.infer<typeof PendingAck>;
export const PendingList = list(PendingAck);
export type PendingList = z.infer<typeof PendingList>;

// ---------------------------------------------------------------------------------------------
// Reserves

const Quantity = z.number().positive().max(1e9).multipleOf(0.001);
const ItemCode = z.string().regex(/^[a-z0-9-]{1,40}$/);
const BatchNo = Code.describe('Batch (lot) number');
export const ItemView = z.object({
  code: z.string(),
  name: z.string(),
  category: z.enum(ITEM_CATEGORIES),
  uom: z.string(),
  scenarioDailyUse: z.number(),
});
export const ItemList = z.object({
  items: z.array(ItemView),
  standardDays: z.number().int(),
  expiryWarningDays: z.array(z.number().int()),
});
export type ItemList = z.infer<typeof ItemList>;

export const ReceiptBody = z
  .object({
    unit: UnitCode,
    item: ItemCode,
    batchNo: BatchNo,
    expiresOn: Day.optional(),
    quantity: Quantity,
    from: Text(200).optional().describe('Supplier or source'),
    at: When.optional(),
    note: Text(500).optional(),
  })
  .strict();
export type ReceiptBody = z.infer<typeof ReceiptBody>;
export const IssueBody = z
  .object({
    unit: UnitCode,
    item: ItemCode,
    quantity: Quantity,
    to: Text(200).optional().describe('Who received it (a team, a ward, a site)'),
    at: When.optional(),
    note: Text(500).optional(),
  })
  .strict();
export type IssueBody = z.infer<typeof IssueBody>;
export const TransferBody = z
  .object({ fromUnit: UnitCode, toUnit: UnitCode, item: ItemCode, quantity: Quantity, at: When.optional(), note: Text(500).optional() })
  .strict()
  .refine((b) => b.fromUnit !== b.toUnit, { message: 'a transfer goes to another unit', path: ['toUnit'] });
export type TransferBody = z.infer<typeof TransferBody>;

export const MovementView = z.object({
  id: z.number().int(),
  kind: z.enum(MOVEMENT_KINDS),
  unit: z.string(),
  item: z.string(),
  batchNo: z.string(),
  expiresOn: z.string().nullable(),
  quantity: z.number(),
  counterpart: z.string().nullable(),
  transferId: z.string().nullable(),
  note: z.string().nullable(),
  exercise: z.boolean(),
  at: z.string(),
  byUser: z.string(),
});
export type MovementView = z.infer<typeof MovementView>;
export const MovementAnswer = z.object({ movements: z.array(MovementView), warnings: z.array(z.string()) });
export type MovementAnswer = z.infer<typeof MovementAnswer>;
export const MovementQuery = PageQuery.extend({
  unit: z.string().max(100).optional(),
  item: z.string().max(40).optional(),
  kind: z.enum(MOVEMENT_KINDS).optional(),
});
export const MovementList = list(MovementView);
export type MovementList = z.infer<typeof MovementList>;

export const BatchView = z.object({
  unit: z.string(),
  item: z.string(),
  batchNo: z.string(),
  expiresOn: z.string().nullable(),
  quantity: z.number(),
  expiry: z.string().nullable().describe('expired, within-90, within-30 (the shortest window it falls in), or null'),
});
export type BatchView = z.infer<typeof BatchView>;
export const StockQuery = PageQuery.extend({
  unit: z.string().max(100).optional(),
  item: z.string().max(40).optional(),
  empty: Bool.optional().describe('true: include batches used up'),
});
export const StockList = list(BatchView);
export type StockList = z.infer<typeof StockList>;

export const ScenarioUseBody = z
  .object({
    unit: UnitCode,
    uses: z
      .array(z.object({ item: ItemCode, dailyUse: z.number().min(0).max(1e9) }).strict())
      .min(1)
      .max(200),
  })
  .strict();
export type ScenarioUseBody = z.infer<typeof ScenarioUseBody>;

export const CoverRow = z.object({
  item: z.string(),
  name: z.string(),
  uom: z.string(),
  stock: z.number().describe('usable (unexpired) stock'),
  observedDailyUse: z.number().describe('issued over the consumption window ÷ its days'),
  daysAtObservedRate: z.number().nullable(),
  scenarioDailyUse: z.number(),
  emergencyDailyUse: z.number(),
  rateBasis: z.enum(['scenario', 'observed']),
  emergencyDays: z.number().nullable().describe('days of cover in the emergency scenario'),
  meetsStandard: z.boolean(),
  shortfall: z.number(),
});
export type CoverRow = z.infer<typeof CoverRow>;
export const UnitCover = z.object({
  unit: z.string(),
  name: z.string(),
  standardDays: z.number().int(),
  meetsStandard: z.boolean(),
  belowStandard: z.array(z.string()),
  items: z.array(CoverRow),
});
export type UnitCover = z.infer<typeof UnitCover>;
export const CoverQuery = PageQuery.extend({
  unit: z.string().max(100).optional(),
  on: Day.optional().describe('Judged on this day (today when absent)'),
  belowStandard: Bool.optional(),
});
export const CoverList = list(UnitCover);
export type CoverList = z.infer<typeof CoverList>;

export const ReserveWarning = z.object({
  kind: z.enum(['below-standard', 'expired', 'near-expiry']),
  unit: z.string(),
  item: z.string(),
  batchNo: z.string().nullable(),
  expiresOn: z.string().nullable(),
  days: z.number().nullable().describe('days of cover (below-standard) or days to expiry'),
  window: z.number().int().nullable().describe('the near-expiry window it falls in (90, 30)'),
  quantity: z.number(),
  message: z.string(),
});
export type ReserveWarning = z.infer<typeof ReserveWarning>;
export const WarningQuery = PageQuery.extend({
  unit: z.string().max(100).optional(),
  kind: z.enum(['below-standard', 'expired', 'near-expiry']).optional(),
  on: Day.optional(),
});
export const WarningList = list(ReserveWarning);
export type WarningList = z.infer<typeof WarningList>;

// ---------------------------------------------------------------------------------------------
// Mode and zero reports

export const ModeBody = z
  .object({
    areaCode: AreaCode.optional().describe('Absent: district-wide'),
    level: z.enum(LEVELS),
    reason: Text(1000),
    exercise: z.boolean().default(false).describe('An exercise mode never changes what currentMode answers for real work'),
    at: When.optional(),
  })
  .strict();
export type ModeBody = z.infer<typeof ModeBody>;
export const EndModeBody = z.object({ reason: Text(1000), at: When.optional() }).strict();
export type EndModeBody = z.infer<typeof EndModeBody>;
const ModeSettingsView = z.object({
  labMode: z.enum(['routine', 'emergency']),
  reportDeadlineHours: z.number(),
  zeroReporting: z.enum(['none', 'daily']),
  ackLimitMinutes: z.number().int(),
});
export const ModeView = z.object({
  id: z.number().int(),
  areaCode: z.string().nullable(),
  level: z.enum(LEVELS),
  levelZh: z.string(),
  reason: z.string(),
  exercise: z.boolean(),
  startedAt: z.string(),
  startedBy: z.string(),
  endedAt: z.string().nullable(),
  endedBy: z.string().nullable(),
  endReason: z.string().nullable(),
  active: z.boolean(),
});
export type ModeView = z.infer<typeof ModeView>;
export const ModeAnswer = z.object({ mode: ModeView, replaced: ModeView.nullable() });
export type ModeAnswer = z.infer<typeof ModeAnswer>;
export const ModeQuery = PageQuery.extend({ active: Bool.optional(), areaCode: z.string().max(12).optional() });
export const ModeList = list(ModeView);
export type ModeList = z.infer<typeof ModeList>;
export const CurrentModeQuery = z.object({
  areaCode: z
    .string()
    .regex(/^\d{1,12}$/)
    .optional()
    .describe('Absent: district-wide modes only'),
  at: When.optional(),
});
export const CurrentModeView = z.object({
  areaCode: z.string().nullable(),
  at: z.string(),
  emergency: z.boolean(),
  level: z.enum(LEVELS).nullable(),
  mode: ModeView.nullable().describe('the most severe mode in force there (district-wide or for an area containing it)'),
  settings: ModeSettingsView,
});
export type CurrentModeView = z.infer<typeof CurrentModeView>;

export const ZeroReportBody = z
  .object({
    unit: UnitCode,
    day: Day.optional().describe('Today (China time) when absent'),
    counts: z
      .record(z.string().regex(/^[a-z0-9-]{1,40}$/), z.number().int().min(0).max(1_000_000))
      .default({})
      .describe('Counts by category (fever, diarrhoea, suspected …); all 0 or none: a zero report'),
    note: Text(1000).optional(),
  })
  .strict();
export type ZeroReportBody = z.infer<typeof ZeroReportBody>;
export const ZeroReportView = z.object({
  unit: z.string(),
  day: z.string(),
  counts: z.record(z.number()),
  zero: z.boolean(),
  note: z.string().nullable(),
  reportedAt: z.string(),
  reportedBy: z.string(),
  replaced: z.boolean().describe('true when it replaced an earlier report of the same day'),
});
export type ZeroReportView = z.infer<typeof ZeroReportView>;
export const ZeroReportQuery = PageQuery.extend({ day: Day.optional(), unit: z.string().max(100).optional() });
export const ZeroReportList = list(ZeroReportView.omit({ replaced: true }));
export type ZeroReportList = z.infer<typeof ZeroReportList>;
export const MissingQuery = PageQuery.extend({ day: Day.optional().describe('Today when absent') });
export const MissingList = list(
  z.object({ unit: z.string(), name: z.string(), areaCode: z.string().nullable(), level: z.enum(LEVELS), modeId: z.number().int() }),
).extend({ day: z.string(), required: z.number().int(), reported: z.number().int() });
export type MissingList = z.infer<typeof MissingList>;

// ---------------------------------------------------------------------------------------------
// Drills

export const DrillBody = z
  .object({
    name: Text(200),
    plannedFor: When.optional(),
    teamIds: z.array(z.number().int().min(1)).max(20).default([]).describe('Teams the drill mobilises (as an exercise)'),
    specimens: z.number().int().min(1).max(20).default(1),
    targetSeconds: z
      .object(
        Object.fromEntries(
          DRILL_STEPS.map((s) => [
            s,
            z
              .number()
              .positive()
              .max(30 * 86_400)
              .optional(),
          ]),
        ) as Record<string, z.ZodOptional<z.ZodNumber>>,
      )
      .strict()
      .optional()
      .describe('Targets per step (seconds) overriding config/emergency'),
  })
  .strict();
export type DrillBody = z.infer<typeof DrillBody>;
export const DrillStepView = z.object({
  step: z.enum(DRILL_STEPS),
  status: z.enum(['done', 'skipped', 'failed']),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  targetMs: z.number(),
  late: z.boolean(),
  refs: z.array(z.string()).describe('what the step made: alert ids, a mobilisation, investigation, specimens'),
  detail: z.string(),
});
export type DrillStepView = z.infer<typeof DrillStepView>;
export const AfterActionReport = z.object({
  drillId: z.number().int(),
  exercise: z.literal(true),
  startedAt: z.string(),
  endedAt: z.string(),
  totalMs: z.number(),
  steps: z.array(DrillStepView),
  late: z.array(z.string()).describe('steps past their target'),
  skipped: z.array(z.string()),
  failed: z.array(z.string()),
  summary: z.string(),
});
export type AfterActionReport = z.infer<typeof AfterActionReport>;
export const DrillView = z.object({
  id: z.number().int(),
  name: z.string(),
  exercise: z.literal(true),
  status: z.enum(['planned', 'running', 'done', 'failed']),
  plannedFor: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  scenario: z.record(z.unknown()),
  report: AfterActionReport.nullable(),
});
export type DrillView = z.infer<typeof DrillView>;
export const DrillList = list(DrillView.omit({ report: true, scenario: true }));
export type DrillList = z.infer<typeof DrillList>;
