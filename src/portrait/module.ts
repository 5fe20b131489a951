/**
 * The street health portrait (健康画像, issue #21 item 5): a choropleth per indicator on the
 * registry's street boundaries — crude, age-standardised where it matters, empirical-Bayes
 * smoothed — a street's profile page, and the residents behind a cell for the CDC. Small cells
 * are suppressed for everyone else. Settings in config/portrait/, checked at start.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { loadPortraitConfig } from './config.js';
import { residentProcessor } from './processor.js';
import { registerPortraitRoutes } from './routes.js';

const portraitModule: YifangModule = {
  name: 'portrait',
  migrations: {
    range: [820, 839],
    list: [{ version: 820, name: 'portrait', sql: sqlFile(new URL('./migrations/820_portrait.sql', import.meta.url)) }],
  },
  processors: () => [residentProcessor()],
  async register(ctx) {
    registerPortraitRoutes(ctx, loadPortraitConfig());
  },
};

export default portraitModule;
