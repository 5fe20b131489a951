/**
 * Issue #19, the rest of follow-up, on both stores: daily monitoring as FHIR Tasks owned by the
 * contact's team (the CareTeam of their contract, else their centre) and assigned to its members
 * in turn, planned a day ahead only; a missed check escalated a day after it was missed, once, to
 * the investigator, the team's supervisor and the CDC, shown on the worklist and acknowledged
 * once; investigations opened by themselves from report cards the rules select, one per card;
 * and the trajectory's places with coordinates for the map.
 */
import fs from 'node:fs';
import type { Resource, Task } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { followUpStep } from './follow-up-job.js';
import { investigationRuntime, SYSTEM_USER, systemActor } from './module.js';
import { autoOpenRule, loadRules, parseRules } from './rules.js';
import type { Contact } from './schemas.js';
import type { EscalationList, Investigation, InvestigationList, Trajectory, Worklist } from './schemas.js';
import { daysToPlan, escalateAt, roundRobin } from './visits.js';

const TODAY = todayInChina();
const AREA = 'https://yifang.health/fhir/StructureDefinition/area-code';
const GEO = 'http://hl7.org/fhir/StructureDefinition/geolocation';
const at = (day: string, time = '08:00:00') => `${day}T${time}+08:00`;
const geo = (lon: number, lat: number) => [
  {
    use: 'work',
    extension: [
      {
        url: GEO,
        extension: [
          { url: 'latitude', valueDecimal: lat },
          { url: 'longitude', valueDecimal: lon },
        ],
      },
    ],
  },
];
const patient = (id: string, name: string): Resource =>
  ({
    resourceType: 'Patient',
    id,
    name: [{ use: 'official', text: name }],
    gender: 'female',
    birthDate: '1990-01-01',
    address: [{ use: 'home', extension: [{ url: AREA, valueString: '330102001001' }], line: ['青石街道'] }],
    managingOrganization: { reference: 'Organization/ft-chc' },
  }) as Resource;

describe('follow-up tasks: pure parts', () => {
  it('plans today and the days ahead only, from the confirmation day, and says where to go on', () => {
    const k = { planFrom: '2025-01-01', followUpStart: '2025-01-01', followUpEnd: '2025-01-10', confirmedDay: '2025-01-03' };
    expect(daysToPlan(k, '2025-01-04')).toEqual({ days: ['2025-01-03', '2025-01-04'], next: '2025-01-05' });
    expect(daysToPlan({ ...k, planFrom: '2025-01-09' }, '2025-01-12')).toEqual({ days: ['2025-01-09', '2025-01-10'], next: null });
    expect(daysToPlan({ ...k, planFrom: '2025-01-06' }, '2025-01-05')).toEqual({ days: [], next: '2025-01-06' });
  });
  it('takes turns over the team and escalates a day after the day was missed', () => {
    expect(roundRobin(['a', 'b', 'c'], 2, 4)).toEqual(['c', 'a', 'b', 'c']);
    expect(roundRobin([], 5, 2)).toEqual([undefined, undefined]);
    expect(escalateAt('2025-01-03', 24)).toBe('2025-01-04T16:00:00.000Z');
  });
  it('opens automatically for class A and the diseases listed, for cards reported, not drafts', () => {
    const rules = loadRules();
    expect(autoOpenRule(rules, rules.diseases.get('cholera')!, 'submitted')).toBe('甲类传染病');
    expect(autoOpenRule(rules, rules.diseases.get('measles')!, 'reviewed')).toBe('病种 麻疹');
    expect(autoOpenRule(rules, rules.diseases.get('measles')!, 'draft')).toBeUndefined();
    expect(autoOpenRule(rules, rules.diseases.get('norovirus')!, 'submitted')).toBeUndefined();
  });
  it('refuses an automatic-opening rule naming a disease the file does not have, naming its line', () => {
    const text = fs.readFileSync(new URL('../../config/investigation/rules.json', import.meta.url), 'utf8');
    const bad = text.replace('"diseases": ["measles"]', '"diseases": ["measels"]');
    const line = bad.split('\n').findIndex((l) => l.includes('"measels"')) + 1;
    expect(() => parseRules(bad)).toThrow(`rules.json:${line}: autoOpen.diseases.0: 'measels' is not a disease key of this file`);
  });
});

