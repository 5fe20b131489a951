import type { Page } from 'playwright-core';

/** The sign-in page (shown at any URL while signed out). */
export class LoginPage {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  readonly card = () => this.page.getByTestId('login-card');

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/`);
    await this.card().waitFor({ state: 'visible' });
  }

  async signIn(username: string, password: string): Promise<void> {
    await this.page.locator('#username').fill(username);
    await this.page.locator('#password').fill(password);
    await this.page.getByTestId('login-submit').click();
    await this.page.getByTestId('current-user').waitFor({ state: 'visible' });
  }

  async errorText(): Promise<string | null> {
    const error = this.page.getByTestId('login-error');
    await error.waitFor({ state: 'visible' });
    return error.textContent();
  }
}
