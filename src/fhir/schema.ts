/**
 * Generates the FHIR storage schema from the R4 SearchParameter definitions: one table per
 * resource type with a column per search parameter (Medplum's design: one row per resource,
 * one table per search), plus one shared history table that doubles as the change log.
 */
import { loadDefinitions, type ResourceTypeDef, type SearchParamDef } from './definitions.js';
import { paramColumns } from './extract.js';

/**
 * Search parameters worth an index: the ones every workflow filters by. Others still work,
 * with a scan of the type's table. Each GIN index costs ingest throughput, so the list is short.
 */
const INDEXED_ARRAY_PARAMS = new Set([
  'identifier',
  'patient',
  'subject',
  'encounter',
  'code',
  'link',
  'member',
  'based-on',
  'part-of',
  'organization',
  'specimen',
  'result',
]);
const INDEXED_DATE_PARAMS = new Set(['date', 'birthdate', 'authored', 'onset-date', 'recorded-date', 'issued', 'period']);

/** A search parameter whose column has a GIN index of its own (token and reference arrays searched with &&). */
const hasGinIndex = (p: SearchParamDef): boolean => INDEXED_ARRAY_PARAMS.has(p.code) && (p.kind === 'token' || p.kind === 'reference');

export function tableDdl(def: ResourceTypeDef): string {
  const cols = [
    'id text PRIMARY KEY',
    'version_id integer NOT NULL',
    'last_updated timestamptz NOT NULL',
    'content jsonb NOT NULL',
    'compartments text[]',
  ];
  const indexes: string[] = [
    `CREATE INDEX ${def.table}_last_updated ON ${def.table} (last_updated)`,
    `CREATE INDEX ${def.table}_compartments ON ${def.table} USING gin (compartments)`,
  ];
  for (const p of def.params.values()) {
    for (const c of paramColumns(p)) cols.push(`${c.name} ${c.sqlType}`);
    if (!p.column) continue;
    if (hasGinIndex(p)) {
      indexes.push(`CREATE INDEX ${def.table}_${p.column} ON ${def.table} USING gin (${p.column})`);
    }
    if (INDEXED_DATE_PARAMS.has(p.code) && p.kind === 'date') {
      indexes.push(`CREATE INDEX ${def.table}_${p.column}_lo ON ${def.table} (${p.column}_lo)`);
    }
  }
  return `CREATE TABLE ${def.table} (\n  ${cols.join(',\n  ')}\n);\n${indexes.join(';\n')};\n`;
}

/**
 * String parameters answered through the prefix lookup (string_search) rather than a scan of
 * the type's table: the names people search residents, practitioners and places by.
 */
export const PREFIX_INDEXED_STRING_PARAMS = new Set(['name', 'family', 'given']);

export function prefixIndexedParams(def: ResourceTypeDef): SearchParamDef[] {
  return [...def.params.values()].filter((p) => p.kind === 'string' && p.column && PREFIX_INDEXED_STRING_PARAMS.has(p.code));
}

/**
 * Keys under which a string value is found by FHIR's default string search (case-insensitive
 * "starts with", and here also "a word starts with"): the lowercased value and each suffix
 * after a space. A prefix range over these keys is exactly that match.
 */
export function prefixKeys(values: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const v of values) {
    // Keys are capped so a btree entry stays small; search looks up the query capped the same
    // way and rechecks the full value.
    const lower = v.toLowerCase();
    if (lower) keys.add(lower.slice(0, PREFIX_KEY_MAX));
    for (let i = lower.indexOf(' '); i >= 0; i = lower.indexOf(' ', i + 1)) {
      if (i + 1 < lower.length) keys.add(lower.slice(i + 1, i + 1 + PREFIX_KEY_MAX));
    }
  }
  return [...keys];
}

export const PREFIX_KEY_MAX = 100;

/**
 * Migration 3: resource content as json (stored and returned as written, which PostgreSQL
 * parses about twice as fast as jsonb on COPY and returns without conversion; nothing queries
 * inside it beyond -> and #>>, which json has too), and the string prefix lookup, filled from
 * the rows already stored.
 */
export function fhirSchemaV3Sql(): string {
  const parts = ['ALTER TABLE resource_history ALTER COLUMN content TYPE json USING content::json;'];
  parts.push(`CREATE TABLE string_search (
  resource_type text NOT NULL,
  code text NOT NULL,
  key text COLLATE "C" NOT NULL,
  id text NOT NULL
);
CREATE INDEX string_search_prefix ON string_search (resource_type, code, key);
CREATE INDEX string_search_id ON string_search (resource_type, id);`);
  for (const def of loadDefinitions().values()) {
    parts.push(`ALTER TABLE ${def.table} ALTER COLUMN content TYPE json USING content::json;`);
    for (const p of prefixIndexedParams(def)) {
      // The same keys as prefixKeys(): the lowercased value and every suffix after a space.
      parts.push(`INSERT INTO string_search (resource_type, code, key, id)
SELECT DISTINCT '${def.type}', '${p.code}', left(k.key, ${PREFIX_KEY_MAX}), t.id FROM ${def.table} t, unnest(t.${p.column}) v,
  LATERAL (SELECT lower(v) AS lv) l,
  LATERAL (SELECT l.lv AS key UNION SELECT substr(l.lv, i + 1) FROM generate_series(1, length(l.lv) - 1) i WHERE substr(l.lv, i, 1) = ' ') k
WHERE k.key <> '';`);
    }
  }
  return parts.join('\n');
}

