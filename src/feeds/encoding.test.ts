/**
 * Feed resilience: encodings are named or detected and checked (GB18030/GBK, UTF-8 with BOM,
 * UTF-16), never decoded into U+FFFD; NUL characters and unpaired surrogates reject their line
 * only; over-long fields are line errors; uploads over the size or row limit are refused (413).
 * Over HTTP and through `yifang feed`, on both stores.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { registerFeedCommands } from '../cli/feeds.js';
import { runCommand } from '../cli/run-command.testutil.js';
import { decodeFeed, invalidGb18030Structure, invalidUtf8 } from '../shared/encoding.js';
import { MAX_FEED_ROWS, parseFeed } from './parse.js';
import { MAX_FEED_BYTES } from './store.js';

const SCHOOL = 'school_code,school_name,class_code,date,enrolled,absent,reason,symptom';
const PHARM = 'pharmacy_code,pharmacy_name,date,category,units';
const today = new Date('2026-03-01T00:00:00Z');

/** Chinese school and class names, one outside the BMP (GB18030 four-byte, not in GBK). */
const SCHOOLS_GB18030 = [
  SCHOOL,
  '339902PS001,滨江区第一实验小学,一年级（1）班,2026-01-05,30,2,病假,发热',
  '339902PS001,滨江区第一实验小学,二年级（3）班,2026-01-05,32,1,病假,咳嗽',
  '339902PS002,𠀾溪镇中心小学,三年级（2）班,2026-01-05,28,0,,',
].join('\r\n');
const SCHOOLS_GBK = SCHOOLS_GB18030.replace('𠀾溪镇', '鹿溪镇');

describe('decoding feed bytes', () => {
  it('reads GB18030 and GBK, UTF-8 with and without BOM, UTF-16 with a BOM', () => {
    expect(decodeFeed(iconv.encode(SCHOOLS_GB18030, 'gb18030'))).toEqual({ ok: true, text: SCHOOLS_GB18030, encoding: 'gb18030' });
    expect(decodeFeed(iconv.encode(SCHOOLS_GBK, 'gbk'))).toMatchObject({ ok: true, text: SCHOOLS_GBK, encoding: 'gb18030' });
    expect(decodeFeed(iconv.encode(SCHOOLS_GBK, 'gbk'), 'GBK')).toMatchObject({ ok: true, text: SCHOOLS_GBK, encoding: 'gbk' });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SCHOOLS_GB18030)]);
    expect(decodeFeed(bom)).toEqual({ ok: true, text: SCHOOLS_GB18030, encoding: 'utf-8' });
    expect(decodeFeed(Buffer.from(SCHOOLS_GB18030))).toEqual({ ok: true, text: SCHOOLS_GB18030, encoding: 'utf-8' });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(SCHOOLS_GB18030, 'utf-16le')]);
    expect(decodeFeed(utf16)).toEqual({ ok: true, text: SCHOOLS_GB18030, encoding: 'utf-16le' });
  });

  it('names the bytes that are valid in no encoding, with their line', () => {
    const gb = iconv.encode(SCHOOLS_GBK, 'gbk');
    const at = gb.indexOf(0x0a) + 20; // inside line 2
    const bad = Buffer.concat([gb.subarray(0, at), Buffer.from([0xff]), gb.subarray(at)]);
    const r = decodeFeed(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(400);
    expect(r.line).toBe(2);
    expect(r.message).toMatch(/^line 2: bytes? \d+(–\d+)? \([0-9A-F ]+\) (is|are) not valid UTF-8 or GB18030/);
    expect(r.message).toContain('charset=');
    // Named but wrong: still refused, naming the encoding.
    const named = decodeFeed(iconv.encode(SCHOOLS_GB18030, 'gb18030'), 'utf-8');
    expect(named).toMatchObject({ ok: false, status: 400, line: 2 });
    expect(!named.ok && named.message).toMatch(/not valid UTF-8 \(the encoding named\)/);
    expect(decodeFeed(Buffer.from('a'), 'klingon')).toMatchObject({ ok: false, status: 415 });
  });

  it('locates invalid UTF-8 and GB18030 sequences', () => {
    expect(invalidUtf8(Buffer.from('ab'))).toBeUndefined();
    expect(invalidUtf8(Buffer.from([0x61, 0xe4, 0xb8, 0x41]))).toEqual([1, 4]);
    expect(invalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toEqual([0, 2]); // a surrogate in UTF-8 (CESU)
    expect(invalidGb18030Structure(iconv.encode('学校𠀾', 'gb18030'))).toBeUndefined();
    expect(invalidGb18030Structure(Buffer.from([0x61, 0x81, 0x20]))).toEqual([1, 3]);
    expect(invalidGb18030Structure(Buffer.from([0xff]))).toEqual([0, 1]);
  });
});

