/**
 * Changning's focus groups on the programme engine (失能失智老年人, 发育障碍儿童, 肿瘤患者:
 * config/programmes/disabled-elderly.json, child-development.json, cancer-patients.json), proven
 * as programmes.test.ts proves the others: a seeded small district is written through the FHIR API
 * (transaction Bundles), the processors derive enrolments, and each figure the API gives is
 * compared, organisation by organisation, with a count made here in plain loops straight from the
 * records written and the programme's wording (nothing of the engine is used). Then the programme
 * list, the registries, a resident's due services and the check-in desk, and the summaries against
 * the engine at query time.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { programmeIndicators } from './service.js';
import { districtApi, draws, expectFigures, later, plusDays, plusMonths } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const PERIOD = { from: '2025-01-01', to: '2025-12-31' };
const TODAY = todayInChina();
const UNTIL = PERIOD.to < TODAY ? PERIOD.to : TODAY;
const CODES = ['disabled-elderly', 'child-development', 'cancer-patients'] as const;

// ---- dates, by hand (days are kept ≤ 28, so months never need clamping) ----------------------
/** Whole months from birth to a day (birth days ≤ 28). */
const monthsOld = (birth: string, day: string) => {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
};

// ---- a seeded district ---------------------------------------------------------------------
const { pick, chance, between, day } = draws(20261207);

const CENTRES: Record<string, string> = { 'org-fg-east': '东区社区卫生服务中心', 'org-fg-west': '西区社区卫生服务中心' };
const ORGS = Object.keys(CENTRES);
const STREETS = ['110105003', '110105004'];
const resources: Json[] = [];
let seq = 0;
const id = (prefix: string) => `fg-${prefix}-${++seq}`;

interface Resident {
  id: string;
  org: string;
  birth: string;
}
function patient(birth: string, gender: 'male' | 'female'): Resident {
  const r = { id: id('pt'), org: pick(ORGS), birth };
  resources.push({
    resourceType: 'Patient',
    id: r.id,
    name: [{ text: `重点人群${seq}` }],
    gender,
    birthDate: birth,
    managingOrganization: { reference: `Organization/${r.org}` },
    address: [{ use: 'home', extension: [{ url: AREA, valueString: `${pick(STREETS)}${String(between(1, 9)).padStart(3, '0')}` }] }],
  });
  return r;
}
/** A record the reference counts: its kind, date and whether it stands (finished, final). */
interface Rec {
  code: string;
  date: string;
  counts: boolean;
  value?: number;
}
function encounter(r: Resident, code: string, date: string, status = 'finished'): Rec {
  resources.push({
    resourceType: 'Encounter',
    id: id('enc'),
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
    type: [{ coding: [{ system: SERVICE, code }] }],
    subject: { reference: `Patient/${r.id}` },
    period: { start: `${date}T10:00:00+08:00` },
  });
  return { code, date, counts: status === 'finished' };
}
function score(r: Resident, code: string, value: number, date: string, status = 'final'): Rec {
  resources.push({
    resourceType: 'Observation',
    id: id('obs'),
    status,
    code: { coding: [{ system: OBS, code }] },
    subject: { reference: `Patient/${r.id}` },
    effectiveDateTime: `${date}T11:00:00+08:00`,
    valueQuantity: { value, unit: '分', system: 'http://unitsofmeasure.org', code: '{score}' },
  });
  return { code, date, counts: status === 'final', value };
}
/** A diagnosis; whether it enrols is the reference's to decide from what is written here. */
function condition(r: Resident, icd: string, onset: string, clinical = 'active', verification = 'confirmed', abatement?: string) {
  resources.push({
    resourceType: 'Condition',
    id: id('cond'),
    // R4 con-5: a diagnosis entered in error carries no clinical status.
    ...(verification === 'entered-in-error'
      ? {}
      : { clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] } }),
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: verification }] },
    code: { coding: [{ system: ICD, code: icd }] },
    subject: { reference: `Patient/${r.id}` },
    onsetDateTime: onset,
    ...(abatement ? { abatementDateTime: abatement } : {}),
  });
  return { icd, onset, clinical, verification };
}
const upToToday = (recs: Rec[]) => recs.filter((x) => x.date <= TODAY);

