/**
 * The core schema (versions 1–99): the platform's own tables (users, sessions, processor
 * cursors) and the FHIR R4 store. Version 2's SQL is generated from the pinned R4 definitions,
 * so it is as fixed as a hand-written file.
 */
import { sqlFile, type MigrationSource } from '../platform/migrations.js';
import { fhirSchemaSql, fhirSchemaV10Sql, fhirSchemaV3Sql, fhirSchemaV5Sql, fhirSchemaV6Sql, fhirSchemaV7Sql } from './schema.js';

export const CORE_MIGRATIONS: MigrationSource = {
  module: 'core',
  range: [1, 99],
  migrations: [
    { version: 1, name: 'platform', sql: sqlFile(new URL('../platform/migrations/001_platform.sql', import.meta.url)) },
    { version: 2, name: 'fhir-r4-tables', sql: fhirSchemaSql },
    { version: 3, name: 'fhir-json-content-and-string-prefix', sql: fhirSchemaV3Sql },
    { version: 4, name: 'processor-gaps', sql: sqlFile(new URL('../platform/migrations/004_processor_gaps.sql', import.meta.url)) },
    { version: 5, name: 'fhir-identifier-index-without-pending-list', sql: fhirSchemaV5Sql },
    { version: 6, name: 'fhir-content-kept-once-in-history', sql: fhirSchemaV6Sql },
    { version: 7, name: 'fhir-history-content-lz4', sql: fhirSchemaV7Sql },
    {
      version: 8,
      name: 'processor-dead-letters',
      sql: sqlFile(new URL('../platform/migrations/008_processor_dead_letters.sql', import.meta.url)),
    },
    { version: 9, name: 'accounts', sql: sqlFile(new URL('../platform/migrations/009_accounts.sql', import.meta.url)) },
    { version: 10, name: 'fhir-gin-indexes-without-nulls', sql: fhirSchemaV10Sql },
    { version: 20, name: 'audit-chain', sql: sqlFile(new URL('../platform/migrations/020_audit_chain.sql', import.meta.url)) },
    { version: 21, name: 'break-glass', sql: sqlFile(new URL('../platform/migrations/021_break_glass.sql', import.meta.url)) },
  ],
};
