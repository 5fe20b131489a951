/**
 * The bulk write path shared by NDJSON and Bundle import. A resource is prepared once, without
 * the database: validated by the caller, stamped as version 1, its search values extracted and
 * its COPY lines (type table, resource_history, string_search) encoded; the content goes only
 * into resource_history. Preparation therefore overlaps the previous batch's write.
 * At write time the rows go in with COPY as new ids (or, for a Bundle's few hundred rows on
 * PostgreSQL, one multi-row INSERT per table sent as one query). Ids the store already holds
 * (current or deleted) make that attempt fail on a unique index; it is rolled back to a
 * savepoint, one statement finds their last versions, and those few are re-stamped after it and
 * upserted.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Database, Queryable } from '../platform/db.js';
import { copyField, escapeCopy, escapeCopyJson, unescapeCopy } from './copy-format.js';
import { getTypeDef, type ResourceTypeDef } from './definitions.js';
import { patientCompartments } from './extract.js';
import { fastExtractSearchValues } from './fast-extract.js';
import { FIRST_SEARCH_COLUMN, groupBy, prefixEntries, prepareRow, typeColumns, writeRows, type PreparedRow } from './repository.js';

export interface BulkRow {
  def: ResourceTypeDef;
  id: string;
  /**
   * COPY text lines for version 1. Bulk imports keep them UTF-8 encoded: a batch waiting for its
   * write holds neither parsed resources nor large strings, which the collector would otherwise
   * copy. Rows written at once (an HL7 batch, the identity processor's Persons) keep the text.
   */
  typeLine: CopyText;
  historyLine: CopyText;
  prefixLines: CopyText | undefined;
}

export type CopyText = Buffer | string;

const textOf = (t: CopyText): string => (typeof t === 'string' ? t : t.toString('utf8'));

/** COPY data for a list of lines (encoded ones are joined as they are). */
function copyData(lines: CopyText[]): Buffer {
  if (lines.every((l) => typeof l !== 'string')) return Buffer.concat(lines as Buffer[]);
  return Buffer.from(lines.map(textOf).join(''), 'utf8');
}

export const HISTORY_COLUMNS = ['resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'];
const PREFIX_COLUMNS = ['resource_type', 'code', 'key', 'id'];

/**
 * A SELECT of `type, id, v` (each id's last stored version in resource_history; ids never stored
 * are absent) for a type and a list of ids given as SQL expressions. One probe of the
 * (resource_type, id, version_id) index per id, whatever the planner thinks of the table: written
 * as `resource_type = t AND id = ANY(list)`, a planner whose statistics are stale (PGlite has no
 * autovacuum) read every history row of the type through the (resource_type, last_updated) index
 * and filtered them — 200 ms a batch at 90,000 household Groups, growing with the history.
 * `where`: an extra condition on the ids (`x.id`).
 */
export function lastVersionsSql(typeSql: string, idsSql: string, where = ''): string {
  return `SELECT ${typeSql} AS type, x.id, h.v FROM unnest(${idsSql}) AS x(id)
          CROSS JOIN LATERAL (SELECT version_id AS v FROM resource_history
                              WHERE resource_type = ${typeSql} AND id = x.id ORDER BY version_id DESC LIMIT 1) h${where ? ` WHERE ${where}` : ''}`;
}

function stamp(resource: Resource, version: number, lastUpdated: string): Resource {
  return { ...resource, meta: stampedMeta(resource.meta, String(version), lastUpdated) } as Resource;
}

/**
 * A copy of a meta with the version and time set: what `{ ...meta, versionId, lastUpdated }`
 * gives (the same keys in the same order), copied key by key. The spread of an object that
 * JSON.parse built took V8's slow path, ~1.4 µs a resource against ~0.1 µs for this loop.
 */
function stampedMeta(meta: Resource['meta'], versionId: string, lastUpdated: string): NonNullable<Resource['meta']> {
  const out: Record<string, unknown> = {};
  if (meta) for (const k of Object.keys(meta)) out[k] = (meta as Record<string, unknown>)[k];
  out['versionId'] = versionId;
  out['lastUpdated'] = lastUpdated;
  return out as NonNullable<Resource['meta']>;
}

