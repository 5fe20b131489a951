/**
 * 订正 of a report card: the card list, one card's drawer, a correction of its onset date that
 * keeps the prior value visible, and the card reviewed by the CDC (admin).
 */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { ReportCardsPage } from './pages/report-cards.page.js';
import { seedSurveillance } from './surveillance.seed.js';

describeInBrowser('correcting a report card', { seed: seedSurveillance }, (fx) => {
  it('corrects the onset date of a submitted card, keeping the prior value', async () => {
    const { page, errors } = await fx().signIn();
    const cards = new ReportCardsPage(page, fx().url);
    await cards.open();
    await cards.screenshot('surveillance-report-cards.png', { fullPage: true });
    // 订正 on screen: the onset date was wrong; the correction keeps the prior value visible.
    await cards.openCard('E2E-2');
    expect(await cards.status()).toContain('待审核');
    await cards.correct('发病日期', '2025-06-05', '核对门诊病历，发病日期填写有误');
    const corrections = await cards.corrections();
    expect(corrections).toContain('发病日期');
    expect(corrections).toContain('2025-06-06'); // before
    expect(corrections).toContain('2025-06-05'); // after
    expect(corrections).toContain('核对门诊病历，发病日期填写有误');
    expect(await cards.status()).toContain('已审核'); // corrected by the CDC (admin): reviewed
    await cards.screenshot('surveillance-report-card-correction.png', { fullPage: true });
    expect(errors).toEqual([]);
  });
});
