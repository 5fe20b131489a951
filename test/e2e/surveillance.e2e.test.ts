/**
 * End to end: the real server + a small district geography + report cards that trigger alerts,
 * driven in headless Chromium: the alert board (list and map) → an alert page (signal series,
 * cases, workflow) → a workflow step (研判) and a discussion entry; then the report-card screens
 * with a 订正 (correction) of a submitted card, and the overview. Screenshots go to
 * test-artifacts/surveillance-*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, CHROMIUM, ensureWebBuild, haveChromium, launchChromium, openDistrictPage, repoRoot } from './harness.js';
import type { Browser, Page } from 'playwright-core';
import { makeIdNumber } from '../../src/shared/id-number.js';
import { AlertBoardPage } from './pages/alert-board.page.js';
import { AlertDetailPage } from './pages/alert.page.js';
import { LoginPage } from './pages/login.page.js';
import { ReportCardsPage } from './pages/report-cards.page.js';

const artifacts = artifactsDir;
const ADMIN_PASSWORD = 'e2e-admin-Pa55word';

/** A small district: three streets side by side, two communities each. */
function district() {
  const box = (x0: number, y0: number, x1: number, y1: number) => ({
    type: 'Polygon',
    coordinates: [
      [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
        [x0, y0],
      ],
    ],
  });
  const streets = ['临江街道', '望湖街道', '青石街道'].map((name, i) => ({
    code: `339902${String(i + 1).padStart(3, '0')}000`,
    name,
    level: 'street',
    centroid: [120.5 + i * 0.06 + 0.03, 29.3] as [number, number],
    polygon: box(120.5 + i * 0.06, 29.26, 120.56 + i * 0.06, 29.34),
  }));
  const communities = streets.flatMap((s, i) =>
    [0, 1].map((j) => ({
      code: `${s.code.slice(0, 9)}00${j + 1}`,
      name: `${s.name.slice(0, 2)}${j ? '北' : '南'}社区`,
      streetCode: s.code,
      level: 'community',
      centroid: [120.53 + i * 0.06, 29.28 + j * 0.04] as [number, number],
      polygon: box(120.5 + i * 0.06, 29.26 + j * 0.04, 120.56 + i * 0.06, 29.3 + j * 0.04),
    })),
  );
  return { district: { code: '339902', name: '望川区', centre: [120.59, 29.3] as [number, number] }, streets, communities };
}

function card(
  id: string,
  seq: number,
  disease: { name: string; icd10: string; class: string },
  areaCode: string,
  day: string,
): Record<string, unknown> {
  return {
    cardId: id,
    cardType: 'initial',
    correctsCardId: null,
    name: `病例${seq}`,
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber('339902', '1985-03-04', 100 + seq),
    sex: seq % 2 ? '1' : '2',
    birthDate: '1985-03-04',
    age: null,
    workUnit: null,
    phone: null,
    residenceCategory: '本县区',
    address: { province: '浙江省', city: '安澜市', county: '望川区', township: '', village: '', houseNumber: `${seq}号`, areaCode },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    chronicity: null,
    onsetDate: day,
    diagnosisDateTime: `${day}T10:00:00+08:00`,
    deathDate: null,
    disease: { ...disease, subtype: null },
    correctedDiseaseName: null,
    reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    reportingDoctor: '王医生',
    reportDate: `${day}T11:00:00+08:00`,
    patientRef: null,
    facilityPatientId: `F${seq}`,
    remarks: null,
  };
}

const suiteName = haveChromium ? 'surveillance screens in Chromium' : `surveillance screens in Chromium — SKIPPED: ${CHROMIUM} not found`;

describe.skipIf(!haveChromium)(suiteName, () => {
  let server: { url: string; db: unknown; close(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  let dataDir: string;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-e2e-surv-'));
    const { startServer } = await import('../../src/app/server.js');
    const s = await startServer({ port: 0, dataDir, loadDemo: false, adminPassword: ADMIN_PASSWORD, quiet: true, mllpPort: 0 });
    server = s;
    const { loadDistrictGeographyJson } = await import('../../src/surveillance/geography.js');
    await loadDistrictGeographyJson(s.db, district());
    const login = await fetch(`${s.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    // One cholera case (fixed threshold: a red alert at once) and a public report in another street.
    const r = await fetch(`${s.url}/api/report-cards`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        card('E2E-1', 1, { name: '霍乱', icd10: 'A00.1', class: '甲' }, '339902002001', '2025-06-07'),
        card('E2E-2', 2, { name: '流行性感冒', icd10: 'J11.1', class: '丙' }, '339902001001', '2025-06-06'),
      ]),
    });
    expect(r.status).toBe(200);
    const { surveillanceRuntime } = await import('../../src/surveillance/module.js');
    await surveillanceRuntime.get(s.db)!.engine.flush();
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('drives the alert board → alert page → a workflow step and a discussion entry', async () => {
    const { context, page, errors: pageErrors } = await openDistrictPage(browser!);
    try {
      const login = new LoginPage(page, server!.url);
      await login.open();
      await login.signIn('admin', ADMIN_PASSWORD);
      const board = new AlertBoardPage(page, server!.url);
      await board.open();
      expect(await board.alertCount()).toBeGreaterThanOrEqual(1);
      expect(await board.mapDrawn()).toBe(true);
      await board.screenshot(path.join(artifacts, 'surveillance-alert-board.png'));
      await board.openFirstAlert();
      const alert = new AlertDetailPage(page);
      expect(await alert.status()).toContain('新预警');
      expect(await alert.waitForSignals()).toBeGreaterThanOrEqual(1);
      await page.waitForSelector('[data-testid="case-map"][data-rendered="true"]', { timeout: 10_000 });
      await alert.screenshot(path.join(artifacts, 'surveillance-alert-page.png'));
      await alert.startTriage('张研判', '病例已电话核实');
      expect(await alert.status()).toContain('研判中');
      await alert.comment('医院：患者已隔离治疗；疾控：已派出流调队');
      const events = await alert.workflowEvents();
      expect(events.some((e) => e.includes('新预警 → 研判中'))).toBe(true);
      await alert.screenshot(path.join(artifacts, 'surveillance-alert-triage.png'));

      const cards = new ReportCardsPage(page, server!.url);
      await cards.open();
      await cards.screenshot(path.join(artifacts, 'surveillance-report-cards.png'));
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
      await cards.screenshot(path.join(artifacts, 'surveillance-report-card-correction.png'));
      await page.goto(`${server!.url}/#/surveillance/overview`);
      await page.getByTestId('overview-signal').first().waitFor({ state: 'visible' });
      await page.screenshot({ path: path.join(artifacts, 'surveillance-overview.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
