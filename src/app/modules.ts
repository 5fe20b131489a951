/**
 * The capabilities the server runs, in start order, and the schema they declare. A module
 * registers its routes, change-log processors, migrations and shutdown hooks through its
 * YifangModule object (src/platform/module.ts).
 * To add one: export a YifangModule from src/<capability>/module.ts and list it here.
 */
import { emergencyModule } from '../emergency/index.js';
import { exportsModule } from '../exports/index.js';
import { CORE_MIGRATIONS } from '../fhir/migrations.js';
import { feedsModule } from '../feeds/index.js';
import { hl7Module } from '../hl7v2/index.js';
import { hospitalFeedsModule } from '../hospital-feeds/index.js';
import { identityModule } from '../identity/index.js';
import { investigationModule } from '../investigation/index.js';
import { labModule } from '../lab/index.js';
import { monthlyReportModule } from '../monthly-report/index.js';
import { checkMigrationSources, migrate, type Migration, type MigrationSource } from '../platform/migrations.js';
import type { Database } from '../platform/db.js';
import type { YifangModule } from '../platform/module.js';
import { portalModule } from '../portal/index.js';
import { portraitModule } from '../portrait/index.js';
import primaryCareModule from '../primary-care/module.js';
import { qualityModule } from '../quality/index.js';
import { registryModule } from '../registry/index.js';
import { scorecardModule } from '../scorecard/index.js';
import { subscriptionsModule } from '../subscriptions/index.js';
import { surveillanceModule } from '../surveillance/index.js';
import { terminologyModule } from '../terminology/index.js';
import { vaccineSupplyModule } from '../vaccine-supply/index.js';

export const MODULES: readonly YifangModule[] = [
  hl7Module,
  feedsModule,
  identityModule,
  primaryCareModule,
  surveillanceModule,
  exportsModule,
  qualityModule,
  terminologyModule,
  registryModule,
  hospitalFeedsModule,
  investigationModule,
  labModule,
  vaccineSupplyModule,
  emergencyModule,
  scorecardModule,
  portalModule,
  portraitModule,
  subscriptionsModule,
  monthlyReportModule,
];

export async function loadModules(): Promise<YifangModule[]> {
  return [...MODULES];
}

/** The core schema followed by every module's migrations (each in its own version range). */
export function migrationSources(modules: readonly YifangModule[] = MODULES): MigrationSource[] {
  return [
    CORE_MIGRATIONS,
    ...modules.flatMap((m) => (m.migrations ? [{ module: m.name, range: m.migrations.range, migrations: m.migrations.list }] : [])),
  ];
}

/** Every migration of the core and the modules, checked (ranges, versions, table owners) and ordered. */
export function allMigrations(modules: readonly YifangModule[] = MODULES): Migration[] {
  return checkMigrationSources(migrationSources(modules));
}

/** Brings a database to the current schema of the core and every module. */
export function migrateAll(db: Database, log?: (msg: string) => void, modules: readonly YifangModule[] = MODULES): Promise<number[]> {
  return migrate(db, migrationSources(modules), log);
}
