/**
 * Signing in and out: the login page refuses a wrong password, signs the administrator in to
 * the shell (menu and current user), and sends the browser back to it when the token expires.
 */
import { expect, it } from 'vitest';
import { ADMIN, describeInBrowser } from './fixture.js';
import { LoginPage } from './pages/login.page.js';
import { ShellPage } from './pages/shell.page.js';

describeInBrowser('sign in, the shell, and an expired session', {}, (fx) => {
  it('refuses a wrong password, signs in, and returns to the login page when the token expires', async () => {
    const { page, errors } = await fx().open();
    const login = new LoginPage(page, fx().url);
    await login.open();
    await login.screenshot('login.png');

    await login.fill(ADMIN.username, 'not-the-password');
    expect(await login.errorText()).toBeTruthy();

    await login.signIn(ADMIN.username, ADMIN.password);
    const shell = new ShellPage(page, fx().url);
    await expect(shell.currentUser().textContent()).resolves.toContain('系统管理员');
    expect((await shell.menuLabels()).join(' ')).toContain('居民档案');

    // A token the server no longer accepts: the list's next API call returns 401 and shows the login page.
    await shell.openFromMenu('/residents');
    await shell.expireToken();
    await login.card().waitFor({ state: 'visible' });
    expect(errors).toEqual([]);
  });

  it('signs out from the header', async () => {
    const { page, errors } = await fx().signIn();
    await new ShellPage(page, fx().url).signOut();
    expect(await page.evaluate(() => sessionStorage.getItem('yifang.session'))).toBeNull();
    expect(errors).toEqual([]);
  });
});
