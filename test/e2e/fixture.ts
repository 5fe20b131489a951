/**
 * The one fixture of the browser tests. `describeInBrowser` starts a real server on a prepared
 * store (a copy of the migrated PGlite template, or of a cached seeded store such as the
 * simulated district), seeds it through `Seeder` (FHIR and /api calls with the admin's token),
 * launches Debian's Chromium, and opens pages signed in through the login screen. Without
 * Chromium the suite is reported as skipped.
 *
 *   describeInBrowser('the alert board', { seed: seedSurveillance }, (fx) => {
 *     it('…', async () => {
 *       const { page, errors } = await fx().signIn();
 *       …
 *     });
 *   });
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { allMigrations } from '../../src/app/modules.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { freshDatabase } from '../../src/app/test-stores.js';
import { openDatabase, type Database } from '../../src/platform/db.js';
import { todayInChina } from '../../src/shared/dates.js';
import { CHROMIUM, ensureWebBuild, haveChromium, launchChromium, openDistrictPage, repoRoot, webFront } from './harness.js';
import { LoginPage } from './pages/login.page.js';

export const ADMIN = { username: 'admin', password: 'e2e-admin-Pa55word' };

/** FHIR and /api calls as the administrator, to put data in place before the browser looks. */
export class Seeder {
  constructor(
    readonly server: RunningServer,
    readonly token: string,
  ) {}

  get url(): string {
    return this.server.url;
  }

  get db(): Database {
    return this.server.db;
  }

