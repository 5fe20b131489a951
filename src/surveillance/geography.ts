/**
 * District geography for maps and for placing feed sources: streets (街道/乡镇) and communities
 * with their polygons, and facilities, schools and pharmacies with their area. Filled from a
 * district.json in the simulator's format (src/simulator/district-json.ts); the demo loader
 * calls `loadDistrictGeography(db, path)` after importing the simulator output.
 */
import fs from 'node:fs';
import type { GeoFeatureCollection } from './schemas.js';
import type { Database } from '../platform/db.js';

interface Area {
  code: string;
  name: string;
  level?: string;
  streetCode?: string;
  centroid?: [number, number];
  polygon?: unknown;
}
interface Place {
  id?: string;
  code: string;
  name: string;
  kind?: string;
  areaCode?: string;
}
interface DistrictJson {
  district?: { code: string; name: string; centre?: [number, number] };
  streets?: Area[];
  communities?: Area[];
  healthFacilities?: Place[];
  schools?: Place[];
  pharmacies?: Place[];
  careHomes?: Place[];
}

export async function loadDistrictGeography(db: Database, districtJsonPath: string): Promise<{ areas: number; places: number }> {
  const d = JSON.parse(fs.readFileSync(districtJsonPath, 'utf8')) as DistrictJson;
  return loadDistrictGeographyJson(db, d);
}

export async function loadDistrictGeographyJson(db: Database, d: DistrictJson): Promise<{ areas: number; places: number }> {
  const areas: { code: string; name: string; level: string; parent: string | null; centroid: unknown; polygon: unknown }[] = [];
  if (d.district)
    areas.push({
      code: d.district.code,
      name: d.district.name,
      level: 'district',
      parent: null,
      centroid: d.district.centre ?? null,
      polygon: null,
    });
  for (const s of d.streets ?? [])
    areas.push({
      code: s.code,
      name: s.name,
      level: 'street',
      parent: d.district?.code ?? s.code.slice(0, 6),
      centroid: s.centroid ?? null,
      polygon: s.polygon ?? null,
    });
  for (const c of d.communities ?? [])
    areas.push({
      code: c.code,
      name: c.name,
      level: 'community',
      parent: c.streetCode ?? `${c.code.slice(0, 9)}000`,
      centroid: c.centroid ?? null,
      polygon: c.polygon ?? null,
    });
  const places: { code: string; name: string; kind: string; area: string | null }[] = [];
  for (const [kind, list] of [
    ['health-facility', d.healthFacilities],
    ['school', d.schools],
    ['pharmacy', d.pharmacies],
    ['care-home', d.careHomes],
  ] as const) {
    for (const p of list ?? []) {
      places.push({ code: p.code, name: p.name, kind: p.kind ?? kind, area: p.areaCode ?? null });
      // Records name facilities by their FHIR Organization id as well as by their code.
      if (p.id && p.id !== p.code) places.push({ code: p.id, name: p.name, kind: p.kind ?? kind, area: p.areaCode ?? null });
    }
  }
  await db.transaction(async (c) => {
    for (const a of areas) {
      await c.query(
        `INSERT INTO surv_area (code, name, level, parent_code, centroid, polygon) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, centroid = EXCLUDED.centroid, polygon = EXCLUDED.polygon`,
        [a.code, a.name, a.level, a.parent, JSON.stringify(a.centroid), JSON.stringify(a.polygon)],
      );
    }
    for (const p of places) {
      await c.query(
        `INSERT INTO surv_place (code, name, kind, area_code) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, area_code = EXCLUDED.area_code`,
        [p.code, p.name, p.kind, p.area],
      );
    }
  });
  return { areas: areas.length, places: places.length };
}

/** Areas of one level as a GeoJSON FeatureCollection (properties: code, name, level). */
export async function geographyFeatures(db: Database, level: string): Promise<GeoFeatureCollection> {
  const r = await db.query<{
    code: string;
    name: string;
    level: string;
    parent_code: string | null;
    centroid: [number, number] | null;
    polygon: Record<string, unknown> | null;
  }>('SELECT code, name, level, parent_code, centroid, polygon FROM surv_area WHERE level = $1 ORDER BY code', [level]);
  return {
    type: 'FeatureCollection',
    features: r.rows
      .filter((a) => a.polygon)
      .map((a) => ({
        type: 'Feature' as const,
        properties: { code: a.code, name: a.name, level: a.level, parent: a.parent_code, centroid: a.centroid },
        geometry: a.polygon!,
      })),
  };
}

export async function areaNames(db: Database): Promise<Map<string, string>> {
  const r = await db.query<{ code: string; name: string }>('SELECT code, name FROM surv_area');
  return new Map(r.rows.map((x) => [x.code, x.name]));
}
