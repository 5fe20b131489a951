/**
 * /api/scorecards: the definitions, one scorecard's stored figures for a level and period (with
 * the trend and open tasks), a computation (stores the run, opens and closes tasks) and the tasks,
 * paged with the total. No route names a resident: the figures are counts per institution or street.
 */
import type { ModuleContext } from '../platform/module.js';
import { contentDisposition } from '../shared/table-file.js';
import { typed } from '../platform/openapi.js';
import type { ScorecardDefinition } from './definition.js';
import {
  ComputeBody,
  ScorecardFileQuery,
  ScorecardList,
  ScorecardParams,
  ScorecardQuery,
  ScorecardResult,
  TaskList,
  TaskQuery,
} from './schemas.js';
import { computeScorecard, findScorecard, readScorecard, scorecardFile, summary } from './service.js';
import { listTasks } from './store.js';

const tags = ['scorecard'];

export function registerScorecardRoutes(ctx: ModuleContext, defs: readonly ScorecardDefinition[]): void {
  const app = typed(ctx.app);

  app.get(
    '/api/scorecards',
    {
      schema: {
        summary: 'Scorecard definitions (config/scorecard/): items with weight, indicator, target, traffic-light bands and source',
        tags,
        response: { 200: ScorecardList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return { scorecards: defs.map(summary), total: defs.length };
    },
  );

  app.get(
    '/api/scorecards/:id',
    {
      schema: {
        summary:
          'One scorecard as last computed for a level (institution | street) and period (YYYY, YYYY-Qn, YYYY-MM): cells coloured and scored, totals, ranks, the trend over the last periods and open tasks per unit; computedAt null when not computed yet',
        tags,
        params: ScorecardParams,
        querystring: ScorecardQuery,
        response: { 200: ScorecardResult },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return readScorecard(ctx.db, findScorecard(defs, req.params.id), req.query.level, req.query.period);
    },
  );

  app.get(
    '/api/scorecards/:id/file',
    {
      schema: {
        summary:
          'One scorecard as last computed for a level and period, as a file: format=xlsx (a sheet for the ranking, one for the items), csv (GB18030) or pdf (A4, cells in their traffic-light colours); 503 for pdf when the server has no Chinese font',
        tags,
        params: ScorecardParams,
        querystring: ScorecardFileQuery,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:read');
      const def = findScorecard(defs, req.params.id);
      const file = await scorecardFile(ctx.db, def, req.query.level, req.query.period, req.query.format);
      ctx.audit.record({
        user,
        action: 'R',
        subtype: 'export',
        entities: [`scorecard ${def.id} ${req.query.level} ${req.query.period ?? 'this month'}`],
        outcome: 'success',
        outcomeText: file.fileName,
        sourceAddress: req.ip,
      });
      return reply.type(file.contentType).header('content-disposition', contentDisposition(file.fileName)).send(file.body);
    },
  );

  app.post(
    '/api/scorecards/:id/compute',
    {
      schema: {
        summary:
          'Computes a scorecard for a level and period from the indicators, stores it, opens a task for each red cell without an open one and closes the open task of each cell now green (earlier periods of the trend are computed once when missing)',
        tags,
        params: ScorecardParams,
        body: ComputeBody,
        response: { 200: ScorecardResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const def = findScorecard(defs, req.params.id);
      // The run and its task changes are audited in their own transaction (a write).
      return computeScorecard(ctx.db, def, req.body.level, req.body.period, (client, what) =>
        ctx.audit.recordNow(client, {
          user,
          action: 'U',
          subtype: 'scorecard-compute',
          entities: [`scorecard ${def.id} ${req.body.level} ${what.period}`],
          outcome: 'success',
          outcomeText: `${what.opened} task(s) opened, ${what.closed} closed`,
          sourceAddress: req.ip,
        }),
      );
    },
  );

  app.get(
    '/api/scorecards/:id/tasks',
    {
      schema: {
        summary: 'Tasks opened by red cells (status open | closed | all; level; owner), newest first, paged with the total',
        tags,
        params: ScorecardParams,
        querystring: TaskQuery,
        response: { 200: TaskList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      findScorecard(defs, req.params.id);
      return listTasks(ctx.db.pool, req.params.id, req.query);
    },
  );
}
