/**
 * De-identified exports (issue #15): line lists for approved research and aggregate counts for
 * the public, from notifiable-disease report cards, under the profiles of
 * config/exports/profiles.json. No tables of its own (its range 400–409 is reserved); the
 * pseudonym key lives outside the database (keys.ts). A bad profiles file or key stops the
 * server at start, naming the key at fault.
 */
import type { YifangModule } from '../platform/module.js';
import { defaultExportKeyDir, loadExportKey } from './keys.js';
import { loadExportProfiles } from './profiles.js';
import { registerExportRoutes } from './routes.js';

export const exportsModule: YifangModule = {
  name: 'exports',
  migrations: { range: [400, 409], list: [] },
  async register(ctx) {
    const profiles = loadExportProfiles();
    const key = loadExportKey(defaultExportKeyDir(ctx.db.dataDir));
    if (key.generated && !process.env.VITEST)
      ctx.log(
        `[exports] no YIFANG_EXPORT_KEY / YIFANG_EXPORT_KEY_FILE configured: generated the export pseudonym key ${key.source} (demo only; keep a production key outside the data directory, and keep it: a new key gives every resident new pseudonyms)`,
      );
    // Line lists ask the access policy's consent rules per resident (research: opted in only).
    if (!ctx.access) throw new Error('[exports] the access policy is required: line lists leave out residents whose consent refuses them');
    registerExportRoutes(ctx, { db: ctx.db, profiles, key, access: ctx.access });
  },
};

export default exportsModule;
