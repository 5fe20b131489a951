import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { parseCsv, parseFeed } from './parse.js';

const SCHOOL = 'school_code,school_name,class_code,date,enrolled,absent,reason,symptom';
const PHARM = 'pharmacy_code,pharmacy_name,date,category,units';
const today = new Date('2026-03-01T00:00:00Z');

describe('feed parsing', () => {
  it('reads quoted CSV fields and CRLF', () => {
    expect(parseCsv('a,b\r\n"x, ""y""",2\r\n')).toEqual([
      [1, ['a', 'b']],
      [2, ['x, "y"', '2']],
    ]);
  });
  it('keeps good lines and names line, field and reason of bad ones', () => {
    const csv = [
      SCHOOL,
      'S1,一小,S1-01,2026-01-05,30,2,病假,发热',
      'S1,一小,S1-02,2026-02-30,30,1,病假,咳嗽',
      'S1,一小,S1-03,2026-01-05,30,-1,病假,发热',
      'S1,一小,S1-04,2026-01-05,30,40,病假,发热',
      'S1,一小,S1-05,2026-01-05,30',
      'S1,一小,S1-06,2026-01-05,30,0,,',
    ].join('\n');
    const r = parseFeed('school-absenteeism', csv, 'csv', today);
    expect(r.lines).toBe(6);
    expect(r.rows.map((x) => x.row.class_code)).toEqual(['S1-01', 'S1-06']);
    expect(r.errors).toEqual([
      { line: 3, field: 'date', message: "date: '2026-02-30' is not a calendar date" },
      { line: 4, field: 'absent', message: 'absent: -1 is negative' },
      { line: 5, field: 'absent', message: 'absent (40) exceeds enrolled (30)' },
      { line: 6, message: '5 fields where the header has 8' },
    ]);
  });
  it('rejects a wrong header as a whole', () => {
    const r = parseFeed('pharmacy-sales', 'pharmacy,date,units\nP1,2026-01-01,3', 'csv', today);
    expect(r.fatal).toMatch(/wrong header: missing column\(s\) pharmacy_code, pharmacy_name, category/);
  });
  it('reads JSON arrays with per-row errors', () => {
    const r = parseFeed(
      'pharmacy-sales',
      [
        { pharmacy_code: 'P1', pharmacy_name: '药房', date: '2026-01-01', category: 'cold', units: 3 },
        { pharmacy_code: 'P1', pharmacy_name: '药房', date: '01/01/2026', category: 'cold', units: 'x' },
        7,
      ],
      'json',
      today,
    );
    expect(r.rows).toHaveLength(1);
    expect(r.errors.map((e) => `${e.line}:${e.field ?? ''}`)).toEqual(['3:', '2:date', '2:units']);
  });
});

describeEachStore('feed endpoints', (server) => {
  it('stores good pharmacy lines, reports bad ones, and a re-send replaces figures', async () => {
    const body = [PHARM, 'P1,康宁药房,2026-01-01,cold,10', 'P1,康宁药房,2026-01-01,cough,-3', 'P1,康宁药房,2026-13-01,ors,1'].join('\n');
    const post = (b: string) =>
      server().api('/api/feeds/pharmacy-sales', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: b });
    const r = await post(body);
    expect(r.status).toBe(200);
    const j = (await r.json()) as { accepted: number; rejected: number; errors: { line: number; field: string }[] };
    expect(j).toMatchObject({ accepted: 1, rejected: 2 });
    expect(j.errors.map((e) => `${e.line}:${e.field}`)).toEqual(['3:units', '4:date']);
    await post([PHARM, 'P1,康宁药房,2026-01-01,cold,12'].join('\n'));
    const rows = await server().db.query(`SELECT units FROM feed_pharmacy_sales WHERE pharmacy_code = 'P1'`);
    expect(rows.rows).toEqual([{ units: 12 }]);
    const uploads = await server().db.query(`SELECT count(*)::int AS n FROM feed_upload WHERE feed = 'pharmacy-sales'`);
    expect(uploads.rows[0].n).toBe(2);
  });
  it('rejects a CSV with a wrong header (400, upload kept) and keeps serving', async () => {
    const r = await server().api('/api/feeds/school-absenteeism', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'school,date\nX,2026-01-01',
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { fatal: string }).fatal).toMatch(/wrong header/);
    const ok = await server().api('/api/feeds/school-absenteeism', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          school_code: 'S1',
          school_name: '一小',
          class_code: 'S1-01',
          date: '2026-01-05',
          enrolled: 30,
          absent: 2,
          reason: '病假',
          symptom: '发热',
        },
      ]),
    });
    expect(((await ok.json()) as { accepted: number }).accepted).toBe(1);
    const kept = await server().db.query(`SELECT payload FROM feed_upload WHERE feed = 'school-absenteeism' ORDER BY id LIMIT 1`);
    expect(Buffer.from(kept.rows[0].payload).toString()).toContain('school,date');
  });
});
