/**
 * User administration and the security headers in the browser: the administrator creates a
 * user, who signs in with the one-time password and must change it first; the page runs under
 * the server's Content-Security-Policy (added here to the test front's pages) without a single
 * violation on the screens it visits (users, residents, surveillance overview with its charts).
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ADMIN, describeInBrowser } from './fixture.js';
import { LoginPage } from './pages/login.page.js';
import { ShellPage } from './pages/shell.page.js';
import { AccountPage, UsersPage } from './pages/users.page.js';

/** Serves the front's documents with the server's CSP and collects what the browser reports against it. */
async function underServerPolicy(page: Page, serverUrl: string): Promise<string[]> {
  const csp = (await fetch(`${serverUrl}/healthz`)).headers.get('content-security-policy');
  expect(csp).toContain("frame-ancestors 'none'");
  await page.route(
    (url) => !/^\/(fhir|auth|api|assets)(\/|$)/.test(url.pathname),
    async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp! } });
    },
  );
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

describeInBrowser('user administration', {}, (fx) => {
  it('creates a user who must change the one-time password, under the CSP without violations', async () => {
    const { page, errors } = await fx().open();
    const violations = await underServerPolicy(page, fx().server.url);
    const login = new LoginPage(page, fx().url);
    await login.open();
    await login.signIn(ADMIN.username, ADMIN.password);
    const shell = new ShellPage(page, fx().url);
    await shell.openFromMenu('/admin/users', '系统管理');
    const users = new UsersPage(page, fx().url);
    await users.open();
    expect((await users.rowTexts()).join('\n')).toContain('系统管理员');

    const oneTime = await users.create({
      username: 'nurse.chen',
      displayName: '陈护士',
      roles: ['家庭医生'],
      organization: '西城社区卫生服务中心',
    });
    expect(oneTime).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/);
    await users.search('陈');
    await page.getByText('待修改密码').waitFor();
    const row = (await users.rowTexts()).find((r) => r.includes('nurse.chen'))!;
    expect(row).toContain('家庭医生');
    expect(row).not.toContain('family-doctor');
    await users.screenshot('users.png');

    // The charts and lists of other screens run under the same policy.
    await page.goto(`${fx().url}/#/residents`);
    await page.getByTestId('current-user').waitFor();
    await page.goto(`${fx().url}/#/surveillance/overview`);
    await page
      .locator('canvas')
      .first()
      .waitFor({ timeout: 20_000 })
      .catch(() => undefined);

    await shell.signOut();
    await login.signIn('nurse.chen', oneTime);
    const account = new AccountPage(page, fx().url);
    await account.card().waitFor();
    await expect(page.getByText('您的密码已由管理员重置').isVisible()).resolves.toBe(true);
    await account.changePassword(oneTime, 'quiet-river-lantern-58');
    await page.getByText('密码已修改').waitFor();
    await expect(shell.currentUser().textContent()).resolves.toContain('陈护士');
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);

    // The policy is really in force, and its violations are seen: an injected inline script does not run.
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.head.appendChild(script);
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => violations.length).toBeGreaterThan(0);
  });

  it('signs out on the server: the old token is refused afterwards', async () => {
    const { page, errors } = await fx().signIn();
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('yifang.session') ?? '{}') as { token: string }).token);
    expect((await fetch(`${fx().server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await new ShellPage(page, fx().url).signOut();
    expect((await fetch(`${fx().server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(errors).toEqual([]);
  });
});
