/**
 * Data intake: an HL7 ADT message the server rejects (an impossible birth date); three Patients
 * at different facilities: two share an ID number (linked at once), the third has a similar name
 * and no ID number (a pair for a person to review).
 */
import type { Patient } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../../src/shared/id-number.js';
import type { Seeder } from './fixture.js';

const ID = makeIdNumber('339902', '1970-05-05', 33);
/** The bad birth date in the rejected message, and the one the user corrects it to. */
export const BAD_BIRTH_DATE = '19701345';
export const GOOD_BIRTH_DATE = '19700115';
export const REJECTED_MESSAGE_ID = 'E2E-1';

const patient = (id: string, name: string, org: string, idNumber?: string): Patient => ({
  resourceType: 'Patient',
  id,
  identifier: [
    {
      system: `https://yifang.health/fhir/sid/mrn/${org}`,
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      value: `MRN-${id}`,
    },
    ...(idNumber ? [{ system: RESIDENT_ID_SYSTEM, value: idNumber }] : []),
  ],
  name: [{ use: 'official', text: name }],
  gender: 'male',
  birthDate: '1970-05-05',
  telecom: [{ system: 'phone', value: '13100000001' }],
  managingOrganization: { reference: `Organization/${org}` },
});

/** POST /api/hl7 of the message the server rejects (it lands in the dead-letter queue). */
export async function seedRejectedMessage(s: Seeder): Promise<void> {
  const bad = [
    `MSH|^~\\&|HIS|339902GH001|YIFANG|339902|20260101095100+0800||ADT^A04^ADT_A01|${REJECTED_MESSAGE_ID}|P|2.5|||||CHN|UNICODE UTF-8`,
    'EVN|A04|20260101095100+0800',
    `PID|1||ZY001^^^339902GH001^MR||王^小明^^^^^L||${BAD_BIRTH_DATE}|M`,
    'PV1|1|O|general^^^339902GH001||||||||||||||||||VE2E1',
  ].join('\r');
  expect(await s.postHl7(bad)).toMatch(/MSA\|A[ER]/);
}

/** The three Patients: 刘洋 at two facilities with one ID number, 刘祥 at a third without. */
export async function seedSimilarPatients(s: Seeder): Promise<void> {
  for (const p of [
    patient('e2e-a', '刘洋', 'org-chc', ID),
    patient('e2e-b', '刘洋', 'org-hosp', ID),
    patient('e2e-c', '刘祥', 'org-tcm'),
  ]) {
    await s.putResource(p);
  }
}
