/**
 * Set-at-a-time helpers for code that keeps derived resources current (the identity index's
 * Person and household Group resources): one statement finds and locks the current versions of
 * many resources of several types, one statement per type deletes many, and first versions go in
 * by COPY. They do what FhirRepository's per-resource read-modify-write and delete do, without a
 * round trip per resource.
 */
import type pg from 'pg';
import type { Database, Queryable } from '../platform/db.js';
import { HISTORY_COLUMNS, lastVersionsSql, type BulkRow, type CopyText } from './bulk-write.js';
import { getTypeDef } from './definitions.js';
import { groupBy, typeColumns } from './repository.js';

/** What the store holds for an id: its last version, and whether that version is current (not a deletion). */
export interface StoredVersion {
  version: number;
  current: boolean;
}

/**
 * The last stored version of each id, by `Type/id`, in one statement. Current rows are locked
 * (FOR UPDATE, as a read-modify-write would); ids without a current row are looked up in the
 * history, so a deleted resource continues its version sequence. Ids never stored are absent.
 */
export async function lockVersions(client: Queryable, idsByType: Map<string, string[]>): Promise<Map<string, StoredVersion>> {
  const out = new Map<string, StoredVersion>();
  const ctes: string[] = [];
  const selects: string[] = [];
  const args: unknown[] = [];
  for (const [type, ids] of idsByType) {
    if (!ids.length) continue;
    const def = getTypeDef(type)!;
    args.push(type, ids);
    const t = `$${args.length - 1}::text`;
    const list = `$${args.length}::text[]`;
    const cur = `cur${ctes.length}`;
    ctes.push(`${cur} AS (SELECT id, version_id FROM ${def.table} WHERE id = ANY(${list}) FOR UPDATE)`);
    selects.push(
      `SELECT ${t} AS type, id, version_id AS v, true AS current FROM ${cur}`,
      `SELECT type, id, v, false FROM (${lastVersionsSql(t, list, `x.id NOT IN (SELECT id FROM ${cur})`)}) past${ctes.length}`,
    );
  }
  if (!ctes.length) return out;
  const r = await client.query<{ type: string; id: string; v: number; current: boolean }>(
    `WITH ${ctes.join(', ')} ${selects.join(' UNION ALL ')}`,
    args,
  );
  for (const row of r.rows) out.set(`${row.type}/${row.id}`, { version: Number(row.v), current: row.current });
  return out;
}

/**
 * Deletes the current versions of these resources of one type (ids without one are skipped): the
 * type table rows and their string_search keys go, and each gets a deletion version in the
 * history, as FhirRepository.delete does for one. Returns the ids deleted.
 */
export async function deleteCurrent(client: Queryable, type: string, ids: string[], lastUpdated: string): Promise<string[]> {
  if (!ids.length) return [];
  const def = getTypeDef(type)!;
  const gone = await client.query<{ id: string; version_id: number }>(
    `DELETE FROM ${def.table} WHERE id = ANY($1::text[]) RETURNING id, version_id`,
    [ids],
  );
  if (!gone.rows.length) return [];
  const deleted = gone.rows.map((r) => r.id);
  if (typeColumns(def).prefixParams.length)
    await client.query('DELETE FROM string_search WHERE resource_type = $1 AND id = ANY($2::text[])', [type, deleted]);
  await client.query(
    `INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content)
     SELECT $1, x.id, x.v + 1, $4::timestamptz, true, NULL FROM unnest($2::text[], $3::int[]) AS x(id, v)`,
    [type, deleted, gone.rows.map((r) => Number(r.version_id)), lastUpdated],
  );
  return deleted;
}

/**
 * Writes prepared first versions (ids known to be new) by COPY, one per table, inside the
 * caller's transaction, on both stores. writeNewBulkRows sends up to 1,000 rows to PostgreSQL as
 * one multi-row INSERT instead (a Bundle spans a dozen types, and a COPY each would be a dozen
 * round trips); for a few hundred rows of one or two types the server parses that statement for
 * longer than it takes the COPYs (500 Persons: 26 ms of server CPU against 16).
 */
export async function copyNewRows(db: Database, client: pg.PoolClient, rows: BulkRow[]): Promise<void> {
  if (!rows.length) return;
  const text = (lines: CopyText[]) => lines.map((l) => (typeof l === 'string' ? l : l.toString('utf8'))).join('');
  for (const [, list] of groupBy(rows, (r) => r.def.type))
    await db.copyFrom(client, list[0]!.def.table, typeColumns(list[0]!.def).all, text(list.map((r) => r.typeLine)));
  await db.copyFrom(client, 'resource_history', HISTORY_COLUMNS, text(rows.map((r) => r.historyLine)));
  const prefix = rows.flatMap((r) => (r.prefixLines ? [r.prefixLines] : []));
  if (prefix.length) await db.copyFrom(client, 'string_search', ['resource_type', 'code', 'key', 'id'], text(prefix));
}
