/**
 * Households: the residents at one normalised home address, exposed as FHIR `Group` resources
 * (type person, actual) so that other features can find a case's household contacts with
 * `GET /fhir/Group?member=Patient/{id}`. Members are the Patients whose current home address
 * has the household's key; each member carries the Person it is linked to, so a resident known
 * at several facilities can be counted once.
 */
import { createHash } from 'node:crypto';
import type { Group } from '@medplum/fhirtypes';
import { YIFANG_BASE } from '../shared/uris.js';
import type { IdentityRecord } from './record.js';

/** Identifier system of an address household: the value is the normalised address key. */
export const ADDRESS_HOUSEHOLD_SYSTEM = `${YIFANG_BASE}/sid/address-household`;
/** The group kind code system the simulator's household Groups use as well. */
export const GROUP_KIND_SYSTEM = `${YIFANG_BASE}/CodeSystem/group-kind`;
/** Characteristic code: the normalised address key that defines the household. */
export const HOUSEHOLD_CHARACTERISTIC_SYSTEM = `${YIFANG_BASE}/CodeSystem/household-characteristic`;
/** Extension on Group.member: the Person the member Patient is linked to. */
export const MEMBER_PERSON_EXTENSION = `${YIFANG_BASE}/StructureDefinition/member-person`;

/** Household key: area code + house address (people at one address form a household). */
export function householdKey(r: Pick<IdentityRecord, 'address' | 'areaCode'>): string | undefined {
  return r.address && /\d/.test(r.address) ? `${r.areaCode ?? ''}|${r.address}` : undefined;
}

/** Stable Group id for an address key (ids allow 64 characters of [A-Za-z0-9-.]). */
export function householdGroupId(key: string): string {
  return `hh-${createHash('sha1').update(key).digest('hex').slice(0, 24)}`;
}

export interface HouseholdMember {
  patientId: string;
  personId: string;
}

export function householdGroup(key: string, members: HouseholdMember[]): Group {
  const address = key.slice(key.indexOf('|') + 1);
  const sorted = [...members].sort((a, b) => a.patientId.localeCompare(b.patientId));
  return {
    resourceType: 'Group',
    id: householdGroupId(key),
    identifier: [{ system: ADDRESS_HOUSEHOLD_SYSTEM, value: key }],
    active: true,
    type: 'person',
    actual: true,
    code: { coding: [{ system: GROUP_KIND_SYSTEM, code: 'household', display: '家庭户' }] },
    name: `${address}（同址居民）`,
    quantity: sorted.length,
    characteristic: [
      {
        code: { coding: [{ system: HOUSEHOLD_CHARACTERISTIC_SYSTEM, code: 'address-key', display: '规范化住址' }] },
        valueCodeableConcept: { text: key },
        exclude: false,
      },
    ],
    member: sorted.map((m) => ({
      entity: { reference: `Patient/${m.patientId}` },
      extension: [{ url: MEMBER_PERSON_EXTENSION, valueReference: { reference: `Person/${m.personId}` } }],
    })),
  };
}
