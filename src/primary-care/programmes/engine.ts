/**
 * The programme engine: a resident's facts in, their episodes out (enrolment, the scheduled
 * items with their windows and what fulfilled them, flags, the latest assessments), and the
 * questions indicators ask of an episode in a period. Pure: no I/O, no clock (the caller gives
 * `asOf`), so every rule can be tested with worked examples.
 */
import { addDays as addDaysOnce, ageOn } from '../../shared/dates.js';
import { addMonths as addMonthsOnce } from '../immunization/schedule.js';
import { keepsEndedEpisodes, parseOffset, versionOn, type Criterion, type Indicator, type Matcher, type Programme } from './definition.js';
import { CONDITION_CLINICAL_SYSTEM, CONDITION_VERIFICATION_SYSTEM, ENCOUNTER_STATUS_SYSTEM } from './uris.js';

export interface PersonFacts {
  patientId: string;
  name: string | null;
  birthDate: string | null;
  gender: string | null;
  areaCode: string | null;
  organizationId: string | null;
  deceased: boolean;
  /**
   * The day of death (Patient.deceasedDateTime's calendar day, read as every fact's day is; a
   * partial date, its first day), null or absent when unknown: every episode ends on it, as a
   * status of 死亡 set by hand does. A death recorded without a date (deceasedBoolean) is only
   * `deceased`.
   */
  deceasedOn?: string | null;
}

/** One FHIR resource as the engine sees it (see facts.ts for how each type is read). */
export interface Fact {
  ref: string;
  resourceType: string;
  /** Every coding as "system|code" (an Encounter's include what chronic care's follow-up form records, uris.ts FOLLOW_UP_FIELDS). */
  codes: string[];
  start: string | null;
  end: string | null;
  /** Not cancelled, refuted or entered in error; for conditions, still active (active, recurrence, relapse) and not provisional. */
  active: boolean;
  /** Coded values as "system|code"; a Condition's are its clinical and verification statuses, an Encounter's its status. */
  valueCodes: string[];
  valueNum: number | null;
  /**
   * Numeric values by "system|code": an Observation's own value under each of its codes and each
   * component's value under the component's codes (a blood pressure panel's 8480-6 and 8462-4).
   * Read by numeric targets (`controlled.byTargets`); kept in prog_fact.readings (migration 362).
   */
  readings?: Record<string, number>;
  /** An Observation's encounter ("Encounter/<id>"), for services linked to their measure by encounter (prog_fact.encounter). */
  encounter?: string;
}

/**
 * What a doctor recorded by hand for a resident in one programme (prog_registration, the registry
 * routes): an enrolment without a diagnosis record, and a status other than managed from a day on.
 */
export interface Registration {
  /** Enrolled by hand from this day (chronic care's manual enrolment); null: not by hand. */
  enrolledOn: string | null;
  status: 'managed' | 'transferred' | 'died';
  /** The day a status other than managed took effect (null when managed). */
  statusOn: string | null;
  statusReason?: string | null;
}

export interface ItemState {
  code: string;
  name: string;
  service: string;
  /** The date its offsets are measured from (episode start, cycle start or end event). */
  base: string;
  /** Window [from, to): a service in it fulfils the item. */
  from: string;
  to: string;
  recommended: string | null;
  deliveredOn: string | null;
  deliveredRef: string | null;
  version: string;
}

export interface ServiceGiven {
  service: string;
  date: string;
  ref: string;
  /** The record's type and codes (what a follow-up reports: managed.followUps findings and urgent.whenRecorded). */
  resourceType: string;
  codes: string[];
}

export interface Episode {
  key: string;
  start: string;
  /** First day no longer enrolled; null = open. */
  end: string | null;
  /** The end event (delivery) when the programme has one and it is known. */
  endEvent: string | null;
  version: string;
  flags: string[];
  items: ItemState[];
  services: ServiceGiven[];
  /**
   * The day the resident died, when known: the Patient's day of death or the day of a status 死亡
   * set by hand in this programme, the earlier (the day the episode was cut, unless it closed or
   * the resident moved away before). Absent when alive or the day is unknown. Read by survival.
   */
  diedOn?: string;
  /** Dated values of the programme's measures, oldest first. */
  measures: {
    measure: string;
    date: string;
    ref: string;
    codes: string[];
    num: number | null;
    readings?: Record<string, number>;
    encounter?: string;
  }[];
}

export type ItemStatus = 'done' | 'upcoming' | 'due' | 'overdue';

/** The key of an episode opened by a manual enrolment (no record opened it). */
export const MANUAL_EPISODE = 'manual';

/** Items later than this after asOf are not listed yet. */
export const HORIZON_DAYS = 366;

/**
 * Date arithmetic, remembered: a district's residents share most of the dates it is asked about
 * (asOf, the first of January, birthdays, window bounds), and a full recompute asks it tens of
 * millions of times. One map per shift (there are few), then by date; cleared when it grows large.
 */
function remembered(fn: (date: string, n: number) => string): (date: string, n: number) => string {
  const byShift = new Map<number, Map<string, string>>();
  let size = 0;
  return (date, n) => {
    let dates = byShift.get(n);
    if (!dates) byShift.set(n, (dates = new Map()));
    let out = dates.get(date);
    if (out === undefined) {
      if (++size > 500_000) {
        byShift.clear();
        byShift.set(n, dates);
        dates.clear();
        size = 1;
      }
      out = fn(date, n);
      dates.set(date, out);
    }
    return out;
  };
}

/** `addDays` (shared/dates.ts) and `addMonths` (immunization/schedule.ts), remembered. */
export const addDays = remembered(addDaysOnce);
export const addMonths = remembered(addMonthsOnce);

