/**
 * 血脂异常 (三高共管) and the opportunistic screenings (脑卒中, 慢阻肺, 结直肠癌) against an
 * independent reference: a seeded small district is written through the FHIR API (transaction
 * Bundles), the processors derive enrolments, and every figure the API gives is compared, group by
 * group, with a count made here in plain loops straight from the records written and the
 * programme files' wording (nothing of the engine is used). Then the list of programmes, the
 * registry with the 三高 comorbidity, the worklist and a resident's due services.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { supersededItems } from './next-follow-up.js';
import { indicatorDrillDown, programmeIndicators } from './service.js';
import { residentItems } from './store.js';
import { districtApi, draws, expectFigures, later, plusYears } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const RESULT = 'https://yifang.health/fhir/CodeSystem/screening-result';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const PERIOD = { from: '2025-01-01', to: '2025-12-31' };
const TODAY = todayInChina();
const UNTIL = PERIOD.to < TODAY ? PERIOD.to : TODAY;

// ---- dates, by hand (birth and onset days are kept ≤ 28, so months never need clamping) --------

// ---- a seeded district ---------------------------------------------------------------------
const { rand, pick, chance, between, day, anyDay } = draws(20251207);

const CENTRES: Record<string, string> = { 'org-north': '北街社区卫生服务中心', 'org-south': '南街社区卫生服务中心' };
const ORGS = Object.keys(CENTRES);
const resources: Json[] = [];
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}`;

interface Resident {
  id: string;
  org: string;
  birth: string;
}
const everyone: Resident[] = [];
function patient(birth: string): Resident {
  const r = { id: id('sp'), org: pick(ORGS), birth };
  resources.push({
    resourceType: 'Patient',
    id: r.id,
    name: [{ text: `筛查居民${seq}` }],
    gender: pick(['male', 'female']),
    birthDate: birth,
    managingOrganization: { reference: `Organization/${r.org}` },
  });
  everyone.push(r);
  return r;
}
function condition(r: Resident, icd: string, onset: string, clinical = 'active', verification = 'confirmed') {
  resources.push({
    resourceType: 'Condition',
    id: id('scond'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: verification }] },
    code: { coding: [{ system: ICD, code: icd }] },
    subject: { reference: `Patient/${r.id}` },
    onsetDateTime: onset,
  });
}
function encounter(r: Resident, code: string, date: string, status: string) {
  resources.push({
    resourceType: 'Encounter',
    id: id('senc'),
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: SERVICE, code }] }],
    subject: { reference: `Patient/${r.id}` },
    period: { start: date },
  });
}
function observation(r: Resident, system: string, code: string, date: string, value: { num?: number; unit?: string; coded?: string }) {
  resources.push({
    resourceType: 'Observation',
    id: id('sobs'),
    status: 'final',
    code: { coding: [{ system, code }] },
    subject: { reference: `Patient/${r.id}` },
    effectiveDateTime: date,
    ...(value.num !== undefined
      ? { valueQuantity: { value: value.num, unit: value.unit, system: 'http://unitsofmeasure.org', code: value.unit } }
      : { valueCodeableConcept: { coding: [{ system: RESULT, code: value.coded }] } }),
  });
}
function colonoscopy(r: Resident, date: string, status: string) {
  resources.push({
    resourceType: 'Procedure',
    id: id('sproc'),
    status,
    code: { coding: [{ system: 'http://snomed.info/sct', code: '73761001' }] },
    subject: { reference: `Patient/${r.id}` },
    performedDateTime: date,
  });
}
/** Distinct days of one year (no two records of a kind share a day: the latest is then unambiguous). */
const distinctDays = (y: number, n: number) => [...new Set(Array.from({ length: n }, () => anyDay(y)))].sort();

