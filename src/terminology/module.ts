/**
 * Code mapping (术语映射, issue #16): FHIR ConceptMaps from facilities' local codes to the codes
 * signals need, the built-in LOINC table, the resolver the signal processors call, and the queue
 * of codes no map knows yet. The queue is counted and the lookup kept current by the processors
 * that read results (surveillance's visit processor calls noteUnmapped and createLabResolver);
 * this module owns the tables and answers /api/terminology/….
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { registerTerminologyRoutes } from './routes.js';
import type { ConceptMap } from '@medplum/fhirtypes';
import { registerResourceCheck } from '../fhir/validate.js';
import { terminologyTables } from './kinds.js';
import { refuseConceptMap } from './service.js';

export const terminologyModule: YifangModule = {
  name: 'terminology',
  migrations: {
    range: [440, 449],
    list: [
      { version: 440, name: 'terminology-unmapped', sql: sqlFile(new URL('./migrations/440_terminology.sql', import.meta.url)) },
      { version: 441, name: 'terminology-kinds', sql: sqlFile(new URL('./migrations/441_terminology_kinds.sql', import.meta.url)) },
      {
        version: 442,
        name: 'terminology-diagnoses',
        sql: sqlFile(new URL('./migrations/442_terminology_diagnoses.sql', import.meta.url)),
      },
    ],
  },
  async register(ctx) {
    // A bad config/terminology/*.json stops the server here, naming the entry.
    const tables = terminologyTables();
    // ConceptMaps written through /fhir (create, update, Bundle entries) meet the mapping rules too.
    registerResourceCheck('ConceptMap', 'terminology-mapping-rules', (resource) =>
      refuseConceptMap(resource as ConceptMap, tables, { mappingGroupsOnly: true }),
    );
    registerTerminologyRoutes(ctx);
  },
};

export default terminologyModule;