const offsets = new Map<string, ReturnType<typeof parseOffset>>();

export function addOffset(date: string, offset: string): string {
  let o = offsets.get(offset);
  if (!o) offsets.set(offset, (o = parseOffset(offset)));
  return o.unit === 'days' ? addDays(date, o.n) : addMonths(date, o.n);
}

const codeOf = (c: string) => c.slice(c.indexOf('|') + 1);

/**
 * Whether "system|code" is of a system: `c.slice(0, c.indexOf('|')) === system` without cutting
 * the string, as the engine asks it for every code of every fact against every matcher.
 */
function systemIs(c: string, system: string | undefined): boolean {
  if (system === undefined) return false;
  const bar = c.indexOf('|');
  return bar < 0 ? c.slice(0, -1) === system : bar === system.length && c.startsWith(system);
}

/** Whether the code of "system|code" (codeOf) is one of these, without cutting the string. */
function codeIn(c: string, codes: readonly string[]): boolean {
  const at = c.indexOf('|') + 1;
  const length = c.length - at;
  for (const k of codes) if (k.length === length && c.startsWith(k, at)) return true;
  return false;
}

/** Matchers' prefixes in upper case, by prefix list (they are compared with every code of the system). */
const upperPrefixes = new WeakMap<readonly string[], string[]>();

function prefixed(c: string, prefixes: readonly string[]): boolean {
  let upper = upperPrefixes.get(prefixes);
  if (!upper) upperPrefixes.set(prefixes, (upper = prefixes.map((p) => p.toUpperCase())));
  const code = codeOf(c).toUpperCase();
  for (const p of upper) if (code.startsWith(p)) return true;
  return false;
}

function codeMatches(m: Matcher, f: Pick<Fact, 'resourceType' | 'codes'>): boolean {
  if (f.resourceType !== m.resource) return false;
  for (const c of f.codes) {
    if (!systemIs(c, m.system)) continue;
    if (m.anyCode === true || (m.codes !== undefined && codeIn(c, m.codes)) || (m.prefixes !== undefined && prefixed(c, m.prefixes)))
      return true;
  }
  return false;
}

/** Whether a service's own record (its codes) matches any of these matchers (what a follow-up reports). */
function recordMatches(ms: Matcher[] | undefined, g: ServiceGiven): boolean {
  if (!ms) return false;
  for (const m of ms) if (codeMatches(m, g)) return true;
  return false;
}

export function matches(m: Matcher, f: Fact): boolean {
  if (!codeMatches(m, f)) return false;
  if (m.values && !valueIn(f, m.valueSystem, m.values)) return false;
  if (m.min !== undefined && (f.valueNum === null || f.valueNum < m.min)) return false;
  if (m.max !== undefined && (f.valueNum === null || f.valueNum > m.max)) return false;
  return true;
}

/** Whether a fact has a coded value of the system that is one of these codes. */
function valueIn(f: Fact, system: string | undefined, values: readonly string[]): boolean {
  for (const v of f.valueCodes) if (systemIs(v, system) && codeIn(v, values)) return true;
  return false;
}

function anyMatch(ms: Matcher[], f: Fact): boolean {
  for (const m of ms) if (matches(m, f)) return true;
  return false;
}

/** Every matcher of the programmes (entry, flags, services, measures). */
export const matchersOf = (programmes: Programme[]): Matcher[] =>
  programmes.flatMap((p) => [
    ...(p.entry.facts ?? []),
    ...[p.flags, p.services, p.measures].flatMap((group) => Object.values(group).flatMap((n) => n.match)),
  ]);

/** Whether any programme could use a fact (by its codes; values may change with a new version of the record). */
export function relevant(matchers: Matcher[], f: Fact): boolean {
  for (const m of matchers) if (codeMatches(m, f)) return true;
  return false;
}
const byDateThenRef = <T extends { date: string; ref: string }>(a: T, b: T) =>
  a.date < b.date ? -1 : a.date > b.date ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
/** Facts in order of their start, then ref (byDateThenRef on facts, without a pair of objects per comparison). */
const byStartThenRef = (a: Fact, b: Fact) =>
  a.start! < b.start! ? -1 : a.start! > b.start! ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
const minDate = (a: string, b: string | null) => (b !== null && b < a ? b : a);

/**
 * Whether a fact keeps a person enrolled: `active`, but for a Condition under an entry with
 * activeStatuses, its clinical status is one of them (and it is not provisional or differential).
 * A Condition row without statuses (read before facts.ts kept them) falls back to `active`.
 */
export function stands(e: Programme['entry'], f: Fact): boolean {
  if (!e.activeStatuses || f.resourceType !== 'Condition') return f.active;
  let clinical: string | null = null;
  let verification = 'confirmed';
  for (const v of f.valueCodes) {
    if (systemIs(v, CONDITION_CLINICAL_SYSTEM)) clinical = codeOf(v);
    else if (systemIs(v, CONDITION_VERIFICATION_SYSTEM)) verification = codeOf(v);
  }
  if (clinical === null) return f.active;
  return (e.activeStatuses as string[]).includes(clinical) && verification !== 'provisional' && verification !== 'differential';
}

/** A measure's plausible ranges as entries, listed once per definition (they are read for every fact measured). */
const rangesCache = new WeakMap<object, [string, [number, number]][]>();