// Dyslipidaemia (E78), some with hypertension, diabetes or ASCVD (三高共管); some diagnoses
// provisional or resolved (never enrolled), some hypertension resolved (no comorbidity then).
const lipid = Array.from({ length: 48 }, (_, k) => {
  const r = patient(day(between(1945, 1985), between(1, 12)));
  const onset = day(between(2019, 2025), between(1, 11));
  const status = k % 11 === 4 ? 'resolved' : 'active';
  const verification = k % 13 === 6 ? 'provisional' : 'confirmed';
  condition(r, pick(['E78.0', 'E78.1', 'E78.2', 'E78.5']), onset, status, verification);
  const comorbid: string[] = [];
  if (chance(0.4)) {
    const resolved = chance(0.15);
    condition(r, pick(['I10', 'I11.9']), day(between(2015, 2025), between(1, 12)), resolved ? 'resolved' : 'active');
    if (!resolved) comorbid.push('hypertension');
  }
  if (chance(0.3)) {
    condition(r, pick(['E11.9', 'E14.9']), day(between(2015, 2025), between(1, 12)));
    comorbid.push('diabetes');
  }
  if (chance(0.12)) {
    condition(r, pick(['I25.1', 'I63.9']), day(between(2015, 2025), between(1, 12)));
    comorbid.push('ascvd');
  }
  const tests: { date: string; value: number }[] = [];
  for (const y of [2024, 2025])
    for (const date of distinctDays(y, chance(0.2) ? 0 : between(1, 2))) {
      const value = Math.round((1.2 + rand() * 3.6) * 100) / 100;
      observation(r, LOINC, chance(0.3) ? '39469-2' : '22748-8', date, { num: value, unit: 'mmol/L' });
      tests.push({ date, value });
    }
  const followUps: { date: string; status: string }[] = [];
  for (let m = 1; m <= 12; m += between(2, 4))
    if (chance(0.75)) {
      const f = { date: day(2025, m), status: chance(0.1) ? 'cancelled' : 'finished' };
      encounter(r, 'lipid-follow-up', f.date, f.status);
      followUps.push(f);
    }
  return { r, onset, enrolled: status === 'active' && verification === 'confirmed', comorbid, tests, followUps };
});

// Stroke risk assessments from 40 (some assessed before their 40th birthday, which does not
// count), interventions for some of the high-risk (some cancelled, some only next year).
const STROKE_LEVELS = ['high-risk', 'medium-risk', 'low-risk', 'low-risk'] as const;
const stroke = Array.from({ length: 60 }, () => {
  const r = patient(day(between(1950, 1990), between(1, 12)));
  const assessments: { date: string; level: string }[] = [];
  for (const y of [2024, 2025])
    for (const date of distinctDays(y, chance(0.45) ? 0 : between(1, 2))) {
      const level = pick(STROKE_LEVELS);
      observation(r, OBS, 'stroke-risk-assessment', date, { coded: level });
      assessments.push({ date, level });
    }
  const interventions: { date: string; status: string }[] = [];
  const last = assessments.at(-1);
  if (last?.level === 'high-risk' && chance(0.7)) {
    const i = { date: later(last.date, day(pick([2025, 2026]), between(1, 10))), status: chance(0.15) ? 'cancelled' : 'finished' };
    encounter(r, 'stroke-intervention', i.date, i.status);
    interventions.push(i);
  }
  return { r, assessments, interventions };
});

// COPD-SQ scores from 40 (16 or more positive), spirometry FEV1/FVC (below 70 % airflow limitation).
const copd = Array.from({ length: 55 }, () => {
  const r = patient(day(between(1950, 1990), between(1, 12)));
  const questionnaires: { date: string; score: number }[] = [];
  const spirometry: { date: string; ratio: number }[] = [];
  for (const y of [2024, 2025])
    if (chance(0.6)) {
      const date = anyDay(y);
      const score = pick([8, 12, 15, 16, 16, 19, 24]);
      observation(r, OBS, 'copd-sq', date, { num: score, unit: '{score}' });
      questionnaires.push({ date, score });
      if (chance(score >= 16 ? 0.65 : 0.15)) {
        const s = { date: later(date, anyDay(y)), ratio: pick([55, 62.5, 69.9, 70, 74, 81]) };
        observation(r, LOINC, '19926-5', s.date, { num: s.ratio, unit: '%' });
        spirometry.push(s);
      }
    }
  return { r, questionnaires, spirometry };
});

