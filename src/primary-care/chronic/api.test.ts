/**
 * The chronic-care, contract, referral, education, immunization and due-services API on a
 * small hand-made record: bad input is rejected with the reason, state flows through the
 * change-log processor, both ends see a referral.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { addDays, todayInChina } from '../../shared/dates.js';
import { makeIdNumber } from '../../shared/id-number.js';

const today = todayInChina();
const yearsAgo = (n: number, md = '03-15') => `${Number(today.slice(0, 4)) - n}-${md}`;
const json = (body: unknown, method = 'POST') => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describeEachStore('chronic care API', (server) => {
  const put = (type: string, r: Record<string, unknown>) =>
    server().api(`/fhir/${type}/${r.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: type, ...r }),
    });
  const get = async (p: string) => {
    const res = await server().api(p);
    expect(res.status, p).toBe(200);
    return (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    await put('Organization', { id: 'org-chc', name: '临江街道社区卫生服务中心' });
    await put('Organization', { id: 'org-gh', name: '区人民医院' });
    await put('Practitioner', { id: 'doc-1', name: [{ text: '王医生' }] });
    await put('Practitioner', { id: 'doc-2', name: [{ text: '李医生' }] });
    await put('CareTeam', {
      id: 'team-a',
      name: '王医生团队',
      participant: [{ member: { reference: 'Practitioner/doc-1' } }],
      managingOrganization: [{ reference: 'Organization/org-chc' }],
    });
    await put('CareTeam', {
      id: 'team-b',
      name: '李医生团队',
      participant: [{ member: { reference: 'Practitioner/doc-2' } }],
      managingOrganization: [{ reference: 'Organization/org-chc' }],
    });
    await put('Patient', {
      id: 'p-htn',
      name: [{ text: '张三' }],
      gender: 'male',
      birthDate: yearsAgo(68),
      managingOrganization: { reference: 'Organization/org-chc' },
    });
    await put('Patient', { id: 'p-young', name: [{ text: '李四' }], gender: 'female', birthDate: yearsAgo(30) });
    await put('Patient', { id: 'p-child', name: [{ text: '小明' }], gender: 'male', birthDate: addDays(today, -300) });
    await put('Patient', {
      id: 'p-hh1',
      name: [{ text: '赵一' }],
      birthDate: yearsAgo(40),
      extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/household', valueReference: { reference: 'Group/hh-1' } }],
    });
    await put('Patient', {
      id: 'p-hh2',
      name: [{ text: '赵二' }],
      birthDate: yearsAgo(38),
      extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/household', valueReference: { reference: 'Group/hh-1' } }],
    });
    await put('Condition', {
      id: 'c-htn',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] },
      subject: { reference: 'Patient/p-htn' },
      onsetDateTime: yearsAgo(3),
    });
    await put('Person', { id: 'person-1', link: [{ target: { reference: 'Patient/p-htn' } }] });
    await server().processors.drain();
  });

  it('registers a diagnosed resident and schedules follow-up by the rules', async () => {
    const reg = await get('/api/chronic/registry?disease=htn');
    expect(reg.rows.map((r: { patientId: string }) => r.patientId)).toEqual(['p-htn']);
    const res = await server().api(
      '/api/chronic/follow-ups',
      json({ patientId: 'p-htn', date: addDays(today, -20), mode: 'face-to-face', readings: { sbp: 152, dbp: 92 }, doctorId: 'doc-1' }),
    );
    expect(res.status).toBe(201);
    const first = (await res.json()) as { plans: { disease: string; decision: string; dueDate: string }[] };
    expect(first.plans[0]).toMatchObject({ disease: 'htn', decision: 'adjust', dueDate: addDays(today, -6) });
    await server().processors.drain();
    const second = (await (
      await server().api(
        '/api/chronic/follow-ups',
        json({ patientId: 'p-htn', date: addDays(today, -7), mode: 'phone', readings: { sbp: 150, dbp: 95 }, doctorId: 'doc-1' }),
      )
    ).json()) as { plans: { decision: string }[] };
    expect(second.plans[0]!.decision).toBe('refer');
    await server().processors.drain();
    const detail = await get('/api/chronic/patients/p-htn');
    expect(detail.registry[0]).toMatchObject({
      disease: 'htn',
      decision: 'refer',
      nextDue: addDays(today, 7),
      teamId: 'team-a',
      doctorId: 'doc-1',
    });
    expect(detail.followUps.map((f: { decision: string; onTime: boolean }) => [f.decision, f.onTime])).toEqual([
      ['refer', true],
      ['adjust', true],
    ]);
    const wl = await get('/api/chronic/worklist?doctor=doc-1');
    expect(wl.referred.map((r: { patientId: string }) => r.patientId)).toEqual(['p-htn']);
  });

  it('rejects implausible readings and impossible dates with the reason', async () => {
    const bad = async (body: Record<string, unknown>, text: RegExp) => {
      const res = await server().api(
        '/api/chronic/follow-ups',
        json({ patientId: 'p-htn', date: addDays(today, -1), mode: 'face-to-face', ...body }),
      );
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(text);
    };
    await bad({ readings: { sbp: 20, dbp: 10 } }, /systolic 20 mmHg is outside the physiological range/);
    await bad({ readings: { sbp: 400, dbp: 90 } }, /systolic 400/);
    await bad({ readings: { fpg: 0 } }, /fasting glucose 0 mmol\/L/);
    await bad({ date: addDays(today, 3) }, /is in the future/);
    await bad({ date: '1900-01-01' }, /before the resident's birth/);
    await bad({ mode: 'telepathy' }, /mode: one of/);
  });

  it('flags implausible readings arriving through the record instead of using them', async () => {
    await put('Observation', {
      id: 'obs-bad',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      subject: { reference: 'Patient/p-young' },
      effectiveDateTime: `${today}T09:00:00+08:00`,
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 400, unit: 'mmHg' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 90, unit: 'mmHg' } },
      ],
    });
    await server().processors.drain();
    const r = await server().db.query<{ flag: string }>(`SELECT flag FROM chronic_reading WHERE observation_id = 'obs-bad'`);
    expect(r.rows[0]!.flag).toMatch(/systolic 400 mmHg is outside/);
    // Still no valid blood pressure this year: the check-in list asks for one.
    const due = await get('/api/residents/p-young/due-services');
    expect(due.items.map((i: { kind: string }) => i.kind)).toContain('bp-screening');
  });

  it('puts three high readings on separate days on the confirmation list', async () => {
    for (const [k, d] of [-30, -20, -10].entries())
      await put('Observation', {
        id: `obs-high-${k}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
        subject: { reference: 'Patient/p-young' },
        effectiveDateTime: `${addDays(today, d)}T09:00:00+08:00`,
        component: [
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 150, unit: 'mmHg' } },
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 95, unit: 'mmHg' } },
        ],
      });
    await server().processors.drain();
    const c = await get('/api/chronic/confirmations');
    expect(c.rows).toEqual([expect.objectContaining({ patientId: 'p-young', disease: 'htn' })]);
    const due = await get('/api/residents/p-young/due-services');
    expect(due.items.map((i: { kind: string }) => i.kind)).toEqual(expect.arrayContaining(['confirmation']));
  });

  it('contracts a household; a second team needs an explicit transfer', async () => {
    const res = await server().api('/api/care/contracts', json({ householdId: 'hh-1', teamId: 'team-a', package: 'basic' }));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { contracts: unknown[] }).contracts).toHaveLength(2);
    const again = await server().api('/api/care/contracts', json({ patientId: 'p-hh1', teamId: 'team-b' }));
    expect(again.status).toBe(409);
    expect(JSON.stringify(await again.json())).toMatch(/Patient\/p-hh1 is contracted with CareTeam\/team-a.*transfer/);
    const moved = await server().api('/api/care/contracts', json({ patientId: 'p-hh1', teamId: 'team-b', transfer: true }));
    expect(moved.status).toBe(201);
    await server().api('/api/care/contracts', json({ patientId: 'p-htn', teamId: 'team-a', package: 'chronic' }));
    await server().processors.drain();
    const list = await get('/api/care/contracts');
    expect(list.rows.map((r: { patientId: string; teamId: string }) => `${r.patientId}:${r.teamId}`).sort()).toEqual([
      'p-hh1:team-b',
      'p-hh2:team-a',
      'p-htn:team-a',
    ]);
    expect(list.total).toBe(3);
    // Paged: two on the first page, the third on the next, the total on both.
    const first = await get('/api/care/contracts?limit=2');
    const second = await get('/api/care/contracts?limit=2&offset=2');
    expect([first.rows.length, first.total, second.rows.length, second.total]).toEqual([2, 3, 1, 3]);
    const ids = [...first.rows, ...second.rows].map((r: { episodeId: string }) => r.episodeId);
    expect(new Set(ids).size).toBe(3);
    expect((await get('/api/care/contracts?team=team-b')).total).toBe(1);
    const ind = await get(`/api/indicators?indicator=contract-coverage&period=${today.slice(0, 4)}-01-01/${today}`);
    const all = ind.values.find((v: { population: string }) => v.population === 'all');
    expect(all).toMatchObject({ numerator: 3, denominator: 5 });
    expect(ind.values.find((v: { population: string }) => v.population === 'elderly')).toMatchObject({ numerator: 1, denominator: 1 });
  });

  it('up-referral: requested, accepted with a booking, seen by both ends', async () => {
    const res = await server().api(
      '/api/care/referrals',
      json({ patientId: 'p-htn', reason: '连续两次血压控制不满意', urgency: 'urgent', toOrganizationId: 'org-gh', requesterId: 'doc-1' }),
    );
    expect(res.status).toBe(201);
    const { taskId } = (await res.json()) as { taskId: string };
    const acc = await server().api(
      `/api/care/referrals/${taskId}/decision`,
      json({ action: 'accept', appointment: `${addDays(today, 2)} 09:00 心内科` }),
    );
    expect(acc.status).toBe(200);
    const twice = await server().api(`/api/care/referrals/${taskId}/decision`, json({ action: 'decline' }));
    expect(twice.status).toBe(409);
    await server().processors.drain();
    const hospital = await get('/api/care/referrals?owner=Organization/org-gh');
    const doctor = await get('/api/care/referrals?patient=p-htn');
    expect(hospital.rows[0]).toMatchObject({ taskId, status: 'accepted', direction: 'up' });
    expect(doctor.rows[0]).toMatchObject({ taskId, status: 'accepted' });
    expect([hospital.total, doctor.total]).toEqual([1, 1]);
  });

  it('down-referral: a discharge of a contracted resident creates a task for the family doctor', async () => {
    await put('Encounter', {
      id: 'enc-ip',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: 'Patient/p-htn' },
      period: { start: `${addDays(today, -5)}T08:00:00+08:00`, end: `${addDays(today, -1)}T10:00:00+08:00` },
      serviceProvider: { reference: 'Organization/org-gh' },
    });
    await server().processors.drain();
    await server().processors.drain();
    const down = await get('/api/care/referrals?patient=p-htn&direction=down');
    expect(down.rows[0]).toMatchObject({
      direction: 'down',
      status: 'requested',
      owner: 'Practitioner/doc-1',
      dueOn: addDays(today, 13),
      encounterId: 'enc-ip',
    });
  });

  it('due services at check-in by Patient or Person id; education issued is recorded', async () => {
    const byPerson = await get('/api/residents/person-1/due-services');
    const kinds = byPerson.items.map((i: { kind: string }) => i.kind);
    expect(kinds).toEqual(expect.arrayContaining(['follow-up', 'vaccine', 'education', 'referral-return']));
    expect(byPerson.items.filter((i: { kind: string }) => i.kind === 'vaccine').map((i: { key: string }) => i.key)).toContain(
      'vaccine:PPSV23:1',
    );
    const edu = await server().api('/api/care/education', json({ patientId: 'p-htn', itemIds: ['htn-salt'] }));
    expect(edu.status).toBe(201);
    await server().processors.drain();
    const after = await get('/api/residents/p-htn/due-services');
    expect(after.items.map((i: { key: string }) => i.key)).not.toContain('education:htn-salt');
    // Who is at the desk: name, sex, age, the contract's team by name, key populations in words.
    expect(after.resident).toMatchObject({ patientId: 'p-htn', name: '张三', gender: 'male', age: 68 });
    expect(after.resident.team).toBe('王医生团队');
    expect(after.resident.keyPopulations.map((p: { code: string; label: string }) => p.label)).toEqual(['65岁及以上老年人', '慢病患者']);
    const checkIn = await server().api('/api/care/check-in', json({ patientId: 'p-child' }));
    expect(checkIn.status).toBe(201);
    const ci = (await checkIn.json()) as { items: { kind: string }[] };
    expect(ci.items.some((i) => i.kind === 'vaccine')).toBe(true);
    await server().processors.drain();
    expect((await get('/api/care/check-ins')).rows.map((r: { patientId: string }) => r.patientId)).toContain('p-child');
    expect((await server().api('/api/residents/nobody/due-services')).status).toBe(404);
  });

  it('an ADT A04 registration (ambulatory Encounter in progress today) shows as a check-in', async () => {
    await put('Encounter', {
      id: 'enc-a04',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/p-hh2' },
      period: { start: `${today}T08:30:00+08:00` },
    });
    await server().processors.drain();
    expect((await get('/api/care/check-ins')).rows.map((r: { patientId: string }) => r.patientId)).toContain('p-hh2');
  });

  it('immunization prescription as a FHIR ImmunizationRecommendation', async () => {
    const rec = await get('/api/immunization/residents/p-child/recommendation');
    expect(rec.resourceType).toBe('ImmunizationRecommendation');
    const codes = rec.recommendation.map((r: { vaccineCode: { coding: { code: string }[] }[] }) => r.vaccineCode[0]!.coding[0]!.code);
    expect(codes).toEqual(expect.arrayContaining(['HepB', 'BCG', 'MMR']));
    const stored = await server().api('/api/immunization/residents/p-child/recommendation?store=true');
    const id = ((await stored.json()) as { id: string }).id;
    expect((await server().api(`/fhir/ImmunizationRecommendation/${id}`)).status).toBe(200);
  });

  it('manual enrolment and status changes survive a refresh', async () => {
    const res = await server().api('/api/chronic/registry', json({ patientId: 'p-hh1', disease: 'dm', diagnosedOn: addDays(today, -100) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ source: 'manual', status: 'managed' });
    await server().api('/api/chronic/registry/p-hh1/dm', json({ status: 'transferred', reason: '迁出本区' }, 'PUT'));
    await put('Patient', {
      id: 'p-hh1',
      name: [{ text: '赵一' }],
      birthDate: yearsAgo(40),
      extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/household', valueReference: { reference: 'Group/hh-1' } }],
    });
    await server().processors.drain();
    const reg = await get('/api/chronic/registry?disease=dm');
    expect(reg.rows).toEqual([expect.objectContaining({ patientId: 'p-hh1', source: 'manual', status: 'transferred' })]);
  });
});

describeEachStore('check-in list: open report cards; key populations of contracts', (server) => {
  const put = (type: string, r: Record<string, unknown>) =>
    server().api(`/fhir/${type}/${r.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: type, ...r }),
    });
  const get = async (p: string) => {
    const res = await server().api(p);
    expect(res.status, p).toBe(200);
    return (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const AREA = '339902001001';

  beforeAll(async () => {
    await put('Organization', { id: 'org-chc', name: '临江街道社区卫生服务中心' });
    await put('Practitioner', { id: 'doc-1', name: [{ text: '王医生' }] });
    await put('CareTeam', {
      id: 'team-a',
      name: '王医生团队',
      participant: [{ member: { reference: 'Practitioner/doc-1' } }],
      managingOrganization: [{ reference: 'Organization/org-chc' }],
    });
    const birth = yearsAgo(9, '02-03');
    await put('Patient', {
      id: 'p-card',
      gender: 'female',
      birthDate: birth,
      name: [{ text: '测试乙' }],
      identifier: [{ system: 'urn:oid:1.2.156.112606.1.2.1', value: makeIdNumber('339902', birth, 124) }],
      address: [
        {
          use: 'home',
          extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/area-code', valueString: AREA }],
          line: ['临江街道湖滨社区', '龙潭路2号'],
        },
      ],
    });
    await put('Patient', { id: 'p-preg', gender: 'female', birthDate: yearsAgo(28), name: [{ text: '孕妇甲' }] });
    await put('Patient', { id: 'p-preg-ep', gender: 'female', birthDate: yearsAgo(31), name: [{ text: '孕妇乙' }] });
    await put('Patient', { id: 'p-dis', gender: 'male', birthDate: yearsAgo(50), name: [{ text: '残疾丙' }] });
    await put('Patient', { id: 'p-hard', gender: 'male', birthDate: yearsAgo(45), name: [{ text: '特困丁' }] });
    await put('Patient', { id: 'p-old-preg', gender: 'female', birthDate: yearsAgo(35), name: [{ text: '产妇戊' }] });
    await put('Condition', {
      id: 'c-preg',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '77386006', display: 'Pregnancy' }], text: '早孕' },
      subject: { reference: 'Patient/p-preg' },
      onsetDateTime: addDays(today, -60),
    });
    // A pregnancy that ended last year (ICD-10 Z34, resolved with a date) is not a pregnancy today.
    await put('Condition', {
      id: 'c-old-preg',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'Z34.0' }] },
      subject: { reference: 'Patient/p-old-preg' },
      onsetDateTime: addDays(today, -700),
      abatementDateTime: addDays(today, -450),
    });
    await put('EpisodeOfCare', {
      id: 'ep-preg',
      status: 'active',
      type: [{ coding: [{ system: 'http://snomed.info/sct', code: '77386006', display: 'Pregnancy' }], text: '孕产期保健' }],
      patient: { reference: 'Patient/p-preg-ep' },
      period: { start: addDays(today, -30) },
    });
    await server().processors.drain();
  });

  it('lists a drafted notifiable report card as due, hides it once submitted and shows it again when returned', async () => {
    await put('Encounter', {
      id: 'e-measles',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/p-card' },
      period: { start: `${addDays(today, -3)}T09:00:00+08:00` },
      serviceProvider: { reference: 'Organization/org-chc' },
    });
    await put('Condition', {
      id: 'c-measles',
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      subject: { reference: 'Patient/p-card' },
      encounter: { reference: 'Encounter/e-measles' },
      recordedDate: `${addDays(today, -3)}T09:30:00+08:00`,
      onsetDateTime: addDays(today, -5),
    });
    await server().processors.drain();
    const cards = (items: { kind: string; detail: string }[]) => items.filter((i) => i.kind === 'report-card');
    const due = await get('/api/residents/p-card/due-services');
    expect(cards(due.items)).toEqual([
      expect.objectContaining({
        key: 'report-card:Dc-measles',
        cardId: 'Dc-measles',
        taskId: 'rc-Dc-measles',
        title: '传染病报告卡待填报：麻疹',
        overdue: true,
        dueDate: addDays(today, -2),
      }),
    ]);

    const card = await get('/api/report-cards/Dc-measles');
    const complete = {
      occupationClass: { code: '03', name: '学生(大中小学)' },
      reportingDoctor: '王医生',
      caseClassification: '临床诊断病例',
      reportingOrganization: { id: 'org-chc', code: '339902CHC01', name: '临江街道社区卫生服务中心' },
    };
    const submitted = await server().api('/api/report-cards/Dc-measles/submit', json({ version: card.version, card: complete }));
    expect(submitted.status).toBe(200);
    expect(cards((await get('/api/residents/p-card/due-services')).items)).toEqual([]);

    const sub = (await submitted.json()) as { version: number };
    const returned = await server().api(
      '/api/report-cards/Dc-measles/review',
      json({ action: 'return', version: sub.version, reason: '现住址不详' }),
    );
    expect(returned.status).toBe(200);
    const again = cards((await get('/api/residents/p-card/due-services')).items);
    expect(again).toEqual([expect.objectContaining({ key: 'report-card:Dc-measles', title: '传染病报告卡被退回：麻疹' })]);
    expect(again[0].detail).toMatch(/现住址不详/);
  });

  it('staff flag disabled and hardship residents; bad input is refused with the reason', async () => {
    const bad = async (body: Record<string, unknown>, status: number, text: RegExp) => {
      const res = await server().api('/api/care/key-populations', json(body));
      expect(res.status).toBe(status);
      expect(JSON.stringify(await res.json())).toMatch(text);
    };
    await bad({ patientId: 'p-dis', population: 'vip' }, 400, /population: one of disabled, hardship/);
    await bad({ patientId: 'p-dis', population: 'pregnant' }, 400, /pregnancy comes from the record/);
    await bad({ patientId: 'p-dis', population: 'disabled', start: addDays(today, 5) }, 400, /is in the future/);
    await bad({ patientId: 'p-dis', population: 'disabled', start: '2025-13-45' }, 400, /start: YYYY-MM-DD/);
    await bad({ patientId: 'nobody', population: 'disabled' }, 404, /nobody/);
    const ok = await server().api(
      '/api/care/key-populations',
      json({ patientId: 'p-dis', population: 'disabled', start: addDays(today, -10), note: '肢体残疾二级' }),
    );
    expect(ok.status).toBe(201);
    await bad({ patientId: 'p-dis', population: 'disabled' }, 409, /already flagged disabled/);
    // A Flag written through FHIR (another system) counts too, through the change-log processor.
    await put('Flag', {
      id: 'flag-hard',
      status: 'active',
      code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/key-population', code: 'hardship' }] },
      subject: { reference: 'Patient/p-hard' },
      period: { start: addDays(today, -100) },
    });
    await server().processors.drain();
    const rows = (await get(`/api/care/key-populations?asOf=${today}`)).rows.map(
      (r: { patientId: string; population: string }) => `${r.patientId}:${r.population}`,
    );
    expect(rows).toEqual(['p-dis:disabled', 'p-hard:hardship', 'p-preg:pregnant', 'p-preg-ep:pregnant']);
    // Paged with the total: the second page of two holds the third and fourth.
    const page2 = await get(`/api/care/key-populations?asOf=${today}&limit=2&offset=2`);
    expect([page2.total, page2.rows.map((r: { patientId: string }) => r.patientId)]).toEqual([4, ['p-preg', 'p-preg-ep']]);
    const flagged = (await get('/api/care/key-populations?population=disabled')).rows;
    expect(flagged[0]).toMatchObject({ patientId: 'p-dis', note: '肢体残疾二级', start: addDays(today, -10), end: null });
    expect((await server().api('/api/care/key-populations?population=vip')).status).toBe(400);
  });

  it("a pregnancy from the record brings the season's influenza vaccine to the check-in list", async () => {
    const month = Number(today.slice(5, 7));
    const fluDay = month >= 9 || month <= 3 ? today : `${today.slice(0, 4)}-09-15`;
    const vaccines = async (id: string) =>
      (await get(`/api/residents/${id}/due-services?asOf=${fluDay}`)).items
        .filter((i: { kind: string }) => i.kind === 'vaccine')
        .map((i: { key: string; i18n: { detail: string } }) => `${i.key} ${i.i18n.detail}`);
    expect(await vaccines('p-preg')).toEqual(['vaccine:IIV:1 imm.reason.flu.pregnant']);
    expect(await vaccines('p-preg-ep')).toEqual(['vaccine:IIV:1 imm.reason.flu.pregnant']);
    expect(await vaccines('p-hard')).toEqual([]);
    const rec = await get(`/api/immunization/residents/p-preg/recommendation?asOf=${fluDay}`);
    expect(rec.recommendation.map((r: { vaccineCode: { coding: { code: string }[] }[] }) => r.vaccineCode[0]!.coding[0]!.code)).toEqual([
      'IIV',
    ]);
  });

  it('coverage for pregnant, disabled and hardship residents; a pregnancy episode is not a contract', async () => {
    for (const patientId of ['p-preg', 'p-dis', 'p-hard'])
      expect(
        (await server().api('/api/care/contracts', json({ patientId, teamId: 'team-a', package: 'basic', start: addDays(today, -5) })))
          .status,
      ).toBe(201);
    await server().processors.drain();
    const contracts = (await get('/api/care/contracts')).rows as { patientId: string; populations: string[] }[];
    expect(Object.fromEntries(contracts.map((c) => [c.patientId, c.populations]))).toEqual({
      'p-preg': ['pregnant'],
      'p-dis': ['disabled'],
      'p-hard': ['hardship'],
    });
    const period = `${today.slice(0, 4)}-01-01/${today}`;
    const coverage = async () =>
      Object.fromEntries(
        (await get(`/api/indicators?indicator=contract-coverage&period=${period}`)).values.map(
          (v: { population: string; numerator: number; denominator: number }) => [v.population, `${v.numerator}/${v.denominator}`],
        ),
      );
    expect(await coverage()).toMatchObject({ all: '3/6', pregnant: '1/2', disabled: '1/1', hardship: '1/1' });
    const drill = await get(`/api/indicators/contract-coverage/residents?period=${period}&population=pregnant`);
    expect(drill.rows.map((r: { patientId: string; inNumerator: boolean }) => `${r.patientId}:${r.inNumerator}`).sort()).toEqual([
      'p-preg-ep:false',
      'p-preg:true',
    ]);

    // Ending the hardship flag takes the resident out of that population.
    const flagId = 'flag-hard';
    expect((await server().api(`/api/care/key-populations/${flagId}/end`, json({ end: addDays(today, -100 - 1) }))).status).toBe(400);
    expect((await server().api(`/api/care/key-populations/${flagId}/end`, json({ end: addDays(today, -1) }))).status).toBe(200);
    expect((await server().api(`/api/care/key-populations/${flagId}/end`, json({}))).status).toBe(409);
    await server().processors.drain();
    const after = await coverage();
    expect(after.hardship).toBeUndefined();
    expect(after.disabled).toBe('1/1');
  });
});
