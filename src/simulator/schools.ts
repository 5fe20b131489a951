/**
 * Schools and classes. Classes are cohorts (2021级3班): a class keeps its pupils as it moves up
 * a grade each September, and only the classes that are in school at some time during the run
 * exist. Enrolment, school and class are functions of the child and the seed.
 */
import { civilFromDay } from './calendar.js';
import type { District, Facility } from './district.js';
import { FLAG, OCC, STAGES, type Population, type Stage } from './population.js';
import { hash32, hashFloat } from './rng.js';

/** Grades per stage and entry offset from the primary-school entry year. */
const STAGE_INFO: Record<Stage, { grades: number; offset: number; classSize: number; enrolment: number }> = {
  // Kindergarten enrolment: 毛入园率 91.1 % (教育部 2023 全国教育事业发展统计公报); nine-year
  // compulsory education is near universal; senior secondary 毛入学率 91.8 % (same source).
  kindergarten: { grades: 3, offset: -3, classSize: 30, enrolment: 0.9 },
  'primary-school': { grades: 6, offset: 0, classSize: 45, enrolment: 0.995 },
  'junior-school': { grades: 3, offset: 6, classSize: 48, enrolment: 0.99 },
  'senior-school': { grades: 3, offset: 9, classSize: 50, enrolment: 0.9 },
};

export interface SchoolClass {
  index: number;
  school: number;
  stage: Stage;
  entryYear: number;
  classNo: number;
  /** Class code used in the absenteeism feed and as Group identifier. */
  code: string;
  /** e.g. 2021级3班 */
  name: string;
  start: number;
  count: number;
}

/** School year of a day: the year in which that school year began (September). */
export function schoolYear(day: number): number {
  const { y, m } = civilFromDay(day);
  return m >= 9 ? y : y - 1;
}

/** The year a child starts primary school: at six, if born by 31 August. */
export function primaryEntryYear(birthDay: number): number {
  const { y, m } = civilFromDay(birthDay);
  return m <= 8 ? y + 6 : y + 7;
}

export class Schools {
  constructor(
    readonly classes: SchoolClass[],
    /** Pupils of class c: members[classes[c].start .. +count]. */
    readonly members: Int32Array,
    readonly classesBySchool: Map<number, number[]>,
  ) {}

  /** Grade (1-based) of a class on a day, or 0 when the class is not in school that year. */
  grade(c: number, day: number): number {
    const cl = this.classes[c]!;
    const g = schoolYear(day) - cl.entryYear + 1;
    return g >= 1 && g <= STAGE_INFO[cl.stage].grades ? g : 0;
  }

  /** The class a pupil attends on a day, or -1. */
  classOf(pop: Population, i: number, day: number): number {
    for (let s = 0; s < STAGES.length; s++) {
      const c = pop.klass[s]![i]!;
      if (c >= 0 && this.grade(c, day) > 0) return c;
    }
    return -1;
  }

  pupils(c: number): Int32Array {
    const cl = this.classes[c]!;
    return this.members.subarray(cl.start, cl.start + cl.count);
  }
}

