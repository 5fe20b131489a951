/**
 * The registry's lookup tables (registry_area, registry_site, registry_import). Written in the
 * transaction that writes the FHIR resources they index; read by key or by page. No other
 * module reads these tables: they call the functions exported from index.ts.
 */
import type { Database, Queryable } from '../platform/db.js';

export interface AreaRow {
  code: string;
  gb2260: string;
  name: string;
  level: string;
  parentCode: string | null;
  resourceId: string;
  centroid: [number, number] | null;
  boundary: unknown;
  hash: string;
}
export interface SiteRow {
  code: string;
  category: 'organization' | 'place';
  type: string;
  name: string;
  areaCode: string | null;
  streetCode: string | null;
  parentCode: string | null;
  resourceType: 'Organization' | 'Location';
  resourceId: string;
  position: [number, number] | null;
  details: Record<string, unknown>;
  hash: string;
}

interface AreaDb {
  code: string;
  gb2260: string;
  name: string;
  level: string;
  parent_code: string | null;
  resource_id: string;
  centroid: [number, number] | null;
  boundary?: unknown;
  hash: string;
}
interface SiteDb {
  code: string;
  category: 'organization' | 'place';
  type: string;
  name: string;
  area_code: string | null;
  street_code: string | null;
  parent_code: string | null;
  resource_type: 'Organization' | 'Location';
  resource_id: string;
  position: [number, number] | null;
  details: Record<string, unknown>;
  hash: string;
}

const areaFromDb = (r: AreaDb): AreaRow => ({
  code: r.code,
  gb2260: r.gb2260,
  name: r.name,
  level: r.level,
  parentCode: r.parent_code,
  resourceId: r.resource_id,
  centroid: r.centroid,
  boundary: r.boundary ?? null,
  hash: r.hash,
});
const siteFromDb = (r: SiteDb): SiteRow => ({
  code: r.code,
  category: r.category,
  type: r.type,
  name: r.name,
  areaCode: r.area_code,
  streetCode: r.street_code,
  parentCode: r.parent_code,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  position: r.position,
  details: r.details,
  hash: r.hash,
});

const AREA_COLS = 'code, gb2260, name, level, parent_code, resource_id, centroid, hash';
const SITE_COLS = 'code, category, type, name, area_code, street_code, parent_code, resource_type, resource_id, position, details, hash';

/** Stored areas by code (boundaries left out). */
export async function areasByCode(client: Queryable, codes: string[]): Promise<Map<string, AreaRow>> {
  if (!codes.length) return new Map();
  const r = await client.query<AreaDb>(`SELECT ${AREA_COLS} FROM registry_area WHERE code = ANY($1::text[])`, [codes]);
  return new Map(r.rows.map((x) => [x.code, areaFromDb(x)]));
}

/** Stored organizations and places by code. */
export async function sitesByCode(client: Queryable, codes: string[]): Promise<Map<string, SiteRow>> {
  if (!codes.length) return new Map();
  const r = await client.query<SiteDb>(`SELECT ${SITE_COLS} FROM registry_site WHERE code = ANY($1::text[])`, [codes]);
  return new Map(r.rows.map((x) => [x.code, siteFromDb(x)]));
}

/** Organizations and places by code or by their FHIR id (records name a facility either way). */
export async function sitesByCodeOrId(client: Queryable, keys: string[]): Promise<Map<string, SiteRow>> {
  if (!keys.length) return new Map();
  const r = await client.query<SiteDb>(
    `SELECT ${SITE_COLS} FROM registry_site WHERE code = ANY($1::text[])
     UNION SELECT ${SITE_COLS} FROM registry_site WHERE resource_id = ANY($1::text[]) AND resource_type IN ('Organization', 'Location')`,
    [keys],
  );
  const out = new Map<string, SiteRow>();
  for (const x of r.rows) {
    const row = siteFromDb(x);
    if (keys.includes(row.code)) out.set(row.code, row);
    if (keys.includes(row.resourceId) && !out.has(row.resourceId)) out.set(row.resourceId, row);
  }
  return out;
}

