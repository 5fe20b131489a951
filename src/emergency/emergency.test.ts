/**
 * The emergency module end to end through a running server, on both stores: teams (members,
 * certificates flagged by expiry, on-call rota, mobilisation with acknowledgements pending and
 * overdue), reserves (receipts, FEFO issues, a refused over-issue writing nothing, transfers,
 * cover against the 30-day standard, near-expiry warnings), the emergency mode (switching
 * audited, currentMode for an area, daily zero reports missing) and one drill run end to end
 * with its after-action report's timings.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';
import { currentMode } from './mode.js';
import { allocateFefo, certificateState, cover, expiryClass } from './reserves.js';
import type {
  CoverList,
  CurrentModeView,
  DrillView,
  MissingList,
  MobilisationDetail,
  ModeAnswer,
  MovementAnswer,
  MovementList,
  OnCallView,
  PendingList,
  StockList,
  TeamDetail,
  TeamView,
  TrainingList,
  WarningList,
} from './schemas.js';
import { loadEmergencySettings, parseEmergencySettings, SETTINGS_FILE } from './settings.js';

describe('reserves arithmetic and settings (pure)', () => {
  const day = '2026-03-01';
  it('takes first-expiring batches first, skips expired ones, and names the shortfall', () => {
    const batches = [
      { batchNo: 'B-late', expiresOn: '2027-01-01', quantity: 50 },
      { batchNo: 'B-none', expiresOn: null, quantity: 100 },
      { batchNo: 'B-soon', expiresOn: '2026-04-01', quantity: 30 },
      { batchNo: 'B-gone', expiresOn: '2026-02-01', quantity: 999 },
    ];
    expect(allocateFefo(batches, 60, day)).toEqual({
      ok: true,
      takes: [
        { batchNo: 'B-soon', expiresOn: '2026-04-01', quantity: 30 },
        { batchNo: 'B-late', expiresOn: '2027-01-01', quantity: 30 },
      ],
    });
    expect(allocateFefo(batches, 181, day)).toEqual({ ok: false, available: 180 });
  });
  it('classes expiry by the shortest warning window and judges cover at the larger rate', () => {
    expect(expiryClass('2026-02-28', day, [90, 30])).toBe('expired');
    expect(expiryClass('2026-03-20', day, [90, 30])).toBe('within-30');
    expect(expiryClass('2026-05-01', day, [90, 30])).toBe('within-90');
    expect(expiryClass('2026-12-01', day, [90, 30])).toBeNull();
    expect(certificateState('2026-02-28', day, 90)).toBe('expired');
    expect(certificateState('2026-05-01', day, 90)).toBe('expiring');
    expect(certificateState('2027-05-01', day, 90)).toBe('valid');
    const c = cover({ stock: 2400, issuedInWindow: 300, windowDays: 30, scenarioDailyUse: 100, standardDays: 30 });
    expect(c).toMatchObject({
      observedDailyUse: 10,
      daysAtObservedRate: 240,
      emergencyDailyUse: 100,
      rateBasis: 'scenario',
      emergencyDays: 24,
    });
    expect(c.meetsStandard).toBe(false);
    expect(c.shortfall).toBe(600);
    const fast = cover({ stock: 6000, issuedInWindow: 6000, windowDays: 30, scenarioDailyUse: 100, standardDays: 30 });
    expect(fast).toMatchObject({ rateBasis: 'observed', emergencyDailyUse: 200, emergencyDays: 30, meetsStandard: true });
  });
  it('reads the shipped settings and refuses a bad file naming the field', () => {
    const s = loadEmergencySettings();
    expect(s.reserves.standardDays).toBe(30);
    expect(s.reserves.expiryWarningDays).toEqual([90, 30]);
    expect(s.modes.I.labMode).toBe('emergency');
    const raw = JSON.parse(fs.readFileSync(SETTINGS_FILE, 'utf8')) as { modes: Record<string, Record<string, unknown>> };
    raw.modes.II!.zeroReporting = 'weekly';
    expect(() => parseEmergencySettings(JSON.stringify(raw), 'e.json')).toThrow(/e\.json: modes\.II\.zeroReporting: Invalid enum value/);
  });
});

describeEachStore('emergency', (server) => {
  const json = async <T>(r: Response, status: number): Promise<T> => {
    const text = await r.text();
    expect(r.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const send = (method: string, path: string, body: unknown) =>
    server().api(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const post = (path: string, body: unknown) => send('POST', path, body);
  const get = (path: string) => server().api(path);
  const today = todayInChina();
  const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

  it('keeps teams with members, certificates flagged by expiry and an on-call rota', async () => {
    await json(await post('/api/emergency/units', { code: 'CDC1', name: '望川区疾控中心', areaCode: '339902' }), 200);
    expect((await post('/api/emergency/teams', { unit: 'NOPE', kind: 'testing', name: 'x' })).status).toBe(422);
    const team = await json<TeamView>(await post('/api/emergency/teams', { unit: 'CDC1', kind: 'epidemiology', name: '第一流调队' }), 201);
    expect(team.kindZh).toBe('流调队');
    expect((await post('/api/emergency/teams', { unit: 'CDC1', kind: 'epidemiology', name: '第一流调队' })).status).toBe(409);
    const detail = await json<TeamDetail>(
      await post(`/api/emergency/teams/${team.id}/members`, {
        members: [
          { practitionerId: 'P1', name: '张队长', role: 'leader', phone: '13900000001' },
          { practitionerId: 'P2', name: '李队员' },
          { practitionerId: 'P3', name: '王队员' },
        ],
      }),
      200,
    );
    expect(detail.members).toBe(3);
    for (const [p, exp] of [
      ['P1', addDays(today, -1)],
      ['P2', addDays(today, 45)],
      ['P3', addDays(today, 400)],
    ] as const)
      await json(
        await post('/api/emergency/trainings', {
          practitionerId: p,
          name: p,
          kind: 'certificate',
          title: '流行病学调查员证',
          completedOn: addDays(today, -700),
          expiresOn: exp,
        }),
        201,
      );
    const expiring = await json<TrainingList>(await get('/api/emergency/trainings?state=expiring'), 200);
    expect(expiring.items.map((t) => [t.practitionerId, t.state, t.daysLeft])).toEqual([['P2', 'expiring', 45]]);
    const expired = await json<TrainingList>(await get(`/api/emergency/trainings?state=expired&teamId=${team.id}`), 200);
    expect(expired).toMatchObject({ total: 1, items: [{ practitionerId: 'P1', state: 'expired' }] });
    const withCerts = await json<TeamDetail>(await get(`/api/emergency/teams/${team.id}`), 200);
    expect(withCerts.memberList.find((m) => m.practitionerId === 'P1')!.certificates).toEqual({ valid: 0, expiring: 0, expired: 1 });

    expect((await send('PUT', `/api/emergency/teams/${team.id}/rota`, { entries: [{ day: today, practitionerIds: ['P9'] }] })).status).toBe(
      422,
    );
    await json(
      await send('PUT', `/api/emergency/teams/${team.id}/rota`, {
        entries: [
          // Yesterday too: the mobilisation below is dated two hours ago, which is yesterday in
          // China between 00:00 and 02:00, and is judged by that day's rota.
          { day: addDays(today, -1), practitionerIds: ['P1', 'P2'] },
          { day: today, practitionerIds: ['P1', 'P2'] },
          { day: addDays(today, 1), practitionerIds: ['P3'] },
        ],
      }),
      200,
    );
    const onCall = await json<OnCallView>(await get(`/api/emergency/on-call?unit=CDC1`), 200);
    expect(onCall.teams[0]!.onCall.map((m) => m.practitionerId)).toEqual(['P1', 'P2']);
    const tomorrow = await json<OnCallView>(await get(`/api/emergency/on-call?day=${addDays(today, 1)}`), 200);
    expect(tomorrow.teams[0]!.onCall.map((m) => m.name)).toEqual(['王队员']);
    const list = await json<{ items: TeamView[]; total: number }>(await get('/api/emergency/teams?unit=CDC1'), 200);
    expect(list).toMatchObject({ total: 1, items: [{ members: 3, onCallToday: 2 }] });
  });

  it('mobilises from an alert, tracks acknowledgements and flags the overdue ones', async () => {
    const teams = await json<{ items: TeamView[] }>(await get('/api/emergency/teams?unit=CDC1'), 200);
    const teamId = teams.items[0]!.id;
    expect((await post('/api/emergency/mobilisations', { source: { kind: 'alert', id: '7' }, teamIds: [999] })).status).toBe(404);
    const m = await json<MobilisationDetail>(
      await post('/api/emergency/mobilisations', {
        source: { kind: 'alert', id: '7' },
        teamIds: [teamId],
        onCallOnly: true,
        ackLimitMinutes: 30,
        at: ago(120),
        reason: '霍乱疑似病例',
      }),
      201,
    );
    expect(m.members.map((x) => x.practitionerId).sort()).toEqual(['P1', 'P2']);
    expect(m).toMatchObject({ notified: 2, pending: 2, overdue: 2, ackLimitMinutes: 30 });
    const acked = await json<MobilisationDetail>(
      await post(`/api/emergency/mobilisations/${m.id}/acknowledgements`, { practitionerId: 'P1', at: ago(100) }),
      200,
    );
    expect(acked.members.find((x) => x.practitionerId === 'P1')).toMatchObject({ overdue: false, late: false });
    expect((await post(`/api/emergency/mobilisations/${m.id}/acknowledgements`, { practitionerId: 'P1' })).status).toBe(409);
    expect((await post(`/api/emergency/mobilisations/${m.id}/acknowledgements`, { practitionerId: 'P3' })).status).toBe(404);
    // A second mobilisation, all members, default limit (routine: 60 min), just now: pending, not overdue.
    const all = await json<MobilisationDetail>(
      await post('/api/emergency/mobilisations', { source: { kind: 'investigation', id: '12' }, teamIds: [teamId] }),
      201,
    );
    expect(all).toMatchObject({ notified: 3, ackLimitMinutes: 60, overdue: 0 });
    const overdue = await json<PendingList>(await get('/api/emergency/acknowledgements/pending?overdue=true'), 200);
    expect(overdue).toMatchObject({
      total: 1,
      items: [{ practitionerId: 'P2', mobilisationId: m.id, overdue: true, source: { kind: 'alert', id: '7' } }],
    });
    const pending = await json<PendingList>(await get('/api/emergency/acknowledgements/pending?limit=2'), 200);
    expect(pending.total).toBe(4);
    expect(pending.items).toHaveLength(2);
    const late = await json<MobilisationDetail>(
      await post(`/api/emergency/mobilisations/${m.id}/acknowledgements`, { practitionerId: 'P2' }),
      200,
    );
    expect(late.members.find((x) => x.practitionerId === 'P2')).toMatchObject({ late: true, overdue: false });
  });

  it('keeps reserves by batch, issues first-expiring first, refuses an over-issue and an unknown unit, and computes cover and warnings', async () => {
    await json(await post('/api/emergency/units', { code: 'CHC1', name: '湖滨社区卫生服务中心', areaCode: '339902001001' }), 200);
    const r1 = await json<MovementAnswer>(
      await post('/api/emergency/reserves/receipts', {
        unit: 'CDC1',
        item: 'n95',
        batchNo: 'N-A',
        expiresOn: addDays(today, 20),
        quantity: 500,
      }),
      201,
    );
    expect(r1.warnings[0]).toMatch(/within 30 days/);
    await json(
      await post('/api/emergency/reserves/receipts', {
        unit: 'CDC1',
        item: 'n95',
        batchNo: 'N-B',
        expiresOn: addDays(today, 60),
        quantity: 1000,
      }),
      201,
    );
    await json(
      await post('/api/emergency/reserves/receipts', {
        unit: 'CDC1',
        item: 'n95',
        batchNo: 'N-C',
        expiresOn: addDays(today, 700),
        quantity: 2000,
      }),
      201,
    );
    await json(
      await post('/api/emergency/reserves/receipts', {
        unit: 'CDC1',
        item: 'n95',
        batchNo: 'N-X',
        expiresOn: addDays(today, -3),
        quantity: 80,
      }),
      201,
    );
    expect(
      (
        await post('/api/emergency/reserves/receipts', {
          unit: 'CDC1',
          item: 'n95',
          batchNo: 'N-A',
          expiresOn: addDays(today, 21),
          quantity: 1,
        })
      ).status,
    ).toBe(422);
    expect((await post('/api/emergency/reserves/receipts', { unit: 'CDC1', item: 'plutonium', batchNo: 'Z', quantity: 1 })).status).toBe(
      422,
    );

    const issued = await json<MovementAnswer>(
      await post('/api/emergency/reserves/issues', { unit: 'CDC1', item: 'n95', quantity: 700, to: '第一流调队' }),
      201,
    );
    expect(issued.movements.map((m) => [m.batchNo, m.quantity])).toEqual([
      ['N-A', 500],
      ['N-B', 200],
    ]);
    const before = await json<MovementList>(await get('/api/emergency/reserves/movements?unit=CDC1'), 200);
    const over = await post('/api/emergency/reserves/issues', { unit: 'CDC1', item: 'n95', quantity: 2801 });
    expect(over.status).toBe(409);
    expect(await over.text()).toMatch(/only 2800 in unexpired stock \(80 more expired, not issued\); nothing was written/);
    const after = await json<MovementList>(await get('/api/emergency/reserves/movements?unit=CDC1'), 200);
    expect(after.total).toBe(before.total);
    expect((await post('/api/emergency/reserves/transfers', { fromUnit: 'CDC1', toUnit: 'GHOST', item: 'n95', quantity: 10 })).status).toBe(
      422,
    );
    expect((await post('/api/emergency/reserves/transfers', { fromUnit: 'CDC1', toUnit: 'CDC1', item: 'n95', quantity: 10 })).status).toBe(
      400,
    );

    const t = await json<MovementAnswer>(
      await post('/api/emergency/reserves/transfers', { fromUnit: 'CDC1', toUnit: 'CHC1', item: 'n95', quantity: 900 }),
      201,
    );
    expect(t.movements.map((m) => [m.kind, m.unit, m.batchNo, m.quantity])).toEqual([
      ['transfer-out', 'CDC1', 'N-B', 800],
      ['transfer-in', 'CHC1', 'N-B', 800],
      ['transfer-out', 'CDC1', 'N-C', 100],
      ['transfer-in', 'CHC1', 'N-C', 100],
    ]);
    const chcStock = await json<StockList>(await get('/api/emergency/reserves/stock?unit=CHC1'), 200);
    expect(chcStock.items.map((b) => [b.batchNo, b.quantity, b.expiry])).toEqual([
      ['N-B', 800, 'within-90'],
      ['N-C', 100, null],
    ]);
    // The movement log is append-only, in the database itself.
    await expect(server().db.query('UPDATE em_movement SET quantity = 1')).rejects.toThrow(/append-only/);

    // CDC1: 1,900 usable; scenario 100/day (default) but 700 issued in 30 days → 23.3/day observed; 19 days < 30.
    await json(await send('PUT', '/api/emergency/reserves/scenario-use', { unit: 'CHC1', uses: [{ item: 'n95', dailyUse: 20 }] }), 200);
    const cov = await json<CoverList>(await get('/api/emergency/reserves/cover?unit=CDC1'), 200);
    const n95 = cov.items[0]!.items.find((i) => i.item === 'n95')!;
    expect(n95).toMatchObject({
      stock: 1900,
      observedDailyUse: 23.333,
      scenarioDailyUse: 100,
      rateBasis: 'scenario',
      emergencyDays: 19,
      meetsStandard: false,
      shortfall: 1100,
    });
    expect(cov.items[0]!.meetsStandard).toBe(false);
    const chc = (await json<CoverList>(await get('/api/emergency/reserves/cover?unit=CHC1'), 200)).items[0]!;
    expect(chc.items.find((i) => i.item === 'n95')).toMatchObject({ stock: 900, emergencyDays: 45, meetsStandard: true });
    const warn = await json<WarningList>(await get('/api/emergency/reserves/warnings?unit=CDC1'), 200);
    expect(warn.items.filter((w) => w.kind !== 'below-standard').map((w) => [w.kind, w.batchNo, w.window])).toEqual([
      ['expired', 'N-X', null],
    ]);
    expect(warn.items.some((w) => w.kind === 'below-standard' && w.item === 'n95')).toBe(true);
    const near = await json<WarningList>(await get('/api/emergency/reserves/warnings?kind=near-expiry'), 200);
    expect(near.items.map((w) => [w.unit, w.batchNo, w.window])).toEqual([['CHC1', 'N-B', 90]]);
  });

  it('switches emergency mode (audited), answers currentMode by area and lists units missing their zero report', async () => {
    const s = server();
    const started = await json<ModeAnswer>(
      await post('/api/emergency/modes', { areaCode: '339902001', level: 'III', reason: '霍乱聚集性疫情' }),
      201,
    );
    expect(started).toMatchObject({ mode: { level: 'III', active: true }, replaced: null });
    expect((await post('/api/emergency/modes', { areaCode: '339902001', level: 'III', reason: 'again' })).status).toBe(409);
    const raised = await json<ModeAnswer>(
      await post('/api/emergency/modes', { areaCode: '339902001', level: 'II', reason: '疫情扩散' }),
      201,
    );
    expect(raised.replaced).toMatchObject({ id: started.mode.id, active: false });
    const here = await json<CurrentModeView>(await get('/api/emergency/modes/current?areaCode=339902001001'), 200);
    expect(here).toMatchObject({
      emergency: true,
      level: 'II',
      settings: { labMode: 'emergency', zeroReporting: 'daily', reportDeadlineHours: 2 },
    });
    const elsewhere = await json<CurrentModeView>(await get('/api/emergency/modes/current?areaCode=339902002001'), 200);
    expect(elsewhere).toMatchObject({ emergency: false, level: null, settings: { labMode: 'routine' } });
    // A card diagnosed while level II is in force for its area is due in the mode's 2 h; elsewhere in the
    // disease's 24 h (influenza, 丙类). The mode in force at diagnosis decides.
    const diagnosed = new Date().toISOString();
    const cardIn = async (areaCode: string, n: number) => {
      const r = await post('/api/report-cards', {
        cardId: `EM-${n}-${Date.now()}`,
        cardType: 'initial',
        correctsCardId: null,
        name: `应急${n}`,
        idType: '99',
        idNumber: null,
        sex: '1',
        birthDate: '1980-05-06',
        phone: '13800000000',
        residenceCategory: '本县区',
        address: {
          province: '浙江省',
          city: '安澜市',
          county: '望川区',
          township: '临江街道',
          village: '湖滨社区',
          houseNumber: `${n}号`,
          areaCode,
        },
        occupationClass: { code: '09', name: '工人' },
        caseClassification: '确诊病例',
        onsetDate: diagnosed.slice(0, 10),
        diagnosisDateTime: diagnosed,
        disease: { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' },
        reportingOrganization: { id: 'org-CHC1', code: 'CHC1', name: '一号社区卫生服务中心' },
        reportingDoctor: '王医生',
        reportDate: new Date().toISOString(),
      });
      const body = await json<{ cardId: string; late: boolean }>(r, 201);
      const stored = await json<{ deadlineAt: string }>(await get(`/api/report-cards/${body.cardId}`), 200);
      return { hours: (Date.parse(stored.deadlineAt) - Date.parse(diagnosed)) / 3_600_000, late: body.late };
    };
    expect(await cardIn('339902001001', 1)).toEqual({ hours: 2, late: false });
    expect(await cardIn('339902002001', 2)).toEqual({ hours: 24, late: false });
    // An investigation of measles (乙类, 24 h by its rule) opened there is due in the level's 2 h; elsewhere in 24 h.
    // Two different people (names and birth dates apart): with one name and nothing else the
    // master patient index may link them as one resident, whose second investigation is refused.
    const investigationHours = async (areaCode: string, id: string, name: string, birthDate: string) => {
      const put = await s.api(`/fhir/Patient/${id}`, {
        method: 'PUT',
        body: JSON.stringify({
          resourceType: 'Patient',
          id,
          name: [{ text: name }],
          birthDate,
          address: [{ use: 'home', extension: [{ url: AREA_CODE_EXTENSION, valueCode: areaCode }] }],
        }),
      });
      expect(put.status).toBeLessThan(300);
      const inv = await json<{ deadlineAt: string; openedAt: string }>(
        await post('/api/investigations', { patientId: id, diseaseCode: 'B05.9' }),
        201,
      );
      return Math.round((Date.parse(inv.deadlineAt) - Date.parse(inv.openedAt)) / 3_600_000);
    };
    expect(await investigationHours('339902001001', 'em-inv-1', '陈应急', '1980-03-04')).toBe(2);
    expect(await investigationHours('339902002001', 'em-inv-2', '刘流调', '1992-11-20')).toBe(24);
    // The exported function other modules call; an exercise mode never counts for it.
    await json(await post('/api/emergency/modes', { level: 'I', reason: '演练', exercise: true }), 201);
    expect((await currentMode(s.db, '339902002001')).emergency).toBe(false);
    expect((await currentMode(s.db, '339902002001', new Date(), { includeExercise: true })).level).toBe('I');
    expect((await currentMode(s.db, '339902001001', new Date(Date.now() - 86_400_000))).emergency).toBe(false);

    // CHC1 (339902001001) is under level II: it must report daily; CDC1 (339902) is not.
    const missing = await json<MissingList>(await get('/api/emergency/zero-reports/missing'), 200);
    expect(missing).toMatchObject({ required: 1, reported: 0, items: [{ unit: 'CHC1', level: 'II' }] });
    const zr = await json<{ zero: boolean; replaced: boolean }>(
      await post('/api/emergency/zero-reports', { unit: 'CHC1', counts: { fever: 0, diarrhoea: 0 } }),
      200,
    );
    expect(zr).toMatchObject({ zero: true, replaced: false });
    const again = await json<{ zero: boolean; replaced: boolean }>(
      await post('/api/emergency/zero-reports', { unit: 'CHC1', counts: { diarrhoea: 2 } }),
      200,
    );
    expect(again).toMatchObject({ zero: false, replaced: true });
    expect(await json<MissingList>(await get('/api/emergency/zero-reports/missing'), 200)).toMatchObject({
      required: 1,
      reported: 1,
      total: 0,
    });
    expect((await post('/api/emergency/zero-reports', { unit: 'CHC1', day: addDays(today, 1) })).status).toBe(422);

    const ended = await json<{ active: boolean }>(await post(`/api/emergency/modes/${raised.mode.id}/end`, { reason: '疫情结束' }), 200);
    expect(ended.active).toBe(false);
    expect((await post(`/api/emergency/modes/${raised.mode.id}/end`, { reason: 'again' })).status).toBe(409);
    const audit = (await (await get('/fhir/AuditEvent?subtype=emergency-mode&_count=50')).json()) as {
      entry?: { resource: { outcomeDesc?: string } }[];
    };
    expect(audit.entry?.map((e) => e.resource.outcomeDesc)).toEqual(
      expect.arrayContaining([
        '339902001: routine → level III — 霍乱聚集性疫情',
        '339902001: level III → II — 疫情扩散',
        '339902001: level II → routine — 疫情结束',
      ]),
    );
  });

  it('runs a drill end to end on synthetic data and reports each step’s timing', async () => {
    const teams = await json<{ items: TeamView[] }>(await get('/api/emergency/teams?unit=CDC1'), 200);
    const d = await json<DrillView>(
      await post('/api/emergency/drills', {
        name: '霍乱疫情处置演练',
        teamIds: [teams.items[0]!.id],
        targetSeconds: { mobilise: 0.000001 },
      }),
      201,
    );
    expect(d).toMatchObject({ exercise: true, status: 'planned', report: null });
    const t0 = Date.now();
    const ran = await json<DrillView>(await post(`/api/emergency/drills/${d.id}/run`, {}), 200);
    const elapsed = Date.now() - t0;
    const r = ran.report!;
    expect(ran.status).toBe('done');
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['alert', 'done'],
      ['mobilise', 'done'],
      ['investigation', 'done'],
      ['specimen', 'done'],
      ['result', 'done'],
    ]);
    for (const s of r.steps.filter((x) => x.status === 'done')) {
      expect(s.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(s.endedAt!)).toBeGreaterThanOrEqual(Date.parse(s.startedAt!));
      expect(Date.parse(s.startedAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
      expect(Date.parse(s.endedAt!)).toBeLessThanOrEqual(Date.parse(r.endedAt));
    }
    const [alert, mob] = r.steps;
    expect(Date.parse(mob!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(alert!.endedAt!));
    expect(alert!.refs.some((x) => /^alert \d+$/.test(x))).toBe(true);
    expect(alert!.late).toBe(false); // 60 s target
    expect(mob!.late).toBe(true); // a target of a microsecond
    expect(r.late).toEqual(['mobilise']);
    expect(r.skipped).toEqual([]);
    expect(r.failed).toEqual([]);
    // The steps run in order, each after the one before it.
    for (let i = 1; i < r.steps.length; i++)
      expect(Date.parse(r.steps[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(r.steps[i - 1]!.endedAt!));
    // The investigation is a real one, opened from the drill's report card for its synthetic resident.
    expect(r.steps[2]!.refs[0]).toMatch(/^investigation \d+$/);
    const inv = await json<{ patientId: string; source: string; diseaseName: string }>(
      await get(`/api/investigations/${r.steps[2]!.refs[0]!.slice('investigation '.length)}`),
      200,
    );
    expect(inv).toMatchObject({ source: 'report-card', diseaseName: '霍乱' });
    expect(inv.patientId).toMatch(/^drill-/);
    // The specimen is a real one in the lab loop: an emergency order for the synthetic resident under
    // the investigation, collected, shipped, received and tested, then a verified positive, reported.
    const [, , , specimen, result] = r.steps;
    const barcode = `DRILL-${d.id}-1`;
    expect(specimen!.refs).toEqual(expect.arrayContaining([`specimen ${barcode}`]));
    expect(result!.refs).toEqual([`specimen ${barcode}`]);
    expect(specimen!.late).toBe(false);
    expect(result!.late).toBe(false);
    const sp = await json<{
      state: string;
      mode: string;
      patientId: string;
      result: { value: string; interpretation: string } | null;
      order: { investigationId: string | null; testCode: string };
      events: { step: string; byUser: string }[];
      custody: { ok: boolean };
    }>(await get(`/api/lab/specimens/${barcode}`), 200);
    expect(sp).toMatchObject({
      state: 'reported',
      mode: 'emergency',
      patientId: inv.patientId,
      result: { interpretation: 'positive' },
      order: { investigationId: r.steps[2]!.refs[0]!.slice('investigation '.length), testCode: 'VCHO' },
      custody: { ok: true },
    });
    expect(sp.events.map((e) => e.step)).toEqual(['collect', 'ship', 'receive', 'test', 'result', 'verify', 'report']);
    const labAudit = (await (await get('/fhir/AuditEvent?subtype=lab-verify&_count=10')).json()) as {
      entry?: { resource: { outcomeDesc?: string } }[];
    };
    expect(labAudit.entry?.map((e) => e.resource.outcomeDesc)).toContain(`exercise, drill ${d.id}`);
    expect(r.totalMs).toBeLessThanOrEqual(elapsed);
    expect(r.summary).toMatch(/5 of 5 steps done .* late: mobilise/);
    console.log(`[emergency] drill: ${r.summary}`);
    // The mobilisation is an exercise, named after the drill's alert.
    const mobs = await json<{ items: { exercise: boolean; source: { id: string } }[] }>(
      await get('/api/emergency/mobilisations?sourceKind=alert'),
      200,
    );
    expect(mobs.items[0]).toMatchObject({ exercise: true, source: { id: alert!.refs.find((x) => x.startsWith('alert '))!.slice(6) } });
    expect((await post(`/api/emergency/drills/${d.id}/run`, {})).status).toBe(409);
    expect((await json<{ total: number }>(await get('/api/emergency/drills'), 200)).total).toBe(1);
  });
});
