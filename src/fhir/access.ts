/**
 * Access control (issue #15): gathers the facts a policy decision needs and applies the decision
 * on every channel — FHIR REST and Bundles (src/fhir/rest.ts), and every /api route through the
 * hooks in src/app/access-hooks.ts. The rules themselves and the pure decision are in policy.ts.
 *
 * Facts are gathered only as far as a decision needs them:
 *   1. a rule with district scope fits the user: no lookup at all (imports, CDC staff);
 *   2. otherwise the resident's own record: managing organisation, general practitioner, home area;
 *   3. otherwise the relations: an encounter at the user's organisation (treating facility), an
 *      EpisodeOfCare (family-doctor contract) managed by it, and the user's open break-glass grants.
 * Residents' own facts are cached for ten seconds; a Patient written through FHIR REST in this process is forgotten at once.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../platform/auth.js';
import type { Queryable } from '../platform/db.js';
import { badRequest, forbidden } from '../platform/errors.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';
import { activeGrantPatients } from './break-glass.js';
import { decide, maskResource, type Action, type Decision, type Policy, type ResidentFacts } from './policy.js';
import type { AuditLog } from './audit.js';

/** Resource types that are about people but name no Patient at their top level. */
const PEOPLE_TYPES = new Set(['Person', 'Group', 'RelatedPerson']);
const PATIENT_REF = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

type Json = Record<string, unknown>;

/** The Patient ids a resource is about (itself, subject/patient/…, Group members, Person links). */
export function residentsOf(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  const out = new Set<string>();
  const r = resource as unknown as Json;
  const add = (x: unknown) => {
    const ref = (x as { reference?: unknown } | undefined)?.reference;
    const m = typeof ref === 'string' ? PATIENT_REF.exec(ref) : null;
    if (m) out.add(m[1]!);
  };
  for (const k of ['subject', 'patient', 'beneficiary', 'individual', 'who']) {
    const v = r[k];
    for (const x of Array.isArray(v) ? v : [v]) add(x);
  }
  if (resource.resourceType === 'Group') for (const m of (r.member as Json[] | undefined) ?? []) add(m.entity);
  if (resource.resourceType === 'Person') for (const l of (r.link as Json[] | undefined) ?? []) add(l.target);
  return [...out];
}

/** A Patient's own facts: organisations named in it and home area codes. */
export function patientOwnFacts(p: Resource): { organizations: string[]; areas: string[] } {
  const r = p as unknown as Json;
  const orgs = new Set<string>();
  const addOrg = (x: unknown) => {
    const ref = (x as { reference?: unknown } | undefined)?.reference;
    if (typeof ref === 'string' && ref.startsWith('Organization/')) orgs.add(ref.slice('Organization/'.length));
  };
  addOrg(r.managingOrganization);
  for (const g of (r.generalPractitioner as unknown[] | undefined) ?? []) addOrg(g);
  const areas: string[] = [];
  for (const a of (r.address as Json[] | undefined) ?? [])
    for (const e of (a.extension as Json[] | undefined) ?? [])
      if (e.url === AREA_CODE_EXTENSION && typeof e.valueString === 'string') areas.push(e.valueString);
  return { organizations: [...orgs], areas };
}

interface CachedFacts {
  at: number;
  organizations: string[];
  areas: string[];
  exists: boolean;
}

export interface AccessCheck {
  action: Action;
  resource?: Resource;
  /** Type to match rules on when there is no resource (a create's body is the resource). */
  resourceType?: string;
  /** Residents the request is about when no resource says it (an /api route's patient id). */
  patientIds?: string[];
}

export class AccessControl {
  private readonly cache = new Map<string, CachedFacts>();
  constructor(
    readonly policy: Policy,
    private readonly db: { pool: Queryable },
    private readonly audit: AuditLog,
    private readonly cacheMs = 10_000,
  ) {}

  /** The stated purpose of use (X-Purpose-Of-Use), checked against the policy's list. */
  purposeOf(req: FastifyRequest): string | undefined {
    const p = req.headers['x-purpose-of-use'];
    if (typeof p !== 'string' || !p) return undefined;
    const raw = p.trim();
    const code = raw.toUpperCase();
    if (this.policy.purposes.has(code)) return code;
    // Free text (a ticket number, a sentence) is recorded as it is and satisfies no purpose-bound rule;
    // a word that looks like a code but is not one is a mistake worth a 400.
    if (!/^[A-Za-z]{2,12}$/.test(raw)) return raw.slice(0, 200);
    {
      throw badRequest(
        `X-Purpose-Of-Use '${p.slice(0, 40)}' is not a purpose this district uses; use one of ${[...this.policy.purposes.keys()].join(', ')} / 用途代码无效`,
      );
    }
  }

