/**
 * End to end: the real server (empty store) + one Synthea patient + headless Chromium.
 * Signs in through the UI, finds the resident by ID number and by name, opens the record, checks
 * the charts drew and the timeline lists every encounter, switches to English, and checks that
 * an expired token sends the browser back to the login page. Screenshots go to test-artifacts/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, CHROMIUM, ensureWebBuild, haveChromium, launchChromium, openDistrictPage, repoRoot } from './harness.js';
import type { Browser, Page } from 'playwright-core';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../../src/shared/id-number.js';
import { LoginPage } from './pages/login.page.js';
import { ResidentRecordPage } from './pages/resident-record.page.js';
import { ResidentsPage } from './pages/residents.page.js';

const artifacts = artifactsDir;
const bundleFile = path.join(
  repoRoot,
  '../shared/data/synthea-fhir-r4-bundles/Frankie174_Jast432_a5b737fb-1f94-4767-802b-1112051f5101.json',
);
const ADMIN_PASSWORD = 'e2e-admin-Pa55word';
/** A valid resident ID number added to the Synthea patient, so ID search and masking are covered. */
const ID_NUMBER = makeIdNumber('110105', '1975-08-12', 1);
const GLUCOSE_CODES = ['2339-0', '1558-6', '2345-7'];

interface FhirResource {
  resourceType: string;
  id?: string;
  code?: { coding?: Array<{ code?: string }> };
  identifier?: Array<{ system?: string; value?: string }>;
}
interface FhirBundle {
  entry?: Array<{ resource?: FhirResource; response?: { status?: string; location?: string } }>;
}

const suiteName = haveChromium
  ? 'resident record page in Chromium'
  : `resident record page in Chromium — SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)`;
if (!haveChromium) console.warn(`[e2e] ${suiteName}`);

describe.skipIf(!haveChromium)(suiteName, () => {
  let server: { url: string; close(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  let dataDir: string;
  let patientId: string;
  let encounterCount: number;
  let hasGlucose: boolean;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-e2e-'));
    const { startServer } = await import('../../src/app/server.js');
    server = await startServer({ port: 0, dataDir, loadDemo: false, adminPassword: ADMIN_PASSWORD, quiet: true });

    // Log in over HTTP and load one Synthea patient through the FHIR transaction endpoint.
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };

    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as FhirBundle;
    const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is FhirResource => !!r);
    const patient = resources.find((r) => r.resourceType === 'Patient')!;
    patient.identifier = [...(patient.identifier ?? []), { system: RESIDENT_ID_SYSTEM, value: ID_NUMBER }];
    encounterCount = resources.filter((r) => r.resourceType === 'Encounter').length;
    hasGlucose = resources.some(
      (r) => r.resourceType === 'Observation' && !!r.code?.coding?.some((c) => c.code && GLUCOSE_CODES.includes(c.code)),
    );

    const posted = await fetch(`${server.url}/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', authorization: `Bearer ${token}` },
      body: JSON.stringify(bundle),
    });
    const response = (await posted.json()) as FhirBundle;
    expect(posted.status, JSON.stringify(response).slice(0, 500)).toBe(200);
    const patientIndex = (bundle.entry ?? []).findIndex((e) => e.resource === patient);
    const location = response.entry?.[patientIndex]?.response?.location ?? '';
    patientId = /Patient\/([^/]+)/.exec(location)?.[1] ?? '';
    expect(patientId, `transaction-response location for the Patient: '${location}'`).not.toBe('');

    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in, finds the resident, shows the record with charts and timeline, and switches to English', async () => {
    const { context, page, errors: pageErrors } = await openDistrictPage(browser!);

    try {
      const login = new LoginPage(page, server!.url);
      await login.open();
      await page.screenshot({ path: path.join(artifacts, 'login.png') });
      await login.signIn('admin', ADMIN_PASSWORD);

      const residents = new ResidentsPage(page);
      await residents.openFromMenu();

      // By ID number: the list shows it masked.
      const byId = await residents.search(ID_NUMBER, 'Jast432');
      await expect(byId.first().textContent()).resolves.toContain(`${ID_NUMBER.slice(0, 6)}********${ID_NUMBER.slice(-4)}`);

      // By name.
      await residents.search('Frankie174', 'Jast432');
      await page.screenshot({ path: path.join(artifacts, 'resident-list.png'), fullPage: true });
      await residents.openResident('Frankie174 Jast432');

      const record = new ResidentRecordPage(page);
      await record.waitLoaded();
      expect(page.url()).toContain(`#/residents/${patientId}`);
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

      await record.screenshot(path.join(artifacts, 'resident-record.png'));

      // The other lists: lab results (Synthea's lipid panel) and immunizations (CVX coded).
      await record.openTab('检验检查');
      await expect(page.getByTestId('labs-table').textContent()).resolves.toContain('Total Cholesterol');
      await record.openTab('预防接种');
      await expect(page.getByTestId('immunizations-table').textContent()).resolves.toContain('Influenza');

      // Switch to English: labels change, the charts draw again.
      await record.switchLanguage('EN');
      await page.getByText('Encounter timeline').first().waitFor({ state: 'visible' });
      expect(await record.timelineTitle()).toContain('Encounter timeline');
      await record.waitForChart('bp-chart');
      await record.screenshot(path.join(artifacts, 'resident-record-en.png'));
      expect(await page.evaluate(() => localStorage.getItem('yifang.lang'))).toBe('en');
      await record.switchLanguage('中文');
      await page.getByText('就诊时间轴').first().waitFor({ state: 'visible' });

      // A token the server no longer accepts: the next API call returns 401 and shows the login page.
      await page.evaluate(() => {
        const session = JSON.parse(sessionStorage.getItem('yifang.session') ?? '{}') as { token?: string };
        session.token = 'expired-token';
        sessionStorage.setItem('yifang.session', JSON.stringify(session));
      });
      await page.reload();
      await login.card().waitFor({ state: 'visible' });

      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});