// 失能失智老年人: born 1935–1963 (some not 65 on the day of derivation), registered by a dementia
// diagnosis or a Barthel score of 60 or less (some assessed above 60, some assessments entered in
// error), re-assessed and visited at home in 2024–2025 (some visits cancelled).
const elderly = Array.from({ length: 50 }, () => {
  const r = patient(day(between(1935, 1963), between(1, 12)), pick(['male', 'female'] as const));
  const dx = chance(0.4) ? condition(r, pick(['F03', 'G30.9', 'F01.9', 'F02.8']), day(between(2021, 2025), between(1, 12))) : null;
  const records: Rec[] = [];
  for (const y of [2022, 2023, 2024, 2025])
    if (chance(y === 2025 ? 0.7 : 0.35))
      records.push(score(r, 'barthel-index', 5 * between(2, 18), day(y, between(1, 12)), chance(0.06) ? 'entered-in-error' : 'final'));
  for (const y of [2024, 2025]) {
    const n = chance(0.65) ? between(1, 3) : 0;
    for (let k = 0; k < n; k++)
      records.push(
        encounter(
          r,
          chance(0.8) ? 'home-health-service' : 'family-sickbed-visit',
          day(y, between(1, 12)),
          chance(0.07) ? 'cancelled' : 'finished',
        ),
      );
  }
  // A visit of another programme is no home service.
  if (chance(0.2)) records.push(encounter(r, 'elderly-health-check', day(2025, between(1, 12))));
  return { r, dx, records: upToToday(records) };
});

// 发育障碍儿童: born 2018–2024, diagnosed at 1–5 years (some only provisionally, one with depression,
// which is no developmental disorder), followed up in 2024–2025, most referred to rehabilitation.
const children = Array.from({ length: 45 }, () => {
  const r = patient(day(between(2018, 2024), between(1, 12)), pick(['male', 'female'] as const));
  const onset = plusDays(plusMonths(r.birth, between(12, 60)), between(0, 20));
  const dx =
    onset <= '2026-01-20'
      ? condition(
          r,
          pick(['F84.0', 'F80.1', 'F82', 'R62.0', 'F88', 'F71.0', 'F32.0']),
          onset,
          'active',
          chance(0.08) ? 'provisional' : 'confirmed',
        )
      : null;
  const records: Rec[] = [];
  for (const y of [2024, 2025])
    for (const m of [between(1, 6), between(7, 12)]) if (chance(0.7)) records.push(encounter(r, 'development-follow-up', day(y, m)));
  if (dx && chance(0.75))
    records.push(encounter(r, 'rehabilitation-referral', plusDays(dx.onset, between(-20, 90)), chance(0.05) ? 'cancelled' : 'finished'));
  return { r, dx, records: upToToday(records) };
});

// 肿瘤患者: born 1940–1985, a malignant neoplasm diagnosed 2020–2025 (in remission, resolved or
// active; some entered in error, some carcinoma in situ, which is no cancer registration), a first
// visit after registration for most, follow-ups and pain scores (some entered in error).
const cancers = Array.from({ length: 55 }, () => {
  const r = patient(day(between(1940, 1985), between(1, 12)), pick(['male', 'female'] as const));
  const onset = day(between(2020, 2025), between(1, 12));
  const clinical = pick(['active', 'active', 'active', 'remission', 'resolved']);
  const dx = condition(
    r,
    pick(['C34.9', 'C16.9', 'C18.9', 'C50.9', 'C73', 'C22.0', 'C61', 'D05.1']),
    onset,
    clinical,
    chance(0.06) ? 'entered-in-error' : 'confirmed',
    clinical === 'resolved' ? plusMonths(onset, between(3, 12)) : undefined,
  );
  const records: Rec[] = [];
  if (chance(0.8)) records.push(encounter(r, 'cancer-follow-up', plusDays(onset, between(2, 60))));
  for (const y of [2024, 2025])
    for (const m of [between(1, 6), between(7, 12)])
      if (chance(0.65)) {
        const date = day(y, m);
        records.push(encounter(r, 'cancer-follow-up', date, chance(0.05) ? 'cancelled' : 'finished'));
        if (chance(0.6)) records.push(score(r, 'pain-score', between(0, 8), date, chance(0.08) ? 'entered-in-error' : 'final'));
      }
  return { r, dx, records: upToToday(records) };
});

