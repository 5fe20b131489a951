/**
 * Reads a finished output directory back and measures what the statistics test checks:
 * hypertension and diabetes prevalence among adults, childhood immunization coverage at 24
 * months, ILI% at the hospitals by season, and the school sick-absence rate. It reads the
 * files the way a consumer would (FHIR NDJSON, HL7 v2, CSV), plus truth.json for who truly
 * has a chronic disease (undiagnosed people have no record anywhere else).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addMonths, civilFromDay, parseIsoDate } from './calendar.js';
import { VACCINE_SYSTEM } from '../shared/uris.js';

/** Lines split on \n only (HL7 segments inside a line are separated by \r). */
async function* lines(path: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p) yield p;
  }
  if (rest) yield rest;
}

/** ILI: fever ≥ 38 °C with cough or sore throat (rules.md §2); "无咳嗽" does not count. */
export function isIli(temperature: number | null, complaint: string): boolean {
  if (temperature === null || temperature < 38) return false;
  return /(?<!无|否认)(咳嗽|咽痛)/.test(complaint);
}

export interface OutputStats {
  adults: number;
  hypertensionPrevalence: number;
  diabetesPrevalence: number;
  hypertensionDiagnosed: number;
  /** Share of the cohort with the dose by 24 months, per vaccine dose. */
  coverage24m: { cohort: number; HepB3: number; DTaP3: number; MMR1: number };
  /** ILI% at the hospitals by month (YYYY-MM) and by season, outside injected outbreaks. */
  iliByMonth: Record<string, { visits: number; ili: number }>;
  iliWinter: number | null;
  iliSummer: number | null;
  /** Sick absences / pupil-days outside outbreaks. */
  absenteeismSick: number;
  absenteeismLeave: number;
}

