/**
 * Issue #22: the resident portal's pages on a throttled mobile profile (Chromium, slow 4G, 4× CPU
 * slowdown): first meaningful paint < 2 s. The server starts on a fresh PGlite directory with the
 * demo district loaded through the product's own import paths (as npm start does); a resident of
 * that district with a hypertension diagnosis signs in through the portal's own sign-in (ID number,
 * phone, the one-time code caught by a local fake SMS gateway), and the portal's page (/portal/,
 * its own entry, built as the product builds it) is opened on the record page in a fresh
 * phone-sized browser context each time — a first visit, nothing cached.
 *
 * First meaningful paint here: from the navigation's start until the frame after the record's
 * first entries are in the page (the list the resident came for, not the shell or a "loading"
 * line). First contentful paint is printed beside it. Bytes: what the network layer received for
 * the whole visit (headers and bodies as sent, Network.loadingFinished encodedDataLength).
 *
 * Profiles, set through the Chrome DevTools Protocol: none (the machine as it is); slow 4G and
 * slow 3G as in Chrome DevTools' presets (latency 562.5 ms, 1.44 Mbit/s down, 675 kbit/s up;
 * latency 2,000 ms, 400 kbit/s both ways) with Emulation.setCPUThrottlingRate 4. Each is run on
 * the assets uncompressed, as the server sends them (the Brotli copy the build writes beside
 * each asset, API answers uncompressed), and everything gzipped, as a TLS proxy in front would.
 *
 *   node --import tsx bench/portal.bench.ts [--population 20000] [--days 730] [--rounds 3] [--quick]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import { startServer } from '../src/app/server.js';
import { RESIDENT_ID_SYSTEM } from '../src/shared/uris.js';
import { launchChromium, repoRoot } from '../test/e2e/harness.js';
import { percentile, printTable } from './table.js';

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

interface Profile {
  name: string;
  cpu: number;
  /** Network.emulateNetworkConditions; undefined: no network throttling. */
  net?: { latency: number; downloadThroughput: number; uploadThroughput: number };
}

// Chrome DevTools' presets (front_end/core/sdk/NetworkManager.ts), in bytes per second.
const PROFILES: Profile[] = [
  { name: 'unthrottled', cpu: 1 },
  {
    name: 'slow 4G + 4× CPU',
    cpu: 4,
    net: { latency: 150 * 3.75, downloadThroughput: ((1.6 * 1000 * 1000) / 8) * 0.9, uploadThroughput: ((750 * 1000) / 8) * 0.9 },
  },
  {
    name: 'slow 3G + 4× CPU',
    cpu: 4,
    net: { latency: 400 * 5, downloadThroughput: ((500 * 1000) / 8) * 0.8, uploadThroughput: ((500 * 1000) / 8) * 0.8 },
  },
];

const TARGET_MS = 2000;
const SESSION_KEY = 'yifang.portal';

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
 * Serves the bench's web build and passes /api, /auth and /fhir to the server. With gzip, text
 * assets and API answers are compressed when the browser accepts it (as a proxy would).
 */
