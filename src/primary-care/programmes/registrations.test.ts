/**
 * What a doctor records by hand in a programme's registry (POST /api/programmes/{code}/registry,
 * PUT /api/programmes/{code}/registry/{patientId}): an enrolment without a diagnosis record, and a
 * status (transferred out, died) from a day on, stored in prog_registration and honoured by every
 * derivation (the processor, a full recompute): the episode ends that day, so the resident leaves
 * every later period's denominator, the worklist and the due services. On both stores; the
 * manual enrolment gives chronic care's next due date and figures for the same resident.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes } from './definition.js';
import { recomputeProgrammes } from './refresh.js';
import { programmeIndicators } from './service.js';
import { districtApi } from './seeded.testutil.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const VISIT_TYPE = 'https://yifang.health/fhir/CodeSystem/visit-type';
const TODAY = todayInChina();

const resources: Json[] = [{ resourceType: 'Organization', id: 'org-reg', name: '登记测试社区卫生服务中心' }];
const patient = (id: string, birthDate: string, gender: string) =>
  resources.push({ resourceType: 'Patient', id, gender, birthDate, managingOrganization: { reference: 'Organization/org-reg' } });
/** A follow-up Encounter with its blood pressure linked by Observation.encounter (what both engines read). */
const followUp = (pt: string, day: string, sbp: number, dbp: number) => {
  const enc = `${pt}-e-${day}`;
  resources.push(
    {
      resourceType: 'Encounter',
      id: enc,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ coding: [{ system: VISIT_TYPE, code: 'follow-up' }] }],
      subject: { reference: `Patient/${pt}` },
      period: { start: `${day}T09:00:00+08:00` },
    },
    {
      resourceType: 'Observation',
      id: `${pt}-bp-${day}`,
      status: 'final',
      code: { coding: [{ system: LOINC, code: '85354-9' }] },
      subject: { reference: `Patient/${pt}` },
      encounter: { reference: `Encounter/${enc}` },
      effectiveDateTime: `${day}T09:10:00+08:00`,
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: sbp, unit: 'mm[Hg]' } },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: dbp, unit: 'mm[Hg]' } },
      ],
    },
  );
};

// By hand: 30 years old (a diagnosis would not enrol below 35), no diagnosis record, one follow-up.
patient('reg-manual', '1995-05-05', 'female');
followUp('reg-manual', '2025-04-01', 125, 75);
// By record: a hypertension diagnosis and quarterly follow-ups, transferred out in August.
patient('reg-dx', '1950-02-02', 'male');
resources.push({
  resourceType: 'Condition',
  id: 'reg-dx-c',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
  code: { coding: [{ system: ICD, code: 'I10' }] },
  subject: { reference: 'Patient/reg-dx' },
  onsetDateTime: '2024-01-01',
});
for (const d of ['2025-01-10', '2025-04-05', '2025-07-01', '2025-09-25']) followUp('reg-dx', d, 125, 75);
// Neither enrolled nor diagnosed.
patient('reg-none', '1960-06-06', 'male');

