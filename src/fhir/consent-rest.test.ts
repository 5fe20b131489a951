/**
 * A Consent written through /fhir takes effect on the next request (issue #22): the access
 * policy caches residents' sharing choices for ten seconds, and a Consent (or a Person, whose
 * links decide which Consents a Patient shares) written by PUT, POST, DELETE or in a Bundle drops
 * them at once. Shown with the family doctor's view of a home reading, on both stores.
 */
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { RESIDENT_ENTERED_TAG } from './access.js';
import { CONSENT_CHOICE_SYSTEM, type ConsentChoice } from './policy.js';

const consent = (id: string, patient: string, choices: Partial<Record<ConsentChoice, boolean>>, at: string): Resource =>
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
      provision: Object.entries(choices).map(([choice, allow]) => ({
        type: allow ? 'permit' : 'deny',
        code: [{ coding: [{ system: CONSENT_CHOICE_SYSTEM, code: choice }] }],
      })),
    },
  }) as Resource;

describeEachStore('consent written through /fhir', (server) => {
  let token = '';
  const asDoctor = (path: string) => fetch(`${server().url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const put = async (r: Resource) => {
    const res = await server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  const reading = (id: string, patient: string): Resource =>
    ({
      resourceType: 'Observation',
      id,
      status: 'final',
      meta: { tag: [{ ...RESIDENT_ENTERED_TAG }] },
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
      subject: { reference: `Patient/${patient}` },
      performer: [{ reference: `Patient/${patient}` }],
      effectiveDateTime: '2026-11-01T08:00:00+08:00',
      valueQuantity: { value: 6.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    }) as Resource;

  beforeAll(async () => {
    await put({ resourceType: 'Organization', id: 'org-cr', name: '城西社区卫生服务中心' } as Resource);
    // Two records the identity module would not link by itself (the test links them with a Person).
    for (const [id, name, birthDate] of [
      ['p-cr-1', '陈静', '1961-04-02'],
      ['p-cr-2', '欧阳明', '1975-09-30'],
    ])
      await put({
        resourceType: 'Patient',
        id,
        name: [{ text: name }],
        birthDate,
        managingOrganization: { reference: 'Organization/org-cr' },
      } as Resource);
    await put(reading('o-cr-1', 'p-cr-1'));
    await server().auth.addUser({ username: 'fd-cr', password: 'consent-rest-pw-1', roles: ['family-doctor'], organization: 'org-cr' });
    const login = await fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'fd-cr', password: 'consent-rest-pw-1' }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });

  it('drops the cached choices at once after a Consent PUT, POST, Bundle or DELETE', async () => {
    // Read once: the choices (none stated: shared) are now cached.
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(200);
    await put(consent('c-cr-1', 'p-cr-1', { 'share-with-family-doctor': false }, '2026-11-02T08:00:00Z'));
    const refused = await asDoctor('/fhir/Observation/o-cr-1');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/share-with-family-doctor/);

    // Given again in a transaction Bundle: readable on the next request.
    const bundle = await server().api('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: consent('c-cr-1', 'p-cr-1', { 'share-with-family-doctor': true }, '2026-11-03T08:00:00Z'),
            request: { method: 'PUT', url: 'Consent/c-cr-1' },
          },
        ],
      }),
    });
    expect(bundle.status).toBe(200);
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(200);

    // Withdrawn by a newer Consent created with POST, then that Consent deleted.
    const created = await server().api('/fhir/Consent', {
      method: 'POST',
      body: JSON.stringify(consent('ignored', 'p-cr-1', { 'share-with-family-doctor': false }, '2026-11-04T08:00:00Z')),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(403);
    expect((await server().api(`/fhir/Consent/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(200);
  });

  it("applies another record's choices at once when a Person links the two", async () => {
    await put(consent('c-cr-2', 'p-cr-2', { 'share-with-family-doctor': false }, '2026-11-05T08:00:00Z'));
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(200);
    await put({
      resourceType: 'Person',
      id: 'person-cr',
      link: [{ target: { reference: 'Patient/p-cr-1' } }, { target: { reference: 'Patient/p-cr-2' } }],
    } as Resource);
    expect((await asDoctor('/fhir/Observation/o-cr-1')).status).toBe(403);
  });
});
