/**
 * Residents: an age-sex pyramid like a Chinese urban district, households built from it
 * (parents with children, elderly couples, three generations, people living alone), names,
 * resident ID numbers, phones, occupations (人群分类), care-home residents and staff, and the
 * chronic-disease state. Stored as typed arrays so that a million people fit in memory.
 */
import { makeIdNumber } from '../shared/id-number.js';
import { addMonths, ageYears, civilFromDay, isoDate } from './calendar.js';
import type { Area, DistrictConfig } from './district.js';
import type { NameBook, Sex } from './names.js';
import { hash32, Rng, WeightedTable } from './rng.js';
import { CENSUS_2020_AGE_SHARES, DIABETES, HYPERTENSION, MALE_SHARE, URBAN_ADJUSTMENT } from './targets.js';

/** 人群分类 on the report card (传染病报告卡), in the order of rules.md §1; code = index + 1. */
export { OCCUPATION_CLASSES as OCCUPATIONS } from '../shared/occupations.js';
export const OCC = {
  kindergarten: 0,
  scattered: 1,
  student: 2,
  teacher: 3,
  carer: 4,
  food: 5,
  commerce: 6,
  medical: 7,
  worker: 8,
  migrant: 9,
  farmer: 10,
  herder: 11,
  fisher: 12,
  clerk: 13,
  retired: 14,
  homemaker: 15,
  other: 16,
  unknown: 17,
} as const;
export const occupationCode = (occ: number): string => String(occ + 1).padStart(2, '0');

/** Bit flags on each resident. */
export const FLAG = {
  HTN: 1,
  DM: 2,
  HTN_AWARE: 4,
  DM_AWARE: 8,
  MANAGED: 16,
  TREATED: 32,
  HEALTH_WORKER: 64,
  CARE_STAFF: 128,
} as const;

/** School stages, in the order of the class arrays. */
export const STAGES = ['kindergarten', 'primary-school', 'junior-school', 'senior-school'] as const;
export type Stage = (typeof STAGES)[number];

const ADULT_OCCUPATIONS = new WeightedTable<number>([
  [OCC.clerk, 0.24],
  [OCC.commerce, 0.18],
  [OCC.worker, 0.14],
  [OCC.migrant, 0.07],
  [OCC.homemaker, 0.11],
  [OCC.food, 0.05],
  [OCC.medical, 0.015],
  [OCC.teacher, 0.025],
  [OCC.carer, 0.012],
  [OCC.farmer, 0.05],
  [OCC.fisher, 0.002],
  [OCC.herder, 0.0005],
  [OCC.other, 0.06],
  [OCC.unknown, 0.01],
  [OCC.retired, 0.02],
]);
const TOWN_ADULT_OCCUPATIONS = new WeightedTable<number>([
  [OCC.farmer, 0.32],
  [OCC.worker, 0.16],
  [OCC.migrant, 0.1],
  [OCC.commerce, 0.12],
  [OCC.clerk, 0.08],
  [OCC.homemaker, 0.1],
  [OCC.food, 0.04],
  [OCC.teacher, 0.02],
  [OCC.medical, 0.01],
  [OCC.fisher, 0.01],
  [OCC.other, 0.04],
]);
const ELDER_OCCUPATIONS = new WeightedTable<number>([
  [OCC.retired, 0.78],
  [OCC.farmer, 0.07],
  [OCC.homemaker, 0.11],
  [OCC.other, 0.04],
]);

const MOBILE_PREFIXES = [
  '130',
  '131',
  '132',
  '133',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '155',
  '157',
  '158',
  '159',
  '166',
  '173',
  '177',
  '180',
  '181',
  '182',
  '183',
  '186',
  '187',
  '188',
  '189',
  '199',
];