/**
 * Prepares a validated resource with an id for the bulk path (no database access). The resource
 * is taken over: its meta is stamped in place (every caller passes a freshly parsed or rewritten
 * copy, and a copy of each imported resource is a cost worth not paying). `text`: keep the
 * lines as strings, for rows written straight away.
 */
export function prepareBulkRow(resource: Resource, lastUpdated: string, options: { text?: boolean } = {}): BulkRow {
  const def = getTypeDef(resource.resourceType)!;
  resource.meta = stampedMeta(resource.meta, '1', lastUpdated);
  const cols = typeColumns(def);
  const search = fastExtractSearchValues(resource);
  const content = escapeCopyJson(JSON.stringify(resource));
  const id = escapeCopy(resource.id!);
  let typeLine = `${id}\t1\t${lastUpdated}\t${copyField(patientCompartments(resource, search, def))}`;
  for (let i = FIRST_SEARCH_COLUMN; i < cols.all.length; i++) typeLine += '\t' + copyField(search[cols.all[i]!]);
  let prefixLines = '';
  if (cols.prefixParams.length) {
    for (const [code, keys] of prefixEntries(cols, search))
      for (const k of keys) prefixLines += `${def.type}\t${code}\t${escapeCopy(k)}\t${id}\n`;
  }
  const historyLine = `${def.type}\t${id}\t1\t${lastUpdated}\tf\t${content}\n`;
  if (options.text) return { def, id: resource.id!, typeLine: typeLine + '\n', historyLine, prefixLines: prefixLines || undefined };
  return {
    def,
    id: resource.id!,
    typeLine: Buffer.from(typeLine + '\n'),
    historyLine: Buffer.from(historyLine),
    prefixLines: prefixLines ? Buffer.from(prefixLines) : undefined,
  };
}

/**
 * A first version encoded as SQL VALUES tuples, for rows PostgreSQL takes at once in one
 * multi-row INSERT per table (a transaction Bundle over REST): the same fields as the COPY lines
 * of prepareBulkRow, written straight into E'' literals (whose backslash escapes are COPY's), so
 * nothing is encoded twice.
 */
export interface SqlRow {
  def: ResourceTypeDef;
  id: string;
  typeTuple: string;
  historyTuple: string;
  /** string_search tuples, comma-separated ('' when none). */
  prefixTuples: string;
}

/** COPY-escaped text as an E'' literal. */
const sqlText = (copyText: string): string => `E'${copyText.includes("'") ? copyText.replaceAll("'", "''") : copyText}'`;
const sqlField = (value: unknown): string => (value === null || value === undefined ? 'NULL' : sqlText(copyField(value)));

/** prepareBulkRow's work for a row sent as SQL (the resource is stamped as version 1 in place). */
export function prepareSqlRow(resource: Resource, lastUpdated: string): SqlRow {
  const def = getTypeDef(resource.resourceType)!;
  resource.meta = stampedMeta(resource.meta, '1', lastUpdated);
  const cols = typeColumns(def);
  const search = fastExtractSearchValues(resource);
  const id = sqlText(escapeCopy(resource.id!));
  const at = `'${lastUpdated}'`;
  let typeTuple = `(${id},1,${at},${sqlField(patientCompartments(resource, search, def))}`;
  for (let i = FIRST_SEARCH_COLUMN; i < cols.all.length; i++) {
    const v = search[cols.all[i]!];
    typeTuple += v === undefined || v === null ? ',NULL' : ',' + sqlText(copyField(v));
  }
  typeTuple += ')';
  let prefixTuples = '';
  if (cols.prefixParams.length) {
    const type = `'${def.type}'`;
    for (const [code, keys] of prefixEntries(cols, search))
      for (const k of keys) prefixTuples += `${prefixTuples ? ',' : ''}(${type},'${code}',${sqlText(escapeCopy(k))},${id})`;
  }
  const historyTuple = `('${def.type}',${id},1,${at},false,${sqlText(escapeCopyJson(JSON.stringify(resource)))})`;
  return { def, id: resource.id!, typeTuple, historyTuple, prefixTuples };
}

