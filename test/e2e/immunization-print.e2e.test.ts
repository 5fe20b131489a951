/** A child's printable immunization prescription. */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { ImmunizationPrintPage } from './pages/immunization-print.page.js';

describeInBrowser('the immunization prescription', { store: chronicDistrict }, (fx) => {
  it('shows the vaccines due for a child under two', async () => {
    const { page, errors } = await fx().signIn();
    const prescription = new ImmunizationPrintPage(page, fx().url);
    await prescription.open(fx().facts.child);
    expect(await prescription.doseRows()).toBeGreaterThan(0);
    await prescription.screenshot('chronic-immunization-prescription.png');
    expect(errors).toEqual([]);
  });
});
