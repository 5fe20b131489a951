/**
 * The space-time scan's clusters on an alert's own case map (预警详情 · 病例分布): the clusters the
 * alert took as evidence, or of its signals on its evidence days reaching its streets, are drawn
 * and listed; clusters of other signals, days or streets are not.
 */
import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { AlertDetail, AlertEvidence, GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { AlertPage } from './alert-page.component.js';
import { alertClusters, type MapCluster } from './scan-layer.js';

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
const geography: GeoFeatureCollection = {
  type: 'FeatureCollection',
  features: ['临江街道', '望湖街道', '青山街道', '东岸街道'].map((name, i) => ({
    type: 'Feature' as const,
    properties: { code: `33990200${i + 1}000`, name, level: 'street', parent: '339902', centroid: [i + 0.5, 0.5] as [number, number] },
    geometry: square(i),
  })),
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

const ev = (signal: string, areaCode: string, day: string): AlertEvidence => ({
  signal,
  areaCode,
  day,
  method: signal.startsWith('scan:') ? 'stPermScan' : 'earsC',
  source: 'clinic-syndrome',
  observed: 5,
  threshold: 3,
  expected: 1,
  pValue: 0.001,
  weak: false,
});

const alert: AlertDetail = {
  id: 7,
  status: 'new',
  level: 'orange',
  areaCode: '339902001000',
  areaCodes: ['339902001000', '339902002000'],
  areaName: '临江街道',
  title: '临江街道：腹泻症候群（时空聚集） + 诺如病毒',
  sources: ['clinic-syndrome', 'lab'],
  score: 4.2,
  jointP: 6e-5,
  firstEvidenceAt: '2025-06-07T00:00:00+08:00',
  lastEvidenceAt: '2025-06-08T00:00:00+08:00',
  triggerDay: '2025-06-08',
  createdAt: '2025-06-08T02:00:00+08:00',
  updatedAt: '2025-06-08T02:00:00+08:00',
  assignee: null,
  dueAt: null,
  overdue: false,
  version: 1,
  diseaseKey: null,
  evidence: [
    ev('scan:syndrome:diarrhoea', '339902001000', '2025-06-08'),
    ev('scan:syndrome:diarrhoea', '339902002000', '2025-06-08'),
    ev('lab:NOV', '339902001000', '2025-06-07'),
  ],
  events: [],
  comments: [],
  nextSteps: ['triage', 'dismissed'],
};

const rows: MapCluster[] = [
  cluster(1),
  // The lab signal's cluster on an evidence day in one of its streets: behind the alert too.
  cluster(2, {
    signal: 'lab:NOV',
    label: '实验室阳性·诺如病毒',
    runDay: '2025-06-07',
    center: { code: '339902001000', name: '临江街道' },
    areas: [{ code: '339902001000', name: '临江街道', observed: 3, expected: 0.4 }],
    observed: 3,
    expected: 0.4,
    p: 0.004,
  }),
  // Another signal, and the alert's signal in streets it does not cover: not its clusters.
  cluster(3, { signal: 'ili', label: '流感样病例' }),
  cluster(4, {
    center: { code: '339902004000', name: '东岸街道' },
    areas: [{ code: '339902004000', name: '东岸街道', observed: 6, expected: 1 }],
  }),
];

describe('scan clusters on an alert’s case map', () => {
  it('picks the clusters behind the alert, most significant first', () => {
    expect(alertClusters(rows, alert).map((c) => c.id)).toEqual([1, 2]);
    expect(alertClusters(rows, { ...alert, evidence: [] })).toEqual([]);
  });

  it('fetches the clusters of the alert’s evidence days and lists those behind it under the map', async () => {
    const api = stubApi({
      '/api/alerts/7': alert,
      '/api/alerts/7/series': [],
      '/api/alerts/7/cases': [],
      '/api/surveillance/geography': geography,
      '/api/surveillance/scan-clusters': { total: rows.length, limit: 200, offset: 0, rows },
    });
    renderPage(<AlertPage id={7} />);
    const items = await screen.findAllByTestId('alert-scan-cluster', {}, { timeout: 5000 });
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toContain('腹泻症候群：望湖街道等 2 个街道，2025-06-05 至 2025-06-08');
    expect(items[1]!.textContent).toContain('实验室阳性·诺如病毒：临江街道等 1 个街道');
    expect(screen.getByText('时空扫描聚集 2 处')).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('case-map')).toBeTruthy());
    expect(api.callsTo('GET /api/surveillance/scan-clusters').map((c) => c.path)).toEqual([
      '/api/surveillance/scan-clusters?from=2025-06-07&to=2025-06-08&limit=200',
    ]);
    expect(api.unmatched).toEqual([]);
  });
});
