import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { getSession, setSession } from '../api/session.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { AccountPage } from './account.component.js';
import { AppLayout } from './layout.component.js';
import { LoginPage } from './login.component.js';
import { mayOpen, navItems } from './navigation.js';

const admin = { username: 'admin', displayName: '系统管理员', roles: ['admin' as const] };

describe('signing out, my password and the second factor', () => {
  it('ends the session on the server when signing out, then forgets it', async () => {
    setSession({ token: 'tok-1', user: admin });
    const api = stubApi({ 'POST /auth/logout': { ok: true } });
    renderPage(
      <AppLayout path="/" user={admin}>
        <div />
      </AppLayout>,
    );
    fireEvent.click(screen.getByRole('button', { name: '退出登录' }));
    await waitFor(() => expect(getSession()).toBeNull());
    expect(api.callsTo('POST /auth/logout')).toHaveLength(1);
    expect(api.calls[0]!.path).toBe('/auth/logout');
  });

  it('makes a user with a reset password change it, then lets them on', async () => {
    const user = { ...admin, username: 'nurse.chen', roles: ['family-doctor' as const], mustChangePassword: true };
    setSession({ token: 'tok-2', user });
    const api = stubApi({ 'POST /auth/password': { ok: true } });
    renderPage(<AccountPage user={user} />);
    expect(screen.getByText('您的密码已由管理员重置，请先设置新密码再继续使用。')).toBeTruthy();
    expect(screen.queryByTestId('totp-card')).toBeNull();
    const card = screen.getByTestId('change-password');
    fireEvent.change(within(card).getByLabelText('一次性密码（当前密码）'), { target: { value: 'AbCd-EfGh-JkMn-PqRs' } });
    fireEvent.change(within(card).getByLabelText('新密码'), { target: { value: 'quiet-river-lantern-58' } });
    fireEvent.change(within(card).getByLabelText('再次输入新密码'), { target: { value: 'quiet-river-lantern-58' } });
    fireEvent.click(screen.getByTestId('change-password-submit'));
    await waitFor(() => expect(api.callsTo('POST /auth/password')).toHaveLength(1));
    expect(api.callsTo('POST /auth/password')[0]!.body).toEqual({
      currentPassword: 'AbCd-EfGh-JkMn-PqRs',
      newPassword: 'quiet-river-lantern-58',
    });
    await waitFor(() => expect(getSession()?.user.mustChangePassword).toBeUndefined());
  });

  it('shows the server’s rule when the new password is refused', async () => {
    setSession({ token: 'tok-3', user: admin });
    stubApi({
      'POST /auth/password': {
        status: 400,
        body: {
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'invalid',
              diagnostics: 'password: one of the most common passwords; choose another / 该密码属于常见密码，请另选',
            },
          ],
        },
      },
    });
    renderPage(<AccountPage user={admin} />);
    const card = screen.getByTestId('change-password');
    fireEvent.change(within(card).getByLabelText('当前密码'), { target: { value: 'old-password-123' } });
    fireEvent.change(within(card).getByLabelText('新密码'), { target: { value: 'password1234' } });
    fireEvent.change(within(card).getByLabelText('再次输入新密码'), { target: { value: 'password1234' } });
    fireEvent.click(screen.getByTestId('change-password-submit'));
    expect((await screen.findByTestId('change-password-error')).textContent).toContain('常见密码');
    expect(screen.getByTestId('totp-card')).toBeTruthy();
  });

  it('asks for the one-time code when the account has a second factor, and sends it', async () => {
    const api = stubApi({
      'POST /auth/login': (c: { body: unknown }) =>
        (c.body as { code?: string }).code
          ? { access_token: 'tok-4', token_type: 'Bearer', expires_in: 43200, user: admin }
          : {
              status: 401,
              body: {
                resourceType: 'OperationOutcome',
                issue: [{ severity: 'error', code: 'login', details: { coding: [{ code: 'totp-required' }] }, diagnostics: 'code' }],
              },
            },
    });
    renderPage(<LoginPage />);
    fireEvent.change(screen.getByLabelText('用户名'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('密码'), { target: { value: 'e2e-admin-Pa55word' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    const code = await screen.findByTestId('login-code');
    expect(screen.getByTestId('login-error').textContent).toContain('动态验证码');
    fireEvent.change(code, { target: { value: '123456' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    await waitFor(() => expect(getSession()?.token).toBe('tok-4'));
    expect(api.callsTo('POST /auth/login')[1]!.body).toMatchObject({ username: 'admin', code: '123456' });
  });

  it('shows the wait when sign-in is refused for too many failures', async () => {
    stubApi({
      'POST /auth/login': {
        status: 429,
        body: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'throttled', diagnostics: '该账号登录失败次数过多，请 15 分钟后再试' }],
        },
      },
    });
    renderPage(<LoginPage />);
    fireEvent.change(screen.getByLabelText('用户名'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('密码'), { target: { value: 'x' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('login-error')).textContent).toContain('15 分钟后再试');
  });

  it('shows an auditor the audit log but not user administration', () => {
    const adminGroup = navItems().find((i) => i.key === 'admin')!;
    const auditor = { roles: ['auditor'] };
    expect(mayOpen(adminGroup, auditor)).toBe(true);
    expect(adminGroup.children!.filter((c) => mayOpen(c, auditor)).map((c) => c.key)).toEqual(['/admin/audit']);
    expect(mayOpen(adminGroup, { roles: ['clinician'] })).toBe(false);
    expect(adminGroup.children!.every((c) => mayOpen(c, { roles: ['admin'] }))).toBe(true);
  });
});