export class Population {
  n = 0;
  readonly capacity: number;
  readonly birthDay: Int32Array;
  readonly sex: Uint8Array;
  readonly household: Int32Array;
  readonly community: Uint16Array;
  readonly surname: Uint16Array;
  readonly given: Uint16Array;
  readonly idAddr: Uint8Array;
  readonly idSeq: Uint16Array;
  readonly occupation: Uint8Array;
  /** Parent or other carer (children), or -1. */
  readonly guardian: Int32Array;
  /** Care-home facility index, or -1. */
  readonly careHome: Int32Array;
  readonly flags: Uint8Array;
  /** Class index by stage (kindergarten, primary, junior, senior), or -1. */
  readonly klass: Int32Array[];
  /** Household layout: members of household h are hhStart[h] .. hhStart[h]+hhSize[h]-1 (births excepted). */
  hhStart: Int32Array = new Int32Array(0);
  hhSize: Uint8Array = new Uint8Array(0);
  hhCommunity: Uint16Array = new Uint16Array(0);
  nHouseholds = 0;
  readonly idAddressCodes: string[];
  private readonly idSeqUsed = new Map<number, number>();

  constructor(
    capacity: number,
    private readonly seed: number,
    idAddressCodes: string[],
  ) {
    this.capacity = capacity;
    this.birthDay = new Int32Array(capacity);
    this.sex = new Uint8Array(capacity);
    this.household = new Int32Array(capacity);
    this.community = new Uint16Array(capacity);
    this.surname = new Uint16Array(capacity);
    this.given = new Uint16Array(capacity);
    this.idAddr = new Uint8Array(capacity);
    this.idSeq = new Uint16Array(capacity);
    this.occupation = new Uint8Array(capacity);
    this.guardian = new Int32Array(capacity).fill(-1);
    this.careHome = new Int32Array(capacity).fill(-1);
    this.flags = new Uint8Array(capacity);
    this.klass = STAGES.map(() => new Int32Array(capacity).fill(-1));
    this.idAddressCodes = idAddressCodes;
  }

  /** Resident id (FHIR Patient id of the canonical record). */
  patientId(i: number): string {
    return 'pat-' + String(i + 1).padStart(7, '0');
  }

  birthDate(i: number): string {
    return isoDate(this.birthDay[i]!);
  }

  age(i: number, day: number): number {
    return ageYears(this.birthDay[i]!, day);
  }

  /** GB 11643 number: address code + birth date + sequence (parity = sex) + check character. */
  idNumber(i: number): string {
    return makeIdNumber(this.idAddressCodes[this.idAddr[i]!]!, this.birthDate(i), this.idSeq[i]!);
  }

  /** Assigns a sequence number unique for (address code, birth date): odd for men, even for women. */
  assignIdSeq(i: number): void {
    const key = this.idAddr[i]! * 200000 + (this.birthDay[i]! + 60000);
    const male = this.sex[i] === 1;
    const sexKey = key * 2 + (male ? 1 : 0);
    const k = this.idSeqUsed.get(sexKey) ?? 0;
    this.idSeqUsed.set(sexKey, k + 1);
    const base = hash32(this.seed, key, 77) % 200;
    this.idSeq[i] = 2 * ((base + k) % 499) + (male ? 1 : 2);
  }

  /** An 11-digit mobile number, stable per person (children: their guardian's). */
  phone(i: number, old = false): string {
    const owner = this.guardian[i]! >= 0 ? this.guardian[i]! : i;
    const h = hash32(this.seed, owner, old ? 911 : 119);
    const prefix = MOBILE_PREFIXES[h % MOBILE_PREFIXES.length]!;
    return prefix + String(hash32(this.seed, owner, old ? 912 : 120) % 100000000).padStart(8, '0');
  }

  hasFlag(i: number, f: number): boolean {
    return (this.flags[i]! & f) !== 0;
  }
}

/** Draws a birth day so that the age at `atDay` is exactly `age`. */
function birthDayForAge(age: number, atDay: number, u: number): number {
  const latest = addMonths(atDay, -12 * age);
  const earliest = addMonths(atDay, -12 * (age + 1)) + 1;
  return earliest + Math.floor(u * (latest - earliest + 1));
}

