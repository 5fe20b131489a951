/**
 * The emergency side of issue #20 (items 6–8): teams and their mobilisation, reserves against
 * the 30-day standard, the emergency mode (平急转换) with daily zero reporting, and drills with
 * after-action reports. Routes in routes.ts; config/emergency/emergency.json is checked at start
 * and a bad file stops it.
 */
import { useModeLookup } from '../lab/index.js';
import { useInvestigationDeadlineLookup } from '../investigation/index.js';
import { useReportDeadlineLookup } from '../surveillance/index.js';
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { currentMode } from './mode.js';
import { registerEmergencyRoutes } from './routes.js';
import type { EmergencyDeps } from './service.js';
import { loadEmergencySettings } from './settings.js';

const emergencyModule: YifangModule = {
  name: 'emergency',
  migrations: {
    range: [760, 779],
    list: [{ version: 760, name: 'emergency', sql: sqlFile(new URL('./migrations/760_emergency.sql', import.meta.url)) }],
  },
  async register(ctx) {
    const deps: EmergencyDeps = { db: ctx.db, repo: ctx.repo, audit: ctx.audit, settings: loadEmergencySettings() };
    registerEmergencyRoutes(ctx, deps);
    // 平急转换: an order naming no mode takes the lab column of the mode in force for its resident's area.
    useModeLookup(ctx.db, async (areaCode, at) => (await currentMode(ctx.db, areaCode, at, { settings: deps.settings })).settings.labMode);
    // …and a report card's deadline is the mode's when that is shorter than the disease's.
    useReportDeadlineLookup(ctx.db, async (client, areaCode, at) => {
      const m = await currentMode(client, areaCode, at, { settings: deps.settings });
      return m.emergency ? m.settings.reportDeadlineHours : undefined;
    });
    // …and so is an investigation's, where the level sets one.
    useInvestigationDeadlineLookup(ctx.db, async (client, areaCode, at) => {
      const m = await currentMode(client, areaCode, at, { settings: deps.settings });
      return m.emergency ? m.settings.investigationDeadlineHours : undefined;
    });
    ctx.onClose(async () => {
      useModeLookup(ctx.db, undefined);
      useReportDeadlineLookup(ctx.db, undefined);
      useInvestigationDeadlineLookup(ctx.db, undefined);
    });
  },
};

export default emergencyModule;
