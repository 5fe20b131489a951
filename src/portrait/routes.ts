/**
 * /api/portrait: the map of one indicator per street, a street's profile, and the residents
 * behind a cell. Staff who read care or surveillance data may open the portrait; what they see of
 * a small cell depends on whether their role is the CDC's (config/portrait/portrait.json).
 */
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../platform/auth.js';
import { forbidden } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { rolesMay } from '../shared/roles.js';
import type { PortraitConfig } from './config.js';
import { CellResidents, MapQuery, PortraitMap, ProfileParams, ProfileQuery, ResidentsQuery, StreetProfile } from './schemas.js';
import { cellResidents, portraitMap, streetProfile } from './service.js';

const tags = ['portrait'];

export function registerPortraitRoutes(ctx: ModuleContext, config: PortraitConfig): void {
  const app = typed(ctx.app);
  /** Care or surveillance readers: every staff role that works with the district's figures. */
  const reader = async (req: FastifyRequest): Promise<AuthUser> => {
    const user = await ctx.guard(req, 'fhir:read');
    if (!rolesMay(user.roles, 'care:read') && !rolesMay(user.roles, 'surveillance:read'))
      throw forbidden('the health portrait needs care:read or surveillance:read');
    return user;
  };

  app.get(
    '/api/portrait/map',
    {
      schema: {
        summary:
          'One indicator per street (choropleth): numerator, denominator, crude rate, age-standardised rate (where given), empirical-Bayes smoothed rate, the district rate and the boundaries; cells with fewer than minCell people are suppressed for roles outside the CDC',
        tags,
        querystring: MapQuery,
        response: { 200: PortraitMap },
      },
    },
    async (req) => portraitMap(ctx.db, config, await reader(req), req.query),
  );

  app.get(
    '/api/portrait/streets/:code',
    {
      schema: {
        summary:
          "A street's profile: population by sex and age band, programmes (managed, 规范管理率, 控制率), infectious-disease cases by disease over the last 12 months, services (contracts by key population, vaccine doses); small cells suppressed outside the CDC",
        tags,
        params: ProfileParams,
        querystring: ProfileQuery,
        response: { 200: StreetProfile },
      },
    },
    async (req) => streetProfile(ctx.db, config, await reader(req), req.params.code, req.query.period),
  );

  app.get(
    '/api/portrait/residents',
    {
      schema: {
        summary:
          "The residents behind one street's cell (CDC roles only). Another role asking for a suppressed cell gets 200 with suppressed true and no residents; for any other cell, 403",
        tags,
        querystring: ResidentsQuery,
        response: { 200: CellResidents },
      },
    },
    async (req) => cellResidents(ctx.db, config, await reader(req), req.query),
  );
}
