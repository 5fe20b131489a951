/**
 * Generates the FHIR storage schema from the R4 SearchParameter definitions: one table per
 * resource type with a column per search parameter (Medplum's design: one row per resource,
 * one table per search), plus one shared history table that doubles as the change log.
 */
import { loadDefinitions, type ResourceTypeDef } from './definitions.js';
import { paramColumns } from './extract.js';

/**
 * Search parameters worth an index: the ones every workflow filters by. Others still work,
 * with a scan of the type's table. Each GIN index costs ingest throughput, so the list is short.
 */
const INDEXED_ARRAY_PARAMS = new Set(['identifier', 'patient', 'subject', 'encounter', 'code', 'link', 'member', 'based-on', 'part-of', 'organization', 'specimen', 'result']);
const INDEXED_DATE_PARAMS = new Set(['date', 'birthdate', 'authored', 'onset-date', 'recorded-date', 'issued', 'period']);

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
    if (INDEXED_ARRAY_PARAMS.has(p.code) && (p.kind === 'token' || p.kind === 'reference')) {
      indexes.push(`CREATE INDEX ${def.table}_${p.column} ON ${def.table} USING gin (${p.column})`);
    }
    if (INDEXED_DATE_PARAMS.has(p.code) && p.kind === 'date') {
      indexes.push(`CREATE INDEX ${def.table}_${p.column}_lo ON ${def.table} (${p.column}_lo)`);
    }
  }
  return `CREATE TABLE ${def.table} (\n  ${cols.join(',\n  ')}\n);\n${indexes.join(';\n')};\n`;
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
