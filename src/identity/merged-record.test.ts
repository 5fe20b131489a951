import type { Patient, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore, type TestServer } from '../app/testing.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { compareDemographics, demographicsOf, describeItem, timelineSearches } from './merged-record.js';
import { parseQuery } from './search.js';
import { nameKeys, searchRow } from './search-index.js';
import type { MergedRecord, ResidentSearchResult } from './search-schemas.js';

const ID = makeIdNumber('330102', '1962-04-09', 37);
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';

function patient(id: string, org: string, phone: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      { system: `https://yifang.health/fhir/sid/mrn/${org}`, type: { coding: [{ code: 'MR' }] }, value: `MRN-${id}` },
      { system: RESIDENT_ID_SYSTEM, value: ID },
    ],
    name: [{ use: 'official', text: '张三丰', family: '张', given: ['三丰'] }],
    gender: 'male',
    birthDate: '1962-04-09',
    telecom: [{ system: 'phone', value: phone }],
    address: [{ use: 'home', extension: [{ url: AREA, valueString: '330102001001' }], line: ['青石街道', '荷花路8号2幢301室'] }],
    managingOrganization: { reference: `Organization/${org}` },
  };
}

const encounter = (id: string, pid: string, org: string, start: string): Resource =>
  ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { code: 'AMB', display: '门诊' },
    type: [{ text: org === 'mr-centre' ? '慢病随访' : '内科门诊' }],
    subject: { reference: `Patient/${pid}` },
    serviceProvider: { reference: `Organization/${org}` },
    period: { start, end: start },
  }) as Resource;

const lab = (id: string, pid: string, date: string, value: number): Resource =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { text: '空腹血糖' },
    subject: { reference: `Patient/${pid}` },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'mmol/L' },
  }) as Resource;

describe('merged record: pure parts', () => {
  it('reads pinyin initials of names, surnames as surnames', () => {
    expect(nameKeys('张三丰')).toEqual({ pinyin: 'zhangsanfeng', initials: 'zsf' });
    expect(nameKeys('单雄信').initials).toBe('sxx');
    expect(nameKeys('ZHAO Shi Han')).toEqual({ pinyin: 'zhaoshihan', initials: 'zsh' });
    const latin = searchRow({ resourceType: 'Patient', id: 'l', name: [{ family: 'Jast432', given: ['Frankie174'] }] });
    expect(latin.name).toBe('frankie174 jast432');
    expect(demographicsOf({ resourceType: 'Patient', name: [{ family: 'Jast432', given: ['Frankie174'] }] }).name).toBe(
      'Frankie174 Jast432',
    );
    expect(demographicsOf({ resourceType: 'Patient', name: [{ family: '欧阳', given: ['娜娜'] }] }).name).toBe('欧阳娜娜');
    const row = searchRow(patient('x', 'mr-centre', '+86 138-0000-1111'));
    expect(row).toMatchObject({ name: '张三丰', initials: 'zsf', idNumber: ID, phone: '13800001111' });
  });
  it('reads a query as a name, pinyin, an ID number, a phone or digits of either', () => {
    expect(parseQuery('张三').kind).toBe('name');
    expect(parseQuery('zsf')).toMatchObject({ kind: 'pinyin', args: ['zsf%', 'zsf%'] });
    expect(parseQuery('Frankie174').kind).toBe('name');
    expect(parseQuery(ID).kind).toBe('idNumber');
    expect(parseQuery('13800001111').kind).toBe('phone');
    expect(parseQuery('1111')).toMatchObject({ kind: 'digits', args: ['1111%', '1111%'] });
    expect(parseQuery('330102 1962').kind).toBe('digits');
    expect(() => parseQuery('12')).toThrow(/4/);
    expect(parseQuery('50%_').args[0]).toBe('50\\%\\_%');
  });
  it('marks conflicting fields and prefers the value most Patients give', () => {
    const base = { name: '张三丰', gender: 'male', birthDate: '1962-04-09', idNumber: ID, address: '荷花路8号', phone: '13800001111' };
    const rows = compareDemographics([
      { patientId: 'a', values: { ...base, phone: '138 0000 1111' } },
      { patientId: 'b', values: { ...base, name: '张 三丰', phone: '13900002222' } },
      { patientId: 'c', values: { ...base, phone: '+86 13800001111' } },
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.field, r]));
    expect(by.name!.conflict).toBe(false);
    expect(by.phone).toMatchObject({ conflict: true, value: '138 0000 1111' });
    expect(by.phone!.values.map((v) => v.source)).toEqual(['a', 'b', 'c']);
  });
  it('splits observations by category only when a filter asks', () => {
    expect(timelineSearches(new Set(['lab', 'vital', 'observation'])).map((s) => s.type)).toEqual(['Observation']);
    expect(timelineSearches(new Set(['lab'])).map((s) => s.extra)).toEqual([[['category', 'laboratory']]]);
    expect(timelineSearches(new Set(['medication'])).map((s) => s.type)).toEqual(['MedicationRequest', 'MedicationStatement']);
    expect(describeItem(lab('o', 'p', '2024-01-02', 7.1), 'observation')).toMatchObject({
      kind: 'lab',
      title: '空腹血糖',
      detail: '7.1 mmol/L',
    });
  });
});