/** Whether a fact's readings are plausible for a measure (its `plausible` ranges and order); a fact without them is. */
function plausible(def: Programme['measures'][string], f: Fact): boolean {
  const p = def.plausible;
  if (!p || !f.readings) return true;
  if (p.ranges) {
    let ranges = rangesCache.get(p.ranges);
    if (!ranges) rangesCache.set(p.ranges, (ranges = Object.entries(p.ranges)));
    for (const r of ranges) {
      const v = f.readings[r[0]];
      if (v !== undefined && (v < r[1][0] || v > r[1][1])) return false;
    }
  }
  if (p.lessThan)
    for (const pair of p.lessThan) {
      const x = f.readings[pair[0]];
      const y = f.readings[pair[1]];
      if (x !== undefined && y !== undefined && x >= y) return false;
    }
  return true;
}
const isMeasure = (def: Programme['measures'][string], f: Fact) => anyMatch(def.match, f) && plausible(def, f);

/** An Encounter fact's status (facts.ts keeps it as a value code); null when the row has none. */
function encounterStatus(f: Fact): string | null {
  for (const v of f.valueCodes) if (systemIs(v, ENCOUNTER_STATUS_SYSTEM)) return codeOf(v);
  return null;
}

const inEpisode = (s: { start: string; end: string | null }, d: string) => d >= s.start && (s.end === null || d < s.end);

/** When an episode opened by a fact closes (its first day no longer enrolled); null = open. */
function closeOf(e: Programme['entry'], start: string, endEvent: string | null): string | null {
  if (e.durationMonths) return addMonths(start, e.durationMonths);
  if (endEvent) return addDays(endEvent, e.afterEndDays ?? 0);
  if (e.maxDays) return addDays(start, e.maxDays);
  return null;
}

type ScheduleItem = Programme['versions'][number]['schedule']['items'][number];

/** Adds a scheduled item with what fulfilled it (the first service of its kind in its window), unless its window is empty or beyond the horizon. */
function pushItem(
  items: ItemState[],
  serviceFacts: ServiceGiven[],
  horizon: string,
  it: ScheduleItem,
  base: string,
  from: string,
  to: string,
  v: string,
): void {
  if (from >= to || from > horizon) return;
  let given: ServiceGiven | undefined;
  for (const g of serviceFacts)
    if (g.service === it.service && g.date >= from && g.date < to) {
      given = g;
      break;
    }
  items.push({
    code: it.code,
    name: it.name,
    service: it.service,
    base,
    from,
    to,
    recommended: it.recommended ?? null,
    deliveredOn: given?.date ?? null,
    deliveredRef: given?.ref ?? null,
    version: v,
  });
}

/** A programme's named matcher groups as entries, listed once (the engine walks them for every fact). */
const entriesCache = new WeakMap<object, [string, unknown][]>();
function entriesOf<T extends { match: Matcher[] }>(group: Record<string, T>): [string, T][] {
  let out = entriesCache.get(group) as [string, T][] | undefined;
  if (!out) entriesCache.set(group, (out = Object.entries(group)));
  return out;
}

type Entry = Programme['entry'];

/**
 * Sorts a list in place unless it is in order already (facts come in ref order, and one resident's
 * lists are short and often sorted: a check costs less than the copy Array.prototype.sort makes).
 * The sort is stable, so skipping it for a sorted list changes nothing.
 */
function sortedBy<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  for (let i = 1; i < list.length; i++) if (compare(list[i - 1]!, list[i]!) > 0) return list.sort(compare);
  return list;
}

/** "YYYY-01-01" of a year, one string per year: yearly items are listed from it, and the date memos find a string they saw faster. */
const yearStarts = new Map<number, string>();
function yearStart(y: number): string {
  let out = yearStarts.get(y);
  if (out === undefined) yearStarts.set(y, (out = `${y}-01-01`));
  return out;
}

/** No leaving records (an entry without endWhen): one list shared by every resident, never written. */
const NO_DAYS: readonly string[] = [];

// The helpers below are evaluateResident's, at module level: a function defined inside it would be
// made again for every resident and programme (and named again: tsx compiles with keepNames).

/** Whether an `endWhen.unless` fact stands on a day (it keeps the resident enrolled past a leaving record). */
function keptOn(e: Entry, facts: Fact[], day: string): boolean {
  const unless = e.endWhen?.unless;
  if (!unless) return false;
  for (const f of facts)
    if (f.start && f.start <= day && (f.end === null || f.end > day) && stands(e, f) && anyMatch(unless, f)) return true;
  return false;
}

/** The first leaving record's day after a start and before an end, unless an `unless` fact stands that day; null: none. */
function leftBy(e: Entry, facts: Fact[], leaving: readonly string[], start: string, end: string | null): string | null {
  for (const day of leaving) {
    if (end !== null && day >= end) break;
    if (day > start && !keptOn(e, facts, day)) return day;
  }
  return null;
}

/** An episode's end brought forward by a leaving record: the matching record's day is the last enrolled one (its assessment is the episode's own). */
function withLeaving(e: Entry, facts: Fact[], leaving: readonly string[], start: string, end: string | null): string | null {
  const left = leftBy(e, facts, leaving, start, end);
  return left === null ? end : minDate(addDays(left, 1), end);
}

/** The days (and encounters) a measure was taken at, for services that count only with one (withMeasure); listed once per resident and programme. */
function measuredKeys(p: Programme, facts: Fact[], measuredAt: Map<string, Set<string>>, measure: string): Set<string> {
  let keys = measuredAt.get(measure);
  if (!keys) {
    const def = p.measures[measure]!;
    keys = new Set();
    for (const f of facts)
      if (f.active && f.start && isMeasure(def, f)) {
        keys.add(f.start);
        if (f.encounter) keys.add(f.encounter);
      }
    measuredAt.set(measure, keys);
  }
  return keys;
}