async function front(
  dist: string,
  serverUrl: string,
  mode: 'plain' | 'precompressed' | 'gzip',
): Promise<{ url: string; close(): Promise<void> }> {
  const api = new URL(serverUrl);
  const gzip = mode === 'gzip';
  const accepts = (req: http.IncomingMessage) => gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const acceptsBr = (req: http.IncomingMessage) => mode === 'precompressed' && /\bbr\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (/^\/(fhir|auth|api)(\/|$)/.test(pathname)) {
      const headers = { ...req.headers };
      delete headers['accept-encoding'];
      const upstream = http.request({ host: api.hostname, port: api.port, method: req.method, path: req.url, headers }, (answer) => {
        const h = { ...answer.headers };
        if (accepts(req)) {
          delete h['content-length'];
          res.writeHead(answer.statusCode ?? 502, { ...h, 'content-encoding': 'gzip', vary: 'accept-encoding' });
          answer.pipe(zlib.createGzip()).pipe(res);
        } else {
          res.writeHead(answer.statusCode ?? 502, h);
          answer.pipe(res);
        }
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    // /portal/ is the portal's own page; everything else is a file of the build.
    const file =
      pathname === '/portal/' || pathname === '/portal'
        ? path.join(dist, 'portal', 'index.html')
        : path.join(dist, path.normalize(pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
    const type = MIME[path.extname(file)] ?? 'application/octet-stream';
    const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    if (acceptsBr(req) && fs.existsSync(`${file}.br`)) {
      // As the product's server sends its build (@fastify/static preCompressed: the .br beside each asset).
      res.writeHead(200, { 'content-type': type, 'cache-control': cache, 'content-encoding': 'br', vary: 'accept-encoding' });
      fs.createReadStream(`${file}.br`).pipe(res);
    } else if (accepts(req) && /^(text|application\/json|image\/svg)/.test(type)) {
      res.writeHead(200, { 'content-type': type, 'cache-control': cache, 'content-encoding': 'gzip', vary: 'accept-encoding' });
      fs.createReadStream(file).pipe(zlib.createGzip()).pipe(res);
    } else {
      res.writeHead(200, { 'content-type': type, 'cache-control': cache, 'content-length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A production build of the web app, as `npm run build` makes it, in a folder of the bench's own.
 * (The browser tests' shared build may come from a test run, whose NODE_ENV=test gives React's
 * development build and development JSX: larger and slower than what residents get.)
 */
function productionBuild(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-portal-bench-web-'));
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-web.mjs'), '--quiet', '--out', out], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
  // …and its Brotli and gzip copies, as build:web writes them.
  const compressed = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/compress-web.mjs'), out], { encoding: 'utf8' });
  if (compressed.status !== 0) throw new Error(`compress-web failed:\n${compressed.stderr}`);
  return out;
}

interface Visit {
  fmp: number;
  fcp: number;
  bytes: number;
  requests: number;
  entries: number;
}

/**
 * The script put in the page before its own: the resident's session as the portal keeps it after
 * sign-in (a returning tab), and a check on every frame that notes, once the record's first
 * entries are in the page, the time after that frame is painted. A string, not a function: the
 * bench runs through tsx, whose helpers would not exist in the page.
 */
function probe(key: string, value: string): string {
  return `(() => {
    if (!location.pathname.startsWith('/portal')) return;
    sessionStorage.setItem(${JSON.stringify(key)}, ${JSON.stringify(value)});
    function tick() {
      var items = document.querySelectorAll('section[aria-labelledby="pt-record-title"] ol.pt-list > li');
      if (!items.length) return void requestAnimationFrame(tick);
      window.__entries = items.length;
      setTimeout(function () { if (window.__fmp === undefined) window.__fmp = performance.now(); }, 0);
    }
    requestAnimationFrame(tick);
  })();`;
}

/** One first visit to the record page, in a fresh phone-sized context under a profile. */
async function visit(browser: Browser, url: string, session: { token: string; displayName: string }, p: Profile): Promise<Visit> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  try {
    // The resident's session as the portal keeps it after sign-in (a returning tab), and a probe
    // that notes the frame after the record's first entries are in the page.
    await context.addInitScript({ content: probe(SESSION_KEY, JSON.stringify(session)) });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: p.cpu });
    if (p.net) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...p.net });
    let bytes = 0;
    let requests = 0;
    cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
      bytes += e.encodedDataLength;
      requests++;
    });
    await page.goto(`${url}/portal/#/portal/record`, { waitUntil: 'commit' });
    await page
      .waitForFunction(() => (window as unknown as { __fmp?: number }).__fmp !== undefined, undefined, { timeout: 60_000, polling: 50 })
      .catch(async (e: Error) => {
        const shown = await page
          .evaluate(
            () =>
              document.body.innerText.slice(0, 1200).replace(/\s+/g, ' ') +
              ` [probe: ${JSON.stringify((window as unknown as { __entries?: number }).__entries)}]`,
          )
          .catch(() => '?');
        throw new Error(`${p.name}: the record page did not show at ${page.url()} (page says: ${shown}): ${e.message}`);
      });
    // Let whatever the page asks for after the first paint finish, so the bytes are the visit's.
    await page.waitForLoadState('networkidle', { timeout: 60_000 }).catch(() => undefined);
    const m = await page.evaluate(() => {
      const w = window as unknown as { __fmp: number; __entries: number };
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
      return { fmp: w.__fmp, fcp, entries: w.__entries };
    });
    return { ...m, bytes, requests };
  } finally {
    await context.close();
  }
}

/** A fake SMS gateway: the last text per phone (the sign-in code is read from it). */
async function fakeGateway(): Promise<{ url: string; lastTo(phone: string): string | undefined; close(): Promise<void> }> {
  const last = new Map<string, string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const m = JSON.parse(body) as { to: string; text: string };
      last.set(m.to, m.text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `bench-${last.size}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`,
    lastTo: (phone) => last.get(phone),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Json = Record<string, unknown>;

export async function runPortalBench(argv: string[] = []): Promise<void> {
  const quick = argv.includes('--quick');
  const population = Number(arg(argv, 'population', quick ? '3000' : '20000'));
  const days = Number(arg(argv, 'days', quick ? '365' : '730'));
  const rounds = Number(arg(argv, 'rounds', quick ? '1' : '3'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-portal-bench-'));
  const buildStarted = performance.now();
  const dist = productionBuild();
  console.log(`[portal] production web build in ${((performance.now() - buildStarted) / 1000).toFixed(0)} s`);
  const gateway = await fakeGateway();
  const before = process.env.YIFANG_SMS_GATEWAY_URL;
  process.env.YIFANG_SMS_GATEWAY_URL = gateway.url;
  const started = performance.now();
  const server = await startServer({
    dataDir,
    port: 0,
    mllpPort: 0,
    quiet: true,
    loadDemo: true,
    adminPassword: 'bench-admin-pw',
    demo: { population, days },
  });
  if (before === undefined) delete process.env.YIFANG_SMS_GATEWAY_URL;
  else process.env.YIFANG_SMS_GATEWAY_URL = before;
  console.log(
    `[portal] demo district (${population} residents, ${days} days) loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const fronts: { label: string; f: { url: string; close(): Promise<void> } }[] = [];
  let browser: Browser | undefined;
  const rows: Record<string, string | number>[] = [];
  try {
    await server.processors.drain();
    const call = async (p: string, init: RequestInit = {}, token?: string): Promise<Json> => {
      const r = await fetch(`${server.url}${p}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${p}: ${r.status} ${await r.text()}`);
      return (await r.json()) as Json;
    };
    const admin = (await call('/auth/login', { method: 'POST', body: JSON.stringify({ username: 'admin', password: 'bench-admin-pw' }) }))
      .access_token as string;
    // A resident with hypertension, an ID number and a mobile phone: a full record to show.
    const conditions = (await call('/fhir/Condition?code=I10&_count=100', {}, admin)) as { entry?: { resource: Json }[] };
    let who: { id: string; idNumber: string; phone: string } | undefined;
    for (const e of conditions.entry ?? []) {
      const ref = (e.resource.subject as { reference?: string } | undefined)?.reference ?? '';
      if (!ref.startsWith('Patient/')) continue;
      const p = await call(`/fhir/${ref}`, {}, admin);
      const idNumber = (p.identifier as { system?: string; value?: string }[] | undefined)?.find(
        (i) => i.system === RESIDENT_ID_SYSTEM,
      )?.value;
      const phone = (p.telecom as { system?: string; value?: string }[] | undefined)?.find((t) => t.system === 'phone')?.value;
      if (idNumber && phone && !p.deceasedDateTime && p.deceasedBoolean !== true) {
        who = { id: p.id as string, idNumber, phone };
        break;
      }
    }
    if (!who) throw new Error('the demo district has no living resident with hypertension, an ID number and a phone');
    await call('/api/portal/login/start', { method: 'POST', body: JSON.stringify({ idNumber: who.idNumber, phone: who.phone }) });
    let code: string | undefined;
    for (let i = 0; i < 200 && !code; i++) {
      code = /(\d{6})/.exec(gateway.lastTo(who.phone.replace(/[\s-]/g, '')) ?? gateway.lastTo(who.phone) ?? '')?.[1];
      if (!code) await new Promise((r) => setTimeout(r, 100));
    }
    if (!code) throw new Error(`no sign-in code reached ${who.phone}`);
    const signedIn = await call('/api/portal/login/finish', {
      method: 'POST',
      body: JSON.stringify({ idNumber: who.idNumber, phone: who.phone, code }),
    });
    const session = { token: signedIn.access_token as string, displayName: signedIn.displayName as string };
    const record = await call('/api/portal/me/record', {}, session.token);
    console.log(`[portal] resident Patient/${who.id}: ${String(record.total)} record entries, signed in through the portal`);
    fronts.push({ label: 'uncompressed', f: await front(dist, server.url, 'plain') });
    fronts.push({ label: 'as the server sends it (Brotli assets)', f: await front(dist, server.url, 'precompressed') });
    fronts.push({ label: 'gzip (a proxy in front, API too)', f: await front(dist, server.url, 'gzip') });
    browser = await launchChromium();
    for (const p of PROFILES)
      for (const { label, f } of fronts) {
        // One warm-up visit per front (Chromium's own start, the server's first queries) is not counted.
        if (p === PROFILES[0]) await visit(browser, f.url, session, p);
        const runs: Visit[] = [];
        for (let i = 0; i < rounds; i++) runs.push(await visit(browser, f.url, session, p));
        const med = (pick: (v: Visit) => number) =>
          percentile(
            runs.map(pick).sort((a, b) => a - b),
            50,
          );
        const fmp = med((v) => v.fmp);
        rows.push({
          profile: p.name,
          assets: label,
          'first meaningful paint ms (median)': Math.round(fmp),
          'first contentful paint ms': Math.round(med((v) => v.fcp)),
          'kB transferred': Math.round(med((v) => v.bytes) / 1000),
          requests: med((v) => v.requests),
          'target < 2,000 (slow 4G, 4× CPU)': p.name.startsWith('slow 4G') ? (fmp < TARGET_MS ? 'met' : 'NOT met') : '—',
        });
      }
  } finally {
    await browser?.close();
    for (const { f } of fronts) await f.close();
    await server.close();
    await gateway.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(dist, { recursive: true, force: true });
  }
  printTable(
    `Resident portal /portal/ record page, first visit, headless Chromium 390×844 (demo district on PGlite, ${population} residents, ${days} days), median of ${rounds}`,
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--help'))
    console.log('node --import tsx bench/portal.bench.ts [--population 20000] [--days 730] [--rounds 3] [--quick]');
  else await runPortalBench(process.argv.slice(2));
}
