/**
 * Importing a registry file, all or nothing: parse (parse.ts), check every record against the
 * file and the store (codes unique, parents, areas and organizations known), and only when
 * nothing is refused simplify the boundaries, write the FHIR resources through the repository and
 * keep the lookup tables, in one transaction. The report counts created, updated and unchanged
 * records and names every refused line or feature with its reason. The admin edit form goes
 * through the same path with one record.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../platform/db.js';
import type { FhirRepository } from '../fhir/repository.js';
import { newResourceId } from '../fhir/ids.js';
import { centroidOf, simplifyBoundaries, type Boundary } from './geometry.js';
import { areaLocation, defaultId, organizationResource, placeLocation } from './fhir.js';
import {
  areaRecord,
  organizationRecord,
  parentCandidates,
  parseRegistryFile,
  placeRecord,
  type AreaRecord,
  type Located,
  type OrganizationRecord,
  type ParsedFile,
  type PlaceRecord,
  type Refusal,
  type RegistryKind,
} from './parse.js';
import {
  areasByCode,
  recordImport,
  resourceOwners,
  sitesByCode,
  sitesByCodeOrId,
  upsertAreas,
  upsertSites,
  type AreaRow,
  type SiteRow,
} from './store.js';

export interface ImportReport {
  importId?: number;
  fileName?: string;
  kind: RegistryKind | 'bundle';
  format?: string;
  encoding?: string;
  /** True when the file was stored (nothing refused). */
  stored: boolean;
  records: number;
  created: number;
  updated: number;
  unchanged: number;
  refused: Refusal[];
  /** The whole file refused before its records were read (encoding, header, not JSON). */
  message?: string;
  /** Bytes of the simplified boundaries stored (areas files). */
  boundaryBytes?: number;
  seconds: number;
}

export interface RegistryChange {
  areas: AreaRow[];
  sites: SiteRow[];
  /** Codes of areas that left the registry (their resource was deleted). */
  removedAreas?: string[];
  /** Organizations and places that left the registry: their codes and FHIR ids. */
  removedSites?: { code: string; resourceId: string }[];
}
export type RegistryListener = (client: Queryable, change: RegistryChange) => Promise<void>;
const listeners: RegistryListener[] = [];

/**
 * Called inside every registry write's transaction with the rows written, so a module that keeps
 * a copy (surveillance's map tables) stays in step, all or nothing with the registry.
 */
export function onRegistryWrite(listener: RegistryListener): void {
  if (!listeners.includes(listener)) listeners.push(listener);
}

/** Runs the write hooks (the change-log processor calls it for registry resources written through /fhir). */
export async function notifyRegistryWrite(client: Queryable, change: RegistryChange): Promise<void> {
  for (const l of listeners) await l(client, change);
}

export interface ImportOptions {
  kind?: RegistryKind;
  encoding?: string;
  fileName?: string;
  username?: string;
  /** Writes the audit record in the import's transaction. */
  audit?: (client: Queryable, report: ImportReport) => Promise<void>;
  /** Vertices kept per area on average when boundaries are simplified. */
  verticesPerArea?: number;
}

const hashOf = (r: Resource) => createHash('sha1').update(JSON.stringify(r)).digest('hex');

/** Refuses the second and later records that repeat a code, naming the first. */
function duplicates<T extends { code: string; id?: string }>(list: Located<T>[], refused: Refusal[], what: string): void {
  const seen = new Map<string, string>();
  const ids = new Map<string, string>();
  for (const x of list) {
    const first = seen.get(x.record.code);
    if (first)
      refused.push(refusal(x, `${what} code ${x.record.code} is already used by ${first} of this file; codes are unique`, x.record.code));
    else seen.set(x.record.code, x.where);
    const id = x.record.id;
    if (!id) continue;
    const firstId = ids.get(id);
    if (firstId) refused.push(refusal(x, `id ${id} is already used by ${firstId} of this file; ids are unique`, x.record.code));
    else ids.set(id, x.where);
  }
}