/** A comorbidity: any record of it still active, whenever it began (chronic care's comorbiditiesOf). */
function anyActive(facts: Fact[], ms: Matcher[]): boolean {
  for (const f of facts) if (f.active && anyMatch(ms, f)) return true;
  return false;
}

/** A record starting in the episode; a resolved one with its end (a high-risk pregnancy after delivery) still marks it. */
function anyStartingIn(facts: Fact[], s: { start: string; end: string | null }, ms: Matcher[]): boolean {
  for (const f of facts) if ((f.active || f.end) && f.start && inEpisode(s, f.start) && anyMatch(ms, f)) return true;
  return false;
}

/** The dated values of the programme's measures from an episode's start until the next one opens, oldest first. */
function measuresOf(p: Programme, facts: Fact[], start: string, nextStart: string | null): Episode['measures'] {
  const out: Episode['measures'] = [];
  const defs = entriesOf(p.measures);
  for (const f of facts) {
    // An assessment may come after the episode closes (a treatment outcome), until the next one opens.
    if (!(f.start && f.active && f.start >= start && (nextStart === null || f.start < nextStart))) continue;
    for (const entry of defs) {
      if (!isMeasure(entry[1], f)) continue;
      const m: Episode['measures'][number] = {
        measure: entry[0],
        date: f.start,
        ref: f.ref,
        codes: f.valueCodes.map(codeOf),
        num: f.valueNum,
      };
      if (f.readings) m.readings = f.readings;
      if (f.encounter) m.encounter = f.encounter;
      out.push(m);
    }
  }
  return sortedBy(out, byDateThenRef);
}

/** The earlier of two days, either of which may be unknown (null or undefined). */
const earlierDay = (a: string | null | undefined, b: string | null): string | null => (a && (b === null || a < b) ? a : b);

/**
 * The resident's episodes of one programme, as of a day. Yearly items are listed from the year
 * of `since` on (default: from the episode's start), so a resident enrolled for decades does not
 * carry decades of items where only recent ones are wanted; episodes that ended by `since` are
 * left out (no period from `since` on can count them), so a resident of 70 keeps no 0–6 episode;
 * but a programme with a survival indicator keeps them all (`keepsEndedEpisodes`: a cohort's
 * survival counts deaths of years ago).
 */
