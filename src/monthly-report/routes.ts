/**
 * /api/monthly-reports: the stored monthly reports (newest month first, paged with the total), a
 * stored file (PDF or xlsx) and generating a month now. No route names a resident: the figures
 * are counts per district, street and institution, small street cells suppressed.
 */
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { contentDisposition } from '../shared/table-file.js';
import { MonthlyReportFileQuery, MonthlyReportList, MonthlyReportListQuery, MonthlyReportView, MonthParams } from './schemas.js';
import { generateMonthlyReport, listMonthlyReports, monthlyReportFile, type MonthlyReportDeps } from './service.js';

const tags = ['monthly-report'];

export function registerMonthlyReportRoutes(ctx: ModuleContext, deps: MonthlyReportDeps, now: () => Date): void {
  const app = typed(ctx.app);

  app.get(
    '/api/monthly-reports',
    {
      schema: {
        summary: 'The monthly reports for the health bureau (医防融合月报), newest month first, paged with the total',
        tags,
        querystring: MonthlyReportListQuery,
        response: { 200: MonthlyReportList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return listMonthlyReports(ctx.db, req.query);
    },
  );

  app.get(
    '/api/monthly-reports/:month/file',
    {
      schema: {
        summary:
          "One month's report as stored: format=pdf (A4) or xlsx (a sheet per section); 404 when the month has no report, 503 when its PDF could not be drawn (no Chinese font on the server when it was generated)",
        tags,
        params: MonthParams,
        querystring: MonthlyReportFileQuery,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:read');
      const file = await monthlyReportFile(ctx.db, req.params.month, req.query.format);
      ctx.audit.record({
        user,
        action: 'R',
        subtype: 'export',
        entities: [`monthly-report ${req.params.month}`],
        outcome: 'success',
        outcomeText: file.fileName,
        sourceAddress: req.ip,
      });
      return reply.type(file.contentType).header('content-disposition', contentDisposition(file.fileName)).send(file.body);
    },
  );

  app.post(
    '/api/monthly-reports/:month',
    {
      schema: {
        summary:
          "Generates (or regenerates) a month's report now from the indicators, scorecards (computed when the month never was), reporting quality, report cards and alerts, and stores its xlsx and PDF; 400 for a month not begun yet",
        tags,
        params: MonthParams,
        response: { 200: MonthlyReportView },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const month = req.params.month;
      // The stored report (and any scorecard run it needed) is audited in its own transaction (a write).
      return generateMonthlyReport(deps, month, {
        by: user.username,
        now: now(),
        audit: (client, saved) =>
          ctx.audit.recordNow(client, {
            user,
            action: 'U',
            subtype: 'monthly-report-generate',
            entities: [`monthly-report ${month}`],
            outcome: 'success',
            outcomeText: `${saved.summary.sections.length} section(s), xlsx ${saved.xlsxBytes} bytes, ${saved.pdfBytes === null ? 'no PDF' : `PDF ${saved.pdfBytes} bytes`}`,
            sourceAddress: req.ip,
          }),
        scorecardAudit: (client, what) =>
          ctx.audit.recordNow(client, {
            user,
            action: 'U',
            subtype: 'scorecard-compute',
            entities: [`scorecard ${what.period} (for monthly-report ${month})`],
            outcome: 'success',
            outcomeText: `${what.opened} task(s) opened, ${what.closed} closed`,
            sourceAddress: req.ip,
          }),
      });
    },
  );
}
