import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { DATA_QUALITY_EXTENSION } from '../shared/data-quality.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { facilityOf, marksOf } from './marks.js';
import type { FacilityQualityList, IssueList, RecordList } from './schemas.js';

const GOOD = makeIdNumber('330102', '1966-09-14', 57);
const BAD = `${GOOD.slice(0, 17)}${GOOD[17] === '0' ? '1' : '0'}`;
const mark = (text: string) => ({ url: DATA_QUALITY_EXTENSION, valueString: text });

const patient = (org: string, idNumber: string, birthDate = '1966-09-14', name = '赵大海'): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber }],
  name: [{ text: name }],
  birthDate,
  managingOrganization: { reference: `Organization/${org}` },
});

describe('reading marks', () => {
  it('finds each marked field once, without list positions, and the facility', () => {
    const p = {
      resourceType: 'Patient',
      identifier: [
        { system: 'https://yifang.health/fhir/sid/mrn/H%C3%A9P', value: '1' },
        { value: 'x', extension: [mark('a'), mark('a')] },
        { value: 'y', extension: [mark('b'), { url: 'https://example.org/other', valueString: 'no' }] },
      ],
      birthDate: '1990-01-01',
      _birthDate: { extension: [mark('c')] },
    } as Patient;
    expect(marksOf(p)).toEqual([
      { field: 'Patient.birthDate', problem: 'c' },
      { field: 'Patient.identifier', problem: 'a' },
      { field: 'Patient.identifier', problem: 'b' },
    ]);
    expect(facilityOf(p)).toBe('HéP');
    expect(facilityOf({ ...p, managingOrganization: { reference: 'Organization/org-1' } })).toBe('org-1');
    expect(facilityOf({ resourceType: 'Patient' })).toBe('');
    expect(marksOf({ resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: GOOD }] })).toEqual([]);
  });
});

