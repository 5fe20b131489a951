/**
 * Home readings a resident entered in the portal reach chronic care's readings (and what is
 * derived from them: the confirmation list, the resident's page) only while the resident shares
 * them with the family doctor (issue #22): withdrawing the choice removes the copies, readings
 * entered meanwhile are not copied, giving it again brings them all back from the stored
 * Observations; a Consent on another record of the same Person counts, and deleting a Consent
 * undoes it. Readings the clinic took stay whatever the choice. Both stores.
 */
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { RESIDENT_ENTERED_TAG } from '../../fhir/access.js';
import { CONSENT_CHOICE_SYSTEM } from '../../fhir/policy.js';
import { addDays, todayInChina } from '../../shared/dates.js';

const today = todayInChina();

const bp = (id: string, patient: string, daysAgo: number, sbp: number, byResident: boolean): Resource =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    ...(byResident ? { meta: { tag: [{ ...RESIDENT_ENTERED_TAG }] } } : {}),
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: `Patient/${patient}` },
    performer: [{ reference: byResident ? `Patient/${patient}` : 'Organization/org-rr' }],
    effectiveDateTime: `${addDays(today, -daysAgo)}T08:00:00+08:00`,
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: sbp, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 92, unit: 'mmHg' } },
    ],
  }) as Resource;

const consent = (id: string, patient: string, share: boolean, at: string): Resource =>
  ({
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    dateTime: at,
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      provision: [
        { type: share ? 'permit' : 'deny', code: [{ coding: [{ system: CONSENT_CHOICE_SYSTEM, code: 'share-with-family-doctor' }] }] },
      ],
    },
  }) as Resource;

describeEachStore('resident-entered readings and the share-with-family-doctor choice', (server) => {
  const put = async (r: Resource) => {
    const res = await server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  const del = async (type: string, id: string) =>
    expect((await server().api(`/fhir/${type}/${id}`, { method: 'DELETE' })).status).toBe(204);
  /** The readings chronic care shows on the resident's page, as "sbp@daysAgo", after the processor caught up. */
  const readings = async (patient: string) => {
    await server().processors.drain();
    const res = await server().api(`/api/chronic/patients/${patient}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { readings: { takenOn: string; sbp: number | null }[] };
    return body.readings.map((r) => `${r.sbp}@${-daysBefore(r.takenOn)}`).sort();
  };
  const daysBefore = (date: string) => Math.round((Date.parse(today) - Date.parse(date)) / 86_400_000);
  const suspected = async () => {
    await server().processors.drain();
    const res = await server().api('/api/chronic/confirmations');
    expect(res.status).toBe(200);
    return ((await res.json()) as { rows: { patientId: string; disease: string }[] }).rows
      .filter((r) => r.patientId.startsWith('p-rr'))
      .map((r) => `${r.patientId}:${r.disease}`);
  };

  beforeAll(async () => {
    await put({ resourceType: 'Organization', id: 'org-rr', name: '湖滨社区卫生服务中心' } as Resource);
    for (const [id, name, birthDate] of [
      ['p-rr-1', '孙丽', '1958-02-11'],
      ['p-rr-2', '钱进', '1949-12-01'],
    ])
      await put({
        resourceType: 'Patient',
        id,
        name: [{ text: name }],
        birthDate,
        managingOrganization: { reference: 'Organization/org-rr' },
      } as Resource);
    // Three high home readings on three days (a suspected case for the confirmation list), and one the clinic took.
    await put(bp('o-rr-h1', 'p-rr-1', 3, 150, true));
    await put(bp('o-rr-h2', 'p-rr-1', 2, 152, true));
    await put(bp('o-rr-h3', 'p-rr-1', 1, 148, true));
    await put(bp('o-rr-c1', 'p-rr-1', 10, 128, false));
  });

  it('copies home readings while shared, removes them when withdrawn and brings them back when given again', async () => {
    expect(await readings('p-rr-1')).toEqual(['128@-10', '148@-1', '150@-3', '152@-2']);
    expect(await suspected()).toEqual(['p-rr-1:htn']);

    await put(consent('c-rr-1', 'p-rr-1', false, `${today}T01:00:00Z`));
    // Only the clinic's reading is left; the suspected case rested on the home readings and is gone too.
    expect(await readings('p-rr-1')).toEqual(['128@-10']);
    expect(await suspected()).toEqual([]);

    // Entered while withdrawn: stored as FHIR, not copied.
    await put(bp('o-rr-h4', 'p-rr-1', 0, 160, true));
    await put(bp('o-rr-c2', 'p-rr-1', 0, 131, false));
    expect(await readings('p-rr-1')).toEqual(['128@-10', '131@0']);

    // Given again: every home reading back, from the stored Observations.
    await put(consent('c-rr-1', 'p-rr-1', true, `${today}T02:00:00Z`));
    expect(await readings('p-rr-1')).toEqual(['128@-10', '131@0', '148@-1', '150@-3', '152@-2', '160@0']);
    expect(await suspected()).toEqual(['p-rr-1:htn']);
  });

  it("follows the choice stated on another record of the same Person, and a Consent's deletion", async () => {
    await put(consent('c-rr-2', 'p-rr-2', false, `${today}T03:00:00Z`));
    expect(await readings('p-rr-1')).toHaveLength(6);
    // Linked as one person: the later withdrawal on p-rr-2 now covers p-rr-1.
    await put({
      resourceType: 'Person',
      id: 'person-rr',
      link: [{ target: { reference: 'Patient/p-rr-1' } }, { target: { reference: 'Patient/p-rr-2' } }],
    } as Resource);
    expect(await readings('p-rr-1')).toEqual(['128@-10', '131@0']);
    // The withdrawal deleted: p-rr-1's own Consent (shared) decides again.
    await del('Consent', 'c-rr-2');
    expect(await readings('p-rr-1')).toHaveLength(6);
    // Unlinked (the Person deleted) after a withdrawal on p-rr-2 alone: p-rr-1 keeps sharing.
    await put(consent('c-rr-2b', 'p-rr-2', false, `${today}T04:00:00Z`));
    expect(await readings('p-rr-1')).toEqual(['128@-10', '131@0']);
    await del('Person', 'person-rr');
    expect(await readings('p-rr-1')).toHaveLength(6);
    // Linked again, then p-rr-1 taken out of the Person (an update): the same.
    await put({
      resourceType: 'Person',
      id: 'person-rr',
      link: [{ target: { reference: 'Patient/p-rr-1' } }, { target: { reference: 'Patient/p-rr-2' } }],
    } as Resource);
    expect(await readings('p-rr-1')).toEqual(['128@-10', '131@0']);
    await put({ resourceType: 'Person', id: 'person-rr', link: [{ target: { reference: 'Patient/p-rr-2' } }] } as Resource);
    expect(await readings('p-rr-1')).toHaveLength(6);
  });
});