export function evaluateResident(
  p: Programme,
  person: PersonFacts,
  facts: Fact[],
  asOf: string,
  since?: string,
  /** The day an entry age (`ageOn: asOf`) is judged on: the day of derivation, asOf unless told (indicators asked for an earlier asOf use today's). */
  entryDay: string = asOf,
  /** What was recorded by hand for the resident in this programme (manual enrolment, status). */
  registration?: Registration,
): Episode[] {
  const e = p.entry;
  if (e.gender && person.gender !== e.gender) return [];
  // An age to enter, judged on the day of derivation (chronic care's registry: hypertension from 35);
  // it keeps records from opening an episode, not an enrolment by hand (chronic care's neither).
  const ageKeepsOut =
    e.ageOn === 'asOf' && e.ageYears?.min !== undefined && !!person.birthDate && ageOn(person.birthDate, entryDay) < e.ageYears.min;
  const manual = e.anchor === 'fact' ? (registration?.enrolledOn ?? null) : null;
  if (ageKeepsOut && !manual) return [];
  const horizon = addDays(asOf, HORIZON_DAYS);
  let spans: { key: string; start: string; end: string | null; endEvent: string | null }[] = [];
  if (e.anchor === 'birth') {
    if (!person.birthDate) return [];
    const start = addMonths(person.birthDate, (e.ageYears?.min ?? 0) * 12);
    const end = e.ageYears?.max !== undefined ? addMonths(person.birthDate, e.ageYears.max * 12) : null;
    if (start <= horizon) spans.push({ key: 'age', start, end, endEvent: null });
  } else if (!ageKeepsOut) {
    const opening: Fact[] = [];
    for (const f of facts) if (f.start && anyMatch(e.facts!, f) && (stands(e, f) || (e.includeResolved && f.end))) opening.push(f);
    sortedBy(opening, byStartThenRef);
    // Leaving on a later record (endWhen): the first matching fact after the start, unless an `unless` fact stands that day;
    // the episode's last day is that fact's, so a later opening record (a new assessment of 60 or less) opens a new one.
    let leaving = NO_DAYS;
    if (e.endWhen) {
      const days: string[] = [];
      for (const f of facts) if (f.start && f.active && anyMatch(e.endWhen.facts, f)) days.push(f.start);
      leaving = days.sort();
    }
    for (const f of opening) {
      const cur = spans.at(-1);
      if (cur && (cur.end === null || f.start! < cur.end)) {
        // A second record of the same episode: it may bring the end event the first lacked.
        if (e.endEvent && !cur.endEvent && f.end && f.end >= cur.start) {
          const end = withLeaving(e, facts, leaving, cur.start, closeOf(e, cur.start, f.end));
          if (end === null || f.end < end) cur.endEvent = f.end;
          cur.end = end;
        }
        continue;
      }
      const endEvent = e.endEvent && f.end && f.end >= f.start! ? f.end : null;
      const end = withLeaving(e, facts, leaving, f.start!, closeOf(e, f.start!, endEvent));
      spans.push({ key: f.ref, start: f.start!, end, endEvent: endEvent !== null && (end === null || endEvent < end) ? endEvent : null });
    }
  }
  // Enrolled by hand: chronic care's manual enrolment counts only while no record enrols (derivePatientState).
  if (manual && !spans.length) spans.push({ key: MANUAL_EPISODE, start: manual, end: closeOf(e, manual, null), endEvent: null });
  // An upper entry age (a fact-anchored entry): no episode from that birthday on, an open one ends on it.
  if (spans.length && e.anchor === 'fact' && e.ageYears?.max !== undefined && person.birthDate) {
    const aged = addMonths(person.birthDate, e.ageYears.max * 12);
    spans = spans.filter((s) => s.start < aged);
    for (const s of spans)
      if (s.end === null || s.end > aged) {
        s.end = aged;
        if (s.endEvent !== null && s.endEvent >= aged) s.endEvent = null;
      }
  }
  // Transferred out or died from a day on (a status set by hand, or the day of death the Patient
  // record gives, whichever is earlier): no episode from that day, an open one ends on it.
  const statusOn = registration && registration.status !== 'managed' ? registration.statusOn : null;
  const leftOn = earlierDay(person.deceasedOn, statusOn);
  // The day of death survival reads: the Patient's, or a status 死亡 set by hand, the earlier.
  const diedOn = earlierDay(person.deceasedOn, registration?.status === 'died' ? registration.statusOn : null);
  if (leftOn) {
    spans = spans.filter((s) => s.start < leftOn);
    for (const s of spans)
      if (s.end === null || s.end > leftOn) {
        s.end = leftOn;
        if (s.endEvent !== null && s.endEvent >= leftOn) s.endEvent = null;
      }
  }
  // A programme with survival indicators keeps every episode: a cohort's survival counts deaths of long ago.
  const keepEnded = keepsEndedEpisodes(p);
  let current = keepEnded && spans.length > 0;
  for (const s of spans)
    if (since === undefined || s.end === null || s.end > since) {
      current = true;
      break;
    }
  if (!current) return [];

  const serviceFacts: ServiceGiven[] = [];
  // Days (or encounters) a measure was taken at, for services that count only with one (withMeasure); made when first asked.
  let measuredAt: Map<string, Set<string>> | undefined;
  const services = entriesOf(p.services);
  for (const f of facts) {
    if (!f.start) continue;
    let status: string | null | undefined;
    for (const entry of services) {
      const service = entry[0];
      const def = entry[1];
      const { withMeasure, linkedBy, orRecorded, statuses } = def;
      if (statuses) {
        // The Encounter's status as sent (facts.ts); a row stored without it falls back to `active`.
        if (status === undefined) status = encounterStatus(f);
        if (status === null ? !f.active : !(statuses as readonly string[]).includes(status)) continue;
      } else if (!f.active) continue;
      if (!anyMatch(def.match, f)) continue;
      if (
        withMeasure &&
        !measuredKeys(p, facts, (measuredAt ??= new Map()), withMeasure).has(linkedBy === 'encounter' ? f.ref : f.start) &&
        !(orRecorded && anyMatch(orRecorded, f))
      )
        continue;
      serviceFacts.push({ service, date: f.start, ref: f.ref, resourceType: f.resourceType, codes: f.codes });
    }
  }
  sortedBy(serviceFacts, byDateThenRef);

  // Episodes that ended by `since` are left out before their items are listed (a resident of 70
  // has a 0–6 span): ends grow from one span to the next, so these are the first ones.
  const episodes: Episode[] = [];
  for (let k = 0; k < spans.length; k++) {
    const s = spans[k]!;
    if (since !== undefined && s.end !== null && s.end <= since && !keepEnded) continue;
    const nextStart = spans[k + 1]?.start ?? null;
    const version = versionOn(p, s.start);
    const items: ItemState[] = [];
    if (version.schedule.cycle === 'episode') {
      const startLimit = s.endEvent ?? s.end;
      for (const it of version.schedule.items) {
        if (it.relativeTo === 'end') {
          if (s.endEvent)
            pushItem(
              items,
              serviceFacts,
              horizon,
              it,
              s.endEvent,
              addOffset(s.endEvent, it.from),
              addOffset(s.endEvent, it.to),
              version.version,
            );
          continue;
        }
        const from = addOffset(s.start, it.from);
        if (startLimit !== null && from >= startLimit) continue;
        pushItem(
          items,
          serviceFacts,
          horizon,
          it,
          s.start,
          from,
          startLimit === null ? addOffset(s.start, it.to) : minDate(addOffset(s.start, it.to), startLimit),
          version.version,
        );
      }
    } else {
      const last = minDate(horizon, s.end === null ? null : addDays(s.end, -1));
      const firstYear = Math.max(Number(s.start.slice(0, 4)), since ? Number(since.slice(0, 4)) : 0);
      for (let y = firstYear; y <= Number(last.slice(0, 4)); y++) {
        const cycle = yearStart(y);
        const v = versionOn(p, cycle > s.start ? cycle : s.start);
        for (const it of v.schedule.items) {
          const from = addOffset(cycle, it.from);
          const to = addOffset(cycle, it.to);
          pushItem(
            items,
            serviceFacts,
            horizon,
            it,
            cycle,
            from < s.start ? s.start : from,
            s.end !== null && to > s.end ? s.end : to,
            v.version,
          );
        }
      }
    }
    const flags: string[] = [];
    for (const entry of entriesOf(p.flags)) {
      const def = entry[1];
      if (def.scope === 'person' ? anyActive(facts, def.match) : anyStartingIn(facts, s, def.match)) flags.push(entry[0]);
    }
    const inIt: ServiceGiven[] = [];
    for (const g of serviceFacts) if (inEpisode(s, g.date)) inIt.push(g);
    const ep: Episode = {
      key: s.key,
      start: s.start,
      end: s.end,
      endEvent: s.endEvent,
      version: version.version,
      flags,
      items,
      services: inIt,
      measures: measuresOf(p, facts, s.start, nextStart),
    };
    if (diedOn) ep.diedOn = diedOn;
    episodes.push(ep);
  }
  return episodes;
}

