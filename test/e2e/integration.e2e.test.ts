/**
 * End to end in Chromium: the HL7 dead-letter screen (a rejected message is corrected and
 * reprocessed), the identity review queue (a pair between the thresholds is accepted) and the
 * resident record's "records at other facilities" card. Screenshots go to test-artifacts/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, ensureWebBuild, haveChromium, launchChromium, openDistrictPage, pageAtRest } from './harness.js';
import type { Browser } from 'playwright-core';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../../src/shared/id-number.js';
import { LoginPage } from './pages/login.page.js';

const artifacts = artifactsDir;
const PW = 'e2e-integration-Pa55';
const ID = makeIdNumber('339902', '1970-05-05', 33);

const patient = (id: string, name: string, org: string, idNumber?: string) => ({
  resourceType: 'Patient',
  id,
  identifier: [
    {
      system: `https://yifang.health/fhir/sid/mrn/${org}`,
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
      value: `MRN-${id}`,
    },
    ...(idNumber ? [{ system: RESIDENT_ID_SYSTEM, value: idNumber }] : []),
  ],
  name: [{ use: 'official', text: name }],
  gender: 'male',
  birthDate: '1970-05-05',
  telecom: [{ system: 'phone', value: '13100000001' }],
  managingOrganization: { reference: `Organization/${org}` },
});

describe.skipIf(!haveChromium)('data intake screens in Chromium', () => {
  let server: Awaited<ReturnType<typeof import('../../src/app/server.js').startServer>> | undefined;
  let browser: Browser | undefined;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-e2e-int-'));
    const { startServer } = await import('../../src/app/server.js');
    server = await startServer({ port: 0, mllpPort: 0, dataDir, adminPassword: PW, quiet: true });
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PW }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
    const api = (p: string, init: RequestInit) =>
      fetch(`${server!.url}${p}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
    const bad = [
      'MSH|^~\\&|HIS|339902GH001|YIFANG|339902|20260101095100+0800||ADT^A04^ADT_A01|E2E-1|P|2.5|||||CHN|UNICODE UTF-8',
      'EVN|A04|20260101095100+0800',
      'PID|1||ZY001^^^339902GH001^MR||王^小明^^^^^L||19701345|M',
      'PV1|1|O|general^^^339902GH001||||||||||||||||||VE2E1',
    ].join('\r');
    expect(await (await api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: bad })).text()).toMatch(
      /MSA\|A[ER]/,
    );
    for (const p of [
      patient('e2e-a', '刘洋', 'org-chc', ID),
      patient('e2e-b', '刘洋', 'org-hosp', ID),
      patient('e2e-c', '刘祥', 'org-tcm'),
    ]) {
      const r = await api(`/fhir/Patient/${p.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(p),
      });
      expect(r.status).toBeLessThan(300);
    }
    await server.processors.drain();
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('corrects a dead letter, accepts a review pair, and shows the person across facilities', async () => {
    const { context, page, errors } = await openDistrictPage(browser!);
    try {
      await new LoginPage(page, server!.url).open();
      await new LoginPage(page, server!.url).signIn('admin', PW);

      await page.goto(`${server!.url}/#/integration/dead-letters`);
      await page.getByText('E2E-1').waitFor();
      await page.screenshot({ path: path.join(artifacts, 'hl7-dead-letters.png') });
      await page
        .getByRole('button', { name: /修\s?正/ })
        .first()
        .click();
      const editor = page.locator('textarea.yf-hl7-editor');
      await editor.waitFor();
      await editor.fill((await editor.inputValue()).replace('19701345', '19700115'));
      await page.screenshot({ path: path.join(artifacts, 'hl7-dead-letter-fix.png') });
      await page.getByRole('button', { name: '保存并重新处理' }).click();
      await page.getByText('已重新处理并入库').waitFor();
      await page.getByText('没有被拒收的消息').waitFor();

      await page.goto(`${server!.url}/#/integration/identity-review`);
      await page.getByText('刘祥').first().waitFor();
      await pageAtRest(page);
      await page.screenshot({ path: path.join(artifacts, 'identity-review.png') });
      await page.getByRole('button', { name: '同一人' }).first().click();
      await page.getByText('没有待核查的记录').waitFor();

      await page.goto(`${server!.url}/#/residents/e2e-a`);
      const card = page.locator('.yf-person-facilities');
      await card.waitFor();
      await expect(card.locator('tbody tr').count()).resolves.toBe(3);
      await card.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(artifacts, 'resident-facilities.png'), fullPage: false });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
