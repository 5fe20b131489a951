/**
 * Contact truth: for every case of an injected outbreak, the people the records can reveal as
 * its contacts during its infectious period — household members (the household Group, and
 * children born into the household before the period ends), school-class mates on the school
 * days the case attended (the class Group), care-home co-residents (the care-home Group), and
 * co-stays: anyone whose encounter at the same facility department overlaps one of the case's
 * encounters inside the period (kind `ward` at an inpatient ward, `department` elsewhere). Home
 * visits and CDC field sampling (classes HH and FLD) put nobody at the department, so they make
 * no co-stays.
 *
 * Co-stays are found while the run goes: every encounter is kept until the day after it ends
 * (about a day of outpatient visits plus the hospitals' current inpatients), and at the end of
 * each day the case encounters of the day before are matched against it. Group contacts are
 * computed while truth.json is written, one case at a time, from the population's arrays. No
 * randomness is drawn, so the rest of the output is unchanged.
 */
import type { Department } from './district.js';
import { householdId } from './identity.js';
import type { FollowedVisit, OutbreakKind, Truth, TruthCase } from './truth.js';
import type { World } from './types.js';

export type ContactKind = 'household' | 'school-class' | 'care-home' | 'ward' | 'room' | 'department';

export interface TruthContact {
  patientId: string;
  kind: ContactKind;
  /** Group id (household, class, care home) or `<facility id>|<department code>` for a co-stay. */
  place: string;
  /** Exposure window: dates for group contacts, FHIR dateTimes (+08:00) for co-stays. */
  from: string;
  to: string;
}

export interface TruthCaseContacts {
  outbreakId: string;
  patientId: string;
  /** The case's infectious period (dates, inclusive). */
  infectiousFrom: string;
  infectiousTo: string;
  contacts: TruthContact[];
}

/**
 * Infectious period in days relative to onset (or, for a carrier, to infection): influenza 1 day
 * before to 5 after onset; norovirus onset to 3 days after; measles 4 days before to 4 after the
 * rash (the rash comes 3 days after the prodrome's onset); cholera and salmonellosis onset to 7
 * and 3 days after. Carriers: days 1–3 after infection (as the outbreaks let them transmit).
 */
const INFECTIOUS: Record<OutbreakKind, [number, number]> = {
  'school-influenza': [-1, 5],
  'care-home-norovirus': [0, 3],
  'community-measles': [-1, 7],
  'class-a-cholera': [0, 7],
  'foodborne-point-source': [0, 3],
};

export function infectiousPeriod(kind: OutbreakKind, infected: number, onset: number | null): [number, number] {
  if (onset === null) return [infected + 1, infected + 3];
  const [a, b] = INFECTIOUS[kind];
  return [Math.max(infected, onset + a), onset + b];
}

/** A case being followed: its person, truth record and infectious period. */
interface FollowedCase {
  outbreakId: string;
  person: number;
  truth: TruthCase;
  from: number;
  to: number;
}

/** An encounter kept for matching: place, period in absolute minutes, person. */
interface KeptVisit {
  place: number;
  start: number;
  end: number;
  person: number;
}

const DAY_MIN = 1440;

export class ContactTruth {
  private readonly cases: FollowedCase[] = [];
  private readonly casesOf = new Map<number, FollowedCase[]>();
  private readonly places = new Map<Department, number>();
  private readonly placeDepts: Department[] = [];
  private recent: KeptVisit[] = [];
  /** Case visits still to match (one entry per case and visit). */
  private caseVisits: { c: FollowedCase; v: KeptVisit }[] = [];
  /** Co-stays per case: other person|place → [from, to] minutes. */
  private readonly coStays = new Map<FollowedCase, Map<string, [number, number, number, number]>>();

  constructor(private readonly w: World) {}

  /** Follows a case: its encounters in the infectious period are matched against everyone's. */
  addCase(outbreakId: string, kind: OutbreakKind, person: number, truth: TruthCase, infected: number, onset: number | null): void {
    const [from, to] = infectiousPeriod(kind, infected, onset);
    const c: FollowedCase = { outbreakId, person, truth, from, to: Math.min(to, this.w.endDay - 1) };
    if (c.to < c.from) c.to = c.from;
    this.cases.push(c);
    const list = this.casesOf.get(person);
    if (list) list.push(c);
    else this.casesOf.set(person, [c]);
  }

  /** Every encounter the recorder writes. */
  visit(v: FollowedVisit): void {
    if (v.cls === 'HH' || v.cls === 'FLD') return;
    let place = this.places.get(v.dept);
    if (place === undefined) {
      place = this.placeDepts.length;
      this.places.set(v.dept, place);
      this.placeDepts.push(v.dept);
    }
    const kept: KeptVisit = { place, start: v.day * DAY_MIN + v.startMin, end: v.endDay * DAY_MIN + v.endMin, person: v.person };
    this.recent.push(kept);
    const mine = this.casesOf.get(v.person);
    if (!mine) return;
    for (const c of mine) if (kept.start < (c.to + 1) * DAY_MIN && kept.end >= c.from * DAY_MIN) this.caseVisits.push({ c, v: kept });
  }

  /** After day `day`: case encounters overlapping the day before are matched, then encounters over by then are dropped. */
  endDay(day: number): void {
    this.match(day - 1);
    const keepFrom = (day - 1) * DAY_MIN;
    if (this.recent.length > 0) this.recent = this.recent.filter((k) => k.end >= keepFrom);
    if (this.caseVisits.length > 0) this.caseVisits = this.caseVisits.filter((x) => x.v.end >= keepFrom);
  }

