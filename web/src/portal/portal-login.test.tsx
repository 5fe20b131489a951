import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { portalSession, resetPortalSessionCache } from './portal-api.js';
import { PortalLogin } from './portal-login.component.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('PortalLogin', () => {
  afterEach(() => resetPortalSessionCache());

  it('asks for a code with the ID number and phone, then signs in with the code', async () => {
    const calls: { url: string; body: unknown }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: RequestInit) => {
        calls.push({ url, body: JSON.parse(String(init.body)) });
        if (url === '/api/portal/login/start') return json(200, { message: 'sent', expiresInSeconds: 300 });
        return json(200, { access_token: 'tok-1', token_type: 'Bearer', expires_in: 43200, displayName: '李梅' });
      }),
    );
    render(<PortalLogin />);
    fireEvent.change(screen.getByLabelText('身份证号'), { target: { value: '33010219900501001x' } });
    fireEvent.change(screen.getByLabelText('手机号'), { target: { value: '13800000001' } });
    fireEvent.click(screen.getByRole('button', { name: '获取验证码' }));
    await screen.findByText(/验证码已发送至该手机/);
    fireEvent.change(screen.getByLabelText('验证码'), { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: '登录' }));
    await waitFor(() => expect(portalSession()).toEqual({ token: 'tok-1', displayName: '李梅' }));
    expect(calls).toEqual([
      { url: '/api/portal/login/start', body: { idNumber: '33010219900501001X', phone: '13800000001' } },
      { url: '/api/portal/login/finish', body: { idNumber: '33010219900501001X', phone: '13800000001', code: '123456' } },
    ]);
  });

  it("checks the fields before asking, and shows the server's lockout message", async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url === '/api/portal/login/start'
        ? json(200, { message: 'sent', expiresInSeconds: 300 })
        : json(429, {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'throttled', diagnostics: '验证码错误次数过多，请 15 分钟后再试' }],
          }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<PortalLogin />);
    fireEvent.change(screen.getByLabelText('身份证号'), { target: { value: '1234' } });
    fireEvent.click(screen.getByRole('button', { name: '获取验证码' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/18位身份证号/);
    expect(fetchMock).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('身份证号'), { target: { value: '330102199005010011' } });
    fireEvent.change(screen.getByLabelText('手机号'), { target: { value: '13800000001' } });
    fireEvent.click(screen.getByRole('button', { name: '获取验证码' }));
    fireEvent.change(await screen.findByLabelText('验证码'), { target: { value: '000000' } });
    fireEvent.click(screen.getByRole('button', { name: '登录' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/15 分钟后再试/));
    expect(portalSession()).toBeNull();
  });
});