describe('bad characters and bounds in parsed feeds', () => {
  it('rejects a line with a NUL character, naming line and field, and keeps the others', () => {
    const csv = [SCHOOL, 'S1,一小,S1-01,2026-01-05,30,0,,', 'S1,一\0小,S1-02,2026-01-05,30,0,,', 'S1,一小,S1-03,2026-01-05,30,0,,'].join(
      '\n',
    );
    const r = parseFeed('school-absenteeism', csv, 'csv', today);
    expect(r.rows.map((x) => x.row.class_code)).toEqual(['S1-01', 'S1-03']);
    expect(r.errors).toEqual([{ line: 3, field: 'school_name', message: 'school_name contains a NUL character (U+0000) at character 2' }]);
  });

  it('rejects a UTF-16 CSV line holding an unpaired surrogate', () => {
    const utf16 = (t: string) => Buffer.from(t, 'utf16le');
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      utf16(`${PHARM}\nP1,`),
      Buffer.from([0x00, 0xd8]),
      utf16(',2026-01-05,cold,1\nP2,药房,2026-01-05,cold,1\n'),
    ]);
    const d = decodeFeed(bytes);
    expect(d).toMatchObject({ ok: true, encoding: 'utf-16le' });
    const r = parseFeed('pharmacy-sales', d.ok ? d.text : '', 'csv', today);
    expect(r.rows.map((x) => x.row.pharmacy_code)).toEqual(['P2']);
    expect(r.errors).toEqual([
      {
        line: 2,
        field: 'pharmacy_name',
        message: 'pharmacy_name contains an unpaired surrogate (U+D800) at character 1, which is not valid Unicode',
      },
    ]);
  });

  it('rejects JSON rows with unpaired surrogates, NULs, nested values or over-long names', () => {
    const row = { pharmacy_code: 'P1', pharmacy_name: '药房', date: '2026-01-01', category: 'cold', units: 3 };
    const r = parseFeed(
      'pharmacy-sales',
      [
        row,
        { ...row, pharmacy_name: 'bad \ud800 name' },
        { ...row, category: 'co\u0000ld' },
        { ...row, units: { toString: 5 } },
        { ...row, pharmacy_name: '药'.repeat(201) },
        { ...row, pharmacy_name: '𠀾'.repeat(200) }, // 200 characters, 400 UTF-16 units: allowed
      ],
      'json',
      today,
    );
    expect(r.rows.map((x) => x.line)).toEqual([1, 6]);
    expect(r.errors.map((e) => `${e.line}:${e.field}:${e.message}`)).toEqual([
      '2:pharmacy_name:pharmacy_name contains an unpaired surrogate (U+D800) at character 5, which is not valid Unicode',
      '3:category:category contains a NUL character (U+0000) at character 3',
      '4:units:units is an object, not a single value',
      '5:pharmacy_name:pharmacy_name is 201 characters long; at most 200 are allowed',
    ]);
  });

  it('marks a file over the row limit instead of checking it', () => {
    const r = parseFeed('pharmacy-sales', [PHARM, ...Array<string>(MAX_FEED_ROWS + 1).fill('x')].join('\n'), 'csv', today);
    expect(r.overLimit).toBe(`${MAX_FEED_ROWS + 1} rows; one upload may hold at most ${MAX_FEED_ROWS}`);
    expect(r.rows).toEqual([]);
  });
});

