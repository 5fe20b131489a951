/**
 * The lab loop's breach scan (issue #20, figure: 10,000 specimens in flight, the breach scan in
 * < 1 s; a breach raised within 60 s of its limit). Seeds 10,000 specimens in flight (deadlines
 * one every 30 s, as if collected through the day) beside 40,000 finished ones, then times:
 *   - the steady scan, as the module runs it every 30 s: the clock moves 30 s, about one new breach;
 *   - a burst: 1,000 deadlines passed at once (a batch collected together);
 *   - after an outage: every deadline still running passed at once (reported, not held to the target);
 *   - the ceiling: a plain indexed SELECT count(*) of the same rows in flight.
 * The breach latency is bounded by the scan interval (30 s) plus one scan.
 *
 *   node --import tsx bench/lab.bench.ts [--samples 40]
 */
import { freshDatabase, prepareTemplates, storeKinds, useProductCache } from '../src/app/test-stores.js';
import { BREACH_SCAN_MS, scanBreaches } from '../src/lab/index.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

const IN_FLIGHT = 10_000;
const FINISHED = 40_000;
const STEP_S = 30;

export async function runLabBench(argv: string[] = process.argv.slice(2)): Promise<void> {
  const samples = Number(arg(argv, 'samples', '40'));
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  for (const kind of storeKinds()) {
    const db = await freshDatabase(kind);
    try {
      const base = new Date('2026-06-01T00:00:00Z');
      await db.query(
        `INSERT INTO lab_order (id, test_code, mode, ordering_unit, source, created_at, created_by)
         VALUES ('bench-order', 'FLUA', 'routine', 'H001', 'api', $1, 'bench')`,
        [base],
      );
      // In flight: on the collection-receipt leg, deadlines one every 30 s after `base`.
      await db.query(
        `INSERT INTO lab_specimen (id, barcode, order_id, task_id, test_code, mode, state, hop, collecting_unit, holder, collected_at,
           leg, leg_unit, leg_started_at, leg_deadline, next_deadline, last_at, updated_at)
         SELECT 'f-' || i, 'F' || i, 'bench-order', 'tf-' || i, 'FLUA', 'routine', 'collected', 0, 'CHC-' || (i % 20), 'CHC-' || (i % 20),
                $1::timestamptz - interval '1 hour', 'collection-receipt', 'CHC-' || (i % 20), $1::timestamptz - interval '1 hour',
                $1::timestamptz + make_interval(secs => i * ${STEP_S}), $1::timestamptz + make_interval(secs => i * ${STEP_S}), $1, $1
         FROM generate_series(1, ${IN_FLIGHT}) i`,
        [base],
      );
      // Finished: reported, on no leg (outside the partial index).
      await db.query(
        `INSERT INTO lab_specimen (id, barcode, order_id, task_id, test_code, mode, state, hop, collecting_unit, holder, lab, collected_at,
           received_at, verified_at, reported_at, last_at, updated_at)
         SELECT 'd-' || i, 'D' || i, 'bench-order', 'td-' || i, 'FLUA', 'routine', 'reported', 0, 'CHC-' || (i % 20), 'CDC', 'CDC',
                $1::timestamptz - interval '3 days', $1::timestamptz - interval '2 days', $1::timestamptz - interval '1 day',
                $1::timestamptz - interval '1 day', $1, $1
         FROM generate_series(1, ${FINISHED}) i`,
        [base],
      );
      await db.query('ANALYZE lab_specimen');
      const plan = (
        await db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT id FROM lab_specimen WHERE next_deadline IS NOT NULL AND next_deadline <= $1 ORDER BY next_deadline LIMIT 2000`,
          [base],
        )
      ).rows
        .map((r) => r['QUERY PLAN'])
        .join(' ');

      // The ceiling: counting the 10,000 rows in flight through the same partial index.
      const count: number[] = [];
      let n = 0;
      for (let k = 0; k < samples; k++) {
        const t0 = performance.now();
        n = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM lab_specimen WHERE next_deadline IS NOT NULL')).rows[0]!.n);
        count.push(performance.now() - t0);
      }
      // Warm-up, then the steady scans: the clock moves 30 s per scan.
      await scanBreaches(db, base);
      const steady: number[] = [];
      let recorded = 0;
      for (let k = 1; k <= samples; k++) {
        const now = new Date(base.getTime() + k * STEP_S * 1000);
        const t0 = performance.now();
        recorded += (await scanBreaches(db, now)).length;
        steady.push(performance.now() - t0);
      }
      // Bursts: 1,000 deadlines at once.
      const burst: number[] = [];
      let burstRecorded = 0;
      for (let b = 1; b <= 3; b++) {
        const now = new Date(base.getTime() + (samples + b * 1000) * STEP_S * 1000);
        const t0 = performance.now();
        burstRecorded += (await scanBreaches(db, now)).length;
        burst.push(performance.now() - t0);
      }
      // After an outage: every deadline still running passed at once.
      const tAll = performance.now();
      const all = (await scanBreaches(db, new Date(base.getTime() + 2 * IN_FLIGHT * STEP_S * 1000))).length;
      const allMs = performance.now() - tAll;
      steady.sort((a, b) => a - b);
      count.sort((a, b) => a - b);
      const p95 = percentile(steady, 95);
      const worst = Math.max(...burst);
      rows.push({
        store: kind,
        'in flight / finished': `${IN_FLIGHT}/${FINISHED}`,
        'index used': /lab_specimen_due/.test(plan) ? 'lab_specimen_due' : 'NO',
        [`steady scan p50/p95 ms (n=${samples})`]: `${percentile(steady, 50).toFixed(1)}/${p95.toFixed(1)}`,
        'breaches (steady)': recorded,
        'burst of 1,000 ms (worst of 3)': worst.toFixed(0),
        'breaches (bursts)': burstRecorded,
        'all the rest at once ms (breaches)': `${allMs.toFixed(0)} (${all})`,
        'count(*) p50/p95 ms': `${percentile(count, 50).toFixed(1)}/${percentile(count, 95).toFixed(1)}`,
        'rows counted': n,
        'scan < 1 s': Math.max(p95, worst) < 1000 ? 'met' : 'NOT met',
        'breach within (s, target 60)': `${((BREACH_SCAN_MS + Math.max(p95, worst)) / 1000).toFixed(1)} ${BREACH_SCAN_MS + Math.max(p95, worst) < 60_000 ? 'met' : 'NOT met'}`,
      });
    } finally {
      await db.dispose();
    }
  }
  printTable(
    `Lab breach scan: ${IN_FLIGHT.toLocaleString('en')} specimens in flight (one deadline every ${STEP_S} s), scan every ${BREACH_SCAN_MS / 1000} s`,
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runLabBench();
