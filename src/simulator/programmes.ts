/**
 * The basic public-health programmes (国家基本公共卫生服务规范（第三版）) as a community health
 * centre records them, in the form the product's programme engine reads (config/programmes/):
 *
 * - 0–6岁儿童: a home visit in the newborn's first week, checks at 1, 3, 6, 8, 12, 18, 24, 30 and
 *   36 months and once a year at 4–6 (Encounter programme-service#newborn-visit / #child-checkup,
 *   with weight and length/height Observations);
 * - 孕产妇: pregnancies at the district's birth rate, registered (建册) mostly before 13 weeks,
 *   antenatal visits through the pregnancy, a high-risk flag for some with 专案管理 visits, the
 *   delivery (the births of the run take their mothers from here), the postpartum visit in the
 *   first week and the 42-day check. The pregnancy Condition (Z34.9/Z35.9, onset = last menstrual
 *   period, abatement = delivery) is written once, when the pregnancy is closed (at the delivery,
 *   or on the run's last day for one still in progress), so a record never needs a second version;
 * - 65岁及以上老年人: a yearly health check (Encounter #elderly-health-check with blood pressure,
 *   weight and height) for about 70 % of them, a few the same people year after year;
 * - 严重精神障碍: registered patients (about 0.45 % of adults) followed up once a quarter with the
 *   病情 assessment (Observation programme-observation#mental-condition);
 * - 肺结核: every tuberculosis case the run diagnoses (and those in treatment at its start) is
 *   registered at the home centre the day it is notified, visited within 72 hours and monthly for
 *   the six-month course, and given a treatment outcome at its end;
 * - 血脂异常 (三高共管): a share of adults from 35 registered with an E78 diagnosis (more of those
 *   with hypertension or diabetes), an LDL-C test (LOINC 22748-8, some calculated 39469-2) most
 *   years and a second one some years, follow-ups (Encounter #lipid-follow-up) in some quarters;
 * - opportunistic screening (机会性筛查), planned a calendar year at a time like the 65+ checks:
 *   脑卒中 from 40 (a risk assessment, Observation programme-observation#stroke-risk-assessment
 *   high-risk / medium-risk / low-risk from the eight risk factors, hypertension and diabetes
 *   among them, and Encounter #stroke-intervention for most of the high-risk), 慢阻肺 from 40
 *   (the COPD-SQ score, Observation #copd-sq; spirometry FEV1/FVC, LOINC 19926-5, for most of
 *   those scoring 16 or more) and 结直肠癌 at 50–74 (FIT, LOINC 29771-3, and a risk assessment
 *   #crc-risk-assessment; a colonoscopy, Procedure SNOMED CT 73761001, for some positives),
 *   肺癌 at 50–74 (#lung-cancer-risk-assessment, the LDCT result #ldct-result for half the
 *   high-risk, Encounter #lung-positive-follow-up for most positives) and 上消化道癌 at 45–74
 *   (#upper-gi-risk-assessment, the endoscopy result #upper-gi-endoscopy-result, Encounter
 *   #upper-gi-positive-follow-up), from a stream and ids of their own (enc-c…, obs-c…).
 *
 * All records come from the resident's home CHC over FHIR (the centres' feed), under ids of their
 * own (enc-p…, obs-p…, cond-p…, flag-p…). Encounters carry no Location (no ward co-stays) and
 * the service as their reason (no symptom for the syndromic counts). Records
 * dated before the run's first day are written from the start of that calendar year (children's
 * checks from 18 months before it, the longest window), with the reference data, so the first
 * year's indicators are whole.
 *
 * Memory: per-day task lists of packed numbers (like chronic.ts), one entry per pregnancy and
 * tuberculosis patient in progress; no per-resident array (who has dyslipidaemia is a hash of the
 * seed and the resident, asked again each year). Randomness: one stream ('programmes') and hashes
 * of the seed, so the output is a function of the seed and the arguments. The dyslipidaemia and
 * screening records draw from a stream of their own ('screening') and take ids of their own
 * (enc-s…, obs-s…, cond-s…, proc-s…), so adding them moved none of the other programmes' records.
 */
