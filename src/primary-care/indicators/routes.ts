/** GET /api/indicators and the drill-down to the residents behind each figure. */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { ChronicConfig } from '../chronic/context.js';
import { indicatorFilter, indicatorResidents, indicatorValues } from './indicators.js';
import { IndicatorParams, IndicatorQuery, IndicatorResidents, IndicatorResidentsQuery, Indicators } from './schemas.js';

const tags = ['indicators'];

export function registerIndicatorRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const api = typed(ctx.app);

  api.get(
    '/api/indicators',
    {
      schema: {
        summary:
          'Indicators with definitions and values (filters: indicator (comma list), period YYYY | from/to, area, organization, groupBy total|doctor|team|organization|street)',
        tags,
        querystring: IndicatorQuery,
        response: { 200: Indicators },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const f = indicatorFilter(req.query, todayInChina());
      return indicatorValues(ctx.db.pool, req.query.indicator, f, config.sets, config.schedules);
    },
  );

  api.get(
    '/api/indicators/:code/residents',
    {
      schema: {
        summary: 'Drill-down: the residents behind an indicator figure (same filters, plus group, population and numerator=true|false)',
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
