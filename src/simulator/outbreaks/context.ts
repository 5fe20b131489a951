/**
 * What every outbreak scenario shares: the world, the recorder and the other generators an
 * outbreak's cases go through, the outbreaks' random stream, the day scheduler of planned
 * actions, and helpers to open an outbreak, add its cases and record what they do (absences,
 * pharmacy purchases, CDC investigations).
 */
import type { Acute } from '../acute.js';
import type { Department, Facility, FacilityKind } from '../district.js';
import type { AbsenceSymptom, Feeds, PharmacyCategory } from '../feeds.js';
import type { Immunizer } from '../immunization.js';
import type { PanelKey } from '../labs.js';
import type { Recorder } from '../records/index.js';
import { Rng } from '../rng.js';
import type { OutbreakKind, TransmissionEdge, Truth, TruthCase, TruthOutbreak } from '../truth.js';
import type { Visit, World } from '../types.js';

/** A planned infection and its truth record. */
export interface Case {
  person: number;
  infected: number;
  /** Onset day, or null for an asymptomatic infection (carrier). */
  onset: number | null;
  /** Onset minute of day. */
  onsetMin: number;
  infector: number;
  setting: Setting;
  truth: TruthCase;
}

/** Where a transmission happened. */
export type Setting = TransmissionEdge['setting'];

export class OutbreakContext {
  readonly rng: Rng;
  private readonly actions = new Map<number, (() => void)[]>();
  private communityIndex: { start: Int32Array; members: Int32Array } | null = null;
  private seq = 0;

  constructor(
    readonly w: World,
    readonly rec: Recorder,
    readonly acute: Acute,
    readonly feeds: Feeds,
    readonly immunizer: Immunizer,
    readonly truth: Truth,
  ) {
    this.rng = new Rng(w.seed, 'outbreaks');
  }

  /** Plans an action for a day of the run (ignored outside the run). */
  at(day: number, fn: () => void): void {
    if (day < this.w.startDay || day >= this.w.endDay) return;
    const list = this.actions.get(day);
    if (list) list.push(fn);
    else this.actions.set(day, [fn]);
  }

  /** Runs the actions planned for a day. */
  runDay(day: number): void {
    const list = this.actions.get(day);
    if (!list) return;
    this.actions.delete(day);
    for (const fn of list) fn();
  }

  /** Opens an outbreak in the truth (its end moves as cases are added). */
  newOutbreak(kind: OutbreakKind, disease: string, pathogen: string, setting: TruthOutbreak['setting'], start: number): TruthOutbreak {
    const o: TruthOutbreak = {
      id: `ob-${String(++this.seq).padStart(3, '0')}`,
      kind,
      disease,
      pathogen,
      areaCodes: [],
      setting,
      start: this.w.clock.iso(start),
      end: this.w.clock.iso(start),
      cases: [],
    };
    this.truth.outbreaks.push(o);
    return o;
  }

  /**
   * Adds an infection (null when the person is already a case, not yet born, infected after the
   * run, or dies within two months of it: a case's visits, samples and absences come in the weeks
   * after infection, and nothing of a resident is written after the day of death).
   */
  addCase(
    o: TruthOutbreak,
    cases: Map<number, Case>,
    person: number,
    infected: number,
    onset: number | null,
    infector: number,
    setting: Setting,
  ): Case | null {
    if (cases.has(person) || infected >= this.w.endDay || person >= this.w.pop.n) return null;
    if (this.w.deaths.deathDay(person) < infected + 60) return null;
    const truth: TruthCase = {
      patientId: this.w.pop.patientId(person),
      infectedDate: this.w.clock.iso(infected),
      onsetDate: onset === null ? null : this.w.clock.iso(onset),
      symptomatic: onset !== null,
      setting,
      encounterIds: [],
      reportCardIds: [],
      labRecordIds: [],
      absenceDates: [],
      pharmacyPurchases: 0,
    };
    const c: Case = { person, infected, onset, onsetMin: 360 + this.rng.int(960), infector, setting, truth };
    cases.set(person, c);
    o.cases.push(truth);
    this.truth.addCase(person, truth);
    this.truth.follower?.addCase(o.id, o.kind, person, truth, infected, onset);
    this.truth.transmission.push({
      outbreakId: o.id,
      from: infector >= 0 ? this.w.pop.patientId(infector) : `source:${o.id}`,
      to: truth.patientId,
      day: this.w.clock.iso(infected),
      setting,
    });
    const code = this.w.district.communities[this.w.pop.community[person]!]!.code;
    if (!o.areaCodes.includes(code)) o.areaCodes.push(code);
    const last = onset ?? infected;
    const end = this.w.clock.iso(Math.min(last, this.w.endDay - 1));
    if (end > o.end) o.end = end;
    return c;
  }

