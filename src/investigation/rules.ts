/**
 * Investigation rules as data (config/investigation/rules.json): deadlines per disease class,
 * and per disease its ICD-10 codes, incubation period, follow-up window, the case's infectious
 * period in which contacts are sought, the kinds of contact proposed and its form. Read and
 * checked once at start: a bad field refuses the file, naming its line. Everything else here is
 * pure arithmetic on the rules.
 */
import fs from 'node:fs';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { addDays } from '../shared/dates.js';

export const RULES_FILE = new URL('../../config/investigation/rules.json', import.meta.url);
export const QUESTIONNAIRE_DIR = new URL('../../config/investigation/questionnaires/', import.meta.url);

export const CONTACT_KINDS = ['household', 'room', 'ward', 'department', 'school-class', 'care-home'] as const;
export type ContactKind = (typeof CONTACT_KINDS)[number];
/** Co-stay kinds, most specific first. */
export const STAY_KINDS = ['room', 'ward', 'department'] as const satisfies readonly ContactKind[];
export type StayKind = (typeof STAY_KINDS)[number];

const DiseaseClass = z.enum(['A', 'B', 'C', 'outbreak']);
export type DiseaseClass = z.infer<typeof DiseaseClass>;

const Disease = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and hyphens'),
    name: z.string().min(1),
    class: DiseaseClass,
    icd10: z.array(z.string().regex(/^[A-Z]\d{2}(\.\d{1,2})?$/, 'an ICD-10 code such as A15 or B08.4')).min(1),
    incubationDays: z
      .object({ min: z.number().int().min(0).max(365), max: z.number().int().min(0).max(365) })
      .refine((r) => r.min <= r.max, 'min must not exceed max'),
    followUpDays: z.number().int().min(1).max(365),
    contactWindow: z.object({ daysBeforeOnset: z.number().int().min(0).max(365), daysAfterOnset: z.number().int().min(0).max(365) }),
    contactKinds: z.array(z.enum(CONTACT_KINDS)).min(1),
    minOverlapHours: z.number().min(0).max(720).default(0),
    schoolExclusionDays: z.number().int().min(0).max(60).default(0),
    deadlineHours: z.number().positive().max(720).optional(),
    questionnaire: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a Questionnaire id'),
  })
  .strict();
export type DiseaseRule = z.infer<typeof Disease>;

const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Span = z.tuple([IsoDay, IsoDay]).refine(([a, b]) => a <= b, 'the end is before the start');
const SchoolCalendarFile = z
  .object({
    $comment: z.string().optional(),
    terms: z.array(Span).min(1),
    holidays: z.array(z.tuple([IsoDay, IsoDay, z.string()]).refine(([a, b]) => a <= b, 'the end is before the start')),
    workdays: z.array(IsoDay),
  })
  .strict();

/** Report-card statuses (the surveillance module's) and the FHIR Task status each is written as. */
export const CARD_TASK_STATUS = { draft: 'draft', submitted: 'requested', reviewed: 'accepted' } as const;
export type CardStatus = keyof typeof CARD_TASK_STATUS;

const AutoOpenFile = z
  .object({
    $comment: z.string().optional(),
    classes: z.array(DiseaseClass).default([]),
    diseases: z.array(z.string()).default([]),
    cardStatuses: z
      .array(z.enum(['draft', 'submitted', 'reviewed']))
      .min(1)
      .default(['submitted', 'reviewed']),
    maxCardAgeHours: z.number().positive().max(8760).default(72),
    maxOnsetAgeDays: z.number().int().min(0).max(365).default(30),
    assignee: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]{2,64}$/, 'a username')
      .optional(),
  })
  .strict();

const FollowUpFile = z
  .object({
    $comment: z.string().optional(),
    escalateAfterHours: z.number().min(0).max(720).default(24),
    planDaysAhead: z.number().int().min(0).max(7).default(1),
  })
  .strict();

const RulesFile = z
  .object({
    $comment: z.string().optional(),
    version: z.number().int().min(1),
    classes: z.record(DiseaseClass, z.object({ name: z.string(), deadlineHours: z.number().positive().max(720) }).strict()),
    autoOpen: AutoOpenFile.default({}),
    followUp: FollowUpFile.default({}),
    schoolCalendar: SchoolCalendarFile,
    diseases: z.array(Disease).min(1),
  })
  .strict();

/**
 * The district's school calendar (校历): a day is a school day inside a term when it is a weekday
 * outside the public holidays, or a make-up workday (调休) the State Council moved onto a weekend.
 * Outside the span the terms cover nothing is known, and every such weekday that is not a holiday
 * counts (so contacts are never dropped for want of a calendar).
 */
export class SchoolCalendar {
  private readonly holidays = new Set<string>();
  private readonly workdays: ReadonlySet<string>;
  private readonly terms: readonly (readonly [string, string])[];
  private readonly covers: readonly [string, string];

  constructor(file: z.infer<typeof SchoolCalendarFile>) {
    this.terms = [...file.terms].sort((a, b) => a[0].localeCompare(b[0]));
    this.covers = [this.terms[0]![0], this.terms.reduce((m, t) => (t[1] > m ? t[1] : m), this.terms[0]![1])];
    for (const [a, b] of file.holidays) for (let d = a; d <= b; d = addDays(d, 1)) this.holidays.add(d);
    this.workdays = new Set(file.workdays);
  }