/** Which stored code owns each of these FHIR ids (registry_area: Locations; registry_site: by type). */
export async function resourceOwners(
  client: Queryable,
  table: 'registry_area' | 'registry_site',
  resourceType: 'Location' | 'Organization',
  ids: string[],
): Promise<Map<string, string>> {
  const r =
    table === 'registry_area'
      ? await client.query<{ code: string; resource_id: string }>(
          'SELECT code, resource_id FROM registry_area WHERE resource_id = ANY($1::text[])',
          [ids],
        )
      : await client.query<{ code: string; resource_id: string }>(
          'SELECT code, resource_id FROM registry_site WHERE resource_type = $2 AND resource_id = ANY($1::text[])',
          [ids, resourceType],
        );
  return new Map(r.rows.map((x) => [x.resource_id, x.code]));
}

export async function upsertAreas(client: Queryable, rows: AreaRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((a) => ({
      code: a.code,
      gb2260: a.gb2260,
      name: a.name,
      level: a.level,
      parent_code: a.parentCode,
      resource_id: a.resourceId,
      centroid: a.centroid,
      boundary: a.boundary,
      hash: a.hash,
    }));
    await client.query(
      `INSERT INTO registry_area (code, gb2260, name, level, parent_code, resource_id, centroid, boundary, hash)
       SELECT code, gb2260, name, level, parent_code, resource_id, centroid, boundary, hash
       FROM json_to_recordset($1::json) AS x(code text, gb2260 text, name text, level text, parent_code text, resource_id text, centroid jsonb, boundary jsonb, hash text)
       ON CONFLICT (code) DO UPDATE SET gb2260 = EXCLUDED.gb2260, name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
         resource_id = EXCLUDED.resource_id, centroid = EXCLUDED.centroid, boundary = EXCLUDED.boundary, hash = EXCLUDED.hash, updated_at = now()`,
      [JSON.stringify(chunk)],
    );
  }
}

export async function upsertSites(client: Queryable, rows: SiteRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000).map((s) => ({
      code: s.code,
      category: s.category,
      type: s.type,
      name: s.name,
      area_code: s.areaCode,
      street_code: s.streetCode,
      parent_code: s.parentCode,
      resource_type: s.resourceType,
      resource_id: s.resourceId,
      position: s.position,
      details: s.details,
      hash: s.hash,
    }));
    await client.query(
      `INSERT INTO registry_site (code, category, type, name, area_code, street_code, parent_code, resource_type, resource_id, position, details, hash)
       SELECT code, category, type, name, area_code, street_code, parent_code, resource_type, resource_id, position, details, hash
       FROM json_to_recordset($1::json) AS x(code text, category text, type text, name text, area_code text, street_code text, parent_code text,
         resource_type text, resource_id text, position jsonb, details jsonb, hash text)
       ON CONFLICT (code) DO UPDATE SET category = EXCLUDED.category, type = EXCLUDED.type, name = EXCLUDED.name, area_code = EXCLUDED.area_code,
         street_code = EXCLUDED.street_code, parent_code = EXCLUDED.parent_code, resource_type = EXCLUDED.resource_type,
         resource_id = EXCLUDED.resource_id, position = EXCLUDED.position, details = EXCLUDED.details, hash = EXCLUDED.hash, updated_at = now()`,
      [JSON.stringify(chunk)],
    );
  }
}

/** `339902001000` → `339902001`: the prefix every area under it starts with. */
export function areaPrefix(code: string): string {
  let p = code;
  while (p.length > 6 && p.endsWith('000')) p = p.slice(0, -3);
  return p;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export interface Page<T> {
  total: number;
  items: T[];
}

export async function listAreas(
  db: Database,
  q: { level?: string; parent?: string; search?: string; offset: number; limit: number },
): Promise<Page<AreaRow & { children: number; parentName: string | null }>> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.level) where.push(`level = $${params.push(q.level)}`);
  if (q.parent) where.push(`parent_code = $${params.push(q.parent)}`);
  if (q.search)
    where.push(`(name LIKE $${params.push(`%${likeEscape(q.search)}%`)} OR code LIKE $${params.push(`${likeEscape(q.search)}%`)})`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM registry_area ${w}`, params);
  const rows = await db.query<AreaDb & { children: number; parent_name: string | null }>(
    `SELECT ${AREA_COLS}, (SELECT count(*)::int FROM registry_area c WHERE c.parent_code = a.code) AS children,
            (SELECT p.name FROM registry_area p WHERE p.code = a.parent_code) AS parent_name
     FROM registry_area a ${w} ORDER BY code LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  return {
    total: total.rows[0]!.n,
    items: rows.rows.map((r) => ({ ...areaFromDb(r), children: r.children, parentName: r.parent_name })),
  };
}

