/**
 * Requests and responses of the programme routes (/api/programmes/*) as zod schemas: they
 * validate each request, check each response and make the OpenAPI document. The web app takes
 * the inferred types with `import type`.
 */
import { z } from 'zod';
import { AsOfQuery, DateOrNull, IsoDate, OptionalText, RequiredText, oneOf } from '../common-schemas.js';
import { IndicatorDefinition as BaseIndicatorDefinition, Period } from '../indicators/schemas.js';

const Area = z
  .string()
  .regex(/^\d{6,12}$/, { message: 'a 6–12 digit area code prefix' })
  .optional();
const Limit = z.coerce.number().int().min(1).max(500).default(50);
const Offset = z.coerce.number().int().min(0).default(0);

export const ProgrammeParams = z.object({ programme: z.string() });
export const IndicatorParams = z.object({ programme: z.string(), indicator: z.string() });
export const ResidentParams = z.object({ id: z.string() });

// ---- the programme list ----------------------------------------------------------------------

export const ScheduleItemView = z.object({
  code: z.string(),
  name: z.string(),
  service: z.string(),
  relativeTo: z.string(),
  from: z.string(),
  to: z.string(),
  recommended: z.string().nullable(),
});

/**
 * Primary care's indicator definition, with where the target comes from always stated (null: none)
 * and which version of the definition it is (config/programmes: an indicator's versions adjoin;
 * a period uses the one in force on its judged end).
 */
export const IndicatorDefinition = BaseIndicatorDefinition.extend({
  targetSource: z.string().nullable(),
  version: z.string(),
  effectiveFrom: z.string(),
  /** Last day in force; null = still in force. */
  effectiveTo: z.string().nullable(),
});
export type IndicatorDefinition = z.infer<typeof IndicatorDefinition>;

export const ProgrammeSummary = z.object({
  code: z.string(),
  name: z.string(),
  source: z.string(),
  /** Residents enrolled on asOf. */
  enrolled: z.number().int(),
  versions: z.array(
    z.object({
      version: z.string(),
      effectiveFrom: z.string(),
      effectiveTo: z.string().nullable(),
      source: z.string(),
      cycle: z.string(),
      managed: z.string(),
      items: z.array(ScheduleItemView),
    }),
  ),
  /** Every version of every indicator, in file order. */
  indicators: z.array(IndicatorDefinition),
  /** The flags an episode may carry (高危, 合并糖尿病, …), by code with their names: the registry shows names, not codes. */
  flags: z.array(z.object({ code: z.string(), name: z.string() })),
});
export type ProgrammeSummary = z.infer<typeof ProgrammeSummary>;

export const ProgrammeList = z.object({ asOf: z.string(), total: z.number().int(), rows: z.array(ProgrammeSummary) });
export type ProgrammeList = z.infer<typeof ProgrammeList>;

// ---- worklist ------------------------------------------------------------------------------

export const WorklistQuery = AsOfQuery.extend({
  status: oneOf(['due', 'overdue', 'all']).optional(),
  /** Overdue items count only when their window closed at most this many days ago (default 365); a next follow-up (下次随访) whenever. */
  overdueWithinDays: z.coerce.number().int().min(0).max(3650).default(365),
  area: Area,
  organization: OptionalText,
  limit: Limit,
  offset: Offset,
});
export type WorklistQuery = z.infer<typeof WorklistQuery>;

export const WorkItem = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: DateOrNull,
  episodeKey: z.string(),
  item: z.string(),
  itemName: z.string(),
  /** First day of the window; a next follow-up's (item next-follow-up) is its due day. */
  windowFrom: z.string(),
  /** Last day of the window (a next follow-up: its due day plus the tolerance, on time until then). */
  windowLast: z.string(),
  recommended: z.string().nullable(),
  status: oneOf(['due', 'overdue']),
  flags: z.array(z.string()),
  areaCode: z.string().nullable(),
  organizationId: z.string().nullable(),
});
export type WorkItem = z.infer<typeof WorkItem>;

export const Worklist = z.object({
  programme: z.string(),
  asOf: z.string(),
  total: z.number().int(),
  counts: z.object({ due: z.number().int(), overdue: z.number().int() }),
  rows: z.array(WorkItem),
});
export type Worklist = z.infer<typeof Worklist>;

// ---- registry ------------------------------------------------------------------------------

export const RegistryQuery = AsOfQuery.extend({
  status: oneOf(['active', 'ended', 'all']).optional(),
  q: OptionalText,
  flag: OptionalText,
  area: Area,
  organization: OptionalText,
  limit: Limit,
  offset: Offset,
});
export type RegistryQuery = z.infer<typeof RegistryQuery>;

export const RegistryRow = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: DateOrNull,
  episodeKey: z.string(),
  startOn: z.string(),
  endOn: DateOrNull,
  endEventOn: DateOrNull,
  version: z.string(),
  flags: z.array(z.string()),
  controlled: z.boolean().nullable(),
  lastService: DateOrNull,
  services: z.number().int(),
  areaCode: z.string().nullable(),
  organizationId: z.string().nullable(),
  deceased: z.boolean(),
  /** The day of death from the Patient record (every episode ends on it); null when alive or recorded without a day. */
  deceasedOn: DateOrNull,
  /** Start of the next item not yet delivered. */
  nextItemFrom: DateOrNull,
  /** Items whose window closed without a service. */
  missed: z.number().int(),
  /** The next follow-up's due day (hypertension, diabetes: the day the last follow-up set); null for other programmes. */
  nextDue: DateOrNull,
  /** record: opened by a record (a diagnosis, an age); manual: enrolled by hand. */
  source: oneOf(['record', 'manual']),
  /** Set by hand: managed, or transferred / died from statusOn on (the episode ends that day). */
  registryStatus: oneOf(['managed', 'transferred', 'died']),
  statusOn: DateOrNull,
  statusReason: z.string().nullable(),
});
export type RegistryRow = z.infer<typeof RegistryRow>;

