import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { runCommand } from '../cli/run-command.testutil.js';
import { makeIdNumber } from '../shared/id-number.js';
import { findChineseFont } from '../shared/report-file.js';
import { isXlsx } from '../shared/table-file.js';
import { registerMonthlyReportCommand } from './command.js';
import { loadReportSources, monthEnd, scorecardSection } from './report.js';
import { MonthlyReportSchedule } from './schedule.js';
import type { MonthlyReportList, MonthlyReportView } from './schemas.js';
import { checkMonth, previousMonth, scheduledStep } from './service.js';
import { readReport } from './store.js';

function card(
  id: string,
  facility: string,
  diagnosed: string,
  reported: string,
  seq: number,
  disease = '流行性感冒',
): Record<string, unknown> {
  const birth = `1971-02-${String(10 + seq).padStart(2, '0')}`;
  return {
    cardId: id,
    cardType: 'initial',
    correctsCardId: null,
    name: `月报${seq}`,
    idType: '01',
    idNumber: makeIdNumber('339902', birth, 500 + seq),
    sex: '1',
    birthDate: birth,
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '临江街道',
      village: '湖滨社区',
      houseNumber: '2号',
      areaCode: '339902001001',
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    onsetDate: diagnosed.slice(0, 10),
    diagnosisDateTime: diagnosed,
    disease:
      disease === '流行性感冒'
        ? { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' }
        : { name: '其他感染性腹泻病', icd10: 'A09', subtype: null, class: '丙' },
    reportingOrganization: { id: `org-${facility}`, code: facility, name: facility },
    reportingDoctor: '王医生',
    reportDate: reported,
  };
}

describe('months', () => {
  it('takes YYYY-MM of this month or earlier, and names the month before', () => {
    const now = new Date('2026-03-31T17:00:00Z'); // 2026-04-01 01:00 in China
    expect(() => checkMonth('2026-04', now)).not.toThrow();
    expect(() => checkMonth('2026-13', now)).toThrow(/'2026-13' is not a month; expected YYYY-MM with a month 01–12/);
    expect(() => checkMonth('2026-05', now)).toThrow(/2026-05 has not begun yet \(it is 2026-04 in China\)/);
    expect([previousMonth('2026-01'), previousMonth('2026-10')]).toEqual(['2025-12', '2026-09']);
    expect(monthEnd('2025-12').toISOString()).toBe('2025-12-31T16:00:00.000Z');
  });
});

describe('small cells per street', () => {
  it('hides a street cell with fewer than 5 people, and its partner that would give it back by subtraction', () => {
    const unit = (code: string, name: string, n: number, d: number, total: number) => ({
      code,
      name,
      total,
      rank: null,
      openTasks: 0,
      trend: [],
      cells: [{ item: 'htn', numerator: n, denominator: d, value: Math.round((1000 * n) / d) / 10, colour: 'green' as const, score: 10 }],
    });
    const sc = {
      scorecard: { id: 's', name: '医防融合评估', description: null, items: [{ key: 'htn', name: '高血压患者规范管理率' }] },
      units: [
        unit('339902001', '临江街道', 3, 4, 90),
        unit('339902002', '湖滨街道', 40, 50, 80),
        unit('339902003', '望川街道', 70, 100, 70),
      ],
    } as unknown as Parameters<typeof scorecardSection>[0];
    const street = scorecardSection(sc, 'street', 5);
    const col = street.columns.find((c) => c.header === '高血压患者规范管理率')!;
    const cells = [...street.rows].map((u) => [u.name, col.value(u), col.fill?.(u) ?? null]);
    expect(cells).toEqual([
      ['临江街道', '不足5人，不公开', null],
      ['湖滨街道', '不公开（防反推）', null],
      ['望川街道', '70.0% 达标', '#D9F7BE'],
    ]);
    expect(street.note).toMatch(/少于 5 人/);
    // Institutions are not suppressed.
    const inst = scorecardSection(sc, 'institution', 5);
    expect(inst.columns.find((c) => c.header === '高血压患者规范管理率')!.value([...inst.rows][0]!)).toBe('75.0% 达标');
  });
});

describeEachStore('monthly report', (server) => {
  const post = (p: string, body?: unknown) =>
    server().api(p, {
      method: 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { 'content-type': 'application/json' },
    });
  const generate = async (month: string) => {
    const r = await post(`/api/monthly-reports/${month}`);
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as MonthlyReportView;
  };
  const deps = () => ({ db: server().db, sources: loadReportSources() });

  it('generates a month from the other modules: sections in words, stored as xlsx and PDF', async () => {
    // March 2025: MR-F1 reports two influenza cards (one 2 days late) and one diarrhoea card; MR-F2 one influenza card.
    for (const c of [
      card('MR-1', 'MR-F1', '2025-03-05T10:00:00+08:00', '2025-03-05T12:00:00+08:00', 1),
      card('MR-2', 'MR-F1', '2025-03-06T10:00:00+08:00', '2025-03-08T12:00:00+08:00', 2),
      card('MR-3', 'MR-F1', '2025-03-07T10:00:00+08:00', '2025-03-07T11:00:00+08:00', 3, '腹泻'),
      card('MR-4', 'MR-F2', '2025-03-09T10:00:00+08:00', '2025-03-09T12:00:00+08:00', 4),
      // April: not in March's report.
      card('MR-5', 'MR-F2', '2025-04-02T10:00:00+08:00', '2025-04-02T12:00:00+08:00', 5),
    ])
      expect((await post('/api/report-cards', c)).status).toBe(201);

    // The scorecard of March was never computed: the report computes it.
    const before = (await (await server().api('/api/scorecards/yifang-integration?level=institution&period=2025-03')).json()) as {
      computedAt: string | null;
    };
    expect(before.computedAt).toBeNull();
    const saved = await generate('2025-03');
    expect(saved).toMatchObject({ month: '2025-03', generatedBy: 'admin', summary: { partial: false } });
    expect(saved.xlsxBytes).toBeGreaterThan(1000);
    const headings = saved.summary.sections.map((s) => s.heading);
    expect(headings).toEqual([
      '本月概况',
      '慢病管理、签约与免疫（全区）',
      '慢病管理、签约与免疫（按街道，本月）',
      '基本公共卫生服务项目（全区）',
      '医防融合评估（机构）',
      '医防融合评估（街道）',
      '传染病报告质量（按报告单位）',
      '法定传染病报告病例（按病种）',
      '预警信号（按级别与当前状态）',
    ]);
    expect(saved.summary.sections.find((s) => s.heading === '法定传染病报告病例（按病种）')!.rows).toBe(3); // two diseases + 合计
    const after = (await (await server().api('/api/scorecards/yifang-integration?level=institution&period=2025-03')).json()) as {
      computedAt: string | null;
      units: { code: string }[];
    };
    expect(after.computedAt).not.toBeNull();
    expect(after.units.map((u) => u.code).sort()).toEqual(['MR-F1', 'MR-F2']);

    // The workbook: a sheet per section, figures in words.
    const x = await server().api('/api/monthly-reports/2025-03/file?format=xlsx');
    expect(x.status).toBe(200);
    expect(decodeURIComponent(x.headers.get('content-disposition') ?? '')).toContain('医防融合月报（2025年3月）.xlsx');
    const bytes = Buffer.from(await x.arrayBuffer());
    expect(isXlsx(bytes)).toBe(true);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(bytes as unknown as ArrayBuffer);
    expect(book.worksheets.map((w) => w.name)).toEqual(headings);
    const rows = (name: string) => {
      const out: string[][] = [];
      book
        .getWorksheet(name)!
        .eachRow((r) => out.push((r.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))));
      return out;
    };
    const cases = rows('法定传染病报告病例（按病种）');
    expect(cases[0]![0]).toBe('医防融合月报（2025年3月）');
    expect(cases.slice(-4, -1)).toEqual([
      ['丙类', '流行性感冒', '3'],
      ['丙类', '其他感染性腹泻病', '1'],
      ['', '合计', '4'],
    ]);
    const overview = rows('本月概况');
    expect(overview).toContainEqual(['法定传染病报告病例数', '4']);
    expect(overview).toContainEqual(['及时报告率', '75.0%（3/4）']);
    const quality = rows('传染病报告质量（按报告单位）');
    const header = quality.find((r) => r[0] === '报告单位')!;
    expect(header.slice(0, 4)).toEqual(['报告单位', '报告卡数', '待审核', '及时报告率']);
    const f1 = quality.find((r) => r[0] === 'MR-F1')!;
    expect([f1[1], f1[3]]).toEqual(['3', '66.7%（2/3）']);
    expect(quality.at(-2)![0]).toBe('全区合计');
    const institutions = rows('医防融合评估（机构）');
    expect(institutions.find((r) => r[0] === '名次')!.slice(0, 3)).toEqual(['名次', '机构', '总分']);
    expect(institutions.some((r) => r.some((c) => c.includes('未达标')))).toBe(true);
    const care = rows('慢病管理、签约与免疫（全区）');
    expect(care.find((r) => r[0] === '指标')).toEqual([
      '指标',
      '本月 分子/分母',
      '本月',
      '2025年累计 分子/分母',
      '2025年累计',
      '目标',
      '达标情况',
    ]);
    expect(care.some((r) => r[0] === '高血压患者规范管理率')).toBe(true);

    // The PDF, when the server has a Chinese font; otherwise the reason is stored and the file answers 503.
    const pdf = await server().api('/api/monthly-reports/2025-03/file?format=pdf');
    if (findChineseFont()) {
      expect([pdf.status, pdf.headers.get('content-type')]).toEqual([200, 'application/pdf']);
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
      expect(saved.pdfBytes).toBeGreaterThan(1000);
    } else {
      expect(pdf.status).toBe(503);
      expect(saved.pdfError).toMatch(/Chinese font/);
    }
  });

  it('lists the reports newest month first, paged with the total', async () => {
    await generate('2025-01');
    await generate('2025-02');
    const page = async (q: string) => (await (await server().api(`/api/monthly-reports?${q}`)).json()) as MonthlyReportList;
    const first = await page('limit=2');
    expect([first.total, first.limit, first.offset, first.rows.map((r) => r.month)]).toEqual([3, 2, 0, ['2025-03', '2025-02']]);
    const second = await page('limit=2&offset=2');
    expect([second.total, second.rows.map((r) => r.month)]).toEqual([3, ['2025-01']]);
    expect(second.rows[0]!.summary.sections.length).toBe(9);
    // Regenerating replaces the month's report.
    const again = await generate('2025-01');
    expect((await page('limit=10')).total).toBe(3);
    expect(again.generatedAt >= second.rows[0]!.generatedAt).toBe(true);
  });

  it('per street, hides a cell with fewer than 5 people and the partner that would give it back', async () => {
    const put = (type: string, r: Record<string, unknown>) =>
      server().api(`/fhir/${type}/${r.id as string}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: type, ...r }),
      });
    // Hypertension patients followed up in June 2025: 6 in street 001, 2 in 002, 7 in 003.
    const streets: [string, number][] = [
      ['339902001001', 6],
      ['339902002001', 2],
      ['339902003001', 7],
    ];
    let i = 0;
    for (const [area, n] of streets)
      for (let k = 0; k < n; k++, i++) {
        const id = `mr-htn-${i}`;
        const address = [
          { use: 'home', extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/area-code', valueString: area }] },
        ];
        expect(
          (await put('Patient', { id, gender: 'male', birthDate: '1955-05-05', name: [{ text: `高${i}` }], address })).status,
        ).toBeLessThan(300);
        await put('Condition', {
          id: `c-${id}`,
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] },
          subject: { reference: `Patient/${id}` },
          onsetDateTime: '2020-01-01',
        });
      }
    await server().processors.drain();
    for (let k = 0; k < i; k++) {
      const r = await post('/api/chronic/follow-ups', {
        patientId: `mr-htn-${k}`,
        date: '2025-06-10',
        mode: 'face-to-face',
        readings: { sbp: 128, dbp: 80 },
      });
      expect(r.status, await r.clone().text()).toBe(201);
    }
    await server().processors.drain();
    await generate('2025-06');
    const x = await server().api('/api/monthly-reports/2025-06/file?format=xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await x.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('慢病管理、签约与免疫（按街道，本月）')!;
    const lines: string[][] = [];
    sheet.eachRow((r) => lines.push((r.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))));
    const header = lines.find((r) => r[0] === '街道')!;
    const col = header.indexOf('高血压患者血压控制率');
    const byStreet = Object.fromEntries(lines.filter((r) => /^3399/.test(r[0] ?? '')).map((r) => [r[0], r[col]]));
    expect(byStreet).toEqual({
      '339902001': '不公开（防反推）',
      '339902002': '不足5人，不公开',
      '339902003': '100.0%（7/7）',
    });
    const district = (await readReport(server().db.pool, '2025-06'))!;
    expect(district.summary.sections.find((s) => s.heading === '慢病管理、签约与免疫（按街道，本月）')!.rows).toBe(3);
  });

  it('refuses bad input with a clear message', async () => {
    const bad = async (r: Response, pattern: RegExp) => {
      expect(r.status).toBe(400);
      expect(JSON.stringify(await r.json())).toMatch(pattern);
    };
    await bad(await post('/api/monthly-reports/2026-13'), /month.*YYYY-MM \(01–12\)/);
    await bad(await post('/api/monthly-reports/2099-01'), /2099-01 has not begun yet/);
    await bad(await server().api('/api/monthly-reports/2025-03/file?format=doc'), /format/);
    await bad(await server().api('/api/monthly-reports?limit=0'), /limit/);
    const missing = await server().api('/api/monthly-reports/2024-07/file?format=xlsx');
    expect(missing.status).toBe(404);
    expect(JSON.stringify(await missing.json())).toContain('no monthly report for 2024-07 yet');
  });

  it('the schedule generates the previous month once from the 1st (China time), and again when the one stored was made too early', async () => {
    // 1 May 2025, 00:30 in China (still 30 April in UTC): April is due.
    const may1 = new Date('2025-04-30T16:30:00Z');
    expect(await scheduledStep(deps(), may1)).toBe('2025-04');
    const april = (await readReport(server().db.pool, '2025-04'))!;
    expect([april.generatedBy, april.generatedAt, april.summary.partial]).toEqual(['schedule', may1.toISOString(), false]);
    expect(await scheduledStep(deps(), new Date('2025-05-20T02:00:00Z'))).toBeNull();
    expect((await readReport(server().db.pool, '2025-04'))!.generatedAt).toBe(may1.toISOString());

    // May generated by hand on the 15th (not over yet): on 1 June the schedule makes it again, once.
    const { generateMonthlyReport } = await import('./service.js');
    const partial = await generateMonthlyReport(deps(), '2025-05', { by: 'admin', now: new Date('2025-05-15T02:00:00Z') });
    expect(partial.summary.partial).toBe(true);

    // The job itself: a PollingLoop on the injected clock, poked, then stopped.
    const june1 = new Date('2025-06-01T01:00:00Z');
    const logs: string[] = [];
    const job = new MonthlyReportSchedule(deps(), { pollMs: 3_600_000, now: () => june1, audit: server().audit, log: (m) => logs.push(m) });
    job.start();
    job.poke();
    await expect.poll(() => logs, { timeout: 30_000 }).toEqual(['monthly report: 2025-05 generated on schedule']);
    job.poke();
    await new Promise((r) => setTimeout(r, 300));
    await job.stop();
    expect(logs).toHaveLength(1);
    const may = (await readReport(server().db.pool, '2025-05'))!;
    expect([may.generatedBy, may.generatedAt, may.summary.partial]).toEqual(['schedule', june1.toISOString(), false]);
  });

  it('yifang monthly-report writes the month to a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monthly-report-'));
    let out = '';
    let err = '';
    const register = (p: Parameters<typeof registerMonthlyReportCommand>[0]) =>
      registerMonthlyReportCommand(p, {
        openStore: async () => ({ db: server().db, close: async () => undefined }),
        write: (s) => (out += s),
        progress: (s) => (err += s),
      });
    try {
      const help = await runCommand(register, 'monthly-report', ['--help']);
      expect(help.out).toContain('--month <YYYY-MM>');
      expect(help.out).toContain('--out <file>');
      const file = path.join(dir, 'march.xlsx');
      expect((await runCommand(register, 'monthly-report', ['--month', '2025-03', '--out', file])).code).toBe(0);
      expect(process.exitCode ?? 0).toBe(0);
      expect(isXlsx(fs.readFileSync(file))).toBe(true);
      expect(out).toContain(`wrote ${file} (xlsx,`);
      await runCommand(register, 'monthly-report', ['--month', '2025-3', '--out', file]);
      expect(process.exitCode).toBe(2);
      expect(err).toContain("'2025-3' is not a month");
    } finally {
      process.exitCode = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
