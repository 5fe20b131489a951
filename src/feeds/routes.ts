/**
 * Feed intake over HTTP: POST /api/feeds/school-absenteeism and /api/feeds/pharmacy-sales
 * (text/csv or JSON), and the list of recent uploads. Bad lines are reported (line, field,
 * reason); good lines are kept. The encoding is the one named (charset=…, ?encoding=…) or
 * detected, never guessed silently (encoding.ts). The storing is in store.ts.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { COLUMNS, FEEDS, MAX_FEED_ROWS } from './parse.js';
import { FeedResult, FeedUploadList } from './schemas.js';
import { listUploads, MAX_FEED_BYTES, receiveFeed } from './store.js';

const TAG = 'feeds';

const FeedQuery = z.object({
  encoding: z
    .string()
    .max(40)
    .optional()
    .describe(
      "The file's encoding (utf-8, gb18030, gbk, big5, utf-16le, …), as charset= in the Content-Type would say; detected when absent",
    ),
});
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerFeedRoutes(ctx: ModuleContext): void {
  const { db } = ctx;
  const app = typed(ctx.app);
  for (const feed of FEEDS) {
    app.post(
      `/api/feeds/${feed}`,
      {
        schema: {
          summary: `Upload ${feed === 'school-absenteeism' ? 'school sick-absence (学校因病缺勤)' : 'pharmacy OTC sales'} rows as CSV (header ${COLUMNS[feed].join(',')}) or JSON (array of rows): good lines stored, bad lines listed; 400 when nothing is readable (wrong header, not JSON, empty, bytes not valid in the named or any detected encoding), the upload still kept raw; 413 over ${MAX_FEED_BYTES / 1048576} MB or ${MAX_FEED_ROWS} rows; 415 for an unknown encoding`,
          tags: [TAG],
          querystring: FeedQuery,
          body: z
            .unknown()
            .describe(
              `CSV text (text/csv, header ${COLUMNS[feed].join(',')}; UTF-8, GB18030/GBK or the charset named) or a JSON array of rows`,
            ),
          // 400: the upload's outcome when nothing was readable, or an OperationOutcome (no body, bad request).
          response: { 200: FeedResult, 400: z.union([FeedResult, Problem]), 413: Problem, 415: Problem },
        },
      },
      async (req, reply) => {
        const user = await ctx.guard(req, 'import');
        const result = await receiveFeed(db, feed, req.body, String(req.headers['content-type'] ?? ''), {
          encoding: req.query.encoding,
          audit: (client, r) =>
            ctx.audit.recordNow(client, {
              user,
              action: 'C',
              subtype: `feed-${feed}`,
              entities: [`feed_upload ${r.uploadId}`],
              outcome: r.fatal ? 'failure' : 'success',
              outcomeText: r.fatal ?? (r.rejected ? `${r.rejected} lines rejected` : undefined),
              sourceAddress: req.ip,
            }),
        });
        return reply.code(result.fatal ? 400 : 200).send(result);
      },
    );
  }

  app.get(
    '/api/feeds/uploads',
    {
      schema: {
        summary: 'Recent feed uploads (the last 100) with their line counts and errors',
        tags: [TAG],
        response: { 200: FeedUploadList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return listUploads(db);
    },
  );
}
