/**
 * The access policy (issue #15): one decision point for every channel. Rules are data
 * (config/security/policy.json, versioned); this file loads and checks them and decides. No I/O
 * here except reading the file: the facts about a resident (who manages them, where they live,
 * who treats them, break-glass grants) are gathered by src/fhir/access.ts.
 *
 * A request is allowed only by an allow rule that fits all of:
 *   - the user's role;
 *   - the action (read, search, write, delete, export);
 *   - the resource type, and the rule's search criteria if it has any ("Observation?category=laboratory");
 *   - the scope: `district` (anyone in the district), `area` (the resident's home area lies in one
 *     of the user's areas), `care` (the resident is managed by, treated at or contracted with the
 *     user's organisation), `break-glass` (the user holds an open emergency grant for the resident),
 *     `self` (the user is the resident, signed in to the portal, or their guardian while under 18).
 *     A resource that belongs to no resident (an Organization, a Location) fits every scope;
 *   - the purpose of use: the one stated (X-Purpose-Of-Use) or the role's default; a rule marked
 *     `explicitPurpose` needs it stated.
 * Deny rules are checked first and win. The first allow rule that fits names the fields to mask.
 * A deny rule may also depend on the resident's consent choices (`consentWithdrawn`: it applies
 * only while the resident has not given one of them), on where a record comes from (`recordFrom:
 * other-organization`: only records another organisation made) and on meta.tag codes (`tags`).
 * A consent rule's purposes say when it applies: leaving out ETREAT and BTG lets emergency care
 * and break-glass override the choice, which the decision reports (`overrides`) for the audit.
 *
 * Compared with Medplum's AccessPolicy (allow-only, criteria per type, first match), this adds
 * deny rules, purpose of use, scopes by care relationship and area, and break-glass.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parseTree, findNodeAtLocation, type Node as JsonNode, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { z } from 'zod';
import type { Resource } from '@medplum/fhirtypes';
import { ROLES, type Role } from '../platform/auth.js';
import { RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { getTypeDef, resourceTypes } from './definitions.js';
import { extractSearchValues } from './extract.js';

export const ACTIONS = ['read', 'search', 'write', 'delete', 'export'] as const;
export type Action = (typeof ACTIONS)[number];
export const SCOPES = ['district', 'area', 'care', 'break-glass', 'self'] as const;
export type Scope = (typeof SCOPES)[number];
export const MASKS = ['id-number', 'phone', 'address-line', 'name'] as const;
export type Mask = (typeof MASKS)[number];

/** Purpose-of-use codes (HL7 v3 ActReason where one fits; EPIINV is ours: 流行病学调查). */
export const PURPOSE_CODES = [
  'TREAT',
  'ETREAT',
  'BTG',
  'CAREMGT',
  'PUBHLTH',
  'EPIINV',
  'HQUALIMP',
  'HRESCH',
  'HOPERAT',
  'HSYSADMIN',
  'PATRQT',
] as const;
/** Purposes under which an emergency (break-glass) grant may be used. */
export const BREAK_GLASS_PURPOSES = ['BTG', 'ETREAT'];

/**
 * The resident's sharing choices (issue #22), kept by the portal as one FHIR Consent per Patient
 * (`residentConsentId`), one provision per choice coded in CONSENT_CHOICE_SYSTEM. A choice never
 * made takes its default: hospitals and the family doctor may read until the resident withdraws;
 * research needs the resident to opt in.
 */
export const CONSENT_CHOICES = ['share-with-hospitals', 'share-with-family-doctor', 'share-for-research'] as const;
export type ConsentChoice = (typeof CONSENT_CHOICES)[number];
export const CONSENT_CHOICE_DEFAULT: Readonly<Record<ConsentChoice, boolean>> = {
  'share-with-hospitals': true,
  'share-with-family-doctor': true,
  'share-for-research': false,
};
/** Published code system of the choices (never change once used). */
export const CONSENT_CHOICE_SYSTEM = 'https://yifang.health/fhir/CodeSystem/portal-consent-choice';
/** The id of the portal's Consent for one Patient: `pc-` and the first 40 hex digits of SHA-256 of the Patient id. */
export function residentConsentId(patientId: string): string {
  return `pc-${createHash('sha256').update(patientId).digest('hex').slice(0, 40)}`;
}
/** Where a record comes from, for `recordFrom`. */
export const RECORD_ORIGINS = ['other-organization'] as const;

