/**
 * Immunization schedules as versioned data (config/immunization/) and the pure function
 * `vaccinesDue`: the national childhood schedule with catch-up for missed doses, and adult
 * vaccines (免疫处方) by age and condition. rules.md §4.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { loadRuleFile, repoConfigDir, RuleFileError } from '../chronic/rule-file.js';
import { addDays, ageOn } from '../../shared/dates.js';

export const ChildScheduleSchema = z
  .object({
    version: z.string(),
    title: z.string(),
    source: z.string(),
    effectiveFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    overdueAfterDays: z.number().int().min(0),
    upcomingWithinDays: z.number().int().min(0),
    vaccines: z.record(
      z.object({ name: z.string(), catchUpUntilMonths: z.number().int().min(0), alsoCounts: z.array(z.string()).optional() }).strict(),
    ),
    doses: z.array(
      z
        .object({
          vaccine: z.string(),
          dose: z.number().int().positive(),
          ageMonths: z.number().int().min(0),
          minIntervalDays: z.number().int().min(0).optional(),
        })
        .strict(),
    ),
  })
  .strict();
export type ChildSchedule = z.infer<typeof ChildScheduleSchema>;

export const AdultScheduleSchema = z
  .object({
    version: z.string(),
    title: z.string(),
    source: z.string(),
    effectiveFrom: z.string(),
    influenza: z
      .object({
        vaccine: z.string(),
        name: z.string(),
        seasonStartMonth: z.number().int().min(1).max(12),
        recommendUntilMonth: z.number().int().min(1).max(12),
        minAge: z.number().int().min(0),
        childMinMonths: z.number().int().min(0),
        childMaxMonths: z.number().int().min(0),
        conditionIcdPrefixes: z.array(z.string()),
      })
      .strict(),
    pneumococcal: z
      .object({
        vaccine: z.string(),
        name: z.string(),
        minAge: z.number().int().min(0),
        highRiskMinAge: z.number().int().min(0),
        highRiskIcdPrefixes: z.array(z.string()),
      })
      .strict(),
  })
  .strict();
export type AdultSchedule = z.infer<typeof AdultScheduleSchema>;

export interface Schedules {
  child: ChildSchedule[];
  adult: AdultSchedule;
}

function checkChild(file: string) {
  return (s: ChildSchedule, lineOf: (p: (string | number)[]) => number) => {
    const seen = new Set<string>();
    s.doses.forEach((d, k) => {
      if (!s.vaccines[d.vaccine]) throw new RuleFileError(file, lineOf(['doses', k, 'vaccine']), `unknown vaccine "${d.vaccine}"`);
      const key = `${d.vaccine}#${d.dose}`;
      if (seen.has(key)) throw new RuleFileError(file, lineOf(['doses', k]), `dose ${d.dose} of ${d.vaccine} is listed twice`);
      seen.add(key);
    });
  };
}

export function loadSchedules(dir = path.join(repoConfigDir, 'immunization')): Schedules {
  const files = fs.readdirSync(dir);
  const child = files
    .filter((f) => /^nip-.*\.json$/.test(f))
    .map((f) => loadRuleFile(path.join(dir, f), ChildScheduleSchema, checkChild(f)))
    .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
  const adultFile = files
    .filter((f) => /^adult-.*\.json$/.test(f))
    .sort()
    .at(-1);
  if (!child.length || !adultFile) throw new Error(`${dir}: needs nip-*.json and adult-*.json`);
  return { child, adult: loadRuleFile(path.join(dir, adultFile), AdultScheduleSchema) };
}

export function childScheduleFor(s: Schedules, asOf: string): ChildSchedule {
  let chosen = s.child[0]!;
  for (const c of s.child) if (c.effectiveFrom <= asOf) chosen = c;
  return chosen;
}

export interface ResidentFacts {
  birthDate: string;
  /** Active ICD-10 codes. */
  conditions: string[];
  pregnant?: boolean;
  careHome?: boolean;
}

export interface GivenDose {
  vaccine: string;
  date: string;
}

export interface VaccineDue {
  vaccine: string;
  name: string;
  dose: number;
  /** Earliest date the dose may be given. */
  dueDate: string;
  status: 'due' | 'overdue' | 'upcoming';
  reason: string;
  /** The reason as a message key with parameters, for screens in other languages (web/src/i18n). */
  reasonI18n: { key: string; params: Record<string, string | number> };
  schedule: string;
}

