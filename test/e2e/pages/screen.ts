import path from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, pageAtRest } from '../harness.js';

/**
 * What every page object shares: the page, the server's address, opening a screen by its hash
 * route, and screenshots taken only once the page is at rest (test-artifacts/<name>).
 */
export abstract class Screen {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  /**
   * Goes to `#<hash>` and waits for a text that only the screen shows; if it never comes, leaves
   * a screenshot of what was there instead (test-artifacts/failed-<route>.png).
   */
  protected async goto(hash: string, waitForText: string | RegExp): Promise<void> {
    await this.page.goto(`${this.baseUrl}/#${hash}`);
    try {
      await this.page.getByText(waitForText).first().waitFor({ state: 'visible', timeout: 20_000 });
    } catch (err) {
      await this.page.screenshot({ path: path.join(artifactsDir, `failed-${hash.replace(/\W+/g, '_')}.png`) });
      throw err;
    }
  }

  /** Rows of the screen's first (or only) table, or of the table inside `scope`. */
  protected tableRows(scope = '') {
    return this.page.locator(`${scope} .ant-table-row`.trim());
  }

  async screenshot(name: string, options: { fullPage?: boolean } = {}): Promise<void> {
    await pageAtRest(this.page);
    await this.page.screenshot({ path: path.join(artifactsDir, name), fullPage: options.fullPage ?? false });
  }
}
