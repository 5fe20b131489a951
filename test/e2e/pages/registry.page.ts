import { Screen } from './screen.js';

/** 慢病登记管理: the chronic-disease registry (#/chronic/registry). */
export class RegistryPage extends Screen {
  async open(): Promise<void> {
    await this.goto('/chronic/registry', '慢病登记管理');
    await this.tableRows().first().waitFor();
  }

  rowCount(): Promise<number> {
    return this.tableRows().count();
  }
}