  /** Forgets cached facts (after a Patient write in this process). */
  forget(patientId?: string): void {
    if (patientId) this.cache.delete(patientId);
    else this.cache.clear();
  }

  private async ownFacts(ids: string[], db: Queryable = this.db.pool): Promise<Map<string, CachedFacts>> {
    const now = Date.now();
    const out = new Map<string, CachedFacts>();
    const missing: string[] = [];
    for (const id of ids) {
      const c = this.cache.get(id);
      if (c && now - c.at < this.cacheMs) out.set(id, c);
      else missing.push(id);
    }
    if (missing.length) {
      const { rows } = await db.query<{ id: string; content: Resource }>(
        `SELECT p.id, h.content FROM r_patient p JOIN resource_history h
           ON h.resource_type = 'Patient' AND h.id = p.id AND h.version_id = p.version_id
          WHERE p.id = ANY($1::text[])`,
        [missing],
      );
      const found = new Map(rows.map((r) => [r.id, r.content]));
      if (this.cache.size > 50_000) this.cache.clear();
      for (const id of missing) {
        const p = found.get(id);
        const f: CachedFacts = p
          ? { at: now, exists: true, ...patientOwnFacts(p) }
          : { at: now, exists: false, organizations: [], areas: [] };
        this.cache.set(id, f);
        out.set(id, f);
      }
    }
    return out;
  }

  /** The Patients a resident id names: the Patient itself, or the Patients a Person (merged record) links. */
  async residentIds(id: string): Promise<string[]> {
    const own = await this.ownFacts([id]);
    if (own.get(id)?.exists) return [id];
    const { rows } = await this.db.pool.query<{ content: Resource }>(
      `SELECT h.content FROM r_person p JOIN resource_history h
         ON h.resource_type = 'Person' AND h.id = p.id AND h.version_id = p.version_id WHERE p.id = $1`,
      [id],
    );
    const linked = rows[0] ? residentsOf(rows[0].content) : [];
    return linked.length ? linked : [id];
  }

