import { Screen } from './screen.js';

/** 审计查阅, its events tab as the first audit-log test reads it (#/admin/audit); the whole screen is AuditReviewPage. */
export class AuditLogPage extends Screen {
  readonly table = () => this.page.getByTestId('audit-table');

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/admin/audit`);
    await this.page.getByTestId('audit-log').waitFor({ state: 'visible' });
    await this.tableRows().first().waitFor({ timeout: 15_000 });
  }

  /** Filters by an operation in words (操作, e.g. 登录) and waits for the rows. */
  async filterOperation(word: string): Promise<void> {
    const box = this.page.getByLabel('操作', { exact: true });
    await box.click();
    await box.fill(word);
    await this.page
      .locator('.ant-select-item-option')
      .filter({ hasText: new RegExp(`^${word}$`) })
      .first()
      .click();
    await this.page.getByTestId('audit-search').click();
    await this.page.waitForLoadState('networkidle');
    await this.tableRows().first().waitFor({ timeout: 15_000 });
  }

  /** The text of each row, newest first. */
  rowTexts(): Promise<string[]> {
    return this.tableRows().allInnerTexts();
  }
}
