import fs from 'node:fs';
import nodePath from 'node:path';
import { artifactsDir } from '../harness.js';
import { Screen } from './screen.js';

/** 审计查阅: the audit trail's events, unusual patterns and chain integrity (#/admin/audit). */
export class AuditReviewPage extends Screen {
  readonly eventsTable = () => this.page.getByTestId('audit-table');
  readonly flagsTable = () => this.page.getByTestId('audit-flags-table');
  readonly checkpointsTable = () => this.page.getByTestId('audit-checkpoints');

  async open(): Promise<void> {
    await this.goto('/admin/audit', '审计查阅');
    await this.eventRows().first().waitFor({ timeout: 15_000 });
  }

  async openTab(name: '事件' | '异常' | '完整性' | 'Events' | 'Unusual patterns' | 'Integrity'): Promise<void> {
    await this.page.getByRole('tab', { name }).click();
  }

  eventRows() {
    return this.eventsTable().locator('.ant-table-row');
  }

  /** The text of each event on the current page, newest first. */
  eventTexts(): Promise<string[]> {
    return this.eventRows().allInnerTexts();
  }

  /** The total the events card names (共 N 条记录). */
  async total(): Promise<number> {
    const title = await this.page
      .locator('.ant-card-head-title')
      .filter({ hasText: /共 \d+ 条记录/ })
      .innerText();
    return Number(/共 (\d+) 条记录/.exec(title)![1]);
  }

  /**
   * Runs `action` and waits for the events list it asks for; answers the query the screen sent.
   * If none comes, leaves a screenshot of the screen instead (test-artifacts/failed-audit-events.png).
   */
  private async eventsAfter(action: () => Promise<void>, path = '/api/audit/events?'): Promise<URLSearchParams> {
    try {
      const [response] = await Promise.all([
        this.page.waitForResponse((r) => r.url().includes(path) && r.status() === 200, { timeout: 15_000 }),
        action(),
      ]);
      await this.eventsTable().locator('.ant-spin-spinning').waitFor({ state: 'detached' });
      return new URL(response.url()).searchParams;
    } catch (err) {
      await this.page.screenshot({ path: nodePath.join(artifactsDir, 'failed-audit-events.png') });
      throw err;
    }
  }

  /** Picks an option (by its words) of the filter's select labelled `label`. */
  async choose(label: string, option: string): Promise<void> {
    await this.page.getByTestId('audit-filter').getByLabel(label, { exact: true }).click();
    await this.page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: option }).first().click();
  }

  /** Fills the filter form (absent fields left as they are) and searches; answers the query sent. */
  async filter(f: {
    user?: string;
    resident?: string;
    purpose?: string;
    action?: string;
    operation?: string;
    outcome?: string;
  }): Promise<URLSearchParams> {
    const form = this.page.getByTestId('audit-filter');
    if (f.user !== undefined) await form.getByLabel('用户', { exact: true }).fill(f.user);
    if (f.resident !== undefined) await form.getByLabel('居民', { exact: true }).fill(f.resident);
    if (f.purpose) await this.choose('目的', f.purpose);
    if (f.action) await this.choose('动作', f.action);
    if (f.operation) await this.choose('操作', f.operation);
    if (f.outcome) await this.choose('结果', f.outcome);
    return this.eventsAfter(() => this.page.getByTestId('audit-search').click());
  }

  async resetFilter(): Promise<URLSearchParams> {
    return this.eventsAfter(() =>
      this.page
        .getByTestId('audit-filter')
        .getByRole('button', { name: /重\s?置/ })
        .click(),
    );
  }

  async goToPage(n: number): Promise<URLSearchParams> {
    const card = this.page.locator('.ant-card').filter({ has: this.eventsTable() });
    return this.eventsAfter(() => card.locator(`.ant-pagination-item-${n}`).click());
  }

  /** 导出 CSV: answers the downloaded file's name and text. */
  async exportCsv(): Promise<{ name: string; text: string }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.page.getByTestId('audit-export').click()]);
    return { name: download.suggestedFilename(), text: fs.readFileSync((await download.path())!, 'utf8') };
  }

  flagRows() {
    return this.flagsTable().locator('.ant-table-row');
  }

  /** Sets the flags' limit of residents per user and day and searches. */
  async flagsWithLimit(maxResidents: number): Promise<void> {
    await this.page.getByLabel('单人单日调阅居民上限').fill(String(maxResidents));
    await Promise.all([
      this.page.waitForResponse((r) => r.url().includes(`/api/audit/flags?maxResidents=${maxResidents}`) && r.status() === 200),
      this.page.getByTestId('audit-flags-search').click(),
    ]);
    await this.flagsTable().locator('.ant-spin-spinning').waitFor({ state: 'detached' });
  }

  /** Chooses the flag row holding `text`; the events tab opens on its user and day. */
  async pickFlag(text: string): Promise<URLSearchParams> {
    return this.eventsAfter(() => this.flagRows().filter({ hasText: text }).first().click(), '/api/audit/events?user=');
  }

  /** 校验审计链: answers the result's text. */
  async verifyChain(): Promise<string> {
    await this.page.getByTestId('audit-verify').click();
    const result = this.page.getByTestId('audit-verify-result');
    await result.waitFor();
    return result.innerText();
  }

  /** 下载 JSON: the checkpoints export as the browser saved it. */
  async downloadCheckpoints(): Promise<{ name: string; json: unknown }> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.page.getByTestId('audit-checkpoints-download').click()]);
    return { name: download.suggestedFilename(), json: JSON.parse(fs.readFileSync((await download.path())!, 'utf8')) as unknown };
  }
}
