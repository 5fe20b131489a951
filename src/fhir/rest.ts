/**
 * FHIR R4 REST API at /fhir. Each handler checks the caller's permission, runs the repository
 * call, and audits it: writes inside their transaction, reads committed before the response
 * (the audit log's group commit).
 *
 * The audit trail (issue #15): AuditEvent is read-only on every channel (create, update,
 * conditional update, delete, Bundle entries: 403 naming the rule); reading it — read, vread,
 * search, _include/_revinclude or chains that reach it, Bundle GET entries — and history at
 * every level need `audit:read`.
 */
import { newResourceId } from './ids.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { hasPermission, requirePermission, type AuthUser, type Permission } from '../platform/auth.js';
import { patientsOf, refuseAuditEventWrite, type AuditAction, type AuditInput, type AuditLog } from './audit.js';
import { badRequest, HttpError } from '../platform/errors.js';
import { bundleRequests, processBundle, findOne, type BundleWrite } from './bundle.js';
import { getTypeDef } from './definitions.js';
import { capabilityStatement } from './capability.js';
import type { Queryable } from '../platform/db.js';
import type { FhirRepository } from './repository.js';
import { patientEverything, search } from './search.js';
import { assertResourceType } from './validate.js';
import type { AccessControl } from './access.js';
import { dataQualityOutcome } from '../shared/data-quality.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirContext {
  repo: FhirRepository;
  audit: AuditLog;
  /** The access policy applied to every resource read or written (issue #15). */
  access: AccessControl;
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

/**
 * A write's answer as the client prefers (FHIR `Prefer: return=`): the stored resource (default),
 * nothing (`minimal`), or an OperationOutcome (`OperationOutcome`) — which names every value
 * stored with a data-quality mark as a warning, or says the write succeeded.
 */
function sendWritten(req: FastifyRequest, reply: FastifyReply, status: number, resource: Resource): FastifyReply {
  const prefer = /return=(minimal|OperationOutcome|representation)/i.exec(String(req.headers.prefer ?? ''))?.[1]?.toLowerCase();
  if (prefer !== 'minimal' && prefer !== 'operationoutcome') return sendResource(reply, status, resource);
  if (resource.meta?.versionId) reply.header('ETag', `W/"${resource.meta.versionId}"`);
  if (resource.meta?.lastUpdated) reply.header('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
  if (prefer === 'minimal') return reply.code(status).send();
  const outcome = dataQualityOutcome(resource) ?? {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics: `${resource.resourceType}/${resource.id} stored / 已保存` }],
  };
  return reply.code(status).type(FHIR_JSON).send(outcome);
}

