import { Screen } from './screen.js';

/** 身份核查: record pairs between the match thresholds, for a person to decide (#/integration/identity-review). */
export class IdentityReviewPage extends Screen {
  async open(expectName: string): Promise<void> {
    await this.goto('/integration/identity-review', expectName);
  }

  /** 同一人: accepts the first pair; waits until the queue is empty. */
  async acceptFirstAndEmpty(): Promise<void> {
    await this.page.getByRole('button', { name: '同一人' }).first().click();
    await this.page.getByText('没有待核查的记录').waitFor();
  }
}
