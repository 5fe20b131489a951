/**
 * Requests and responses of the family-doctor care routes (/api/care/*, /api/residents/{id}/
 * due-services) as zod schemas: they validate each request, check each response and make the
 * OpenAPI document. The web app takes the inferred types with `import type`.
 */
import { z } from 'zod';
import { isIsoDate } from '../../shared/dates.js';
import { AsOfQuery, DateOrNull, IsoDate, OptionalText, RequiredText, oneOf } from '../common-schemas.js';
import { EducationItemSchema } from './education.js';
import { FLAGGED_POPULATIONS, KEY_POPULATIONS } from './key-populations.js';

export const SERVICE_PACKAGES: Record<string, string> = {
  basic: '基础包',
  elderly: '老年人健康管理包',
  chronic: '慢病管理包',
  maternal: '孕产妇健康管理包',
  child: '0–6岁儿童健康管理包',
  disabled: '残疾人服务包',
  hardship: '特困家庭服务包',
};
const PACKAGE_CODES = Object.keys(SERVICE_PACKAGES) as [string, ...string[]];

// ---- due services and check-in -------------------------------------------------------------
export const DueItem = z.object({
  kind: z.enum(['follow-up', 'bp-screening', 'vaccine', 'education', 'referral-return', 'confirmation', 'report-card', 'programme']),
  /** Stable key for completing the item. */
  key: z.string(),
  title: z.string(),
  detail: z.string(),
  dueDate: DateOrNull,
  overdue: z.boolean(),
  patientId: z.string(),
  /**
   * For screens in other languages: message keys of the title and detail (web/src/i18n) with
   * their parameters (codes, dates, numbers); title and detail above are the zh-CN text.
   */
  i18n: z.object({
    title: z.string(),
    detail: z.string().optional(),
    params: z.record(z.union([z.string(), z.number()])).optional(),
  }),
  /** Report-card items: the card (GET /api/report-cards/{cardId}) and its FHIR Task. */
  cardId: z.string().optional(),
  taskId: z.string().optional(),
  /** Programme items: the basic public-health programme (config/programmes) and its schedule item. */
  programme: z.object({ code: z.string(), name: z.string(), item: z.string() }).optional(),
});
export type DueItem = z.infer<typeof DueItem>;

export const ResidentParams = z.object({ id: z.string() });
/** Who is at the desk: what the check-in screen shows above the due list. */
export const ResidentSummary = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  gender: z.string().nullable(),
  birthDate: z.string().nullable(),
  /** Whole years on the day asked. */
  age: z.number().int().nullable(),
  /** The family-doctor team of the resident's active contract, by name. */
  team: z.string().nullable(),
  /** Key populations on the day asked (elderly, children, chronic, pregnant, disabled, hardship) with their words. */
  keyPopulations: z.array(z.object({ code: z.string(), label: z.string() })),
});
export type ResidentSummary = z.infer<typeof ResidentSummary>;

export const DueServices = z.object({
  residentId: z.string(),
  asOf: z.string(),
  /** Absent when chronic care does not know the resident yet (or the id is a Person with several records). */
  resident: ResidentSummary.optional(),
  items: z.array(DueItem),
});
export type DueServices = z.infer<typeof DueServices>;

export const CheckInBody = z.object({ patientId: RequiredText, organizationId: OptionalText });
export const CheckInResult = z.object({ encounterId: z.string(), resident: ResidentSummary.optional(), items: z.array(DueItem) });
export type CheckInResult = z.infer<typeof CheckInResult>;

export const CheckInRow = z.object({
  encounterId: z.string(),
  patientId: z.string(),
  name: z.string().nullable(),
  organizationId: z.string().nullable(),
});
export type CheckInRow = z.infer<typeof CheckInRow>;
export const CheckIns = z.object({ asOf: z.string(), rows: z.array(CheckInRow) });

// ---- teams and contracts -------------------------------------------------------------------
export const TeamRow = z.object({
  teamId: z.string(),
  name: z.string().nullable(),
  organizationId: z.string().nullable(),
  members: z.array(z.string()),
  contracts: z.number().int(),
});
export type TeamRow = z.infer<typeof TeamRow>;
export const Teams = z.object({ rows: z.array(TeamRow) });

export const ContractBody = z.object({
  patientId: OptionalText,
  householdId: OptionalText,
  teamId: RequiredText,
  package: oneOf(PACKAGE_CODES).optional(),
  start: IsoDate.optional(),
  transfer: z.boolean().optional(),
});
export type ContractInput = z.infer<typeof ContractBody>;
export const ContractsMade = z.object({
  contracts: z.array(z.object({ episodeId: z.string(), patientId: z.string() })),
  /** Residents already contracted with this team (left as they are). */
  alreadyWithTeam: z.array(z.string()),
  /** Contracts with another team that were ended (transfer). */
  transferred: z.array(z.string()),
});
export type ContractsMade = z.infer<typeof ContractsMade>;

export const EpisodeParams = z.object({ episodeId: z.string() });
export const Renewal = z.object({ episodeId: z.string(), end: z.string() });

