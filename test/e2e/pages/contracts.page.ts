import { Screen } from './screen.js';

/** 家庭医生签约与转诊: contracts, referrals and key populations (#/care/contracts). */
export class ContractsPage extends Screen {
  async open(lang: 'zh' | 'en' = 'zh'): Promise<void> {
    await this.goto('/care/contracts', lang === 'zh' ? '家庭医生签约与转诊' : 'Family-doctor contracts');
  }

  /** 新签约: signs a resident (or household) with the first team offered. */
  async signContract(residentId: string): Promise<void> {
    await this.page.getByRole('button', { name: '新签约' }).click();
    await this.page.getByLabel('居民编号 / 家庭户编号').fill(residentId);
    await this.page.getByLabel('签约团队').click();
    await this.page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
    // The list closes on the choice: wait for it, as on a busy machine it was seen still open over the dialog's buttons.
    await this.page.locator('.ant-select-dropdown:visible').waitFor({ state: 'hidden' });
    await this.page.locator('.ant-modal-footer .ant-btn-primary').click();
  }

  /** Flag key population (English screen): the resident is flagged with the form's default. */
  async flagKeyPopulation(residentId: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Flag key population' }).click();
    await this.page.getByLabel('Resident id').fill(residentId);
    await this.page.locator('.ant-modal-footer .ant-btn-primary').click();
  }

  /** Waits for a tab title such as '签约居民（1）' (or one matching a pattern) and opens it. */
  async openTab(title: string | RegExp): Promise<void> {
    await this.page.getByText(title).waitFor({ timeout: 15_000 });
    await this.page.getByText(title).click();
  }

  /** The total on the 签约居民 tab, once the first page has come (the tab shows no count before). */
  async signedCount(): Promise<number> {
    const tab = this.page
      .locator('.ant-tabs-tab')
      .filter({ hasText: /签约居民（\d+）/ })
      .first();
    await tab.waitFor({ timeout: 15_000 });
    return Number(/（(\d+)）/.exec(await tab.innerText())?.[1] ?? 0);
  }

  async waitForTab(title: string): Promise<void> {
    await this.page.getByText(title).waitFor({ timeout: 15_000 });
  }

  /** Tag texts in the rows of the tab on screen. */
  async activeTabTags(): Promise<string[]> {
    await this.tableRows('.ant-tabs-tabpane-active').first().waitFor();
    return this.page.locator('.ant-tabs-tabpane-active .ant-table-row .ant-tag').allTextContents();
  }
}
