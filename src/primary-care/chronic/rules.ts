/**
 * Hypertension and type 2 diabetes rules (rules.md §3) as data plus pure functions:
 * targets by age and comorbidity, reading plausibility, and the follow-up decision after each
 * visit (`nextFollowUp`). The rule set is a versioned file under config/chronic/; the version in
 * force on the visit date applies, because the 2025 guideline changed the targets. Pure: the
 * files are read by rule-sets.ts.
 */
import { z } from 'zod';
import { addDays, daysBetween } from '../../shared/dates.js';

const range = z.tuple([z.number(), z.number()]);

export const ChronicRuleSetSchema = z
  .object({
    version: z.string(),
    title: z.string(),
    source: z.string(),
    effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    registry: z
      .object({
        hypertensionMinAge: z.number().int().min(0),
        hypertensionIcdPrefixes: z.array(z.string()).min(1),
        diabetesIcdPrefixes: z.array(z.string()).min(1),
        diabetesAtcPrefixes: z.array(z.string()),
        antihypertensiveAtcPrefixes: z.array(z.string()),
        lostToFollowUpAfterDays: z.number().int().positive(),
      })
      .strict(),
    followUp: z
      .object({
        routineIntervalDays: z.number().int().positive(),
        uncontrolledWithinDays: z.number().int().positive(),
        referralFollowUpWithinDays: z.number().int().positive(),
        onTimeToleranceDays: z.number().int().min(0),
        minFollowUpsPerYear: z.number().int().positive(),
        modes: z.array(z.enum(['face-to-face', 'phone', 'home'])),
      })
      .strict(),
    emergency: z
      .object({
        sbpAtLeast: z.number(),
        dbpAtLeast: z.number(),
        glucoseAtLeast: z.number(),
        glucoseAtMost: z.number(),
        symptoms: z.array(z.string()),
      })
      .strict(),
    comorbidities: z.array(z.object({ code: z.string(), icdPrefixes: z.array(z.string()).min(1) }).strict()),
    hypertensionTargets: z
      .array(
        z
          .object({
            group: z.string().optional(),
            minAge: z.number().int().min(0),
            maxAge: z.number().int().min(0),
            sbpBelow: z.number().positive(),
            dbpBelow: z.number().positive(),
            when: z.array(z.string()).optional(),
          })
          .strict(),
      )
      .min(1),
    diabetesTargets: z.object({ fpgAtLeast: z.number(), fpgBelow: z.number(), hba1cBelow: z.number() }).strict(),
    screening: z
      .object({
        bpScreeningMinAge: z.number().int(),
        suspectedHypertensionReadings: z.number().int().positive(),
        suspectedSbpAtLeast: z.number(),
        suspectedDbpAtLeast: z.number(),
        suspectedFpgAtLeast: z.number(),
        suspectedHba1cAtLeast: z.number(),
      })
      .strict(),
    plausible: z.object({ sbp: range, dbp: range, glucose: range, hba1c: range }).strict(),
  })
  .strict();

export type ChronicRuleSet = z.infer<typeof ChronicRuleSetSchema>;

/** The rule set in force on a date (YYYY-MM-DD): the latest effectiveFrom on or before it. */
export function ruleSetFor(sets: ChronicRuleSet[], date: string): ChronicRuleSet {
  let chosen = sets[0]!;
  for (const s of sets) if (s.effectiveFrom <= date) chosen = s;
  return chosen;
}

export type Disease = 'htn' | 'dm';

export interface Readings {
  sbp?: number;
  dbp?: number;
  /** Fasting plasma glucose, mmol/L. */
  fpg?: number;
  /** Random glucose, mmol/L (emergency check only). */
  glucose?: number;
  hba1c?: number;
}

/** Reasons a reading is physiologically implausible (empty = plausible). */
export function implausibleReadings(r: Readings, rules: ChronicRuleSet): string[] {
  const out: string[] = [];
  const check = (name: string, v: number | undefined, [lo, hi]: [number, number], unit: string) => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < lo || v > hi) out.push(`${name} ${v} ${unit} is outside the physiological range ${lo}–${hi} ${unit}`);
  };
  check('systolic', r.sbp, rules.plausible.sbp, 'mmHg');
  check('diastolic', r.dbp, rules.plausible.dbp, 'mmHg');
  check('fasting glucose', r.fpg, rules.plausible.glucose, 'mmol/L');
  check('glucose', r.glucose, rules.plausible.glucose, 'mmol/L');
  check('HbA1c', r.hba1c, rules.plausible.hba1c, '%');
  if (r.sbp !== undefined && r.dbp !== undefined && out.length === 0 && r.dbp >= r.sbp)
    out.push(`diastolic ${r.dbp} mmHg is not below systolic ${r.sbp} mmHg`);
  return out;
}

/** Comorbidity codes (diabetes, chd, ...) present among ICD-10 codes. */
export function comorbiditiesOf(icdCodes: string[], rules: ChronicRuleSet): string[] {
  return rules.comorbidities.filter((c) => icdCodes.some((icd) => c.icdPrefixes.some((p) => icd.startsWith(p)))).map((c) => c.code);
}

