/**
 * Counts kept as records arrive (counts.ts): every indicator answer kept from the summaries stays
 * equal to the same answer counted afresh after each kind of change a district makes — a new
 * resident of the screening age, a new screening record, a resident's birth date and centre
 * corrected, a record deleted, a death set by hand, the periodic refresh, a full recompute — for
 * a programme enrolled by age (stroke screening) and one with stored episodes of age (65+), by total, centre
 * and street, for two periods.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { refreshStale, recomputeProgrammes } from './refresh.js';
import { districtApi, draws } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const RESULT = 'https://yifang.health/fhir/CodeSystem/screening-result';
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const TODAY = todayInChina();
const YEAR = Number(TODAY.slice(0, 4));
const CENTRES: Record<string, string> = { 'org-east': '东街社区卫生服务中心', 'org-west': '西街社区卫生服务中心' };
const STREETS = ['110101001', '110101002'];

const { pick, chance, between, day, anyDay } = draws(20261207);
const resources: Json[] = [];
let seq = 0;
const patients: Json[] = [];
function patient(age: number): Json {
  const r = {
    resourceType: 'Patient',
    id: `cp-${++seq}`,
    name: [{ text: `居民${seq}` }],
    gender: pick(['male', 'female']),
    birthDate: anyDay(YEAR - age),
    managingOrganization: { reference: `Organization/${pick(Object.keys(CENTRES))}` },
    address: [{ use: 'home', extension: [{ url: AREA, valueString: `${pick(STREETS)}001` }] }],
  };
  resources.push(r);
  patients.push(r);
  return r;
}
const strokeAssessment = (p: Json, date: string, result: string): Json => ({
  resourceType: 'Observation',
  id: `cobs-${++seq}`,
  status: 'final',
  code: { coding: [{ system: OBS, code: 'stroke-risk-assessment' }] },
  subject: { reference: `Patient/${p.id}` },
  effectiveDateTime: date,
  valueCodeableConcept: { coding: [{ system: RESULT, code: result }] },
});
const healthCheck = (p: Json, date: string): Json => ({
  resourceType: 'Encounter',
  id: `cenc-${++seq}`,
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  type: [{ coding: [{ system: SERVICE, code: 'elderly-health-check' }] }],
  subject: { reference: `Patient/${p.id}` },
  period: { start: date },
});

for (let k = 0; k < 40; k++) {
  const p = patient(between(30, 85));
  if (chance(0.5)) resources.push(strokeAssessment(p, day(YEAR - 1, between(1, 9)), pick(['low-risk', 'high-risk'])));
  if (chance(0.6)) resources.push(healthCheck(p, day(YEAR - 1, between(2, 11))));
}

const QUERIES = ['screening-stroke', 'elderly-65'].flatMap((code) =>
  ['total', 'organization', 'area'].flatMap((groupBy) =>
    [String(YEAR - 1), String(YEAR)].map((period) => `/api/programmes/${code}/indicators?groupBy=${groupBy}&period=${period}`),
  ),
);

describeEachStore('indicator answers kept as records arrive', (server) => {
  const api = districtApi(server);
  const db = () => server().db;
  const programmes = loadProgrammes();
  const figures = (body: Json) => body.values.map((v: Json) => [v.indicator, v.group, v.numerator, v.denominator]);

  /** Every query asked, so that its answer is kept; the answers. */
  async function askAll() {
    const out = [];
    for (const q of QUERIES) out.push(figures(await api.get(q)));
    return out;
  }

  /**
   * After a change: some answer moved (unless `before` is null), and every one, answered from what
   * is kept, equals the same query counted with nothing kept.
   */
  async function expectKeptEqualFresh(step: string, before: unknown[] | null) {
    await server().processors.drain();
    const kept = await askAll();
    if (before) expect(kept, `${step} changes some figure`).not.toEqual(before);
    expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n), step).toBe(QUERIES.length);
    await db().query('DELETE FROM prog_count_cache');
    for (const [k, q] of QUERIES.entries()) expect(kept[k], `${step}: ${q}`).toEqual(figures(await api.get(q)));
  }

  beforeAll(async () => {
    await api.writeDistrict(CENTRES, resources);
  });

  it('keeps what it was asked, by total, centre and street, and never by team', async () => {
    for (const q of QUERIES) await api.get(q);
    // Two programmes × three groupings × two periods; the answers by team are counted each time.
    expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n)).toBe(QUERIES.length);
    await api.get(`/api/programmes/screening-stroke/indicators?groupBy=team&period=${YEAR - 1}`);
    expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n)).toBe(QUERIES.length);
    // Asked again, the same answer comes from what is kept.
    const first = figures(await api.get(QUERIES[0]!));
    await db().query(`UPDATE prog_count_cache SET counts = '{}'::jsonb`);
    expect(figures(await api.get(QUERIES[0]!))).not.toEqual(first);
    await db().query('DELETE FROM prog_count_cache');
  });

  it('stays equal to a fresh count through every kind of change', async () => {
    let before = await askAll();
    // A new resident of the screening age, another below it, and a screening and a follow-up this year.
    const a = patient(52);
    const b = patient(35);
    await api.transaction([a, b, strokeAssessment(a, TODAY, 'high-risk'), strokeAssessment(patients[0]!, TODAY, 'low-risk')]);
    await expectKeptEqualFresh('new residents and screenings', before);

    // A birth date corrected across the 40th birthday, and a change of centre and street.
    before = await askAll();
    const moved: Json = { ...b, birthDate: `${YEAR - 61}-05-05`, managingOrganization: { reference: 'Organization/org-east' } };
    moved.address = [{ use: 'home', extension: [{ url: AREA, valueString: `${STREETS[1]}009` }] }];
    const older = patients.find((p) => Number(p.birthDate.slice(0, 4)) < YEAR - 45)!;
    await api.transaction([moved, { ...older, birthDate: `${YEAR - 38}-02-02` }]);
    older.birthDate = `${YEAR - 38}-02-02`;
    await expectKeptEqualFresh('birth dates and centres corrected', before);

    // A screening record deleted, a health check added.
    before = await askAll();
    const ageOf = (ref: string) => YEAR - Number(patients.find((p) => `Patient/${p.id}` === ref)!.birthDate.slice(0, 4));
    const assessed = resources.find((r) => r.resourceType === 'Observation' && ageOf(r.subject.reference) > 45)!;
    expect((await server().api(`/fhir/Observation/${assessed.id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    const c = patients.find(
      (p) =>
        ageOf(`Patient/${p.id}`) > 70 &&
        !resources.some((r) => r.resourceType === 'Encounter' && r.subject.reference === `Patient/${p.id}`),
    )!;
    await api.transaction([healthCheck(c, `${YEAR - 1}-06-06`)]);
    await expectKeptEqualFresh('a record deleted, a health check added', before);

    // A death set by hand in the 65+ registry.
    before = await askAll();
    // One checked last year: dying in its first week takes the check out of that year's figures.
    const followed = resources.find(
      (r) => r.resourceType === 'Encounter' && ageOf(r.subject.reference) > 67 && r.period.start > `${YEAR - 1}-01-05`,
    )!;
    const died = followed.subject.reference.slice('Patient/'.length) as string;
    const res = await server().api(`/api/programmes/elderly-65/registry/${died}`, {
      method: 'PUT',
      body: JSON.stringify({ status: 'died', on: `${YEAR - 1}-01-05` }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await expectKeptEqualFresh('a death by hand', before);

    // The periodic refresh, every resident at once (asked first, so every answer is kept; the
    // rows are already current, so no figure need move).
    await askAll();
    await refreshStale(db(), programmes, TODAY, { olderThanDays: -1, batch: 1000 });
    await expectKeptEqualFresh('the refresh', null);
  });

  it('forgets everything on a full recompute, and keeps no answer counted while a writer was in flight', async () => {
    for (const q of QUERIES) await api.get(q);
    await recomputeProgrammes(db(), programmes, TODAY, { thread: false });
    expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n)).toBe(0);
    if (db().kind !== 'postgres') return;
    // A writer holding the counter: the answer is given but not kept (it may miss the writer's change).
    await db().transaction(async (c) => {
      await c.query('UPDATE prog_count_gen SET gen = gen + 1');
      await api.get(QUERIES[0]!);
      expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n)).toBe(0);
    });
    await api.get(QUERIES[0]!);
    expect(Number((await db().query(`SELECT count(*) AS n FROM prog_count_cache`)).rows[0].n)).toBe(1);
  });
});