export async function outputStats(dir: string): Promise<OutputStats> {
  const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8'));
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const startDay = parseIsoDate(manifest.args.start)!;
  const endDay = startDay + manifest.args.days;
  const adultCutoff = addMonths(startDay, -18 * 12);

  // Residents: canonical Patient records (pat-NNNNNNN, without -vN).
  const birth = new Map<string, number>();
  let adults = 0;
  for await (const line of lines(join(dir, 'fhir/Patient.ndjson'))) {
    const p = JSON.parse(line) as { id: string; birthDate: string };
    if (p.id.includes('-v')) continue;
    const b = parseIsoDate(p.birthDate)!;
    birth.set(p.id, b);
    if (b <= adultCutoff) adults++;
  }
  const adultSet = (ids: string[]): number => ids.filter((id) => (birth.get(id) ?? Infinity) <= adultCutoff).length;
  let htnDx = 0;
  for await (const line of lines(join(dir, 'fhir/Condition.ndjson'))) {
    if (line.includes('"problem-list-item"') && line.includes('"I10"')) htnDx++;
  }

  // Immunizations: FHIR Immunization and HL7 VXU.
  const doses = new Map<string, Map<string, number>>(); // patient → "HepB#3" → day
  const give = (pid: string, key: string, day: number): void => {
    let m = doses.get(pid);
    if (!m) doses.set(pid, (m = new Map()));
    const prev = m.get(key);
    if (prev === undefined || day < prev) m.set(key, day);
  };
  for await (const line of lines(join(dir, 'fhir/Immunization.ndjson'))) {
    const r = JSON.parse(line) as {
      patient: { reference: string };
      occurrenceDateTime: string;
      vaccineCode: { coding: { system: string; code: string }[] };
      protocolApplied?: { doseNumberPositiveInt?: number }[];
    };
    const code = r.vaccineCode.coding.find((c) => c.system === VACCINE_SYSTEM)?.code;
    const dose = r.protocolApplied?.[0]?.doseNumberPositiveInt;
    if (code && dose) give(r.patient.reference.slice(8), `${code}#${dose}`, parseIsoDate(r.occurrenceDateTime.slice(0, 10))!);
  }

  // Hospital visits: HL7 ADT (general and MCH hospitals) and FHIR encounters at the TCM hospital,
  // leaving out the encounters of outbreak cases (the background seasonal curve is the target).
  const outbreakEncounters = new Set<string>();
  for (const o of truth.outbreaks as { cases: { encounterIds: string[] }[] }[])
    for (const c of o.cases) for (const e of c.encounterIds) outbreakEncounters.add(e);
  const iliByMonth: Record<string, { visits: number; ili: number }> = {};
  const count = (day: number, ili: boolean): void => {
    const { y, m } = civilFromDay(day);
    const k = `${y}-${String(m).padStart(2, '0')}`;
    const e = (iliByMonth[k] ??= { visits: 0, ili: 0 });
    e.visits++;
    if (ili) e.ili++;
  };
  const hl7Day = (ts: string): number => parseIsoDate(`${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}`)!;
  for (const f of manifest.files as { path: string; type: string }[]) {
    if (f.type !== 'hl7v2') continue;
    for await (const msg of lines(join(dir, f.path))) {
      const segs = msg.split('\r');
      const type = segs[0]!.split('|')[8] ?? '';
      if (type.startsWith('VXU')) {
        const pidSeg = segs.find((s) => s.startsWith('PID|'))!.split('|');
        const rxa = segs.find((s) => s.startsWith('RXA|'))!.split('|');
        const dose = Number(segs.find((s) => s.startsWith('OBX|') && s.includes('30973-4'))?.split('|')[5]);
        // Birth doses of children born during the run: their records carry only the hospital MRN
        // (not needed for the 24-month cohort, who were born before the run).
        if (dose) give(`hl7:${pidSeg[3]!.split('^')[0]}`, `${rxa[5]!.split('^')[0]}#${dose}`, hl7Day(rxa[3]!));
        continue;
      }
      if (!type.startsWith('ADT^A04')) continue;
      const pv1 = segs.find((s) => s.startsWith('PV1|'))!.split('|');
      if ((pv1[2] !== 'O' && pv1[2] !== 'E') || outbreakEncounters.has(pv1[19]!)) continue;
      const complaint = (segs.find((s) => s.startsWith('PV2|'))?.split('|')[3] ?? '').replace(/^\^/, '');
      const obx = segs.find((s) => s.startsWith('OBX|') && s.includes('8310-5'));
      const temp = obx ? Number(obx.split('|')[5]) : null;
      count(hl7Day(pv1[44]!), isIli(temp, complaint));
    }
  }
  const hospitalOrgs = new Set<string>();
  for await (const line of lines(join(dir, 'fhir/Organization.ndjson'))) {
    const o = JSON.parse(line) as { id: string; type: { coding: { code: string }[] }[] };
    if (o.type[0]!.coding[0]!.code.endsWith('hospital')) hospitalOrgs.add(`Organization/${o.id}`);
  }
  const temps = new Map<string, number>();
  for await (const line of lines(join(dir, 'fhir/Observation.ndjson'))) {
    if (!line.includes('"8310-5"')) continue;
    const o = JSON.parse(line) as { encounter?: { reference: string }; valueQuantity: { value: number } };
    if (o.encounter) temps.set(o.encounter.reference, o.valueQuantity.value);
  }
  for await (const line of lines(join(dir, 'fhir/Encounter.ndjson'))) {
    const e = JSON.parse(line) as {
      id: string;
      class: { code: string };
      serviceProvider: { reference: string };
      period: { start: string };
      reasonCode?: { text: string }[];
    };
    if (
      !hospitalOrgs.has(e.serviceProvider.reference) ||
      (e.class.code !== 'AMB' && e.class.code !== 'EMER') ||
      outbreakEncounters.has(e.id)
    )
      continue;
    count(parseIsoDate(e.period.start.slice(0, 10))!, isIli(temps.get(`Encounter/${e.id}`) ?? null, e.reasonCode?.[0]?.text ?? ''));
  }
  const season = (months: number[]): number | null => {
    let v = 0;
    let i = 0;
    for (const [k, e] of Object.entries(iliByMonth)) {
      if (months.includes(Number(k.slice(5)))) {
        v += e.visits;
        i += e.ili;
      }
    }
    return v > 0 ? i / v : null;
  };

  // 24-month coverage: children aged 24-59 months at the end of the run.
  const lastDay = endDay - 1;
  let cohort = 0;
  const got = { HepB3: 0, DTaP3: 0, MMR1: 0 };
  for (const [id, b] of birth) {
    const at24 = addMonths(b, 24);
    if (at24 > lastDay || addMonths(b, 60) <= lastDay) continue;
    cohort++;
    const m = doses.get(id);
    for (const [k, key] of [
      ['HepB3', 'HepB#3'],
      ['DTaP3', 'DTaP#3'],
      ['MMR1', 'MMR#1'],
    ] as const) {
      const d = m?.get(key);
      if (d !== undefined && d <= at24) got[k]++;
    }
  }

  // Absenteeism outside outbreaks.
  const outbreakAbsences = new Map<string, number>();
  for (const o of truth.outbreaks as { cases: { absenceDates: string[] }[] }[])
    for (const c of o.cases) for (const d of c.absenceDates) outbreakAbsences.set(d, (outbreakAbsences.get(d) ?? 0) + 1);
  let pupilDays = 0;
  let sick = 0;
  let leave = 0;
  const seen = new Set<string>();
  let header = true;
  for await (const line of lines(join(dir, 'feeds/school-absenteeism.csv'))) {
    if (header) {
      header = false;
      continue;
    }
    const f = line.split(',');
    const key = `${f[2]},${f[3]}`;
    if (!seen.has(key)) {
      seen.add(key);
      pupilDays += Number(f[4]);
    }
    if (f[6] === '病假') sick += Number(f[5]);
    else if (f[6] === '事假') leave += Number(f[5]);
  }
  let outbreakTotal = 0;
  outbreakAbsences.forEach((v) => (outbreakTotal += v));

  return {
    adults,
    hypertensionPrevalence: adultSet(truth.chronic.hypertension) / adults,
    diabetesPrevalence: adultSet(truth.chronic.diabetes) / adults,
    hypertensionDiagnosed: htnDx / Math.max(1, adultSet(truth.chronic.hypertension)),
    coverage24m: {
      cohort,
      HepB3: got.HepB3 / Math.max(1, cohort),
      DTaP3: got.DTaP3 / Math.max(1, cohort),
      MMR1: got.MMR1 / Math.max(1, cohort),
    },
    iliByMonth,
    iliWinter: season([12, 1, 2]),
    iliSummer: season([6, 7, 8]),
    absenteeismSick: (sick - outbreakTotal) / Math.max(1, pupilDays),
    absenteeismLeave: leave / Math.max(1, pupilDays),
  };
}
