/**
 * The tour (#17): each role signs in through the login screen, opens every menu entry it is
 * given, and on every screen: no uncaught error or console error, no raw code where a person
 * expects words (internal ids such as org-…/pat-…/cond-…, JSON braces), and in Chinese no
 * English words outside the data and a short list of names everyone uses (HL7, FHIR, …).
 * A screenshot of every screen is kept (test-artifacts/tour-<role>-<n>.png).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { chronicDistrict } from './chronic.seed.js';
import { describeInBrowser } from './fixture.js';
import { artifactsDir, networkQuiet, trackRequests } from './harness.js';
import { LoginPage } from './pages/login.page.js';

const ROLES = ['admin', 'epidemiologist', 'clinician', 'family-doctor', 'public-health', 'viewer', 'auditor'] as const;
/** Each role's tester: a short username (xj = 巡检) and a Chinese display name. */
const TESTER: Record<(typeof ROLES)[number], { username: string; name: string }> = {
  admin: { username: 'xj1', name: '巡检管理员' },
  epidemiologist: { username: 'xj2', name: '巡检流调员' },
  clinician: { username: 'xj3', name: '巡检临床医生' },
  'family-doctor': { username: 'xj4', name: '巡检家庭医生' },
  'public-health': { username: 'xj5', name: '巡检公卫医生' },
  viewer: { username: 'xj6', name: '巡检查阅员' },
  auditor: { username: 'xj7', name: '巡检审计员' },
};
const PASSWORD = 'tour-of-the-district-2026';

/** Internal identifiers and serialised objects that should never reach a person's eyes. */
const RAW_CODE = /\b(?:org|pat|cond|enc|obs|rc|alert)-[A-Za-z0-9]{3,}|\{"[A-Za-z]+"\s*:|\bundefined\b|\bnull\b|\bNaN\b|\[object Object\]/;
/** Names and abbreviations used as they are in Chinese public-health software. */
const ALLOWED_ENGLISH = new Set(
  [
    'HL7',
    'FHIR',
    'MLLP',
    'LOINC',
    'ICD',
    'CSV',
    'JSON',
    'NDJSON',
    'Excel',
    'GeoJSON',
    'TopoJSON',
    'EN',
    'ID',
    'HbA1c',
    'BMI',
    'COPD-SQ',
    'LDCT',
    'PDF',
    'BCG',
    'HepB',
    'MMR',
    'DTaP',
    'IPV',
    'bOPV',
    'JE',
    'MPSV',
    'MPV',
    'HepA',
    'PPSV',
    'PPSV23',
    'HPV',
    'COVID',
    'SARS',
    'CoV',
    'RSV',
    'IgM',
    'IgG',
    'RNA',
    'DNA',
    'PCR',
    'NS1',
    'TOTP',
    'CDC',
    'LIS',
    'HIS',
    'EARS',
    'CUSUM',
    'GLR',
    'ESSENCE',
    'CIDARS',
    'ORU',
    'ADT',
    'ACK',
    'OBX',
    'PID',
    'MSH',
    'PV1',
    'Patient',
    'Person',
    'mmHg',
    'mmol',
    'kg',
    'cm',
    'Hib',
    'EV71',
    'EV',
    'HFMD',
    'ILI',
    'SNOMED',
    'GB',
    'WS',
    'OTC',
    'UTC',
    // the built-in administrator account's username
    'admin',
  ].map((w) => w.toLowerCase()),
);

async function visibleText(page: Page): Promise<string> {
  return page.locator('main, .ant-layout-content').first().innerText();
}

/** The English words of a Chinese screen that are neither allowed names nor codes with digits. */
function englishWords(text: string): string[] {
  return [...new Set((text.match(/[A-Za-z][A-Za-z-]{3,}/g) ?? []).filter((w) => !ALLOWED_ENGLISH.has(w.toLowerCase())))];
}

/** Every menu entry under the sidebar, submenus opened. */
async function menuEntries(page: Page): Promise<string[]> {
  const menu = page.locator('.ant-layout-sider .ant-menu').first();
  for (const title of await menu.locator('.ant-menu-submenu-title').all()) {
    const open = await title.evaluate((el) => el.parentElement?.classList.contains('ant-menu-submenu-open'));
    if (!open) await title.click();
  }
  await page.waitForTimeout(300);
  return (await menu.locator('.ant-menu-item').allInnerTexts()).map((x) => x.trim()).filter(Boolean);
}

describeInBrowser('the tour: every role, every menu entry', { store: chronicDistrict }, (fx) => {
  for (const role of ROLES)
    it(`${role}: no console error, no raw code, no stray English, no placeholder on any screen`, { timeout: 240_000 }, async () => {
      await fx().server.auth.addUser({
        username: TESTER[role].username,
        password: PASSWORD,
        displayName: TESTER[role].name,
        roles: [role],
      });
      const problems: string[] = [];
      const { page, errors } = await fx().open();
      trackRequests(page);
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      const login = new LoginPage(page, fx().url);
      await login.open();
      await login.signIn(TESTER[role].username, PASSWORD);
      const entries = await menuEntries(page);
      expect(entries.length, role).toBeGreaterThan(0);
      for (const [n, entry] of entries.entries()) {
        await page.locator('.ant-layout-sider .ant-menu-item').filter({ hasText: entry }).first().click();
        // The screen's data and code fetched (no request for 350 ms), and nothing moving.
        await networkQuiet(page);
        const where = `${role} › ${entry} (${await page.evaluate(() => location.hash)})`;
        const text = await visibleText(page);
        const raw = RAW_CODE.exec(text);
        if (raw) problems.push(`${where}: raw code "${text.slice(Math.max(0, raw.index - 30), raw.index + 40).replace(/\s+/g, ' ')}"`);
        // Words the record itself says (a resident's name in pinyin, say), marked data-value on screen, are data.
        const data = new Set(englishWords((await page.locator('[data-value]').allInnerTexts()).join(' ')));
        const english = englishWords(text).filter((w) => !data.has(w));
        if (english.length) problems.push(`${where}: English ${english.slice(0, 12).join(', ')}`);
        if (/建设中/.test(text)) problems.push(`${where}: a placeholder (建设中)`);
        for (const e of errors.splice(0)) problems.push(`${where}: ${e.slice(0, 300)}`);
        await page.screenshot({ path: path.join(artifactsDir, `tour-${role}-${n + 1}.png`) });
      }
      if (problems.length) console.log(`[tour] ${role}:\n  ${problems.join('\n  ')}`);
      expect(problems).toEqual([]);
    });
});