// Colorectal initial screening at 50–74 (FIT, risk questionnaire), colonoscopy for some positives.
const crc = Array.from({ length: 55 }, () => {
  const r = patient(day(between(1945, 1980), between(1, 12)));
  const screens: { date: string; positive: boolean }[] = [];
  const colonoscopies: { date: string; status: string }[] = [];
  for (const y of [2024, 2025])
    if (chance(0.6)) {
      const date = anyDay(y);
      const before = resources.length;
      let positive = false;
      if (chance(0.8)) {
        const v = chance(0.25) ? 'positive' : 'negative';
        observation(r, LOINC, '29771-3', date, { coded: v });
        positive ||= v === 'positive';
      }
      if (chance(0.5)) {
        const v = chance(0.25) ? 'high-risk' : 'low-risk';
        observation(r, OBS, 'crc-risk-assessment', date, { coded: v });
        positive ||= v === 'high-risk';
      }
      // Without a FIT or a first questionnaire, a (low-risk) questionnaire: every screen has a record.
      if (chance(0.5) || resources.length === before) observation(r, OBS, 'crc-risk-assessment', date, { coded: 'low-risk' });
      screens.push({ date, positive });
      if (positive && chance(0.6)) {
        const c = { date: later(date, day(pick([y, y + 1]), between(1, 10))), status: chance(0.15) ? 'not-done' : 'completed' };
        colonoscopy(r, c.date, c.status);
        colonoscopies.push(c);
      }
    }
  return { r, screens, colonoscopies };
});

// Family-doctor contracts (家庭医生签约): two teams; some contracts ended mid-2025, a few followed by
// one with the other team. A resident's team on a figure's judged end is the contract in force then.
const TEAMS = [
  { id: 'team-north-1', name: '北街第一家庭医生团队' },
  { id: 'team-north-2', name: '北街第二家庭医生团队' },
];
for (const t of TEAMS)
  resources.push(
    { resourceType: 'Practitioner', id: `${t.id}-gp`, name: [{ text: `${t.name}医生` }] },
    {
      resourceType: 'CareTeam',
      id: t.id,
      status: 'active',
      name: t.name,
      participant: [{ member: { reference: `Practitioner/${t.id}-gp` } }],
    },
  );
const contracts: { r: Resident; team: string; start: string; end: string | null }[] = [];
for (const r of everyone) {
  if (!chance(0.6)) continue;
  const team = pick(TEAMS).id;
  const ended = chance(0.3);
  contracts.push({ r, team, start: '2024-03-01', end: ended ? '2025-06-30' : null });
  if (ended && chance(0.5)) contracts.push({ r, team: TEAMS.find((t) => t.id !== team)!.id, start: '2025-07-01', end: null });
}
for (const c of contracts)
  resources.push({
    resourceType: 'EpisodeOfCare',
    id: id('scontract'),
    status: c.end ? 'finished' : 'active',
    type: [{ coding: [{ system: 'https://yifang.health/fhir/CodeSystem/episode-type', code: 'family-doctor-contract' }] }],
    patient: { reference: `Patient/${c.r.id}` },
    period: { start: c.start, ...(c.end ? { end: c.end } : {}) },
    team: [{ reference: `CareTeam/${c.team}` }],
  });
/** A resident's team on a day: the contract in force then (none: '(none)'). */
const teamOn = (r: Resident, d: string) =>
  contracts.filter((c) => c.r === r && c.start <= d && (c.end === null || c.end >= d)).at(-1)?.team ?? '(none)';

// ---- the reference: plain loops over what was written ---------------------------------------
function tally(rows: { org: string; inNumerator: boolean }[]): { group: string; numerator: number; denominator: number }[] {
  const t = new Map<string, { n: number; d: number }>();
  for (const r of rows) {
    const g = t.get(r.org) ?? { n: 0, d: 0 };
    g.d++;
    if (r.inNumerator) g.n++;
    t.set(r.org, g);
  }
  return [...t].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => ({ group, numerator: g.n, denominator: g.d }));
}
const inWindow = (d: string, from: string, to: string) => d >= from && d <= to;

