/**
 * Non-clinical surveillance feeds: daily school absenteeism by class (with zero reports) and
 * daily pharmacy OTC sales by category. Background rates and seasons come from targets.ts and
 * seasons.ts; outbreaks add the absences and purchases of their own cases.
 */
import type { Facility } from './district.js';
import { hash32 } from './rng.js';
import { Rng } from './rng.js';
import type { Seasons } from './seasons.js';
import type { Sink } from './sink.js';
import { ABSENTEEISM } from './targets.js';
import type { World } from './types.js';

/** Pharmacy sales categories (code → name) in feeds/pharmacy-sales.csv. */
export const PHARMACY_CATEGORIES = {
  antipyretic: '退热药',
  cold: '感冒药',
  cough: '止咳药',
  antidiarrhoeal: '止泻药',
  ors: '口服补液盐',
} as const;
export type PharmacyCategory = keyof typeof PHARMACY_CATEGORIES;

/** Units sold per 1,000 catchment residents per day, before season and weekday (assumption). */
const SALES_BASE: Record<PharmacyCategory, number> = { antipyretic: 1.0, cold: 2.0, cough: 1.3, antidiarrhoeal: 0.5, ors: 0.12 };

/** Symptoms recorded for sick absence (学生因病缺课 symptom categories). */
export const ABSENCE_SYMPTOMS = ['发热', '咳嗽', '腹泻', '呕吐', '头痛', '皮疹', '其他'] as const;
export type AbsenceSymptom = (typeof ABSENCE_SYMPTOMS)[number];

const csv = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export class Feeds {
  private readonly rng: Rng;
  /** Outbreak absences: day → class → symptom → count. */
  private readonly absences = new Map<number, Map<number, Map<AbsenceSymptom, number>>>();
  /** Outbreak purchases: day → pharmacy → category → units. */
  private readonly purchases = new Map<number, Map<number, Map<PharmacyCategory, number>>>();
  private readonly catchment = new Map<number, number>();
  private readonly pharmaciesByStreet: number[][];

  constructor(
    private readonly w: World,
    private readonly sink: Sink,
    private readonly seasons: Seasons,
  ) {
    this.rng = new Rng(w.seed, 'feeds');
    const d = w.district;
    this.pharmaciesByStreet = d.streets.map(() => []);
    for (const f of d.byKind.get('pharmacy') ?? []) this.pharmaciesByStreet[d.facilities[f]!.street]!.push(f);
    const residents = d.streets.map(() => 0);
    for (let i = 0; i < w.pop.n; i++) residents[d.communities[w.pop.community[i]!]!.street]!++;
    d.streets.forEach((_, s) => {
      const list = this.pharmaciesByStreet[s]!;
      for (const f of list) this.catchment.set(f, residents[s]! / Math.max(1, list.length));
    });
  }

  /** The pharmacy a person uses (one in their street). */
  pharmacyOf(person: number): Facility | null {
    const d = this.w.district;
    const list = this.pharmaciesByStreet[d.communities[this.w.pop.community[person]!]!.street]!;
    if (list.length === 0) return null;
    return d.facilities[list[hash32(this.w.seed, person, 1200) % list.length]!]!;
  }

  addAbsence(day: number, klass: number, symptom: AbsenceSymptom): void {
    let byClass = this.absences.get(day);
    if (!byClass) this.absences.set(day, (byClass = new Map()));
    let bySymptom = byClass.get(klass);
    if (!bySymptom) byClass.set(klass, (bySymptom = new Map()));
    bySymptom.set(symptom, (bySymptom.get(symptom) ?? 0) + 1);
  }

  addPurchase(day: number, pharmacy: Facility, category: PharmacyCategory, units: number): void {
    let byPharmacy = this.purchases.get(day);
    if (!byPharmacy) this.purchases.set(day, (byPharmacy = new Map()));
    let byCat = byPharmacy.get(pharmacy.index);
    if (!byCat) byPharmacy.set(pharmacy.index, (byCat = new Map()));
    byCat.set(category, (byCat.get(category) ?? 0) + units);
  }

  day(day: number): void {
    this.schoolDay(day);
    this.pharmacyDay(day);
    this.absences.delete(day);
    this.purchases.delete(day);
  }

  private schoolDay(day: number): void {
    const { schools, district, cal, clock } = this.w;
    if (!cal.isSchoolDay(day)) return;
    const r = this.rng;
    const date = clock.iso(day);
    const resp = 0.55 * this.seasons.factor('flu', day) + 0.35 * this.seasons.factor('resp', day) + 0.1;
    const gut = this.seasons.factor('diarrhoea', day);
    const symptomWeights = [0.35 * resp, 0.2 * resp, 0.06 * gut, 0.05 * gut, 0.05, 0.02, 0.27];
    const cum: number[] = [];
    symptomWeights.reduce((a, w, k) => ((cum[k] = a + w), a + w), 0);
    const outbreak = this.absences.get(day);
    for (const c of schools.classes) {
      if (schools.grade(c.index, day) === 0) continue;
      const school = district.facilities[c.school]!;
      const base = c.stage === 'kindergarten' ? ABSENTEEISM.sickKindergarten : ABSENTEEISM.sickSchool;
      const extra = outbreak?.get(c.index);
      let extraTotal = 0;
      extra?.forEach((v) => (extraTotal += v));
      const enrolled = c.count;
      const sick = Math.min(enrolled - extraTotal, r.poisson(enrolled * base * resp * 0.85 + enrolled * base * 0.15));
      const leave = Math.min(enrolled - extraTotal - sick, r.poisson(enrolled * ABSENTEEISM.personalLeave));
      const counts = new Map<AbsenceSymptom, number>();
      for (let k = 0; k < sick; k++) {
        const s = ABSENCE_SYMPTOMS[r.weighted(cum)]!;
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      extra?.forEach((v, s) => counts.set(s, (counts.get(s) ?? 0) + v));
      const head = `${school.code},${csv(school.name)},${c.code},${date},${enrolled}`;
      if (counts.size === 0 && leave === 0) {
        this.sink.absence(`${head},0,,`);
        continue;
      }
      for (const s of ABSENCE_SYMPTOMS) {
        const v = counts.get(s);
        if (v) this.sink.absence(`${head},${v},病假,${s}`);
      }
      if (leave > 0) this.sink.absence(`${head},${leave},事假,`);
    }
  }

  private pharmacyDay(day: number): void {
    const { district, cal, clock } = this.w;
    const r = this.rng;
    const date = clock.iso(day);
    const weekend = !cal.isWorkday(day) ? 1.15 : 1;
    const festival = cal.isSpringFestival(day) ? 0.6 : 1;
    const resp = 0.5 + 0.5 * this.seasons.factor('flu', day);
    const gut = this.seasons.factor('diarrhoea', day);
    const outbreak = this.purchases.get(day);
    for (const fi of district.byKind.get('pharmacy') ?? []) {
      const f = district.facilities[fi]!;
      const k = (this.catchment.get(fi) ?? 0) / 1000;
      const extra = outbreak?.get(fi);
      for (const cat of Object.keys(PHARMACY_CATEGORIES) as PharmacyCategory[]) {
        const season = cat === 'antidiarrhoeal' || cat === 'ors' ? gut : resp;
        const units = r.poisson(k * SALES_BASE[cat] * season * weekend * festival) + (extra?.get(cat) ?? 0);
        this.sink.pharmacy(`${f.code},${csv(f.name)},${date},${cat},${units}`);
      }
    }
  }
}
