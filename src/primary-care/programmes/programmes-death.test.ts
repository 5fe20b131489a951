/**
 * A resident's day of death (Patient.deceasedDateTime) ends every programme episode on it, as a
 * status of 死亡 set by hand does: a programme enrolled by a record (hypertension), one enrolled by
 * age with stored rows (65+), and one enrolled implicitly (40+ stroke screening, where most of the
 * population has no stored rows and is counted from the person table). Figures are checked by
 * hand for who is in each year's population, and the per-episode summaries against the engine;
 * then a death recorded later through the API moves the figures, kept answers included.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { supersededItems } from './next-follow-up.js';
import { indicatorDrillDown, programmeIndicators } from './service.js';
import { residentItems } from './store.js';
import { districtApi } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const TODAY = todayInChina();
const ORGS: Record<string, string> = { 'org-east': '东街社区卫生服务中心', 'org-west': '西街社区卫生服务中心' };

interface Person {
  id: string;
  birth: string;
  deceasedDateTime?: string;
  deceasedBoolean?: boolean;
  org: keyof typeof ORGS;
}

const patient = (p: Person): Json => ({
  resourceType: 'Patient',
  id: p.id,
  name: [{ text: `居民${p.id}` }],
  gender: 'male',
  birthDate: p.birth,
  managingOrganization: { reference: `Organization/${p.org}` },
  ...(p.deceasedDateTime ? { deceasedDateTime: p.deceasedDateTime } : {}),
  ...(p.deceasedBoolean ? { deceasedBoolean: true } : {}),
});

const hypertension = (id: string, onset: string): Json => ({
  resourceType: 'Condition',
  id: `cond-${id}`,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
  code: { coding: [{ system: ICD, code: 'I10' }] },
  subject: { reference: `Patient/${id}` },
  onsetDateTime: onset,
});

const PEOPLE: Person[] = [
  // Hypertensive, died in July 2025 (a time with its offset: the day is read in that offset).
  { id: 'd-htn', birth: '1950-04-02', deceasedDateTime: '2025-07-15T10:00:00+08:00', org: 'org-east' },
  // 50, no records, died 1 June 2025: in 2025's 40+ population (enrolled until then), not in 2026's.
  { id: 'd-50', birth: '1975-03-10', deceasedDateTime: '2025-06-01', org: 'org-east' },
  // Died in February 2024 (a partial date: from its first day), before turning 40 on 2024-05-05: never in the 40+ population.
  { id: 'd-young', birth: '1984-05-05', deceasedDateTime: '2024-02', org: 'org-west' },
  // 70, died 30 September 2025: in 2025's 65+ population, not 2026's.
  { id: 'd-70', birth: '1955-01-20', deceasedDateTime: '2025-09-30', org: 'org-west' },
  // Dead without a day (deceasedBoolean): the day is unknown, so no episode is cut.
  { id: 'd-noday', birth: '1960-08-08', deceasedBoolean: true, org: 'org-west' },
  // Alive: 45, 68 and a hypertensive 60.
  { id: 'a-45', birth: '1980-02-02', org: 'org-east' },
  { id: 'a-68', birth: '1957-06-06', org: 'org-west' },
  { id: 'a-htn', birth: '1965-09-09', org: 'org-east' },
];

/** The sum of an indicator's denominators over the groups of an indicators answer. */
const denominators = (body: Json, indicator: string): number =>
  (body.values as { indicator: string; denominator: number }[])
    .filter((v) => v.indicator === indicator)
    .reduce((n, v) => n + v.denominator, 0);

