/**
 * 审计查阅 as an auditor: a doctor reads residents' records for treatment, public health and in
 * an emergency; the auditor (role auditor only, no access to records) finds those reads by
 * user, purpose and resident, pages through them, exports them as CSV, sees the unusual
 * patterns (many residents in a day, break-glass) and opens their events, and verifies the
 * audit chain and downloads its signed checkpoints.
 */
import { expect, it } from 'vitest';
import { checkpointIfDue } from '../../src/fhir/audit-chain.js';
import { describeInBrowser, type Seeder } from './fixture.js';
import { AuditReviewPage } from './pages/audit-review.page.js';
import { LoginPage } from './pages/login.page.js';
import { ShellPage } from './pages/shell.page.js';

const AUDITOR = { username: 'audit.li', displayName: '李审计', password: 'ledger-quiet-harbor-42' };
const DOCTOR = { username: 'dr.wang', displayName: '王医生', password: 'maple-river-stone-77' };
const RESIDENTS = ['张伟', '李娜', '王芳', '刘洋', '陈静', '杨帆', '赵磊', '黄敏'];
const EMERGENCY = '孙丽';

async function signInOverHttp(url: string, username: string, password: string): Promise<string> {
  const r = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

/** A user created by the administrator, who has changed the first password. */
async function addUser(s: Seeder, u: { username: string; displayName: string; password: string }, roles: string[], organization?: string) {
  const first = `${u.password}-first`;
  const created = await s.postJson('/api/users', {
    username: u.username,
    displayName: u.displayName,
    roles,
    organization,
    password: first,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const token = await signInOverHttp(s.url, u.username, first);
  const changed = await fetch(`${s.url}/auth/password`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ currentPassword: first, newPassword: u.password }),
  });
  expect(changed.status, await changed.clone().text()).toBe(200);
}

async function seedAudit(s: Seeder): Promise<void> {
  // The doctor's centre manages the eight residents; 孙丽 is managed elsewhere (reached only in an emergency).
  await s.putResource({ resourceType: 'Organization', id: 'org-dc', name: '东城社区卫生服务中心' } as { resourceType: string; id: string });
  await s.putResource({ resourceType: 'Organization', id: 'org-xc', name: '西城社区卫生服务中心' } as { resourceType: string; id: string });
  await addUser(s, AUDITOR, ['auditor'], '区卫生健康委员会');
  await addUser(s, DOCTOR, ['clinician'], 'org-dc');
  const patient = (id: string, name: string, org: string, i: number) =>
    s.putResource({
      resourceType: 'Patient',
      id,
      name: [{ use: 'official', text: name, family: name.slice(0, 1), given: [name.slice(1)] }],
      gender: i % 2 ? 'female' : 'male',
      birthDate: `19${60 + i}-0${1 + (i % 9)}-15`,
      managingOrganization: { reference: `Organization/${org}` },
    } as { resourceType: string; id: string });
  for (const [i, name] of RESIDENTS.entries()) await patient(`au-${i + 1}`, name, 'org-dc', i);
  await patient('au-9', EMERGENCY, 'org-xc', 9);

  const token = await signInOverHttp(s.url, DOCTOR.username, DOCTOR.password);
  const read = async (path: string, purpose: string) => {
    const r = await fetch(`${s.url}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', 'x-purpose-of-use': purpose },
    });
    expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  };
  // Every resident for treatment, then three of them for public health.
  for (let i = 1; i <= RESIDENTS.length; i++) await read(`/fhir/Patient/au-${i}`, 'TREAT');
  for (let i = 1; i <= 3; i++) await read(`/fhir/Patient/au-${i}`, 'PUBHLTH');
  // An emergency: a time-boxed grant where the server has them (issue #15 access policy), then the whole record.
  const grant = await fetch(`${s.url}/api/break-glass`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ patientId: 'au-9', reason: '急诊昏迷，需查既往病史与过敏史', purpose: 'ETREAT', minutes: 30 }),
  });
  expect([201, 404], await grant.clone().text()).toContain(grant.status);
  await read('/fhir/Patient/au-9/$everything', 'ETREAT');
  // A failed sign-in, and the chain head signed now (it is otherwise signed every 10 minutes).
  await fetch(`${s.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: DOCTOR.username, password: 'wrong-password-123' }),
  });
  await s.server.audit.flush();
  await checkpointIfDue(s.db, s.server.audit.keys, 0);
}

