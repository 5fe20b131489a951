/**
 * An alert from board to triage: the alert board (list and map) → the alert page (signal
 * series, case map, workflow) → a workflow step (研判) and a discussion entry.
 */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { AlertBoardPage } from './pages/alert-board.page.js';
import { AlertDetailPage } from './pages/alert.page.js';
import { seedSurveillance } from './surveillance.seed.js';

describeInBrowser('an alert from the board to triage', { seed: seedSurveillance }, (fx) => {
  it('drives the alert board → alert page → a workflow step and a discussion entry', async () => {
    const { page, errors } = await fx().signIn();
    const board = new AlertBoardPage(page, fx().url);
    await board.open();
    expect(await board.alertCount()).toBeGreaterThanOrEqual(1);
    expect(await board.mapDrawn()).toBe(true);
    await board.screenshot('surveillance-alert-board.png', { fullPage: true });
    await board.openFirstAlert();

    const alert = new AlertDetailPage(page, fx().url);
    expect(await alert.status()).toContain('新预警');
    expect(await alert.waitForSignals()).toBeGreaterThanOrEqual(1);
    await alert.waitForCaseMap();
    await alert.screenshot('surveillance-alert-page.png', { fullPage: true });
    await alert.startTriage('张研判', '病例已电话核实');
    expect(await alert.status()).toContain('研判中');
    await alert.comment('医院：患者已隔离治疗；疾控：已派出流调队');
    const events = await alert.workflowEvents();
    expect(events.some((e) => e.includes('新预警 → 研判中'))).toBe(true);
    await alert.screenshot('surveillance-alert-triage.png', { fullPage: true });
    expect(errors).toEqual([]);
  });
});
