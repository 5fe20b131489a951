/**
 * Every programme's indicators against an independent reference: a seeded small district is
 * written through the FHIR API (transaction Bundles), the processors derive enrolments, and
 * each figure the API gives is compared, group by group, with a count made here in plain loops
 * straight from the records written and the norm's wording (nothing of the engine is used).
 * Then the worklist, registry, a resident's due services, drill-down and incremental updates.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { recomputeProgrammes, refreshStale } from './refresh.js';
import { indicatorDrillDown, programmeIndicators } from './service.js';
import { derivedSpan, refreshResidents, summariesCover } from './store.js';
import { keepCounts } from './counts.js';
import { districtApi, draws, expectFigures, plusDays, plusMonths } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const PERIOD = { from: '2025-01-01', to: '2025-12-31' };
const TODAY = todayInChina();

// ---- dates, by hand (birth and onset days are kept ≤ 28, so months never need clamping) --------
const inPeriod = (d: string) => d >= PERIOD.from && d <= PERIOD.to;

// ---- a seeded district ---------------------------------------------------------------------
const { pick, chance, between, day } = draws(20251206);

const CENTRES: Record<string, string> = { 'org-east': '东街社区卫生服务中心', 'org-west': '西街社区卫生服务中心' };
const ORGS = Object.keys(CENTRES);
const STREETS = ['110105001', '110105002'];
const resources: Json[] = [];
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}`;

interface Resident {
  id: string;
  org: string;
  birth: string;
  gender: 'male' | 'female';
}
function patient(birth: string, gender: 'male' | 'female'): Resident {
  const r = { id: id('pt'), org: pick(ORGS), birth, gender };
  resources.push({
    resourceType: 'Patient',
    id: r.id,
    name: [{ text: `居民${seq}` }],
    gender,
    birthDate: birth,
    managingOrganization: { reference: `Organization/${r.org}` },
    address: [{ use: 'home', extension: [{ url: AREA, valueString: `${pick(STREETS)}${String(between(1, 9)).padStart(3, '0')}` }] }],
  });
  return r;
}
interface Visit {
  code: string;
  date: string;
  status: string;
}
function encounter(r: Resident, code: string, date: string, status = 'finished'): Visit {
  resources.push({
    resourceType: 'Encounter',
    id: id('enc'),
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: SERVICE, code }] }],
    subject: { reference: `Patient/${r.id}` },
    period: { start: date },
  });
  return { code, date, status };
}
function condition(r: Resident, icd: string, onset: string, abatement?: string, clinical?: string) {
  resources.push({
    resourceType: 'Condition',
    id: id('cond'),
    clinicalStatus: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical ?? (abatement ? 'resolved' : 'active') },
      ],
    },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ system: ICD, code: icd }] },
    subject: { reference: `Patient/${r.id}` },
    onsetDateTime: onset,
    ...(abatement ? { abatementDateTime: abatement } : {}),
  });
}
function assessment(r: Resident, code: string, valueSystem: string, value: string, date: string) {
  resources.push({
    resourceType: 'Observation',
    id: id('obs'),
    status: 'final',
    code: { coding: [{ system: OBS, code }] },
    subject: { reference: `Patient/${r.id}` },
    effectiveDateTime: date,
    valueCodeableConcept: { coding: [{ system: valueSystem, code: value }] },
  });
}

// Children born 2018–2025, with some of their checkups at ages near or off the norm's.
const CHILD_ITEMS: [string, number, 'd' | 'm', number, 'd' | 'm'][] = [
  ['newborn-visit', 0, 'd', 28, 'd'],
  ['child-checkup', 28, 'd', 2, 'm'],
  ['child-checkup', 2, 'm', 5, 'm'],
  ['child-checkup', 5, 'm', 7, 'm'],
  ['child-checkup', 7, 'm', 10, 'm'],
  ['child-checkup', 10, 'm', 15, 'm'],
  ['child-checkup', 15, 'm', 21, 'm'],
  ['child-checkup', 21, 'm', 27, 'm'],
  ['child-checkup', 27, 'm', 33, 'm'],
  ['child-checkup', 33, 'm', 42, 'm'],
  ['child-checkup', 42, 'm', 54, 'm'],
  ['child-checkup', 54, 'm', 66, 'm'],
  ['child-checkup', 66, 'm', 84, 'm'],
];
const SCREENING_RESULT = 'https://yifang.health/fhir/CodeSystem/screening-result';
const at = (birth: string, n: number, unit: 'd' | 'm') => (unit === 'd' ? plusDays(birth, n) : plusMonths(birth, n));
const children = Array.from({ length: 45 }, () => {
  const r = patient(day(between(2018, 2025), between(1, 11)), pick(['male', 'female'] as const));
  const visits: Visit[] = [];
  if (chance(0.8)) visits.push(encounter(r, 'newborn-visit', plusDays(r.birth, between(2, 30))));
  const screened: string[] = [];
  for (const [k, [, n, u]] of CHILD_ITEMS.slice(1).entries())
    if (chance(0.75)) {
      const v = encounter(r, 'child-checkup', plusDays(at(r.birth, n, u), between(-10, 40)), chance(0.05) ? 'cancelled' : 'finished');
      visits.push(v);
      // 孤独症初筛 at most checks from 3 months on (the 1-month check has none), some positive.
      // (Not drawn from the seeded stream, so the other figures stay as they were.)
      const h = [...`${r.id}:${k}`].reduce((x, ch) => (x * 31 + ch.charCodeAt(0)) % 1000, 7);
      if (k >= 1 && h % 5 !== 0) {
        assessment(r, 'development-warning-signs', SCREENING_RESULT, h % 9 === 0 ? 'positive' : 'negative', v.date);
        screened.push(v.date);
      }
    }
  return { r, visits: visits.filter((v) => v.date <= TODAY), screened: screened.filter((d) => d <= TODAY) };
});

// Pregnancies starting 2024-03 to 2025-04; most delivered (the Condition resolved on the delivery day).
const pregnancies = Array.from({ length: 40 }, () => {
  const r = patient(day(between(1985, 2000), between(1, 12)), 'female');
  const start = day(pick([2024, 2025]), between(1, 4) + (chance(0.5) ? 2 : 0));
  const delivered = chance(0.85) ? plusDays(start, between(250, 290)) : undefined;
  const highRisk = chance(0.4);
  condition(r, highRisk && chance(0.5) ? 'Z35.9' : 'Z34.0', start, delivered);
  let flagged = highRisk;
  if (highRisk && !resources.at(-1)!.code.coding[0].code.startsWith('Z35')) {
    resources.push({
      resourceType: 'Flag',
      id: id('flag'),
      status: 'active',
      code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/programme-flag', code: 'high-risk-pregnancy' }] },
      subject: { reference: `Patient/${r.id}` },
      period: { start: plusDays(start, between(30, 120)) },
    });
    flagged = true;
  }
  const visits: Visit[] = [];
  for (const week of [8, 11, 14, 18, 23, 30, 34, 38, 40])
    if (chance(0.65)) visits.push(encounter(r, 'antenatal-care', plusDays(start, week * 7 + between(-6, 6))));
  if (delivered) {
    if (chance(0.75)) visits.push(encounter(r, 'postpartum-visit', plusDays(delivered, between(2, 35))));
    if (chance(0.6)) visits.push(encounter(r, 'postpartum-42d-check', plusDays(delivered, between(38, 48))));
  }
  if (flagged && chance(0.6)) visits.push(encounter(r, 'high-risk-case-management', plusDays(start, between(60, 200))));
  return { r, start, delivered, highRisk: flagged, visits: visits.filter((v) => v.date <= TODAY) };
});
// A man with a pregnancy code (a coding error) never enters maternal care.
const man = patient('1990-02-02', 'male');
condition(man, 'Z34.0', '2025-01-05', '2025-10-01');

// People born 1940–1962 (65 reached before or during 2025, or not yet), with yearly checks.
const elderly = Array.from({ length: 35 }, () => {
  const r = patient(day(between(1940, 1962), between(1, 12)), pick(['male', 'female'] as const));
  const visits: Visit[] = [];
  for (const y of [2024, 2025]) if (chance(0.6)) visits.push(encounter(r, 'elderly-health-check', day(y, between(1, 12))));
  return { r, visits };
});

// Severe mental disorders diagnosed 2021–2025, with follow-ups and 病情 assessments; some in
// remission or inactive, who stay in the registry all the same (the norm manages every diagnosed patient).
const MENTAL = ['F20.0', 'F31.1', 'F25.0', 'F22.0', 'F71.0'];
const mental = Array.from({ length: 30 }, (_, k) => {
  const r = patient(day(between(1961, 2000), between(1, 12)), pick(['male', 'female'] as const));
  const onset = day(between(2021, 2025), between(1, 11));
  condition(r, pick(MENTAL), onset, undefined, k % 4 === 1 ? 'remission' : k % 7 === 3 ? 'inactive' : undefined);
  const visits: Visit[] = [];
  const assessments: { date: string; value: string }[] = [];
  // Some patients are never seen in the year.
  const seen = chance(0.85);
  for (let m = 1; m <= 12; m += between(2, 4))
    if (seen && chance(0.85)) {
      const date = day(2025, m);
      visits.push(encounter(r, 'mental-follow-up', date));
      if (chance(0.8) && !assessments.some((a) => a.date === date)) {
        const value = pick(['stable', 'stable', 'basically-stable', 'unstable']);
        assessment(r, 'mental-condition', 'https://yifang.health/fhir/CodeSystem/mental-condition', value, date);
        assessments.push({ date, value });
      }
    }
  return { r, onset, visits, assessments };
});
// Not a severe mental disorder (depression): never enters.
const depressed = patient('1970-03-03', 'female');
condition(depressed, 'F32.1', '2025-02-02');

// Pulmonary tuberculosis diagnosed 2024-05 to 2025-10, six-month courses, outcomes after them.
const tb = Array.from({ length: 30 }, () => {
  const r = patient(day(between(1961, 2005), between(1, 12)), pick(['male', 'female'] as const));
  const onset = day(pick([2024, 2025]), between(5, 10));
  const end = plusMonths(onset, 6);
  const outcome = end <= TODAY && chance(0.85) ? pick(['cured', 'completed', 'completed', 'failed', 'lost']) : null;
  const outcomeOn = outcome ? plusDays(end, between(0, 20)) : null;
  condition(r, pick(['A15.0', 'A15.3', 'A16.2']), onset, outcome && ['cured', 'completed'].includes(outcome) ? outcomeOn! : undefined);
  const visits: Visit[] = [];
  // Some patients are never visited (not yet taken into management).
  const managed = chance(0.85);
  if (managed && chance(0.8)) visits.push(encounter(r, 'tb-visit', plusDays(onset, between(0, 4))));
  for (let m = 1; m <= 6; m++)
    if (managed && chance(0.8)) visits.push(encounter(r, 'tb-visit', plusDays(plusMonths(onset, m - 1), between(5, 28))));
  if (outcome) assessment(r, 'tb-treatment-outcome', 'https://yifang.health/fhir/CodeSystem/tb-outcome', outcome, outcomeOn!);
  return { r, onset, end, outcome, outcomeOn, visits: visits.filter((v) => v.date <= TODAY) };
});

// ---- the reference: plain loops over what was written ---------------------------------------
type Tally = Map<string, { n: number; d: number }>;
function tally(rows: { org: string; inNumerator: boolean }[]): { group: string; numerator: number; denominator: number }[] {
  const t: Tally = new Map();
  for (const r of rows) {
    const g = t.get(r.org) ?? { n: 0, d: 0 };
    g.d++;
    if (r.inNumerator) g.n++;
    t.set(r.org, g);
  }
  return [...t].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => ({ group, numerator: g.n, denominator: g.d }));
}
const done = (vs: Visit[], code: string, from: string, to: string) =>
  vs.some((v) => v.status === 'finished' && v.code === code && v.date >= from && v.date < to);
const count = (vs: Visit[], code: string, from: string, to: string) =>
  vs.filter((v) => v.status === 'finished' && v.code === code && v.date >= from && v.date <= to).length;

function referenceFigures(): Record<string, Record<string, ReturnType<typeof tally>>> {
  const until = PERIOD.to < TODAY ? PERIOD.to : TODAY;
  // Children: 新生儿访视率, 儿童健康管理率, 3岁以下儿童系统管理率.
  const born = children.filter((c) => inPeriod(c.r.birth));
  const enrolledKids = children.filter((c) => c.r.birth <= until && plusMonths(c.r.birth, 84) > PERIOD.from);
  const under3 = enrolledKids.filter((c) => plusMonths(c.r.birth, 36) > until);
  const child = {
    'newborn-visit-rate': tally(
      born.map((c) => ({ org: c.r.org, inNumerator: done(c.visits, 'newborn-visit', c.r.birth, plusDays(c.r.birth, 28)) })),
    ),
    'child-health-management-rate': tally(
      enrolledKids.map((c) => ({
        org: c.r.org,
        inNumerator: c.visits.some((v) => v.status === 'finished' && v.date >= PERIOD.from && v.date <= until && v.date >= c.r.birth),
      })),
    ),
    'autism-initial-screening-rate': tally(
      enrolledKids
        .filter((c) => plusMonths(c.r.birth, 3) <= until)
        .filter((c) =>
          c.visits.some(
            (v) =>
              v.status === 'finished' &&
              v.code === 'child-checkup' &&
              v.date >= PERIOD.from &&
              v.date <= until &&
              v.date < plusMonths(c.r.birth, 84),
          ),
        )
        .map((c) => ({
          org: c.r.org,
          inNumerator: c.screened.some((d) => d >= PERIOD.from && d <= until && d < plusMonths(c.r.birth, 84)),
        })),
    ),
    'child-system-management-rate': tally(
      under3.map((c) => {
        const closing = CHILD_ITEMS.map(([code, a, au, b, bu]) => ({ code, from: at(c.r.birth, a, au), to: at(c.r.birth, b, bu) })).filter(
          (w) => plusDays(w.to, -1) >= PERIOD.from && plusDays(w.to, -1) <= until,
        );
        return { org: c.r.org, inNumerator: closing.length > 0 && closing.every((w) => done(c.visits, w.code, w.from, w.to)) };
      }),
    ),
  };
  // Maternal: deliveries in the period are the denominators.
  const deliveredInPeriod = pregnancies.filter((p) => p.delivered && p.delivered >= PERIOD.from && p.delivered <= until);
  const early = (p: (typeof pregnancies)[number]) =>
    done(p.visits, 'antenatal-care', p.start, [plusDays(p.start, 91), p.delivered!].sort()[0]!);
  const postpartum = (p: (typeof pregnancies)[number]) => done(p.visits, 'postpartum-visit', p.delivered!, plusDays(p.delivered!, 28));
  const enrolmentEnd = (p: (typeof pregnancies)[number]) => plusDays(p.delivered!, 57);
  const maternal = {
    'early-registration-rate': tally(deliveredInPeriod.map((p) => ({ org: p.r.org, inNumerator: early(p) }))),
    'postpartum-visit-rate': tally(deliveredInPeriod.map((p) => ({ org: p.r.org, inNumerator: postpartum(p) }))),
    'system-management-rate': tally(
      deliveredInPeriod.map((p) => ({
        org: p.r.org,
        inNumerator: early(p) && postpartum(p) && count(p.visits, 'antenatal-care', p.start, until) >= 5,
      })),
    ),
    'high-risk-case-management-rate': tally(
      deliveredInPeriod
        .filter((p) => p.highRisk)
        .map((p) => ({
          org: p.r.org,
          inNumerator: p.visits.some(
            (v) => v.code === 'high-risk-case-management' && v.date >= p.start && v.date < enrolmentEnd(p) && v.date <= until,
          ),
        })),
    ),
  };
  // People aged 65+: enrolled from the 65th birthday.
  const old = elderly.filter((e) => plusMonths(e.r.birth, 65 * 12) <= until);
  const elderlyFigures = {
    'elderly-health-management-rate': tally(
      old.map((e) => {
        const from = [PERIOD.from, plusMonths(e.r.birth, 65 * 12)].sort()[1]!;
        return { org: e.r.org, inNumerator: count(e.visits, 'elderly-health-check', from, until) > 0 };
      }),
    ),
  };
  // Severe mental disorders: a follow-up every quarter (from the diagnosis in its first year).
  const registered = mental.filter((m) => m.onset <= until);
  const quarters = ['01-01', '04-01', '07-01', '10-01', '12-31'];
  const mentalFigures = {
    'standard-management-rate': tally(
      registered.map((m) => {
        const windows = [0, 1, 2, 3]
          .map((q) => ({ from: `2025-${quarters[q]}`, to: q === 3 ? '2026-01-01' : `2025-${quarters[q + 1]}` }))
          .map((w) => ({ from: w.from < m.onset ? m.onset : w.from, to: w.to }))
          .filter((w) => w.from < w.to && plusDays(w.to, -1) <= until);
        return { org: m.r.org, inNumerator: windows.length > 0 && windows.every((w) => done(m.visits, 'mental-follow-up', w.from, w.to)) };
      }),
    ),
    'follow-up-rate': tally(
      registered.map((m) => ({
        org: m.r.org,
        inNumerator: count(m.visits, 'mental-follow-up', [PERIOD.from, m.onset].sort()[1]!, until) > 0,
      })),
    ),
    'stable-rate': tally(
      registered
        .filter((m) => count(m.visits, 'mental-follow-up', [PERIOD.from, m.onset].sort()[1]!, until) > 0)
        .map((m) => {
          const latest = m.assessments
            .filter((a) => a.date >= m.onset && a.date <= until)
            .sort((a, b) => a.date.localeCompare(b.date))
            .at(-1);
          return { org: m.r.org, inNumerator: latest?.value === 'stable' };
        }),
    ),
  };
  // Tuberculosis: six-month courses from the diagnosis. The management and treatment success
  // rates follow the period's cohort (diagnosed, or course ended, in it) up to asOf (today).
  const tbFigures = {
    'management-rate': tally(
      tb
        .filter((t) => inPeriod(t.onset) && t.onset <= until)
        .map((t) => ({ org: t.r.org, inNumerator: count(t.visits, 'tb-visit', t.onset, [TODAY, plusDays(t.end, -1)].sort()[0]!) > 0 })),
    ),
    'standard-management-rate': tally(
      tb
        .filter((t) => t.onset <= until && t.end > PERIOD.from)
        .map((t) => {
          const edges = [plusDays(t.onset, 0), plusDays(t.onset, 3), ...[1, 2, 3, 4, 5, 6].map((m) => plusMonths(t.onset, m))];
          const windows = edges
            .slice(0, -1)
            .map((from, k) => ({ from, to: edges[k + 1]! }))
            .filter((w) => plusDays(w.to, -1) >= PERIOD.from && plusDays(w.to, -1) <= until);
          return { org: t.r.org, inNumerator: windows.length > 0 && windows.every((w) => done(t.visits, 'tb-visit', w.from, w.to)) };
        }),
    ),
    'treatment-success-rate': tally(
      tb
        .filter((t) => plusDays(t.end, -1) >= PERIOD.from && plusDays(t.end, -1) <= until)
        .map((t) => ({ org: t.r.org, inNumerator: !!t.outcome && t.outcomeOn! <= TODAY && ['cured', 'completed'].includes(t.outcome) })),
    ),
  };
  return { 'child-0-6': child, maternal, 'elderly-65': elderlyFigures, 'severe-mental-disorders': mentalFigures, tuberculosis: tbFigures };
}

describeEachStore('basic public-health programmes', (server) => {
  const { get, transaction, writeDistrict } = districtApi(server);

  beforeAll(() => writeDistrict(CENTRES, resources), 120_000);

  const reference = referenceFigures();
  for (const programme of Object.keys(reference))
    it(`${programme}: every indicator by organisation equals the reference count`, async () => {
      const body = await get(`/api/programmes/${programme}/indicators?period=2025&groupBy=organization`);
      const expected = reference[programme]!;
      expect(body.definitions.map((d: Json) => d.code).sort()).toEqual(Object.keys(expected).sort());
      let denominators = 0;
      expectFigures(body, expected);
      for (const rows of Object.values(expected)) denominators += rows.reduce((s, r) => s + r.denominator, 0);
      // The data must exercise the indicator: some of each denominator, not all in every numerator.
      expect(denominators).toBeGreaterThan(5);
    });

  it('the reference figures are not trivial (some in, some out of each numerator)', () => {
    for (const [programme, figures] of Object.entries(reference))
      for (const [code, rows] of Object.entries(figures)) {
        const n = rows.reduce((s, r) => s + r.numerator, 0);
        const d = rows.reduce((s, r) => s + r.denominator, 0);
        expect(d, `${programme} ${code}`).toBeGreaterThan(0);
        expect(n, `${programme} ${code}`).toBeLessThan(d);
      }
  });

  it('lists the programmes with their versions, schedules and targets', async () => {
    const body = await get('/api/programmes?asOf=2025-12-31');
    expect(body.total).toBe(loadProgrammes().length);
    expect(body.rows.map((r: Json) => r.code)).toEqual(expect.arrayContaining(Object.keys(reference)));
    const child = body.rows.find((r: Json) => r.code === 'child-0-6');
    expect(child.versions[0].items.map((i: Json) => i.code)).toContain('month-36');
    expect(child.enrolled).toBeGreaterThan(10);
    expect(body.rows.find((r: Json) => r.code === 'maternal').indicators[0]).toMatchObject({ code: 'early-registration-rate', target: 85 });
  });

  it('drill-down gives the residents behind a figure, paged with the total', async () => {
    const figure = (await get('/api/programmes/maternal/indicators?period=2025&indicator=early-registration-rate')).values[0];
    const all = await get('/api/programmes/maternal/indicators/early-registration-rate/residents?period=2025&limit=500');
    expect(all.total).toBe(figure.denominator);
    expect(all.numerator).toBe(figure.numerator);
    expect(all.rows.filter((r: Json) => r.inNumerator)).toHaveLength(figure.numerator);
    const page = await get(
      '/api/programmes/maternal/indicators/early-registration-rate/residents?period=2025&limit=3&offset=3&numerator=true',
    );
    expect(page.rows.length).toBeLessThanOrEqual(3);
    expect(page.total).toBe(figure.numerator);
    expect((await server().api('/api/programmes/maternal/indicators/nope/residents')).status).toBe(404);
    expect((await server().api('/api/programmes/maternal/indicators?indicator=nope')).status).toBe(400);
    expect((await server().api('/api/programmes/dentistry/worklist')).status).toBe(404);
    expect((await server().api('/api/programmes/maternal/indicators?period=2025-13')).status).toBe(400);
  });

  it('worklists list due and overdue items of residents still enrolled, paged with the total', async () => {
    const all = await get('/api/programmes/child-0-6/worklist?asOf=2025-12-31&limit=500');
    expect(all.total).toBe(all.rows.length);
    expect(all.counts.due + all.counts.overdue).toBe(all.total);
    expect(all.total).toBeGreaterThan(0);
    // Reference: every child item window open on 2025-12-31 (due) or closed within a year (overdue) with no visit in it.
    const asOf = '2025-12-31';
    let due = 0;
    let overdue = 0;
    for (const c of children) {
      if (c.r.birth > asOf || plusMonths(c.r.birth, 84) <= asOf) continue;
      for (const [code, a, au, b, bu] of CHILD_ITEMS) {
        const from = at(c.r.birth, a, au);
        const to = at(c.r.birth, b, bu);
        if (from > asOf || to <= plusDays(asOf, -365)) continue;
        if (c.visits.some((v) => v.status === 'finished' && v.code === code && v.date >= from && v.date < to && v.date <= asOf)) continue;
        if (to > asOf) due++;
        else overdue++;
      }
    }
    expect(all.counts).toEqual({ due, overdue });
    const page = await get('/api/programmes/child-0-6/worklist?asOf=2025-12-31&limit=4&offset=2&status=overdue');
    expect(page.rows).toHaveLength(Math.min(4, Math.max(0, overdue - 2)));
    expect(page.total).toBe(overdue);
    expect(page.rows.every((r: Json) => r.status === 'overdue')).toBe(true);
  });

  it('the registry pages enrolments with their flags and the total', async () => {
    const reg = await get('/api/programmes/maternal/registry?status=all&limit=500');
    expect(reg.total).toBe(pregnancies.length);
    expect(reg.rows.some((r: Json) => r.patientId === man.id)).toBe(false);
    expect(reg.rows.filter((r: Json) => r.flags.includes('high-risk')).length).toBe(pregnancies.filter((p) => p.highRisk).length);
    const flagged = await get('/api/programmes/maternal/registry?status=all&flag=high-risk&limit=2');
    expect(flagged.rows.length).toBeLessThanOrEqual(2);
    expect(flagged.total).toBe(pregnancies.filter((p) => p.highRisk).length);
    const mentalReg = await get('/api/programmes/severe-mental-disorders/registry?status=all&limit=500');
    expect(mentalReg.total).toBe(mental.length);
    expect(mentalReg.rows.some((r: Json) => r.patientId === depressed.id)).toBe(false);
  });

  it("a resident's due services come from every programme they are in", async () => {
    // An elderly woman with a pregnancy-free record and a TB course: she is in two programmes.
    const res = await server().api('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resourceType: 'Patient', id: 'pt-two', gender: 'female', birthDate: '1950-04-04', name: [{ text: '两项' }] },
          {
            resourceType: 'Condition',
            id: 'cond-two',
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
            code: { coding: [{ system: ICD, code: 'A15.0' }] },
            subject: { reference: 'Patient/pt-two' },
            onsetDateTime: '2025-11-20',
          },
        ].map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
      }),
    });
    expect(res.status).toBe(200);
    await server().processors.drain();
    const due = await get('/api/programmes/residents/pt-two/due-services?asOf=2025-12-01&aheadDays=30');
    // She is also of the COPD and stroke screening ages (40 and over; entry ages are judged on the
    // day of derivation, and she is past cancer screening's 75 since 2026-04-04).
    expect(new Set(due.rows.map((r: Json) => r.programme))).toEqual(
      new Set(['elderly-65', 'tuberculosis', 'screening-copd', 'screening-stroke']),
    );
    expect(due.rows.find((r: Json) => r.item === 'first-visit')).toMatchObject({ status: 'overdue', windowLast: '2025-11-22' });
    expect(due.rows.find((r: Json) => r.item === 'month-1')).toMatchObject({
      status: 'due',
      windowFrom: '2025-11-23',
      windowLast: '2025-12-19',
    });
    expect(due.rows.find((r: Json) => r.item === 'annual-check' && r.windowFrom === '2025-01-01')).toMatchObject({
      status: 'due',
      programmeName: '老年人健康管理',
    });
    // A Person id gathers the items of its Patient records; an id that is neither is 404.
    await server().api('/fhir/Person/person-two', {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Person', id: 'person-two', link: [{ target: { reference: 'Patient/pt-two' } }] }),
    });
    const byPerson = await get('/api/programmes/residents/person-two/due-services?asOf=2025-12-01&aheadDays=30');
    expect(byPerson).toMatchObject({ residentId: 'person-two', total: due.total });
    expect(byPerson.rows.every((r: Json) => r.patientId === 'pt-two')).toBe(true);
    expect((await server().api('/api/programmes/residents/nobody/due-services')).status).toBe(404);
    // Last year's missed check is still on the list (overdue within a year).
    expect(due.rows.find((r: Json) => r.item === 'annual-check' && r.windowFrom === '2024-01-01')).toMatchObject({ status: 'overdue' });
  });

  it('the check-in desk lists the due and just-missed programme services in words, with the programme', async () => {
    // pt-two (above): 65+ and a TB course from 2025-11-20. At the desk on 2025-12-01 (Patient or Person id alike).
    const desk = await get('/api/residents/pt-two/due-services?asOf=2025-12-01');
    const all = desk.items.filter((i: Json) => i.kind === 'programme');
    expect(new Set(all.map((i: Json) => i.programme.code))).toEqual(
      new Set(['elderly-65', 'tuberculosis', 'screening-copd', 'screening-stroke']),
    );
    const programme = all.filter((i: Json) => ['elderly-65', 'tuberculosis'].includes(i.programme.code));
    expect(programme.map((i: Json) => i.title).sort()).toEqual(['年度健康管理（健康体检）', '第1个月随访', '第一次入户随访'].sort());
    expect(programme.find((i: Json) => i.programme.item === 'month-1')).toMatchObject({
      key: 'programme:tuberculosis:month-1:2025-11-23',
      dueDate: '2025-12-19',
      overdue: false,
      patientId: 'pt-two',
      programme: { code: 'tuberculosis', name: '肺结核患者健康管理' },
    });
    const first = programme.find((i: Json) => i.programme.item === 'first-visit');
    expect(first).toMatchObject({ overdue: true, dueDate: '2025-11-22' });
    expect(first.detail).toContain('肺结核患者健康管理');
    expect(first.detail).toContain('72小时内');
    expect(programme.find((i: Json) => i.programme.item === 'annual-check')).toMatchObject({ overdue: false, dueDate: '2025-12-31' });
    // Words, not codes: no item title is a schedule code.
    for (const i of programme) expect(i.title).not.toMatch(/^[a-z0-9-]+$/);
    // Last year's check, missed more than a month ago, is not at the desk (the worklist keeps it).
    expect(programme.some((i: Json) => i.key.endsWith(':2024-01-01'))).toBe(false);
    expect((await get('/api/residents/person-two/due-services?asOf=2025-12-01')).items.filter((i: Json) => i.kind === 'programme')).toEqual(
      all,
    );
    // Checking in at the desk today returns the same kind of lines (this year's 65+ check is due).
    const arrived = await server().api('/api/care/check-in', { method: 'POST', body: JSON.stringify({ patientId: 'pt-two' }) });
    expect(arrived.status).toBeLessThan(300);
    expect(((await arrived.json()) as Json).items).toContainEqual(
      expect.objectContaining({
        kind: 'programme',
        key: `programme:elderly-65:annual-check:${TODAY.slice(0, 4)}-01-01`,
        title: '年度健康管理（健康体检）',
        overdue: false,
        programme: { code: 'elderly-65', name: '老年人健康管理', item: 'annual-check' },
      }),
    );
    // A delivered service leaves the list once the processor has seen it.
    const visit = await server().api('/fhir/Encounter/enc-two-visit', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Encounter',
        id: 'enc-two-visit',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
        type: [{ coding: [{ system: SERVICE, code: 'tb-visit' }] }],
        subject: { reference: 'Patient/pt-two' },
        period: { start: '2025-11-28T10:00:00+08:00' },
      }),
    });
    expect(visit.status).toBeLessThan(300);
    await server().processors.drain();
    const after = (await get('/api/residents/pt-two/due-services?asOf=2025-12-01')).items.filter(
      (i: Json) => i.kind === 'programme' && ['elderly-65', 'tuberculosis'].includes(i.programme.code),
    );
    expect(after.map((i: Json) => i.programme.item).sort()).toEqual(['annual-check', 'first-visit']);
    await server().api('/fhir/Encounter/enc-two-visit', { method: 'DELETE' });
    await server().processors.drain();
  });

  it('a record written later moves the figure (incremental, from the change log)', async () => {
    const missing = pregnancies.find(
      (p) =>
        p.delivered &&
        inPeriod(p.delivered) &&
        p.delivered <= TODAY &&
        !done(p.visits, 'postpartum-visit', p.delivered, plusDays(p.delivered, 28)),
    );
    expect(missing).toBeDefined();
    const before = (await get('/api/programmes/maternal/indicators?period=2025&indicator=postpartum-visit-rate')).values[0];
    await transaction([
      {
        resourceType: 'Encounter',
        id: 'enc-late-postpartum',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
        type: [{ coding: [{ system: SERVICE, code: 'postpartum-visit' }] }],
        subject: { reference: `Patient/${missing!.r.id}` },
        period: { start: plusDays(missing!.delivered!, 3) },
      },
    ]);
    await server().processors.drain();
    const after = (await get('/api/programmes/maternal/indicators?period=2025&indicator=postpartum-visit-rate')).values[0];
    expect(after).toMatchObject({ numerator: before.numerator + 1, denominator: before.denominator });
    // And deleting it takes it back out.
    expect((await server().api('/fhir/Encounter/enc-late-postpartum', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect((await get('/api/programmes/maternal/indicators?period=2025&indicator=postpartum-visit-rate')).values[0].numerator).toBe(
      before.numerator,
    );
  });

  it('rows derived long ago are derived again (next year’s items appear), and a full recompute changes no figure', async () => {
    const programmes = loadProgrammes();
    const later = '2027-12-01';
    const before = await get('/api/programmes/residents/pt-two/due-services?asOf=2027-12-20&aheadDays=30');
    // Stored rows are as old as their derivation; a programme enrolled implicitly lists the items of
    // a resident without records from the person table, as of the day asked (already 2028's).
    const implicit = new Set(programmes.filter((p) => p.entry.implicit).map((p) => p.code));
    expect(before.rows.some((r: Json) => r.windowFrom === '2028-01-01' && !implicit.has(r.programme))).toBe(false);
    let refreshed = 0;
    for (let k = 0; k < 10; k++) {
      const n = await refreshStale(server().db, programmes, later, { batch: 100 });
      refreshed += n;
      if (!n) break;
    }
    expect(refreshed).toBeGreaterThan(180);
    expect(await refreshStale(server().db, programmes, later)).toBe(0);
    const after = await get('/api/programmes/residents/pt-two/due-services?asOf=2027-12-20&aheadDays=30');
    expect(after.rows.find((r: Json) => r.windowFrom === '2028-01-01')).toMatchObject({ item: 'annual-check', status: 'upcoming' });

    const figures = async () =>
      Promise.all(Object.keys(reference).map((p) => get(`/api/programmes/${p}/indicators?period=2025&groupBy=area`)));
    const was = await figures();
    expect(await recomputeProgrammes(server().db, programmes, TODAY, 37)).toBeGreaterThan(180);
    expect(await figures()).toEqual(was);
  });

  it('every person row has one row saying when it was derived; a Patient deleted without records leaves none', async () => {
    const db = server().db;
    const orphans = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM prog_person p WHERE NOT EXISTS (SELECT 1 FROM prog_derived d WHERE d.patient_id = p.patient_id))
                + (SELECT count(*) FROM prog_derived d WHERE NOT EXISTS (SELECT 1 FROM prog_person p WHERE p.patient_id = d.patient_id)) AS n`,
        )
      ).rows[0]!.n;
    const derivedOn = async (patient: string) =>
      (await db.query<{ on: string | null }>(`SELECT derived_on::text AS on FROM prog_derived WHERE patient_id = $1`, [patient])).rows[0]
        ?.on;
    expect(Number(await orphans())).toBe(0);
    await transaction([{ resourceType: 'Patient', id: 'pt-passing', gender: 'male', birthDate: '1950-03-03' }]);
    await server().processors.drain();
    expect(await derivedOn('pt-passing')).toBe(TODAY);
    expect((await server().api('/fhir/Patient/pt-passing', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect(await derivedOn('pt-passing')).toBeUndefined();
    expect(Number(await orphans())).toBe(0);
    // Nothing is left for the periodic refresh to find again and again.
    expect(await refreshStale(db, loadProgrammes(), TODAY, { olderThanDays: 0 })).toBe(0);
  });

  it('a full recompute keeps what the processor derives meanwhile, and writes what a quiet one writes', async () => {
    const programmes = loadProgrammes();
    const db = server().db;
    const rows = async () => ({
      enrolments: (await db.query(`SELECT * FROM prog_enrolment ORDER BY programme, patient_id, episode_key`)).rows.map(
        ({ updated_at: _, ...r }) => r,
      ),
      items: (await db.query(`SELECT * FROM prog_item ORDER BY programme, patient_id, episode_key, item, window_from`)).rows,
    });
    const before = await rows();
    const ids = (await db.query<{ id: string }>(`SELECT patient_id AS id FROM prog_person ORDER BY patient_id`)).rows.map((r) => r.id);
    const chunk = 20;
    // Residents of later ranges get a tuberculosis diagnosis, as the processor would write it, while
    // the recompute runs: each lands before, between or after its range's read and write.
    const diagnosed = [1, 2, 3, 5].map((k) => ids[k * chunk + 3]!);
    const diagnose = (patientId: string, k: number) =>
      db.transaction(async (c) => {
        await c.query(
          `INSERT INTO prog_fact (ref, patient_id, resource_type, codes, start_on, active) VALUES ($1, $2, 'Condition', $3, $4, true)`,
          [`Condition/tb-during-recompute-${k}`, patientId, [`${ICD}|A15.0`], plusDays(TODAY, -10)],
        );
        await refreshResidents(c, [patientId], programmes, TODAY, await keepCounts(c, programmes));
      });
    const writes: Promise<void>[] = [];
    await recomputeProgrammes(db, programmes, TODAY, {
      chunk,
      onProgress: (done) => {
        if (done === 0) writes.push(diagnose(diagnosed[0]!, 0));
        else if (writes.length < diagnosed.length) writes.push(diagnose(diagnosed[writes.length]!, writes.length));
      },
    });
    await Promise.all(writes);
    const during = await rows();
    for (const id of diagnosed)
      expect(
        during.enrolments.some((e) => e.programme === 'tuberculosis' && e.patient_id === id),
        id,
      ).toBe(true);
    await recomputeProgrammes(db, programmes, TODAY, { chunk: 1000, thread: false });
    expect(await rows()).toEqual(during);

    // Back as it was for the tests after this one.
    await db.query(`DELETE FROM prog_fact WHERE ref LIKE 'Condition/tb-during-recompute-%'`);
    await db.transaction(async (c) => refreshResidents(c, diagnosed, programmes, TODAY, await keepCounts(c, programmes)));
    expect(await rows()).toEqual(before);
  });

  it('indicators from the per-episode summaries equal the engine over the facts, for any period, asOf, group and filter', async () => {
    // The programmes this file's district is written for (the others have files of their own, each with this comparison).
    const seeded = new Set([...Object.keys(reference), 'hypertension', 'diabetes']);
    const programmes = loadProgrammes().filter((p) => seeded.has(p.code));
    expect(programmes).toHaveLength(seeded.size);
    const span = await derivedSpan(server().db);
    expect(span.pending).toBe(false);
    const queries = [
      { period: '2025', groupBy: 'organization' as const },
      { period: '2025', groupBy: 'area' as const },
      { period: '2024' },
      { period: TODAY.slice(0, 4) },
      { period: '2025-04-01/2025-09-30', groupBy: 'organization' as const },
      { period: '2025', asOf: '2025-10-15' },
      { period: '2025-02-10/2026-03-20', asOf: '2025-12-31', organization: 'org-east' },
      { period: '2025', area: STREETS[1] },
    ];
    for (const p of programmes)
      for (const q of queries) {
        const period =
          q.period.length === 4
            ? { from: `${q.period}-01-01`, to: `${q.period}-12-31` }
            : { from: q.period.slice(0, 10), to: q.period.slice(11) };
        const until = [period.to, q.asOf ?? TODAY].sort()[0]!;
        // The summaries cover these periods, so they are what the API answers with.
        expect(summariesCover(span, period.from, until)).toBe(true);
        const viaSummaries = await programmeIndicators(server().db, p, q, TODAY, 'summaries');
        const viaEngine = await programmeIndicators(server().db, p, q, TODAY, 'engine');
        expect(viaSummaries, `${p.code} ${JSON.stringify(q)}`).toEqual(viaEngine);
        for (const ind of p.indicators) {
          const drill = { ...q, limit: 7, offset: 2 };
          const a = await indicatorDrillDown(server().db, p, ind.code, drill, TODAY, 'summaries');
          expect(a, `${p.code} ${ind.code} ${JSON.stringify(q)}`).toEqual(
            await indicatorDrillDown(server().db, p, ind.code, drill, TODAY, 'engine'),
          );
          const inNumerator = { ...drill, numerator: 'true' as const, group: q.groupBy ? 'org-west' : undefined };
          expect(await indicatorDrillDown(server().db, p, ind.code, inNumerator, TODAY, 'summaries')).toEqual(
            await indicatorDrillDown(server().db, p, ind.code, inNumerator, TODAY, 'engine'),
          );
        }
      }
    // A period before the stored range is left to the engine.
    expect(summariesCover(span, '2023-01-01', '2023-12-31')).toBe(false);
  });

  it('an elderly health check posted through /fhir moves the 65+ indicator once the processor has run', async () => {
    const year = TODAY.slice(0, 4);
    const url = `/api/programmes/elderly-65/indicators?indicator=elderly-health-management-rate&groupBy=organization`;
    // Someone enrolled this year, with no check in it yet (the seeded checks are in 2024 and 2025).
    const who = elderly.find((e) => plusMonths(e.r.birth, 65 * 12) < `${year}-01-01`)!;
    expect(who).toBeDefined();
    const before = (await get(url)).values.find((v: Json) => v.group === who.r.org);
    const res = await server().api('/fhir/Encounter', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ coding: [{ system: SERVICE, code: 'elderly-health-check' }] }],
        subject: { reference: `Patient/${who.r.id}` },
        period: { start: `${TODAY}T09:00:00+08:00` },
      }),
    });
    expect(res.status).toBe(201);
    await server().processors.drain();
    const after = (await get(url)).values.find((v: Json) => v.group === who.r.org);
    expect(after).toMatchObject({ numerator: before.numerator + 1, denominator: before.denominator });
    const drill = await get(
      `/api/programmes/elderly-65/indicators/elderly-health-management-rate/residents?groupBy=organization&group=${who.r.org}&numerator=true&limit=500`,
    );
    expect(drill.total).toBe(after.numerator);
    expect(drill.rows.some((r: Json) => r.patientId === who.r.id)).toBe(true);
  });
});
