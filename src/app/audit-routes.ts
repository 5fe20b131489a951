/**
 * The audit trail's own routes (issue #15) and the hook that holds every response until the
 * AuditEvents its request recorded are committed:
 *
 *   GET /api/audit/events                      review: filtered, paged, with the total
 *   GET /api/audit/events.csv                  the same list as CSV
 *   GET /api/audit/flags                       unusual patterns (many residents, off-hours, break-glass)
 *   GET /api/audit/residents/:patientId/reads  who read a resident's record (resident portal, later)
 *   GET /api/audit/verify                      checks the chain: every link's HMAC, every checkpoint
 *   GET /api/audit/checkpoints                 signed chain heads and the public key, for a second party
 *
 * All need `audit:read`; each use is itself audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditLog } from '../fhir/audit.js';
import { collectAuditWrites, mayReadAuditTrail } from '../fhir/audit.js';
import { exportCheckpoints, verifyAuditChain } from '../fhir/audit-chain.js';
import { auditEventsCsv, auditFlags, residentReads, searchAuditEvents, type AuditFilter } from '../fhir/audit-review.js';
import { requirePermission, type AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { typed } from '../platform/openapi.js';

export interface AuditRoutesContext {
  db: Database;
  audit: AuditLog;
  authenticate: (req: FastifyRequest) => Promise<AuthUser>;
}

/**
 * Addresses of the reverse proxies whose X-Forwarded-For is believed (Fastify `trustProxy`):
 * YIFANG_TRUSTED_PROXIES, a comma-separated list of addresses or CIDRs (e.g.
 * "127.0.0.1,10.0.0.0/8"). Unset: none, and the source address is the socket's.
 */
export function trustedProxies(env: NodeJS.ProcessEnv = process.env): string[] | false {
  const list = (env.YIFANG_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length ? list : false;
}

const kAuditWrites = Symbol('auditWrites');
type WithWrites = FastifyRequest & { [kAuditWrites]?: Promise<void>[] };

const Filter = z.object({
  user: z.string().max(200).optional(),
  resident: z.string().max(200).optional(),
  purpose: z.string().max(200).optional(),
  action: z.enum(['C', 'R', 'U', 'D', 'E']).optional(),
  subtype: z.string().max(200).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
});
const Page = z.object({
  _count: z.coerce.number().int().min(0).max(500).default(50),
  _offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export function registerAuditRoutes(app: FastifyInstance, ctx: AuditRoutesContext): void {
  const { db, audit } = ctx;

  // A read's AuditEvent must be stored before its answer leaves: every audit write a request
  // starts (record() from any module) is awaited here; should one fail, the answer is an error.
  app.addHook('onRequest', (req, _reply, done) => {
    const list: Promise<void>[] = [];
    (req as WithWrites)[kAuditWrites] = list;
    collectAuditWrites(list, done);
  });
  // Who reads the audit trail sees every read answered before: the write-ahead file is drained first.
  app.addHook('preHandler', async (req) => {
    if (mayReadAuditTrail(req.method, req.url, req.body)) await audit.settle();
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    const list = (req as WithWrites)[kAuditWrites];
    if (list?.length) await Promise.all(list.splice(0));
    return payload;
  });

  const guard = async (req: FastifyRequest) => {
    const user = await ctx.authenticate(req);
    requirePermission(user, 'audit:read');
    return user;
  };
  const note = (req: FastifyRequest, user: AuthUser, what: string, patients: string[] = []) =>
    audit.record({
      user,
      action: 'E',
      subtype: 'audit-review',
      entities: [what.slice(0, 500)],
      patients,
      query: req.url,
      outcome: 'success',
      sourceAddress: req.ip,
    });
  const filterOf = (q: z.infer<typeof Filter>): AuditFilter => q;

  const api = typed(app);
  api.get(
    '/api/audit/events',
    {
      schema: {
        summary: 'Audit review: AuditEvents by user, resident, purpose, action, time; paged, newest first, with the total',
        tags: ['audit'],
        querystring: Filter.merge(Page),
      },
    },
    async (req) => {
      const user = await guard(req);
      const { _count, _offset, ...f } = req.query;
      const result = await searchAuditEvents(db.pool, filterOf(f), { count: _count, offset: _offset });
      await note(req, user, 'audit events');
      return { ...result, count: _count, offset: _offset };
    },
  );

  api.get(
    '/api/audit/events.csv',
    { schema: { summary: 'The filtered audit events as CSV (UTF-8 with BOM), up to 50,000', tags: ['audit'], querystring: Filter } },
    async (req, reply) => {
      const user = await guard(req);
      const csv = await auditEventsCsv(db.pool, filterOf(req.query));
      await note(req, user, 'audit events CSV export');
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(csv);
    },
  );

  api.get(
    '/api/audit/flags',
    {
      schema: {
        summary: 'Unusual patterns: a user reading more than N residents a day, reads outside 07:00–20:00 China time, break-glass access',
        tags: ['audit'],
        querystring: z.object({
          from: z.string().max(40).optional(),
          to: z.string().max(40).optional(),
          maxResidents: z.coerce.number().int().min(0).max(100_000).default(50),
        }),
      },
    },
    async (req) => {
      const user = await guard(req);
      const flags = await auditFlags(db.pool, { from: req.query.from, to: req.query.to, maxResidentsPerDay: req.query.maxResidents });
      await note(req, user, 'audit flags');
      return { maxResidents: req.query.maxResidents, workingHours: '07:00–20:00 UTC+8', flags };
    },
  );

  api.get(
    '/api/audit/residents/:patientId/reads',
    {
      schema: {
        summary: "Who read a resident's record: who, organisation, when, purpose (for the resident portal)",
        tags: ['audit'],
        params: z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a Patient id') }),
        querystring: Page,
      },
    },
    async (req) => {
      const user = await guard(req);
      const result = await residentReads(db.pool, req.params.patientId, { count: req.query._count, offset: req.query._offset });
      await note(req, user, `reads of Patient/${req.params.patientId}`);
      return { patient: `Patient/${req.params.patientId}`, ...result };
    },
  );

  api.get(
    '/api/audit/verify',
    {
      schema: {
        summary: "Verifies the audit chain: every link's HMAC, stored content, sequence and checkpoint signature",
        tags: ['audit'],
      },
    },
    async (req) => {
      const user = await guard(req);
      const report = await verifyAuditChain(db.pool, audit.keys);
      await note(req, user, 'audit chain verification');
      return report;
    },
  );

  api.get(
    '/api/audit/checkpoints',
    {
      schema: {
        summary: 'Signed chain heads (Ed25519) and the public key, as JSON for a second party to hold',
        tags: ['audit'],
        querystring: z.object({ since: z.coerce.number().int().min(0).default(0) }),
      },
    },
    async (req) => {
      const user = await guard(req);
      if (req.query.since < 0) throw badRequest('since must be ≥ 0');
      const out = await exportCheckpoints(db.pool, audit.keys, req.query.since);
      await note(req, user, 'audit checkpoints export');
      return out;
    },
  );
}
