/**
 * Deaths in the simulated district (deaths.ts): residents die at the cited rates by age band (the
 * 2000 census's shape at the 2023 level), cancer patients more often, each written as a second
 * version of their Patient with `deceasedDateTime` on the day; and nothing about a resident who
 * died is dated after that day, in FHIR or in HL7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deathHazard } from './deaths.js';
import { fhir, hl7Messages, json, removeDir, runInto, segment } from './testing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ARGS = { seed: 1, population: 20000, start: '2024-01-01', days: 730 };
const END = '2025-12-31';
const dayNo = (iso: string): number => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000;
const ageOn = (birth: string, day: string): number => {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
};
/** The canonical resident of a Patient id (a facility's variant pat-0000123-v1 is pat-0000123). */
const residentOf = (ref: string | undefined): string => (ref ?? '').replace(/^Patient\//, '').replace(/-v\d+$/, '');

let dir = '';
/** Canonical Patients by id, the last version of each (the one sent on the day of death, for the dead). */
const patients = new Map<string, Json>();
/** Versions of each canonical Patient. */
const versions = new Map<string, number>();
const died = new Map<string, string>();
beforeAll(async () => {
  ({ dir } = await runInto('deaths', ARGS));
  for (const p of fhir<Json>(dir, 'Patient')) {
    if (!/^pat-\d{7}$/.test(p.id)) continue;
    patients.set(p.id, p);
    versions.set(p.id, (versions.get(p.id) ?? 0) + 1);
  }
  for (const [id, p] of patients) if (p.deceasedDateTime) died.set(id, p.deceasedDateTime as string);
}, 180_000);
afterAll(() => removeDir(dir));

/** Age bands of the check: [from, to) years. */
const BANDS: [number, number][] = [
  [0, 45],
  [45, 65],
  [65, 80],
  [80, 200],
];
const bandOf = (age: number): number => BANDS.findIndex(([a, b]) => age >= a && age < b);

describe('deaths in the simulated district', () => {
  it('writes a death as a second version of the Patient, on a day of the run, with the same identity', () => {
    expect(died.size).toBeGreaterThan(100);
    for (const [id, day] of died) {
      expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(day >= ARGS.start && day <= END).toBe(true);
      expect(versions.get(id), id).toBe(2);
      expect(patients.get(id)!.birthDate <= day).toBe(true);
    }
    // The living were written once.
    for (const [id, n] of versions) if (!died.has(id)) expect(n, id).toBe(1);
  });

  it('has deaths by age band at the rates of the cited table (exposure in the run, 3.5 standard deviations)', () => {
    const expected = BANDS.map(() => 0);
    const observed = BANDS.map(() => 0);
    const years = BANDS.map(() => 0);
    const start = dayNo(ARGS.start);
    const end = dayNo(END) + 1;
    for (const [id, p] of patients) {
      const from = Math.max(start, dayNo(p.birthDate) + 1);
      const death = died.get(id);
      const to = death ? dayNo(death) + 1 : end;
      // A year at a time: the age (band) of the resident on that year's first day at risk.
      for (let a = from; a < to; a += 365) {
        const b = Math.min(to, a + 365);
        const age = ageOn(p.birthDate, new Date(a * 86_400_000).toISOString().slice(0, 10));
        const k = bandOf(age);
        years[k]! += (b - a) / 365.25;
        expected[k]! += (deathHazard(age, p.gender === 'female' ? 2 : 1) * (b - a)) / 365.25;
      }
      if (death) observed[bandOf(ageOn(p.birthDate, death))]!++;
    }
    const rows = BANDS.map(([a, b], k) => ({
      band: `${a}-${b}`,
      years: Math.round(years[k]!),
      observed: observed[k]!,
      expected: Math.round(expected[k]! * 10) / 10,
    }));
    console.log('deaths by age band', rows);
    for (const r of rows) expect(Math.abs(r.observed - r.expected), r.band).toBeLessThanOrEqual(3.5 * Math.sqrt(r.expected) + 2);
    // Absolute plausibility: the crude rate near the 2023 national 7.87 ‰, the old far above the young.
    const crude = (1000 * observed.reduce((a, b) => a + b)) / years.reduce((a, b) => a + b);
    expect(crude).toBeGreaterThan(6);
    expect(crude).toBeLessThan(10.5);
    const rate = (k: number) => observed[k]! / years[k]!;
    expect(rate(3)).toBeGreaterThan(rate(2));
    expect(rate(2)).toBeGreaterThan(rate(1));
    expect(rate(1)).toBeGreaterThan(rate(0));
  });

  it('lets registered cancer patients die more often than residents of the same ages without cancer', () => {
    const cancer = new Set(
      fhir<Json>(dir, 'Condition')
        .filter((c) => /^C/.test(c.code.coding[0].code) && c.category?.[0]?.coding?.[0]?.code === 'problem-list-item')
        .map((c) => residentOf(c.subject.reference)),
    );
    expect(cancer.size).toBeGreaterThan(100);
    // Residents 50-79 at the start: the cancer patients' death proportion against the others'.
    const tally = { cancer: [0, 0], other: [0, 0] };
    for (const [id, p] of patients) {
      const age = ageOn(p.birthDate, ARGS.start);
      if (age < 50 || age >= 80) continue;
      const t = cancer.has(id) ? tally.cancer : tally.other;
      t[0]!++;
      if (died.has(id)) t[1]!++;
    }
    const share = (t: number[]) => t[1]! / t[0]!;
    console.log('deaths 50-79', { cancer: tally.cancer, other: tally.other });
    expect(share(tally.cancer)).toBeGreaterThan(2 * share(tally.other));
  });

  it('writes nothing about the dead dated after the day of death (FHIR and HL7)', () => {
    const late: string[] = [];
    const check = (what: string, who: string, when: unknown) => {
      const day = died.get(who);
      if (day && typeof when === 'string' && when.slice(0, 10) > day) late.push(`${what} ${who} ${when} after ${day}`);
    };
    const dated: [string, (r: Json) => Json | undefined, (r: Json) => unknown[]][] = [
      ['Encounter', (r) => r.subject, (r) => [r.period?.start, r.period?.end]],
      ['Observation', (r) => r.subject, (r) => [r.effectiveDateTime]],
      ['Condition', (r) => r.subject, (r) => [r.recordedDate, r.onsetDateTime]],
      ['Immunization', (r) => r.patient, (r) => [r.occurrenceDateTime]],
      ['MedicationRequest', (r) => r.subject, (r) => [r.authoredOn]],
      ['ServiceRequest', (r) => r.subject, (r) => [r.authoredOn]],
      ['Specimen', (r) => r.subject, (r) => [r.collection?.collectedDateTime]],
      // A report may come after the death; the sample it reads was taken before.
      ['DiagnosticReport', (r) => r.subject, (r) => [r.effectiveDateTime]],
      ['Procedure', (r) => r.subject, (r) => [r.performedDateTime]],
      ['EpisodeOfCare', (r) => r.patient, (r) => [r.period?.start]],
      ['Flag', (r) => r.subject, (r) => [r.period?.start]],
    ];
    let seen = 0;
    for (const [type, subject, dates] of dated)
      for (const r of fhir<Json>(dir, type)) {
        const who = residentOf(subject(r)?.reference);
        if (!died.has(who)) continue;
        seen++;
        for (const d of dates(r)) check(`${type}/${r.id}`, who, d);
      }
    // HL7: the resident by MRN at the facility (truth.json lists every record of a person with a
    // variant) or else by the ID number in PID-3; the event's day from PV1-44/45, OBR-7 or RXA-3.
    const byIdNumber = new Map<string, string>();
    for (const [id, p] of patients) {
      const n = (p.identifier as Json[]).find((x) => x.type?.coding?.[0]?.code === 'NI')?.value;
      if (n) byIdNumber.set(n, id);
    }
    const byMrn = new Map<string, string>();
    const truth = json<Json>(dir, 'truth.json');
    for (const person of truth.identities as Json[])
      for (const rec of person.records as Json[]) if (rec.source === 'hl7v2') byMrn.set(`${rec.facility}|${rec.id}`, person.personId);
    const hl7Day = (t: string | undefined) => (t && t.length >= 8 ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}` : undefined);
    for (const m of hl7Messages(dir)) {
      const pid = segment(m, 'PID');
      if (!pid) continue;
      const msh = segment(m, 'MSH')!;
      const facility = msh[3]!;
      const ids = pid[3]!.split('~');
      const mrn = ids[0]!.split('^')[0]!;
      const idNumber = ids[1]?.split('^')[0];
      const who = byMrn.get(`org-${facility}|${mrn}`) ?? (idNumber ? byIdNumber.get(idNumber) : undefined);
      if (!who || !died.has(who)) continue;
      seen++;
      const type = msh[8]!;
      const pv1 = segment(m, 'PV1');
      const when = type.startsWith('ORU')
        ? segment(m, 'OBR')?.[7]
        : type.startsWith('VXU')
          ? segment(m, 'RXA')?.[3]
          : type.includes('A03')
            ? pv1?.[45]
            : pv1?.[44];
      check(`${type} ${msh[9]}`, who, hl7Day(when));
    }
    console.log('records of residents who died', seen);
    expect(seen).toBeGreaterThan(200);
    expect(late).toEqual([]);
  });
});