/**
 * Writes rows whose ids the caller knows to be new as version 1: one INSERT per table, all sent
 * as one simple-protocol query (one round trip). PostgreSQL only; PGlite takes COPY lines.
 */
export async function writeNewSqlRows(client: Queryable, rows: SqlRow[]): Promise<void> {
  if (!rows.length) return;
  const statements: string[] = [];
  for (const [, list] of groupBy(rows, (r) => r.def.type)) {
    const def = list[0]!.def;
    statements.push(`INSERT INTO ${def.table} (${typeColumns(def).all.join(',')}) VALUES ${list.map((r) => r.typeTuple).join(',')}`);
  }
  statements.push(`INSERT INTO resource_history (${HISTORY_COLUMNS.join(',')}) VALUES ${rows.map((r) => r.historyTuple).join(',')}`);
  const prefix = rows.filter((r) => r.prefixTuples).map((r) => r.prefixTuples);
  if (prefix.length) statements.push(`INSERT INTO string_search (${PREFIX_COLUMNS.join(',')}) VALUES ${prefix.join(',')}`);
  await client.query(statements.join(';\n'));
}

/**
 * Writes prepared rows inside the caller's transaction. Within the rows, a later one with the
 * same type and id wins.
 */
export async function writeBulkRows(db: Database, client: pg.PoolClient, rows: BulkRow[]): Promise<void> {
  if (!rows.length) return;
  const latest = new Map<string, BulkRow>();
  for (const r of rows) {
    const key = `${r.def.type}/${r.id}`;
    // Delete first so the later row also takes the later position.
    if (latest.has(key)) latest.delete(key);
    latest.set(key, r);
  }
  const unique = latest.size === rows.length ? rows : [...latest.values()];
  const byType = groupBy(unique, (r) => r.def.type);

  // Commits of bulk writes do not wait for the WAL flush (this transaction only): after a crash
  // the last moments of an import may be missing (never half-written), and imports are re-runnable.
  // The version lookup below must use its index: during a first import the planner's statistics
  // say the table is nearly empty and it would scan the whole history once per batch.
  await client.query(
    db.kind === 'postgres' ? 'SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off' : 'SET LOCAL enable_seqscan = off',
  );

  // New ids (a first import: the bulk case) go straight in, without looking up 10,000 versions
  // that are not there (700 ms a batch at 400,000 resources). When the store already holds one of
  // them, the unique indexes say so, the attempt is rolled back to its savepoint and the versions
  // are looked up; after that the lookup comes first until a batch turns out to be all new.
  if (!expectKnown.has(db)) {
    await client.query('SAVEPOINT bulk_new_ids');
    try {
      await writeNew(db, client, byType, new Map());
      await client.query('RELEASE SAVEPOINT bulk_new_ids');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== UNIQUE_VIOLATION) throw e;
      await client.query('ROLLBACK TO SAVEPOINT bulk_new_ids');
    }
  }

  // Last stored version of every id (deleted ones too, so a re-created resource continues its history).
  const args: unknown[] = [];
  const selects: string[] = [];
  for (const [type, list] of byType) {
    args.push(
      type,
      list.map((r) => r.id),
    );
    selects.push(lastVersionsSql(`$${args.length - 1}::text`, `$${args.length}::text[]`));
  }
  const known = await client.query<{ type: string; id: string; v: number }>(selects.join(' UNION ALL '), args);
  const versions = new Map(known.rows.map((r) => [`${r.type}/${r.id}`, r.v]));
  if (versions.size) expectKnown.add(db);
  else expectKnown.delete(db);
  await writeNew(db, client, byType, versions);
}

/**
 * Writes rows whose ids the caller knows to be new (no current or deleted version) as version 1,
 * inside the caller's transaction: the COPY (or one-statement INSERT) half of writeBulkRows,
 * without its savepoint and version lookup. A row whose id exists after all fails on the unique
 * indexes, and the caller's transaction with it.
 */
