import { Screen } from './screen.js';

/** 预防接种处方: a child's printable immunization prescription (#/care/immunization/:id). */
export class ImmunizationPrintPage extends Screen {
  async open(patientId: string): Promise<void> {
    await this.goto(`/care/immunization/${encodeURIComponent(patientId)}`, '预防接种处方');
    await this.page.locator('.ant-table-row, .ant-empty').first().waitFor();
  }

  /** The vaccine rows of the prescription (0 when nothing is due). */
  doseRows(): Promise<number> {
    return this.tableRows().count();
  }
}