type Result = {
  uploadId?: number;
  accepted: number;
  rejected: number;
  encoding?: string;
  fatal?: string;
  errors: { line: number; field?: string; message: string }[];
};
type Outcome = { resourceType: string; issue: { diagnostics: string }[] };

describeEachStore('feed uploads: encodings and bounds', (server) => {
  const post = (feed: string, body: Buffer | string, contentType = 'text/csv', query = '') =>
    server().api(`/api/feeds/${feed}${query}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  const names = async (school: string) =>
    (
      await server().db.query<{ school_name: string; class_code: string }>(
        `SELECT school_name, class_code FROM feed_school_absence WHERE school_code = $1 ORDER BY class_code`,
        [school],
      )
    ).rows;
  const count = async (sql: string) => (await server().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n;

  it('stores a GB18030 CSV (undeclared) with its Chinese school and class names exactly', async () => {
    const r = await post('school-absenteeism', iconv.encode(SCHOOLS_GB18030, 'gb18030'));
    expect(r.status).toBe(200);
    const j = (await r.json()) as Result;
    expect(j).toMatchObject({ accepted: 3, rejected: 0, encoding: 'gb18030' });
    expect(await names('339902PS001')).toEqual([
      { school_name: '滨江区第一实验小学', class_code: '一年级（1）班' },
      { school_name: '滨江区第一实验小学', class_code: '二年级（3）班' },
    ]);
    expect(await names('339902PS002')).toEqual([{ school_name: '𠀾溪镇中心小学', class_code: '三年级（2）班' }]);
    const up = await server().db.query(`SELECT encoding FROM feed_upload WHERE id = $1`, [j.uploadId]);
    expect(up.rows).toEqual([{ encoding: 'gb18030' }]);
  });

  it('takes the encoding declared by charset or ?encoding=', async () => {
    const gbk = iconv.encode(SCHOOLS_GBK.replaceAll('339902PS00', 'GBK'), 'gbk');
    const r = await post('school-absenteeism', gbk, 'text/csv; charset=GBK');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ accepted: 3, encoding: 'gbk' });
    expect((await names('GBK2'))[0]).toEqual({ school_name: '鹿溪镇中心小学', class_code: '三年级（2）班' });
    const q = await post('school-absenteeism', gbk, 'text/csv', '?encoding=gb18030');
    expect(await q.json()).toMatchObject({ accepted: 3, encoding: 'gb18030' });
    // Declared UTF-8 but sent GBK: refused (400, upload kept raw without an encoding), nothing stored as U+FFFD.
    const wrong = await post(
      'school-absenteeism',
      iconv.encode(SCHOOLS_GBK.replaceAll('339902PS00', 'WRONG'), 'gbk'),
      'text/csv; charset=utf-8',
    );
    expect(wrong.status).toBe(400);
    const w = (await wrong.json()) as Result;
    expect(w.fatal).toMatch(/^line 2: bytes? \d+.* not valid UTF-8 \(the encoding named\)/);
    expect(w.encoding).toBeUndefined();
    expect(await names('WRONG1')).toEqual([]);
    const kept = await server().db.query(`SELECT encoding, octet_length(payload) AS n FROM feed_upload WHERE id = $1`, [w.uploadId]);
    expect(kept.rows[0]).toMatchObject({ encoding: null });
    // Disagreeing declarations and unknown encodings are refused before anything is stored.
    expect((await post('school-absenteeism', gbk, 'text/csv; charset=gbk', '?encoding=utf-8')).status).toBe(400);
    expect((await post('school-absenteeism', '{"a":1}\n', 'application/x-ndjson')).status).toBe(415);
    const unknown = await post('school-absenteeism', gbk, 'text/csv; charset=klingon');
    expect(unknown.status).toBe(415);
    expect(((await unknown.json()) as Outcome).issue[0]!.diagnostics).toContain("unknown encoding 'klingon'");
  });

  it('reads UTF-8 with a BOM (the header is found, the names exact)', async () => {
    const csv = [PHARM, 'BOM1,康宁大药房（滨江店）,2026-01-05,cold,10'].join('\n');
    const r = await post('pharmacy-sales', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ accepted: 1, encoding: 'utf-8' });
    const rows = await server().db.query(`SELECT pharmacy_name FROM feed_pharmacy_sales WHERE pharmacy_code = 'BOM1'`);
    expect(rows.rows).toEqual([{ pharmacy_name: '康宁大药房（滨江店）' }]);
  });

  it('refuses bytes valid in no encoding, naming them; nothing is stored as U+FFFD', async () => {
    const gb = iconv.encode(SCHOOLS_GBK.replaceAll('339902PS00', 'BAD'), 'gbk');
    const at = gb.indexOf(0x0a) + 20;
    const bad = Buffer.concat([gb.subarray(0, at), Buffer.from([0xff]), gb.subarray(at)]);
    const r = await post('school-absenteeism', bad);
    expect(r.status).toBe(400);
    const j = (await r.json()) as Result;
    expect(j.fatal).toMatch(/^line 2: bytes? [\d–]+ \([0-9A-F ]+\) (is|are) not valid UTF-8 or GB18030 .*charset=/);
    expect(j).toMatchObject({ accepted: 0, errors: [{ line: 2 }] });
    expect(await names('BAD1')).toEqual([]);
    expect(await count(`feed_school_absence WHERE position(U&'\\FFFD' IN school_name || class_code || reason || symptom) > 0`)).toBe(0);
    const list = (await (await server().api('/api/feeds/uploads')).json()) as { items: { id: number; encoding: string | null }[] };
    expect(list.items.find((u) => u.id === j.uploadId)).toMatchObject({ encoding: null });
    expect(list.items.some((u) => u.encoding === 'gb18030')).toBe(true);
  });

  it('rejects a CSV line with a NUL (line, field, reason) and keeps the good lines; JSON too', async () => {
    const csv = [PHARM, 'NUL1,药房,2026-01-05,cold,1', 'NUL2,药\0房,2026-01-05,cold,2', 'NUL3,药房,2026-01-05,cold\0,3'].join('\n');
    const r = await post('pharmacy-sales', Buffer.from(csv));
    expect(r.status).toBe(200);
    const j = (await r.json()) as Result;
    expect(j).toMatchObject({ accepted: 1, rejected: 2, encoding: 'utf-8' });
    expect(j.errors).toEqual([
      { line: 3, field: 'pharmacy_name', message: 'pharmacy_name contains a NUL character (U+0000) at character 2' },
      { line: 4, field: 'category', message: 'category contains a NUL character (U+0000) at character 5' },
    ]);
    expect(await count(`feed_pharmacy_sales WHERE pharmacy_code LIKE 'NUL%'`)).toBe(1);
    // JSON: "\u0000" and a lone "\ud800" arrive as such in the parsed body.
    const json = `[{"pharmacy_code":"JN1","pharmacy_name":"a\\u0000b","date":"2026-01-05","category":"cold","units":1},
      {"pharmacy_code":"JN2","pharmacy_name":"a\\ud800b","date":"2026-01-05","category":"cold","units":1},
      {"pharmacy_code":"JN3","pharmacy_name":"ok","date":"x\\u0000","category":"cold","units":1},
      {"pharmacy_code":"JN4","pharmacy_name":"ok","date":"2026-01-05","category":"cold","units":1}]`;
    const jr = await post('pharmacy-sales', json, 'application/json');
    expect(jr.status).toBe(200);
    const jj = (await jr.json()) as Result;
    expect(jj).toMatchObject({ accepted: 1, rejected: 3 });
    expect(jj.errors.map((e) => `${e.line}:${e.field}`)).toEqual(['1:pharmacy_name', '2:pharmacy_name', '3:date']);
    expect(await count(`feed_pharmacy_sales WHERE pharmacy_code LIKE 'JN%'`)).toBe(1);
  });

  it('refuses uploads over the size or row limit with 413, naming the limit, and stores nothing', async () => {
    const before = await count('feed_upload');
    const big = await post('pharmacy-sales', Buffer.alloc(MAX_FEED_BYTES + 1, 0x61));
    expect(big.status).toBe(413);
    expect(((await big.json()) as Outcome).issue[0]!.diagnostics).toContain(`at most ${MAX_FEED_BYTES / 1048576} MB`);
    const rows = await post('pharmacy-sales', [PHARM, ...Array<string>(MAX_FEED_ROWS + 1).fill('P,p,2026-01-05,cold,1')].join('\n'));
    expect(rows.status).toBe(413);
    expect(((await rows.json()) as Outcome).issue[0]!.diagnostics).toContain(`at most ${MAX_FEED_ROWS}`);
    const json = await post('pharmacy-sales', JSON.stringify(Array<object>(MAX_FEED_ROWS + 1).fill({})), 'application/json');
    expect(json.status).toBe(413);
    expect(await count('feed_upload')).toBe(before);
  });

  describe('yifang feed', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'yifang-feed-cli-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const run = (args: string[]) =>
      runCommand(
        (p: Command) => void registerFeedCommands(p, { openStore: async () => ({ db: server().db, close: async () => undefined }) }),
        'feed',
        args,
      );
    const file = (name: string, bytes: Buffer) => {
      const f = path.join(tmp, name);
      writeFileSync(f, bytes);
      return f;
    };

    it('loads a GB18030 file (detected or named with --encoding), names exact', async () => {
      const f = file('gb.csv', iconv.encode(SCHOOLS_GB18030.replaceAll('339902PS00', 'CLI'), 'gb18030'));
      const r = await run(['school-absenteeism', f]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/3 of 3 lines stored, 0 rejected \(upload \d+, read as gb18030\)/);
      expect(await names('CLI2')).toEqual([{ school_name: '𠀾溪镇中心小学', class_code: '三年级（2）班' }]);
      const g = file('gbk.csv', iconv.encode(SCHOOLS_GBK.replaceAll('339902PS00', 'CLK'), 'gbk'));
      const named = await run(['school-absenteeism', g, '--encoding', 'gbk']);
      expect(named.out).toContain('read as gbk');
      expect(await names('CLK2')).toEqual([{ school_name: '鹿溪镇中心小学', class_code: '三年级（2）班' }]);
    });

    it('refuses undecodable bytes and reports NUL lines, exit code 1', async () => {
      const bad = file(
        'bad.csv',
        Buffer.concat([Buffer.from(`${PHARM}\nC1,`), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from(',2026-01-05,cold,1\n')]),
      );
      const r = await run(['pharmacy-sales', bad]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/bad\.csv:2: line 2: bytes? .* not valid UTF-8 or GB18030/);
      const nul = file('nul.csv', Buffer.from(`${PHARM}\nC2,药\0房,2026-01-05,cold,1\nC3,药房,2026-01-05,cold,1\n`));
      const n = await run(['pharmacy-sales', nul]);
      expect(n.code).toBe(1);
      expect(n.err).toContain('nul.csv:2: pharmacy_name contains a NUL character');
      expect(n.out).toContain('1 of 2 lines stored, 1 rejected');
      const unknown = await run(['pharmacy-sales', nul, '--encoding', 'klingon']);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toContain("unknown encoding 'klingon'");
    });
  });
});
