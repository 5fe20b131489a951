import type { Locator, Page } from 'playwright-core';
import { pageAtRest } from '../harness.js';

/** 居民健康档案: one resident's record (#/residents/:id). */
export class ResidentRecordPage {
  constructor(private readonly page: Page) {}

  readonly root = () => this.page.getByTestId('resident-record');
  readonly name = () => this.page.getByTestId('resident-name');
  readonly demographics = () => this.page.getByTestId('demographics');
  readonly timeline = () => this.page.getByTestId('encounter-timeline');
  readonly encounterItems = () => this.page.getByTestId('encounter-item');
  readonly chart = (testId: string): Locator => this.page.locator(`[data-testid="${testId}"]`);

  async waitLoaded(): Promise<void> {
    await this.demographics().waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Waits until ECharts has finished drawing the chart (data-rendered="true"). */
  async waitForChart(testId: string): Promise<void> {
    await this.page.locator(`[data-testid="${testId}"][data-rendered="true"]`).waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** The timeline card's title text (changes with the language). */
  async timelineTitle(): Promise<string> {
    return (await this.timeline().locator('.ant-card-head-title').textContent()) ?? '';
  }

  async openTab(label: string): Promise<void> {
    await this.page.locator('.yf-record-tabs .ant-tabs-tab').filter({ hasText: label }).click();
  }

  /** Switches the header language switch to 'EN' or '中文'. */
  async switchLanguage(label: 'EN' | '中文'): Promise<void> {
    await this.page.locator('.yf-header').getByTestId('language-switch').getByText(label, { exact: true }).click();
  }

  async screenshot(path: string): Promise<void> {
    await pageAtRest(this.page);
    await this.page.screenshot({ path, fullPage: true });
  }
}
