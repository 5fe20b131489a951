/**
 * Hypertension and type 2 diabetes under the national basic public health service: registered
 * patients are followed up by their family-doctor team about every three months, with the
 * decisions of rules.md §3 (controlled → next visit in 3 months; first uncontrolled reading →
 * adjust treatment and return within 2 weeks; two in a row → refer up; emergency readings →
 * urgent referral). Blood pressure and glucose respond to treatment steps and adherence; some
 * visits are late and some are missed, as real follow-up is. New cases are found by first-visit
 * blood pressure measurement and screening.
 */
import { civilFromDay, dayFromCivil } from './calendar.js';
import { conditionJson, medicationRequestJson } from './fhir.js';
import { FLAG } from './population.js';
import type { Recorder } from './records/index.js';
import type { Visit } from './types.js';
import { Rng } from './rng.js';
import { MEDICATION_SYSTEM } from './uris.js';
import type { World } from './types.js';
import { ICD } from './icd.js';
import type { Sink } from './sink.js';

/** Antihypertensive and glucose-lowering steps, with ATC codes. */
const HTN_DRUGS = [
  { code: 'amlodipine-5', atc: 'C08CA01', text: '苯磺酸氨氯地平片 5mg', dosage: '每日1次，每次1片，口服' },
  { code: 'losartan-50', atc: 'C09CA01', text: '氯沙坦钾片 50mg', dosage: '每日1次，每次1片，口服' },
  { code: 'hctz-25', atc: 'C03AA03', text: '氢氯噻嗪片 25mg', dosage: '每日1次，每次半片，口服' },
  { code: 'metoprolol-47.5', atc: 'C07AB02', text: '琥珀酸美托洛尔缓释片 47.5mg', dosage: '每日1次，每次1片，口服' },
];
const DM_DRUGS = [
  { code: 'metformin-500', atc: 'A10BA02', text: '盐酸二甲双胍片 0.5g', dosage: '每日3次，每次1片，餐时口服' },
  { code: 'gliclazide-30', atc: 'A10BB09', text: '格列齐特缓释片 30mg', dosage: '每日1次，每次1片，早餐前口服' },
  { code: 'acarbose-50', atc: 'A10BF01', text: '阿卡波糖片 50mg', dosage: '每日3次，每次1片，与第一口饭嚼服' },
  { code: 'glargine', atc: 'A10AE04', text: '甘精胰岛素注射液', dosage: '每晚睡前皮下注射10单位，按血糖调整' },
];

/**
 * Effect of each treatment step at full adherence (mmHg, mmol/L): tuned so that about half of the
 * managed patients are controlled at their latest visit, as community programmes report (40–60 %).
 */
const HTN_STEP_SBP = 8;
const HTN_STEP_DBP = 4.5;
const DM_STEP_FPG = 0.7;

/** 2025 rules (config/chronic/rules-2025.json, 《中国高血压防治指南（2024年修订版）》) in force from this day. */
const RULES_2025_FROM = dayFromCivil(2025, 7, 1);

/**
 * Blood-pressure target of the rules in force on a day (config/chronic): from 2025-07 < 130/80
 * under 80; before, < 140/90 (< 130/80 with diabetes); from 80 on < 150/90.
 */
export function bpTarget(age: number, dm: boolean, day: number): [number, number] {
  if (age >= 80) return [150, 90];
  if (dm || day >= RULES_2025_FROM) return [130, 80];
  return [140, 90];
}

/** Residents between two waits for the output while writing history (a power of two minus one). */
const PAUSE_EVERY = 8191;

/** Yearly chance that an unaware adult with the disease is diagnosed (screening, first-visit BP). */
const DIAGNOSIS_PER_YEAR = { htn: 0.06, dm: 0.04 };

export class Chronic {
  private readonly rng: Rng;
  /** Per day of the run: person * 2 + 1 = a visit that happens, person * 2 = due but not attended. */
  private readonly due = new Map<number, number[]>();
  private readonly unawareHtn: number[] = [];
  private readonly unawareDm: number[] = [];
  private readonly lastA1cYear = new Map<number, number>();
  /** Last referral day per patient: specialists take over for a while after a referral. */
  private readonly referred = new Map<number, number>();
  private condSeq = 0;
  private medSeq = 0;