function referenceFigures(): Record<string, Record<string, ReturnType<typeof tally>>> {
  // Dyslipidaemia: an active, confirmed E78 enrols from its onset. Targets (中国血脂管理指南 2023):
  // < 3.4 mmol/L; < 2.6 with hypertension or diabetes; < 1.8 with ASCVD (the strictest that applies).
  const enrolled = lipid.filter((l) => l.enrolled && l.onset <= UNTIL);
  const from = (l: (typeof lipid)[number]) => later(PERIOD.from, l.onset);
  const tested = (l: (typeof lipid)[number]) => l.tests.some((t) => inWindow(t.date, from(l), UNTIL));
  const target = (l: (typeof lipid)[number]) =>
    l.comorbid.includes('ascvd') ? 1.8 : l.comorbid.includes('hypertension') || l.comorbid.includes('diabetes') ? 2.6 : 3.4;
  const atTarget = (l: (typeof lipid)[number]) => {
    const latest = l.tests.filter((t) => t.date >= l.onset && t.date <= UNTIL).at(-1);
    return !!latest && latest.value < target(l);
  };
  const threeHighs = (l: (typeof lipid)[number]) => l.comorbid.includes('hypertension') || l.comorbid.includes('diabetes');
  const dyslipidaemia = {
    'lipid-test-rate': tally(enrolled.map((l) => ({ org: l.r.org, inNumerator: tested(l) }))),
    'standard-management-rate': tally(
      enrolled.map((l) => ({
        org: l.r.org,
        inNumerator: tested(l) && l.followUps.filter((f) => f.status === 'finished' && inWindow(f.date, from(l), UNTIL)).length >= 2,
      })),
    ),
    'ldl-control-rate': tally(enrolled.filter(tested).map((l) => ({ org: l.r.org, inNumerator: atTarget(l) }))),
    'three-highs-ldl-control-rate': tally(
      enrolled.filter((l) => tested(l) && threeHighs(l)).map((l) => ({ org: l.r.org, inNumerator: atTarget(l) })),
    ),
  };

  // Everyone from the 40th birthday is in the stroke and COPD programmes (the other residents of the district too).
  const forty = everyone.filter((r) => plusYears(r.birth, 40) <= UNTIL);
  const from40 = (r: Resident) => later(PERIOD.from, plusYears(r.birth, 40));
  const strokeOf = new Map(stroke.map((s) => [s.r.id, s]));
  const assessed = (r: Resident) => (strokeOf.get(r.id)?.assessments ?? []).some((a) => inWindow(a.date, from40(r), UNTIL));
  const latestLevel = (r: Resident) =>
    (strokeOf.get(r.id)?.assessments ?? []).filter((a) => a.date >= plusYears(r.birth, 40) && a.date <= UNTIL).at(-1)?.level;
  const highRisk = forty.filter((r) => assessed(r) && latestLevel(r) === 'high-risk');
  const strokeFigures = {
    'stroke-screening-rate': tally(forty.map((r) => ({ org: r.org, inNumerator: assessed(r) }))),
    'stroke-high-risk-detection-rate': tally(
      forty.filter(assessed).map((r) => ({ org: r.org, inNumerator: latestLevel(r) === 'high-risk' })),
    ),
    'stroke-high-risk-intervention-rate': tally(
      highRisk.map((r) => ({
        org: r.org,
        inNumerator: strokeOf.get(r.id)!.interventions.some((i) => i.status === 'finished' && inWindow(i.date, from40(r), UNTIL)),
      })),
    ),
  };

  const copdOf = new Map(copd.map((c) => [c.r.id, c]));
  const sq = (r: Resident) => (copdOf.get(r.id)?.questionnaires ?? []).filter((q) => inWindow(q.date, from40(r), UNTIL));
  const spiro = (r: Resident) => (copdOf.get(r.id)?.spirometry ?? []).filter((s) => inWindow(s.date, from40(r), UNTIL));
  const copdFigures = {
    'copd-questionnaire-rate': tally(forty.map((r) => ({ org: r.org, inNumerator: sq(r).length > 0 }))),
    'copd-spirometry-rate': tally(
      forty.filter((r) => sq(r).some((q) => q.score >= 16)).map((r) => ({ org: r.org, inNumerator: spiro(r).length > 0 })),
    ),
    'copd-airflow-limitation-rate': tally(
      forty.filter((r) => spiro(r).length > 0).map((r) => ({ org: r.org, inNumerator: spiro(r).some((s) => s.ratio < 70) })),
    ),
  };

  // Colorectal: from the 50th birthday to the day before the 75th.
  const fifty = everyone.filter((r) => plusYears(r.birth, 50) <= UNTIL && plusYears(r.birth, 75) > PERIOD.from);
  const crcFrom = (r: Resident) => later(PERIOD.from, plusYears(r.birth, 50));
  // In the period and the episode (which ends on the 75th birthday).
  const crcIn = (r: Resident, d: string) => inWindow(d, crcFrom(r), UNTIL) && d < plusYears(r.birth, 75);
  const crcOf = new Map(crc.map((c) => [c.r.id, c]));
  const screens = (r: Resident) => (crcOf.get(r.id)?.screens ?? []).filter((s) => crcIn(r, s.date));
  const positive = (r: Resident) => screens(r).some((s) => s.positive);
  const crcFigures = {
    'crc-screening-rate': tally(fifty.map((r) => ({ org: r.org, inNumerator: screens(r).length > 0 }))),
    'crc-positive-rate': tally(fifty.filter((r) => screens(r).length > 0).map((r) => ({ org: r.org, inNumerator: positive(r) }))),
    'crc-colonoscopy-rate': tally(
      fifty.filter(positive).map((r) => ({
        org: r.org,
        inNumerator: (crcOf.get(r.id)?.colonoscopies ?? []).some((c) => c.status === 'completed' && crcIn(r, c.date)),
      })),
    ),
  };
  return { dyslipidaemia, 'screening-stroke': strokeFigures, 'screening-copd': copdFigures, 'screening-cancer': crcFigures };
}

