/**
 * Hypertension and diabetes as live programmes, on a district stored through the product's own
 * paths: seeded residents written as FHIR transaction Bundles through /fhir (Patients, ICD-10
 * diagnoses, A10 prescriptions, follow-up Encounters with their readings linked by
 * Observation.encounter, some written on chronic care's follow-up form, the chronic-follow-up
 * extension, with symptoms, adverse reactions and new complications, a few still planned), both
 * change-log processors run (chronic care's and the programmes'), and then, for several periods,
 * the programme engine's figures (GET /api/programmes/{hypertension,diabetes}/indicators:
 * denominators, 规范管理率, 控制率) must equal chronic care's own computation over its tables
 * (chronicIndicatorPatients: chronic_visit_eval, chronic_registry) for the same residents, and
 * GET /api/indicators (htn-/dm-standard-management, htn-/dm-control), which now asks the
 * programme engine, must answer the same, its drill-down with chronic care's details per
 * resident (follow-ups, all on time, controlled, last follow-up) read off the stored summaries;
 * and the figures the summaries give must equal the engine's over the stored facts (readings
 * read back from prog_fact). The programme routes (list, worklist, registry, due services)
 * answer for both.
 */
import { programmeDueItems } from './due.js';
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { indicatorDrillDown, programmeIndicators } from './service.js';
import { derivedSpan } from './store.js';
import { districtApi, rng } from './seeded.testutil.js';
import { chronicIndicatorPatients, indicatorFilter, indicatorResidents } from '../indicators/indicators.js';
import { loadChronicRuleSets } from '../chronic/rule-sets.js';
import { loadSchedules } from '../immunization/schedule.js';
import { percentOf } from '../../shared/percent.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const ATC = 'http://www.whocc.no/atc';
const VISIT_TYPE = 'https://yifang.health/fhir/CodeSystem/visit-type';
const FOLLOW_UP_FORM = 'https://yifang.health/fhir/StructureDefinition/chronic-follow-up';
const TODAY = todayInChina();
const LAST_VISIT = '2026-06-30';

