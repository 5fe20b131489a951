/**
 * The family doctor's day: the worklist of residents due, and a follow-up recorded from it with
 * a blood pressure high enough that the rules ask for an urgent referral.
 */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { WorklistPage } from './pages/worklist.page.js';

describeInBrowser('worklist and follow-up', { store: chronicDistrict }, (fx) => {
  it('records a follow-up from the worklist; the rules ask for an urgent referral', async () => {
    const { page, errors } = await fx().signIn();
    const worklist = new WorklistPage(page, fx().url);
    await worklist.open();
    await worklist.screenshot('chronic-worklist.png');
    const followUp = await worklist.followUpFirst();
    expect(await followUp.recordBloodPressure(186, 112)).toContain('紧急转诊');
    await followUp.screenshot('chronic-follow-up.png');
    expect(errors).toEqual([]);
  });
});