export function registerFhirRoutes(app: FastifyInstance, ctx: FhirContext): void {
  const { repo, audit, access } = ctx;

  /** Applies the policy to a search's entries: withheld ones dropped and counted, the rest masked. */
  async function filterBundle(req: FastifyRequest, user: AuthUser, bundle: Bundle): Promise<Bundle> {
    const all = bundle.entry ?? [];
    // History's deletion entries carry no resource: only its id, which the entry keeps.
    const entries = all.filter((e) => e.resource);
    if (!entries.length) return bundle;
    const { kept: found, withheld } = await access.filter(
      req,
      user,
      entries.map((e) => e.resource!),
    );
    const byEntry = new Map(entries.map((e, i) => [e, found[i]]));
    const kept = all.map((e) => (e.resource ? byEntry.get(e) : undefined));
    if (!withheld) return { ...bundle, entry: all.map((e, i) => (e.resource ? { ...e, resource: kept[i]! } : e)) };
    const outcome: BundleEntry = {
      resource: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'information',
            code: 'suppressed',
            diagnostics: `${withheld} result(s) on this page are outside your access scope and were withheld / 本页有 ${withheld} 条超出授权范围的结果未显示`,
          },
        ],
      },
      search: { mode: 'outcome' },
    };
    return {
      ...bundle,
      ...(bundle.total !== undefined ? { total: Math.max(0, bundle.total - withheld) } : {}),
      entry: [...all.flatMap((e, i) => (!e.resource ? [e] : kept[i] ? [{ ...e, resource: kept[i]! }] : [])), outcome],
    };
  }

  /** For a change to a stored resource: the stored version must be within the user's scope too. */
  async function enforceStored(req: FastifyRequest, user: AuthUser, type: string, id: string, action: 'write' | 'delete'): Promise<void> {
    const existing = await repo.read(type, id).catch(() => undefined);
    if (existing) await access.enforce(req, user, { action, resource: existing });
  }

  async function guard(req: FastifyRequest, permission: Permission): Promise<AuthUser> {
    const user = await ctx.authenticate(req);
    requirePermission(user, permission);
    return user;
  }

  /** A read's AuditEvent, committed before the response is sent (awaited by every read handler). */
  const auditRead = (
    req: FastifyRequest,
    user: AuthUser,
    subtype: string,
    entities: string[],
    extra: Pick<AuditInput, 'patients' | 'query'> = {},
  ): Promise<void> =>
    audit.record({
      user,
      action: subtype === 'search' ? 'E' : 'R',
      subtype,
      entities,
      outcome: 'success',
      sourceAddress: req.ip,
      purpose: purposeOf(req),
      ...extra,
    });

  /**
   * Refuses a write of AuditEvent (by URL type or body), after recording the attempt: someone
   * tried to forge or rewrite the audit trail.
   */
  async function refuseAuditWrite(req: FastifyRequest, user: AuthUser, action: AuditAction, type: string | undefined, body?: unknown) {
    try {
      refuseAuditEventWrite(type, body);
    } catch (err) {
      await audit.record({
        user,
        action,
        subtype: 'audit-write-refused',
        entities: [`${req.method} ${req.url.split('?')[0]}`.slice(0, 300)],
        outcome: 'failure',
        outcomeText: (err as Error).message,
        sourceAddress: req.ip,
        purpose: purposeOf(req),
      });
      throw err;
    }
  }

  /** `audit:read` when a query reaches AuditEvent; 403 when a result holds one the user may not see. */
  function guardAuditQuery(user: AuthUser, type: string, params: [string, string][]): void {
    if (queryReachesAuditEvent(type, params)) requirePermission(user, 'audit:read');
  }
  function guardAuditResults(user: AuthUser, entries: BundleEntry[] | undefined): void {
    if (entries?.some((e) => e.resource?.resourceType === 'AuditEvent')) requirePermission(user, 'audit:read');
  }

  /** Runs a write in a transaction with its audit event. */
  async function audited<T>(
    req: FastifyRequest,
    user: AuthUser,
    action: AuditAction,
    subtype: string,
    fn: (client: Queryable) => Promise<{ result: T; entity: string }>,
  ): Promise<T> {
    let written: string | undefined;
    const out = await repo.db.transaction(async (client) => {
      const { result, entity } = await fn(client);
      written = entity;
      access.written(entity);
      const resource = (result as { resource?: Resource }).resource ?? (result as Resource | undefined);
      await audit.recordNow(client, {
        user,
        action,
        subtype,
        entities: [entity],
        outcome: 'success',
        sourceAddress: req.ip,
        purpose: purposeOf(req),
        patients: patientsOf(resource && typeof resource === 'object' && 'resourceType' in resource ? resource : undefined),
      });
      return result;
    });
    // Again once committed: a request between the write and its commit may have cached the old facts.
    if (written) access.written(written);
    return out;
  }

  app.get('/fhir/metadata', async (req, reply) => reply.type(FHIR_JSON).send(capabilityStatement(baseUrlOf(req))));

  app.post('/fhir', async (req, reply) => {
    const user = await guard(req, 'fhir:write');
    const bundleType = String((req.body as Bundle | undefined)?.type ?? 'batch');
    await guardBundle(req, user);
    const reads: { entities: string[]; patients: string[] }[] = [];
    // What the Bundle wrote, for the access policy to forget (a Patient's facts, a Consent's or Person's choices).
    const written = new Set<string>();
    const result = await processBundle(repo, req.body, baseUrlOf(req), {
      // The parsed body is used for nothing else: rewritten in place, it is held once.
      consume: true,
      checkReferences: checkReferences(req, user),
      filterRead: async (resources, client) => (await access.filter(req, user, resources, 'read', client)).kept,
      // The writes of a transaction (of each batch entry) are audited in its own database transaction.
      onEntriesDone: (client, writes: BundleWrite[]) => {
        for (const w of writes) {
          written.add(w.reference);
          access.written(w.reference);
        }
        return audit.recordNow(client, {
          user,
          action: writes.every((w) => w.action === 'delete') ? 'D' : 'E',
          subtype: bundleType === 'transaction' ? 'transaction' : 'batch',
          entities: writes.map((w) => w.reference),
          patients: [...new Set(writes.flatMap((w) => patientsOf(w.resource)))],
          outcome: 'success',
          sourceAddress: req.ip,
          purpose: purposeOf(req),
        });
      },
      onRead: (request, resources) => {
        guardAuditResults(
          user,
          resources.map((resource) => ({ resource })),
        );
        reads.push({
          entities: request.id ? [`${request.type}/${request.id}`] : resources.map((r) => `${r.resourceType}/${r.id}`).slice(0, 100),
          patients: resources.flatMap((r) => patientsOf(r)),
        });
      },
    }).catch(async (err) => {
      await audit
        .record({
          user,
          action: 'E',
          subtype: bundleType === 'transaction' ? 'transaction' : 'batch',
          entities: ['Bundle'],
          outcome: 'failure',
          outcomeText: (err as Error).message,
          sourceAddress: req.ip,
          purpose: purposeOf(req),
        })
        .catch(() => undefined);
      throw err;
    });
    // Again once committed (each batch entry committed on its own; a failed transaction wrote nothing, but forgetting is harmless).
    for (const entity of written) access.written(entity);
    if (reads.length)
      await auditRead(
        req,
        user,
        'read',
        reads.flatMap((r) => r.entities),
        { patients: [...new Set(reads.flatMap((r) => r.patients))] },
      );
    return reply.type(FHIR_JSON).send(result);
  });

  /**
   * A Bundle's entries before anything runs: writes of AuditEvent are refused (also in bundle.ts),
   * GET entries need fhir:read, and audit:read for AuditEvent or history; conditional queries and
   * references that reach AuditEvent need audit:read.
   */
  async function guardBundle(req: FastifyRequest, user: AuthUser): Promise<void> {
    const { requests, conditionalReferences } = bundleRequests(req.body);
    for (const r of requests) {
      if (r.method !== 'GET')
        await refuseAuditWrite(req, user, r.method === 'DELETE' ? 'D' : 'U', r.type, { resourceType: r.resourceType });
    }
    // Every write entry within the user's scope: the resource sent, and the stored one it changes.
    const entries = ((req.body as Bundle | undefined)?.entry ?? []) as BundleEntry[];
    for (const [i, r] of requests.entries()) {
      if (r.method === 'GET') continue;
      const action = r.method === 'DELETE' ? 'delete' : 'write';
      const body = entries[i]?.resource;
      if (body && typeof body === 'object') await access.enforce(req, user, { action, resource: body });
      if (r.id && !r.query) await enforceStored(req, user, r.type, r.id, action);
    }
    for (const r of requests) {
      const params = r.query ? [...new URLSearchParams(r.query).entries()] : [];
      if (r.method === 'GET') {
        requirePermission(user, 'fhir:read');
        if (r.history) requirePermission(user, 'audit:read');
      }
      guardAuditQuery(user, r.type, r.method === 'GET' || r.query ? params : []);
    }
    for (const ref of conditionalReferences) {
      const [type = '', qs = ''] = ref.split('?');
      guardAuditQuery(user, type, [...new URLSearchParams(qs).entries()]);
    }
  }

  app.get('/fhir/_history', async (req, reply) => {
    // History shows every version of every record: an auditor's tool.
    const user = await guard(req, 'audit:read');
    const bundle = await filterBundle(req, user, await repo.history(undefined, undefined, historyParams(req)));
    await auditRead(req, user, 'history-system', ['_history'], { patients: historyPatients(bundle) });
    return reply.type(FHIR_JSON).send(bundle);
  });

  const searchHandler = async (req: FastifyRequest<{ Params: { type: string } }>, reply: FastifyReply, extra: [string, string][] = []) => {
    const { type } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const params = [...queryPairs(req), ...extra];
    guardAuditQuery(user, type, params);
    const result = await search(repo.db.pool, type, { params }, baseUrlOf(req));
    guardAuditResults(user, result.bundle.entry);
    result.bundle = await filterBundle(req, user, result.bundle);
    const resources = (result.bundle.entry ?? []).flatMap((e) => (e.resource && e.search?.mode !== 'outcome' ? [e.resource] : []));
    await auditRead(req, user, 'search', result.ids.filter((r) => !r.startsWith('Patient/')).slice(0, 100), {
      query: `${type}?${new URLSearchParams(params).toString()}`,
      patients: [...new Set(resources.flatMap((r) => patientsOf(r)))],
    });
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
    await refuseAuditWrite(req, user, 'C', type, req.body);
    const ifNoneExist = req.headers['if-none-exist'];
    if (typeof ifNoneExist === 'string' && ifNoneExist) {
      // The lookup answers with what it found: a read, checked and audited as one.
      requirePermission(user, 'fhir:read');
      guardAuditQuery(user, type, [...new URLSearchParams(ifNoneExist).entries()]);
      const found = await findOne(repo.db.pool, type, new URLSearchParams(ifNoneExist), baseUrlOf(req));
      if (found) {
        const existing = await access.enforce(req, user, { action: 'read', resource: found });
        await auditRead(req, user, 'read', [`${type}/${existing.id}`], { patients: patientsOf(existing), query: `${type}?${ifNoneExist}` });
        return sendResource(reply, 200, existing);
      }
    }
    await access.enforce(req, user, { action: 'write', resource: { ...(req.body as Resource), resourceType: type } as Resource });
    const created = await audited(req, user, 'C', 'create', async (client) => {
      const r = await repo.create(req.body, client, type, { checkReferences: checkReferences(req, user) });
      return { result: r, entity: `${type}/${r.id}` };
    });
    reply.header('Location', `${baseUrlOf(req)}/${type}/${created.id}/_history/${created.meta?.versionId}`);
    return sendWritten(req, reply, 201, created);
  });

  // Conditional update: PUT /fhir/Patient?identifier=system|value
  app.put<{ Params: { type: string } }>('/fhir/:type', async (req, reply) => {
    const { type } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:write');
    await refuseAuditWrite(req, user, 'U', type, req.body);
    const pairs = queryPairs(req);
    if (!pairs.length) throw badRequest('PUT without an id needs search parameters (conditional update), e.g. ?identifier=system|value');
    guardAuditQuery(user, type, pairs);
    const existing = await findOne(repo.db.pool, type, new URLSearchParams(pairs), baseUrlOf(req));
    const body = req.body as Resource;
    if (existing) await access.enforce(req, user, { action: 'write', resource: existing });
    await access.enforce(req, user, { action: 'write', resource: { ...body, resourceType: type } as Resource });
    const id = existing?.id ?? (body?.id as string | undefined) ?? newResourceId();
    const { resource, created } = await audited(req, user, existing ? 'U' : 'C', existing ? 'update' : 'create', async (client) => {
      const r = await repo.update(type, id, { ...body, id }, { checkReferences: checkReferences(req, user) }, client);
      return { result: r, entity: `${type}/${id}` };
    });
    return sendWritten(req, reply, created ? 201 : 200, resource);
  });

  app.get<{ Params: { type: string } }>('/fhir/:type/_history', async (req, reply) => {
    const user = await guard(req, 'audit:read');
    const bundle = await filterBundle(req, user, await repo.history(req.params.type, undefined, historyParams(req)));
    await auditRead(req, user, 'history-type', [`${req.params.type}/_history`], { patients: historyPatients(bundle) });
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const { type, id } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const r = await access.enforce(req, user, { action: 'read', resource: await repo.read(type, id) });
    await auditRead(req, user, 'read', [`${type}/${id}`], { patients: patientsOf(r) });
    return sendResource(reply, 200, r);
  });

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id/$everything', async (req, reply) => {
    const user = await guard(req, 'fhir:read');
    await access.enforce(req, user, { action: 'read', resource: await repo.read('Patient', req.params.id) });
    const found = await patientEverything(repo.db.pool, req.params.id);
    const resources = (await access.filter(req, user, found, 'read')).kept.filter((r): r is Resource => r !== null);
    guardAuditResults(
      user,
      resources.map((resource) => ({ resource })),
    );
    await auditRead(req, user, 'everything', [`Patient/${req.params.id}`]);
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
    await refuseAuditWrite(req, user, 'U', type, req.body);
    const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : undefined;
    await access.enforce(req, user, { action: 'write', resource: { ...(req.body as Resource), resourceType: type } as Resource });
    await enforceStored(req, user, type, id, 'write');
    const { resource, created } = await audited(req, user, 'U', 'update', async (client) => ({
      result: await repo.update(type, id, req.body, { ifMatch, checkReferences: checkReferences(req, user) }, client),
      entity: `${type}/${id}`,
    }));
    return sendWritten(req, reply, created ? 201 : 200, resource);
  });

  app.delete<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const { type, id } = req.params;
    assertResourceType(type);
    const user = await guard(req, 'fhir:delete');
    await refuseAuditWrite(req, user, 'D', type);
    await enforceStored(req, user, type, id, 'delete');
    await audited(req, user, 'D', 'delete', async (client) => ({ result: await repo.delete(type, id, client), entity: `${type}/${id}` }));
    return reply.code(204).send();
  });

  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id/_history', async (req, reply) => {
    const user = await guard(req, 'audit:read');
    const bundle = await filterBundle(req, user, await repo.history(req.params.type, req.params.id, historyParams(req)));
    await auditRead(req, user, 'history-instance', [`${req.params.type}/${req.params.id}`], { patients: historyPatients(bundle) });
    return reply.type(FHIR_JSON).send(bundle);
  });

  app.get<{ Params: { type: string; id: string; vid: string } }>('/fhir/:type/:id/_history/:vid', async (req, reply) => {
    const { type, id, vid } = req.params;
    const user = await guard(req, type === 'AuditEvent' ? 'audit:read' : 'fhir:read');
    const r = await access.enforce(req, user, { action: 'read', resource: await repo.vread(type, id, vid) });
    await auditRead(req, user, 'vread', [`${type}/${id}`], { patients: patientsOf(r) });
    return sendResource(reply, 200, r);
  });
}

