/**
 * Childhood immunizations by the national schedule (NIP-2021, config/immunization/; see vaccines.ts) with
 * realistic delays and misses, and adult influenza and PPSV23 uptake. Each child's plan is a
 * pure function of the seed and the child, so history, future doses and measles susceptibility
 * all agree without storing it.
 */
import { addMonths, civilFromDay, dayFromCivil } from './calendar.js';
import type { Facility } from './district.js';
import { FLAG, OCC } from './population.js';
import type { Recorder } from './records/index.js';
import { hashFloat, Rng } from './rng.js';
import { ADULT_VACCINE_UPTAKE, CHILD_TIMELINESS } from './targets.js';
import type { World } from './types.js';

const CATEGORY = CHILD_TIMELINESS.map((c) => c[0]);
const CATEGORY_CUM = CHILD_TIMELINESS.reduce<number[]>((a, c) => (a.push((a[a.length - 1] ?? 0) + c[1]), a), []);
const MISS: Record<string, number> = { 'on-time': 0.004, late: 0.012, 'very-late': 0.04, refuser: 0.5 };

/** Residents between two waits for the output while writing history (a power of two minus one). */
const PAUSE_EVERY = 8191;

/** Children vaccinated up to this age at the start get their history written. */
const HISTORY_MONTHS = 7 * 12;

export class Immunizer {
  /** Doses due per day of the run: packed person * 64 + dose index. */
  private readonly dueByDay: number[][];
  private readonly rng: Rng;
  private readonly ppsv = new Set<number>();
  /** Influenza vaccination this season: packed person list per day. */
  private readonly fluByDay = new Map<number, number[]>();

  constructor(
    private readonly w: World,
    private readonly rec: Recorder,
  ) {
    this.dueByDay = Array.from({ length: w.days }, () => []);
    this.rng = new Rng(w.seed, 'immunization');
  }

  /** Day of each scheduled dose for a child (-1 = never given). Pure. */
  plan(person: number): Int32Array {
    const { seed, pop, schedule } = this.w;
    const b = pop.birthDay[person]!;
    const u0 = hashFloat(seed, person, 700) * CATEGORY_CUM[CATEGORY_CUM.length - 1]!;
    let ci = 0;
    while (CATEGORY_CUM[ci]! <= u0) ci++;
    const cat = CATEGORY[ci]!;
    const out = new Int32Array(schedule.childDoses.length);
    const last = new Map<string, number>();
    schedule.childDoses.forEach((d, k) => {
      const u = hashFloat(seed, person, 710 + k);
      const u2 = hashFloat(seed, person, 760 + k);
      if (d.ageMonths === 0) {
        // Birth doses in the delivery hospital within a day; BCG occasionally deferred.
        out[k] = u < (d.vaccine === 'BCG' ? 0.01 : 0.003) ? -1 : b + (u2 < 0.8 ? 0 : 1);
      } else if (u < MISS[cat]!) {
        out[k] = -1;
      } else {
        const due = addMonths(b, d.ageMonths);
        const delay =
          cat === 'on-time'
            ? Math.floor(-Math.log(1 - u2) * 5)
            : cat === 'late'
              ? 20 + Math.floor(u2 * 70)
              : cat === 'very-late'
                ? 60 + Math.floor(u2 * 300)
                : 30 + Math.floor(u2 * 400);
        let day = due + delay;
        const prev = last.get(d.vaccine);
        if (prev !== undefined && prev >= 0) day = Math.max(day, prev + 28);
        day = this.w.cal.nextWorkday(day);
        out[k] = day;
      }
      if (out[k]! >= 0) last.set(d.vaccine, out[k]!);
    });
    return out;
  }

  /** Whether the child has had MMR dose n by a day (for measles susceptibility). */
  mmrDoses(person: number, day: number): number {
    const p = this.plan(person);
    let n = 0;
    this.w.schedule.childDoses.forEach((d, k) => {
      if (d.vaccine === 'MMR' && p[k]! >= 0 && p[k]! <= day) n++;
    });
    return n;
  }

  private chcOf(person: number): Facility {
    return this.rec.identity.homeChc(person);
  }

  /**
   * Writes past doses (the registry's history) and queues doses due during the run. Waits on
   * `pause` every few thousand residents so that the output keeps up (bounded memory).
   */
  async start(pause: () => Promise<void>): Promise<void> {
    const { pop, startDay, schedule, district } = this.w;
    const mch = district.facilities[district.byKind.get('mch-hospital')![0]!]!;
    const minBirth = addMonths(startDay, -HISTORY_MONTHS);
    for (let i = 0; i < pop.n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      if (pop.birthDay[i]! < minBirth) continue;
      const p = this.plan(i);
      let lastDay = -1;
      let minute = 0;
      schedule.childDoses.forEach((d, k) => {
        const day = p[k]!;
        if (day < 0) return;
        if (day < startDay) {
          if (day !== lastDay) minute = d.ageMonths === 0 ? 600 + this.rng.int(480) : this.rec.arrivalMinute({ kind: 'vaccination' });
          lastDay = day;
          this.rec.immunization({
            person: i,
            facility: d.ageMonths === 0 ? mch : this.chcOf(i),
            day,
            minute,
            vaccine: d.vaccine,
            doseNumber: d.dose,
            series: schedule.version,
            forceFhir: true,
          });
        } else if (day < this.w.endDay) {
          this.dueByDay[day - startDay]!.push(i * 64 + k);
        }
      });
    }
  }

