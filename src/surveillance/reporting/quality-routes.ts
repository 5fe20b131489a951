/**
 * GET /api/reporting-quality (the five rates per reporting facility and period) and its
 * drill-down GET /api/reporting-quality/cards (the cards behind a figure, paged with the total).
 * The drill-down names residents: it is a personal route in config/security/policy.json, so the
 * access hook withholds rows of residents outside the user's scope and audits the read, as for
 * the report-card list.
 */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { reportingQuality, reportingQualityCards } from './quality.js';
import { ReportingQualityCards, ReportingQualityCardsQuery, ReportingQualityList, ReportingQualityQuery } from './quality-schemas.js';

const tags = ['surveillance-report-cards'];

export function registerReportingQualityRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);

  app.get(
    '/api/reporting-quality',
    {
      schema: {
        summary:
          'Reporting quality per reporting facility for a period (YYYY, YYYY-Qn or YYYY-MM, China time): 及时报告率, 报告卡完整率, 重卡率, 审核及时率, 订正率, each with numerator and denominator, and the district total',
        tags,
        querystring: ReportingQualityQuery,
        response: { 200: ReportingQualityList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return reportingQuality(ctx.db.pool, req.query);
    },
  );

  app.get(
    '/api/reporting-quality/cards',
    {
      schema: {
        summary:
          'Drill-down: the report cards behind one facility’s figure (indicator; numerator=true for the numerator, false for the rest of the denominator, absent for the whole denominator), by report time, paged with the total',
        tags,
        querystring: ReportingQualityCardsQuery,
        response: { 200: ReportingQualityCards },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return reportingQualityCards(ctx.db, req.query);
    },
  );
}
