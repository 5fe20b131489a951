/**
 * Key populations flagged by staff (in English): a resident flagged shows in its tab with the tag.
 * The tab also lists the pregnant women the simulated district's antenatal records make known.
 */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { ContractsPage } from './pages/contracts.page.js';

describeInBrowser('flagging a key population', { store: chronicDistrict }, (fx) => {
  it('flags a resident; the key-population tab lists them as Disabled', async () => {
    const { page, errors } = await fx().signIn('en');
    const contracts = new ContractsPage(page, fx().url);
    await contracts.open('en');
    await contracts.flagKeyPopulation(fx().facts.htnPatient);
    await contracts.openTab(/^Key populations \(\d+\)$/);
    // The list reloads after the flag is saved.
    await page.locator('.ant-tabs-tabpane-active .ant-tag', { hasText: 'Disabled' }).first().waitFor({ timeout: 15_000 });
    const tags = await contracts.activeTabTags();
    expect(tags.filter((x) => x === 'Disabled')).toHaveLength(1);
    expect(tags.filter((x) => x !== 'Disabled' && x !== 'Pregnant women')).toEqual([]);
    await contracts.screenshot('chronic-key-populations-en.png');
    expect(errors).toEqual([]);
  });
});
