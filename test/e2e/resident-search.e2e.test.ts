/**
 * Finding a resident: from the side menu to the resident list, a search by ID number (shown
 * masked) and by name, then the record opens from the list.
 */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { ResidentRecordPage } from './pages/resident-record.page.js';
import { ResidentsPage } from './pages/residents.page.js';
import { ShellPage } from './pages/shell.page.js';
import { ID_NUMBER, seedSyntheaResident } from './resident.seed.js';

describeInBrowser('finding a resident', { seed: seedSyntheaResident }, (fx) => {
  it('finds the resident by ID number and by name and opens the record', async () => {
    const { page, errors } = await fx().signIn();
    await new ShellPage(page, fx().url).openFromMenu('/residents');
    const residents = new ResidentsPage(page, fx().url);
    await residents.root().waitFor({ state: 'visible' });

    // By ID number: the list shows it masked.
    const byId = await residents.search(ID_NUMBER, 'Jast432');
    await expect(byId.first().textContent()).resolves.toContain(`${ID_NUMBER.slice(0, 6)}********${ID_NUMBER.slice(-4)}`);

    // By name.
    await residents.search('Frankie174', 'Jast432');
    await residents.screenshot('resident-list.png', { fullPage: true });
    await residents.openResident('Frankie174 Jast432');

    const record = new ResidentRecordPage(page, fx().url);
    await record.waitLoaded();
    expect(page.url()).toContain(`#/residents/${fx().facts.patientId}`);
    await expect(record.name().textContent()).resolves.toBe('Frankie174 Jast432');
    expect(errors).toEqual([]);
  });
});
