/**
 * Issue #21: hypertension and type 2 diabetes onto the programme engine. The two definitions
 * in config/programmes/ (hypertension.json, diabetes.json, live programmes) are run by the
 * programme engine, and chronic care's own engine (derivePatientState with the rule sets of config/chronic/) on the same residents, built here
 * as FHIR resources in the shapes chronic care reads (Condition ICD-10, Encounter
 * visit-type#follow-up, Observation LOINC 85354-9 with 8480-6/8462-4 components, 1558-6,
 * 4548-4, each linked to its Encounter). Chronic care's figures are taken as its indicator
 * SQL takes them (indicators.ts chronicIndicatorPatients): visits of the period from
 * chronic_visit_eval, ≥ minFollowUpsPerYear of the rule set at the period's end and all on time;
 * the latest visit's control. Pure: no database.
 *
 * The first part shows the figures equal, resident by resident, on seeded residents; the second
 * lists, each with a resident, where the two still differ and why (the README's "what remains").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Condition, Encounter, MedicationRequest, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { validateFhirResource } from '../../fhir/validate.js';
import { derivePatientState } from '../chronic/derive.js';
import { conditionRow, encounterRow, medicationRow, readingRow } from '../chronic/facts.js';
import { loadChronicRuleSets } from '../chronic/rule-sets.js';
import { ruleSetFor } from '../chronic/rules.js';
import { repoConfigDir } from '../chronic/rule-file.js';
import { parseProgramme, programmesDir, loadProgrammes, type Programme } from './definition.js';
import { countIndicator, evaluateResident, matchersOf, relevant, type Fact, type Period } from './engine.js';
import { factOf, personFacts } from './facts.js';
import { rng } from './seeded.testutil.js';

const sets = loadChronicRuleSets();
const dir = path.join(repoConfigDir, 'programmes');
const load = (code: string): Programme => parseProgramme(`${code}.json`, fs.readFileSync(path.join(dir, `${code}.json`), 'utf8'));
const htn = load('hypertension');
const dm = load('diabetes');
const BY_DISEASE = { htn, dm } as const;
const TODAY = '2026-06-30';
const EMERGENCY_SYMPTOMS = ruleSetFor(sets, TODAY).emergency.symptoms;

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const VISIT_TYPE = 'https://yifang.health/fhir/CodeSystem/visit-type';

// ---- residents as FHIR ----------------------------------------------------------------------
interface Resident {
  patient: Patient;
  records: Resource[];
}
let seq = 0;
const next = (p: string) => `${p}${++seq}`;
function resident(birthDate: string): Resident {
  return { patient: { resourceType: 'Patient', id: next('pt'), birthDate, gender: 'female' }, records: [] };
}
function diagnosis(r: Resident, icd: string, onset: string, clinical = 'active') {
  r.records.push({
    resourceType: 'Condition',
    id: next('c'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ system: ICD, code: icd }] },
    subject: { reference: `Patient/${r.patient.id}` },
    onsetDateTime: onset,
  } as Condition);
}
interface Reading {
  sbp?: number;
  dbp?: number;
  fpg?: number;
  hba1c?: number;
  glucose?: number;
  /** The Observation's date when not the visit's (still linked to the visit). */
  on?: string;
  /** Not linked to the visit (taken the same day elsewhere). */
  unlinked?: boolean;
}
/** What chronic care's follow-up extension (chronic-follow-up) says of a visit. */
interface FollowUpExt {
  mode?: string;
  symptoms?: string[];
  adverse?: 'none' | 'manageable' | 'unmanageable';
  complication?: boolean;
}
interface VisitShape {
  /** The chronic-follow-up extension, as chronic care's follow-up form writes it. */
  ext?: FollowUpExt;
  /** false: no visit-type coding (a follow-up known by the extension only). */
  typed?: boolean;
  status?: Encounter['status'];
}
const EXT = 'https://yifang.health/fhir/StructureDefinition/chronic-follow-up';
function visit(r: Resident, day: string, reading: Reading, shape: VisitShape = {}) {
  const enc = next('e');
  const x = shape.ext;
  const fields = x
    ? [
        ...(x.mode ? [{ url: 'mode', valueCode: x.mode }] : []),
        ...(x.adverse ? [{ url: 'adverse-reaction', valueCode: x.adverse }] : []),
        ...(x.complication !== undefined ? [{ url: 'new-complication', valueBoolean: x.complication }] : []),
        ...(x.symptoms ?? []).map((s) => ({ url: 'symptom', valueCode: s })),
      ]
    : [];
  r.records.push({
    resourceType: 'Encounter',
    id: enc,
    // An extension holds at least one field (FHIR ext-1): none given, it says no new complication.
    ...(x ? { extension: [{ url: EXT, extension: fields.length ? fields : [{ url: 'new-complication', valueBoolean: false }] }] } : {}),
    status: shape.status ?? 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    ...(shape.typed === false ? {} : { type: [{ coding: [{ system: VISIT_TYPE, code: 'follow-up' }] }] }),
    subject: { reference: `Patient/${r.patient.id}` },
    period: { start: `${day}T09:00:00+08:00` },
  } as Encounter);
  const base = (code: string) => ({
    resourceType: 'Observation' as const,
    id: next('o'),
    status: 'final' as const,
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${r.patient.id}` },
    ...(reading.unlinked ? {} : { encounter: { reference: `Encounter/${enc}` } }),
    effectiveDateTime: `${reading.on ?? day}T09:10:00+08:00`,
  });
  const q = (value: number, unit: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
  if (reading.sbp !== undefined)
    r.records.push({
      ...base('85354-9'),
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: q(reading.sbp, 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: q(reading.dbp!, 'mm[Hg]') },
      ],
    } as Observation);
  if (reading.fpg !== undefined) r.records.push({ ...base('1558-6'), valueQuantity: q(reading.fpg, 'mmol/L') } as Observation);
  if (reading.glucose !== undefined) r.records.push({ ...base('2339-0'), valueQuantity: q(reading.glucose, 'mmol/L') } as Observation);
  if (reading.hba1c !== undefined) r.records.push({ ...base('4548-4'), valueQuantity: q(reading.hba1c, '%') } as Observation);
}

// ---- the two engines --------------------------------------------------------------------------
type Figures = Record<'standard-management-rate' | 'control-rate', { denominator: string[]; numerator: string[] }>;

/** Chronic care: derivePatientState, then the indicator SQL's reading of chronic_visit_eval, per resident. */
function chronicFigures(residents: Resident[], disease: 'htn' | 'dm', period: Period): Figures {
  const out: Figures = {
    'standard-management-rate': { denominator: [], numerator: [] },
    'control-rate': { denominator: [], numerator: [] },
  };
  const rulesEnd = ruleSetFor(sets, period.to);
  for (const r of residents) {
    const rules = ruleSetFor(sets, TODAY);
    const conditions = r.records.flatMap((x) => (x.resourceType === 'Condition' ? [conditionRow(x)] : [])).filter((x) => !!x);
    const readings = r.records
      .flatMap((x) => (x.resourceType === 'Observation' ? [readingRow(x, rules)] : []))
      .filter((x) => !!x)
      .map(({ observation_id, ...rest }) => (void observation_id, rest));
    const encounters = r.records
      .flatMap((x) => (x.resourceType === 'Encounter' ? [encounterRow(x)] : []))
      .filter((x) => !!x)
      .map(({ class: _c, status: _s, ended_on: _e, ...rest }) => (void _c, void _s, void _e, rest));
    const state = derivePatientState(
      {
        person: {
          patient_id: r.patient.id!,
          birth_date: r.patient.birthDate ?? null,
          deceased: false,
          organization_id: null,
          area_code: null,
        },
        conditions: conditions.map((c) => ({ icd: c.icd, onset: c.onset, active: c.active })),
        medications: r.records
          .flatMap((x) => (x.resourceType === 'MedicationRequest' ? [medicationRow(x)] : []))
          .filter((x) => !!x)
          .map((m) => ({ atc: m.atc, authored: m.authored, active: m.active })),
        readings,
        encounters,
        registry: [],
        contractTeam: null,
        teamOf: new Map(),
      },
      sets,
      TODAY,
    );
    if (!state.registry.some((g) => g.disease === disease)) continue;
    const visits = state.evals
      .filter((v) => v.disease === disease && v.visit_date >= period.from && v.visit_date <= period.to)
      .sort((a, b) => a.visit_date.localeCompare(b.visit_date) || (a.encounter_id < b.encounter_id ? -1 : 1));
    if (!visits.length) continue;
    const id = r.patient.id!;
    out['standard-management-rate'].denominator.push(id);
    out['control-rate'].denominator.push(id);
    if (visits.length >= rulesEnd.followUp.minFollowUpsPerYear && visits.every((v) => v.on_time))
      out['standard-management-rate'].numerator.push(id);
    if (visits.at(-1)!.controlled === true) out['control-rate'].numerator.push(id);
  }
  return out;
}

const matchers = matchersOf([...loadProgrammes(programmesDir), htn, dm]);

/** The programme engine on the same records, read by facts.ts as the processor reads them. */
function programmeFigures(residents: Resident[], p: Programme, period: Period): Figures {
  const evaluated = residents.map((r) => {
    const person = personFacts(validateFhirResource(r.patient, 'Patient') as Patient);
    const facts: Fact[] = [];
    for (const rec of r.records) {
      const f = factOf(validateFhirResource(rec, rec.resourceType) as Resource);
      if (!f || !relevant(matchers, f)) continue;
      const { patientId, ...fact } = f;
      void patientId;
      facts.push(fact);
    }
    facts.sort((a, b) => (a.ref < b.ref ? -1 : 1));
    return { person, episodes: evaluateResident(p, person, facts, TODAY, period.from) };
  });
  const out = {} as Figures;
  for (const ind of p.indicators) {
    const counted = countIndicator(p, ind, evaluated, period, TODAY);
    out[ind.code as keyof Figures] = {
      denominator: counted.map((c) => c.person.patientId),
      numerator: counted.filter((c) => c.inNumerator).map((c) => c.person.patientId),
    };
  }
  return out;
}

// ---- seeded residents -----------------------------------------------------------------------
const rand = rng(21);
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p: number) => rand() < p;
const plusDays = (d: string, n: number) => {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
};

function seeded(n: number): Resident[] {
  return Array.from({ length: n }, () => {
    // Ages 40–92 on TODAY: every band of both rule sets (under 65, 65–79, 80 and over).
    const r = resident(`${between(1934, 1985)}-${String(between(1, 12)).padStart(2, '0')}-${String(between(1, 28)).padStart(2, '0')}`);
    const hasHtn = chance(0.75);
    const hasDm = !hasHtn || chance(0.35);
    const onset = plusDays('2022-01-01', between(0, 1300));
    if (hasHtn) diagnosis(r, pick(['I10', 'I11.9', 'I15.0']), onset);
    if (hasDm) diagnosis(r, 'E11.9', plusDays(onset, between(-200, 200)));
    if (chance(0.2)) diagnosis(r, pick(['I25.1', 'N18.3', 'I50.0']), plusDays(onset, between(-300, 600)));
    if (chance(0.1)) diagnosis(r, 'I25.1', '2020-01-01', 'resolved');
    let day = plusDays(onset, between(-30, 40));
    while (day <= '2026-06-30') {
      // Some visits recorded on chronic care's follow-up form (the chronic-follow-up extension):
      // symptoms (emergency ones among them, sometimes without any reading), adverse reactions,
      // new complications; some known by the extension alone, some still planned.
      const ext: FollowUpExt | undefined = chance(0.2)
        ? {
            mode: pick(['face-to-face', 'phone', 'home', undefined]),
            symptoms: chance(0.3) ? [pick([...EMERGENCY_SYMPTOMS, 'dizziness', 'fatigue'])] : [],
            adverse: pick(['none', 'none', 'manageable', 'unmanageable', undefined]),
            complication: chance(0.5) ? chance(0.25) : undefined,
          }
        : undefined;
      const shape: VisitShape = { ext, typed: !ext || chance(0.5), status: chance(0.04) ? 'planned' : 'finished' };
      const reading: Reading = {};
      if (!ext?.symptoms?.length || chance(0.6)) {
        if (hasHtn || chance(0.3)) {
          const sbp = chance(0.06) ? between(180, 200) : between(112, 165);
          reading.sbp = sbp;
          reading.dbp = Math.min(sbp - 20, chance(0.05) ? between(110, 120) : between(68, 100));
        }
        if (hasDm || chance(0.2)) {
          if (chance(0.75)) reading.fpg = between(38, 175) / 10;
          else if (chance(0.6)) reading.hba1c = between(55, 95) / 10;
          else reading.glucose = between(50, 190) / 10;
        }
      }
      visit(r, day, reading, shape);
      // Back within days after an urgent reading, within about 2 weeks after a poor one, else in about
      // 3 months; sometimes late (the on-time rule has something to refuse). What the form reports
      // (a reaction, a complication, a symptom) brings the patient back early only half the time.
      const urgent = (reading.sbp ?? 0) >= 180 || (reading.dbp ?? 0) >= 110 || (reading.fpg ?? 5) >= 16.7 || (reading.fpg ?? 5) <= 3.9;
      const reported =
        !!ext && (!!ext.symptoms?.length || ext.adverse === 'manageable' || ext.adverse === 'unmanageable' || !!ext.complication);
      const poor = (reading.sbp ?? 0) >= 130 || (reading.dbp ?? 0) >= 80 || (reading.fpg ?? 5) >= 7 || (reported && chance(0.5));
      const late = chance(0.08) ? between(25, 60) : 0;
      day = plusDays(day, late + (urgent ? between(1, 8) : poor ? between(7, 22) : between(80, 97)));
    }
    return r;
  });
}
function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

const PERIODS: Period[] = [
  { from: '2025-01-01', to: '2025-12-31' },
  { from: '2024-01-01', to: '2024-12-31' },
  { from: '2025-04-01', to: '2025-09-30' },
  { from: '2026-01-01', to: '2026-06-30' },
];

describe('hypertension and diabetes: the programme engine gives chronic care’s figures', () => {
  const residents = seeded(160);

  it.each(PERIODS.flatMap((period) => (['htn', 'dm'] as const).map((d) => [d, period.from, period.to, period] as const)))(
    '%s %s to %s: same residents in every denominator and numerator',
    (disease, _from, _to, period) => {
      const chronic = chronicFigures(residents, disease, period);
      const programme = programmeFigures(residents, BY_DISEASE[disease], period);
      expect(programme).toEqual(chronic);
      figures.push(chronic);
    },
  );

  const figures: Figures[] = [];
  it('the data exercise every figure: someone in, someone out of each numerator (over the periods)', () => {
    expect(figures.length).toBe(PERIODS.length * 2);
    for (const code of ['standard-management-rate', 'control-rate'] as const) {
      const d = figures.reduce((n, f) => n + f[code].denominator.length, 0);
      const n = figures.reduce((k, f) => k + f[code].numerator.length, 0);
      expect(d, code).toBeGreaterThan(100);
      expect(n, code).toBeGreaterThan(d / 10);
      expect(n, code).toBeLessThan(d);
    }
  });
});

describe('hypertension and diabetes: where the programme engine still differs from chronic care (what remains)', () => {
  const Y: Period = { from: '2025-01-01', to: '2025-12-31' };
  /** Four controlled visits 90 days apart in 2025 (on time), each with a BP of 120/75 unless changed. */
  function regular(birth: string, change: (r: Resident, k: number, day: string) => boolean = () => false): Resident {
    const r = resident(birth);
    diagnosis(r, 'I10', '2023-05-01');
    ['2025-01-10', '2025-04-05', '2025-07-01', '2025-09-25', '2025-12-20'].forEach((day, k) => {
      if (!change(r, k, day)) visit(r, day, { sbp: 120, dbp: 75 });
    });
    return r;
  }
  const both = (rs: Resident[], disease: 'htn' | 'dm' = 'htn') => ({
    chronic: chronicFigures(rs, disease, Y),
    programme: programmeFigures(rs, BY_DISEASE[disease], Y),
  });

  it('agrees on a regular patient (the baseline of the cases below)', () => {
    const r = regular('1960-03-03');
    const { chronic, programme } = both([r]);
    expect(programme).toEqual(chronic);
    expect(chronic['standard-management-rate'].numerator).toEqual([r.patient.id]);
    expect(chronic['control-rate'].numerator).toEqual([r.patient.id]);
  });

  it('ties a reading to its visit by Observation.encounter, as chronic care does (not by the day)', () => {
    // The last visit's BP, linked to it, is dated the next day: it is that visit's reading (uncontrolled).
    const late = regular('1960-03-03', (res, k, day) => {
      if (k !== 4) return false;
      visit(res, day, { sbp: 150, dbp: 95, on: plusDays(day, 1) });
      return true;
    });
    // A BP taken the same day elsewhere (not linked) makes no follow-up of a visit without one.
    const elsewhere = regular('1960-03-03', (res, k, day) => {
      if (k !== 4) return false;
      visit(res, day, { fpg: 5.5 });
      visit(res, day, { sbp: 150, dbp: 95, unlinked: true });
      return true;
    });
    for (const r of [late, elsewhere]) {
      const { chronic, programme } = both([r]);
      expect(programme).toEqual(chronic);
    }
    expect(both([late]).chronic['control-rate'].numerator).toEqual([]);
    expect(both([elsewhere]).chronic['control-rate'].numerator).toEqual([elsewhere.patient.id]);
  });

  it('ignores an implausible reading (the rule sets’ physiological ranges, diastolic below systolic), as chronic care does', () => {
    const rs = [
      [320, 75],
      [120, 130],
    ].map(([sbp, dbp]) =>
      regular('1960-03-03', (res, k, day) => {
        if (k !== 4) return false;
        visit(res, day, { sbp: sbp!, dbp: dbp! });
        return true;
      }),
    );
    const { chronic, programme } = both(rs);
    expect(programme).toEqual(chronic);
    // The last visit has no usable reading, so it is no programme visit: September's (controlled) decides.
    expect(chronic['control-rate'].numerator).toHaveLength(2);
  });

  it('registers hypertension from 35 years of age on the day of derivation, as chronic care does (entry.ageYears, ageOn asOf)', () => {
    const young = regular('1995-01-01');
    // 35 on the day of derivation (TODAY), though not yet in 2025: registered, 2025's visits counted.
    const turned = regular('1991-06-30');
    const { chronic, programme } = both([young, turned]);
    expect(programme).toEqual(chronic);
    expect(chronic['control-rate'].denominator).toEqual([turned.patient.id]);
  });

  it('registers diabetes from an active A10 prescription without a diagnosis, as chronic care does (MedicationRequest entry)', () => {
    const rs = (['active', 'stopped'] as const).map((status) => {
      const r = resident('1962-02-02');
      r.records.push({
        resourceType: 'MedicationRequest',
        id: next('m'),
        status,
        intent: 'order',
        medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }] },
        subject: { reference: `Patient/${r.patient.id}` },
        authoredOn: '2024-12-01',
      } as MedicationRequest);
      for (const day of ['2024-11-20', '2025-01-10', '2025-04-05', '2025-07-01', '2025-09-25']) visit(r, day, { fpg: 6.1 });
      return r;
    });
    const { chronic, programme } = both(rs, 'dm');
    expect(programme).toEqual(chronic);
    expect(chronic['standard-management-rate'].numerator).toEqual([rs[0]!.patient.id]);
    expect(chronic['control-rate'].denominator).toEqual([rs[0]!.patient.id]);
  });

  it('reads the follow-up form (chronic-follow-up extension): a reaction, a new complication or an emergency symptom sets the next visit, as chronic care does', () => {
    // April's visit (120/75, at target) reports something: the next one is due within 2 weeks
    // (the same day for an emergency symptom), so July's, 87 days later, is late.
    const reports: FollowUpExt[] = [
      { mode: 'face-to-face', adverse: 'manageable' },
      { adverse: 'unmanageable' },
      { mode: 'phone', complication: true },
      { symptoms: ['chest-pain'] },
    ];
    const reported = reports.map((ext) =>
      regular('1960-03-03', (res, k, day) => {
        if (k !== 1) return false;
        visit(res, day, { sbp: 120, dbp: 75 }, { ext });
        return true;
      }),
    );
    // Nothing to report (no reaction, no complication, a symptom that is no emergency): 90 days, on time.
    const quiet = regular('1960-03-03', (res, k, day) => {
      if (k !== 1) return false;
      visit(res, day, { sbp: 120, dbp: 75 }, { ext: { adverse: 'none', complication: false, symptoms: ['dizziness'] } });
      return true;
    });
    const { chronic, programme } = both([...reported, quiet]);
    expect(programme).toEqual(chronic);
    expect(chronic['standard-management-rate'].denominator).toHaveLength(5);
    expect(chronic['standard-management-rate'].numerator).toEqual([quiet.patient.id]);
  });

  it('counts a follow-up with a symptom and no reading, one known by the form alone, and a planned one, as chronic care does', () => {
    // December's visit decides control: a symptom without a reading (not known, so not at target),
    // or 150/95 on a visit typed by the form alone or still planned (not at target).
    const shapes: [Reading, VisitShape][] = [
      [{}, { ext: { symptoms: ['dizziness'] } }],
      [
        { sbp: 150, dbp: 95 },
        { ext: { mode: 'home' }, typed: false },
      ],
      [{ sbp: 150, dbp: 95 }, { status: 'planned' }],
    ];
    const rs = shapes.map(([reading, shape]) =>
      regular('1960-03-03', (res, k, day) => {
        if (k !== 4) return false;
        visit(res, day, reading, shape);
        return true;
      }),
    );
    // A cancelled follow-up, or a form reporting only a reaction without any reading, is no visit: September's decides.
    const none = [
      regular('1960-03-03', (res, k, day) => (k === 4 ? (visit(res, day, { sbp: 150, dbp: 95 }, { status: 'cancelled' }), true) : false)),
      regular('1960-03-03', (res, k, day) => (k === 4 ? (visit(res, day, {}, { ext: { adverse: 'unmanageable' } }), true) : false)),
    ];
    const { chronic, programme } = both([...rs, ...none]);
    expect(programme).toEqual(chronic);
    expect(chronic['control-rate'].denominator).toHaveLength(5);
    expect(chronic['control-rate'].numerator).toEqual(none.map((r) => r.patient.id));
  });

  it('the strictest band (chronic care) and every band that applies (the programme engine) agree on the shipped rule sets', () => {
    // 2020 rules, ages 0–79 with a comorbidity: 130/80 is stricter than the age band on both
    // readings, so "all bands" equals "the strictest band". Checked on a grid of ages and readings.
    const rs: Resident[] = [];
    for (const birth of ['1990-06-01', '1958-06-01', '1950-06-01', '1944-06-01', '1940-06-01'])
      for (const [sbp, dbp] of [
        [128, 78],
        [135, 78],
        [128, 85],
        [145, 85],
        [148, 88],
        [152, 88],
      ] as const)
        for (const comorbid of [false, true]) {
          const r = resident(birth);
          diagnosis(r, 'I10', '2020-05-01');
          if (comorbid) diagnosis(r, 'N18.3', '2021-01-01');
          for (const day of ['2024-03-01', '2025-03-01', '2025-09-01']) visit(r, day, { sbp, dbp });
          rs.push(r);
        }
    for (const period of [{ from: '2024-01-01', to: '2024-12-31' }, Y, { from: '2025-01-01', to: '2025-06-30' }]) {
      expect(programmeFigures(rs, htn, period)['control-rate']).toEqual(chronicFigures(rs, 'htn', period)['control-rate']);
    }
  });
});
