import fs from 'node:fs';
import path from 'node:path';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { AuditFlag, AuditRow, CheckpointExport, VerifyReport } from '../api/audit.resource.js';
import { setSession, type SessionUser } from '../api/session.js';
import { en } from '../i18n/en.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { AuditLogPage } from './audit-log.component.js';

const auditor: SessionUser = { username: 'audit.li', displayName: '李审计', roles: ['auditor'] };

const row = (n: number, over: Partial<AuditRow> = {}): AuditRow => ({
  id: `ev-${n}`,
  recorded: `2026-03-0${1 + (n % 9)}T02:15:3${n % 10}Z`,
  username: 'dr.wang',
  userName: '王医生',
  organization: '东城社区卫生服务中心',
  roles: ['family-doctor'],
  action: 'R',
  subtype: 'everything',
  outcome: 'success',
  residents: [{ id: `p-${n}`, name: `居民${n}` }],
  objects: [],
  purpose: 'TREAT',
  purposeCode: 'TREAT',
  address: '10.1.2.3',
  ...over,
});

const pageOf = (offset: number, count: number, total = 45) => ({
  total,
  rows: Array.from({ length: Math.min(count, total - offset) }, (_, i) => row(offset + i + 1)),
  count,
  offset,
});

/** The screens render slowly in happy-dom when the machine is busy. */
const WAIT = { timeout: 10_000 };

const paramsOf = (p: string) => Object.fromEntries(new URL(p, 'http://x').searchParams);

const flags: AuditFlag[] = [
  {
    kind: 'break-glass',
    username: 'dr.zhao',
    userName: '赵医生',
    day: '2026-03-02',
    count: 2,
    eventIds: ['ev-9'],
    detail: '2 emergency (break-glass) accesses',
  },
  {
    kind: 'many-residents',
    username: 'dr.wang',
    userName: '王医生',
    day: '2026-03-01',
    count: 63,
    eventIds: [],
    detail: 'read the records of 63 residents in one day (more than 50)',
  },
];

const checkpoints: CheckpointExport = {
  chain: 'yifang-audit',
  publicKey: '-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n',
  publicKeyId: 'ed25519-3f9a',
  hmacKeyId: 'hmac-77c1',
  head: { seq: 2400, hash: 'ab'.repeat(32) },
  checkpoints: [
    { seq: 1000, hash: 'cd'.repeat(32), signedAt: '2026-03-01T01:00:00Z', publicKeyId: 'ed25519-3f9a', statement: '{}', signature: 'c2ln' },
    { seq: 2000, hash: 'ef'.repeat(32), signedAt: '2026-03-02T01:00:00Z', publicKeyId: 'ed25519-3f9a', statement: '{}', signature: 'c2ln' },
  ],
};

const report = (over: Partial<VerifyReport> = {}): VerifyReport => ({
  ok: true,
  events: 2400,
  checkpoints: 2,
  problems: [],
  legacyEvents: 0,
  hmacKeyId: 'hmac-77c1',
  publicKeyId: 'ed25519-3f9a',
  seconds: 0.42,
  ...over,
});

/** Opens an antd Select by its form label and picks an option by its text. */
async function choose(label: string, option: string) {
  const select = screen.getByLabelText(label).closest('.ant-select')!;
  fireEvent.mouseDown(select.querySelector('.ant-select-selector')!);
  const item = await waitFor(() => {
    const found = [...document.querySelectorAll('.ant-select-item-option')].find((o) => o.textContent === option);
    if (!found) throw new Error(`no option ${option}`);
    return found;
  }, WAIT);
  fireEvent.click(item);
}

