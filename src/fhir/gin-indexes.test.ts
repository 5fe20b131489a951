import { expect, it } from 'vitest';
import { freshDatabase, storeKinds } from '../app/testing.js';

for (const kind of storeKinds()) {
  it(`keeps rows without a value out of the GIN indexes and still searches through them [${kind}] (migration 10)`, async () => {
    const db = await freshDatabase(kind);
    try {
      const defs = (
        await db.query<{ indexname: string; indexdef: string }>(
          `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'r_observation' AND indexdef LIKE '%USING gin%' ORDER BY 1`,
        )
      ).rows;
      expect(defs.map((d) => d.indexname)).toEqual(expect.arrayContaining(['r_observation_compartments', 'r_observation_p_code']));
      for (const d of defs) expect(d.indexdef).toMatch(/WHERE \(\w+ IS NOT NULL\)$/);
      expect(defs.find((d) => d.indexname === 'r_observation_p_identifier')!.indexdef).toContain('fastupdate');
      // The strict operators the searches use prove the column is not NULL: the planner takes the partial index.
      await db.transaction(async (c) => {
        await c.query('SET LOCAL enable_seqscan = off');
        const plan = async (where: string) =>
          (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM r_observation WHERE ${where}`)).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        expect(await plan(`p_code && ARRAY['http://loinc.org|8480-6']::text[]`)).toContain('r_observation_p_code');
        expect(await plan(`compartments @> ARRAY['Patient/p1']::text[]`)).toContain('r_observation_compartments');
        expect(await plan(`p_subject && ARRAY(SELECT 'Patient/' || id FROM r_patient WHERE id = 'p1')`)).toContain(
          'r_observation_p_subject',
        );
      });
    } finally {
      await db.dispose();
    }
  });
}