interface Bucketed {
  take(age: number, spread: number, rng: Rng, taken: Uint8Array): number;
}

/** Persons bucketed by single year of age, drawn without replacement. */
function buckets(indices: number[], ages: Int16Array, rng: Rng): Bucketed {
  const b: number[][] = [];
  for (const i of indices) (b[ages[i]!] ??= []).push(i);
  for (const list of b) if (list) rng.shuffle(list);
  return {
    take(age: number, spread: number, r: Rng, taken: Uint8Array): number {
      const offsets = [0];
      for (let d = 1; d <= spread; d++) {
        if (r.chance(0.5)) offsets.push(d, -d);
        else offsets.push(-d, d);
      }
      for (const o of offsets) {
        const list = b[age + o];
        while (list && list.length > 0) {
          const i = list.pop()!;
          if (!taken[i]) return i;
        }
      }
      return -1;
    },
  };
}

const ROLE = {
  father: 1,
  mother: 2,
  child: 3,
  grandpaP: 4,
  grandmaP: 5,
  grandpaM: 6,
  grandmaM: 7,
  single: 8,
  spouseA: 9,
  spouseB: 10,
  careHome: 11,
} as const;

export interface BuiltPopulation {
  pop: Population;
  chronic: ChronicState;
  /** Care-home residents count (their homes are assigned once facilities exist). */
  careHomeResidents: number[];
}

/**
 * Builds residents and households. People are sampled from the pyramid first, then grouped
 * into households, so the pyramid is exact and households are plausible.
 */
