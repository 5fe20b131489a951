/**
 * Chronic care, immunization prescriptions, family-doctor contracts, referrals, education and
 * indicators (issue #6) as one module: one change-log processor feeds every derived table.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { loadChronicConfig } from './chronic/context.js';
import { chronicProcessor } from './chronic/processor.js';
import { registerChronicRoutes } from './chronic/routes.js';
import { registerIndicatorRoutes } from './indicators/routes.js';
import { registerCareRoutes } from './care/routes.js';
import { registerImmunizationRoutes } from './immunization/routes.js';
import { loadProgrammes } from './programmes/definition.js';
import { programmesProcessor } from './programmes/processor.js';
import { registerProgrammeRoutes } from './programmes/routes.js';
import { startProgrammeRefresh } from './programmes/refresh.js';

const chronicModule: YifangModule = {
  name: 'primary-care',
  migrations: {
    range: [300, 399],
    list: [
      { version: 300, name: 'chronic-care', sql: sqlFile(new URL('./migrations/300_chronic.sql', import.meta.url)) },
      { version: 301, name: 'care-key-populations', sql: sqlFile(new URL('./migrations/301_key_populations.sql', import.meta.url)) },
      { version: 302, name: 'care-contract-paging', sql: sqlFile(new URL('./migrations/302_contract_paging.sql', import.meta.url)) },
      { version: 360, name: 'programmes', sql: sqlFile(new URL('./programmes/migrations/360_programmes.sql', import.meta.url)) },
      {
        version: 361,
        name: 'programme-summaries',
        sql: sqlFile(new URL('./programmes/migrations/361_programme_summaries.sql', import.meta.url)),
      },
      {
        version: 362,
        name: 'programme-readings',
        sql: sqlFile(new URL('./programmes/migrations/362_programme_readings.sql', import.meta.url)),
      },
      {
        version: 363,
        name: 'programme-registrations',
        sql: sqlFile(new URL('./programmes/migrations/363_programme_registrations.sql', import.meta.url)),
      },
      {
        version: 364,
        name: 'programme-partitions',
        sql: sqlFile(new URL('./programmes/migrations/364_programme_partitions.sql', import.meta.url)),
      },
      {
        version: 365,
        name: 'programme-population',
        sql: sqlFile(new URL('./programmes/migrations/365_programme_population.sql', import.meta.url)),
      },
      {
        version: 366,
        name: 'programme-counts',
        sql: sqlFile(new URL('./programmes/migrations/366_programme_counts.sql', import.meta.url)),
      },
      {
        version: 367,
        name: 'programme-death',
        sql: sqlFile(new URL('./programmes/migrations/367_programme_death.sql', import.meta.url)),
      },
      {
        version: 368,
        name: 'worklist-order',
        sql: sqlFile(new URL('./programmes/migrations/368_worklist_order.sql', import.meta.url)),
      },
      {
        version: 369,
        name: 'patient-first-keys',
        sql: sqlFile(new URL('./programmes/migrations/369_patient_first_keys.sql', import.meta.url)),
      },
      {
        version: 370,
        name: 'programme-derived',
        sql: sqlFile(new URL('./programmes/migrations/370_programme_derived.sql', import.meta.url)),
      },
    ],
  },
  processors: ({ repo }) => [chronicProcessor(loadChronicConfig(), repo), programmesProcessor(loadProgrammes())],
  async register(ctx) {
    const config = loadChronicConfig();
    registerChronicRoutes(ctx, config);
    registerIndicatorRoutes(ctx, config);
    registerCareRoutes(ctx, config);
    registerImmunizationRoutes(ctx, config);
    const programmes = loadProgrammes();
    registerProgrammeRoutes(ctx, programmes);
    startProgrammeRefresh(ctx, programmes);
  },
};

export default chronicModule;