export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate();
  return `${ny}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function monthsOld(birthDate: string, asOf: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = asOf.slice(0, 10).split('-').map(Number) as [number, number, number];
  return (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
}

const hasPrefix = (codes: string[], prefixes: string[]) => codes.some((c) => prefixes.some((p) => c.startsWith(p)));

/**
 * Vaccines due or overdue on `asOf` (and upcoming within the schedule's window). Children:
 * the next missing dose of each vaccine, no earlier than its age nor the minimum interval after
 * the previous dose; missed doses stay due (catch-up) until the vaccine's catch-up age limit.
 * Adults: influenza once per season for the eligible, PPSV23 once for the elderly and high-risk.
 */
export function vaccinesDue(resident: ResidentFacts, immunizations: GivenDose[], schedules: Schedules, asOf: string): VaccineDue[] {
  const out: VaccineDue[] = [];
  const given = immunizations.filter((i) => i.date.slice(0, 10) <= asOf).sort((a, b) => a.date.localeCompare(b.date));
  const ageMonths = monthsOld(resident.birthDate, asOf);
  if (ageMonths < 0) return out;
  const child = childScheduleFor(schedules, asOf);
  if (ageMonths < 18 * 12) {
    const byVaccine = new Map<string, ChildSchedule['doses']>();
    for (const d of child.doses)
      byVaccine.set(
        d.vaccine,
        [...(byVaccine.get(d.vaccine) ?? []), d].sort((a, b) => a.dose - b.dose),
      );
    for (const [vaccine, doses] of byVaccine) {
      const info = child.vaccines[vaccine]!;
      const counted = new Set([vaccine, ...(info.alsoCounts ?? [])]);
      const mine = given.filter((g) => counted.has(g.vaccine));
      const next = doses[mine.length];
      if (!next) continue;
      if (ageMonths > info.catchUpUntilMonths) continue;
      const byAge = addMonths(resident.birthDate, next.ageMonths);
      const last = mine.at(-1);
      const byInterval = last && next.minIntervalDays ? addDays(last.date, next.minIntervalDays) : byAge;
      const dueDate = byInterval > byAge ? byInterval : byAge;
      const overdueFrom = addDays(byAge, child.overdueAfterDays);
      let status: VaccineDue['status'];
      if (dueDate > asOf) {
        if (dueDate > addDays(asOf, child.upcomingWithinDays)) continue;
        status = 'upcoming';
      } else status = asOf > overdueFrom ? 'overdue' : 'due';
      const reason =
        status === 'overdue'
          ? `补种：应于 ${next.ageMonths} 月龄（${byAge}）接种第 ${next.dose} 剂`
          : `${next.ageMonths} 月龄第 ${next.dose} 剂`;
      const reasonI18n = {
        key: status === 'overdue' ? 'imm.reason.catchUp' : 'imm.reason.scheduled',
        params: { months: next.ageMonths, date: byAge, dose: next.dose },
      };
      out.push({ vaccine, name: info.name, dose: next.dose, dueDate, status, reason, reasonI18n, schedule: child.version });
    }
  }
  const a = schedules.adult;
  const age = ageOn(resident.birthDate, asOf);
  const month = Number(asOf.slice(5, 7));
  const flu = a.influenza;
  const inSeason =
    flu.seasonStartMonth <= flu.recommendUntilMonth
      ? month >= flu.seasonStartMonth && month <= flu.recommendUntilMonth
      : month >= flu.seasonStartMonth || month <= flu.recommendUntilMonth;
  if (inSeason) {
    const group: [string, string] | undefined =
      age >= flu.minAge
        ? ['elderly', `${flu.minAge} 岁及以上`]
        : ageMonths >= flu.childMinMonths && ageMonths <= flu.childMaxMonths
          ? ['child', `${flu.childMinMonths}–${flu.childMaxMonths} 月龄儿童`]
          : hasPrefix(resident.conditions, flu.conditionIcdPrefixes)
            ? ['chronic', '慢性病患者']
            : resident.pregnant
              ? ['pregnant', '孕妇']
              : resident.careHome
                ? ['careHome', '养老机构住养人员']
                : undefined;
    if (group) {
      const y = Number(asOf.slice(0, 4));
      const seasonStart = `${month >= flu.seasonStartMonth ? y : y - 1}-${String(flu.seasonStartMonth).padStart(2, '0')}-01`;
      if (!given.some((g) => g.vaccine === flu.vaccine && g.date.slice(0, 10) >= seasonStart))
        out.push({
          vaccine: flu.vaccine,
          name: flu.name,
          dose: 1,
          dueDate: seasonStart,
          status: 'due',
          reason: `本流行季流感疫苗（${group[1]}）`,
          reasonI18n: { key: `imm.reason.flu.${group[0]}`, params: { age: flu.minAge, from: flu.childMinMonths, to: flu.childMaxMonths } },
          schedule: a.version,
        });
    }
  }
  const pn = a.pneumococcal;
  const pnWhy =
    age >= pn.minAge
      ? `${pn.minAge} 岁及以上老年人`
      : age >= pn.highRiskMinAge && hasPrefix(resident.conditions, pn.highRiskIcdPrefixes)
        ? '高危成人'
        : undefined;
  if (pnWhy && !given.some((g) => g.vaccine === pn.vaccine)) {
    const from = age >= pn.minAge ? addMonths(resident.birthDate, pn.minAge * 12) : asOf;
    const reasonI18n = { key: age >= pn.minAge ? 'imm.reason.ppsv.elderly' : 'imm.reason.ppsv.highRisk', params: { age: pn.minAge } };
    out.push({
      vaccine: pn.vaccine,
      name: pn.name,
      dose: 1,
      dueDate: from,
      status: 'due',
      reason: `23价肺炎疫苗一剂（${pnWhy}）`,
      reasonI18n,
      schedule: a.version,
    });
  }
  return out;
}

/** A childhood schedule by its version (e.g. 'NIP-2021'), whatever the date: the simulator pins one. */
export function childScheduleVersion(s: Schedules, version: string): ChildSchedule {
  const found = s.child.find((c) => c.version === version);
  if (!found) throw new Error(`no childhood immunization schedule '${version}' (have ${s.child.map((c) => c.version).join(', ')})`);
  return found;
}