/** Refuses records whose given id already belongs to another stored code. */
async function idsTaken<T extends { code: string; id?: string }>(
  c: Queryable,
  list: Located<T>[],
  refused: Refusal[],
  table: 'registry_area' | 'registry_site',
  resourceType: 'Location' | 'Organization',
): Promise<void> {
  const ids = list.flatMap((x) => (x.record.id ? [x.record.id] : []));
  if (!ids.length) return;
  const owners = await resourceOwners(c, table, resourceType, ids);
  for (const x of list) {
    const owner = x.record.id ? owners.get(x.record.id) : undefined;
    if (owner && owner !== x.record.code)
      refused.push(refusal(x, `id ${x.record.id} already belongs to ${owner}; give another id or none`, x.record.code));
  }
}

function refusal(x: { where: string; line?: number; feature?: number }, reason: string, code?: string): Refusal {
  return {
    where: x.where,
    ...(x.line !== undefined ? { line: x.line } : {}),
    ...(x.feature !== undefined ? { feature: x.feature } : {}),
    ...(code ? { code } : {}),
    reason,
  };
}

export async function importRegistryFile(
  db: Database,
  repo: FhirRepository,
  bytes: Buffer,
  opts: ImportOptions = {},
): Promise<ImportReport & { status: number }> {
  const t0 = performance.now();
  const parsed = parseRegistryFile(bytes, { kind: opts.kind, encoding: opts.encoding, fileName: opts.fileName });
  return applyParsed(db, repo, parsed, opts, t0);
}

/** Imports one file and throws naming the first refusals (`where`: the file, for the message) when it is refused. */
export async function importRegistryFileOrThrow(
  db: Database,
  repo: FhirRepository,
  bytes: Buffer,
  opts: ImportOptions,
  where: string,
): Promise<ImportReport> {
  const { status, ...r } = await importRegistryFile(db, repo, bytes, opts);
  if (status !== 200)
    throw new Error(
      `${where}: refused (${r.refused.length}): ${r.refused
        .slice(0, 3)
        .map((x) => `${x.where}: ${x.reason}`)
        .join('; ')}`,
    );
  return r;
}

/** The registry files a district directory holds, in the order they must be imported. */
export const REGISTRY_FILES: readonly { file: string; kind: RegistryKind }[] = [
  { file: 'areas.geojson', kind: 'areas' },
  { file: 'organizations.csv', kind: 'organizations' },
  { file: 'places.csv', kind: 'places' },
];

/**
 * Imports a directory's registry files (areas.geojson, organizations.csv, places.csv; those
 * present), each all or nothing through the same import as an upload; throws naming the first
 * refusal. `onFile` hears of each file: its report, or null when the file is absent.
 */
export async function importRegistryDirectory(
  db: Database,
  repo: FhirRepository,
  dir: string,
  opts: Pick<ImportOptions, 'username'> & { onFile?: (file: string, report: ImportReport | null) => void } = {},
): Promise<ImportReport[]> {
  const reports: ImportReport[] = [];
  for (const { file, kind } of REGISTRY_FILES) {
    const full = path.join(dir, file);
    if (!fs.existsSync(full)) {
      opts.onFile?.(file, null);
      continue;
    }
    const r = await importRegistryFileOrThrow(db, repo, fs.readFileSync(full), { kind, fileName: file, username: opts.username }, full);
    opts.onFile?.(file, r);
    reports.push(r);
  }
  return reports;
}

