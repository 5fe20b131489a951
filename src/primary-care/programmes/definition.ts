/**
 * A programme as data (config/programmes/*.json): who enters, the schedule of services by the
 * national norm in versions with effective dates, what counts as a service delivered, what is
 * "managed" (规范管理) and "controlled", and its indicators with targets. This file holds the
 * strict schema and the checks a schema cannot express; every refusal names the file and line.
 * Pure apart from `loadProgrammes`, which reads the directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isIsoDate } from '../../shared/dates.js';
import { parseRuleText, repoConfigDir, RuleFileError } from '../chronic/rule-file.js';
import { KNOWN_CODE_SYSTEMS } from './uris.js';

/** An offset from a reference date: days, weeks, months or years ("28d", "13w", "2m", "1y"). */
export const OffsetText = z.string().regex(/^\d{1,3}[dwmy]$/, { message: 'an offset such as 28d, 13w, 2m or 1y' });
export type OffsetText = z.infer<typeof OffsetText>;

const Day = z.string().refine(isIsoDate, { message: 'expected YYYY-MM-DD' });
const Code = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'lower-case letters, digits and dashes' });

export const RESOURCE_TYPES = ['Condition', 'Encounter', 'Observation', 'Procedure', 'EpisodeOfCare', 'Flag', 'MedicationRequest'] as const;

/** Which facts a rule is about: a resource type and codes in one system (exact codes or prefixes). */
export const Matcher = z
  .object({
    resource: z.enum(RESOURCE_TYPES),
    system: z.string(),
    codes: z.array(z.string().min(1)).optional(),
    prefixes: z.array(z.string().min(1)).optional(),
    /** Any code of the system (a follow-up reporting a symptom, whichever). */
    anyCode: z.literal(true).optional(),
    /** Observations: the coded value must be one of these (in valueSystem). */
    valueSystem: z.string().optional(),
    values: z.array(z.string().min(1)).optional(),
    /** Observations: the numeric value must lie in [min, max]. */
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict()
  .refine((m) => (m.codes?.length ?? 0) + (m.prefixes?.length ?? 0) > 0 !== !!m.anyCode, {
    message: 'a matcher needs codes or prefixes, or "anyCode": true (not both)',
  })
  .refine((m) => !m.values || !!m.valueSystem, { message: 'values need a valueSystem' });
export type Matcher = z.infer<typeof Matcher>;

/** FHIR R4 condition-clinical codes. */
export const CONDITION_CLINICAL_STATUSES = ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'] as const;
/** The clinical statuses that keep a Condition standing when an entry names none (facts.ts `active`). */
export const DEFAULT_ACTIVE_STATUSES: readonly string[] = ['active', 'recurrence', 'relapse'];

export const Entry = z
  .object({
    /** birth: everyone by age; fact: a diagnosis, registration or screening result opens an episode. */
    anchor: z.enum(['birth', 'fact']),
    /**
     * birth: the episode runs from the birthday at min to the one at max (exclusive). fact, with
     * `ageOn`: only residents at least min whole years old on that day enter; an episode ends at
     * the birthday at max (the first day no longer enrolled: 发育障碍儿童 leave at 7), so an
     * older resident leaves the registry, worklist and due services, and a record dated on or
     * after that birthday opens none.
     */
    ageYears: z
      .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(1).optional() })
      .strict()
      .optional(),
    /**
     * fact: the day ageYears.min is judged on. `asOf`: the day the resident is derived, as chronic
     * care's registry does (rules.md §3: hypertension from 35); a resident whose birth date is
     * unknown is not kept out.
     */
    ageOn: z.enum(['asOf']).optional(),
    gender: z.enum(['female', 'male']).optional(),
    /**
     * birth, with a yearly schedule: enrolled without stored rows (a screening's whole population
     * of age). Only residents with a record some matcher of the programme reads, or a status set by
     * hand, get stored episode rows; everyone else of the age is counted, listed and shown due from
     * the person table with what the engine gives a resident without records (store.ts
     * `virtualRowsSql`). The figures are the same either way; a district of 1,000,000 stores about
     * 2 million fewer episode rows for five screenings.
     */
    implicit: z.boolean().optional(),
    /** fact: any of these opens an episode on its start date. */
    facts: z.array(Matcher).optional(),
    /** fact: a resolved record (with its end) still opens an episode (a pregnancy that ended in delivery). */
    includeResolved: z.boolean().optional(),
    /** fact: the episode lasts this long from its start (a treatment course). */
    durationMonths: z.number().int().min(1).optional(),
    /** fact: the record's end (abatement, period end) is the episode's end event (delivery). */
    endEvent: z.boolean().optional(),
    /** Enrolment continues this many days after the end event (postpartum care). */
    afterEndDays: z.number().int().min(0).optional(),
    /** Without an end event the episode closes this many days after its start. */
    maxDays: z.number().int().min(1).optional(),
    /**
     * fact: the clinical statuses (FHIR condition-clinical) of a Condition that keep a person
     * enrolled; absent = active, recurrence, relapse (DEFAULT_ACTIVE_STATUSES). A provisional,
     * differential, refuted or entered-in-error diagnosis never enrols.
     */
    activeStatuses: z.array(z.enum(CONDITION_CLINICAL_STATUSES)).min(1).optional(),
    /**
     * fact: leaving on a later record (失能老年人 re-assessed with Barthel above 60): the episode
     * ends with the day of the first standing fact after its start that matches `facts` (that day
     * is its last enrolled one, so the re-assessment is the episode's own), unless a standing fact
     * matching `unless` covers that day (a dementia diagnosis keeps a 失智 resident enrolled). A
     * later opening record opens a new episode.
     */
    endWhen: z
      .object({ facts: z.array(Matcher).min(1), unless: z.array(Matcher).min(1).optional() })
      .strict()
      .optional(),
  })
  .strict();
export type Entry = z.infer<typeof Entry>;