export function buildPopulation(
  cfg: DistrictConfig,
  communities: Area[],
  streets: Area[],
  names: NameBook,
  size: number,
  startDay: number,
  days: number,
  seed: number,
): BuiltPopulation {
  const rng = new Rng(seed, 'population');
  const P = size;
  const ages = new Int16Array(P);
  const sexes = new Uint8Array(P);
  const bands = new WeightedTable(CENSUS_2020_AGE_SHARES.map((s, i) => [i, s * URBAN_ADJUSTMENT[i]!] as const));
  for (let i = 0; i < P; i++) {
    const band = bands.draw(rng);
    const age = band < 17 ? band * 5 + rng.int(5) : Math.min(104, 85 + Math.floor(-Math.log(1 - rng.float()) * 4.5));
    ages[i] = age;
    sexes[i] = rng.chance(MALE_SHARE[Math.min(17, Math.floor(age / 5))]!) ? 1 : 2;
  }
  const taken = new Uint8Array(P);
  const role = new Uint8Array(P);
  const households: number[][] = [];

  // Care-home residents: about 5 % of people aged 75+, and at least 25 for a small district
  // (so that a care-home outbreak has somebody to happen to).
  const old = [];
  for (let i = 0; i < P; i++) if (ages[i]! >= 70) old.push(i);
  rng.shuffle(old);
  old.sort((a, b) => ages[b]! - ages[a]!);
  const nOld75 = old.filter((i) => ages[i]! >= 75).length;
  const nCare = Math.min(old.length, Math.max(Math.min(25, Math.floor(old.length * 0.3)), Math.round(nOld75 * 0.05)));
  const careHomeResidents: number[] = [];
  // Oldest first, with some randomness: skip a third at random.
  for (const i of old) {
    if (careHomeResidents.length >= nCare) break;
    if (rng.chance(0.35)) continue;
    careHomeResidents.push(i);
    taken[i] = 1;
    role[i] = ROLE.careHome;
  }

  const women: number[] = [];
  const men: number[] = [];
  const children: number[] = [];
  for (let i = 0; i < P; i++) {
    if (taken[i]) continue;
    if (ages[i]! < 18) children.push(i);
    else if (sexes[i] === 2) women.push(i);
    else men.push(i);
  }
  const womenB = buckets(women, ages, rng);
  const menB = buckets(men, ages, rng);
  const childB = buckets(children, ages, rng);

  interface Family {
    members: number[];
    motherAge: number;
    youngest: number;
  }
  const families: Family[] = [];
  rng.shuffle(children);
  const orphans: number[] = [];
  for (const c of children) {
    if (taken[c]) continue;
    const gap = Math.min(42, Math.max(20, Math.round(rng.normal(28, 4.5))));
    const w = womenB.take(ages[c]! + gap, 3, rng, taken);
    if (w < 0) {
      orphans.push(c);
      taken[c] = 1;
      continue;
    }
    taken[w] = 1;
    taken[c] = 1;
    role[w] = ROLE.mother;
    role[c] = ROLE.child;
    const fam: Family = { members: [w, c], motherAge: ages[w]!, youngest: ages[c]! };
    const r = rng.float();
    const extra = r < 0.36 ? 1 : r < 0.41 ? 2 : 0;
    for (let k = 0; k < extra; k++) {
      const sibAge = ages[c]! + (rng.chance(0.5) ? 1 : -1) * rng.range(1, 7);
      if (sibAge < 0 || sibAge > 17 || ages[w]! - sibAge < 20) continue;
      const s = childB.take(sibAge, 0, rng, taken);
      if (s >= 0) {
        taken[s] = 1;
        role[s] = ROLE.child;
        fam.members.push(s);
        fam.youngest = Math.min(fam.youngest, sibAge);
      }
    }
    if (rng.chance(0.9)) {
      const m = menB.take(ages[w]! + Math.round(rng.normal(2, 2.5)), 3, rng, taken);
      if (m >= 0) {
        taken[m] = 1;
        role[m] = ROLE.father;
        fam.members.unshift(m);
      }
    }
    families.push(fam);
  }
  for (const c of orphans) {
    if (families.length > 0) {
      const f = families[rng.int(families.length)]!;
      f.members.push(c);
      role[c] = ROLE.child;
    } else {
      households.push([c]);
      role[c] = ROLE.single;
    }
  }

  const familiesByMotherAge: Family[][] = [];
  for (const f of families) (familiesByMotherAge[f.motherAge] ??= []).push(f);
  // Elderly couples (50+), more often widowed at older ages.
  interface Elder {
    members: number[];
    refAge: number;
  }
  const elders: Elder[] = [];
  const oldMen = men.filter((i) => !taken[i] && ages[i]! >= 50);
  rng.shuffle(oldMen);
  for (const m of oldMen) {
    const pCouple = ages[m]! < 75 ? 0.82 : ages[m]! < 85 ? 0.62 : 0.4;
    if (!rng.chance(pCouple)) continue;
    const w = womenB.take(ages[m]! - Math.round(rng.normal(2, 2.5)), 3, rng, taken);
    if (w < 0 || ages[w]! < 45) continue;
    taken[m] = 1;
    taken[w] = 1;
    elders.push({ members: [m, w], refAge: ages[w]! });
  }
  for (const list of [women, men]) {
    for (const i of list)
      if (!taken[i] && ages[i]! >= 60) {
        taken[i] = 1;
        elders.push({ members: [i], refAge: ages[i]! });
      }
  }
  // Three generations: about a third of families with a child under 14 live with grandparents.
  const eldersByAge: Elder[][] = [];
  rng.shuffle(elders);
  for (const e of elders) (eldersByAge[e.refAge] ??= []).push(e);
  const usedElder = new Set<Elder>();
  for (const f of families) {
    if (f.youngest >= 14 || !rng.chance(0.35)) continue;
    const target = f.motherAge + Math.round(rng.normal(28, 4));
    for (let d = 0; d <= 4; d++) {
      const list = eldersByAge[target + d] ?? eldersByAge[target - d];
      const e = list?.pop();
      if (e) {
        const paternal = rng.chance(0.7);
        for (const i of e.members) {
          role[i] = sexes[i] === 1 ? (paternal ? ROLE.grandpaP : ROLE.grandpaM) : paternal ? ROLE.grandmaP : ROLE.grandmaM;
          f.members.push(i);
        }
        usedElder.add(e);
        break;
      }
    }
  }
  for (const e of elders) {
    if (usedElder.has(e)) continue;
    if (e.members.length === 1 && rng.chance(0.3) && families.length > 0) {
      const target = e.refAge - Math.round(rng.normal(28, 4));
      let f: Family | undefined;
      for (let d = 0; d <= 3 && !f; d++) {
        const list = familiesByMotherAge[target + d] ?? familiesByMotherAge[target - d];
        if (list && list.length > 0) f = list[rng.int(list.length)];
      }
      if (f) {
        const i = e.members[0]!;
        role[i] = sexes[i] === 1 ? ROLE.grandpaM : ROLE.grandmaM;
        f.members.push(i);
        continue;
      }
    }
    e.members.forEach((i, k) => (role[i] = e.members.length === 2 ? (k === 0 ? ROLE.spouseA : ROLE.spouseB) : ROLE.single));
    households.push(e.members);
  }

  // Young adults: most of those under 32 without a family of their own live with their parents.
  const rest = [...women, ...men].filter((i) => !taken[i]);
  rng.shuffle(rest);
  for (const i of rest) {
    if (ages[i]! >= 32 || !rng.chance(0.62)) continue;
    const target = ages[i]! + Math.round(rng.normal(28, 4));
    const list = familiesByMotherAge[target];
    if (list && list.length > 0) {
      const f = list[rng.int(list.length)]!;
      f.members.push(i);
      role[i] = ROLE.child;
      taken[i] = 1;
    }
  }
  // Other adults: couples without children at home, or living alone.
  const restMen = men.filter((i) => !taken[i]);
  rng.shuffle(restMen);
  for (const m of restMen) {
    if (!rng.chance(0.75)) continue;
    const w = womenB.take(ages[m]! - Math.round(rng.normal(2, 2)), 3, rng, taken);
    if (w < 0) continue;
    taken[m] = 1;
    taken[w] = 1;
    role[m] = ROLE.spouseA;
    role[w] = ROLE.spouseB;
    households.push([m, w]);
  }
  for (const list of [women, men]) {
    for (const i of list) {
      if (taken[i]) continue;
      taken[i] = 1;
      role[i] = ROLE.single;
      households.push([i]);
    }
  }
  for (const f of families) households.push(f.members);

  // Communities: households are placed by community weight; then everybody is renumbered so
  // that household members are contiguous and communities are in code order.
  const cWeights = new WeightedTable(communities.map((c) => [c.index, c.weight] as const));
  const hhCommunity = households.map(() => cWeights.draw(rng));
  const order = households.map((_, h) => h);
  rng.shuffle(order);
  order.sort((a, b) => hhCommunity[a]! - hhCommunity[b]!);

  const years = Math.max(1, days / 365);
  // Births: about 6.4 per 1,000 a year (国家统计局 2023: crude birth rate 6.39 ‰), plus margin.
  const capacity = P + Math.ceil(P * 0.0075 * years) + 50;
  const elsewhere = cfg.idAddressCodes.elsewhere;
  const local = cfg.idAddressCodes.local;
  const addrCodes = [...local.map((x) => x[0]), ...elsewhere.map((x) => x[0])];
  const pop = new Population(capacity, seed, addrCodes);
  const localTable = new WeightedTable(local.map((x, k) => [k, x[1]] as const));
  const elseTable = new WeightedTable(elsewhere.map((x, k) => [local.length + k, x[1]] as const));

  pop.hhStart = new Int32Array(order.length);
  pop.hhSize = new Uint8Array(order.length);
  pop.hhCommunity = new Uint16Array(order.length);
  pop.nHouseholds = order.length;
  const isTown = (c: number): boolean => streets[communities[c]!.street]!.type === '镇';
  let next = 0;
  order.forEach((h, newH) => {
    const members = households[h]!;
    const c = hhCommunity[h]!;
    pop.hhStart[newH] = next;
    pop.hhSize[newH] = Math.min(255, members.length);
    pop.hhCommunity[newH] = c;
    // Household-level origin of the ID numbers (migrant families share it).
    const fromElsewhere = rng.chance(cfg.idAddressCodes.shareFromElsewhere);
    const addr = fromElsewhere ? elseTable.draw(rng) : localTable.draw(rng);
    const fatherSurname = names.surnameAt(rng.float());
    const motherSurname = names.surnameAt(rng.float());
    const maternalGrandSurname = motherSurname;
    const first = next;
    for (const t of members) {
      const i = next++;
      const age = ages[t]!;
      const sex = sexes[t] as Sex;
      pop.birthDay[i] = birthDayForAge(age, startDay, rng.float());
      pop.sex[i] = sex;
      pop.household[i] = newH;
      pop.community[i] = c;
      const r = role[t]!;
      let sn: number;
      if (r === ROLE.father || r === ROLE.grandpaP) sn = fatherSurname;
      else if (r === ROLE.mother) sn = motherSurname;
      else if (r === ROLE.child) sn = rng.chance(0.92) ? fatherSurname : motherSurname;
      else if (r === ROLE.grandpaM) sn = maternalGrandSurname;
      else sn = names.surnameAt(rng.float());
      pop.surname[i] = sn;
      pop.given[i] = names.givenAt(sex, civilFromDay(pop.birthDay[i]!).y, rng.float(), rng.float());
      // Elderly people born elsewhere in the district often carry the former county code.
      pop.idAddr[i] = addr;
      pop.occupation[i] = occupationFor(age, sex, isTown(c), rng);
    }
    // Guardians: the mother, else the father, else the oldest adult.
    let mother = -1;
    let father = -1;
    let oldest = -1;
    for (let i = first; i < next; i++) {
      const t = members[i - first]!;
      if (role[t] === ROLE.mother) mother = i;
      if (role[t] === ROLE.father) father = i;
      if (ages[t]! >= 18 && (oldest < 0 || pop.birthDay[i]! < pop.birthDay[oldest]!)) oldest = i;
    }
    const guardian = mother >= 0 ? mother : father >= 0 ? father : oldest;
    for (let i = first; i < next; i++) if (ages[members[i - first]!]! < 18 && guardian >= 0 && guardian !== i) pop.guardian[i] = guardian;
  });
  // Care-home residents come last, each in a household of one at the home.
  const careStart = next;
  for (const t of careHomeResidents) {
    const i = next++;
    pop.birthDay[i] = birthDayForAge(ages[t]!, startDay, rng.float());
    pop.sex[i] = sexes[t]!;
    pop.household[i] = -1;
    pop.surname[i] = names.surnameAt(rng.float());
    pop.given[i] = names.givenAt(sexes[t] as Sex, civilFromDay(pop.birthDay[i]!).y, rng.float(), rng.float());
    pop.idAddr[i] = localTable.draw(rng);
    pop.occupation[i] = OCC.retired;
  }
  pop.n = next;
  for (let i = 0; i < pop.n; i++) pop.assignIdSeq(i);
  const chronic = assignChronic(pop, startDay, seed);
  const residents: number[] = [];
  for (let i = careStart; i < pop.n; i++) residents.push(i);
  return { pop, chronic, careHomeResidents: residents };
}

