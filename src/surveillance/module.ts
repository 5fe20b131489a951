/**
 * Surveillance capability: report cards, signal counts, detection, fusion and alerts.
 * Configuration is validated before anything registers: an unknown signal or method stops the
 * server with a message naming it.
 */
import { sqlFile } from '../platform/migrations.js';
import type { Condition } from '@medplum/fhirtypes';
import type { YifangModule } from '../platform/module.js';
import { WebhookDeliverer } from './alerts/webhooks.js';
import { loadSurveillanceConfig } from './config.js';
import { SurveillanceEngine } from './engine.js';
import { createDraftFromCondition, type ReportingDeps } from './reporting/store.js';
import { registerReportingQualityRoutes } from './reporting/quality-routes.js';
import { registerSurveillanceRoutes } from './routes.js';
import { registerScanRoutes } from './scan-routes.js';
import { FeedFollower } from './signals/feed-follower.js';
import type { TouchListener } from './signals/counts.js';
import { createVisitProcessor } from './signals/visit-processor.js';

/** A processor changed a count: the engine (main thread) re-runs detection for it. */
const COUNTS_TOUCHED = 'surveillance:counts-touched';

const surveillanceModule: YifangModule = {
  name: 'surveillance',
  migrations: {
    range: [200, 299],
    list: [
      { version: 200, name: 'surveillance-reporting', sql: sqlFile(new URL('./migrations/200_reporting.sql', import.meta.url)) },
      { version: 210, name: 'surveillance-signals', sql: sqlFile(new URL('./migrations/210_signals.sql', import.meta.url)) },
      { version: 250, name: 'surveillance-alerts', sql: sqlFile(new URL('./migrations/250_alerts.sql', import.meta.url)) },
      { version: 251, name: 'surveillance-weak-evidence', sql: sqlFile(new URL('./migrations/251_weak_evidence.sql', import.meta.url)) },
      { version: 252, name: 'surveillance-sentinel', sql: sqlFile(new URL('./migrations/252_sentinel.sql', import.meta.url)) },
      { version: 253, name: 'surveillance-scan', sql: sqlFile(new URL('./migrations/253_scan.sql', import.meta.url)) },
      {
        version: 254,
        name: 'surveillance-reporting-quality',
        sql: sqlFile(new URL('./migrations/254_reporting_quality.sql', import.meta.url)),
      },
    ],
  },
  processors({ db, repo, emit }) {
    const config = loadSurveillanceConfig();
    const touch: TouchListener = (signal, communityCode, day) => emit(COUNTS_TOUCHED, [signal, communityCode, day]);
    const reporting: ReportingDeps = { db, repo, notifiable: config.notifiable, touch };
    return [
      createVisitProcessor(config.syndromes, touch),
      {
        name: 'surveillance-report-drafts',
        types: ['Condition'],
        async handle(changes, client) {
          for (const c of changes) if (c.resource && !c.deleted) await createDraftFromCondition(reporting, client, c.resource as Condition);
        },
      },
    ];
  },
  async register(ctx) {
    const config = loadSurveillanceConfig();
    const webhooks = new WebhookDeliverer(ctx.db);
    const engine = new SurveillanceEngine(ctx.db, ctx.repo, config, webhooks);
    const reporting: ReportingDeps = { db: ctx.db, repo: ctx.repo, notifiable: config.notifiable, touch: engine.touch };
    ctx.onProcessorEvent(COUNTS_TOUCHED, (payload) => engine.touch(...(payload as [string, string, string])));
    registerSurveillanceRoutes(ctx, engine, reporting);
    registerScanRoutes(ctx, { label: engine.label });
    registerReportingQualityRoutes(ctx);
    const feeds = new FeedFollower(ctx.db, engine.touch);
    // Feed uploads do not go through the FHIR change log: wake the follower on every write.
    ctx.app.addHook('onResponse', async (req) => {
      if (req.method !== 'GET') feeds.poke();
    });
    webhooks.start();
    feeds.start();
    const stopDaily = engine.startDailyJob();
    surveillanceRuntime.set(ctx.db, { engine, reporting, webhooks, feeds });
    ctx.onClose(async () => {
      stopDaily();
      await feeds.stop();
      await engine.stop();
      await webhooks.stop();
      surveillanceRuntime.delete(ctx.db);
    });
  },
};

/** The running engine per database (tests, evaluation and the CLI reach it through this). */
export const surveillanceRuntime = new Map<
  unknown,
  { engine: SurveillanceEngine; reporting: ReportingDeps; webhooks: WebhookDeliverer; feeds: FeedFollower }
>();

export default surveillanceModule;