/** A page of a list: at most `limit` rows from `offset`, the answer carrying the total. */
const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
};
export const ContractsQuery = z.object({ status: OptionalText, team: OptionalText, patient: OptionalText, ...Paging });
export const KeyPopulation = z.enum(KEY_POPULATIONS);
export const ContractRow = z.object({
  episodeId: z.string(),
  patientId: z.string(),
  name: z.string().nullable(),
  birthDate: DateOrNull,
  teamId: z.string().nullable(),
  package: z.string().nullable(),
  start: DateOrNull,
  end: DateOrNull,
  householdId: z.string().nullable(),
  /** In the hypertension or diabetes registry. */
  chronic: z.boolean(),
  populations: z.array(KeyPopulation),
  /** The contract ends within 30 days. */
  renewalDue: z.boolean(),
});
export type ContractRow = z.infer<typeof ContractRow>;
/** One page of contracts, newest first, with the number matching the filters. */
export const Contracts = z.object({ rows: z.array(ContractRow), total: z.number().int() });
export type Contracts = z.infer<typeof Contracts>;

// ---- key populations -----------------------------------------------------------------------
export const StoredPopulation = oneOf(['pregnant', ...FLAGGED_POPULATIONS]);
export const KeyPopulationsQuery = AsOfQuery.extend({ patient: OptionalText, population: StoredPopulation.optional(), ...Paging });
export const KeyPopulationRow = z.object({
  /** The resource it comes from: Flag/…, Condition/… or EpisodeOfCare/…. */
  source: z.string(),
  patientId: z.string(),
  name: z.string().nullable(),
  population: z.string(),
  start: DateOrNull,
  end: DateOrNull,
  note: z.string().nullable(),
});
export type KeyPopulationRow = z.infer<typeof KeyPopulationRow>;
export const KeyPopulations = z.object({ rows: z.array(KeyPopulationRow), total: z.number().int() });

export const FlagBody = z.object({
  patientId: RequiredText,
  population: oneOf(
    FLAGGED_POPULATIONS,
    `one of ${FLAGGED_POPULATIONS.join(', ')} (pregnancy comes from the record: a pregnancy Condition or EpisodeOfCare)`,
  ),
  start: z.string().refine(isIsoDate, { message: 'YYYY-MM-DD' }).optional(),
  note: OptionalText,
});
export type FlagInput = z.infer<typeof FlagBody>;
export const FlagMade = z.object({ flagId: z.string(), source: z.string() });
export type FlagMade = z.infer<typeof FlagMade>;

export const FlagParams = z.object({ flagId: z.string() });
export const FlagEndBody = z.object({ end: IsoDate.optional() });
export const FlagEnded = z.object({ flagId: z.string(), end: z.string() });

// ---- referrals -----------------------------------------------------------------------------
export const ReferralBody = z.object({
  patientId: RequiredText,
  reason: RequiredText,
  toOrganizationId: RequiredText,
  urgency: oneOf(['routine', 'urgent', 'asap', 'stat'], 'routine, urgent, asap or stat').optional(),
  requesterId: OptionalText,
});
export type ReferralInput = z.infer<typeof ReferralBody>;
export const ReferralMade = z.object({ taskId: z.string(), serviceRequestId: z.string(), status: z.string() });
export type ReferralMade = z.infer<typeof ReferralMade>;

export const TaskParams = z.object({ taskId: z.string() });
export const ReferralDecisionBody = z.object({
  action: oneOf(['accept', 'decline', 'start', 'complete'], 'accept, decline, start or complete'),
  note: OptionalText,
  /** A booked slot (accept): shown as the Task's business status. */
  appointment: OptionalText,
});
export type ReferralDecision = z.infer<typeof ReferralDecisionBody>;
export const ReferralStatus = z.object({ taskId: z.string(), status: z.string() });

export const ReferralsQuery = z.object({
  patient: OptionalText,
  direction: OptionalText,
  status: OptionalText,
  owner: OptionalText,
  ...Paging,
});
export const ReferralRow = z.object({
  taskId: z.string(),
  serviceRequestId: z.string().nullable(),
  patientId: z.string(),
  name: z.string().nullable(),
  direction: z.string(),
  status: z.string(),
  urgency: z.string().nullable(),
  reason: z.string().nullable(),
  requester: z.string().nullable(),
  owner: z.string().nullable(),
  dueOn: DateOrNull,
  authoredOn: DateOrNull,
  encounterId: z.string().nullable(),
});
export type ReferralRow = z.infer<typeof ReferralRow>;
export const Referrals = z.object({ rows: z.array(ReferralRow), total: z.number().int() });

// ---- education -----------------------------------------------------------------------------
export const EducationItemsQuery = z.object({ patient: OptionalText });
export const EducationItems = z.object({ items: z.array(EducationItemSchema) });
export type EducationItems = z.infer<typeof EducationItems>;

export const EducationBody = z.object({
  patientId: RequiredText,
  encounterId: OptionalText,
  itemIds: z.array(z.coerce.string()).min(1, { message: 'at least one item id' }),
});
export type EducationInput = z.infer<typeof EducationBody>;
export const EducationIssued = z.object({ communicationIds: z.array(z.string()) });