export interface Criterion {
  type: string;
  params: [code: string, value: string][];
}

export interface PolicyRule {
  id: string;
  effect: 'allow' | 'deny';
  roles: readonly (Role | '*')[];
  actions: readonly Action[];
  /** Resource types, or '*' for every type. */
  resourceTypes: readonly string[];
  /** The rule applies only to resources matching one of these searches. */
  criteria: readonly Criterion[];
  /** The rule applies only to resources carrying one of these security labels (meta.security code). */
  securityLabels: readonly string[];
  /** The rule applies only to resources carrying one of these tags (meta.tag, 'system|code'). */
  tags: readonly string[];
  /** Deny rules: apply only while the resident has one of these choices withdrawn (or, defaulting off, not given). */
  consentWithdrawn: readonly ConsentChoice[];
  /** Deny rules: apply only to records another organisation than the user's made (a resource must be known). */
  recordFrom?: (typeof RECORD_ORIGINS)[number];
  scope: Scope;
  purposes: readonly string[];
  explicitPurpose: boolean;
  mask: readonly Mask[];
  description: string;
  /** Line in the policy file, for messages. */
  line: number;
}

/** How an /api route reaches personal data. */
export interface RoutePolicy {
  /** "GET /api/chronic/patients/:id" */
  route: string;
  /** No personal data: only the route's own permission applies. */
  personal: boolean;
  action: Action;
  /** Resource type the policy rules are matched against ('Patient' for most resident routes). */
  resourceType: string;
  /** Where the route names one resident: "params.id", "query.patient", "body.patientId". */
  resident?: string;
  line: number;
}

export interface Policy {
  version: number;
  purposes: ReadonlyMap<string, string>;
  defaultPurpose: ReadonlyMap<Role, string>;
  rules: readonly PolicyRule[];
  routes: ReadonlyMap<string, RoutePolicy>;
  source: string;
}

/** The facts about the resident a resource belongs to (null: it belongs to none). */
export interface ResidentFacts {
  patientIds: string[];
  /** Organisations that manage, treat or hold a contract with the resident. */
  organizations: ReadonlySet<string>;
  /** Home area codes (12-digit 统计用区划代码). */
  areas: readonly string[];
  breakGlass: boolean;
  /** False when only the resource's own facts were read (relations and grants not yet looked up). */
  complete: boolean;
  /** The user is this resident (signed in to the portal) or their guardian while they are under 18. Unknown: no. */
  self?: boolean;
  /**
   * The sharing choices not in effect for this resident: withdrawn in the portal, or never given
   * where the default is off. Undefined: not read (no consent rule fits the request).
   */
  withdrawn?: ReadonlySet<ConsentChoice>;
  /**
   * The organisations the record being decided comes from (its provider, performer, recorder, its
   * encounter's provider, else the facility of its Patient record). Undefined: not read; empty: unknown.
   */
  recordOrigins?: ReadonlySet<string>;
}

export interface AccessUser {
  username: string;
  roles: readonly Role[];
  organization?: string | null;
  areas?: readonly string[];
}

export interface AccessRequest {
  user: AccessUser;
  action: Action;
  resourceType: string;
  resource?: Resource;
  /** The purpose the request stated (validated code), if any. */
  purpose?: string;
  resident: ResidentFacts | null;
}

export type Decision =
  | {
      allowed: true;
      rule: string;
      purpose: string;
      mask: readonly Mask[];
      /** Consent choices the resident withdrew that this (emergency) purpose set aside: to be audited. */
      overrides?: readonly ConsentChoice[];
    }
  | { allowed: false; rule?: string; purpose?: string; reason: string; needsPurpose: boolean };

// ---------------------------------------------------------------------------------------------
// Loading

