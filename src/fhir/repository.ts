/**
 * FHIR resource storage: every version's content in resource_history (whose seq column is the
 * change log processors follow), and per type one table of current versions with their search
 * columns but not their content, which reads take from history (currentContentSql). A write and
 * its history row go in the same transaction.
 */
import { newResourceId } from './ids.js';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../platform/db.js';
import { badRequest, gone, notFound, preconditionFailed } from '../platform/errors.js';
import { getTypeDef, type ResourceTypeDef, type SearchParamDef } from './definitions.js';
import { currentContentSql, prefixIndexedParams, prefixKeys } from './schema.js';
import { paramColumns, patientCompartments } from './extract.js';
import { fastExtractSearchValues } from './fast-extract.js';
import { assertResourceType, validateFhirResource } from './validate.js';
import { assertReferencesExist } from './references.js';

export interface StoredResource {
  resource: Resource;
  created: boolean;
}

export interface TypeColumns {
  all: string[];
  insertSql: (rows: number) => string;
  /** String parameters kept in the string_search prefix lookup. */
  prefixParams: SearchParamDef[];
}

const columnCache = new Map<string, TypeColumns>();

/** Position of the first search-parameter column in TypeColumns.all (after id, version_id, last_updated, compartments). */
export const FIRST_SEARCH_COLUMN = 4;

export function typeColumns(def: ResourceTypeDef): TypeColumns {
  let cols = columnCache.get(def.type);
  if (cols) return cols;
  const all = ['id', 'version_id', 'last_updated', 'compartments'];
  for (const p of def.params.values()) for (const c of paramColumns(p)) all.push(c.name);
  const updates = all
    .filter((c) => c !== 'id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  const insertSql = (rows: number) => {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      tuples.push('(' + all.map((_, c) => `$${r * all.length + c + 1}`).join(',') + ')');
    }
    return `INSERT INTO ${def.table} (${all.join(',')}) VALUES ${tuples.join(',')} ON CONFLICT (id) DO UPDATE SET ${updates}`;
  };
  cols = { all, insertSql, prefixParams: prefixIndexedParams(def) };
  columnCache.set(def.type, cols);
  return cols;
}

/** A resource ready to store: validated, with id, versionId and lastUpdated assigned. */
export interface PreparedRow {
  def: ResourceTypeDef;
  resource: Resource;
  values: unknown[];
  /** string_search keys per prefix-indexed parameter code. */
  prefix: [code: string, keys: string[]][];
}

/** The string_search keys of a resource's prefix-indexed string parameters. */
export function prefixEntries(cols: TypeColumns, search: Record<string, unknown>): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const p of cols.prefixParams) {
    const v = search[p.column!];
    if (Array.isArray(v) && v.length) out.push([p.code, prefixKeys(v as string[])]);
  }
  return out;
}

export function prepareRow(resource: Resource): PreparedRow {
  const def = getTypeDef(resource.resourceType)!;
  const search = fastExtractSearchValues(resource);
  const cols = typeColumns(def);
  const values: unknown[] = [
    resource.id,
    Number(resource.meta!.versionId),
    resource.meta!.lastUpdated,
    patientCompartments(resource, search, def),
  ];
  for (let i = FIRST_SEARCH_COLUMN; i < cols.all.length; i++) values.push(search[cols.all[i]!] ?? null);
  return { def, resource, values, prefix: prefixEntries(cols, search) };
}

/** Groups items by a key, keeping their order within each group. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Largest number of bind parameters per statement (PostgreSQL's limit is 65,535). */
const MAX_PARAMS = 60_000;

/** Writes prepared rows (any mix of types) with multi-row upserts and their history rows. */
export async function writeRows(client: Queryable, rows: PreparedRow[]): Promise<void> {
  const byType = groupBy(rows, (r) => r.def.type);
  for (const list of byType.values()) {
    const cols = typeColumns(list[0]!.def);
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / cols.all.length));
    for (let i = 0; i < list.length; i += perStatement) {
      const chunk = list.slice(i, i + perStatement);
      await client.query(
        cols.insertSql(chunk.length),
        chunk.flatMap((r) => r.values),
      );
    }
    if (cols.prefixParams.length) await replacePrefixKeys(client, list);
  }
  await writeHistory(
    client,
    rows.map((r) => ({ type: r.def.type, resource: r.resource, deleted: false })),
  );
}

