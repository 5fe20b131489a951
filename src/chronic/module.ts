/**
 * Chronic care, immunization prescriptions, family-doctor contracts, referrals, education and
 * indicators (issue #6) as one module: one change-log processor feeds every derived table.
 */
import type { YifangModule } from '../platform/module.js';
import { loadChronicConfig } from './context.js';
import { chronicProcessor } from './processor.js';
import { registerChronicRoutes } from './routes.js';
import { registerIndicatorRoutes } from '../indicators/routes.js';
import { registerCareRoutes } from '../care/routes.js';
import { registerImmunizationRoutes } from '../immunization/routes.js';

const chronicModule: YifangModule = {
  name: 'chronic',
  processors: ({ repo }) => [chronicProcessor(loadChronicConfig(), repo)],
  async register(ctx) {
    const config = loadChronicConfig();
    registerChronicRoutes(ctx, config);
    registerIndicatorRoutes(ctx, config);
    registerCareRoutes(ctx, config);
    registerImmunizationRoutes(ctx, config);
  },
};

export default chronicModule;
