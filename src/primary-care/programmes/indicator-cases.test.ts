/**
 * The worked examples of every indicator (config/programmes/*.json, `cases`): each resident's
 * records, FHIR R4 resources as a clinic sends them, are validated against R4 and read into
 * facts by facts.ts (personFacts, factOf) and kept or dropped by the programmes' matchers, as
 * the processor does (store.ts applyChanges); the engine then evaluates them as the indicator
 * API does when it evaluates at query time (service.ts `counted`), with the indicator version
 * the API would choose for the period (indicatorOn), and the figures must be the ones written
 * by hand from the norm. Pure: no database.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { validateFhirResource } from '../../fhir/validate.js';
import { indicatorOn, indicatorsOn, loadProgrammes, parseProgramme, type IndicatorCase, type Programme } from './definition.js';
import { countIndicator, evaluateResident, judgedUntil, matchersOf, rate, relevant, type Fact } from './engine.js';
import { factOf, personFacts } from './facts.js';

const programmes = loadProgrammes();
/** The matchers the processor keeps records by: every programme loaded (with a made-up one, it too). */
const matchersFor = (p: Programme) => matchersOf(programmes.includes(p) ? programmes : [...programmes, p]);

/** A case resident's death, given as the Patient gives it (a day or time of death, or only that they died). */
type Death = { deceasedDateTime?: string; deceasedBoolean?: boolean };

/** The figures of one case, by the indicator version the period uses. */
function figures(p: Programme, code: string, c: IndicatorCase) {
  const matchers = matchersFor(p);
  const residents = c.residents.map((r) => {
    const death = r as Death;
    const patient = validateFhirResource({
      resourceType: 'Patient',
      id: r.id,
      ...(r.birthDate ? { birthDate: r.birthDate } : {}),
      ...(r.gender ? { gender: r.gender } : {}),
      ...(death.deceasedDateTime !== undefined ? { deceasedDateTime: death.deceasedDateTime } : {}),
      ...(death.deceasedBoolean !== undefined ? { deceasedBoolean: death.deceasedBoolean } : {}),
    }) as Patient;
    const person = personFacts(patient);
    const facts: Fact[] = [];
    for (const record of r.records) {
      const resource = validateFhirResource(record, record.resourceType) as Resource;
      const read = factOf(resource);
      if (!read || !relevant(matchers, read)) continue;
      expect(read.patientId, `${read.ref} names its resident`).toBe(r.id);
      const { patientId, ...fact } = read;
      void patientId;
      facts.push(fact);
    }
    // The processor hands the engine a resident's facts in ref order (store.ts residentFacts).
    facts.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    return { person, episodes: evaluateResident(p, person, facts, c.asOf, c.period.from) };
  });
  const ind = indicatorOn(p, code, judgedUntil(c.period, c.asOf))!;
  const counted = countIndicator(p, ind, residents, c.period, c.asOf);
  const numerator = counted.filter((x) => x.inNumerator).length;
  const denominator = ind.denominator.estimate ?? counted.length;
  return { ind, numerator, denominator, value: rate(ind, numerator, denominator) };
}

describe.each(programmes.map((p) => [p.code, p] as const))('%s: the worked examples of its indicators', (_, p) => {
  it('has at least two cases for every indicator version, one of them at an edge', () => {
    for (const ind of p.indicators) expect(ind.cases.length, `${ind.code} version ${ind.version}`).toBeGreaterThanOrEqual(2);
  });

  const all = p.indicators.flatMap((ind) => ind.cases.map((c) => [`${ind.code} v${ind.version}: ${c.name}`, ind, c] as const));
  it.each(all)('%s', (_name, ind, c) => {
    const got = figures(p, ind.code, c);
    // The period is judged under the version the case belongs to.
    expect(got.ind).toBe(ind);
    expect({ numerator: got.numerator, denominator: got.denominator, value: got.value }).toEqual(c.expect);
  });
});