export const ScheduleItem = z
  .object({
    code: Code,
    name: z.string().min(1),
    /** The service (key of `services`) that fulfils the item. */
    service: z.string(),
    /** Measured from the episode's start (or the cycle's start) or from its end event. */
    relativeTo: z.enum(['start', 'end']).default('start'),
    /** The window in which a service counts for this item: [from, to). */
    from: OffsetText,
    to: OffsetText,
    /** What the norm recommends within the window, in words (孕16～20周). */
    recommended: z.string().optional(),
  })
  .strict();
export type ScheduleItem = z.infer<typeof ScheduleItem>;

export const Managed = z
  .object({
    name: z.string().min(1),
    /** Every item whose window ended in the period was delivered in its window. */
    allItemsDelivered: z.boolean(),
    /** And at least this many services of this kind in the period. */
    minServices: z
      .object({ service: z.string(), count: z.number().int().min(1) })
      .strict()
      .optional(),
    /**
     * Follow-ups due from the previous one (chronic care's 规范管理): at least `minCount` services
     * of the kind in the period, each no later than the date the previous one set plus
     * `toleranceDays`; a service sets the next one `intervalDays` later by the control state of the
     * readings taken that day (controlled, uncontrolled, unknown), or `urgent.intervalDays` when a
     * reading reaches an urgent threshold. Intervals and tolerance: the version in force on the
     * service's date; minCount: the version in force on the period's judged end.
     */
    followUps: z
      .object({
        service: z.string(),
        minCount: z.number().int().min(1),
        toleranceDays: z.number().int().min(0),
        intervalDays: z
          .object({ controlled: z.number().int().min(0), uncontrolled: z.number().int().min(0), unknown: z.number().int().min(0) })
          .strict(),
        urgent: z
          .object({
            intervalDays: z.number().int().min(0),
            /** Any reading (any measure of the programme, that day) at or above atLeast, or at or below atMost. */
            when: z
              .array(z.object({ reading: z.string(), atLeast: z.number().optional(), atMost: z.number().optional() }).strict())
              .min(1)
              .optional(),
            /** Or the follow-up's own record matches one of these (an emergency symptom it reports). */
            whenRecorded: z.array(Matcher).min(1).optional(),
          })
          .strict()
          .refine((u) => !!u.when || !!u.whenRecorded, { message: 'urgent needs "when" (readings) or "whenRecorded" (the record)' })
          .optional(),
        /**
         * What the follow-up's own record reports (an adverse drug reaction, a new complication):
         * when it matches, the next one is due `intervalDays` later if that comes before the date
         * the control state sets (the earliest date any finding or the control state asks for).
         */
        findings: z
          .array(
            z.object({ name: z.string().min(1), whenRecorded: z.array(Matcher).min(1), intervalDays: z.number().int().min(0) }).strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * A numeric reading against a target: `reading` names a value as "system|code" (an
 * Observation's own code, or one of its components: LOINC 8480-6 in a 85354-9 panel); the value
 * must be at least `atLeast` and below `below`.
 */
export const ReadingCheck = z
  .object({ reading: z.string(), atLeast: z.number().optional(), below: z.number().optional() })
  .strict()
  .refine((c) => c.atLeast !== undefined || c.below !== undefined, { message: 'a target needs atLeast or below' });

/**
 * Control targets (控制目标) of a version, for a `controlled` rule with `byTargets`: every band
 * that applies to the person on the reading's day (age in whole years within ageYears, both ends
 * included; and, with whenFlags, one of those flags on the episode) must be met. A band with
 * `all` needs every reading present and in range; with `first`, the first reading present
 * decides (空腹血糖, else HbA1c). No reading a band needs: not known (null).
 */
export const TargetBand = z
  .object({
    ageYears: z
      .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
      .strict()
      .optional(),
    whenFlags: z.array(z.string()).min(1).optional(),
    all: z.array(ReadingCheck).min(1).optional(),
    first: z.array(ReadingCheck).min(1).optional(),
  })
  .strict()
  .refine((b) => !!b.all !== !!b.first, { message: 'a band needs either "all" or "first"' });
export const Targets = z
  .object({
    source: z.string().min(1),
    /** The age a person without a birth date is taken to have (chronic care: 60, the general adult targets). */
    ageWhenUnknown: z.number().int().min(0),
    bands: z.array(TargetBand).min(1),
  })
  .strict();
export type Targets = z.infer<typeof Targets>;

export const Version = z
  .object({
    version: z.string().min(1),
    effectiveFrom: Day,
    /** Last day in force; absent = still in force. */
    effectiveTo: Day.optional(),
    source: z.string().min(1),
    schedule: z
      .object({
        /** episode: items once per episode; year: the items repeat every calendar year. */
        cycle: z.enum(['episode', 'year']),
        items: z.array(ScheduleItem).min(1),
      })
      .strict(),
    managed: Managed,
    /** Numeric control targets in force from this version's effectiveFrom (see `controlled.byTargets`). */
    targets: Targets.optional(),
  })
  .strict();
export type Version = z.infer<typeof Version>;

/**
 * One condition on an episode in a period; an indicator's numerator and denominator are lists
 * of them (all must hold). delivered: an item whose window opened by the period's end was
 * fulfilled (by asOf; `within` narrows it to an offset from the item's base date); services: at
 * least `min` services of the kind(s) in the period (or the whole episode up to the period's
 * end); managed / controlled: the version's and the programme's rules; flag: the episode
 * carries it; ageMonths: age at the period's end; measure: the latest value is one of these.
 *
 * `measuredBy` (measure, and services `in: episode`): the day the records are read up to.
 * `periodEnd` (the default): the period's judged end, what had happened by then. `asOf`: a
 * cohort figure, the episodes the denominator picks followed to asOf (an outcome or a first
 * visit recorded after the period closed still counts for it, as `delivered` does).
 */
export const MeasuredBy = z.enum(['periodEnd', 'asOf']);
/**
 * Survival (生存率) `years` whole years after the episode's start (the diagnosis or registration
 * that opened it), judged at that anniversary T = start + years (addMonths: the 29th of February
 * gives the 28th). Observed (all-cause) survival by the direct method: the cohort counts only once
 * T is on or before asOf, whether a death comes from the Patient's day of death or a status 死亡
 * set by hand (the earlier). `survived`: known alive at T (no death before T, and still enrolled
 * on T, or a known death on or after T). `survivalKnown`: the outcome at T is known (survived, or
 * a known death before T); a resident who moved away (or whose episode otherwise closed) before T
 * without a known death, or who is dead without a day (deceasedBoolean), is censored: out of both.
 * A survival rate's denominator needs `survivalKnown` with the numerator's years.
 */
const SurvivalYears = z.object({ years: z.number().int().min(1).max(100) }).strict();
export const Criterion = z.union([
  z.object({ delivered: z.string(), within: OffsetText.optional() }).strict(),
  z
    .object({
      /** One service or any of several. */
      services: z.union([z.string(), z.array(z.string()).min(1)]),
      min: z.number().int().min(1),
      in: z.enum(['period', 'episode']).default('period'),
      /** `in: episode` only: counted from the episode's start up to (not including) start + the offset (a first visit within 30d). */
      within: OffsetText.optional(),
      measuredBy: MeasuredBy.optional(),
    })
    .strict(),
  z.object({ managed: z.literal(true) }).strict(),
  z.object({ controlled: z.literal(true) }).strict(),
  z.object({ flag: z.string() }).strict(),
  z.object({ ageMonths: z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(1).optional() }).strict() }).strict(),
  z.object({ measure: z.string(), values: z.array(z.string().min(1)).min(1), measuredBy: MeasuredBy.optional() }).strict(),
  z.object({ survived: SurvivalYears }).strict(),
  z.object({ survivalKnown: SurvivalYears }).strict(),
]);
export type Criterion = z.infer<typeof Criterion>;

/** The years of a survival criterion (`survived` or `survivalKnown`); null for any other criterion. */
export function survivalYears(c: Criterion): number | null {
  if ('survived' in c) return c.survived.years;
  if ('survivalKnown' in c) return c.survivalKnown.years;
  return null;
}

/** Whether an indicator reads survival (the day of death, and a status 死亡 set by hand: counts.ts keeps no answer of it). */
export const readsSurvival = (ind: { denominator: { where: Criterion[] }; numerator: { where: Criterion[] } }): boolean =>
  [...ind.denominator.where, ...ind.numerator.where].some((c) => survivalYears(c) !== null);

const survivalCache = new WeakMap<object, boolean>();
/**
 * Whether some indicator of the programme reads survival: then its derived rows keep every episode,
 * however long ago it ended (engine.ts evaluateResident), since a cohort's survival counts deaths
 * of years ago. Read once per programme object.
 */
export function keepsEndedEpisodes(p: {
  indicators: readonly { denominator: { where: Criterion[] }; numerator: { where: Criterion[] } }[];
}): boolean {
  let out = survivalCache.get(p.indicators);
  if (out === undefined) survivalCache.set(p.indicators, (out = p.indicators.some(readsSurvival)));
  return out;
}

/** A FHIR id (R4: letters, digits, "-" and ".", at most 64). */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, { message: 'a FHIR id (letters, digits, - and ., at most 64)' });

/**
 * A record of a worked example: a FHIR R4 resource as a hospital or clinic sends it. Only its
 * type and id are checked here; the cases' test (indicator-cases.test.ts) validates each one
 * against R4 and reads it with facts.ts, as the processor does.
 */
export const CaseRecord = z.object({ resourceType: z.enum(RESOURCE_TYPES), id: FhirId }).passthrough();
export type CaseRecord = z.infer<typeof CaseRecord>;

/** A resident of a worked example: what PersonFacts needs of the Patient, and their records. */
export const CaseResident = z
  .object({
    /** The Patient id the records' subject (EpisodeOfCare: patient) names as Patient/<id>. */
    id: FhirId,
    birthDate: Day.optional(),
    gender: z.enum(['female', 'male', 'other', 'unknown']).optional(),
    /** The Patient's day (or time) of death, or only that the resident died (FHIR Patient.deceased[x]). */
    deceasedDateTime: z.string().optional(),
    deceasedBoolean: z.boolean().optional(),
    records: z.array(CaseRecord).default([]),
  })
  .strict();
export type CaseResident = z.infer<typeof CaseResident>;

/** A worked example of an indicator version: records in, figure out (written by hand from the norm). */
export const IndicatorCase = z
  .object({
    name: z.string().min(1),
    period: z.object({ from: Day, to: Day }).strict(),
    asOf: Day,
    residents: z.array(CaseResident),
    expect: z
      .object({
        numerator: z.number().int().min(0),
        denominator: z.number().int().min(0),
        /** The percentage with one decimal; null when the denominator is 0 and the rule says so. */
        value: z.number().nullable(),
      })
      .strict(),
  })
  .strict();
export type IndicatorCase = z.infer<typeof IndicatorCase>;

export const IndicatorSchema = z
  .object({
    code: Code,
    /** One definition of the indicator; the same code may come in several versions with adjoining dates. */
    version: z.string().min(1).optional(),
    effectiveFrom: Day.optional(),
    /** Last day in force; absent = still in force. */
    effectiveTo: Day.optional(),
    name: z.string().min(1),
    source: z.string().min(1),
    denominator: z
      .object({
        /** enrolled: an episode open in the period; started: episodes begun in it; ended: end events in it (deliveries). */
        population: z.enum(['enrolled', 'started', 'ended']).optional(),
        where: z.array(Criterion).default([]),
        /** A fixed estimate (e.g. the expected number of patients): never zero. */
        estimate: z.number().positive().optional(),
        text: z.string().min(1),
      })
      .strict(),
    numerator: z.object({ where: z.array(Criterion).min(1), text: z.string().min(1) }).strict(),
    /** What the figure is when the denominator is 0: null (no figure) or 0. Required when it can be 0. */
    whenDenominatorZero: z.enum(['null', 'zero']).optional(),
    target: z.number().min(0).max(100).optional(),
    targetSource: z.string().optional(),
    /** Worked examples; a file loaded at start needs at least one per indicator version. */
    cases: z.array(IndicatorCase).optional(),
  })
  .strict();

/**
 * An indicator version as the code sees it: `version` and `effectiveFrom` always set. A file
 * loaded at start (loadProgrammes) must give them and its cases; a programme written inside a
 * test (parseProgramme alone) may leave them out and gets version "1" from the programme's first
 * version's effectiveFrom, with no cases.
 */
export type Indicator = Omit<z.infer<typeof IndicatorSchema>, 'version' | 'effectiveFrom' | 'cases'> & {
  version: string;
  effectiveFrom: string;
  cases: IndicatorCase[];
};

const Named = z.object({ name: z.string().min(1), match: z.array(Matcher).min(1) }).strict();
/** FHIR R4 encounter-status codes a service may count (a cancelled or entered-in-error Encounter never does). */
export const ENCOUNTER_STATUSES = ['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'unknown'] as const;

/** A service may count only on a day a measure of the programme was taken (a follow-up with its blood pressure). */
const ServiceDef = Named.extend({
  withMeasure: z.string().optional(),
  /** How the measure is tied to the service: taken the same day (default), or naming its Encounter (Observation.encounter). */
  linkedBy: z.enum(['day', 'encounter']).optional(),
  /** Or, without the measure, the service's own record matches one of these (a follow-up reporting a symptom). */
  orRecorded: z.array(Matcher).min(1).optional(),
  /**
   * Encounters: the statuses (FHIR encounter-status) that count; absent = every status but
   * planned, cancelled and entered-in-error. Chronic care counts a planned follow-up too.
   */
  statuses: z.array(z.enum(ENCOUNTER_STATUSES)).min(1).optional(),
}).strict();
/**
 * A measure's plausible values (chronic care's physiological ranges): a record with a reading
 * outside `ranges` ("system|code" → [lowest, highest]), or with `lessThan` pairs out of order
 * (diastolic not below systolic), is no value of the measure.
 */
const MeasureDef = Named.extend({
  plausible: z
    .object({
      ranges: z.record(z.string(), z.tuple([z.number(), z.number()])).optional(),
      lessThan: z.array(z.tuple([z.string(), z.string()])).optional(),
    })
    .strict()
    .optional(),
}).strict();
/** A flag marks the episode when a matching fact starts in it (default), or, `scope: person`, when one is active at all (a comorbidity). */
const FlagDef = Named.extend({ scope: z.enum(['episode', 'person']).optional() }).strict();

export const ProgrammeSchema = z
  .object({
    $comment: z.string().optional(),
    code: Code,
    name: z.string().min(1),
    nameEn: z.string().optional(),
    source: z.string().min(1),
    entry: Entry,
    flags: z.record(Code, FlagDef).default({}),
    services: z.record(Code, ServiceDef),
    /** Assessments with coded or numeric values (病情, 治疗转归). */
    measures: z.record(Code, MeasureDef).default({}),
    /**
     * Controlled: the latest value of a measure in the episode is one of `values`; or, `byTargets`,
     * its numeric readings meet the targets of the version in force on their day. `atLastService`:
     * the readings taken on the day of the last such service in the period decide (chronic care's
     * 控制率: the latest follow-up), not the latest reading by the period's end.
     */
    controlled: z
      .object({
        name: z.string().min(1),
        measure: z.string(),
        values: z.array(z.string()).min(1).optional(),
        byTargets: z.literal(true).optional(),
        atLastService: z.string().optional(),
      })
      .strict()
      .optional(),
    versions: z.array(Version).min(1),
    indicators: z.array(IndicatorSchema).min(1),
  })
  .strict();
export type Programme = Omit<z.infer<typeof ProgrammeSchema>, 'indicators'> & { indicators: Indicator[] };

// ---- offsets ------------------------------------------------------------------------------

/** An offset in comparable form: days for d/w, months for m/y. */
export function parseOffset(o: string): { unit: 'days' | 'months'; n: number } {
  const n = Number(o.slice(0, -1));
  const u = o.at(-1);
  if (u === 'd') return { unit: 'days', n };
  if (u === 'w') return { unit: 'days', n: n * 7 };
  if (u === 'm') return { unit: 'months', n };
  return { unit: 'months', n: n * 12 };
}

/** Approximate length in days, for ordering offsets of different units only. */
const approxDays = (o: string) => {
  const p = parseOffset(o);
  return p.unit === 'days' ? p.n : p.n * 30.4375;
};
const sameOffset = (a: string, b: string) => {
  const x = parseOffset(a);
  const y = parseOffset(b);
  return x.unit === y.unit && x.n === y.n;
};

// ---- checks beyond the schema -------------------------------------------------------------

type LineOf = (p: (string | number)[]) => number;

type RawProgramme = z.infer<typeof ProgrammeSchema>;
type RawIndicator = z.infer<typeof IndicatorSchema>;

function checkProgramme(file: string, p: RawProgramme, lineOf: LineOf, complete: boolean): void {
  const fail = (at: (string | number)[], msg: string): never => {
    throw new RuleFileError(file, lineOf(at), msg);
  };
  const systems = (m: Matcher, at: (string | number)[]) => {
    if (!KNOWN_CODE_SYSTEMS.has(m.system)) fail([...at, 'system'], `unknown code system "${m.system}"`);
    if (m.valueSystem && !KNOWN_CODE_SYSTEMS.has(m.valueSystem)) fail([...at, 'valueSystem'], `unknown code system "${m.valueSystem}"`);
  };
  p.entry.facts?.forEach((m, k) => systems(m, ['entry', 'facts', k]));
  for (const group of ['flags', 'services', 'measures'] as const)
    for (const [key, n] of Object.entries<{ match: Matcher[] }>(p[group])) n.match.forEach((m, k) => systems(m, [group, key, 'match', k]));
  for (const [key, s] of Object.entries(p.services)) s.orRecorded?.forEach((m, k) => systems(m, ['services', key, 'orRecorded', k]));
  p.versions.forEach((v, vk) => {
    const f = v.managed.followUps;
    const at = ['versions', vk, 'managed', 'followUps'];
    f?.urgent?.whenRecorded?.forEach((m, k) => systems(m, [...at, 'urgent', 'whenRecorded', k]));
    f?.findings?.forEach((x, j) => x.whenRecorded.forEach((m, k) => systems(m, [...at, 'findings', j, 'whenRecorded', k])));
  });

  if (p.entry.anchor === 'fact' && !p.entry.facts?.length) fail(['entry'], 'an entry anchored on a fact needs "facts"');
  if (p.entry.anchor === 'birth' && p.entry.facts) fail(['entry', 'facts'], 'an entry by age takes no "facts"');
  const { min = 0, max } = p.entry.ageYears ?? {};
  if (max !== undefined && max <= min) fail(['entry', 'ageYears'], `ageYears: max ${max} is not above min ${min}`);
  if (p.entry.anchor === 'fact' && p.entry.ageYears) {
    if (!p.entry.ageOn) fail(['entry', 'ageYears'], 'ageYears on an entry anchored on a fact needs "ageOn" (the day the age is judged on)');
    if (p.entry.ageYears.min === undefined && max === undefined)
      fail(['entry', 'ageYears'], 'ageYears on an entry anchored on a fact needs "min" or "max"');
  }
  const endWhen = p.entry.endWhen;
  if (endWhen && p.entry.anchor !== 'fact')
    fail(['entry', 'endWhen'], 'endWhen needs an entry anchored on a fact (an entry by age ends by age)');
  endWhen?.facts.forEach((m, k) => systems(m, ['entry', 'endWhen', 'facts', k]));
  endWhen?.unless?.forEach((m, k) => systems(m, ['entry', 'endWhen', 'unless', k]));
  if (p.entry.implicit && p.entry.anchor !== 'birth')
    fail(['entry', 'implicit'], 'implicit enrolment needs an entry by age (anchor "birth")');
  if (p.entry.implicit && p.versions.some((v) => v.schedule.cycle !== 'year'))
    fail(['entry', 'implicit'], 'implicit enrolment needs a yearly schedule in every version (cycle "year")');
  if (p.entry.ageOn && (p.entry.anchor !== 'fact' || !p.entry.ageYears))
    fail(['entry', 'ageOn'], 'ageOn needs an entry anchored on a fact with "ageYears"');
  if (p.controlled && !p.measures[p.controlled.measure]) fail(['controlled', 'measure'], `unknown measure "${p.controlled.measure}"`);
  checkTargets(p, fail);
  const statuses = p.entry.activeStatuses;
  if (statuses) {
    if (!p.entry.facts?.some((m) => m.resource === 'Condition'))
      fail(['entry', 'activeStatuses'], 'activeStatuses needs an entry opened by a Condition (entry.facts)');
    if (!statuses.includes('active')) fail(['entry', 'activeStatuses'], 'activeStatuses must keep "active" diagnoses enrolled');
    const twice = statuses.find((x, k) => statuses.indexOf(x) !== k);
    if (twice) fail(['entry', 'activeStatuses'], `activeStatuses: "${twice}" appears twice`);
  }

  // Versions: ordered by start, none overlapping, none leaving a gap between them.
  const order = p.versions.map((v, k) => ({ v, k })).sort((a, b) => a.v.effectiveFrom.localeCompare(b.v.effectiveFrom));
  for (const { v, k } of order)
    if (v.effectiveTo && v.effectiveTo < v.effectiveFrom)
      fail(['versions', k, 'effectiveTo'], `version ${v.version}: effectiveTo ${v.effectiveTo} is before effectiveFrom ${v.effectiveFrom}`);
  for (let i = 1; i < order.length; i++) {
    const prev = order[i - 1]!;
    const cur = order[i]!;
    if (!prev.v.effectiveTo || prev.v.effectiveTo >= cur.v.effectiveFrom)
      fail(
        ['versions', cur.k, 'effectiveFrom'],
        `version ${cur.v.version} (from ${cur.v.effectiveFrom}) overlaps version ${prev.v.version} (line ${lineOf(['versions', prev.k])}, ${prev.v.effectiveFrom} to ${prev.v.effectiveTo ?? 'open'})`,
      );
    const next = new Date(`${prev.v.effectiveTo}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    if (next.toISOString().slice(0, 10) !== cur.v.effectiveFrom)
      fail(
        ['versions', cur.k, 'effectiveFrom'],
        `gap between version ${prev.v.version} (to ${prev.v.effectiveTo}) and version ${cur.v.version} (from ${cur.v.effectiveFrom})`,
      );
  }

  // Schedules: each series (from the start, from the end event) tiles its span without a gap or overlap.
  p.versions.forEach((v, vk) => {
    const at = (k: number, field?: string) => ['versions', vk, 'schedule', 'items', k, ...(field ? [field] : [])];
    const codes = new Set<string>();
    v.schedule.items.forEach((it, k) => {
      if (codes.has(it.code)) fail(at(k, 'code'), `item "${it.code}" appears twice`);
      codes.add(it.code);
      if (!p.services[it.service]) fail(at(k, 'service'), `unknown service "${it.service}"`);
      if (approxDays(it.to) <= approxDays(it.from))
        fail(at(k, 'to'), `item "${it.code}": window ends (${it.to}) before it starts (${it.from})`);
      if (it.relativeTo === 'end' && (v.schedule.cycle !== 'episode' || !p.entry.endEvent))
        fail(at(k, 'relativeTo'), `item "${it.code}": relativeTo "end" needs an episode cycle and an entry with endEvent`);
    });
    for (const series of ['start', 'end'] as const) {
      const items = v.schedule.items.map((it, k) => ({ it, k })).filter((x) => x.it.relativeTo === series);
      if (!items.length) continue;
      const first = items[0]!;
      if (!sameOffset(first.it.from, '0d') && !sameOffset(first.it.from, '0m'))
        fail(at(first.k, 'from'), `schedule gap: the first item "${first.it.code}" starts at ${first.it.from}, not at 0`);
      for (let i = 1; i < items.length; i++) {
        const a = items[i - 1]!;
        const b = items[i]!;
        if (!sameOffset(a.it.to, b.it.from)) {
          const gap = approxDays(b.it.from) > approxDays(a.it.to);
          fail(
            at(b.k, 'from'),
            `schedule ${gap ? 'gap' : 'overlap'}: item "${b.it.code}" starts at ${b.it.from} but "${a.it.code}" (line ${lineOf(at(a.k))}) ends at ${a.it.to}`,
          );
        }
      }
      if (v.schedule.cycle === 'year') {
        const last = items.at(-1)!;
        if (!sameOffset(last.it.to, '12m'))
          fail(
            at(last.k, 'to'),
            `schedule ${approxDays(last.it.to) < 365 ? 'gap' : 'overlap'}: a yearly schedule must end at 12m, "${last.it.code}" ends at ${last.it.to}`,
          );
      }
    }
    if (v.managed.minServices && !p.services[v.managed.minServices.service])
      fail(['versions', vk, 'managed', 'minServices', 'service'], `unknown service "${v.managed.minServices.service}"`);
  });

  // Indicators: references resolve, a denominator that can be 0 says what then, versions of
  // one code adjoin, and each version's worked examples are well formed.
  const allItems = new Set(p.versions.flatMap((v) => v.schedule.items.map((i) => i.code)));
  p.indicators.forEach((ind, k) => {
    const at = (...rest: (string | number)[]) => ['indicators', k, ...rest];
    const d = ind.denominator;
    if (!!d.population === (d.estimate !== undefined))
      fail(at('denominator'), `indicator "${ind.code}": the denominator needs either a population or an estimate`);
    if (d.estimate !== undefined && d.where.length)
      fail(at('denominator', 'where'), `indicator "${ind.code}": an estimate takes no "where"`);
    if (d.population && !ind.whenDenominatorZero)
      fail(
        at('denominator'),
        `indicator "${ind.code}": its denominator (${d.population}) can be 0 and there is no rule for it (add "whenDenominatorZero": "null" or "zero")`,
      );
    const check = (c: Criterion, where: (string | number)[]) => {
      if ('delivered' in c && !allItems.has(c.delivered)) fail(where, `unknown schedule item "${c.delivered}"`);
      if ('services' in c) for (const s of [c.services].flat()) if (!p.services[s]) fail(where, `unknown service "${s}"`);
      if ('flag' in c && !p.flags[c.flag]) fail(where, `unknown flag "${c.flag}"`);
      if ('measure' in c && !p.measures[c.measure]) fail(where, `unknown measure "${c.measure}"`);
      if ('controlled' in c && !p.controlled) fail(where, 'this programme defines no "controlled"');
      if ('services' in c && c.within !== undefined && c.in !== 'episode')
        fail(
          where,
          '"within" counts from the episode\'s start: it needs "in": "episode" (a period has no start to count from; narrow the period instead)',
        );
      if ('services' in c && c.measuredBy === 'asOf' && c.in !== 'episode')
        fail(where, '"measuredBy": "asOf" follows an episode to asOf: it needs "in": "episode" (services within the period end with it)');
      if (survivalYears(c) !== null && p.entry.anchor !== 'fact')
        fail(
          where,
          'survival counts from the record that opened the episode (a diagnosis, a registration): it needs an entry anchored on a fact',
        );
    };
    d.where.forEach((c, j) => check(c, at('denominator', 'where', j)));
    ind.numerator.where.forEach((c, j) => check(c, at('numerator', 'where', j)));
    // A survival rate counts only residents whose outcome at the anniversary is known (the direct method).
    ind.numerator.where.forEach((c, j) => {
      if (!('survived' in c)) return;
      const years = c.survived.years;
      if (!d.where.some((x) => 'survivalKnown' in x && x.survivalKnown.years === years))
        fail(
          at('numerator', 'where', j),
          `indicator "${ind.code}": "survived" ${years} years needs { "survivalKnown": { "years": ${years} } } in the denominator (residents censored before then, or not yet followed ${years} years, are out of it)`,
        );
    });
    if (complete) {
      if (ind.version === undefined) fail(at('code'), `indicator "${ind.code}": no "version"`);
      if (ind.effectiveFrom === undefined) fail(at('code'), `indicator "${ind.code}": no "effectiveFrom"`);
      if (!ind.cases?.length)
        fail(at('code'), `indicator "${ind.code}" version ${ind.version}: no worked examples (add "cases": records in, figure out)`);
    }
  });
  checkIndicatorVersions(p, lineOf, fail);
  p.indicators.forEach((ind, k) => ind.cases?.forEach((c, j) => checkCase(p, ind, c, ['indicators', k, 'cases', j], fail)));
}

/** Numeric targets, follow-up chains, services with a measure and person-wide flags: references resolve and the pieces agree. */
function checkTargets(p: RawProgramme, fail: (at: (string | number)[], msg: string) => never): void {
  const c = p.controlled;
  if (c && !!c.values === !!c.byTargets)
    fail(['controlled'], 'controlled needs either "values" (coded) or "byTargets": true (numeric targets of each version)');
  if (c?.atLastService && !p.services[c.atLastService]) fail(['controlled', 'atLastService'], `unknown service "${c.atLastService}"`);
  p.versions.forEach((v, k) => {
    if (c?.byTargets && !v.targets) fail(['versions', k], `version ${v.version}: controlled by targets, but no "targets"`);
    if (v.targets && !c?.byTargets) fail(['versions', k, 'targets'], `version ${v.version}: targets, but "controlled" is not "byTargets"`);
    v.targets?.bands.forEach((b, j) => {
      if (b.ageYears && b.ageYears.max < b.ageYears.min)
        fail(['versions', k, 'targets', 'bands', j, 'ageYears'], `ageYears: max ${b.ageYears.max} is below min ${b.ageYears.min}`);
      for (const flag of b.whenFlags ?? [])
        if (!p.flags[flag]) fail(['versions', k, 'targets', 'bands', j, 'whenFlags'], `unknown flag "${flag}"`);
      for (const check of [...(b.all ?? []), ...(b.first ?? [])])
        if (!/^[^|]+\|[^|]+$/.test(check.reading))
          fail(['versions', k, 'targets', 'bands', j], `reading "${check.reading}": expected "system|code"`);
    });
    const f = v.managed.followUps;
    if (f && !p.services[f.service]) fail(['versions', k, 'managed', 'followUps', 'service'], `unknown service "${f.service}"`);
    if (f && !c?.byTargets && !c?.values) fail(['versions', k, 'managed', 'followUps'], 'followUps needs a "controlled" rule');
    // The chain's next follow-up is kept as an item of this code (next-follow-up.ts): no scheduled item may take it.
    if (f)
      v.schedule.items.forEach((it, j) => {
        if (it.code === 'next-follow-up')
          fail(
            ['versions', k, 'schedule', 'items', j, 'code'],
            'item code "next-follow-up" is the follow-up chain\'s next follow-up: use another code',
          );
      });
    // What a follow-up records is read from its own record: the matchers name the service's resource.
    const own = f ? p.services[f.service]!.match.map((m) => m.resource) : [];
    const recorded = (ms: Matcher[], at: (string | number)[]) =>
      ms.forEach((m, j) => {
        if (!own.includes(m.resource))
          fail([...at, j, 'resource'], `a follow-up's record is a ${own.join(' or ')}: a matcher on ${m.resource} never applies`);
      });
    if (f?.urgent?.whenRecorded) recorded(f.urgent.whenRecorded, ['versions', k, 'managed', 'followUps', 'urgent', 'whenRecorded']);
    f?.findings?.forEach((x, j) => recorded(x.whenRecorded, ['versions', k, 'managed', 'followUps', 'findings', j, 'whenRecorded']));
  });
  for (const [code, s] of Object.entries(p.services)) {
    if (s.withMeasure && !p.measures[s.withMeasure]) fail(['services', code, 'withMeasure'], `unknown measure "${s.withMeasure}"`);
    if (s.linkedBy && !s.withMeasure) fail(['services', code, 'linkedBy'], 'linkedBy needs "withMeasure"');
    if (s.linkedBy === 'encounter' && s.match.some((m) => m.resource !== 'Encounter'))
      fail(['services', code, 'linkedBy'], 'linkedBy "encounter" needs a service matched on Encounters');
    if (s.orRecorded && !s.withMeasure)
      fail(['services', code, 'orRecorded'], 'orRecorded needs "withMeasure" (it is the alternative to it)');
    s.orRecorded?.forEach((m, j) => {
      if (!s.match.some((x) => x.resource === m.resource))
        fail(
          ['services', code, 'orRecorded', j, 'resource'],
          `the service is matched on ${s.match.map((x) => x.resource).join(', ')}: a matcher on ${m.resource} never applies`,
        );
    });
    if (s.statuses && s.match.some((m) => m.resource !== 'Encounter'))
      fail(['services', code, 'statuses'], 'statuses (encounter-status) need a service matched on Encounters');
  }
  for (const [code, m] of Object.entries(p.measures))
    for (const [reading, [lo, hi]] of Object.entries(m.plausible?.ranges ?? {}))
      if (hi < lo) fail(['measures', code, 'plausible', 'ranges', reading], `plausible range of "${reading}": ${hi} is below ${lo}`);
}

/** The first day of a programme (its earliest version), where an indicator without dates starts. */
const firstDay = (p: RawProgramme) => p.versions.map((v) => v.effectiveFrom).sort()[0]!;
const dayAfter = (day: string) => {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
};

/** Versions of one indicator code: distinct names, ordered dates, none overlapping, no gap between them. */
function checkIndicatorVersions(p: RawProgramme, lineOf: LineOf, fail: (at: (string | number)[], msg: string) => never): void {
  const byCode = new Map<string, { ind: RawIndicator; k: number; from: string }[]>();
  p.indicators.forEach((ind, k) => {
    const list = byCode.get(ind.code) ?? [];
    list.push({ ind, k, from: ind.effectiveFrom ?? firstDay(p) });
    byCode.set(ind.code, list);
  });
  for (const [code, list] of byCode) {
    const name = (x: { ind: RawIndicator }) => x.ind.version ?? '1';
    const names = new Map<string, number>();
    for (const x of list) {
      const other = names.get(name(x));
      if (other !== undefined)
        fail(
          ['indicators', x.k, x.ind.version === undefined ? 'code' : 'version'],
          `indicator "${code}" version ${name(x)} appears twice (line ${lineOf(['indicators', other])})`,
        );
      names.set(name(x), x.k);
      if (x.ind.effectiveTo && x.ind.effectiveTo < x.from)
        fail(
          ['indicators', x.k, 'effectiveTo'],
          `indicator "${code}" version ${name(x)}: effectiveTo ${x.ind.effectiveTo} is before effectiveFrom ${x.from}`,
        );
    }
    const order = [...list].sort((a, b) => a.from.localeCompare(b.from));
    for (let i = 1; i < order.length; i++) {
      const prev = order[i - 1]!;
      const cur = order[i]!;
      const at = ['indicators', cur.k, cur.ind.effectiveFrom === undefined ? 'code' : 'effectiveFrom'];
      if (!prev.ind.effectiveTo || prev.ind.effectiveTo >= cur.from)
        fail(
          at,
          `indicator "${code}" version ${name(cur)} (from ${cur.from}) overlaps version ${name(prev)} (line ${lineOf(['indicators', prev.k])}, ${prev.from} to ${prev.ind.effectiveTo ?? 'open'})`,
        );
      if (dayAfter(prev.ind.effectiveTo) !== cur.from)
        fail(
          at,
          `indicator "${code}": gap between version ${name(prev)} (to ${prev.ind.effectiveTo}) and version ${name(cur)} (from ${cur.from})`,
        );
    }
  }
}

/** A worked example: a period in order and judged under its own version, records of its residents, figures that can be. */
function checkCase(
  p: RawProgramme,
  ind: RawIndicator,
  c: IndicatorCase,
  at: (string | number)[],
  fail: (at: (string | number)[], msg: string) => never,
): void {
  const label = `indicator "${ind.code}" case "${c.name}"`;
  if (c.period.to < c.period.from)
    fail([...at, 'period'], `${label}: the period ends (${c.period.to}) before it starts (${c.period.from})`);
  const judged = c.period.to < c.asOf ? c.period.to : c.asOf;
  const from = ind.effectiveFrom ?? firstDay(p);
  if (judged < from || (ind.effectiveTo && judged > ind.effectiveTo))
    fail(
      [...at, 'period'],
      `${label}: judged on ${judged} (the period's end, or asOf when earlier), outside version ${ind.version ?? '1'} (${from} to ${ind.effectiveTo ?? 'open'}): move it to the version in force then`,
    );
  const ids = new Set<string>();
  const refs = new Set<string>();
  c.residents.forEach((r, i) => {
    if (ids.has(r.id)) fail([...at, 'residents', i, 'id'], `${label}: resident "${r.id}" appears twice`);
    ids.add(r.id);
    r.records.forEach((rec, j) => {
      const where = [...at, 'residents', i, 'records', j];
      const ref = `${rec.resourceType}/${rec.id}`;
      if (refs.has(ref)) fail([...where, 'id'], `${label}: record ${ref} appears twice`);
      refs.add(ref);
      const field = rec.resourceType === 'EpisodeOfCare' ? 'patient' : 'subject';
      const named = (rec as Record<string, unknown>)[field] as { reference?: unknown } | undefined;
      if (named?.reference !== `Patient/${r.id}`)
        fail(named ? [...where, field] : where, `${label}: record ${ref} must name its resident in ${field}.reference ("Patient/${r.id}")`);
    });
  });
  const e = c.expect;
  if (e.numerator > e.denominator)
    fail([...at, 'expect'], `${label}: the numerator (${e.numerator}) is above the denominator (${e.denominator})`);
  if (ind.denominator.estimate !== undefined && e.denominator !== ind.denominator.estimate)
    fail([...at, 'expect', 'denominator'], `${label}: the denominator is the estimate, ${ind.denominator.estimate}`);
  if (e.value === null && e.denominator > 0) fail([...at, 'expect', 'value'], `${label}: a value of null needs a denominator of 0`);
  if (e.value !== null && (e.value < 0 || e.value > 100))
    fail([...at, 'expect', 'value'], `${label}: the value is a percentage (0 to 100)`);
}

/** Gives every indicator its version and dates (a programme written inside a test may leave them out). */
function completeIndicators(p: RawProgramme): Programme {
  const from = firstDay(p);
  return {
    ...p,
    indicators: p.indicators.map((i) => ({
      ...i,
      version: i.version ?? '1',
      effectiveFrom: i.effectiveFrom ?? from,
      cases: i.cases ?? [],
    })),
  };
}

/**
 * Parses one programme file's text; throws RuleFileError (file:line: what) on anything wrong.
 * `complete` (how loadProgrammes reads config/programmes): every indicator version states its
 * version, effectiveFrom and at least one worked example.
 */
export function parseProgramme(file: string, text: string, opts: { complete?: boolean } = {}): Programme {
  return completeIndicators(
    parseRuleText(file, text, ProgrammeSchema, (p, lineOf) => checkProgramme(file, p, lineOf, opts.complete ?? false)),
  );
}

export const programmesDir = path.join(repoConfigDir, 'programmes');

/** Every programme under config/programmes, by code; two files with one code refuse to load. */
export function loadProgrammes(dir = programmesDir): Programme[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const out: Programme[] = [];
  const byCode = new Map<string, string>();
  for (const f of files) {
    const display = path.relative(process.cwd(), path.join(dir, f)) || f;
    const p = parseProgramme(display, fs.readFileSync(path.join(dir, f), 'utf8'), { complete: true });
    const other = byCode.get(p.code);
    if (other) throw new RuleFileError(display, 1, `programme code "${p.code}" is already used by ${other}`);
    byCode.set(p.code, display);
    out.push(p);
  }
  if (!out.length) throw new Error(`${dir}: no programme files`);
  return out;
}

/** A programme's versions in order of effectiveFrom, sorted once (the engine asks for every episode). */
const byEffectiveFrom = new WeakMap<Version[], Version[]>();

/** The version in force on a day: the latest starting on or before it, else the earliest. */
export function versionOn(p: Programme, day: string): Version {
  let sorted = byEffectiveFrom.get(p.versions);
  if (!sorted) byEffectiveFrom.set(p.versions, (sorted = [...p.versions].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom))));
  let found = sorted[0]!;
  for (const v of sorted) if (v.effectiveFrom <= day) found = v;
  return found;
}

