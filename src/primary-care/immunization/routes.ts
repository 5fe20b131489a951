/** Immunization prescriptions (免疫处方): vaccines due as a FHIR ImmunizationRecommendation. */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { ChronicConfig } from '../chronic/context.js';
import { immunizationRecommendation } from './recommendation.js';
import { RecommendationParams, RecommendationQuery, RecommendationResource } from './schemas.js';

export function registerImmunizationRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const deps = { db: ctx.db, repo: ctx.repo, config };
  typed(ctx.app).get(
    '/api/immunization/residents/:id/recommendation',
    {
      schema: {
        summary: 'Vaccines due/overdue/upcoming for a resident as a FHIR ImmunizationRecommendation (?asOf=, ?store=true saves it)',
        tags: ['immunization'],
        params: RecommendationParams,
        querystring: RecommendationQuery,
        response: { 200: RecommendationResource },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return immunizationRecommendation(deps, req.params.id, req.query.asOf ?? todayInChina(), req.query.store === 'true');
    },
  );
}
