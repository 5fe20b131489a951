/**
 * The space-time scan's clusters on the district alert map, in Chromium: two stored clusters
 * (one evidence for fusion, one only listed) are drawn over the streets — the map reports it
 * finished drawing, the legend names both kinds, the list under it describes them — with no
 * page error.
 */
import { expect, it } from 'vitest';
import { describeInBrowser, type Seeder } from './fixture.js';
import { AlertBoardPage } from './pages/alert-board.page.js';
import { seedSurveillance } from './surveillance.seed.js';

async function seedClusters(s: Seeder): Promise<void> {
  await seedSurveillance(s);
  const insert = (signal: string, runDay: string, areas: string[], observed: number, expected: number, p: number, evidence: boolean) =>
    s.db.query(
      `INSERT INTO surv_scan_cluster (signal, run_day, rank, source, area_level, center_code, area_codes, area_observed, area_expected,
         start_day, end_day, observed, expected, relative_risk, llr, p_value, evidence, replications, seed, total_cases, study_days)
       VALUES ($1, $2::date, 1, 'clinic-syndrome', 'street', $3, $4::text[], $5::float8[], $6::float8[], $2::date - 3, $2::date, $7, $8, $9, 9.5, $10, $11, 999, 7, 900, 365)`,
      [
        signal,
        runDay,
        areas[0],
        areas,
        areas.map((_, i) => (i === 0 ? observed - areas.length + 1 : 1)),
        areas.map(() => expected / areas.length),
        observed,
        expected,
        observed / expected,
        p,
        evidence,
      ],
    );
  await insert('syndrome:diarrhoea', '2025-06-08', ['339902002000', '339902001000'], 18, 5.3, 0.001, true);
  await insert('ili', '2025-06-07', ['339902003000'], 9, 4, 0.03, false);
}

describeInBrowser('scan clusters on the alert map', { seed: seedClusters }, (fx) => {
  it('draws the stored clusters on the board’s map with their legend and list', async () => {
    const { page, errors } = await fx().signIn();
    const board = new AlertBoardPage(page, fx().url);
    await board.open();
    expect(await board.mapDrawn()).toBe(true);
    const items = page.getByTestId('scan-cluster');
    await items.first().waitFor({ state: 'visible' });
    expect(await items.count()).toBe(2);
    expect(await items.first().textContent()).toContain('望湖街道等 2 个街道');
    const legend = page.getByTestId('alert-map-legend');
    expect(await legend.textContent()).toContain('时空聚集（计入预警证据）');
    expect(await legend.textContent()).toContain('时空聚集（仅列出）');
    await board.screenshot('surveillance-alert-board-scan.png', { fullPage: true });
    expect(errors).toEqual([]);
  });
});