function occupationFor(age: number, sex: Sex, town: boolean, rng: Rng): number {
  if (age < 3) return OCC.scattered;
  if (age < 6) return OCC.scattered; // set to 幼托儿童 when enrolled in a kindergarten
  if (age < 18) return OCC.student;
  if (age < 23 && rng.chance(0.5)) return OCC.student;
  const retireAge = sex === 1 ? 60 : 55;
  if (age >= retireAge) return ELDER_OCCUPATIONS.draw(rng);
  return (town ? TOWN_ADULT_OCCUPATIONS : ADULT_OCCUPATIONS).draw(rng);
}

function interpolate(table: readonly (readonly [number, number])[], age: number): number {
  if (age < table[0]![0]) return 0;
  let p = table[0]![1];
  for (const [a, v] of table) if (age >= a) p = v;
  return p;
}

/** Chronic-disease state per person, stored in the arrays of ChronicState. */
export class ChronicState {
  /** Untreated systolic/diastolic means (mmHg) for hypertensives. */
  readonly sbp: Float32Array;
  readonly dbp: Float32Array;
  /** Untreated fasting glucose (mmol/L) for diabetics. */
  readonly fpg: Float32Array;
  /** Antihypertensive drug steps (0-3) and glucose-lowering steps (0-3). */
  readonly htnSteps: Uint8Array;
  readonly dmSteps: Uint8Array;
  /** Medication adherence 0.4-1. */
  readonly adherence: Float32Array;
  /** 0 regular, 1 irregular, 2 lost to follow-up. */
  readonly attendance: Uint8Array;
  /** Consecutive uncontrolled follow-ups. */
  readonly uncontrolled: Uint8Array;
  /** Day of diagnosis (day number) or 0. */
  readonly htnSince: Int32Array;
  readonly dmSince: Int32Array;
  constructor(capacity: number) {
    this.sbp = new Float32Array(capacity);
    this.dbp = new Float32Array(capacity);
    this.fpg = new Float32Array(capacity);
    this.htnSteps = new Uint8Array(capacity);
    this.dmSteps = new Uint8Array(capacity);
    this.adherence = new Float32Array(capacity);
    this.attendance = new Uint8Array(capacity);
    this.uncontrolled = new Uint8Array(capacity);
    this.htnSince = new Int32Array(capacity);
    this.dmSince = new Int32Array(capacity);
  }
}