describeEachStore('programme episodes end on the day of death', (server) => {
  const { get, writeDistrict, transaction } = districtApi(server);
  const programmes = () => loadProgrammes().filter((p) => ['hypertension', 'elderly-65', 'screening-stroke'].includes(p.code));

  beforeAll(async () => {
    await writeDistrict(ORGS, [
      ...PEOPLE.map(patient),
      hypertension('d-htn', '2019-03-01'),
      hypertension('a-htn', '2020-05-01'),
      hypertension('d-noday', '2021-01-10'),
    ]);
  });

  /** Every programme's figures and a drill-down page from the summaries, as the engine counts them over the facts. */
  const summariesEqualEngine = async () => {
    const db = server().db;
    const queries = [
      { period: '2025', groupBy: 'organization' as const },
      { period: '2024' },
      { period: '2026' },
      { period: '2025', asOf: '2025-08-01' },
    ];
    for (const p of programmes())
      for (const q of queries) {
        const label = `${p.code} ${JSON.stringify(q)}`;
        expect(await programmeIndicators(db, p, q, TODAY, 'summaries'), label).toEqual(
          await programmeIndicators(db, p, q, TODAY, 'engine'),
        );
        const drill = { ...q, limit: 10, offset: 0 };
        const code = p.indicators[0]!.code;
        expect(await indicatorDrillDown(db, p, code, drill, TODAY, 'summaries'), label).toEqual(
          await indicatorDrillDown(db, p, code, drill, TODAY, 'engine'),
        );
      }
    // Everyone's items (the due lists), dead or alive: the engine's listing equals virtualItemsSql's.
    const all = loadProgrammes();
    for (const asOf of ['2025-03-01', '2025-12-01', TODAY])
      for (const livingOnly of [true, false]) {
        const o = { livingOnly, superseded: supersededItems(all), implicit: all };
        const ids = PEOPLE.map((x) => x.id);
        expect(await residentItems(db, ids, asOf, 366, 365, o), `${asOf} ${livingOnly}`).toEqual(
          await residentItems(db, ids, asOf, 366, 365, { ...o, via: 'sql' }),
        );
      }
  };

  it('the hypertension episode of a resident who died ends on the day of death; one without a day stays open', async () => {
    const reg = await get('/api/programmes/hypertension/registry?asOf=2025-12-31&status=all&limit=50');
    const byId = new Map(reg.rows.map((r: Json) => [r.patientId, r]));
    expect(byId.get('d-htn')).toMatchObject({ startOn: '2019-03-01', endOn: '2025-07-15', deceased: true, deceasedOn: '2025-07-15' });
    expect(byId.get('d-noday')).toMatchObject({ startOn: '2021-01-10', endOn: null, deceased: true, deceasedOn: null });
    expect(byId.get('a-htn')).toMatchObject({ startOn: '2020-05-01', endOn: null, deceased: false, deceasedOn: null });
    // Enrolled implicitly, without records: the registry's episode of age ends on the day too, and one who died before 40 has none.
    const stroke = await get('/api/programmes/screening-stroke/registry?asOf=2025-12-31&status=all&limit=50');
    const strokeById = new Map(stroke.rows.map((r: Json) => [r.patientId, r]));
    expect(strokeById.get('d-50')).toMatchObject({ startOn: '2015-03-10', endOn: '2025-06-01', deceasedOn: '2025-06-01' });
    expect(strokeById.has('d-young')).toBe(false);
    // The active registry leaves every resident who died out.
    const active = await get('/api/programmes/hypertension/registry?asOf=2025-12-31&limit=50');
    expect(active.rows.map((r: Json) => r.patientId)).toEqual(['a-htn']);
  });

  it('each year counts the residents alive in it: who died is counted up to the day, and never after', async () => {
    const stroke = (period: string) => get(`/api/programmes/screening-stroke/indicators?period=${period}&indicator=stroke-screening-rate`);
    const elderly = (period: string) =>
      get(`/api/programmes/elderly-65/indicators?period=${period}&indicator=elderly-health-management-rate`);
    // 40+ in 2024: d-htn, d-50, d-70, d-noday, a-45, a-68, a-htn (d-young died before 40).
    expect(denominators(await stroke('2024'), 'stroke-screening-rate')).toBe(7);
    expect(denominators(await stroke('2025'), 'stroke-screening-rate')).toBe(7);
    // 2026: d-htn, d-50 and d-70 have died; d-noday's day is unknown, so it stays.
    expect(denominators(await stroke('2026'), 'stroke-screening-rate')).toBe(4);
    // 65+ (born 1961 or earlier, turning 65 by the year's end): d-htn (75), d-70, d-noday (turns 65 in 2025), a-68.
    expect(denominators(await elderly('2025'), 'elderly-health-management-rate')).toBe(4);
    expect(denominators(await elderly('2026'), 'elderly-health-management-rate')).toBe(2);
    await summariesEqualEngine();
  });

  it('a death recorded later through the API moves the figures, answers kept as records arrive included', async () => {
    const url = '/api/programmes/screening-stroke/indicators?period=2026&indicator=stroke-screening-rate';
    // Asked twice: the second answer is the kept one (counts.ts), which the death must then update.
    expect(denominators(await get(url), 'stroke-screening-rate')).toBe(4);
    expect(denominators(await get(url), 'stroke-screening-rate')).toBe(4);
    await transaction([patient({ id: 'a-45', birth: '1980-02-02', deceasedDateTime: '2025-11-20', org: 'org-east' })]);
    await server().processors.drain();
    expect(denominators(await get(url), 'stroke-screening-rate')).toBe(3);
    // 2025 still counts them: alive for most of it.
    expect(
      denominators(
        await get('/api/programmes/screening-stroke/indicators?period=2025&indicator=stroke-screening-rate'),
        'stroke-screening-rate',
      ),
    ).toBe(7);
    // Nothing of theirs is due at the desk any more.
    const due = await get(`/api/programmes/residents/a-45/due-services?asOf=${TODAY}&aheadDays=30`);
    expect(due.rows).toEqual([]);
    await summariesEqualEngine();
  });
});