describe('indicator versions', () => {
  const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
  const visit = (pid: string, id: string, day: string) => ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: SERVICE, code: 'visit' }] }],
    subject: { reference: `Patient/${pid}` },
    period: { start: `${day}T10:00:00+08:00` },
  });
  const kase = (name: string, period: { from: string; to: string }, asOf: string, n: number, d: number, value: number | null) => ({
    name,
    period,
    asOf,
    // Under 1 all year: one visit in 2025, one child never seen.
    residents: [
      { id: 'a', birthDate: '2025-01-01', gender: 'female', records: [visit('a', 'a1', '2025-02-01')] },
      { id: 'b', birthDate: '2025-01-01', gender: 'male', records: [] },
    ],
    expect: { numerator: n, denominator: d, value },
  });
  // A made-up programme whose indicator changed on 2025-07-01: from any visit in the period to
  // at least two (and a zero denominator giving 0 instead of no figure).
  const base = {
    code: 'versioned',
    name: '版本测试',
    source: 'test',
    entry: { anchor: 'birth', ageYears: { min: 0, max: 3 } },
    services: { visit: { name: '随访', match: [{ resource: 'Encounter', system: SERVICE, codes: ['visit'] }] } },
    versions: [
      {
        version: 'v1',
        effectiveFrom: '2020-01-01',
        source: 'test',
        schedule: { cycle: 'year', items: [{ code: 'y', name: '年度随访', service: 'visit', from: '0m', to: '12m' }] },
        managed: { name: 'all', allItemsDelivered: true },
      },
    ],
  };
  const v1 = {
    code: 'seen',
    version: 'v1',
    effectiveFrom: '2020-01-01',
    effectiveTo: '2025-06-30',
    name: '随访率',
    source: 'rule of 2020',
    denominator: { population: 'enrolled', text: 'children' },
    numerator: { where: [{ services: 'visit', min: 1 }], text: 'seen once' },
    whenDenominatorZero: 'null',
    cases: [
      kase(
        'judged on 2025-06-30: the first version, one visit is enough',
        { from: '2025-01-01', to: '2025-06-30' },
        '2025-12-31',
        1,
        2,
        50,
      ),
      kase(
        'asOf 2025-06-30 ends the judging of the year inside the first version',
        { from: '2025-01-01', to: '2025-12-31' },
        '2025-06-30',
        1,
        2,
        50,
      ),
    ],
  };
  const v2 = {
    ...v1,
    version: 'v2',
    effectiveFrom: '2025-07-01',
    effectiveTo: undefined,
    source: 'rule of 2025',
    numerator: { where: [{ services: 'visit', min: 2 }], text: 'seen twice' },
    whenDenominatorZero: 'zero',
    cases: [
      kase(
        'judged on 2025-07-01, the first day of the second version: two visits needed',
        { from: '2025-01-01', to: '2025-07-01' },
        '2025-12-31',
        0,
        2,
        0,
      ),
      kase(
        'the whole year 2025 is judged on its last day, by the second version',
        { from: '2025-01-01', to: '2025-12-31' },
        '2026-01-31',
        0,
        2,
        0,
      ),
    ],
  };
  const p = parseProgramme('versioned.json', JSON.stringify({ ...base, indicators: [v2, v1] }), { complete: true });

  it('chooses the version in force on the period judged end (its last day, or asOf when earlier)', () => {
    expect(indicatorOn(p, 'seen', '2025-06-30')!.version).toBe('v1');
    expect(indicatorOn(p, 'seen', '2025-07-01')!.version).toBe('v2');
    // Before the first version, the first; an unknown code, nothing.
    expect(indicatorOn(p, 'seen', '2010-01-01')!.version).toBe('v1');
    expect(indicatorOn(p, 'nope', '2025-07-01')).toBeUndefined();
    expect(indicatorsOn(p, '2024-01-01').map((i) => `${i.code}@${i.version}`)).toEqual(['seen@v1']);
  });

  it.each(p.indicators.flatMap((ind) => ind.cases.map((c) => [`${ind.version}: ${c.name}`, ind, c] as const)))('%s', (_name, ind, c) => {
    const got = figures(p, ind.code, c);
    expect(got.ind).toBe(ind);
    expect({ numerator: got.numerator, denominator: got.denominator, value: got.value }).toEqual(c.expect);
  });
});