/** Creates or replaces one record (the admin edit form), through the same checks as a file. */
export async function saveRecord(
  db: Database,
  repo: FhirRepository,
  kind: RegistryKind,
  props: Record<string, unknown>,
  opts: Omit<ImportOptions, 'kind' | 'encoding'> = {},
): Promise<ImportReport & { status: number }> {
  const t0 = performance.now();
  const problems: string[] = [];
  const at = { where: 'record' };
  const parsed: ParsedFile = { kind, format: 'csv', encoding: 'utf-8', areas: [], organizations: [], places: [], refused: [] };
  const geometry = props['boundary'] ?? null;
  if (kind === 'areas') parsed.areas.push({ ...at, record: areaRecord(props, geometry, problems) });
  else if (kind === 'organizations') parsed.organizations.push({ ...at, record: organizationRecord(props, null, problems) });
  else parsed.places.push({ ...at, record: placeRecord(props, null, problems) });
  for (const reason of problems) parsed.refused.push({ ...at, reason });
  return applyParsed(db, repo, parsed, { ...opts, fileName: opts.fileName ?? 'edit' }, t0);
}

async function applyParsed(
  db: Database,
  repo: FhirRepository,
  parsed: ParsedFile,
  opts: ImportOptions,
  t0: number,
): Promise<ImportReport & { status: number }> {
  const base = {
    ...(opts.fileName ? { fileName: opts.fileName } : {}),
    kind: parsed.kind,
    format: parsed.format,
    ...(parsed.encoding ? { encoding: parsed.encoding } : {}),
    records: parsed.areas.length + parsed.organizations.length + parsed.places.length + parsed.refused.length,
    created: 0,
    updated: 0,
    unchanged: 0,
  };
  if (parsed.fatal) {
    const f = parsed.fatal;
    const report: ImportReport = {
      ...base,
      stored: false,
      records: 0,
      refused: [{ where: f.line ? `line ${f.line}` : 'file', ...(f.line ? { line: f.line } : {}), reason: f.message }],
      message: f.message,
      seconds: (performance.now() - t0) / 1000,
    };
    report.importId = await db.transaction(async (c) => {
      const id = await recordImport(c, { ...report, refused: 1, report, username: opts.username });
      await opts.audit?.(c, { ...report, importId: id });
      return id;
    });
    return { ...report, status: f.status };
  }

  return db.transaction(async (c) => {
    const refused = [...parsed.refused];
    const written = await checkAndWrite(c, repo, parsed, refused, opts);
    const stored = refused.length === 0;
    const report: ImportReport = {
      ...base,
      stored,
      ...(stored ? { created: written.created, updated: written.updated, unchanged: written.unchanged } : {}),
      refused: sortRefusals(refused),
      ...(written.boundaryBytes !== undefined && stored ? { boundaryBytes: written.boundaryBytes } : {}),
      seconds: 0,
    };
    if (!stored) {
      // Nothing half-imported: undo the writes (none were made when checks failed), keep the report.
      await c.query('ROLLBACK TO SAVEPOINT registry_import');
    }
    report.seconds = (performance.now() - t0) / 1000;
    report.importId = await recordImport(c, {
      ...report,
      refused: report.refused.length,
      report: { ...report, refused: report.refused.slice(0, 1000) },
      username: opts.username,
    });
    await opts.audit?.(c, report);
    return { ...report, status: stored ? 200 : 422 };
  });
}

function sortRefusals(list: Refusal[]): Refusal[] {
  return [...list].sort((a, b) => (a.line ?? a.feature ?? -1) - (b.line ?? b.feature ?? -1));
}

interface Written {
  created: number;
  updated: number;
  unchanged: number;
  boundaryBytes?: number;
}

async function checkAndWrite(
  c: Queryable,
  repo: FhirRepository,
  parsed: ParsedFile,
  refused: Refusal[],
  opts: ImportOptions,
): Promise<Written> {
  await c.query('SAVEPOINT registry_import');
  if (parsed.kind === 'areas') return writeAreas(c, repo, parsed.areas, refused, opts);
  if (parsed.kind === 'organizations') return writeOrganizations(c, repo, parsed.organizations, refused);
  if (parsed.kind === 'places') return writePlaces(c, repo, parsed.places, refused);
  // A Bundle: areas, then the organizations and places in them; the first kind refused stops it.
  const total: Written = { created: 0, updated: 0, unchanged: 0 };
  const add = (w: Written) => {
    total.created += w.created;
    total.updated += w.updated;
    total.unchanged += w.unchanged;
    if (w.boundaryBytes !== undefined) total.boundaryBytes = (total.boundaryBytes ?? 0) + w.boundaryBytes;
  };
  if (refused.length) return total;
  if (parsed.areas.length) add(await writeAreas(c, repo, parsed.areas, refused, opts));
  if (!refused.length && parsed.organizations.length) add(await writeOrganizations(c, repo, parsed.organizations, refused));
  if (!refused.length && parsed.places.length) add(await writePlaces(c, repo, parsed.places, refused));
  return total;
}

