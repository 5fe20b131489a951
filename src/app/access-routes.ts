/**
 * Emergency access routes (break-glass, issue #15) and the policy's own description:
 *
 *   POST /api/break-glass                 open a grant for one resident, with a reason
 *   GET  /api/break-glass                 the caller's own grants
 *   GET  /api/break-glass/reviews         grants to review (audit:read), open first
 *   POST /api/break-glass/reviews/:id     close a review: justified or not (audit:read)
 *   GET  /api/access/policy               the rules in force and their version
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AccessControl } from '../fhir/access.js';
import type { AuditLog } from '../fhir/audit.js';
import { BREAK_GLASS_LIMITS, closeReview, listGrants, openBreakGlass } from '../fhir/break-glass.js';
import type { FhirRepository } from '../fhir/repository.js';
import { requirePermission, type AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import { forbidden } from '../platform/errors.js';
import { typed } from '../platform/openapi.js';

const Grant = z.object({
  id: z.number().int(),
  username: z.string(),
  userOrg: z.string().nullable(),
  patientId: z.string(),
  ownerOrg: z.string().nullable(),
  reason: z.string(),
  purpose: z.string(),
  grantedAt: z.string(),
  expiresAt: z.string(),
  endedAt: z.string().nullable(),
  noticeRef: z.string().nullable(),
  reviewStatus: z.enum(['open', 'justified', 'unjustified']),
  reviewedBy: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  reviewNote: z.string().nullable(),
});
export type BreakGlassGrantDto = z.infer<typeof Grant>;
const GrantPage = z.object({ total: z.number().int(), rows: z.array(Grant) });
const Page = z.object({
  _count: z.coerce.number().int().min(1).max(500).default(50),
  _offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export function registerAccessRoutes(
  app: FastifyInstance,
  ctx: {
    db: Database;
    repo: FhirRepository;
    audit: AuditLog;
    access: AccessControl;
    authenticate: (req: FastifyRequest) => Promise<AuthUser>;
  },
): void {
  const api = typed(app);
  const tags = ['access'];

  api.post(
    '/api/break-glass',
    {
      schema: {
        summary:
          'Emergency access (break-glass): a time-boxed grant to one resident outside your scope, with a reason; the managing organisation is notified and a review opened. Use it with X-Purpose-Of-Use: BTG (or ETREAT)',
        tags,
        body: z.object({
          patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a Patient id'),
          reason: z.string().max(BREAK_GLASS_LIMITS.maxReason),
          minutes: z.number().int().min(1).max(BREAK_GLASS_LIMITS.maxMinutes).optional(),
          purpose: z.enum(['BTG', 'ETREAT']).optional(),
        }),
        response: { 201: Grant },
      },
    },
    async (req, reply) => {
      const user = await ctx.authenticate(req);
      if (
        !ctx.access.policy.rules.some(
          (r) => r.scope === 'break-glass' && r.effect === 'allow' && user.roles.some((x) => r.roles.includes(x)),
        )
      )
        throw forbidden(`Role ${user.roles.join(', ')} has no emergency access in the policy / 该角色无紧急访问权限`);
      const grant = await ctx.db.transaction(async (client) => {
        const g = await openBreakGlass(client, ctx.repo, user, req.body);
        await ctx.audit.recordNow(client, {
          user,
          action: 'E',
          subtype: 'break-glass',
          entities: [`Patient/${g.patientId}`, g.noticeRef ?? ''].filter(Boolean),
          patients: [`Patient/${g.patientId}`],
          outcome: 'success',
          outcomeText: `until ${g.expiresAt}: ${g.reason}`.slice(0, 500),
          sourceAddress: req.ip,
          purpose: g.purpose,
        });
        return g;
      });
      return reply.code(201).send(grant);
    },
  );

  api.get(
    '/api/break-glass',
    { schema: { summary: 'Your own emergency-access grants, newest first', tags, querystring: Page, response: { 200: GrantPage } } },
    async (req) => {
      const user = await ctx.authenticate(req);
      return listGrants(ctx.db.pool, { username: user.username, count: req.query._count, offset: req.query._offset });
    },
  );

  api.get(
    '/api/break-glass/reviews',
    {
      schema: {
        summary: 'Emergency accesses to review (audit:read): open ones by default',
        tags,
        querystring: Page.extend({ status: z.enum(['open', 'justified', 'unjustified']).default('open') }),
        response: { 200: GrantPage },
      },
    },
    async (req) => {
      const user = await ctx.authenticate(req);
      requirePermission(user, 'audit:read');
      const page = await listGrants(ctx.db.pool, { reviewStatus: req.query.status, count: req.query._count, offset: req.query._offset });
      await ctx.audit.record({
        user,
        action: 'R',
        subtype: 'read',
        entities: ['break-glass reviews'],
        outcome: 'success',
        sourceAddress: req.ip,
        patients: [...new Set(page.rows.map((r) => `Patient/${r.patientId}`))],
      });
      return page;
    },
  );

  api.post(
    '/api/break-glass/reviews/:id',
    {
      schema: {
        summary: 'Close an emergency-access review as justified or unjustified (audit:read; not your own)',
        tags,
        params: z.object({ id: z.coerce.number().int().min(1) }),
        body: z.object({ outcome: z.enum(['justified', 'unjustified']), note: z.string().max(1000).optional() }),
        response: { 200: Grant },
      },
    },
    async (req) => {
      const user = await ctx.authenticate(req);
      requirePermission(user, 'audit:read');
      return ctx.db.transaction(async (client) => {
        const g = await closeReview(client, user, req.params.id, req.body.outcome, req.body.note);
        await ctx.audit.recordNow(client, {
          user,
          action: 'U',
          subtype: 'break-glass-review',
          entities: [`break-glass/${g.id}`],
          patients: [`Patient/${g.patientId}`],
          outcome: 'success',
          outcomeText: `${g.reviewStatus}${g.reviewNote ? `: ${g.reviewNote}` : ''}`.slice(0, 500),
          sourceAddress: req.ip,
        });
        return g;
      });
    },
  );

  api.get(
    '/api/access/policy',
    {
      schema: { summary: 'The access rules in force: version, purposes, rules (the routes table is in config/security/policy.json)', tags },
    },
    async (req) => {
      await ctx.authenticate(req);
      const p = ctx.access.policy;
      return {
        version: p.version,
        purposes: Object.fromEntries(p.purposes),
        rules: p.rules.map(({ criteria, ...r }) => ({
          ...r,
          criteria: criteria.map((c) => `${c.type}?${new URLSearchParams(c.params).toString()}`),
        })),
      };
    },
  );
}
