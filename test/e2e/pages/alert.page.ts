import { Screen } from './screen.js';

/** 预警详情: signals, cases, workflow and discussion (#/surveillance/alerts/:id). */
export class AlertDetailPage extends Screen {
  status(): Promise<string | null> {
    return this.page.getByTestId('alert-page').getByTestId('alert-status').first().textContent();
  }

  async waitForSignals(): Promise<number> {
    await this.page.getByTestId('signal-series').first().waitFor({ state: 'visible' });
    return this.page.getByTestId('signal-series').count();
  }

  /** Waits until the map of the alert's cases has been drawn. */
  async waitForCaseMap(): Promise<void> {
    await this.page.waitForSelector('[data-testid="case-map"][data-rendered="true"]', { timeout: 10_000 });
  }

  async startTriage(assignee: string, reason: string): Promise<void> {
    await this.page.getByTestId('step-triage').click();
    await this.page.getByTestId('assignee-input').fill(assignee);
    await this.page.getByTestId('reason-input').fill(reason);
    await this.page.getByRole('button', { name: /确\s*定/ }).click();
    await this.page.getByTestId('step-confirmed').waitFor({ state: 'visible' });
  }

  async comment(text: string): Promise<void> {
    await this.page.getByTestId('comment-input').fill(text);
    await this.page.getByTestId('comment-send').click();
    await this.page.getByText(text).waitFor({ state: 'visible' });
  }

  workflowEvents(): Promise<string[]> {
    return this.page.getByTestId('workflow-event').allTextContents();
  }
}
