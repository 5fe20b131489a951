/**
 * FHIR R4 REST API at /fhir. Each handler checks the caller's permission, runs the repository
 * call, and audits it: writes inside their transaction, reads through the buffered audit log.
 */
import { newResourceId } from './ids.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { hasPermission, requirePermission, type AuthUser, type Permission } from '../platform/auth.js';
import type { AuditAction, AuditLog } from './audit.js';
import { badRequest, HttpError } from '../platform/errors.js';
import { processBundle, findOne } from './bundle.js';
import { capabilityStatement } from './capability.js';
import type { Queryable } from '../platform/db.js';
import type { FhirRepository } from './repository.js';
import { patientEverything, search } from './search.js';
import { assertResourceType } from './validate.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirContext {
  repo: FhirRepository;
  audit: AuditLog;
  authenticate: (req: FastifyRequest) => Promise<AuthUser>;
}

function baseUrlOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}/fhir`;
}

function queryPairs(req: FastifyRequest): [string, string][] {
  const raw = req.raw.url ?? '';
  const qs = raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '';
  return [...new URLSearchParams(qs).entries()];
}

function sendResource(reply: FastifyReply, status: number, resource: Resource): FastifyReply {
  if (resource.meta?.versionId) reply.header('ETag', `W/"${resource.meta.versionId}"`);
  if (resource.meta?.lastUpdated) reply.header('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
  return reply.code(status).type(FHIR_JSON).send(resource);
}

export function registerFhirRoutes(app: FastifyInstance, ctx: FhirContext): void {
  const { repo, audit } = ctx;

  async function guard(req: FastifyRequest, permission: Permission): Promise<AuthUser> {
    const user = await ctx.authenticate(req);
    requirePermission(user, permission);
    return user;
  }

  const auditRead = (req: FastifyRequest, user: AuthUser, subtype: string, entities: string[]) =>
    audit.record({
      user,
      action: subtype === 'search' ? 'E' : 'R',
      subtype,
      entities,
      outcome: 'success',
      sourceAddress: req.ip,
      purpose: purposeOf(req),
    });

  /** Runs a write in a transaction with its audit event. */
  async function audited<T>(
    req: FastifyRequest,
    user: AuthUser,
    action: AuditAction,
    subtype: string,
    fn: (client: Queryable) => Promise<{ result: T; entity: string }>,
  ): Promise<T> {
    return repo.db.transaction(async (client) => {
      const { result, entity } = await fn(client);
      await audit.recordNow(client, {
        user,
        action,
        subtype,
        entities: [entity],
        outcome: 'success',
        sourceAddress: req.ip,
        purpose: purposeOf(req),
      });
      return result;
    });
  }

  app.get('/fhir/metadata', async (req, reply) => reply.type(FHIR_JSON).send(capabilityStatement(baseUrlOf(req))));

  app.post('/fhir', async (req, reply) => {
    const user = await guard(req, 'fhir:write');
    const written: string[] = [];
    const result = await processBundle(repo, req.body, baseUrlOf(req), {
      checkReferences: checkReferences(req, user),
      onWrite: async (client, action, reference) => {
        written.push(reference);
        if (written.length === 1) void client;
      },
    }).catch((err) => {
      audit.record({
        user,
        action: 'E',
        subtype: 'transaction',
        entities: ['Bundle'],
        outcome: 'failure',
        outcomeText: (err as Error).message,
        sourceAddress: req.ip,
      });
      throw err;
    });
    audit.record({
      user,
      action: 'E',
      subtype: (req.body as Bundle).type ?? 'batch',
      entities: written,
      outcome: 'success',
      sourceAddress: req.ip,
    });
    return reply.type(FHIR_JSON).send(result);
  });

  app.get('/fhir/_history', async (req, reply) => {
    const user = await guard(req, 'fhir:read');
    const bundle = await repo.history(undefined, undefined, historyParams(req));
    auditRead(req, user, 'history-system', ['_history']);
    return reply.type(FHIR_JSON).send(bundle);
  });

  const searchHandler = async (req: FastifyRequest<{ Params: { type: string } }>, reply: FastifyReply, extra: [string, string][] = []) => {
    const { type } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const params = [...queryPairs(req), ...extra];
    const result = await search(repo.db.pool, type, { params }, baseUrlOf(req));
    if (type !== 'AuditEvent')
      auditRead(req, user, 'search', [`${type}?${new URLSearchParams(params).toString()}`.slice(0, 500), ...result.ids.slice(0, 100)]);
    return reply.type(FHIR_JSON).send(result.bundle);
  };

  app.get<{ Params: { type: string } }>('/fhir/:type', (req, reply) => searchHandler(req, reply));
  app.post<{ Params: { type: string } }>('/fhir/:type/_search', (req, reply) => {
    const body =
      typeof req.body === 'string'
        ? [...new URLSearchParams(req.body).entries()]
        : Object.entries((req.body as Record<string, string>) ?? {});
    return searchHandler(req, reply, body as [string, string][]);
  });

  app.post<{ Params: { type: string } }>('/fhir/:type', async (req, reply) => {
    const { type } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:write');
    const ifNoneExist = req.headers['if-none-exist'];
    if (typeof ifNoneExist === 'string' && ifNoneExist) {
      const existing = await findOne(repo.db.pool, type, new URLSearchParams(ifNoneExist), baseUrlOf(req));
      if (existing) return sendResource(reply, 200, existing);
    }
    const created = await audited(req, user, 'C', 'create', async (client) => {
      const r = await repo.create(req.body, client, type, { checkReferences: checkReferences(req, user) });
      return { result: r, entity: `${type}/${r.id}` };
    });
    reply.header('Location', `${baseUrlOf(req)}/${type}/${created.id}/_history/${created.meta?.versionId}`);
    return sendResource(reply, 201, created);
  });

  // Conditional update: PUT /fhir/Patient?identifier=system|value
  app.put<{ Params: { type: string } }>('/fhir/:type', async (req, reply) => {
    const { type } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:write');
    const pairs = queryPairs(req);
    if (!pairs.length) throw badRequest('PUT without an id needs search parameters (conditional update), e.g. ?identifier=system|value');
    const existing = await findOne(repo.db.pool, type, new URLSearchParams(pairs), baseUrlOf(req));
    const body = req.body as Resource;
    const id = existing?.id ?? (body?.id as string | undefined) ?? newResourceId();
    const { resource, created } = await audited(req, user, existing ? 'U' : 'C', existing ? 'update' : 'create', async (client) => {
      const r = await repo.update(type, id, { ...body, id }, { checkReferences: checkReferences(req, user) }, client);
      return { result: r, entity: `${type}/${id}` };
    });
    return sendResource(reply, created ? 201 : 200, resource);
  });

  app.get<{ Params: { type: string } }>('/fhir/:type/_history', async (req, reply) => {
    const user = await guard(req, 'fhir:read');
    const bundle = await repo.history(req.params.type, undefined, historyParams(req));
    auditRead(req, user, 'history-type', [`${req.params.type}/_history`]);
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const { type, id } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const r = await repo.read(type, id);
    if (type !== 'AuditEvent') auditRead(req, user, 'read', [`${type}/${id}`]);
    return sendResource(reply, 200, r);
  });

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id/$everything', async (req, reply) => {
    const user = await guard(req, 'fhir:read');
    await repo.read('Patient', req.params.id);
    const resources = await patientEverything(repo.db.pool, req.params.id);
    auditRead(req, user, 'everything', [`Patient/${req.params.id}`]);
    const base = baseUrlOf(req);
    return reply.type(FHIR_JSON).send({
      resourceType: 'Bundle',
      type: 'searchset',
      total: resources.length,
      entry: resources.map((r) => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
    });
  });

  app.put<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const { type, id } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:write');
    const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
    const { resource, created } = await audited(req, user, 'U', 'update', async (client) => ({
      result: await repo.update(type, id, req.body, { ifMatch, checkReferences: checkReferences(req, user) }, client),
      entity: `${type}/${id}`,
    }));
    return sendResource(reply, created ? 201 : 200, resource);
  });

  app.delete<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const { type, id } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:delete');
    await audited(req, user, 'D', 'delete', async (client) => ({ result: await repo.delete(type, id, client), entity: `${type}/${id}` }));
    return reply.code(204).send();
  });

  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id/_history', async (req, reply) => {
    const user = await guard(req, 'fhir:read');
    const bundle = await repo.history(req.params.type, req.params.id, historyParams(req));
    auditRead(req, user, 'history-instance', [`${req.params.type}/${req.params.id}`]);
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: { type: string; id: string; vid: string } }>('/fhir/:type/:id/_history/:vid', async (req, reply) => {
    const { type, id, vid } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const r = await repo.vread(type, id, vid);
    auditRead(req, user, 'vread', [`${type}/${id}`]);
    return sendResource(reply, 200, r);
  });
}

function historyParams(req: FastifyRequest): { count: number; since?: string; offset: number } {
  const q = req.query as Record<string, string | undefined>;
  const count = q._count === undefined ? 50 : Number(q._count);
  const offset = q._offset === undefined ? 0 : Number(q._offset);
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw badRequest('_count must be an integer from 0 to 1000');
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('_offset must be a non-negative integer');
  if (q._since !== undefined && Number.isNaN(Date.parse(q._since))) throw badRequest(`_since '${q._since}' is not a valid instant`);
  return { count, offset, ...(q._since ? { since: q._since } : {}) };
}

/**
 * Whether a write's local references must point at stored resources (the default). A loader with
 * the import permission whose resources arrive out of order may turn it off per request with
 * `X-Check-References: false`, as bulk import does.
 */
function checkReferences(req: FastifyRequest, user: AuthUser): boolean {
  return !(req.headers['x-check-references'] === 'false' && hasPermission(user, 'import'));
}

/** Purpose of use, stated for investigation access (X-Purpose-Of-Use header). */
function purposeOf(req: FastifyRequest): string | undefined {
  const p = req.headers['x-purpose-of-use'];
  return typeof p === 'string' && p ? p.slice(0, 200) : undefined;
}

export { HttpError };