/** Blood-pressure target for an age and comorbidities: the strictest band that applies. */
export function bpTarget(age: number, comorbidities: string[], rules: ChronicRuleSet): { sbpBelow: number; dbpBelow: number } {
  let best: { sbpBelow: number; dbpBelow: number } | undefined;
  for (const t of rules.hypertensionTargets) {
    if (age < t.minAge || age > t.maxAge) continue;
    if (t.when && !t.when.some((w) => comorbidities.includes(w))) continue;
    if (!best || t.sbpBelow < best.sbpBelow || (t.sbpBelow === best.sbpBelow && t.dbpBelow < best.dbpBelow))
      best = { sbpBelow: t.sbpBelow, dbpBelow: t.dbpBelow };
  }
  return best ?? { sbpBelow: 140, dbpBelow: 90 };
}

export interface PatientFacts {
  /** Age in whole years on the visit date. */
  age: number;
  comorbidities: string[];
}

/** Is the disease at target with these readings? undefined when the needed reading is missing. */
export function atTarget(disease: Disease, readings: Readings, patient: PatientFacts, rules: ChronicRuleSet): boolean | undefined {
  if (disease === 'htn') {
    if (readings.sbp === undefined || readings.dbp === undefined) return undefined;
    const t = bpTarget(patient.age, patient.comorbidities, rules);
    return readings.sbp < t.sbpBelow && readings.dbp < t.dbpBelow;
  }
  const d = rules.diabetesTargets;
  if (readings.fpg !== undefined) return readings.fpg >= d.fpgAtLeast && readings.fpg < d.fpgBelow;
  if (readings.hba1c !== undefined) return readings.hba1c < d.hba1cBelow;
  return undefined;
}

export interface FollowUpVisit {
  date: string;
  disease: Disease;
  readings: Readings;
  symptoms?: string[];
  adverseReaction?: 'none' | 'manageable' | 'unmanageable';
  newComplication?: boolean;
}

export interface PastVisit {
  date: string;
  controlled: boolean | undefined;
  decision: FollowUpDecision;
}

export type FollowUpDecision = 'routine' | 'adjust' | 'refer' | 'urgent-referral';

export interface FollowUpPlan {
  decision: FollowUpDecision;
  controlled: boolean | undefined;
  /** Next follow-up due date (YYYY-MM-DD); today for an urgent referral. */
  dueDate: string;
  reasons: string[];
}

/**
 * The follow-up decision of 国家基本公共卫生服务规范 第三版 (rules.md §3) after one visit:
 * emergency readings or symptoms → urgent referral now; controlled → routine interval; first
 * uncontrolled reading or an adverse reaction → adjust and return within 2 weeks; the second
 * uncontrolled visit in a row, an unmanageable reaction or a new complication → refer up and
 * follow the referral up within 2 weeks. A visit without the needed reading keeps the previous
 * control state and the routine interval.
 */
export function nextFollowUp(history: PastVisit[], visit: FollowUpVisit, patient: PatientFacts, rules: ChronicRuleSet): FollowUpPlan {
  const r = visit.readings;
  const e = rules.emergency;
  const reasons: string[] = [];
  if (r.sbp !== undefined && r.sbp >= e.sbpAtLeast) reasons.push(`收缩压 ${r.sbp} ≥ ${e.sbpAtLeast} mmHg`);
  if (r.dbp !== undefined && r.dbp >= e.dbpAtLeast) reasons.push(`舒张压 ${r.dbp} ≥ ${e.dbpAtLeast} mmHg`);
  for (const [name, g] of [
    ['空腹血糖', r.fpg],
    ['血糖', r.glucose],
  ] as const) {
    if (g === undefined) continue;
    if (g >= e.glucoseAtLeast) reasons.push(`${name} ${g} ≥ ${e.glucoseAtLeast} mmol/L`);
    if (g <= e.glucoseAtMost) reasons.push(`${name} ${g} ≤ ${e.glucoseAtMost} mmol/L`);
  }
  for (const s of visit.symptoms ?? []) if (e.symptoms.includes(s)) reasons.push(`危急症状：${s}`);
  const controlled = atTarget(visit.disease, r, patient, rules);
  if (reasons.length) return { decision: 'urgent-referral', controlled, dueDate: addDays(visit.date, 0), reasons };

  const f = rules.followUp;
  const previous = history.at(-1);
  if (visit.adverseReaction === 'unmanageable') reasons.push('不可耐受的药物不良反应');
  if (visit.newComplication) reasons.push('新发或加重的并发症');
  if (controlled === false && previous?.controlled === false) reasons.push('连续两次随访控制不满意');
  if (reasons.length) return { decision: 'refer', controlled, dueDate: addDays(visit.date, f.referralFollowUpWithinDays), reasons };

  if (controlled === false) reasons.push('控制不满意（首次）');
  if (visit.adverseReaction === 'manageable') reasons.push('药物不良反应');
  if (reasons.length) return { decision: 'adjust', controlled, dueDate: addDays(visit.date, f.uncontrolledWithinDays), reasons };
  return {
    decision: 'routine',
    controlled,
    dueDate: addDays(visit.date, f.routineIntervalDays),
    reasons: controlled === undefined ? ['本次未测量控制指标'] : [],
  };
}

/** A visit is on time when it happens no later than the previous plan's due date plus the tolerance. */
export function onTime(previousDue: string | undefined, visitDate: string, rules: ChronicRuleSet): boolean {
  return previousDue === undefined || daysBetween(previousDue, visitDate) <= rules.followUp.onTimeToleranceDays;
}
