import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetPortalSessionCache, setPortalSession } from './portal-api.js';
import { PortalApp } from './portal-app.component.js';

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

describe('PortalApp', () => {
  afterEach(() => {
    setPortalSession(null);
    resetPortalSessionCache();
    window.location.hash = '';
  });

  it('shows its own sign-in page without a resident session', () => {
    window.location.hash = '#/portal';
    render(<PortalApp />);
    expect(screen.getByRole('heading', { name: '居民健康门户' })).toBeTruthy();
    expect(screen.getByRole('button', { name: '获取验证码' })).toBeTruthy();
  });

  it('signed in: lets the guardian switch to a child and opens the page in the address', async () => {
    setPortalSession({ token: 'tok', displayName: '李梅' });
    window.location.hash = '#/portal/schedule?for=pc';
    const urls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        urls.push(url);
        if (url === '/api/portal/me')
          return json({
            displayName: '李梅',
            self: { residentId: 'pa', name: '李梅', gender: 'female', birthDate: '1990-05-01', ageYears: 36 },
            wards: [{ residentId: 'pc', name: '李小宝', gender: 'male', birthDate: '2022-11-20', ageYears: 4, relationship: 'parent' }],
            unreadNotices: 2,
          });
        return json({ person: { residentId: 'pc', name: '李小宝' }, schedule: 'nip-2025', given: [], due: [], services: [] });
      }),
    );
    render(<PortalApp />);
    expect(await screen.findByRole('button', { name: '李小宝' })).toBeTruthy();
    expect(screen.getByRole('button', { name: '李小宝' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText('消息 (2)')).toBeTruthy();
    expect(await screen.findByText('目前没有需要接种的疫苗')).toBeTruthy();
    expect(urls).toContain('/api/portal/me/schedule?for=pc');
  });
});
