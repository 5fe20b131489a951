/**
 * Injected outbreaks with ground truth. Each outbreak is planned when the run starts: who is
 * infected, by whom, where (household, class, school, ward, care home, community, a shared
 * meal) and when; then its cases turn up day by day as real records (visits, laboratory
 * results, report cards, school absences, pharmacy purchases) through the same recorder as
 * everything else, so an outbreak raises all the signals together.
 */
import { civilFromDay } from '../calendar.js';
import type { Acute } from '../acute.js';
import { ICD } from '../icd.js';
import type { Department, Facility, FacilityKind } from '../district.js';
import type { AbsenceSymptom, Feeds, PharmacyCategory } from '../feeds.js';
import type { Immunizer } from '../immunization.js';
import type { PanelKey } from '../labs.js';
import { OCC } from '../population.js';
import type { Recorder } from '../records/index.js';
import type { Dx, Visit } from '../types.js';
import { hashFloat, Rng } from '../rng.js';
import type { TransmissionEdge, Truth, TruthCase, TruthOutbreak, OutbreakKind } from '../truth.js';
import type { World } from '../types.js';

/** Outbreaks per 100,000 person-years (at least one of each kind per run; assumption). */
const RATES: Record<OutbreakKind, number> = {
  'foodborne-point-source': 3,
  'school-influenza': 4,
  'care-home-norovirus': 2,
  'community-measles': 0.4,
  'class-a-cholera': 0.25,
};
const PREFERRED_MONTHS: Record<OutbreakKind, number[]> = {
  'foodborne-point-source': [5, 6, 7, 8, 9],
  'school-influenza': [11, 12, 1, 2, 3, 4],
  'care-home-norovirus': [11, 12, 1, 2, 3],
  'community-measles': [2, 3, 4, 5],
  'class-a-cholera': [6, 7, 8, 9],
};

interface Case {
  person: number;
  infected: number;
  /** Onset day, or null for an asymptomatic infection (carrier). */
  onset: number | null;
  /** Onset minute of day. */
  onsetMin: number;
  infector: number;
  setting: TransmissionEdge['setting'];
  truth: TruthCase;
}

type Setting = TransmissionEdge['setting'];

export class Outbreaks {
  private readonly rng: Rng;
  private readonly actions = new Map<number, (() => void)[]>();
  private communityIndex: { start: Int32Array; members: Int32Array } | null = null;
  private seq = 0;

  constructor(
    private readonly w: World,
    private readonly rec: Recorder,
    private readonly acute: Acute,
    private readonly feeds: Feeds,
    private readonly immunizer: Immunizer,
    private readonly truth: Truth,
  ) {
    this.rng = new Rng(w.seed, 'outbreaks');
  }

  private at(day: number, fn: () => void): void {
    if (day < this.w.startDay || day >= this.w.endDay) return;
    const list = this.actions.get(day);
    if (list) list.push(fn);
    else this.actions.set(day, [fn]);
  }

  day(day: number): void {
    const list = this.actions.get(day);
    if (!list) return;
    this.actions.delete(day);
    for (const fn of list) fn();
  }

  /** Plans every outbreak of the run (an outbreak that found nobody is dropped). */
  plan(): void {
    this.planAll();
    for (let i = this.truth.outbreaks.length - 1; i >= 0; i--)
      if (this.truth.outbreaks[i]!.cases.length === 0) this.truth.outbreaks.splice(i, 1);
  }

  private planAll(): void {
    const personYears = (this.w.pop.n * this.w.days) / 365;
    const kinds = Object.keys(RATES) as OutbreakKind[];
    for (const kind of kinds) {
      const count = Math.max(1, Math.round((RATES[kind] * personYears) / 1e5 + (this.rng.float() - 0.5)));
      for (let k = 0; k < count; k++) {
        const start = this.pickDay(kind);
        if (start === null) continue;
        if (kind === 'foodborne-point-source') this.foodborne(start);
        else if (kind === 'school-influenza') this.schoolFlu(start);
        else if (kind === 'care-home-norovirus') this.careHomeNorovirus(start);
        else if (kind === 'community-measles') this.measles(start);
        else this.cholera(start);
      }
    }
  }

  private pickDay(kind: OutbreakKind): number | null {
    const { startDay, endDay } = this.w;
    const lo = startDay + Math.min(14, Math.floor(this.w.days / 8));
    const hi = endDay - Math.min(28, Math.floor(this.w.days / 4));
    if (hi <= lo) return null;
    const preferred: number[] = [];
    for (let d = lo; d < hi; d++) if (PREFERRED_MONTHS[kind].includes(civilFromDay(d).m)) preferred.push(d);
    if (preferred.length > 0) return preferred[this.rng.int(preferred.length)]!;
    return lo + this.rng.int(hi - lo);
  }