  constructor(
    private readonly w: World,
    private readonly rec: Recorder,
    private readonly sink: Sink,
  ) {
    this.rng = new Rng(w.seed, 'chronic');
  }

  private schedule(person: number, dueDay: number): void {
    const r = this.rng;
    const type = this.w.chronic.attendance[person]!;
    let visitDay: number;
    if (type === 0) visitDay = dueDay + Math.round(r.normal(0, 3));
    else if (type === 1) visitDay = r.chance(0.7) ? dueDay + 7 + r.int(39) : -1;
    else visitDay = r.chance(0.25) ? dueDay + 14 + r.int(47) : -1;
    const day = visitDay >= 0 ? this.w.cal.nextWorkday(Math.max(visitDay, this.w.startDay)) : dueDay + 90;
    if (day >= this.w.endDay) return;
    const list = this.due.get(day) ?? [];
    list.push(person * 2 + (visitDay >= 0 ? 1 : 0));
    this.due.set(day, list);
  }

  /**
   * Problem-list conditions for people already diagnosed, and the first follow-ups. Waits on
   * `pause` every few thousand residents so that the output keeps up (bounded memory).
   */
  async start(pause: () => Promise<void>): Promise<void> {
    const { pop, chronic, startDay } = this.w;
    for (let i = 0; i < pop.n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      const f = pop.flags[i]!;
      if (f & FLAG.HTN && !(f & FLAG.HTN_AWARE) && pop.age(i, startDay) >= 35) this.unawareHtn.push(i);
      if (f & FLAG.DM && !(f & FLAG.DM_AWARE)) this.unawareDm.push(i);
      // The CHC's problem list holds the patients of its programme (registered at diagnosis and
      // followed up since); people who know of their disease but are treated elsewhere have none.
      if (f & FLAG.MANAGED) {
        if (f & FLAG.HTN_AWARE) this.problem(i, ICD.hypertension, chronic.htnSince[i]!);
        if (f & FLAG.DM_AWARE) this.problem(i, ICD.diabetes, chronic.dmSince[i]!);
        if (f & FLAG.TREATED) this.historicMedication(i);
        this.schedule(i, startDay + this.rng.int(90));
      }
    }
  }

  private team(person: number): number {
    const t = this.w.district.teams[this.w.pop.community[person]!]!;
    return t.members[0]!;
  }

  private problem(person: number, dx: { icd: string; display: string }, since: number): void {
    const gp = this.w.district.practitioners[this.team(person)]!;
    const id = 'cond-c' + String(++this.condSeq).padStart(7, '0');
    this.sink.fhir(
      'Condition',
      id,
      conditionJson({
        id,
        patientId: this.w.pop.patientId(person),
        encounterId: null,
        icd: dx.icd,
        display: dx.display,
        category: 'problem-list-item',
        provisional: false,
        onset: this.w.clock.iso(since),
        recorded: this.w.clock.iso(since),
        recorderId: gp.id,
      }),
    );
  }

  private historicMedication(person: number): void {
    const { chronic, pop, clock, district } = this.w;
    const gp = district.practitioners[this.team(person)]!;
    const emit = (drug: (typeof HTN_DRUGS)[number], since: number): void => {
      const id = 'mr-c' + String(++this.medSeq).padStart(7, '0');
      this.sink.fhir(
        'MedicationRequest',
        id,
        medicationRequestJson({
          id,
          patientId: pop.patientId(person),
          encounterId: null,
          atc: drug.atc,
          localSystem: MEDICATION_SYSTEM,
          localCode: drug.code,
          text: drug.text,
          dosage: drug.dosage,
          time: clock.fhir(since, 600),
          requesterId: gp.id,
        }),
      );
    };
    for (let k = 0; k < chronic.htnSteps[person]!; k++) emit(HTN_DRUGS[k]!, chronic.htnSince[person]! + 30 * k);
    for (let k = 0; k < chronic.dmSteps[person]!; k++) emit(DM_DRUGS[k]!, chronic.dmSince[person]! + 30 * k);
  }

