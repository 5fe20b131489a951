/**
 * Changning's focus groups (长宁区重点人群) as a community health centre records them, in the form
 * the product's programme engine reads (config/programmes/disabled-elderly.json,
 * child-development.json, cancer-patients.json):
 *
 * - 失能失智老年人: residents aged 65 or over with a dementia diagnosis (ICD-10 F03.x, G30.9, F01.9)
 *   or an activities-of-daily-living assessment of 60 or less (Observation
 *   programme-observation#barthel-index, Barthel 指数 0–100), re-assessed most years and visited at
 *   home (Encounter programme-service#home-health-service, some #family-sickbed-visit);
 * - 发育障碍儿童: children diagnosed at 18 months to 5 years with a developmental disorder
 *   (F84.0 孤独症, F80.1 表达性语言障碍, F82 运动功能发育障碍, F88, R62.0 发育迟缓), most referred
 *   to rehabilitation soon after (#rehabilitation-referral) and followed up each half-year while
 *   under 7 (#development-follow-up). No F70–F79 here: that code also enrols in 严重精神障碍, and
 *   the simulated mental-disorder register is programmes.ts's;
 * - 肿瘤患者: registered cancer patients (prevalent at the start, diagnosed up to ten years back,
 *   and new diagnoses during the run at the age's incidence), a first visit after registration,
 *   then a follow-up each half-year (#cancer-follow-up), most with a pain score (Observation
 *   programme-observation#pain-score, NRS 0–10), most with the clinical stage group on the day of
 *   diagnosis (Observation LOINC 21908-9, SNOMED CT Stage 0–4; ids obs-t…). They die at an excess rate by years
 *   since diagnosis (deaths.ts, from `cancerSince`); their services stop at the death.
 *
 * All records come from the resident's home CHC over FHIR, under ids of their own (enc-g…,
 * obs-g…, cond-g…). Encounters carry no Location and the service as their reason, as
 * programmes.ts's do. Registrations (the diagnosis or the first assessment) are written whenever
 * they were made; services dated before the run's first day are written from the start of that
 * calendar year, so the first year's indicators are whole.
 *
 * Who is in each group is a hash of the seed and the person (and the year, for new cancers), so
 * the yearly plans walk the population without keeping a per-resident record; the due services
 * sit in per-day task lists of packed numbers (like programmes.ts). Randomness beyond the hashes:
 * one stream ('focus-groups'), so the output is a function of the seed and the arguments and no
 * other module's records move.
 */
import { addMonths, civilFromDay, dayFromCivil } from './calendar.js';
import { hashFloat, Rng } from './rng.js';
import type { Sink } from './sink.js';
import type { World } from './types.js';
import type { ContactFollower } from './truth.js';
import type { Identities } from './identity.js';
import { DEPARTMENT_SYSTEM, ICD10_SYSTEM, LOINC_SYSTEM } from '../shared/uris.js';
import { PROGRAMME_OBSERVATION_SYSTEM, PROGRAMME_SERVICE_SYSTEM } from './programmes.js';
import { V3_ACT_CODE } from './uris.js';

export type FocusGroupService =
  'home-health-service' | 'family-sickbed-visit' | 'development-follow-up' | 'rehabilitation-referral' | 'cancer-follow-up';

const SERVICE_NAME: Record<FocusGroupService, string> = {
  'home-health-service': '上门健康服务',
  'family-sickbed-visit': '家庭病床查床',
  'development-follow-up': '发育评估与干预指导随访',
  'rehabilitation-referral': '转介干预康复',
  'cancer-follow-up': '肿瘤患者随访',
};

/**
 * Rates, with their sources (approximate; defaults chosen so that the programmes' indicators sit
 * below their targets, as district reports of new services usually do).
 */
