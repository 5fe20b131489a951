import type { Page } from 'playwright-core';

/** The chronic-care screens: worklist, registry, check-in, contracts, prescription, indicators. */
export class ChronicPages {
  constructor(
    private readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async open(hash: string, waitForText: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#${hash}`);
    try {
      await this.page.getByText(waitForText, { exact: false }).first().waitFor({ state: 'visible', timeout: 20_000 });
    } catch (err) {
      await this.page.screenshot({ path: `test-artifacts/chronic-failed-${hash.replace(/\W+/g, '_')}.png` });
      throw err;
    }
  }

  /** Opens the follow-up form from the first row of the current worklist tab and saves readings. */
  async recordFirstFollowUp(sbp: number, dbp: number): Promise<string> {
    await this.page.getByRole('button', { name: '录入随访' }).first().click();
    await this.page.getByText('慢病随访 ·').waitFor({ state: 'visible' });
    await this.page.getByLabel('收缩压 mmHg').fill(String(sbp));
    await this.page.getByLabel('舒张压 mmHg').fill(String(dbp));
    await this.page.getByRole('button', { name: '保存并计算下次随访' }).click();
    const alert = this.page.locator('.ant-drawer .ant-alert').first();
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    return (await alert.textContent()) ?? '';
  }

  async checkIn(patientId: string): Promise<string[]> {
    await this.page.getByPlaceholder('居民编号（Patient 或 Person）').fill(patientId);
    await this.page.getByRole('button', { name: '登记到诊' }).click();
    await this.page.getByText('待办服务').first().waitFor({ state: 'visible', timeout: 15_000 });
    return this.page.locator('.ant-list-item .ant-tag').allTextContents();
  }
}