export function itemStatus(it: ItemState, asOf: string): ItemStatus {
  if (it.deliveredOn && it.deliveredOn <= asOf) return 'done';
  if (asOf < it.from) return 'upcoming';
  return asOf < it.to ? 'due' : 'overdue';
}

/** Whether the episode is enrolled on a day. */
export const enrolledOn = (ep: Episode, day: string) => ep.start <= day && (ep.end === null || day < ep.end);

/** The latest value of a measure on or before a day (codes without their system). */
export function latestMeasure(ep: Episode, measure: string, upTo: string): Episode['measures'][number] | null {
  // The last one in list order (measures are oldest first), found from the end without a filtered copy.
  for (let i = ep.measures.length - 1; i >= 0; i--) {
    const m = ep.measures[i]!;
    if (m.measure === measure && m.date <= upTo) return m;
  }
  return null;
}

/**
 * The days in [from, upTo] on which a service of the kinds was given: "at least n services" counts
 * days, so two records of one visit (a form and its encounter, or a visit sent twice) count once.
 */
export function serviceDays(ep: Episode, kinds: readonly string[], from: string, upTo: string): number {
  const days = new Set<string>();
  for (const g of ep.services) if (kinds.includes(g.service) && g.date >= from && g.date <= upTo) days.add(g.date);
  return days.size;
}

/**
 * Controlled (the programme's "controlled" rule) on a day; null when the programme has none or
 * nothing is measured. Coded: the latest value. By targets: the readings of the latest day
 * measured, against the targets in force that day; with atLastService and a period, the readings
 * of the day of the last such service in the period (none: null). Without `person` (the
 * registry's column) an unknown age is taken as the targets' ageWhenUnknown.
 */
export function controlledOn(p: Programme, ep: Episode, day: string, person?: PersonFacts, period?: Period): boolean | null {
  const c = p.controlled;
  if (!c) return null;
  if (c.values) {
    const m = latestMeasure(ep, c.measure, day);
    return m ? m.codes.some((x) => c.values!.includes(x)) : null;
  }
  let at: At | null;
  if (c.atLastService && period) {
    const from = period.from;
    // The last such service in the period, found from the end (services are in date order).
    let g: ServiceGiven | undefined;
    for (let i = ep.services.length - 1; i >= 0 && !g; i--) {
      const x = ep.services[i]!;
      if (x.service === c.atLastService && x.date >= from && x.date <= day) g = x;
    }
    at = g ? { date: g.date, encounter: p.services[g.service]!.linkedBy === 'encounter' ? g.ref : undefined } : null;
  } else {
    const m = latestMeasure(ep, c.measure, day);
    at = m ? { date: m.date } : null;
  }
  return at === null ? null : atTargetOn(p, ep, person?.birthDate ?? null, at);
}

/** Where readings are read: a day, or the measures naming one encounter (a service linked by encounter). */
export interface At {
  date: string;
  encounter?: string;
}

/** Every numeric reading of the programme's measures at a day or encounter ("system|code" → value; a later record wins). */
function readingsAt(ep: Episode, at: At, measure?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ep.measures)
    if ((at.encounter ? m.encounter === at.encounter : m.date === at.date) && (!measure || m.measure === measure))
      if (m.readings) Object.assign(out, m.readings);
  return out;
}

/** Whether the episode carries any of these flags. */
function anyFlag(ep: Episode, flags: readonly string[]): boolean {
  for (const f of flags) if (ep.flags.includes(f)) return true;
  return false;
}

const within = (v: number | undefined, c: { atLeast?: number; below?: number }) =>
  v === undefined ? undefined : (c.atLeast === undefined || v >= c.atLeast) && (c.below === undefined || v < c.below);

/** The readings of the controlled measure at a day or encounter against the targets of the version in force that day; null: not known. */
export function atTargetOn(p: Programme, ep: Episode, birthDate: string | null, at: At): boolean | null {
  const c = p.controlled;
  const targets = versionOn(p, at.date).targets;
  if (!c || !targets) return null;
  const readings = readingsAt(ep, at, c.measure);
  const age = birthDate ? ageOn(birthDate, at.date) : targets.ageWhenUnknown;
  let all = true;
  let applied = false;
  for (const b of targets.bands) {
    if (b.ageYears && (age < b.ageYears.min || age > b.ageYears.max)) continue;
    if (b.whenFlags && !anyFlag(ep, b.whenFlags)) continue;
    applied = true;
    let met: boolean | undefined;
    if (b.all) {
      // Every target met; unknown when any reading is missing, even after one that is not met.
      met = true;
      for (const x of b.all) {
        const w = within(readings[x.reading], x);
        if (w === undefined) {
          met = undefined;
          break;
        }
        if (!w) met = false;
      }
    } else {
      const x = b.first!.find((y) => readings[y.reading] !== undefined);
      met = x ? within(readings[x.reading], x) : undefined;
    }
    if (met === undefined) return null;
    all &&= met;
  }
  return applied ? all : null;
}

export interface ChainVisit {
  date: string;
  ref: string;
  /** The day the previous follow-up set (null for the first). */
  due: string | null;
  onTime: boolean;
  atTarget: boolean | null;
}

/** Why the next follow-up falls on its day: what the last follow-up found (or none made yet). */
export type NextReason =
  | { kind: 'first' }
  | { kind: 'urgent' | 'controlled' | 'uncontrolled' | 'unknown'; days: number }
  | { kind: 'finding'; days: number; finding: string };

