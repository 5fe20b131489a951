import { Screen } from './screen.js';

/** HL7 死信队列: rejected messages, corrected and reprocessed (#/integration/dead-letters). */
export class DeadLettersPage extends Screen {
  async open(expectMessageId: string): Promise<void> {
    await this.goto('/integration/dead-letters', expectMessageId);
  }

  /** Opens the editor of the first message ('修正'); returns its ER7 text. */
  async editFirst(): Promise<string> {
    await this.page
      .getByRole('button', { name: /修\s?正/ })
      .first()
      .click();
    await this.editor().waitFor();
    return this.editor().inputValue();
  }

  readonly editor = () => this.page.locator('textarea.yf-hl7-editor');

  async replaceText(text: string): Promise<void> {
    await this.editor().fill(text);
  }

  /** 保存并重新处理: waits for the success message and the emptied queue. */
  async saveAndReprocess(): Promise<void> {
    await this.page.getByRole('button', { name: '保存并重新处理' }).click();
    await this.page.getByText('已重新处理并入库').waitFor();
    await this.page.getByText('没有被拒收的消息').waitFor();
  }
}
