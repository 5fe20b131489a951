/**
 * Survival of cancer patients (cancer-patients.json five-year-survival-rate; criteria `survived`
 * and `survivalKnown`): a cohort registered in 2019 (and one in 2020) is written
 * through the FHIR API, some residents die (a day on the Patient, a status 死亡 set by hand, a death
 * without a day), some move away (a status 转出 by hand) before or after the anniversary. The
 * figures are counted here by hand, from the list below, and checked through the API (the engine:
 * 2019 is before the summaries' range) and from the summaries (store.ts survivalSql), which must
 * agree with the engine, drill-down included. A death recorded later, by the Patient or by hand,
 * moves the figures; a programme with survival keeps episodes that ended years ago.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes, parseProgramme } from './definition.js';
import { evaluateResident, survivalAt, type PersonFacts } from './engine.js';
import { indicatorDrillDown, programmeIndicators } from './service.js';
import { districtApi } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const TODAY = todayInChina();
const ORGS: Record<string, string> = { 'org-sv-east': '江苏路社区卫生服务中心', 'org-sv-west': '周家桥社区卫生服务中心' };
const SURVIVAL = 'five-year-survival-rate';

interface Person {
  id: string;
  /** The day the cancer was diagnosed (the episode's start). */
  onset: string;
  org: keyof typeof ORGS;
  deceasedDateTime?: string;
  deceasedBoolean?: boolean;
  /** A status set by hand through the registry route. */
  status?: { status: 'transferred' | 'died'; on: string };
}

// Registered in 2019; the 5-year anniversary is onset + 5 years.
const PEOPLE: Person[] = [
  { id: 'sv-alive-1', onset: '2019-03-10', org: 'org-sv-east' },
  { id: 'sv-alive-2', onset: '2019-11-20', org: 'org-sv-west' },
  // Died in 2020, within the first year.
  { id: 'sv-died-0', onset: '2019-12-01', org: 'org-sv-east', deceasedDateTime: '2020-05-20' },
  // Died in 2021 (an episode that ended long before the rows' ITEMS_SINCE).
  { id: 'sv-died-1', onset: '2019-04-01', org: 'org-sv-west', deceasedDateTime: '2021-08-15T09:30:00+08:00' },
  // Died on the 5-year anniversary itself: survived 5 years.
  { id: 'sv-died-on-t', onset: '2019-05-05', org: 'org-sv-east', deceasedDateTime: '2024-05-05' },
  // Died the day before it: not survived.
  { id: 'sv-died-eve', onset: '2019-06-06', org: 'org-sv-west', deceasedDateTime: '2024-06-05' },
  // Died after it (and after asOf 2025-06-30): survived.
  { id: 'sv-died-late', onset: '2019-07-07', org: 'org-sv-east', deceasedDateTime: '2026-01-10' },
  // Dead, day unknown: censored (out of every denominator).
  { id: 'sv-noday', onset: '2019-02-02', org: 'org-sv-west', deceasedBoolean: true },
  // Moved away in 2022, no death known: censored.
  { id: 'sv-moved', onset: '2019-08-08', org: 'org-sv-east', status: { status: 'transferred', on: '2022-03-01' } },
  // Moved away after the 5-year anniversary: seen alive on it.
  { id: 'sv-moved-late', onset: '2019-09-09', org: 'org-sv-west', status: { status: 'transferred', on: '2025-01-15' } },
  // 死亡 set by hand in 2023, the Patient alive: dead at 5 years.
  { id: 'sv-died-hand', onset: '2019-10-10', org: 'org-sv-east', status: { status: 'died', on: '2023-02-02' } },
  // Moved away in 2020, the Patient's day of death in 2022 (the death registry): dead at 5 years.
  {
    id: 'sv-moved-died',
    onset: '2019-01-15',
    org: 'org-sv-west',
    status: { status: 'transferred', on: '2020-06-01' },
    deceasedDateTime: '2022-12-12',
  },
  // The 2020 cohort: followed 5 years by 2025-06-30, and one not yet.
  { id: 'sv-2020', onset: '2020-03-03', org: 'org-sv-east' },
  { id: 'sv-2020-short', onset: '2020-12-01', org: 'org-sv-west' },
];

