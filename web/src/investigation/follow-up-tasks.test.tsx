/**
 * The rest of issue #19 on screen: the trajectory tab's map beside the timeline (places in visit
 * order, registry places apart, places without coordinates named), escalation notices on the
 * investigation page with their acknowledgement, an investigation opened automatically shown
 * as such, and the worklist's Task member and escalation per row, paged by the server.
 */
import { configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { todayInChina } from '../../../src/shared/dates.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { EscalationsCard } from './escalations.component.js';
import { FollowUpWorklistPage } from './follow-ups.component.js';
import { forgetNames, type Trajectory, type WorklistRow } from './investigation.resource.js';
import { TrajectoryTab, trajectoryMapOption, visitOrder } from './trajectory.component.js';

// The machine these run on is shared and often loaded: the page's requests may take longer than the default second.
configure({ asyncUtilTimeout: 5000 });
const today = todayInChina();
const NAMES = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    { resource: { resourceType: 'Patient', id: 'pat-2', name: [{ text: '李芳' }] } },
    { resource: { resourceType: 'Patient', id: 'pat-3', name: [{ text: '赵一一' }] } },
  ],
};
const ORGS = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [{ resource: { resourceType: 'Organization', id: 'org-chc', name: '青石街道社区卫生服务中心' } }],
};

const stop = (encounterId: string, facility: string, facilityName: string | null, start: string, placeIndex: number | null) => ({
  patientId: 'pat-1',
  encounterId,
  facility,
  facilityName,
  kind: 'department' as const,
  place: '内科',
  start,
  end: null,
  placeIndex,
});
const trajectory: Trajectory = {
  investigationId: 1,
  patientId: 'pat-1',
  from: '2026-02-08T16:00:00.000Z',
  to: '2026-03-08T16:00:00.000Z',
  items: [
    stop('e1', 'org-a', '市第一医院', '2026-02-20T02:00:00.000Z', 0),
    stop('e2', 'org-c', '无坐标诊所', '2026-02-22T02:00:00.000Z', null),
    stop('e3', 'org-b', '市儿童医院', '2026-02-25T02:00:00.000Z', 1),
    stop('e4', 'org-a', '市第一医院', '2026-02-27T02:00:00.000Z', 0),
  ],
  places: [
    { key: 'Organization/org-a', name: '市第一医院', kind: 'facility', source: 'visit', longitude: 120.1, latitude: 30.2 },
    { key: 'Organization/org-b', name: '市儿童医院', kind: 'facility', source: 'visit', longitude: 120.2, latitude: 30.3 },
    { key: 'Organization/school', name: '青石小学', kind: 'school', source: 'registry', longitude: 120.15, latitude: 30.25 },
  ],
  withoutPosition: ['无坐标诊所'],
};

beforeEach(() => forgetNames());
afterEach(() => forgetNames());

describe('trajectory map', () => {
  it('joins the visits in order with arrows and numbers the places by visit', () => {
    expect(visitOrder(trajectory)).toEqual([0, 1, 0]);
    const option = trajectoryMapOption(trajectory, false) as {
      series: { type: string; data: { coords?: number[][]; label?: { formatter: string } }[] }[];
    };
    const lines = option.series.find((s) => s.type === 'lines')!;
    expect(lines.data.map((d) => d.coords)).toEqual([
      [
        [120.1, 30.2],
        [120.2, 30.3],
      ],
      [
        [120.2, 30.3],
        [120.1, 30.2],
      ],
    ]);
    const points = option.series.find((s) => s.type === 'scatter')!;
    expect(points.data.map((d) => d.label!.formatter)).toEqual(['1、3 市第一医院', '2 市儿童医院', '青石小学']);
    const onGeo = trajectoryMapOption(trajectory, true) as { geo?: { map: string }; series: { coordinateSystem: string }[] };
    expect(onGeo.geo?.map).toBeTruthy();
    expect(onGeo.series.every((s) => s.coordinateSystem === 'geo')).toBe(true);
  });

  it('shows the map beside the timeline, the stops numbered, and names the places it cannot draw', async () => {
    const api = stubApi({
      '/api/investigations/1/trajectory': trajectory,
      '/api/surveillance/geography': { type: 'FeatureCollection', features: [] },
      '/fhir/Organization': ORGS,
    });
    renderPage(<TrajectoryTab investigationId={1} />);
    const stops = await screen.findAllByTestId('trajectory-stop');
    expect(stops.map((s) => s.textContent)).toEqual([
      expect.stringContaining('地图第 1 站'),
      expect.not.stringContaining('地图第'),
      expect.stringContaining('地图第 2 站'),
      expect.stringContaining('地图第 1 站'),
    ]);
    expect(stops[1]!.textContent).toContain('无坐标诊所');
    expect(await screen.findByTestId('trajectory-map')).toBeTruthy();
    expect(screen.getByTestId('trajectory-unplaced').textContent).toContain('无坐标诊所');
    expect(api.callsTo('GET /api/surveillance/geography')).toHaveLength(1);
  });
});

