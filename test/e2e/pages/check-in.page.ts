import { Screen } from './screen.js';

const TEXT = {
  zh: { title: '健康管理站', placeholder: '居民编号（Patient 或 Person）', button: '登记到诊', due: '待办服务' },
  en: { title: 'Health station', placeholder: 'Resident id (Patient or Person)', button: 'Check in', due: /services due/ },
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
    await this.page.getByText(text.due).first().waitFor({ state: 'visible', timeout: 15_000 });
    return this.page.locator('.ant-list-item .ant-tag').allTextContents();
  }

  itemTitles(): Promise<string[]> {
    return this.page.locator('.ant-list-item-meta-title').allTextContents();
  }
}