import { addMonths, civilFromDay, dayFromCivil } from './calendar.js';
import { bloodPressureJson, quantityObservationJson } from './fhir.js';
import { FLAG } from './population.js';
import { hashFloat, Rng } from './rng.js';
import type { Sink } from './sink.js';
import type { World } from './types.js';
import type { ContactFollower } from './truth.js';
import type { Identities } from './identity.js';
import { DEPARTMENT_SYSTEM, ICD10_SYSTEM, LOINC_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import { V3_ACT_CODE } from './uris.js';

/** Encounter.type of a programme service (the product's programme-service code system). */
export const PROGRAMME_SERVICE_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-service`;
/** Observation.code of programme assessments. */
export const PROGRAMME_OBSERVATION_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-observation`;
export const PROGRAMME_FLAG_SYSTEM = `${YIFANG_BASE}/CodeSystem/programme-flag`;
export const MENTAL_CONDITION_SYSTEM = `${YIFANG_BASE}/CodeSystem/mental-condition`;
export const TB_OUTCOME_SYSTEM = `${YIFANG_BASE}/CodeSystem/tb-outcome`;
/** Values of a screening result (risk levels, positive / negative). */
export const SCREENING_RESULT_SYSTEM = `${YIFANG_BASE}/CodeSystem/screening-result`;
const SNOMED_SYSTEM = 'http://snomed.info/sct';

export type ProgrammeService =
  | 'newborn-visit'
  | 'child-checkup'
  | 'antenatal-care'
  | 'postpartum-visit'
  | 'postpartum-42d-check'
  | 'high-risk-case-management'
  | 'elderly-health-check'
  | 'mental-follow-up'
  | 'tb-visit'
  | 'lipid-follow-up'
  | 'stroke-intervention'
  | 'lung-positive-follow-up'
  | 'upper-gi-positive-follow-up';

const SERVICE_NAME: Record<ProgrammeService, string> = {
  'newborn-visit': '新生儿家庭访视',
  'child-checkup': '儿童健康检查',
  'antenatal-care': '产前检查',
  'postpartum-visit': '产后访视',
  'postpartum-42d-check': '产后42天健康检查',
  'high-risk-case-management': '高危孕产妇专案管理',
  'elderly-health-check': '老年人健康体检',
  'mental-follow-up': '严重精神障碍患者随访',
  'tb-visit': '肺结核患者随访',
  'lipid-follow-up': '血脂异常患者随访',
  'stroke-intervention': '脑卒中高危人群干预随访',
  'lung-positive-follow-up': 'LDCT阳性者随访或确诊检查',
  'upper-gi-positive-follow-up': '胃镜阳性者确诊、治疗或随访',
};

/**
 * Rates, with their sources. Defaults chosen to sit near what districts report for the
 * programmes' assessment indicators, below their targets where reports say so.
 */
export const PROGRAMME_RATES = {
  /** Crude birth rate 6.39 ‰ (国家统计局 2023), the same figure as the run's births. */
  birthsPerPersonYear: 6.39 / 1000,
  /**
   * Share of the births that come from pregnancies the centres know of (the rest: mothers of the
   * floating population who register nowhere); a little below 1 so that a pregnancy at term seldom
   * waits for a birth (one not delivered in the district by 42 weeks was delivered elsewhere).
   */
  followedPregnancies: 0.9,
  /** 早孕建册率 about 85–92 % (国家卫生健康统计年鉴 2022: 92.2 %); a few never register. */
  registeredEarly: 0.88,
  registeredLate: 0.1,
  /** 高危孕产妇 (妊娠风险评估 yellow and above) — national reports put it at 20–30 %; "a few" here. */
  highRisk: 0.15,
  antenatalAttendance: 0.93,
  /** 产后访视率 about 90–94 % (国家卫生健康统计年鉴). */
  postpartumVisit: 0.92,
  postpartum42: 0.88,
  /** 新生儿访视率 and 儿童健康管理率 about 94–96 % (国家卫生健康统计年鉴 2022). */
  newbornVisit: 0.95,
  childCheckUnder3: 0.96,
  childCheckPreschool: 0.88,
  /** Checks from 3 months on that include the warning-signs screening (孤独症初筛), and its positive share (assumed). */
  autismScreened: 0.85,
  autismWarningPositive: 0.03,
  /** 老年人健康管理率 about 60–70 % (国家基本公共卫生服务项目 绩效评价): 15 % never come. */
  elderlyNever: 0.15,
  elderlyYearly: 0.82,
  /** 严重精神障碍 registered prevalence about 4.5 ‰ (国家严重精神障碍信息系统 2021: 6.6 million). */
  mentalPrevalence: 0.0045,
  /** 规范管理率 about 90 %: most are seen every quarter, some irregularly. */
  mentalRegular: 0.88,
  mentalQuarterRegular: 0.97,
  mentalQuarterIrregular: 0.6,
  /** 肺结核患者管理率 > 90 %, 规则服药率 about 90 %; 成功治疗率 about 90 % (全国结核病防治规划). */
  tbFirstVisitOnTime: 0.9,
  tbMonthlyVisit: 0.94,
  tbLost: 0.03,
} as const;

/**
 * 血脂异常 and the opportunistic screenings: rates chosen near what surveys and programme reports
 * give, with their sources; the yearly shares are defaults of a district that screens at visits.
 */
export const SCREENING_RATES = {
  /**
   * Adults (35+) registered with dyslipidaemia at a centre: the prevalence is about 35 %
   * (中国居民营养与慢性病状况报告 2020: 35.6 %) but awareness is low; the registered are a few
   * percent, many more among those with hypertension or diabetes (三高共管).
   */
  lipidRegistered: 0.05,
  lipidWithHypertension: 0.2,
  lipidWithDiabetes: 0.2,
  /** An LDL-C test in a year (the guideline: every 6–12 months once at target), and a second one. */
  lipidTestYearly: 0.8,
  lipidSecondTest: 0.35,
  /** A follow-up in a quarter. */
  lipidFollowUpQuarter: 0.55,
  /** Share of the calculated (Friedewald) LDL-C among the tests. */
  lipidCalculated: 0.3,
  /** 脑卒中风险评估 in a year at 40+ (opportunistic), and the high-risk seen for an intervention. */
  strokeScreening: 0.35,
  strokeIntervention: 0.75,
  /** Past stroke or TIA (high-risk whatever the factors); other factors' shares among adults. */
  strokeHistory: 0.02,
  smoking: 0.26,
  overweight: 0.3,
  inactive: 0.3,
  strokeFamily: 0.1,
  atrialFibrillation: 0.02,
  /** COPD-SQ in a year at 40+; positive (≥ 16) about 15 %, more from 60; spirometry for most positives. */
  copdQuestionnaire: 0.3,
  copdPositive: 0.12,
  copdPositiveFrom60: 0.1,
  copdSpirometry: 0.6,
  /** Airflow limitation (FEV1/FVC < 70 %) among positives with spirometry (COPD prevalence 13.7 % at 40+, 中国成人肺部健康研究). */
  copdObstructive: 0.4,
  /** Colorectal initial screening at 50–74 in a year; FIT and the risk questionnaire; positives; colonoscopy compliance about 40 %. */
  crcScreening: 0.25,
  crcFit: 0.9,
  crcQuestionnaire: 0.6,
  crcFitPositive: 0.07,
  crcHighRisk: 0.12,
  crcColonoscopy: 0.45,
  /**
   * Lung cancer (config/programmes/screening-lung.json) at 50–74: a risk assessment in a year; the
   * high-risk (heavy smoking, exposure, family history: about a quarter of those assessed, more of
   * the men); LDCT for about half of them; positive nodules about 20 % of LDCTs (中国肺癌筛查与早诊早治
   * 指南 2021 reports positive rates of 15–25 % under its thresholds); most positives followed up.
   */
  lungAssessment: 0.2,
  lungHighRisk: 0.18,
  lungHighRiskMale: 0.15,
  lungLdct: 0.5,
  lungPositive: 0.2,
  lungFollowUp: 0.7,
  /**
   * Upper-GI cancer (screening-upper-gi.json) at 45–74: a risk assessment in a year, the high-risk
   * (H. pylori, atrophic gastritis, family history, diet), endoscopy for a third of them, lesions
   * needing treatment in a few percent (high-grade dysplasia or cancer), most of them confirmed or followed.
   */
  ugiAssessment: 0.15,
  ugiHighRisk: 0.25,
  ugiEndoscopy: 0.35,
  ugiPositive: 0.04,
  ugiFollowUp: 0.75,
} as const;

/** Kinds of task in the day lists (packed with the person and a small argument). */
const K = {
  child: 0,
  elderly: 1,
  mental: 2,
  tb: 3,
  antenatal: 4,
  postpartum: 5,
  postpartum42: 6,
  highRisk: 7,
  lipid: 8,
  stroke: 9,
  copd: 10,
  crc: 11,
  lung: 12,
  ugi: 13,
} as const;
const pack = (person: number, kind: number, arg: number): number => person * 256 + kind * 16 + arg;

/** The child schedule: target ages (months; 0 = the newborn visit, in days below). */
const CHILD_MONTHS = [0, 1, 3, 6, 8, 12, 18, 24, 30, 36, 48, 60, 72];
/** Antenatal visits after registration, as [gestational day of the window's start, spread in days, chance if optional]. */
const ANTENATAL: readonly (readonly [number, number, number])[] = [
  [112, 28, 1], // 孕16～20周
  [147, 21, 1], // 孕21～24周
  [196, 14, 1], // 孕28～30周
  [224, 14, 0.6], // 孕32～34周 (most women are seen more often than the norm's five)
  [245, 10, 0.6], // 孕35～36周
  [259, 14, 1], // 孕37～40周
];
/** Gestation at delivery, days: about 7 % preterm (< 37 weeks, 国家妇幼卫生监测), most at 37–41 weeks. */
const gestationDays = (u: number, v: number): number =>
  u < 0.07 ? 238 + Math.floor(v * 21) : u < 0.96 ? 259 + Math.floor(v * 28) : 287 + Math.floor(v * 7);
/** The longest gestation drawn (pregnancies in progress at the start began within it). */
const LONGEST_DAYS = 294;

interface Pregnancy {
  lmp: number;
  /** Day of delivery (planned at conception). */
  delivery: number;
  /** Day of registration (建册), -1 = never registered. */
  registered: number;
  highRisk: boolean;
}

interface TbCourse {
  diagnosed: number;
  code: string;
  /** Month after which the patient is lost (0 = not lost). */
  lostAfter: number;
}

/** Residents between two waits for the output while writing history (a power of two minus one). */
const PAUSE_EVERY = 8191;

export class Programmes {
  private readonly rng: Rng;
  /** Dyslipidaemia and the screenings: a stream of their own, so that they move no other record. */
  private readonly screening: Rng;
  private seqS = { enc: 0, obs: 0, cond: 0, proc: 0 };
  /** Lung and upper-GI cancer screening: a stream and ids of their own (enc-c…, obs-c…), added without moving the others. */
  private readonly cancerScreening: Rng;
  private seqC = { enc: 0, obs: 0 };
  /**
   * Pregnancies (who, when, how long) have a stream of their own: the run's births follow them, so
   * a change in how services are drawn must not move a birth (nor, through the births, any other record).
   */
  private readonly conceptions: Rng;
  private readonly due = new Map<number, number[]>();
  private readonly pregnant = new Map<number, Pregnancy>();
  private readonly tb = new Map<number, TbCourse>();
  /** Day of each delivery within the last year (no new pregnancy for a year after one). */
  private readonly delivered = new Map<number, number>();
  /** Mothers by planned day of delivery. */
  private readonly deliveries = new Map<number, number[]>();
  private readonly yearStart: number;
  private seq = { enc: 0, obs: 0, cond: 0, flag: 0 };
  /** The calendar year whose elderly checks have been planned. */
  private plannedYear: number;

  constructor(
    private readonly w: World,
    private readonly identity: Identities,
    private readonly sink: Sink,
    /** Told of every encounter written, as the recorder tells it of its own (contacts' truth). */
    private readonly follower: ContactFollower | null = null,
  ) {
    this.rng = new Rng(w.seed, 'programmes');
    this.conceptions = new Rng(w.seed, 'pregnancies');
    this.screening = new Rng(w.seed, 'screening');
    this.cancerScreening = new Rng(w.seed, 'cancer-screening');
    this.yearStart = dayFromCivil(civilFromDay(w.startDay).y, 1, 1);
    this.plannedYear = civilFromDay(w.startDay).y;
  }

  // ---- the run's hooks ---------------------------------------------------------------------

  /**
   * The programmes' state at the start: children's schedules, this year's elderly checks,
   * registered mental-disorder patients, pregnancies and tuberculosis courses in progress, with
   * their records from the start of the year. Waits on `pause` every few thousand residents.
   */
  async start(pause: () => Promise<void>): Promise<void> {
    const { pop, startDay, seed } = this.w;
    const r = PROGRAMME_RATES;
    const n = pop.n;
    for (let i = 0; i < n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      const birth = pop.birthDay[i]!;
      if (birth > startDay - 7 * 366) this.planChild(i, 0, true);
      if (pop.age(i, startDay) >= 18 && hashFloat(seed, i, 7101) < r.mentalPrevalence) this.registerMental(i);
      if (this.dyslipidaemic(i)) this.registerLipid(i);
    }
    await pause();
    this.planElderlyYear(this.plannedYear, true);
    await pause();
    this.planScreeningYear(this.plannedYear, true);
    await pause();
    // Pregnancies in progress (last period within the 42 weeks before the start).
    const perDay = (n * r.birthsPerPersonYear * r.followedPregnancies) / 365;
    const inProgress = this.conceptions.poisson(perDay * LONGEST_DAYS);
    for (let k = 0; k < inProgress; k++) this.conceive(startDay - 1 - this.conceptions.int(LONGEST_DAYS), true);
    // Tuberculosis courses in treatment (diagnosed within the six months before the start).
    const tbPerDay = (n * TB_PER_100K) / 1e5 / 365;
    const courses = this.rng.poisson(tbPerDay * 182);
    for (let k = 0; k < courses; k++) {
      const person = this.anyone(this.rng, 15, 90, startDay);
      if (person >= 0) this.tuberculosis(person, startDay - 1 - this.rng.int(182), true);
    }
  }

  /** One day of the run: new pregnancies, due services, yearly planning. */
  day(day: number): void {
    const { y } = civilFromDay(day);
    if (y > this.plannedYear) {
      this.plannedYear = y;
      this.planElderlyYear(y, false);
      this.planScreeningYear(y, false);
      for (const [mother, on] of this.delivered) if (on < day - 365) this.delivered.delete(mother);
    }
    const perDay = (this.w.pop.n * PROGRAMME_RATES.birthsPerPersonYear * PROGRAMME_RATES.followedPregnancies) / 365;
    const k = this.conceptions.poisson(perDay);
    for (let j = 0; j < k; j++) this.conceive(day, false);
    const list = this.due.get(day);
    if (list) {
      this.due.delete(day);
      for (const packed of list) if (this.w.deaths.alive(Math.floor(packed / 256), day)) this.run(packed, day);
    }
    // Pregnancies still in progress on the last day are on record as they stand.
    if (day === this.w.endDay - 1) for (const [mother, p] of this.pregnant) this.pregnancyCondition(mother, p, null);
  }

  /**
   * The mothers who give birth on this day after a pregnancy the programmes followed (the run's
   * births take them first; the rest of the births are to mothers of the floating population, in
   * the share 1 − followedPregnancies). Their pregnancies are closed with the delivery.
   */
  deliveriesOn(day: number): number[] {
    const mothers = this.deliveries.get(day) ?? [];
    this.deliveries.delete(day);
    for (const m of mothers) this.deliver(m, day);
    return mothers;
  }

  /** A child born during the run: the newborn visit and the checks after it. */
  newborn(child: number): void {
    this.planChild(child, 0, false);
  }

  /** A tuberculosis case diagnosed (by a hospital) on a day: notified to the home centre the same day. */
  tuberculosis(person: number, day: number, history = false): void {
    const open = this.tb.get(person);
    if (open && day < addMonths(open.diagnosed, 6)) return;
    const r = this.rng;
    const course: TbCourse = {
      diagnosed: day,
      code: r.chance(0.55) ? 'A15.0' : 'A16.0',
      lostAfter: r.chance(PROGRAMME_RATES.tbLost) ? 1 + r.int(4) : 0,
    };
    this.tb.set(person, course);
    const id = 'cond-p' + String(++this.seq.cond).padStart(7, '0');
    // The centre's register: recorded the day of notification (the onset is the hospital's to state).
    this.sink.fhir(
      'Condition',
      id,
      JSON.stringify({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: {
          coding: [{ system: ICD10_SYSTEM, code: course.code, display: TB_NAME[course.code] }],
          text: TB_NAME[course.code],
        },
        subject: { reference: `Patient/${this.w.pop.patientId(person)}` },
        recordedDate: this.w.clock.fhir(day, 600 + r.int(300)),
        recorder: { reference: `Practitioner/${this.gp(person)}` },
      }),
    );
    const first = r.chance(PROGRAMME_RATES.tbFirstVisitOnTime) ? day + 1 + r.int(2) : day + 4 + r.int(6);
    this.at(first, pack(person, K.tb, 0), history);
  }

  // ---- tasks -------------------------------------------------------------------------------

  private at(day: number, packed: number, history: boolean): void {
    if (day >= this.w.endDay) return;
    if (day < this.w.startDay) {
      // Before the run (only while the history is written): written now, with the reference data.
      if (history) this.run(packed, day, true);
      return;
    }
    const list = this.due.get(day);
    if (list) list.push(packed);
    else this.due.set(day, [packed]);
  }

  /** Runs a task: writes its records and schedules what follows. */
  private run(packed: number, day: number, history = false): void {
    const person = Math.floor(packed / 256);
    const kind = Math.floor(packed / 16) % 16;
    const arg = packed % 16;
    switch (kind) {
      case K.child:
        return this.childCheck(person, arg, day, history);
      case K.elderly:
        return this.elderlyCheck(person, day);
      case K.mental:
        return this.mentalFollowUp(person, day, history);
      case K.tb:
        return this.tbTask(person, arg, day, history);
      case K.antenatal:
        return this.antenatal(person, arg, day, history);
      case K.postpartum:
        this.encounter(person, day, 'postpartum-visit', true, 'general-practice');
        return;
      case K.postpartum42:
        this.encounter(person, day, 'postpartum-42d-check', false, 'general-practice');
        return;
      case K.highRisk:
        return this.highRiskVisit(person, day, history);
      case K.lipid:
        return this.lipidTask(person, arg, day);
      case K.stroke:
        return this.strokeTask(person, arg, day, history);
      case K.copd:
        return this.copdTask(person, arg, day, history);
      case K.crc:
        return this.crcTask(person, arg, day, history);
      case K.lung:
        return this.lungTask(person, arg, day, history);
      case K.ugi:
        return this.ugiTask(person, arg, day, history);
    }
  }

  // ---- children 0–6 ------------------------------------------------------------------------

  private childDay(person: number, item: number): number {
    const birth = this.w.pop.birthDay[person]!;
    const months = CHILD_MONTHS[item]!;
    if (months === 0) return birth + 4 + this.rng.int(5);
    if (months === 1) return birth + 28 + this.rng.int(3);
    return addMonths(birth, months) + this.rng.int(months >= 48 ? 60 : 14);
  }

  /** Plans the first check from `item` on that falls on or after the start (earlier ones of the year are history). */
  private planChild(person: number, item: number, history: boolean): void {
    for (let k = item; k < CHILD_MONTHS.length; k++) {
      const day = this.childDay(person, k);
      if (day >= this.w.endDay) return;
      if (!history || day >= this.w.startDay) {
        this.at(day, pack(person, K.child, k), history);
        return;
      }
      // From 18 months back: a check before the year whose window (up to 18 months long) ends in it is on record.
      if (day >= addMonths(this.yearStart, -18)) this.childCheck(person, k, day, true, false);
    }
  }

  private childCheck(person: number, item: number, day: number, history: boolean, next = true): void {
    const r = PROGRAMME_RATES;
    const months = CHILD_MONTHS[item]!;
    const p = months === 0 ? r.newbornVisit : months <= 36 ? r.childCheckUnder3 : r.childCheckPreschool;
    if (this.rng.chance(p)) {
      const home = months === 0;
      const enc = this.encounter(person, day, home ? 'newborn-visit' : 'child-checkup', home, home ? 'general-practice' : 'child-health');
      const ageMonths = (day - this.w.pop.birthDay[person]!) / 30.44;
      const boy = this.w.pop.sex[person] === 1;
      const weight =
        (ageMonths <= 12 ? 3.3 + 0.62 * ageMonths - 0.011 * ageMonths ** 2 : 9.6 + 0.19 * (ageMonths - 12)) * (boy ? 1.03 : 0.97);
      const height =
        (ageMonths <= 12
          ? 50 + 2.2 * ageMonths - 0.035 * ageMonths ** 2
          : 71.4 + 0.78 * (ageMonths - 12) - 0.0035 * (ageMonths - 12) ** 2) * (boy ? 1.01 : 0.99);
      this.quantity(person, enc, day, '29463-7', 'Body weight', weight * (1 + this.rng.normal(0, 0.06)), 'kg', 1);
      this.quantity(
        person,
        enc,
        day,
        ageMonths < 24 ? '8306-3' : '8302-2',
        ageMonths < 24 ? 'Body height --lying' : 'Body height',
        height * (1 + this.rng.normal(0, 0.025)),
        'cm',
        1,
      );
      // 孤独症初筛 (0～6岁儿童孤独症筛查干预服务规范（试行）, 2022): the warning-signs checklist at the
      // 3-month to 6-year checks; by hashes of the seed, so the programmes' stream is not moved.
      if (months >= 3 && hashFloat(this.w.seed, person, 7301, item) < r.autismScreened) {
        const value = hashFloat(this.w.seed, person, 7302, item) < r.autismWarningPositive ? 'positive' : 'negative';
        this.coded(
          person,
          enc,
          day,
          'development-warning-signs',
          '儿童心理行为发育问题预警征象筛查',
          SCREENING_RESULT_SYSTEM,
          value,
          RESULT_NAME[value]!,
        );
      }
    }
    if (next && item + 1 < CHILD_MONTHS.length) this.planChild(person, item + 1, history);
  }

  // ---- 65 and over ---------------------------------------------------------------------------

  /** Plans a year's annual checks of everyone 65 or over in it (from the 65th birthday in its first year). */
  private planElderlyYear(year: number, history: boolean): void {
    const { pop, seed } = this.w;
    const r = PROGRAMME_RATES;
    const y0 = dayFromCivil(year, 1, 1);
    const y1 = dayFromCivil(year + 1, 1, 1);
    for (let i = 0; i < pop.n; i++) {
      const turns65 = addMonths(pop.birthDay[i]!, 65 * 12);
      if (turns65 >= y1) continue;
      if (hashFloat(seed, i, 7201) < r.elderlyNever || hashFloat(seed, i, 7202, year) >= r.elderlyYearly) continue;
      // Most checks are in spring to autumn, the centres' campaign months.
      let day = y0 + 59 + Math.floor(hashFloat(seed, i, 7203, year) * 270);
      if (day < turns65) day = turns65 + 7 + Math.floor(hashFloat(seed, i, 7204, year) * 60);
      day = this.w.cal.nextWorkday(day);
      if (day >= y1) continue;
      if (history && day < this.w.startDay) {
        if (day >= this.yearStart) this.elderlyCheck(i, day);
      } else this.at(day, pack(i, K.elderly, 0), false);
    }
  }

  private elderlyCheck(person: number, day: number): void {
    const { pop, chronic } = this.w;
    const home = pop.careHome[person]! >= 0 || pop.age(person, day) >= 85;
    const enc = this.encounter(person, day, 'elderly-health-check', home && this.rng.chance(0.5), 'general-practice');
    // Blood pressure as the person's own (hypertension: their level under treatment), so the check finds the unaware.
    const htn = pop.hasFlag(person, FLAG.HTN);
    const sbp = Math.round(htn ? chronic.sbp[person]! - chronic.htnSteps[person]! * 6 + this.rng.normal(0, 7) : this.rng.normal(128, 11));
    const dbp = Math.round(
      Math.min(sbp - 25, htn ? chronic.dbp[person]! - chronic.htnSteps[person]! * 3 + this.rng.normal(0, 5) : this.rng.normal(76, 7)),
    );
    const oid = this.obsId();
    this.sink.fhir(
      'Observation',
      oid,
      bloodPressureJson({
        id: oid,
        patientId: pop.patientId(person),
        encounterId: enc,
        sbp,
        dbp,
        time: this.time(day, 5),
        performerId: this.gp(person),
      }),
    );
    const male = pop.sex[person] === 1;
    const height = this.rng.normal(male ? 166 : 154, 6);
    this.quantity(person, enc, day, '8302-2', 'Body height', height, 'cm', 1);
    this.quantity(person, enc, day, '29463-7', 'Body weight', (height / 100) ** 2 * this.rng.normal(24, 3.2), 'kg', 1);
  }

  // ---- severe mental disorders -------------------------------------------------------------

  private registerMental(person: number): void {
    const { pop, startDay, clock } = this.w;
    const r = this.rng;
    const u = r.float();
    const dx = MENTAL_DX.find((d) => u < d.cum)!;
    // Diagnosed 1–20 years ago, not before 15.
    const since = Math.max(pop.birthDay[person]! + 15 * 366, startDay - 365 - r.int(19 * 365));
    const id = 'cond-p' + String(++this.seq.cond).padStart(7, '0');
    this.sink.fhir(
      'Condition',
      id,
      JSON.stringify({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: ICD10_SYSTEM, code: dx.icd, display: dx.name }], text: dx.name },
        subject: { reference: `Patient/${pop.patientId(person)}` },
        onsetDateTime: clock.iso(since),
        recordedDate: clock.iso(since),
        recorder: { reference: `Practitioner/${this.gp(person)}` },
      }),
    );
    // First follow-up in the quarter of the year's start, then one a quarter.
    this.planQuarter(person, this.yearStart, true);
  }

  private quarterStart(day: number): number {
    const { y, m } = civilFromDay(day);
    return dayFromCivil(y, m - ((m - 1) % 3), 1);
  }

  private planQuarter(person: number, qStart: number, history: boolean): void {
    this.at(qStart + 7 + this.rng.int(75), pack(person, K.mental, 0), history);
  }

  private mentalFollowUp(person: number, day: number, history: boolean): void {
    const { seed } = this.w;
    const r = PROGRAMME_RATES;
    const regular = hashFloat(seed, person, 7102) < r.mentalRegular;
    if (this.rng.chance(regular ? r.mentalQuarterRegular : r.mentalQuarterIrregular)) {
      const enc = this.encounter(person, day, 'mental-follow-up', this.rng.chance(0.6), 'general-practice');
      // 病情: most stable; the less regular patients less often.
      const u = this.rng.float() + (regular ? 0 : 0.15);
      const value = u < 0.76 ? 'stable' : u < 0.93 ? 'basically-stable' : 'unstable';
      this.coded(person, enc, day, 'mental-condition', '病情评估', MENTAL_CONDITION_SYSTEM, value, MENTAL_VALUE_NAME[value]!);
    }
    this.planQuarter(person, addMonths(this.quarterStart(day), 3), history);
  }

  // ---- tuberculosis ------------------------------------------------------------------------

  private tbTask(person: number, visit: number, day: number, history: boolean): void {
    const course = this.tb.get(person);
    if (!course) return;
    const r = PROGRAMME_RATES;
    if (visit === 7) {
      const u = this.rng.float();
      const outcome = course.lostAfter
        ? 'lost'
        : u < 0.03
          ? 'failed'
          : u < 0.06
            ? 'died'
            : u < 0.08
              ? 'not-evaluated'
              : course.code === 'A15.0' && u < 0.6
                ? 'cured'
                : 'completed';
      this.coded(person, null, day, 'tb-treatment-outcome', '治疗转归', TB_OUTCOME_SYSTEM, outcome, TB_OUTCOME_NAME[outcome]!);
      this.tb.delete(person);
      return;
    }
    const lost = course.lostAfter > 0 && visit > course.lostAfter;
    if (!lost && (visit === 0 || this.rng.chance(r.tbMonthlyVisit)))
      this.encounter(person, day, 'tb-visit', visit === 0 || this.rng.chance(0.5), 'general-practice');
    if (visit < 6) this.at(addMonths(course.diagnosed, visit) + 6 + this.rng.int(20), pack(person, K.tb, visit + 1), history);
    else this.at(addMonths(course.diagnosed, 6) + this.rng.int(10), pack(person, K.tb, 7), history);
  }

  // ---- pregnancy ---------------------------------------------------------------------------

  /** Someone aged minAge–maxAge (with `woman`: in a household, not pregnant, no delivery in the past year); -1 when none found. */
  private anyone(rng: Rng, minAge: number, maxAge: number, day: number, woman = false): number {
    const { pop } = this.w;
    for (let t = 0; t < 50; t++) {
      const p = rng.int(pop.n);
      const age = pop.age(p, day);
      if (age < minAge || age > maxAge || pop.birthDay[p]! > day) continue;
      if (woman && (pop.sex[p] !== 2 || pop.household[p]! < 0 || this.pregnant.has(p) || (this.delivered.get(p) ?? -1e9) > day - 365))
        continue;
      return p;
    }
    return -1;
  }

  private conceive(lmp: number, history: boolean): void {
    const r = this.conceptions;
    const delivery = lmp + gestationDays(r.float(), r.float());
    // Already delivered before the run: not in progress.
    if (delivery < this.w.startDay) return;
    const mother = this.anyone(r, 20, 41, lmp, true);
    if (mother < 0) return;
    // A woman who dies before her pregnancy and its puerperium are over is not the one followed
    // (maternal deaths are not modelled: 15.1 per 100,000 births in 2023, none in a district's year).
    if (this.w.deaths.deathDay(mother) < delivery + 60) return;
    if (delivery < this.w.endDay) {
      const list = this.deliveries.get(delivery);
      if (list) list.push(mother);
      else this.deliveries.set(delivery, [mother]);
    }
    const u = r.float();
    const weeks =
      u < PROGRAMME_RATES.registeredEarly
        ? 6 + r.int(7)
        : u < PROGRAMME_RATES.registeredEarly + PROGRAMME_RATES.registeredLate
          ? 13 + r.int(8)
          : -1;
    const p: Pregnancy = { lmp, delivery, registered: -1, highRisk: false };
    this.pregnant.set(mother, p);
    if (weeks < 0) return;
    const day = lmp + weeks * 7 + r.int(7);
    if (day >= delivery) return;
    p.registered = day;
    // Registration: the first antenatal visit (建册) and the risk assessment.
    this.at(day, pack(mother, K.antenatal, 15), history);
  }

  private antenatal(mother: number, index: number, day: number, history: boolean): void {
    const p = this.pregnant.get(mother);
    if (!p) return;
    const registration = index === 15;
    if (registration || this.rng.chance(PROGRAMME_RATES.antenatalAttendance)) {
      this.encounter(mother, day, 'antenatal-care', false, 'general-practice');
      if (registration && this.rng.chance(PROGRAMME_RATES.highRisk)) {
        p.highRisk = true;
        this.highRiskFlag(mother, day);
        this.at(day + 7 + this.rng.int(14), pack(mother, K.highRisk, 0), history);
      }
    }
    // The next visit whose window opens after this one.
    const gest = day - p.lmp;
    for (let k = registration ? 0 : index + 1; k < ANTENATAL.length; k++) {
      const [from, spread, chance] = ANTENATAL[k]!;
      if (from + spread <= gest) continue;
      if (chance < 1 && !this.rng.chance(chance)) continue;
      this.at(p.lmp + Math.max(from, gest + 7) + this.rng.int(spread), pack(mother, K.antenatal, k), history);
      return;
    }
  }

  private highRiskVisit(mother: number, day: number, history: boolean): void {
    const p = this.pregnant.get(mother);
    if (!p) return;
    if (this.rng.chance(0.93)) this.encounter(mother, day, 'high-risk-case-management', false, 'general-practice');
    this.at(day + 28 + this.rng.int(7), pack(mother, K.highRisk, 0), history);
  }

  private highRiskFlag(mother: number, day: number): void {
    const id = 'flag-p' + String(++this.seq.flag).padStart(7, '0');
    this.sink.fhir(
      'Flag',
      id,
      JSON.stringify({
        resourceType: 'Flag',
        id,
        status: 'active',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical', display: 'Clinical' }] }],
        code: { coding: [{ system: PROGRAMME_FLAG_SYSTEM, code: 'high-risk-pregnancy', display: '高危孕产妇' }], text: '高危孕产妇' },
        subject: { reference: `Patient/${this.w.pop.patientId(mother)}` },
        period: { start: this.w.clock.iso(day) },
        author: { reference: `Practitioner/${this.gp(mother)}` },
      }),
    );
  }

  /** Closes a pregnancy with its delivery (at the district's maternal and child hospital). */
  private deliver(mother: number, day: number): void {
    const p = this.pregnant.get(mother);
    if (!p) return;
    this.pregnant.delete(mother);
    this.delivered.set(mother, day);
    if (p.registered < 0 || p.registered > day) return;
    this.pregnancyCondition(mother, p, day);
    const r = this.rng;
    if (r.chance(PROGRAMME_RATES.postpartumVisit)) this.at(day + 5 + r.int(7), pack(mother, K.postpartum, 0), false);
    if (r.chance(PROGRAMME_RATES.postpartum42)) this.at(day + 40 + r.int(9), pack(mother, K.postpartum42, 0), false);
  }

  private pregnancyCondition(mother: number, p: Pregnancy, delivered: number | null): void {
    if (p.registered < 0 || p.registered >= this.w.endDay) return;
    const { pop, clock } = this.w;
    const id = 'cond-p' + String(++this.seq.cond).padStart(7, '0');
    const [code, name] = p.highRisk ? ['Z35.9', '高危妊娠监督'] : ['Z34.9', '正常妊娠监督'];
    this.sink.fhir(
      'Condition',
      id,
      JSON.stringify({
        resourceType: 'Condition',
        id,
        clinicalStatus: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: delivered === null ? 'active' : 'resolved' },
          ],
        },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: ICD10_SYSTEM, code, display: name }], text: name },
        subject: { reference: `Patient/${pop.patientId(mother)}` },
        onsetDateTime: clock.iso(p.lmp),
        ...(delivered === null ? {} : { abatementDateTime: clock.iso(delivered) }),
        recordedDate: clock.iso(p.registered),
        recorder: { reference: `Practitioner/${this.gp(mother)}` },
      }),
    );
  }

  // ---- 血脂异常 (三高共管) and opportunistic screening ------------------------------------------

  /** Registered with dyslipidaemia: aged 35 or more at the start, by a hash of the seed (asked again each year, no array). */
  private dyslipidaemic(person: number): boolean {
    const { pop, seed, startDay } = this.w;
    if (pop.age(person, startDay) < 35) return false;
    const r = SCREENING_RATES;
    const p =
      r.lipidRegistered +
      (pop.hasFlag(person, FLAG.HTN) ? r.lipidWithHypertension : 0) +
      (pop.hasFlag(person, FLAG.DM) ? r.lipidWithDiabetes : 0);
    return hashFloat(seed, person, 7401) < p;
  }

  private registerLipid(person: number): void {
    const { pop, startDay, clock } = this.w;
    const r = this.screening;
    const u = r.float();
    const dx = LIPID_DX.find((d) => u < d.cum)!;
    // Diagnosed 1–10 years ago, not before 30.
    const since = Math.max(pop.birthDay[person]! + 30 * 366, startDay - 365 - r.int(9 * 365));
    const id = 'cond-s' + String(++this.seqS.cond).padStart(7, '0');
    this.sink.fhir(
      'Condition',
      id,
      JSON.stringify({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: ICD10_SYSTEM, code: dx.icd, display: dx.name }], text: dx.name },
        subject: { reference: `Patient/${pop.patientId(person)}` },
        onsetDateTime: clock.iso(since),
        recordedDate: clock.iso(since),
        recorder: { reference: `Practitioner/${this.gp(person)}` },
      }),
    );
  }

  /** A task of the screening plan on a day of the year (before the start: written now, from the year's start on). */
  private plan(day: number, packed: number, history: boolean, yearEnd: number): void {
    const d = this.w.cal.nextWorkday(day);
    if (d >= yearEnd) return;
    if (history && d < this.w.startDay) {
      if (d >= this.yearStart) this.run(packed, d, true);
    } else this.at(d, packed, false);
  }

  /** Plans a year's lipid tests and follow-ups of the registered, and the screenings of those of age in it. */
  private planScreeningYear(year: number, history: boolean): void {
    const { pop, seed } = this.w;
    const r = SCREENING_RATES;
    const y0 = dayFromCivil(year, 1, 1);
    const y1 = dayFromCivil(year + 1, 1, 1);
    const within = (from: number, to: number, salt: number, i: number) => from + Math.floor(hashFloat(seed, i, salt, year) * (to - from));
    for (let i = 0; i < pop.n; i++) {
      if (this.dyslipidaemic(i)) {
        for (let k = 0; k < 2; k++)
          if (hashFloat(seed, i, 7411 + k, year) < (k === 0 ? r.lipidTestYearly : r.lipidSecondTest))
            this.plan(within(y0 + k * 182, y0 + 182 + k * 182, 7413 + k, i), pack(i, K.lipid, 0), history, y1);
        for (let q = 0; q < 4; q++)
          if (hashFloat(seed, i, 7420 + q, year) < r.lipidFollowUpQuarter) {
            const qs = dayFromCivil(year, 1 + 3 * q, 1);
            this.plan(within(qs, qs + 85, 7430 + q, i), pack(i, K.lipid, 1), history, y1);
          }
      }
      const birth = pop.birthDay[i]!;
      const turns40 = addMonths(birth, 40 * 12);
      if (turns40 >= y1 - 7) continue;
      // Lung (50–74) and upper-GI (45–74) risk assessments, by hashes of their own.
      const turns75c = addMonths(birth, 75 * 12);
      for (const [minAge, share, salt, kind] of [
        [50, r.lungAssessment, 7341, K.lung],
        [45, r.ugiAssessment, 7351, K.ugi],
      ] as const) {
        const turns = addMonths(birth, minAge * 12);
        if (turns < y1 - 7 && turns75c > y0 + 7 && hashFloat(seed, i, salt, year) < share)
          this.plan(within(Math.max(y0, turns + 1), Math.min(y1, turns75c), salt + 1, i), pack(i, kind, 0), history, y1);
      }
      const from40 = Math.max(y0, turns40 + 1);
      if (hashFloat(seed, i, 7301, year) < r.strokeScreening) this.plan(within(from40, y1, 7302, i), pack(i, K.stroke, 0), history, y1);
      if (hashFloat(seed, i, 7311, year) < r.copdQuestionnaire) this.plan(within(from40, y1, 7312, i), pack(i, K.copd, 0), history, y1);
      const turns50 = addMonths(birth, 50 * 12);
      const turns75 = addMonths(birth, 75 * 12);
      if (turns50 < y1 - 7 && turns75 > y0 + 7 && hashFloat(seed, i, 7321, year) < r.crcScreening)
        this.plan(within(Math.max(y0, turns50 + 1), Math.min(y1, turns75), 7322, i), pack(i, K.crc, 0), history, y1);
    }
  }

  /** 0: an LDL-C test; 1: a follow-up. */
  private lipidTask(person: number, arg: number, day: number): void {
    const r = this.screening;
    if (arg === 1) {
      this.encounter(person, day, 'lipid-follow-up', r.chance(0.2), 'general-practice', r);
      return;
    }
    // The person's own level (treated or not), with the variation of a test.
    const level = 1.9 + 2.2 * hashFloat(this.w.seed, person, 7402) + r.normal(0, 0.35);
    const calculated = r.chance(SCREENING_RATES.lipidCalculated);
    this.screeningObservation(person, day, {
      system: LOINC_SYSTEM,
      code: calculated ? '39469-2' : '22748-8',
      display: calculated
        ? 'Cholesterol in LDL [Moles/volume] in Serum or Plasma by calculation'
        : 'Cholesterol in LDL [Moles/volume] in Serum or Plasma',
      category: 'laboratory',
      quantity: { value: Math.round(Math.min(7.5, Math.max(0.8, level)) * 100) / 100, unit: 'mmol/L' },
    });
  }

  /** 0: the risk assessment (eight factors); 1: the high-risk's intervention visit. */
  private strokeTask(person: number, arg: number, day: number, history: boolean): void {
    const r = this.screening;
    const s = SCREENING_RATES;
    if (arg === 1) {
      this.encounter(person, day, 'stroke-intervention', false, 'general-practice', r);
      return;
    }
    const { pop } = this.w;
    const htn = pop.hasFlag(person, FLAG.HTN);
    const dm = pop.hasFlag(person, FLAG.DM);
    const af = r.chance(s.atrialFibrillation);
    const factors =
      Number(htn) +
      Number(dm) +
      Number(af) +
      Number(this.dyslipidaemic(person)) +
      Number(r.chance(s.smoking)) +
      Number(r.chance(s.overweight)) +
      Number(r.chance(s.inactive)) +
      Number(r.chance(s.strokeFamily));
    const level = factors >= 3 || r.chance(s.strokeHistory) ? 'high-risk' : htn || dm || af ? 'medium-risk' : 'low-risk';
    this.screeningObservation(person, day, {
      system: PROGRAMME_OBSERVATION_SYSTEM,
      code: 'stroke-risk-assessment',
      display: '脑卒中风险评估',
      category: 'survey',
      coded: { system: SCREENING_RESULT_SYSTEM, code: level, display: RESULT_NAME[level]! },
    });
    if (level === 'high-risk' && r.chance(s.strokeIntervention)) this.at(day + 1 + r.int(45), pack(person, K.stroke, 1), history);
  }

  /** 0: the COPD-SQ questionnaire; 1: spirometry. */
  private copdTask(person: number, arg: number, day: number, history: boolean): void {
    const r = this.screening;
    const s = SCREENING_RATES;
    if (arg === 1) {
      const ratio = r.chance(s.copdObstructive) ? 40 + r.float() * 29.9 : 70 + r.float() * 18;
      this.screeningObservation(person, day, {
        system: LOINC_SYSTEM,
        code: '19926-5',
        display: 'FEV1/FVC',
        category: 'exam',
        quantity: { value: Math.round(ratio * 10) / 10, unit: '%' },
      });
      return;
    }
    const positive = r.chance(s.copdPositive + (this.w.pop.age(person, day) >= 60 ? s.copdPositiveFrom60 : 0));
    const score = positive ? 16 + r.int(15) : r.int(16);
    this.screeningObservation(person, day, {
      system: PROGRAMME_OBSERVATION_SYSTEM,
      code: 'copd-sq',
      display: '慢阻肺筛查问卷（COPD-SQ）',
      category: 'survey',
      quantity: { value: score, unit: '{score}' },
    });
    if (positive && r.chance(s.copdSpirometry)) this.at(day + 7 + r.int(40), pack(person, K.copd, 1), history);
  }

  /** 0: the initial screening (FIT and / or the risk questionnaire); 1: the colonoscopy. */
  private crcTask(person: number, arg: number, day: number, history: boolean): void {
    const r = this.screening;
    const s = SCREENING_RATES;
    if (arg === 1) {
      this.colonoscopy(person, day);
      return;
    }
    const fit = r.chance(s.crcFit);
    const questionnaire = !fit || r.chance(s.crcQuestionnaire);
    let positive = false;
    if (fit) {
      const value = r.chance(s.crcFitPositive) ? 'positive' : 'negative';
      positive ||= value === 'positive';
      this.screeningObservation(person, day, {
        system: LOINC_SYSTEM,
        code: '29771-3',
        display: 'Hemoglobin.gastrointestinal [Presence] in Stool by Immunoassay',
        category: 'laboratory',
        coded: { system: SCREENING_RESULT_SYSTEM, code: value, display: RESULT_NAME[value]! },
      });
    }
    if (questionnaire) {
      const value = r.chance(s.crcHighRisk) ? 'high-risk' : 'low-risk';
      positive ||= value === 'high-risk';
      this.screeningObservation(person, day, {
        system: PROGRAMME_OBSERVATION_SYSTEM,
        code: 'crc-risk-assessment',
        display: '结直肠癌危险度评估',
        category: 'survey',
        coded: { system: SCREENING_RESULT_SYSTEM, code: value, display: RESULT_NAME[value]! },
      });
    }
    if (positive && r.chance(s.crcColonoscopy)) this.at(day + 14 + r.int(75), pack(person, K.crc, 1), history);
  }

  /**
   * Lung cancer: 0 the risk assessment; 1 the LDCT (its result an Observation #ldct-result,
   * positive or negative); 2 the positive's follow-up or diagnostic visit.
   */
  private lungTask(person: number, arg: number, day: number, history: boolean): void {
    const r = this.cancerScreening;
    const s = SCREENING_RATES;
    if (arg === 2) {
      this.encounter(person, day, 'lung-positive-follow-up', false, 'general-practice', r);
      return;
    }
    if (arg === 1) {
      const value = r.chance(s.lungPositive) ? 'positive' : 'negative';
      this.cancerObservation(person, day, 'ldct-result', '低剂量螺旋CT肺癌筛查结果', 'exam', value);
      if (value === 'positive' && r.chance(s.lungFollowUp)) this.at(day + 14 + r.int(90), pack(person, K.lung, 2), history);
      return;
    }
    const male = this.w.pop.sex[person] === 1;
    const high = r.chance(s.lungHighRisk + (male ? s.lungHighRiskMale : 0));
    const level = high ? 'high-risk' : 'low-risk';
    this.cancerObservation(person, day, 'lung-cancer-risk-assessment', '肺癌风险评估', 'survey', level);
    if (high && r.chance(s.lungLdct)) this.at(day + 7 + r.int(60), pack(person, K.lung, 1), history);
  }

  /** Upper-GI cancer: 0 the risk assessment; 1 the endoscopy (#upper-gi-endoscopy-result); 2 the positive's confirmation or follow-up. */
  private ugiTask(person: number, arg: number, day: number, history: boolean): void {
    const r = this.cancerScreening;
    const s = SCREENING_RATES;
    if (arg === 2) {
      this.encounter(person, day, 'upper-gi-positive-follow-up', false, 'general-practice', r);
      return;
    }
    if (arg === 1) {
      const value = r.chance(s.ugiPositive) ? 'positive' : 'negative';
      this.cancerObservation(person, day, 'upper-gi-endoscopy-result', '上消化道内镜（胃镜）筛查结果', 'exam', value);
      if (value === 'positive' && r.chance(s.ugiFollowUp)) this.at(day + 7 + r.int(60), pack(person, K.ugi, 2), history);
      return;
    }
    const level = r.chance(s.ugiHighRisk) ? 'high-risk' : 'low-risk';
    this.cancerObservation(person, day, 'upper-gi-risk-assessment', '上消化道癌风险评估', 'survey', level);
    if (level === 'high-risk' && r.chance(s.ugiEndoscopy)) this.at(day + 7 + r.int(75), pack(person, K.ugi, 1), history);
  }

  /** A lung or upper-GI screening result at the home centre: as screeningObservation, from the cancer screenings' stream and ids. */
  private cancerObservation(person: number, day: number, code: string, display: string, category: 'survey' | 'exam', value: string): void {
    const id = 'obs-c' + String(++this.seqC.obs).padStart(8, '0');
    this.sink.fhir(
      'Observation',
      id,
      JSON.stringify({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
        code: { coding: [{ system: PROGRAMME_OBSERVATION_SYSTEM, code, display }], text: display },
        subject: { reference: `Patient/${this.w.pop.patientId(person)}` },
        effectiveDateTime: this.w.clock.fhir(day, 540 + this.cancerScreening.int(420)),
        performer: [{ reference: `Practitioner/${this.gp(person)}` }],
        valueCodeableConcept: {
          coding: [{ system: SCREENING_RESULT_SYSTEM, code: value, display: RESULT_NAME[value]! }],
          text: RESULT_NAME[value]!,
        },
      }),
    );
  }

  /** An Observation of the screenings or the lipid test, at the home centre (no encounter: taken at any visit). */
  private screeningObservation(
    person: number,
    day: number,
    o: {
      system: string;
      code: string;
      display: string;
      category: 'laboratory' | 'survey' | 'exam';
      quantity?: { value: number; unit: string };
      coded?: { system: string; code: string; display: string };
    },
  ): void {
    const id = 'obs-s' + String(++this.seqS.obs).padStart(8, '0');
    this.sink.fhir(
      'Observation',
      id,
      JSON.stringify({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: o.category }] }],
        code: { coding: [{ system: o.system, code: o.code, display: o.display }], text: o.display },
        subject: { reference: `Patient/${this.w.pop.patientId(person)}` },
        effectiveDateTime: this.w.clock.fhir(day, 540 + this.screening.int(420)),
        performer: [{ reference: `Practitioner/${this.gp(person)}` }],
        ...(o.quantity
          ? {
              valueQuantity: { value: o.quantity.value, unit: o.quantity.unit, system: 'http://unitsofmeasure.org', code: o.quantity.unit },
            }
          : {}),
        ...(o.coded ? { valueCodeableConcept: { coding: [o.coded], text: o.coded.display } } : {}),
      }),
    );
  }

  private colonoscopy(person: number, day: number): void {
    const id = 'proc-s' + String(++this.seqS.proc).padStart(7, '0');
    this.sink.fhir(
      'Procedure',
      id,
      JSON.stringify({
        resourceType: 'Procedure',
        id,
        status: 'completed',
        code: { coding: [{ system: SNOMED_SYSTEM, code: '73761001', display: 'Colonoscopy' }], text: '结肠镜检查' },
        subject: { reference: `Patient/${this.w.pop.patientId(person)}` },
        performedDateTime: this.w.clock.fhir(day, 540 + this.screening.int(300)),
        performer: [{ actor: { reference: `Practitioner/${this.gp(person)}` } }],
      }),
    );
  }

  // ---- records -----------------------------------------------------------------------------

  private gp(person: number): string {
    const d = this.w.district;
    const team = d.teams[d.teamOfCommunity[this.w.pop.community[person]!]!]!;
    return d.practitioners[team.members[0]!]!.id;
  }

  private minute = 0;
  private time(day: number, after: number): string {
    return this.w.clock.fhir(day, this.minute + after);
  }

  private obsId(): string {
    return 'obs-p' + String(++this.seq.obs).padStart(8, '0');
  }

  /** A programme service at the resident's home centre (a home visit when `home`); returns the Encounter id. */
  private encounter(
    person: number,
    day: number,
    service: ProgrammeService,
    home: boolean,
    deptCode: string,
    /** The stream to draw from: the screenings' own gives ids of their own (enc-s…). */
    rng: Rng = this.rng,
  ): string {
    const { pop, clock } = this.w;
    const chc = this.identity.homeChc(person);
    const dept = chc.departments.find((d) => d.code === deptCode) ?? chc.departments.find((d) => d.code === 'general-practice')!;
    const id =
      rng === this.rng
        ? 'enc-p' + String(++this.seq.enc).padStart(8, '0')
        : rng === this.cancerScreening
          ? 'enc-c' + String(++this.seqC.enc).padStart(8, '0')
          : 'enc-s' + String(++this.seqS.enc).padStart(8, '0');
    this.minute = (home ? 840 : 495) + rng.int(180);
    const cls = home ? 'HH' : 'AMB';
    const end = day < this.w.endDay;
    let endMin: number;
    this.sink.fhir(
      'Encounter',
      id,
      JSON.stringify({
        resourceType: 'Encounter',
        id,
        status: end ? 'finished' : 'in-progress',
        class: { system: V3_ACT_CODE, code: cls, display: home ? 'home health' : 'ambulatory' },
        type: [
          { coding: [{ system: DEPARTMENT_SYSTEM, code: dept.code, display: dept.name }] },
          { coding: [{ system: PROGRAMME_SERVICE_SYSTEM, code: service, display: SERVICE_NAME[service] }], text: SERVICE_NAME[service] },
        ],
        serviceType: { coding: [{ system: DEPARTMENT_SYSTEM, code: dept.code, display: dept.name }] },
        subject: { reference: `Patient/${pop.patientId(person)}` },
        participant: [
          {
            type: [
              { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'ATND', display: 'attender' }] },
            ],
            individual: { reference: `Practitioner/${this.gp(person)}` },
          },
        ],
        period: { start: clock.fhir(day, this.minute), end: clock.fhir(day, (endMin = this.minute + 15 + rng.int(30))) },
        // The reason is the service itself: no symptom for the syndromic counts to find.
        reasonCode: [{ text: SERVICE_NAME[service] }],
        serviceProvider: { reference: `Organization/${chc.id}` },
      }),
    );
    // The contact truth sees it as it sees every other encounter: a visit at the centre's department
    // puts the people there at the same time in contact.
    this.follower?.visit({ person, cls, dept, day, startMin: this.minute, endDay: day, endMin });
    return id;
  }

  private quantity(
    person: number,
    enc: string,
    day: number,
    loinc: string,
    display: string,
    value: number,
    ucum: string,
    digits: number,
  ): void {
    const oid = this.obsId();
    const f = 10 ** digits;
    this.sink.fhir(
      'Observation',
      oid,
      quantityObservationJson({
        id: oid,
        patientId: this.w.pop.patientId(person),
        encounterId: enc,
        loinc,
        display,
        value: Math.round(value * f) / f,
        unit: ucum,
        ucum,
        time: this.time(day, 5),
        category: 'vital-signs',
        performerId: this.gp(person),
      }),
    );
  }

  private coded(
    person: number,
    enc: string | null,
    day: number,
    code: string,
    name: string,
    valueSystem: string,
    value: string,
    valueName: string,
  ): void {
    const oid = this.obsId();
    this.sink.fhir(
      'Observation',
      oid,
      JSON.stringify({
        resourceType: 'Observation',
        id: oid,
        status: 'final',
        category: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' }] },
        ],
        code: { coding: [{ system: PROGRAMME_OBSERVATION_SYSTEM, code, display: name }], text: name },
        subject: { reference: `Patient/${this.w.pop.patientId(person)}` },
        ...(enc ? { encounter: { reference: `Encounter/${enc}` } } : {}),
        effectiveDateTime: enc ? this.time(day, 10) : this.w.clock.fhir(day, 600),
        performer: [{ reference: `Practitioner/${this.gp(person)}` }],
        valueCodeableConcept: { coding: [{ system: valueSystem, code: value, display: valueName }], text: valueName },
      }),
    );
  }
}