const patient = (p: Person, extra: Json = {}): Json => ({
  resourceType: 'Patient',
  id: p.id,
  name: [{ text: `居民${p.id}` }],
  gender: 'female',
  birthDate: '1955-05-05',
  managingOrganization: { reference: `Organization/${p.org}` },
  ...(p.deceasedDateTime ? { deceasedDateTime: p.deceasedDateTime } : {}),
  ...(p.deceasedBoolean ? { deceasedBoolean: true } : {}),
  ...extra,
});

const cancer = (p: Person): Json => ({
  resourceType: 'Condition',
  id: `cond-${p.id}`,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
  code: { coding: [{ system: ICD, code: 'C34.1' }] },
  subject: { reference: `Patient/${p.id}` },
  onsetDateTime: p.onset,
});

/** The figure of one indicator over every group of an indicators answer. */
const figure = (body: Json, code: string) => {
  const rows = (body.values as { indicator: string; numerator: number; denominator: number; value: number | null }[]).filter(
    (v) => v.indicator === code,
  );
  return { numerator: rows.reduce((n, v) => n + v.numerator, 0), denominator: rows.reduce((n, v) => n + v.denominator, 0) };
};

describe('survival criteria, refused where they cannot mean anything', () => {
  const base = {
    code: 'x',
    name: 'x',
    source: 'x',
    services: { v: { name: 'v', match: [{ resource: 'Encounter', system: ICD, codes: ['Z00'] }] } },
    versions: [
      {
        version: '1',
        effectiveFrom: '2020-01-01',
        source: 'x',
        schedule: { cycle: 'year', items: [{ code: 'y', name: 'y', service: 'v', from: '0m', to: '12m' }] },
        managed: { name: 'm', allItemsDelivered: true },
      },
    ],
  };
  const indicator = (den: Json[], num: Json[]) => ({
    code: 's',
    name: 's',
    source: 's',
    denominator: { population: 'started', where: den, text: 'd' },
    numerator: { where: num, text: 'n' },
    whenDenominatorZero: 'null',
  });
  const byFact = { anchor: 'fact', facts: [{ resource: 'Condition', system: ICD, prefixes: ['C'] }] };
  const parse = (entry: Json, ind: Json) =>
    parseProgramme('x.json', JSON.stringify({ ...base, entry, indicators: [ind] }, null, 2), { complete: false });

  it('needs survivalKnown of the same years in the denominator, whole years of at least 1, and an entry on a fact', () => {
    expect(() => parse(byFact, indicator([{ survivalKnown: { years: 5 } }], [{ survived: { years: 5 } }]))).not.toThrow();
    expect(() => parse(byFact, indicator([], [{ survived: { years: 5 } }]))).toThrow(
      /x\.json:\d+: .*needs \{ "survivalKnown": \{ "years": 5 \} \}/,
    );
    expect(() => parse(byFact, indicator([{ survivalKnown: { years: 3 } }], [{ survived: { years: 5 } }]))).toThrow(/survivalKnown/);
    expect(() => parse(byFact, indicator([{ survivalKnown: { years: 0 } }], [{ survived: { years: 0 } }]))).toThrow();
    expect(() => parse(byFact, indicator([{ survivalKnown: { years: 2.5 } }], [{ survived: { years: 2.5 } }]))).toThrow();
    expect(() =>
      parse({ anchor: 'birth', ageYears: { min: 65 } }, indicator([{ survivalKnown: { years: 5 } }], [{ survived: { years: 5 } }])),
    ).toThrow(/entry anchored on a fact/);
  });

  it('judges the outcome at the anniversary (the 29th of February gives the 28th), as known by asOf', () => {
    const p = loadProgrammes().find((x) => x.code === 'cancer-patients')!;
    const person = (o: Partial<PersonFacts> = {}): PersonFacts => ({
      patientId: 'a',
      name: null,
      birthDate: '1950-01-01',
      gender: 'male',
      areaCode: null,
      organizationId: null,
      deceased: false,
      ...o,
    });
    const fact = {
      ref: 'Condition/c',
      resourceType: 'Condition',
      codes: [`${ICD}|C34.1`],
      start: '2020-02-29',
      end: null,
      active: true,
      valueCodes: [],
      valueNum: null,
    };
    const at = (who: PersonFacts, asOf: string, years: number, reg?: Parameters<typeof evaluateResident>[6]) =>
      survivalAt(who, evaluateResident(p, who, [fact], asOf, undefined, asOf, reg)[0]!, years, asOf);
    expect(at(person(), '2021-02-27', 1)).toBe('unknown');
    expect(at(person(), '2021-02-28', 1)).toBe('alive');
    expect(at(person({ deceasedOn: '2021-02-27' }), '2021-03-01', 1)).toBe('dead');
    expect(at(person({ deceasedOn: '2021-02-28' }), '2021-03-01', 1)).toBe('alive');
    expect(at(person({ deceased: true }), '2025-03-01', 1)).toBe('unknown');
    const moved = { enrolledOn: null, status: 'transferred' as const, statusOn: '2020-12-01' };
    expect(at(person(), '2025-03-01', 1, moved)).toBe('unknown');
    expect(at(person({ deceasedOn: '2023-01-01' }), '2025-03-01', 1, moved)).toBe('alive');
    expect(at(person(), '2025-03-01', 1, { ...moved, status: 'died' })).toBe('dead');
  });
});

