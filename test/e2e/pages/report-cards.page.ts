import { Screen } from './screen.js';

/** 传染病报告卡: the card list and one card's drawer (submit, review, 订正) (#/surveillance/reports). */
export class ReportCardsPage extends Screen {
  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/surveillance/reports`);
    await this.page.getByTestId('card-link').first().waitFor({ state: 'visible' });
  }

  async openCard(cardId: string): Promise<void> {
    await this.page.locator(`[data-testid="card-link"][data-card-id="${cardId}"]`).click();
    await this.page.getByTestId('card-drawer').waitFor({ state: 'visible' });
  }

  status(): Promise<string | null> {
    return this.page.getByTestId('card-drawer').locator('.ant-descriptions-item-content .ant-tag').first().textContent();
  }

  /** 订正: opens the correction form, changes one field by its label, gives the reason and submits. */
  async correct(fieldLabel: string, value: string, reason: string): Promise<void> {
    await this.page.getByTestId('card-correct').click();
    const field = this.page.getByTestId('card-drawer').getByLabel(fieldLabel, { exact: true });
    await field.fill(value);
    await this.page.getByTestId('card-correct-reason').fill(reason);
    await this.page.getByTestId('card-correct-save').click();
    await this.page.getByTestId('card-corrections').waitFor({ state: 'visible' });
  }

  corrections(): Promise<string | null> {
    return this.page.getByTestId('card-corrections').textContent();
  }
}