/** The patients whose records a history page shows. */
function historyPatients(bundle: Bundle): string[] {
  return [...new Set((bundle.entry ?? []).flatMap((e) => patientsOf(e.resource)))].slice(0, 200);
}

/**
 * Whether a search reaches AuditEvent: its own type, a parameter or _include/_revinclude naming
 * it, or a chain whose (implicit) target is AuditEvent.
 */
export function queryReachesAuditEvent(type: string, params: [string, string][]): boolean {
  if (type === 'AuditEvent') return true;
  for (const [name, value] of params) {
    if (name.includes('AuditEvent')) return true;
    if (
      (name.startsWith('_include') || name.startsWith('_revinclude') || name === '_type' || name.startsWith('_has')) &&
      value.includes('AuditEvent')
    )
      return true;
    if (name.startsWith('_has')) return true;
    if (!name.includes('.')) continue;
    let def = getTypeDef(type);
    for (const part of name.split('.').slice(0, -1)) {
      const [code = '', modifier] = part.split(':');
      const p = def?.params.get(code);
      if (!p) break;
      const target = modifier ?? (p.targets.length === 1 ? p.targets[0] : p.targets.includes('Patient') ? 'Patient' : undefined);
      if (target === 'AuditEvent') return true;
      def = target ? getTypeDef(target) : undefined;
    }
  }
  return false;
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
  if (typeof p !== 'string' || !p.trim()) return undefined;
  const c = p.trim();
  return /^[A-Za-z]{2,12}$/.test(c) ? c.toUpperCase() : c.slice(0, 200);
}

export { HttpError };