const Rule = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,80}$/, 'lower-case words joined by hyphens'),
    effect: z.enum(['allow', 'deny']),
    description: z.string().max(500).default(''),
    roles: z.array(z.string()).min(1),
    actions: z.array(z.enum(ACTIONS)).min(1),
    resourceTypes: z.array(z.string()).min(1).default(['*']),
    criteria: z.array(z.string()).default([]),
    securityLabels: z.array(z.string().min(1)).default([]),
    tags: z.array(z.string().regex(/^[^|\s]+\|[^|\s]+$/, "'system|code'")).default([]),
    consentWithdrawn: z.array(z.string()).default([]),
    recordFrom: z.enum(RECORD_ORIGINS).optional(),
    scope: z.enum(SCOPES).default('district'),
    purposes: z.array(z.string()).default([]),
    explicitPurpose: z.boolean().default(false),
    mask: z.array(z.enum(MASKS)).default([]),
  })
  .strict();

const Route = z
  .object({
    personal: z.boolean(),
    action: z.enum(ACTIONS).default('read'),
    resourceType: z.string().default('Patient'),
    resident: z
      .string()
      .regex(/^(params|query|body)\.[A-Za-z][A-Za-z0-9]*$/, 'params.<name>, query.<name> or body.<name>')
      .optional(),
  })
  .strict();

const PolicyFile = z
  .object({
    $comment: z.string().optional(),
    version: z.number().int().min(1),
    purposes: z.record(z.string(), z.string()),
    defaultPurpose: z.record(z.string(), z.string()),
    rules: z.array(z.unknown()),
    routes: z.record(z.string(), z.unknown()),
  })
  .strict();

export class PolicyError extends Error {}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses a Type?param=value criterion, checking the type and every parameter. */
export function parseCriterion(text: string): Criterion {
  const q = text.indexOf('?');
  const type = q < 0 ? text : text.slice(0, q);
  if (!getTypeDef(type)) throw new PolicyError(`criteria '${text}': unknown resource type '${type}'`);
  const params = q < 0 ? [] : [...new URLSearchParams(text.slice(q + 1)).entries()];
  const def = getTypeDef(type)!;
  for (const [code] of params) {
    const p = def.params.get(code.split(':')[0]!);
    if (!p || !p.column) throw new PolicyError(`criteria '${text}': unknown search parameter '${code}' for ${type}`);
    if (p.kind !== 'token' && p.kind !== 'reference' && p.kind !== 'uri' && p.kind !== 'string')
      throw new PolicyError(
        `criteria '${text}': parameter '${code}' is a ${p.kind}; criteria take token, reference, uri or string parameters`,
      );
  }
  return { type, params };
}

/**
 * Reads and checks a policy file. Anything unknown — a role, resource type, search parameter,
 * purpose, action, scope or mask — refuses the whole file with the line it is on.
 */
