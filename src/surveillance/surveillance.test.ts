import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeIdNumber } from '../shared/id-number.js';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describeEachStore } from '../app/testing.js';
import { loadDistrictGeographyJson } from './geography.js';
import { surveillanceRuntime } from './module.js';

// The test receiver listens on 127.0.0.1, which production refuses as a webhook target.
process.env.WEBHOOKS_CONFIG = fileURLToPath(new URL('../../config/security/webhooks.test.json', import.meta.url));

const AREA = '339902001001';
const STREET = '339902001000';

function card(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cardId: 'T-0001',
    cardType: 'initial',
    correctsCardId: null,
    name: '测试甲',
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber('339902', '1980-05-06', 123),
    sex: '1',
    birthDate: '1980-05-06',
    age: null,
    workUnit: null,
    phone: '13800000000',
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '临江街道',
      village: '湖滨社区',
      houseNumber: '龙潭路1号',
      areaCode: AREA,
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    chronicity: null,
    onsetDate: '2025-03-01',
    diagnosisDateTime: '2025-03-02T10:00:00+08:00',
    deathDate: null,
    disease: { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' },
    correctedDiseaseName: null,
    reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    reportingDoctor: '王医生',
    reportDate: '2025-03-02T12:00:00+08:00',
    patientRef: null,
    facilityPatientId: 'X1',
    remarks: null,
    ...over,
  };
}

