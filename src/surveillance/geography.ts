/**
 * District geography for maps and for placing feed sources, read from the master data registry
 * (src/registry): streets (街道/乡镇) and communities with their simplified boundaries, and
 * organizations, schools and pharmacies with their area.
 *
 * Surveillance's own surv_area / surv_place tables are a copy kept by the registry's write hook
 * (in the registry's transaction, so they never disagree with it) for the SQL joins of alert
 * views and feed counting; maps and area names read the registry itself.
 *
 * Loading a district is importing registry files (the registry's `importRegistryDirectory`, the
 * same import a user's upload goes through). `loadDistrictGeographyJson` turns a district in the simulator's old
 * district.json shape (tests use it) into registry files in memory and imports those.
 */
import type { GeoFeatureCollection } from './schemas.js';
import type { Database, Queryable } from '../platform/db.js';
import { FhirRepository } from '../fhir/repository.js';
import {
  areaFeatures,
  areaNames as registryAreaNames,
  importRegistryFileOrThrow,
  onRegistryWrite,
  type ImportReport,
  type RegistryChange,
  type RegistryKind,
} from '../registry/index.js';

/** Keeps surv_area / surv_place in step with every registry write (same transaction). */
async function copyToSurveillance(client: Queryable, change: RegistryChange): Promise<void> {
  if (change.removedAreas?.length) await client.query('DELETE FROM surv_area WHERE code = ANY($1::text[])', [change.removedAreas]);
  if (change.removedSites?.length)
    await client.query('DELETE FROM surv_place WHERE code = ANY($1::text[])', [change.removedSites.flatMap((s) => [s.code, s.resourceId])]);
  if (change.areas.length) {
    const rows = change.areas.map((a) => ({
      code: a.code,
      name: a.name,
      level: a.level,
      parent_code: a.parentCode,
      centroid: a.centroid,
      polygon: a.boundary,
    }));
    await client.query(
      `INSERT INTO surv_area (code, name, level, parent_code, centroid, polygon)
       SELECT code, name, level, parent_code, centroid, polygon FROM json_to_recordset($1::json) AS x(code text, name text, level text, parent_code text, centroid jsonb, polygon jsonb)
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, centroid = EXCLUDED.centroid, polygon = EXCLUDED.polygon`,
      [JSON.stringify(rows)],
    );
  }
  if (change.sites.length) {
    // Records name a facility by its code and by its FHIR id: both find it.
    const rows = change.sites.flatMap((s) => {
      const row = { code: s.code, name: s.name, kind: s.type, area_code: s.areaCode };
      return s.resourceId !== s.code ? [row, { ...row, code: s.resourceId }] : [row];
    });
    await client.query(
      `INSERT INTO surv_place (code, name, kind, area_code)
       SELECT code, name, kind, area_code FROM json_to_recordset($1::json) AS x(code text, name text, kind text, area_code text)
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, area_code = EXCLUDED.area_code`,
      [JSON.stringify(rows)],
    );
  }
}
onRegistryWrite(copyToSurveillance);

interface LegacyArea {
  code: string;
  name: string;
  streetCode?: string;
  centroid?: [number, number];
  polygon?: unknown;
}
interface LegacyPlace {
  id?: string;
  code: string;
  name: string;
  kind?: string;
  areaCode?: string;
}
interface DistrictJson {
  district?: { code: string; name: string; centre?: [number, number] };
  streets?: LegacyArea[];
  communities?: LegacyArea[];
  healthFacilities?: LegacyPlace[];
  schools?: LegacyPlace[];
  pharmacies?: LegacyPlace[];
  careHomes?: LegacyPlace[];
}

/** Facility kinds of the old district.json shape → registry organization types. */
const LEGACY_ORG_TYPE: Record<string, string> = {
  'general-hospital': 'hospital',
  'tcm-hospital': 'hospital',
  'mch-hospital': 'mch',
  cdc: 'cdc',
  chc: 'chc',
  'health-station': 'health-station',
  'health-facility': 'chc',
};

const csvField = (v: string | undefined) => (v === undefined ? '' : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A district in the old district.json shape, imported as registry files built in memory. */
export async function loadDistrictGeographyJson(db: Database, d: DistrictJson): Promise<{ areas: number; places: number }> {
  const repo = new FhirRepository(db);
  const feature = (a: LegacyArea, level: string, parent: string | null) => ({
    type: 'Feature',
    properties: {
      code: a.code,
      name: a.name,
      level,
      ...(parent ? { parent } : {}),
      ...(a.centroid ? { longitude: a.centroid[0], latitude: a.centroid[1] } : {}),
    },
    geometry: a.polygon ?? null,
  });
  const features = [
    ...(d.district
      ? [
          feature(
            { code: d.district.code, name: d.district.name, ...(d.district.centre ? { centroid: d.district.centre } : {}) },
            'district',
            null,
          ),
        ]
      : []),
    ...(d.streets ?? []).map((s) => feature(s, 'street', d.district?.code ?? null)),
    ...(d.communities ?? []).map((c) => feature(c, 'community', c.streetCode ?? null)),
  ];
  const areaCodes = new Set(features.map((f) => f.properties.code));
  const reports: ImportReport[] = [];
  const run = async (bytes: string, kind: RegistryKind, fileName: string) => {
    reports.push(await importRegistryFileOrThrow(db, repo, Buffer.from(bytes, 'utf8'), { kind, fileName }, fileName));
  };
  if (features.length) await run(JSON.stringify({ type: 'FeatureCollection', features }), 'areas', 'district-areas.geojson');
  const area = (p: LegacyPlace) => (p.areaCode && areaCodes.has(p.areaCode) ? p.areaCode : '');
  const orgs = (d.healthFacilities ?? []).map((p) => [
    p.code,
    p.name,
    LEGACY_ORG_TYPE[p.kind ?? 'health-facility'] ?? 'chc',
    area(p),
    p.id ?? '',
  ]);
  if (orgs.length)
    await run(
      ['code,name,type,area,id', ...orgs.map((r) => r.map(csvField).join(','))].join('\n'),
      'organizations',
      'district-organizations.csv',
    );
  const places = [
    ...(d.schools ?? []).map((p) => [p.code, p.name, p.kind === 'kindergarten' ? 'kindergarten' : 'school', area(p), p.id ?? '']),
    ...(d.pharmacies ?? []).map((p) => [p.code, p.name, 'pharmacy', area(p), p.id ?? '']),
    ...(d.careHomes ?? []).map((p) => [p.code, p.name, 'care-home', area(p), p.id ?? '']),
  ];
  if (places.length)
    await run(['code,name,type,area,id', ...places.map((r) => r.map(csvField).join(','))].join('\n'), 'places', 'district-places.csv');
  const count = (k: RegistryKind) => reports.filter((r) => r.kind === k).reduce((n, r) => n + r.created + r.updated + r.unchanged, 0);
  return { areas: count('areas'), places: count('organizations') + count('places') };
}

/** Areas of one level as a GeoJSON FeatureCollection (properties: code, name, level, parent, centroid), from the registry. */
export async function geographyFeatures(db: Database, level: string): Promise<GeoFeatureCollection> {
  const areas = await areaFeatures(db.pool, level);
  return {
    type: 'FeatureCollection',
    features: areas
      .filter((a) => a.boundary)
      .map((a) => ({
        type: 'Feature' as const,
        properties: { code: a.code, name: a.name, level: a.level, parent: a.parent, centroid: a.centroid },
        geometry: a.boundary!,
      })),
  };
}

export async function areaNames(db: Database): Promise<Map<string, string>> {
  return registryAreaNames(db.pool);
}