export const FOCUS_GROUP_RATES = {
  /**
   * Dementia known to the centre, by age band 65–74, 75–84, 85+: about 6 % of people aged 60+
   * have dementia in China (Jia et al., Lancet Public Health 2020), rising steeply with age; about
   * half are diagnosed.
   */
  dementiaByAge: [0.015, 0.045, 0.1],
  /**
   * Moderate or severe dependence in daily living (Barthel ≤ 60) without a dementia diagnosis, by
   * the same bands: 失能、半失能 about 18 % of people aged 60+ (第四次中国城乡老年人生活状况抽样调查,
   * 2015), most of it mild.
   */
  disabledByAge: [0.03, 0.08, 0.22],
  /** Of those with dementia, the share also assessed with a Barthel score at registration. */
  dementiaAssessedAtEntry: 0.6,
  /** Years back a registration may lie (the service began in 2019). */
  elderlyRegisteredYears: 6,
  /** Re-assessed (失能复评) in a calendar year. */
  reassessedYearly: 0.82,
  /** At least one home service in a calendar year; then 1–4 of them; some are 家庭病床 rounds. */
  homeServiceYearly: 0.72,
  familySickbed: 0.15,

  /**
   * Children under 7 with a diagnosed developmental disorder: 孤独症 about 7 ‰ (0～6岁儿童孤独症筛查
   * 干预服务规范（试行）), global developmental delay and language disorders about as many again.
   */
  developmentalDisorder: 0.018,
  /** Diagnosed between these ages (months). */
  diagnosedFromMonths: 18,
  diagnosedToMonths: 60,
  /** Referred to rehabilitation after the diagnosis (within two months). */
  rehabilitationReferral: 0.85,
  /** A follow-up in a half-year. */
  developmentFollowUp: 0.86,

  /**
   * Registered cancer patients alive, by age band 30–59, 60–74, 75+ (a district's register of
   * survivors diagnosed within ten years; about 2 % of residents in an old urban district).
   */
  cancerPrevalentByAge: [0.006, 0.03, 0.045],
  /**
   * New diagnoses a year by the same bands: China 2022 about 4.82 million new cancers, 342 per
   * 100,000 (国家癌症中心 2024), most after 60.
   */
  cancerIncidenceByAge: [0.0018, 0.008, 0.014],
  cancerRegisteredYears: 10,
  /** A first visit after registration, within about a month. */
  cancerFirstVisit: 0.9,
  /** A follow-up in a half-year, and a pain score with it. */
  cancerFollowUp: 0.8,
  painScored: 0.65,
  /**
   * The stage group recorded at diagnosis (Observation LOINC 21908-9, SNOMED CT stage value), and
   * its mix: 0–II about 45 % of the staged (国家癌症中心 reports early-diagnosis shares of the
   * common cancers of roughly 20–60 % by site; cancer-patients.json early-diagnosis-rate).
   */
  cancerStaged: 0.85,
  cancerStageMix: [
    { stage: '261613009', name: '0期', cum: 0.05 },
    { stage: '258215001', name: 'I期', cum: 0.27 },
    { stage: '258219007', name: 'II期', cum: 0.45 },
    { stage: '258224005', name: 'III期', cum: 0.72 },
    { stage: '258228008', name: 'IV期', cum: 1.01 },
  ],
} as const;

/** Kinds of task in the day lists. */
const K = {
  elderlyEntry: 0,
  assessment: 1,
  homeService: 2,
  childDiagnosis: 3,
  referral: 4,
  childFollowUp: 5,
  cancerDiagnosis: 6,
  cancerVisit: 7,
} as const;
const pack = (person: number, kind: number, arg: number): number => person * 256 + kind * 16 + arg;

/** Hash salts: one per question asked of a person (and year). */
const S = {
  dementia: 7401,
  disabled: 7402,
  elderlySince: 7403,
  elderlyLevel: 7404,
  assessedEntry: 7405,
  dementiaCode: 7406,
  reassessed: 7411,
  reassessDay: 7412,
  homeYear: 7413,
  homeCount: 7414,
  homeDay: 7415,
  child: 7421,
  childAge: 7422,
  childCode: 7423,
  childFollow: 7424,
  childFollowDay: 7425,
  cancerPrevalent: 7431,
  cancerSince: 7432,
  cancerSite: 7433,
  cancerNew: 7434,
  cancerNewDay: 7435,
  cancerFollow: 7436,
  cancerFollowDay: 7437,
  cancerStaged: 7438,
  cancerStage: 7439,
} as const;

const band = <T>(age: number, bounds: readonly number[], values: readonly T[]): T | null => {
  let out: T | null = null;
  bounds.forEach((b, k) => {
    if (age >= b) out = values[k]!;
  });
  return out;
};