/** A programme's indicator versions by code, each list in order of effectiveFrom, codes in file order (sorted once). */
const versionsByCode = new WeakMap<Indicator[], Map<string, Indicator[]>>();
function indicatorVersions(p: Programme): Map<string, Indicator[]> {
  let out = versionsByCode.get(p.indicators);
  if (!out) {
    out = new Map();
    for (const ind of p.indicators) out.set(ind.code, [...(out.get(ind.code) ?? []), ind]);
    for (const list of out.values()) list.sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
    versionsByCode.set(p.indicators, out);
  }
  return out;
}

/**
 * The version of an indicator a period uses: the one in force on the period's judged end (its
 * last day, or asOf when that comes first; `judgedUntil` in engine.ts), as the managed rule takes
 * the programme version in force then. Before the first version, the first; after the last one's
 * effectiveTo, the last. Undefined for an unknown code.
 */
export function indicatorOn(p: Programme, code: string, day: string): Indicator | undefined {
  const list = indicatorVersions(p).get(code);
  if (!list) return undefined;
  let found = list[0]!;
  for (const v of list) if (v.effectiveFrom <= day) found = v;
  return found;
}

/** Every indicator of a programme, each in the version in force on a day (see indicatorOn), in file order. */
export const indicatorsOn = (p: Programme, day: string): Indicator[] =>
  [...indicatorVersions(p).keys()].map((code) => indicatorOn(p, code, day)!);
