/**
 * Sentinel sites (哨点) as signal sources: the registry names the sites (places with a sentinel
 * place type), sites send daily fever / respiratory / diarrhoea counts or a zero report, the day's
 * status lists who is missing, and each site's counts become its own signal series.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { surveillanceRuntime } from '../surveillance/index.js';
import { parseFeed } from './parse.js';

const C1 = '339902001001';
const C2 = '339902002001';
const AREAS = [
  'code,name,level,parent',
  '339902000000,望川区,district,',
  '339902001000,临江街道,street,339902000000',
  '339902002000,望山镇,street,339902000000',
  `${C1},江滨社区,community,339902001000`,
  `${C2},山前村,community,339902002000`,
].join('\n');
const PLACES = [
  'code,name,type,sentinel,area',
  `SS01,望川汽车站,监测哨点,交通场站,${C2}`,
  `SS02,临江小学哨点,监测哨点,学校,${C1}`,
  `SS03,江滨养老院,监测哨点,特殊人群集中场所,${C1}`,
  `PH01,仁心大药房,零售药店,,${C1}`,
].join('\n');
const HEADER = 'site_code,site_name,date,syndrome,cases';

describe('sentinel report parsing', () => {
  it('reads the syndrome in English or Chinese, keeps zero reports, names bad lines', () => {
    const csv = [
      HEADER,
      'SS01,望川汽车站,2026-03-01,发热,3',
      'SS01,望川汽车站,2026-03-01,respiratory,0',
      'SS02,,2026-03-01,腹泻,1',
      'SS02,,2026-03-01,头痛,2',
      'SS03,,2026-03-01,fever,-1',
    ].join('\n');
    const r = parseFeed('sentinel-reports', csv, 'csv', new Date('2026-03-02T00:00:00Z'));
    expect(r.rows.map((x) => [x.row.site_code, x.row.syndrome, x.row.cases])).toEqual([
      ['SS01', 'fever', 3],
      ['SS01', 'respiratory', 0],
      ['SS02', 'diarrhoea', 1],
    ]);
    expect(r.errors).toEqual([
      {
        line: 5,
        field: 'syndrome',
        message: "syndrome '头痛' is not one a sentinel site reports; send fever (发热), respiratory (呼吸道) or diarrhoea (腹泻)",
      },
      { line: 6, field: 'cases', message: 'cases: -1 is negative' },
    ]);
  });
});

describeEachStore('sentinel sites', (server) => {
  const post = (body: string) =>
    server().api('/api/feeds/sentinel-reports', { method: 'POST', headers: { 'content-type': 'text/csv' }, body });

  beforeAll(async () => {
    for (const [kind, body] of [
      ['areas', AREAS],
      ['places', PLACES],
    ] as const) {
      const r = await server().api(`/api/registry/import?kind=${kind}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/csv' },
      });
      expect(r.status, await r.clone().text()).toBe(200);
    }
  });

  it("lists the day's sites: counts for those that reported (a zero report counts), missing for the rest", async () => {
    const r = await post([HEADER, 'SS01,望川汽车站,2026-03-01,发热,3', 'SS02,临江小学哨点,2026-03-01,fever,0'].join('\n'));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const status = (await (await server().api('/api/feeds/sentinel-reports/status?date=2026-03-01')).json()) as {
      total: number;
      reported: number;
      missing: number;
      rows: { siteCode: string; siteName: string; reported: boolean; cases: Record<string, number>; sentinelTypes: { name: string }[] }[];
    };
    expect(status).toMatchObject({ total: 3, reported: 2, missing: 1 });
    expect(status.rows.map((s) => [s.siteCode, s.reported, s.cases])).toEqual([
      ['SS01', true, { fever: 3 }],
      ['SS02', true, { fever: 0 }],
      ['SS03', false, {}],
    ]);
    expect(status.rows[2]!.sentinelTypes[0]!.name).toBe('特殊人群集中场所');
    const missing = (await (await server().api('/api/feeds/sentinel-reports/status?date=2026-03-01&missing=true')).json()) as {
      rows: { siteCode: string }[];
    };
    expect(missing.rows.map((s) => s.siteCode)).toEqual(['SS03']);
    const bad = await server().api('/api/feeds/sentinel-reports/status?date=March');
    expect(bad.status).toBe(400);
  });

  it("becomes each site's own signal series, and a resent day replaces its figure", async () => {
    await post([HEADER, 'SS01,望川汽车站,2026-03-02,发热,4', 'SS03,江滨养老院,2026-03-02,腹泻,2'].join('\n'));
    await post([HEADER, 'SS01,望川汽车站,2026-03-02,发热,6'].join('\n'));
    await surveillanceRuntime.get(server().db)!.feeds?.drain?.();
    const counts = await server().db.query<{ signal: string; day: string; area_code: string; n: number }>(
      `SELECT signal, day::text AS day, area_code, sum(n)::int AS n FROM signal_count WHERE signal LIKE 'sentinel:%'
       GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    );
    expect(counts.rows).toEqual([
      { signal: 'sentinel:diarrhoea:SS03', day: '2026-03-02', area_code: C1, n: 2 },
      { signal: 'sentinel:fever:SS01', day: '2026-03-01', area_code: C2, n: 3 },
      { signal: 'sentinel:fever:SS01', day: '2026-03-02', area_code: C2, n: 6 },
    ]);
    // SS02's zero report moves no count (the series reads a day without counts as 0); it shows as reported in the status.
    expect(surveillanceRuntime.get(server().db)!.engine.label('sentinel:fever:SS01')).toMatch(/^哨点发热·/);
  });
});
