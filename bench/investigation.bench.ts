/**
 * Issue #19 figures for an outbreak of 10,000 people in one transmission chain (500 cases, each
 * with 19 close contacts; every case but the first found as a contact of an earlier one):
 * - the chain answer (GET /api/investigations/:id/chain, with names) on each store;
 * - the investigation report as a PDF (POST /api/investigations/:id/report, target < 10 s);
 * - the chain graph drawn in headless Chromium (the 传播链 tab, from the route change until
 *   ECharts reports the chart finished, target < 2 s), on each store.
 * The residents go in through the bulk import; the outbreak's rows are written straight into the
 * investigation tables (10,000 contacts through the API would time the API, not the chain).
 *
 *   node --import tsx bench/investigation.bench.ts [--cases 500] [--contacts 19] [--rounds 3] [--screenshot FILE.png]
 * (--screenshot: the drawn tab as FILE-<store>.png, to look at what was timed)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Request } from 'playwright-core';
import { importNdjson } from '../src/fhir/import.js';
import { startTestServer, prepareTemplates, storeKinds, type StoreKind, useProductCache } from '../src/app/test-stores.js';
import { addDays, todayInChina } from '../src/shared/dates.js';
import { ensureWebBuild, launchChromium, openDistrictPage, webBuildDir, webFront } from '../test/e2e/harness.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

const FAMILY = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂';

/** Writes the outbreak: patients by bulk import, investigations, contacts and exposures by SQL. Answers the root investigation. */
async function seed(server: Awaited<ReturnType<typeof startTestServer>>, cases: number, perCase: number): Promise<number> {
  const people = cases * (perCase + 1);
  const name = (i: number) => `${FAMILY[i % FAMILY.length]}${GIVEN[Math.floor(i / FAMILY.length) % GIVEN.length]}${GIVEN[i % 7]}`;
  const lines = Array.from({ length: people }, (_, i) =>
    JSON.stringify({
      resourceType: 'Patient',
      id: `ob-${i}`,
      name: [{ use: 'official', text: name(i) }],
      gender: i % 2 ? 'male' : 'female',
      birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9}`,
    }),
  );
  await importNdjson(server.repo, Readable.from(lines.map((l) => l + '\n')), 'outbreak');
  const db = server.db;
  const today = todayInChina();
  // Cases 0..cases-1 are patients ob-0..; case k>0 was found as a contact of case floor((k-1)/4).
  const invIds: number[] = [];
  for (let k = 0; k < cases; k++) {
    const onset = addDays(today, -30 + Math.floor(Math.log2(k + 1) * 4));
    const r = await db.query<{ id: string }>(
      `INSERT INTO inv_investigation (patient_id, disease_key, disease_name, disease_class, source, status, opened_by, deadline_at,
         questionnaire_id, classification, onset_date)
       VALUES ($1, 'measles', '麻疹', 'B', $2, 'in-progress', 'bench', now() + interval '1 day', 'inv-measles', $3, $4) RETURNING id`,
      [`ob-${k}`, k ? 'contact' : 'manual', k % 3 ? 'confirmed' : 'suspected', onset],
    );
    invIds.push(Number(r.rows[0]!.id));
  }
  let person = cases;
  for (let k = 0; k < cases; k++) {
    const rows: [string, string, number | null][] = [];
    // Its cases found as contacts.
    for (let c = 4 * k + 1; c <= 4 * k + 4 && c < cases; c++) rows.push([`ob-${c}`, 'became-case', invIds[c]!]);
    while (rows.length < perCase + Math.min(4, Math.max(0, cases - 1 - 4 * k))) rows.push([`ob-${person++}`, 'monitoring', null]);
    const last = addDays(today, -28 + Math.floor(Math.log2(k + 1) * 4));
    for (const [pid, status, caseInv] of rows) {
      const c = await db.query<{ id: string }>(
        `INSERT INTO inv_contact (investigation_id, patient_id, follow_up_start, follow_up_end, status, case_investigation_id, confirmed_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'bench') RETURNING id`,
        [invIds[k], pid, last, addDays(last, 21), status, caseInv],
      );
      const contactId = Number(c.rows[0]!.id);
      await db.query(
        `INSERT INTO inv_exposure (contact_id, type, first_date, last_date, recorded_by) VALUES ($1, '共同居住', $2, $2, 'bench')`,
        [contactId, last],
      );
      if (caseInv) await db.query('UPDATE inv_investigation SET from_contact_id = $1 WHERE id = $2', [contactId, caseInv]);
    }
  }
  return invIds[0]!;
}

export async function runInvestigationBench(argv: string[] = []): Promise<void> {
  const quick = argv.includes('--quick');
  const cases = Number(arg(argv, 'cases', quick ? '100' : '500'));
  const perCase = Number(arg(argv, 'contacts', '19'));
  const rounds = Number(arg(argv, 'rounds', quick ? '2' : '3'));
  const shot = arg(argv, 'screenshot', '');
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  for (const kind of storeKinds() as StoreKind[]) {
    const server = await startTestServer(kind);
    try {
      const t0 = performance.now();
      const root = await seed(server, cases, perCase);
      /** A kept-alive socket the server closed while the processors drained (ECONNRESET) is retried once. */
      const api = (path: string, init?: RequestInit) => server.api(path, init).catch(() => server.api(path, init));
      // The import woke the change-log processors (identity links, households, …); on PGlite they
      // share the one connection, so they are let finish before anything is timed.
      await server.processors.drain();
      process.stderr.write(
        `[investigation ${kind}] outbreak of ${cases * (perCase + 1)} people written in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
      );
      const chainMs: number[] = [];
      let nodes = 0;
      let answerBytes = 0;
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        const res = await api(`/api/investigations/${root}/chain`);
        const text = await res.text();
        const body = JSON.parse(text) as { nodes: { id: number[] } };
        chainMs.push(performance.now() - t);
        nodes = body.nodes.id.length;
        answerBytes = Buffer.byteLength(text);
      }
      const reportMs: number[] = [];
      let bytes = 0;
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        const res = await api(`/api/investigations/${root}/report`, { method: 'POST' });
        const pdf = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) throw new Error(`report answered ${res.status}: ${pdf.toString().slice(0, 300)}`);
        reportMs.push(performance.now() - t);
        bytes = pdf.length;
      }
      let drawMs: number[] = [];
      const answerInMs: number[] = [];
      drawMs = await drawInBrowser(server.url, root, rounds, shot && `${shot.replace(/\.png$/, '')}-${kind}.png`, answerInMs);
      const med = (a: number[]) =>
        Math.round(
          percentile(
            [...a].sort((x, y) => x - y),
            50,
          ),
        );
      rows.push({
        store: kind,
        people: nodes,
        'chain answer ms (median)': med(chainMs),
        'answer KB': Math.round(answerBytes / 1024),
        'report PDF ms (median)': med(reportMs),
        'report KB': Math.round(bytes / 1024),
        'report target < 10,000 ms': med(reportMs) < 10_000 ? 'met' : 'NOT met',
        'graph drawn ms (median)': drawMs.length ? med(drawMs) : '—',
        'of which chain answer in at ms': answerInMs.length ? med(answerInMs) : '—',
        'graph target < 2,000 ms': drawMs.length ? (med(drawMs) < 2000 ? 'met' : 'NOT met') : '',
      });
    } finally {
      await server.dispose();
    }
  }
  printTable(
    `Investigation: one transmission chain of ${cases * (perCase + 1)} people (${cases} cases × ${perCase} contacts), ${rounds} rounds`,
    rows,
  );
}

