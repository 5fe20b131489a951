/**
 * Emergency access (break-glass): a family doctor of one community health centre (org-a, area
 * 110101) and a resident managed by another centre (org-b, living in 110105) with a small record:
 * a visit, a diagnosis and blood pressure readings.
 */
import { expect } from 'vitest';
import { AREA_CODE_EXTENSION } from '../../src/shared/uris.js';
import type { Seeder } from './fixture.js';

export const DOCTOR = { username: 'dr.zhou', displayName: '周医生', password: 'pine-lantern-brook-31' };
export const RESIDENT = { id: 'bg-1', name: '孙丽' };

export interface BreakGlassFacts {
  patientId: string;
  residentName: string;
  doctor: { username: string; password: string };
}

/** A user created by the administrator who has changed the first password already. */
async function addUser(s: Seeder, u: typeof DOCTOR, roles: string[], organization: string, areas: string[]): Promise<void> {
  const first = `${u.password}-first`;
  const created = await s.postJson('/api/users', {
    username: u.username,
    displayName: u.displayName,
    roles,
    organization,
    areas,
    password: first,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const login = await fetch(`${s.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: u.username, password: first }),
  });
  expect(login.status, await login.clone().text()).toBe(200);
  const { access_token: token } = (await login.json()) as { access_token: string };
  const changed = await fetch(`${s.url}/auth/password`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ currentPassword: first, newPassword: u.password }),
  });
  expect(changed.status, await changed.clone().text()).toBe(200);
}

type Res = { resourceType: string; id: string } & Record<string, unknown>;

export async function seedBreakGlass(s: Seeder): Promise<BreakGlassFacts> {
  await s.putResource({ resourceType: 'Organization', id: 'org-a', name: '东城社区卫生服务中心' } as Res);
  await s.putResource({ resourceType: 'Organization', id: 'org-b', name: '西城社区卫生服务中心' } as Res);
  await addUser(s, DOCTOR, ['family-doctor'], 'org-a', ['110101']);

  const subject = { reference: `Patient/${RESIDENT.id}` };
  await s.putResource({
    resourceType: 'Patient',
    id: RESIDENT.id,
    name: [{ use: 'official', text: RESIDENT.name, family: '孙', given: ['丽'] }],
    gender: 'female',
    birthDate: '1958-03-21',
    telecom: [{ system: 'phone', value: '13912345678' }],
    address: [{ text: '北京市西城区月坛街道三里河路 12 号', extension: [{ url: AREA_CODE_EXTENSION, valueString: '110105' }] }],
    managingOrganization: { reference: 'Organization/org-b', display: '西城社区卫生服务中心' },
  } as Res);
  await s.putResource({
    resourceType: 'Encounter',
    id: 'bg-enc-1',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    type: [{ text: '高血压随访' }],
    subject,
    serviceProvider: { reference: 'Organization/org-b', display: '西城社区卫生服务中心' },
    period: { start: '2026-03-02T09:10:00+08:00', end: '2026-03-02T09:30:00+08:00' },
  } as Res);
  await s.putResource({
    resourceType: 'Condition',
    id: 'bg-cond-1',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: '原发性高血压' }], text: '原发性高血压' },
    subject,
    onsetDateTime: '2019-06-01',
  } as Res);
  const bp = (id: string, when: string, sys: number, dia: number) =>
    s.putResource({
      resourceType: 'Observation',
      id,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }], text: '血压' },
      subject,
      effectiveDateTime: when,
      component: [
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
          valueQuantity: { value: sys, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
          valueQuantity: { value: dia, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
      ],
    } as Res);
  await bp('bg-bp-1', '2025-12-01T09:00:00+08:00', 152, 94);
  await bp('bg-bp-2', '2026-01-05T09:00:00+08:00', 146, 90);
  await bp('bg-bp-3', '2026-03-02T09:15:00+08:00', 138, 86);
  return { patientId: RESIDENT.id, residentName: RESIDENT.name, doctor: { username: DOCTOR.username, password: DOCTOR.password } };
}
