/**
 * The worklist's ordered walk (store.ts worklistPage) against the one statement that lists and
 * sorts every item (`via: 'sql'`), on a seeded district of the benchmark's make (bench/programmes.bench.ts
 * generateFacts: every programme, ten centres, seventy areas) with some residents born on the 29th
 * of February, some deceased (with a day of death and without), some without a birth date, and some
 * items delivered on a day after the one asked (a record dated ahead; the days asked in the past).
 * Every programme's pages, totals and counts are compared for statuses, areas, centres, overdue
 * spans, offsets (to the last page, and past the walk's reach) and days asked, past and ahead.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes, type Programme } from './definition.js';
import { supersededItems } from './next-follow-up.js';
import { recomputeProgrammes } from './refresh.js';
import { copyProgrammeFactRows, worklistPage, type WorklistQuery } from './store.js';
import { draws, plusDays } from './seeded.testutil.js';

const TODAY = todayInChina();
const programmes = loadProgrammes();
const { pick, between, chance } = draws(20261207);

/** The queries asked of each programme: the doctor's first page, then filters, spans, days and offsets drawn. */
function queriesOf(): { asOf: string; q: WorklistQuery }[] {
  const days = [TODAY, plusDays(TODAY, -45), plusDays(TODAY, -200), plusDays(TODAY, -400), plusDays(TODAY, 40)];
  const out: { asOf: string; q: WorklistQuery }[] = [{ asOf: TODAY, q: { overdueWithinDays: 365, limit: 50, offset: 0 } }];
  for (let k = 0; k < 14; k++) {
    const q: WorklistQuery = {
      overdueWithinDays: pick([365, 365, 30, 0, 3650]),
      limit: pick([1, 7, 50, 50, 200]),
      offset: pick([0, 0, 1, 49, 50, 137, 600]),
    };
    if (chance(0.4)) q.status = pick(['due', 'overdue', 'all'] as const);
    if (chance(0.3)) q.area = pick(['339902003', '339902007005', '3399020']);
    if (chance(0.3)) q.organization = `org-${between(0, 9)}`;
    out.push({ asOf: k < 3 ? TODAY : pick(days), q });
  }
  return out;
}

describeEachStore('worklist pages by the ordered walk equal the full statement', (server) => {
  const db = () => server().db;

  beforeAll(async () => {
    // Imported here: the benchmark's module gives PGlite stores opened after it the product's
    // cache (useProductCache), and this file's stores are open by now.
    const { generateFacts } = await import('../../../bench/programmes.bench.js');
    await copyProgrammeFactRows(db(), generateFacts(3000, TODAY, 7).tables);
    await db().query(
      `UPDATE prog_person SET birth_date = make_date(extract(year FROM birth_date)::int / 4 * 4, 2, 29) WHERE patient_id LIKE '%13'`,
    );
    await db().query(`UPDATE prog_person SET deceased = true, deceased_on = $1::date - 100 WHERE patient_id LIKE '%17'`, [TODAY]);
    await db().query(`UPDATE prog_person SET deceased = true, deceased_on = $1::date - 10 WHERE patient_id LIKE '%41'`, [TODAY]);
    await db().query(`UPDATE prog_person SET deceased = true WHERE patient_id LIKE '%29'`);
    await db().query(`UPDATE prog_person SET birth_date = NULL WHERE patient_id LIKE '%57'`);
    await recomputeProgrammes(db(), programmes, TODAY, { thread: false });
    // Items delivered after some day asked: on one ahead of today (a record dated ahead), and on one in the past.
    await db().query(
      `UPDATE prog_item SET delivered_on = least(window_to - 1, $1::date + 20)
       WHERE delivered_on IS NULL AND window_from <= $1::date AND window_to > $1::date + 1 AND patient_id LIKE '%6'`,
      [TODAY],
    );
    await db().query('ANALYZE');
  }, 900_000);

  const ask = (p: Programme, q: WorklistQuery, asOf: string, via: 'walk' | 'sql', tune?: Record<string, number>) =>
    worklistPage(db(), p, q, asOf, supersededItems([p]), { via, tune });
  // Reads this small make a district of 3,000 take the walk's other paths: parts read again deeper,
  // and the population counted by an anti-join.
  const TIGHT = { firstRead: 5, manyStored: 1 };

  it('gives every programme the same pages, totals and counts for every filter, span, offset and day', async () => {
    const seen = { rows: 0, age: 0, stored: 0, overdue: 0, next: 0, deep: 0, last: 0 };
    for (const p of programmes) {
      for (const { asOf, q } of queriesOf()) {
        const ref = await ask(p, q, asOf, 'sql');
        expect(await ask(p, q, asOf, 'walk'), `${p.code} on ${asOf} ${JSON.stringify(q)}`).toEqual(ref);
        expect(await ask(p, q, asOf, 'walk', TIGHT), `${p.code} on ${asOf} ${JSON.stringify(q)}, tight`).toEqual(ref);
        seen.rows += ref.rows.length;
        for (const r of ref.rows as { episodeKey: string; status: string; item: string }[]) {
          if (r.episodeKey === 'age') seen.age++;
          else seen.stored++;
          if (r.status === 'overdue') seen.overdue++;
          if (r.item === 'next-follow-up') seen.next++;
        }
        // The last page, and a page past the walk's reach (the full statement answers it).
        if (ref.total > 3) {
          const pages = [{ ...q, offset: ref.total - 3, limit: 10 }];
          // To the walk's reach (offset + limit = 2000), and past it.
          if (ref.total > 2000) pages.push({ ...q, offset: 1950, limit: 50 }, { ...q, offset: 2001, limit: 50 });
          for (const x of pages) {
            const r = await ask(p, x, asOf, 'sql');
            expect(await ask(p, x, asOf, 'walk'), `${p.code} on ${asOf} ${JSON.stringify(x)}`).toEqual(r);
            expect(await ask(p, x, asOf, 'walk', TIGHT), `${p.code} on ${asOf} ${JSON.stringify(x)}, tight`).toEqual(r);
          }
          seen.last++;
          if (ref.total > 2000) seen.deep++;
        }
      }
    }
    // The district gives every kind of row the walk has a source for.
    expect(seen.age).toBeGreaterThan(500);
    expect(seen.stored).toBeGreaterThan(500);
    expect(seen.overdue).toBeGreaterThan(100);
    expect(seen.next).toBeGreaterThan(0);
    expect(seen.last).toBeGreaterThan(100);
    expect(seen.deep).toBeGreaterThan(0);
  }, 900_000);

  it('lists residents whose upper age falls within an item window, and items delivered after the day asked', async () => {
    // Rows the walk reads apart: episodes of age ending within the window (colorectal screening
    // ends at 75), on a day in the past; and items whose record is dated after the day asked.
    const colorectal = programmes.find((p) => p.code === 'screening-cancer')!;
    const asOf = plusDays(TODAY, -200);
    const q: WorklistQuery = { overdueWithinDays: 365, limit: 2000, offset: 0 };
    const ref = await ask(colorectal, q, asOf, 'sql');
    const ends = (ref.rows as { episodeKey: string; windowLast: string }[]).filter(
      (r) => r.episodeKey === 'age' && r.windowLast < `${asOf.slice(0, 4)}-12-31`,
    );
    expect(ends.length).toBeGreaterThan(0);
    expect(await ask(colorectal, q, asOf, 'walk')).toEqual(ref);
    const ahead = await db().query(`SELECT 1 FROM prog_item WHERE delivered_on > $1::date`, [TODAY]);
    expect(ahead.rows.length).toBeGreaterThan(0);
  }, 300_000);
});