// ---- the reference: plain loops over what was written ---------------------------------------
type Row = { group: string; numerator: number; denominator: number };
function tally(rows: { org: string; inNumerator: boolean }[]): Row[] {
  const t = new Map<string, { n: number; d: number }>();
  for (const r of rows) {
    const g = t.get(r.org) ?? { n: 0, d: 0 };
    g.d++;
    if (r.inNumerator) g.n++;
    t.set(r.org, g);
  }
  return [...t].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => ({ group, numerator: g.n, denominator: g.d }));
}
/** A standing record of a kind in [from, to] (both ends included). */
const any = (recs: Rec[], codes: string[], from: string, to: string) =>
  recs.some((x) => x.counts && codes.includes(x.code) && x.date >= from && x.date <= to);
const HOME = ['home-health-service', 'family-sickbed-visit'];

/**
 * A disabled resident's episodes [start, first day out) by the programme file's wording: 65 or over
 * on the day of derivation (today); opened by a dementia diagnosis or a standing Barthel score of
 * 60 or less; ended after the day of a later standing score above 60 unless the dementia diagnosis
 * was made by then (entry.endWhen); a later opening record opens a new one.
 */
function elderlySpans(e: (typeof elderly)[number]): { start: string; end: string | null }[] {
  if (plusMonths(e.r.birth, 65 * 12) > TODAY) return [];
  const opening = [
    ...(e.dx ? [e.dx.onset] : []),
    ...e.records.filter((x) => x.code === 'barthel-index' && x.counts && x.value! <= 60).map((x) => x.date),
  ].sort();
  const better = e.records
    .filter((x) => x.code === 'barthel-index' && x.counts && x.value! > 60)
    .map((x) => x.date)
    .sort();
  const spans: { start: string; end: string | null }[] = [];
  for (const start of opening) {
    const cur = spans.at(-1);
    if (cur && (cur.end === null || start < cur.end)) continue;
    const left = better.find((d) => d > start && !(e.dx && e.dx.onset <= d));
    spans.push({ start, end: left ? plusDays(left, 1) : null });
  }
  return spans;
}
/** The day a resident first enters (null: never). */
const elderlyStart = (e: (typeof elderly)[number]) => elderlySpans(e)[0]?.start ?? null;
const childStart = (c: (typeof children)[number]) =>
  c.dx && c.dx.verification === 'confirmed' && c.dx.icd !== 'F32.0' ? c.dx.onset : null;
const cancerStart = (k: (typeof cancers)[number]) => (k.dx.verification === 'confirmed' && k.dx.icd.startsWith('C') ? k.dx.onset : null);
/** The two half-years of 2025 from the episode's start (an item whose window opens after it is empty). */
const halves = (start: string) =>
  [
    { from: later(PERIOD.from, start), to: '2025-07-01' },
    { from: later('2025-07-01', start), to: '2026-01-01' },
  ].filter((w) => w.from < w.to && plusDays(w.to, -1) <= UNTIL);

