/**
 * Identity review: a pair of records between the match thresholds is accepted as one person,
 * and the resident record then shows the person's records at all three facilities.
 */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { seedSimilarPatients } from './intake.seed.js';
import { IdentityReviewPage } from './pages/identity-review.page.js';
import { ResidentRecordPage } from './pages/resident-record.page.js';

describeInBrowser('reviewing a possible match', { seed: seedSimilarPatients }, (fx) => {
  it('accepts a review pair, and shows the person across facilities', async () => {
    const { page, errors } = await fx().signIn();
    const review = new IdentityReviewPage(page, fx().url);
    await review.open('刘祥');
    await review.screenshot('identity-review.png');
    await review.acceptFirstAndEmpty();

    const record = new ResidentRecordPage(page, fx().url);
    await record.open('e2e-a');
    expect(await record.facilityRows()).toBe(3);
    await record.facilities().scrollIntoViewIfNeeded();
    await record.screenshot('resident-facilities.png');
    expect(errors).toEqual([]);
  });
});