describe('escalation notices', () => {
  it('lists the notices of an investigation with whom they went to, and acknowledges one with a note', async () => {
    let acked = false;
    const notice = {
      id: 7,
      contactId: 5,
      day: '2026-03-01',
      investigationId: 1,
      patientId: 'pat-2',
      organization: 'org-chc',
      team: 'CareTeam/t1',
      recipients: [
        { kind: 'investigator', ref: 'user:zhang.epi', display: 'zhang.epi' },
        { kind: 'team', ref: 'CareTeam/t1', display: '青石家庭医生团队一' },
        { kind: 'supervisor', ref: 'Practitioner/p1', display: '张医生' },
        { kind: 'cdc', ref: 'role:epidemiologist', display: '疾控中心流调组' },
      ],
      createdAt: '2026-03-02T16:00:00.000Z',
      acknowledgedBy: null,
      acknowledgedAt: null,
      ackNote: null,
      diseaseName: '麻疹',
      communicationId: 'inv-escalation-7',
      deliveries: [
        {
          channel: 'inbox',
          recipientKind: 'team',
          recipientRef: 'CareTeam/t1',
          recipientDisplay: '青石家庭医生团队一',
          status: 'delivered',
          attempts: 0,
          sentAt: null,
          lastError: null,
        },
        {
          channel: 'sms',
          recipientKind: 'team',
          recipientRef: 'CareTeam/t1',
          recipientDisplay: '青石家庭医生团队一',
          status: 'sent',
          attempts: 1,
          sentAt: '2026-03-02T16:00:05.000Z',
          lastError: null,
        },
        {
          channel: 'sms',
          recipientKind: 'supervisor',
          recipientRef: 'Practitioner/p1',
          recipientDisplay: '张医生',
          status: 'queued',
          attempts: 2,
          sentAt: null,
          lastError: 'SMS gateway answered 503',
        },
        {
          channel: 'sms',
          recipientKind: 'cdc',
          recipientRef: 'role:epidemiologist',
          recipientDisplay: '疾控中心流调组',
          status: 'discarded',
          attempts: 0,
          sentAt: null,
          lastError: 'no phone on record / 无联系电话',
        },
      ],
    };
    const api = stubApi({
      '/api/investigations/escalations': () => ({
        items: [
          acked ? { ...notice, acknowledgedBy: 'zhang.epi', acknowledgedAt: '2026-03-03T01:00:00.000Z', ackNote: '已电话联系' } : notice,
        ],
        total: 1,
        limit: 10,
        offset: 0,
      }),
      'POST /api/investigations/escalations/7/acknowledge': (c: { body: unknown }) => {
        acked = true;
        return { ...notice, acknowledgedBy: 'zhang.epi', ackNote: (c.body as { note: string }).note };
      },
      '/fhir/Patient': NAMES,
    });
    renderPage(<EscalationsCard investigationId={1} />);
    const card = await screen.findByTestId('escalations');
    await waitFor(() => expect(card.textContent).toContain('李芳'));
    expect(card.textContent).toContain('1 条待确认');
    // Each recipient with how its text message fared: sent, being retried, or no phone (inbox only).
    expect(
      within(card)
        .getAllByTestId('escalation-recipient')
        .map((n) => n.textContent),
    ).toEqual([
      '调查人员：zhang.epi',
      '随访团队：青石家庭医生团队一（短信已发送）',
      '团队负责人：张医生（短信重试中）',
      '疾控中心：疾控中心流调组（无手机号，仅工作台）',
    ]);
    expect(card.textContent).not.toMatch(/pat-2|CareTeam\//);
    fireEvent.click(within(card).getByTestId('escalation-ack'));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByTestId('escalation-note'), { target: { value: '已电话联系' } });
    fireEvent.click(within(dialog).getByRole('button', { name: '确认收到' }));
    await waitFor(() => expect(api.callsTo('POST /api/investigations/escalations/7/acknowledge')).toHaveLength(1));
    expect(api.callsTo('POST /api/investigations/escalations/7/acknowledge')[0]!.body).toEqual({ note: '已电话联系' });
    expect((await screen.findByTestId('escalation-acked')).textContent).toContain('zhang.epi');
    expect(api.callsTo('GET /api/investigations/escalations')[0]!.path).toContain('investigationId=1');
  });
});

