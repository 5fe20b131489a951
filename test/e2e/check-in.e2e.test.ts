/** Check-in at the health station: a hypertension patient arrives and the services due are listed. */
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { CheckInPage } from './pages/check-in.page.js';

const CJK = /[\u4e00-\u9fff]/;

describeInBrowser('check-in with the services due', { store: chronicDistrict }, (fx) => {
  it('checks a resident in and lists follow-up, referral or health-education items', async () => {
    const { page, errors } = await fx().signIn();
    const checkIn = new CheckInPage(page, fx().url);
    await checkIn.open();
    const kinds = await checkIn.checkIn(fx().facts.htnPatient);
    expect(kinds.join(' ')).toMatch(/随访|转诊|健康教育/);
    // Who is at the desk, and the due list most urgent first; lateness in words, never a bare old date.
    expect(await checkIn.resident()).toMatch(/姓名[\s\S]*年龄[\s\S]*岁/);
    const groups = await checkIn.groups();
    expect(groups.length).toBeGreaterThan(0);
    expect(groups[0]).toMatch(/^(已逾期|本次就诊应办|近期到期) · \d+ 项$/);
    expect(kinds.filter((k) => /^\d{4}-\d{2}-\d{2}$/.test(k))).toEqual([]);
    await checkIn.screenshot('chronic-check-in.png');
    expect(errors).toEqual([]);
  });

  it('in English: the items are labelled in English', async () => {
    const { page, errors } = await fx().signIn('en');
    const checkIn = new CheckInPage(page, fx().url);
    await checkIn.open('en');
    const tags = await checkIn.checkIn(fx().facts.htnPatient);
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.filter((x) => CJK.test(x))).toEqual([]);
    // Titles are built from message keys; only a report card names its disease as recorded (Chinese data).
    const titles = await checkIn.itemTitles();
    expect(titles.filter((x) => !x.startsWith('Report card') && CJK.test(x))).toEqual([]);
    await checkIn.screenshot('chronic-check-in-en.png');
    expect(errors).toEqual([]);
  });
});
