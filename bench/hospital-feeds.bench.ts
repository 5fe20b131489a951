/**
 * Hospital CSV feeds (issue #16): a 20,000-row lab-results file (GB18030, 2,000 patients × 10
 * tests) uploaded through POST /api/hospital-feeds/lab-results/uploads on a running server per
 * store, timed from the POST to the upload's status 'done' (polled every 20 ms): rows/s. Beside it,
 * the ceiling: the same rows' text COPY'd into a two-column table on the same database, and the
 * ratio. Then the same file again (every row unchanged: nothing written).
 *
 *   node --import tsx bench/hospital-feeds.bench.ts [--rows 20000]
 */
import iconv from 'iconv-lite';
import { makeIdNumber } from '../src/shared/id-number.js';
import { prepareTemplates, startTestServer, storeKinds, useProductCache } from '../src/app/test-stores.js';
import { printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

const TESTS = [
  ['LIS0231', '甲型流感病毒核酸', '阴性', ''],
  ['LIS0232', '乙型流感病毒核酸', '阴性', ''],
  ['GLU', '葡萄糖', '5.6', 'mmol/L'],
  ['WBC', '白细胞计数', '6.1', '10*9/L'],
  ['HGB', '血红蛋白', '135', 'g/L'],
  ['PLT', '血小板计数', '210', '10*9/L'],
  ['CRP', 'C反应蛋白', '3.2', 'mg/L'],
  ['ALT', '丙氨酸氨基转移酶', '22', 'U/L'],
  ['CREA', '肌酐', '71', 'umol/L'],
  ['UA', '尿酸', '320', 'umol/L'],
] as const;

function labFile(rows: number): { text: string; lines: string[] } {
  const header = '患者编号,身份证号,姓名,门诊号,检验单号,检验项目编码,检验项目名称,结果,单位,参考范围,标本类型,采样时间,报告时间';
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const p = Math.floor(i / TESTS.length);
    const [code, name, value, unit] = TESTS[i % TESTS.length]!;
    const day = String(1 + (p % 28)).padStart(2, '0');
    lines.push(
      [
        `P${p}`,
        makeIdNumber('140602', `19${50 + (p % 50)}-0${1 + (p % 9)}-${day}`, p % 999),
        `患者${p}`,
        `V${p}`,
        `L${p}`,
        code,
        name,
        value,
        unit,
        '',
        '血清',
        `2026-01-${day} 09:00`,
        `2026-01-${day} 15:00`,
      ].join(','),
    );
  }
  return { text: `${header}\r\n${lines.join('\r\n')}\r\n`, lines };
}

export async function runHospitalFeedsBench(argv: string[] = process.argv.slice(2)): Promise<void> {
  const rows = Number(arg(argv, 'rows', '20000'));
  const { text, lines } = labFile(rows);
  const body = new Uint8Array(iconv.encode(text, 'gb18030'));
  await prepareTemplates();
  const out: Record<string, string | number>[] = [];
  for (const kind of storeKinds()) {
    const server = await startTestServer(kind);
    try {
      const timeUpload = async () => {
        const t0 = performance.now();
        const r = await server.api('/api/hospital-feeds/lab-results/uploads?facility=BENCH-WSY', {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body,
        });
        if (r.status !== 202) throw new Error(`upload: ${r.status} ${await r.text()}`);
        const { uploadId } = (await r.json()) as { uploadId: number };
        for (;;) {
          const u = (await (await server.api(`/api/hospital-feeds/uploads/${uploadId}`)).json()) as {
            status: string;
            rowsStored: number;
            rowsDead: number;
            resourcesWritten: number;
          };
          if (u.status !== 'queued' && u.status !== 'running') return { ...u, ms: performance.now() - t0 };
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      const first = await timeUpload();
      const again = await timeUpload();
      // The ceiling: the same rows as text COPY'd into a two-column table.
      const client = await server.db.pool.connect();
      let copyMs: number;
      try {
        await client.query('CREATE TABLE IF NOT EXISTS bench_hf_copy (line integer, text text)');
        const data = lines.map((l, i) => `${i + 2}\t${l.replace(/\\/g, '\\\\').replace(/\t/g, '\\t')}`).join('\n') + '\n';
        const t0 = performance.now();
        await client.query('BEGIN');
        await server.db.copyFrom(client, 'bench_hf_copy', ['line', 'text'], data);
        await client.query('COMMIT');
        copyMs = performance.now() - t0;
        await client.query('DROP TABLE bench_hf_copy');
      } finally {
        client.release();
      }
      const perSec = (ms: number) => Math.round((rows / ms) * 1000);
      out.push({
        store: kind,
        rows,
        status: first.status,
        stored: first.rowsStored,
        resources: first.resourcesWritten,
        'upload s': (first.ms / 1000).toFixed(1),
        'rows/s': perSec(first.ms),
        're-upload rows/s (unchanged)': perSec(again.ms),
        're-upload written': again.resourcesWritten,
        'COPY rows/s': perSec(copyMs),
        'ratio (COPY / upload)': (copyMs > 0 ? first.ms / copyMs : 0).toFixed(0),
      });
    } finally {
      await server.dispose();
    }
  }
  printTable(`Hospital CSV feeds: ${rows}-row GB18030 lab-results file, POST → done, beside raw COPY of the same rows`, out);
}

if (import.meta.url === `file://${process.argv[1]}`) await runHospitalFeedsBench();
