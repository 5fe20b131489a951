/**
 * What every browser test shares: Debian's Chromium and its flags, the artefacts folder, and a
 * web build that is current (built once by the global setup; a no-op when dist is newer than
 * the sources).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium; YIFANG_CHROMIUM names another binary (or a missing one, to see the suites skip). */
export const CHROMIUM = process.env.YIFANG_CHROMIUM || '/usr/bin/chromium';
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

/**
 * The browser tests' own build of the web app, outside web/dist: other people building or
 * serving web/dist at the same time (vite empties it first) cannot pull it from under a test.
 */
export const webBuildDir = path.join(os.tmpdir(), `yifang-e2e-web-${createHash('sha1').update(repoRoot).digest('hex').slice(0, 8)}`);

/**
 * Builds the web app into webBuildDir unless that build is newer than every source (or, with
 * ifMissing, unless there is one: suites after the global setup's build keep it for the run).
 */
export function ensureWebBuild(options: { ifMissing?: boolean } = {}): void {
  const dist = path.join(webBuildDir, 'index.html');
  if (options.ifMissing && fs.existsSync(dist)) return;
  const newest = (p: string): number => {
    const stat = fs.statSync(p);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(0, ...fs.readdirSync(p).map((name) => newest(path.join(p, name))));
  };
  const sources = ['web/src', 'web/index.html', 'web/portal', 'web/vite.config.ts', 'web/public', 'src/shared', 'scripts/build-web.mjs']
    .map((p) => path.join(repoRoot, p))
    .filter((p) => fs.existsSync(p));
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= Math.max(...sources.map(newest))) return;
  const building = `${webBuildDir}.${process.pid}`;
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-web.mjs'), '--quiet', '--out', building], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
  // Swapped in whole, so a test in another worker never sees half a build.
  const old = `${webBuildDir}.old.${process.pid}`;
  if (fs.existsSync(webBuildDir)) fs.renameSync(webBuildDir, old);
  fs.renameSync(building, webBuildDir);
  fs.rmSync(old, { recursive: true, force: true });
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

/** Requests of a page in flight, and when the last one started or ended (see trackRequests). */
interface RequestTracker {
  inFlight: number;
  lastChange: number;
}

const trackers = new WeakMap<Page, RequestTracker>();

/** Starts counting a page's requests in flight, for networkQuiet; call before the page navigates. */
export function trackRequests(page: Page): void {
  if (trackers.has(page)) return;
  const t: RequestTracker = { inFlight: 0, lastChange: Date.now() };
  trackers.set(page, t);
  const started = () => {
    t.inFlight++;
    t.lastChange = Date.now();
  };
  const ended = () => {
    t.inFlight = Math.max(0, t.inFlight - 1);
    t.lastChange = Date.now();
  };
  page.on('request', started);
  page.on('requestfinished', ended);
  page.on('requestfailed', ended);
}

/**
 * Waits until a page (tracked with trackRequests) has had no request in flight, and none started
 * or ended, for quietMs — the screen has fetched its data and its code chunks — then until it is
 * at rest (pageAtRest). After a click that changes screens, this replaces a fixed pause: a screen
 * that answers quickly is checked at once, a slow one is waited for (up to timeoutMs). The quiet
 * time is longer than the screens' own delays before a request (a name search asks 250 ms after
 * it is shown).
 */
export async function networkQuiet(page: Page, options: { quietMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const { quietMs = 350, timeoutMs = 15_000 } = options;
  const t = trackers.get(page);
  if (!t) throw new Error('networkQuiet: call trackRequests(page) first');
  const deadline = Date.now() + timeoutMs;
  // Counted from now too: requests the click is about to send have not all been seen yet.
  t.lastChange = Math.max(t.lastChange, Date.now());
  while (Date.now() < deadline && (t.inFlight > 0 || Date.now() - t.lastChange < quietMs)) await new Promise((r) => setTimeout(r, 25));
  await pageAtRest(page);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * A small front for the browser: serves the tests' own web build (webBuildDir) and passes
 * /fhir, /auth and /api to the server, so what the browser runs is the build this test run
 * made, whatever happens to web/dist meanwhile.
 */
export async function webFront(serverUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const dist = webBuildDir;
  const api = new URL(serverUrl);
  const front = http.createServer((req, res) => {
    const pathname = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (/^\/(fhir|auth|api)(\/|$)/.test(pathname)) {
      const upstream = http.request(
        { host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    const file = path.join(dist, path.normalize(pathname));
    const exists = file.startsWith(dist) && fs.existsSync(file) && fs.statSync(file).isFile();
    if (!exists && /\.[a-z0-9]+$/i.test(pathname)) return void res.writeHead(404).end();
    const found = exists ? file : path.join(dist, 'index.html');
    res.writeHead(200, { 'content-type': MIME[path.extname(found)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    fs.createReadStream(found).pipe(res);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        front.closeAllConnections();
        front.close(() => resolve());
      }),
  };
}
