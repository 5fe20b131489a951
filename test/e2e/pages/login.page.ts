import { Screen } from './screen.js';

/** The sign-in page (shown at any URL while signed out). */
export class LoginPage extends Screen {
  readonly card = () => this.page.getByTestId('login-card');

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/`);
    await this.card().waitFor({ state: 'visible' });
  }

  async signIn(username: string, password: string): Promise<void> {
    await this.fill(username, password);
    await this.page.getByTestId('current-user').waitFor({ state: 'visible' });
  }

  /** Fills the form and submits, without waiting for the outcome. */
  async fill(username: string, password: string): Promise<void> {
    await this.page.locator('#username').fill(username);
    await this.page.locator('#password').fill(password);
    await this.page.getByTestId('login-submit').click();
  }

  async errorText(): Promise<string | null> {
    const error = this.page.getByTestId('login-error');
    await error.waitFor({ state: 'visible' });
    return error.textContent();
  }
}
