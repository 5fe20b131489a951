/**
 * Access control (issue #15): gathers the facts a policy decision needs and applies the decision
 * on every channel — FHIR REST and Bundles (src/fhir/rest.ts), and every /api route through the
 * hooks in src/app/access-hooks.ts. The rules themselves and the pure decision are in policy.ts.
 *
 * Facts are gathered only as far as a decision needs them:
 *   1. a rule with district scope fits the user: no lookup at all (imports, CDC staff);
 *   2. otherwise the resident's own record: managing organisation, general practitioner, home area;
 *   3. otherwise the relations: an encounter at the user's organisation (treating facility), an
 *      EpisodeOfCare (family-doctor contract) managed by it, the user's open break-glass grants,
 *      and for a resident signed in to the portal whether the record is their own or a ward's
 *      (`self`, from the resolver the portal installs).
 * Before step 1, when a deny rule with a consent condition fits the user, action and type, the
 * resident's sharing choices are read (the portal's Consent of every Patient of the same Person;
 * the latest statement of each choice wins), and, when one is withdrawn and a rule asks where the
 * record comes from, the record's origin organisations.
 * Residents' own facts and choices are cached for ten seconds; a Patient written through FHIR REST
 * in this process is forgotten at once, and a Consent write drops the choices (`written`).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import type { AuthUser } from '../platform/auth.js';
import type { Queryable } from '../platform/db.js';
import { badRequest, forbidden } from '../platform/errors.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';
import { activeGrantPatients } from './break-glass.js';
import {
  CONSENT_CHOICE_DEFAULT,
  CONSENT_CHOICE_SYSTEM,
  CONSENT_CHOICES,
  consentRulesFor,
  decide,
  maskResource,
  type Action,
  type ConsentChoice,
  type Decision,
  type Policy,
  type ResidentFacts,
} from './policy.js';
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

const orgOf = (x: unknown): string | undefined => {
  const ref = (x as { reference?: unknown } | undefined)?.reference;
  return typeof ref === 'string' && ref.startsWith('Organization/') ? ref.slice('Organization/'.length) : undefined;
};

/**
 * The organisations a record names as where it was made: provider, performer (or its actor, or on
 * whose behalf), asserter, recorder, requester, author, custodian, managing organisation; and the
 * Encounter it belongs to, whose provider then decides when it names none.
 */
