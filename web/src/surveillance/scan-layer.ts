/**
 * The daily space-time scan's clusters (GET /api/surveillance/scan-clusters) as a layer of the
 * district alert map and of an alert's own case map (alertClusters: the clusters behind it): the streets of each cluster outlined, and a circle at the cluster's centre
 * sized by its cases — dark purple when the cluster is evidence in alert fusion (p at or below
 * the scan's evidenceAlpha), light purple when it is only listed (p at or below alpha).
 */
import type { ScanClusterPage } from '../../../src/surveillance/scan-routes.js';
import type { AlertDetail, GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { apiRequest } from '../api/http.js';
import { t } from '../i18n/i18n.js';

export type MapCluster = ScanClusterPage['rows'][number];

/** Circle and outline colours: evidence in fusion, and listed only. */
export const CLUSTER_COLOURS = { evidence: '#722ed1', listed: '#b37feb' } as const;

/** Days back from the newest run day whose clusters are drawn (the scan's longest window). */
export const CLUSTER_DAYS = 7;

/** The newest clusters the scan stored (newest run day first). */
export const listScanClusters = (signal?: AbortSignal) =>
  apiRequest<ScanClusterPage>('/api/surveillance/scan-clusters?limit=200', { signal, accept: 'application/json' });

/** The clusters of run days from … to (an alert's evidence days). */
export const listScanClustersBetween = (from: string, to: string, signal?: AbortSignal) =>
  apiRequest<ScanClusterPage>(`/api/surveillance/scan-clusters?from=${from}&to=${to}&limit=200`, { signal, accept: 'application/json' });

/** The signal a scan evidence key is about ('scan:syndrome:x' → 'syndrome:x'), as fusion keys it. */
const scanned = (signal: string) => (signal.startsWith('scan:') ? signal.slice('scan:'.length) : signal);

/**
 * The clusters behind one alert, most significant first: those it took as evidence (a 'scan:'
 * evidence row of the cluster's signal, run day and one of its streets), and those of a signal the
 * alert carries, on one of its evidence days, that reach one of its streets.
 */
export function alertClusters(rows: readonly MapCluster[], alert: Pick<AlertDetail, 'evidence' | 'areaCode' | 'areaCodes'>): MapCluster[] {
  const place = new Set([alert.areaCode, ...alert.areaCodes]);
  const days = new Set(alert.evidence.map((e) => e.day.slice(0, 10)));
  const signals = new Set(alert.evidence.map((e) => scanned(e.signal)));
  const taken = new Set(
    alert.evidence.filter((e) => e.signal.startsWith('scan:')).map((e) => `${scanned(e.signal)}|${e.day.slice(0, 10)}|${e.areaCode}`),
  );
  return rows
    .filter(
      (c) =>
        c.areas.some((a) => taken.has(`${c.signal}|${c.runDay}|${a.code}`)) ||
        (signals.has(c.signal) && days.has(c.runDay) && c.areas.some((a) => place.has(a.code))),
    )
    .sort((a, b) => a.p - b.p || b.runDay.localeCompare(a.runDay) || a.rank - b.rank);
}

function dayMinus(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

/** The clusters of the last CLUSTER_DAYS run days up to the newest one, most significant first. */
export function recentClusters(rows: readonly MapCluster[]): MapCluster[] {
  if (!rows.length) return [];
  const newest = rows.reduce((m, c) => (c.runDay > m ? c.runDay : m), rows[0]!.runDay);
  const from = dayMinus(newest, CLUSTER_DAYS - 1);
  return rows.filter((c) => c.runDay >= from).sort((a, b) => a.p - b.p || b.runDay.localeCompare(a.runDay) || a.rank - b.rank);
}

/** One line describing a cluster (tooltip and the list under the map). */
export function clusterText(c: MapCluster): string {
  const rr = c.relativeRisk === null ? '—' : c.relativeRisk.toFixed(1);
  return t(
    'surv.scan.clusterText',
    '{label}：{center}等 {n} 个街道，{from} 至 {to}，观察 {observed} / 期望 {expected}（RR {rr}），p = {p}',
    {
      label: c.label,
      center: c.center.name,
      n: c.areas.length,
      from: c.startDay,
      to: c.endDay,
      observed: c.observed,
      expected: c.expected.toFixed(1),
      rr,
      p: c.p < 0.001 ? c.p.toExponential(1) : String(Math.round(c.p * 1000) / 1000),
    },
  );
}

export interface ClusterLayer {
  /** Street code → outline of the most significant cluster covering it. */
  outlines: Map<string, { color: string; cluster: MapCluster }>;
  /** Circles at the cluster centres (two series: evidence and listed). */
  series: {
    name: string;
    type: 'scatter';
    coordinateSystem: 'geo';
    z: number;
    itemStyle: { color: string; opacity: number; borderColor: string; borderWidth: number };
    data: { name: string; value: [number, number, number]; symbolSize: number; label: string }[];
  }[];
}

/** Builds the map layer for clusters whose centre street has a centroid in the geography. */
export function clusterLayer(clusters: readonly MapCluster[], geo: GeoFeatureCollection): ClusterLayer {
  const centroid = new Map(geo.features.map((f) => [f.properties.code, f.properties.centroid] as const));
  const names = {
    evidence: t('surv.scan.evidence', '时空聚集（计入预警证据）'),
    listed: t('surv.scan.listed', '时空聚集（仅列出）'),
  };
  const outlines = new Map<string, { color: string; cluster: MapCluster }>();
  const points: Record<'evidence' | 'listed', ClusterLayer['series'][number]['data']> = { evidence: [], listed: [] };
  for (const c of clusters) {
    const kind = c.evidence ? 'evidence' : 'listed';
    for (const a of c.areas) if (!outlines.has(a.code)) outlines.set(a.code, { color: CLUSTER_COLOURS[kind], cluster: c });
    const at = centroid.get(c.center.code);
    if (!at) continue;
    points[kind].push({
      name: `${c.signal}@${c.runDay}#${c.rank}`,
      value: [at[0], at[1], c.observed],
      symbolSize: Math.min(40, 10 + 3 * Math.sqrt(Math.max(0, c.observed))),
      label: clusterText(c),
    });
  }
  const series = (['evidence', 'listed'] as const).map((kind) => ({
    name: names[kind],
    type: 'scatter' as const,
    coordinateSystem: 'geo' as const,
    z: 3,
    itemStyle: { color: CLUSTER_COLOURS[kind], opacity: 0.55, borderColor: CLUSTER_COLOURS[kind], borderWidth: 2 },
    data: points[kind],
  }));
  return { outlines, series };
}