describeEachStore('data-quality queue', (server) => {
  const api = (path: string, init?: RequestInit) => server().api(path, init);
  const issues = async (query: string) => (await (await api(`/api/data-quality/issues?${query}`)).json()) as IssueList;
  const facilities = async (query = '') => (await (await api(`/api/data-quality/facilities${query}`)).json()) as FacilityQualityList;

  it('stores a Patient with a bad ID number (201, marked), queues it, and resolves it when a later version is corrected', async () => {
    const created = await api('/fhir/Patient', { method: 'POST', body: JSON.stringify(patient('org-dq1', BAD)) });
    expect(created.status).toBe(201);
    const stored = (await created.json()) as Patient;
    expect(stored.identifier![0]!.value).toBe(BAD);
    expect(stored.identifier![0]!.extension).toEqual([mark(expect.stringMatching(/校验码错误.*check character/) as unknown as string)]);
    const read = (await (await api(`/fhir/Patient/${stored.id}`)).json()) as Patient;
    expect(read.identifier![0]!.extension?.[0]?.url).toBe(DATA_QUALITY_EXTENSION);
    await server().processors.drain();

    const open = await issues('facility=org-dq1');
    expect(open.total).toBe(1);
    expect(open.issues[0]).toMatchObject({
      patientId: stored.id,
      resource: `Patient/${stored.id}`,
      field: 'Patient.identifier',
      problem: expect.stringMatching(/校验码错误/),
      status: 'open',
      facility: 'org-dq1',
      openedVersion: 1,
      resolvedVersion: null,
    });
    expect((await facilities('?facility=org-dq1')).facilities).toMatchObject([
      { facility: 'org-dq1', type: 'Patient', records: 1, recordsWithOpenIssue: 1, openIssues: 1, validityRate: 0 },
    ]);

    // The hospital corrects the number (sending back the stale mark, as a client that read it would).
    const fixed = { ...read, identifier: [{ ...read.identifier![0]!, value: GOOD }] };
    const put = await api(`/fhir/Patient/${stored.id}`, { method: 'PUT', body: JSON.stringify(fixed) });
    expect(put.status).toBe(200);
    expect(((await put.json()) as Patient).identifier![0]).toEqual({ system: RESIDENT_ID_SYSTEM, value: GOOD });
    await server().processors.drain();
    expect((await issues('facility=org-dq1')).total).toBe(0);
    const resolved = await issues('facility=org-dq1&status=resolved');
    expect(resolved.issues.map((i) => [i.patientId, i.status, i.openedVersion, i.resolvedVersion])).toEqual([
      [stored.id, 'resolved', 1, 2],
    ]);
    expect(resolved.issues[0]!.resolvedAt).toEqual(expect.any(String));
    expect((await facilities('?facility=org-dq1')).facilities[0]).toMatchObject({ records: 1, recordsWithOpenIssue: 0, validityRate: 1 });

    // A later version that brings the mark back reopens the same issue.
    await api(`/fhir/Patient/${stored.id}`, { method: 'PUT', body: JSON.stringify({ ...fixed, identifier: read.identifier }) });
    await server().processors.drain();
    const again = await issues('facility=org-dq1&status=all');
    expect(again.issues.map((i) => [i.id, i.status, i.openedVersion, i.resolvedVersion])).toEqual([
      [resolved.issues[0]!.id, 'open', 3, null],
    ]);
  });

  it("answers a write of a marked value with a warning: in a batch entry's outcome, and as the OperationOutcome a client prefers", async () => {
    const batch = await api('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: { ...patient('org-dq3', BAD), id: 'dq-batch-1' }, request: { method: 'PUT', url: 'Patient/dq-batch-1' } },
          { resource: { ...patient('org-dq3', GOOD), id: 'dq-batch-2' }, request: { method: 'PUT', url: 'Patient/dq-batch-2' } },
        ],
      }),
    });
    const entries = (
      (await batch.json()) as {
        entry: { response: { status: string; outcome?: { issue: { severity: string; expression: string[]; diagnostics: string }[] } } }[];
      }
    ).entry;
    expect(entries.map((e) => e.response.status)).toEqual(['201 Created', '201 Created']);
    expect(entries[0]!.response.outcome?.issue[0]).toMatchObject({ severity: 'warning', expression: ['Patient.identifier[0]'] });
    expect(entries[0]!.response.outcome?.issue[0]!.diagnostics).toMatch(/校验码错误/);
    expect(entries[1]!.response.outcome).toBeUndefined();
    const single = await api('/fhir/Patient', {
      method: 'POST',
      headers: { prefer: 'return=OperationOutcome' },
      body: JSON.stringify(patient('org-dq3', BAD)),
    });
    expect(single.status).toBe(201);
    expect(await single.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'value' }] });
    const minimal = await api('/fhir/Patient/dq-batch-2', {
      method: 'PUT',
      headers: { prefer: 'return=minimal' },
      body: JSON.stringify({ ...patient('org-dq3', GOOD), id: 'dq-batch-2' }),
    });
    expect(minimal.status).toBe(200);
    expect(await minimal.text()).toBe('');
    expect(minimal.headers.get('etag')).toBe('W/"2"');
  });

  it('keeps completeness, validity and timeliness per facility and type as records arrive, with the records behind each figure', async () => {
    const org = 'org-dq4';
    const put = (r: Record<string, unknown>) =>
      api(`/fhir/${r.resourceType as string}/${r.id as string}`, { method: 'PUT', body: JSON.stringify(r) });
    // Two residents: one complete, one without phone or address (incomplete), one with a bad ID (invalid).
    expect(
      (
        await put({
          ...patient(org, GOOD),
          id: 'dq4-a',
          gender: 'male',
          telecom: [{ system: 'phone', value: '13800000000' }],
          address: [{ text: '文一路1号' }],
        })
      ).status,
    ).toBe(201);
    expect((await put({ ...patient(org, BAD), id: 'dq4-b', gender: 'female' })).status).toBe(201);
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const visit = (id: string, start: string, provider = true) => ({
      resourceType: 'Encounter',
      id,
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/dq4-a' },
      period: { start },
      ...(provider ? { serviceProvider: { reference: `Organization/${org}` } } : {}),
    });
    expect((await put(visit('dq4-v1', hoursAgo(2)))).status).toBe(201);
    expect((await put(visit('dq4-v2', hoursAgo(72)))).status).toBe(201); // sent three days late
    expect((await put(visit('dq4-v3', hoursAgo(24 * 60)))).status).toBe(201); // a historical load, two months on
    await server().processors.drain();
    const rates = await facilities(`?facility=${org}`);
    expect(rates.facilities.find((f) => f.type === 'Patient')).toMatchObject({
      records: 2,
      recordsIncomplete: 1,
      completenessRate: 0.5,
      recordsWithOpenIssue: 1,
      validityRate: 0.5,
    });
    expect(rates.facilities.find((f) => f.type === 'Encounter')).toMatchObject({
      records: 3,
      recordsIncomplete: 0,
      recordsWithEventTime: 2,
      recordsLate: 1,
      recordsHistorical: 1,
      timelinessRate: 0.5,
    });
    const records = async (q: string) => {
      const res = await api(`/api/data-quality/records?facility=${org}&${q}`);
      const body = (await res.json()) as RecordList;
      expect(res.status, JSON.stringify(body)).toBe(200);
      return body;
    };
    const incomplete = await records('problem=incomplete');
    expect(incomplete.total).toBe(1);
    expect(incomplete.rows[0]).toMatchObject({ resource: 'Patient/dq4-b', patientId: 'dq4-b', missing: ['telecom (phone)', 'address'] });
    const late = await records('problem=late&type=Encounter');
    expect(late.rows.map((r) => r.resource)).toEqual(['Encounter/dq4-v2']);
    expect(late.rows[0]!.hoursLate).toBeGreaterThan(70);
    // The hospital completes the record: the counts move, nothing is counted twice.
    expect(
      (
        await put({
          ...patient(
            org,
            GOOD.replace(/.$/, (c) => c),
            '1966-09-14',
          ),
          id: 'dq4-b',
          gender: 'female',
          telecom: [{ system: 'phone', value: '13900000000' }],
          address: [{ text: '文二路2号' }],
        })
      ).status,
    ).toBe(200);
    await server().processors.drain();
    expect((await facilities(`?facility=${org}&type=Patient`)).facilities[0]).toMatchObject({
      records: 2,
      recordsIncomplete: 0,
      completenessRate: 1,
      recordsWithOpenIssue: 0,
    });
    expect((await records('problem=incomplete')).total).toBe(0);
  });

  it('flags a birth date that disagrees with a valid ID number, counts validity per facility and pages with the total', async () => {
    const ids: string[] = [];
    for (const body of [
      patient('org-dq2', GOOD, '1966-09-14', '钱一'), // clean
      patient('org-dq2', GOOD, '1966-09-15', '钱二'), // birth date disagrees
      patient('org-dq2', BAD, '1966-09-14', '钱三'), // bad ID number
      patient('org-dq2', '1234', '1966-09-14', '钱四'), // bad ID number
    ]) {
      const r = await api('/fhir/Patient', { method: 'POST', body: JSON.stringify(body) });
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as Patient).id!);
    }
    const second = (await (await api(`/fhir/Patient/${ids[1]}`)).json()) as Patient & { _birthDate?: { extension?: unknown[] } };
    expect(second.birthDate).toBe('1966-09-15');
    expect(second._birthDate?.extension).toEqual([mark(expect.stringMatching(/1966-09-15.*1966-09-14/) as unknown as string)]);
    await server().processors.drain();

    const all = await issues('facility=org-dq2');
    expect(all.total).toBe(3);
    expect(all.issues.map((i) => `${i.patientId}:${i.field}`).sort()).toEqual(
      [`${ids[1]}:Patient.birthDate`, `${ids[2]}:Patient.identifier`, `${ids[3]}:Patient.identifier`].sort(),
    );
    const page = await issues('facility=org-dq2&limit=2&offset=2');
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(page.issues).toHaveLength(1);
    expect((await facilities()).facilities.find((f) => f.facility === 'org-dq2')).toMatchObject({
      facility: 'org-dq2',
      records: 4,
      recordsWithOpenIssue: 3,
      openIssues: 3,
      validityRate: 0.25,
    });
    expect((await api('/api/data-quality/issues?status=nonsense')).status).toBe(400);

    // A deleted record leaves the counts; its issue is resolved by the deletion.
    expect((await api(`/fhir/Patient/${ids[3]}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect((await facilities('?facility=org-dq2')).facilities[0]).toMatchObject({ records: 3, recordsWithOpenIssue: 2 });
    expect((await issues('facility=org-dq2')).total).toBe(2);
  });

  it('keeps an HL7 v2 patient with a bad ID number: AA with an ERR W naming PID-3, stored with the mark, queued under its facility', async () => {
    const msg = [
      'MSH|^~\\&|HIS|HOSPDQ|YIFANG|339902|20260101095100+0800||ADT^A04^ADT_A01|DQHL7-1|P|2.5|||||CHN|UNICODE UTF-8',
      'EVN|A04|20260101095100+0800',
      `PID|1||DQ77^^^HOSPDQ^MR~${BAD}^^^CHN&1.2.156.112606.1.2.1&ISO^NNCHN||孙^七||19660914|M`,
      'PV1|1|O|general^^^HOSPDQ||||||||||||||||||VDQ77',
    ].join('\r');
    const res = await api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: msg });
    const ack = await res.text();
    expect(ack).toMatch(/\rMSA\|AA\|DQHL7-1\|/);
    const err = ack
      .split('\r')
      .find((s) => s.startsWith('ERR|'))
      ?.split('|');
    expect(err?.[2]).toBe('PID^1^3^2');
    expect(err?.[4]).toBe('W');
    expect(err?.[8]).toMatch(/failed validation/);

    const found = (await (
      await api(`/fhir/Patient?identifier=${encodeURIComponent('https://yifang.health/fhir/sid/mrn/HOSPDQ|DQ77')}`)
    ).json()) as { entry?: { resource: Patient }[] };
    const p = found.entry![0]!.resource;
    const marked = p.identifier!.find((i) => i.value === BAD)!;
    expect(marked.extension).toEqual([mark(expect.stringMatching(/校验码错误/) as unknown as string)]);
    await server().processors.drain();
    const q = await issues('facility=HOSPDQ');
    expect(q.issues.map((i) => [i.patientId, i.field, i.status])).toEqual([[p.id, 'Patient.identifier', 'open']]);
  });

  it('audits both routes', async () => {
    await issues('facility=org-dq1');
    await facilities();
    await server().audit.flush();
    const events = JSON.stringify(await (await api('/api/audit/events?_count=200')).json());
    expect(events).toContain('data-quality issues');
    expect(events).toContain('data-quality facilities');
  });
});
