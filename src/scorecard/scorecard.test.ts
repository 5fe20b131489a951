import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { describeEachStore } from '../app/testing.js';
import { findChineseFont } from '../shared/report-file.js';
import { makeIdNumber } from '../shared/id-number.js';
import { loadScorecards, parseScorecard, ScorecardConfigError, type ScorecardItem } from './definition.js';
import { achievement, cellFor, colourOf, rank, totalOf, type UnitScore } from './score.js';
import type { ScorecardList, ScorecardResult, TaskList } from './schemas.js';

const bands = [
  { colour: 'red' as const, from: 0, to: 60 },
  { colour: 'yellow' as const, from: 60, to: 70 },
  { colour: 'green' as const, from: 70, to: 100 },
];
const item = (over: Record<string, unknown> = {}) => ({
  key: 'a',
  name: 'A',
  weight: 100,
  indicator: 'htn-standard-management',
  target: 70,
  targetSource: 't',
  bands,
  source: 's',
  ...over,
});

describe('scorecard definitions', () => {
  it('loads the shipped definitions: weights sum to 100, every indicator known', () => {
    const defs = loadScorecards();
    expect(defs.map((d) => d.id)).toContain('yifang-integration');
    for (const d of defs) expect(d.items.reduce((s, i) => s + i.weight, 0)).toBe(100);
  });

  it('refuses an unknown indicator, weights not summing to 100 and overlapping or gapped bands, naming the file and the item', () => {
    const bad = (items: unknown[]) => () => parseScorecard({ id: 'x', name: 'X', items }, 'config/scorecard/x.json');
    expect(bad([item({ indicator: 'no-such' })])).toThrow(/config\/scorecard\/x\.json: item 'a': unknown indicator 'no-such'/);
    expect(bad([item({ weight: 60 }), item({ key: 'b', weight: 30 })])).toThrow(/x\.json: weights sum to 90, not 100/);
    expect(
      bad([
        item({
          bands: [
            { colour: 'red', from: 0, to: 65 },
            { colour: 'green', from: 60, to: 100 },
          ],
        }),
      ]),
    ).toThrow(/x\.json: item 'a': bands overlap: red 0–65 and green 60–100/);
    expect(
      bad([
        item({
          bands: [
            { colour: 'red', from: 0, to: 50 },
            { colour: 'green', from: 60, to: 100 },
          ],
        }),
      ]),
    ).toThrow(/item 'a': bands leave a gap between 50 and 60/);
    expect(bad([item({ bands: [{ colour: 'purple', from: 0, to: 100 }, bands[2]] })])).toThrow(/item 'a': items\.0\.bands\.0\.colour/);
    expect(bad([item(), item({ weight: 0 })])).toThrow(ScorecardConfigError);
  });

  it('refuses a bad file in a directory at load, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scorecard-'));
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ id: 'bad', name: 'B', items: [item({ weight: 99 })] }));
    expect(() => loadScorecards(dir)).toThrow(new RegExp(`${path.join(dir, 'bad.json').replace(/[.\\/]/g, '\\$&')}: weights sum to 99`));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(() => loadScorecards(dir)).toThrow(/bad\.json: not JSON/);
  });
});

describe('scoring', () => {
  const it1 = { ...item(), better: 'higher' } as ScorecardItem;
  const low = { ...item({ key: 'd', indicator: 'duplicate-cards', target: 2, weight: 50 }), better: 'lower' } as ScorecardItem;
  it('colours by half-open bands (100 in the last) and scores against the target', () => {
    expect([colourOf(59.9, bands), colourOf(60, bands), colourOf(70, bands), colourOf(100, bands)]).toEqual([
      'red',
      'yellow',
      'green',
      'green',
    ]);
    expect(achievement(35, 70, 'higher')).toBe(0.5);
    expect(achievement(90, 70, 'higher')).toBe(1);
    expect(achievement(2, 2, 'lower')).toBe(1);
    expect(achievement(51, 2, 'lower')).toBe(0.5);
    expect(cellFor(it1, { numerator: 1, denominator: 2 })).toEqual({
      item: 'a',
      numerator: 1,
      denominator: 2,
      value: 50,
      colour: 'red',
      score: 71.4,
    });
    expect(cellFor(it1, undefined)).toMatchObject({ value: null, colour: null, score: null });
  });

  it('totals over the scored weights only and ranks ties together', () => {
    const items = [
      { ...it1, weight: 50 },
      { ...low, weight: 50 },
    ];
    // 35 % of a 70 % target earns half of 50; no duplicate figure: scored over 50 only.
    expect(totalOf(items, [cellFor(items[0]!, { numerator: 35, denominator: 100 }), cellFor(items[1]!, undefined)])).toBe(50);
    expect(
      totalOf(items, [cellFor(items[0]!, { numerator: 70, denominator: 100 }), cellFor(items[1]!, { numerator: 51, denominator: 100 })]),
    ).toBe(75);
    const u = (code: string, total: number | null): UnitScore => ({ code, name: null, cells: [], total, rank: null });
    expect(rank([u('a', 50), u('b', 80), u('c', 50), u('d', null), u('e', 10)]).map((x) => [x.code, x.rank])).toEqual([
      ['b', 1],
      ['a', 2],
      ['c', 2],
      ['e', 4],
      ['d', null],
    ]);
  });
});

