/** GET /api/data-quality/issues (the queue) and GET /api/data-quality/facilities (rates per facility). */
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { FacilityQualityList, FacilityQuery, IssueList, IssueQuery, RecordList, RecordQuery } from './schemas.js';
import { facilityQuality, listIssues, qualityRecords } from './store.js';

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
    '/api/data-quality/records',
    {
      schema: {
        summary:
          'The records behind a data-quality figure: incomplete (a mandatory field missing, named), invalid (an open issue) or late (received more than 24 hours after the event), for a facility and type, newest first, paged with the total',
        tags: [TAG],
        querystring: RecordQuery,
        response: { 200: RecordList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      const list = await qualityRecords(ctx.db.pool, req.query);
      void ctx.audit.record({
        user,
        action: 'E',
        subtype: 'search',
        entities: ['data-quality records'],
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
          'Data quality per facility and record type (数据质量): completeness (完整性, every mandatory field present), validity (规范性, no open data-quality issue) and timeliness (及时性, received within 24 hours of the event), with the counts behind each rate, worst first; counts are kept as records arrive',
        tags: [TAG],
        querystring: FacilityQuery,
        response: { 200: FacilityQualityList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      const facilities = await facilityQuality(ctx.db.pool, req.query.facility, req.query.type);
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
