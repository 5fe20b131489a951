/** GET /api/indicators and the drill-down to the residents behind each figure. */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { ChronicConfig } from '../chronic/context.js';
import { contentDisposition } from '../../shared/table-file.js';
import { indicatorFilter, indicatorResidents } from './indicators.js';
import { indicatorsFile, indicatorsInWords } from './report.js';
import { IndicatorFileQuery, IndicatorParams, IndicatorQuery, IndicatorResidents, IndicatorResidentsQuery, Indicators } from './schemas.js';

const tags = ['indicators'];

export function registerIndicatorRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const api = typed(ctx.app);

  api.get(
    '/api/indicators',
    {
      schema: {
        summary:
          'Indicators with definitions and values, each group also in words (filters: indicator (comma list), period YYYY | from/to, area, organization, groupBy total|doctor|team|organization|street)',
        tags,
        querystring: IndicatorQuery,
        response: { 200: Indicators },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const f = indicatorFilter(req.query, todayInChina());
      return indicatorsInWords(ctx.db.pool, req.query.indicator, f, config.sets, config.schedules);
    },
  );

  api.get(
    '/api/indicators/file',
    {
      schema: {
        summary:
          'The indicators of the same filters as a file: format=xlsx (a sheet per indicator and one of definitions), csv (GB18030) or pdf (A4; rates meeting the target filled green); counts per group, no resident named',
        tags,
        querystring: IndicatorFileQuery,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:read');
      const { format, ...q } = req.query;
      const file = await indicatorsFile(
        ctx.db.pool,
        q.indicator,
        indicatorFilter(q, todayInChina()),
        config.sets,
        config.schedules,
        format,
      );
      ctx.audit.record({
        user,
        action: 'R',
        subtype: 'export',
        entities: ['indicators'],
        outcome: 'success',
        outcomeText: file.fileName,
        sourceAddress: req.ip,
      });
      return reply.type(file.contentType).header('content-disposition', contentDisposition(file.fileName)).send(file.body);
    },
  );

  api.get(
    '/api/indicators/:code/residents',
    {
      schema: {
        summary:
          'Drill-down: the residents behind an indicator figure (same filters, plus group, population, numerator=true|false, and a page: limit up to 5000, offset; total and numerator count all)',
        tags,
        params: IndicatorParams,
        querystring: IndicatorResidentsQuery,
        response: { 200: IndicatorResidents },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const f = indicatorFilter(req.query, todayInChina());
      return indicatorResidents(ctx.db.pool, req.params.code, req.query, f, config.sets, config.schedules);
    },
  );
}
