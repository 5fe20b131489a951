/**
 * Case investigation end to end through a running server, on both stores: a measles case opened
 * by hand gets its 24 h deadline and its onset from the Condition, the form is pre-filled from
 * the record, candidates come from the household (identity's Group) and from a ward co-stay with
 * the right windows, confirm/reject, follow-up windows and their recomputation, the worklist,
 * a symptomatic contact turned into a case, every bad input, and two saves of one form at once.
 */
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { dueDays, followUpWindow } from './follow-up.js';
import type { Candidate, CandidateList, Check, Contact, ContactList, Form, Investigation, InvestigationList, Worklist } from './schemas.js';
import { loadRules } from './rules.js';
import { staysOf } from './stays.js';
import * as store from './store.js';

const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const TODAY = todayInChina();
const ONSET = addDays(TODAY, -3);
const at = (day: string, time = '08:00:00') => `${day}T${time}+08:00`;

const patient = (id: string, name: string, birthDate: string, gender: 'male' | 'female', line: string, phone: string): Resource =>
  ({
    resourceType: 'Patient',
    id,
    name: [{ use: 'official', text: name }],
    gender,
    birthDate,
    telecom: [{ system: 'phone', value: phone }],
    address: [{ use: 'home', extension: [{ url: AREA, valueString: '330102001001' }], line: ['青石街道', line] }],
    managingOrganization: { reference: 'Organization/ic-chc' },
  }) as Resource;

const stay = (id: string, pid: string, start: string, end?: string): Resource =>
  ({
    resourceType: 'Encounter',
    id,
    status: end ? 'finished' : 'in-progress',
    class: { code: 'IMP', display: 'inpatient encounter' },
    subject: { reference: `Patient/${pid}` },
    serviceProvider: { reference: 'Organization/ic-hosp' },
    period: { start, ...(end ? { end } : {}) },
    location: [{ location: { reference: 'Location/ic-ward-3', display: '儿科三病区' } }],
  }) as Resource;

describe('investigation: pure parts', () => {
  it('reads stays from an Encounter (referenced ward, HL7 ward and room text, department)', () => {
    const rows = staysOf({
      resourceType: 'Encounter',
      id: 'e1',
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: 'Patient/p1' },
      identifier: [{ system: 'https://yifang.health/fhir/sid/visit/H01', value: 'V1' }],
      period: { start: '2025-01-02T08:00:00+08:00' },
      serviceType: { coding: [{ code: '03', display: '内科' }] },
      location: [{ location: { display: '内科 302 1' } }],
    });
    expect(rows.map((r) => [r.kind, r.placeKey])).toEqual([
      ['ward', 'ward|H01|内科'],
      ['room', 'room|H01|内科 302'],
      ['department', 'department|H01|03'],
    ]);
    expect(rows[0]).toMatchObject({ patientId: 'p1', start: '2025-01-02T00:00:00.000Z', end: null });
  });
  it('runs the follow-up window from the latest exposure and lists the days due', () => {
    const w = followUpWindow(
      [
        { firstDate: '2025-01-01', lastDate: '2025-01-03' },
        { firstDate: '2025-01-05', lastDate: '2025-01-06' },
      ],
      21,
    );
    expect(w).toEqual({ start: '2025-01-06', end: '2025-01-27' });
    expect(dueDays(w, '2025-01-08T02:00:00Z', new Date('2025-01-10T02:00:00Z'))).toEqual(['2025-01-08', '2025-01-09', '2025-01-10']);
  });
});