describeInBrowser('audit review by an auditor', { seed: seedAudit }, (fx) => {
  it('filters, pages and exports events, opens a flag, verifies the chain', async () => {
    const { page, errors } = await fx().open();
    const login = new LoginPage(page, fx().url);
    await login.open();
    await login.signIn(AUDITOR.username, AUDITOR.password);
    const shell = new ShellPage(page, fx().url);
    await shell.openFromMenu('/admin/audit', '系统管理');
    const audit = new AuditReviewPage(page, fx().url);
    await audit.eventRows().first().waitFor();

    // Everything, newest first, paged on the server: page 2 asks for the next 20.
    const all = await audit.total();
    expect(all).toBeGreaterThan(20);
    const firstPage = await audit.eventTexts();
    expect(firstPage).toHaveLength(20);
    const second = await audit.goToPage(2);
    expect(second.get('_offset')).toBe('20');
    expect(await audit.eventTexts()).not.toEqual(firstPage);

    // The doctor's reads for public health: in words, with the residents' names.
    const q = await audit.filter({ user: DOCTOR.username, purpose: '公共卫生' });
    expect(Object.fromEntries(q)).toEqual({ user: 'dr.wang', purpose: '"PUBHLTH"', _count: '20', _offset: '0' });
    // The list settles on the filter's answer (a slow machine may still show the previous page's total for a moment).
    await expect.poll(() => audit.total(), { timeout: 10_000 }).toBe(3);
    const reads = await audit.eventTexts();
    for (const row of reads) {
      expect(row).toContain('王医生');
      expect(row).toContain('公共卫生');
      expect(row).toContain('查看记录');
      expect(row).not.toMatch(/PUBHLTH|\bread\b/);
    }
    expect(reads.join('\n')).toContain('张伟');
    await audit.screenshot('audit-review-events.png');

    // By resident name: 孙丽's whole record opened in an emergency, marked as break-glass.
    await audit.resetFilter();
    await audit.filter({ resident: EMERGENCY, operation: '调阅完整档案' });
    const glass = await audit.eventTexts();
    expect(glass).toHaveLength(1);
    expect(glass[0]).toContain('紧急治疗（破窗）');
    expect(glass[0]).toContain('调阅完整档案');

    // The CSV carries the same filter.
    const csv = await audit.exportCsv();
    expect(csv.name).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = csv.text.trim().split(/\r\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(EMERGENCY);

    // Unusual patterns: with a limit of 5 residents a day the doctor's 9 are flagged, and the emergency access.
    await audit.openTab('异常');
    await audit.flagRows().first().waitFor();
    await audit.flagsWithLimit(5);
    const flags = await audit.flagRows().allInnerTexts();
    expect(flags.some((f) => f.includes('单日调阅居民过多') && f.includes('王医生') && f.includes('9 位居民'))).toBe(true);
    expect(flags.some((f) => f.includes('紧急访问（破窗）') && f.includes('王医生'))).toBe(true);
    await audit.screenshot('audit-review-flags.png');
    const picked = await audit.pickFlag('单日调阅居民过多');
    expect(picked.get('user')).toBe('dr.wang');
    expect(picked.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(picked.get('to')).toBe(picked.get('from'));
    expect((await audit.eventTexts()).every((r) => r.includes('dr.wang'))).toBe(true);

    // Integrity: the chain verifies; the checkpoints go to a second party as JSON.
    await audit.openTab('完整性');
    await audit.checkpointsTable().locator('.ant-table-row').first().waitFor();
    expect(await audit.verifyChain()).toContain('审计链完整');
    const exported = await audit.downloadCheckpoints();
    expect(exported.name).toMatch(/^yifang-audit-checkpoints-.*\.json$/);
    expect(exported.json).toMatchObject({ chain: 'yifang-audit', checkpoints: [expect.objectContaining({ seq: expect.any(Number) })] });
    await audit.screenshot('audit-review-integrity.png');

    // In English: the same screen, in words.
    await shell.switchLanguage('EN');
    await audit.openTab('Events');
    await page.getByText('Operation and object').waitFor();
    expect(await audit.eventTexts().then((rows) => rows.join('\n'))).toMatch(/Read|Execute/);
    await audit.screenshot('audit-review-en.png');
    expect(errors).toEqual([]);
  });
});