/**
 * The next follow-up a chain asks for: due on `due` (the last follow-up's day plus the interval
 * it set; with none yet, the episode's first day, as chronic care's registry does from the
 * diagnosis), on time until `due` + `toleranceDays` (the version in force on the due day).
 */
export interface NextFollowUp {
  due: string;
  toleranceDays: number;
  /** The last follow-up of the chain (null: none yet). */
  last: string | null;
  reason: NextReason;
}

interface Chain {
  visits: ChainVisit[];
  next: NextFollowUp | null;
}

/** Chains already walked, per episode object and (service, birth date) for one programme object: derivation, summaries and managedIn ask again. */
const chains = new WeakMap<Episode, Map<string, { p: Programme; chain: Chain }>>();

type FollowUps = NonNullable<Programme['versions'][number]['managed']['followUps']>;

/** Whether any reading is urgent by these thresholds (at least or at most a value). */
function urgentReading(when: NonNullable<NonNullable<FollowUps['urgent']>['when']>, all: Record<string, number>): boolean {
  for (const w of when) {
    const v = all[w.reading];
    if (v !== undefined && ((w.atLeast !== undefined && v >= w.atLeast) || (w.atMost !== undefined && v <= w.atMost))) return true;
  }
  return false;
}

function walkChain(p: Programme, ep: Episode, birthDate: string | null, service: string): Chain {
  let byKey = chains.get(ep);
  if (!byKey) chains.set(ep, (byKey = new Map()));
  const key = `${service}\u0000${birthDate ?? ''}`;
  const known = byKey.get(key);
  if (known?.p === p) return known.chain;
  const visits: ChainVisit[] = [];
  let due: string | null = null;
  let last: { date: string; reason: NextReason; toleranceDays: number } | null = null;
  for (const g of ep.services) {
    if (g.service !== service) continue;
    const rule = versionOn(p, g.date).managed.followUps;
    if (!rule) continue;
    const at: At = { date: g.date, encounter: p.services[service]!.linkedBy === 'encounter' ? g.ref : undefined };
    const all = readingsAt(ep, at);
    const urgent = (rule.urgent?.when !== undefined && urgentReading(rule.urgent.when, all)) || recordMatches(rule.urgent?.whenRecorded, g);
    const state = atTargetOn(p, ep, birthDate, at);
    visits.push({ date: g.date, ref: g.ref, due, onTime: due === null || g.date <= addDays(due, rule.toleranceDays), atTarget: state });
    const kind = urgent ? 'urgent' : state === true ? 'controlled' : state === false ? 'uncontrolled' : 'unknown';
    let reason: NextReason = { kind, days: urgent ? rule.urgent!.intervalDays : rule.intervalDays[kind as 'controlled'] };
    // What the record reports (an adverse reaction, a new complication) may bring the next one forward.
    if (!urgent)
      for (const f of rule.findings ?? [])
        if (f.intervalDays < reason.days && recordMatches(f.whenRecorded, g))
          reason = { kind: 'finding', days: f.intervalDays, finding: f.name };
    due = addDays(g.date, reason.days);
    last = { date: g.date, reason, toleranceDays: rule.toleranceDays };
  }
  let next: NextFollowUp | null = null;
  const nextDue = due ?? ep.start;
  // Tolerance of the version in force on the due day (the next follow-up is judged by its own day's rule), else of the last one's.
  const tolerance = versionOn(p, nextDue).managed.followUps?.toleranceDays ?? last?.toleranceDays;
  if (tolerance !== undefined)
    next = { due: nextDue, toleranceDays: tolerance, last: last?.date ?? null, reason: last?.reason ?? { kind: 'first' } };
  const chain = { visits, next };
  byKey.set(key, { p, chain });
  return chain;
}

/**
 * The follow-up chain of a `managed.followUps` rule: each service of the kind in the episode with
 * the day the previous one set (null for the first), whether it came on time and whether its
 * readings met the targets of its day (null: not known). A follow-up sets the next one by its
 * readings' control state, or by `urgent.intervalDays` (the same day in the shipped files) for an
 * urgent reading or an urgent finding of its own record; a finding of its record (`findings`)
 * brings the date forward.
 */
export function followUpChain(p: Programme, ep: Episode, birthDate: string | null, service: string): ChainVisit[] {
  return walkChain(p, ep, birthDate, service).visits;
}

/**
 * The next follow-up of the chain (chronic care's next due date, `next_due`): the day the last
 * follow-up set, or the episode's first day when none was made; null when no version of the
 * programme chains this service on that day or before.
 */
export function nextFollowUp(p: Programme, ep: Episode, birthDate: string | null, service: string): NextFollowUp | null {
  return walkChain(p, ep, birthDate, service).next;
}

// ---- periods and indicators -----------------------------------------------------------------

export interface Period {
  from: string;
  to: string;
}

/** The last day a period can be judged on: its end, or asOf when that comes first. */
export const judgedUntil = (period: Period, asOf: string) => (period.to < asOf ? period.to : asOf);

/** Whole months from birth to a day (the age in `ageMonths`). */
export const monthsBetween = (birth: string, day: string) => {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
};

