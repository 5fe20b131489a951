/**
 * What every browser test shares: Debian's Chromium and its flags, the artefacts folder, and a
 * web build that is current (built once by the global setup; a no-op when dist is newer than
 * the sources).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Browser tests skip (saying so) where Debian's Chromium is not installed. */
export const haveChromium = fs.existsSync(CHROMIUM);
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const artifactsDir = path.join(repoRoot, 'test-artifacts');

export function ensureWebBuild(): void {
  const dist = path.join(repoRoot, 'web/dist/index.html');
  const newest = (p: string): number => {
    const stat = fs.statSync(p);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(0, ...fs.readdirSync(p).map((name) => newest(path.join(p, name))));
  };
  const sources = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/public']
    .map((p) => path.join(repoRoot, p))
    .filter((p) => fs.existsSync(p));
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= Math.max(...sources.map(newest))) return;
  const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * A desktop-sized page in China's time zone (dates on screen are +08:00), in Chinese or English,
 * collecting uncaught page errors so a test can assert there were none.
 */
export async function openDistrictPage(
  browser: Browser,
  lang: 'zh' | 'en' = 'zh',
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: lang === 'en' ? 'en-US' : 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  if (lang === 'en') await context.addInitScript(() => localStorage.setItem('yifang.lang', 'en'));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Debian's Chromium, headless, with the artefacts folder ready for screenshots. */
export async function launchChromium(): Promise<Browser> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Waits until no CSS or Web animation is running and no toast is on screen, so a screenshot
 * shows the page at rest rather than mid-transition.
 */
export async function pageAtRest(page: Page): Promise<void> {
  await page
    .locator('.ant-message-notice')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined);
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, { timeout: 5_000 })
    .catch(() => undefined);
}
