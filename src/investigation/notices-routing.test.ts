/**
 * Issue #19, follow-up reaching people, on both stores: a missed daily check's escalation is a FHIR
 * Communication (category alert, about the day's Task) in the team's and the centre's inbox, and
 * text messages through the outbox's pluggable transport, retried when the gateway fails, dropped
 * once the notice is acknowledged (which completes the Communication); and the daily Tasks of a
 * contact without a family-doctor contract go to a team of the community health centre covering
 * their street (the registry's), in turn, while a contact living outside the district stays with
 * the investigation's owner with a hand-over (协查) note.
 */
import type { Bundle, Communication, Resource, Task } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SmsMessage, SmsTransport } from '../portal/index.js';
import { describeEachStore } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { followUpStep, inDistrict, streetOf } from './follow-up-job.js';
import { investigationRuntime, SYSTEM_USER, systemActor } from './module.js';
import { dispatchNotices, escalationCommunication, maskedName, noticeRows, phoneOf } from './notices.js';
import type { Contact, EscalationList, Investigation, Worklist } from './schemas.js';

const TODAY = todayInChina();
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const at = (day: string, time = '08:00:00') => `${day}T${time}+08:00`;
const DISTRICT = '339901000000';
const STREET = '339901001000';
const COMMUNITY = '339901001001';
const OTHER_STREET = '339901002000';

const patient = (id: string, name: string, area: string, managing?: string): Resource =>
  ({
    resourceType: 'Patient',
    id,
    name: [{ use: 'official', text: name }],
    gender: 'male',
    birthDate: '1985-05-05',
    address: [{ use: 'home', extension: [{ url: AREA, valueString: area }], line: ['某路 1 号'] }],
    ...(managing ? { managingOrganization: { reference: `Organization/${managing}` } } : {}),
  }) as Resource;

/** A transport that records what it was given, or fails with the gateway's words. */
class FakeTransport implements SmsTransport {
  readonly name = 'fake';
  readonly sent: SmsMessage[] = [];
  constructor(public failing = false) {}
  async send(m: SmsMessage): Promise<string | undefined> {
    if (this.failing) throw new Error('SMS gateway answered 503: busy');
    this.sent.push(m);
    return `gw-${this.sent.length}`;
  }
}

describe('notices and routing: pure parts', () => {
  it('reads streets from area codes and tells the district from outside', () => {
    expect(streetOf(COMMUNITY)).toBe(STREET);
    expect(streetOf('339901002')).toBe(OTHER_STREET);
    expect(streetOf('339901')).toBeNull();
    const areas = { codes: new Set([DISTRICT, STREET, COMMUNITY]), counties: new Set(['339901']) };
    expect(inDistrict(areas, '339901002003')).toBe(true);
    expect(inDistrict(areas, '440305001001')).toBe(false);
    expect(inDistrict({ codes: new Set(), counties: new Set() }, '440305001001')).toBeUndefined();
  });
  it('writes the notice as an alert Communication and a text message per phone, the name masked', () => {
    const facts = {
      escalationId: 9,
      contactId: 4,
      day: '2026-01-02',
      investigationId: 3,
      patientId: 'p1',
      contactName: '王小明',
      taskId: 'inv-visit-4-2026-01-02',
      diseaseName: '麻疹',
      recipients: [
        { kind: 'investigator' as const, ref: 'user:zhang', display: 'zhang' },
        { kind: 'team' as const, ref: 'CareTeam/t1', display: '一队' },
        { kind: 'cdc' as const, ref: 'role:epidemiologist', display: '疾控中心流调组' },
      ],
      teamOrganization: 'chc1',
      sent: '2026-01-04T00:00:00.000Z',
    };
    const c = escalationCommunication(facts);
    expect(c).toMatchObject({
      id: 'inv-escalation-9',
      status: 'in-progress',
      category: [{ coding: [{ code: 'alert' }] }],
      about: [{ reference: 'Task/inv-visit-4-2026-01-02' }],
      subject: { reference: 'Patient/p1' },
    });
    // Only FHIR references are addressed: the investigator (a user) and a role are not resources.
    expect(c.recipient!.map((r) => r.reference)).toEqual(['CareTeam/t1', 'Organization/chc1']);
    const rows = noticeRows(
      facts,
      new Map([['CareTeam/t1', { resourceType: 'CareTeam', telecom: [{ system: 'phone', value: '138-0000-0001' }] }]]),
    );
    expect(rows.map((r) => [r.channel, r.recipientKind, r.status])).toEqual([
      ['inbox', 'investigator', 'delivered'],
      ['inbox', 'team', 'delivered'],
      ['sms', 'team', 'queued'],
      ['inbox', 'cdc', 'delivered'],
      ['sms', 'cdc', 'discarded'],
    ]);
    const sms = rows.find((r) => r.status === 'queued')!;
    expect(sms.phone).toBe('13800000001');
    expect(sms.body).toContain('王**');
    expect(sms.body).not.toContain('王小明');
    expect(maskedName('李四')).toBe('李*');
    expect(phoneOf({ telecom: [{ system: 'email', value: 'a@b' }] })).toBeNull();
  });
});