/** Managed (规范管理) in a period by the version in force at its judged end. */
export function managedIn(p: Programme, ep: Episode, period: Period, asOf: string, person?: PersonFacts): boolean {
  const until = judgedUntil(period, asOf);
  const rule = versionOn(p, until).managed;
  if (rule.followUps) {
    // The follow-ups in the period: enough of them, none late.
    let inPeriod = 0;
    for (const g of followUpChain(p, ep, person?.birthDate ?? null, rule.followUps.service))
      if (g.date >= period.from && g.date <= until) {
        if (!g.onTime) return false;
        inPeriod++;
      }
    if (inPeriod < rule.followUps.minCount) return false;
  }
  if (rule.allItemsDelivered) {
    // Some item's window ends in the period, and every such item was delivered.
    let ending = 0;
    for (const it of ep.items) {
      const lastDay = addDays(it.to, -1);
      if (lastDay >= period.from && lastDay <= until) {
        if (!it.deliveredOn) return false;
        ending++;
      }
    }
    if (!ending) return false;
  }
  if (rule.minServices) {
    if (serviceDays(ep, [rule.minServices.service], period.from, until) < rule.minServices.count) return false;
  }
  return true;
}

/**
 * enrolled: open at some time in the period; started: begun in it; ended: its end event in it
 * (a delivery) when the programme has end events, else its last enrolled day (a course's end).
 */
export function inPopulation(
  p: Programme,
  population: 'enrolled' | 'started' | 'ended',
  ep: Episode,
  period: Period,
  asOf: string,
): boolean {
  const until = judgedUntil(period, asOf);
  if (population === 'enrolled') return ep.start <= until && (ep.end === null || ep.end > period.from);
  if (population === 'started') return ep.start >= period.from && ep.start <= until;
  // A pregnancy that was never seen to end is not a delivery.
  const endDay = p.entry.endEvent ? ep.endEvent : ep.end ? addDays(ep.end, -1) : null;
  return endDay !== null && endDay >= period.from && endDay <= until;
}

/**
 * The outcome of an episode `years` whole years after its start (T), as known by asOf: alive at T
 * (a known death on or after T, or no death and still enrolled on T), dead before T (a known day),
 * or unknown: T after asOf (not followed that long yet), dead without a day (deceasedBoolean), or
 * the episode closed before T without a known death (moved away: censored). Observed survival by
 * the direct method; see definition.ts `survived`.
 */
export function survivalAt(person: PersonFacts, ep: Episode, years: number, asOf: string): 'alive' | 'dead' | 'unknown' {
  const at = addMonths(ep.start, 12 * years);
  if (at > asOf) return 'unknown';
  if (ep.diedOn !== undefined) return ep.diedOn < at ? 'dead' : 'alive';
  if (person.deceased) return 'unknown';
  return ep.end === null || ep.end >= at ? 'alive' : 'unknown';
}

export function meets(c: Criterion, p: Programme, person: PersonFacts, ep: Episode, period: Period, asOf: string): boolean {
  const until = judgedUntil(period, asOf);
  if ('survived' in c) return survivalAt(person, ep, c.survived.years, asOf) === 'alive';
  if ('survivalKnown' in c) return survivalAt(person, ep, c.survivalKnown.years, asOf) !== 'unknown';
  if ('delivered' in c)
    return ep.items.some(
      (it) =>
        it.code === c.delivered &&
        it.from <= until &&
        it.deliveredOn !== null &&
        it.deliveredOn <= asOf &&
        (c.within === undefined || it.deliveredOn < addOffset(it.base, c.within)),
    );
  if ('services' in c) {
    const from = c.in === 'episode' ? ep.start : period.from;
    let upTo = c.measuredBy === 'asOf' ? asOf : until;
    // within: only services before the episode's start plus the offset count (a first visit within 30 days).
    if (c.in === 'episode' && c.within !== undefined) {
      const last = addDays(addOffset(ep.start, c.within), -1);
      if (last < upTo) upTo = last;
    }
    const kinds = typeof c.services === 'string' ? [c.services] : c.services;
    return serviceDays(ep, kinds, from, upTo) >= c.min;
  }
  if ('managed' in c) return managedIn(p, ep, period, asOf, person);
  if ('controlled' in c) return controlledOn(p, ep, until, person, period) === true;
  if ('flag' in c) return ep.flags.includes(c.flag);
  if ('ageMonths' in c) {
    if (!person.birthDate) return false;
    const age = monthsBetween(person.birthDate, until);
    return age >= (c.ageMonths.min ?? 0) && (c.ageMonths.max === undefined || age < c.ageMonths.max);
  }
  const m = latestMeasure(ep, c.measure, c.measuredBy === 'asOf' ? asOf : until);
  return !!m && m.codes.some((x) => c.values.includes(x));
}

export interface Counted {
  person: PersonFacts;
  episode: Episode;
  inNumerator: boolean;
}

function meetsAll(cs: readonly Criterion[], p: Programme, person: PersonFacts, ep: Episode, period: Period, asOf: string): boolean {
  for (const c of cs) if (!meets(c, p, person, ep, period, asOf)) return false;
  return true;
}

/** The episodes in an indicator's denominator, each marked in or out of its numerator. */
export function countIndicator(
  p: Programme,
  ind: Indicator,
  residents: { person: PersonFacts; episodes: Episode[] }[],
  period: Period,
  asOf: string,
): Counted[] {
  const out: Counted[] = [];
  const population = ind.denominator.population ?? 'enrolled';
  for (const r of residents)
    for (const ep of r.episodes) {
      if (!inPopulation(p, population, ep, period, asOf)) continue;
      if (!meetsAll(ind.denominator.where, p, r.person, ep, period, asOf)) continue;
      out.push({ person: r.person, episode: ep, inNumerator: meetsAll(ind.numerator.where, p, r.person, ep, period, asOf) });
    }
  return out;
}

/** A percentage with one decimal; the indicator's rule when the denominator is 0. */
export function rate(ind: Indicator, numerator: number, denominator: number): number | null {
  if (denominator === 0) return ind.whenDenominatorZero === 'zero' ? 0 : null;
  return Math.round((numerator / denominator) * 1000) / 10;
}