describeEachStore('follow-up tasks, escalation, automatic opening, trajectory map', (server) => {
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
  /** Runs the job until it has nothing left (the server's own loop may be running a step too). */
  const settle = async (now = new Date()) => {
    const runtime = investigationRuntime.get(server().db)!;
    const actor = systemActor(runtime.audit, SYSTEM_USER, 'test');
    const total = { opened: 0, planned: 0, escalated: 0 };
    for (let i = 0; i < 5; i++) {
      const r = await followUpStep(runtime.deps, actor, now);
      total.opened += r.opened;
      total.planned += r.planned;
      total.escalated += r.escalated;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return total;
  };

  let inv: Investigation;
  let inTeam: Contact;
  let atCentre: Contact;

  beforeAll(async () => {
    await put({ resourceType: 'Organization', id: 'ft-chc', name: '青石社区卫生服务中心' } as Resource);
    await put({ resourceType: 'Organization', id: 'ft-hosp', name: '市第一医院', address: geo(120.15, 30.27) } as Resource);
    await put({ resourceType: 'Organization', id: 'ft-school', name: '青石小学', address: geo(120.17, 30.29) } as Resource);
    await put({ resourceType: 'Organization', id: 'ft-clinic', name: '无坐标诊所' } as Resource);
    await put({ resourceType: 'Practitioner', id: 'ft-doc', name: [{ text: '张医生' }] } as Resource);
    await put({ resourceType: 'Practitioner', id: 'ft-nurse', name: [{ text: '李护士' }] } as Resource);
    await put({
      resourceType: 'CareTeam',
      id: 'ft-team',
      status: 'active',
      name: '青石家庭医生团队一',
      participant: [
        { role: [{ text: '社区护士' }], member: { reference: 'Practitioner/ft-nurse' } },
        { role: [{ text: '家庭医生' }], member: { reference: 'Practitioner/ft-doc' } },
      ],
      managingOrganization: [{ reference: 'Organization/ft-chc' }],
    } as Resource);
    await put(patient('ft-case', '陈病例'));
    await put(patient('ft-a', '甲密接'));
    await put(patient('ft-b', '乙密接'));
    await put(patient('ft-card', '丙报卡'));
    await put({
      resourceType: 'EpisodeOfCare',
      id: 'ft-contract',
      status: 'active',
      patient: { reference: 'Patient/ft-a' },
      managingOrganization: { reference: 'Organization/ft-chc' },
      period: { start: addDays(TODAY, -100) },
      team: [{ reference: 'CareTeam/ft-team' }],
    } as Resource);
    await put({
      resourceType: 'Condition',
      id: 'ft-cond',
      subject: { reference: 'Patient/ft-case' },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9' }] },
      onsetDateTime: at(addDays(TODAY, -2)),
    } as Resource);
    await put({
      resourceType: 'Encounter',
      id: 'ft-enc-1',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/ft-case' },
      serviceProvider: { reference: 'Organization/ft-clinic' },
      period: { start: at(addDays(TODAY, -4)), end: at(addDays(TODAY, -4), '09:00:00') },
      serviceType: { coding: [{ code: '03', display: '内科' }] },
    } as Resource);
    await put({
      resourceType: 'Encounter',
      id: 'ft-enc-2',
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: 'Patient/ft-case' },
      serviceProvider: { reference: 'Organization/ft-hosp' },
      period: { start: at(addDays(TODAY, -1)) },
      serviceType: { coding: [{ code: '07', display: '儿科' }] },
    } as Resource);
    await put({
      resourceType: 'Group',
      id: 'ft-class',
      type: 'person',
      actual: true,
      code: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/group-kind', code: 'school-class' }] },
      name: '青石小学 三年级二班',
      managingEntity: { reference: 'Organization/ft-school' },
      member: [{ entity: { reference: 'Patient/ft-case' } }],
    } as Resource);
    await server().processors.drain();
    inv = await call<Investigation>('POST', '/api/investigations', { patientId: 'ft-case', diseaseCode: 'measles' }, 201);
    expect(inv.openedAutomatically).toBe(false);
    const exposure = { type: '共同进餐', firstDate: addDays(TODAY, -1), lastDate: addDays(TODAY, -1) };
    inTeam = await call<Contact>('POST', `/api/investigations/${inv.id}/contacts`, { patientId: 'ft-a', ...exposure }, 201);
    atCentre = await call<Contact>('POST', `/api/investigations/${inv.id}/contacts`, { patientId: 'ft-b', ...exposure }, 201);
  });

  it('makes one Task per contact and day for today and tomorrow only, owned by the team and assigned in turn', async () => {
    await settle();
    const tomorrow = addDays(TODAY, 1);
    const visits = await server().db.query<{ contact_id: string; day: string; assignee: string | null; team: string | null }>(
      `SELECT contact_id, day::text AS day, assignee, team FROM inv_visit WHERE contact_id = ANY($1::bigint[]) ORDER BY contact_id, day`,
      [[inTeam.id, atCentre.id]],
    );
    expect(visits.rows.map((v) => [Number(v.contact_id), v.day, v.team])).toEqual([
      [inTeam.id, TODAY, 'CareTeam/ft-team'],
      [inTeam.id, tomorrow, 'CareTeam/ft-team'],
      [atCentre.id, TODAY, 'Organization/ft-chc'],
      [atCentre.id, tomorrow, 'Organization/ft-chc'],
    ]);
    // Two members, two days: one each; the centre without members assigns nobody.
    expect(new Set(visits.rows.slice(0, 2).map((v) => v.assignee))).toEqual(new Set(['Practitioner/ft-doc', 'Practitioner/ft-nurse']));
    expect(visits.rows.slice(2).map((v) => v.assignee)).toEqual([null, null]);
    const task = (await (await server().api(`/fhir/Task/inv-visit-${inTeam.id}-${TODAY}`)).json()) as Task;
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      owner: { reference: 'CareTeam/ft-team', display: '青石家庭医生团队一' },
      focus: { reference: 'Patient/ft-a' },
      for: { reference: 'Patient/ft-a' },
    });
    expect(task.extension?.[0]?.valueReference?.reference).toMatch(/^Practitioner\/ft-(doc|nurse)$/);
    // Planned through tomorrow: nothing more until the day after comes within reach.
    expect((await settle()).planned).toBe(0);
  });

  it('lists the worklist per team from the Tasks, a page with the total', async () => {
    const list = await call<Worklist>('GET', `/api/investigations/follow-ups?team=${encodeURIComponent('CareTeam/ft-team')}&limit=10`);
    expect(list).toMatchObject({ team: 'CareTeam/ft-team', total: 1, limit: 10, offset: 0 });
    expect(list.items[0]).toMatchObject({
      contactId: inTeam.id,
      day: TODAY,
      status: 'due',
      taskId: `inv-visit-${inTeam.id}-${TODAY}`,
      teamName: '青石家庭医生团队一',
      escalation: null,
    });
    expect(['张医生', '李护士']).toContain(list.items[0]!.assigneeName);
    const byCentre = await call<Worklist>('GET', '/api/investigations/follow-ups?organization=ft-chc&limit=1');
    expect(byCentre.total).toBe(2);
    expect(byCentre.items).toHaveLength(1);
    const bad = await server().api('/api/investigations/follow-ups?team=Patient/x');
    expect(bad.status).toBe(400);
  });

  it('completes the Task when the check is recorded', async () => {
    await call('POST', `/api/investigations/contacts/${atCentre.id}/checks`, { day: TODAY, symptoms: false, temperature: 36.5 }, 201);
    const task = (await (await server().api(`/fhir/Task/inv-visit-${atCentre.id}-${TODAY}`)).json()) as Task;
    expect(task.status).toBe('completed');
  });

  it('escalates a check still missing a day after it was missed, once, to the investigator, supervisor and CDC; acknowledged once', async () => {
    // The contact confirmed three days ago (moved back): the days before today are planned and missed.
    await server().db.query(
      `UPDATE inv_contact SET confirmed_at = now() - interval '3 days', follow_up_start = $2, plan_from = $2 WHERE id = $1`,
      [inTeam.id, addDays(TODAY, -3)],
    );
    const first = await settle();
    // Day −3 and −2 are a day past being missed; yesterday's was missed only today (not yet escalated).
    expect(first.escalated).toBe(2);
    expect((await settle()).escalated).toBe(0);
    const list = await call<EscalationList>('GET', `/api/investigations/escalations?investigationId=${inv.id}`);
    expect(list.total).toBe(2);
    expect(list.items.map((e) => e.day).sort()).toEqual([addDays(TODAY, -3), addDays(TODAY, -2)]);
    const notice = list.items[0]!;
    expect(notice).toMatchObject({
      contactId: inTeam.id,
      patientId: 'ft-a',
      team: 'CareTeam/ft-team',
      acknowledgedAt: null,
      diseaseName: '麻疹',
    });
    // The CDC: the investigating organisation (the opener's), here the administrator's.
    expect(notice.recipients.map((r) => [r.kind, r.kind === 'cdc' ? r.display.length > 0 : r.ref])).toEqual([
      ['investigator', 'user:admin'],
      ['team', 'CareTeam/ft-team'],
      ['supervisor', 'Practitioner/ft-doc'],
      ['cdc', true],
    ]);
    const task = (await (await server().api(`/fhir/Task/inv-visit-${inTeam.id}-${notice.day}`)).json()) as Task;
    expect(task).toMatchObject({ status: 'requested', priority: 'urgent', businessStatus: { text: '漏访已上报' } });
    // The worklist shows it on the row of that day.
    const work = await call<Worklist>(
      'GET',
      `/api/investigations/follow-ups?team=${encodeURIComponent('CareTeam/ft-team')}&status=overdue`,
    );
    expect(work.items.map((r) => [r.day, r.escalation !== null])).toEqual([
      [addDays(TODAY, -3), true],
      [addDays(TODAY, -2), true],
      [addDays(TODAY, -1), false],
    ]);
    // Tomorrow the day before is a day past missed too.
    expect((await settle(new Date(Date.now() + 86_400_000))).escalated).toBe(1);
    const acked = await call<{ acknowledgedBy: string; ackNote: string }>(
      'POST',
      `/api/investigations/escalations/${notice.id}/acknowledge`,
      { note: '已电话联系' },
    );
    expect(acked).toMatchObject({ acknowledgedBy: 'admin', ackNote: '已电话联系' });
    const again = await server().api(`/api/investigations/escalations/${notice.id}/acknowledge`, { method: 'POST', body: '{}' });
    expect(again.status).toBe(409);
    const open = await call<EscalationList>('GET', `/api/investigations/escalations?investigationId=${inv.id}&state=open`);
    expect(open.total).toBe(2);
    const audit = await server().db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM r_auditevent WHERE 'Patient/ft-a' = ANY(compartments)`,
    );
    expect(audit.rows[0]!.n).toBeGreaterThan(0);
  });

  it('opens an investigation by itself when a measles card is reported, once per card, and not for other cards', async () => {
    const card = (id: string, pid: string, code: string, status: Task['status'], lastModified = new Date().toISOString()): Resource =>
      ({
        resourceType: 'Task',
        id: `rc-${id}`,
        identifier: [{ system: 'https://yifang.health/fhir/sid/report-card', value: id }],
        status,
        intent: 'order',
        for: { reference: `Patient/${pid}` },
        lastModified,
        input: [
          { type: { coding: [{ code: 'disease.icd10' }] }, valueString: code },
          { type: { coding: [{ code: 'onsetDate' }] }, valueString: addDays(TODAY, -1) },
        ],
      }) as Resource;
    await put(card('ft-rc-1', 'ft-card', 'B05.9', 'requested'));
    await put(card('ft-rc-draft', 'ft-b', 'B05.9', 'draft'));
    await put(card('ft-rc-noro', 'ft-b', 'A08.1', 'requested'));
    await put(card('ft-rc-old', 'ft-b', 'B05.9', 'requested', new Date(Date.now() - 10 * 86_400_000).toISOString()));
    await server().processors.drain();
    await settle();
    const opened = await call<InvestigationList>('GET', '/api/investigations?patientId=ft-card');
    expect(opened.total).toBe(1);
    const auto = opened.items[0]!;
    expect(auto).toMatchObject({
      source: 'report-card',
      sourceRef: 'ft-rc-1',
      openedAutomatically: true,
      autoRule: '病种 麻疹',
      assignee: null,
      diseaseKey: 'measles',
      onsetDate: addDays(TODAY, -1),
    });
    expect(Date.parse(auto.deadlineAt) - Date.parse(auto.openedAt)).toBeCloseTo(24 * 3_600_000, -4);
    // The card reviewed (rewritten): still one investigation.
    await put(card('ft-rc-1', 'ft-card', 'B05.9', 'accepted'));
    await server().processors.drain();
    await settle();
    expect((await call<InvestigationList>('GET', '/api/investigations?patientId=ft-card&status=open,in-progress,closed')).total).toBe(1);
    // A draft, a norovirus card and an old card open nothing.
    expect((await call<InvestigationList>('GET', '/api/investigations?patientId=ft-b')).total).toBe(0);
  });

  it('gives the trajectory its places with coordinates in order, and names those without', async () => {
    const t = await call<Trajectory>('GET', `/api/investigations/${inv.id}/trajectory`);
    const dept = t.items.filter((s) => s.kind === 'department');
    expect(dept.map((s) => [s.facility, s.facilityName])).toEqual([
      ['ft-clinic', '无坐标诊所'],
      ['ft-hosp', '市第一医院'],
    ]);
    expect(dept[0]!.placeIndex).toBeNull();
    expect(t.places[dept[1]!.placeIndex!]).toMatchObject({
      name: '市第一医院',
      kind: 'facility',
      source: 'visit',
      longitude: 120.15,
      latitude: 30.27,
    });
    expect(t.places.find((p) => p.source === 'registry')).toMatchObject({ name: '青石小学', kind: 'school', longitude: 120.17 });
    expect(t.withoutPosition).toEqual(['无坐标诊所']);
  });
});
