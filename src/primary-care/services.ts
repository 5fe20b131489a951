/** What primary care's services are given by the routes: the store, the FHIR repository and the rules. */
import type pg from 'pg';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import type { ChronicConfig } from './chronic/context.js';

export interface CareDeps {
  db: Database;
  repo: FhirRepository;
  config: ChronicConfig;
}

/**
 * Writes the route's AuditEvent in the service's transaction (so a write and its audit commit
 * together).
 */
export type AuditIn = (client: pg.PoolClient, entities: string[]) => Promise<void>;

/** Anything that runs a query: the database, or a client inside a transaction. */
export type Sql = Pick<Database, 'query'>;