/**
 * Hypertension and diabetes: prevalence by age and sex scaled so that the adult totals meet
 * the targets in targets.ts for this very population; awareness, treatment and registration in
 * the basic public health service; untreated levels and treatment steps.
 */
function assignChronic(pop: Population, startDay: number, seed: number): ChronicState {
  const rng = new Rng(seed, 'chronic-assign');
  const cs = new ChronicState(pop.capacity);
  const n = pop.n;
  const sexFactor = (ratio: number, sex: number): number => (sex === 1 ? (2 * ratio) / (1 + ratio) : 2 / (1 + ratio));
  let adults = 0;
  let sumDm = 0;
  const age = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    age[i] = pop.age(i, startDay);
    if (age[i]! >= 18) {
      adults++;
      sumDm += interpolate(DIABETES.byAge, age[i]!) * sexFactor(DIABETES.maleRatio, pop.sex[i]!);
    }
  }
  const dmScale = adults > 0 ? (DIABETES.adultPrevalence * adults) / sumDm : 1;
  for (let i = 0; i < n; i++) {
    if (age[i]! < 18) continue;
    const p = Math.min(0.9, interpolate(DIABETES.byAge, age[i]!) * sexFactor(DIABETES.maleRatio, pop.sex[i]!) * dmScale);
    if (rng.chance(p)) pop.flags[i]! |= FLAG.DM;
  }
  // Hypertension given diabetes status: odds ratio applied, then rescaled to the target.
  const base = new Float32Array(n);
  for (let i = 0; i < n; i++)
    if (age[i]! >= 18) base[i] = interpolate(HYPERTENSION.byAge, age[i]!) * sexFactor(HYPERTENSION.maleRatio, pop.sex[i]!);
  const withOr = (p: number, dm: boolean): number =>
    dm ? (p * DIABETES.hypertensionOddsRatio) / (1 + p * (DIABETES.hypertensionOddsRatio - 1)) : p;
  const pHtn = (i: number, scale: number): number =>
    Math.min(0.95, withOr(Math.min(0.95, base[i]! * scale), (pop.flags[i]! & FLAG.DM) !== 0));
  let lo = 0.1;
  let hi = 5;
  for (let it = 0; it < 40; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    for (let i = 0; i < n; i++) if (age[i]! >= 18) s += pHtn(i, mid);
    if (s / adults < HYPERTENSION.adultPrevalence) lo = mid;
    else hi = mid;
  }
  const htnScale = (lo + hi) / 2;
  for (let i = 0; i < n; i++) {
    if (age[i]! < 18) continue;
    if (rng.chance(pHtn(i, htnScale))) pop.flags[i]! |= FLAG.HTN;
  }
  for (let i = 0; i < n; i++) {
    const a = age[i]!;
    const htn = pop.hasFlag(i, FLAG.HTN);
    const dm = pop.hasFlag(i, FLAG.DM);
    if (!htn && !dm) continue;
    cs.adherence[i] = 0.4 + 0.6 * Math.sqrt(rng.float());
    const u = rng.float();
    cs.attendance[i] = u < 0.72 ? 0 : u < 0.92 ? 1 : 2;
    if (htn) {
      cs.sbp[i] = Math.min(176, Math.max(140, rng.normal(150 + 0.1 * (a - 50), 10)));
      cs.dbp[i] = Math.max(70, Math.min(108, rng.normal(94 - 0.25 * Math.max(0, a - 45), 6)));
      if (rng.chance(HYPERTENSION.awareness)) {
        pop.flags[i]! |= FLAG.HTN_AWARE;
        cs.htnSince[i] = startDay - 30 - rng.int(Math.max(30, (a - 25) * 200));
        if (rng.chance(HYPERTENSION.treatedGivenAware)) {
          pop.flags[i]! |= FLAG.TREATED;
          const r = rng.float();
          cs.htnSteps[i] = r < 0.55 ? 1 : r < 0.9 ? 2 : 3;
        }
        if (a >= 35 && rng.chance(HYPERTENSION.managedGivenAware)) pop.flags[i]! |= FLAG.MANAGED;
      }
    }
    if (dm) {
      cs.fpg[i] = Math.min(15, Math.max(7.2, rng.logNormal(9.0, 1.2)));
      if (rng.chance(DIABETES.awareness)) {
        pop.flags[i]! |= FLAG.DM_AWARE;
        cs.dmSince[i] = startDay - 30 - rng.int(Math.max(30, (a - 25) * 150));
        if (rng.chance(DIABETES.treatedGivenAware)) {
          pop.flags[i]! |= FLAG.TREATED;
          cs.dmSteps[i] = rng.chance(0.6) ? 1 : 2;
        }
        if (rng.chance(DIABETES.managedGivenAware)) pop.flags[i]! |= FLAG.MANAGED;
      }
    }
  }
  return cs;
}