async function putResource(c: Queryable, repo: FhirRepository, resource: Resource): Promise<void> {
  await repo.update(resource.resourceType, resource.id!, resource, {}, c);
}

/** A record's resource, and its lookup row once the resource's hash is known. */
type ToPut<Row> = { resource: Resource; row: (hash: string) => Row };

/**
 * Puts each record's resource (from `build`) through the repository unless its hash is the stored
 * one; counts created, updated and unchanged in `out` and returns the lookup rows of those written.
 */
async function putChanged<T extends { code: string }, Row>(
  c: Queryable,
  repo: FhirRepository,
  list: Located<T>[],
  stored: Map<string, { hash: string }>,
  out: Written,
  build: (record: T) => ToPut<Row>,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { record } of list) {
    const { resource, row } = build(record);
    const hash = hashOf(resource);
    const before = stored.get(record.code);
    if (before?.hash === hash) {
      out.unchanged++;
      continue;
    }
    await putResource(c, repo, resource);
    if (before) out.updated++;
    else out.created++;
    rows.push(row(hash));
  }
  return rows;
}

/** Keeps the lookup rows of the organizations or places written and tells the listeners. */
async function keepSites(c: Queryable, rows: SiteRow[]): Promise<void> {
  await upsertSites(c, rows);
  for (const l of listeners) await l(c, { areas: [], sites: rows });
}

async function writeAreas(
  c: Queryable,
  repo: FhirRepository,
  list: Located<AreaRecord>[],
  refused: Refusal[],
  opts: ImportOptions,
): Promise<Written> {
  duplicates(list, refused, 'area');
  await idsTaken(c, list, refused, 'registry_area', 'Location');
  // Records refused while parsing, by code: a child names its refused parent rather than calling it unknown.
  const refusedHere = new Map(refused.flatMap((r) => (r.code ? [[r.code, r.where] as [string, string]] : [])));
  const inFile = new Map(list.map((x) => [x.record.code, x]));
  const wanted = new Set<string>();
  for (const { record: a } of list) {
    wanted.add(a.code);
    if (a.parent) wanted.add(a.parent);
    else for (const p of parentCandidates(a.code, a.level)) wanted.add(p);
  }
  const stored = await areasByCode(c, [...wanted]);
  const clash = await sitesByCode(
    c,
    list.map((x) => x.record.code),
  );
  const parents = new Map<string, string | null>();
  for (const x of list) {
    const a = x.record;
    if (clash.has(a.code)) {
      const s = clash.get(a.code)!;
      refused.push(refusal(x, `code ${a.code} is already the ${s.category} '${s.name}'`, a.code));
      continue;
    }
    const known = (code: string) => inFile.has(code) || stored.has(code);
    const parentRefused = [a.parent ?? '', ...parentCandidates(a.code, a.level)].find((p) => p && !known(p) && refusedHere.has(p));
    if (parentRefused && (a.parent || a.level !== 'district')) {
      refused.push(refusal(x, `parent area ${parentRefused} is refused (${refusedHere.get(parentRefused)}); fix it first`, a.code));
      continue;
    }
    if (a.parent) {
      if (!known(a.parent))
        refused.push(
          refusal(
            x,
            `parent area ${a.parent} is unknown: not in this file and not stored; import the parent first or in the same file`,
            a.code,
          ),
        );
      else parents.set(a.code, a.parent);
    } else if (a.level === 'district') parents.set(a.code, null);
    else {
      const found = parentCandidates(a.code, a.level).find(known);
      if (!found)
        refused.push(
          refusal(
            x,
            `parent area of ${a.code} (${parentCandidates(a.code, a.level).join(' or ')}) is unknown: not in this file and not stored; name it in a parent column or import it first`,
            a.code,
          ),
        );
      else parents.set(a.code, found);
    }
  }
  if (refused.length) return { created: 0, updated: 0, unchanged: 0 };

  const boundaries = new Map<string, Boundary>();
  for (const { record: a } of list) if (a.boundary) boundaries.set(a.code, a.boundary);
  const simplified = simplifyBoundaries(boundaries, opts.verticesPerArea);
  const ids = new Map<string, string>();
  for (const [code, a] of stored) ids.set(code, a.resourceId);
  for (const { record: a } of list) if (!ids.has(a.code)) ids.set(a.code, a.id ?? defaultId('area', a.code) ?? newResourceId());
  const out: Written = { created: 0, updated: 0, unchanged: 0, boundaryBytes: 0 };
  const rows = await putChanged(c, repo, list, stored, out, (a): ToPut<AreaRow> => {
    const boundary = simplified.get(a.code) ?? null;
    const json = boundary ? JSON.stringify(boundary) : null;
    out.boundaryBytes! += json?.length ?? 0;
    const centroid = a.centroid ?? (boundary ? centroidOf(boundary) : null);
    const parent = parents.get(a.code) ?? null;
    return {
      resource: areaLocation({ ...a, centroid }, ids.get(a.code)!, parent ? ids.get(parent)! : null, json),
      row: (hash) => ({
        code: a.code,
        gb2260: a.gb2260,
        name: a.name,
        level: a.level,
        parentCode: parent,
        resourceId: ids.get(a.code)!,
        centroid,
        boundary,
        hash,
      }),
    };
  });
  await upsertAreas(c, rows);
  for (const l of listeners) await l(c, { areas: rows, sites: [] });
  return out;
}