describeEachStore('cancer survival rates', (server) => {
  const { get, writeDistrict, transaction } = districtApi(server);
  const cancerPatients = () => loadProgrammes().find((p) => p.code === 'cancer-patients')!;
  const setStatus = async (id: string, body: Json) => {
    const res = await server().api(`/api/programmes/cancer-patients/registry/${id}`, { method: 'PUT', body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const indicators = (period: string, asOf: string) =>
    get(`/api/programmes/cancer-patients/indicators?period=${period}&asOf=${asOf}&indicator=${SURVIVAL}&groupBy=organization`);

  beforeAll(async () => {
    await writeDistrict(ORGS, [...PEOPLE.map((p) => patient(p)), ...PEOPLE.map(cancer)]);
    for (const p of PEOPLE) if (p.status) await setStatus(p.id, p.status);
  });

  /** Both ways of counting (the engine over the facts, SQL over the summaries), drill-downs included, agree. */
  const summariesEqualEngine = async () => {
    const db = server().db;
    const p = cancerPatients();
    for (const q of [
      { period: '2019', asOf: '2025-06-30' },
      { period: '2019', asOf: '2024-06-30', groupBy: 'organization' as const },
      { period: '2019', asOf: '2020-12-31' },
      { period: '2020', asOf: '2025-06-30' },
      { period: '2019' },
    ]) {
      const label = JSON.stringify(q);
      const engine = await programmeIndicators(db, p, { ...q, indicator: SURVIVAL }, TODAY, 'engine');
      expect(await programmeIndicators(db, p, { ...q, indicator: SURVIVAL }, TODAY, 'summaries'), label).toEqual(engine);
      for (const code of SURVIVAL.split(','))
        for (const numerator of [undefined, 'true', 'false'] as const) {
          const drill = { ...q, limit: 50, offset: 0, ...(numerator ? { numerator } : {}) };
          expect(await indicatorDrillDown(db, p, code, drill, TODAY, 'summaries'), `${label} ${code} ${numerator}`).toEqual(
            await indicatorDrillDown(db, p, code, drill, TODAY, 'engine'),
          );
        }
    }
  };

  it('counts the 2019 cohort by hand: deaths before the anniversary, on it and after it, moves and a death without a day', async () => {
    const body = await indicators('2019', '2025-06-30');
    // 5 years: sv-noday and sv-moved are censored; dead before the anniversary: sv-died-0, sv-died-1, sv-died-eve,
    // sv-died-hand, sv-moved-died; alive on it: sv-alive-1, sv-alive-2, sv-died-on-t, sv-died-late, sv-moved-late.
    expect(figure(body, 'five-year-survival-rate')).toEqual({ numerator: 5, denominator: 10 });
    expect(body.values.filter((v: Json) => v.indicator === 'five-year-survival-rate')).toEqual([
      expect.objectContaining({ group: 'org-sv-east', numerator: 3, denominator: 5, value: 60 }),
      expect.objectContaining({ group: 'org-sv-west', numerator: 2, denominator: 5, value: 40 }),
    ]);
    // On 2024-06-30 only those registered by 2019-06-30 have been followed 5 years: sv-alive-1, sv-died-1,
    // sv-died-on-t, sv-died-eve and sv-moved-died (sv-noday censored); alive: sv-alive-1, sv-died-on-t.
    expect(figure(await indicators('2019', '2024-06-30'), 'five-year-survival-rate')).toEqual({ numerator: 2, denominator: 5 });
    // The 2020 cohort: sv-2020 followed 5 years, sv-2020-short not yet.
    expect(figure(await indicators('2020', '2025-06-30'), 'five-year-survival-rate')).toEqual({ numerator: 1, denominator: 1 });
    // No cohort followed long enough: no figure.
    const young = await indicators('2019', '2020-12-31');
    expect(young.values.filter((v: Json) => v.indicator === 'five-year-survival-rate')).toEqual([]);
    const total = await get(`/api/programmes/cancer-patients/indicators?period=2019&asOf=2020-12-31&indicator=five-year-survival-rate`);
    expect(total.values).toEqual([expect.objectContaining({ group: 'total', numerator: 0, denominator: 0, value: null })]);
    // The indicators are listed with their names (the screen shows them as the API gives them).
    expect(body.definitions.map((d: Json) => [d.code, d.name])).toEqual([['five-year-survival-rate', '肿瘤患者5年生存率']]);
    await summariesEqualEngine();
  });

  it('keeps the episodes of residents who died years ago in the registry and in the counts', async () => {
    const ended = await get('/api/programmes/cancer-patients/registry?status=all&limit=50');
    const byId = new Map(ended.rows.map((r: Json) => [r.patientId, r]));
    expect(byId.get('sv-died-0')).toMatchObject({ startOn: '2019-12-01', endOn: '2020-05-20' });
    expect(byId.get('sv-died-1')).toMatchObject({ startOn: '2019-04-01', endOn: '2021-08-15' });
    expect(byId.get('sv-moved')).toMatchObject({ endOn: '2022-03-01' });
  });

  it('a death recorded later, on the Patient or by hand, moves the figures; undoing the status moves them back', async () => {
    const db = server().db;
    const p = cancerPatients();
    const q = { period: '2019', asOf: '2025-06-30', indicator: SURVIVAL };
    const five = async () => {
      // Asked twice through the summaries: a second answer would be a kept one (counts.ts), if survival were kept.
      await programmeIndicators(db, p, q, TODAY, 'summaries');
      const kept = await programmeIndicators(db, p, q, TODAY, 'summaries');
      const api = await indicators('2019', '2025-06-30');
      expect(figure(kept, 'five-year-survival-rate')).toEqual(figure(api, 'five-year-survival-rate'));
      return figure(api, 'five-year-survival-rate');
    };
    expect(await five()).toEqual({ numerator: 5, denominator: 10 });
    // The Patient's day of death, before the anniversary.
    await transaction([patient(PEOPLE[0]!, { deceasedDateTime: '2023-03-03' })]);
    await server().processors.drain();
    expect(await five()).toEqual({ numerator: 4, denominator: 10 });
    // 死亡 by hand before the anniversary.
    await setStatus('sv-alive-2', { status: 'died', on: '2022-02-02' });
    expect(await five()).toEqual({ numerator: 3, denominator: 10 });
    // Moved away (no death known) instead: censored, out of the denominator.
    await setStatus('sv-alive-2', { status: 'transferred', on: '2022-02-02' });
    expect(await five()).toEqual({ numerator: 3, denominator: 9 });
    // Managed again: alive on the anniversary.
    await setStatus('sv-alive-2', { status: 'managed' });
    expect(await five()).toEqual({ numerator: 4, denominator: 10 });
    await summariesEqualEngine();
  });
});