describeEachStore('surveillance', (server) => {
  const json = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const runtime = () => surveillanceRuntime.get(server().db)!;

  beforeAll(async () => {
    await loadDistrictGeographyJson(server().db, {
      district: { code: '339902', name: '望川区' },
      streets: [
        {
          code: STREET,
          name: '临江街道',
          polygon: {
            type: 'Polygon',
            coordinates: [
              [
                [120, 29],
                [120.1, 29],
                [120.1, 29.1],
                [120, 29],
              ],
            ],
          },
          centroid: [120.05, 29.05],
        },
      ],
      communities: [{ code: AREA, name: '湖滨社区', streetCode: STREET, centroid: [120.05, 29.05] }],
    });
  });

  it('accepts a complete report card and rejects bad ones naming the field', async () => {
    const ok = await server().api('/api/report-cards', json(card()));
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ cardId: 'T-0001', status: 'accepted', late: false });
    const noName = await server().api('/api/report-cards', json(card({ cardId: 'T-0002', name: '' })));
    expect(noName.status).toBe(400);
    expect(JSON.stringify(await noName.json())).toContain('name');
    const badId = await server().api('/api/report-cards', json(card({ cardId: 'T-0003', idNumber: '339902198005061230' })));
    expect(badId.status).toBe(400);
    expect(JSON.stringify(await badId.json())).toContain('idNumber');
    // An array: per-card results; the second card for the same person and disease is a duplicate, the late one is flagged.
    const many = await server().api(
      '/api/report-cards',
      json([card({ cardId: 'T-0004', reportDate: '2025-03-04T12:00:00+08:00' }), card({ cardId: 'T-0005', onsetDate: 'not a date' })]),
    );
    const body = (await many.json()) as {
      accepted: number;
      rejected: number;
      results: { status: string; duplicateOf?: string; late?: boolean; errors?: { field: string }[] }[];
    };
    expect(body.accepted).toBe(1);
    expect(body.results[0]).toMatchObject({ status: 'accepted', duplicateOf: 'T-0001', late: true });
    expect(body.results[1]!.errors![0]!.field).toBe('onsetDate');
    const stats = (await (await server().api('/api/report-cards/stats')).json()) as {
      facility: string;
      late: number;
      duplicate: number;
      incomplete: number;
    }[];
    expect(stats.find((s) => s.facility === '339902GH001')).toMatchObject({ late: 1, duplicate: 1 });
    expect(stats.find((s) => s.facility === '339902GH001')!.incomplete).toBeGreaterThanOrEqual(3);
    // The card is a FHIR Task too.
    const task = (await (await server().api('/fhir/Task/rc-T-0001')).json()) as { status: string; identifier: { value: string }[] };
    expect(task).toMatchObject({ status: 'requested', identifier: [{ value: 'T-0001' }] });
  });

  it('drafts a card when a notifiable diagnosis is recorded; submit, review and version checks', async () => {
    const s = server();
    await s.api('/fhir/Patient/p-draft', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Patient',
        id: 'p-draft',
        gender: 'female',
        birthDate: '2015-02-03',
        name: [{ text: '测试乙' }],
        identifier: [{ system: 'urn:oid:1.2.156.112606.1.2.1', value: makeIdNumber('339902', '2015-02-03', 124) }],
        address: [
          {
            use: 'home',
            extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/area-code', valueString: AREA }],
            line: ['临江街道湖滨社区', '龙潭路2号'],
          },
        ],
      }),
    });
    await s.api('/fhir/Encounter/e-draft', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Encounter',
        id: 'e-draft',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/p-draft' },
        period: { start: '2025-04-01T09:00:00+08:00' },
        reasonCode: [{ text: '发热3天，出疹1天' }],
        serviceProvider: { reference: 'Organization/org-339902GH001' },
      }),
    });
    const cond = await s.api('/fhir/Condition/c-draft', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Condition',
        id: 'c-draft',
        code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'B05.9' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
        subject: { reference: 'Patient/p-draft' },
        encounter: { reference: 'Encounter/e-draft' },
        recordedDate: '2025-04-01T09:30:00+08:00',
        onsetDateTime: '2025-03-29',
      }),
    });
    expect(cond.status).toBeLessThan(300);
    await s.processors.drain();
    const list = (await (await s.api('/api/report-cards?status=draft')).json()) as {
      total: number;
      counts: Record<string, number>;
      cards: { id: string; version: number; deadlineAt: string; card: Record<string, unknown> }[];
    };
    const draft = list.cards.find((c) => c.id === 'Dc-draft')!;
    // The tabs' counts: per status whatever the status filter, with "all" and the drafts past their deadline.
    expect(list.counts.draft).toBe(list.total);
    expect(list.counts.all).toBeGreaterThanOrEqual(list.total);
    expect(list.counts.overdue).toBeGreaterThanOrEqual(1); // diagnosed 2025-04-01: long past its 24 h
    const all = (await (await s.api('/api/report-cards?limit=1')).json()) as {
      total: number;
      cards: unknown[];
      counts: Record<string, number>;
    };
    expect(all.total).toBe(all.counts.all);
    expect(all.cards).toHaveLength(1);
    // The same filtered list as a file: Excel, and CSV in GB18030 for Chinese Excel, in words.
    const csv = await s.api('/api/report-cards/export?status=draft&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv; charset=gb18030/);
    expect(csv.headers.get('content-disposition')).toMatch(/filename\*=UTF-8''%E4%BC%A0%E6%9F%93%E7%97%85/);
    const text = iconv.decode(Buffer.from(await csv.arrayBuffer()), 'gb18030');
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('姓名,疾病,病例分类,报告单位,诊断时间,状态,迟报,重卡,报告时限,卡片编号');
    expect(lines).toHaveLength(list.total + 1);
    expect(lines.some((l) => l.includes('测试乙') && l.includes('麻疹') && l.includes('草稿'))).toBe(true);
    const xlsx = await s.api('/api/report-cards/export?status=draft');
    expect(xlsx.headers.get('content-type')).toMatch(/spreadsheetml/);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await xlsx.arrayBuffer());
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).toBe('姓名');
    expect(sheet.rowCount).toBe(list.total + 1);
    expect(draft).toBeDefined();
    expect(draft.deadlineAt).toBe('2025-04-02T01:30:00.000Z'); // 24 h after diagnosis
    expect(draft.card).toMatchObject({ name: '测试乙', sex: '2', birthDate: '2015-02-03', disease: { name: '麻疹', icd10: 'B05.9' } });
    // Mandatory fields missing: rejected naming the field.
    const incomplete = await s.api(`/api/report-cards/${draft.id}/submit`, json({ version: draft.version }));
    expect(incomplete.status).toBe(400);
    expect(JSON.stringify(await incomplete.json())).toMatch(/occupationClass|reportingDoctor/);
    const complete = {
      occupationClass: { code: '03', name: '学生(大中小学)' },
      reportingDoctor: '李医生',
      caseClassification: '临床诊断病例',
      reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    };
    const stale = await s.api(`/api/report-cards/${draft.id}/submit`, json({ version: draft.version + 5, card: complete }));
    expect(stale.status).toBe(409);
    const submitted = await s.api(`/api/report-cards/${draft.id}/submit`, json({ version: draft.version, card: complete }));
    expect(submitted.status).toBe(200);
    const sub = (await submitted.json()) as { status: string; version: number; late: boolean };
    expect(sub.status).toBe('submitted');
    expect(sub.late).toBe(true); // submitted long after the 2025 diagnosis
    const noReason = await s.api(`/api/report-cards/${draft.id}/review`, json({ action: 'return', version: sub.version }));
    expect(noReason.status).toBe(400);
    const approved = await s.api(`/api/report-cards/${draft.id}/review`, json({ action: 'approve', version: sub.version }));
    expect(((await approved.json()) as { status: string }).status).toBe('reviewed');
    const again = await s.api(`/api/report-cards/${draft.id}/review`, json({ action: 'approve', version: sub.version + 1 }));
    expect(again.status).toBe(409);
    const detail = (await (await s.api(`/api/report-cards/${draft.id}`)).json()) as { events: { action: string }[] };
    expect(detail.events.map((e) => e.action)).toEqual(['draft', 'submit', 'approve']);
  });

  it('classifies visits and keeps syndrome and ILI counts as records arrive', async () => {
    const s = server();
    await s.api('/fhir/Encounter/e-ili', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Encounter',
        id: 'e-ili',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/p-draft' },
        period: { start: '2025-05-01T09:00:00+08:00' },
        reasonCode: [{ text: '咳嗽2天' }],
        serviceProvider: { reference: 'Organization/org-339902GH001' },
      }),
    });
    await s.processors.drain();
    const q = async (signal: string) =>
      (
        await s.db.query<{ n: number; denom: number }>(
          `SELECT coalesce(sum(n),0)::int AS n, coalesce(sum(denom),0)::int AS denom FROM signal_count WHERE signal = $1 AND day = '2025-05-01'`,
          [signal],
        )
      ).rows[0]!;
    expect(await q('ili')).toEqual({ n: 0, denom: 1 });
    // The temperature arrives later: the same visit becomes ILI and febrile-respiratory.
    await s.api('/fhir/Observation/o-ili', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Observation',
        id: 'o-ili',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] },
        subject: { reference: 'Patient/p-draft' },
        encounter: { reference: 'Encounter/e-ili' },
        effectiveDateTime: '2025-05-01T09:05:00+08:00',
        valueQuantity: { value: 38.6, unit: 'Cel', system: 'http://unitsofmeasure.org', code: 'Cel' },
      }),
    });
    await s.processors.drain();
    expect(await q('ili')).toEqual({ n: 1, denom: 1 });
    expect((await q('syndrome:fever_respiratory')).n).toBe(1);
    const byAge = (await (await s.api('/api/surveillance/ili?from=2025-05-01&to=2025-05-01&by=age_group')).json()) as {
      key: string;
      percent: number;
    }[];
    expect(byAge).toEqual([expect.objectContaining({ key: '5-14', percent: 100 })]);
  });

  it('alerts at once on one case of a fixed-threshold disease, with workflow, discussion and 409s', async () => {
    const s = server();
    const t0 = Date.now();
    const r = await s.api(
      '/api/report-cards',
      json(
        card({
          cardId: 'T-CHOLERA',
          idNumber: makeIdNumber('339902', '1970-01-02', 111),
          disease: { name: '霍乱', icd10: 'A00.1', subtype: null, class: '甲' },
          diagnosisDateTime: '2025-06-07T08:00:00+08:00',
          onsetDate: '2025-06-06',
          reportDate: '2025-06-07T09:00:00+08:00',
        }),
      ),
    );
    expect(r.status).toBe(201);
    let alerts: {
      id: number;
      status: string;
      level: string;
      areaCode: string;
      sources: string[];
      firstEvidenceAt: string;
      lastEvidenceAt: string;
      createdAt: string;
      version: number;
    }[] = [];
    // (The measles card of an earlier test has its own red alert: measles is fixed-threshold too.)
    const cholera = () => alerts.find((a) => a.firstEvidenceAt.startsWith('2025-06-07'));
    // The alert should appear within seconds (the figure is printed; a loaded CI machine must not fail it on time alone).
    while (Date.now() - t0 < 30_000) {
      alerts = ((await (await s.api('/api/alerts?limit=1000')).json()) as { rows: typeof alerts }).rows;
      if (cholera()) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    console.log(`[surveillance] fixed-threshold alert visible ${Date.now() - t0} ms after the card`);
    expect(cholera()).toMatchObject({ status: 'new', level: 'red', areaCode: STREET, sources: ['case-report'] });
    const first = cholera()!;
    const id = first.id;
    const path = `/api/alerts/${id}/transitions`;
    expect((await s.api(path, json({ to: 'closed', version: first.version, reason: 'x' }))).status).toBe(409);
    expect((await s.api(path, json({ to: 'triage', version: first.version }))).status).toBe(400);
    // Two people act at once with the same version: one wins, the other gets 409.
    const [a, b] = await Promise.all([
      s.api(path, json({ to: 'triage', version: first.version, assignee: '张医生' })),
      s.api(path, json({ to: 'triage', version: first.version, assignee: '李医生' })),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const tri = (await (a.status === 200 ? a : b).json()) as { version: number; status: string };
    expect(tri.status).toBe('triage');
    const conf = (await (await s.api(path, json({ to: 'confirmed', version: tri.version, reason: '实验室确认霍乱弧菌O1' }))).json()) as {
      version: number;
    };
    const resp = await s.api(path, json({ to: 'response', version: conf.version, reason: '启动流调' }));
    expect(resp.status).toBe(200);
    expect((await s.api(`/api/alerts/${id}/comments`, json({ body: '医院：患者已隔离；疾控：已派流调队' }))).status).toBe(201);
    const detail = (await (await s.api(`/api/alerts/${id}`)).json()) as {
      events: { action: string; to: string; actor: string; detail: { investigationTask?: string } }[];
      comments: unknown[];
      evidence: unknown[];
      nextSteps: string[];
    };
    expect(detail.events.map((e) => e.to ?? e.action)).toEqual(['new', 'triage', 'confirmed', 'response']);
    expect(detail.events[3]!.detail.investigationTask).toBeTruthy();
    expect(detail.comments).toHaveLength(1);
    expect(detail.nextSteps).toEqual(['closed']);
    const cases = (await (await s.api(`/api/alerts/${id}/cases`)).json()) as { id: string }[];
    expect(cases.map((c) => c.id)).toContain('T-CHOLERA');
    const series = (await (await s.api(`/api/alerts/${id}/series`)).json()) as {
      signal: string;
      observed: number[];
      threshold: (number | null)[];
    }[];
    expect(series[0]!.signal).toBe('report:cholera');
    expect(series[0]!.threshold).toContain(1);
    // Workflow steps and the discussion are audited in their own transactions (there at once).
    const audited =
      ((await (await s.api('/fhir/AuditEvent?subtype=alert-transition')).json()) as { entry?: { resource: { outcomeDesc?: string } }[] })
        .entry ?? [];
    expect(audited.map((e) => e.resource.outcomeDesc)).toEqual(expect.arrayContaining([`alert ${id}: confirmed → response — 启动流调`]));
    expect(((await (await s.api('/fhir/AuditEvent?subtype=alert-comment')).json()) as { entry?: unknown[] }).entry).toHaveLength(1);
  });

  it('corrects (订正) a card with a reason, keeps each field before and after, and audits every write in its transaction', async () => {
    const s = server();
    const audits = async (subtype: string) =>
      (
        (await (await s.api(`/fhir/AuditEvent?subtype=${subtype}`)).json()) as {
          entry?: { resource: { outcomeDesc?: string; entity: { what: { reference?: string; display?: string } }[] } }[];
        }
      ).entry?.map((e) => e.resource) ?? [];
    const posted = await s.api(
      '/api/report-cards',
      json(card({ cardId: 'T-0100', idNumber: makeIdNumber('339902', '1990-01-02', 321), name: '测试订正' })),
    );
    expect(posted.status).toBe(201);
    // Audited in the writing transaction: there at once, no buffer flush awaited.
    expect((await audits('report-card-submit')).some((a) => a.entity.some((x) => x.what.reference === 'Task/rc-T-0100'))).toBe(true);
    const path = '/api/report-cards/T-0100/correct';
    const before = (await (await s.api('/api/report-cards/T-0100')).json()) as { version: number };
    const noReason = await s.api(path, json({ version: before.version, corrections: { caseClassification: '临床诊断病例' } }));
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(await noReason.json())).toContain('reason');
    const stale = await s.api(
      path,
      json({ version: before.version + 3, reason: '复核病历', corrections: { caseClassification: '临床诊断病例' } }),
    );
    expect(stale.status).toBe(409);
    expect(await audits('report-card-correct')).toEqual([]); // a refused write leaves no audit event
    const corrected = await s.api(
      path,
      json({
        version: before.version,
        reason: '复核病历：无实验室确认',
        corrections: { caseClassification: '临床诊断病例', onsetDate: '2025-02-28' },
      }),
    );
    expect(corrected.status).toBe(200);
    expect(await corrected.json()).toMatchObject({
      status: 'reviewed',
      caseClassification: '临床诊断病例',
      onsetDate: '2025-02-28',
      version: before.version + 1,
    });
    const detail = (await (await s.api('/api/report-cards/T-0100')).json()) as {
      events: {
        action: string;
        reason: string;
        detail: { changes: { field: string; before: unknown; after: unknown }[]; previousVersion: number };
      }[];
    };
    const ev = detail.events.find((e) => e.action === 'correct')!;
    expect(ev.reason).toBe('复核病历：无实验室确认');
    expect(ev.detail.previousVersion).toBe(before.version);
    expect(ev.detail.changes).toEqual(
      expect.arrayContaining([
        { field: 'caseClassification', before: '确诊病例', after: '临床诊断病例' },
        { field: 'onsetDate', before: '2025-03-01', after: '2025-02-28' },
      ]),
    );
    // The prior version stays readable in the FHIR Task's history too.
    const history = (await (await s.api('/fhir/Task/rc-T-0100/_history')).json()) as { entry: unknown[] };
    expect(history.entry.length).toBeGreaterThanOrEqual(2);
    const audit = await audits('report-card-correct');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.outcomeDesc).toContain('caseClassification');
    // Nothing left to change: 400, not an empty correction.
    const same = await s.api(path, json({ version: before.version + 1, reason: 'x', corrections: { caseClassification: '临床诊断病例' } }));
    expect(same.status).toBe(400);
  });

  it('joins signals from different sources in one area into one alert and updates it as evidence grows', async () => {
    const s = server();
    const ins = (signal: string, source: string, area: string, day: string, p: number) =>
      s.db.query(
        `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm) VALUES ($1, $2, $3, 'earsC', $4, 5, 3, 1, $5, true)`,
        [signal, area, day, source, p],
      );
    const engine = runtime().engine;
    const { fuseDays } = await import('./alerts/fusion.js');
    const area = '339902003001';
    // Two sources raise an alert only when their joint p clears fusion.json's events.raiseMaxJointP (1e-4).
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902003000', '2025-08-01', 0.001);
    let r = await fuseDays(s.db, engine.config.fusion, { from: '2025-08-01', to: '2025-08-01' });
    expect(r.created).toEqual([]); // one weak source: a watch signal, not an alert
    await ins('lab:SAL', 'lab', '339902003000', '2025-08-02', 0.002);
    r = await fuseDays(s.db, engine.config.fusion, { from: '2025-08-02', to: '2025-08-02' });
    expect(r.created).toHaveLength(1);
    const id = r.created[0]!;
    let a = (await (await s.api(`/api/alerts/${id}`)).json()) as {
      level: string;
      sources: string[];
      version: number;
      evidence: unknown[];
      firstEvidenceAt: string;
      lastEvidenceAt: string;
    };
    expect(a).toMatchObject({ level: 'orange', sources: ['clinic-syndrome', 'lab'] });
    expect(a.firstEvidenceAt.slice(0, 10)).toBe('2025-08-01');
    await ins('school:illness_absence', 'school', '339902003000', '2025-08-04', 0.03);
    r = await fuseDays(s.db, engine.config.fusion, { from: '2025-08-03', to: '2025-08-04' });
    expect(r.created).toEqual([]);
    expect(r.updated).toEqual([id]);
    a = (await (await s.api(`/api/alerts/${id}`)).json()) as typeof a;
    expect(a.level).toBe('red');
    expect(a.sources).toEqual(['clinic-syndrome', 'lab', 'school']);
    expect(a.evidence).toHaveLength(3);
    expect(a.lastEvidenceAt.slice(0, 10)).toBe('2025-08-04');
    void area;
  });

  it('freezes an alert once its evidence spans maxSpanDays; later signals open a new alert', async () => {
    const s = server();
    const cfg = runtime().engine.config.fusion;
    const span = cfg.maxSpanDays!;
    expect(span).toBeGreaterThanOrEqual(cfg.windowDays);
    const { fuseDays } = await import('./alerts/fusion.js');
    const { addDays } = await import('../shared/dates.js');
    const street = '339902009000';
    const first = '2026-01-01';
    // Two sources alarm every day for span + 10 days: a continuing rise, never a quiet window.
    for (let i = 0; i < span + 10; i++) {
      const day = addDays(first, i);
      for (const [signal, source] of [
        ['syndrome:diarrhoea', 'clinic-syndrome'],
        ['lab:NOV', 'lab'],
      ])
        await s.db.query(
          `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm) VALUES ($1, $2, $3, 'earsC', $4, 5, 3, 1, 0.001, true)`,
          [signal, street, day, source],
        );
    }
    const r = await fuseDays(s.db, cfg, { from: first, to: addDays(first, span + 9) });
    expect(r.created).toHaveLength(2);
    const [a, b] = await Promise.all(
      r.created.map(
        async (id) =>
          (await (await s.api(`/api/alerts/${id}`)).json()) as {
            firstEvidenceAt: string;
            lastEvidenceAt: string;
            events: { action: string; detail: { continuedBy?: number } }[];
          },
      ),
    );
    expect(a!.firstEvidenceAt.slice(0, 10)).toBe(first);
    // The first alert stops growing at its span; the second starts the day after.
    expect(a!.lastEvidenceAt.slice(0, 10)).toBe(addDays(first, span - 1));
    expect(b!.firstEvidenceAt.slice(0, 10)).toBe(addDays(first, span));
    expect(b!.lastEvidenceAt.slice(0, 10)).toBe(addDays(first, span + 9));
    expect(a!.events.find((e) => e.action === 'frozen')!.detail.continuedBy).toBe(r.created[1]);
  });

  it('joins the same signal rising in a neighbouring street of the district into the open alert', async () => {
    const s = server();
    const cfg = runtime().engine.config.fusion;
    expect(cfg.spatialJoin?.level).toBe('district');
    const { fuseDays } = await import('./alerts/fusion.js');
    const ins = (signal: string, source: string, area: string, day: string, p: number) =>
      s.db.query(
        `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm) VALUES ($1, $2, $3, 'earsC', $4, 5, 3, 1, $5, true)`,
        [signal, area, day, source, p],
      );
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902007000', '2026-03-01', 0.001);
    await ins('report:otherDiarrhoea', 'case-report', '339902007000', '2026-03-01', 0.001);
    // Next street, next day: the same syndrome (joins) and an unrelated extreme signal (its own alert).
    await ins('syndrome:diarrhoea', 'clinic-syndrome', '339902008000', '2026-03-02', 0.02);
    await ins('pharmacy:cold', 'pharmacy', '339902006000', '2026-03-02', 1e-6);
    // The two streets are neighbours (a statistical alarm joins an alert of a neighbouring street only).
    const neighbours = new Map([
      ['339902007000', new Set(['339902008000'])],
      ['339902008000', new Set(['339902007000'])],
    ]);
    const r = await fuseDays(s.db, cfg, { from: '2026-03-01', to: '2026-03-02', neighbours });
    expect(r.created).toHaveLength(2);
    const joined = (await (await s.api(`/api/alerts/${r.created[0]}`)).json()) as {
      areaCode: string;
      areaCodes: string[];
      evidence: { areaCode: string }[];
      events: { action: string; reason: string }[];
    };
    expect(joined.areaCode).toBe('339902007000');
    expect(joined.areaCodes).toEqual(['339902007000', '339902008000']); // the board colours both streets
    expect([...new Set(joined.evidence.map((e) => e.areaCode))].sort()).toEqual(['339902007000', '339902008000']);
    expect(joined.events.some((e) => e.action === 'evidence')).toBe(true);
    const own = (await (await s.api(`/api/alerts/${r.created[1]}`)).json()) as { areaCode: string; level: string };
    expect(own).toMatchObject({ areaCode: '339902006000', level: 'yellow' });
  });

  it('alerts on a school class cluster (≥ 3 ill in one class on a day, or ≥ 5 in 3 days) from the absence feed', async () => {
    const s = server();
    await s.db.query(
      `INSERT INTO surv_place (code, name, kind, area_code) VALUES ('339902PS901', '湖滨小学', 'school', $1) ON CONFLICT (code) DO NOTHING`,
      [AREA],
    );
    const head = 'school_code,school_name,class_code,date,enrolled,absent,reason,symptom';
    const line = (cls: string, day: string, n: number) => `339902PS901,湖滨小学,${cls},${day},40,${n},病假,发热`;
    // Class A: 2 + 2 on two days (no rule yet), class B: 2 a day (5 within 3 days on the 3rd day).
    const csv = [
      head,
      line('A', '2025-09-08', 2),
      line('A', '2025-09-09', 2),
      line('B', '2025-09-08', 2),
      line('B', '2025-09-09', 2),
      line('B', '2025-09-10', 2),
      line('A', '2025-09-11', 3),
    ].join('\n');
    const up = await s.api('/api/surveillance/feeds/school-absenteeism', {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(up.status).toBeLessThan(300);
    await runtime().feeds?.drain?.();
    const r = await runtime().engine.flush();
    const series = (await (
      await s.api(`/api/surveillance/series?signal=school:class_cluster&area=${STREET}&from=2025-09-07&to=2025-09-12`)
    ).json()) as { observed: number[]; alarm: boolean[] };
    // 09-08: A 2, B 2 · 09-09: A 4/2d, B 4/2d · 09-10: B 6 in 3 days, A 4 · 09-11: A 3 that day (and 5 in 3 days), B 4.
    expect(series.observed).toEqual([0, 0, 0, 1, 1, 0]);
    expect(series.alarm.slice(3, 5)).toEqual([true, true]);
    void r; // the debounced on-arrival run may have fused first: look the alerts up
    const ids = (
      await s.db.query<{ alert_id: number }>(
        `SELECT DISTINCT alert_id FROM surv_alert_evidence WHERE signal LIKE 'school:%' AND day BETWEEN '2025-09-08' AND '2025-09-11'`,
      )
    ).rows.map((x) => Number(x.alert_id));
    const alerts = await Promise.all(
      ids.map(
        async (id) =>
          (await (await s.api(`/api/alerts/${id}`)).json()) as {
            level: string;
            sources: string[];
            evidence: { signal: string; day: string }[];
          },
      ),
    );
    const cluster = alerts.find((a) => a.evidence.some((e) => e.signal === 'school:class_cluster'));
    expect(cluster).toMatchObject({ level: 'yellow', sources: ['school'] });
    expect(cluster!.evidence.find((e) => e.signal === 'school:class_cluster')!.day).toBe('2025-09-10');
  });

  it('opens an alert on joint sub-threshold evidence of two sources and shows it as weak', async () => {
    const s = server();
    const cfg = runtime().engine.config.fusion;
    const { fuseDays } = await import('./alerts/fusion.js');
    const ins = (signal: string, source: string, day: string, p: number, alarm: boolean) =>
      s.db.query(
        `INSERT INTO surv_detection (signal, area_code, day, method, source, observed, threshold, expected, p_value, alarm) VALUES ($1, '339902011000', $2, 'earsC', $3, 5, 6, 1, $4, $5)`,
        [signal, day, source, p, alarm],
      );
    await ins('syndrome:fever_respiratory', 'clinic-syndrome', '2026-05-01', 1e-6, false);
    let r = await fuseDays(s.db, cfg, { from: '2026-05-01', to: '2026-05-01' });
    expect(r.created).toEqual([]); // one weak source: nothing
    await ins('pharmacy:antipyretic', 'pharmacy', '2026-05-02', 0.004, false);
    r = await fuseDays(s.db, cfg, { from: '2026-05-02', to: '2026-05-02' });
    expect(r.created).toHaveLength(1);
    const id = r.created[0]!;
    const a = (await (await s.api(`/api/alerts/${id}`)).json()) as {
      level: string;
      sources: string[];
      evidence: { signal: string; weak: boolean }[];
    };
    expect(a).toMatchObject({ level: 'yellow', sources: ['clinic-syndrome', 'pharmacy'] });
    expect(a.evidence.map((e) => e.weak)).toEqual([true, true]);
    const series = (await (await s.api(`/api/alerts/${id}/series`)).json()) as { signal: string; evidence: string }[];
    expect(series.map((x) => x.evidence)).toEqual(['weak', 'weak']);
    // Weak evidence does not extend an open alert; an alarm does.
    await ins('syndrome:fever_respiratory', 'clinic-syndrome', '2026-05-03', 0.01, false);
    await ins('lab:FLU_A', 'lab', '2026-05-03', 0.02, true);
    r = await fuseDays(s.db, cfg, { from: '2026-05-03', to: '2026-05-03' });
    expect(r).toEqual({ created: [], updated: [id] });
    const b = (await (await s.api(`/api/alerts/${id}`)).json()) as typeof a;
    expect(b.evidence.map((e) => `${e.signal}:${e.weak}`).sort()).toEqual([
      'lab:FLU_A:false',
      'pharmacy:antipyretic:true',
      'syndrome:fever_respiratory:true',
    ]);
  });

  it('posts webhooks and retries failed deliveries', async () => {
    let calls = 0;
    const received: unknown[] = [];
    const hook = http.createServer((req, res) => {
      calls++;
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        if (calls === 1) {
          res.writeHead(500).end();
          return;
        }
        received.push(JSON.parse(b));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as { port: number }).port;
      expect((await server().api('/api/surveillance/webhooks', json({ url: `http://127.0.0.1:${port}/hook`, secret: 's' }))).status).toBe(
        201,
      );
      await runtime().webhooks.enqueue('alert.test', null, { hello: 1 });
      const t0 = Date.now();
      while (!received.length && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 100));
      expect(received).toEqual([{ hello: 1 }]);
      expect(calls).toBe(2);
    } finally {
      hook.close();
    }
  });

  it('serves the district map and refuses bad series parameters', async () => {
    const geo = (await (await server().api('/api/surveillance/geography?level=street')).json()) as {
      features: { properties: { code: string } }[];
    };
    expect(geo.features[0]!.properties.code).toBe(STREET);
    const bad = await server().api('/api/surveillance/series?signal=ili&area=33&from=2025-01-01');
    expect(bad.status).toBe(400);
    const ok = (await (await server().api(`/api/surveillance/series?signal=ili&area=${STREET}&from=2025-04-25&to=2025-05-02`)).json()) as {
      observed: number[];
    };
    expect(ok.observed).toHaveLength(8);
  });
});

afterAll(() => undefined);
