/**
 * Feeds capability: school absenteeism, pharmacy sales and sentinel sites' daily report uploads (CSV or JSON), kept raw with
 * their outcome and as rows by natural key. Routes in routes.ts, storing in store.ts.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { registerFeedRoutes } from './routes.js';

const feedsModule: YifangModule = {
  name: 'feeds',
  migrations: {
    range: [110, 119],
    list: [
      { version: 110, name: 'feeds', sql: sqlFile(new URL('./migrations/110_feeds.sql', import.meta.url)) },
      { version: 111, name: 'feed upload encoding', sql: sqlFile(new URL('./migrations/111_feed_upload_encoding.sql', import.meta.url)) },
      {
        version: 112,
        name: 'feed sentinel report',
        sql: sqlFile(new URL('./migrations/112_feed_sentinel_report.sql', import.meta.url)),
      },
    ],
  },
  async register(ctx) {
    registerFeedRoutes(ctx);
  },
};

export default feedsModule;