/** Tuberculosis notifications per 100,000 a year (targets.ts, 2024). */
const TB_PER_100K = 569081 / 14082.8;

const TB_NAME: Record<string, string> = { 'A15.0': '肺结核（痰涂片或培养阳性）', 'A16.0': '肺结核（细菌学和组织学检查阴性）' };
const TB_OUTCOME_NAME: Record<string, string> = {
  cured: '治愈',
  completed: '完成治疗',
  failed: '治疗失败',
  died: '死亡',
  lost: '失访',
  'not-evaluated': '未评估',
};
const RESULT_NAME: Record<string, string> = {
  'high-risk': '高危',
  'medium-risk': '中危',
  'low-risk': '低危',
  positive: '阳性',
  negative: '阴性',
};
/** Dyslipidaemia diagnoses by share (ICD-10 E78, approximate mix of a centre's register). */
const LIPID_DX = [
  { icd: 'E78.0', name: '纯高胆固醇血症', cum: 0.35 },
  { icd: 'E78.1', name: '纯高甘油三酯血症', cum: 0.55 },
  { icd: 'E78.2', name: '混合型高脂血症', cum: 0.75 },
  { icd: 'E78.5', name: '高脂血症', cum: 1.01 },
];
const MENTAL_VALUE_NAME: Record<string, string> = { stable: '稳定', 'basically-stable': '基本稳定', unstable: '不稳定' };
/** The six severe mental disorders by share of the registered (national system's mix, approximate). */
const MENTAL_DX = [
  { icd: 'F20.9', name: '精神分裂症', cum: 0.7 },
  { icd: 'F31.9', name: '双相情感障碍', cum: 0.82 },
  { icd: 'F06.8', name: '癫痫所致精神障碍', cum: 0.87 },
  { icd: 'F25.9', name: '分裂情感性障碍', cum: 0.9 },
  { icd: 'F22.0', name: '偏执性精神病', cum: 0.92 },
  { icd: 'F79.1', name: '精神发育迟滞伴发精神障碍', cum: 1.01 },
];
