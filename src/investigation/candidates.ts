/**
 * Contact candidates of a case (pure): from the groups the case belongs to (household, school
 * class, care home, as FHIR Groups) and from stays at the same places at once (room, ward,
 * department; stays.ts), within the case's infectious period (rules.ts contactWindow). Each
 * candidate names its kind, place and exposure window. A person found both in a room and in
 * its ward is proposed once, as the more specific kind.
 */
import type { Group } from '@medplum/fhirtypes';
import { addDays, chinaDateOf } from '../shared/dates.js';
import { dayStart } from './follow-up.js';
import type { ContactKind, DiseaseRule, SchoolCalendar } from './rules.js';
import { STAY_KINDS } from './rules.js';
import { overlap } from './stays.js';
import type { NewCandidate, Stay } from './store.js';

const GROUP_KINDS: Record<string, ContactKind> = {
  household: 'household',
  'school-class': 'school-class',
  'care-home-residents': 'care-home',
  'care-home': 'care-home',
};

/** The contact kind a Group stands for (its group-kind code), if any. */
export function groupKind(g: Group): ContactKind | undefined {
  for (const c of g.code?.coding ?? []) if (c.code && GROUP_KINDS[c.code]) return GROUP_KINDS[c.code];
  return undefined;
}

const MEMBER_PERSON = 'https://yifang.health/fhir/StructureDefinition/member-person';

/**
 * A class's school days: where its school reported it to the absence feed, the days reported
 * (from the first report to the last, a day without a report was no school day for it — a class
 * closed, a school trip, a school's own holiday); outside that span, the district calendar.
 */
export function classCalendar(
  district: Pick<SchoolCalendar, 'isSchoolDay'>,
  reported: ReadonlySet<string> | undefined,
): Pick<SchoolCalendar, 'isSchoolDay'> {
  if (!reported?.size) return district;
  const days = [...reported].sort();
  const first = days[0]!;
  const last = days[days.length - 1]!;
  return { isSchoolDay: (day) => (day < first || day > last ? district.isSchoolDay(day) : reported.has(day)) };
}

/**
 * The part of `span` the case spent in class: its school days (the calendar) from the first to the
 * last on which the case was there, a sick pupil being kept home from the day after onset for the
 * disease's exclusion days. Null when there is no such day (a holiday, the vacation, or ill at home
 * throughout), so the class is not proposed.
 */
export function classAttendance(
  span: { start: string; end: string },
  onset: string,
  disease: Pick<DiseaseRule, 'schoolExclusionDays'>,
  calendar: Pick<SchoolCalendar, 'isSchoolDay'>,
): { start: string; end: string } | null {
  const homeFrom = addDays(onset, 1);
  const homeTo = addDays(onset, disease.schoolExclusionDays);
  let first: string | undefined;
  let last: string | undefined;
  const to = chinaDateOf(span.end);
  for (let d = chinaDateOf(span.start); d <= to; d = addDays(d, 1)) {
    if (!calendar.isSchoolDay(d) || (d >= homeFrom && d <= homeTo)) continue;
    first ??= d;
    last = d;
  }
  if (!first || !last) return null;
  const start = new Date(Math.max(dayStart(first), Date.parse(span.start))).toISOString();
  const end = new Date(Math.min(dayStart(addDays(last, 1)) - 1, Date.parse(span.end))).toISOString();
  return start <= end ? { start, end } : null;
}