const DEMENTIA_DX = [
  { icd: 'F03', name: '未特指的痴呆', cum: 0.45 },
  { icd: 'G30.9', name: '阿尔茨海默病', cum: 0.85 },
  { icd: 'F01.9', name: '血管性痴呆', cum: 1.01 },
];
const CHILD_DX = [
  { icd: 'F84.0', name: '儿童孤独症', cum: 0.32 },
  { icd: 'F80.1', name: '表达性语言障碍', cum: 0.55 },
  { icd: 'R62.0', name: '发育迟缓', cum: 0.85 },
  { icd: 'F82', name: '运动功能的特定性发育障碍', cum: 0.93 },
  { icd: 'F88', name: '其他心理发育障碍', cum: 1.01 },
];
/** Sites by sex (the commonest registered cancers in an urban district, approximate shares). */
const CANCER_SITES: Record<1 | 2, { icd: string; name: string; cum: number }[]> = {
  1: [
    { icd: 'C34.9', name: '肺恶性肿瘤', cum: 0.3 },
    { icd: 'C18.9', name: '结肠恶性肿瘤', cum: 0.43 },
    { icd: 'C16.9', name: '胃恶性肿瘤', cum: 0.56 },
    { icd: 'C61', name: '前列腺恶性肿瘤', cum: 0.7 },
    { icd: 'C22.0', name: '肝细胞癌', cum: 0.81 },
    { icd: 'C73', name: '甲状腺恶性肿瘤', cum: 0.91 },
    { icd: 'C15.9', name: '食管恶性肿瘤', cum: 1.01 },
  ],
  2: [
    { icd: 'C50.9', name: '乳房恶性肿瘤', cum: 0.28 },
    { icd: 'C73', name: '甲状腺恶性肿瘤', cum: 0.46 },
    { icd: 'C34.9', name: '肺恶性肿瘤', cum: 0.64 },
    { icd: 'C18.9', name: '结肠恶性肿瘤', cum: 0.76 },
    { icd: 'C16.9', name: '胃恶性肿瘤', cum: 0.84 },
    { icd: 'C53.9', name: '子宫颈恶性肿瘤', cum: 0.92 },
    { icd: 'C56', name: '卵巢恶性肿瘤', cum: 1.01 },
  ],
};
const SNOMED_SYSTEM = 'http://snomed.info/sct';
const pickCum = <T extends { cum: number }>(list: T[], u: number): T => list.find((x) => u < x.cum)!;

/** Residents between two waits for the output while planning (a power of two minus one). */
const PAUSE_EVERY = 8191;

export class FocusGroups {
  private readonly rng: Rng;
  private readonly due = new Map<number, number[]>();
  private readonly yearStart: number;
  private seq = { enc: 0, obs: 0, cond: 0 };
  /** The calendar year whose services have been planned. */
  private plannedYear: number;

  constructor(
    private readonly w: World,
    private readonly identity: Identities,
    private readonly sink: Sink,
    /** Told of every encounter written, as programmes.ts tells it of its own (contacts' truth). */
    private readonly follower: ContactFollower | null = null,
  ) {
    this.rng = new Rng(w.seed, 'focus-groups');
    this.yearStart = dayFromCivil(civilFromDay(w.startDay).y, 1, 1);
    this.plannedYear = civilFromDay(w.startDay).y;
  }

  // ---- who is in each group (pure functions of the seed and the person) -------------------

  /**
   * A resident of 65+ at the start with dementia or dependence: the day of registration and
   * whether by a dementia diagnosis; null when not in the group.
   */
  elderlyMember(i: number): { since: number; dementia: boolean } | null {
    const { pop, seed, startDay, endDay } = this.w;
    const r = FOCUS_GROUP_RATES;
    const age = pop.age(i, startDay);
    const dementiaP = band(age, [65, 75, 85], r.dementiaByAge);
    if (dementiaP === null || pop.birthDay[i]! > startDay) return null;
    const dementia = hashFloat(seed, i, S.dementia) < dementiaP;
    if (!dementia && hashFloat(seed, i, S.disabled) >= band(age, [65, 75, 85], r.disabledByAge)!) return null;
    // Registered within the last years (not before 65), a few during the run.
    const turned65 = addMonths(pop.birthDay[i]!, 65 * 12);
    const span = r.elderlyRegisteredYears * 365 + (endDay - startDay);
    const since = Math.max(turned65, startDay - r.elderlyRegisteredYears * 365 + Math.floor(hashFloat(seed, i, S.elderlySince) * span));
    return since < endDay ? { since, dementia } : null;
  }

