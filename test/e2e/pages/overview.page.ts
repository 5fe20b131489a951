import { Screen } from './screen.js';

/** 监测概览: the district's signals at a glance (#/surveillance/overview). */
export class OverviewPage extends Screen {
  readonly signals = () => this.page.getByTestId('overview-signal');

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/surveillance/overview`);
    await this.signals().first().waitFor({ state: 'visible' });
  }
}
