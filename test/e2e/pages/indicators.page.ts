import { Screen } from './screen.js';

/** 医防指标: indicator cards with drill-down to the residents behind a figure (#/indicators). */
export class IndicatorsPage extends Screen {
  async open(lang: 'zh' | 'en' = 'zh'): Promise<void> {
    if (lang === 'zh') {
      await this.goto('/indicators', '医防指标');
      await this.page.getByText('高血压患者规范管理率').first().waitFor();
    } else {
      await this.goto('/indicators', 'Family-doctor contract coverage');
    }
  }

  /** Whether an indicator's name is on screen. */
  async shows(name: string): Promise<boolean> {
    await this.page.getByText(name).first().waitFor();
    return true;
  }

  /** Clicks the first figure of the first indicator card; returns the drawer's row count. */
  async drillDownFirst(): Promise<number> {
    // The first indicator's card (the data-quality card above the indicators has no table).
    await this.page.locator('.ant-card:not([data-testid="indicator-data-quality"])').first().locator('td a').first().click();
    await this.tableRows('.ant-drawer').first().waitFor({ timeout: 15_000 });
    return this.tableRows('.ant-drawer').count();
  }
}