  /** A child born during the run: birth doses at the MCH hospital, the rest queued. */
  newborn(person: number): void {
    const { startDay, endDay, schedule } = this.w;
    const p = this.plan(person);
    schedule.childDoses.forEach((_, k) => {
      const day = p[k]!;
      if (day >= startDay && day < endDay) this.dueByDay[day - startDay]!.push(person * 64 + k);
    });
  }

  /** Gives the doses due today, and adult vaccines. */
  day(day: number): void {
    const { schedule, startDay, district } = this.w;
    const mch = district.facilities[district.byKind.get('mch-hospital')![0]!]!;
    const due = this.dueByDay[day - startDay]!;
    let lastPerson = -1;
    let minute = 0;
    for (const packed of due) {
      const person = Math.floor(packed / 64);
      if (!this.w.deaths.alive(person, day)) continue;
      const k = packed % 64;
      const d = schedule.childDoses[k]!;
      const atBirth = d.ageMonths === 0;
      if (person !== lastPerson) minute = atBirth ? 600 + this.rng.int(480) : this.rec.arrivalMinute({ kind: 'vaccination' });
      lastPerson = person;
      this.rec.immunization({
        person,
        facility: atBirth ? mch : this.chcOf(person),
        day,
        minute,
        vaccine: d.vaccine,
        doseNumber: d.dose,
        series: schedule.version,
        newborn: atBirth,
      });
      // The delivery hospital also enters birth doses in the immunization registry (预防接种信息系统),
      // which sends them on the child's own record: coverage does not depend on the HL7 feed.
      if (atBirth)
        this.rec.immunization({
          person,
          facility: mch,
          day,
          minute,
          vaccine: d.vaccine,
          doseNumber: d.dose,
          series: schedule.version,
          forceFhir: true,
        });
    }
    this.dueByDay[day - startDay] = [];
    this.adult(day);
  }

  private adult(day: number): void {
    const { pop, cal } = this.w;
    const { y, m, d } = civilFromDay(day);
    // Influenza campaign: plan the season on 1 September (or on the first day of the run).
    if ((m === 9 && d === 1) || day === this.w.startDay) {
      const campaignEnd = dayFromCivil(m >= 9 ? y : y - 1, 12, 31);
      const campaignStart = Math.max(day, dayFromCivil(m >= 9 ? y : y - 1, 9, 15));
      if (campaignStart <= campaignEnd) this.planFlu(campaignStart, campaignEnd);
    }
    const flu = this.fluByDay.get(day);
    if (flu) {
      this.fluByDay.delete(day);
      for (const person of flu) {
        if (person >= pop.n || !this.w.deaths.alive(person, day)) continue;
        this.rec.immunization({
          person,
          facility: this.chcOf(person),
          day,
          minute: this.rec.arrivalMinute({ kind: 'vaccination' }),
          vaccine: 'IIV',
          doseNumber: 1,
          series: `IIV-${y}-${y + 1}`,
        });
      }
    }
    // PPSV23: a few per cent of unvaccinated people aged 65+ each year, on workdays.
    if (cal.isWorkday(day)) {
      const n65 = this.elderlyCount ?? this.countElderly(day);
      const k = this.rng.poisson((n65 * ADULT_VACCINE_UPTAKE.ppsv23PerYear) / 250);
      for (let j = 0; j < k; j++) {
        const person = this.rng.int(pop.n);
        if (this.ppsv.has(person) || pop.age(person, day) < 65 || !this.w.deaths.alive(person, day)) continue;
        this.ppsv.add(person);
        this.rec.immunization({
          person,
          facility: this.chcOf(person),
          day,
          minute: this.rec.arrivalMinute({ kind: 'vaccination' }),
          vaccine: 'PPSV23',
          doseNumber: 1,
          series: 'PPSV23',
        });
      }
    }
  }

  private elderlyCount: number | null = null;
  private countElderly(day: number): number {
    let n = 0;
    for (let i = 0; i < this.w.pop.n; i++) if (this.w.pop.age(i, day) >= 65) n++;
    this.elderlyCount = n;
    return n;
  }

  private planFlu(from: number, to: number): void {
    const { pop, cal } = this.w;
    const workdays: number[] = [];
    for (let d = from; d <= to; d++) if (cal.isWorkday(d) && d < this.w.endDay) workdays.push(d);
    if (workdays.length === 0) return;
    const u = ADULT_VACCINE_UPTAKE;
    for (let i = 0; i < pop.n; i++) {
      const age = pop.age(i, from);
      const months = age * 12;
      let p = 0;
      if (pop.careHome[i]! >= 0) p = u.influenzaCareHome;
      else if (age >= 60) p = u.influenzaElderly;
      else if (pop.occupation[i] === OCC.medical) p = u.influenzaHealthWorker;
      else if (pop.hasFlag(i, FLAG.MANAGED)) p = u.influenzaChronic;
      else if (months >= 6 && age < 5) p = u.influenzaChild;
      if (p === 0 || !this.rng.chance(p)) continue;
      // Earlier in the campaign more often.
      const idx = Math.floor(workdays.length * Math.pow(this.rng.float(), 1.6));
      const d = workdays[idx]!;
      const list = this.fluByDay.get(d);
      if (list) list.push(i);
      else this.fluByDay.set(d, [i]);
    }
  }
}
