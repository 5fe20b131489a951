/**
 * The registry capability's public entry: what other capabilities, the CLI, the demo loader and
 * the bench call. Maps, area roll-ups and feed place lookups read the registry through these.
 */
import type { Queryable } from '../platform/db.js';
import type { Database } from '../platform/db.js';
import { registryCodes } from './codes.js';
import { allAreaNames, areasWithBoundaries, listSites, sitesByCodeOrId } from './store.js';

export { default as registryModule } from './module.js';
export {
  importRegistryDirectory,
  importRegistryFile,
  importRegistryFileOrThrow,
  onRegistryWrite,
  REGISTRY_FILES,
  saveRecord,
  type ImportOptions,
  type ImportReport,
  type RegistryChange,
  type RegistryListener,
} from './import.js';
export { REGISTRY_KINDS, MAX_REGISTRY_BYTES, type RegistryKind } from './parse.js';
export { simplifyBoundaries, boundaryProblem } from './geometry.js';
export { PLACE_CODE_SYSTEM, BOUNDARY_EXTENSION, SCHOOL_GRADES_EXTENSION } from './fhir.js';
export type { AreaRow, SiteRow } from './store.js';

/** A map feature of one area: code, name, level, parent, centroid and its simplified boundary. */
export interface AreaFeature {
  code: string;
  name: string;
  level: string;
  parent: string | null;
  centroid: [number, number] | null;
  boundary: Record<string, unknown> | null;
}

/** Areas of one level with their boundaries (one index range of registry_area). */
export async function areaFeatures(db: Queryable, level: string): Promise<AreaFeature[]> {
  return (await areasWithBoundaries(db, level)).map((a) => ({
    code: a.code,
    name: a.name,
    level: a.level,
    parent: a.parentCode,
    centroid: a.centroid,
    boundary: (a.boundary as Record<string, unknown> | null) ?? null,
  }));
}

/** Every area's name by code. */
export function areaNames(db: Queryable): Promise<Map<string, string>> {
  return allAreaNames(db);
}

/**
 * Streets in words, by the 9-digit street prefix or the 12-digit code (a street is registered
 * under its 12-digit form, …000); a code nobody names keeps itself.
 */
export async function streetNames(db: Queryable, codes: Iterable<string>): Promise<Map<string, string>> {
  const all = await allAreaNames(db);
  return new Map([...new Set(codes)].map((c) => [c, all.get(`${c}000`) ?? all.get(c) ?? c]));
}

/**
 * Where organizations and places are, by code or FHIR id: their area (community or street) and
 * street. One indexed query for the keys given.
 */
export async function placeAreas(
  db: Queryable,
  keys: string[],
): Promise<Map<string, { code: string; name: string; type: string; areaCode: string | null; streetCode: string | null }>> {
  const rows = await sitesByCodeOrId(db, [...new Set(keys)]);
  const out = new Map<string, { code: string; name: string; type: string; areaCode: string | null; streetCode: string | null }>();
  for (const [k, s] of rows) out.set(k, { code: s.code, name: s.name, type: s.type, areaCode: s.areaCode, streetCode: s.streetCode });
  return out;
}

/** A sentinel site (哨点) of the registry: a place with one or more of the nine sentinel place types. */
export interface SentinelSite {
  code: string;
  name: string;
  areaCode: string | null;
  streetCode: string | null;
  sentinelTypes: { code: string; name: string }[];
}

/** The registry's sentinel sites in code order, a page at a time with the total (optionally within an area). */
export async function sentinelSites(
  db: Database,
  page: { offset: number; limit: number; area?: string },
): Promise<{ total: number; items: SentinelSite[] }> {
  const codes = registryCodes();
  const r = await listSites(db, 'place', { sentinel: '*', area: page.area, offset: page.offset, limit: page.limit });
  return {
    total: r.total,
    items: r.items.map((s) => ({
      code: s.code,
      name: s.name,
      areaCode: s.areaCode,
      streetCode: s.streetCode,
      sentinelTypes: ((s.details.sentinelTypes as string[] | undefined) ?? []).map((c) => ({
        code: c,
        name: codes.display('registry-sentinel-type', c),
      })),
    })),
  };
}

/**
 * Facilities in words, by code or FHIR id: the registry's name, else the name on the hub's FHIR
 * Organization of that id (or of id 'org-<code>', as facilities are often keyed) for districts
 * whose facilities came only as FHIR resources. Two indexed lookups for the keys given; a key
 * nobody names is left out.
 */
export async function facilityNames(db: Queryable, keys: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(keys.filter(Boolean))];
  const out = new Map<string, string>();
  if (!unique.length) return out;
  for (const [k, s] of await sitesByCodeOrId(db, unique)) out.set(k, s.name);
  const rest = unique.filter((k) => !out.has(k));
  if (!rest.length) return out;
  const ids = [...new Set(rest.flatMap((k) => [k, `org-${k}`]))];
  const r = await db.query<{ id: string; name: string | null }>(
    `SELECT t.id, h.content->>'name' AS name FROM r_organization t
       JOIN resource_history h ON h.resource_type = 'Organization' AND h.id = t.id AND h.version_id = t.version_id
     WHERE t.id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(r.rows.filter((x) => x.name).map((x) => [x.id, x.name!]));
  for (const k of rest) {
    const name = byId.get(k) ?? byId.get(`org-${k}`);
    if (name) out.set(k, name);
  }
  return out;
}
