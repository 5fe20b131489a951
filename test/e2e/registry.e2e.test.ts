/** The chronic-disease registry of the simulated district. */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { RegistryPage } from './pages/registry.page.js';

describeInBrowser('the chronic-disease registry', { store: chronicDistrict }, (fx) => {
  it('lists the registered residents', async () => {
    const { page, errors } = await fx().signIn();
    const registry = new RegistryPage(page, fx().url);
    await registry.open();
    expect(await registry.rowCount()).toBeGreaterThan(0);
    await registry.screenshot('chronic-registry.png');
    expect(errors).toEqual([]);
  });
});
