import { Screen } from './screen.js';

/** 用户管理: the users of the district, created, disabled and reset by an administrator (#/admin/users). */
export class UsersPage extends Screen {
  readonly table = () => this.page.getByTestId('users-table');
  readonly drawerForm = () => this.page.getByTestId('user-form');

  async open(): Promise<void> {
    await this.goto('/admin/users', '新建用户');
    await this.tableRows().first().waitFor({ timeout: 15_000 });
  }

  /** The text of each row on the current page. */
  rowTexts(): Promise<string[]> {
    return this.tableRows().allInnerTexts();
  }

  /** Creates a user from the drawer (roles by their Chinese names); answers the one-time password shown. */
  async create(user: { username: string; displayName: string; roles: string[]; organization?: string }): Promise<string> {
    await this.page.getByTestId('user-new').click();
    const form = this.drawerForm();
    await form.getByLabel('用户名').fill(user.username);
    await form.getByLabel('姓名').fill(user.displayName);
    for (const role of user.roles) await form.getByLabel(role, { exact: true }).check();
    if (user.organization) await form.getByLabel('所属机构').fill(user.organization);
    await this.page.getByTestId('user-save').click();
    const password = this.page.getByTestId('one-time-password');
    await password.waitFor();
    const text = (await password.innerText()).trim();
    await this.page.getByRole('button', { name: '已告知用户' }).click();
    return text;
  }

  /** Searches by username, name or organization. */
  async search(text: string): Promise<void> {
    const box = this.page.getByLabel('用户名、姓名或机构');
    await box.fill(text);
    await box.press('Enter');
  }

  /** 停用 on the row of a user, confirmed. */
  async disable(username: string): Promise<void> {
    const row = this.tableRows().filter({ hasText: username });
    await row.getByRole('button', { name: /^停\s?用$/ }).click();
    await this.page
      .locator('.ant-popconfirm')
      .getByRole('button', { name: /^停\s?用$/ })
      .click();
    await row.getByText('已停用').waitFor();
  }
}

/** 我的账号: change my password (forced after a reset). */
export class AccountPage extends Screen {
  readonly card = () => this.page.getByTestId('change-password');

  async changePassword(current: string, next: string): Promise<void> {
    const card = this.card();
    await card.waitFor();
    await card.locator('#currentPassword').fill(current);
    await card.locator('#newPassword').fill(next);
    await card.locator('#confirm').fill(next);
    await this.page.getByTestId('change-password-submit').click();
  }
}