/** Replaces the string_search keys of rows of one type (an update may change a name). */
async function replacePrefixKeys(client: Queryable, rows: PreparedRow[]): Promise<void> {
  const type = rows[0]!.def.type;
  // A first version has no keys to replace: a deletion takes its keys with it, so even a
  // re-created id starts without any. Most HL7 registrations are first versions.
  const replaced = rows.filter((r) => r.resource.meta!.versionId !== '1').map((r) => r.resource.id);
  if (replaced.length) await client.query('DELETE FROM string_search WHERE resource_type = $1 AND id = ANY($2::text[])', [type, replaced]);
  const codes: string[] = [];
  const keys: string[] = [];
  const ids: string[] = [];
  for (const r of rows) {
    for (const [code, list] of r.prefix) {
      for (const k of list) {
        codes.push(code);
        keys.push(k);
        ids.push(r.resource.id!);
      }
    }
  }
  if (!keys.length) return;
  await client.query(
    'INSERT INTO string_search (resource_type, code, key, id) SELECT $1, c, k, i FROM unnest($2::text[], $3::text[], $4::text[]) AS x(c, k, i)',
    [type, codes, keys, ids],
  );
}

async function writeHistory(client: Queryable, entries: { type: string; resource: Resource; deleted: boolean }[]): Promise<void> {
  const PER = Math.floor(MAX_PARAMS / 6);
  for (let i = 0; i < entries.length; i += PER) {
    const chunk = entries.slice(i, i + PER);
    const params: unknown[] = [];
    const tuples = chunk.map((e, k) => {
      params.push(
        e.type,
        e.resource.id,
        Number(e.resource.meta!.versionId),
        e.resource.meta!.lastUpdated,
        e.deleted,
        e.deleted ? null : e.resource,
      );
      const b = k * 6;
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6})`;
    });
    await client.query(
      `INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content) VALUES ${tuples.join(',')}`,
      params,
    );
  }
}

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertValidId(id: string): void {
  if (!ID_PATTERN.test(id)) throw badRequest(`Invalid id '${id}': 1–64 characters of A–Z, a–z, 0–9, '-' and '.'`);
}

export interface WriteOptions {
  /** Expected current version (If-Match); a mismatch is 412. */
  ifMatch?: string;
  /** Time to stamp; defaults to now. */
  now?: string;
  /** Refuse local references to resources that do not exist (one query per write). */
  checkReferences?: boolean;
}

export class FhirRepository {
  constructor(readonly db: Database) {}

  /** Stamps meta.versionId and meta.lastUpdated for the version after `previousVersion`. */
  private stamp(resource: Resource, previousVersion: number | undefined, now?: string): Resource {
    const version = (previousVersion ?? 0) + 1;
    return {
      ...resource,
      meta: { ...(resource.meta ?? {}), versionId: String(version), lastUpdated: now ?? new Date().toISOString() },
    } as Resource;
  }

  async create(
    input: unknown,
    client: Queryable = this.db.pool,
    expectedType?: string,
    options: Pick<WriteOptions, 'checkReferences'> = {},
  ): Promise<Resource> {
    const resource = validateFhirResource(input, expectedType);
    if (options.checkReferences) await assertReferencesExist(client, [resource]);
    const stored = this.stamp({ ...resource, id: newResourceId() } as Resource, undefined);
    await writeRows(client, [prepareRow(stored)]);
    return stored;
  }

  /** Update (or create with a client-chosen id, as FHIR allows). */
  async update(
    type: string,
    id: string,
    input: unknown,
    options: WriteOptions = {},
    client: Queryable = this.db.pool,
  ): Promise<StoredResource> {
    assertValidId(id);
    const resource = validateFhirResource(input, type);
    if (resource.id && resource.id !== id) throw badRequest(`Resource id '${resource.id}' does not match the URL id '${id}'`);
    if (options.checkReferences) await assertReferencesExist(client, [resource], new Set([`${type}/${id}`]));
    const def = getTypeDef(type)!;
    const current = await client.query<{ version_id: number }>(`SELECT version_id FROM ${def.table} WHERE id = $1 FOR UPDATE`, [id]);
    const previous = current.rows[0]?.version_id ?? (await this.lastHistoryVersion(client, type, id));
    if (options.ifMatch !== undefined) {
      const expected = options.ifMatch.replace(/^W\//, '').replace(/"/g, '');
      if (String(current.rows[0]?.version_id ?? '') !== expected) {
        throw preconditionFailed(
          `Version conflict: If-Match ${options.ifMatch} but ${type}/${id} is at version ${current.rows[0]?.version_id ?? 'none'}`,
        );
      }
    }
    const stored = this.stamp({ ...resource, id } as Resource, previous, options.now);
    await writeRows(client, [prepareRow(stored)]);
    return { resource: stored, created: current.rows.length === 0 };
  }

  private async lastHistoryVersion(client: Queryable, type: string, id: string): Promise<number | undefined> {
    const r = await client.query<{ v: number | null }>(
      'SELECT max(version_id) AS v FROM resource_history WHERE resource_type = $1 AND id = $2',
      [type, id],
    );
    return r.rows[0]?.v ?? undefined;
  }

  async read(type: string, id: string, client: Queryable = this.db.pool): Promise<Resource> {
    assertResourceType(type);
    assertValidId(id);
    const def = getTypeDef(type)!;
    const r = await client.query<{ content: Resource }>(
      `SELECT ${currentContentSql('t', type)} AS content FROM ${def.table} t WHERE t.id = $1`,
      [id],
    );
    if (r.rows[0]) return r.rows[0].content;
    const h = await client.query('SELECT 1 FROM resource_history WHERE resource_type = $1 AND id = $2 AND deleted LIMIT 1', [type, id]);
    if (h.rows.length) throw gone(`${type}/${id} has been deleted`);
    throw notFound(`${type}/${id} not found`);
  }

  async vread(type: string, id: string, versionId: string): Promise<Resource> {
    assertResourceType(type);
    assertValidId(id);
    const v = Number(versionId);
    if (!Number.isInteger(v) || v < 1) throw badRequest(`Invalid version id '${versionId}'`);
    const r = await this.db.query<{ content: Resource | null; deleted: boolean }>(
      'SELECT content, deleted FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3',
      [type, id, v],
    );
    const row = r.rows[0];
    if (!row) throw notFound(`${type}/${id}/_history/${versionId} not found`);
    if (row.deleted) throw gone(`${type}/${id} version ${versionId} is a deletion`);
    return row.content!;
  }

  async delete(type: string, id: string, client: Queryable = this.db.pool): Promise<boolean> {
    assertResourceType(type);
    assertValidId(id);
    const def = getTypeDef(type)!;
    const r = await client.query<{ version_id: number }>(`DELETE FROM ${def.table} WHERE id = $1 RETURNING version_id`, [id]);
    const row = r.rows[0];
    if (!row) return false;
    if (typeColumns(def).prefixParams.length)
      await client.query('DELETE FROM string_search WHERE resource_type = $1 AND id = $2', [type, id]);
    const now = new Date().toISOString();
    await writeHistory(client, [
      {
        type,
        resource: { resourceType: type, id, meta: { versionId: String(row.version_id + 1), lastUpdated: now } } as Resource,
        deleted: true,
      },
    ]);
    return true;
  }

  async history(
    type: string | undefined,
    id: string | undefined,
    params: { count: number; since?: string; offset: number },
  ): Promise<Bundle> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (type) {
      assertResourceType(type);
      args.push(type);
      where.push(`resource_type = $${args.length}`);
    }
    if (id) {
      assertValidId(id);
      args.push(id);
      where.push(`id = $${args.length}`);
    }
    if (params.since) {
      args.push(params.since);
      where.push(`last_updated >= $${args.length}`);
    }
    args.push(params.count, params.offset);
    const r = await this.db.query<{
      resource_type: string;
      id: string;
      version_id: number;
      last_updated: string;
      deleted: boolean;
      content: Resource | null;
    }>(
      `SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY last_updated DESC, seq DESC LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    if (type && id && r.rows.length === 0 && params.offset === 0) throw notFound(`${type}/${id} has no history`);
    return {
      resourceType: 'Bundle',
      type: 'history',
      entry: r.rows.map((row) => ({
        fullUrl: `${row.resource_type}/${row.id}`,
        ...(row.content ? { resource: row.content } : {}),
        request: { method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT', url: `${row.resource_type}/${row.id}` },
        response: {
          status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200',
          lastModified: row.last_updated,
          etag: `W/"${row.version_id}"`,
        },
      })),
    } as Bundle;
  }
}