export function recordOrganizations(resource: Resource): { organizations: string[]; encounter?: string } {
  const r = resource as unknown as Json;
  const out = new Set<string>();
  const add = (x: unknown) => {
    const o = orgOf(x);
    if (o) out.add(o);
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  for (const k of ['serviceProvider', 'asserter', 'recorder', 'requester', 'custodian', 'organization', 'managingOrganization', 'author'])
    for (const x of list(r[k])) add(x);
  for (const p of list(r.performer)) {
    add(p);
    add((p as Json | undefined)?.actor);
    add((p as Json | undefined)?.onBehalfOf);
  }
  const enc = (r.encounter as { reference?: unknown } | undefined)?.reference;
  return {
    organizations: [...out],
    ...(typeof enc === 'string' && enc.startsWith('Encounter/') ? { encounter: enc.slice('Encounter/'.length) } : {}),
  };
}

/**
 * The sharing choices not in effect, from Consents about one resident: per choice the latest
 * active Consent that states it (its dateTime, else when it was stored) decides; a choice never
 * stated takes its default.
 */
export function withdrawnChoices(consents: Resource[]): Set<ConsentChoice> {
  const latest = new Map<ConsentChoice, { at: string; permit: boolean }>();
  for (const c of consents) {
    const r = c as unknown as Json;
    if (c.resourceType !== 'Consent' || r.status !== 'active') continue;
    const at = String(r.dateTime ?? c.meta?.lastUpdated ?? '');
    const nested = ((r.provision as Json | undefined)?.provision as Json[] | undefined) ?? [];
    for (const p of nested) {
      for (const cc of (p.code as { coding?: { system?: string; code?: string }[] }[] | undefined) ?? []) {
        const code = cc.coding?.find((x) => x.system === CONSENT_CHOICE_SYSTEM)?.code;
        if (!code || !(CONSENT_CHOICES as readonly string[]).includes(code)) continue;
        const seen = latest.get(code as ConsentChoice);
        if (!seen || at >= seen.at) latest.set(code as ConsentChoice, { at, permit: p.type === 'permit' });
      }
    }
  }
  const out = new Set<ConsentChoice>();
  for (const choice of CONSENT_CHOICES) if (!(latest.get(choice)?.permit ?? CONSENT_CHOICE_DEFAULT[choice])) out.add(choice);
  return out;
}

/**
 * The sharing choices not in effect for each of these Patients, read now (no cache) from the
 * Consents about any Patient of the same Person: for code outside the access checks that keeps
 * copies of records (e.g. primary care's readings), inside its own transaction.
 */
export async function withdrawnChoicesOf(db: Queryable, patientIds: readonly string[]): Promise<Map<string, Set<ConsentChoice>>> {
  const ids = [...new Set(patientIds)];
  const out = new Map<string, Set<ConsentChoice>>();
  if (!ids.length) return out;
  const { rows } = await db.query<{ patient: string; content: Resource }>(
    `SELECT x.id AS patient, h.content
       FROM unnest($1::text[]) AS x(id)
       JOIN r_consent c ON c.compartments && (ARRAY['Patient/' || x.id] || COALESCE(
              (SELECT array_agg(m.ref) FROM r_person p CROSS JOIN LATERAL unnest(p.compartments) AS m(ref)
                WHERE p.compartments @> ARRAY['Patient/' || x.id]), '{}'::text[]))
       JOIN resource_history h ON h.resource_type = 'Consent' AND h.id = c.id AND h.version_id = c.version_id`,
    [ids],
  );
  const byPatient = new Map<string, Resource[]>();
  for (const r of rows) byPatient.set(r.patient, [...(byPatient.get(r.patient) ?? []), r.content]);
  for (const id of ids) out.set(id, withdrawnChoices(byPatient.get(id) ?? []));
  return out;
}

/**
 * These Patients and every Patient linked to the same Person (a merged record shares one set of
 * choices): whom a Consent about one of them concerns.
 */
export async function patientsSharingChoices(db: Queryable, patientIds: readonly string[]): Promise<string[]> {
  const ids = [...new Set(patientIds)];
  if (!ids.length) return [];
  const { rows } = await db.query<{ ref: string }>(
    `SELECT DISTINCT m.ref FROM r_person p CROSS JOIN LATERAL unnest(p.compartments) AS m(ref)
      WHERE p.compartments && $1::text[] AND m.ref LIKE 'Patient/%'`,
    [ids.map((id) => `Patient/${id}`)],
  );
  return [...new Set([...ids, ...rows.map((r) => r.ref.slice('Patient/'.length))])];
}

/** The Patients one stored version of a resource was about (e.g. a deleted Consent's resident, from the version before). */
export async function residentsOfVersion(db: Queryable, type: string, id: string, versionId: number): Promise<string[]> {
  const { rows } = await db.query<{ content: Resource | null }>(
    'SELECT content FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3 AND NOT deleted',
    [type, id, versionId],
  );
  return rows[0]?.content ? residentsOf(rows[0].content) : [];
}

/** The tag of records a resident entered in the portal (home readings), which share-with-family-doctor covers. */
export const RESIDENT_ENTERED_TAG = { system: 'https://yifang.health/fhir/CodeSystem/record-source', code: 'resident-portal' } as const;

/** Whether the resident entered this record in the portal (tagged record-source|resident-portal). */
export function isResidentEntered(resource: Resource): boolean {
  return resource.meta?.tag?.some((t) => t.system === RESIDENT_ENTERED_TAG.system && t.code === RESIDENT_ENTERED_TAG.code) ?? false;
}

interface CachedFacts {
  at: number;
  organizations: string[];
  /** The Patient record's own facility (managingOrganization): where its records come from when they name none. */
  managing: string[];
  areas: string[];
  exists: boolean;
}

/** The Patients a signed-in resident may act for: their own (every record of the same Person) and their wards'. */
export type SelfResolver = (username: string) => Promise<readonly string[]>;

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
  private readonly choices = new Map<string, { at: number; withdrawn: ReadonlySet<ConsentChoice> }>();
  private readonly selves = new Map<string, { at: number; ids: ReadonlySet<string> }>();
  private selfResolver: SelfResolver | undefined;
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

  /** Forgets the sharing choices read (after a Consent write: its Person's other Patients share them). */
  consentChanged(): void {
    this.choices.clear();
  }

  /**
   * After a write in this process: forgets what the written resource may have changed ("Patient/x";
   * "Consent/y" or "Person/z", whose links decide which Consents a Patient shares, drop the choices).
   */
  written(entity: string): void {
    if (entity.startsWith('Patient/')) this.forget(entity.slice('Patient/'.length));
    else if (entity.startsWith('Consent/') || entity.startsWith('Person/')) this.consentChanged();
  }

  /**
   * Installs who a signed-in resident is (the portal's accounts, merged records and guardian
   * links); without it the `self` scope fits no one.
   */
  useSelfResolver(resolver: SelfResolver | undefined): void {
    this.selfResolver = resolver;
    this.selves.clear();
  }

  /** Forgets whom a resident may act for (after a guardian link). */
  forgetSelf(username?: string): void {
    if (username) this.selves.delete(username);
    else this.selves.clear();
  }

  private async isSelf(user: AuthUser, ids: string[]): Promise<boolean> {
    if (!this.selfResolver || !ids.length) return false;
    const now = Date.now();
    let entry = this.selves.get(user.username);
    if (!entry || now - entry.at >= this.cacheMs) {
      entry = { at: now, ids: new Set(await this.selfResolver(user.username)) };
      if (this.selves.size > 50_000) this.selves.clear();
      this.selves.set(user.username, entry);
    }
    const mine = entry.ids;
    return ids.every((id) => mine.has(id));
  }

  /** The choices not in effect for any of these Patients (each read with every Patient of its Person). */
  private async withdrawnOf(ids: string[], db: Queryable): Promise<Set<ConsentChoice>> {
    const now = Date.now();
    const out = new Set<ConsentChoice>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const c = this.choices.get(id);
      if (c && now - c.at < this.cacheMs) c.withdrawn.forEach((x) => out.add(x));
      else missing.push(id);
    }
    if (missing.length) {
      const read = await withdrawnChoicesOf(db, missing);
      if (this.choices.size > 50_000) this.choices.clear();
      for (const id of missing) {
        const withdrawn = read.get(id) ?? withdrawnChoices([]);
        this.choices.set(id, { at: now, withdrawn });
        withdrawn.forEach((x) => out.add(x));
      }
    }
    return out;
  }

  /** Where a record comes from: the organisations it names, its encounter's provider, else its Patients' facilities. */
  private async originsOf(resource: Resource, ids: string[], db: Queryable): Promise<Set<string>> {
    const own = recordOrganizations(resource);
    const out = new Set(own.organizations);
    if (!out.size && own.encounter) {
      const { rows } = await db.query<{ p_service_provider: string[] | null }>('SELECT p_service_provider FROM r_encounter WHERE id = $1', [
        own.encounter,
      ]);
      for (const ref of rows[0]?.p_service_provider ?? []) if (ref.startsWith('Organization/')) out.add(ref.slice('Organization/'.length));
    }
    if (!out.size) for (const f of (await this.ownFacts(ids, db)).values()) f.managing.forEach((o) => out.add(o));
    return out;
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
        const managing = p ? orgOf((p as unknown as Json).managingOrganization) : undefined;
        const f: CachedFacts = p
          ? { at: now, exists: true, ...patientOwnFacts(p), managing: managing ? [managing] : [] }
          : { at: now, exists: false, organizations: [], managing: [], areas: [] };
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
    // 0. the resident's sharing choices, when a consent rule could apply (deny rules come before the district fast path).
    const consent: Pick<ResidentFacts, 'withdrawn' | 'recordOrigins'> = {};
    const consentRules = ids.length ? consentRulesFor(this.policy, user, check.action, type, purpose) : [];
    if (consentRules.length) {
      const withdrawn = await this.withdrawnOf(ids, db);
      consent.withdrawn = withdrawn;
      if (check.resource && consentRules.some((r) => r.recordFrom && r.consentWithdrawn.some((c) => withdrawn.has(c))))
        consent.recordOrigins = await this.originsOf(check.resource, ids, db);
    }
    // 1. district scope: no lookup.
    const skeleton: ResidentFacts = {
      patientIds: ids,
      organizations: new Set(),
      areas: [],
      breakGlass: false,
      complete: false,
      ...consent,
    };
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
    const facts: ResidentFacts = { patientIds: ids, organizations, areas, breakGlass: false, complete: false, ...consent };
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
    const resident = user.roles.includes('resident');
    const grants = ids.length && !resident ? await activeGrantPatients(db, user.username) : new Set<string>();
    const full: ResidentFacts = {
      ...facts,
      organizations,
      breakGlass: ids.some((id) => grants.has(id)),
      complete: true,
      ...(resident ? { self: await this.isSelf(user, ids) } : {}),
    };
    return this.decideFor(user, check, purpose, full);
  }

  /**
   * The Patients a deny rule with a consent condition refuses for this action (e.g. research
   * exports, HRESCH, of residents who have not opted in): for callers with their own allow rules
   * (src/exports' profiles) that must still leave those residents out.
   */
  async refusedByConsent(
    user: AuthUser,
    patientIds: string[],
    action: Action,
    purpose: string | undefined,
    resourceType = 'Patient',
  ): Promise<Set<string>> {
    const out = new Set<string>();
    const consentRules = new Set(consentRulesFor(this.policy, user, action, resourceType, purpose).map((r) => r.id));
    if (!consentRules.size || !patientIds.length) return out;
    await this.withdrawnOf(patientIds, this.db.pool); // one query for all; each below from the cache
    for (const id of new Set(patientIds)) {
      const withdrawn = await this.withdrawnOf([id], this.db.pool);
      const d = this.decideFor(user, { action, resourceType, patientIds: [id] }, purpose, {
        patientIds: [id],
        organizations: new Set(),
        areas: [],
        breakGlass: false,
        complete: false,
        withdrawn,
      });
      if (!d.allowed && d.rule && consentRules.has(d.rule)) out.add(id);
    }
    return out;
  }

  /**
   * Whether the consent rules refuse this action for a resident whose choices cannot be read (no
   * Patient found: no Consent, so every choice at its default), e.g. a report card naming nobody
   * the store knows, in a research export (share-for-research is off by default).
   */
  refusedWithoutRecord(user: AuthUser, action: Action, purpose: string | undefined, resourceType = 'Patient'): boolean {
    const consentRules = new Set(consentRulesFor(this.policy, user, action, resourceType, purpose).map((r) => r.id));
    if (!consentRules.size) return false;
    const d = this.decideFor(user, { action, resourceType, patientIds: [] }, purpose, {
      patientIds: [],
      organizations: new Set(),
      areas: [],
      breakGlass: false,
      complete: false,
      withdrawn: withdrawnChoices([]),
    });
    return !d.allowed && !!d.rule && consentRules.has(d.rule);
  }

  /** Records that an emergency purpose set a resident's withdrawn choices aside. */
  private async auditOverride(
    req: { ip?: string },
    user: AuthUser,
    purpose: string,
    choices: Set<string>,
    patients: string[],
    what: string,
  ) {
    await this.audit
      .record({
        user,
        action: 'E',
        subtype: 'consent-override',
        entities: [what.slice(0, 300)],
        outcome: 'success',
        outcomeText: `read under ${purpose} although the resident withdrew ${[...choices].join(', ')} / 紧急情况下调阅了居民已撤回授权的记录`,
        sourceAddress: req.ip,
        purpose,
        patients: [...new Set(patients)].slice(0, 200).map((p) => `Patient/${p}`),
      })
      .catch(() => undefined);
  }

  /** Records a refusal in the audit trail and returns the 403 to throw. */
  async refuse(
    req: { ip?: string },
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
    if (d.overrides?.length)
      await this.auditOverride(
        req,
        user,
        d.purpose,
        new Set(d.overrides),
        check.patientIds ?? (check.resource ? residentsOf(check.resource) : []),
        check.resource ? `${check.resource.resourceType}/${check.resource.id ?? '(new)'}` : `${req.method} ${req.url.split('?')[0]}`,
      );
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
    const residents = [...new Set(resources.flatMap(residentsOf))];
    await this.ownFacts(residents, db);
    // The page's residents' choices in one query, when a consent rule could apply to one of its types.
    if (
      residents.length &&
      [...new Set(resources.map((r) => r.resourceType))].some((t) => consentRulesFor(this.policy, user, action, t, purpose).length)
    )
      await this.withdrawnOf(residents, db);
    let withheld = 0;
    const kept: (Resource | null)[] = [];
    // Consent refusals and emergency overrides are audited once per request, with the residents concerned.
    const refused = new Map<string, { d: Extract<Decision, { allowed: false }>; patients: string[]; what: string[] }>();
    const overridden = { choices: new Set<string>(), patients: [] as string[], purpose: '' };
    for (const r of resources) {
      const d = await this.decision(user, { action, resource: r }, purpose, db);
      if (!d.allowed) {
        withheld++;
        kept.push(null);
        if (d.rule && this.policy.rules.some((x) => x.id === d.rule && x.consentWithdrawn.length)) {
          const e = refused.get(d.rule) ?? { d, patients: [], what: [] };
          e.patients.push(...residentsOf(r));
          e.what.push(`${r.resourceType}/${r.id}`);
          refused.set(d.rule, e);
        }
      } else {
        kept.push(d.mask.length ? maskResource(r, d.mask) : r);
        if (d.overrides?.length) {
          d.overrides.forEach((c) => overridden.choices.add(c));
          overridden.patients.push(...residentsOf(r));
          overridden.purpose = d.purpose;
        }
      }
    }
    for (const e of refused.values())
      await this.refuse(req, user, { ...e.d, reason: `${e.what.length} record(s) withheld: ${e.d.reason}` }, e.what.join(' '), [
        ...new Set(e.patients),
      ]);
    if (overridden.choices.size)
      await this.auditOverride(
        req,
        user,
        overridden.purpose,
        overridden.choices,
        overridden.patients,
        `${req.method} ${req.url.split('?')[0]}`,
      );
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
    if (first.allowed && !consentRulesFor(this.policy, user, action, resourceType, purpose).length) return new Set(unique);
    await this.ownFacts(unique);
    if (consentRulesFor(this.policy, user, action, resourceType, purpose).length) await this.withdrawnOf(unique, this.db.pool);
    const out = new Set<string>();
    for (const id of unique) if ((await this.decision(user, { action, resourceType, patientIds: [id] }, purpose)).allowed) out.add(id);
    return out;
  }
}