export async function writeNewBulkRows(db: Database, client: pg.PoolClient, rows: BulkRow[]): Promise<void> {
  if (rows.length)
    await writeNew(
      db,
      client,
      groupBy(rows, (r) => r.def.type),
      new Map(),
    );
}

const UNIQUE_VIOLATION = '23505';
/** Stores whose last bulk batch met ids they already held: look versions up first. */
const expectKnown = new WeakSet<Database>();

/** Writes rows whose id is not in `versions` as version 1 (COPY), the others as the next version. */
async function writeNew(db: Database, client: pg.PoolClient, byType: Map<string, BulkRow[]>, versions: Map<string, number>): Promise<void> {
  const updates: PreparedRow[] = [];
  const copies: { table: string; columns: string[]; lines: CopyText[] }[] = [];
  const history: CopyText[] = [];
  const prefix: CopyText[] = [];
  let fresh = 0;
  for (const [, list] of byType) {
    const def = list[0]!.def;
    const lines: CopyText[] = [];
    for (const r of list) {
      const previous = versions.size ? versions.get(`${def.type}/${r.id}`) : undefined;
      if (previous === undefined) {
        lines.push(r.typeLine);
        history.push(r.historyLine);
        if (r.prefixLines) prefix.push(r.prefixLines);
      } else {
        const resource = contentOf(r);
        updates.push(prepareRow(stamp(resource, previous + 1, resource.meta!.lastUpdated!)));
      }
    }
    fresh += lines.length;
    if (lines.length) copies.push({ table: def.table, columns: typeColumns(def).all, lines });
  }
  if (history.length) copies.push({ table: 'resource_history', columns: HISTORY_COLUMNS, lines: history });
  if (prefix.length) copies.push({ table: 'string_search', columns: PREFIX_COLUMNS, lines: prefix });
  if (db.kind === 'postgres' && fresh <= ONE_STATEMENT_ROWS) {
    // A Bundle spans a dozen types: one COPY each would be a dozen round trips to the server.
    if (copies.length) await client.query(insertStatements(copies));
  } else {
    for (const c of copies) await db.copyFrom(client, c.table, c.columns, copyData(c.lines));
  }
  if (updates.length) await writeRows(client, updates);
}

/** Up to this many new rows, PostgreSQL gets one multi-statement INSERT instead of a COPY per table. */
const ONE_STATEMENT_ROWS = 1000;

/**
 * The same rows as INSERT statements in one simple-protocol query (one round trip): every COPY
 * field becomes an E'' literal or NULL, and PostgreSQL converts it to the column's type as COPY
 * would. COPY's text escapes (\\, \t, \n, \r, octal, hex) are exactly those of an E'' string,
 * so a field goes in as it is, with only its quotes doubled.
 */
function insertStatements(copies: { table: string; columns: string[]; lines: CopyText[] }[]): string {
  const statements: string[] = [];
  for (const c of copies) {
    const tuples: string[] = [];
    for (const chunk of c.lines) {
      for (const line of textOf(chunk).split('\n')) if (line) tuples.push(sqlTuple(line));
    }
    statements.push(`INSERT INTO ${c.table} (${c.columns.join(',')}) VALUES ${tuples.join(',')}`);
  }
  return statements.join(';\n');
}

/**
 * One COPY line as a VALUES tuple, in three passes over the line rather than a string per field
 * (a type table has ~60 columns, most of them NULL). After quotes are doubled, the only `E'\N'`
 * left is a whole NULL field: COPY writes `\N` for NULL alone, and a quote from the data always
 * comes doubled, so it can neither open nor close that pattern.
 */
function sqlTuple(line: string): string {
  const quoted = line.includes("'") ? line.replaceAll("'", "''") : line;
  return `(E'${quoted.replaceAll('\t', "',E'")}')`.replaceAll("E'\\N'", 'NULL');
}

/** The resource back from its history line (the last field, COPY-escaped JSON). */
function contentOf(row: BulkRow): Resource {
  const line = textOf(row.historyLine).slice(0, -1);
  return JSON.parse(unescapeCopy(line.slice(line.lastIndexOf('\t') + 1))) as Resource;
}
