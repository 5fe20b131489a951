/**
 * Hospital CSV feeds (医院 CSV 上报; .xlsx workbooks are read as their first sheet): six templates, per-facility column mappings, uploads processed
 * in the background into FHIR (deterministic ids, unchanged rows skipped), dead letters to correct.
 * Uploads left queued or running by a restart resume on start.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { registerHospitalFeedRoutes } from './routes.js';
import { UploadWorker } from './service.js';

/** The running server's worker (tests and the bench wait for it to be idle). */
let current: UploadWorker | undefined;

export function hospitalFeedWorker(): UploadWorker | undefined {
  return current;
}

const hospitalFeedsModule: YifangModule = {
  name: 'hospital-feeds',
  migrations: {
    range: [460, 469],
    list: [{ version: 460, name: 'hospital feeds', sql: sqlFile(new URL('./migrations/460_hospital_feeds.sql', import.meta.url)) }],
  },
  async register(ctx) {
    const worker = new UploadWorker({ db: ctx.db, repo: ctx.repo, audit: ctx.audit, log: ctx.log });
    current = worker;
    registerHospitalFeedRoutes(ctx, worker);
    ctx.onClose(() => worker.stop());
    // Resume after the server is up (the routes are registered; requests may already come in).
    setTimeout(() => void worker.resume().catch((e) => ctx.log(`hospital feeds: resume failed: ${(e as Error).message}`)), 0);
  },
};

export default hospitalFeedsModule;
