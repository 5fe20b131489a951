import type { Locator } from 'playwright-core';
import { Screen } from './screen.js';

/** 居民健康档案: one resident's record (#/residents/:id). */
export class ResidentRecordPage extends Screen {
  readonly root = () => this.page.getByTestId('resident-record');
  readonly name = () => this.page.getByTestId('resident-name');
  readonly demographics = () => this.page.getByTestId('demographics');
  readonly timeline = () => this.page.getByTestId('encounter-timeline');
  readonly encounterItems = () => this.page.getByTestId('encounter-item');
  readonly chart = (testId: string): Locator => this.page.locator(`[data-testid="${testId}"]`);
  /** 其他机构的记录: the person's records at other facilities (identity links). */
  readonly facilities = () => this.page.locator('.yf-person-facilities');

  async open(patientId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#/residents/${encodeURIComponent(patientId)}`);
    await this.waitLoaded();
  }

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

  /** Rows of the records-at-other-facilities card, once it is on screen. */
  async facilityRows(): Promise<number> {
    await this.facilities().waitFor();
    return this.facilities().locator('tbody tr').count();
  }
}