describeEachStore('escalation notices reach people; tasks routed by address', (server) => {
  const put = async (r: Resource) => {
    const res = await server().api(`/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', body: JSON.stringify(r) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  const call = async <T>(method: string, p: string, body?: unknown, expected = 200): Promise<T> => {
    const res = await server().api(p, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    expect(res.status, `${method} ${p}: ${text}`).toBe(expected);
    return JSON.parse(text) as T;
  };
  const upload = async (csv: string, kind: string) => {
    const res = await server().api(`/api/registry/import?kind=${kind}`, {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
  };
  const runtime = () => investigationRuntime.get(server().db)!;
  const settle = async (now = new Date()) => {
    const actor = systemActor(runtime().audit, SYSTEM_USER, 'test');
    let escalated = 0;
    for (let i = 0; i < 4; i++) {
      escalated += (await followUpStep(runtime().deps, actor, now)).escalated;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    return escalated;
  };
  const visitsOf = async (contactId: number) =>
    (
      await server().db.query<{ team: string | null; assignee: string | null; note: string | null; task_id: string }>(
        'SELECT team, assignee, note, task_id FROM inv_visit WHERE contact_id = $1 ORDER BY day',
        [contactId],
      )
    ).rows;

  let inv: Investigation;
  const contacts: Record<string, Contact> = {};
  const failing = new FakeTransport(true);

  beforeAll(async () => {
    // The server's own dispatcher stays idle: the test hands the outbox to its transports itself.
    runtime().deps.transport = undefined;
    await upload(
      ['code,name', `${DISTRICT},望川区`, `${STREET},青石街道`, `${COMMUNITY},青石社区`, `${OTHER_STREET},白沙街道`].join('\n'),
      'areas',
    );
    await upload(['id,code,name,type,area', `nr-chc,NRC01,青石街道社区卫生服务中心,chc,${COMMUNITY}`].join('\n'), 'organizations');
    await put({ resourceType: 'Organization', id: 'nr-chc-old', name: '原管理机构' } as Resource);
    await put({
      resourceType: 'Practitioner',
      id: 'nr-doc1',
      name: [{ text: '周医生' }],
      telecom: [{ system: 'phone', use: 'mobile', value: '139 0000 0002' }],
    } as Resource);
    await put({ resourceType: 'Practitioner', id: 'nr-doc2', name: [{ text: '吴医生' }] } as Resource);
    await put({ resourceType: 'Practitioner', id: 'nr-nurse', name: [{ text: '郑护士' }] } as Resource);
    const team = (id: string, name: string, members: [string, string][], phone?: string): Resource =>
      ({
        resourceType: 'CareTeam',
        id,
        status: 'active',
        name,
        participant: members.map(([role, who]) => ({ role: [{ text: role }], member: { reference: `Practitioner/${who}` } })),
        managingOrganization: [{ reference: 'Organization/nr-chc' }],
        ...(phone ? { telecom: [{ system: 'sms', value: phone }] } : {}),
      }) as Resource;
    await put(
      team(
        'nr-team-1',
        '青石一队',
        [
          ['家庭医生', 'nr-doc1'],
          ['社区护士', 'nr-nurse'],
        ],
        '13800000001',
      ),
    );
    await put(team('nr-team-2', '青石二队', [['家庭医生', 'nr-doc2']]));
    await put(patient('nr-case', '林病例', COMMUNITY));
    await put(patient('nr-signed', '孙签约', COMMUNITY));
    await put(patient('nr-p1', '钱一', COMMUNITY, 'nr-chc-old'));
    await put(patient('nr-p2', '钱二', '339901001002'));
    await put(patient('nr-p3', '钱三', COMMUNITY));
    await put(patient('nr-away', '赵外地', '440305001001', 'nr-chc-old'));
    await put(patient('nr-nocentre', '冯白沙', '339901002001', 'nr-chc-old'));
    await put({
      resourceType: 'EpisodeOfCare',
      id: 'nr-contract',
      status: 'active',
      patient: { reference: 'Patient/nr-signed' },
      managingOrganization: { reference: 'Organization/nr-chc' },
      period: { start: addDays(TODAY, -100) },
      team: [{ reference: 'CareTeam/nr-team-2' }],
    } as Resource);
    await put({
      resourceType: 'Condition',
      id: 'nr-cond',
      subject: { reference: 'Patient/nr-case' },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9' }] },
      onsetDateTime: at(addDays(TODAY, -2)),
    } as Resource);
    await server().processors.drain();
    inv = await call<Investigation>('POST', '/api/investigations', { patientId: 'nr-case', diseaseCode: 'measles' }, 201);
    const exposure = { type: '共同进餐', firstDate: addDays(TODAY, -1), lastDate: addDays(TODAY, -1) };
    for (const id of ['nr-signed', 'nr-p1', 'nr-p2', 'nr-p3', 'nr-away', 'nr-nocentre'])
      contacts[id] = await call<Contact>('POST', `/api/investigations/${inv.id}/contacts`, { patientId: id, ...exposure }, 201);
    await settle();
  });

  it('sends contacts without a contract to the teams of the centre covering their street, in turn, one team each', async () => {
    // The contract wins.
    expect((await visitsOf(contacts['nr-signed']!.id)).map((v) => v.team)).toEqual(['CareTeam/nr-team-2', 'CareTeam/nr-team-2']);
    // Three contacts of the centre's street (one in another community of it, one managed elsewhere): its teams in turn.
    const teams = [];
    for (const id of ['nr-p1', 'nr-p2', 'nr-p3']) {
      const v = await visitsOf(contacts[id]!.id);
      expect(v).toHaveLength(2);
      expect(new Set(v.map((x) => x.team)).size).toBe(1);
      expect(v[0]!.note).toBeNull();
      teams.push(v[0]!.team);
    }
    expect(new Set(teams)).toEqual(new Set(['CareTeam/nr-team-1', 'CareTeam/nr-team-2']));
    expect(teams[0]).not.toBe(teams[1]);
    expect(teams[2]).toBe(teams[0]);
    // The centre's worklist finds the contacts its teams follow, whoever manages their record.
    const work = await call<Worklist>('GET', '/api/investigations/follow-ups?organization=nr-chc&limit=50');
    expect(new Set(work.items.map((r) => r.patientId))).toEqual(new Set(['nr-signed', 'nr-p1', 'nr-p2', 'nr-p3']));
    // A street of the district without a centre: the managing organisation, as before.
    expect((await visitsOf(contacts['nr-nocentre']!.id)).map((v) => v.team)).toEqual([
      'Organization/nr-chc-old',
      'Organization/nr-chc-old',
    ]);
  });

  it("keeps a contact living outside the district with the investigation's owner, noting the hand-over (协查)", async () => {
    const v = await visitsOf(contacts['nr-away']!.id);
    expect(v).toHaveLength(2);
    expect(v[0]!.note).toContain('协查');
    expect(v[0]!.assignee).toBe(`user:${inv.assignee}`);
    const task = (await (await server().api(`/fhir/Task/${v[0]!.task_id}`)).json()) as Task;
    expect(task.note?.[0]?.text).toContain('协查');
    expect(task.extension?.[0]?.valueReference?.identifier?.value).toBe(inv.assignee);
    expect(task.owner).toBeDefined();
    const work = await call<Worklist>('GET', `/api/investigations/follow-ups?organization=${encodeURIComponent('nr-chc-old')}&limit=50`);
    const row = work.items.find((r) => r.patientId === 'nr-away');
    expect(row?.note).toContain('协查');
  });

  it('writes each escalation as an alert Communication in the inbox, texts those with a phone, retries, and completes it on acknowledgement', async () => {
    // A contact followed by team one (phones on record): confirmed three days ago, so two days are a day past missed.
    const teamOne = (
      await Promise.all(['nr-p1', 'nr-p2', 'nr-p3'].map(async (id) => [id, (await visitsOf(contacts[id]!.id))[0]!.team]))
    ).find(([, t]) => t === 'CareTeam/nr-team-1')![0]!;
    const k = contacts[teamOne]!;
    await server().db.query(
      `UPDATE inv_contact SET confirmed_at = now() - interval '3 days', follow_up_start = $2, plan_from = $2 WHERE id = $1`,
      [k.id, addDays(TODAY, -3)],
    );
    expect(await settle()).toBe(2);
    const list = await call<EscalationList>('GET', `/api/investigations/escalations?investigationId=${inv.id}&state=all`);
    expect(list.total).toBe(2);
    for (const e of list.items) {
      expect(e.communicationId).toBe(`inv-escalation-${e.id}`);
      expect(e.team).toBe('CareTeam/nr-team-1');
      expect(e.organization).toBe('nr-chc');
      expect(e.deliveries.filter((d) => d.channel === 'inbox').every((d) => d.status === 'delivered')).toBe(true);
      const sms = e.deliveries.filter((d) => d.channel === 'sms');
      expect(sms.find((d) => d.recipientKind === 'team')?.status).not.toBe('discarded');
      expect(sms.find((d) => d.recipientKind === 'supervisor')).toMatchObject({ recipientRef: 'Practitioner/nr-doc1' });
    }
    const comm = (await (await server().api(`/fhir/Communication/${list.items[0]!.communicationId}`)).json()) as Communication;
    expect(comm).toMatchObject({
      status: 'in-progress',
      category: [{ coding: [{ code: 'alert' }] }],
      subject: { reference: `Patient/${teamOne}` },
    });
    expect(comm.about?.[0]?.reference).toMatch(new RegExp(`^Task/inv-visit-${k.id}-`));
    expect(comm.recipient?.map((r) => r.reference)).toEqual(
      expect.arrayContaining(['CareTeam/nr-team-1', 'Practitioner/nr-doc1', 'Organization/nr-chc']),
    );
    // The team's and the centre's inbox (工作台): their Communications in progress.
    const inbox = async (who: string) =>
      (
        (await (
          await server().api(`/fhir/Communication?recipient=${encodeURIComponent(who)}&status=in-progress`)
        ).json()) as Bundle<Communication>
      ).entry?.map((x) => x.resource!.id) ?? [];
    expect((await inbox('CareTeam/nr-team-1')).sort()).toEqual(list.items.map((e) => e.communicationId).sort());
    expect((await inbox('Organization/nr-chc')).sort()).toEqual(list.items.map((e) => e.communicationId).sort());

    // The gateway is down: each message stays queued with the reason, to be tried again later.
    await dispatchNotices(server().db, failing);
    let after = await call<EscalationList>('GET', `/api/investigations/escalations?investigationId=${inv.id}&state=all`);
    const queued = after.items.flatMap((e) => e.deliveries.filter((d) => d.channel === 'sms' && d.status === 'queued'));
    expect(queued).toHaveLength(4); // team and supervisor, two notices
    expect(queued.every((d) => d.attempts >= 1 && /503/.test(d.lastError ?? ''))).toBe(true);

    // One notice acknowledged: its Communication completed, its messages not yet sent dropped.
    const [first, second] = after.items;
    const acked = await call<EscalationList['items'][number]>('POST', `/api/investigations/escalations/${first!.id}/acknowledge`, {
      note: '已联系',
    });
    expect(acked.deliveries.filter((d) => d.channel === 'sms').map((d) => d.status)).toEqual(['discarded', 'discarded', 'discarded']);
    const done = (await (await server().api(`/fhir/Communication/${first!.communicationId}`)).json()) as Communication;
    expect(done.status).toBe('completed');
    expect(done.note?.[0]?.text).toContain('已联系');
    expect(await inbox('CareTeam/nr-team-1')).toEqual([second!.communicationId]);

    // The gateway is back: the other notice's messages go out, the name masked.
    const good = new FakeTransport();
    const r = await dispatchNotices(server().db, good, new Date(Date.now() + 3_600_000));
    expect(r).toEqual({ sent: 2, failed: 0 });
    expect(good.sent.map((m) => m.to).sort()).toEqual(['13800000001', '13900000002']);
    expect(good.sent[0]!.text).toContain('漏访上报');
    expect(good.sent[0]!.text).not.toMatch(/钱[一二三]/);
    after = await call<EscalationList>('GET', `/api/investigations/escalations?investigationId=${inv.id}&state=all`);
    const sent = after.items.find((e) => e.id === second!.id)!.deliveries.filter((d) => d.channel === 'sms' && d.status === 'sent');
    expect(sent).toHaveLength(2);
    expect(sent.every((d) => d.sentAt !== null)).toBe(true);
  });
});
