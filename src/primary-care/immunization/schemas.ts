/**
 * Requests and responses of the immunization routes (/api/immunization/*) as zod schemas. The
 * response is a FHIR ImmunizationRecommendation: its type comes from @medplum/fhirtypes, so the
 * schema only checks the resource type and keeps every field (the web app imports the type from
 * @medplum/fhirtypes).
 */
import type { ImmunizationRecommendation } from '@medplum/fhirtypes';
import { z } from 'zod';
import { AsOfQuery } from '../common-schemas.js';

export const RecommendationParams = z.object({ id: z.string() });
export const RecommendationQuery = AsOfQuery.extend({
  /** true: save the recommendation as a FHIR resource. */
  store: z.enum(['true', 'false']).optional(),
});
export const RecommendationResource = z.custom<ImmunizationRecommendation>(
  (v) => typeof v === 'object' && v !== null && (v as { resourceType?: unknown }).resourceType === 'ImmunizationRecommendation',
  { message: 'an ImmunizationRecommendation' },
);
