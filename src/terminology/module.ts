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
import { labTables } from './targets.js';

export const terminologyModule: YifangModule = {
  name: 'terminology',
  migrations: {
    range: [440, 449],
    list: [{ version: 440, name: 'terminology-unmapped', sql: sqlFile(new URL('./migrations/440_terminology.sql', import.meta.url)) }],
  },
  async register(ctx) {
    labTables(); // a bad config/terminology/lab-tests.json stops the server here, naming the entry
    registerTerminologyRoutes(ctx);
  },
};

export default terminologyModule;