describeEachStore('case investigation', (server) => {
  const put = async (r: Resource) => {
    const res = await server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  const call = async <T>(method: string, path: string, body?: unknown, expected = 200): Promise<T> => {
    const res = await server().api(path, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).toBe(expected);
    return JSON.parse(text) as T;
  };
  const problem = async (method: string, path: string, body: unknown, status: number, pattern: RegExp) => {
    const r = await call<{ issue: { diagnostics: string }[] }>(method, path, body, status);
    expect(r.issue[0]!.diagnostics).toMatch(pattern);
  };

  let inv: Investigation;
  let candidates: Candidate[];

  beforeAll(async () => {
    await put({ resourceType: 'Organization', id: 'ic-chc', name: '青石街道社区卫生服务中心' } as Resource);
    await put({ resourceType: 'Organization', id: 'ic-hosp', name: '市儿童医院' } as Resource);
    await put({ resourceType: 'Location', id: 'ic-ward-3', name: '儿科三病区' } as Resource);
    await put(patient('ic-case', '王小明', '2019-03-04', 'male', '荷花路8号2幢301室', '13800001111'));
    await put(patient('ic-hh1', '王大伟', '1985-07-01', 'male', '荷花路8号2幢301室', '13800002222'));
    await put(patient('ic-hh2', '李芳', '1987-02-11', 'female', '荷花路8号2幢301室', '13800003333'));
    await put(patient('ic-ward1', '赵一一', '2020-05-06', 'female', '莲花路1号', '13900001111'));
    await put(patient('ic-ward2', '钱二二', '2018-09-09', 'male', '莲花路2号', '13900002222'));
    await put(patient('ic-other', '孙三三', '1970-01-01', 'male', '莲花路3号', '13900003333'));
    await put(patient('ic-pupil', '周小红', '2019-06-01', 'female', '莲花路5号', '13900005555'));
    await put(patient('ic-left', '吴小刚', '2019-01-01', 'male', '莲花路6号', '13900006666'));
    // The case's kindergarten class (as the simulator writes it): one classmate, one who left before.
    await put({
      resourceType: 'Group',
      id: 'ic-class',
      type: 'person',
      actual: true,
      code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/group-kind', code: 'school-class' }] },
      name: '青石幼儿园 小二班',
      member: [
        { entity: { reference: 'Patient/ic-case' } },
        { entity: { reference: 'Patient/ic-pupil' }, period: { start: '2024-09-01' } },
        { entity: { reference: 'Patient/ic-left' }, period: { start: '2024-09-01', end: addDays(ONSET, -30) } },
      ],
    } as Resource);
    // A report card (the surveillance module's Task) for ic-other.
    await put({
      resourceType: 'Task',
      id: 'rc-ic-card-1',
      identifier: [{ system: 'https://yifang.health/fhir/sid/report-card', value: 'ic-card-1' }],
      status: 'requested',
      intent: 'order',
      for: { reference: 'Patient/ic-other' },
      input: [
        {
          type: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/report-card-field', code: 'disease.icd10' }] },
          valueString: 'U07.1',
        },
        {
          type: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/report-card-field', code: 'onsetDate' }] },
          valueString: ONSET,
        },
      ],
    } as Resource);
    await put({
      resourceType: 'Condition',
      id: 'ic-cond',
      subject: { reference: 'Patient/ic-case' },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9', display: '麻疹' }] },
      onsetDateTime: at(ONSET),
      recordedDate: at(TODAY),
    } as Resource);
    // The case on the ward since the day before onset; one child with it, one long before.
    await put(stay('ic-enc-case', 'ic-case', at(addDays(ONSET, -1), '10:00:00')));
    await put(stay('ic-enc-w1', 'ic-ward1', at(addDays(ONSET, -3)), at(addDays(ONSET, 1), '12:00:00')));
    await put(stay('ic-enc-w2', 'ic-ward2', at(addDays(ONSET, -40)), at(addDays(ONSET, -35))));
    await server().processors.drain();
  });

  it('opens an investigation by hand with the deadline of its class and the onset of the Condition', async () => {
    const before = Date.now();
    inv = await call<Investigation>('POST', '/api/investigations', { patientId: 'ic-case', diseaseCode: 'B05.9' }, 201);
    expect(inv).toMatchObject({
      diseaseKey: 'measles',
      diseaseClass: 'B',
      status: 'open',
      source: 'manual',
      assignee: 'admin',
      onsetDate: ONSET,
      questionnaireId: 'inv-measles',
      version: 1,
    });
    const hours = (Date.parse(inv.deadlineAt) - before) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThan(24.1);
    expect(inv.candidatesAt).not.toBeNull();
    // A second open investigation of the same disease for the same resident is refused.
    await problem('POST', '/api/investigations', { patientId: 'ic-case', diseaseCode: 'measles' }, 409, /already has an open/);
    await problem('POST', '/api/investigations', { patientId: 'ic-case', diseaseCode: 'Z99' }, 400, /names no disease/);
    await problem('POST', '/api/investigations', { diseaseCode: 'measles' }, 400, /patientId/);
    await problem('POST', '/api/investigations', { reportCardId: 'no-such-card' }, 404, /report card/);
  });

  it('gives class A and alerts 2 hours and lists overdue investigations first', async () => {
    const cholera = await call<Investigation>('POST', '/api/investigations', { patientId: 'ic-other', diseaseCode: 'cholera' }, 201);
    expect((Date.parse(cholera.deadlineAt) - Date.parse(cholera.openedAt)) / 3_600_000).toBeCloseTo(2, 1);
    const outbreak = await call<Investigation>(
      'POST',
      '/api/investigations',
      { patientId: 'ic-other', diseaseCode: 'hfmd', alertId: 42 },
      201,
    );
    expect(outbreak).toMatchObject({ source: 'alert', sourceRef: 'alert 42' });
    expect((Date.parse(outbreak.deadlineAt) - Date.parse(outbreak.openedAt)) / 3_600_000).toBeCloseTo(2, 1);
    const fromCard = await call<Investigation>('POST', '/api/investigations', { reportCardId: 'ic-card-1' }, 201);
    expect(fromCard).toMatchObject({
      patientId: 'ic-other',
      diseaseKey: 'covid19',
      source: 'report-card',
      sourceRef: 'ic-card-1',
      onsetDate: ONSET,
    });
    await problem(
      'POST',
      '/api/investigations',
      { reportCardId: 'ic-card-1', patientId: 'ic-case' },
      400,
      /is not the resident of report card/,
    );
    await server().db.query(`UPDATE inv_investigation SET deadline_at = now() - interval '1 hour' WHERE id = $1`, [cholera.id]);
    const list = await call<InvestigationList>('GET', '/api/investigations');
    expect(list.items[0]).toMatchObject({ id: cholera.id, overdue: true });
    expect(list.items.slice(1).every((i) => !i.overdue)).toBe(true);
    expect(list.items.map((i) => i.id)).toEqual(expect.arrayContaining([inv.id, outbreak.id]));
  });

  it('pre-fills the form from the record and saves it as a QuestionnaireResponse', async () => {
    const form = await call<Form>('GET', `/api/investigations/${inv.id}/form`);
    expect(form.answers).toMatchObject({ name: '王小明', sex: 'male', birthDate: '2019-03-04', phone: '13800001111', 'onset-date': ONSET });
    expect(form.answers['address']).toContain('荷花路8号');
    expect(typeof form.answers['age']).toBe('number');
    expect(form.prefilled).toContain('onset-date');
    expect((form.questionnaire as { id: string }).id).toBe('inv-measles');
    expect(form.response).toBeNull();
    await problem(
      'PUT',
      `/api/investigations/${inv.id}/form`,
      { version: inv.version, answers: { ...form.answers, age: 'six', 'symptom-rash': 'yes', colour: 'red' } },
      400,
      /age .*whole number.*symptom-rash .*true or false.*colour: not an item/,
    );
    const saved = await call<Form>('PUT', `/api/investigations/${inv.id}/form`, {
      version: inv.version,
      answers: { ...form.answers, 'symptom-rash': true, 'max-temperature': 39.2, vaccinated: 'no' },
    });
    expect(saved.version).toBe(inv.version + 1);
    expect(saved.prefilled).toEqual([]);
    expect(saved.answers).toMatchObject({ 'symptom-rash': true, 'max-temperature': 39.2, vaccinated: 'no', name: '王小明' });
    const qr = (await (await server().api(`/fhir/QuestionnaireResponse/${(saved.response as { id: string }).id}`)).json()) as {
      subject: { reference: string };
      identifier: { value: string };
    };
    expect(qr.subject.reference).toBe('Patient/ic-case');
    expect(qr.identifier.value).toBe(String(inv.id));
    inv = await call<Investigation>('GET', `/api/investigations/${inv.id}`);
    expect(inv.status).toBe('in-progress');
  });

  it('lets one of two investigators saving the form at once win and tells the other (409), losing nothing', async () => {
    const save = (note: string) =>
      server().api(`/api/investigations/${inv.id}/form`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ version: inv.version, answers: { name: '王小明', 'investigator-notes': note } }),
      });
    const [a, b] = await Promise.all([save('first investigator'), save('second investigator')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 200 ? 'first investigator' : 'second investigator';
    expect(((await loser.json()) as { issue: { diagnostics: string }[] }).issue[0]!.diagnostics).toMatch(
      /changed by someone else.*you sent version/,
    );
    const form = await call<Form>('GET', `/api/investigations/${inv.id}/form`);
    expect(form.answers['investigator-notes']).toBe(winner);
    expect(form.version).toBe(inv.version + 1);
    // The stale version is refused on the investigation itself too.
    await problem('PATCH', `/api/investigations/${inv.id}`, { version: inv.version, note: 'late' }, 409, /you sent version/);
    inv = await call<Investigation>('GET', `/api/investigations/${inv.id}`);
  });

  it('proposes the household and the ward co-stay with their windows, and not a stay long before', async () => {
    const list = await call<CandidateList>('GET', `/api/investigations/${inv.id}/candidates`);
    candidates = list.items;
    const by = (pid: string) => candidates.filter((c) => c.patientId === pid);
    expect(by('ic-case')).toEqual([]);
    expect(by('ic-ward2')).toEqual([]);
    const hh = by('ic-hh1');
    expect(hh).toHaveLength(1);
    // Household: the case's infectious period, 2 days before onset to now (measles).
    expect(hh[0]).toMatchObject({
      kind: 'household',
      status: 'proposed',
      windowStart: new Date(at(addDays(ONSET, -2), '00:00:00')).toISOString(),
    });
    expect(hh[0]!.place).toContain('荷花路8号');
    expect(by('ic-hh2')).toHaveLength(1);
    // Ward: from the case's admission to the other child's discharge.
    expect(by('ic-ward1')).toEqual([
      expect.objectContaining({
        kind: 'ward',
        place: '儿科三病区',
        windowStart: new Date(at(addDays(ONSET, -1), '10:00:00')).toISOString(),
        windowEnd: new Date(at(addDays(ONSET, 1), '12:00:00')).toISOString(),
      }),
    ]);
    // The class: the classmate, not the pupil who left a month before; only if the case was in class
    // on a school day of the shipped calendar (2 days before onset to onset; kept home after).
    const inClass = [-2, -1, 0].map((d) => addDays(ONSET, d)).filter((d) => loadRules().schoolCalendar.isSchoolDay(d));
    expect(by('ic-pupil')).toEqual(
      inClass.length
        ? [
            expect.objectContaining({
              kind: 'school-class',
              place: '青石幼儿园 小二班',
              placeKey: 'Group/ic-class',
              windowStart: new Date(at(inClass[0]!, '00:00:00')).toISOString(),
            }),
          ]
        : [],
    );
    expect(by('ic-left')).toEqual([]);
    // The case's trajectory: its ward stay at the hospital.
    const t = await call<{ items: { facility: string; place: string; kind: string; start: string; end: string | null }[] }>(
      'GET',
      `/api/investigations/${inv.id}/trajectory`,
    );
    expect(t.items).toEqual([
      expect.objectContaining({
        facility: 'ic-hosp',
        place: '儿科三病区',
        kind: 'ward',
        start: new Date(at(addDays(ONSET, -1), '10:00:00')).toISOString(),
        end: null,
      }),
    ]);
    // Recomputing keeps the same candidates.
    const again = await call<CandidateList>('POST', `/api/investigations/${inv.id}/candidates/compute`, {});
    expect(again.items.map((c) => c.id).sort()).toEqual(candidates.map((c) => c.id).sort());
  });

  it('reads co-stays in order of start and says when it met its row limit', async () => {
    const ward = {
      placeKey: 'ward|ic-hosp|Location/ic-ward-3',
      start: new Date(at(addDays(ONSET, -1), '10:00:00')).toISOString(),
      end: null,
    };
    const all = await store.staysAtPlaces(server().db.pool, [ward]);
    expect(all.truncated).toBe(false);
    expect(all.stays.map((s) => s.patientId)).toEqual(['ic-ward1', 'ic-case']);
    const cut = await store.staysAtPlaces(server().db.pool, [ward], 1);
    expect(cut).toMatchObject({ truncated: true, stays: [expect.objectContaining({ patientId: 'ic-ward1' })] });
    // The investigation's candidates were read whole.
    expect((await call<CandidateList>('GET', `/api/investigations/${inv.id}/candidates`)).truncated).toBe(false);
  });

  let hh1: Contact;
  it('confirms a candidate as a contact with its exposure and follow-up window, rejects another, refuses a second confirmation', async () => {
    const cand = candidates.find((c) => c.patientId === 'ic-hh1')!;
    hh1 = await call<Contact>('POST', `/api/investigations/${inv.id}/candidates/${cand.id}/confirm`, {}, 201);
    expect(hh1).toMatchObject({
      patientId: 'ic-hh1',
      organization: 'ic-chc',
      status: 'monitoring',
      followUpStart: TODAY,
      followUpEnd: addDays(TODAY, 21),
    });
    expect(hh1.exposures).toEqual([
      expect.objectContaining({ type: '共同居住 household', firstDate: addDays(ONSET, -2), lastDate: TODAY, candidateId: cand.id }),
    ]);
    await problem('POST', `/api/investigations/${inv.id}/candidates/${cand.id}/confirm`, {}, 409, /already confirmed/);
    // The same person again by hand: the same contact confirmed twice.
    await problem(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      { patientId: 'ic-hh1', type: '共同进餐', firstDate: ONSET, lastDate: ONSET },
      409,
      /already a confirmed contact/,
    );
    const other = candidates.find((c) => c.patientId === 'ic-hh2')!;
    const rejected = await call<Candidate>('POST', `/api/investigations/${inv.id}/candidates/${other.id}/reject`, {
      reason: '长期外地务工',
    });
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: 'admin', reason: '长期外地务工' });
    const ward = candidates.find((c) => c.patientId === 'ic-ward1')!;
    const w1 = await call<Contact>('POST', `/api/investigations/${inv.id}/candidates/${ward.id}/confirm`, {}, 201);
    expect(w1).toMatchObject({ followUpStart: addDays(ONSET, 1), followUpEnd: addDays(ONSET, 22) });
    const list = await call<CandidateList>('GET', `/api/investigations/${inv.id}/candidates`);
    expect(list.items.find((c) => c.id === ward.id)).toMatchObject({ status: 'confirmed', contactId: w1.id });
  });

  it('refuses the case as its own contact, an exposure that ends before it starts, and an outside contact without a hand-over note', async () => {
    await problem(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      { patientId: 'ic-case', type: '共同居住', firstDate: ONSET, lastDate: ONSET },
      409,
      /is the case of investigation/,
    );
    await problem(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      { patientId: 'ic-ward2', type: '同病房', firstDate: ONSET, lastDate: addDays(ONSET, -2) },
      400,
      /cannot end before it starts/,
    );
    await problem(
      'POST',
      `/api/investigations/contacts/${hh1.id}/exposures`,
      { type: '共同进餐', firstDate: TODAY, lastDate: addDays(TODAY, -1) },
      400,
      /cannot end before it starts/,
    );
    await problem(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      { name: '周外地', phone: '13700000000', type: '同车', firstDate: ONSET, lastDate: ONSET },
      400,
      /handoverNote/,
    );
    const outside = await call<{ name: string; followUpEnd: string }>(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      {
        name: '周外地',
        phone: '13700000000',
        handoverNote: '请浙江省某县协查并落实医学观察',
        type: '同车',
        firstDate: ONSET,
        lastDate: ONSET,
      },
      201,
    );
    expect(outside).toMatchObject({ name: '周外地', followUpEnd: addDays(ONSET, 21) });
    const contacts = await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`);
    expect(contacts.items.map((c) => c.patientId).sort()).toEqual(['ic-hh1', 'ic-ward1']);
    expect(contacts.outOfDistrict.map((c) => c.name)).toEqual(['周外地']);
  });

  it('recomputes the follow-up window from a later exposure', async () => {
    // An earlier exposure leaves the window where it is; the window follows the latest one.
    const w1 = (await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`)).items.find((c) => c.patientId === 'ic-ward1')!;
    const same = await call<Contact>(
      'POST',
      `/api/investigations/contacts/${w1.id}/exposures`,
      { type: '同病房', firstDate: addDays(ONSET, -2), lastDate: addDays(ONSET, -2) },
      201,
    );
    expect(same.followUpEnd).toBe(addDays(ONSET, 22));
    const later = await call<Contact>(
      'POST',
      `/api/investigations/contacts/${w1.id}/exposures`,
      { type: '探视', place: '儿科三病区', firstDate: TODAY, lastDate: TODAY },
      201,
    );
    expect(later).toMatchObject({ followUpStart: TODAY, followUpEnd: addDays(TODAY, 21) });
    expect(later.exposures).toHaveLength(3);
  });

  it('records daily checks inside the window, lists the worklist with overdue days, and refuses days outside or a closed window', async () => {
    const check = await call<Check>(
      'POST',
      `/api/investigations/contacts/${hh1.id}/checks`,
      { day: TODAY, symptoms: false, temperature: 36.6 },
      201,
    );
    expect(check).toMatchObject({ day: TODAY, symptoms: false, temperature: 36.6, recordedBy: 'admin' });
    await problem(
      'POST',
      `/api/investigations/contacts/${hh1.id}/checks`,
      { day: addDays(TODAY, -1), symptoms: false },
      400,
      /outside the follow-up window/,
    );
    await problem('POST', `/api/investigations/contacts/${hh1.id}/checks`, { day: addDays(TODAY, 1), symptoms: false }, 400, /future/);
    // A contact exposed long ago: the window has closed.
    const old = await call<Contact>(
      'POST',
      `/api/investigations/${inv.id}/contacts`,
      { patientId: 'ic-ward2', type: '同病房', firstDate: addDays(TODAY, -40), lastDate: addDays(TODAY, -30) },
      201,
    );
    expect(old.followUpEnd).toBe(addDays(TODAY, -9));
    await problem(
      'POST',
      `/api/investigations/contacts/${old.id}/checks`,
      { day: addDays(TODAY, -10), symptoms: false },
      409,
      /window ended/,
    );
    // Confirmed three days ago (moved back here): the days without a check are overdue.
    await server().db.query(`UPDATE inv_contact SET confirmed_at = now() - interval '3 days', follow_up_start = $2 WHERE id = $1`, [
      hh1.id,
      addDays(TODAY, -3),
    ]);
    const list = await call<Worklist>('GET', '/api/investigations/follow-ups?organization=ic-chc');
    const mine = list.items.filter((r) => r.contactId === hh1.id);
    expect(mine.map((r) => [r.day, r.status])).toEqual([
      [addDays(TODAY, -3), 'overdue'],
      [addDays(TODAY, -2), 'overdue'],
      [addDays(TODAY, -1), 'overdue'],
      [TODAY, 'done'],
    ]);
    expect(list.items[0]!.status).toBe('overdue');
    const open = await call<Worklist>('GET', '/api/investigations/follow-ups?organization=ic-chc&status=open');
    expect(open.items.filter((r) => r.contactId === hh1.id)).toHaveLength(3);
  });

  it('turns a contact with symptoms into a suspected case in one step', async () => {
    const created = await call<Investigation>('POST', `/api/investigations/contacts/${hh1.id}/suspect`, { note: '发热、皮疹' }, 201);
    expect(created).toMatchObject({
      patientId: 'ic-hh1',
      diseaseKey: 'measles',
      source: 'contact',
      fromContactId: hh1.id,
      status: 'open',
      onsetDate: TODAY,
    });
    const contacts = await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`);
    expect(contacts.items.find((c) => c.id === hh1.id)).toMatchObject({ status: 'became-case', caseInvestigationId: created.id });
    // The suspected diagnosis drafts a report card (疑似病例) through surveillance's own path.
    await server().processors.drain();
    const drafts = await call<{ cards: { id: string; patientId: string | null; status: string; diseaseName: string }[] }>(
      'GET',
      '/api/report-cards?status=draft&limit=200',
    );
    const draft = drafts.cards.find((c) => c.patientId === 'ic-hh1');
    expect(draft).toMatchObject({ status: 'draft', diseaseName: '麻疹' });
    const card = await call<{ card: { caseClassification: string } }>('GET', `/api/report-cards/${draft!.id}`);
    expect(card.card.caseClassification).toBe('疑似病例');
    await problem('POST', `/api/investigations/contacts/${hh1.id}/suspect`, {}, 409, /no longer followed up/);
    await problem('POST', `/api/investigations/contacts/${hh1.id}/checks`, { day: TODAY, symptoms: true }, 409, /closed/);
    // The new case's own household is proposed, the original case included.
    const cands = await call<CandidateList>('GET', `/api/investigations/${created.id}/candidates`);
    expect(cands.items.map((c) => c.patientId)).toContain('ic-case');
    // Already a case: not confirmed as a contact elsewhere.
    const other = await call<Investigation>('POST', '/api/investigations', { patientId: 'ic-ward1', diseaseCode: 'measles' }, 201);
    await problem(
      'POST',
      `/api/investigations/${other.id}/contacts`,
      { patientId: 'ic-hh1', type: '共同居住', firstDate: ONSET, lastDate: ONSET },
      409,
      /already a 麻疹 case/,
    );
  });

  it('draws the transmission chain from either end, with generations, serial interval and the epi curve by classification', async () => {
    const contacts = await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`);
    const became = contacts.items.find((c) => c.status === 'became-case')!;
    const second = became.caseInvestigationId!;
    const current = await call<Investigation>('GET', `/api/investigations/${inv.id}`);
    const confirmed = await call<Investigation>('PATCH', `/api/investigations/${inv.id}`, {
      version: current.version,
      classification: 'confirmed',
    });
    expect(confirmed.classification).toBe('confirmed');
    await problem(
      'PATCH',
      `/api/investigations/${inv.id}`,
      { version: confirmed.version, classification: 'probable' },
      400,
      /classification/,
    );
    type ChainAnswer = {
      firstDay: string;
      groups: string[];
      nodes: { id: number[]; group: number[]; name: (string | null)[]; day: number[]; generation: number[]; cluster: number[] };
      edges: { from: number[]; to: number[]; type: number[] };
      exposureTypes: string[];
      stats: { cases: number; contacts: number; generations: number; serialInterval: { n: number; mean: number } | null };
      epiCurve: { day: string; suspected: number; confirmed: number }[];
      truncated: boolean;
    };
    /** Person i of the answer as one object, for reading the parallel arrays. */
    const person = (chain: ChainAnswer, i: number) => ({
      id: chain.nodes.id[i],
      group: chain.groups[chain.nodes.group[i]!],
      name: chain.nodes.name[i],
      day: addDays(chain.firstDay, chain.nodes.day[i]!),
      generation: chain.nodes.generation[i],
      cluster: chain.nodes.cluster[i],
    });
    const caseIndex = (chain: ChainAnswer, id: number) =>
      chain.nodes.id.findIndex((x, i) => x === id && chain.groups[chain.nodes.group[i]!] !== 'contact');
    const fromFirst = await call<ChainAnswer>('GET', `/api/investigations/${inv.id}/chain`);
    const fromSecond = await call<ChainAnswer>('GET', `/api/investigations/${second}/chain`);
    for (const chain of [fromFirst, fromSecond]) {
      const n = chain.nodes.id.length;
      for (const column of Object.values(chain.nodes)) expect(column).toHaveLength(n);
      expect(chain.edges.to).toHaveLength(chain.edges.from.length);
      const root = caseIndex(chain, inv.id);
      const child = caseIndex(chain, second);
      expect(person(chain, root)).toMatchObject({ name: '王小明', generation: 0, group: 'confirmed', day: ONSET, cluster: root });
      expect(person(chain, child)).toMatchObject({ name: '王大伟', generation: 1, cluster: root, group: 'suspected' });
      const edge = chain.edges.from.findIndex((f, j) => f === root && chain.edges.to[j] === child);
      expect(edge).toBeGreaterThanOrEqual(0);
      expect(chain.exposureTypes[chain.edges.type[edge]!]).toBeTruthy();
      // Oldest first.
      expect([...chain.nodes.day].sort((a, b) => a - b)).toEqual(chain.nodes.day);
      // The contact who became a case is drawn once, as the case.
      const contactIds = chain.nodes.id.filter((_, i) => chain.groups[chain.nodes.group[i]!] === 'contact');
      expect(contactIds).not.toContain(became.id);
      expect(contactIds.length).toBe(chain.stats.contacts);
      expect(chain.stats).toMatchObject({ cases: 2, generations: 2, serialInterval: { n: 1, mean: 3 } });
      expect(chain.epiCurve[0]).toMatchObject({ day: ONSET, confirmed: 1, suspected: 0 });
      expect(chain.epiCurve.at(-1)).toMatchObject({ day: TODAY, suspected: 1 });
      expect(chain.epiCurve).toHaveLength(4);
    }
    const curve = await call<{ cases: number; days: { day: string; confirmed: number }[] }>(
      'GET',
      `/api/investigations/epi-curve?disease=measles&from=${ONSET}&to=${TODAY}`,
    );
    expect(curve.cases).toBeGreaterThanOrEqual(2);
    expect(curve.days.find((d) => d.day === ONSET)!.confirmed).toBe(1);
    const period = await call<ChainAnswer>('GET', `/api/investigations/chains?disease=measles&from=${ONSET}&to=${TODAY}`);
    expect(caseIndex(period, inv.id)).toBeGreaterThanOrEqual(0);
    expect(caseIndex(period, second)).toBeGreaterThanOrEqual(0);
    await problem('GET', `/api/investigations/epi-curve?from=${TODAY}&to=${ONSET}`, undefined, 400, /before/);
    await problem('GET', `/api/investigations/chains?disease=nosuch&from=${ONSET}&to=${TODAY}`, undefined, 400, /disease/);
  });

  it('issues isolation and quarantine orders, refuses overlaps and bad periods, and revokes with a reason', async () => {
    type OrderAnswer = { id: number; kind: string; patientId: string | null; status: string; contactId: number | null };
    const contacts = await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`);
    const followed = contacts.items.find((c) => c.status === 'monitoring')!;
    const isolation = await call<OrderAnswer>(
      'POST',
      `/api/investigations/${inv.id}/orders`,
      { kind: 'isolation', place: '市传染病医院', startDate: ONSET, endDate: addDays(ONSET, 14), reason: '麻疹确诊病例' },
      201,
    );
    expect(isolation).toMatchObject({ kind: 'isolation', patientId: 'ic-case', contactId: null, status: 'active' });
    const quarantine = await call<OrderAnswer>(
      'POST',
      `/api/investigations/${inv.id}/orders`,
      {
        contactId: followed.id,
        kind: 'home-observation',
        place: '荷花路8号2幢301室',
        startDate: TODAY,
        endDate: followed.followUpEnd,
        reason: '密切接触者',
      },
      201,
    );
    expect(quarantine).toMatchObject({ patientId: followed.patientId, contactId: followed.id });
    await problem(
      'POST',
      `/api/investigations/${inv.id}/orders`,
      { contactId: followed.id, kind: 'home-observation', place: '同上', startDate: TODAY, endDate: TODAY, reason: '重复' },
      409,
      /already in force/,
    );
    await problem(
      'POST',
      `/api/investigations/${inv.id}/orders`,
      { kind: 'isolation', place: 'x', startDate: TODAY, endDate: addDays(TODAY, -1), reason: 'x' },
      400,
      /before/,
    );
    await problem(
      'POST',
      `/api/investigations/${inv.id}/orders`,
      { contactId: 999999, kind: 'quarantine', place: 'x', startDate: TODAY, endDate: TODAY, reason: 'x' },
      404,
      /not a contact/,
    );
    const revoked = await call<OrderAnswer>('POST', `/api/investigations/orders/${quarantine.id}/revoke`, { reason: '解除' });
    expect(revoked.status).toBe('revoked');
    await problem('POST', `/api/investigations/orders/${quarantine.id}/revoke`, { reason: '再次' }, 409, /already revoked/);
    const list = await call<{ items: OrderAnswer[] }>('GET', `/api/investigations/${inv.id}/orders`);
    expect(list.items.map((o) => [o.id, o.status])).toEqual([
      [isolation.id, 'active'],
      [quarantine.id, 'revoked'],
    ]);
  });

  it('makes the investigation report as a PDF, archives it and gives the same bytes back', async () => {
    const res = await server().api(`/api/investigations/${inv.id}/report`, { method: 'POST' });
    if (res.status === 503) {
      // No Chinese font on this machine: the answer says what to install.
      expect(await res.text()).toMatch(/fonts-noto-cjk/);
      return;
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/pdf/);
    expect(res.headers.get('content-disposition')).toMatch(/filename\*=UTF-8''/);
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(5000);
    const list = await call<{ items: { id: number; sha256: string; bytes: number; generatedBy: string }[] }>(
      'GET',
      `/api/investigations/${inv.id}/reports`,
    );
    expect(list.items[0]).toMatchObject({ id: Number(res.headers.get('x-report-id')), bytes: pdf.length, generatedBy: 'admin' });
    const again = await server().api(`/api/investigations/reports/${list.items[0]!.id}`);
    expect(Buffer.from(await again.arrayBuffer()).equals(pdf)).toBe(true);
    await problem('GET', '/api/investigations/reports/999999', undefined, 404, /not found/);
  });

  it('moves open → in-progress → closed with who and when, and refuses changes after closing', async () => {
    const other = await call<Investigation>('POST', '/api/investigations', { patientId: 'ic-hh2', diseaseCode: 'measles' }, 201);
    await problem('PATCH', `/api/investigations/${other.id}`, { version: other.version, status: 'closed' }, 409, /cannot move to 'closed'/);
    const started = await call<Investigation>('PATCH', `/api/investigations/${other.id}`, {
      version: other.version,
      status: 'in-progress',
    });
    const closed = await call<Investigation>('PATCH', `/api/investigations/${other.id}`, {
      version: started.version,
      status: 'closed',
      closeNote: '排除',
    });
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'admin', closeNote: '排除', overdue: false });
    expect(closed.closedAt).not.toBeNull();
    await problem('PATCH', `/api/investigations/${other.id}`, { version: closed.version, note: 'x' }, 409, /closed/);
    await problem('PUT', `/api/investigations/${other.id}/form`, { version: closed.version, answers: {} }, 409, /closed/);
    const list = await call<InvestigationList>('GET', '/api/investigations?status=closed');
    expect(list.items.map((i) => i.id)).toContain(other.id);
    await problem('GET', '/api/investigations?status=done', undefined, 400, /status/);
    await problem('GET', '/api/investigations/999999', undefined, 404, /not found/);
  });

  it('lets a hospital public-health officer change only investigations assigned to them, for the purpose EPIINV, and a family doctor record checks', async () => {
    const PASSWORD = 'investigation-test-pw-1';
    const tokens = new Map<string, string>();
    for (const u of [
      { username: 'ic-ph', roles: ['public-health' as const] },
      { username: 'ic-ph2', roles: ['public-health' as const] },
      { username: 'ic-fd', roles: ['family-doctor' as const] },
    ]) {
      await server().auth.addUser({ ...u, organization: 'ic-chc', password: PASSWORD });
      const login = await fetch(`${server().url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: PASSWORD }),
      });
      tokens.set(u.username, ((await login.json()) as { access_token: string }).access_token);
    }
    const as = (username: string, method: string, path: string, body?: unknown, purpose?: string) =>
      server().api(path, {
        method,
        headers: {
          authorization: `Bearer ${tokens.get(username)}`,
          'content-type': 'application/json',
          ...(purpose ? { 'x-purpose-of-use': purpose } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const mine = await call<Investigation>(
      'POST',
      '/api/investigations',
      { patientId: 'ic-pupil', diseaseCode: 'measles', assignee: 'ic-ph' },
      201,
    );
    expect((await as('ic-ph', 'GET', `/api/investigations/${mine.id}`)).status).toBe(200);
    // The chain names the residents the policy lets this reader see (here all: the centre manages them).
    const chain = await as('ic-ph', 'GET', `/api/investigations/${inv.id}/chain`, undefined, 'EPIINV');
    expect(chain.status, await chain.clone().text()).toBe(200);
    const seen = (await chain.json()) as { patientId: string; namesWithheld: number; nodes: { name: (string | null)[] } };
    expect(seen).toMatchObject({ patientId: 'ic-case', namesWithheld: 0 });
    expect(seen.nodes.name).toContain('王小明');
    const change = { version: mine.version, status: 'in-progress' };
    expect((await as('ic-ph', 'PATCH', `/api/investigations/${mine.id}`, change)).status).toBe(403);
    const other = await as('ic-ph2', 'PATCH', `/api/investigations/${mine.id}`, change, 'EPIINV');
    expect(other.status).toBe(403);
    expect(await other.text()).toMatch(/assigned to ic-ph/);
    const ok = await as('ic-ph', 'PATCH', `/api/investigations/${mine.id}`, change, 'EPIINV');
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as Investigation).status).toBe('in-progress');
    // The community health centre's family doctor: the worklist and the checks, nothing else.
    const w1 = (await call<ContactList>('GET', `/api/investigations/${inv.id}/contacts`)).items.find((c) => c.patientId === 'ic-ward1')!;
    const check = await as('ic-fd', 'POST', `/api/investigations/contacts/${w1.id}/checks`, {
      day: TODAY,
      symptoms: false,
      temperature: 36.8,
    });
    expect(check.status, await check.clone().text()).toBe(201);
    const list = await as('ic-fd', 'GET', '/api/investigations/follow-ups?organization=ic-chc');
    expect(list.status).toBe(200);
    expect(((await list.json()) as Worklist).items.find((r) => r.contactId === w1.id)).toMatchObject({
      day: TODAY,
      status: 'done',
      symptoms: false,
    });
    expect((await as('ic-fd', 'PATCH', `/api/investigations/${mine.id}`, { version: 2, note: 'x' })).status).toBe(403);
  });
});