  private newOutbreak(
    kind: OutbreakKind,
    disease: string,
    pathogen: string,
    setting: TruthOutbreak['setting'],
    start: number,
  ): TruthOutbreak {
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

  private addCase(
    o: TruthOutbreak,
    cases: Map<number, Case>,
    person: number,
    infected: number,
    onset: number | null,
    infector: number,
    setting: Setting,
  ): Case | null {
    if (cases.has(person) || infected >= this.w.endDay || person >= this.w.pop.n) return null;
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

  private household(person: number): number[] {
    const pop = this.w.pop;
    const h = pop.household[person]!;
    if (h < 0) return [];
    const out: number[] = [];
    for (let i = pop.hhStart[h]!; i < pop.hhStart[h]! + pop.hhSize[h]!; i++) if (i !== person) out.push(i);
    return out;
  }

  private community(c: number): Int32Array {
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

  private schoolDays(from: number, count: number): number[] {
    const out: number[] = [];
    for (let d = from; out.length < count && d < this.w.endDay && d < from + 30; d++) if (this.w.cal.isSchoolDay(d)) out.push(d);
    return out;
  }

  /** Records school absences for a pupil from a day, and remembers them in the truth. */
  private absent(c: Case, from: number, days: number, symptoms: AbsenceSymptom[]): void {
    const { pop, schools } = this.w;
    for (const d of this.schoolDays(from, days)) {
      const klass = schools.classOf(pop, c.person, d);
      if (klass < 0) return;
      this.feeds.addAbsence(d, klass, symptoms[this.rng.int(symptoms.length)]!);
      c.truth.absenceDates.push(this.w.clock.iso(d));
    }
  }

  private purchase(c: Case, day: number, items: [PharmacyCategory, number][]): void {
    if (day >= this.w.endDay) return;
    const ph = this.feeds.pharmacyOf(c.person);
    if (!ph) return;
    for (const [cat, units] of items) {
      this.feeds.addPurchase(day, ph, cat, units);
      c.truth.pharmacyPurchases += units;
    }
  }

  private track(c: Case, v: Visit | null, labIds: (string | null)[] = [], cardIds: string[] = []): void {
    if (v) c.truth.encounterIds.push(v.id);
    for (const l of labIds) if (l) c.truth.labRecordIds.push(l);
    c.truth.reportCardIds.push(...cardIds);
  }

  private facility(kind: FacilityKind): Facility {
    const d = this.w.district;
    return d.facilities[d.byKind.get(kind)![0]!]!;
  }

  private dept(f: Facility, ...codes: string[]): Department {
    for (const c of codes) {
      const d = f.departments.find((x) => x.code === c);
      if (d) return d;
    }
    return f.departments.find((x) => x.kind === 'clinic') ?? f.departments[0]!;
  }

  /** A CDC field investigation: specimens from some cases, tested at the CDC laboratory. */
  private investigate(cases: Case[], day: number, panel: PanelKey, positive: (c: Case) => Set<string>): void {
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

  // --- A shared meal -------------------------------------------------------------------

  private foodborne(meal: number): void {
    const r = this.rng;
    const { pop, district, schools } = this.w;
    const u = r.float();
    let venue: { type: string; name: string; id: string; community: number };
    const exposed: number[] = [];
    if (u < 0.2 && schools.classes.length > 0) {
      // A school canteen: several classes of one school, on a school day.
      let day = meal;
      while (!this.w.cal.isSchoolDay(day) && day < this.w.endDay - 1) day++;
      meal = day;
      const active = schools.classes.filter((c) => schools.grade(c.index, meal) > 0 && c.stage !== 'kindergarten');
      if (active.length === 0) return this.foodborne(meal + 1);
      const school = active[r.int(active.length)]!.school;
      const classes = active.filter((c) => c.school === school);
      r.shuffle(classes);
      for (const c of classes.slice(0, 3 + r.int(6))) for (const p of schools.pupils(c.index)) exposed.push(p);
      const f = district.facilities[school]!;
      venue = { type: 'school-canteen', name: `${f.name}食堂`, id: f.id, community: f.community };
    } else if (u < 0.5) {
      // A workplace canteen.
      const c = district.communities[r.int(district.communities.length)]!;
      venue = { type: 'workplace-canteen', name: `${c.name}某单位职工食堂`, id: `venue-${c.code}-canteen`, community: c.index };
      const want = 60 + r.int(140);
      for (let t = 0; t < want * 20 && exposed.length < want; t++) {
        const p = r.int(pop.n);
        const age = pop.age(p, meal);
        if (
          age >= 20 &&
          age < 60 &&
          (pop.occupation[p] === OCC.worker || pop.occupation[p] === OCC.clerk || pop.occupation[p] === OCC.commerce)
        )
          exposed.push(p);
      }
    } else {
      // A banquet (婚宴/寿宴): households of one street.
      const c = district.communities[r.int(district.communities.length)]!;
      const members = this.community(c.index);
      venue = {
        type: 'banquet',
        name: `${c.name}附近某酒店${r.chance(0.5) ? '婚宴' : '寿宴'}`,
        id: `venue-${c.code}-banquet`,
        community: c.index,
      };
      const households = 15 + r.int(30);
      for (let k = 0; k < households && members.length > 0; k++) {
        const p = members[r.int(members.length)]!;
        for (const q of [p, ...this.household(p)]) if (r.chance(0.7) && !exposed.includes(q)) exposed.push(q);
      }
    }
    if (exposed.length === 0) return;
    const o = this.newOutbreak(
      'foodborne-point-source',
      '其他感染性腹泻病（沙门菌食物中毒）',
      'Salmonella enterica',
      { type: venue.type, id: venue.id, name: venue.name },
      meal,
    );
    o.areaCodes.push(district.communities[venue.community]!.code);
    const cases = new Map<number, Case>();
    const attack = 0.3 + r.float() * 0.3;
    const mealMin = venue.type === 'banquet' ? 1110 : 720;
    for (const p of exposed) {
      if (!r.chance(attack)) continue;
      const hours = Math.min(72, Math.max(6, r.logNormal(20, 1.6)));
      const onsetAbs = mealMin + Math.round(hours * 60);
      const onset = meal + Math.floor(onsetAbs / 1440);
      const c = this.addCase(o, cases, p, meal, r.chance(0.95) ? onset : null, -1, 'food');
      if (c) c.onsetMin = onsetAbs % 1440;
    }
    const caseList = [...cases.values()];
    for (const c of caseList) {
      if (c.onset === null) continue;
      const age = pop.age(c.person, c.onset);
      const fever = r.chance(0.6);
      if (r.chance(age < 14 ? 0.65 : 0.55)) {
        const visitDay = c.onset + (c.onsetMin > 1200 || r.chance(0.3) ? 1 : 0);
        const mention = r.chance(0.35);
        this.at(visitDay, () => {
          const site = this.acute.site(
            c.person,
            age,
            age < 14 ? ['paediatrics', 'general-practice'] : ['enteric-clinic', 'emergency', 'gastroenterology', 'general-practice'],
            0.4,
            fever,
          );
          const dx: Dx = r.chance(0.6) ? ICD.infectiousDiarrhoea : ICD.gastroenteritis;
          const admit = r.chance(0.05) && site.facility.kind.endsWith('hospital');
          const ward = admit ? site.facility.departments.find((x) => x.kind === 'ward') : undefined;
          const v = this.rec.visit({
            person: c.person,
            facility: site.facility,
            dept: ward ?? site.dept,
            cls: ward ? 'IMP' : site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
            visitType: ward ? 'inpatient' : site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
            day: visitDay,
            losDays: 3 + r.int(4),
            complaint: `腹泻${r.range(4, 12)}次，伴腹痛${fever ? '、发热' : ''}${r.chance(0.4) ? '、呕吐' : ''}，${visitDay === c.onset ? '今日' : '昨日'}起病${mention ? `，自述${this.w.clock.iso(meal).slice(5).replace('-', '月')}日在外就餐，同餐者多人发病` : ''}`,
            temperature: this.acute.temperature(fever, fever),
            dx: [dx],
            onsetDay: c.onset!,
          });
          const labs: (string | null)[] = [];
          if (site.facility.kind.endsWith('hospital') && r.chance(0.4))
            labs.push(this.rec.lab(v, 'stoolCulture', new Set(r.chance(0.75) ? ['SALM'] : [])));
          const cards = dx.icd.startsWith('A0') ? this.rec.reportCard(v, 'otherDiarrhoea', dx.icd, '临床诊断病例') : [];
          this.track(c, v, labs, cards);
        });
      }
      if (r.chance(0.35))
        this.purchase(
          c,
          c.onset,
          r.chance(0.4)
            ? [
                ['antidiarrhoeal', 1 + r.int(2)],
                ['ors', 1],
              ]
            : [['antidiarrhoeal', 1 + r.int(2)]],
        );
      if (age >= 3 && age < 18) this.absent(c, c.onsetMin > 1200 ? c.onset + 1 : c.onset, 1 + r.int(3), ['腹泻', '呕吐', '腹泻']);
    }
    const symptomatic = caseList.filter((c) => c.onset !== null);
    if (symptomatic.length >= 3) {
      r.shuffle(symptomatic);
      this.investigate(
        symptomatic.slice(0, Math.min(10, 4 + r.int(6))),
        meal + 2 + r.int(2),
        'stoolCulture',
        () => new Set(r.chance(0.8) ? ['SALM'] : []),
      );
    }
  }

  // --- Influenza in a school -----------------------------------------------------------

  private schoolFlu(day0: number): void {
    const r = this.rng;
    const { pop, schools, district } = this.w;
    let d0 = day0;
    while (!this.w.cal.isSchoolDay(d0) && d0 < this.w.endDay - 1) d0++;
    const inSchool = schools.classes.filter((c) => schools.grade(c.index, d0) > 0 && c.count >= 15);
    const preferred = inSchool.filter((c) => c.stage === 'primary-school' || c.stage === 'junior-school');
    const active = preferred.length > 0 && r.chance(0.85) ? preferred : inSchool;
    if (active.length === 0) return;
    const c0 = active[r.int(active.length)]!;
    const school = district.facilities[c0.school]!;
    const fluB = r.chance(0.3);
    const o = this.newOutbreak(
      'school-influenza',
      '流行性感冒',
      fluB ? 'Influenza B virus' : 'Influenza A virus',
      { type: c0.stage, id: school.id, name: school.name },
      d0 - 2,
    );
    o.areaCodes.push(district.communities[school.community]!.code);
    const cases = new Map<number, Case>();
    const pClass = 0.04 + 0.035 * r.float();
    const pGrade = 0.004;
    const seasonKey = o.id.length + c0.index;
    const susceptible = (q: number): boolean => hashFloat(this.w.seed, q, 950, seasonKey) < 0.7;
    const queue: Case[] = [];
    const infect = (q: number, day: number, from: number, setting: Setting): void => {
      if (cases.has(q) || (from >= 0 && !susceptible(q)) || cases.size >= 200) return;
      const onset = day + 1 + r.int(3);
      const c = this.addCase(o, cases, q, day, r.chance(0.8) ? onset : null, from, setting);
      if (c) queue.push(c);
    };
    const index = schools.pupils(c0.index)[r.int(c0.count)]!;
    infect(index, d0 - 2, -1, 'import');
    let onsets = 0;
    while (queue.length > 0) {
      queue.sort((a, b) => a.infected - b.infected);
      const c = queue.shift()!;
      if (c.onset !== null) onsets++;
      const control = onsets >= 10 ? 0.4 : 1;
      const k = schools.classOf(pop, c.person, c.infected);
      const expo = c.onset !== null ? [c.onset - 1, c.onset] : [c.infected + 1, c.infected + 2, c.infected + 3];
      if (k >= 0) {
        const cl = schools.classes[k]!;
        const gradeMates = schools.classes.filter((x) => x.school === cl.school && x.entryYear === cl.entryYear && x.index !== k);
        for (const e of expo) {
          if (!this.w.cal.isSchoolDay(e) || schools.grade(k, e) === 0) continue;
          const scale = (c.onset === null ? 0.5 : 1) * control;
          for (const q of schools.pupils(k)) if (q !== c.person && r.chance(pClass * scale)) infect(q, e, c.person, 'class');
          for (const g of gradeMates) {
            const hits = r.poisson(g.count * pGrade * scale);
            for (let h = 0; h < hits; h++) infect(schools.pupils(g.index)[r.int(g.count)]!, e, c.person, 'school');
          }
        }
      }
      for (const q of this.household(c.person))
        if (r.chance(c.onset === null ? 0.06 : 0.12)) infect(q, (c.onset ?? c.infected + 1) + r.int(2), c.person, 'household');
    }
    const list = [...cases.values()];
    for (const c of list) {
      if (c.onset === null) continue;
      const age = pop.age(c.person, c.onset);
      if (r.chance(age < 18 ? 0.7 : 0.45)) {
        const visitDay = c.onset + (r.chance(0.6) ? 0 : 1);
        this.at(visitDay, () => {
          const res = this.acute.ili(c.person, age, visitDay, { forceFlu: true, fluB });
          this.track(c, res.visit, res.labIds, res.cardIds);
        });
      }
      if (schools.classOf(pop, c.person, c.onset) >= 0) this.absent(c, c.onset, 2 + r.int(4), ['发热', '发热', '发热', '咳嗽']);
      if (r.chance(0.4))
        this.purchase(c, c.onset, [
          ['antipyretic', 1],
          ['cold', 1 + r.int(2)],
        ]);
      if (r.chance(0.15)) this.purchase(c, c.onset + 1, [['cough', 1]]);
    }
    const sick = list.filter((c) => c.onset !== null).sort((a, b) => a.onset! - b.onset!);
    if (sick.length >= 10) {
      const notified = sick[9]!.onset! + 1;
      const sample = sick.filter((c) => c.onset! <= notified);
      r.shuffle(sample);
      this.investigate(sample.slice(0, 5 + r.int(4)), notified + 1, 'resp13', () => {
        const s = new Set<string>();
        if (r.chance(0.85)) {
          if (fluB) s.add('FLUB');
          else {
            s.add('FLUA');
            s.add(hashFloat(this.w.seed, seasonKey, 960) < 0.5 ? 'H1N1PDM' : 'H3N2');
          }
        }
        return s;
      });
    }
  }

  // --- Norovirus in a care home ----------------------------------------------------------

  private careHomeNorovirus(d0: number): void {
    const r = this.rng;
    const { pop, district, care } = this.w;
    const homes = district.byKind.get('care-home') ?? [];
    const candidates = homes.map((f, h) => [f, h] as const).filter(([, h]) => care.residents[h]!.length >= 10);
    if (candidates.length === 0) return;
    const [fi, h] = candidates[r.int(candidates.length)]!;
    const home = district.facilities[fi]!;
    const residents = care.residents[h]!;
    const staff = care.staff[h]!;
    const o = this.newOutbreak(
      'care-home-norovirus',
      '其他感染性腹泻病（诺如病毒感染）',
      'Norovirus GII',
      { type: 'care-home', id: home.id, name: home.name },
      d0,
    );
    o.areaCodes.push(district.communities[home.community]!.code);
    const cases = new Map<number, Case>();
    const pRes = 0.02 + r.float() * 0.025;
    const queue: Case[] = [];
    const infect = (q: number, day: number, from: number, setting: Setting): void => {
      if (cases.has(q)) return;
      const onset = day + (r.chance(0.7) ? 1 : 2);
      const c = this.addCase(o, cases, q, day, r.chance(0.85) ? onset : null, from, setting);
      if (c) queue.push(c);
    };
    infect(residents[r.int(residents.length)]!, d0 - 1, -1, 'import');
    let onsets = 0;
    while (queue.length > 0) {
      queue.sort((a, b) => a.infected - b.infected);
      const c = queue.shift()!;
      if (c.onset !== null) onsets++;
      const control = onsets >= 5 ? 0.35 : 1;
      const inHome = pop.careHome[c.person]! >= 0 || staff.includes(c.person);
      const from = c.onset ?? c.infected + 1;
      for (let e = from; e < from + 3; e++) {
        const scale = (c.onset === null ? 0.4 : 1) * control;
        if (inHome) {
          for (const q of residents) if (q !== c.person && r.chance(pRes * scale)) infect(q, e, c.person, 'care-home');
          for (const q of staff) if (q !== c.person && r.chance(0.04 * scale)) infect(q, e, c.person, 'care-home');
        }
      }
      if (pop.careHome[c.person]! < 0)
        for (const q of this.household(c.person)) if (r.chance(0.2)) infect(q, from + r.int(2), c.person, 'household');
    }
    const chc = this.rec.identity.homeChc(residents[0]!);
    const gp = this.dept(chc, 'general-practice');
    const gh = this.facility('general-hospital');
    const list = [...cases.values()];
    for (const c of list) {
      if (c.onset === null) continue;
      const resident = pop.careHome[c.person]! >= 0;
      const age = pop.age(c.person, c.onset);
      const severe = resident && r.chance(0.1);
      if (severe || r.chance(resident ? 0.55 : 0.3)) {
        const visitDay = c.onset + (r.chance(0.5) ? 0 : 1);
        this.at(visitDay, () => {
          const vomit = r.range(2, 8);
          const complaint = `呕吐${vomit}次，腹泻${r.range(2, 6)}次，${visitDay === c.onset ? '今日' : '昨日'}起病${resident ? '，同院多名老人有类似症状' : ''}`;
          const dx: Dx = r.chance(0.45) ? ICD.infectiousDiarrhoea : ICD.gastroenteritis;
          let v: Visit;
          if (severe) {
            const admit = r.chance(0.5);
            v = this.rec.visit({
              person: c.person,
              facility: gh,
              dept: admit ? this.dept(gh, 'ward-internal') : this.dept(gh, 'emergency'),
              cls: admit ? 'IMP' : 'EMER',
              visitType: admit ? 'inpatient' : 'emergency',
              day: visitDay,
              losDays: 3 + r.int(5),
              complaint: complaint + '，乏力明显，尿少',
              temperature: this.acute.temperature(r.chance(0.3)),
              dx: [dx],
              onsetDay: c.onset!,
            });
          } else if (resident) {
            v = this.rec.visit({
              person: c.person,
              facility: chc,
              dept: gp,
              cls: 'HH',
              visitType: 'home-visit',
              day: visitDay,
              complaint,
              temperature: this.acute.temperature(r.chance(0.25)),
              dx: [dx],
              onsetDay: c.onset!,
            });
          } else {
            const site = this.acute.site(c.person, age, ['enteric-clinic', 'gastroenterology', 'general-practice'], 0.3, false);
            v = this.rec.visit({
              person: c.person,
              facility: site.facility,
              dept: site.dept,
              cls: site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
              visitType: site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
              day: visitDay,
              complaint,
              temperature: this.acute.temperature(r.chance(0.2)),
              dx: [dx],
              onsetDay: c.onset!,
            });
          }
          const cards = dx.icd.startsWith('A0') ? this.rec.reportCard(v, 'otherDiarrhoea', dx.icd, '临床诊断病例') : [];
          this.track(c, v, [], cards);
        });
      }
      if (!resident && r.chance(0.3))
        this.purchase(c, c.onset, [
          ['ors', 1],
          ['antidiarrhoeal', 1],
        ]);
      if (!resident && age >= 3 && age < 18) this.absent(c, c.onset, 1 + r.int(2), ['呕吐', '腹泻']);
    }
    const sick = list.filter((c) => c.onset !== null).sort((a, b) => a.onset! - b.onset!);
    if (sick.length >= 5) {
      const notified = sick[4]!.onset! + 1;
      const sample = sick.filter((c) => c.onset! <= notified + 2);
      r.shuffle(sample);
      this.investigate(sample.slice(0, 5 + r.int(4)), notified + 1, 'norovirus', () => new Set(r.chance(0.85) ? ['NOV-GII'] : []));
    }
  }

  // --- A measles chain in a community ----------------------------------------------------

  private measlesSusceptible(q: number, day: number): boolean {
    const age = this.w.pop.age(q, day);
    const months = (day - this.w.pop.birthDay[q]!) / 30.44;
    if (months < 8) return true;
    if (age < 7) return this.immunizer.mmrDoses(q, day) === 0;
    const u = hashFloat(this.w.seed, q, 970);
    if (age < 20) return u < 0.02;
    if (age < 45) return u < 0.05;
    return false;
  }

  private measles(d0: number): void {
    const r = this.rng;
    const { pop, district, schools } = this.w;
    const community = r.int(district.communities.length);
    const members = this.community(community);
    // The index case: an unvaccinated young adult back from elsewhere, preferably living with a
    // child too young to be vaccinated (as in many Chinese measles clusters).
    let index = -1;
    for (let t = 0; t < 400 && members.length > 0; t++) {
      const p = members[r.int(members.length)]!;
      const age = pop.age(p, d0);
      if (age < 20 || age > 40) continue;
      if (index < 0) index = p;
      if (this.household(p).some((q) => this.measlesSusceptible(q, d0))) {
        index = p;
        break;
      }
    }
    if (index < 0) return;
    const cArea = district.communities[community]!;
    const o = this.newOutbreak(
      'community-measles',
      '麻疹',
      'Measles virus (genotype H1)',
      { type: 'community', id: `area-${cArea.code}`, name: cArea.name },
      d0 - 11,
    );
    const cases = new Map<number, Case>();
    const queue: Case[] = [];
    const rashOf = new Map<number, number>();
    const infect = (q: number, day: number, from: number, setting: Setting): void => {
      if (cases.has(q) || cases.size >= 30) return;
      if (from >= 0 && !this.measlesSusceptible(q, day)) return;
      const onset = day + 10 + r.int(3);
      const c = this.addCase(o, cases, q, day, onset, from, setting);
      if (c) {
        queue.push(c);
        rashOf.set(q, onset + 3);
      }
    };
    infect(index, d0 - 11, -1, 'import');
    const gh = this.facility('general-hospital');
    const mch = this.facility('mch-hospital');
    while (queue.length > 0) {
      queue.sort((a, b) => a.infected - b.infected);
      const c = queue.shift()!;
      const rash = rashOf.get(c.person)!;
      const window = [c.onset! - 1, rash + 4];
      for (const q of this.household(c.person))
        if (r.chance(0.9)) infect(q, window[0]! + r.int(window[1]! - window[0]! + 1), c.person, 'household');
      // Neighbours met in shops, lifts and the community clinic while infectious.
      const neighbours = this.community(pop.community[c.person]!);
      const k = r.poisson(25);
      for (let j = 0; j < k && neighbours.length > 0; j++)
        if (r.chance(0.6)) infect(neighbours[r.int(neighbours.length)]!, window[0]! + r.int(5), c.person, 'community');
      const klass = schools.classOf(pop, c.person, c.onset!);
      if (klass >= 0)
        for (const q of schools.pupils(klass)) if (q !== c.person && r.chance(0.3)) infect(q, c.onset! + r.int(2), c.person, 'class');
      // Ward contact: the rash visit infects susceptible children waiting in the same department.
      if (r.chance(0.6)) {
        const wanted = 1 + r.int(2);
        for (let t = 0, got = 0; t < 3000 && got < wanted; t++) {
          const q = r.int(pop.n);
          if (pop.age(q, rash) >= 6 || cases.has(q) || !this.measlesSusceptible(q, rash)) continue;
          got++;
          infect(q, rash, c.person, 'ward');
          const infected = cases.get(q);
          if (infected) {
            // The exposed child's own visit that day (for something else), in the same department.
            const visitor = q;
            this.at(rash, () => {
              const v = this.rec.visit({
                person: visitor,
                facility: gh,
                dept: this.dept(gh, 'paediatrics'),
                cls: 'AMB',
                visitType: 'outpatient',
                day: rash,
                complaint: r.chance(0.5) ? `腹泻${r.range(1, 3)}天` : `咳嗽${r.range(2, 6)}天，无发热`,
                temperature: this.acute.temperature(false),
                dx: [r.chance(0.5) ? ICD.gastroenteritis : ICD.urti],
                onsetDay: rash - 2,
              });
              infected.truth.encounterIds.push(v.id);
            });
          }
        }
      }
    }
    const cdc = this.facility('cdc');
    for (const c of cases.values()) {
      const age = pop.age(c.person, c.onset!);
      const rash = rashOf.get(c.person)!;
      const child = age < 14;
      if (r.chance(0.45)) {
        // A first visit in the prodrome, taken for a cold.
        const d = c.onset! + 1;
        this.at(d, () => {
          const site = this.acute.site(
            c.person,
            age,
            child ? ['paediatrics', 'general-practice'] : ['fever-clinic', 'general-practice'],
            0.5,
            true,
          );
          const v = this.rec.visit({
            person: c.person,
            facility: site.facility,
            dept: site.dept,
            cls: site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
            visitType: site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
            day: d,
            complaint: `发热${d - c.onset! + 1}天，伴咳嗽、流涕、眼红`,
            temperature: this.acute.temperature(true, true),
            dx: [ICD.urti],
            onsetDay: c.onset!,
          });
          this.track(c, v);
        });
      }
      if (r.chance(0.95)) {
        const d = rash + (r.chance(0.6) ? 0 : 1);
        this.at(d, () => {
          const f = child && r.chance(0.4) ? mch : gh;
          const admit = r.chance(0.25);
          const dept = admit
            ? this.dept(f, child ? 'ward-paediatrics' : 'ward-infectious', 'neonatology')
            : this.dept(f, child ? 'paediatrics' : 'infectious-disease', 'paediatrics');
          const v = this.rec.visit({
            person: c.person,
            facility: f,
            dept,
            cls: admit ? 'IMP' : 'AMB',
            visitType: admit ? 'inpatient' : 'outpatient',
            day: d,
            losDays: 5 + r.int(5),
            complaint: `发热${d - c.onset! + 1}天，咳嗽、流涕、眼结膜充血，${d === rash ? '今日' : '昨日'}起耳后、颜面部出现红色斑丘疹，渐及躯干`,
            temperature: this.acute.temperature(true, true),
            dx: [{ ...ICD.measles, provisional: true }],
            onsetDay: c.onset!,
          });
          const labDay = d + 1;
          const labId = this.rec.lab(v, 'measlesIgm', new Set(r.chance(0.95) ? ['MEV-IGM'] : []), cdc);
          const cards = this.rec.reportCard(v, 'measles', ICD.measles.icd, '疑似病例', { correctTo: '确诊病例', correctDay: labDay + 1 });
          this.track(c, v, [labId], cards);
        });
      }
      if (schools.classOf(pop, c.person, rash) >= 0) this.absent(c, c.onset! + 1, 8, ['发热', '皮疹', '皮疹']);
      if (r.chance(0.3)) this.purchase(c, c.onset!, [['antipyretic', 1]]);
    }
  }

  // --- A class A case: cholera -----------------------------------------------------------

  private cholera(d0: number): void {
    const r = this.rng;
    const { pop, district } = this.w;
    let index = -1;
    for (let t = 0; t < 500; t++) {
      const p = r.int(pop.n);
      const age = pop.age(p, d0);
      if (age >= 25 && age <= 60 && pop.household[p]! >= 0) {
        index = p;
        break;
      }
    }
    if (index < 0) return;
    const o = this.newOutbreak(
      'class-a-cholera',
      '霍乱',
      'Vibrio cholerae O1 El Tor',
      { type: 'imported', id: `area-${district.communities[pop.community[index]!]!.code}`, name: '境外输入病例及其家庭' },
      d0 - 2,
    );
    const cases = new Map<number, Case>();
    const c0 = this.addCase(o, cases, index, d0 - 2, d0, -1, 'import')!;
    const gh = this.facility('general-hospital');
    const cdc = this.facility('cdc');
    const contacts = this.household(index);
    const secondary: Case[] = [];
    for (const q of contacts) {
      const u = r.float();
      if (u < 0.1) {
        const c = this.addCase(o, cases, q, d0, d0 + 1 + r.int(2), index, 'household');
        if (c) secondary.push(c);
      } else if (u < 0.35) {
        const c = this.addCase(o, cases, q, d0, null, index, 'household');
        if (c) secondary.push(c);
      }
    }
    const visitCase = (c: Case, day: number): void => {
      this.at(day, () => {
        const v = this.rec.visit({
          person: c.person,
          facility: gh,
          dept: this.dept(gh, 'emergency'),
          cls: 'EMER',
          visitType: 'emergency',
          day,
          complaint: `腹泻${day - c.onset! + 1}天，为米泔水样便，每日十余次，伴呕吐，无腹痛${c === c0 ? '，发病前一周自东南亚某国旅行返回' : ''}`,
          temperature: this.acute.temperature(false),
          dx: [{ ...ICD.cholera, provisional: true }],
          onsetDay: c.onset!,
        });
        const lab = this.rec.lab(v, 'stoolCulture', new Set(['VCHO']));
        const cdcLab = this.rec.lab(v, 'stoolCulture', new Set(['VCHO']), cdc);
        const cards = this.rec.reportCard(v, 'cholera', ICD.cholera.icd, '疑似病例', {
          correctTo: '确诊病例',
          correctDay: day + 2,
          diagnosisMin: v.startMin + 40,
        });
        // Admitted to the infectious-disease ward.
        const ward = this.rec.visit({
          person: c.person,
          facility: gh,
          dept: this.dept(gh, 'ward-infectious'),
          cls: 'IMP',
          visitType: 'inpatient',
          day,
          startMin: Math.min(1400, v.startMin + 120),
          losDays: 5 + r.int(5),
          complaint: '霍乱疑似病例，收入感染科隔离病区',
          temperature: null,
          dx: [ICD.cholera],
          onsetDay: c.onset!,
        });
        this.track(c, v, [lab, cdcLab], cards);
        this.track(c, ward);
      });
    };
    visitCase(c0, d0);
    for (const c of secondary) if (c.onset !== null) visitCase(c, c.onset);
    // Household contacts are sampled by the CDC; carriers are reported as 病原携带者.
    const carriers = secondary.filter((c) => c.onset === null);
    const day = d0 + 1;
    this.at(day, () => {
      const lab = this.dept(cdc, 'cdc-laboratory');
      for (const q of contacts) {
        const c = cases.get(q);
        const v = this.rec.visit({
          person: q,
          facility: cdc,
          dept: lab,
          cls: 'FLD',
          visitType: 'investigation',
          day,
          startMin: 600 + r.int(240),
          durationMin: 15,
          complaint: '霍乱病例密切接触者，采集粪便标本',
          temperature: null,
          dx: [],
          onsetDay: day,
        });
        const isCarrier = !!c && carriers.includes(c);
        const labId = this.rec.lab(v, 'stoolCulture', new Set(c ? ['VCHO'] : []), cdc);
        if (c) {
          const cards = isCarrier
            ? this.rec.reportCard(v, 'cholera', 'A00.1', '病原携带者', { diagnosisDay: day + 1, diagnosisMin: 600 })
            : [];
          this.track(c, v, [labId], cards);
        }
      }
    });
  }
}
