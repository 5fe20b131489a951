/**
 * Registry capability (机构与地点): organizations, areas and places as FHIR Organization and
 * Location resources, with lookup tables for maps and feeds; imported from CSV, GeoJSON and
 * TopoJSON files and edited on the admin screens. Routes in routes.ts, import in import.ts.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { registryCodes } from './codes.js';
import { registryProcessor } from './processor.js';
import { registerRegistryRoutes } from './routes.js';

const registryModule: YifangModule = {
  name: 'registry',
  migrations: {
    range: [600, 619],
    list: [{ version: 600, name: 'registry', sql: sqlFile(new URL('./migrations/600_registry.sql', import.meta.url)) }],
  },
  processors: () => [registryProcessor()],
  async register(ctx) {
    // A bad codes file stops the start, naming the problem.
    registryCodes();
    await registerRegistryRoutes(ctx);
  },
};

export default registryModule;
