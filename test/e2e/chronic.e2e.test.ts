/**
 * End to end, chronic care: a small simulated district imported into a real server, then in
 * headless Chromium the family doctor's worklist, a follow-up recorded with the next visit by
 * the rules, the registry, check-in with due services, contracts and referrals, the printable
 * immunization prescription and the indicators with drill-down. Screenshots in test-artifacts/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, ensureWebBuild, haveChromium, launchChromium, openDistrictPage } from './harness.js';
import type { Browser } from 'playwright-core';
import { LoginPage } from './pages/login.page.js';
import { ChronicPages } from './pages/chronic.page.js';
import { addDays } from '../../src/primary-care/chronic/rules.js';
import { todayInChina } from '../../src/primary-care/chronic/context.js';

const artifacts = artifactsDir;
const ADMIN_PASSWORD = 'e2e-admin-Pa55word';

describe.skipIf(!haveChromium)('chronic care screens in Chromium', () => {
  let server: Awaited<ReturnType<typeof import('../../src/app/server.js').startServer>> | undefined;
  let browser: Browser | undefined;
  let dataDir: string;
  let child: string;
  let htnPatient: string;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-e2e-chronic-'));
    const { startServer } = await import('../../src/app/server.js');
    server = await startServer({ port: 0, dataDir, loadDemo: false, adminPassword: ADMIN_PASSWORD, quiet: true, mllpPort: 0 });
    const { simulate } = await import('../../src/simulator/index.js');
    const { importPath } = await import('../../src/fhir/import.js');
    const simDir = path.join(dataDir, 'sim');
    // A year of records ending today, so the worklist has residents due now.
    await simulate({ seed: 5, population: 500, start: addDays(todayInChina(), -364), days: 360, outDir: simDir });
    await importPath(server.repo, path.join(simDir, 'fhir'));
    await server.processors.drain();
    child = (
      await server.db.query<{ patient_id: string }>(
        `SELECT patient_id FROM chronic_person WHERE birth_date > now() - interval '2 years' ORDER BY patient_id LIMIT 1`,
      )
    ).rows[0]!.patient_id;
    htnPatient = (
      await server.db.query<{ patient_id: string }>(
        `SELECT patient_id FROM chronic_registry WHERE disease = 'htn' ORDER BY next_due LIMIT 1`,
      )
    ).rows[0]!.patient_id;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('worklist → follow-up → registry → check-in → contracts → prescription → indicators', async () => {
    const { context, page, errors } = await openDistrictPage(browser!);
    const login = new LoginPage(page, server!.url);
    await login.open();
    await login.signIn('admin', ADMIN_PASSWORD);
    const ui = new ChronicPages(page, server!.url);

    await ui.open('/chronic', '今日工作清单');
    await page.getByText('本周到期').first().waitFor();
    await page.locator('.ant-table-row').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(artifacts, 'chronic-worklist.png') });
    const outcome = await ui.recordFirstFollowUp(186, 112);
    expect(outcome).toContain('紧急转诊');
    await page.screenshot({ path: path.join(artifacts, 'chronic-follow-up.png') });

    await ui.open('/chronic/registry', '慢病登记管理');
    await page.locator('.ant-table-row').first().waitFor();
    await page.screenshot({ path: path.join(artifacts, 'chronic-registry.png') });

    await ui.open('/care/check-in', '健康管理站');
    const kinds = await ui.checkIn(htnPatient);
    expect(kinds.join(' ')).toMatch(/随访|转诊|健康教育/);
    await page.screenshot({ path: path.join(artifacts, 'chronic-check-in.png') });

    await ui.open('/care/contracts', '家庭医生签约与转诊');
    await page.getByRole('button', { name: '新签约' }).click();
    await page.getByLabel('居民编号 / 家庭户编号').fill(htnPatient);
    await page.getByLabel('签约团队').click();
    await page.locator('.ant-select-item-option').first().click();
    await page.locator('.ant-modal-footer .ant-btn-primary').click();
    await page.getByText('签约居民（1）').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(artifacts, 'chronic-contracts.png') });

    await ui.open(`/care/immunization/${child}`, '预防接种处方');
    await page.locator('.ant-table-row, .ant-empty').first().waitFor();
    await page.screenshot({ path: path.join(artifacts, 'chronic-immunization-prescription.png') });

    await ui.open('/indicators', '医防指标');
    await page.getByText('高血压患者规范管理率').first().waitFor();
    await page.locator('.ant-card').first().locator('td a').first().click();
    await page.locator('.ant-drawer .ant-table-row').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(600); // the drawer slides in
    await page.screenshot({ path: path.join(artifacts, 'chronic-indicators.png') });
    expect(errors).toEqual([]);
  }, 180_000);

  it('in English: check-in items, key populations flagged by staff, indicator definitions', async () => {
    const { context, page, errors } = await openDistrictPage(browser!, 'en');
    const login = new LoginPage(page, server!.url);
    await login.open();
    await login.signIn('admin', ADMIN_PASSWORD);
    const ui = new ChronicPages(page, server!.url);
    const cjk = /[\u4e00-\u9fff]/;

    await ui.open('/care/check-in', 'Health station');
    await page.getByPlaceholder('Resident id (Patient or Person)').fill(htnPatient);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page
      .getByText(/services due/)
      .first()
      .waitFor({ timeout: 15_000 });
    const tags = await page.locator('.ant-list-item .ant-tag').allTextContents();
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.filter((x) => cjk.test(x))).toEqual([]);
    // Titles are built from message keys; only a report card names its disease as recorded (Chinese data).
    const titles = await page.locator('.ant-list-item-meta-title').allTextContents();
    expect(titles.filter((x) => !x.startsWith('Report card') && cjk.test(x))).toEqual([]);
    await page.screenshot({ path: path.join(artifacts, 'chronic-check-in-en.png') });

    await ui.open('/care/contracts', 'Family-doctor contracts');
    await page.getByRole('button', { name: 'Flag key population' }).click();
    await page.getByLabel('Resident id').fill(htnPatient);
    await page.locator('.ant-modal-footer .ant-btn-primary').click();
    await page.getByText('Key populations (1)').waitFor({ timeout: 15_000 });
    await page.getByText('Key populations (1)').click();
    await page.locator('.ant-tabs-tabpane-active .ant-table-row').first().waitFor();
    expect(await page.locator('.ant-tabs-tabpane-active .ant-table-row .ant-tag').allTextContents()).toEqual(['Disabled']);
    await page.screenshot({ path: path.join(artifacts, 'chronic-key-populations-en.png') });

    await ui.open('/indicators', 'Family-doctor contract coverage');
    await page.getByText('Hypertension: standardised management rate').first().waitFor();
    expect(errors).toEqual([]);
  }, 120_000);
});