export function fromGroups(
  groups: Group[],
  casePatients: ReadonlySet<string>,
  disease: DiseaseRule,
  window: { start: string; end: string },
  now: Date,
  school: {
    onset: string;
    calendar: Pick<SchoolCalendar, 'isSchoolDay'>;
    /** Per class Group id: the days its school reported it to the absence feed (its real school days). */
    classDays?: ReadonlyMap<string, ReadonlySet<string>>;
  },
): NewCandidate[] {
  const out: NewCandidate[] = [];
  const allowed = new Set(disease.contactKinds);
  for (const g of groups) {
    const kind = groupKind(g);
    if (!kind || !allowed.has(kind) || g.active === false) continue;
    // The case's own membership bounds the window (a pupil who left the class in the spring).
    const mine = (g.member ?? []).find((m) => casePatients.has(refId(m.entity?.reference) ?? ''));
    const caseSpan = mine?.period ? { start: mine.period.start ?? window.start, end: mine.period.end ?? null } : undefined;
    const member = caseSpan ? overlap(window, caseSpan, now) : window;
    // A class meets on school days only, and not while the case is kept home ill.
    const calendar = kind === 'school-class' ? classCalendar(school.calendar, school.classDays?.get(g.id ?? '')) : school.calendar;
    const base = member && kind === 'school-class' ? classAttendance(member, school.onset, disease, calendar) : member;
    if (!base) continue;
    const persons = new Set<string>();
    for (const m of g.member ?? []) {
      const pid = refId(m.entity?.reference);
      if (!pid || casePatients.has(pid) || m.inactive) continue;
      const person = m.extension?.find((x) => x.url === MEMBER_PERSON)?.valueReference?.reference;
      if (person) {
        if (persons.has(person)) continue;
        persons.add(person);
      }
      const span = m.period ? overlap(base, { start: m.period.start ?? base.start, end: m.period.end ?? null }, now) : base;
      if (!span) continue;
      out.push({
        patientId: pid,
        kind,
        placeKey: `Group/${g.id}`,
        place: g.name ?? `Group/${g.id}`,
        windowStart: span.start,
        windowEnd: span.end,
      });
    }
  }
  return out;
}

function refId(ref: string | undefined): string | undefined {
  return ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
}

/** The case's stays clipped to the window, at kinds the disease counts. */
export function caseStaysInWindow(stays: Stay[], disease: DiseaseRule, window: { start: string; end: string }, now: Date): Stay[] {
  const kinds = new Set<string>(disease.contactKinds);
  const out: Stay[] = [];
  for (const s of stays) {
    if (!kinds.has(s.kind)) continue;
    const o = overlap(s, window, now);
    if (o) out.push({ ...s, start: o.start, end: o.end });
  }
  return out;
}

export function fromStays(
  caseStays: Stay[],
  others: Stay[],
  casePatients: ReadonlySet<string>,
  disease: DiseaseRule,
  now: Date,
): NewCandidate[] {
  const byPlace = new Map<string, Stay[]>();
  for (const s of caseStays) byPlace.set(s.placeKey, [...(byPlace.get(s.placeKey) ?? []), s]);
  const found = new Map<string, NewCandidate>();
  for (const o of others) {
    if (casePatients.has(o.patientId)) continue;
    for (const c of byPlace.get(o.placeKey) ?? []) {
      const w = overlap(c, o, now, disease.minOverlapHours);
      if (!w) continue;
      const key = `${o.patientId}|${o.kind}|${o.placeKey}`;
      const prev = found.get(key);
      found.set(key, {
        patientId: o.patientId,
        kind: o.kind as ContactKind,
        placeKey: o.placeKey,
        place: o.label,
        windowStart: prev && prev.windowStart < w.start ? prev.windowStart : w.start,
        windowEnd: prev && prev.windowEnd > w.end ? prev.windowEnd : w.end,
      });
    }
  }
  // One co-stay candidate per person: the most specific kind found (room before ward before department).
  const best = new Map<string, number>();
  for (const c of found.values()) {
    const rank = STAY_KINDS.indexOf(c.kind as (typeof STAY_KINDS)[number]);
    best.set(c.patientId, Math.min(best.get(c.patientId) ?? 99, rank));
  }
  return [...found.values()].filter((c) => STAY_KINDS.indexOf(c.kind as (typeof STAY_KINDS)[number]) === best.get(c.patientId));
}
