/** 新签约: a family-doctor contract signed for a resident with one of the teams. */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { ContractsPage } from './pages/contracts.page.js';

describeInBrowser('signing a family-doctor contract', { store: chronicDistrict }, (fx) => {
  it('signs the resident with the first team; the contract list counts one', async () => {
    const { page, errors } = await fx().signIn();
    const contracts = new ContractsPage(page, fx().url);
    await contracts.open();
    const before = await contracts.signedCount();
    await contracts.signContract(fx().facts.uncontracted);
    await contracts.waitForTab(`签约居民（${before + 1}）`);
    await contracts.screenshot('chronic-contracts.png');
    expect(errors).toEqual([]);
  });
});
