/**
 * The programme engine: a resident's facts in, their episodes out (enrolment, the scheduled
 * items with their windows and what fulfilled them, flags, the latest assessments), and the
 * questions indicators ask of an episode in a period. Pure: no I/O, no clock (the caller gives
 * `asOf`), so every rule can be tested with worked examples.
 */
import { addDays as addDaysOnce, ageOn } from '../../shared/dates.js';
import { addMonths as addMonthsOnce } from '../immunization/schedule.js';
import { parseOffset, versionOn, type Criterion, type Indicator, type Matcher, type Programme } from './definition.js';
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
const systemOf = (c: string) => c.slice(0, c.indexOf('|'));

const codeMatches = (m: Matcher, f: Pick<Fact, 'resourceType' | 'codes'>) =>
  f.resourceType === m.resource &&
  f.codes.some((c) => {
    if (systemOf(c) !== m.system) return false;
    const code = codeOf(c);
    return (
      m.anyCode === true ||
      (m.codes?.includes(code) ?? false) ||
      (m.prefixes?.some((p) => code.toUpperCase().startsWith(p.toUpperCase())) ?? false)
    );
  });

/** Whether a service's own record (its codes) matches any of these matchers (what a follow-up reports). */
const recordMatches = (ms: Matcher[] | undefined, g: ServiceGiven) =>
  !!ms && ms.some((m) => codeMatches(m, { resourceType: g.resourceType, codes: g.codes }));

export function matches(m: Matcher, f: Fact): boolean {
  if (!codeMatches(m, f)) return false;
  if (m.values && !f.valueCodes.some((v) => systemOf(v) === m.valueSystem && m.values!.includes(codeOf(v)))) return false;
  if (m.min !== undefined && (f.valueNum === null || f.valueNum < m.min)) return false;
  if (m.max !== undefined && (f.valueNum === null || f.valueNum > m.max)) return false;
  return true;
}

const anyMatch = (ms: Matcher[], f: Fact) => ms.some((m) => matches(m, f));

/** Every matcher of the programmes (entry, flags, services, measures). */
export const matchersOf = (programmes: Programme[]): Matcher[] =>
  programmes.flatMap((p) => [
    ...(p.entry.facts ?? []),
    ...[p.flags, p.services, p.measures].flatMap((group) => Object.values(group).flatMap((n) => n.match)),
  ]);

/** Whether any programme could use a fact (by its codes; values may change with a new version of the record). */
export const relevant = (matchers: Matcher[], f: Fact) => matchers.some((m) => codeMatches(m, f));
const byDateThenRef = <T extends { date: string; ref: string }>(a: T, b: T) =>
  a.date < b.date ? -1 : a.date > b.date ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
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
    const system = systemOf(v);
    if (system === CONDITION_CLINICAL_SYSTEM) clinical = codeOf(v);
    else if (system === CONDITION_VERIFICATION_SYSTEM) verification = codeOf(v);
  }
  if (clinical === null) return f.active;
  return (e.activeStatuses as string[]).includes(clinical) && !['provisional', 'differential'].includes(verification);
}

/** Whether a fact's readings are plausible for a measure (its `plausible` ranges and order); a fact without them is. */
function plausible(def: Programme['measures'][string], f: Fact): boolean {
  const p = def.plausible;
  if (!p || !f.readings) return true;
  for (const [code, [lo, hi]] of Object.entries(p.ranges ?? {})) {
    const v = f.readings[code];
    if (v !== undefined && (v < lo || v > hi)) return false;
  }
  for (const [a, b] of p.lessThan ?? []) {
    const x = f.readings[a];
    const y = f.readings[b];
    if (x !== undefined && y !== undefined && x >= y) return false;
  }
  return true;
}
const isMeasure = (def: Programme['measures'][string], f: Fact) => anyMatch(def.match, f) && plausible(def, f);

