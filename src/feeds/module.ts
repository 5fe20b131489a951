/**
 * Feed intake over HTTP: POST /api/feeds/school-absenteeism and /api/feeds/pharmacy-sales
 * (text/csv or JSON). Bad lines are reported (line, field, reason); good lines are kept.
 */
import { sqlFile } from '../platform/migrations.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { describeRoute } from '../platform/openapi.js';
import { badRequest } from '../platform/errors.js';
import { COLUMNS, FEEDS, type FeedName } from './parse.js';
import { storeFeed } from './store.js';

const feedsModule: YifangModule = {
  name: 'feeds',
  migrations: {
    range: [110, 119],
    list: [{ version: 110, name: 'feeds', sql: sqlFile(new URL('./migrations/110_feeds.sql', import.meta.url)) }],
  },
  async register(ctx: ModuleContext) {
    const { app, db, audit } = ctx;
    for (const feed of FEEDS) {
      describeRoute({
        method: 'post',
        path: `/api/feeds/${feed}`,
        summary: `Upload ${feed === 'school-absenteeism' ? 'school sick-absence (学校因病缺勤)' : 'pharmacy OTC sales'} rows as CSV (header ${COLUMNS[feed].join(',')}) or JSON (array of rows)`,
        tag: 'feeds',
        requestBody: { contentType: 'text/csv', schema: { type: 'string' } },
        responses: {
          '200': '{"uploadId","lines","accepted","rejected","errors":[{"line","field","message"}]}: good lines stored, bad lines listed',
          '400': 'Nothing readable (wrong header, not JSON, empty); the upload is still kept raw',
          '403': 'Role may not import',
        },
      });
      app.post(`/api/feeds/${feed}`, async (req, reply) => {
        const user = await ctx.guard(req, 'import');
        const type = String(req.headers['content-type'] ?? '');
        const body = req.body;
        let payload: Buffer;
        let format: 'csv' | 'json';
        if (Buffer.isBuffer(body)) {
          payload = body;
          const head = body.subarray(0, 64).toString('utf8').trimStart();
          format = type.includes('json') || head.startsWith('[') || head.startsWith('{') ? 'json' : 'csv';
        } else if (body !== undefined && body !== null) {
          payload = Buffer.from(JSON.stringify(body), 'utf8');
          format = 'json';
        } else throw badRequest(`Send the ${feed} rows as text/csv (header ${COLUMNS[feed].join(',')}) or application/json`);
        const result = await storeFeed(db, feed as FeedName, payload, format, 'http');
        await db.transaction((c) =>
          audit.recordNow(c, {
            user,
            action: 'C',
            subtype: `feed-${feed}`,
            entities: [`feed_upload ${result.uploadId}`],
            outcome: result.fatal ? 'failure' : 'success',
            outcomeText: result.fatal ?? (result.rejected ? `${result.rejected} lines rejected` : undefined),
            sourceAddress: req.ip,
          }),
        );
        return reply.code(result.fatal ? 400 : 200).send(result);
      });
    }

    describeRoute({
      method: 'get',
      path: '/api/feeds/uploads',
      summary: 'Recent feed uploads with their line counts and errors',
      tag: 'feeds',
    });
    app.get('/api/feeds/uploads', async (req) => {
      await ctx.guard(req, 'import');
      const r = await db.query(
        `SELECT id, feed, source, content_type, received_at, lines, accepted, rejected, errors FROM feed_upload ORDER BY id DESC LIMIT 100`,
      );
      return { items: r.rows };
    });
  },
};

export default feedsModule;
