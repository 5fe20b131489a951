/**
 * Area boundaries: checking rings before anything is stored, and simplifying a file's boundaries
 * for maps. Pure (no I/O).
 *
 * A ring must be closed (first position = last), have at least 4 positions (RFC 7946 §3.1.6) and
 * not cross itself or another ring of its polygon (found with @turf/kinks). Simplification builds
 * one topology of the whole file (topojson-server), so a border shared by two streets is one arc
 * and is simplified once: neighbours stay seamless. Visvalingam weights (topojson-simplify) keep
 * the points that carry the most area, up to a budget of vertices per area, then coordinates are
 * rounded to 5 decimals (about 1 m), which is finer than any district map needs.
 */
import { kinks } from '@turf/kinks';
import type { Geometry, MultiPolygon, Polygon, Position } from 'geojson';
import { topology } from 'topojson-server';
import { presimplify, quantile, simplify } from 'topojson-simplify';
import { feature } from 'topojson-client';
import type { GeometryCollection, Objects, Topology } from 'topojson-specification';

export type Boundary = Polygon | MultiPolygon;

/** Vertices kept per area on average when a file's boundaries are simplified. */
export const VERTICES_PER_AREA = 60;
/** Decimal places kept in simplified coordinates (1e-5° ≈ 1.1 m). */
const DECIMALS = 5;

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function checkPosition(p: unknown, where: string): string | undefined {
  if (!Array.isArray(p) || p.length < 2 || !isNumber(p[0]) || !isNumber(p[1])) return `${where} is not a [longitude, latitude] pair`;
  if (p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90)
    return `${where} [${p[0]}, ${p[1]}] is outside longitude −180…180 / latitude −90…90`;
  return undefined;
}

function checkRing(ring: unknown, where: string): string | undefined {
  if (!Array.isArray(ring)) return `${where} is not an array of positions`;
  for (let i = 0; i < ring.length; i++) {
    const bad = checkPosition(ring[i], `${where} position ${i}`);
    if (bad) return bad;
  }
  if (ring.length < 4) return `${where} has ${ring.length} positions; a ring needs at least 4 (the first repeated at the end)`;
  const a = ring[0] as number[];
  const b = ring[ring.length - 1] as number[];
  if (a[0] !== b[0] || a[1] !== b[1]) return `${where} is not closed: it starts at [${a[0]}, ${a[1]}] and ends at [${b[0]}, ${b[1]}]`;
  return undefined;
}

/**
 * Why a boundary cannot be stored, or undefined when it can. Polygon and MultiPolygon only;
 * every ring closed, ≥ 4 positions, no self-intersection (the first crossing is named).
 */
export function boundaryProblem(geometry: unknown): string | undefined {
  if (!geometry || typeof geometry !== 'object') return 'geometry is missing';
  const g = geometry as { type?: unknown; coordinates?: unknown };
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') return `geometry type '${String(g.type)}' is not a Polygon or MultiPolygon`;
  if (!Array.isArray(g.coordinates) || !g.coordinates.length) return 'geometry has no coordinates';
  const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown[];
  for (let p = 0; p < polygons.length; p++) {
    const rings = polygons[p];
    const label = g.type === 'Polygon' ? '' : `polygon ${p} `;
    if (!Array.isArray(rings) || !rings.length) return `${label}has no rings`;
    for (let r = 0; r < rings.length; r++) {
      const bad = checkRing(rings[r], `${label}ring ${r}`);
      if (bad) return bad;
    }
    const crossings = kinks({ type: 'Polygon', coordinates: rings as Position[][] });
    if (crossings.features.length) {
      const [x, y] = crossings.features[0]!.geometry.coordinates;
      return `${label}crosses itself at [${round(x!)}, ${round(y!)}] (${crossings.features.length} crossing${crossings.features.length > 1 ? 's' : ''}); a boundary must be a simple ring`;
    }
  }
  return undefined;
}

function round(x: number): number {
  const f = 10 ** DECIMALS;
  return Math.round(x * f) / f;
}

function roundGeometry(g: Boundary): Boundary {
  const ring = (r: Position[]) => {
    const out: Position[] = [];
    for (const p of r) {
      const q = [round(p[0]!), round(p[1]!)];
      const last = out[out.length - 1];
      if (!last || last[0] !== q[0] || last[1] !== q[1]) out.push(q);
    }
    return out;
  };
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: g.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map((poly) => poly.map(ring)) };
}

function vertexCount(g: Boundary): number {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let n = 0;
  for (const poly of polys) for (const r of poly) n += r.length;
  return n;
}

/**
 * Simplifies the boundaries of one file together (shared borders stay shared). Areas whose
 * simplified shape would be unusable (a ring under 4 positions, a crossing) keep their own
 * boundary, rounded. Returns a map keyed like the input.
 */
export function simplifyBoundaries(input: Map<string, Boundary>, verticesPerArea = VERTICES_PER_AREA): Map<string, Boundary> {
  const out = new Map<string, Boundary>();
  if (!input.size) return out;
  let total = 0;
  for (const g of input.values()) total += vertexCount(g);
  const budget = verticesPerArea * input.size;
  if (total <= budget) {
    for (const [k, g] of input) out.set(k, roundGeometry(g));
    return out;
  }
  const codes = [...input.keys()];
  const collection = {
    type: 'FeatureCollection' as const,
    features: codes.map((code) => ({ type: 'Feature' as const, id: code, properties: {}, geometry: input.get(code)! })),
  };
  let topo = topology({ areas: collection }, 1e6) as unknown as Topology<Objects<object>>;
  topo = presimplify(topo);
  const weight = quantile(topo, Math.min(1, budget / total));
  topo = simplify(topo, weight);
  const objects = (topo.objects['areas'] as GeometryCollection).geometries;
  for (let i = 0; i < objects.length; i++) {
    const code = codes[i]!;
    const f = feature(topo, objects[i]!) as unknown as { geometry: Geometry | null };
    const g = f.geometry;
    const candidate = g && (g.type === 'Polygon' || g.type === 'MultiPolygon') ? roundGeometry(g) : undefined;
    out.set(code, candidate && !boundaryProblem(candidate) ? candidate : roundGeometry(input.get(code)!));
  }
  return out;
}

/** The centre of a boundary's largest outer ring (area-weighted centroid), rounded. */
export function centroidOf(g: Boundary): [number, number] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let best: [number, number] = [0, 0];
  let bestArea = -1;
  for (const poly of polys) {
    const ring = poly[0]!;
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0; i < ring.length - 1; i++) {
      const [x0, y0] = ring[i] as [number, number];
      const [x1, y1] = ring[i + 1] as [number, number];
      const cross = x0 * y1 - x1 * y0;
      a += cross;
      cx += (x0 + x1) * cross;
      cy += (y0 + y1) * cross;
    }
    const area = Math.abs(a / 2);
    if (area > bestArea && a !== 0) {
      bestArea = area;
      best = [round(cx / (3 * a)), round(cy / (3 * a))];
    } else if (bestArea < 0) best = [round(ring[0]![0]!), round(ring[0]![1]!)];
  }
  return best;
}
