/**
 * Where an alert is (its place): the areas its evidence comes from, at the fusion level. Fusion
 * (alerts/fusion.ts) lets a statistical alarm join an open alert of another area only when the
 * two areas are neighbours here, so an alert's place is its own street and the neighbouring
 * streets where its evidence is — never the district because one signal alarmed by chance in
 * streets far apart over the alert's 28 days (the district-size evaluation showed such alerts
 * were "found" as often at outbreaks moved elsewhere as at the real ones).
 *
 * Neighbours come from the registry's areas (the same areas and centroids the space-time scan
 * uses): two areas are neighbours when their boundaries touch (share a vertex: the registry keeps
 * neighbouring boundaries seamless when it simplifies them); an area without a boundary (or every
 * area, when no two boundaries touch at all: drawn apart) is near the areas whose centroid lies
 * within NEAR_FACTOR × the distance to its nearest other centroid. Neighbourhood is symmetric. An
 * area the registry does not know, or whose boundary touches none while others touch, has no
 * neighbours: its alarms join nobody else's alert.
 *
 * An area code of the district itself (6 digits, or 6 digits and six zeros — a district-level
 * detector's series) is district-wide evidence: it has no neighbours and forms alerts of its own,
 * whose place is the whole district.
 *
 * Pure: no I/O (fusion.ts and the engine load the areas).
 */

export interface PlaceArea {
  code: string;
  /** [longitude, latitude]; null when unknown. */
  centroid: [number, number] | null;
  /** GeoJSON Polygon or MultiPolygon; null or absent when unknown. */
  boundary?: unknown;
}

export type Neighbours = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * An area without touching neighbours is near the areas whose centroids are at most this many
 * times as far as its nearest one. 1.3: on a row or ring of streets that is the one or two next
 * streets (the second next is twice as far), on a grid the four sides (diagonals are 1.41 × as far).
 */
export const NEAR_FACTOR = 1.3;

/** Vertices closer than this (degrees, about 0.1 m) are one point. */
const VERTEX_DECIMALS = 6;

/** Whether a code is the district itself (a district-level series), not an area in it. */
export function isDistrictArea(code: string): boolean {
  return /^\d{6}$/.test(code) || /^\d{6}0{6}$/.test(code);
}

function vertices(g: unknown, out: Set<string>): Set<string> {
  if (!g || typeof g !== 'object') return out;
  const coords = (g as { coordinates?: unknown }).coordinates;
  const walk = (x: unknown): void => {
    if (!Array.isArray(x)) return;
    if (x.length >= 2 && typeof x[0] === 'number' && typeof x[1] === 'number') {
      if (Number.isFinite(x[0]) && Number.isFinite(x[1])) out.add(`${x[0].toFixed(VERTEX_DECIMALS)},${x[1].toFixed(VERTEX_DECIMALS)}`);
      return;
    }
    for (const y of x) walk(y);
  };
  walk(coords);
  return out;
}

/** Distance in km between two [lon, lat] points (equirectangular: exact to well under 1 % within a district). */
function km(a: [number, number], b: [number, number]): number {
  const kx = 111.32 * Math.cos((((a[1] + b[1]) / 2) * Math.PI) / 180);
  return Math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 110.574);
}

/** Each area's neighbours (see the file comment). Areas of the district itself are left out. */
export function areaNeighbours(areas: readonly PlaceArea[]): Map<string, Set<string>> {
  const list = areas.filter((a) => !isDistrictArea(a.code));
  const out = new Map<string, Set<string>>(list.map((a) => [a.code, new Set<string>()]));
  const link = (x: string, y: string) => {
    if (x === y) return;
    out.get(x)!.add(y);
    out.get(y)!.add(x);
  };
  // Touching boundaries: areas sharing a vertex.
  const byVertex = new Map<string, string[]>();
  for (const a of list)
    for (const v of vertices(a.boundary, new Set())) {
      const at = byVertex.get(v);
      if (at) at.push(a.code);
      else byVertex.set(v, [a.code]);
    }
  for (const codes of byVertex.values())
    for (let i = 0; i < codes.length; i++) for (let j = i + 1; j < codes.length; j++) link(codes[i]!, codes[j]!);
  // Areas without a boundary — and every area when no two boundaries touch (drawn apart, not
  // seamless) — are near by centroid. An area with a boundary that touches none while others do
  // lies apart (an exclave, a street across the river): it has no neighbours.
  const anyTouch = [...out.values()].some((x) => x.size > 0);
  const shaped = new Set(list.filter((a) => vertices(a.boundary, new Set()).size > 0).map((a) => a.code));
  const placed = list.filter((a) => a.centroid && Number.isFinite(a.centroid[0]) && Number.isFinite(a.centroid[1]));
  for (const a of placed) {
    if (anyTouch && shaped.has(a.code)) continue;
    const d = placed.filter((b) => b !== a).map((b) => [b.code, km(a.centroid!, b.centroid!)] as const);
    if (!d.length) continue;
    const nearest = Math.min(...d.map(([, x]) => x));
    for (const [code, x] of d) if (x <= nearest * NEAR_FACTOR + 1e-9) link(a.code, code);
  }
  return out;
}

/** The area and its neighbours. */
export function neighbourhood(neighbours: Neighbours, code: string): Set<string> {
  return new Set([code, ...(neighbours.get(code) ?? [])]);
}