export function parsePolicy(text: string, source = 'policy.json'): Policy {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: false });
  if (errors.length || !tree)
    throw new PolicyError(
      `${source}:${lineOf(text, errors[0]?.offset ?? 0)}: not valid JSON (${printParseErrorCode(errors[0]?.error ?? 1)})`,
    );
  const at = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node: JsonNode | undefined = findNodeAtLocation(tree, path.slice(0, n));
      if (node) return lineOf(text, node.offset);
    }
    return 1;
  };
  const fail = (path: (string | number)[], msg: string): never => {
    throw new PolicyError(`${source}:${at(path)}: ${msg}`);
  };
  const raw = JSON.parse(text) as unknown;
  const top = PolicyFile.safeParse(raw);
  if (!top.success) {
    const i = top.error.issues[0]!;
    fail(i.path as (string | number)[], `${i.path.join('.') || 'top level'}: ${i.message}`);
  }
  const file = top.data!;
  const purposes = new Map(Object.entries(file.purposes));
  for (const code of purposes.keys())
    if (!(PURPOSE_CODES as readonly string[]).includes(code))
      fail(['purposes', code], `unknown purpose of use '${code}' (known: ${PURPOSE_CODES.join(', ')})`);
  const knownRole = (r: string): r is Role => (ROLES as string[]).includes(r);
  const defaultPurpose = new Map<Role, string>();
  for (const [role, p] of Object.entries(file.defaultPurpose)) {
    if (!knownRole(role)) fail(['defaultPurpose', role], `unknown role '${role}' (roles: ${ROLES.join(', ')})`);
    if (!purposes.has(p)) fail(['defaultPurpose', role], `purpose '${p}' is not listed under purposes`);
    defaultPurpose.set(role as Role, p);
  }
  const types = new Set(resourceTypes());
  const ids = new Set<string>();
  const rules: PolicyRule[] = file.rules.map((r, i) => {
    const parsed = Rule.safeParse(r);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail(['rules', i, ...(issue.path as (string | number)[])], `rule ${i + 1}: ${issue.path.join('.')}: ${issue.message}`);
    }
    const rule = parsed.data!;
    if (ids.has(rule.id)) fail(['rules', i, 'id'], `rule id '${rule.id}' is used twice`);
    ids.add(rule.id);
    rule.roles.forEach((role, k) => {
      if (role !== '*' && !knownRole(role))
        fail(['rules', i, 'roles', k], `rule '${rule.id}': unknown role '${role}' (roles: ${ROLES.join(', ')})`);
    });
    rule.resourceTypes.forEach((t, k) => {
      if (t !== '*' && !types.has(t)) fail(['rules', i, 'resourceTypes', k], `rule '${rule.id}': unknown resource type '${t}'`);
    });
    rule.purposes.forEach((p, k) => {
      if (!purposes.has(p)) fail(['rules', i, 'purposes', k], `rule '${rule.id}': purpose '${p}' is not listed under purposes`);
    });
    const criteria = rule.criteria.map((c, k) => {
      try {
        return parseCriterion(c);
      } catch (e) {
        return fail(['rules', i, 'criteria', k], `rule '${rule.id}': ${(e as Error).message}`);
      }
    });
    if (rule.effect === 'deny' && rule.mask.length) fail(['rules', i, 'mask'], `rule '${rule.id}': a deny rule masks nothing`);
    rule.consentWithdrawn.forEach((c, k) => {
      if (!(CONSENT_CHOICES as readonly string[]).includes(c))
        fail(
          ['rules', i, 'consentWithdrawn', k],
          `rule '${rule.id}': unknown consent choice '${c}' (choices: ${CONSENT_CHOICES.join(', ')})`,
        );
    });
    if (rule.effect === 'allow' && (rule.consentWithdrawn.length || rule.recordFrom))
      fail(
        ['rules', i, rule.consentWithdrawn.length ? 'consentWithdrawn' : 'recordFrom'],
        `rule '${rule.id}': consentWithdrawn and recordFrom narrow deny rules only`,
      );
    if (rule.scope === 'self' && rule.effect === 'allow' && rule.roles.some((r) => r !== 'resident'))
      fail(['rules', i, 'scope'], `rule '${rule.id}': scope 'self' is for the resident role only`);
    return {
      ...rule,
      roles: rule.roles as (Role | '*')[],
      consentWithdrawn: rule.consentWithdrawn as ConsentChoice[],
      criteria,
      line: at(['rules', i]),
    };
  });
  const routes = new Map<string, RoutePolicy>();
  for (const [route, value] of Object.entries(file.routes)) {
    if (!/^(GET|POST|PUT|PATCH|DELETE) \/api\/\S+$/.test(route)) fail(['routes', route], `route '${route}' must read 'METHOD /api/path'`);
    const parsed = Route.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail(['routes', route, ...(issue.path as (string | number)[])], `route '${route}': ${issue.path.join('.')}: ${issue.message}`);
    }
    const r = parsed.data!;
    if (!types.has(r.resourceType)) fail(['routes', route, 'resourceType'], `route '${route}': unknown resource type '${r.resourceType}'`);
    if (r.resident && !r.personal) fail(['routes', route, 'resident'], `route '${route}' names a resident but is not personal`);
    routes.set(route, { route, ...r, line: at(['routes', route]) });
  }
  return { version: file.version, purposes, defaultPurpose, rules, routes, source };
}

