/**
 * The lab loop (采送检报, issue #20): specimens from order to report by barcode scans, with a
 * clock per leg, a breach scan every 30 s and an append-only chain of custody. Routes in
 * routes.ts; the limits (config/lab/limits.json) are checked at start and a bad file stops it.
 */
import { sqlFile } from '../platform/migrations.js';
import { classifyCaseFromLab, surveillanceRuntime } from '../surveillance/index.js';
import type { YifangModule } from '../platform/module.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { loadLabLimits } from './limits.js';
import { registerLabRoutes } from './routes.js';
import { applyCaseUpdates, deliverDue } from './results.js';
import { loadResultsConfig } from './results-config.js';
import { registerResultsRoutes } from './routes-results.js';
import { labRuntime } from './runtime.js';
import { scanBreaches, type LabDeps } from './service.js';

/** How often the breach scan runs: a breach is recorded within this long of its limit. */
export const BREACH_SCAN_MS = 30_000;
/** How often the delivery loop looks for results due (it is also poked at every verification and resend). */
export const DELIVERY_POLL_MS = 1_000;

const labModule: YifangModule = {
  name: 'lab',
  migrations: {
    range: [720, 739],
    list: [
      { version: 720, name: 'lab loop', sql: sqlFile(new URL('./migrations/720_lab.sql', import.meta.url)) },
      { version: 721, name: 'lab indexes', sql: sqlFile(new URL('./migrations/721_lab_indexes.sql', import.meta.url)) },
      { version: 722, name: 'lab results back', sql: sqlFile(new URL('./migrations/722_lab_results_back.sql', import.meta.url)) },
      { version: 723, name: 'lab mass testing', sql: sqlFile(new URL('./migrations/723_lab_mass_testing.sql', import.meta.url)) },
    ],
  },
  async register(ctx) {
    const deps: LabDeps = { db: ctx.db, repo: ctx.repo, audit: ctx.audit, limits: loadLabLimits(), results: loadResultsConfig() };
    const delivery = new PollingLoop(
      async () => {
        const round = await deliverDue(deps);
        if (round.parked) ctx.log(`lab: ${round.parked} result message(s) parked (see /api/lab/outbox?status=parked)`);
        await applyCaseUpdates(deps);
      },
      DELIVERY_POLL_MS,
      'lab results back',
    );
    deps.onQueued = () => delivery.poke();
    // A positive moves its report card's classification through surveillance's own rules (订正 once submitted).
    const surveillance = surveillanceRuntime.get(ctx.db);
    if (surveillance)
      deps.classifier = (req) =>
        classifyCaseFromLab(surveillance.reporting, req, 'lab', (client, what) =>
          ctx.audit.recordNow(client, {
            user: { username: 'lab', displayName: '实验室结果回传', roles: [] },
            action: 'U',
            subtype: what.subtype,
            entities: what.entities,
            outcome: 'success',
            outcomeText: `${what.outcomeText ?? ''} (lab result ${req.barcode}, ${req.testCode})`,
            patients: [`Patient/${req.patientId}`],
          }),
        );
    registerLabRoutes(ctx, deps);
    registerResultsRoutes(ctx, deps);
    labRuntime.set(ctx.db, deps);
    const loop = new PollingLoop(
      async () => {
        const found = await scanBreaches(ctx.db);
        if (found.length) {
          const units = [...new Set(found.map((b) => b.unit))];
          ctx.log(`lab: ${found.length} clock breach(es) recorded for ${units.slice(0, 10).join(', ')}${units.length > 10 ? ', …' : ''}`);
        }
      },
      BREACH_SCAN_MS,
      'lab breach scan',
    );
    loop.start();
    delivery.start();
    ctx.onClose(async () => {
      labRuntime.delete(ctx.db);
      await delivery.stop();
      await loop.stop();
    });
  },
};

export default labModule;
