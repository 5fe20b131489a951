/**
 * The resident portal through a running server, on both stores: sign-in by ID number + phone
 * with a code sent through a fake SMS gateway (same answer for an unknown person, lockout after
 * 5 wrong codes), whose record a resident may open (own yes, another's 403, a ward's yes, an
 * adult refused as a ward), home readings as Observations the family doctor reads, "who read my
 * record" showing a doctor's read with its purpose, consents, weekly reminders (one per week,
 * opt-out respected) and an online contract signed by the resident and accepted by the team.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Contract, EpisodeOfCare, Observation, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore, type TestServer } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { makeIdNumber } from '../shared/id-number.js';
import { RESIDENT_ID_SYSTEM, VACCINE_SYSTEM } from '../shared/uris.js';
import type {
  AccessLog,
  ConsentAnswer,
  ContractRequestView,
  Me,
  MyContracts,
  RecordAnswer,
  ReminderRun,
  ScheduleAnswer,
  TeamRequestList,
} from './schemas.js';

// ---- a fake SMS gateway: every message it accepts, by phone ----------------------------------
const received: { to: string; text: string; reference: string }[] = [];
let gatewayFails = false;
const gateway = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    if (gatewayFails) {
      res.writeHead(503).end('busy');
      return;
    }
    received.push(JSON.parse(body) as { to: string; text: string; reference: string });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `gw-${received.length}` }));
  });
});
await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
process.env.YIFANG_SMS_GATEWAY_URL = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/sms`;
afterAll(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function codeSentTo(phone: string, after: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = received
      .slice(after)
      .reverse()
      .find((x) => x.to === phone && /验证码/.test(x.text));
    if (m) return /(\d{6})/.exec(m.text)![1]!;
    await sleep(100);
  }
  throw new Error(`no code reached ${phone}`);
}

const today = todayInChina();
const years = (n: number) => `${Number(today.slice(0, 4)) - n}${today.slice(4, 10)}`;
const ID = {
  a: makeIdNumber('330102', '1990-05-01', 11),
  b: makeIdNumber('330102', '1985-07-02', 21),
  child: makeIdNumber('330102', addDays(years(4), -10), 31),
  adult: makeIdNumber('330102', '2000-01-03', 41),
  e: makeIdNumber('330102', '1970-02-04', 51),
  f: makeIdNumber('330102', '1962-06-08', 71),
  unknown: makeIdNumber('330102', '1980-03-05', 61),
};
const PHONE = { a: '13800000001', b: '13800000002', e: '13800000005', f: '13800000006', unknown: '13800000009' };

const patient = (id: string, idNumber: string, name: string, birthDate: string, phone?: string, contactPhone?: string): Resource =>
  ({
    resourceType: 'Patient',
    id,
    identifier: [{ system: RESIDENT_ID_SYSTEM, value: idNumber }],
    name: [{ text: name }],
    birthDate,
    gender: 'female',
    ...(phone ? { telecom: [{ system: 'phone', value: phone }] } : {}),
    ...(contactPhone ? { contact: [{ name: { text: '母亲' }, telecom: [{ system: 'phone', value: contactPhone }] }] } : {}),
    managingOrganization: { reference: 'Organization/org-a' },
  }) as Resource;

describeEachStore('resident portal', (server) => {
  const tokens = new Map<string, string>();
  const as = (who: string, path: string, init: RequestInit & { purpose?: string } = {}) =>
    server().api(path, {
      ...init,
      headers: {
        authorization: `Bearer ${tokens.get(who)}`,
        'content-type': 'application/json',
        ...(init.purpose ? { 'x-purpose-of-use': init.purpose } : {}),
      },
    });
  const post = (path: string, body: unknown, who?: string) =>
    who
      ? as(who, path, { method: 'POST', body: JSON.stringify(body) })
      : fetch(`${server().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const put = (r: Resource) => server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });

  async function signIn(who: 'a' | 'b' | 'e' | 'f'): Promise<string> {
    const start = await post('/api/portal/login/start', { idNumber: ID[who], phone: PHONE[who] });
    expect(start.status).toBe(200);
    // A second code within a minute is not sent: the last one stays good.
    const code = await codeSentTo(PHONE[who], 0);
    const finish = await post('/api/portal/login/finish', { idNumber: ID[who], phone: PHONE[who], code });
    expect(finish.status).toBe(200);
    const token = ((await finish.json()) as { access_token: string }).access_token;
    tokens.set(who, token);
    return token;
  }

  beforeAll(async () => {
    const s: TestServer = server();
    // Each store's suite starts with an empty gateway (the same phones sign in on both).
    received.length = 0;
    expect((await put({ resourceType: 'Organization', id: 'org-a', name: '城东社区卫生服务中心' } as Resource)).status).toBeLessThan(300);
    expect(
      (
        await put({
          resourceType: 'CareTeam',
          id: 'team-a',
          status: 'active',
          name: '王医生团队',
          managingOrganization: [{ reference: 'Organization/org-a' }],
          participant: [{ member: { display: '王医生' } }],
        } as Resource)
      ).status,
    ).toBeLessThan(300);
    for (const p of [
      patient('pa', ID.a, '李梅', '1990-05-01', PHONE.a),
      patient('pb', ID.b, '张强', '1985-07-02', PHONE.b),
      patient('pc', ID.child, '李小宝', addDays(years(4), -10), undefined, PHONE.a),
      patient('pd', ID.adult, '李大宝', '2000-01-03', undefined, PHONE.a),
      patient('pe', ID.e, '赵芳', '1970-02-04', PHONE.e),
    ])
      expect((await put(p)).status).toBe(201);
    await put({
      resourceType: 'Immunization',
      id: 'imm-pc-1',
      status: 'completed',
      vaccineCode: { coding: [{ system: VACCINE_SYSTEM, code: 'HepB', display: '乙肝疫苗' }] },
      patient: { reference: 'Patient/pc' },
      occurrenceDateTime: addDays(years(4), -10),
      lotNumber: 'HB2022-01',
    } as Resource);
    await put({
      resourceType: 'Encounter',
      id: 'enc-pa-1',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ text: '全科门诊' }],
      subject: { reference: 'Patient/pa' },
      serviceProvider: { reference: 'Organization/org-a' },
      period: { start: `${addDays(today, -20)}T09:00:00+08:00` },
    } as Resource);
    await put({
      resourceType: 'Task',
      id: 'task-pe-1',
      status: 'requested',
      intent: 'plan',
      code: { coding: [{ code: 'health-check', display: '年度健康体检' }] },
      for: { reference: 'Patient/pe' },
      restriction: { period: { start: today, end: addDays(today, 30) } },
    } as Resource);
    await s.auth.addUser({
      username: 'fd-a',
      password: 'portal-test-password-1',
      roles: ['family-doctor'],
      organization: 'org-a',
      displayName: '王医生',
    });
    const login = await fetch(`${s.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'fd-a', password: 'portal-test-password-1' }),
    });
    tokens.set('fd-a', ((await login.json()) as { access_token: string }).access_token);
  });

  it('signs a resident in with a code sent through the SMS gateway, and keeps no code in clear once sent', async () => {
    await signIn('a');
    const m = received.find((x) => x.to === PHONE.a)!;
    expect(m.reference).toMatch(/^\d+$/);
    const me = (await (await as('a', '/api/portal/me')).json()) as Me;
    expect(me.self).toMatchObject({ residentId: 'pa', name: '李梅' });
    const rows = await server().db.query<{ body: string; status: string; provider_ref: string }>(
      `SELECT body, status, provider_ref FROM portal_outbox WHERE kind = 'login-code' AND phone = $1`,
      [PHONE.a],
    );
    expect(rows.rows[0]).toMatchObject({ status: 'sent' });
    expect(rows.rows[0]!.provider_ref).toMatch(/^gw-/);
    expect(rows.rows[0]!.body).not.toMatch(/\d{6}/);
    // The resident's token opens no staff route and no FHIR.
    expect((await as('a', '/fhir/Patient/pa')).status).toBe(403);
    expect((await as('a', '/api/residents/pa/record')).status).toBe(403);
  });

  it('answers an unknown ID number and phone exactly as a known one, and sends nothing', async () => {
    const mark = received.length;
    const known = await post('/api/portal/login/start', { idNumber: ID.e, phone: PHONE.e });
    const unknown = await post('/api/portal/login/start', { idNumber: ID.unknown, phone: PHONE.unknown });
    const wrongPhone = await post('/api/portal/login/start', { idNumber: ID.b, phone: PHONE.unknown });
    expect(unknown.status).toBe(known.status);
    const [k, u, w] = [await known.text(), await unknown.text(), await wrongPhone.text()];
    expect(u).toBe(k);
    expect(w).toBe(k);
    await codeSentTo(PHONE.e, mark);
    await sleep(300);
    expect(received.slice(mark).filter((x) => x.to === PHONE.unknown)).toEqual([]);
    // Finishing: the same refusal as a wrong code for a known person.
    const f1 = await post('/api/portal/login/finish', { idNumber: ID.unknown, phone: PHONE.unknown, code: '123456' });
    expect(f1.status).toBe(401);
    expect(await f1.text()).toMatch(/还可再试 4 次/);
    // A malformed ID number is a 400 naming the field (it says nothing about who is registered).
    const bad = await post('/api/portal/login/start', { idNumber: `${ID.a.slice(0, 17)}${ID.a[17] === '0' ? '1' : '0'}`, phone: PHONE.a });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/校验码/);
  });

  it('locks the ID number for 15 minutes after 5 wrong codes, even for the right code then', async () => {
    const mark = received.length;
    await post('/api/portal/login/start', { idNumber: ID.b, phone: PHONE.b });
    const code = await codeSentTo(PHONE.b, mark);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) {
      const r = await post('/api/portal/login/finish', { idNumber: ID.b, phone: PHONE.b, code: wrong });
      expect(r.status).toBe(401);
      expect(await r.text()).toContain(`还可再试 ${5 - i} 次`);
    }
    const fifth = await post('/api/portal/login/finish', { idNumber: ID.b, phone: PHONE.b, code: wrong });
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await fifth.text()).toMatch(/15 分钟|15 min/);
    const right = await post('/api/portal/login/finish', { idNumber: ID.b, phone: PHONE.b, code });
    expect(right.status).toBe(429);
    expect((await post('/api/portal/login/start', { idNumber: ID.b, phone: PHONE.b })).status).toBe(429);
  });

  it("refuses another resident's record (403) but lets a guardian read a ward's; a ward must be under 18", async () => {
    expect((await as('a', '/api/portal/me/record?for=pb')).status).toBe(403);
    expect((await as('a', '/api/portal/me/record?for=pc')).status).toBe(403);
    const adult = await post('/api/portal/me/wards', { childIdNumber: ID.adult }, 'a');
    expect(adult.status).toBe(422);
    expect(await adult.text()).toMatch(/未满18周岁/);
    const linked = await post('/api/portal/me/wards', { childIdNumber: ID.child, relationship: 'parent' }, 'a');
    expect(linked.status).toBe(200);
    expect(((await linked.json()) as Me).wards).toEqual([expect.objectContaining({ residentId: 'pc', relationship: 'parent' })]);
    const rec = await as('a', '/api/portal/me/record?for=pc');
    expect(rec.status).toBe(200);
    const body = (await rec.json()) as RecordAnswer;
    expect(body.person.residentId).toBe('pc');
    expect(body.items).toEqual([expect.objectContaining({ kind: 'immunization', title: expect.stringContaining('乙肝疫苗') })]);
    const schedule = (await (await as('a', '/api/portal/me/schedule?for=pc')).json()) as ScheduleAnswer;
    expect(schedule.given).toEqual([expect.objectContaining({ vaccine: 'HepB' })]);
    expect(schedule.due.some((d) => d.status === 'overdue' || d.status === 'due')).toBe(true);
    const own = (await (await as('a', '/api/portal/me/record')).json()) as RecordAnswer;
    expect(own.items[0]).toMatchObject({ kind: 'visit', place: '城东社区卫生服务中心' });
    // A refusal is in the audit trail.
    await server().audit.flush();
    const denied = await server().db.query<{ why: string }>(
      `SELECT h.content->>'outcomeDesc' AS why FROM r_auditevent a
         JOIN resource_history h ON h.resource_type = 'AuditEvent' AND h.id = a.id AND h.version_id = a.version_id
        WHERE a.p_subtype && ARRAY['access-denied']::text[] AND a.p_patient && ARRAY['Patient/pb']::text[]`,
    );
    expect(denied.rows.length).toBeGreaterThan(0);
    // Decided by the access policy (scope self), which gives its reason.
    expect(denied.rows[0]!.why).toMatch(/scope self/);
  });

  it('stores home readings as Observations performed by the resident, which the family doctor reads', async () => {
    const bad = await post('/api/portal/me/readings', { kind: 'blood-pressure', systolic: 120 }, 'a');
    expect(bad.status).toBe(400);
    const r = await post('/api/portal/me/readings', { kind: 'blood-pressure', systolic: 150, diastolic: 95, place: 'kiosk' }, 'a');
    expect(r.status).toBe(201);
    const { observationId, text } = (await r.json()) as { observationId: string; text: string };
    expect(text).toMatch(/150\/95/);
    const g = await post('/api/portal/me/readings', { kind: 'glucose', glucose: 7.2, fasting: true }, 'a');
    expect(g.status).toBe(201);
    expect((await post('/api/portal/me/readings', { for: 'pb', kind: 'glucose', glucose: 5 }, 'a')).status).toBe(403);
    const doctor = await as('fd-a', `/fhir/Observation/${observationId}`, { purpose: 'CAREMGT' });
    expect(doctor.status).toBe(200);
    const obs = (await doctor.json()) as Observation;
    expect(obs.performer?.[0]?.reference).toBe('Patient/pa');
    expect(obs.subject?.reference).toBe('Patient/pa');
    expect(obs.code.coding?.[0]?.code).toBe('85354-9');
    const own = (await (await as('a', '/api/portal/me/record?kind=home-reading')).json()) as RecordAnswer;
    expect(own.items.map((i) => i.kind)).toEqual(['home-reading', 'home-reading']);
  });

  it("shows who read the record and why: a family doctor's read with its purpose, role and organisation", async () => {
    expect((await as('fd-a', '/fhir/Patient/pa', { purpose: 'CAREMGT' })).status).toBe(200);
    const log = await as('a', '/api/portal/me/access-log?_count=50');
    expect(log.status).toBe(200);
    const body = (await log.json()) as AccessLog;
    expect(body.total).toBeGreaterThan(0);
    const read = body.rows.find((r) => r.who === '王医生' && r.purposeCode === 'CAREMGT');
    expect(read).toMatchObject({ roles: ['family-doctor'], organization: '城东社区卫生服务中心' });
    // The resident's own reads are not listed as someone else's.
    expect(body.rows.every((r) => !r.roles.includes('resident'))).toBe(true);
  });

  it('keeps consent choices as a FHIR Consent', async () => {
    const before = (await (await as('a', '/api/portal/me/consents')).json()) as ConsentAnswer;
    expect(before.consentId).toBeNull();
    const put1 = await as('a', '/api/portal/me/consents', {
      method: 'PUT',
      body: JSON.stringify({
        choices: [
          { choice: 'share-for-research', allow: true },
          { choice: 'share-with-hospitals', allow: false },
        ],
      }),
    });
    expect(put1.status).toBe(200);
    const after = (await put1.json()) as ConsentAnswer;
    expect(after.choices.find((c) => c.choice === 'share-for-research')!.allow).toBe(true);
    expect(after.choices.find((c) => c.choice === 'share-with-hospitals')!.allow).toBe(false);
    const stored = (await (await server().api(`/fhir/Consent/${after.consentId}`)).json()) as { patient: { reference: string } };
    expect(stored.patient.reference).toBe('Patient/pa');
  });

  it("enforces withdrawn choices: a hospital's reads of the shared record and the family doctor's view of home readings, until restored", async () => {
    const s = server();
    expect((await put({ resourceType: 'Organization', id: 'org-h', name: '区人民医院' } as Resource)).status).toBeLessThan(300);
    // The hospital treated the resident once (its own record), so the care scope lets its clinicians read.
    await put({
      resourceType: 'Encounter',
      id: 'enc-pa-h',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
      subject: { reference: 'Patient/pa' },
      serviceProvider: { reference: 'Organization/org-h' },
      period: { start: `${addDays(today, -5)}T10:00:00+08:00` },
    } as Resource);
    await s.auth.addUser({
      username: 'doc-h',
      password: 'portal-test-password-2',
      roles: ['clinician'],
      organization: 'org-h',
      displayName: '急诊医生',
    });
    const login = await fetch(`${s.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'doc-h', password: 'portal-test-password-2' }),
    });
    tokens.set('doc-h', ((await login.json()) as { access_token: string }).access_token);
    const visit = (id: string, subject: string, org: string): Resource =>
      ({
        resourceType: 'Encounter',
        id,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${subject}` },
        serviceProvider: { reference: `Organization/${org}` },
        period: { start: `${addDays(today, -3)}T10:00:00+08:00` },
      }) as Resource;
    const choose = async (choices: { choice: string; allow: boolean }[]) => {
      const r = await as('a', '/api/portal/me/consents', { method: 'PUT', body: JSON.stringify({ choices }) });
      expect(r.status).toBe(200);
      return (await r.json()) as ConsentAnswer;
    };
    const reading = await post('/api/portal/me/readings', { kind: 'blood-pressure', systolic: 132, diastolic: 84 }, 'a');
    const { observationId } = (await reading.json()) as { observationId: string };
    const encounterIds = async (who: string, purpose?: string) => {
      const r = await as(who, '/fhir/Encounter?patient=Patient/pa', purpose ? { purpose } : {});
      expect(r.status).toBe(200);
      const b = (await r.json()) as { entry?: { resource: Resource }[] };
      return (b.entry ?? [])
        .map((e) => e.resource)
        .filter((x) => x.resourceType === 'Encounter')
        .map((x) => x.id)
        .sort();
    };

    // Shared: the hospital reads the centre's visit; the family doctor the home reading.
    await choose([
      { choice: 'share-with-hospitals', allow: true },
      { choice: 'share-with-family-doctor', allow: true },
    ]);
    expect((await as('doc-h', '/fhir/Encounter/enc-pa-1')).status).toBe(200);
    expect(await encounterIds('doc-h')).toEqual(['enc-pa-1', 'enc-pa-h']);
    expect((await as('fd-a', `/fhir/Observation/${observationId}`)).status).toBe(200);

    // Withdrawn: at once (no wait for a cache), records another organisation made are refused to the hospital.
    const withdrawn = await choose([
      { choice: 'share-with-hospitals', allow: false },
      { choice: 'share-with-family-doctor', allow: false },
    ]);
    expect(withdrawn.choices.filter((c) => !c.allow).map((c) => c.choice)).toEqual(
      expect.arrayContaining(['share-with-hospitals', 'share-with-family-doctor']),
    );
    const refused = await as('doc-h', '/fhir/Encounter/enc-pa-1');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/share-with-hospitals/);
    // Its own visit, and the resident's demographics, stay readable; a search withholds the rest.
    expect((await as('doc-h', '/fhir/Encounter/enc-pa-h')).status).toBe(200);
    expect((await as('doc-h', '/fhir/Patient/pa')).status).toBe(200);
    expect(await encounterIds('doc-h')).toEqual(['enc-pa-h']);
    // The family doctor no longer sees the home reading (the centre's own visit stays).
    expect((await as('fd-a', `/fhir/Observation/${observationId}`)).status).toBe(403);
    expect((await as('fd-a', '/fhir/Encounter/enc-pa-1')).status).toBe(200);
    // The choice covers every record of the same person (the Person's links): the hospital's own
    // Patient record of the resident, with a visit at yet another hospital on it.
    expect(
      (
        await put({
          resourceType: 'Patient',
          id: 'pa-h',
          name: [{ text: '李梅' }],
          birthDate: '1990-05-01',
          managingOrganization: { reference: 'Organization/org-h' },
        } as Resource)
      ).status,
    ).toBeLessThan(300);
    await put({
      resourceType: 'Person',
      id: 'person-pa',
      link: [{ target: { reference: 'Patient/pa' } }, { target: { reference: 'Patient/pa-h' } }],
    } as Resource);
    await put({ ...visit('enc-pah-x', 'pa-h', 'org-x') } as Resource);
    await put({ ...visit('enc-pah-h', 'pa-h', 'org-h') } as Resource);
    expect((await as('doc-h', '/fhir/Encounter/enc-pah-x')).status).toBe(403);
    expect((await as('doc-h', '/fhir/Encounter/enc-pah-h')).status).toBe(200);
    // Emergency care overrides the choice, and says so in the audit trail.
    expect((await as('doc-h', '/fhir/Encounter/enc-pa-1', { purpose: 'ETREAT' })).status).toBe(200);

    await s.audit.flush();
    const events = await s.db.query<{ subtype: string[]; why: string | null }>(
      `SELECT a.p_subtype AS subtype, h.content->>'outcomeDesc' AS why
         FROM r_auditevent a JOIN resource_history h ON h.resource_type = 'AuditEvent' AND h.id = a.id AND h.version_id = a.version_id
        WHERE a.p_patient && ARRAY['Patient/pa']::text[] AND a.p_subtype && ARRAY['access-denied', 'consent-override']::text[]`,
    );
    const denials = events.rows.filter((e) => e.subtype.includes('access-denied') && /consent-/.test(e.why ?? ''));
    expect(denials.some((e) => /consent-hospitals-withdrawn/.test(e.why!) && /share-with-hospitals/.test(e.why!))).toBe(true);
    expect(denials.some((e) => /consent-family-doctor-withdrawn/.test(e.why!))).toBe(true);
    // The search's withheld visit is recorded with the reason too.
    expect(denials.some((e) => /record\(s\) withheld/.test(e.why!))).toBe(true);
    expect(events.rows.some((e) => e.subtype.includes('consent-override') && /ETREAT/.test(e.why ?? ''))).toBe(true);
    // The resident sees the refusal and the emergency read in "who read my record".
    const log = (await (await as('a', '/api/portal/me/access-log?_count=100')).json()) as AccessLog;
    expect(log.rows.some((r) => r.who === '急诊医生' && /紧急情况下调阅/.test(r.what))).toBe(true);
    expect(log.rows.some((r) => r.who === '急诊医生' && r.purposeCode === 'ETREAT')).toBe(true);

    // Restored: allowed again at once.
    await choose([
      { choice: 'share-with-hospitals', allow: true },
      { choice: 'share-with-family-doctor', allow: true },
    ]);
    expect((await as('doc-h', '/fhir/Encounter/enc-pa-1')).status).toBe(200);
    expect(await encounterIds('doc-h')).toEqual(['enc-pa-1', 'enc-pa-h']);
    expect((await as('fd-a', `/fhir/Observation/${observationId}`)).status).toBe(200);
    expect((await as('doc-h', '/fhir/Encounter/enc-pah-x')).status).toBe(200);
  });

  it('sends one reminder per resident per week and respects the opt-out', async () => {
    await signIn('e');
    expect(
      (
        await as('e', '/api/portal/me/preferences', {
          method: 'PUT',
          body: JSON.stringify({ smsReminders: false, noticeReminders: false }),
        })
      ).status,
    ).toBe(200);
    const mark = received.length;
    const run1 = (await (await server().api('/api/portal/reminders/run', { method: 'POST' })).json()) as ReminderRun;
    expect(run1.residents).toBe(1);
    expect(run1.skippedOptOut).toBe(1);
    const run2 = (await (await server().api('/api/portal/reminders/run', { method: 'POST' })).json()) as ReminderRun;
    expect(run2).toMatchObject({ residents: 0, messages: 0 });
    for (let i = 0; i < 50 && !received.slice(mark).some((x) => x.to === PHONE.a); i++) await sleep(100);
    const sms = received.slice(mark).filter((x) => /待办/.test(x.text));
    expect(sms.map((x) => x.to)).toEqual([PHONE.a]);
    expect(sms[0]!.text).toMatch(/李小宝/);
    const e = await server().db.query(
      `SELECT 1 FROM portal_outbox o JOIN portal_account a USING (username) WHERE 'pe' = ANY(a.patient_ids) AND o.kind = 'reminder'`,
    );
    expect(e.rows).toEqual([]);
    const notices = (await (await as('a', '/api/portal/me/notices')).json()) as { total: number; rows: { id: string; read: boolean }[] };
    expect(notices.total).toBe(1);
    expect((await post(`/api/portal/me/notices/${notices.rows[0]!.id}/read`, {}, 'a')).status).toBe(200);
    // A gateway that fails: the message stays queued and is retried.
    gatewayFails = true;
    await server().db.query(`DELETE FROM portal_reminder`);
    await server().api('/api/portal/reminders/run', { method: 'POST' });
    await sleep(500);
    const queued = await server().db.query<{ attempts: number; last_error: string }>(
      `SELECT attempts, last_error FROM portal_outbox WHERE kind = 'reminder' AND channel = 'sms' AND status = 'queued'`,
    );
    gatewayFails = false;
    expect(queued.rows[0]?.attempts).toBe(1);
    expect(queued.rows[0]?.last_error).toMatch(/503/);
  });

  it('signs a contract online and the team accepts it: EpisodeOfCare, Contract executed, package services as Tasks', async () => {
    const teams = (await (await as('a', '/api/portal/teams')).json()) as { teams: { teamId: string }[]; packages: { code: string }[] };
    expect(teams.teams.map((t) => t.teamId)).toContain('team-a');
    const noAgree = await post('/api/portal/me/contracts', { kind: 'sign', teamId: 'team-a', package: 'chronic' }, 'a');
    expect(noAgree.status).toBe(400);
    const renew = await post('/api/portal/me/contracts', { kind: 'renew', teamId: 'team-a', package: 'chronic', agree: true }, 'a');
    expect(renew.status).toBe(409);
    const signed = await post('/api/portal/me/contracts', { kind: 'sign', teamId: 'team-a', package: 'chronic', agree: true }, 'a');
    expect(signed.status).toBe(201);
    const req = (await signed.json()) as ContractRequestView;
    expect(req).toMatchObject({ status: 'pending', signatureMethod: 'portal-sms-otp' });
    const contract = (await (await server().api(`/fhir/Contract/${req.contractId}`)).json()) as Contract;
    expect(contract.status).toBe('offered');
    expect(contract.signer?.[0]?.signature?.[0]?.when).toBeTruthy();
    expect(contract.signer?.[0]?.party.reference).toBe('Patient/pa');
    // The resident cannot decide; the team sees the request and accepts.
    expect((await post(`/api/portal/contract-requests/${req.requestId}/decision`, { accept: true }, 'a')).status).toBe(403);
    const list = (await (await as('fd-a', '/api/portal/contract-requests')).json()) as TeamRequestList;
    expect(list.rows.map((r) => r.patientId)).toContain('pa');
    const declineNoReason = await post(`/api/portal/contract-requests/${req.requestId}/decision`, { accept: false }, 'fd-a');
    expect(declineNoReason.status).toBe(400);
    const accepted = await post(`/api/portal/contract-requests/${req.requestId}/decision`, { accept: true }, 'fd-a');
    expect(accepted.status).toBe(200);
    const done = (await accepted.json()) as ContractRequestView;
    expect(done.status).toBe('accepted');
    expect(done.tasks).toBe(5);
    const ep = (await (await server().api(`/fhir/EpisodeOfCare/${done.episodeId}`)).json()) as EpisodeOfCare;
    expect(ep).toMatchObject({ status: 'active', patient: { reference: 'Patient/pa' }, team: [{ reference: 'CareTeam/team-a' }] });
    expect(((await (await server().api(`/fhir/Contract/${req.contractId}`)).json()) as Contract).status).toBe('executed');
    const tasks = (await (await server().api(`/fhir/Task?patient=Patient/pa&_count=20`)).json()) as { entry?: { resource: Task }[] };
    expect((tasks.entry ?? []).filter((e) => e.resource.basedOn?.[0]?.reference === `Contract/${req.contractId}`)).toHaveLength(5);
    const mine = (await (await as('a', '/api/portal/me/contracts')).json()) as MyContracts;
    expect(mine.current).toEqual([expect.objectContaining({ teamId: 'team-a', package: 'chronic' })]);
    expect((await post(`/api/portal/contract-requests/${req.requestId}/decision`, { accept: true }, 'fd-a')).status).toBe(409);
    // Primary care's change-log processor lists the contract like one made at the desk.
    let listed = false;
    for (let i = 0; i < 100 && !listed; i++) {
      await server().processors.drain();
      const r = await server().db.query(`SELECT 1 FROM care_contract WHERE episode_id = $1 AND status = 'active'`, [done.episodeId]);
      listed = r.rows.length > 0;
      if (!listed) await sleep(100);
    }
    expect(listed).toBe(true);
  });
  it('reminds a resident with hypertension of the follow-up due, and shows it in the schedule', async () => {
    expect((await put(patient('pf', ID.f, '钱伟', '1962-06-08', PHONE.f))).status).toBe(201);
    await put({
      resourceType: 'Condition',
      id: 'c-pf-htn',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] },
      subject: { reference: 'Patient/pf' },
      onsetDateTime: `${years(3)}`,
    } as Resource);
    await server().processors.drain();
    // A visit 20 days ago with an uncontrolled reading: the next follow-up was due within 2 weeks (overdue now).
    const visit = await server().api('/api/chronic/follow-ups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: 'pf', date: addDays(today, -20), mode: 'face-to-face', readings: { sbp: 152, dbp: 92 } }),
    });
    expect(visit.status).toBe(201);
    await server().processors.drain();
    await signIn('f');
    const schedule = (await (await as('f', '/api/portal/me/schedule')).json()) as ScheduleAnswer;
    expect(schedule.services).toContainEqual(
      expect.objectContaining({ key: 'follow-up:htn', kind: 'follow-up', title: '高血压随访', dueDate: addDays(today, -6), overdue: true }),
    );
    // Only services for the resident (with the programmes' items, such as the screenings due from 40): no report cards, suspected cases or education items.
    expect(schedule.services.every((x) => ['follow-up', 'bp-screening', 'referral-return', 'programme'].includes(x.kind))).toBe(true);
    const mark = received.length;
    const run = (await (await server().api('/api/portal/reminders/run', { method: 'POST' })).json()) as ReminderRun;
    expect(run.residents).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 50 && !received.slice(mark).some((x) => x.to === PHONE.f && /待办/.test(x.text)); i++) await sleep(100);
    const sms = received.slice(mark).find((x) => x.to === PHONE.f && /待办/.test(x.text));
    expect(sms?.text).toMatch(/高血压随访\(已逾期\)/);
    const notices = (await (await as('f', '/api/portal/me/notices')).json()) as { rows: { body: string }[] };
    expect(notices.rows[0]?.body).toMatch(/高血压随访/);
    const items = await server().db.query<{ items: unknown }>(
      `SELECT r.items FROM portal_reminder r JOIN portal_account a USING (username) WHERE 'pf' = ANY(a.patient_ids)`,
    );
    expect(JSON.stringify(items.rows[0]?.items)).toContain('pf:follow-up:htn');
  });

  it('refuses more than 20 code requests from one address in 15 minutes, whoever they are for', async () => {
    let status = 200;
    for (let i = 0; i < 25 && status === 200; i++)
      status = (
        await post('/api/portal/login/start', {
          idNumber: makeIdNumber('330102', '1981-01-01', 100 + i),
          phone: `1390000${String(1000 + i)}`,
        })
      ).status;
    expect(status).toBe(429);
  });
});