describeEachStore('dyslipidaemia and opportunistic screening programmes', (server) => {
  const { get, writeDistrict } = districtApi(server);

  beforeAll(() => writeDistrict(CENTRES, resources), 180_000);

  const reference = referenceFigures();
  for (const programme of Object.keys(reference))
    it(`${programme}: every indicator by organisation equals the reference count`, async () => {
      const body = await get(`/api/programmes/${programme}/indicators?period=2025&groupBy=organization`);
      const expected = reference[programme]!;
      expect(body.definitions.map((d: Json) => d.code).sort()).toEqual(Object.keys(expected).sort());
      expectFigures(body, expected);
    });

  it('the reference figures are not trivial (some in, some out of each numerator)', () => {
    for (const [programme, figures] of Object.entries(reference))
      for (const [code, rows] of Object.entries(figures)) {
        const n = rows.reduce((s, r) => s + r.numerator, 0);
        const d = rows.reduce((s, r) => s + r.denominator, 0);
        expect(d, `${programme} ${code}`).toBeGreaterThan(2);
        expect(n, `${programme} ${code}`).toBeGreaterThan(0);
        expect(n, `${programme} ${code}`).toBeLessThan(d);
      }
  });

  it('lists the new programmes by name, with their schedules and targets', async () => {
    const body = await get('/api/programmes?asOf=2025-12-31');
    const row = (code: string) => body.rows.find((r: Json) => r.code === code);
    expect(row('dyslipidaemia')).toMatchObject({ name: '血脂异常患者健康管理（三高共管）' });
    expect(row('screening-stroke')).toMatchObject({ name: '脑卒中高危人群筛查和干预' });
    expect(row('screening-copd')).toMatchObject({ name: '慢阻肺高危人群筛查' });
    expect(row('screening-cancer')).toMatchObject({ name: '常见恶性肿瘤机会性筛查（结直肠癌）' });
    expect(row('screening-stroke').versions[0].items.map((i: Json) => i.code)).toEqual(['annual-assessment']);
    expect(row('dyslipidaemia').indicators.find((i: Json) => i.code === 'ldl-control-rate')).toMatchObject({ target: 50 });
    expect(row('screening-stroke').enrolled).toBe(everyone.filter((r) => plusYears(r.birth, 40) <= '2025-12-31').length);
  });

  it('the dyslipidaemia registry shows the 三高 comorbidity as flags, paged with the total', async () => {
    const reg = await get('/api/programmes/dyslipidaemia/registry?status=all&limit=500');
    const enrolled = lipid.filter((l) => l.enrolled);
    expect(reg.total).toBe(enrolled.length);
    expect(new Set(reg.rows.map((r: Json) => r.patientId))).toEqual(new Set(enrolled.map((l) => l.r.id)));
    const threeHighs = enrolled.filter((l) => l.comorbid.includes('hypertension') || l.comorbid.includes('diabetes'));
    expect(threeHighs.length).toBeGreaterThan(3);
    expect(new Set(reg.rows.filter((r: Json) => r.flags.includes('three-highs')).map((r: Json) => r.patientId))).toEqual(
      new Set(threeHighs.map((l) => l.r.id)),
    );
    expect(reg.rows.filter((r: Json) => r.flags.includes('diabetes')).length).toBe(
      enrolled.filter((l) => l.comorbid.includes('diabetes')).length,
    );
    const page = await get('/api/programmes/dyslipidaemia/registry?status=all&flag=three-highs&limit=3');
    expect(page.rows.length).toBeLessThanOrEqual(3);
    expect(page.total).toBe(threeHighs.length);
  });

  it('the stroke worklist lists this year’s assessment due and last year’s missed one overdue, paged with the total', async () => {
    const asOf = '2025-12-31';
    const all = await get(`/api/programmes/screening-stroke/worklist?asOf=${asOf}&limit=500`);
    expect(all.total).toBe(all.rows.length);
    // Reference: the yearly item of 2025 (from the 40th birthday in its first year) with no assessment in it is due;
    // that of 2024 with none is overdue (closed within the year before asOf).
    const strokeOf = new Map(stroke.map((s) => [s.r.id, s]));
    let due = 0;
    let overdue = 0;
    for (const r of everyone) {
      const turns = plusYears(r.birth, 40);
      const seen = strokeOf.get(r.id)?.assessments ?? [];
      for (const y of [2024, 2025]) {
        const from = later(`${y}-01-01`, turns);
        if (from > `${y}-12-31` || from > asOf) continue;
        if (seen.some((a) => inWindow(a.date, from, `${y}-12-31`))) continue;
        if (y === 2025) due++;
        else overdue++;
      }
    }
    expect(all.counts).toEqual({ due, overdue });
    expect(due).toBeGreaterThan(0);
    expect(overdue).toBeGreaterThan(0);
  });

  it("a resident's due services list the screenings and the lipid test in words", async () => {
    // Someone of 55 with dyslipidaemia, no test, assessment, questionnaire or colorectal screening in 2025.
    const r = lipid.find(
      // Under 65 (not in the 65+ programme), between 50 and 74 all year.
      (l) =>
        l.enrolled &&
        l.onset < '2025-01-01' &&
        !l.tests.some((t) => t.date >= '2025-01-01') &&
        plusYears(l.r.birth, 50) < '2025-01-01' &&
        plusYears(l.r.birth, 65) > '2026-01-01',
    );
    expect(r, 'a seeded resident fits').toBeDefined();
    const res = await get(`/api/programmes/residents/${r!.r.id}/due-services?asOf=2025-12-01&aheadDays=30`);
    const thisYear = res.rows.filter((x: Json) => x.windowFrom === '2025-01-01');
    expect(new Set(thisYear.map((x: Json) => x.programme))).toEqual(
      // 50–64 is also of age for the lung (50–74) and upper-GI (45–74) cancer risk assessments (programmes-cancer.test.ts).
      new Set(['dyslipidaemia', 'screening-stroke', 'screening-copd', 'screening-cancer', 'screening-lung', 'screening-upper-gi']),
    );
    expect(thisYear.find((x: Json) => x.programme === 'dyslipidaemia')).toMatchObject({ item: 'annual-lipid-test', status: 'due' });
    const desk = await get(`/api/residents/${r!.r.id}/due-services?asOf=2025-12-01`);
    const titles = desk.items.filter((i: Json) => i.kind === 'programme').map((i: Json) => i.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        '年度血脂检测',
        '年度脑卒中风险评估',
        '年度慢阻肺筛查问卷',
        '年度结直肠癌初筛',
        '年度肺癌风险评估',
        '年度上消化道癌风险评估',
      ]),
    );
  });

  it('figures by family-doctor team (the contract in force on the judged end) equal a count by team, with team names', async () => {
    const strokeOf = new Map(stroke.map((x) => [x.r.id, x]));
    const from40 = (r: Resident) => later(PERIOD.from, plusYears(r.birth, 40));
    const assessed = (r: Resident) => (strokeOf.get(r.id)?.assessments ?? []).some((a) => inWindow(a.date, from40(r), UNTIL));
    const expected = tally(
      everyone.filter((r) => plusYears(r.birth, 40) <= UNTIL).map((r) => ({ org: teamOn(r, UNTIL), inNumerator: assessed(r) })),
    );
    // Both teams and residents without a contract; someone changed team in 2025.
    expect(expected.map((g) => g.group)).toEqual(['(none)', 'team-north-1', 'team-north-2']);
    expect(contracts.some((c) => c.start === '2025-07-01')).toBe(true);
    const body = await get('/api/programmes/screening-stroke/indicators?period=2025&groupBy=team&indicator=stroke-screening-rate');
    expectFigures(body, { 'stroke-screening-rate': expected });
    expect(body.values.map((v: Json) => v.groupName)).toEqual(['未分配', TEAMS[0]!.name, TEAMS[1]!.name]);
    // The engine counts the same; a team's drill-down lists its residents.
    const db = server().db;
    for (const p of loadProgrammes().filter((x) => ['screening-stroke', 'dyslipidaemia', 'elderly-65'].includes(x.code))) {
      const q = { period: '2025', groupBy: 'team' as const };
      const viaSummaries = await programmeIndicators(db, p, q, TODAY, 'summaries');
      expect(viaSummaries, p.code).toEqual(await programmeIndicators(db, p, q, TODAY, 'engine'));
      const drill = { ...q, group: 'team-north-2', limit: 5, offset: 1 };
      const code = p.indicators[0]!.code;
      expect(await indicatorDrillDown(db, p, code, drill, TODAY, 'summaries')).toEqual(
        await indicatorDrillDown(db, p, code, drill, TODAY, 'engine'),
      );
    }
    const team2 = await get(
      '/api/programmes/screening-stroke/indicators/stroke-screening-rate/residents?period=2025&groupBy=team&group=team-north-2&limit=500',
    );
    expect(team2.total).toBe(expected.find((g) => g.group === 'team-north-2')!.denominator);
    expect(
      team2.rows.every(
        (r: Json) =>
          teamOn(
            everyone.find((x) => x.id === r.patientId)!,
            UNTIL,
          ) === 'team-north-2',
      ),
    ).toBe(true);
  });

  it('the screenings are enrolled implicitly: residents without records are counted, listed and paged like stored ones, as the engine counts them', async () => {
    const db = server().db;
    const strokeOf = new Map(stroke.map((s) => [s.r.id, s]));
    const ofAge = everyone.filter((r) => plusYears(r.birth, 40) <= '2025-12-31');
    const stored = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM prog_enrolment WHERE programme = 'screening-stroke'`);
    // Only residents with a screening record (or a status set by hand) have stored rows.
    expect(stored.rows[0]!.n).toBeLessThan(ofAge.length);
    expect(stored.rows[0]!.n).toBeGreaterThan(0);

    // The registry lists everyone of the age, those without records with their version and next window.
    const reg = await get('/api/programmes/screening-stroke/registry?asOf=2025-12-31&limit=500');
    expect(reg.total).toBe(ofAge.length);
    expect(new Set(reg.rows.map((r: Json) => r.patientId))).toEqual(new Set(ofAge.map((r) => r.id)));
    const quiet = reg.rows.find((r: Json) => !strokeOf.has(r.patientId) && r.startOn < '2025-01-01');
    expect(quiet).toMatchObject({
      version: expect.any(String),
      nextItemFrom: '2026-01-01',
      missed: 1,
      services: 0,
      registryStatus: 'managed',
    });
    const page = await get('/api/programmes/screening-stroke/registry?asOf=2025-12-31&limit=7&offset=5');
    expect(page.total).toBe(ofAge.length);
    expect(page.rows.map((r: Json) => r.patientId)).toEqual(reg.rows.slice(5, 12).map((r: Json) => r.patientId));

    // Figures and drill-down pages (in and out of the numerator) equal the engine over everyone's facts.
    const compare = async () => {
      const programmes = loadProgrammes().filter((p) => p.entry.implicit);
      expect(programmes.map((p) => p.code)).toEqual(expect.arrayContaining(['screening-stroke', 'screening-copd', 'screening-cancer']));
      const queries = [
        { period: '2025', groupBy: 'organization' as const },
        { period: '2024' },
        { period: '2025-03-01/2025-09-30', groupBy: 'organization' as const },
        { period: '2025', asOf: '2025-10-15', organization: 'org-south' },
      ];
      for (const p of programmes)
        for (const q of queries) {
          const label = `${p.code} ${JSON.stringify(q)}`;
          expect(await programmeIndicators(db, p, q, TODAY, 'summaries'), label).toEqual(
            await programmeIndicators(db, p, q, TODAY, 'engine'),
          );
          for (const ind of p.indicators.slice(0, 2))
            for (const numerator of [undefined, 'false' as const, 'true' as const]) {
              const drill = { ...q, limit: 6, offset: 3, ...(numerator ? { numerator } : {}) };
              expect(await indicatorDrillDown(db, p, ind.code, drill, TODAY, 'summaries'), `${label} ${ind.code} ${numerator}`).toEqual(
                await indicatorDrillDown(db, p, ind.code, drill, TODAY, 'engine'),
              );
            }
        }
    };
    await compare();

    // A resident's items (the desk, the resident's due list): the engine's listing of the screenings' yearly items for those
    // without stored rows is virtualItemsSql's, day for day and in the same order, for every resident at once.
    const sameItems = async () => {
      const programmes = loadProgrammes();
      const ids = everyone.map((r) => r.id);
      for (const asOf of ['2025-12-01', '2025-01-01', TODAY])
        for (const [ahead, within] of [
          [0, 30],
          [30, 365],
          [366, 0],
        ] as const)
          for (const livingOnly of [true, false]) {
            const o = { livingOnly, superseded: supersededItems(programmes), implicit: programmes };
            const viaEngine = await residentItems(db, ids, asOf, ahead, within, o);
            expect(viaEngine.some((i) => i.programme === 'screening-stroke')).toBe(true);
            expect(viaEngine, `${asOf} ${ahead} ${within} ${livingOnly}`).toEqual(
              await residentItems(db, ids, asOf, ahead, within, { ...o, via: 'sql' }),
            );
          }
    };
    await sameItems();

    // A status set by hand stores the resident's rows: transferred out mid-2025, they leave the worklist and the end of the year's registry.
    const moved = ofAge.find((r) => !strokeOf.has(r.id) && plusYears(r.birth, 40) < '2024-01-01')!;
    const before = await get('/api/programmes/screening-stroke/worklist?asOf=2025-12-31&limit=500');
    expect(before.rows.some((r: Json) => r.patientId === moved.id)).toBe(true);
    const res = await server().api(`/api/programmes/screening-stroke/registry/${moved.id}`, {
      method: 'PUT',
      body: JSON.stringify({ status: 'transferred', on: '2025-06-30', reason: '迁出本区' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as Json).episodes).toEqual([
      { episodeKey: 'age', startOn: plusYears(moved.birth, 40), endOn: '2025-06-30' },
    ]);
    const after = await get('/api/programmes/screening-stroke/worklist?asOf=2025-12-31&limit=500');
    expect(after.rows.some((r: Json) => r.patientId === moved.id)).toBe(false);
    expect(after.total).toBe(before.total - 2); // 2024's overdue assessment and 2025's due one
    expect((await get('/api/programmes/screening-stroke/registry?asOf=2025-12-31&limit=1')).total).toBe(ofAge.length - 1);
    await compare();
    await sameItems();
  });
});