const rand = rng(2112);
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p: number) => rand() < p;
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
const plusDays = (d: string, n: number) => {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
};
const ORGS = ['org-east', 'org-west'];
const resources: Json[] = [];
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}`;

function seed(n: number): void {
  for (let k = 0; k < n; k++) {
    // Ages 30–92 today: some below 35 (chronic care leaves them out of the hypertension registry), every target band.
    const pt = id('cd-pt');
    resources.push({
      resourceType: 'Patient',
      id: pt,
      gender: pick(['male', 'female']),
      birthDate: `${between(1934, 1996)}-${String(between(1, 12)).padStart(2, '0')}-${String(between(1, 28)).padStart(2, '0')}`,
      managingOrganization: { reference: `Organization/${pick(ORGS)}` },
    });
    const subject = { reference: `Patient/${pt}` };
    const hasHtn = chance(0.7);
    const hasDm = !hasHtn || chance(0.35);
    const onset = plusDays('2022-01-01', between(0, 1300));
    const condition = (icd: string, on: string, clinical = 'active') =>
      resources.push({
        resourceType: 'Condition',
        id: id('cd-c'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        code: { coding: [{ system: ICD, code: icd }] },
        subject,
        onsetDateTime: on,
      });
    if (hasHtn) condition(pick(['I10', 'I11.9', 'I15.0']), onset);
    if (hasDm) {
      // Diabetes by diagnosis, or only by an A10 prescription (sometimes stopped: then not registered).
      if (chance(0.7)) condition('E11.9', plusDays(onset, between(-200, 200)));
      if (chance(0.4))
        resources.push({
          resourceType: 'MedicationRequest',
          id: id('cd-m'),
          status: chance(0.8) ? 'active' : 'stopped',
          intent: 'order',
          medicationCodeableConcept: { coding: [{ system: ATC, code: pick(['A10BA02', 'A10BB01', 'A10AE04']) }] },
          subject,
          authoredOn: plusDays(onset, between(-100, 300)),
        });
    }
    if (chance(0.2)) condition(pick(['I25.1', 'N18.3', 'I50.0']), plusDays(onset, between(-300, 600)));
    let day = plusDays(onset, between(-30, 40));
    while (day <= LAST_VISIT) {
      const enc = id('cd-e');
      // Some visits written on chronic care's follow-up form (the chronic-follow-up extension): a
      // symptom (an emergency one or not, sometimes with no reading taken), an adverse reaction, a
      // new complication; some typed by the form alone; a few still planned.
      const form: Json[] = [];
      if (chance(0.2)) {
        if (chance(0.6)) form.push({ url: 'mode', valueCode: pick(['face-to-face', 'phone', 'home']) });
        form.push({ url: 'adverse-reaction', valueCode: pick(['none', 'none', 'manageable', 'unmanageable']) });
        form.push({ url: 'new-complication', valueBoolean: chance(0.2) });
        if (chance(0.3))
          form.push({ url: 'symptom', valueCode: pick(['chest-pain', 'severe-headache', 'vomiting', 'dizziness', 'fatigue']) });
      }
      const symptomOnly = form.some((x) => x.url === 'symptom') && chance(0.4);
      const reported = form.some(
        (x) => x.url === 'symptom' || x.valueBoolean === true || x.valueCode === 'manageable' || x.valueCode === 'unmanageable',
      );
      resources.push({
        resourceType: 'Encounter',
        id: enc,
        ...(form.length ? { extension: [{ url: FOLLOW_UP_FORM, extension: form }] } : {}),
        status: chance(0.04) ? 'planned' : 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        ...(form.length && chance(0.5)
          ? {}
          : { type: [{ coding: [{ system: VISIT_TYPE, code: chance(0.9) ? 'follow-up' : 'home-visit' }] }] }),
        subject,
        period: { start: `${day}T09:00:00+08:00` },
      });
      const obs = (code: string, extra: Json) =>
        resources.push({
          resourceType: 'Observation',
          id: id('cd-o'),
          status: 'final',
          code: { coding: [{ system: LOINC, code }] },
          subject,
          encounter: { reference: `Encounter/${enc}` },
          effectiveDateTime: `${day}T09:10:00+08:00`,
          ...extra,
        });
      const q = (value: number, unit: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
      let sbp = 0;
      let dbp = 0;
      let fpg = 5;
      if (!symptomOnly && (hasHtn || chance(0.3))) {
        sbp = chance(0.06) ? between(180, 200) : between(112, 165);
        dbp = Math.min(sbp - 20, chance(0.05) ? between(110, 120) : between(68, 100));
        obs('85354-9', {
          component: [
            { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: q(sbp, 'mm[Hg]') },
            { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: q(dbp, 'mm[Hg]') },
          ],
        });
      }
      if (!symptomOnly && (hasDm || chance(0.2))) {
        if (chance(0.75)) {
          fpg = between(38, 175) / 10;
          obs('1558-6', { valueQuantity: q(fpg, 'mmol/L') });
        } else obs('4548-4', { valueQuantity: q(between(55, 95) / 10, '%') });
      }
      const urgent = sbp >= 180 || dbp >= 110 || fpg >= 16.7 || fpg <= 3.9;
      const poor = sbp >= 130 || dbp >= 80 || fpg >= 7 || (reported && chance(0.5));
      const late = chance(0.08) ? between(25, 60) : 0;
      day = plusDays(day, late + (urgent ? between(1, 8) : poor ? between(7, 22) : between(80, 97)));
    }
  }
}
seed(120);
// Registered, never followed up: this year's follow-up is due (worklist, check-in).
for (const [code, system, resourceType] of [
  ['I10', ICD, 'Condition'],
  ['A10BA02', ATC, 'MedicationRequest'],
] as const) {
  const pt = id('cd-pt');
  resources.push({
    resourceType: 'Patient',
    id: pt,
    gender: 'female',
    birthDate: '1960-03-03',
    managingOrganization: { reference: 'Organization/org-east' },
  });
  resources.push(
    resourceType === 'Condition'
      ? {
          resourceType,
          id: id('cd-c'),
          code: { coding: [{ system, code }] },
          subject: { reference: `Patient/${pt}` },
          onsetDateTime: '2024-05-01',
        }
      : {
          resourceType,
          id: id('cd-m'),
          status: 'active',
          intent: 'order',
          medicationCodeableConcept: { coding: [{ system, code }] },
          subject: { reference: `Patient/${pt}` },
          authoredOn: '2024-05-01',
        },
  );
}

const PERIODS = ['2025', '2024', '2025-04-01/2025-09-30', '2026-01-01/2026-06-30'];
const PAIRS = [
  { programme: 'hypertension', chronic: 'htn' },
  { programme: 'diabetes', chronic: 'dm' },
] as const;

describeEachStore('hypertension and diabetes on the programme engine, on a stored district', (server) => {
  const { get, transaction } = districtApi(server);

  beforeAll(async () => {
    await transaction(ORGS.map((o) => ({ resourceType: 'Organization', id: o, name: o })));
    for (let k = 0; k < resources.length; k += 250) await transaction(resources.slice(k, k + 250));
    await server().processors.drain();
  }, 180_000);

  const sets = loadChronicRuleSets();
  const schedules = loadSchedules();
  /** Chronic care's own figures and residents, from its tables (the path /api/indicators took before issue #21). */
  const chronicCare = async (disease: 'htn' | 'dm', period: string) => {
    const rows = await chronicIndicatorPatients(server().db.pool, disease, indicatorFilter({ period }, TODAY), sets);
    const figure = (hit: (r: (typeof rows)[number]) => boolean) => {
      const n = rows.filter(hit).length;
      return rows.length ? { numerator: n, denominator: rows.length, value: percentOf(n, rows.length) } : null;
    };
    return { rows, standard: figure((r) => r.standard), control: figure((r) => r.controlled) };
  };

  const totals: Record<string, { n: number; d: number }> = {};
  for (const period of PERIODS)
    for (const { programme, chronic } of PAIRS)
      it(`${programme} ${period}: 健康管理 denominators, 规范管理率 and 控制率 equal chronic care's, and /api/indicators answers them`, async () => {
        const ours = await get(`/api/programmes/${programme}/indicators?period=${period}`);
        const api = await get(`/api/indicators?period=${period}&indicator=${chronic}-standard-management,${chronic}-control`);
        const theirs = await chronicCare(chronic, period);
        const figure = (body: Json, code: string) => {
          const v = body.values.find((x: Json) => x.indicator === code && x.group === (body === ours ? 'total' : 'all'));
          return v ? { numerator: v.numerator, denominator: v.denominator, value: v.value } : null;
        };
        for (const [mine, chronicCode, reference] of [
          ['standard-management-rate', `${chronic}-standard-management`, theirs.standard],
          ['control-rate', `${chronic}-control`, theirs.control],
        ] as const) {
          const a = figure(ours, mine) ?? { numerator: 0, denominator: 0, value: null };
          expect(a, `${programme} ${mine} ${period}`).toEqual(reference ?? { numerator: 0, denominator: 0, value: null });
          expect(figure(api, chronicCode), `/api/indicators ${chronicCode} ${period}`).toEqual(reference);
          const t = (totals[`${programme} ${mine}`] ??= { n: 0, d: 0 });
          t.n += a.numerator;
          t.d += a.denominator;
        }
        // The drill-downs name the same residents as chronic care's; /api/indicators' with chronic care's details.
        for (const [mine, chronicCode] of [
          ['standard-management-rate', `${chronic}-standard-management`],
          ['control-rate', `${chronic}-control`],
        ] as const) {
          const drill = await get(`/api/programmes/${programme}/indicators/${mine}/residents?period=${period}&limit=500`);
          const apiDrill = await get(`/api/indicators/${chronicCode}/residents?period=${period}`);
          const reference = theirs.rows.map((r) => ({
            patientId: r.patientId,
            inNumerator: mine === 'control-rate' ? r.controlled : r.standard,
            detail: { followUps: r.followUps, allOnTime: r.allOnTime, controlled: r.controlled, lastFollowUp: r.lastFollowUp },
          }));
          const ids = (rows: Json[]) => rows.map((r) => `${r.patientId}:${r.inNumerator}`).sort();
          expect(ids(drill.rows), `${programme} ${mine} ${period} residents`).toEqual(ids(reference));
          const byId = (rows: Json[]) => [...rows].sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
          expect(
            byId(apiDrill.rows).map((r: Json) => ({ patientId: r.patientId, inNumerator: r.inNumerator, detail: r.detail })),
            `/api/indicators ${chronicCode} ${period} residents`,
          ).toEqual(byId(reference));
          expect(apiDrill.total).toBe(reference.length);
          expect(apiDrill.numerator).toBe(reference.filter((r) => r.inNumerator).length);
        }
      });

  it("/api/indicators' drill-down reads each resident's details off the stored summaries: two statements for a page, no facts read, the engine's answer", async () => {
    const statements: string[] = [];
    const counting = {
      query: (text: string, params?: unknown[]) => {
        statements.push(text);
        return server().db.query(text, params);
      },
    } as unknown as Parameters<typeof indicatorResidents>[0];
    for (const code of ['htn-standard-management', 'htn-control', 'dm-standard-management', 'dm-control'])
      for (const groupBy of ['total', 'organization'] as const) {
        const f = indicatorFilter({ period: '2025', groupBy }, TODAY);
        statements.length = 0;
        const all = await indicatorResidents(counting, code, {}, f, sets, schedules);
        expect(all.rows.length, code).toBe(all.total);
        expect(all.total, code).toBeGreaterThan(25);
        // How current the summaries are, then the count and the page: whatever the number of rows.
        expect(statements, code).toHaveLength(3);
        expect(
          statements.filter((t) => /prog_enrolment/.test(t)),
          code,
        ).toHaveLength(2);
        expect(
          statements.some((t) => /prog_fact|prog_item|chronic_visit_eval|chronic_registry/.test(t)),
          code,
        ).toBe(false);
        // The same rows, details included, as the engine evaluating every resident's stored facts.
        expect(all, code).toEqual(await indicatorResidents(server().db.pool, code, {}, { ...f, via: 'engine' }, sets, schedules));
        expect(all.rows.some((r) => r.detail!.followUps === 0 || r.detail!.lastFollowUp === null)).toBe(false);
        // A page of a group's numerator: the same rows as the whole list filtered, with the same totals.
        const group = all.rows[0]!.group;
        const inGroup = all.rows.filter((r) => r.group === group && r.inNumerator);
        const page = await indicatorResidents(
          server().db.pool,
          code,
          { group, numerator: 'true', limit: 5, offset: 2 },
          f,
          sets,
          schedules,
        );
        expect(page.total).toBe(inGroup.length);
        expect(page.numerator).toBe(inGroup.length);
        expect(page.rows).toEqual(inGroup.slice(2, 7));
      }
  });

  it('the figures are not trivial (someone in and someone out of each numerator)', () => {
    expect(Object.keys(totals)).toHaveLength(4);
    for (const [k, t] of Object.entries(totals)) {
      expect(t.d, k).toBeGreaterThan(20);
      expect(t.n, k).toBeGreaterThan(0);
      expect(t.n, k).toBeLessThan(t.d);
    }
  });

  it('the summaries (follow-up chain, targets met) answer as the engine does over the stored facts and readings', async () => {
    expect((await derivedSpan(server().db)).pending).toBe(false);
    for (const p of loadProgrammes().filter((x) => x.code === 'hypertension' || x.code === 'diabetes'))
      for (const q of [
        { period: '2025', groupBy: 'organization' as const },
        { period: '2024' },
        { period: '2025-04-01/2025-09-30' },
        { period: '2025', asOf: '2025-10-15' },
        { period: '2025-02-10/2026-03-20', asOf: '2025-12-31', organization: 'org-east' },
        { period: TODAY.slice(0, 4) },
      ]) {
        const viaSummaries = await programmeIndicators(server().db, p, q, TODAY, 'summaries');
        expect(viaSummaries, `${p.code} ${JSON.stringify(q)}`).toEqual(await programmeIndicators(server().db, p, q, TODAY, 'engine'));
        expect(viaSummaries.values.some((v) => v.denominator > 0 || q.period === TODAY.slice(0, 4))).toBe(true);
        for (const ind of p.indicators) {
          const drill = { ...q, limit: 9, offset: 1 };
          expect(await indicatorDrillDown(server().db, p, ind.code, drill, TODAY, 'summaries')).toEqual(
            await indicatorDrillDown(server().db, p, ind.code, drill, TODAY, 'engine'),
          );
        }
      }
  });

  it("each resident's next follow-up (下次随访) is chronic care's next due date; worklist and due services list it, overdue after the tolerance", async () => {
    // A day inside the seeded follow-ups' due dates: some due, some overdue, some not yet.
    const AS_OF = '2026-07-20';
    const counts = { due: 0, overdue: 0, ahead: 0 };
    for (const { programme, chronic } of PAIRS) {
      const theirs = await get(`/api/chronic/registry?disease=${chronic}&limit=1000`);
      const chronicDue = new Map<string, string>(theirs.rows.map((r: Json) => [r.patientId, r.nextDue]));
      expect(chronicDue.size, programme).toBeGreaterThan(20);
      // The registry shows it per resident: the same residents, the same day as chronic care's registry.
      const ours = await get(`/api/programmes/${programme}/registry?status=all&limit=500`);
      expect(ours.total).toBe(ours.rows.length);
      expect(new Map(ours.rows.map((r: Json) => [r.patientId, r.nextDue])), programme).toEqual(chronicDue);
      // The worklist lists it from the due day on, overdue after due + 7 days (toleranceDays), instead of 年度随访.
      const work = await get(`/api/programmes/${programme}/worklist?asOf=${AS_OF}&limit=500`);
      expect(work.total).toBe(work.rows.length);
      expect(
        work.rows.every((r: Json) => r.item === 'next-follow-up' && r.itemName === '下次随访'),
        programme,
      ).toBe(true);
      const expected = [...chronicDue]
        .filter(([, d]) => d <= AS_OF)
        .map(([pt, d]) => `${pt} ${d} ${plusDays(d, 7)} ${plusDays(d, 7) < AS_OF ? 'overdue' : 'due'}`)
        .sort();
      expect(work.rows.map((r: Json) => `${r.patientId} ${r.windowFrom} ${r.windowLast} ${r.status}`).sort(), programme).toEqual(expected);
      for (const r of work.rows) expect(r.recommended, r.patientId).toMatch(/^(上次随访（\d{4}-\d{2}-\d{2}）|纳入管理（)/);
      counts.due += work.counts.due;
      counts.overdue += work.counts.overdue;
      counts.ahead += chronicDue.size - work.total;
      // A resident's due services: the next follow-up on its day (upcoming within 30 days ahead), never the yearly item.
      for (const [pt, d] of [...chronicDue].slice(0, 8)) {
        const due = await get(`/api/programmes/residents/${pt}/due-services?asOf=${AS_OF}&aheadDays=366&overdueWithinDays=0`);
        const mine = due.rows.filter((r: Json) => r.programme === programme);
        expect(
          mine.map((r: Json) => [r.item, r.windowFrom, r.status]),
          pt,
        ).toEqual([['next-follow-up', d, d > AS_OF ? 'upcoming' : plusDays(d, 7) < AS_OF ? 'overdue' : 'due']]);
      }
    }
    expect(counts.due, 'someone due').toBeGreaterThan(0);
    expect(counts.overdue, 'someone overdue').toBeGreaterThan(0);
    expect(counts.ahead, 'someone not due yet').toBeGreaterThan(0);
    // Today every seeded follow-up is past due + 7: the programmes' due services give 下次随访 in
    // words, with the programme, however long overdue.
    const [pt, d] = (await get('/api/chronic/registry?disease=htn&limit=1')).rows.map((r: Json) => [r.patientId, r.nextDue])[0];
    const line = (await programmeDueItems(server().db, [pt], todayInChina())).find((i) => i.programme?.code === 'hypertension') as Json;
    expect(line).toMatchObject({
      title: '下次随访',
      overdue: true,
      dueDate: plusDays(d, 7),
      programme: { code: 'hypertension', name: '高血压患者健康管理', item: 'next-follow-up' },
      i18n: { title: 'programme.item.hypertension.next-follow-up', detail: 'care.due.programme.nextFollowUp.overdue' },
    });
    expect(line.detail).toContain(`约定 ${d} 随访，最迟 ${plusDays(d, 7)}，已逾期`);
    // The check-in desk lists one hypertension follow-up: chronic care's own (高血压随访, on the
    // same day) while chronic care also registers the resident, never the yearly item.
    const desk = await get(`/api/residents/${pt}/due-services`);
    expect(desk.items.filter((i: Json) => i.key === 'follow-up:htn').map((i: Json) => i.dueDate)).toEqual([d]);
    expect(desk.items.some((i: Json) => i.kind === 'programme' && i.programme.code === 'hypertension')).toBe(false);
  });

  it('lists both programmes; their registry, worklist and due services answer through the programme routes', async () => {
    const list = await get('/api/programmes');
    for (const code of ['hypertension', 'diabetes']) {
      const row = list.rows.find((r: Json) => r.code === code);
      expect(row.enrolled, code).toBeGreaterThan(10);
      const registry = await get(`/api/programmes/${code}/registry?limit=5`);
      expect(registry.total).toBe(row.enrolled);
      const worklist = await get(`/api/programmes/${code}/worklist?limit=5`);
      expect(worklist.total).toBeGreaterThan(0);
      const someone = worklist.rows[0].patientId as string;
      const due = await get(`/api/programmes/residents/${someone}/due-services`);
      expect(due.rows.some((r: Json) => r.programme === code)).toBe(true);
    }
  });
});
