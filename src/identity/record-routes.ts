/**
 * The merged resident record and the resident search over HTTP:
 *   GET /api/residents/{id}/record   the Person behind a Patient or Person id, its linked Patients,
 *                                    demographics compared, one timeline across facilities (merged-record.ts)
 *   GET /api/residents/search?q=…    by name, pinyin initials, ID number or phone (search.ts)
 * Both are listed in the access policy's routes table (personal data); the record route is
 * decided for the resident before the handler, and here again per linked Patient and per item
 * through the policy's filter, which withholds or masks. The access hooks audit each read.
 */
import type { FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import type { AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import type { Mpi } from './mpi.js';
import { mergedRecord, type Screen } from './merged-record.js';
import { searchResidents } from './search.js';
import { MergedRecord, RecordParams, RecordQuery, ResidentSearchQuery, ResidentSearchResult } from './search-schemas.js';

const TAG = 'identity';

/** The policy's filter for this request; without a policy nothing passes (fail closed). */
function screenOf(ctx: ModuleContext, req: FastifyRequest, user: AuthUser, action: 'read' | 'search'): Screen {
  const access = ctx.access;
  if (!access) return async (resources: Resource[]) => resources.map(() => null);
  return async (resources: Resource[]) => (resources.length ? (await access.filter(req, user, resources, action)).kept : []);
}

export function registerRecordRoutes(ctx: ModuleContext, mpi: Mpi): void {
  const app = typed(ctx.app);

  app.get(
    '/api/residents/search',
    {
      schema: {
        summary:
          'Find residents by name (or its start), pinyin initials or full pinyin (zsf, zhangsanfeng), ID number (whole, start, or last 4+ digits) or phone (whole or last 4+ digits); one row per person, paged with a total; rows outside the access scope are withheld and counted',
        tags: [TAG],
        querystring: ResidentSearchQuery,
        response: { 200: ResidentSearchResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      return searchResidents({ db: ctx.db }, req.query, screenOf(ctx, req, user, 'search'));
    },
  );

  app.get(
    '/api/residents/:id/record',
    {
      schema: {
        summary:
          'One record per resident (一人一档): the Person behind a Patient or Person id, every linked Patient with its facility, demographics compared field by field (conflicts marked), and one timeline of encounters, diagnoses, medications, observations, immunizations and care plans across all linked Patients, newest first, paged with a total; Patients and items outside the access scope are withheld and counted',
        tags: [TAG],
        params: RecordParams,
        querystring: RecordQuery,
        response: { 200: MergedRecord },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:read');
      return mergedRecord({ db: ctx.db, mpi }, req.params.id, req.query, screenOf(ctx, req, user, 'read'));
    },
  );
}
