import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { describeEachStore, sharedDir } from '../app/testing.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { getTypeDef } from './definitions.js';

const examplesDir = path.join(sharedDir, 'data/fhir-r4-examples');
const syntheaDir = path.join(sharedDir, 'data/synthea-fhir-r4-bundles');
const readJson = <T>(p: string): T => JSON.parse(fs.readFileSync(p, 'utf8')) as T;

/** Drops server-managed fields so a stored resource compares with what was sent. */
function withoutServerFields(r: Resource): Record<string, unknown> {
  const { id: _id, meta, ...rest } = r as Resource & { meta?: Record<string, unknown> };
  const { versionId: _v, lastUpdated: _l, ...metaRest } = meta ?? {};
  return Object.keys(metaRest).length ? { ...rest, meta: metaRest } : rest;
}

describeEachStore('FHIR REST API', (server) => {
  it('keeps a visit that cites unregistered master data, and refuses one whose patient does not exist', async () => {
    const patient = await server().api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', gender: 'male' }),
    });
    const { id } = (await patient.json()) as { id: string };
    const visit = (subject: string) =>
      server().api('/fhir/Encounter', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: subject },
          serviceProvider: { reference: 'Organization/not-registered-yet' },
          participant: [{ individual: { reference: 'Practitioner/not-registered-yet' } }],
        }),
      });
    expect((await visit(`Patient/${id}`)).status).toBe(201);
    const refused = await visit('Patient/nobody-here');
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toMatch(/Encounter\.subject: Patient\/nobody-here does not exist/);
  });

  it('serves the CapabilityStatement without a token', async () => {
    const res = await fetch(`${server().url}/fhir/metadata`);
    expect(res.status).toBe(200);
    const cs = (await res.json()) as { fhirVersion: string; rest: { resource: { type: string; searchParam: { name: string }[] }[] }[] };
    expect(cs.fhirVersion).toBe('4.0.1');
    const types = cs.rest[0]!.resource.map((r) => r.type);
    for (const t of ['Patient', 'Claim', 'ExplanationOfBenefit', 'Procedure', 'AuditEvent', 'ImmunizationRecommendation'])
      expect(types).toContain(t);
    const patient = cs.rest[0]!.resource.find((r) => r.type === 'Patient')!;
    expect(patient.searchParam.map((p) => p.name)).toEqual(
      expect.arrayContaining(['name', 'identifier', 'birthdate', 'general-practitioner']),
    );
  });

  it('creates, reads back and compares every official example of a stored type', async () => {
    const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json'));
    let compared = 0;
    for (const file of files) {
      const example = readJson<Resource>(path.join(examplesDir, file));
      if (example.resourceType === 'Bundle' && (example as Bundle).type !== 'collection' && (example as Bundle).type !== 'document')
        continue;
      // The examples reference one another and resources that are not among them: loaded as a
      // loader with the import permission would, without the existence check.
      const created = await server().api(`/fhir/${example.resourceType}`, {
        method: 'POST',
        body: JSON.stringify(example),
        headers: { 'x-check-references': 'false' },
      });
      expect(created.status, `${file}: ${await created.clone().text()}`).toBe(201);
      const stored = (await created.json()) as Resource;
      expect(created.headers.get('etag')).toBe('W/"1"');
      const read = await server().api(`/fhir/${example.resourceType}/${stored.id}`);
      expect(read.status).toBe(200);
      expect(withoutServerFields((await read.json()) as Resource), file).toEqual(withoutServerFields(example));
      compared++;
    }
    expect(compared).toBeGreaterThan(90);
  });

  it('loads the Synthea Bundles as transactions and finds their resources again', async () => {
    const files = fs.readdirSync(syntheaDir).filter((f) => f.endsWith('.json'));
    // Shared organisations and practitioners first: patient bundles reference them conditionally.
    files.sort((a, b) => Number(/^[a-z]/.test(b)) - Number(/^[a-z]/.test(a)));
    for (const file of files) {
      const bundle = readJson<Bundle>(path.join(syntheaDir, file));
      const res = await server().api('/fhir', { method: 'POST', body: JSON.stringify(bundle) });
      expect(res.status, `${file}: ${(await res.clone().text()).slice(0, 300)}`).toBe(200);
      const out = (await res.json()) as Bundle;
      expect(out.type).toBe('transaction-response');
      expect(out.entry).toHaveLength(bundle.entry!.length);
    }
    const search = await server().api('/fhir/Patient?family=Jast432');
    const found = (await search.json()) as Bundle;
    expect(found.total).toBe(1);
    const patient = found.entry![0]!.resource!;
    const obs = (await (await server().api(`/fhir/Observation?subject=Patient/${patient.id}&_summary=count`)).json()) as Bundle;
    expect(obs.total).toBeGreaterThan(10);
    const everything = (await (await server().api(`/fhir/Patient/${patient.id}/$everything`)).json()) as Bundle;
    const source = readJson<Bundle>(
      path.join(
        syntheaDir,
        fs.readdirSync(syntheaDir).find((f) => f.startsWith('Frankie174'))!,
      ),
    );
    const inCompartment = source.entry!.filter((e) => {
      const def = getTypeDef(e.resource!.resourceType)!;
      return (
        e.resource!.resourceType === 'Patient' || (def.patientCompartmentParams.length > 0 && e.resource!.resourceType !== 'Provenance')
      );
    });
    // POSTed entries get server ids, so compare counts per type. (Provenance points at the
    // patient through target, outside the compartment definition.)
    const countByType = (types: string[]) => types.reduce<Record<string, number>>((acc, t) => ({ ...acc, [t]: (acc[t] ?? 0) + 1 }), {});
    // The master patient index adds the resident's Person, which links back to the Patient, and
    // the household Group of the Patient's address (Group is in the Patient compartment by member).
    expect(countByType(everything.entry!.map((e) => e.resource!.resourceType).filter((t) => t !== 'Person' && t !== 'Group'))).toEqual(
      countByType(inCompartment.map((e) => e.resource!.resourceType)),
    );
  });

  it('searches with every parameter kind', async () => {
    const api = server().api;
    const q = async (query: string) => {
      const res = await api(`/fhir/${query}`);
      expect(res.status, `${query}: ${await res.clone().text()}`).toBe(200);
      return (await res.json()) as Bundle;
    };
    const ids = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);
    const idNumber = makeIdNumber('999901', '1958-03-14', 37);
    const p = (await (
      await api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({
          resourceType: 'Patient',
          identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber }],
          name: [{ text: '欧阳明华', family: '欧阳', given: ['明华'] }],
          gender: 'male',
          birthDate: '1958-03-14',
          telecom: [{ system: 'phone', value: '13800138000' }],
        }),
      })
    ).json()) as Resource;
    const obsBody = (sys: number, when: string) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
      subject: { reference: `Patient/${p.id}` },
      effectiveDateTime: when,
      valueQuantity: { value: sys, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    });
    const o1 = (await (
      await api('/fhir/Observation', { method: 'POST', body: JSON.stringify(obsBody(152, '2026-03-01T08:00:00+08:00')) })
    ).json()) as Resource;
    const o2 = (await (
      await api('/fhir/Observation', { method: 'POST', body: JSON.stringify(obsBody(128, '2026-06-01T08:00:00+08:00')) })
    ).json()) as Resource;

    expect(ids(await q('Patient?name=欧阳'))).toEqual([p.id]); // string, Chinese compound surname
    expect(ids(await q('Patient?name=欧阳明华'))).toEqual([p.id]);
    expect(ids(await q('Patient?family:exact=欧阳'))).toEqual([p.id]);
    expect(ids(await q(`Patient?identifier=${RESIDENT_ID_SYSTEM}|${idNumber}`))).toEqual([p.id]); // token
    expect(ids(await q(`Patient?identifier=${idNumber}`))).toEqual([p.id]);
    expect(ids(await q('Patient?birthdate=1958-03&gender=male&name=欧阳'))).toEqual([p.id]); // date
    expect(ids(await q('Patient?birthdate=lt1958-03-14&name=欧阳'))).toEqual([]);
    expect(ids(await q('Patient?birthdate=ge1958-03-14&name=欧阳'))).toEqual([p.id]);
    expect(ids(await q(`Observation?subject=Patient/${p.id}&date=gt2026-04-01`))).toEqual([o2.id]); // reference + date prefix
    expect(ids(await q(`Observation?patient=${p.id}&value-quantity=gt140`))).toEqual([o1.id]); // quantity
    expect(ids(await q(`Observation?patient=${p.id}&value-quantity=le140|http://unitsofmeasure.org|mm[Hg]`))).toEqual([o2.id]);
    expect(ids(await q(`Observation?patient=${p.id}&code-value-quantity=http://loinc.org|8480-6$ge150`))).toEqual([o1.id]); // composite
    expect(ids(await q(`Observation?subject.name=欧阳&_sort=-date`))).toEqual([o2.id, o1.id]); // chained + sort
    expect(ids(await q(`Observation?subject:Patient.identifier=${idNumber}&_sort=date`))).toEqual([o1.id, o2.id]);
    expect(ids(await q(`Observation?_id=${o1.id},${o2.id}&_sort=_id`)).sort()).toEqual([o1.id, o2.id].sort());
    expect((await q(`Observation?patient=${p.id}&_summary=count`)).total).toBe(2);
    expect(ids(await q(`Observation?patient=${p.id}&_lastUpdated=gt2000-01-01`))).toHaveLength(2);

    const paged = await q(`Observation?patient=${p.id}&_count=1&_sort=date`);
    expect(ids(paged)).toEqual([o1.id]);
    const next = paged.link!.find((l) => l.relation === 'next')!.url;
    const page2 = (await (await api(next.replace(server().url, ''))).json()) as Bundle;
    expect(ids(page2)).toEqual([o2.id]);

    const withInclude = await q(`Observation?_id=${o1.id}&_include=Observation:subject`);
    expect(withInclude.entry!.map((e) => `${e.resource!.resourceType}:${e.search!.mode}`)).toEqual([
      'Observation:match',
      'Patient:include',
    ]);
    const withRev = await q(`Patient?_id=${p.id}&_revinclude=Observation:subject`);
    expect(withRev.entry!.filter((e) => e.search!.mode === 'include')).toHaveLength(2);
  });

  it('keeps versions: update, vread, history, If-Match, conditional create and update, delete', async () => {
    const api = server().api;
    const idNumber = makeIdNumber('999902', '1990-01-02', 12);
    const body = { resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber }], name: [{ text: '李娜' }] };
    const first = await api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'if-none-exist': `identifier=${RESIDENT_ID_SYSTEM}|${idNumber}` },
    });
    expect(first.status).toBe(201);
    const p = (await first.json()) as Resource;
    const again = await api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'if-none-exist': `identifier=${RESIDENT_ID_SYSTEM}|${idNumber}` },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Resource).id).toBe(p.id);

    const v2 = await api(`/fhir/Patient/${p.id}`, {
      method: 'PUT',
      body: JSON.stringify({ ...body, id: p.id, gender: 'female' }),
      headers: { 'if-match': 'W/"1"' },
    });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('etag')).toBe('W/"2"');
    const stale = await api(`/fhir/Patient/${p.id}`, {
      method: 'PUT',
      body: JSON.stringify({ ...body, id: p.id }),
      headers: { 'if-match': 'W/"1"' },
    });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');

    const cond = await api(`/fhir/Patient?identifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${idNumber}`)}`, {
      method: 'PUT',
      body: JSON.stringify({ ...body, birthDate: '1990-01-02' }),
    });
    expect(cond.status).toBe(200);
    expect(((await cond.json()) as Resource).meta!.versionId).toBe('3');

    const v1 = (await (await api(`/fhir/Patient/${p.id}/_history/1`)).json()) as { gender?: string };
    expect(v1.gender).toBeUndefined();
    const hist = (await (await api(`/fhir/Patient/${p.id}/_history`)).json()) as Bundle;
    expect(hist.type).toBe('history');
    expect(hist.entry).toHaveLength(3);
    const typeHist = (await (await api(`/fhir/Patient/_history?_count=5`)).json()) as Bundle;
    expect(typeHist.entry!.length).toBeGreaterThan(0);

    expect((await api(`/fhir/Patient/${p.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/fhir/Patient/${p.id}`)).status).toBe(410);
    expect((await api(`/fhir/Patient/does-not-exist`)).status).toBe(404);
  });

  it('runs a batch entry by entry and a transaction all or nothing', async () => {
    const api = server().api;
    const batch = await api('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: { resourceType: 'Patient', name: [{ text: '批处理一' }] }, request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Patient', bogus: true }, request: { method: 'POST', url: 'Patient' } },
        ],
      }),
    });
    const out = (await batch.json()) as Bundle;
    expect(out.entry!.map((e) => e.response!.status)).toEqual(['201 Created', '400']);

    const before = ((await (await api('/fhir/Encounter?_summary=count')).json()) as Bundle).total;
    const tx = await api('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:11111111-1111-1111-1111-111111111111',
            resource: { resourceType: 'Patient', name: [{ text: '事务' }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: {
              resourceType: 'Encounter',
              status: 'finished',
              class: { code: 'AMB' },
              subject: { reference: 'urn:uuid:11111111-1111-1111-1111-111111111111' },
            },
            request: { method: 'POST', url: 'Encounter' },
          },
          {
            resource: {
              resourceType: 'Encounter',
              status: 'finished',
              class: { code: 'AMB' },
              subject: { reference: 'urn:uuid:99999999-0000-0000-0000-000000000000' },
            },
            request: { method: 'POST', url: 'Encounter' },
          },
        ],
      }),
    });
    expect(tx.status).toBe(400);
    expect(JSON.stringify(await tx.json())).toContain('urn:uuid:99999999');
    expect(((await (await api('/fhir/Encounter?_summary=count')).json()) as Bundle).total).toBe(before);
    expect(((await (await api('/fhir/Patient?name=事务&_summary=count')).json()) as Bundle).total).toBe(0);
  });

  it('rejects bad input with an OperationOutcome that says what was wrong', async () => {
    const api = server().api;
    const expectOutcome = async (res: Response, status: number, text: RegExp) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { resourceType: string; issue: { diagnostics: string }[] };
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue.map((i) => i.diagnostics).join(' ')).toMatch(text);
    };
    await expectOutcome(await api('/fhir/Patient', { method: 'POST', body: '{"resourceType": "Patient",' }), 400, /Malformed JSON/);
    await expectOutcome(
      await api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }),
      }),
      400,
      /does not match/,
    );
    await expectOutcome(
      await api('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', favouriteColour: 'blue' }) }),
      400,
      /favouriteColour/,
    );
    await expectOutcome(
      await api('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', birthDate: 19900101 }) }),
      400,
      /birthDate/,
    );
    await expectOutcome(
      await api('/fhir/Observation', { method: 'POST', body: JSON.stringify({ resourceType: 'Observation' }) }),
      400,
      /status/,
    );
    // A resident ID number that fails GB 11643 is not refused (issue #16): the Patient is stored
    // with the number as sent and a data-quality mark on that identifier.
    for (const [value, words] of [
      ['110105194912310021', /校验码/],
      ['110105199002300025', /birth date/],
    ] as const) {
      const res = await api('/fhir/Patient', {
        method: 'POST',
        body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value }] }),
      });
      expect(res.status).toBe(201);
      const stored = (await res.json()) as Patient;
      expect(stored.identifier![0]!.value).toBe(value);
      expect(stored.identifier![0]!.extension).toEqual([
        { url: 'https://yifang.health/fhir/StructureDefinition/data-quality-issue', valueString: expect.stringMatching(words) },
      ]);
    }
    await expectOutcome(await api('/fhir/NotAType/1'), 404, /Unknown resource type/);
    await expectOutcome(await api('/fhir/Patient?nonsense=1'), 400, /Unknown search parameter 'nonsense'/);
    await expectOutcome(await api('/fhir/Patient?birthdate=notadate'), 400, /Invalid date/);
    await expectOutcome(await fetch(`${server().url}/fhir/Patient`), 401, /Authentication required/);
    await expectOutcome(
      await fetch(`${server().url}/fhir/Patient`, { headers: { authorization: 'Bearer forged' } }),
      401,
      /session has ended/,
    );
  });

  it('answers SQL metacharacters in every kind of search parameter as plain values', async () => {
    const api = server().api;
    const nasty = ["'; DROP TABLE r_patient; --", '" OR 1=1 --', '\\', '%_%', "x') OR ('1'='1", '$1', 'a|b|c', ');SELECT pg_sleep(5);--'];
    const queries = [
      'Observation?code-value-quantity=',
      'Patient?name=',
      'Patient?family:exact=',
      'Patient?name:contains=',
      'Patient?identifier=',
      'Patient?general-practitioner=',
      'Observation?subject.name=',
      'Observation?_id=',
    ];
    for (const base of queries) {
      for (const v of nasty) {
        const res = await api(`/fhir/${base}${encodeURIComponent(v)}`);
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) expect(((await res.json()) as Bundle).entry ?? []).toHaveLength(0);
      }
    }
    for (const typed of ['Patient?birthdate=', 'Observation?value-quantity=', 'Patient?_lastUpdated=', 'RiskAssessment?probability=']) {
      for (const v of nasty) expect((await api(`/fhir/${typed}${encodeURIComponent(v)}`)).status).toBe(400);
    }
    expect((await api('/fhir/Patient?_sort=' + encodeURIComponent('name; DROP TABLE r_patient'))).status).toBe(400);
    expect((await api('/fhir/Patient?_count=1')).status).toBe(200);
  });

  it('limits body size with 413', async () => {
    const big = JSON.stringify({ resourceType: 'Patient', name: [{ text: 'x'.repeat(40 * 1024 * 1024) }] });
    const res = await server().api('/fhir/Patient', { method: 'POST', body: big });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('forbids a role what it may not do (403) and audits reads and writes', async () => {
    await server().auth.addUser({ username: 'viewer1', password: 'viewer-pass', roles: ['viewer'], organization: '某社区卫生服务中心' });
    const login = (await (
      await fetch(`${server().url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer1', password: 'viewer-pass' }),
      })
    ).json()) as { access_token: string };
    const asViewer = { authorization: `Bearer ${login.access_token}` };
    const created = await server().api('/fhir/Patient', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Patient', name: [{ text: '审计' }] }),
      headers: asViewer,
    });
    expect(created.status).toBe(403);
    expect((await server().api('/fhir/AuditEvent', { headers: asViewer })).status).toBe(403);
    const read = await server().api('/fhir/Patient?name=审计', { headers: asViewer });
    expect(read.status).toBe(200);
    await server().audit.flush();
    const events = (await (await server().api('/fhir/AuditEvent?agent=viewer1&_sort=-date')).json()) as Bundle;
    expect(events.entry!.length).toBeGreaterThanOrEqual(1);
    const byDate = (await (await server().api(`/fhir/AuditEvent?date=ge2020-01-01&_summary=count`)).json()) as Bundle;
    expect(byDate.total).toBeGreaterThan(0);
    const p = (await (
      await server().api('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', name: [{ text: '审计二' }] }) })
    ).json()) as Resource;
    const byEntity = (await (await server().api(`/fhir/AuditEvent?entity=Patient/${p.id}`)).json()) as Bundle;
    expect(byEntity.entry!.map((e) => (e.resource as { action: string }).action)).toContain('C');
  });
});