export const RegistryPage = z.object({ programme: z.string(), asOf: z.string(), total: z.number().int(), rows: z.array(RegistryRow) });
export type RegistryPage = z.infer<typeof RegistryPage>;

// ---- what a doctor records by hand -----------------------------------------------------------

export const RegistryStatus = oneOf(['managed', 'transferred', 'died']);
export const RegistrationParams = z.object({ programme: z.string(), patientId: z.string() });

/** A manual enrolment (no diagnosis record): from enrolledOn (default today, not in the future). */
export const ManualEnrolmentBody = z.object({ patientId: RequiredText, enrolledOn: IsoDate.optional() }).strict();
export type ManualEnrolmentBody = z.infer<typeof ManualEnrolmentBody>;

/** A status from a day on (default today, not in the future): transferred or died end the episode that day; managed undoes it. */
export const RegistryStatusBody = z.object({ status: RegistryStatus, on: IsoDate.optional(), reason: OptionalText }).strict();
export type RegistryStatusBody = z.infer<typeof RegistryStatusBody>;

/** A resident in a programme after a manual enrolment or a status change: what was recorded and the episodes now derived. */
export const Registration = z.object({
  programme: z.string(),
  patientId: z.string(),
  enrolledOn: DateOrNull,
  status: RegistryStatus,
  statusOn: DateOrNull,
  statusReason: z.string().nullable(),
  episodes: z.array(z.object({ episodeKey: z.string(), startOn: z.string(), endOn: DateOrNull })),
});
export type Registration = z.infer<typeof Registration>;

// ---- a resident's due services ---------------------------------------------------------------

export const ResidentDueQuery = AsOfQuery.extend({
  aheadDays: z.coerce.number().int().min(0).max(366).default(30),
  overdueWithinDays: z.coerce.number().int().min(0).max(3650).default(365),
});

export const ResidentDueItem = z.object({
  /** The Patient record the item belongs to (a Person id may gather several). */
  patientId: z.string(),
  programme: z.string(),
  programmeName: z.string(),
  item: z.string(),
  itemName: z.string(),
  episodeKey: z.string(),
  windowFrom: z.string(),
  windowLast: z.string(),
  recommended: z.string().nullable(),
  status: oneOf(['upcoming', 'due', 'overdue']),
});
export type ResidentDueItem = z.infer<typeof ResidentDueItem>;

export const ResidentDue = z.object({
  /** The id asked for (a Patient or a Person). */
  residentId: z.string(),
  asOf: z.string(),
  total: z.number().int(),
  rows: z.array(ResidentDueItem),
});
export type ResidentDue = z.infer<typeof ResidentDue>;

// ---- indicators ----------------------------------------------------------------------------

/** team: the family-doctor team of the resident's contract (签约团队) on the period's judged end; '(none)' without one. */
export const GroupBy = oneOf(['total', 'organization', 'area', 'team']);
export type GroupBy = z.infer<typeof GroupBy>;

export const IndicatorQuery = AsOfQuery.extend({
  /** YYYY or YYYY-MM-DD/YYYY-MM-DD (default: this year). */
  period: OptionalText,
  indicator: OptionalText,
  area: Area,
  organization: OptionalText,
  groupBy: GroupBy.optional(),
});
export type IndicatorQuery = z.infer<typeof IndicatorQuery>;

export { Period };

export const IndicatorValue = z.object({
  indicator: z.string(),
  group: z.string(),
  /** The group in words: 全区, a centre's or street's name, a team's name; 未分配 for '(none)'. */
  groupName: z.string().optional(),
  numerator: z.number().int(),
  denominator: z.number().int(),
  /** Percentage with one decimal; by the indicator's rule when the denominator is 0. */
  value: z.number().nullable(),
  target: z.number().nullable(),
  /** At or above target: true; below: false; no target or no figure: null. */
  meetsTarget: z.boolean().nullable(),
});
export type IndicatorValue = z.infer<typeof IndicatorValue>;

export const ProgrammeIndicators = z.object({
  programme: z.string(),
  period: Period,
  asOf: z.string(),
  groupBy: GroupBy,
  /** The version of each indicator the figures used: the one in force on the period's last day (or asOf, when earlier). */
  definitions: z.array(IndicatorDefinition),
  values: z.array(IndicatorValue),
});
export type ProgrammeIndicators = z.infer<typeof ProgrammeIndicators>;

export const DrillQuery = IndicatorQuery.omit({ indicator: true }).extend({
  group: OptionalText,
  numerator: z.enum(['true', 'false']).optional(),
  limit: Limit,
  offset: Offset,
});
export type DrillQuery = z.infer<typeof DrillQuery>;

export const DrillRow = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  group: z.string(),
  episodeKey: z.string(),
  startOn: z.string(),
  endEventOn: DateOrNull,
  inNumerator: z.boolean(),
  /** The services that fulfilled the episode's items, by item code. */
  delivered: z.record(z.string()),
});
export type DrillRow = z.infer<typeof DrillRow>;

export const DrillPage = z.object({
  programme: z.string(),
  indicator: z.string(),
  /** The indicator version used (in force on the period's last day, or asOf when earlier) and its source. */
  version: z.string(),
  source: z.string(),
  period: Period,
  total: z.number().int(),
  numerator: z.number().int(),
  rows: z.array(DrillRow),
});
export type DrillPage = z.infer<typeof DrillPage>;