  /** Relations of one resident to one organisation: treated there, or under contract with one of its teams. */
  private async related(patientId: string, organization: string, db: Queryable): Promise<boolean> {
    const { rows } = await db.query<{ yes: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM r_encounter WHERE compartments @> $1::text[] AND p_service_provider && $2::text[])
           OR EXISTS (SELECT 1 FROM r_episodeofcare WHERE compartments @> $1::text[] AND p_organization && $2::text[]) AS yes`,
      [[`Patient/${patientId}`], [`Organization/${organization}`]],
    );
    return rows[0]?.yes === true;
  }

  private decideFor(user: AuthUser, check: AccessCheck, purpose: string | undefined, resident: ResidentFacts | null): Decision {
    return decide(this.policy, {
      user,
      action: check.action,
      resourceType: check.resource?.resourceType ?? check.resourceType ?? 'Patient',
      resource: check.resource,
      purpose,
      resident,
    });
  }

  /**
   * The decision for one resource or resident, gathering facts only as far as needed. A resource
   * that belongs to no resident is decided on its type alone.
   */
  async decision(user: AuthUser, check: AccessCheck, purpose: string | undefined, db: Queryable = this.db.pool): Promise<Decision> {
    const type = check.resource?.resourceType ?? check.resourceType ?? 'Patient';
    const ids = check.patientIds ?? (check.resource ? residentsOf(check.resource) : []);
    const personal = ids.length > 0 || type === 'Patient' || PEOPLE_TYPES.has(type);
    if (!personal) return this.decideFor(user, check, purpose, null);
    // 1. district scope: no lookup.
    const skeleton: ResidentFacts = { patientIds: ids, organizations: new Set(), areas: [], breakGlass: false, complete: false };
    let d = this.decideFor(user, check, purpose, skeleton);
    if (d.allowed || d.rule) return d;
    // 2. the resident's own record (or the body being written, for a new Patient).
    const organizations = new Set<string>();
    const areas: string[] = [];
    if (check.resource?.resourceType === 'Patient') {
      const own = patientOwnFacts(check.resource);
      own.organizations.forEach((o) => organizations.add(o));
      areas.push(...own.areas);
    }
    const stored = await this.ownFacts(ids, db);
    for (const f of stored.values()) {
      f.organizations.forEach((o) => organizations.add(o));
      areas.push(...f.areas);
    }
    const facts: ResidentFacts = { patientIds: ids, organizations, areas, breakGlass: false, complete: false };
    d = this.decideFor(user, check, purpose, facts);
    if (d.allowed || d.rule) return d;
    // 3. relations and break-glass grants.
    if (user.organization && ids.length && !organizations.has(user.organization)) {
      for (const id of ids)
        if (await this.related(id, user.organization, db)) {
          organizations.add(user.organization);
          break;
        }
    }
    const grants = ids.length ? await activeGrantPatients(db, user.username) : new Set<string>();
    const full: ResidentFacts = { ...facts, organizations, breakGlass: ids.some((id) => grants.has(id)), complete: true };
    return this.decideFor(user, check, purpose, full);
  }

  /** Records a refusal in the audit trail and returns the 403 to throw. */
  async refuse(
    req: FastifyRequest,
    user: AuthUser,
    d: Extract<Decision, { allowed: false }>,
    what: string,
    patients: string[],
  ): Promise<Error> {
    await this.audit
      .record({
        user,
        action: 'E',
        subtype: 'access-denied',
        entities: [what.slice(0, 300)],
        outcome: 'failure',
        outcomeText: d.reason,
        sourceAddress: req.ip,
        purpose: d.purpose,
        patients: patients.slice(0, 20).map((p) => `Patient/${p}`),
      })
      .catch(() => undefined);
    return forbidden(`${d.reason} / 超出授权范围`);
  }

  /** Checks one resource (or resident) and returns it masked as the fitting rule says; 403 otherwise. */
  async enforce<T extends Resource | undefined>(req: FastifyRequest, user: AuthUser, check: AccessCheck & { resource?: T }): Promise<T> {
    const purpose = this.purposeOf(req);
    const d = await this.decision(user, check, purpose);
    if (!d.allowed) {
      const what = check.resource
        ? `${check.resource.resourceType}/${check.resource.id ?? '(new)'}`
        : `${req.method} ${req.url.split('?')[0]}`;
      throw await this.refuse(req, user, d, what, check.patientIds ?? (check.resource ? residentsOf(check.resource) : []));
    }
    return (check.resource && d.mask.length ? maskResource(check.resource, d.mask) : check.resource) as T;
  }

  /**
   * Filters search results: resources the user may not see are withheld (counted), the rest masked.
   * Facts of all the page's residents are read in one query.
   */
  async filter(
    req: FastifyRequest,
    user: AuthUser,
    resources: Resource[],
    action: Action = 'search',
    db: Queryable = this.db.pool,
  ): Promise<{ kept: (Resource | null)[]; withheld: number }> {
    const purpose = this.purposeOf(req);
    await this.ownFacts([...new Set(resources.flatMap(residentsOf))], db);
    let withheld = 0;
    const kept: (Resource | null)[] = [];
    for (const r of resources) {
      const d = await this.decision(user, { action, resource: r }, purpose, db);
      if (!d.allowed) {
        withheld++;
        kept.push(null);
      } else kept.push(d.mask.length ? maskResource(r, d.mask) : r);
    }
    return { kept, withheld };
  }

  /** Filters /api rows that name a patient (patientId); rows naming none pass. */
  async allowedPatients(
    req: FastifyRequest,
    user: AuthUser,
    patientIds: string[],
    action: Action,
    resourceType = 'Patient',
  ): Promise<Set<string>> {
    const purpose = this.purposeOf(req);
    const unique = [...new Set(patientIds)];
    const first = this.decideFor(user, { action, resourceType }, purpose, {
      patientIds: [],
      organizations: new Set(),
      areas: [],
      breakGlass: false,
      complete: false,
    });
    if (first.allowed) return new Set(unique);
    await this.ownFacts(unique);
    const out = new Set<string>();
    for (const id of unique) if ((await this.decision(user, { action, resourceType, patientIds: [id] }, purpose)).allowed) out.add(id);
    return out;
  }
}
