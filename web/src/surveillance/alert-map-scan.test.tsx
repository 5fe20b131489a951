/**
 * The space-time scan's clusters on the district alert map (预警信号看板): the recent clusters
 * are listed under the map with their legend, older runs are left out, and the map layer
 * outlines each cluster's streets and puts a circle at its centre.
 */
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { AlertBoardPage } from './alert-board.component.js';
import { CLUSTER_COLOURS, clusterLayer, recentClusters, type MapCluster } from './scan-layer.js';

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
  features: [street('339902001000', '临江街道', 0), street('339902002000', '望湖街道', 1), street('339902003000', '青山街道', 2)],
};

const cluster = (id: number, over: Partial<MapCluster> = {}): MapCluster => ({
  id,
  signal: 'syndrome:diarrhoea',
  label: '腹泻症候群',
  runDay: '2025-06-08',
  rank: 1,
  source: 'clinic-syndrome',
  areaLevel: 'street',
  center: { code: '339902002000', name: '望湖街道' },
  areas: [
    { code: '339902002000', name: '望湖街道', observed: 14, expected: 3.2 },
    { code: '339902001000', name: '临江街道', observed: 4, expected: 2.1 },
  ],
  startDay: '2025-06-05',
  endDay: '2025-06-08',
  days: 4,
  observed: 18,
  expected: 5.3,
  relativeRisk: 3.4,
  llr: 9.8,
  p: 0.001,
  evidence: true,
  replications: 999,
  seed: 12345,
  totalCases: 900,
  studyDays: 365,
  computedAt: '2025-06-09T02:00:00+08:00',
  ...over,
});

const clusters: MapCluster[] = [
  cluster(3, {
    signal: 'ili',
    label: '流感样病例',
    runDay: '2025-06-06',
    center: { code: '339902003000', name: '青山街道' },
    areas: [{ code: '339902003000', name: '青山街道', observed: 9, expected: 4 }],
    observed: 9,
    expected: 4,
    relativeRisk: 2.3,
    p: 0.03,
    evidence: false,
  }),
  cluster(2),
  // A run of a month before: not drawn.
  cluster(1, { runDay: '2025-05-01', p: 0.002 }),
];

describe('scan clusters on the alert map', () => {
  it('keeps the last seven run days, most significant first', () => {
    expect(recentClusters(clusters).map((c) => c.id)).toEqual([2, 3]);
    expect(recentClusters([])).toEqual([]);
  });

  it('outlines the streets of each cluster and puts a circle at its centre, by evidence', () => {
    const layer = clusterLayer(recentClusters(clusters), geography);
    expect(layer.outlines.get('339902002000')?.color).toBe(CLUSTER_COLOURS.evidence);
    expect(layer.outlines.get('339902001000')?.color).toBe(CLUSTER_COLOURS.evidence);
    expect(layer.outlines.get('339902003000')?.color).toBe(CLUSTER_COLOURS.listed);
    expect(layer.series.map((x) => x.name)).toEqual(['时空聚集（计入预警证据）', '时空聚集（仅列出）']);
    const [evidence, listed] = layer.series;
    expect(evidence!.data).toHaveLength(1);
    expect(evidence!.data[0]!.value).toEqual([1.5, 0.5, 18]);
    expect(evidence!.data[0]!.label).toContain('望湖街道等 2 个街道');
    expect(listed!.data[0]!.value).toEqual([2.5, 0.5, 9]);
    // A centre without a centroid gets no circle, its streets are still outlined.
    const noCentroid: GeoFeatureCollection = {
      ...geography,
      features: geography.features.map((f) => ({ ...f, properties: { ...f.properties, centroid: null } })),
    };
    const bare = clusterLayer(recentClusters(clusters), noCentroid);
    expect(bare.series.every((s) => s.data.length === 0)).toBe(true);
    expect(bare.outlines.size).toBe(3);
  });

  it('draws the clusters on the board’s map and lists them under its legend', async () => {
    const api = stubApi({
      '/api/alerts': {
        rows: [],
        total: 0,
        counts: { new: 0, triage: 0, suspected: 0, confirmed: 0, response: 0, dismissed: 0, closed: 0, open: 0, overdue: 0 },
      },
      '/api/surveillance/geography': geography,
      '/api/surveillance/notifications': [],
      '/api/surveillance/scan-clusters': { total: 3, limit: 200, offset: 0, rows: clusters },
    });
    renderPage(<AlertBoardPage status="" level="" />);

    const items = await screen.findAllByTestId('scan-cluster');
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toContain(
      '腹泻症候群：望湖街道等 2 个街道，2025-06-05 至 2025-06-08，观察 18 / 期望 5.3（RR 3.4），p = 0.001',
    );
    expect(items[1]!.textContent).toContain('流感样病例：青山街道等 1 个街道');
    expect(within(screen.getByTestId('scan-clusters')).getByText('时空扫描聚集 2 处（截至 2025-06-08）')).toBeTruthy();
    const legend = screen.getByTestId('alert-map-legend');
    expect(within(legend).getByText('时空聚集（计入预警证据）')).toBeTruthy();
    expect(within(legend).getByText('时空聚集（仅列出）')).toBeTruthy();
    expect(within(legend).getByText('红色')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('alert-map')).toBeTruthy());
    expect(api.callsTo('GET /api/surveillance/scan-clusters')).toHaveLength(1);
    expect(api.unmatched).toEqual([]);
  });

  it('says so when the scan found nothing recently', async () => {
    stubApi({
      '/api/alerts': {
        rows: [],
        total: 0,
        counts: { new: 0, triage: 0, suspected: 0, confirmed: 0, response: 0, dismissed: 0, closed: 0, open: 0, overdue: 0 },
      },
      '/api/surveillance/geography': geography,
      '/api/surveillance/notifications': [],
      '/api/surveillance/scan-clusters': { total: 0, limit: 200, offset: 0, rows: [] },
    });
    renderPage(<AlertBoardPage status="" level="" />);
    expect(await screen.findByText('近 7 天无时空扫描聚集')).toBeTruthy();
    expect(screen.queryAllByTestId('scan-cluster')).toHaveLength(0);
  });
});