/** The street (街道/乡镇) an area belongs to, from stored areas (community → its parent). */
async function streetsOf(c: Queryable, areaCodes: string[]): Promise<Map<string, string | null>> {
  const areas = await areasByCode(c, areaCodes);
  const out = new Map<string, string | null>();
  for (const [code, a] of areas) out.set(code, a.level === 'street' ? code : a.level === 'community' ? a.parentCode : null);
  return out;
}

async function checkSites<T extends { code: string; area: string | null; id?: string }>(
  c: Queryable,
  list: Located<T>[],
  category: 'organization' | 'place',
  refused: Refusal[],
): Promise<{ stored: Map<string, SiteRow>; streets: Map<string, string | null> }> {
  duplicates(list, refused, category);
  await idsTaken(c, list, refused, 'registry_site', category === 'organization' ? 'Organization' : 'Location');
  const stored = await sitesByCode(
    c,
    list.map((x) => x.record.code),
  );
  const areaCodes = [...new Set(list.flatMap((x) => (x.record.area ? [x.record.area] : [])))];
  const streets = await streetsOf(c, areaCodes);
  for (const x of list) {
    const s = stored.get(x.record.code);
    if (s && s.category !== category)
      refused.push(refusal(x, `code ${x.record.code} is already the ${s.category} '${s.name}'; codes are unique`, x.record.code));
    if (x.record.area && !streets.has(x.record.area))
      refused.push(refusal(x, `area ${x.record.area} is unknown: import the areas file first`, x.record.code));
  }
  return { stored, streets };
}