  /** A child under 7 at the start with a developmental disorder: the day of diagnosis; null when not. */
  childMember(i: number): number | null {
    const { pop, seed, startDay, endDay } = this.w;
    const r = FOCUS_GROUP_RATES;
    const birth = pop.birthDay[i]!;
    if (birth > startDay || birth <= addMonths(startDay, -84)) return null;
    if (hashFloat(seed, i, S.child) >= r.developmentalDisorder) return null;
    const months = r.diagnosedFromMonths + Math.floor(hashFloat(seed, i, S.childAge) * (r.diagnosedToMonths - r.diagnosedFromMonths));
    const day = addMonths(birth, months) + Math.floor(hashFloat(seed, i, S.childAge, 1) * 28);
    return day < endDay ? day : null;
  }

  /** A registered cancer patient at the start: the day of diagnosis; null when not. */
  cancerPrevalent(i: number): number | null {
    const { pop, seed, startDay } = this.w;
    const r = FOCUS_GROUP_RATES;
    const age = pop.age(i, startDay);
    const p = band(age, [30, 60, 75], r.cancerPrevalentByAge);
    if (p === null || pop.birthDay[i]! > startDay || hashFloat(seed, i, S.cancerPrevalent) >= p) return null;
    const since = startDay - 1 - Math.floor(hashFloat(seed, i, S.cancerSince) * r.cancerRegisteredYears * 365);
    return Math.max(since, addMonths(pop.birthDay[i]!, 25 * 12));
  }

  /** A new cancer diagnosed in a calendar year of the run (not a registered patient already): its day; null when none. */
  cancerNew(i: number, year: number): number | null {
    const { pop, seed, startDay, endDay } = this.w;
    const y0 = dayFromCivil(year, 1, 1);
    const p = band(pop.age(i, y0), [30, 60, 75], FOCUS_GROUP_RATES.cancerIncidenceByAge);
    if (p === null || pop.birthDay[i]! > y0 || this.cancerPrevalent(i) !== null) return null;
    // A second primary within the run is not modelled: the first year of the run that draws one wins.
    for (let y = civilFromDay(startDay).y; y < year; y++) if (this.cancerDrawn(i, y, p)) return null;
    if (!this.cancerDrawn(i, year, p)) return null;
    const day = Math.max(startDay, y0) + Math.floor(hashFloat(seed, i, S.cancerNewDay, year) * 365);
    return day < endDay && day < dayFromCivil(year + 1, 1, 1) ? day : null;
  }

  /** The day a resident's cancer was registered, if by the end of a calendar year (registered at the start, or new in the run). */
  cancerSince(i: number, year: number): number | null {
    const prevalent = this.cancerPrevalent(i);
    if (prevalent !== null) return prevalent;
    for (let y = civilFromDay(this.w.startDay).y; y <= year; y++) {
      const day = this.cancerNew(i, y);
      if (day !== null) return day;
    }
    return null;
  }

  private cancerDrawn(i: number, year: number, p: number): boolean {
    return hashFloat(this.w.seed, i, S.cancerNew, year) < p;
  }

  // ---- the run's hooks ---------------------------------------------------------------------

  /** Registrations on record at the start, and the first year's services. Waits on `pause` every few thousand residents. */
  async start(pause: () => Promise<void>): Promise<void> {
    const { pop, startDay } = this.w;
    for (let i = 0; i < pop.n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      const elderly = this.elderlyMember(i);
      if (elderly) this.at(elderly.since, pack(i, K.elderlyEntry, 0), true, true);
      const child = this.childMember(i);
      if (child !== null) this.at(child, pack(i, K.childDiagnosis, 0), true, true);
      const cancer = this.cancerPrevalent(i);
      if (cancer !== null && cancer < startDay) this.cancerDiagnosis(i, cancer, true);
    }
    await pause();
    for (let i = 0; i < pop.n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      this.planPerson(i, this.plannedYear, true);
    }
  }

