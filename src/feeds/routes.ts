/**
 * Feed intake over HTTP: POST /api/feeds/school-absenteeism and /api/feeds/pharmacy-sales
 * (text/csv or JSON), and the list of recent uploads. Bad lines are reported (line, field,
 * reason); good lines are kept. The encoding is the one named (charset=…, ?encoding=…) or
 * detected, never guessed silently (src/shared/encoding.ts). The storing is in store.ts.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { COLUMNS, FEEDS, MAX_FEED_ROWS } from './parse.js';
import { FeedResult, FeedUploadList, SentinelStatus } from './schemas.js';
import { listUploads, MAX_FEED_BYTES, receiveFeed, sentinelStatus } from './store.js';

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

const WHAT: Record<(typeof FEEDS)[number], string> = {
  'school-absenteeism': 'school sick-absence (学校因病缺勤)',
  'pharmacy-sales': 'pharmacy OTC sales',
  'sentinel-reports': "sentinel sites' daily syndrome counts (哨点日报: fever, respiratory, diarrhoea; 0 is the zero report)",
};

const SentinelStatusQuery = z.object({
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD')
    .describe('The day (China time), YYYY-MM-DD'),
  area: z.string().max(12).optional().describe('Only sites within this area (registry code)'),
  missing: z.enum(['true', 'false']).optional().describe('true: only the sites that sent nothing for the day'),
  _offset: z.coerce.number().int().min(0).max(100_000).default(0),
  _count: z.coerce.number().int().min(1).max(200).default(20),
});

export function registerFeedRoutes(ctx: ModuleContext): void {
  const { db } = ctx;
  const app = typed(ctx.app);
  for (const feed of FEEDS) {
    app.post(
      `/api/feeds/${feed}`,
      {
        schema: {
          summary: `Upload ${WHAT[feed]} rows as CSV (header ${COLUMNS[feed].join(',')}) or JSON (array of rows): good lines stored, bad lines listed; 400 when nothing is readable (wrong header, not JSON, empty, bytes not valid in the named or any detected encoding), the upload still kept raw; 413 over ${MAX_FEED_BYTES / 1048576} MB or ${MAX_FEED_ROWS} rows; 415 for an unknown encoding`,
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
    '/api/feeds/sentinel-reports/status',
    {
      schema: {
        summary:
          "One day of the registry's sentinel sites (哨点): each site's counts per syndrome, or marked missing when it sent nothing (not even a zero report); paged, with the totals reported and missing",
        tags: [TAG],
        querystring: SentinelStatusQuery,
        response: { 200: SentinelStatus },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      const q = req.query;
      return sentinelStatus(db, { date: q.date, area: q.area, missingOnly: q.missing === 'true', offset: q._offset, limit: q._count });
    },
  );

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
