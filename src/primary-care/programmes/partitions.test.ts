/**
 * Every shipped programme's enrolments have a partition of prog_enrolment of their own (an
 * indicator reads one programme's rows), and migration 364 moves rows a store had already derived
 * into the default partition for the programmes it gives partitions to. On both stores.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds } from '../../app/testing.js';
import { loadProgrammes } from './definition.js';

const MIGRATION = new URL('./migrations/364_programme_partitions.sql', import.meta.url);

/** The partition a programme's rows go to (the table's name), by its list bound. */
const partitionsSql = `SELECT c.relname AS tab, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'prog_enrolment'::regclass`;

describe.each(storeKinds())('programme partitions [%s]', (kind) => {
  it('gives every shipped programme a partition of its own, and moves rows the default partition held', async () => {
    const db = await freshDatabase(kind);
    try {
      const parts = (await db.query<{ tab: string; bound: string }>(partitionsSql)).rows;
      for (const p of loadProgrammes())
        expect(
          parts.some((x) => x.bound.includes(`'${p.code}'`)),
          `${p.code} has no partition of prog_enrolment (add one in a migration)`,
        ).toBe(true);

      // A store derived before migration 364: the nine programmes' rows sit in the default partition.
      const moved = parts.filter((x) =>
        /^prog_enrolment_(dyslipidaemia|screening_|disabled_elderly|child_development|cancer_patients)/.test(x.tab),
      );
      expect(moved).toHaveLength(9);
      for (const x of moved) await db.query(`ALTER TABLE prog_enrolment DETACH PARTITION ${x.tab}; DROP TABLE ${x.tab}`);
      await db.query(
        `INSERT INTO prog_enrolment (programme, patient_id, episode_key, start_on, version)
         VALUES ('dyslipidaemia', 'p1', 'e1', '2025-01-01', 'v'), ('screening-copd', 'p1', 'e1', '2025-01-01', 'v'),
                ('screening-copd', 'p2', 'e1', '2025-01-01', 'v'), ('elderly-65', 'p2', 'e1', '2025-01-01', 'v')`,
      );
      const inDefault = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM prog_enrolment_other`)).rows[0]!.n;
      expect(await inDefault()).toBe(3);
      await db.query(fs.readFileSync(MIGRATION, 'utf8'));
      expect(await inDefault()).toBe(0);
      const copd = await db.query<{ patient_id: string }>(`SELECT patient_id FROM prog_enrolment_screening_copd ORDER BY 1`);
      expect(copd.rows.map((r) => r.patient_id)).toEqual(['p1', 'p2']);
      const all = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM prog_enrolment`);
      expect(all.rows[0]!.n).toBe(4);
    } finally {
      await db.dispose();
    }
  });
});
