/**
 * Issue #17: every page's first meaningful paint < 1.5 s and every list page < 1 s for the next
 * page, on the demo district on PGlite, in headless Chromium. The server starts on a fresh PGlite
 * directory with the demo district loaded through the product's own import paths (as npm start
 * does), the administrator signs in, and each menu entry is opened from another page: the time
 * runs from the route change until the screen is at rest (no spinner or skeleton left in the
 * content). On list pages the next page is then asked for and timed the same way.
 *
 *   node --import tsx bench/screens.bench.ts [--population 20000] [--days 730] [--quick]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startServer } from '../src/app/server.js';
import { ensureWebBuild, launchChromium, openDistrictPage, webFront } from '../test/e2e/harness.js';
import { percentile, printTable } from './table.js';

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

/** The screens of the menu, with the list whose next page is timed where there is one. */
const SCREENS: { route: string; name: string }[] = [
  { route: '/', name: '首页/工作台' },
  { route: '/residents', name: '居民档案' },
  { route: '/surveillance/alerts', name: '预警信号' },
  { route: '/surveillance/reports', name: '传染病报告卡' },
  { route: '/surveillance/overview', name: '监测概览' },
  { route: '/investigation', name: '调查列表' },
  { route: '/investigation/follow-ups', name: '密接随访' },
  { route: '/emergency/teams', name: '应急队伍' },
  { route: '/emergency/reserves', name: '物资储备' },
  { route: '/emergency/mode', name: '应急状态与零报告' },
  { route: '/emergency/drills', name: '演练' },
  { route: '/lab/scan', name: '扫码' },
  { route: '/lab/dashboard', name: '在途看板' },
  { route: '/lab/specimens', name: '标本查询' },
  { route: '/lab/outbox', name: '结果回传' },
  { route: '/lab/mass', name: '大规模检测' },
  { route: '/chronic', name: '工作清单' },
  { route: '/chronic/registry', name: '慢病登记册' },
  { route: '/care/check-in', name: '到诊服务' },
  { route: '/care/contracts', name: '签约与转诊' },
  { route: '/indicators', name: '指标与决策' },
  { route: '/indicators/reporting-quality', name: '报告质量' },
  { route: '/indicators/scorecard', name: '医防融合评估' },
  { route: '/portrait', name: '健康画像' },
  { route: '/integration/dead-letters', name: 'HL7 死信队列' },
  { route: '/integration/identity-review', name: '身份核查' },
  { route: '/integration/terminology', name: '术语映射' },
  { route: '/integration/data-quality', name: '数据质量' },
  { route: '/integration/hospital-feeds', name: '医院数据上报' },
  { route: '/admin/registry', name: '机构与地点' },
  { route: '/admin/users', name: '用户管理' },
  { route: '/admin/audit', name: '审计日志' },
];

/** The content's text now (to tell when a route change has replaced it). */
const contentText = (page: Page) => page.evaluate(() => (document.querySelector('.ant-layout-content') ?? document.body).textContent ?? '');

/**
 * Waits until the content differs from `before` (the screen has changed) and shows no spinner or
 * skeleton for 100 ms; answers the ms since `t0`.
 */
async function atRest(page: Page, t0: number, before?: string, timeoutMs = 20_000): Promise<number> {
  await page.waitForFunction(
    (previous) => {
      const w = window as unknown as { __quietSince?: number };
      const main = document.querySelector('.ant-layout-content') ?? document.body;
      const busy =
        (previous !== null && (main.textContent ?? '') === previous) ||
        !!main.querySelector('.ant-spin-spinning, .ant-skeleton-active, .ant-table-placeholder .ant-spin');
      if (busy) w.__quietSince = undefined;
      else w.__quietSince ??= performance.now();
      return !busy && performance.now() - w.__quietSince! >= 100;
    },
    before ?? null,
    { timeout: timeoutMs, polling: 16 },
  );
  // The 100 ms of quiet the check waited for is not part of the screen's time.
  return Math.max(0, performance.now() - t0 - 100);
}

export async function runScreensBench(argv: string[] = []): Promise<void> {
  const quick = argv.includes('--quick');
  const population = Number(arg(argv, 'population', quick ? '3000' : '20000'));
  const days = Number(arg(argv, 'days', quick ? '365' : '730'));
  const rounds = Number(arg(argv, 'rounds', quick ? '1' : '3'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-screens-'));
  ensureWebBuild({ ifMissing: true });
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
  console.log(
    `[screens] demo district (${population} residents, ${days} days) loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const web = await webFront(server.url);
  const browser = await launchChromium();
  const rows: Record<string, string | number>[] = [];
  try {
    const { page, context } = await openDistrictPage(browser, 'zh');
    await page.goto(`${web.url}/`);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill('bench-admin-pw');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('current-user').waitFor({ timeout: 30_000 });
    await atRest(page, performance.now());
    const paint = new Map<string, number[]>();
    const next = new Map<string, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const s of SCREENS) {
        // From a small screen, so every measurement is a route change with its own requests.
        const from = s.route === '/care/check-in' ? '/admin/users' : '/care/check-in';
        await page.evaluate((r) => (location.hash = `#${r}`), from);
        await atRest(page, performance.now());
        const shown = await contentText(page);
        const t0 = performance.now();
        await page.evaluate((r) => (location.hash = `#${r}`), s.route);
        const ms = await atRest(page, t0, shown).catch(() => NaN);
        paint.set(s.route, [...(paint.get(s.route) ?? []), ms]);
        const nextButton = page.locator('.ant-layout-content .ant-pagination-next:not(.ant-pagination-disabled)').first();
        if ((await nextButton.count()) > 0) {
          const listed = await contentText(page);
          const t1 = performance.now();
          await nextButton.click();
          const nms = await atRest(page, t1, listed).catch(() => NaN);
          next.set(s.route, [...(next.get(s.route) ?? []), nms]);
        }
      }
    }
    for (const s of SCREENS) {
      const p = (paint.get(s.route) ?? []).sort((a, b) => a - b);
      const n = (next.get(s.route) ?? []).sort((a, b) => a - b);
      const pMed = percentile(p, 50);
      const nMed = n.length ? percentile(n, 50) : undefined;
      rows.push({
        screen: s.name,
        route: `#${s.route}`,
        'first paint ms (median)': Number.isFinite(pMed) ? Math.round(pMed) : 'timed out',
        'target < 1,500': Number.isFinite(pMed) && pMed < 1500 ? 'met' : 'NOT met',
        'next page ms (median)': nMed === undefined ? '—' : Number.isFinite(nMed) ? Math.round(nMed) : 'timed out',
        'target < 1,000': nMed === undefined ? '' : Number.isFinite(nMed) && nMed < 1000 ? 'met' : 'NOT met',
      });
    }
    await context.close();
  } finally {
    await browser.close();
    await web.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(`Screens on the demo district (PGlite, ${population} residents, ${days} days), headless Chromium, median of ${rounds}`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await runScreensBench(process.argv.slice(2));