export function loadPolicy(file: string): Policy {
  return parsePolicy(fs.readFileSync(file, 'utf8'), file);
}

// ---------------------------------------------------------------------------------------------
// Deciding

/** Whether a resource matches a criterion (token, reference, uri and string parameters, exact). */
export function matchesCriterion(resource: Resource, c: Criterion): boolean {
  if (resource.resourceType !== c.type) return false;
  if (!c.params.length) return true;
  const def = getTypeDef(c.type)!;
  const values = extractSearchValues(resource, def);
  return c.params.every(([code, wanted]) => {
    const p = def.params.get(code.split(':')[0]!)!;
    const v = values[p.column!];
    const have = Array.isArray(v) ? (v as unknown[]).map(String) : v === null || v === undefined ? [] : [String(v)];
    const lower = have.map((h) => h.toLowerCase());
    return wanted.split(',').some((w) => (p.kind === 'string' ? lower.some((h) => h.startsWith(w.toLowerCase())) : have.includes(w)));
  });
}

function fitsTarget(rule: PolicyRule, req: AccessRequest): boolean {
  if (!rule.roles.includes('*') && !req.user.roles.some((r) => rule.roles.includes(r))) return false;
  if (!rule.actions.includes(req.action)) return false;
  if (!rule.resourceTypes.includes('*') && !rule.resourceTypes.includes(req.resourceType)) return false;
  if (rule.criteria.length && !(req.resource && rule.criteria.some((c) => matchesCriterion(req.resource!, c)))) return false;
  if (rule.securityLabels.length) {
    const labels = (req.resource?.meta?.security ?? []).map((s) => s.code);
    if (!labels.some((l) => l && rule.securityLabels.includes(l))) return false;
  }
  if (rule.tags.length) {
    const tags = (req.resource?.meta?.tag ?? []).map((t) => `${t.system ?? ''}|${t.code ?? ''}`);
    if (!tags.some((t) => rule.tags.includes(t))) return false;
  }
  return true;
}

/** Whether a deny rule's consent and origin conditions hold for this request (true when it has none). */
function fitsConsent(rule: PolicyRule, req: AccessRequest): boolean {
  if (rule.consentWithdrawn.length) {
    const withdrawn = req.resident?.withdrawn;
    if (!withdrawn || !rule.consentWithdrawn.some((c) => withdrawn.has(c))) return false;
  }
  if (rule.recordFrom === 'other-organization') {
    // Judged on a record only: an /api route decides per resident, not per record.
    if (!req.resource || !req.resident) return false;
    const origins = req.resident.recordOrigins;
    if (origins && req.user.organization && origins.has(req.user.organization)) return false;
  }
  return true;
}

/**
 * Deny rules with a consent condition that could apply to this user, action, type and purpose
 * (before any resource is known): the resident's choices need reading only then. A rule whose
 * purposes an emergency purpose leaves out still counts, so that the override can be audited.
 */
export function consentRulesFor(policy: Policy, user: AccessUser, action: Action, resourceType: string, stated?: string): PolicyRule[] {
  const purpose = effectivePurpose(policy, user, stated);
  return policy.rules.filter(
    (r) =>
      r.effect === 'deny' &&
      r.consentWithdrawn.length > 0 &&
      (r.roles.includes('*') || user.roles.some((u) => r.roles.includes(u))) &&
      r.actions.includes(action) &&
      (r.resourceTypes.includes('*') || r.resourceTypes.includes(resourceType)) &&
      (!r.purposes.length || (purpose !== undefined && (r.purposes.includes(purpose) || BREAK_GLASS_PURPOSES.includes(purpose)))),
  );
}

function fitsScope(scope: Scope, user: AccessUser, resident: ResidentFacts | null): boolean {
  if (!resident) return true;
  switch (scope) {
    case 'district':
      return true;
    case 'area':
      return !!user.areas?.length && resident.areas.some((a) => user.areas!.some((u) => a.startsWith(u)));
    case 'care':
      return !!user.organization && resident.organizations.has(user.organization);
    case 'break-glass':
      return resident.breakGlass;
    case 'self':
      return resident.self === true;
  }
}