  /** fetch against the server with the admin's bearer token. */
  api(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.server.url}${pathAndQuery}`, {
      ...init,
      headers: { authorization: `Bearer ${this.token}`, ...(init.headers as Record<string, string> | undefined) },
    });
  }

  /** PUT /fhir/{type}/{id}: creates or replaces a resource with the id it carries. */
  async putResource(resource: { resourceType: string; id?: string }): Promise<void> {
    const r = await this.api(`/fhir/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(resource),
    });
    expect(r.status, await r.clone().text()).toBeLessThan(300);
  }

  /** POST /fhir: a transaction or batch Bundle; returns the response Bundle. */
  async transaction<T = unknown>(bundle: unknown): Promise<T> {
    const r = await this.api('/fhir', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      body: JSON.stringify(bundle),
    });
    const body = (await r.json()) as T;
    expect(r.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    return body;
  }

  /** POST JSON to an /api route; returns the response for the caller to check. */
  postJson(pathAndQuery: string, body: unknown): Promise<Response> {
    return this.api(pathAndQuery, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** POST /api/hl7: one ER7 message; returns the ACK text. */
  async postHl7(message: string): Promise<string> {
    const r = await this.api('/api/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: message });
    return r.text();
  }

  /** Waits until the change-log processors (registries, identity, indexes) have caught up. */
  drain(): Promise<void> {
    return this.server.processors.drain();
  }
}

async function signInOverHttp(server: RunningServer): Promise<string> {
  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(login.status).toBe(200);
  return ((await login.json()) as { access_token: string }).access_token;
}

async function serverOn(db: Database): Promise<RunningServer> {
  return startServer({ db, port: 0, mllpPort: 0, quiet: true, loadDemo: false, adminPassword: ADMIN.password });
}

// ---------------------------------------------------------------------------------------------
// Prepared stores: a seeded PGlite data directory built once and copied for every suite using it.

/**
 * A store seeded once and cached in the temp folder, keyed by the schema, the seed code, the
 * server sources and the day in China (seeds that simulate "the last year" depend on it).
 * `facts` is what the seed returned (ids the tests need), kept as JSON beside the data.
 */
export interface PreparedStore<T> {
  name: string;
  seed: (s: Seeder) => Promise<T>;
}

export function preparedStore<T>(name: string, seed: (s: Seeder) => Promise<T>): PreparedStore<T> {
  return { name, seed };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|mjs|json)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The newest server source's or config file's mtime, read once per test run (every worker of the run gets the
 * same answer from a stamp file), so people editing src/ during a run do not make each suite
 * build its own store.
 */
function sourceStamp(): string {
  const run = process.env.YIFANG_TEST_RUN || String(process.ppid);
  const file = path.join(os.tmpdir(), `yifang-e2e-src-stamp-${run}`);
  if (!fs.existsSync(file)) {
    // Written aside and linked into place: a reader never sees half a file; the first link wins.
    const mine = `${file}.${process.pid}`;
    // The rule files under config/ too: the derived rows a seeded store keeps (programme items' names, say) come from them.
    fs.writeFileSync(mine, String(Math.max(newestSource(path.join(repoRoot, 'src')), newestSource(path.join(repoRoot, 'config')))));
    try {
      fs.linkSync(mine, file);
    } catch {
      // another worker of this run was first
    }
    fs.rmSync(mine, { force: true });
  }
  return fs.readFileSync(file, 'utf8');
}

function storeKey(store: PreparedStore<unknown>): string {
  return createHash('sha1')
    .update(
      allMigrations()
        .map((m) => `${m.version}:${m.sql()}`)
        .join('\n'),
    )
    .update(store.seed.toString())
    .update(todayInChina())
    .update(sourceStamp())
    .digest('hex')
    .slice(0, 12);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cached data directory of a prepared store, built here if no other worker has built it.
 * Workers in parallel take turns with a lock folder holding the builder's pid.
 */
async function preparedDir<T>(store: PreparedStore<T>): Promise<{ dir: string; facts: T }> {
  const prefix = `yifang-e2e-store-${store.name}-`;
  const dir = path.join(os.tmpdir(), `${prefix}${storeKey(store)}`);
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  while (!fs.existsSync(path.join(dir, 'ready'))) {
    try {
      fs.mkdirSync(lock);
    } catch {
      const holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8').trim() || 0);
      if (holder && !isAlive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`prepared store ${store.name}: gave up waiting for ${lock}`);
      await sleep(1000);
      continue;
    }
    try {
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      if (fs.existsSync(path.join(dir, 'ready'))) break;
      // Older builds of this store (other days, other sources) are left by earlier runs.
      for (const name of fs.readdirSync(os.tmpdir())) {
        const old = path.join(os.tmpdir(), name);
        if (name.startsWith(prefix) && old !== dir && !name.endsWith('.lock') && Date.now() - fs.statSync(old).mtimeMs > 3_600_000)
          fs.rmSync(old, { recursive: true, force: true });
      }
      const db = await freshDatabase('pglite');
      const server = await serverOn(db);
      let facts: T;
      try {
        facts = await store.seed(new Seeder(server, await signInOverHttp(server)));
        await server.processors.drain();
      } finally {
        await server.close();
        await db.close();
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(db.dataDir!, dir);
      fs.writeFileSync(path.join(dir, 'facts.json'), JSON.stringify(facts ?? null));
      fs.writeFileSync(path.join(dir, 'ready'), '');
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  return { dir, facts: JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8')) as T };
}

/** A fresh database: a copy of the migrated template, or of a prepared store. */
async function storeCopy(store?: PreparedStore<unknown>): Promise<{ db: Database; facts: unknown; dispose(): Promise<void> }> {
  if (!store) {
    const db = await freshDatabase('pglite');
    return { db, facts: undefined, dispose: () => db.dispose() };
  }
  const { dir, facts } = await preparedDir(store);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), `yifang-e2e-${store.name}-`));
  fs.cpSync(dir, copy, { recursive: true });
  const db = await openDatabase({ dataDir: copy });
  return {
    db,
    facts,
    async dispose() {
      await db.close().catch(() => undefined);
      fs.rmSync(copy, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The suite fixture.

export interface SignedInPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors on the page; a test ends with expect(errors).toEqual([]). */
  errors: string[];
}

export interface BrowserFixture<T> {
  /** Where the browser opens the web app (the server, or a front passing the API to it). */
  url: string;
  server: RunningServer;
  seeder: Seeder;
  browser: Browser;
  /** What the prepared store's or the suite's seed returned. */
  facts: T;
  /** A new browser page (China's time zone, 1440×900), not signed in. */
  open(lang?: 'zh' | 'en'): Promise<SignedInPage>;
  /** A new browser page signed in as the administrator through the login screen. */
  signIn(lang?: 'zh' | 'en'): Promise<SignedInPage>;
}

export interface BrowserSuiteOptions<T> {
  /** A cached seeded store to start from (default: the empty migrated template). */
  store?: PreparedStore<T>;
  /** Seeds this suite's own copy after the server starts (cheap set-ups; not cached). */
  seed?: (s: Seeder) => Promise<T>;
}

/**
 * A browser suite: one server on its own store, one Chromium, pages closed after each test.
 * Skipped, and named so, where Debian's Chromium is missing.
 */
export function describeInBrowser<T = undefined>(
  name: string,
  options: BrowserSuiteOptions<T>,
  body: (fx: () => BrowserFixture<T>) => void,
): void {
  const title = haveChromium ? name : `${name} — SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium fonts-noto-cjk)`;
  describe.skipIf(!haveChromium)(title, () => {
    let fixture: BrowserFixture<T> | undefined;
    let store: { dispose(): Promise<void> } | undefined;
    let server: RunningServer | undefined;
    let browser: Browser | undefined;
    let web: { url: string; close(): Promise<void> } | undefined;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      ensureWebBuild({ ifMissing: true });
      const copy = await storeCopy(options.store as PreparedStore<unknown> | undefined);
      store = copy;
      server = await serverOn(copy.db);
      const seeder = new Seeder(server, await signInOverHttp(server));
      let facts = copy.facts as T;
      if (options.seed) {
        facts = await options.seed(seeder);
        await seeder.drain();
      }
      web = await webFront(server.url);
      browser = await launchChromium();
      const open = async (lang: 'zh' | 'en' = 'zh'): Promise<SignedInPage> => {
        const opened = await openDistrictPage(browser!, lang);
        contexts.push(opened.context);
        return opened;
      };
      fixture = {
        url: web.url,
        server,
        seeder,
        browser,
        facts,
        open,
        async signIn(lang = 'zh') {
          const opened = await open(lang);
          const login = new LoginPage(opened.page, web!.url);
          await login.open();
          await login.signIn(ADMIN.username, ADMIN.password);
          return opened;
        },
      };
    }, 600_000);

    afterEach(async () => {
      for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    });

    afterAll(async () => {
      await browser?.close();
      await web?.close();
      await server?.close();
      await store?.dispose();
    });

    body(() => {
      if (!fixture) throw new Error('the browser fixture is not ready (did beforeAll fail?)');
      return fixture;
    });
  });
}
