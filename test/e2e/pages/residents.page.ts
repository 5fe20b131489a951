import type { Locator, Page } from 'playwright-core';

/** 居民档案: the resident search list. */
export class ResidentsPage {
  constructor(private readonly page: Page) {}

  readonly root = () => this.page.getByTestId('resident-list');
  readonly searchInput = () => this.page.getByTestId('resident-search');
  readonly rows = () => this.page.getByTestId('resident-table').locator('tbody tr.ant-table-row');

  /** Opens the list from the side menu. */
  async openFromMenu(): Promise<void> {
    await this.page.locator('.ant-layout-sider a[href="#/residents"]').click();
    await this.root().waitFor({ state: 'visible' });
  }

  /** Types a name or ID number, presses Enter and waits for a row containing `expect`. */
  async search(text: string, expectInRow: string): Promise<Locator> {
    await this.searchInput().fill(text);
    await this.searchInput().press('Enter');
    const row = this.rows().filter({ hasText: expectInRow });
    await row.first().waitFor({ state: 'visible' });
    return row;
  }

  async openResident(name: string): Promise<void> {
    await this.rows().getByTestId('resident-link').filter({ hasText: name }).first().click();
  }
}