function card(id: string, facility: string, diagnosed: string, reported: string, seq: number): Record<string, unknown> {
  const birth = `1970-01-${String(10 + seq).padStart(2, '0')}`;
  return {
    cardId: id,
    cardType: 'initial',
    correctsCardId: null,
    name: `评分${seq}`,
    idType: '01',
    idNumber: makeIdNumber('339902', birth, 400 + seq),
    sex: '1',
    birthDate: birth,
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '临江街道',
      village: '湖滨社区',
      houseNumber: '1号',
      areaCode: '339902001001',
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    onsetDate: diagnosed.slice(0, 10),
    diagnosisDateTime: diagnosed,
    disease: { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' },
    reportingOrganization: { id: `org-${facility}`, code: facility, name: facility },
    reportingDoctor: '李医生',
    reportDate: reported,
  };
}

describeEachStore('scorecard', (server) => {
  const post = (p: string, body: unknown) =>
    server().api(p, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const compute = async (period: string) => {
    const r = await post('/api/scorecards/yifang-integration/compute', { level: 'institution', period });
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as ScorecardResult;
  };
  const tasks = async (q: string) => (await (await server().api(`/api/scorecards/yifang-integration/tasks?${q}`)).json()) as TaskList;

  it('scores, ranks, opens a task for a red cell and closes it when a later computation finds it green', async () => {
    // January 2025: SC-F1 reports one card on time and one 2 days late; SC-F2 one on time. Nobody reviews (审核及时率 0 %).
    for (const c of [
      card('SC-1', 'SC-F1', '2025-01-05T10:00:00+08:00', '2025-01-05T12:00:00+08:00', 1),
      card('SC-2', 'SC-F1', '2025-01-06T10:00:00+08:00', '2025-01-08T12:00:00+08:00', 2),
      card('SC-3', 'SC-F2', '2025-01-06T10:00:00+08:00', '2025-01-06T12:00:00+08:00', 3),
    ])
      expect((await post('/api/report-cards', c)).status).toBe(201);
    const jan = await compute('2025-01');
    const f1 = jan.units.find((u) => u.code === 'SC-F1')!;
    const cell = (u: typeof f1, key: string) => u.cells.find((c) => c.item === key)!;
    expect(cell(f1, 'timely-reporting')).toMatchObject({ numerator: 1, denominator: 2, value: 50, colour: 'red', score: 5 });
    expect(cell(f1, 'card-completeness')).toMatchObject({ value: 100, colour: 'green', score: 8 });
    expect(cell(f1, 'timely-review')).toMatchObject({ value: 0, colour: 'red', score: 0 });
    expect(cell(f1, 'duplicate-cards')).toMatchObject({ value: 0, colour: 'green', score: 3 });
    expect(cell(f1, 'htn-standard')).toMatchObject({ value: null, colour: null, score: null });
    // Scored over the reporting items only (weights 10 + 8 + 9 + 3 = 30): 100 × (5 + 8 + 0 + 3) ÷ 30.
    expect(f1.total).toBe(53.3);
    expect(jan.units.map((u) => [u.code, u.total, u.rank])).toEqual([
      ['SC-F2', 70, 1],
      ['SC-F1', 53.3, 2],
    ]);
    expect(jan.tasksOpened).toBe(3); // F1 timely-reporting and timely-review, F2 timely-review
    expect(f1.openTasks).toBe(2);
    // Computing again opens nothing new.
    expect((await compute('2025-01')).tasksOpened).toBe(0);

    // February: SC-F1 reports on time; its timeliness turns green and the January task closes.
    expect(
      (await post('/api/report-cards', card('SC-4', 'SC-F1', '2025-02-03T10:00:00+08:00', '2025-02-03T11:00:00+08:00', 4))).status,
    ).toBe(201);
    const feb = await compute('2025-02');
    expect(feb.tasksClosed).toBe(1);
    const f1feb = feb.units.find((u) => u.code === 'SC-F1')!;
    expect(cell(f1feb, 'timely-reporting').colour).toBe('green');
    expect(f1feb.trend.map((t) => t.period)).toEqual(['2024-09', '2024-10', '2024-11', '2024-12', '2025-01', '2025-02']);
    expect(f1feb.trend.slice(-2).map((t) => t.total)).toEqual([53.3, 70]);

    const closed = await tasks('status=closed');
    expect(closed.total).toBe(1);
    expect(closed.tasks[0]).toMatchObject({
      ownerCode: 'SC-F1',
      itemKey: 'timely-reporting',
      period: '2025-01',
      closedPeriod: '2025-02',
      openedValue: 50,
      closedValue: 100,
    });
    expect(closed.tasks[0]!.closedAt).toBeTruthy();
    const open = await tasks('status=open&limit=1');
    expect([open.total, open.tasks.length]).toEqual([2, 1]);
    expect((await tasks('status=open&owner=SC-F1')).tasks.map((t) => t.itemKey)).toEqual(['timely-review']);

    // The stored figures read back without computing; a period never computed says so.
    const read = (await (
      await server().api('/api/scorecards/yifang-integration?level=institution&period=2025-01')
    ).json()) as ScorecardResult;
    expect(read.units.find((u) => u.code === 'SC-F1')!.total).toBe(53.3);
    const never = (await (await server().api('/api/scorecards/yifang-integration?period=2023-Q2')).json()) as ScorecardResult;
    expect([never.computedAt, never.units]).toEqual([null, []]);
    expect((await server().api('/api/scorecards/nope')).status).toBe(404);
    const list = (await (await server().api('/api/scorecards')).json()) as ScorecardList;
    expect(list.scorecards[0]!.items.find((i) => i.key === 'duplicate-cards')).toMatchObject({ better: 'lower', weight: 3 });

    // The same run as a workbook: the ranking (values in words, cells in their colours), then the items.
    const xlsx = await server().api('/api/scorecards/yifang-integration/file?level=institution&period=2025-01&format=xlsx');
    expect(xlsx.status).toBe(200);
    expect(decodeURIComponent(xlsx.headers.get('content-disposition') ?? '')).toContain('医防融合评估（机构，2025-01）.xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await xlsx.arrayBuffer());
    expect(book.worksheets.map((w) => w.name)).toEqual(['机构排名', '评估项目']);
    const sheet = book.worksheets[0]!;
    const header = (sheet.getRow(6).values as unknown[]).slice(1) as string[];
    expect(header.slice(0, 3)).toEqual(['名次', '机构', '总分']);
    const at = (row: number, name: string) => sheet.getRow(row).getCell(header.indexOf(name) + 1);
    expect([at(7, '名次').value, at(7, '总分').value, at(8, '总分').value]).toEqual([1, 70, 53.3]);
    expect(at(8, '传染病及时报告率').value).toBe('50% 未达标');
    expect((at(8, '传染病及时报告率').fill as ExcelJS.FillPattern).fgColor?.argb).toBe('FFFFCCC7');
    expect(book.worksheets[1]!.rowCount).toBeGreaterThan(6 + list.scorecards[0]!.items.length - 1);
    const pdf = await server().api('/api/scorecards/yifang-integration/file?period=2025-01&format=pdf');
    if (findChineseFont()) {
      expect([pdf.status, pdf.headers.get('content-type')]).toEqual([200, 'application/pdf']);
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
    } else expect(pdf.status).toBe(503);
    expect((await server().api('/api/scorecards/yifang-integration/file?format=doc')).status).toBe(400);
  });
});
