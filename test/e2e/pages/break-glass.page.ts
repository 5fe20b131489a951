import { Screen } from './screen.js';

/**
 * Emergency access (紧急访问/破窗) on the resident record: the refusal for a resident outside the
 * user's scope, the request dialog (reason, duration) and the red banner while the grant lasts.
 */
export class BreakGlassPage extends Screen {
  readonly refusal = () => this.page.getByTestId('out-of-scope');
  readonly dialog = () => this.page.locator('.yf-break-glass-modal .ant-modal-content');
  readonly banner = () => this.page.getByTestId('break-glass-banner');

  /** Opens #/residents/:id and waits for the refusal. */
  async openRefused(patientId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/residents/${encodeURIComponent(patientId)}`);
    await this.refusal().waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** The refusal's title and explanation. */
  async refusalText(): Promise<string> {
    return (await this.refusal().innerText()).replace(/\s+/g, ' ');
  }

  /** Clicks 紧急访问（破窗） and waits for the dialog. */
  async openRequest(): Promise<void> {
    await this.refusal().getByTestId('break-glass-open').click();
    await this.dialog().waitFor({ state: 'visible' });
  }

  async dialogText(): Promise<string> {
    return (await this.dialog().innerText()).replace(/\s+/g, ' ');
  }

  /** Fills the reason, picks the duration by its label ('30 分钟', '1 小时', …) and confirms. */
  async request(reason: string, duration: string): Promise<void> {
    await this.page.getByTestId('break-glass-reason').fill(reason);
    await this.dialog().locator('.ant-radio-button-wrapper').filter({ hasText: duration }).click();
    await this.dialog().getByRole('button', { name: '确认紧急访问' }).click();
  }

  /** The form's validation messages, once one shows. */
  async formErrors(): Promise<string[]> {
    await this.dialog().locator('.ant-form-item-explain-error').first().waitFor();
    return this.dialog().locator('.ant-form-item-explain-error').allInnerTexts();
  }

  async bannerText(): Promise<string> {
    await this.banner().waitFor({ state: 'visible', timeout: 20_000 });
    return (await this.banner().innerText()).replace(/\s+/g, ' ');
  }
}