function referenceFigures(): Record<string, Record<string, Row[]>> {
  // Each episode enrolled in the period, with the days of it inside the period (its services are those days' records).
  const old = elderly.flatMap((e) =>
    elderlySpans(e)
      .filter((s) => s.start <= UNTIL && (s.end === null || s.end > PERIOD.from))
      .map((s) => {
        const lastDay = s.end === null ? PERIOD.to : plusDays(s.end, -1) < PERIOD.to ? plusDays(s.end, -1) : PERIOD.to;
        return { e, from: later(PERIOD.from, s.start), lastDay, to: lastDay < UNTIL ? lastDay : UNTIL };
      }),
  );
  const disabled = {
    'annual-assessment-rate': tally(
      old.map(({ e, from, to }) => ({ org: e.r.org, inNumerator: any(e.records, ['barthel-index'], from, to) })),
    ),
    'home-service-rate': tally(old.map(({ e, from, to }) => ({ org: e.r.org, inNumerator: any(e.records, HOME, from, to) }))),
    'standard-management-rate': tally(
      old.map(({ e, from, lastDay, to }) => ({
        org: e.r.org,
        // The year's re-assessment (its window ends on 12-31, or on the episode's last day, inside the judged period) and a home service.
        inNumerator: lastDay <= UNTIL && any(e.records, ['barthel-index'], from, to) && any(e.records, HOME, from, to),
      })),
    ),
  };
  const kids = children.map((c) => ({ c, start: childStart(c) })).filter((x) => x.start !== null && x.start <= UNTIL);
  const under7 = kids.filter(({ c }) => monthsOld(c.r.birth, UNTIL) < 84);
  const child = {
    'standard-management-rate': tally(
      under7.map(({ c, start }) => {
        const windows = halves(start!);
        return {
          org: c.r.org,
          inNumerator: windows.length > 0 && windows.every((w) => any(c.records, ['development-follow-up'], w.from, plusDays(w.to, -1))),
        };
      }),
    ),
    'rehabilitation-referral-rate': tally(
      under7
        .filter(({ start }) => start! >= PERIOD.from)
        .map(({ c, start }) => ({ org: c.r.org, inNumerator: any(c.records, ['rehabilitation-referral'], start!, TODAY) })),
    ),
    'follow-up-rate': tally(
      under7.map(({ c, start }) => ({
        org: c.r.org,
        inNumerator: any(c.records, ['development-follow-up'], later(PERIOD.from, start!), UNTIL),
      })),
    ),
  };
  const registered = cancers.map((k) => ({ k, start: cancerStart(k) })).filter((x) => x.start !== null && x.start <= UNTIL);
  const cancer = {
    'first-visit-rate': tally(
      registered
        .filter(({ start }) => start! >= PERIOD.from)
        .map(({ k, start }) => ({ org: k.r.org, inNumerator: any(k.records, ['cancer-follow-up'], start!, TODAY) })),
    ),
    'follow-up-rate': tally(
      registered.map(({ k, start }) => ({
        org: k.r.org,
        inNumerator: any(k.records, ['cancer-follow-up'], later(PERIOD.from, start!), UNTIL),
      })),
    ),
    'standard-management-rate': tally(
      registered.map(({ k, start }) => {
        const windows = halves(start!);
        return {
          org: k.r.org,
          inNumerator: windows.length > 0 && windows.every((w) => any(k.records, ['cancer-follow-up'], w.from, plusDays(w.to, -1))),
        };
      }),
    ),
    'pain-assessment-rate': tally(
      registered.map(({ k, start }) => ({ org: k.r.org, inNumerator: any(k.records, ['pain-score'], later(PERIOD.from, start!), UNTIL) })),
    ),
  };
  return { 'disabled-elderly': disabled, 'child-development': child, 'cancer-patients': cancer };
}

/** Residents with an episode (the registry's status=all), and those enrolled on a day (the programme list's count). */
function referenceEnrolment(code: (typeof CODES)[number], on: string): { all: Set<string>; on: number } {
  // [resident, start, first day out]: a child leaves at the 7th birthday (entry.ageYears.max), the disabled on a better score.
  const spans: [string, string, string | null][] =
    code === 'disabled-elderly'
      ? elderly.flatMap((e) => elderlySpans(e).map((s): [string, string, string | null] => [e.r.id, s.start, s.end]))
      : code === 'child-development'
        ? children.flatMap((c): [string, string, string | null][] => {
            const start = childStart(c);
            return start ? [[c.r.id, start, plusMonths(c.r.birth, 84)]] : [];
          })
        : cancers.flatMap((k): [string, string, string | null][] => {
            const start = cancerStart(k);
            return start ? [[k.r.id, start, null]] : [];
          });
  return {
    all: new Set(spans.filter(([, s]) => s <= TODAY).map(([id]) => id)),
    on: new Set(spans.filter(([, s, end]) => s <= on && (end === null || end > on)).map(([id]) => id)).size,
  };
}

