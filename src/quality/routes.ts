/** GET /api/data-quality/issues (the queue) and GET /api/data-quality/facilities (rates per facility). */
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { FacilityQualityList, FacilityQuery, IssueList, IssueQuery } from './schemas.js';
import { facilityQuality, listIssues } from './store.js';

const TAG = 'data-quality';

export function registerQualityRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);

  app.get(
    '/api/data-quality/issues',
    {
      schema: {
        summary:
          'Data-quality issues: values kept as sent but marked (e.g. a 公民身份号码 that fails GB 11643, a birth date that disagrees with it), newest first, filtered by facility and status (open by default), paged with the total',
        tags: [TAG],
        querystring: IssueQuery,
        response: { 200: IssueList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      const list = await listIssues(ctx.db.pool, req.query);
      void ctx.audit.record({
        user,
        action: 'E',
        subtype: 'search',
        entities: ['data-quality issues'],
        outcome: 'success',
        query: req.url,
        sourceAddress: req.ip,
      });
      return list;
    },
  );

  app.get(
    '/api/data-quality/facilities',
    {
      schema: {
        summary:
          'Data quality per facility: Patient records, records with an open issue, open issues and the validity rate (share of records without one), worst first',
        tags: [TAG],
        querystring: FacilityQuery,
        response: { 200: FacilityQualityList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      const facilities = await facilityQuality(ctx.db.pool, req.query.facility);
      void ctx.audit.record({
        user,
        action: 'R',
        subtype: 'read',
        entities: ['data-quality facilities'],
        outcome: 'success',
        query: req.url,
        sourceAddress: req.ip,
      });
      return { facilities };
    },
  );
}