describe('worklist with Tasks and escalations', () => {
  it('names the member each Task is assigned to, marks escalated rows, and pages on the server', async () => {
    const row = (contactId: number, patientId: string, day: string, status: WorklistRow['status'], over: Partial<WorklistRow> = {}) => ({
      contactId,
      patientId,
      investigationId: 1,
      diseaseName: '麻疹',
      day,
      status,
      symptoms: null,
      followUpEnd: '2099-01-01',
      taskId: `inv-visit-${contactId}-${day}`,
      team: 'CareTeam/t1',
      teamName: '青石家庭医生团队一',
      assignee: 'Practitioner/p1',
      assigneeName: '张医生',
      escalation: null,
      ...over,
    });
    const api = stubApi({
      '/api/investigations/follow-ups': {
        organization: 'org-chc',
        team: null,
        date: today,
        total: 45,
        limit: 20,
        offset: 0,
        items: [
          row(5, 'pat-2', '2026-01-01', 'overdue', {
            escalation: { id: 7, createdAt: '2026-01-02T16:00:00.000Z', acknowledgedBy: null, acknowledgedAt: null },
          }),
          row(6, 'pat-3', today, 'due', { assignee: null, assigneeName: null }),
          row(8, 'pat-3', today, 'due', {
            team: 'Organization/org-cdc',
            teamName: 'org-cdc（流调负责人）',
            assignee: 'user:zhang.epi',
            assigneeName: 'zhang.epi',
            note: '协查：住址（区划 440305001001）不在本辖区，由流调负责人跟进并移交属地',
          }),
        ],
      },
      '/api/investigations/escalations': {
        items: [
          {
            id: 7,
            contactId: 5,
            day: '2026-01-01',
            investigationId: 1,
            patientId: 'pat-2',
            organization: 'org-chc',
            team: 'CareTeam/t1',
            recipients: [{ kind: 'team', ref: 'CareTeam/t1', display: '青石家庭医生团队一' }],
            createdAt: '2026-01-02T16:00:00.000Z',
            acknowledgedBy: null,
            acknowledgedAt: null,
            ackNote: null,
            diseaseName: '麻疹',
            communicationId: 'inv-escalation-7',
            deliveries: [],
          },
        ],
        total: 1,
        limit: 10,
        offset: 0,
      },
      '/fhir/Patient': NAMES,
      '/fhir/Organization': ORGS,
      '/fhir/CareTeam': { resourceType: 'Bundle', type: 'searchset', entry: [] },
    });
    renderPage(<FollowUpWorklistPage organization="org-chc" />);
    // The centre's inbox above the table: its notices still to acknowledge, with the investigation.
    const inbox = await screen.findByTestId('escalation-inbox');
    await waitFor(() => expect(inbox.textContent).toContain('李芳'));
    expect(inbox.textContent).toContain('待确认的漏访上报');
    expect(inbox.textContent).toContain('1 条待确认');
    expect(inbox.textContent).toContain('随访团队：青石家庭医生团队一（已送达工作台）');
    expect(within(inbox).getByRole('link', { name: '麻疹' }).getAttribute('href')).toBe('#/investigation/1');
    const asked = api.callsTo('GET /api/investigations/escalations')[0]!.path;
    expect(asked).toContain('organization=org-chc');
    expect(asked).toContain('state=open');
    await waitFor(() => expect(screen.getAllByTestId('worklist-name').map((n) => n.textContent)).toEqual(['李芳', '赵一一', '赵一一']));
    expect(screen.getAllByTestId('worklist-assignee').map((n) => n.textContent)).toEqual(['张医生', '青石家庭医生团队一', 'zhang.epi']);
    // A contact living outside the district: kept by the investigator, marked as a hand-over (协查).
    expect(screen.getAllByTestId('worklist-handover').map((n) => n.textContent)).toEqual(['协查']);
    expect(screen.getAllByTestId('worklist-escalation').map((n) => n.textContent)).toEqual(['已上报']);
    expect(screen.getByText('共 45 项')).toBeTruthy();
    const first = api.callsTo('GET /api/investigations/follow-ups')[0]!.path;
    expect(first).toContain('limit=20');
    expect(first).toContain('offset=0');
    fireEvent.click(screen.getByTitle('2'));
    await waitFor(() => expect(api.callsTo('GET /api/investigations/follow-ups').at(-1)!.path).toContain('offset=20'));
  });
});
