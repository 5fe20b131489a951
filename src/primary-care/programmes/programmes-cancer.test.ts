/**
 * Cancer screening beyond colorectal (肺癌 LDCT, 上消化道癌 胃镜: config/programmes/screening-lung.json,
 * screening-upper-gi.json) and 常见恶性肿瘤早期诊断比例 (cancer-patients.json early-diagnosis-rate)
 * against an independent reference: a seeded small district is written through the FHIR API
 * (transaction Bundles), the processors derive enrolments, and every new figure the API gives is
 * compared, organisation by organisation, with a count made here in plain loops straight from the
 * records written and the files' wording (nothing of the engine is used). Then the programme
 * list, the registry flags, and the summaries against the engine over other periods and asOf.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { programmeIndicators } from './service.js';
import { marksOf } from './summary.js';
import { districtApi, draws, expectFigures, later, plusDays, plusYears } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const RESULT = 'https://yifang.health/fhir/CodeSystem/screening-result';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const PERIOD = { from: '2025-01-01', to: '2025-12-31' };
const TODAY = todayInChina();
const UNTIL = PERIOD.to < TODAY ? PERIOD.to : TODAY;

// ---- dates, by hand (days are kept ≤ 28, so months never need clamping) ----------------------
const inWindow = (d: string, from: string, to: string) => d >= from && d <= to;

// ---- a seeded district ---------------------------------------------------------------------
const { pick, chance, between, day, anyDay } = draws(20261207);

const CENTRES: Record<string, string> = { 'org-cs-north': '北新泾社区卫生服务中心', 'org-cs-south': '新华社区卫生服务中心' };
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
  const r = { id: id('cp'), org: pick(ORGS), birth };
  resources.push({
    resourceType: 'Patient',
    id: r.id,
    name: [{ text: `肿瘤筛查居民${seq}` }],
    gender: pick(['male', 'female']),
    birthDate: birth,
    managingOrganization: { reference: `Organization/${r.org}` },
  });
  everyone.push(r);
  return r;
}
function encounter(r: Resident, code: string, date: string, status: string) {
  resources.push({
    resourceType: 'Encounter',
    id: id('cenc'),
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: SERVICE, code }] }],
    subject: { reference: `Patient/${r.id}` },
    period: { start: date },
  });
}
function observation(r: Resident, system: string, code: string, date: string, value: { system: string; code: string }, status = 'final') {
  resources.push({
    resourceType: 'Observation',
    id: id('cobs'),
    status,
    code: { coding: [{ system, code }] },
    subject: { reference: `Patient/${r.id}` },
    effectiveDateTime: date,
    valueCodeableConcept: { coding: [value] },
  });
}

// ---- lung (50–74) and upper-GI (45–74) screening -------------------------------------------
interface Screened {
  r: Resident;
  assessments: { date: string; high: boolean }[];
  exams: { date: string; positive: boolean; status: string }[];
  followUps: { date: string; status: string }[];
}
function screened(kind: { risk: string; exam: string; followUp: string }, born: [number, number]): Screened {
  const r = patient(day(between(born[0], born[1]), between(1, 12)));
  const s: Screened = { r, assessments: [], exams: [], followUps: [] };
  for (const y of [2024, 2025]) {
    if (!chance(0.7)) continue;
    const date = anyDay(y);
    const high = chance(0.45);
    observation(r, OBS, kind.risk, date, { system: RESULT, code: high ? 'high-risk' : 'low-risk' });
    s.assessments.push({ date, high });
    // An exam for most of the high-risk (some in the next year), a few without being high-risk.
    if (chance(high ? 0.7 : 0.1)) {
      const e = {
        date: later(date, day(pick(y === 2025 ? [y] : [y, y, y + 1]), between(1, 11))),
        positive: chance(0.35),
        status: chance(0.08) ? 'entered-in-error' : 'final',
      };
      observation(r, OBS, kind.exam, e.date, { system: RESULT, code: e.positive ? 'positive' : 'negative' }, e.status);
      s.exams.push(e);
      if (e.positive && chance(0.75)) {
        const f = { date: plusDays(e.date, between(5, 70)), status: chance(0.15) ? 'cancelled' : 'finished' };
        encounter(r, kind.followUp, f.date, f.status);
        s.followUps.push(f);
      }
    }
  }
  return s;
}
const lung = Array.from({ length: 70 }, () =>
  screened({ risk: 'lung-cancer-risk-assessment', exam: 'ldct-result', followUp: 'lung-positive-follow-up' }, [1944, 1980]),
);
const ugi = Array.from({ length: 70 }, () =>
  screened({ risk: 'upper-gi-risk-assessment', exam: 'upper-gi-endoscopy-result', followUp: 'upper-gi-positive-follow-up' }, [1944, 1985]),
);

// ---- cancer patients with their stage ------------------------------------------------------
const STAGES = ['261613009', '258215001', '258219007', '258224005', '258228008'] as const; // 0, I, II, III, IV
const EARLY = new Set<string>(STAGES.slice(0, 3));
const COMMON = ['C34.1', 'C33', 'C16.9', 'C18.7', 'C19', 'C20', 'C22.0', 'C15.3', 'C50.4', 'C53.9'];
const OTHER = ['C61', 'C73', 'C56', 'C25.9'];
const cancers = Array.from({ length: 90 }, (_, k) => {
  const r = patient(day(between(1940, 1985), between(1, 12)));
  const icd = chance(0.75) ? pick(COMMON) : pick(OTHER);
  const onset = day(pick([2024, 2025, 2025, 2025]), between(1, 12));
  const verification = k % 13 === 5 ? 'provisional' : 'confirmed';
  resources.push({
    resourceType: 'Condition',
    id: id('ccond'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: verification }] },
    code: { coding: [{ system: ICD, code: icd }] },
    subject: { reference: `Patient/${r.id}` },
    onsetDateTime: onset,
  });
  // A clinical stage for most, a later pathological one for some, a few entered in error; distinct days.
  const stages: { date: string; stage: string; status: string }[] = [];
  let at = onset;
  for (const [loinc, p] of [
    ['21908-9', 0.8],
    ['21902-2', 0.3],
    ['21908-9', 0.07],
  ] as const) {
    if (!chance(p)) continue;
    at = plusDays(at, between(1, 40));
    const s = { date: at, stage: pick(STAGES), status: p === 0.07 ? 'entered-in-error' : 'final' };
    observation(r, LOINC, loinc, s.date, { system: SNOMED, code: s.stage }, s.status);
    stages.push(s);
  }
  return { r, icd, onset, enrolled: verification === 'confirmed', stages };
});

// ---- the reference: plain loops over what was written ---------------------------------------
type Rows = { group: string; numerator: number; denominator: number }[];
function tally(rows: { org: string; inNumerator: boolean }[]): Rows {
  const t = new Map<string, { n: number; d: number }>();
  for (const r of rows) {
    const g = t.get(r.org) ?? { n: 0, d: 0 };
    g.d++;
    if (r.inNumerator) g.n++;
    t.set(r.org, g);
  }
  return [...t].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => ({ group, numerator: g.n, denominator: g.d }));
}

/** A screening programme's four figures: everyone from the birthday at `minAge` to the day before the 75th. */
function screeningFigures(prefix: string, minAge: number, list: Screened[]): Record<string, Rows> {
  const ofAge = everyone.filter((r) => plusYears(r.birth, minAge) <= UNTIL && plusYears(r.birth, 75) > PERIOD.from);
  const of = new Map(list.map((s) => [s.r.id, s]));
  // In the period and the episode (which ends on the 75th birthday).
  const inn = (r: Resident, d: string) => inWindow(d, later(PERIOD.from, plusYears(r.birth, minAge)), UNTIL) && d < plusYears(r.birth, 75);
  const assessed = (r: Resident) => (of.get(r.id)?.assessments ?? []).filter((a) => inn(r, a.date));
  const exams = (r: Resident) => (of.get(r.id)?.exams ?? []).filter((e) => e.status === 'final' && inn(r, e.date));
  const positive = (r: Resident) => exams(r).some((e) => e.positive);
  const followedUp = (r: Resident) => (of.get(r.id)?.followUps ?? []).some((f) => f.status === 'finished' && inn(r, f.date));
  return {
    [`${prefix}-risk-assessment-rate`]: tally(ofAge.map((r) => ({ org: r.org, inNumerator: assessed(r).length > 0 }))),
    [`${prefix}-screening-rate`]: tally(
      ofAge.filter((r) => assessed(r).some((a) => a.high)).map((r) => ({ org: r.org, inNumerator: exams(r).length > 0 })),
    ),
    [`${prefix}-positive-rate`]: tally(ofAge.filter((r) => exams(r).length > 0).map((r) => ({ org: r.org, inNumerator: positive(r) }))),
    [`${prefix}-positive-follow-up-rate`]: tally(ofAge.filter(positive).map((r) => ({ org: r.org, inNumerator: followedUp(r) }))),
  };
}

