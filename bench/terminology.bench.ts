/**
 * Lab signal from a mapped local code (issue #16, figure: counted within 5 s of its ACK). On a
 * running server per store: a hospital LIS code (甲型流感病毒核酸, local code LIS0231) is mapped
 * through PUT /api/terminology/mappings, then ORU^R01 positives with that code are sent over MLLP
 * one at a time; for each, the time from its ACK to its row in the lab positives (polled every
 * 5 ms) is taken. Prints median, p95 and max per store. Processors run as in production (on
 * PostgreSQL in their own thread, on PGlite on the main thread).
 *
 *   node --import tsx bench/terminology.bench.ts [--messages 50]
 */
import net from 'node:net';
import { encodeFrame, MllpDecoder } from '../src/hl7v2/index.js';
import { prepareTemplates, startTestServer, storeKinds, useProductCache } from '../src/app/test-stores.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

function oru(n: number): Buffer {
  const now = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return encodeFrame(
    [
      `MSH|^~\\&|LIS|BENCH-LIS^人民医院检验科|YIFANG|CDC|${now}||ORU^R01^ORU_R01|TMB-${n}|P|2.5|||||CHN|UNICODE UTF-8`,
      `PID|1||TMB${n}^^^BENCH^MR||测试^${n}||20100101|F`,
      `OBR|1|P${n}|F${n}|RESP^呼吸道病原体检测^L|||20260302090000`,
      `OBX|1|ST|LIS0231^甲型流感病毒核酸^L||阳性||||||F|||20260302090000`,
    ].join('\r'),
  );
}

export async function runTerminologyBench(argv: string[] = process.argv.slice(2)): Promise<void> {
  const messages = Number(arg(argv, 'messages', '50'));
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  for (const kind of storeKinds()) {
    const server = await startTestServer(kind);
    try {
      const mapped = await server.api('/api/terminology/mappings', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ facility: 'BENCH-LIS', code: 'LIS0231', display: '甲型流感病毒核酸', target: 'FLUA' }),
      });
      if (mapped.status !== 200) throw new Error(`mapping: ${mapped.status} ${await mapped.text()}`);
      const { mllpPort } = (await (await server.api('/api/hl7/status')).json()) as { mllpPort: number };
      const socket = net.connect(mllpPort, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.setNoDelay(true);
      const decoder = new MllpDecoder();
      let waiting: (() => void) | undefined;
      socket.on('data', (chunk: Buffer) => {
        for (const ev of decoder.push(chunk)) if (ev.type === 'message') waiting?.();
      });
      const counted = async () =>
        Number((await server.db.query<{ n: string }>(`SELECT count(*) AS n FROM surv_lab_positive WHERE signal = 'lab:FLUA'`)).rows[0]!.n);
      const latencies: number[] = [];
      for (let i = 0; i < messages; i++) {
        const acked = new Promise<void>((resolve) => (waiting = resolve));
        socket.write(oru(i));
        await acked;
        const t0 = performance.now();
        while ((await counted()) < i + 1) {
          if (performance.now() - t0 > 30_000) throw new Error(`message ${i} not counted after 30 s`);
          await new Promise((r) => setTimeout(r, 5));
        }
        latencies.push(performance.now() - t0);
      }
      socket.destroy();
      const sorted = [...latencies].sort((a, b) => a - b);
      rows.push({
        store: kind,
        messages,
        'ACK → counted median ms': Math.round(percentile(sorted, 50)),
        'p95 ms': Math.round(percentile(sorted, 95)),
        'max ms': Math.round(sorted.at(-1)!),
        'target ms': 5000,
      });
    } finally {
      await server.dispose();
    }
  }
  printTable('ORU^R01 positive with a mapped local code (LIS0231 → FLUA): from its ACK to the lab signal', rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await runTerminologyBench();