/** The purpose a request acts under: the stated one, or the first of the user's roles' defaults. */
export function effectivePurpose(policy: Policy, user: AccessUser, stated?: string): string | undefined {
  if (stated) return stated;
  for (const r of user.roles) {
    const p = policy.defaultPurpose.get(r);
    if (p) return p;
  }
  return undefined;
}

export function decide(policy: Policy, req: AccessRequest): Decision {
  const purpose = effectivePurpose(policy, req.user, req.purpose);
  const overrides = new Set<ConsentChoice>();
  for (const rule of policy.rules) {
    if (rule.effect !== 'deny' || !fitsTarget(rule, req)) continue;
    if (!fitsScope(rule.scope, req.user, req.resident)) continue;
    if (!fitsConsent(rule, req)) continue;
    if (rule.purposes.length && !(purpose && rule.purposes.includes(purpose))) {
      // A withdrawn choice this purpose sets aside (emergency care, break-glass): reported for the audit.
      if (rule.consentWithdrawn.length && purpose && BREAK_GLASS_PURPOSES.includes(purpose))
        for (const c of rule.consentWithdrawn) if (req.resident?.withdrawn?.has(c)) overrides.add(c);
      continue;
    }
    const withdrawn = rule.consentWithdrawn.filter((c) => req.resident?.withdrawn?.has(c));
    return {
      allowed: false,
      rule: rule.id,
      ...(purpose ? { purpose } : {}),
      reason: withdrawn.length
        ? `denied by rule '${rule.id}': the resident has not consented to ${withdrawn.join(', ')}${rule.recordFrom ? ' (records another organisation made)' : ''}; emergency care (ETREAT) or break-glass (BTG) may still read / 居民已撤回授权`
        : `denied by rule '${rule.id}'`,
      needsPurpose: false,
    };
  }
  let purposeWouldHelp = false;
  for (const rule of policy.rules) {
    if (rule.effect !== 'allow' || !fitsTarget(rule, req)) continue;
    if (!fitsScope(rule.scope, req.user, req.resident)) continue;
    const purposeOk = !rule.purposes.length || (purpose !== undefined && rule.purposes.includes(purpose));
    if (!purposeOk || (rule.explicitPurpose && !req.purpose)) {
      purposeWouldHelp = true;
      continue;
    }
    return {
      allowed: true,
      rule: rule.id,
      purpose: purpose ?? '',
      mask: rule.mask,
      ...(overrides.size ? { overrides: [...overrides] } : {}),
    };
  }
  const who = req.resident ? `resident ${req.resident.patientIds.join(', ') || '(new)'}` : req.resourceType;
  const selfOnly = policy.rules.some((r) => r.effect === 'allow' && r.scope === 'self' && req.user.roles.some((u) => r.roles.includes(u)));
  return {
    allowed: false,
    ...(purpose ? { purpose } : {}),
    reason: selfOnly
      ? `no rule allows ${req.user.roles.join('/')} to ${req.action} ${req.resourceType} of ${who}: a resident reaches only their own record and their wards' (scope self)`
      : purposeWouldHelp
        ? `no rule allows ${req.user.roles.join('/')} to ${req.action} ${who} for purpose '${purpose ?? 'none'}': state a purpose of use (X-Purpose-Of-Use) that a rule accepts, or open emergency access (break-glass)`
        : `no rule allows ${req.user.roles.join('/')} to ${req.action} ${req.resourceType} of ${who}: outside your organisation and areas; open emergency access (break-glass) with a reason if you must`,
    needsPurpose: purposeWouldHelp,
  };
}

/** Whether some allow rule could let this user act on this type at all (before any resident is known). */
export function mayEverAct(policy: Policy, user: AccessUser, action: Action, resourceType: string): boolean {
  return policy.rules.some(
    (r) =>
      r.effect === 'allow' &&
      (r.roles.includes('*') || user.roles.some((u) => r.roles.includes(u))) &&
      r.actions.includes(action) &&
      (r.resourceTypes.includes('*') || r.resourceTypes.includes(resourceType)),
  );
}