export function assignSchools(pop: Population, district: District, startDay: number, endDay: number, seed: number): Schools {
  const sy0 = schoolYear(startDay);
  const sy1 = schoolYear(endDay);
  const schoolsByStage = STAGES.map((st) => district.byKind.get(st) ?? []);
  // For each street and stage: the schools in the street, else the nearest ones.
  const nearest = (street: number, list: number[]): number[] => {
    const own = list.filter((f) => district.facilities[f]!.street === street);
    if (own.length > 0) return own;
    const c = district.streets[street]!.centroid;
    const dist = (f: Facility): number => (f.lonLat[0] - c[0]) ** 2 + (f.lonLat[1] - c[1]) ** 2;
    const sorted = [...list].sort((a, b) => dist(district.facilities[a]!) - dist(district.facilities[b]!) || a - b);
    return sorted.slice(0, 1);
  };
  const candidates = STAGES.map((_, s) => district.streets.map((st) => nearest(st.index, schoolsByStage[s]!)));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < pop.n; i++) {
    if (pop.careHome[i]! >= 0 || pop.household[i]! < 0) continue;
    const pe = primaryEntryYear(pop.birthDay[i]!);
    const street = district.communities[pop.community[i]!]!.street;
    STAGES.forEach((stage, s) => {
      const info = STAGE_INFO[stage];
      const entry = pe + info.offset;
      if (entry + info.grades - 1 < sy0 || entry > sy1) return;
      if (hashFloat(seed, i, 300 + s) >= info.enrolment) return;
      const cands = candidates[s]![street]!;
      if (cands.length === 0) return;
      const school = cands[hash32(seed, i, 400 + s) % cands.length]!;
      const key = school * 10000 + (entry - 1900);
      const list = groups.get(key);
      if (list) list.push(i);
      else groups.set(key, [i]);
    });
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const classes: SchoolClass[] = [];
  const total = keys.reduce((a, k) => a + groups.get(k)!.length, 0);
  const members = new Int32Array(total);
  const classesBySchool = new Map<number, number[]>();
  let pos = 0;
  for (const key of keys) {
    const school = Math.floor(key / 10000);
    const entry = (key % 10000) + 1900;
    const f = district.facilities[school]!;
    const stage = f.kind as Stage;
    const s = STAGES.indexOf(stage);
    const info = STAGE_INFO[stage];
    const pupils = groups.get(key)!;
    pupils.sort((a, b) => hash32(seed, a, 500) - hash32(seed, b, 500) || a - b);
    const nClasses = Math.max(1, Math.ceil(pupils.length / info.classSize));
    const byClass: number[][] = Array.from({ length: nClasses }, () => []);
    pupils.forEach((p, k) => byClass[k % nClasses]!.push(p));
    for (let c = 0; c < nClasses; c++) {
      const list = byClass[c]!.sort((a, b) => a - b);
      const index = classes.length;
      classes.push({
        index,
        school,
        stage,
        entryYear: entry,
        classNo: c + 1,
        code: `${f.code}-${entry}-${String(c + 1).padStart(2, '0')}`,
        name: `${entry}级${c + 1}班`,
        start: pos,
        count: list.length,
      });
      for (const p of list) {
        members[pos++] = p;
        pop.klass[s]![p] = index;
      }
      const l = classesBySchool.get(school) ?? [];
      l.push(index);
      classesBySchool.set(school, l);
    }
  }
  const schools = new Schools(classes, members, classesBySchool);
  // 幼托儿童 for children in kindergarten at the start.
  for (let i = 0; i < pop.n; i++) {
    const c = pop.klass[0]![i]!;
    if (c >= 0 && schools.grade(c, startDay) > 0) pop.occupation[i] = OCC.kindergarten;
  }
  return schools;
}

/** Care-home residents are spread over the homes; staff are drawn from adults nearby. */
export function assignCareHomes(
  pop: Population,
  district: District,
  residents: number[],
  startDay: number,
  seed: number,
): { residents: number[][]; staff: number[][] } {
  const homes = district.byKind.get('care-home') ?? [];
  const res: number[][] = homes.map(() => []);
  const staff: number[][] = homes.map(() => []);
  if (homes.length === 0) return { residents: res, staff };
  residents.forEach((p, k) => {
    const h = k % homes.length;
    res[h]!.push(p);
    pop.careHome[p] = homes[h]!;
    pop.community[p] = district.facilities[homes[h]!]!.community;
  });
  // About one carer for four residents: adults 25-55, mostly women, living in the home's street.
  const stride = [7919, 7927, 7933, 7937].find((p) => pop.n % p !== 0)!;
  homes.forEach((f, h) => {
    const street = district.facilities[f]!.street;
    const want = Math.max(3, Math.round(res[h]!.length / 4));
    const first = hash32(seed, f, 600) % Math.max(1, pop.n);
    for (let k = 0; k < pop.n && staff[h]!.length < want; k++) {
      const i = (first + k * stride) % pop.n;
      if (pop.household[i]! < 0 || pop.hasFlag(i, FLAG.CARE_STAFF)) continue;
      if (district.communities[pop.community[i]!]!.street !== street) continue;
      const age = pop.age(i, startDay);
      if (age < 25 || age > 55) continue;
      if (pop.sex[i] === 1 && hashFloat(seed, i, 601) < 0.7) continue;
      pop.flags[i]! |= FLAG.CARE_STAFF;
      pop.occupation[i] = OCC.carer;
      staff[h]!.push(i);
    }
  });
  return { residents: res, staff };
}
