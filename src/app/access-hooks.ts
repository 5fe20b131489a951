/**
 * The access policy on every /api route (issue #15). Each route is listed in the policy file's
 * `routes` table with whether it reaches personal data, its action, and where it names a
 * resident. A route missing from the table is refused (least privilege: a new route is closed
 * until someone decides who may use it; the attack suite names it).
 *
 *   before the handler: a route naming one resident (params.id, body.patientId, …) is decided
 *     for that resident; a list route needs some rule that lets the user act on the type;
 *   before the response leaves: rows of a list that name a patientId the user may not see are
 *     withheld, and every personal-data read is audited (patients named, purpose, query),
 *     committed before the response is sent.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessControl } from '../fhir/access.js';
import type { AuditLog } from '../fhir/audit.js';
import { mayEverAct, type RoutePolicy } from '../fhir/policy.js';
import type { AuthUser } from '../platform/auth.js';
import { forbidden } from '../platform/errors.js';

const kUser = Symbol('accessUser');
const kRoute = Symbol('accessRoute');
type Marked = FastifyRequest & { [kUser]?: AuthUser; [kRoute]?: RoutePolicy };

/** The policy-table key of a request's route: "GET /api/chronic/patients/:id". */
export function routeKey(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
}

function valueAt(req: FastifyRequest, path: string): string | undefined {
  const [where, name] = path.split('.') as ['params' | 'query' | 'body', string];
  const src = (where === 'params' ? req.params : where === 'query' ? req.query : req.body) as Record<string, unknown> | undefined;
  const v = src?.[name];
  return typeof v === 'string' && v ? v : undefined;
}

/** Every patientId in a JSON answer's rows (top-level arrays, or arrays under top-level keys). */
function rowsWithPatients(body: unknown): { list: Record<string, unknown>[]; key?: string; holder?: Record<string, unknown> }[] {
  const out: { list: Record<string, unknown>[]; key?: string; holder?: Record<string, unknown> }[] = [];
  const isRows = (v: unknown): v is Record<string, unknown>[] =>
    Array.isArray(v) && v.some((x) => x && typeof x === 'object' && typeof (x as Record<string, unknown>).patientId === 'string');
  if (isRows(body)) out.push({ list: body });
  else if (body && typeof body === 'object')
    for (const [key, v] of Object.entries(body as Record<string, unknown>))
      if (isRows(v)) out.push({ list: v, key, holder: body as Record<string, unknown> });
  return out;
}

export function installAccessHooks(
  app: FastifyInstance,
  ctx: { access: AccessControl; audit: AuditLog; authenticate: (req: FastifyRequest) => Promise<AuthUser> },
): void {
  const { access, audit } = ctx;

  app.addHook('preHandler', async (req: Marked) => {
    const url = req.routeOptions.url;
    if (!url?.startsWith('/api/') || url.startsWith('/api/docs')) return;
    const policy = access.policy.routes.get(routeKey(req));
    if (!policy)
      throw forbidden(`${routeKey(req)} is not in the access policy (config/security/policy.json routes); it stays closed until listed`);
    if (!policy.personal) return;
    const user = await ctx.authenticate(req);
    req[kUser] = user;
    req[kRoute] = policy;
    const resident = policy.resident ? valueAt(req, policy.resident) : undefined;
    if (resident) {
      await access.enforce(req, user, {
        action: policy.action,
        resourceType: policy.resourceType,
        patientIds: await access.residentIds(resident),
      });
      return;
    }
    if (!mayEverAct(access.policy, user, policy.action, policy.resourceType)) {
      const d = {
        allowed: false as const,
        reason: `no rule lets ${user.roles.join('/')} ${policy.action} ${policy.resourceType} records`,
        needsPurpose: false,
      };
      throw await access.refuse(req, user, d, routeKey(req), []);
    }
    access.purposeOf(req); // an unknown purpose is a 400 here too
  });

  app.addHook('onSend', async (req: Marked, reply, payload) => {
    const policy = req[kRoute];
    const user = req[kUser];
    // Reads, searches and exports of personal data leave their trace here (writes audit in their own transaction).
    if (
      !policy ||
      !user ||
      reply.statusCode >= 400 ||
      (policy.action !== 'read' && policy.action !== 'search' && policy.action !== 'export')
    )
      return payload;
    if (typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').includes('json')) {
      await auditApiRead(req, user, []);
      return payload;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    const groups = rowsWithPatients(body);
    const single =
      body && typeof body === 'object' && !Array.isArray(body) && typeof (body as { patientId?: unknown }).patientId === 'string';
    const named = [
      ...groups.flatMap((g) => g.list.map((r) => r.patientId as string)),
      ...(single ? [(body as { patientId: string }).patientId] : []),
    ].filter((x) => typeof x === 'string');
    if (!named.length && !policy.resident) {
      await auditApiRead(req, user, []);
      return payload;
    }
    const allowed = await access.allowedPatients(req, user, named, policy.action, policy.resourceType);
    if (single && !allowed.has((body as { patientId: string }).patientId)) {
      reply.code(403);
      await auditApiRead(req, user, [], 'failure');
      return JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'forbidden',
            diagnostics: 'This record belongs to a resident outside your access scope / 超出授权范围',
          },
        ],
      });
    }
    let withheld = 0;
    for (const g of groups) {
      // A row naming no resident (an out-of-district contact, a facility row) is not personal to anyone here: it passes.
      const kept = g.list.filter((r) => typeof r.patientId !== 'string' || allowed.has(r.patientId));
      withheld += g.list.length - kept.length;
      if (g.holder && g.key) g.holder[g.key] = kept;
      else body = kept;
    }
    const seen = [...new Set(named.filter((p) => allowed.has(p)))];
    await auditApiRead(req, user, policy.resident ? [valueAt(req, policy.resident)!, ...seen] : seen);
    if (!withheld) return payload;
    reply.header('X-Withheld-Rows', String(withheld));
    if (body && typeof body === 'object' && !Array.isArray(body) && typeof (body as { total?: unknown }).total === 'number')
      (body as { total: number }).total = Math.max(0, (body as { total: number }).total - withheld);
    return JSON.stringify(body);
  });

  async function auditApiRead(req: Marked, user: AuthUser, patients: string[], outcome: 'success' | 'failure' = 'success'): Promise<void> {
    const path = req.url.split('?')[0]!;
    const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    await audit.record({
      user,
      action: req[kRoute]?.action === 'search' ? 'E' : 'R',
      subtype: req[kRoute]?.action === 'search' ? 'search' : 'read',
      entities: [`${req.method} ${path}`.slice(0, 300)],
      outcome,
      sourceAddress: req.ip,
      purpose: access.purposeOf(req),
      patients: [...new Set(patients)].slice(0, 200).map((p) => `Patient/${p}`),
      ...(qs ? { query: `${path}?${qs}`.slice(0, 1000) } : {}),
    });
  }
}