  day(day: number): void {
    this.diagnose(day);
    const list = this.due.get(day);
    if (!list) return;
    this.due.delete(day);
    for (const packed of list) {
      const person = packed >> 1;
      // The dead are seen no more (their follow-up chain ends).
      if (!this.w.deaths.alive(person, day)) continue;
      if (packed & 1) this.followUp(person, day);
      else this.schedule(person, day);
    }
  }

  private diagnose(day: number): void {
    if (!this.w.cal.isWorkday(day)) return;
    const r = this.rng;
    for (const [pool, kind] of [
      [this.unawareHtn, 'htn'],
      [this.unawareDm, 'dm'],
    ] as const) {
      const k = r.poisson((pool.length * DIAGNOSIS_PER_YEAR[kind]) / 250);
      for (let j = 0; j < k && pool.length > 0; j++) {
        const idx = r.int(pool.length);
        const person = pool[idx]!;
        pool[idx] = pool[pool.length - 1]!;
        pool.pop();
        if (this.w.deaths.alive(person, day)) this.newDiagnosis(person, kind, day);
      }
    }
  }

  private site(person: number, forceChc = false): { facility: number; dept: number; home: boolean } {
    const { district, pop } = this.w;
    const chc = this.rec.identity.homeChc(person);
    const station = district.stationOfCommunity[pop.community[person]!]!;
    const age = pop.age(person, this.w.startDay);
    const home = !forceChc && (pop.careHome[person]! >= 0 || age >= 82) && this.rng.chance(0.6);
    const f = !forceChc && station >= 0 && this.rng.chance(0.4) ? district.facilities[station]! : chc;
    const dept = f.departments.find((d) => d.code === 'chronic-disease') ?? f.departments.find((d) => d.code === 'general-practice')!;
    return { facility: f.index, dept: dept.index, home };
  }

  private readings(person: number): { sbp: number; dbp: number; fpg: number | null } {
    const { chronic, pop } = this.w;
    const r = this.rng;
    const adh = Math.min(1, Math.max(0, chronic.adherence[person]! + r.normal(0, 0.08)));
    let sbp: number;
    let dbp: number;
    if (pop.hasFlag(person, FLAG.HTN)) {
      sbp = chronic.sbp[person]! - chronic.htnSteps[person]! * HTN_STEP_SBP * adh + r.normal(0, 7);
      dbp = chronic.dbp[person]! - chronic.htnSteps[person]! * HTN_STEP_DBP * adh + r.normal(0, 4.5);
    } else {
      sbp = r.normal(126, 10);
      dbp = r.normal(78, 7);
    }
    // Treatment brings glucose down towards normal, rarely below it (hypoglycaemia is uncommon).
    const fpg = pop.hasFlag(person, FLAG.DM)
      ? Math.max(3.5, Math.max(5.2, chronic.fpg[person]! - chronic.dmSteps[person]! * DM_STEP_FPG * adh) + r.normal(0, 0.8))
      : null;
    return { sbp: Math.round(sbp), dbp: Math.round(Math.min(dbp, sbp - 20)), fpg: fpg === null ? null : Math.round(fpg * 10) / 10 };
  }

