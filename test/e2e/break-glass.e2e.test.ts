/**
 * Emergency access (紧急访问/破窗, issue #15): a family doctor of one centre opens a resident
 * managed by another, is refused in words, opens emergency access with a reason and a duration,
 * and sees the record under a red banner saying when the access ends; the record's requests
 * state X-Purpose-Of-Use: BTG, the managing organisation gets a notice, and the access survives a
 * reload of the tab.
 */
import { expect, it } from 'vitest';
import { seedBreakGlass } from './break-glass.seed.js';
import { describeInBrowser } from './fixture.js';
import { BreakGlassPage } from './pages/break-glass.page.js';
import { LoginPage } from './pages/login.page.js';
import { ResidentRecordPage } from './pages/resident-record.page.js';

describeInBrowser('emergency access to a resident outside the doctor’s scope', { seed: seedBreakGlass }, (fx) => {
  it('refuses, opens break-glass with a reason, shows the record under a red banner', async () => {
    const { patientId, residentName, doctor } = fx().facts;
    const { page, errors } = await fx().open();
    // The record's reads that were answered: status and the purpose stated.
    const purposes: string[] = [];
    page.on('response', (r) => {
      // The merged record (and the facility record's $everything behind it).
      if (r.url().includes(`/fhir/Patient/${patientId}/$everything`) || r.url().includes(`/api/residents/${patientId}/record`))
        purposes.push(`${r.status()} ${r.request().headers()['x-purpose-of-use'] ?? '-'}`);
    });
    const login = new LoginPage(page, fx().url);
    await login.open();
    await login.signIn(doctor.username, doctor.password);

    // Outside the doctor's centre and areas: refused in words, with emergency access offered.
    const access = new BreakGlassPage(page, fx().url);
    await access.openRefused(patientId);
    const refusal = await access.refusalText();
    expect(refusal).toContain('该居民不在您的管理或服务范围内');
    expect(refusal).toContain('紧急访问（破窗）');
    expect(await page.getByTestId('resident-name').count()).toBe(0);
    await access.screenshot('break-glass-refused.png');

    // The dialog says what follows, and wants a real reason.
    await access.openRequest();
    const notice = await access.dialogText();
    expect(notice).toContain('本次访问将被完整记录');
    expect(notice).toContain('通知该居民的管理机构');
    expect(notice).toContain('审计员');
    await access.request('急诊', '1 小时');
    expect(await access.formErrors()).toEqual(['理由至少 10 个字']);
    await page.getByTestId('break-glass-reason').fill('患者在我中心急诊晕厥，需查看既往病史与用药');
    await access.screenshot('break-glass-request.png');
    await access.request('患者在我中心急诊晕厥，需查看既往病史与用药', '2 小时');

    // The record, under the red banner with the end of the grant.
    const record = new ResidentRecordPage(page, fx().url);
    await record.waitLoaded();
    await expect(record.name().textContent()).resolves.toBe(residentName);
    const ends = await page.evaluate(async () => {
      const token = (JSON.parse(sessionStorage.getItem('yifang.session') ?? '{}') as { token: string }).token;
      const r = await fetch('/api/break-glass', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      const g = ((await r.json()) as { rows: { expiresAt: string; grantedAt: string; reviewStatus: string }[] }).rows[0]!;
      const at = new Date(g.expiresAt);
      return {
        hhmm: `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`,
        minutes: (at.getTime() - Date.parse(g.grantedAt)) / 60_000,
        review: g.reviewStatus,
      };
    });
    expect(ends.minutes).toBe(120);
    expect(ends.review).toBe('open');
    expect(await access.bannerText()).toContain(`紧急访问中，至 ${ends.hhmm} 结束`);
    await expect(record.timeline().textContent()).resolves.toContain('高血压随访');
    await record.waitForChart('bp-chart');
    // Refused without a purpose first; after the grant every read states BTG and is answered.
    expect(purposes[0]).toBe('403 -');
    expect(purposes.slice(1).length).toBeGreaterThan(0);
    expect(purposes.slice(1).every((p) => p === '200 BTG')).toBe(true);
    await access.screenshot('break-glass-record.png', { fullPage: true });

    // The managing organisation was told.
    const notices = await fx().seeder.api('/fhir/Communication?recipient=Organization/org-b', {
      headers: { accept: 'application/fhir+json' },
    });
    const bundle = (await notices.json()) as { entry?: { resource: { payload?: { contentString?: string }[] } }[] };
    expect(bundle.entry?.[0]?.resource.payload?.[0]?.contentString).toContain('患者在我中心急诊晕厥');

    // The grant lasts for the tab: a reload opens the record straight away, still with BTG.
    await page.reload();
    await record.waitLoaded();
    expect(await access.bannerText()).toContain(`至 ${ends.hhmm} 结束`);
    expect(purposes.at(-1)).toBe('200 BTG');
    expect(await access.refusal().count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