/** An Encounter fact's status (facts.ts keeps it as a value code); null when the row has none. */
function encounterStatus(f: Fact): string | null {
  for (const v of f.valueCodes) if (systemOf(v) === ENCOUNTER_STATUS_SYSTEM) return codeOf(v);
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
  const given = serviceFacts.find((g) => g.service === it.service && g.date >= from && g.date < to);
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
const entriesCache = new WeakMap<object, [string, { match: Matcher[] }][]>();
function entriesOf(group: Record<string, { match: Matcher[] }>): [string, { match: Matcher[] }][] {
  let out = entriesCache.get(group);
  if (!out) entriesCache.set(group, (out = Object.entries(group)));
  return out;
}

/**
 * The resident's episodes of one programme, as of a day. Yearly items are listed from the year
 * of `since` on (default: from the episode's start), so a resident enrolled for decades does not
 * carry decades of items where only recent ones are wanted; episodes that ended by `since` are
 * left out (no period from `since` on can count them), so a resident of 70 keeps no 0–6 episode.
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
    const opening = facts
      .filter((f) => f.start && anyMatch(e.facts!, f) && (stands(e, f) || (e.includeResolved && f.end)))
      .sort((a, b) => byDateThenRef({ date: a.start!, ref: a.ref }, { date: b.start!, ref: b.ref }));
    // Leaving on a later record (endWhen): the first matching fact after the start, unless an `unless` fact stands that day;
    // the episode's last day is that fact's, so a later opening record (a new assessment of 60 or less) opens a new one.
    const leaving = e.endWhen
      ? facts
          .filter((f) => f.start && f.active && anyMatch(e.endWhen!.facts, f))
          .map((f) => f.start!)
          .sort()
      : [];
    const kept = (day: string) =>
      !!e.endWhen?.unless &&
      facts.some((f) => f.start && f.start <= day && (f.end === null || f.end > day) && stands(e, f) && anyMatch(e.endWhen!.unless!, f));
    const leftBy = (start: string, end: string | null) => {
      for (const day of leaving) {
        if (end !== null && day >= end) break;
        if (day > start && !kept(day)) return day;
      }
      return null;
    };
    // The matching record's day is the last enrolled one (its assessment is the episode's own).
    const withLeaving = (start: string, end: string | null) => {
      const left = leftBy(start, end);
      return left === null ? end : minDate(addDays(left, 1), end);
    };
    for (const f of opening) {
      const cur = spans.at(-1);
      if (cur && (cur.end === null || f.start! < cur.end)) {
        // A second record of the same episode: it may bring the end event the first lacked.
        if (e.endEvent && !cur.endEvent && f.end && f.end >= cur.start) {
          const end = withLeaving(cur.start, closeOf(e, cur.start, f.end));
          if (end === null || f.end < end) cur.endEvent = f.end;
          cur.end = end;
        }
        continue;
      }
      const endEvent = e.endEvent && f.end && f.end >= f.start! ? f.end : null;
      const end = withLeaving(f.start!, closeOf(e, f.start!, endEvent));
      spans.push({ key: f.ref, start: f.start!, end, endEvent: endEvent !== null && (end === null || endEvent < end) ? endEvent : null });
    }
  }
  // Enrolled by hand: chronic care's manual enrolment counts only while no record enrols (derivePatientState).
  if (manual && !spans.length) spans.push({ key: MANUAL_EPISODE, start: manual, end: closeOf(e, manual, null), endEvent: null });
  // An upper entry age (a fact-anchored entry): no episode from that birthday on, an open one ends on it.
  if (e.anchor === 'fact' && e.ageYears?.max !== undefined && person.birthDate) {
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
  const leftOn = person.deceasedOn && (statusOn === null || person.deceasedOn < statusOn) ? person.deceasedOn : statusOn;
  if (leftOn) {
    spans = spans.filter((s) => s.start < leftOn);
    for (const s of spans)
      if (s.end === null || s.end > leftOn) {
        s.end = leftOn;
        if (s.endEvent !== null && s.endEvent >= leftOn) s.endEvent = null;
      }
  }
  if (!spans.some((s) => since === undefined || s.end === null || s.end > since)) return [];

  const serviceFacts: ServiceGiven[] = [];
  // Days (or encounters) a measure was taken at, for services that count only with one (withMeasure).
  const measuredAt = new Map<string, Set<string>>();
  const measured = (measure: string, key: string) => {
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
    return keys.has(key);
  };
  for (const f of facts) {
    if (!f.start) continue;
    let status: string | null | undefined;
    for (const [service, def] of entriesOf(p.services)) {
      const { withMeasure, linkedBy, orRecorded, statuses } = p.services[service]!;
      if (statuses) {
        // The Encounter's status as sent (facts.ts); a row stored without it falls back to `active`.
        if (status === undefined) status = encounterStatus(f);
        if (status === null ? !f.active : !(statuses as readonly string[]).includes(status)) continue;
      } else if (!f.active) continue;
      if (!anyMatch(def.match, f)) continue;
      if (withMeasure && !measured(withMeasure, linkedBy === 'encounter' ? f.ref : f.start) && !(orRecorded && anyMatch(orRecorded, f)))
        continue;
      serviceFacts.push({ service, date: f.start, ref: f.ref, resourceType: f.resourceType, codes: f.codes });
    }
  }
  serviceFacts.sort(byDateThenRef);

  // Episodes that ended by `since` are left out before their items are listed (a resident of 70
  // has a 0–6 span): ends grow from one span to the next, so these are the first ones.
  const episodes = spans.flatMap((s, k) => {
    if (since !== undefined && s.end !== null && s.end <= since) return [];
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
        const cycle = `${y}-01-01`;
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
    const flags = entriesOf(p.flags)
      .filter(([code, def]) =>
        p.flags[code]!.scope === 'person'
          ? // A comorbidity: any record of it still active, whenever it began (chronic care's comorbiditiesOf).
            facts.some((f) => f.active && anyMatch(def.match, f))
          : // A resolved record with its end (a high-risk pregnancy after delivery) still marks the episode.
            facts.some((f) => (f.active || f.end) && f.start && inEpisode(s, f.start) && anyMatch(def.match, f)),
      )
      .map(([code]) => code);
    const measures = facts
      // An assessment may come after the episode closes (a treatment outcome), until the next one opens.
      .filter((f) => f.start && f.active && f.start >= s.start && (nextStart === null || f.start < nextStart))
      .flatMap((f) =>
        entriesOf(p.measures)
          .filter(([measure, def]) => anyMatch(def.match, f) && plausible(p.measures[measure]!, f))
          .map(([measure]) => ({
            measure,
            date: f.start!,
            ref: f.ref,
            codes: f.valueCodes.map(codeOf),
            num: f.valueNum,
            ...(f.readings ? { readings: f.readings } : {}),
            ...(f.encounter ? { encounter: f.encounter } : {}),
          })),
      )
      .sort(byDateThenRef);
    return [
      {
        key: s.key,
        start: s.start,
        end: s.end,
        endEvent: s.endEvent,
        version: version.version,
        flags,
        items,
        services: serviceFacts.filter((g) => inEpisode(s, g.date)),
        measures,
      },
    ];
  });
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
export function latestMeasure(ep: Episode, measure: string, upTo: string) {
  return ep.measures.filter((m) => m.measure === measure && m.date <= upTo).at(-1) ?? null;
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
    const g = ep.services.filter((x) => x.service === c.atLastService && x.date >= from && x.date <= day).at(-1);
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
      Object.assign(out, m.readings ?? {});
  return out;
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
    if (b.whenFlags && !b.whenFlags.some((f) => ep.flags.includes(f))) continue;
    applied = true;
    let met: boolean | undefined;
    if (b.all) {
      const each = b.all.map((x) => within(readings[x.reading], x));
      met = each.some((x) => x === undefined) ? undefined : each.every(Boolean);
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
    const urgent =
      rule.urgent?.when?.some((w) => {
        const v = all[w.reading];
        return v !== undefined && ((w.atLeast !== undefined && v >= w.atLeast) || (w.atMost !== undefined && v <= w.atMost));
      }) || recordMatches(rule.urgent?.whenRecorded, g);
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
    const inPeriod = followUpChain(p, ep, person?.birthDate ?? null, rule.followUps.service).filter(
      (g) => g.date >= period.from && g.date <= until,
    );
    if (inPeriod.length < rule.followUps.minCount || inPeriod.some((g) => !g.onTime)) return false;
  }
  if (rule.allItemsDelivered) {
    const ending = ep.items.filter((it) => {
      const lastDay = addDays(it.to, -1);
      return lastDay >= period.from && lastDay <= until;
    });
    if (!ending.length || ending.some((it) => !it.deliveredOn)) return false;
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

export function meets(c: Criterion, p: Programme, person: PersonFacts, ep: Episode, period: Period, asOf: string): boolean {
  const until = judgedUntil(period, asOf);
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
    const kinds = [c.services].flat();
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
      if (!ind.denominator.where.every((c) => meets(c, p, r.person, ep, period, asOf))) continue;
      out.push({ person: r.person, episode: ep, inNumerator: ind.numerator.where.every((c) => meets(c, p, r.person, ep, period, asOf)) });
    }
  return out;
}

/** A percentage with one decimal; the indicator's rule when the denominator is 0. */
export function rate(ind: Indicator, numerator: number, denominator: number): number | null {
  if (denominator === 0) return ind.whenDenominatorZero === 'zero' ? 0 : null;
  return Math.round((numerator / denominator) * 1000) / 10;
}