/** Whether the user's rules for this action reach the whole district (no per-resident check needed for lists). */
export function hasDistrictScope(policy: Policy, user: AccessUser, action: Action, resourceType: string, stated?: string): boolean {
  return decide(policy, {
    user,
    action,
    resourceType,
    purpose: stated,
    resident: { patientIds: [], organizations: new Set(), areas: [], breakGlass: false, complete: true },
  }).allowed;
}

// ---------------------------------------------------------------------------------------------
// Masking

const ID_NUMBER_SYSTEMS = /resident-id|2\.16\.156\.10011\.1\.3|id-number|sfz/i;

function maskMiddle(s: string, keepStart: number, keepEnd: number): string {
  const chars = [...s];
  if (chars.length <= keepStart + keepEnd) return '*'.repeat(chars.length);
  return chars.slice(0, keepStart).join('') + '*'.repeat(chars.length - keepStart - keepEnd) + chars.slice(chars.length - keepEnd).join('');
}

/** 330102199001011234 → 3301**********1234; 13812345678 → 138****5678; 张伟 → 张*. */
export function maskIdNumber(v: string): string {
  return maskMiddle(v, 4, 4);
}
export function maskPhone(v: string): string {
  return maskMiddle(v, 3, 4);
}
export function maskName(v: string): string {
  return maskMiddle(v, 1, 0);
}

type Json = Record<string, unknown>;

function maskTelecom(list: unknown): unknown {
  return Array.isArray(list)
    ? list.map((t: Json) =>
        (t?.system === 'phone' || t?.system === 'sms') && typeof t.value === 'string' ? { ...t, value: maskPhone(t.value) } : t,
      )
    : list;
}

/**
 * A copy of the resource with the named fields masked (Patient, RelatedPerson, Person,
 * Practitioner-free), tagged REDACTED in meta.security so a reader knows. Other types pass as they are.
 */
export function maskResource<T extends Resource>(resource: T, masks: readonly Mask[]): T {
  if (!masks.length) return resource;
  const type = resource.resourceType;
  if (type !== 'Patient' && type !== 'RelatedPerson' && type !== 'Person') return resource;
  const r = { ...(resource as unknown as Json) };
  if (masks.includes('id-number') && Array.isArray(r.identifier))
    r.identifier = (r.identifier as Json[]).map((id) => {
      const system = typeof id.system === 'string' ? id.system : '';
      const ni = (id.type as { coding?: { code?: string }[] } | undefined)?.coding?.some((c) => c.code === 'NI');
      return (ni || system === RESIDENT_ID_SYSTEM || ID_NUMBER_SYSTEMS.test(system)) && typeof id.value === 'string'
        ? { ...id, value: maskIdNumber(id.value) }
        : id;
    });
  if (masks.includes('phone')) {
    r.telecom = maskTelecom(r.telecom);
    if (Array.isArray(r.contact)) r.contact = (r.contact as Json[]).map((c) => ({ ...c, telecom: maskTelecom(c.telecom) }));
  }
  if (masks.includes('address-line') && Array.isArray(r.address))
    r.address = (r.address as Json[]).map((a) => {
      const { line: _line, text: _text, ...rest } = a;
      return rest;
    });
  if (masks.includes('name') && Array.isArray(r.name))
    r.name = (r.name as Json[]).map((n) => ({
      ...n,
      ...(typeof n.text === 'string' ? { text: maskName(n.text) } : {}),
      ...(Array.isArray(n.given) ? { given: (n.given as string[]).map(() => '*') } : {}),
    }));
  if (r.telecom === undefined) delete r.telecom;
  const meta = (r.meta as Json | undefined) ?? {};
  r.meta = {
    ...meta,
    security: [
      ...((meta.security as unknown[] | undefined) ?? []),
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' },
    ],
  };
  return r as unknown as T;
}