async function writeOrganizations(
  c: Queryable,
  repo: FhirRepository,
  list: Located<OrganizationRecord>[],
  refused: Refusal[],
): Promise<Written> {
  const { stored, streets } = await checkSites(c, list, 'organization', refused);
  const inFile = new Map(list.map((x) => [x.record.code, x.record]));
  const parentCodes = [...new Set(list.flatMap((x) => (x.record.parent && !inFile.has(x.record.parent) ? [x.record.parent] : [])))];
  const storedParents = await sitesByCodeOrId(c, parentCodes);
  for (const x of list) {
    const p = x.record.parent;
    if (!p) continue;
    const sp = storedParents.get(p);
    if (!inFile.has(p) && !sp)
      refused.push(refusal(x, `parent organization ${p} is unknown: not in this file and not stored`, x.record.code));
    else if (sp && sp.category !== 'organization') refused.push(refusal(x, `parent ${p} is a place, not an organization`, x.record.code));
  }
  if (refused.length) return { created: 0, updated: 0, unchanged: 0 };
  const ids = new Map<string, string>();
  for (const [code, s] of [...stored, ...storedParents]) ids.set(code, s.resourceId);
  for (const { record: o } of list) if (!ids.has(o.code)) ids.set(o.code, o.id ?? defaultId('org', o.code) ?? newResourceId());
  const out: Written = { created: 0, updated: 0, unchanged: 0 };
  const rows = await putChanged(c, repo, list, stored, out, (o): ToPut<SiteRow> => ({
    resource: organizationResource(o, ids.get(o.code)!, o.parent ? ids.get(o.parent)! : null),
    row: (hash) => ({
      code: o.code,
      category: 'organization',
      type: o.type,
      name: o.name,
      areaCode: o.area,
      streetCode: o.area ? (streets.get(o.area) ?? null) : null,
      parentCode: o.parent ? (storedParents.get(o.parent)?.code ?? o.parent) : null,
      resourceType: 'Organization',
      resourceId: ids.get(o.code)!,
      position: o.position,
      details: { ...(o.hospitalLevel ? { hospitalLevel: o.hospitalLevel } : {}), ...(o.address ? { address: o.address } : {}) },
      hash,
    }),
  }));
  await keepSites(c, rows);
  return out;
}

async function writePlaces(c: Queryable, repo: FhirRepository, list: Located<PlaceRecord>[], refused: Refusal[]): Promise<Written> {
  const { stored, streets } = await checkSites(c, list, 'place', refused);
  const orgCodes = [...new Set(list.flatMap((x) => (x.record.organization ? [x.record.organization] : [])))];
  const orgs = await sitesByCodeOrId(c, orgCodes);
  for (const x of list) {
    const o = x.record.organization;
    if (!o) continue;
    const s = orgs.get(o);
    if (!s) refused.push(refusal(x, `organization ${o} is unknown: import the organizations file first`, x.record.code));
    else if (s.category !== 'organization') refused.push(refusal(x, `${o} is a place, not an organization`, x.record.code));
  }
  if (refused.length) return { created: 0, updated: 0, unchanged: 0 };
  const areaIds = await areasByCode(c, [...streets.keys()]);
  const out: Written = { created: 0, updated: 0, unchanged: 0 };
  const rows = await putChanged(c, repo, list, stored, out, (p): ToPut<SiteRow> => {
    const id = stored.get(p.code)?.resourceId ?? p.id ?? defaultId('place', p.code) ?? newResourceId();
    const resource = placeLocation(
      p,
      id,
      p.area ? (areaIds.get(p.area)?.resourceId ?? null) : null,
      p.organization ? orgs.get(p.organization)!.resourceId : null,
    );
    return {
      resource,
      row: (hash) => ({
        code: p.code,
        category: 'place',
        type: p.type,
        name: p.name,
        areaCode: p.area,
        streetCode: p.area ? (streets.get(p.area) ?? null) : null,
        parentCode: p.organization ? (orgs.get(p.organization)?.code ?? p.organization) : null,
        resourceType: 'Location',
        resourceId: id,
        position: p.position,
        details: {
          ...(p.sentinelTypes.length ? { sentinelTypes: p.sentinelTypes } : {}),
          ...(p.grades.length ? { grades: p.grades } : {}),
          ...(p.address ? { address: p.address } : {}),
        },
        hash,
      }),
    };
  });
  await keepSites(c, rows);
  return out;
}