const PASSWORD = 'merged-record-test-pw-1';

describeEachStore('merged resident record', (server) => {
  const tokens = new Map<string, string>();
  const as = (username: string, path: string) =>
    server().api(path, { headers: { authorization: `Bearer ${tokens.get(username)}`, 'content-type': 'application/json' } });
  const put = async (r: Resource) => {
    const res = await server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  let personId = '';

  beforeAll(async () => {
    const s: TestServer = server();
    await put({ resourceType: 'Organization', id: 'mr-centre', name: '青石街道社区卫生服务中心' } as Resource);
    await put({ resourceType: 'Organization', id: 'mr-hospital', name: '市第一人民医院' } as Resource);
    await put(patient('mr-pa', 'mr-centre', '13800001111'));
    await put(patient('mr-pb', 'mr-hospital', '13900002222'));
    await put(encounter('mr-enc-a1', 'mr-pa', 'mr-centre', '2024-03-01T09:00:00+08:00'));
    await put(encounter('mr-enc-a2', 'mr-pa', 'mr-centre', '2024-06-01T09:00:00+08:00'));
    await put(encounter('mr-enc-b1', 'mr-pb', 'mr-hospital', '2024-05-01T09:00:00+08:00'));
    await put(lab('mr-lab-a1', 'mr-pa', '2024-03-01T09:30:00+08:00', 6.1));
    await put(lab('mr-lab-b1', 'mr-pb', '2024-05-01T09:30:00+08:00', 7.4));
    await put(lab('mr-lab-b2', 'mr-pb', '2024-07-01T09:30:00+08:00', 8.2));
    await s.processors.drain();
    for (const u of [{ username: 'mr-fd', roles: ['family-doctor' as const], organization: 'mr-centre' }]) {
      await s.auth.addUser({ ...u, password: PASSWORD });
      const login = await fetch(`${s.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: PASSWORD }),
      });
      tokens.set(u.username, ((await login.json()) as { access_token: string }).access_token);
    }
  });

  it('shows both facilities’ Patients on one timeline, newest first, with the conflicting phone side by side', async () => {
    const res = await server().api('/api/residents/mr-pa/record');
    expect(res.status, await res.clone().text()).toBe(200);
    const r = (await res.json()) as MergedRecord;
    expect(r.personId).toBeTruthy();
    personId = r.personId!;
    expect(r.patients.map((p) => p.patientId).sort()).toEqual(['mr-pa', 'mr-pb']);
    expect(r.patients.find((p) => p.patientId === 'mr-pb')!.facilityName).toBe('市第一人民医院');
    expect(r.withheldPatients).toBe(0);
    const phone = r.demographics.find((d) => d.field === 'phone')!;
    expect(phone.conflict).toBe(true);
    expect(phone.values.map((v) => v.value).sort()).toEqual(['13800001111', '13900002222']);
    expect(r.demographics.find((d) => d.field === 'idNumber')!.conflict).toBe(false);
    expect(r.conflicts).toBe(1);
    expect(r.timeline.total).toBe(6);
    expect(r.timeline.items.map((i) => i.id)).toEqual(['mr-lab-b2', 'mr-enc-a2', 'mr-lab-b1', 'mr-enc-b1', 'mr-lab-a1', 'mr-enc-a1']);
    const item = r.timeline.items[0]!;
    expect(item).toMatchObject({ kind: 'lab', facilityName: '市第一人民医院', sourcePatient: 'mr-pb', title: '空腹血糖' });
    expect(new Set(r.timeline.items.map((i) => i.facilityId))).toEqual(new Set(['mr-centre', 'mr-hospital']));
  });

  it('answers the same for the Person id, pages with a total and filters by facility and kind', async () => {
    const byPerson = (await (await server().api(`/api/residents/${personId}/record?limit=2&offset=2`)).json()) as MergedRecord;
    expect(byPerson.personId).toBe(personId);
    expect(byPerson.timeline).toMatchObject({ total: 6, offset: 2, limit: 2 });
    expect(byPerson.timeline.items.map((i) => i.id)).toEqual(['mr-lab-b1', 'mr-enc-b1']);
    const hospital = (await (await server().api(`/api/residents/${personId}/record?facility=mr-hospital`)).json()) as MergedRecord;
    expect(hospital.timeline.items.map((i) => i.id)).toEqual(['mr-lab-b2', 'mr-lab-b1', 'mr-enc-b1']);
    const labs = (await (await server().api(`/api/residents/${personId}/record?types=lab`)).json()) as MergedRecord;
    expect(labs.timeline.total).toBe(3);
    expect(labs.timeline.items.every((i) => i.kind === 'lab')).toBe(true);
    expect((await server().api('/api/residents/nobody-here/record')).status).toBe(404);
    expect((await server().api('/api/residents/mr-pa/record?types=x-ray')).status).toBe(400);
    expect((await server().api('/api/residents/mr-pa/record?limit=1000')).status).toBe(400);
  });

  it('shows a family doctor of one centre only that centre’s Patient, counting what is withheld', async () => {
    const res = await as('mr-fd', `/api/residents/${personId}/record`);
    expect(res.status, await res.clone().text()).toBe(200);
    const r = (await res.json()) as MergedRecord;
    expect(r.patients.map((p) => p.patientId)).toEqual(['mr-pa']);
    expect(r.withheldPatients).toBe(1);
    expect(r.timeline.items.map((i) => i.id)).toEqual(['mr-enc-a2', 'mr-lab-a1', 'mr-enc-a1']);
    expect(r.timeline.total).toBe(3);
    expect(r.timeline.withheld).toBe(3);
    expect(JSON.stringify(r)).not.toContain('13900002222');
    expect(JSON.stringify(r)).not.toContain('市第一人民医院');
    // The hospital's Patient on its own is outside the doctor's scope.
    expect((await as('mr-fd', '/api/residents/mr-pb/record')).status).toBe(403);
  });

  it('finds the person by pinyin initials, name, ID number (whole or last digits) and phone', async () => {
    const find = async (q: string, user?: string) => {
      const path = `/api/residents/search?q=${encodeURIComponent(q)}`;
      const res = user ? await as(user, path) : await server().api(path);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as ResidentSearchResult;
    };
    for (const q of ['zsf', 'zhangsan', '张三', ID, ID.slice(-6), '13900002222', '2222']) {
      const r = await find(q);
      expect(
        r.rows.map((x) => x.personId),
        q,
      ).toContain(personId);
      const row = r.rows.find((x) => x.personId === personId)!;
      expect(row.patientIds.sort(), q).toEqual(['mr-pa', 'mr-pb']);
      expect(['mr-pa', 'mr-pb']).toContain(row.recordId);
      expect(r.total).toBeGreaterThanOrEqual(1);
    }
    expect((await find('zsf')).kind).toBe('pinyin');
    expect((await find('qqqzzz')).rows).toEqual([]);
    const scoped = await find('zsf', 'mr-fd');
    const row = scoped.rows.find((x) => x.personId === personId)!;
    expect(row.patientIds).toEqual(['mr-pa']);
    expect(row.phone).toBe('13800001111');
    expect((await server().api('/api/residents/search?q=12')).status).toBe(400);
  });

  it('keeps the index current when a Patient changes or is deleted', async () => {
    await put({ ...patient('mr-pc', 'mr-centre', '13700003333'), name: [{ use: 'official', text: '欧阳娜娜' }], identifier: [] });
    await server().processors.drain();
    expect(
      ((await (await server().api('/api/residents/search?q=oynn')).json()) as ResidentSearchResult).rows.map((r) => r.patientId),
    ).toEqual(['mr-pc']);
    await put({ ...patient('mr-pc', 'mr-centre', '13700003333'), name: [{ use: 'official', text: '欧阳菲菲' }], identifier: [] });
    await server().processors.drain();
    expect(((await (await server().api('/api/residents/search?q=oynn')).json()) as ResidentSearchResult).rows).toEqual([]);
    expect((await server().api('/fhir/Patient/mr-pc', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect(((await (await server().api('/api/residents/search?q=oyff')).json()) as ResidentSearchResult).rows).toEqual([]);
  });
});