describeEachStore('manual enrolments and registry statuses of the programmes', (server) => {
  const { get, transaction } = districtApi(server);
  const send = async (method: string, path: string, body: unknown) => {
    const res = await server().api(path, { method, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const registry = async (status: string) =>
    (await get(`/api/programmes/hypertension/registry?status=${status}&limit=500`)).rows.filter((r: Json) =>
      r.patientId.startsWith('reg-'),
    );
  const figures = async (period: string) =>
    (await get(`/api/programmes/hypertension/indicators?period=${period}`)).values.map((v: Json) => [
      v.indicator,
      v.numerator,
      v.denominator,
    ]);

  beforeAll(async () => {
    await transaction(resources);
    await server().processors.drain();
  }, 120_000);

  it('refuses what is not a manual enrolment or a status', async () => {
    const enrol = (programme: string, body: unknown) => send('POST', `/api/programmes/${programme}/registry`, body);
    expect((await enrol('hypertension', {})).status).toBe(400);
    expect((await enrol('hypertension', { patientId: 'reg-manual', enrolledOn: '2025-02-30' })).status).toBe(400);
    expect((await enrol('hypertension', { patientId: 'reg-manual', enrolledOn: '2999-01-01' })).body.issue[0].diagnostics).toMatch(
      /in the future/,
    );
    expect((await enrol('hypertension', { patientId: 'reg-manual', team: 'x' })).status).toBe(400);
    expect((await enrol('elderly-65', { patientId: 'reg-none' })).status).toBe(400); // entered by age
    expect((await enrol('maternal', { patientId: 'reg-none' })).status).toBe(400); // women only
    expect((await enrol('hypertension', { patientId: 'nobody-here' })).status).toBe(404);
    expect((await enrol('dentistry', { patientId: 'reg-none' })).status).toBe(404);
    const status = (pt: string, body: unknown) => send('PUT', `/api/programmes/hypertension/registry/${pt}`, body);
    expect((await status('reg-dx', { status: 'moved' })).status).toBe(400);
    expect((await status('reg-dx', { status: 'managed', on: '2025-01-01' })).status).toBe(400);
    expect((await status('reg-dx', { status: 'died', on: '2999-01-01' })).status).toBe(400);
    expect((await status('reg-none', { status: 'died' })).status).toBe(404); // not in the registry
    // Nothing was written by the refusals.
    expect((await registry('all')).map((r: Json) => [r.patientId, r.registryStatus])).toEqual([['reg-dx', 'managed']]);
  });

  it("enrols a resident by hand: in the registry, on the worklist with chronic care's next due date, in the figures as chronic care counts", async () => {
    const done = await send('POST', '/api/programmes/hypertension/registry', { patientId: 'reg-manual', enrolledOn: '2025-03-01' });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      programme: 'hypertension',
      patientId: 'reg-manual',
      enrolledOn: '2025-03-01',
      status: 'managed',
      statusOn: null,
      statusReason: null,
      episodes: [{ episodeKey: 'manual', startOn: '2025-03-01', endOn: null }],
    });
    const row = (await registry('active')).find((r: Json) => r.patientId === 'reg-manual');
    expect(row).toMatchObject({ source: 'manual', startOn: '2025-03-01', lastService: '2025-04-01', nextDue: '2025-06-30' });
    const work = await get('/api/programmes/hypertension/worklist?asOf=2025-07-03&limit=500');
    expect(work.rows.find((r: Json) => r.patientId === 'reg-manual')).toMatchObject({
      item: 'next-follow-up',
      windowFrom: '2025-06-30',
      status: 'due',
    });
    // Chronic care, told the same by its own registry API, gives the same next due date and the same figures.
    expect(
      (await send('POST', '/api/chronic/registry', { patientId: 'reg-manual', disease: 'htn', diagnosedOn: '2025-03-01' })).status,
    ).toBe(200);
    const chronic = (await get('/api/chronic/registry?disease=htn&limit=1000')).rows.filter((r: Json) => r.patientId.startsWith('reg-'));
    expect(Object.fromEntries(chronic.map((r: Json) => [r.patientId, r.nextDue]))).toEqual(
      Object.fromEntries((await registry('all')).map((r: Json) => [r.patientId, r.nextDue])),
    );
    const theirs = await get('/api/indicators?period=2025&indicator=htn-standard-management,htn-control');
    const total = (code: string) => theirs.values.find((v: Json) => v.indicator === code && v.group === 'all');
    const ours = await figures('2025');
    for (const [mine, code] of [
      ['standard-management-rate', 'htn-standard-management'],
      ['control-rate', 'htn-control'],
    ] as const) {
      const o = ours.find((v: unknown[]) => v[0] === mine)!;
      expect([o[1], o[2]], mine).toEqual([total(code).numerator, total(code).denominator]);
    }
  });

  it('transferred out from a day: the episode ends that day, out of later periods, the worklist and due services; managed again undoes it', async () => {
    const before = { y2025: await figures('2025'), late: await figures('2025-08-01/2025-12-31') };
    const done = await send('PUT', '/api/programmes/hypertension/registry/reg-dx', {
      status: 'transferred',
      on: '2025-08-01',
      reason: '迁出本辖区',
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'transferred', statusOn: '2025-08-01', statusReason: '迁出本辖区' });
    expect(done.body.episodes).toEqual([{ episodeKey: 'Condition/reg-dx-c', startOn: '2024-01-01', endOn: '2025-08-01' }]);
    expect((await registry('active')).some((r: Json) => r.patientId === 'reg-dx')).toBe(false);
    expect((await registry('ended')).find((r: Json) => r.patientId === 'reg-dx')).toMatchObject({
      registryStatus: 'transferred',
      statusOn: '2025-08-01',
      statusReason: '迁出本辖区',
      endOn: '2025-08-01',
      services: 3,
    });
    // 2025: still in both denominators with the follow-ups before the day (as chronic care counts a resident who left),
    // but the one on 09-25, after the day, is no longer this district's: three follow-ups, not 规范管理.
    const [y2025, late] = [await figures('2025'), await figures('2025-08-01/2025-12-31')];
    expect(y2025).toEqual(
      before.y2025.map(([code, n, d]: [string, number, number]) => [code, code === 'standard-management-rate' ? n - 1 : n, d]),
    );
    for (const [k, [, , d]] of late.entries()) expect(d, late[k][0]).toBe(before.late[k][2] - 1);
    // The summaries answer as the engine over the stored facts and registrations.
    const p = loadProgrammes().find((x) => x.code === 'hypertension')!;
    for (const q of [{ period: '2025' }, { period: '2025-08-01/2025-12-31' }, { period: '2025-06-01/2025-09-30', asOf: '2025-10-15' }])
      expect(await programmeIndicators(server().db, p, q, TODAY, 'summaries')).toEqual(
        await programmeIndicators(server().db, p, q, TODAY, 'engine'),
      );
    expect((await get('/api/programmes/hypertension/worklist?limit=500')).rows.some((r: Json) => r.patientId === 'reg-dx')).toBe(false);
    const due = (await get('/api/programmes/residents/reg-dx/due-services')).rows;
    expect(due.filter((r: Json) => r.programme === 'hypertension')).toEqual([]);
    expect(due.some((r: Json) => r.programme === 'elderly-65')).toBe(true); // other programmes go on

    // A new record re-derives the resident (the processor): the status holds; so does a full recompute.
    followUp('reg-dx', '2025-11-20', 128, 76);
    await transaction(resources.slice(-2));
    await server().processors.drain();
    const ended = async () => (await registry('ended')).find((r: Json) => r.patientId === 'reg-dx');
    expect(await ended()).toMatchObject({ endOn: '2025-08-01', services: 3 });
    const rows = async () =>
      (
        await server().db.query(`SELECT * FROM prog_enrolment WHERE patient_id LIKE 'reg-%' ORDER BY programme, patient_id, episode_key`)
      ).rows.map(({ updated_at: _, ...r }) => r);
    const kept = await rows();
    await recomputeProgrammes(server().db, loadProgrammes(), TODAY, { chunk: 1000, thread: false });
    expect(await rows()).toEqual(kept);

    // Managed again: the episode is open as before, the status gone.
    const back = await send('PUT', '/api/programmes/hypertension/registry/reg-dx', { status: 'managed' });
    expect(back.body).toMatchObject({ status: 'managed', statusOn: null, statusReason: null });
    expect(back.body.episodes).toEqual([{ episodeKey: 'Condition/reg-dx-c', startOn: '2024-01-01', endOn: null }]);
    expect((await registry('active')).find((r: Json) => r.patientId === 'reg-dx')).toMatchObject({
      registryStatus: 'managed',
      services: 5,
    });
  });

  it('died before enrolment leaves no episode; the routes are documented in OpenAPI', async () => {
    const died = await send('PUT', '/api/programmes/hypertension/registry/reg-manual', {
      status: 'died',
      on: '2025-02-01',
      reason: '死亡',
    });
    expect(died.body).toMatchObject({ enrolledOn: '2025-03-01', status: 'died', statusOn: '2025-02-01', episodes: [] });
    expect((await registry('all')).some((r: Json) => r.patientId === 'reg-manual')).toBe(false);
    // Each write left an audit event in its transaction, naming the resident (the refused ones none).
    const audits = async (subtype: string) =>
      ((await get(`/fhir/AuditEvent?subtype=${subtype}&_count=50`)).entry ?? []).map((e: Json) =>
        e.resource.entity.map((x: Json) => x.what?.reference ?? x.what?.display ?? x.query).filter(Boolean),
      );
    expect(await audits('programme-enrolment')).toEqual([expect.arrayContaining(['Patient/reg-manual'])]);
    const statuses = await audits('programme-status');
    expect(statuses).toHaveLength(3);
    for (const e of statuses) expect(e.some((x: string) => /^Patient\/reg-(dx|manual)$/.test(x))).toBe(true);
    const docs = (await (await server().api('/api/docs')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(docs.paths['/api/programmes/{programme}/registry'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(docs.paths['/api/programmes/{programme}/registry/{patientId}'] ?? {})).toEqual(['put']);
  });
});
