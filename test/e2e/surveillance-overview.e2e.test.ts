/** The surveillance overview: the district's signals at a glance, reached from the side menu. */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { OverviewPage } from './pages/overview.page.js';
import { ShellPage } from './pages/shell.page.js';
import { seedSurveillance } from './surveillance.seed.js';

describeInBrowser('the surveillance overview', { seed: seedSurveillance }, (fx) => {
  it('shows the signals of the seeded cards', async () => {
    const { page, errors } = await fx().signIn();
    await new ShellPage(page, fx().url).openFromMenu('/surveillance/overview', '传染病监测预警');
    const overview = new OverviewPage(page, fx().url);
    await overview.signals().first().waitFor({ state: 'visible' });
    expect(await overview.signals().count()).toBeGreaterThanOrEqual(1);
    await overview.screenshot('surveillance-overview.png', { fullPage: true });
    expect(errors).toEqual([]);
  });
});
