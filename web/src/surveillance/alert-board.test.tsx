import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { AlertNotification, AlertSummary, GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { AlertBoardPage } from './alert-board.component.js';

const alert = (id: number, over: Partial<AlertSummary> = {}): AlertSummary => ({
  id,
  status: 'new',
  level: 'red',
  areaCode: '339902002000',
  areaCodes: ['339902002000'],
  areaName: '望湖街道',
  title: `霍乱 · 望湖街道 ${id}`,
  sources: ['report-card'],
  score: 1,
  jointP: null,
  firstEvidenceAt: '2025-06-07T10:00:00+08:00',
  lastEvidenceAt: '2025-06-08T10:00:00+08:00',
  triggerDay: '2025-06-08',
  createdAt: '2025-06-08T11:00:00+08:00',
  updatedAt: '2025-06-08T11:00:00+08:00',
  assignee: null,
  dueAt: null,
  overdue: false,
  version: 1,
  ...over,
});

const square = (x: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, 0],
      [x + 1, 0],
      [x + 1, 1],
      [x, 1],
      [x, 0],
    ],
  ],
});
const street = (code: string, name: string, x: number) => ({
  type: 'Feature' as const,
  properties: { code, name, level: 'street', parent: '339902', centroid: [x + 0.5, 0.5] as [number, number] },
  geometry: square(x),
});
const geography: GeoFeatureCollection = {
  type: 'FeatureCollection',
  features: [street('339902001000', '临江街道', 0), street('339902002000', '望湖街道', 1)],
};

const news: AlertNotification[] = [
  {
    id: 1,
    alertId: 7,
    action: 'created',
    to: 'new',
    actor: 'system',
    at: '2025-06-08T11:00:00+08:00',
    reason: null,
    level: 'red',
    title: '霍乱 · 望湖街道 7',
    areaCode: '339902002000',
  },
];

describe('AlertBoardPage', () => {
  it('lists the alerts with level and status in Chinese, and the latest events', async () => {
    const api = stubApi({
      '/api/alerts': {
        rows: [alert(7), alert(8, { level: 'yellow', status: 'triage', overdue: true })],
        total: 2,
        counts: { new: 1, triage: 1, suspected: 0, confirmed: 0, response: 0, dismissed: 0, closed: 0, open: 2, overdue: 1 },
      },
      '/api/surveillance/geography': geography,
      '/api/surveillance/notifications': news,
      '/api/surveillance/scan-clusters': { total: 0, limit: 200, offset: 0, rows: [] },
    });
    renderPage(<AlertBoardPage status="" level="" />);

    const links = await screen.findAllByTestId('alert-link');
    expect(links.map((a) => a.textContent)).toEqual(['#7', '#8']);
    const table = screen.getByTestId('alert-table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByTestId('alert-status').textContent).toBe('新预警');
    expect(within(rows[1]!).getByTestId('alert-status').textContent).toBe('研判中');
    expect(within(rows[1]!).getByText('超时')).toBeTruthy();
    expect(within(rows[0]!).getByText('霍乱 · 望湖街道 7')).toBeTruthy();
    expect(within(screen.getByTestId('alert-notifications')).getByText('生成预警')).toBeTruthy();
    // The map card draws once the geography is in.
    await waitFor(() => expect(screen.getByTestId('alert-map')).toBeTruthy());
    expect(api.unmatched).toEqual([]);
  });

  it('shows the server error, and a filter choice goes into the route', async () => {
    stubApi({
      '/api/alerts': { status: 500, body: { error: '预警服务暂不可用' } },
      '/api/surveillance/geography': geography,
      '/api/surveillance/notifications': [],
      '/api/surveillance/scan-clusters': { total: 0, limit: 200, offset: 0, rows: [] },
    });
    renderPage(<AlertBoardPage status="" level="" />);
    expect(await screen.findByText('预警服务暂不可用')).toBeTruthy();
    expect(screen.getByText('暂无动态')).toBeTruthy();

    // 级别 filter → 红色: the board's route carries level=red.
    const levelSelect = screen.getAllByRole('combobox')[0]!;
    fireEvent.mouseDown(levelSelect);
    fireEvent.click(await screen.findByTitle('红色'));
    await waitFor(() => expect(window.location.hash).toBe('#/surveillance/alerts?level=red'));
  });
});
