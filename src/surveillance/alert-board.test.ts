import iconv from 'iconv-lite';
/**
 * The epidemiologist's board (issue #17): alerts worst first — open before ended, past the 研判
 * deadline first, then level, agreeing sources and joint p, then the latest evidence — paged
 * with the total and the count per status, filtered by level, area and source.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import type { AlertPage } from './schemas.js';

describeEachStore('alert board', (server) => {
  const ids = new Map<string, number>();
  beforeAll(async () => {
    const add = async (
      name: string,
      a: { status: string; level: string; sources: string[]; p?: number; due?: string; last: string; area?: string },
    ) => {
      const r = await server().db.query<{ id: number }>(
        `INSERT INTO surv_alert (status, level, area_code, title, sources, score, joint_p, first_evidence_day, trigger_day, last_evidence_day, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date - 3, $8::date, $8::date, $9) RETURNING id`,
        [a.status, a.level, a.area ?? '330102001000', name, a.sources, a.sources.length, a.p ?? null, a.last, a.due ?? null],
      );
      ids.set(name, r.rows[0]!.id);
    };
    const past = new Date(Date.now() - 3600_000).toISOString();
    const future = new Date(Date.now() + 3600_000).toISOString();
    // Created in an order that is not the board's.
    await add('closed red', { status: 'closed', level: 'red', sources: ['case-report'], last: '2025-06-01' });
    await add('orange pharmacy', {
      status: 'new',
      level: 'orange',
      sources: ['pharmacy', 'clinic-syndrome'],
      p: 1e-5,
      due: future,
      last: '2025-06-09',
    });
    await add('yellow overdue', { status: 'triage', level: 'yellow', sources: ['school'], p: 1e-6, due: past, last: '2025-06-02' });
    await add('red measles', {
      status: 'new',
      level: 'red',
      sources: ['case-report'],
      due: future,
      last: '2025-06-03',
      area: '330106002000',
    });
    await add('red three sources', {
      status: 'new',
      level: 'red',
      sources: ['case-report', 'lab', 'school'],
      p: 1e-9,
      due: future,
      last: '2025-06-04',
    });
    await add('orange stronger', {
      status: 'suspected',
      level: 'orange',
      sources: ['pharmacy', 'lab'],
      p: 1e-8,
      due: future,
      last: '2025-06-05',
    });
  });
  const board = async (q = '') => {
    const res = await server().api(`/api/alerts${q}`);
    expect(res.status).toBe(200);
    return (await res.json()) as AlertPage;
  };

  it('puts the worst first: overdue, then level, sources and joint p; ended alerts last', async () => {
    const page = await board();
    expect(page.rows.map((a) => a.title)).toEqual([
      'yellow overdue',
      'red three sources',
      'red measles',
      'orange stronger',
      'orange pharmacy',
      'closed red',
    ]);
    expect(page.total).toBe(6);
    expect(page.counts).toMatchObject({ new: 3, triage: 1, suspected: 1, closed: 1, dismissed: 0, open: 5, overdue: 1 });
  });

  it('pages with the total, and counts per status ignore the status filter', async () => {
    const first = await board('?status=open&limit=2');
    expect(first.rows.map((a) => a.title)).toEqual(['yellow overdue', 'red three sources']);
    expect(first.total).toBe(5);
    expect(first.counts.closed).toBe(1);
    const past = await board('?status=open&limit=2&offset=10');
    expect(past.rows).toEqual([]);
    expect(past.total).toBe(5);
    expect((await board('?sort=newest&limit=1')).rows[0]!.title).toBe('orange stronger');
  });

  it('filters by level, area and source', async () => {
    expect((await board('?level=red&status=open')).rows.map((a) => a.title)).toEqual(['red three sources', 'red measles']);
    expect((await board('?area=330106')).rows.map((a) => a.title)).toEqual(['red measles']);
    expect((await board('?source=lab')).rows.map((a) => a.title)).toEqual(['red three sources', 'orange stronger']);
  });

  it('exports the filtered board as Excel and as GB18030 CSV, in words and in the board order', async () => {
    const list = (await (await server().api('/api/alerts?level=red&limit=1000')).json()) as { total: number; rows: { id: number }[] };
    const csv = await server().api('/api/alerts/export?level=red&format=csv');
    expect(csv.status).toBe(200);
    const lines = iconv
      .decode(Buffer.from(await csv.arrayBuffer()), 'gb18030')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('编号,级别,预警内容,地区,证据来源,首条证据,最新证据,状态,负责人,研判时限,超时,生成时间');
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(list.rows.map((r) => r.id));
    expect(lines.slice(1).every((l) => l.split(',')[1] === '红色')).toBe(true);
    const xlsx = await server().api('/api/alerts/export');
    expect(xlsx.headers.get('content-type')).toMatch(/spreadsheetml/);
  });

  it('answers a bad filter with a message, not a blank page', async () => {
    const res = await server().api(`/api/alerts?area=${encodeURIComponent("1' OR 1=1 --")}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/地区代码/);
    expect((await server().api(`/api/alerts?source=${'x'.repeat(1000)}`)).status).toBe(400);
  });
});
