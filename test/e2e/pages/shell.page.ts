import { Screen } from './screen.js';

/** The signed-in frame: side menu, header (language switch, current user, sign out). */
export class ShellPage extends Screen {
  readonly currentUser = () => this.page.getByTestId('current-user');
  readonly sider = () => this.page.locator('.ant-layout-sider');

  /** Follows a side-menu link by its route (opening its group first when it is folded). */
  async openFromMenu(route: string, group?: string): Promise<void> {
    const link = this.sider().locator(`a[href="#${route}"]`);
    if (group && !(await link.isVisible())) await this.sider().locator('.ant-menu-submenu-title').filter({ hasText: group }).click();
    await link.click();
    await this.page.waitForFunction((hash) => window.location.hash === hash, `#${route}`);
  }

  /** The side menu's top-level and group labels, in order. */
  menuLabels(): Promise<string[]> {
    return this.sider().locator('.ant-menu-root > li').allInnerTexts();
  }

  /** Switches the header language switch to 'EN' or '中文'. */
  async switchLanguage(label: 'EN' | '中文'): Promise<void> {
    await this.page.locator('.yf-header').getByTestId('language-switch').getByText(label, { exact: true }).click();
  }

  async signOut(): Promise<void> {
    await this.page
      .locator('.yf-header')
      .getByRole('button', { name: /退出登录|Sign out|Log out/ })
      .click();
    await this.page.getByTestId('login-card').waitFor({ state: 'visible' });
  }

  /** Replaces the stored token with one the server does not know; the next API call gets 401. */
  async expireToken(): Promise<void> {
    await this.page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('yifang.session') ?? '{}') as { token?: string };
      session.token = 'expired-token';
      sessionStorage.setItem('yifang.session', JSON.stringify(session));
    });
    await this.page.reload();
  }
}