  /** The other members of a person's household. */
  household(person: number): number[] {
    const pop = this.w.pop;
    const h = pop.household[person]!;
    if (h < 0) return [];
    const out: number[] = [];
    for (let i = pop.hhStart[h]!; i < pop.hhStart[h]! + pop.hhSize[h]!; i++) if (i !== person) out.push(i);
    return out;
  }

  /** Everyone living in a community (index built on first use). */
  community(c: number): Int32Array {
    if (!this.communityIndex) {
      const pop = this.w.pop;
      const nC = this.w.district.communities.length;
      const start = new Int32Array(nC + 1);
      for (let i = 0; i < pop.n; i++) start[pop.community[i]! + 1]!++;
      for (let k = 0; k < nC; k++) start[k + 1]! += start[k]!;
      const fill = start.slice(0, nC);
      const members = new Int32Array(pop.n);
      for (let i = 0; i < pop.n; i++) members[fill[pop.community[i]!]!++] = i;
      this.communityIndex = { start, members };
    }
    return this.communityIndex.members.subarray(this.communityIndex.start[c]!, this.communityIndex.start[c + 1]!);
  }

  /** Up to `count` school days from a day (within 30 days and the run). */
  schoolDays(from: number, count: number): number[] {
    const out: number[] = [];
    for (let d = from; out.length < count && d < this.w.endDay && d < from + 30; d++) if (this.w.cal.isSchoolDay(d)) out.push(d);
    return out;
  }

  /** Records school absences for a pupil from a day, and remembers them in the truth. */
  absent(c: Case, from: number, days: number, symptoms: AbsenceSymptom[]): void {
    const { pop, schools } = this.w;
    for (const d of this.schoolDays(from, days)) {
      const klass = schools.classOf(pop, c.person, d);
      if (klass < 0) return;
      this.feeds.addAbsence(d, klass, symptoms[this.rng.int(symptoms.length)]!);
      c.truth.absenceDates.push(this.w.clock.iso(d));
    }
  }

  /** Pharmacy purchases by a case at their usual pharmacy. */
  purchase(c: Case, day: number, items: [PharmacyCategory, number][]): void {
    if (day >= this.w.endDay) return;
    const ph = this.feeds.pharmacyOf(c.person);
    if (!ph) return;
    for (const [cat, units] of items) {
      this.feeds.addPurchase(day, ph, cat, units);
      c.truth.pharmacyPurchases += units;
    }
  }

  /** Remembers a case's records in the truth. */
  track(c: Case, v: Visit | null, labIds: (string | null)[] = [], cardIds: string[] = []): void {
    if (v) c.truth.encounterIds.push(v.id);
    for (const l of labIds) if (l) c.truth.labRecordIds.push(l);
    c.truth.reportCardIds.push(...cardIds);
  }

  /** The first facility of a kind. */
  facility(kind: FacilityKind): Facility {
    const d = this.w.district;
    return d.facilities[d.byKind.get(kind)![0]!]!;
  }

  /** The first of these departments the facility has, else a clinic. */
  dept(f: Facility, ...codes: string[]): Department {
    for (const c of codes) {
      const d = f.departments.find((x) => x.code === c);
      if (d) return d;
    }
    return f.departments.find((x) => x.kind === 'clinic') ?? f.departments[0]!;
  }

  /** A CDC field investigation: specimens from some cases, tested at the CDC laboratory. */
  investigate(cases: Case[], day: number, panel: PanelKey, positive: (c: Case) => Set<string>): void {
    const cdc = this.facility('cdc');
    const lab = this.dept(cdc, 'cdc-laboratory');
    this.at(day, () => {
      for (const c of cases) {
        const v = this.rec.visit({
          person: c.person,
          facility: cdc,
          dept: lab,
          cls: 'FLD',
          visitType: 'investigation',
          day,
          startMin: 540 + this.rng.int(420),
          durationMin: 15,
          complaint: '聚集性疫情流行病学调查，采集标本',
          temperature: null,
          dx: [],
          onsetDay: c.onset ?? c.infected,
        });
        this.track(c, v, [this.rec.lab(v, panel, positive(c), cdc)]);
      }
    });
  }
}
