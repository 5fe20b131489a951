/**
 * A resident's record (one Synthea patient): the charts draw, the timeline lists every
 * encounter, the diagnoses, lab and immunization lists are filled, and the page switches to
 * English and back.
 */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { ResidentRecordPage } from './pages/resident-record.page.js';
import { ShellPage } from './pages/shell.page.js';
import { seedSyntheaResident } from './resident.seed.js';

describeInBrowser('the resident record', { seed: seedSyntheaResident }, (fx) => {
  it('shows the record with charts and timeline, and switches to English', async () => {
    const { page, errors } = await fx().signIn();
    const { patientId, encounterCount, hasGlucose } = fx().facts;
    const record = new ResidentRecordPage(page, fx().url);
    await record.open(patientId);
    await expect(record.name().textContent()).resolves.toBe('Frankie174 Jast432');

    await record.waitForChart('bp-chart');
    if (hasGlucose) await record.waitForChart('glucose-chart');
    else await page.getByTestId('glucose-empty').waitFor({ state: 'visible' });
    await record.waitForChart('weight-chart');

    // Every encounter is on the timeline (newest first), with its facility.
    expect(await record.encounterItems().count()).toBe(encounterCount);
    await expect(record.encounterItems().first().textContent()).resolves.toMatch(/\d{4}-\d{2}-\d{2}/);
    await expect(record.timeline().textContent()).resolves.toContain('PRIMA CARE PC');
    expect(await record.timelineTitle()).toContain('就诊时间轴');

    // Diagnoses table lists the hypertension with its SNOMED code.
    await expect(page.getByTestId('conditions-table').textContent()).resolves.toContain('59621000');

    await record.screenshot('resident-record.png', { fullPage: true });

    // The other lists: lab results (Synthea's lipid panel) and immunizations (CVX coded).
    await record.openTab('检验检查');
    await expect(page.getByTestId('labs-table').textContent()).resolves.toContain('Total Cholesterol');
    await record.openTab('预防接种');
    await expect(page.getByTestId('immunizations-table').textContent()).resolves.toContain('Influenza');

    // Switch to English: labels change, the charts draw again.
    const shell = new ShellPage(page, fx().url);
    await shell.switchLanguage('EN');
    await page.getByText('Encounter timeline').first().waitFor({ state: 'visible' });
    expect(await record.timelineTitle()).toContain('Encounter timeline');
    await record.waitForChart('bp-chart');
    await record.screenshot('resident-record-en.png', { fullPage: true });
    expect(await page.evaluate(() => localStorage.getItem('yifang.lang'))).toBe('en');
    await shell.switchLanguage('中文');
    await page.getByText('就诊时间轴').first().waitFor({ state: 'visible' });
    expect(errors).toEqual([]);
  });
});