  /** Matches what is left (the run's last day). */
  finish(): void {
    for (let d = this.w.endDay - 1; d <= this.w.endDay; d++) this.match(d);
    this.recent = [];
    this.caseVisits = [];
  }

  /** Co-stays during day d of the case encounters that overlap it. */
  private match(d: number): void {
    if (this.caseVisits.length === 0) return;
    const lo = d * DAY_MIN;
    const hi = (d + 1) * DAY_MIN;
    const active = this.caseVisits.filter((x) => x.v.start < hi && x.v.end >= lo);
    if (active.length === 0) return;
    const wanted = new Set(active.map((x) => x.v.place));
    const byPlace = new Map<number, KeptVisit[]>();
    for (const k of this.recent) {
      if (!wanted.has(k.place) || k.start >= hi || k.end < lo) continue;
      const list = byPlace.get(k.place);
      if (list) list.push(k);
      else byPlace.set(k.place, [k]);
    }
    for (const { c, v } of active) {
      // The case's encounter on this day, inside its infectious period.
      const s0 = Math.max(v.start, lo, c.from * DAY_MIN);
      const e0 = Math.min(v.end, hi - 1, (c.to + 1) * DAY_MIN - 1);
      if (e0 < s0) continue;
      for (const o of byPlace.get(v.place) ?? []) {
        if (o.person === c.person) continue;
        const s = Math.max(s0, o.start);
        const e = Math.min(e0, o.end);
        if (e < s) continue;
        let stays = this.coStays.get(c);
        if (!stays) this.coStays.set(c, (stays = new Map()));
        const key = `${o.person}|${v.place}`;
        const prev = stays.get(key);
        if (prev) {
          prev[2] = Math.min(prev[2], s);
          prev[3] = Math.max(prev[3], e);
        } else stays.set(key, [o.person, v.place, s, e]);
      }
    }
  }

  /** Every followed case with its contacts, in the order the cases were planned (for truth.json, one at a time). */
  *contacts(truth: Truth): Generator<TruthCaseContacts> {
    const { pop, schools, care, clock, district } = this.w;
    const kept = new Set(truth.outbreaks.map((o) => o.id));
    // Children born during the run belong to a household but sit outside its block of indices.
    const newborns = new Map<number, number[]>();
    for (let i = 0; i < pop.n; i++)
      if (pop.birthDay[i]! >= this.w.startDay && pop.household[i]! >= 0) {
        const h = pop.household[i]!;
        if (i >= pop.hhStart[h]! && i < pop.hhStart[h]! + pop.hhSize[h]!) continue;
        const list = newborns.get(h);
        if (list) list.push(i);
        else newborns.set(h, [i]);
      }
    const homes = district.byKind.get('care-home') ?? [];
    const time = (min: number) => clock.fhir(Math.floor(min / DAY_MIN), min % DAY_MIN);
    for (const c of this.cases) {
      if (!kept.has(c.outbreakId)) continue;
      const out: TruthContact[] = [];
      const from = clock.iso(c.from);
      const to = clock.iso(c.to);
      const h = pop.household[c.person]!;
      if (h >= 0) {
        const gid = householdId(h);
        for (let i = pop.hhStart[h]!; i < pop.hhStart[h]! + pop.hhSize[h]!; i++)
          if (i !== c.person) out.push({ patientId: pop.patientId(i), kind: 'household', place: gid, from, to });
        for (const i of newborns.get(h) ?? [])
          if (i !== c.person && pop.birthDay[i]! <= c.to)
            out.push({
              patientId: pop.patientId(i),
              kind: 'household',
              place: gid,
              from: clock.iso(Math.max(c.from, pop.birthDay[i]!)),
              to,
            });
      }
      // Classmates: school days of the period on which the case was in class (not absent).
      const absent = new Set(c.truth.absenceDates);
      const attended = new Map<number, [number, number]>();
      for (let d = c.from; d <= c.to; d++) {
        if (!this.w.cal.isSchoolDay(d) || absent.has(clock.iso(d))) continue;
        const k = schools.classOf(pop, c.person, d);
        if (k < 0) continue;
        const span = attended.get(k);
        if (span) span[1] = d;
        else attended.set(k, [d, d]);
      }
      for (const [k, [a, b]] of attended)
        for (const q of schools.pupils(k))
          if (q !== c.person)
            out.push({
              patientId: pop.patientId(q),
              kind: 'school-class',
              place: `class-${schools.classes[k]!.code}`,
              from: clock.iso(a),
              to: clock.iso(b),
            });
      // pop.careHome holds the home's facility index; care.residents is per home.
      const home = homes.indexOf(pop.careHome[c.person]!);
      if (home >= 0) {
        const gid = `carehome-${district.facilities[homes[home]!]!.code}`;
        for (const q of care.residents[home]!)
          if (q !== c.person) out.push({ patientId: pop.patientId(q), kind: 'care-home', place: gid, from, to });
      }
      for (const [person, place, s, e] of this.coStays.get(c)?.values() ?? []) {
        const dept = this.placeDepts[place]!;
        out.push({
          patientId: pop.patientId(person),
          kind: dept.kind === 'ward' ? 'ward' : 'department',
          place: `${district.facilities[dept.facility]!.id}|${dept.code}`,
          from: time(s),
          to: time(e),
        });
      }
      yield { outbreakId: c.outbreakId, patientId: c.truth.patientId, infectiousFrom: from, infectiousTo: to, contacts: out };
    }
  }
}