function referenceFigures(): Record<string, Record<string, Rows>> {
  // 常见恶性肿瘤早期诊断比例: the period's new registrations of a common cancer; the latest valid
  // stage recorded from the diagnosis up to asOf (today) is 0, I or II.
  const common = (icd: string) => ['C15', 'C16', 'C18', 'C19', 'C20', 'C22', 'C33', 'C34', 'C50', 'C53'].some((p) => icd.startsWith(p));
  const newCommon = cancers.filter((k) => k.enrolled && common(k.icd) && inWindow(k.onset, PERIOD.from, UNTIL));
  const latestStage = (k: (typeof cancers)[number]) =>
    k.stages.filter((s) => s.status === 'final' && s.date >= k.onset && s.date <= TODAY).at(-1)?.stage;
  return {
    'screening-lung': screeningFigures('lung', 50, lung),
    'screening-upper-gi': screeningFigures('ugi', 45, ugi),
    'cancer-patients': {
      'early-diagnosis-rate': tally(newCommon.map((k) => ({ org: k.r.org, inNumerator: EARLY.has(latestStage(k) ?? '') }))),
    },
  };
}

describeEachStore('cancer screening (lung, upper-GI) and the early-diagnosis share of common cancers', (server) => {
  const { get, writeDistrict } = districtApi(server);

  beforeAll(() => writeDistrict(CENTRES, resources), 180_000);

  const reference = referenceFigures();
  for (const programme of Object.keys(reference))
    it(`${programme}: every new indicator by organisation equals the reference count`, async () => {
      const body = await get(`/api/programmes/${programme}/indicators?period=2025&groupBy=organization`);
      const expected = reference[programme]!;
      const codes = body.definitions.map((d: Json) => d.code);
      expect(codes).toEqual(expect.arrayContaining(Object.keys(expected)));
      if (programme !== 'cancer-patients') expect(codes.sort()).toEqual(Object.keys(expected).sort());
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

  it('every new indicator is answered from the summaries (no criterion left to the engine at query time)', () => {
    const programmes = loadProgrammes().filter((p) => Object.keys(reference).includes(p.code));
    expect(programmes).toHaveLength(3);
    for (const p of programmes) expect(marksOf(p), p.code).not.toBeNull();
  });

  it('lists the new programmes by name, with their schedules, targets and sources', async () => {
    const body = await get('/api/programmes?asOf=2025-12-31');
    const row = (code: string) => body.rows.find((r: Json) => r.code === code);
    expect(row('screening-lung')).toMatchObject({ name: '肺癌高危人群筛查（低剂量螺旋CT）' });
    expect(row('screening-upper-gi')).toMatchObject({ name: '上消化道癌（食管癌、胃癌）高危人群筛查（胃镜）' });
    expect(row('screening-lung').versions[0].items.map((i: Json) => i.code)).toEqual(['annual-assessment']);
    expect(row('screening-lung').indicators.find((i: Json) => i.code === 'lung-screening-rate')).toMatchObject({ target: 40 });
    expect(row('cancer-patients').indicators.find((i: Json) => i.code === 'early-diagnosis-rate')).toMatchObject({
      name: '常见恶性肿瘤早期诊断比例',
      target: 55,
    });
    expect(row('screening-lung').enrolled).toBe(
      everyone.filter((r) => plusYears(r.birth, 50) <= '2025-12-31' && plusYears(r.birth, 75) > '2025-12-31').length,
    );
    expect(row('screening-upper-gi').enrolled).toBe(
      everyone.filter((r) => plusYears(r.birth, 45) <= '2025-12-31' && plusYears(r.birth, 75) > '2025-12-31').length,
    );
  });

  it('the cancer registry flags the common cancers, and filters by the flag with the total', async () => {
    const common = cancers.filter((k) => k.enrolled && !['C61', 'C73', 'C56', 'C25'].some((p) => k.icd.startsWith(p)));
    expect(common.length).toBeGreaterThan(5);
    const page = await get('/api/programmes/cancer-patients/registry?status=all&flag=common-cancer&limit=3');
    expect(page.rows.length).toBe(3);
    expect(page.total).toBe(common.length);
    const all = await get('/api/programmes/cancer-patients/registry?status=all&flag=common-cancer&limit=500');
    expect(new Set(all.rows.map((r: Json) => r.patientId))).toEqual(new Set(common.map((k) => k.r.id)));
  });

  it('the summaries equal the engine over the facts, for other periods, asOf and groups', async () => {
    const programmes = loadProgrammes().filter((p) => Object.keys(reference).includes(p.code));
    const queries = [
      { period: '2025', groupBy: 'area' as const },
      { period: '2024', groupBy: 'organization' as const },
      { period: '2025-04-01/2025-09-30', groupBy: 'organization' as const },
      { period: '2025', asOf: '2025-10-15' },
      { period: '2025-07-01/2026-06-30', asOf: '2026-01-31', organization: 'org-cs-south' },
    ];
    for (const p of programmes)
      for (const q of queries)
        expect(await programmeIndicators(server().db, p, q, TODAY, 'summaries'), `${p.code} ${JSON.stringify(q)}`).toEqual(
          await programmeIndicators(server().db, p, q, TODAY, 'engine'),
        );
  });
});
