import { Screen } from './screen.js';
import { FollowUpDrawer } from './follow-up.page.js';

/** 今日工作清单: the family doctor's worklist (#/chronic). */
export class WorklistPage extends Screen {
  async open(): Promise<void> {
    await this.goto('/chronic', '今日工作清单');
    await this.page.getByText('本周到期').first().waitFor();
    await this.tableRows().first().waitFor({ timeout: 20_000 });
  }

  /** Opens the follow-up form from the first row of the current tab. */
  async followUpFirst(): Promise<FollowUpDrawer> {
    await this.page.getByRole('button', { name: '录入随访' }).first().click();
    const drawer = new FollowUpDrawer(this.page, this.baseUrl);
    await drawer.waitOpen();
    return drawer;
  }
}
