import { Screen } from './screen.js';

/** 预警信号看板: list, map and filters (#/surveillance/alerts). */
export class AlertBoardPage extends Screen {
  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/surveillance/alerts`);
    await this.page.getByTestId('alert-board').waitFor({ state: 'visible' });
    await this.page.getByTestId('alert-link').first().waitFor({ state: 'visible' });
  }

  async mapDrawn(): Promise<boolean> {
    const map = this.page.getByTestId('alert-map');
    await map.waitFor({ state: 'visible' });
    await this.page.waitForSelector('[data-testid="alert-map"][data-rendered="true"]', { timeout: 10_000 });
    return true;
  }

  alertCount(): Promise<number> {
    return this.page.getByTestId('alert-link').count();
  }

  async openFirstAlert(): Promise<void> {
    await this.page.getByTestId('alert-link').first().click();
    await this.page.getByTestId('alert-page').waitFor({ state: 'visible' });
  }
}
