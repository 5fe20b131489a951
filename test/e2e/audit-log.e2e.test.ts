/** The audit log: an administrator's sign-in and a record read are on it, newest first. */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { AuditLogPage } from './pages/audit-log.page.js';
import { ShellPage } from './pages/shell.page.js';

describeInBrowser('the audit log', {}, (fx) => {
  it('lists the sign-in of the administrator', async () => {
    const { page, errors } = await fx().signIn();
    await new ShellPage(page, fx().url).openFromMenu('/admin/audit', '系统管理');
    const audit = new AuditLogPage(page, fx().url);
    await audit.table().waitFor({ state: 'visible' });
    await audit.open();
    // The home page's reads come after the sign-in: the operation filter finds it whatever came since.
    await audit.filterOperation('登录');
    const rows = await audit.rowTexts();
    expect(rows.some((r) => r.includes('登录') && r.includes('admin'))).toBe(true);
    await audit.screenshot('audit-log.png');
    expect(errors).toEqual([]);
  });
});