/** Opens the 传播链 tab in headless Chromium and times the route change until the chart has finished drawing. */
async function drawInBrowser(
  serverUrl: string,
  root: number,
  rounds: number,
  screenshot: string,
  chainAnswerAt: number[] = [],
): Promise<number[]> {
  // Rebuilt when web/src or src/shared changed since the last build, so the figure is of the code in
  // the tree; and as a production build: one left by a test run (NODE_ENV=test) has React's
  // development build, which runs every effect twice and checks as it renders. Such a build is
  // made stale (this module's own source touched) and rebuilt with NODE_ENV=production.
  const devBuild = () => {
    const assets = path.join(webBuildDir, 'assets');
    return (
      fs.existsSync(assets) &&
      fs
        .readdirSync(assets)
        .some((f) => f.startsWith('react-') && fs.readFileSync(path.join(assets, f), 'utf8').includes('not wrapped in act'))
    );
  };
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    if (devBuild()) {
      const mine = new URL('../web/src/investigation/chain.component.tsx', import.meta.url);
      fs.utimesSync(mine, new Date(), new Date());
    }
    ensureWebBuild();
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const web = await webFront(serverUrl);
  const browser = await launchChromium();
  const out: number[] = [];
  try {
    const { page } = await openDistrictPage(browser, 'zh');
    // What the page said, to tell a chart that failed from one that is slow.
    const said: string[] = [];
    page.on('pageerror', (e) => said.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') said.push(`${m.type()}: ${m.text()}`);
    });
    await page.goto(`${web.url}/`);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill('test-admin-pw');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('current-user').waitFor({ timeout: 30_000 });
    for (let i = 0; i < rounds; i++) {
      await page.evaluate(() => (location.hash = '#/care/check-in'));
      await page.waitForTimeout(300);
      // When each API answer of the round was in, to tell the server's part from the browser's.
      const answers: string[] = [];
      let chainAt = 0;
      const onDone = (r: Request) => {
        const url = new URL(r.url());
        if (!url.pathname.startsWith('/api/') && !url.pathname.startsWith('/fhir/')) return;
        const at = performance.now() - t0;
        if (url.pathname.endsWith('/chain')) chainAt = at;
        answers.push(`${url.pathname} ${Math.round(at)} ms`);
      };
      page.on('requestfinished', onDone);
      const onFailed = (r: Request) => {
        if (r.url().includes('/api/'))
          answers.push(`${new URL(r.url()).pathname} failed (${r.failure()?.errorText ?? '?'}) ${Math.round(performance.now() - t0)} ms`);
      };
      page.on('requestfailed', onFailed);
      const t0 = performance.now();
      await page.evaluate((id) => (location.hash = `#/investigation/${id}?tab=chain`), root);
      await page
        .locator('[data-testid="chain-graph"][data-rendered="true"]')
        .waitFor({ timeout: 60_000 })
        .catch((e: unknown) => {
          throw new Error(`the chain was not drawn (${String(e)}); the page said:\n${said.slice(-20).join('\n')}`);
        });
      const total = performance.now() - t0;
      page.off('requestfinished', onDone);
      page.off('requestfailed', onFailed);
      out.push(total);
      answers.sort((a, b) => Number(/(\d+) ms$/.exec(a)?.[1]) - Number(/(\d+) ms$/.exec(b)?.[1]));
      process.stderr.write(`  round ${i + 1}: drawn at ${Math.round(total)} ms; answers in: ${answers.join(', ')}\n`);
      chainAnswerAt.push(chainAt);
    }
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
    await web.close();
  }
  return out;
}

if (process.argv[1]?.endsWith('investigation.bench.ts')) {
  if (process.argv.includes('--help')) {
    console.log(
      'node --import tsx bench/investigation.bench.ts [--cases 500] [--contacts 19] [--rounds 3] [--quick] [--screenshot FILE.png]\n' +
        '  the chain answer, the report PDF and the 传播链 tab drawn in Chromium, on PGlite and (YIFANG_TEST_PG_URL) PostgreSQL',
    );
  } else await runInvestigationBench(process.argv.slice(2));
}