  /** One day of the run: the yearly plan at a new year, then the day's services. */
  day(day: number): void {
    const { y } = civilFromDay(day);
    if (y > this.plannedYear) {
      this.plannedYear = y;
      for (let i = 0; i < this.w.pop.n; i++) this.planPerson(i, y, false);
    }
    const list = this.due.get(day);
    if (list) {
      this.due.delete(day);
      for (const packed of list) if (this.w.deaths.alive(Math.floor(packed / 256), day)) this.run(packed, day, false);
    }
  }

  // ---- planning ----------------------------------------------------------------------------

  /**
   * A calendar year's services of one resident in a group: re-assessments and home services of the
   * elderly, half-yearly follow-ups of children under 7 and of cancer patients, and a new cancer
   * diagnosed in the year.
   */
  private planPerson(i: number, year: number, history: boolean): void {
    const { pop, seed } = this.w;
    const r = FOCUS_GROUP_RATES;
    const y0 = dayFromCivil(year, 1, 1);
    const mid = dayFromCivil(year, 7, 1);
    const y1 = dayFromCivil(year + 1, 1, 1);
    const elderly = this.elderlyMember(i);
    if (elderly && elderly.since < y1) {
      if (hashFloat(seed, i, S.reassessed, year) < r.reassessedYearly) {
        // Most re-assessments a month or more after the registration, none in the registration's month.
        const day = this.workday(Math.max(y0 + Math.floor(hashFloat(seed, i, S.reassessDay, year) * 330), elderly.since + 30));
        if (day < y1) this.at(day, pack(i, K.assessment, 0), history);
      }
      if (hashFloat(seed, i, S.homeYear, year) < r.homeServiceYearly) {
        const n = 1 + Math.floor(hashFloat(seed, i, S.homeCount, year) * 4);
        for (let k = 0; k < n; k++) {
          const day = this.workday(Math.max(y0 + Math.floor(hashFloat(seed, i, S.homeDay, year * 8 + k) * 360), elderly.since + 7));
          if (day < y1) this.at(day, pack(i, K.homeService, 0), history);
        }
      }
    }
    const child = this.childMember(i);
    if (child !== null && child < y1)
      for (const [h, from, to] of [
        [0, y0, mid],
        [1, mid, y1],
      ] as const) {
        if (from >= addMonths(pop.birthDay[i]!, 84)) continue;
        if (hashFloat(seed, i, S.childFollow, year * 2 + h) >= r.developmentFollowUp) continue;
        const day = this.workday(Math.max(from + 10 + Math.floor(hashFloat(seed, i, S.childFollowDay, year * 2 + h) * 160), child + 14));
        if (day < to) this.at(day, pack(i, K.childFollowUp, 0), history);
      }
    const newCancer = this.cancerNew(i, year);
    if (newCancer !== null) this.at(newCancer, pack(i, K.cancerDiagnosis, 0), history);
    const cancer = this.cancerSince(i, year);
    if (cancer !== null && cancer < y1)
      for (const [h, from, to] of [
        [0, y0, mid],
        [1, mid, y1],
      ] as const) {
        if (hashFloat(seed, i, S.cancerFollow, year * 2 + h) >= r.cancerFollowUp) continue;
        // The half-year's follow-up, after the first visit of a new registration.
        const day = this.workday(Math.max(from + 10 + Math.floor(hashFloat(seed, i, S.cancerFollowDay, year * 2 + h) * 160), cancer + 45));
        if (day < to) this.at(day, pack(i, K.cancerVisit, 0), history);
      }
  }

  private workday(day: number): number {
    return this.w.cal.nextWorkday(day);
  }

  // ---- tasks -------------------------------------------------------------------------------

  /**
   * Puts a task on its day; before the run (while the history is written) it is written now,
   * services only from the start of the calendar year, registrations (`always`) whenever made.
   */
  private at(day: number, packed: number, history: boolean, always = false): void {
    if (day >= this.w.endDay) return;
    if (day < this.w.startDay) {
      if (history && (always || day >= this.yearStart)) this.run(packed, day, true);
      return;
    }
    const list = this.due.get(day);
    if (list) list.push(packed);
    else this.due.set(day, [packed]);
  }