describe('AuditLogPage (审计查阅)', () => {
  it('lists events in words, newest first, paged on the server with the total', async () => {
    const api = stubApi({
      '/api/audit/events': (c: { path: string }) => pageOf(Number(paramsOf(c.path)._offset), Number(paramsOf(c.path)._count)),
    });
    renderPage(<AuditLogPage user={auditor} />);
    expect(await screen.findByText('居民1', {}, WAIT)).toBeTruthy();
    expect(paramsOf(api.calls[0]!.path)).toEqual({ _count: '20', _offset: '0' });
    expect(screen.getByText('共 45 条记录')).toBeTruthy();
    expect(screen.getByText('审计查阅', { selector: 'h4' })).toBeTruthy();

    const first = screen.getAllByRole('row')[1]!;
    expect(within(first).getByText('查看')).toBeTruthy();
    expect(within(first).getByText('调阅完整档案')).toBeTruthy();
    expect(within(first).getByText('治疗')).toBeTruthy();
    expect(within(first).getByText('王医生')).toBeTruthy();
    expect(within(first).getByText('成功')).toBeTruthy();
    expect(within(first).getByText('10.1.2.3')).toBeTruthy();
    for (const code of ['everything', 'TREAT', 'family-doctor']) expect(first.textContent).not.toContain(code);

    fireEvent.click(screen.getByTitle('3'));
    expect(await screen.findByText('居民41', {}, WAIT)).toBeTruthy();
    expect(paramsOf(api.calls.at(-1)!.path)).toEqual({ _count: '20', _offset: '40' });
    expect(api.unmatched).toEqual([]);
  });

  it('filters in words and exports the same filter as CSV with the session token', async () => {
    setSession({ token: 'tok-1', user: auditor });
    const api = stubApi({
      '/api/audit/events': (c: { path: string }) =>
        paramsOf(c.path).user
          ? {
              total: 1,
              rows: [row(99, { userName: '赵医生', username: 'dr.zhao', purposeCode: 'ETREAT', purpose: 'ETREAT' })],
              count: 20,
              offset: 0,
            }
          : pageOf(0, 20, 3),
    });
    renderPage(<AuditLogPage user={auditor} />);
    expect(await screen.findByText('居民1', {}, WAIT)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('用户'), { target: { value: 'dr.zhao' } });
    fireEvent.change(screen.getByLabelText('居民'), { target: { value: 'p-99' } });
    await choose('动作', '查看');
    await choose('目的', '紧急治疗（破窗）');
    await choose('结果', '成功');
    fireEvent.click(screen.getByTestId('audit-search'));
    expect(await screen.findByText('赵医生', {}, WAIT)).toBeTruthy();
    // The purpose code is sent quoted: the server matches part of the stored purpose, and TREAT would also match ETREAT.
    expect(paramsOf(api.calls.at(-1)!.path)).toEqual({
      user: 'dr.zhao',
      resident: 'p-99',
      purpose: '"ETREAT"',
      action: 'R',
      outcome: 'success',
      _count: '20',
      _offset: '0',
    });
    expect(screen.getByText('共 1 条记录')).toBeTruthy();
    const glass = screen.getAllByRole('row')[1]!;
    expect(within(glass).getByText('紧急治疗（破窗）').closest('.ant-tag')).toBeTruthy();

    // CSV: the same filter, with the session's bearer token, saved as the server names it.
    const created = vi.fn(() => 'blob:csv');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: created, revokeObjectURL: () => undefined }));
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const fetchStub = vi.mocked(fetch);
    fetchStub.mockImplementationOnce(
      async () =>
        new Response('\uFEFF时间 time (UTC+8),用户 user\r\n', {
          status: 200,
          headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="audit-2026-03-09.csv"' },
        }),
    );
    fireEvent.click(screen.getByTestId('audit-export'));
    await waitFor(() => expect(clicked).toHaveBeenCalled(), WAIT);
    const [url, init] = fetchStub.mock.calls.at(-1)! as [string, RequestInit];
    expect(url.split('?')[0]).toBe('/api/audit/events.csv');
    expect(paramsOf(url)).toEqual({ user: 'dr.zhao', resident: 'p-99', purpose: '"ETREAT"', action: 'R', outcome: 'success' });
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok-1');
    expect(created).toHaveBeenCalledTimes(1);
    expect((clicked.mock.contexts[0] as HTMLAnchorElement).download).toBe('audit-2026-03-09.csv');
    expect(await screen.findByText('已导出 audit-2026-03-09.csv', {}, WAIT)).toBeTruthy();
    expect(api.unmatched).toEqual([]);
  });

  it('lists unusual patterns in words; choosing one shows that user’s events of that day', async () => {
    const api = stubApi({
      '/api/audit/events': (c: { path: string }) => (paramsOf(c.path).user ? pageOf(0, 20, 2) : pageOf(0, 20, 3)),
      '/api/audit/flags': { maxResidents: 50, workingHours: '07:00–20:00 UTC+8', flags },
    });
    renderPage(<AuditLogPage user={auditor} />);
    await screen.findByText('居民1', {}, WAIT);
    fireEvent.click(screen.getByRole('tab', { name: '异常' }));
    const table = await screen.findByTestId('audit-flags-table', {}, WAIT);
    await within(table).findByText('赵医生', {}, WAIT);
    expect(paramsOf(api.callsTo('GET /api/audit/flags')[0]!.path)).toEqual({ maxResidents: '50' });
    const [glass, many] = within(table).getAllByRole('row').slice(1);
    expect(within(glass!).getByText('紧急访问（破窗）')).toBeTruthy();
    expect(within(glass!).getByText('2 次')).toBeTruthy();
    expect(within(many!).getByText('单日调阅居民过多')).toBeTruthy();
    expect(within(many!).getByText('63 位居民')).toBeTruthy();
    expect(within(many!).getByText('一天内调阅了 63 位居民的档案，超过上限 50 位')).toBeTruthy();
    expect(table.textContent).not.toMatch(/break-glass|many-residents|emergency/);

    fireEvent.click(within(many!).getByText('2026-03-01'));
    await waitFor(() => expect(screen.getByRole('tab', { name: '事件' }).getAttribute('aria-selected')).toBe('true'), WAIT);
    await waitFor(() => expect(paramsOf(api.callsTo('GET /api/audit/events').at(-1)!.path).user).toBe('dr.wang'), WAIT);
    expect(paramsOf(api.callsTo('GET /api/audit/events').at(-1)!.path)).toEqual({
      user: 'dr.wang',
      from: '2026-03-01',
      to: '2026-03-01',
      _count: '20',
      _offset: '0',
    });
    expect((screen.getByLabelText('用户') as HTMLInputElement).value).toBe('dr.wang');
    expect(await screen.findByText('共 2 条记录', {}, WAIT)).toBeTruthy();
    expect(api.unmatched).toEqual([]);
  });

  it('verifies the chain: intact, or the first broken event with its sequence and reason in words; checkpoints as JSON', async () => {
    let broken = false;
    const api = stubApi({
      '/api/audit/events': pageOf(0, 20, 3),
      '/api/audit/checkpoints': checkpoints,
      '/api/audit/verify': () =>
        broken
          ? report({
              ok: false,
              firstBroken: { seq: 1734, eventId: 'ev-1734', problem: 'the AuditEvent content differs from what was chained' },
              problems: [
                { seq: 1734, eventId: 'ev-1734', problem: 'the AuditEvent content differs from what was chained' },
                { seq: 1735, eventId: 'ev-1735', problem: 'the event at seq 1736 was removed from the chain' },
              ],
            })
          : report(),
    });
    renderPage(<AuditLogPage user={auditor} />);
    fireEvent.click(screen.getByRole('tab', { name: '完整性' }));
    const cps = await screen.findByTestId('audit-checkpoints', {}, WAIT);
    await within(cps).findByText('2000', {}, WAIT);
    const seqs = within(cps)
      .getAllByRole('row')
      .slice(1)
      .map((r) => r.querySelector('td')!.textContent);
    expect(seqs).toEqual(['2000', '1000']);
    expect(screen.getByText('序号 2400')).toBeTruthy();
    expect(api.callsTo('GET /api/audit/verify')).toHaveLength(0);

    fireEvent.click(screen.getByTestId('audit-verify'));
    const ok = await screen.findByTestId('audit-verify-result', {}, WAIT);
    expect(ok.textContent).toContain('审计链完整');
    expect(ok.textContent).toContain('2400 条记录和 2 个签名检查点');

    broken = true;
    fireEvent.click(screen.getByTestId('audit-verify'));
    await waitFor(() => expect(screen.getByTestId('audit-verify-result').textContent).toContain('审计链已被破坏'), WAIT);
    const bad = screen.getByTestId('audit-verify-result');
    expect(bad.textContent).toContain('第一处问题在序号 1734（事件 ev-1734）：审计记录的内容与入链时不同');
    expect(screen.getByText('序号 1736 的记录已从链中删除')).toBeTruthy();

    const saved: Blob[] = [];
    vi.stubGlobal(
      'URL',
      Object.assign(URL, {
        createObjectURL: (b: Blob) => {
          saved.push(b);
          return 'blob:json';
        },
        revokeObjectURL: () => undefined,
      }),
    );
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    fireEvent.click(screen.getByTestId('audit-checkpoints-download'));
    expect((clicked.mock.contexts[0] as HTMLAnchorElement).download).toMatch(/^yifang-audit-checkpoints-\d{4}-\d{2}-\d{2}-seq2400\.json$/);
    expect(JSON.parse(await saved[0]!.text())).toEqual(checkpoints);
    expect(api.unmatched).toEqual([]);
  });

  it('asks nothing of the server for a user who is neither administrator nor auditor', async () => {
    const api = stubApi({});
    renderPage(<AuditLogPage user={{ username: 'dr.wang', displayName: '王医生', roles: ['family-doctor'] }} />);
    expect(await screen.findByText('仅系统管理员和审计员可查阅审计记录。')).toBeTruthy();
    expect(api.calls).toEqual([]);
  });

  it('has an English text for every key of the audit screens', () => {
    const dir = path.dirname(new URL(import.meta.url).pathname);
    const keys = new Set<string>();
    for (const f of fs.readdirSync(dir).filter((f) => /^audit-.*\.tsx$/.test(f) && !f.endsWith('.test.tsx')))
      for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bt\(\s*'([^']+)'/g)) keys.add(m[1]!);
    expect(keys.size).toBeGreaterThan(100);
    expect([...keys].filter((k) => !(k in en))).toEqual([]);
  });
});
