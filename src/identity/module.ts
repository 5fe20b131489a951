/**
 * Identity: the master patient index processor (every Patient → a Person), FHIR Patient/$match
 * and Person/$everything, the review queue and audited manual link / unlink / merge / undo
 * (routes.ts; queries and decisions in store.ts and mpi.ts).
 */
import { sqlFile } from '../platform/migrations.js';
import type { Patient } from '@medplum/fhirtypes';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { Mpi } from './mpi.js';
import { registerIdentityRoutes } from './routes.js';
import { registerRecordRoutes } from './record-routes.js';
import { indexPatients } from './search-index.js';

const identityModule: YifangModule = {
  name: 'identity',
  migrations: {
    range: [120, 199],
    list: [
      { version: 120, name: 'identity-mpi', sql: sqlFile(new URL('./migrations/120_identity.sql', import.meta.url)) },
      { version: 121, name: 'identity-households', sql: sqlFile(new URL('./migrations/121_identity_households.sql', import.meta.url)) },
      { version: 122, name: 'identity-record-json', sql: sqlFile(new URL('./migrations/122_identity_record_json.sql', import.meta.url)) },
      { version: 123, name: 'identity-search', sql: sqlFile(new URL('./migrations/123_identity_search.sql', import.meta.url)) },
    ],
  },
  processors({ db, repo }) {
    const mpi = new Mpi(db, repo);
    return [
      {
        name: 'identity-mpi',
        types: ['Patient'],
        async handle(changes, client) {
          // Only the newest version of each Patient in the batch matters.
          const latest = new Map<string, (typeof changes)[number]>();
          for (const c of changes) latest.set(c.id, c);
          const alive: Patient[] = [];
          const deleted: string[] = [];
          for (const c of latest.values()) {
            if (c.deleted || !c.resource) deleted.push(c.id);
            else alive.push(c.resource as Patient);
          }
          // Deletions and links in one pass, so each touched Person and household is written once per step.
          await mpi.applyChanges(client, alive, deleted);
        },
      },
      {
        // The resident search index (search-index.ts): its own cursor, so a store indexed before it existed is caught up from the log.
        name: 'identity-search',
        types: ['Patient'],
        async handle(changes, client) {
          const latest = new Map<string, (typeof changes)[number]>();
          for (const c of changes) latest.set(c.id, c);
          const alive = [...latest.values()].filter((c) => !c.deleted && c.resource).map((c) => c.resource as Patient);
          const deleted = [...latest.values()].filter((c) => c.deleted || !c.resource).map((c) => c.id);
          await indexPatients(client, alive, deleted);
        },
      },
    ];
  },
  async register(ctx: ModuleContext) {
    const mpi = new Mpi(ctx.db, ctx.repo);
    registerIdentityRoutes(ctx, mpi);
    registerRecordRoutes(ctx, mpi);
  },
};

export default identityModule;
