/** 医防指标: the indicator cards, a drill-down to the residents behind a figure, and the English names. */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { IndicatorsPage } from './pages/indicators.page.js';

describeInBrowser('indicators and drill-down', { store: chronicDistrict }, (fx) => {
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