describe('the data switches decide the cases written for them (each fails without its switch)', () => {
  /** The programme with entry.activeStatuses and every criterion's measuredBy taken out (today's behaviour before them). */
  const without = (p: Programme): Programme => {
    const q = structuredClone(p);
    delete q.entry.activeStatuses;
    for (const ind of q.indicators)
      for (const c of [...ind.denominator.where, ...ind.numerator.where]) if ('measuredBy' in c) delete c.measuredBy;
    return q;
  };
  const byCode = new Map(programmes.map((p) => [p.code, p]));
  // [programme, indicator, the start of the case's name]
  const cases: [string, string, string][] = [
    ['severe-mental-disorders', 'follow-up-rate', '病情稳定者仍在册'],
    ['severe-mental-disorders', 'standard-management-rate', '缓解期、不活动的患者仍按每季度随访管理'],
    ['severe-mental-disorders', 'stable-rate', '缓解期患者的病情仍计入稳定率'],
    ['tuberculosis', 'management-rate', '队列：12月30日确诊'],
    ['tuberculosis', 'treatment-success-rate', '队列分析：疗程12月19日结束'],
  ];
  it.each(cases)('%s %s: %s…', (code, indicator, name) => {
    const p = byCode.get(code)!;
    const ind = p.indicators.find((i) => i.code === indicator)!;
    const c = ind.cases.find((x) => x.name.startsWith(name))!;
    expect(c, name).toBeDefined();
    const withSwitch = figures(p, indicator, c);
    expect({ numerator: withSwitch.numerator, denominator: withSwitch.denominator, value: withSwitch.value }).toEqual(c.expect);
    const q = without(p);
    const before = figures(q, indicator, c);
    expect({ numerator: before.numerator, denominator: before.denominator, value: before.value }).not.toEqual(c.expect);
  });
});

describe("a case resident's death reaches the Patient (deceasedDateTime, deceasedBoolean)", () => {
  const cancer = programmes.find((p) => p.code === 'cancer-patients')!;
  const survival = cancer.indicators.find((i) => i.code === 'five-year-survival-rate')!;
  // The 2020 cohort followed to 2025-06-30 (registered 2020-03-01 and 2020-06-30, both followed
  // five years; 2020-07-01 not yet; a 2019 registration in another cohort): 2/2 with nobody dead.
  const base = survival.cases.find((c) => c.name.startsWith('2020年登记队列，统计至2025-06-30'))!;
  const withDeath = (death: Death, who = 's1'): IndicatorCase => ({
    ...base,
    residents: base.residents.map((r) => (r.id === who ? { ...r, ...death } : r)),
  });
  const got = (c: IndicatorCase) => {
    const f = figures(cancer, survival.code, c);
    return { numerator: f.numerator, denominator: f.denominator, value: f.value };
  };

  it('the case without a death: 2/2', () => {
    expect(base).toBeDefined();
    expect(got(base)).toEqual({ numerator: 2, denominator: 2, value: 100 });
  });

  it('a death before the anniversary (s1, registered 2020-03-01, died 2023-05-10) makes the figure drop to 1/2', () => {
    expect(got(withDeath({ deceasedDateTime: '2023-05-10' }))).toEqual({ numerator: 1, denominator: 2, value: 50 });
    // With a time of death, read as its calendar day.
    expect(got(withDeath({ deceasedDateTime: '2025-02-28T23:30:00+08:00' }))).toEqual({ numerator: 1, denominator: 2, value: 50 });
  });

  it('a death on the anniversary itself (2025-03-01) or after it counts as surviving five years: 2/2', () => {
    expect(got(withDeath({ deceasedDateTime: '2025-03-01' }))).toEqual({ numerator: 2, denominator: 2, value: 100 });
    expect(got(withDeath({ deceasedDateTime: '2025-04-01' }))).toEqual({ numerator: 2, denominator: 2, value: 100 });
  });

  it('a death without a day (deceasedBoolean) is censored: out of the denominator, 1/1', () => {
    expect(got(withDeath({ deceasedBoolean: true }))).toEqual({ numerator: 1, denominator: 1, value: 100 });
    expect(got(withDeath({ deceasedBoolean: false }))).toEqual({ numerator: 2, denominator: 2, value: 100 });
  });

  it('a case of the JSON with a death on a resident is figured with it (every such case differs when the death is left out)', () => {
    const dead = programmes.flatMap((p) =>
      p.indicators.flatMap((ind) =>
        ind.cases
          .filter((c) => c.residents.some((r) => (r as Death).deceasedDateTime !== undefined || (r as Death).deceasedBoolean !== undefined))
          .map((c) => [p, ind, c] as const),
      ),
    );
    for (const [p, ind, c] of dead) {
      const ignored: IndicatorCase = {
        ...c,
        residents: c.residents.map((r) => {
          const { deceasedDateTime, deceasedBoolean, ...alive } = r as typeof r & Death;
          void deceasedDateTime;
          void deceasedBoolean;
          return alive;
        }),
      };
      const without = figures(p, ind.code, ignored);
      expect({ numerator: without.numerator, denominator: without.denominator, value: without.value }, c.name).not.toEqual(c.expect);
    }
  });
});
