/** 医防指标: the indicator cards, a drill-down to the residents behind a figure, and the English names. */
import path from 'node:path';
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { artifactsDir } from './harness.js';
import { IndicatorsPage } from './pages/indicators.page.js';

describeInBrowser('indicators and drill-down', { store: chronicDistrict }, (fx) => {
  it('the home page shows the work figures and the indicators against their targets, each a link', async () => {
    const { page, errors } = await fx().signIn();
    await page.getByTestId('home-figures').waitFor({ timeout: 15_000 });
    const indicators = page.getByTestId('home-indicator');
    expect(await indicators.count()).toBeGreaterThanOrEqual(4);
    expect(await indicators.first().innerText()).toMatch(/高血压患者规范管理率[\s\S]*目标 ≥ 70%/);
    const followUps = page.getByTestId('home-figure').filter({ hasText: '本周应随访' });
    expect(await followUps.getAttribute('href')).toBe('#/chronic');
    await page.screenshot({ path: path.join(artifactsDir, 'home.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('drills down from a figure to the residents behind it', async () => {
    const { page, errors } = await fx().signIn();
    const indicators = new IndicatorsPage(page, fx().url);
    await indicators.open();
    expect(await indicators.drillDownFirst()).toBeGreaterThan(0);
    await indicators.screenshot('chronic-indicators.png');
    expect(errors).toEqual([]);
  });

  it('in English: indicator definitions by their English names', async () => {
    const { page, errors } = await fx().signIn('en');
    const indicators = new IndicatorsPage(page, fx().url);
    await indicators.open('en');
    expect(await indicators.shows('Hypertension: standardised management rate')).toBe(true);
    expect(errors).toEqual([]);
  });
});
