import type { Download } from 'playwright-core';
import { Screen } from './screen.js';

/** 月度报告: the health bureau's monthly reports (#/indicators/monthly-report). */
export class MonthlyReportPage extends Screen {
  async open(): Promise<void> {
    await this.goto('/indicators/monthly-report', '月度报告');
  }

  /** 生成 (or 重新生成) the month picked, and waits for its row. */
  async generate(month: string): Promise<void> {
    await this.page.getByTestId('mr-generate').click();
    await this.page.getByTestId(`mr-${month}-pdf`).waitFor({ timeout: 60_000 });
  }

  /** The status tag of a month's row (完整 / 生成时本月未结束). */
  async status(monthLabel: string): Promise<string> {
    const row = this.tableRows().filter({ hasText: monthLabel }).first();
    return (await row.locator('.ant-tag').last().innerText()).trim();
  }

  /** Downloads a month's report in a format through its button. */
  async download(month: string, format: 'pdf' | 'xlsx'): Promise<Download> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.page.getByTestId(`mr-${month}-${format}`).click()]);
    return download;
  }
}
