/** Key populations flagged by staff (in English): a resident flagged shows in its tab with the tag. */
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
    await contracts.openTab('Key populations (1)');
    expect(await contracts.activeTabTags()).toEqual(['Disabled']);
    await contracts.screenshot('chronic-key-populations-en.png');
    expect(errors).toEqual([]);
  });
});