  private run(packed: number, day: number, history: boolean): void {
    const person = Math.floor(packed / 256);
    const kind = Math.floor(packed / 16) % 16;
    switch (kind) {
      case K.elderlyEntry:
        return this.elderlyEntry(person, day);
      case K.assessment:
        this.barthel(person, day, this.barthelScore(person, day));
        return;
      case K.homeService: {
        const sickbed = this.rng.chance(FOCUS_GROUP_RATES.familySickbed);
        this.encounter(person, day, sickbed ? 'family-sickbed-visit' : 'home-health-service', true, 'general-practice');
        return;
      }
      case K.childDiagnosis:
        return this.childDiagnosis(person, day, history);
      case K.referral:
        this.encounter(person, day, 'rehabilitation-referral', false, 'child-health');
        return;
      case K.childFollowUp:
        this.encounter(person, day, 'development-follow-up', false, 'child-health');
        return;
      case K.cancerDiagnosis:
        return this.cancerDiagnosis(person, day, history);
      case K.cancerVisit:
        return this.cancerVisit(person, day);
    }
  }

  // ---- 失能失智老年人 ------------------------------------------------------------------------

  private elderlyEntry(person: number, day: number): void {
    const { seed } = this.w;
    const m = this.elderlyMember(person);
    if (!m) return;
    if (m.dementia) {
      const dx = pickCum(DEMENTIA_DX, hashFloat(seed, person, S.dementiaCode));
      this.condition(person, day, dx.icd, dx.name);
      if (hashFloat(seed, person, S.assessedEntry) >= FOCUS_GROUP_RATES.dementiaAssessedAtEntry) return;
    }
    this.barthel(person, day, this.barthelScore(person, day, true));
  }

  /**
   * The person's Barthel score on a day: a level of their own (10–60 at registration), a little
   * worse each year, with the assessor's noise; at registration never above 60 (it is why they
   * were registered). A re-assessment may score above 60 (recovered somewhat): the programme ends their episode that
   * day unless they have a dementia diagnosis (disabled-elderly.json entry.endWhen); a later score of
   * 60 or less registers them again.
   */
  private barthelScore(person: number, day: number, entry = false): number {
    const m = this.elderlyMember(person);
    const level = 10 + 5 * Math.floor(hashFloat(this.w.seed, person, S.elderlyLevel) * 11);
    const years = m ? Math.max(0, (day - m.since) / 365) : 0;
    const noisy = Math.round((level - 3 * years + this.rng.normal(0, 6)) / 5) * 5;
    return Math.max(0, Math.min(entry ? 60 : 100, noisy));
  }

  // ---- 发育障碍儿童 -------------------------------------------------------------------------

  private childDiagnosis(person: number, day: number, history: boolean): void {
    const dx = pickCum(CHILD_DX, hashFloat(this.w.seed, person, S.childCode));
    this.condition(person, day, dx.icd, dx.name);
    if (this.rng.chance(FOCUS_GROUP_RATES.rehabilitationReferral))
      this.at(this.workday(day + 3 + this.rng.int(55)), pack(person, K.referral, 0), history, true);
  }

  // ---- 肿瘤患者 -----------------------------------------------------------------------------

  private cancerDiagnosis(person: number, day: number, history: boolean): void {
    const sex = this.w.pop.sex[person] === 1 ? 1 : 2;
    const site = pickCum(CANCER_SITES[sex], hashFloat(this.w.seed, person, S.cancerSite));
    this.condition(person, day, site.icd, site.name);
    this.cancerStage(person, day);
    // The first visit (核实登记) within about a month of the registration.
    if (this.rng.chance(FOCUS_GROUP_RATES.cancerFirstVisit))
      this.at(this.workday(day + 3 + this.rng.int(35)), pack(person, K.cancerVisit, 0), history);
  }

