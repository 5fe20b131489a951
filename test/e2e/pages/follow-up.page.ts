import { Screen } from './screen.js';

/** 慢病随访: the follow-up form (a drawer over the worklist or the registry). */
export class FollowUpDrawer extends Screen {
  async waitOpen(): Promise<void> {
    await this.page.getByText('慢病随访 ·').waitFor({ state: 'visible' });
  }

  /** Enters blood pressure and saves; returns the outcome shown (next visit, referral). */
  async recordBloodPressure(sbp: number, dbp: number): Promise<string> {
    await this.page.getByLabel('收缩压 mmHg').fill(String(sbp));
    await this.page.getByLabel('舒张压 mmHg').fill(String(dbp));
    await this.page.getByRole('button', { name: '保存并计算下次随访' }).click();
    const alert = this.page.locator('.ant-drawer .ant-alert').first();
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    return (await alert.textContent()) ?? '';
  }
}