  private newDiagnosis(person: number, kind: 'htn' | 'dm', day: number): void {
    const { pop, chronic, district } = this.w;
    const s = this.site(person, true);
    const f = district.facilities[s.facility]!;
    const read = this.readings(person);
    const htn = kind === 'htn';
    const complaint = htn
      ? `首诊测血压发现血压升高，复测${read.sbp}/${read.dbp}mmHg，无头晕头痛`
      : `体检发现空腹血糖升高，复查${read.fpg}mmol/L，无明显多饮多尿`;
    const v = this.rec.visit({
      person,
      facility: f,
      dept: f.departments[s.dept]!,
      cls: 'AMB',
      visitType: 'follow-up',
      day,
      complaint,
      temperature: null,
      dx: [htn ? ICD.hypertension : ICD.diabetes],
      onsetDay: day,
      extras: htn
        ? [{ kind: 'bp', sbp: read.sbp, dbp: read.dbp }]
        : [
            { kind: 'bp', sbp: read.sbp, dbp: read.dbp },
            { kind: 'glucose', value: read.fpg! },
          ],
      doctor: this.team(person),
    });
    if (htn) {
      pop.flags[person]! |= FLAG.HTN_AWARE;
      chronic.htnSince[person] = day;
      chronic.htnSteps[person] = 1;
      this.rec.medication(v, HTN_DRUGS[0]!);
    } else {
      pop.flags[person]! |= FLAG.DM_AWARE;
      chronic.dmSince[person] = day;
      chronic.dmSteps[person] = 1;
      this.rec.medication(v, DM_DRUGS[0]!);
    }
    pop.flags[person]! |= FLAG.TREATED;
    if (!pop.hasFlag(person, FLAG.MANAGED)) {
      pop.flags[person]! |= FLAG.MANAGED;
      this.schedule(person, day + 14);
    }
  }

  private followUp(person: number, day: number): void {
    const { pop, chronic, district } = this.w;
    const r = this.rng;
    const s = this.site(person);
    const f = district.facilities[s.facility]!;
    const htn = pop.hasFlag(person, FLAG.HTN_AWARE);
    const dm = pop.hasFlag(person, FLAG.DM_AWARE);
    const age = pop.age(person, day);
    const read = this.readings(person);
    const [ts, td] = bpTarget(age, dm, day);
    const bpOk = !htn || (read.sbp < ts && read.dbp < td);
    const glucoseOk = !dm || (read.fpg! >= 4.4 && read.fpg! < 7.0);
    const emergency = (htn && (read.sbp >= 180 || read.dbp >= 110)) || (dm && (read.fpg! >= 16.7 || read.fpg! <= 3.9));
    const extras: Parameters<Recorder['visit']>[0]['extras'] = [{ kind: 'bp', sbp: read.sbp, dbp: read.dbp }];
    if (dm) {
      extras.push({ kind: 'glucose', value: read.fpg! });
      const y = civilFromDay(day).y;
      if (this.lastA1cYear.get(person) !== y) {
        this.lastA1cYear.set(person, y);
        const a1c = (read.fpg! * 18 + 46.7) / 28.7 + r.normal(0, 0.35);
        extras.push({ kind: 'hba1c', value: Math.round(a1c * 10) / 10 });
      }
    }
    const parts: string[] = [];
    if (htn)
      parts.push(
        emergency && read.sbp >= 180
          ? `高血压随访：头晕、头痛1天，测血压${read.sbp}/${read.dbp}mmHg`
          : `高血压随访：${r.chance(0.7) ? '无头晕头痛等不适' : '偶有头晕'}，${chronic.adherence[person]! > 0.7 ? '规律服药' : '间断服药'}`,
      );
    if (dm) parts.push(`糖尿病随访：${r.chance(0.75) ? '无多饮、多食、多尿' : '口干、多饮'}，空腹血糖${read.fpg}mmol/L`);
    const v = this.rec.visit({
      person,
      facility: f,
      dept: f.departments[s.dept]!,
      cls: s.home ? 'HH' : 'AMB',
      visitType: s.home ? 'home-visit' : 'follow-up',
      day,
      complaint: parts.join('；'),
      temperature: null,
      dx: [],
      onsetDay: day,
      extras,
      doctor: this.team(person),
    });
    const gh = district.facilities[district.byKind.get('general-hospital')![0]!]!;
    const recentlyReferred = day - (this.referred.get(person) ?? -1e9) < 180;
    if (emergency) {
      this.rec.referral(
        v,
        gh,
        '急诊科',
        true,
        htn && read.sbp >= 180 ? `血压${read.sbp}/${read.dbp}mmHg，紧急转诊` : `血糖${read.fpg}mmol/L，紧急转诊`,
      );
      this.emergencyVisit(person, day, v, read);
      this.specialistAdjusts(person, day);
      // After an urgent referral the team checks on the patient within days (the rules want it at once).
      this.schedule(person, day + 3);
    } else if (bpOk && glucoseOk) {
      chronic.uncontrolled[person] = 0;
      this.schedule(person, day + 90);
    } else if (recentlyReferred) {
      // Under specialist care since a recent referral: no new referral, but the team sees the
      // patient again within two weeks, as the rules ask after an uncontrolled reading.
      this.schedule(person, day + 14);
    } else if (chronic.uncontrolled[person]! >= 1) {
      this.rec.referral(v, gh, !bpOk ? '心血管内科' : '内分泌科', false, '连续两次随访控制不满意');
      this.specialistAdjusts(person, day);
      this.schedule(person, day + 14);
    } else {
      chronic.uncontrolled[person] = 1;
      this.stepUp(v, person, !bpOk, !glucoseOk);
      this.schedule(person, day + 14);
    }
    // Adherence drifts slowly; a referral or a scare improves it for a while.
    chronic.adherence[person] = Math.min(1, Math.max(0.3, chronic.adherence[person]! + r.normal(emergency ? 0.1 : 0, 0.03)));
  }