  /**
   * The clinical stage group on the day of diagnosis, for most patients (by hashes: no draw from
   * the stream, no other record moves; ids obs-t… of their own).
   */
  private cancerStage(person: number, day: number): void {
    const { seed, pop, clock } = this.w;
    const r = FOCUS_GROUP_RATES;
    if (hashFloat(seed, person, S.cancerStaged) >= r.cancerStaged) return;
    const stage = pickCum([...r.cancerStageMix], hashFloat(seed, person, S.cancerStage));
    const id = 'obs-t' + String(++this.stageSeq).padStart(8, '0');
    this.sink.fhir(
      'Observation',
      id,
      JSON.stringify({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'exam', display: 'Exam' }] }],
        code: { coding: [{ system: LOINC_SYSTEM, code: '21908-9', display: 'Stage group.clinical Cancer' }], text: '临床分期' },
        subject: { reference: `Patient/${pop.patientId(person)}` },
        effectiveDateTime: clock.fhir(day, 660),
        performer: [{ reference: `Practitioner/${this.gp(person)}` }],
        valueCodeableConcept: { coding: [{ system: SNOMED_SYSTEM, code: stage.stage, display: stage.name }], text: stage.name },
      }),
    );
  }
  private stageSeq = 0;

  private cancerVisit(person: number, day: number): void {
    const home = this.rng.chance(0.4);
    const enc = this.encounter(person, day, 'cancer-follow-up', home, 'general-practice');
    if (this.rng.chance(FOCUS_GROUP_RATES.painScored)) {
      // NRS 0–10: most without or with mild pain, some moderate, a few severe.
      const u = this.rng.float();
      const score = u < 0.45 ? 0 : u < 0.8 ? 1 + this.rng.int(3) : u < 0.95 ? 4 + this.rng.int(3) : 7 + this.rng.int(4);
      this.score(person, enc, day, 'pain-score', '疼痛评分（NRS）', score);
    }
  }

  // ---- records -----------------------------------------------------------------------------

  private gp(person: number): string {
    const d = this.w.district;
    const team = d.teams[d.teamOfCommunity[this.w.pop.community[person]!]!]!;
    return d.practitioners[team.members[0]!]!.id;
  }

  private condition(person: number, day: number, icd: string, name: string): void {
    const { pop, clock } = this.w;
    const id = 'cond-g' + String(++this.seq.cond).padStart(7, '0');
    this.sink.fhir(
      'Condition',
      id,
      JSON.stringify({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
        code: { coding: [{ system: ICD10_SYSTEM, code: icd, display: name }], text: name },
        subject: { reference: `Patient/${pop.patientId(person)}` },
        onsetDateTime: clock.iso(day),
        recordedDate: clock.iso(day),
        recorder: { reference: `Practitioner/${this.gp(person)}` },
      }),
    );
  }

  /** A Barthel assessment (日常生活活动能力), made at home by the family doctor. */
  private barthel(person: number, day: number, score: number): void {
    this.score(person, null, day, 'barthel-index', 'Barthel指数（日常生活活动能力）', score);
  }

  private score(person: number, enc: string | null, day: number, code: string, name: string, value: number): void {
    const oid = 'obs-g' + String(++this.seq.obs).padStart(8, '0');
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
        effectiveDateTime: this.w.clock.fhir(day, enc ? this.minute + 10 : 600),
        performer: [{ reference: `Practitioner/${this.gp(person)}` }],
        valueQuantity: { value, unit: '分', system: 'http://unitsofmeasure.org', code: '{score}' },
      }),
    );
  }

  private minute = 0;

  /** A service at the resident's home centre (a home visit when `home`); returns the Encounter id. */
  private encounter(person: number, day: number, service: FocusGroupService, home: boolean, deptCode: string): string {
    const { pop, clock } = this.w;
    const chc = this.identity.homeChc(person);
    const dept = chc.departments.find((d) => d.code === deptCode) ?? chc.departments.find((d) => d.code === 'general-practice')!;
    const id = 'enc-g' + String(++this.seq.enc).padStart(8, '0');
    this.minute = (home ? 840 : 495) + this.rng.int(180);
    const cls = home ? 'HH' : 'AMB';
    const endMin = this.minute + 15 + this.rng.int(30);
    this.sink.fhir(
      'Encounter',
      id,
      JSON.stringify({
        resourceType: 'Encounter',
        id,
        status: 'finished',
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
        period: { start: clock.fhir(day, this.minute), end: clock.fhir(day, endMin) },
        // The reason is the service itself: no symptom for the syndromic counts to find.
        reasonCode: [{ text: SERVICE_NAME[service] }],
        serviceProvider: { reference: `Organization/${chc.id}` },
      }),
    );
    this.follower?.visit({ person, cls, dept, day, startMin: this.minute, endDay: day, endMin });
    return id;
  }
}