  isSchoolDay(day: string): boolean {
    if (this.holidays.has(day)) return false;
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    const working = this.workdays.has(day) || (weekday !== 0 && weekday !== 6);
    if (!working) return false;
    if (day < this.covers[0] || day > this.covers[1]) return true;
    return this.terms.some(([a, b]) => day >= a && day <= b);
  }
}

export interface InvestigationRules {
  version: number;
  classes: Record<DiseaseClass, { name: string; deadlineHours: number }>;
  /** Which report cards open an investigation by themselves: diseases of these classes, these diseases, cards in these statuses. */
  autoOpen: {
    classes: DiseaseClass[];
    diseases: string[];
    cardStatuses: CardStatus[];
    /** Cards written longer ago than this (a history replayed, a district loaded) open nothing. */
    maxCardAgeHours: number;
    /** Nor do cards whose onset is longer ago than this. */
    maxOnsetAgeDays: number;
    assignee?: string;
  };
  /** Daily checks: a missed one escalates this many hours after it was missed; visits are planned this many days ahead. */
  followUp: { escalateAfterHours: number; planDaysAhead: number };
  schoolCalendar: SchoolCalendar;
  diseases: ReadonlyMap<string, DiseaseRule>;
}

export class RulesError extends Error {}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses and checks the rules; a problem throws naming `source:line` and the field. */
export function parseRules(text: string, source = 'rules.json'): InvestigationRules {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length || !tree)
    throw new RulesError(
      `${source}:${lineOf(text, errors[0]?.offset ?? 0)}: not valid JSON (${printParseErrorCode(errors[0]?.error ?? 1)})`,
    );
  const at = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node: JsonNode | undefined = findNodeAtLocation(tree, path.slice(0, n));
      if (node) return lineOf(text, node.offset);
    }
    return 1;
  };
  const fail = (path: (string | number)[], msg: string): never => {
    throw new RulesError(`${source}:${at(path)}: ${path.join('.') || 'top level'}: ${msg}`);
  };
  const parsed = RulesFile.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return fail(i.path as (string | number)[], i.message);
  }
  const file = parsed.data;
  for (const c of DiseaseClass.options) if (!file.classes[c]) fail(['classes'], `class '${c}' is missing`);
  const diseases = new Map<string, DiseaseRule>();
  file.diseases.forEach((d, i) => {
    if (diseases.has(d.key)) fail(['diseases', i, 'key'], `disease '${d.key}' is listed twice`);
    if (d.followUpDays < d.incubationDays.max)
      fail(
        ['diseases', i, 'followUpDays'],
        `${d.key}: the follow-up window (${d.followUpDays} d) is shorter than the longest incubation (${d.incubationDays.max} d)`,
      );
    diseases.set(d.key, d);
  });
  file.autoOpen.diseases.forEach((k, i) => {
    if (!diseases.has(k)) fail(['autoOpen', 'diseases', i], `'${k}' is not a disease key of this file`);
  });
  return {
    version: file.version,
    classes: file.classes as InvestigationRules['classes'],
    autoOpen: file.autoOpen,
    followUp: file.followUp,
    schoolCalendar: new SchoolCalendar(file.schoolCalendar),
    diseases,
  };
}

export function loadRules(file: URL | string = RULES_FILE): InvestigationRules {
  const text = fs.readFileSync(file, 'utf8');
  return parseRules(text, typeof file === 'string' ? file : 'config/investigation/rules.json');
}

/** The disease a key or an ICD-10 code names (the longest matching code prefix wins). */
export function diseaseFor(rules: InvestigationRules, codeOrKey: string): DiseaseRule | undefined {
  const direct = rules.diseases.get(codeOrKey);
  if (direct) return direct;
  const code = codeOrKey.trim().toUpperCase();
  let best: { rule: DiseaseRule; len: number } | undefined;
  for (const rule of rules.diseases.values())
    for (const c of rule.icd10)
      if ((code === c || code.startsWith(`${c}.`) || (c.length === 3 && code.startsWith(c))) && (!best || c.length > best.len))
        best = { rule, len: c.length };
  return best?.rule;
}

/** Hours to finish an investigation: the disease's own figure, else its class's; from an alert, an outbreak's at most. */
export function deadlineHours(rules: InvestigationRules, disease: DiseaseRule, fromAlert: boolean): number {
  const own = disease.deadlineHours ?? rules.classes[disease.class].deadlineHours;
  return fromAlert ? Math.min(own, rules.classes.outbreak.deadlineHours) : own;
}

const DAY = 86_400_000;

/** The case's infectious period in which contacts are sought (onset − before … min(onset + after, now)). */
export function contactWindow(disease: DiseaseRule, onset: string, now: Date): { start: string; end: string } {
  const o = Date.parse(onset.length === 10 ? `${onset}T00:00:00+08:00` : onset);
  const start = o - disease.contactWindow.daysBeforeOnset * DAY;
  const end = Math.max(start, Math.min(o + (disease.contactWindow.daysAfterOnset + 1) * DAY, now.getTime()));
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/**
 * Whether a report card of this disease in this status opens an investigation by itself, and by
 * which rule (words for the screen): its class is listed, or the disease itself.
 */
export function autoOpenRule(rules: InvestigationRules, disease: DiseaseRule, cardStatus: CardStatus): string | undefined {
  if (!rules.autoOpen.cardStatuses.includes(cardStatus)) return undefined;
  if (rules.autoOpen.diseases.includes(disease.key)) return `病种 ${disease.name}`;
  if (rules.autoOpen.classes.includes(disease.class)) return `${rules.classes[disease.class].name}传染病`;
  return undefined;
}
