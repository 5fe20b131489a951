import { Screen } from './screen.js';

const TEXT = {
  zh: { title: '健康管理站', placeholder: '姓名、拼音首字母、身份证号或电话', button: '登记到诊' },
  en: { title: 'Health station', placeholder: 'Name, pinyin initials, ID number or phone', button: 'Check in' },
} as const;

/** 健康管理站: check-in with the services due (#/care/check-in), in Chinese or English. */
export class CheckInPage extends Screen {
  private lang: 'zh' | 'en' = 'zh';

  async open(lang: 'zh' | 'en' = 'zh'): Promise<void> {
    this.lang = lang;
    await this.goto('/care/check-in', TEXT[lang].title);
  }

  /** Checks a resident in; returns the tags of the services due. */
  async checkIn(residentId: string): Promise<string[]> {
    const text = TEXT[this.lang];
    await this.page.getByPlaceholder(text.placeholder).fill(residentId);
    await this.page.getByRole('button', { name: text.button }).click();
    await this.page.locator('[data-testid^="due-group-"]').first().waitFor({ state: 'visible', timeout: 15_000 });
    return this.page.locator('.ant-list-item .ant-tag').allTextContents();
  }

  /** The resident shown above the due list (name, sex, age, team, key populations). */
  resident(): Promise<string> {
    return this.page.getByTestId('checkin-resident').innerText();
  }

  /** The groups of the due list, in order (已逾期 · n 项, …). */
  groups(): Promise<string[]> {
    return this.page.locator('[data-testid^="due-group-"] .ant-card-head-title').allTextContents();
  }

  itemTitles(): Promise<string[]> {
    return this.page.locator('.ant-list-item-meta-title').allTextContents();
  }
}