describeEachStore('focus groups on the programme engine (失能失智老年人, 发育障碍儿童, 肿瘤患者)', (server) => {
  const { get, transaction, writeDistrict } = districtApi(server);

  beforeAll(() => writeDistrict(CENTRES, resources), 120_000);

  const reference = referenceFigures();
  for (const programme of CODES)
    it(`${programme}: every indicator by organisation equals the reference count`, async () => {
      const body = await get(`/api/programmes/${programme}/indicators?period=2025&groupBy=organization`);
      const expected = reference[programme]!;
      // The indicators this district is written for (cancer-patients' early-diagnosis rate has programmes-cancer.test.ts).
      expect(body.definitions.map((d: Json) => d.code)).toEqual(expect.arrayContaining(Object.keys(expected)));
      expectFigures(body, expected);
    });

  it('the reference figures are not trivial (some in, some out of each numerator, in both organisations)', () => {
    // Some disabled residents leave on a better score, and some children have reached 7 by today.
    expect(elderly.some((e) => elderlySpans(e).some((s) => s.end !== null && s.end <= TODAY))).toBe(true);
    expect(children.some((c) => childStart(c) !== null && plusMonths(c.r.birth, 84) <= TODAY)).toBe(true);
    for (const [programme, figures] of Object.entries(reference))
      for (const [code, rows] of Object.entries(figures)) {
        const n = rows.reduce((s, r) => s + r.numerator, 0);
        const d = rows.reduce((s, r) => s + r.denominator, 0);
        expect(d, `${programme} ${code}`).toBeGreaterThan(3);
        expect(n, `${programme} ${code}`).toBeGreaterThan(0);
        expect(n, `${programme} ${code}`).toBeLessThan(d);
        expect(
          rows.map((r) => r.group),
          `${programme} ${code}`,
        ).toEqual(ORGS);
      }
  });

  it('lists the three programmes with their schedules, indicators, targets and enrolment', async () => {
    const body = await get('/api/programmes?asOf=2025-12-31');
    for (const code of CODES) {
      const row = body.rows.find((r: Json) => r.code === code);
      expect(row, code).toBeDefined();
      expect(row.enrolled, code).toBe(referenceEnrolment(code, '2025-12-31').on);
      expect(
        row.indicators.every((i: Json) => typeof i.target === 'number'),
        code,
      ).toBe(true);
    }
    const items = (code: string) => body.rows.find((r: Json) => r.code === code).versions[0].items.map((i: Json) => i.code);
    expect(items('disabled-elderly')).toEqual(['annual-assessment']);
    expect(items('child-development')).toEqual(['follow-up-h1', 'follow-up-h2']);
    expect(items('cancer-patients')).toEqual(['follow-up-h1', 'follow-up-h2']);
  });

  it('each registry holds exactly the residents the entry rules let in, with the flags', async () => {
    for (const code of CODES) {
      const reg = await get(`/api/programmes/${code}/registry?status=all&limit=500`);
      const expected = referenceEnrolment(code, TODAY).all;
      expect(new Set(reg.rows.map((r: Json) => r.patientId)), code).toEqual(expected);
      expect(reg.total, code).toBe(expected.size);
    }
    // 失智 is a flag of the registry: the residents with a dementia diagnosis among the enrolled.
    const dementia = await get('/api/programmes/disabled-elderly/registry?status=all&flag=dementia&limit=500');
    expect(dementia.total).toBe(elderly.filter((e) => e.dx && elderlyStart(e) !== null).length);
    const autism = await get('/api/programmes/child-development/registry?status=all&flag=autism&limit=500');
    expect(autism.total).toBe(children.filter((c) => childStart(c) !== null && c.dx!.icd === 'F84.0').length);
  });

  it("a resident's due services and the check-in desk list the focus groups' items, in words", async () => {
    // Aged 75, registered as disabled in 2024 (Barthel 40) with lung cancer from 2025-10-01: in 65+, 失能失智 and 肿瘤.
    const old = { resourceType: 'Patient', id: 'fg-two', gender: 'male', birthDate: '1950-04-04', name: [{ text: '两项重点' }] };
    const child = { resourceType: 'Patient', id: 'fg-kid', gender: 'female', birthDate: '2021-05-05', name: [{ text: '发育' }] };
    await transaction([
      old,
      child,
      {
        resourceType: 'Observation',
        id: 'fg-two-barthel',
        status: 'final',
        code: { coding: [{ system: OBS, code: 'barthel-index' }] },
        subject: { reference: 'Patient/fg-two' },
        effectiveDateTime: '2024-11-01T10:00:00+08:00',
        valueQuantity: { value: 40, unit: '分' },
      },
      {
        resourceType: 'Condition',
        id: 'fg-two-cancer',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { coding: [{ system: ICD, code: 'C34.9' }] },
        subject: { reference: 'Patient/fg-two' },
        onsetDateTime: '2025-10-01',
      },
      {
        resourceType: 'Condition',
        id: 'fg-kid-autism',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { coding: [{ system: ICD, code: 'F84.0' }] },
        subject: { reference: 'Patient/fg-kid' },
        onsetDateTime: '2025-03-01',
      },
    ]);
    await server().processors.drain();
    const due = await get('/api/programmes/residents/fg-two/due-services?asOf=2025-12-01&aheadDays=30');
    // (Other programmes by age, screening ones among them, may list theirs beside.)
    expect([...new Set(due.rows.map((r: Json) => r.programme))]).toEqual(
      expect.arrayContaining(['elderly-65', 'disabled-elderly', 'cancer-patients']),
    );
    expect(due.rows.some((r: Json) => r.programme === 'child-development')).toBe(false);
    expect(due.rows.find((r: Json) => r.programme === 'disabled-elderly' && r.windowFrom === '2025-01-01')).toMatchObject({
      item: 'annual-assessment',
      status: 'due',
      programmeName: '失能失智老年人健康管理',
    });
    // Registered on 10-01: the second half-year's follow-up is due from the registration.
    expect(due.rows.find((r: Json) => r.programme === 'cancer-patients' && r.windowFrom === '2025-10-01')).toMatchObject({
      item: 'follow-up-h2',
      status: 'due',
      windowFrom: '2025-10-01',
      windowLast: '2025-12-31',
    });
    const kid = await get('/api/programmes/residents/fg-kid/due-services?asOf=2025-12-01&aheadDays=30');
    expect(kid.rows.map((r: Json) => `${r.programme}:${r.item}:${r.status}`)).toContain('child-development:follow-up-h2:due');
    // The first half-year, missed more than 30 days ago, is overdue on the list.
    expect(kid.rows.find((r: Json) => r.programme === 'child-development' && r.item === 'follow-up-h1')).toMatchObject({
      status: 'overdue',
      windowFrom: '2025-03-01',
    });

    const desk = (await get('/api/residents/fg-two/due-services?asOf=2025-12-01')).items.filter((i: Json) => i.kind === 'programme');
    expect(desk.find((i: Json) => i.programme.code === 'disabled-elderly')).toMatchObject({
      title: '年度失能评估（复评）',
      overdue: false,
      dueDate: '2025-12-31',
      programme: { code: 'disabled-elderly', name: '失能失智老年人健康管理', item: 'annual-assessment' },
    });
    expect(desk.find((i: Json) => i.programme.code === 'cancer-patients')).toMatchObject({ title: '下半年随访', overdue: false });
    for (const i of desk) expect(i.title).not.toMatch(/^[a-z0-9-]+$/);

    // A re-assessment recorded through /fhir takes the item off the list once the processor has seen it.
    await transaction([
      {
        resourceType: 'Observation',
        id: 'fg-two-reassessed',
        status: 'final',
        code: { coding: [{ system: OBS, code: 'barthel-index' }] },
        subject: { reference: 'Patient/fg-two' },
        effectiveDateTime: '2025-11-20T10:00:00+08:00',
        valueQuantity: { value: 45, unit: '分' },
      },
    ]);
    await server().processors.drain();
    const after = await get('/api/programmes/residents/fg-two/due-services?asOf=2025-12-01&aheadDays=30');
    expect(after.rows.some((r: Json) => r.programme === 'disabled-elderly' && r.windowFrom === '2025-01-01')).toBe(false);
    // Back as it was: the figures above are the seeded district's.
    for (const ref of ['Observation/fg-two-reassessed', 'Observation/fg-two-barthel', 'Condition/fg-two-cancer', 'Condition/fg-kid-autism'])
      expect((await server().api(`/fhir/${ref}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
  });

  it('the summaries equal the engine over the facts, for other periods, asOf and groups', async () => {
    const programmes = loadProgrammes().filter((p) => (CODES as readonly string[]).includes(p.code));
    expect(programmes).toHaveLength(3);
    const queries = [
      { period: '2025', groupBy: 'area' as const },
      { period: '2024', groupBy: 'organization' as const },
      { period: '2025-04-01/2025-09-30', groupBy: 'organization' as const },
      { period: '2025', asOf: '2025-10-15' },
      { period: '2025-07-01/2026-06-30', asOf: '2026-01-31', organization: 'org-fg-east' },
    ];
    for (const p of programmes)
      for (const q of queries)
        expect(await programmeIndicators(server().db, p, q, TODAY, 'summaries'), `${p.code} ${JSON.stringify(q)}`).toEqual(
          await programmeIndicators(server().db, p, q, TODAY, 'engine'),
        );
  });
});
