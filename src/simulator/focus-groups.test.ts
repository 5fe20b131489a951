/**
 * Changning's focus groups in the simulated district (focus-groups.ts): the records look like a
 * centre's (services typed as the programme files expect, registrations that fit each group's
 * entry), the same seed writes the same records, and the programme engine, reading them as the
 * processor does (facts.ts), enrols residents in the three programmes with realistic figures.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProgrammes } from '../primary-care/programmes/definition.js';
import { countIndicator, evaluateResident, rate, type Fact } from '../primary-care/programmes/engine.js';
import { factOf, personFacts } from '../primary-care/programmes/facts.js';
import { fhir, removeDir, runInto } from './testing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
// A district of 10,000: about 1,500 aged 65+, 400 children under 7, 100 cancer patients.
const ARGS = { seed: 9, population: 10000, start: '2025-01-01', days: 365 };
const ours = (r: Json): boolean => /^(enc|obs|cond)-g/.test(r.id);
const idOf = (r: { reference?: string } | undefined) => r?.reference?.split('/')[1] ?? '';
const serviceOf = (e: Json): string | undefined =>
  (e.type as Json[] | undefined)?.flatMap((t) => (t.coding ?? []) as Json[]).find((c) => c.system === SERVICE)?.code;
const codeOf = (r: Json): string => r.code.coding[0].code;
const ageOn = (birth: string, day: string) => {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.slice(0, 10).split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
};

let dir = '';
let records: { encounters: Json[]; observations: Json[]; conditions: Json[] };
let birthOf: Map<string, string>;
beforeAll(async () => {
  ({ dir } = await runInto('focus-groups', ARGS));
  records = {
    encounters: fhir<Json>(dir, 'Encounter').filter(ours),
    observations: fhir<Json>(dir, 'Observation').filter(ours),
    conditions: fhir<Json>(dir, 'Condition').filter(ours),
  };
  birthOf = new Map(fhir<Json>(dir, 'Patient').map((p) => [p.id as string, p.birthDate as string]));
}, 120_000);
afterAll(() => removeDir(dir));

describe('focus-group records in the simulated district', () => {
  it('writes every kind of service from the home centre, over FHIR, as programmes.ts writes its own', () => {
    const kinds = new Set(records.encounters.map(serviceOf));
    for (const k of ['home-health-service', 'family-sickbed-visit', 'development-follow-up', 'rehabilitation-referral', 'cancer-follow-up'])
      expect(kinds.has(k), k).toBe(true);
    for (const e of records.encounters) {
      expect(e.status).toBe('finished');
      expect(e.serviceProvider.reference).toMatch(/^Organization\//);
      expect(e.location).toBeUndefined();
      expect(e.reasonCode[0].text).toBe(e.type[1].coding[0].display);
      // Services before the run from its calendar year on; a referral goes with its diagnosis, whenever that was.
      if (serviceOf(e) !== 'rehabilitation-referral') expect(e.period.start.slice(0, 10) >= ARGS.start).toBe(true);
    }
  });

  it('registers each group by its entry: 65+ with dementia or a Barthel score of 60 or less, children under 7, adults with cancer', () => {
    const elderly = records.conditions.filter((c) => /^(F0[0-3]|G30)/.test(codeOf(c)));
    const children = records.conditions.filter((c) => /^(F8|R62)/.test(codeOf(c)));
    const cancers = records.conditions.filter((c) => /^C/.test(codeOf(c)));
    expect(elderly.length).toBeGreaterThan(10);
    expect(children.length).toBeGreaterThan(2);
    expect(cancers.length).toBeGreaterThan(40);
    // Every condition of ours is one of the three groups' (no F70–F79: that would also enrol in 严重精神障碍).
    expect(elderly.length + children.length + cancers.length).toBe(records.conditions.length);
    for (const c of elderly) expect(ageOn(birthOf.get(idOf(c.subject))!, c.onsetDateTime)).toBeGreaterThanOrEqual(65);
    for (const c of children) {
      const age = ageOn(birthOf.get(idOf(c.subject))!, c.onsetDateTime);
      expect(age).toBeGreaterThanOrEqual(1);
      expect(age).toBeLessThan(7);
    }
    for (const c of cancers) expect(ageOn(birthOf.get(idOf(c.subject))!, c.onsetDateTime)).toBeGreaterThanOrEqual(25);
    // A resident's first record of the elderly group (a dementia diagnosis or a Barthel assessment) registers them:
    // an assessment that comes first scores 60 or less.
    const dated = (r: Json): string => r.onsetDateTime ?? r.effectiveDateTime;
    const first = new Map<string, Json>();
    for (const r of [...elderly, ...records.observations.filter((o) => codeOf(o) === 'barthel-index')].sort((a, b) =>
      dated(a).localeCompare(dated(b)),
    ))
      if (!first.has(idOf(r.subject))) first.set(idOf(r.subject), r);
    expect([...first.values()].some((r) => r.resourceType === 'Observation')).toBe(true);
    for (const r of first.values())
      if (r.resourceType === 'Observation') {
        expect(r.valueQuantity.value).toBeLessThanOrEqual(60);
        expect(ageOn(birthOf.get(idOf(r.subject))!, r.effectiveDateTime)).toBeGreaterThanOrEqual(65);
      }
    const scores = records.observations.map((o) => ({ code: codeOf(o), v: o.valueQuantity.value as number }));
    for (const s of scores) expect(s.v).toBeGreaterThanOrEqual(0);
    expect(scores.filter((s) => s.code === 'barthel-index').every((s) => s.v <= 100)).toBe(true);
    expect(scores.filter((s) => s.code === 'pain-score').every((s) => s.v <= 10)).toBe(true);
    // Some re-assessments find a better score than the registration's (they stay registered).
    expect(scores.some((s) => s.code === 'barthel-index' && s.v > 60)).toBe(true);
  });

  it('writes the same focus-group records for the same seed', async () => {
    const again = await runInto('focus-groups-again', ARGS);
    try {
      const mine = (d: string) =>
        ['Encounter', 'Observation', 'Condition'].flatMap((t) =>
          fhir<Json>(d, t)
            .filter(ours)
            .map((r) => JSON.stringify(r)),
        );
      expect(mine(again.dir)).toEqual(mine(dir));
    } finally {
      removeDir(again.dir);
    }
  }, 120_000);
});

describe('the programme engine enrols and counts the simulated focus groups', () => {
  const period = { from: '2025-01-01', to: '2025-12-31' };
  const asOf = '2025-12-31';
  const figures = (code: string) => {
    const p = loadProgrammes().find((x) => x.code === code)!;
    const facts = new Map<string, Fact[]>();
    for (const r of [...records.encounters, ...records.observations, ...records.conditions]) {
      const f = factOf(r as Resource);
      if (f) facts.set(f.patientId, [...(facts.get(f.patientId) ?? []), f]);
    }
    const patients = new Map(fhir<Patient>(dir, 'Patient').map((x) => [x.id!, x]));
    const residents = [...facts].map(([id, fs]) => {
      const person = personFacts(patients.get(id)!);
      return { person, episodes: evaluateResident(p, person, fs, asOf) };
    });
    const out = new Map<string, { numerator: number; denominator: number; value: number | null }>();
    for (const ind of p.indicators) {
      const counted = countIndicator(p, ind, residents, period, asOf);
      const numerator = counted.filter((c) => c.inNumerator).length;
      out.set(ind.code, { numerator, denominator: counted.length, value: rate(ind, numerator, counted.length) });
    }
    return { enrolled: residents.filter((r) => r.episodes.length).length, out };
  };
  const expectRate = (v: { value: number | null; denominator: number } | undefined, lo: number, hi: number, what: string) => {
    expect(v, what).toBeDefined();
    expect(v!.denominator, what).toBeGreaterThan(0);
    expect(v!.value, what).toBeGreaterThanOrEqual(lo);
    expect(v!.value, what).toBeLessThanOrEqual(hi);
  };

  it('失能失智老年人: registered residents, most re-assessed and visited at home', () => {
    const { enrolled, out } = figures('disabled-elderly');
    expect(enrolled).toBeGreaterThan(50);
    expectRate(out.get('annual-assessment-rate'), 65, 98, 'annual assessment');
    expectRate(out.get('home-service-rate'), 55, 90, 'home service');
    expectRate(out.get('standard-management-rate'), 35, 80, 'standard management');
  });

  it('发育障碍儿童: diagnosed children under 7, followed up each half-year', () => {
    const { enrolled, out } = figures('child-development');
    expect(enrolled).toBeGreaterThan(2);
    expectRate(out.get('follow-up-rate'), 50, 100, 'child follow-up');
    expectRate(out.get('standard-management-rate'), 20, 100, 'child standard management');
  });

  it('肿瘤患者: registered patients, first visits, half-yearly follow-ups with pain scores', () => {
    const { enrolled, out } = figures('cancer-patients');
    expect(enrolled).toBeGreaterThan(60);
    expectRate(out.get('first-visit-rate'), 60, 100, 'first visit');
    expectRate(out.get('follow-up-rate'), 80, 100, 'follow-up');
    expectRate(out.get('standard-management-rate'), 45, 85, 'standard management');
    expectRate(out.get('pain-assessment-rate'), 55, 95, 'pain assessment');
  });
});
