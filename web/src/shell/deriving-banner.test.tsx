import { readFileSync } from 'node:fs';
import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { en } from '../i18n/en.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { IndicatorsPage } from '../indicators/indicators.component.js';
import { DerivingBanner, derivingPoll, type ProcessorStatus } from './deriving-banner.component.js';

const proc = (name: string, zh: string, lag: number): ProcessorStatus['processors'][number] => ({
  name,
  label: { zh, en: name },
  lag,
  capped: lag > 50_000,
  caughtUp: lag === 0,
});

const behind = (mpi: number, programmes: number): ProcessorStatus => ({
  catchingUp: mpi + programmes > 0,
  pending: Math.max(mpi, programmes),
  processors: [
    proc('identity-mpi', '居民身份匹配', mpi),
    proc('programmes', '基本公卫项目名单与指标', programmes),
    proc('registry-fhir', '机构与地点名录', 0),
  ],
});

describe('DerivingBanner (数据正在处理中)', () => {
  it('says how much is left while the processors catch up, counts down, and goes away once they have', async () => {
    // The server's answer moves on only when the test says so; meanwhile the banner asks again and again.
    const answers = [behind(120_000, 80_000), behind(60_000, 0), behind(0, 0)];
    let step = 0;
    const api = stubApi({ '/api/processors/status': () => answers[step] });
    const caughtUp = vi.fn();
    renderPage(<DerivingBanner pollMs={30} onCaughtUp={caughtUp} />);

    const banner = await screen.findByTestId('deriving-banner');
    expect(banner.textContent).toContain('数据正在处理中：还有约 120,000 条记录待计算，指标和名单可能暂未包含最新数据');
    // The processors still behind, in words, furthest first; one that has caught up is not named.
    expect(banner.textContent).toContain('正在计算：居民身份匹配、基本公卫项目名单与指标');
    expect(banner.textContent).not.toContain('机构与地点名录');
    expect(banner.textContent).toContain('已完成 0%');

    step = 1;
    await waitFor(() => expect(screen.getByTestId('deriving-banner').textContent).toContain('还有约 60,000 条'));
    expect(screen.getByTestId('deriving-banner').textContent).toContain('已完成 50%');
    expect(screen.getByTestId('deriving-banner').textContent).not.toContain('基本公卫项目名单与指标');

    step = 2;
    await waitFor(() => expect(screen.queryByTestId('deriving-banner')).toBeNull());
    expect(caughtUp).toHaveBeenCalledTimes(1);
    // Caught up: no more asking.
    const asked = api.callsTo('GET /api/processors/status').length;
    await new Promise((r) => setTimeout(r, 120));
    expect(api.callsTo('GET /api/processors/status')).toHaveLength(asked);
  });

  it('shows nothing and asks once when nothing is pending', async () => {
    const api = stubApi({ '/api/processors/status': behind(0, 0) });
    const caughtUp = vi.fn();
    renderPage(<DerivingBanner pollMs={20} onCaughtUp={caughtUp} />);
    await waitFor(() => expect(api.calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(api.calls).toHaveLength(1);
    expect(screen.queryByTestId('deriving-banner')).toBeNull();
    expect(caughtUp).not.toHaveBeenCalled();
  });

  it('shows nothing when the status cannot be read', async () => {
    const api = stubApi({ '/api/processors/status': { status: 403, body: { message: 'forbidden' } } });
    renderPage(<DerivingBanner pollMs={20} />);
    await waitFor(() => expect(api.calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(api.calls).toHaveLength(1);
    expect(screen.queryByTestId('deriving-banner')).toBeNull();
  });

  it('has English for every text it shows', () => {
    const source = readFileSync('web/src/shell/deriving-banner.component.tsx', 'utf8');
    const keys = [...source.matchAll(/t\('([\w.]+)'/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) expect(en[key], key).toBeTruthy();
  });

  it('stands on the indicators screen while figures are derived, which reloads them once they are', async () => {
    const poll = derivingPoll.ms;
    derivingPoll.ms = 30;
    try {
      let step = 0;
      const api = stubApi({
        '/api/processors/status': () => [behind(0, 900), behind(0, 0)][step],
        '/api/indicators': {
          period: { from: '2026-01-01', to: '2026-12-31', label: '2026' },
          groupBy: 'total',
          definitions: [],
          values: [],
        },
        '/api/data-quality/facilities': { status: 403, body: { message: 'forbidden' } },
      });
      renderPage(<IndicatorsPage />);
      expect((await screen.findByTestId('deriving-banner')).textContent).toContain('还有约 900 条记录待计算');
      const before = api.callsTo('GET /api/indicators').length;
      step = 1;
      await waitFor(() => expect(screen.queryByTestId('deriving-banner')).toBeNull());
      await waitFor(() => expect(api.callsTo('GET /api/indicators').length).toBe(before + 1));
      expect(api.callsTo('GET /api/data-quality/facilities')).toHaveLength(2);
    } finally {
      derivingPoll.ms = poll;
    }
  });
});
