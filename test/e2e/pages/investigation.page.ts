import { Screen } from './screen.js';

/**
 * 流行病学调查: the list (#/investigation), one investigation (#/investigation/:id) with its
 * tabs, and the contacts' follow-up worklist (#/investigation/follow-ups).
 */
export class InvestigationPages extends Screen {
  async openList(): Promise<void> {
    await this.goto('/investigation', '调查列表');
    await this.tableRows().first().waitFor({ state: 'visible', timeout: 15_000 });
    // Names come after the rows: wait until none is still loading.
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="investigation-link"]')].every((a) => a.textContent !== '…'),
    );
  }

  /** The list's rows as text, in order. */
  rows(): Promise<string[]> {
    return this.tableRows().allInnerTexts();
  }

  total(): Promise<string> {
    return this.page.locator('.ant-pagination-total-text').first().innerText();
  }

  /** Opens the investigation of a resident from the list by their name. */
  async openInvestigation(name: string): Promise<void> {
    await this.page.getByTestId('investigation-link').filter({ hasText: name }).first().click();
    await this.page.getByTestId('investigation-header').waitFor({ state: 'visible' });
    await this.page.getByTestId('header-resident').filter({ hasText: name }).waitFor({ state: 'visible' });
    await this.page.getByTestId('questionnaire').waitFor({ state: 'visible' });
  }

  header(): Promise<string> {
    return this.page.getByTestId('investigation-header').innerText();
  }

  async tab(name: '个案调查表' | '行动轨迹' | '密接候选' | '密切接触者'): Promise<void> {
    await this.page.getByRole('tab', { name }).click();
  }

  /** The trajectory's stops as text, once their facilities are named. */
  async trajectory(): Promise<string[]> {
    await this.tab('行动轨迹');
    const stops = this.page.getByTestId('trajectory-stop');
    await stops.first().waitFor({ state: 'visible' });
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="trajectory-stop"] strong')].every((s) => s.textContent !== '…'),
    );
    return stops.allInnerTexts();
  }

  /** The candidates' rows as text, once their names are in. */
  async candidates(): Promise<string[]> {
    await this.tab('密接候选');
    const rows = this.tableRows('[data-testid="candidates-table"]');
    await rows.first().waitFor({ state: 'visible' });
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="candidate-name"]')].every((s) => s.textContent !== '…'),
    );
    return rows.allInnerTexts();
  }

  async confirmCandidate(name: string): Promise<void> {
    const row = this.tableRows('[data-testid="candidates-table"]').filter({ hasText: name });
    await row.getByTestId('candidate-confirm').click();
    await row.getByText('已确认为密接').waitFor({ state: 'visible' });
  }

  /** The contacts' rows as text, once their names are in. */
  async contacts(): Promise<string[]> {
    await this.tab('密切接触者');
    const rows = this.tableRows('[data-testid="contacts-table"]');
    await rows.first().waitFor({ state: 'visible' });
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="contact-name"]')].every((s) => s.textContent !== '…'),
    );
    return rows.allInnerTexts();
  }

  /** Records the check of a worklist row (the contact named) and waits for the worklist to say so. */
  async recordWorklistCheck(name: string, temperature: string): Promise<void> {
    const row = this.tableRows('[data-testid="worklist-table"]').filter({ hasText: name });
    await row.getByTestId('worklist-check').click();
    const dialog = this.page.getByRole('dialog');
    await dialog.getByRole('spinbutton').fill(temperature);
    await dialog.getByRole('button', { name: /保\s*存/ }).click();
    await this.page.getByText('已记录健康监测').waitFor({ state: 'visible' });
    await dialog.waitFor({ state: 'hidden' });
    await this.page
      .getByTestId('worklist-summary')
      .getByText(/今日已完成 [1-9]/)
      .waitFor({ state: 'visible' });
  }

  async openWorklist(organization: string): Promise<string[]> {
    await this.goto(`/investigation/follow-ups?organization=${encodeURIComponent(organization)}`, '密接随访');
    await this.page.getByTestId('worklist-summary').waitFor({ state: 'visible' });
    const rows = this.tableRows('[data-testid="worklist-table"]');
    await rows.first().waitFor({ state: 'visible' });
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="worklist-name"]')].every((s) => s.textContent !== '…'),
    );
    return rows.allInnerTexts();
  }

  /** The centre's inbox above the worklist (its escalation notices still to acknowledge), as text once names are in. */
  async inbox(): Promise<string> {
    const card = this.page.getByTestId('escalation-inbox');
    await card.waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.waitForFunction(() => !document.querySelector('[data-testid="escalation-inbox"]')?.textContent?.includes('…'));
    return card.innerText();
  }

  /** Acknowledges the first notice of the inbox with a note. */
  async acknowledgeFromInbox(note: string): Promise<void> {
    await this.page.getByTestId('escalation-inbox').getByTestId('escalation-ack').first().click();
    const dialog = this.page.getByRole('dialog');
    await dialog.getByTestId('escalation-note').fill(note);
    await dialog.getByRole('button', { name: /确认收到/ }).click();
    await dialog.waitFor({ state: 'hidden' });
  }
}
