import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { en } from '../i18n/en.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { UsersPage } from './users.component.js';
import type { UserRow } from './users.resource.js';

const user = (n: number, over: Partial<UserRow> = {}): UserRow => ({
  username: `user${n}`,
  displayName: `用户${n}`,
  roles: ['family-doctor'],
  organization: '东城社区卫生服务中心',
  areas: ['110101'],
  active: true,
  mustChangePassword: false,
  totp: false,
  createdAt: '2026-01-02T01:00:00Z',
  lastLoginAt: null,
  ...over,
});

const page = (offset: number) => ({ total: 45, rows: Array.from({ length: offset === 40 ? 5 : 20 }, (_, i) => user(offset + i + 1)) });
const offsetOf = (path: string) => Number(new URL(path, 'http://x').searchParams.get('offset'));

describe('UsersPage', () => {
  it('lists users with roles in words, paged on the server with the total, and searches', async () => {
    const api = stubApi({
      '/api/users': (c: { path: string }) =>
        new URL(c.path, 'http://x').searchParams.get('q') === '王'
          ? { total: 1, rows: [user(99, { displayName: '王医生', roles: ['admin', 'auditor'], totp: true })] }
          : page(offsetOf(c.path)),
    });
    renderPage(<UsersPage currentUser="admin" />);
    expect(await screen.findByText('用户1')).toBeTruthy();
    expect(api.calls[0]!.path).toBe('/api/users?limit=20&offset=0');
    const first = screen.getAllByRole('row')[1]!;
    expect(within(first).getByText('家庭医生')).toBeTruthy();
    expect(first.textContent).not.toContain('family-doctor');
    expect(within(first).getByText('启用')).toBeTruthy();
    expect(screen.getByText('共 45 条')).toBeTruthy();

    fireEvent.click(screen.getByTitle('3'));
    expect(await screen.findByText('用户41')).toBeTruthy();
    expect(api.calls.at(-1)!.path).toBe('/api/users?limit=20&offset=40');

    const search = screen.getByLabelText('用户名、姓名或机构');
    fireEvent.change(search, { target: { value: '王' } });
    fireEvent.keyDown(search, { key: 'Enter', code: 'Enter', keyCode: 13 });
    expect(await screen.findByText('王医生')).toBeTruthy();
    expect(api.calls.at(-1)!.path).toBe(`/api/users?q=${encodeURIComponent('王')}&limit=20&offset=0`);
    const row = screen.getAllByRole('row')[1]!;
    expect(within(row).getByText('系统管理员')).toBeTruthy();
    expect(within(row).getByText('审计员')).toBeTruthy();
    expect(within(row).getByText('双因素')).toBeTruthy();
    expect(api.unmatched).toEqual([]);
  });

  it('creates a user from the drawer and shows the generated one-time password once', async () => {
    const api = stubApi({
      '/api/users': { total: 0, rows: [] },
      'POST /api/users': () => ({
        status: 201,
        body: {
          user: user(7, { username: 'nurse.chen', displayName: '陈护士', mustChangePassword: true }),
          oneTimePassword: 'AbCd-EfGh-JkMn-PqRs',
        },
      }),
    });
    renderPage(<UsersPage currentUser="admin" />);
    fireEvent.click(await screen.findByTestId('user-new'));
    const form = await screen.findByTestId('user-form');
    fireEvent.change(within(form).getByLabelText('用户名'), { target: { value: 'nurse.chen' } });
    fireEvent.change(within(form).getByLabelText('姓名'), { target: { value: '陈护士' } });
    fireEvent.click(within(form).getByLabelText('家庭医生'));
    fireEvent.change(within(form).getByLabelText('负责辖区'), { target: { value: '110101，110102' } });
    fireEvent.click(screen.getByTestId('user-save'));
    await waitFor(() => expect(api.callsTo('POST /api/users')).toHaveLength(1));
    expect(api.callsTo('POST /api/users')[0]!.body).toEqual({
      username: 'nurse.chen',
      displayName: '陈护士',
      roles: ['family-doctor'],
      organization: null,
      areas: ['110101', '110102'],
    });
    expect((await screen.findByTestId('one-time-password')).textContent).toContain('AbCd-EfGh-JkMn-PqRs');
  });

  it('refuses a short initial password in the form, before asking the server', async () => {
    const api = stubApi({ '/api/users': { total: 0, rows: [] } });
    renderPage(<UsersPage currentUser="admin" />);
    fireEvent.click(await screen.findByTestId('user-new'));
    const form = await screen.findByTestId('user-form');
    fireEvent.change(within(form).getByLabelText('用户名'), { target: { value: 'x.y' } });
    fireEvent.change(within(form).getByLabelText('姓名'), { target: { value: '某某' } });
    fireEvent.click(within(form).getByLabelText('只读'));
    fireEvent.change(within(form).getByLabelText('初始密码'), { target: { value: '12345678' } });
    fireEvent.click(screen.getByTestId('user-save'));
    expect(await screen.findByText('至少 12 个字符')).toBeTruthy();
    expect(api.callsTo('POST /api/users')).toHaveLength(0);
  });

  it('disables a user after confirmation and resets a password, never offering to disable oneself', async () => {
    let active = true;
    const api = stubApi({
      '/api/users': () => ({
        total: 2,
        rows: [user(1, { username: 'admin', displayName: '系统管理员甲', roles: ['admin'] }), user(2, { active })],
      }),
      'PATCH /api/users/user2': (c: { body: unknown }) => {
        active = (c.body as { active: boolean }).active;
        return user(2, { active });
      },
      'POST /api/users/user2/reset-password': { username: 'user2', oneTimePassword: 'Wxyz-2345-6789-abcd' },
    });
    renderPage(<UsersPage currentUser="admin" />);
    await screen.findByText('用户2');
    const [, mine, theirs] = screen.getAllByRole('row');
    expect(within(mine!).queryByRole('button', { name: /^停\s?用$/ })).toBeNull();
    fireEvent.click(within(theirs!).getByRole('button', { name: /^停\s?用$/ }));
    expect(api.callsTo('PATCH /api/users/user2')).toHaveLength(0);
    expect(await screen.findByText('停用 用户2？')).toBeTruthy();
    fireEvent.click(within(document.querySelector('.ant-popconfirm')! as HTMLElement).getByRole('button', { name: /^停\s?用$/ }));
    await waitFor(() => expect(api.callsTo('PATCH /api/users/user2')).toHaveLength(1));
    expect(api.callsTo('PATCH /api/users/user2')[0]!.body).toEqual({ active: false });
    expect(await screen.findByText('已停用')).toBeTruthy();

    const row = screen.getAllByRole('row')[2]!;
    fireEvent.click(within(row).getByRole('button', { name: '重置密码' }));
    const confirms = document.querySelectorAll('.ant-popconfirm');
    fireEvent.click(within(confirms[confirms.length - 1] as HTMLElement).getByRole('button', { name: '重置密码' }));
    expect((await screen.findByTestId('one-time-password')).textContent).toContain('Wxyz-2345-6789-abcd');
  });

  it('has an English text for every label it shows', () => {
    for (const key of ['role.auditor', 'role.family-doctor', 'users.new', 'users.total', 'users.reset', 'account.changePassword'])
      expect(en[key]).toBeTruthy();
  });
});