/** Adds a newborn to a household (the simulation's births). Returns the new index or -1. */
export function addNewborn(pop: Population, names: NameBook, mother: number, day: number, rng: Rng): number {
  if (pop.n >= pop.capacity) return -1;
  const i = pop.n++;
  const sex: Sex = rng.chance(0.527) ? 1 : 2; // sex ratio at birth about 111 (2020 census)
  pop.birthDay[i] = day;
  pop.sex[i] = sex;
  pop.household[i] = pop.household[mother]!;
  pop.community[i] = pop.community[mother]!;
  // The father is the man of the household next to the mother, if any.
  const h = pop.household[mother]!;
  let surname = pop.surname[mother]!;
  if (h >= 0) {
    for (let k = pop.hhStart[h]!; k < pop.hhStart[h]! + pop.hhSize[h]!; k++) {
      if (k !== mother && pop.sex[k] === 1 && Math.abs(pop.birthDay[k]! - pop.birthDay[mother]!) < 365 * 8) {
        if (rng.chance(0.92)) surname = pop.surname[k]!;
        break;
      }
    }
  }
  pop.surname[i] = surname;
  pop.given[i] = names.givenAt(sex, civilFromDay(day).y, rng.float(), rng.float());
  pop.idAddr[i] = pop.idAddr[mother]!;
  pop.occupation[i] = OCC.scattered;
  pop.guardian[i] = mother;
  pop.assignIdSeq(i);
  return i;
}