/**
 * Migration 5: identifier indexes without GIN's pending list. With fastupdate on, new entries
 * wait in an unsorted list that every search scans until VACUUM merges it; an identifier lookup
 * (every conditional create or update, so every HL7 message) went from 0.25 ms to 13 ms with
 * 6,000 pending registrations. Identifier rows carry two or three tokens, so inserting them
 * straight into the tree costs ingest little.
 */
export function fhirSchemaV5Sql(): string {
  const parts: string[] = [];
  for (const def of loadDefinitions().values()) {
    const p = def.params.get('identifier');
    if (!p?.column || !INDEXED_ARRAY_PARAMS.has(p.code) || p.kind !== 'token') continue;
    const index = `${def.table}_${p.column}`;
    parts.push(`ALTER INDEX ${index} SET (fastupdate = off);`, `SELECT gin_clean_pending_list('${index}'::regclass);`);
  }
  return parts.join('\n');
}

/**
 * Migration 6: a resource's content is kept once, in resource_history. The type tables hold the
 * search columns and the current version number; reads take the content of that version from
 * history by its unique index (currentContentSql). Storing it twice made PostgreSQL parse, compress
 * and log every resource twice: bulk import ran 8,500/s with both copies and 13,700/s with one.
 */
export function fhirSchemaV6Sql(): string {
  return [...loadDefinitions().values()].map((def) => `ALTER TABLE ${def.table} DROP COLUMN content;`).join('\n');
}

/**
 * The content of the current version of the row `alias` (with id and version_id columns) of
 * resource type `type`, or of the type in column `typeColumn` of that row: a correlated subquery,
 * so it is always one probe of resource_history's (resource_type, id, version_id) index per
 * returned row, whatever the planner thinks of the table sizes, and after ORDER BY … LIMIT only
 * for the rows returned.
 */
export function currentContentSql(alias: string, type: string | { typeColumn: string }): string {
  const typeSql = typeof type === 'string' ? `'${type}'` : `${alias}.${type.typeColumn}`;
  return `(SELECT h.content FROM resource_history h WHERE h.resource_type = ${typeSql} AND h.id = ${alias}.id AND h.version_id = ${alias}.version_id)`;
}

/**
 * Migration 7: history content compressed with LZ4 where the server has it (PostgreSQL builds
 * from Debian and PGDG do; PGlite does not and keeps pglz). Content over 2 kB is compressed on
 * write and decompressed on read; pglz costs several times more CPU both ways.
 */
export function fhirSchemaV7Sql(): string {
  return `DO $$ BEGIN
  ALTER TABLE resource_history ALTER COLUMN content SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;`;
}

/**
 * Migration 10: the type tables' GIN indexes (compartments and the indexed token and reference
 * columns) hold only rows that have a value. A GIN index keeps an entry even for a NULL item, so
 * every resource paid one insertion into every GIN index of its table, most of them for values it
 * does not have (an Observation has no basedOn, partOf, specimen or identifier in most systems).
 * Searches are unaffected: they test these columns with `&&` or `@>`, which are strict, so the
 * planner knows a matching row is not NULL and uses the partial index; `:missing` never used them.
 * Measured on 200,000 Synthea resources: PostgreSQL's CPU per imported resource 60 → 51 µs.
 * Identifier indexes keep `fastupdate = off` (migration 5).
 */
export function fhirSchemaV10Sql(): string {
  const parts: string[] = [];
  for (const def of loadDefinitions().values()) {
    const columns = ['compartments'];
    for (const p of def.params.values()) if (p.column && hasGinIndex(p)) columns.push(p.column);
    for (const column of columns) {
      const index = `${def.table}_${column}`;
      const options = def.params.get('identifier')?.column === column ? ' WITH (fastupdate = off)' : '';
      parts.push(
        `DROP INDEX ${index};`,
        `CREATE INDEX ${index} ON ${def.table} USING gin (${column})${options} WHERE ${column} IS NOT NULL;`,
      );
    }
  }
  return parts.join('\n');
}

export function fhirSchemaSql(): string {
  const parts = [
    `CREATE TABLE resource_history (
  seq bigserial PRIMARY KEY,
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  content jsonb
);
CREATE UNIQUE INDEX resource_history_version ON resource_history (resource_type, id, version_id);
CREATE INDEX resource_history_type_time ON resource_history (resource_type, last_updated);
CREATE INDEX resource_history_time ON resource_history (last_updated);`,
  ];
  for (const def of loadDefinitions().values()) parts.push(tableDdl(def));
  return parts.join('\n');
}