  /** After a referral the specialist finds a better regimen: levels fall, adherence improves. */
  private specialistAdjusts(person: number, day: number): void {
    const c = this.w.chronic;
    this.referred.set(person, day);
    c.uncontrolled[person] = 0;
    // Hard-to-treat patients stay above target after it (specialists do not control everyone).
    c.sbp[person] = Math.max(148, c.sbp[person]! - 6);
    c.dbp[person] = Math.max(86, c.dbp[person]! - 3);
    if (c.fpg[person]! > 0) c.fpg[person] = Math.max(8, c.fpg[person]! - 1);
    c.adherence[person] = Math.min(1, c.adherence[person]! + 0.1);
  }

  private stepUp(v: Visit, person: number, bp: boolean, glucose: boolean): void {
    const c = this.w.chronic;
    if (bp && c.htnSteps[person]! < 3) {
      c.htnSteps[person]!++;
      this.rec.medication(v, HTN_DRUGS[c.htnSteps[person]! - 1]!);
    }
    if (glucose && c.dmSteps[person]! < 3) {
      c.dmSteps[person]!++;
      this.rec.medication(v, DM_DRUGS[c.dmSteps[person]! - 1]!);
    }
  }

  /** The patient turns up at the general hospital's emergency department the same day. */
  private emergencyVisit(person: number, day: number, from: Visit, read: { sbp: number; dbp: number; fpg: number | null }): void {
    const d = this.w.district;
    const gh = d.facilities[d.byKind.get('general-hospital')![0]!]!;
    const em = gh.departments.find((x) => x.code === 'emergency')!;
    const htn = read.sbp >= 180 || read.dbp >= 110;
    this.rec.visit({
      person,
      facility: gh,
      dept: em,
      cls: 'EMER',
      visitType: 'emergency',
      day: from.endDay,
      startMin: from.endMin + 40 + this.rng.int(80),
      complaint: htn
        ? `社区随访发现血压${read.sbp}/${read.dbp}mmHg，伴头晕、头痛，转诊来院`
        : `社区随访测空腹血糖${read.fpg}mmol/L，转诊来院`,
      temperature: Math.round((36.4 + this.rng.float() * 0.6) * 10) / 10,
      dx: [htn ? ICD.hypertension : ICD.diabetes],
      onsetDay: day,
      extras:
        read.fpg !== null
          ? [
              { kind: 'bp', sbp: read.sbp, dbp: read.dbp },
              { kind: 'glucose', value: read.fpg },
            ]
          : [{ kind: 'bp', sbp: read.sbp, dbp: read.dbp }],
    });
  }
}