export async function listSites(
  db: Database,
  category: 'organization' | 'place',
  /** sentinel: a sentinel place type, or '*' for a site of any. */
  q: { type?: string; area?: string; sentinel?: string; search?: string; offset: number; limit: number },
): Promise<Page<SiteRow>> {
  const params: unknown[] = [category];
  const where = ['category = $1'];
  if (q.type) where.push(`type = $${params.push(q.type)}`);
  if (q.area) where.push(`area_code LIKE $${params.push(`${likeEscape(areaPrefix(q.area))}%`)}`);
  if (q.sentinel === '*') where.push(`jsonb_array_length(COALESCE(details->'sentinelTypes', '[]'::jsonb)) > 0`);
  else if (q.sentinel) where.push(`details->'sentinelTypes' ? $${params.push(q.sentinel)}`);
  if (q.search)
    where.push(`(name LIKE $${params.push(`%${likeEscape(q.search)}%`)} OR code LIKE $${params.push(`${likeEscape(q.search)}%`)})`);
  const w = `WHERE ${where.join(' AND ')}`;
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM registry_site ${w}`, params);
  const rows = await db.query<SiteDb>(
    `SELECT ${SITE_COLS} FROM registry_site ${w} ORDER BY code LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  return { total: total.rows[0]!.n, items: rows.rows.map(siteFromDb) };
}

export async function getArea(db: Queryable, code: string): Promise<AreaRow | undefined> {
  const r = await db.query<AreaDb>(`SELECT ${AREA_COLS}, boundary FROM registry_area WHERE code = $1`, [code]);
  return r.rows[0] ? areaFromDb(r.rows[0]) : undefined;
}

export async function getSite(db: Queryable, code: string): Promise<SiteRow | undefined> {
  return (await sitesByCode(db, [code])).get(code);
}

/** Areas of one level with their boundaries, in code order (one index range). */
export async function areasWithBoundaries(db: Queryable, level: string): Promise<AreaRow[]> {
  const r = await db.query<AreaDb>(`SELECT ${AREA_COLS}, boundary FROM registry_area WHERE level = $1 ORDER BY code`, [level]);
  return r.rows.map(areaFromDb);
}

export async function allAreaNames(db: Queryable): Promise<Map<string, string>> {
  const r = await db.query<{ code: string; name: string }>('SELECT code, name FROM registry_area');
  return new Map(r.rows.map((x) => [x.code, x.name]));
}

export async function recordImport(
  client: Queryable,
  r: {
    fileName?: string;
    kind: string;
    format?: string;
    encoding?: string;
    stored: boolean;
    created: number;
    updated: number;
    unchanged: number;
    refused: number;
    report: unknown;
    username?: string;
  },
): Promise<number> {
  const res = await client.query<{ id: string }>(
    `INSERT INTO registry_import (file_name, kind, format, encoding, stored, created, updated, unchanged, refused, report, username)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [
      r.fileName ?? null,
      r.kind,
      r.format ?? null,
      r.encoding ?? null,
      r.stored,
      r.created,
      r.updated,
      r.unchanged,
      r.refused,
      JSON.stringify(r.report),
      r.username ?? null,
    ],
  );
  return Number(res.rows[0]!.id);
}

export async function listImports(db: Database, limit = 50): Promise<{ id: number; at: string; report: unknown }[]> {
  const r = await db.query<{ id: string; at: Date; report: unknown }>(
    'SELECT id, at, report FROM registry_import ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return r.rows.map((x) => ({ id: Number(x.id), at: new Date(x.at).toISOString(), report: x.report }));
}
