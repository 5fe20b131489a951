import type { Locator } from 'playwright-core';
import { Screen } from './screen.js';

/** 居民档案: the resident search list (#/residents). */
export class ResidentsPage extends Screen {
  readonly root = () => this.page.getByTestId('resident-list');
  readonly searchInput = () => this.page.getByTestId('resident-search');
  readonly rows = () => this.page.getByTestId('resident-table').locator('tbody tr.ant-table-row');

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/residents`);
    await this.root().waitFor({ state: 'visible' });
  }

  /** Types a name or ID number, presses Enter and waits for a row containing `expectInRow`. */
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
