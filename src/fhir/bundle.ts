/**
 * transaction and batch Bundles. A transaction runs in one database transaction: every entry
 * succeeds or nothing is stored. urn:uuid fullUrls are replaced by the ids assigned here, in
 * every reference of every entry, before anything is validated or written.
 */
import { newResourceId } from './ids.js';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, forbidden, HttpError, notFound } from '../platform/errors.js';
import type { Queryable } from '../platform/db.js';
import type { FhirRepository, StoredResource, WriteOptions } from './repository.js';
import { search } from './search.js';
import { jsonDepthError, valueDepthExceeds } from './limits.js';
import { assertReferencesExist } from './references.js';
import { refuseAuditEventWrite } from './audit.js';

export interface BundleHooks {
  /** Called inside the transaction for each write, for auditing in the same transaction. */
  onWrite?: (client: Queryable, action: 'create' | 'update' | 'delete', reference: string) => Promise<void>;
  /**
   * Called inside the transaction once its entries ran (per entry for a batch), with every write
   * they made and the resources written: one AuditEvent for the lot, committed with them.
   */
  onEntriesDone?: (client: Queryable, writes: BundleWrite[]) => Promise<void>;
  /** Called for each GET entry with what it returned (reads are audited too). */
  onRead?: (request: { type: string; id?: string; query?: string }, resources: Resource[]) => void;
  /** Applies the access policy to what a GET entry found: null withholds a resource, a copy masks it. */
  filterRead?: (resources: Resource[], client: Queryable) => Promise<(Resource | null)[]>;
  /**
   * Replaces the conditional lookup (default: a search). Batched writers answer from rows they
   * fetched for many Bundles at once.
   */
  find?: (client: Queryable, type: string, query: URLSearchParams, baseUrl: string) => Promise<Resource | undefined>;
  /** Replaces the create/update of one entry (default: FhirRepository.update). */
  write?: (client: Queryable, type: string, id: string, resource: Resource, options: WriteOptions) => Promise<StoredResource>;
  /**
   * Refuse local references to resources that neither exist nor are written by the Bundle (one
   * query for the whole Bundle). processBundle (REST) checks unless this is false;
   * processTransactionOn (HL7) only when it is true.
   */
  checkReferences?: boolean;
}

export interface BundleWrite {
  action: 'create' | 'update' | 'delete';
  reference: string;
  resource?: Resource;
}

/** One entry's request as the access check sees it (malformed entries are left to processBundle). */
export interface BundleRequestInfo {
  method: string;
  type: string;
  id?: string;
  /** The query of a search, conditional update or conditional create (ifNoneExist). */
  query?: string;
  /** The URL asks for history (Type/_history, Type/id/_history…). */
  history: boolean;
  resourceType?: string;
}

/** What each entry asks for, and the conditional references of its resources ("Type?query"). */
export function bundleRequests(input: unknown): { requests: BundleRequestInfo[]; conditionalReferences: string[] } {
  const entries = (input as Bundle | undefined)?.entry;
  const requests: BundleRequestInfo[] = [];
  if (!Array.isArray(entries)) return { requests, conditionalReferences: [] };
  for (const e of entries as unknown[]) {
    if (!e || typeof e !== 'object') continue;
    const entry = e as BundleEntry;
    const method = typeof entry.request?.method === 'string' ? entry.request.method : '';
    const url = typeof entry.request?.url === 'string' ? entry.request.url : '';
    const [path = '', qs] = url.replace(/^\//, '').split('?');
    const parts = path.split('/');
    const resourceType =
      entry.resource && typeof entry.resource === 'object' && typeof (entry.resource as Resource).resourceType === 'string'
        ? (entry.resource as Resource).resourceType
        : undefined;
    const ifNoneExist = typeof entry.request?.ifNoneExist === 'string' ? entry.request.ifNoneExist : undefined;
    requests.push({
      method,
      type: parts[0] ?? '',
      ...(parts[1] && parts[1] !== '_history' ? { id: parts[1] } : {}),
      ...(qs || ifNoneExist ? { query: [qs, ifNoneExist].filter(Boolean).join('&') } : {}),
      history: parts.includes('_history'),
      ...(resourceType ? { resourceType } : {}),
    });
  }
  let refs: string[];
  try {
    refs = [...collectConditionalReferences(entries as BundleEntry[])];
  } catch {
    refs = [];
  }
  return { requests, conditionalReferences: refs };
}

/** A conditional reference ("Organization?identifier=..."): resolved by a search, not an id. */
export const CONDITIONAL_REFERENCE = /^[A-Z][A-Za-z]+\?/;

interface PlannedEntry {
  entry: BundleEntry;
  method: 'POST' | 'PUT' | 'DELETE' | 'GET';
  type: string;
  id?: string;
  query?: URLSearchParams;
}

function plan(entry: BundleEntry, index: number): PlannedEntry {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw badRequest(`Bundle.entry[${index}] must be an object`);
  const request = entry.request as unknown;
  if (request !== undefined && (!request || typeof request !== 'object' || Array.isArray(request)))
    throw badRequest(`Bundle.entry[${index}].request must be an object`);
  const method = entry.request?.method;
  const url = entry.request?.url;
  if (!method || !url) throw badRequest(`Bundle.entry[${index}].request needs method and url`);
  if (typeof method !== 'string' || typeof url !== 'string')
    throw badRequest(`Bundle.entry[${index}].request method and url must be strings`);
  const resource = entry.resource as unknown;
  if (resource !== undefined && (!resource || typeof resource !== 'object' || Array.isArray(resource)))
    throw badRequest(`Bundle.entry[${index}].resource must be a JSON object`);
  for (const k of ['ifNoneExist', 'ifMatch'] as const) {
    const v = entry.request?.[k] as unknown;
    if (v !== undefined && typeof v !== 'string') throw badRequest(`Bundle.entry[${index}].request.${k} must be a string`);
  }
  const [path, qs] = url.replace(/^\//, '').split('?');
  const [type, id] = (path ?? '').split('/');
  if (!type) throw badRequest(`Bundle.entry[${index}].request.url '${url}' names no resource type`);
  if (!['POST', 'PUT', 'DELETE', 'GET'].includes(method))
    throw badRequest(`Bundle.entry[${index}].request.method ${method} is not supported`);
  // The audit trail is written by the server only, on no channel by a Bundle.
  if (method !== 'GET') refuseAuditEventWrite(type, entry.resource);
  return { entry, method: method as PlannedEntry['method'], type, id, query: qs ? new URLSearchParams(qs) : undefined };
}

/** Replaces every "urn:uuid:..." reference by the id it was given, throughout the resource. */
function rewriteReferences(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, ids));
  // for…in, not Object.entries: this copies every resource of every Bundle and HL7 message.
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in source) {
    const v = source[k];
    if (typeof v === 'object') out[k] = rewriteReferences(v, ids);
    else if (k === 'reference' && typeof v === 'string' && (v.startsWith('urn:') || CONDITIONAL_REFERENCE.test(v))) {
      const target = ids.get(v);
      if (!target) throw badRequest(`Reference '${v}' does not match any fullUrl in the Bundle or any stored resource`);
      out[k] = target;
    } else out[k] = v;
  }
  return out;
}

export async function processBundle(repo: FhirRepository, input: unknown, baseUrl: string, hooks: BundleHooks = {}): Promise<Bundle> {
  const bundle = input as Bundle;
  if (!bundle || bundle.resourceType !== 'Bundle') throw badRequest('POST /fhir expects a Bundle of type transaction or batch');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw badRequest(`Bundle.type must be transaction or batch, not '${String(bundle.type ?? '')}'`);
  }
  // The recursive reference rewriting below walks only Bundles within the nesting limit (the
  // HTTP parser checks bodies on their text; this covers callers in the process).
  if (valueDepthExceeds(bundle)) throw jsonDepthError('The Bundle');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array');
  hooks = { ...hooks, checkReferences: hooks.checkReferences ?? true };
  if (bundle.type === 'batch') {
    const out: BundleEntry[] = [];
    for (let i = 0; i < entries.length; i++) {
      try {
        out.push(await repo.db.transaction((client) => runEntries(repo, [entries[i]!], client, baseUrl, hooks, i).then((r) => r[0]!)));
      } catch (err) {
        const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
        out.push({ response: { status: String(e.status), outcome: e.toOperationOutcome() } });
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entry: out };
  }
  const responses = await repo.db.transaction((client) => runEntries(repo, entries, client, baseUrl, hooks, 0));
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

/**
 * Runs a transaction Bundle on a transaction the caller already holds, so other rows (e.g. an
 * inbound HL7 message and its status) commit or roll back together with the Bundle.
 */
export async function processTransactionOn(
  repo: FhirRepository,
  client: Queryable,
  bundle: Bundle,
  baseUrl: string,
  hooks: BundleHooks = {},
): Promise<Bundle> {
  const responses = await runEntries(repo, bundle.entry ?? [], client, baseUrl, hooks, 0);
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

async function runEntries(
  repo: FhirRepository,
  entries: BundleEntry[],
  client: Queryable,
  baseUrl: string,
  hooks: BundleHooks,
  offset: number,
): Promise<BundleEntry[]> {
  const planned = entries.map((e, i) => plan(e, i + offset));
  const find = hooks.find ?? findOne;
  const write =
    hooks.write ??
    ((c: Queryable, type: string, id: string, resource: Resource, options: WriteOptions) => repo.update(type, id, resource, options, c));
  // First pass: give each POST its id, so references between entries resolve in any order.
  const ids = new Map<string, string>();
  const preassigned = new Map<PlannedEntry, string>();
  for (const p of planned) {
    const full = p.entry.fullUrl;
    if (p.method === 'POST') {
      const id = newResourceId();
      preassigned.set(p, id);
      if (full) ids.set(full, `${p.type}/${id}`);
      // A conditional reference may name a resource created by this very Bundle.
      if (p.entry.request?.ifNoneExist) ids.set(`${p.type}?${p.entry.request.ifNoneExist}`, `${p.type}/${id}`);
    } else if (p.method === 'PUT' && p.id && full) ids.set(full, `${p.type}/${p.id}`);
  }
  // Conditional updates (PUT Type?search) get their id up front, so other entries can reference them.
  for (const p of planned) {
    if (p.method !== 'PUT' || p.id || !p.query) continue;
    const existing = await find(client, p.type, p.query, baseUrl);
    p.id = existing?.id ?? newResourceId();
    if (p.entry.fullUrl) ids.set(p.entry.fullUrl, `${p.type}/${p.id}`);
    ids.set(`${p.type}?${p.query}`, `${p.type}/${p.id}`);
  }
  // Conditional references ("Organization?identifier=...") resolve to the one resource they match.
  for (const ref of collectConditionalReferences(entries)) {
    const [type, qs] = ref.split('?') as [string, string];
    const found = await find(client, type, new URLSearchParams(qs), baseUrl);
    if (found) ids.set(ref, `${type}/${found.id}`);
  }
  // Conditional creates (ifNoneExist) that match an existing resource point at it instead.
  for (const p of planned) {
    if (p.method !== 'POST' || !p.entry.request?.ifNoneExist) continue;
    const existing = await find(client, p.type, new URLSearchParams(p.entry.request.ifNoneExist), baseUrl);
    if (existing) {
      preassigned.set(p, '');
      if (p.entry.fullUrl) ids.set(p.entry.fullUrl, `${p.type}/${existing.id}`);
      (p as PlannedEntry & { existing?: Resource }).existing = existing;
    }
  }

  const rewritten = planned.map((p) => (p.entry.resource ? (rewriteReferences(p.entry.resource, ids) as Resource) : undefined));
  if (hooks.checkReferences) {
    // What the Bundle itself writes counts as existing; everything else in one query.
    const known = new Set(ids.values());
    for (const p of planned) if (p.id && p.method === 'PUT') known.add(`${p.type}/${p.id}`);
    for (const [p, id] of preassigned) if (id) known.add(`${p.type}/${id}`);
    await assertReferencesExist(
      client,
      rewritten.filter(
        (r, i): r is Resource =>
          !!r && ((planned[i]!.method === 'POST' && preassigned.get(planned[i]!) !== '') || planned[i]!.method === 'PUT'),
      ),
      known,
    );
  }

  const out: BundleEntry[] = [];
  const writes: BundleWrite[] = [];
  for (let i = 0; i < planned.length; i++) {
    const p = planned[i]!;
    const resource = rewritten[i];
    switch (p.method) {
      case 'POST': {
        const existing = (p as PlannedEntry & { existing?: Resource }).existing;
        if (existing) {
          out.push({ response: { status: '200 OK', location: `${p.type}/${existing.id}/_history/${existing.meta?.versionId}` } });
          break;
        }
        if (!resource) throw badRequest(`POST entry for ${p.type} has no resource`);
        const { resource: stored } = await write(
          client,
          p.type,
          preassigned.get(p)!,
          { ...resource, id: preassigned.get(p) } as Resource,
          {},
        );
        await hooks.onWrite?.(client, 'create', `${p.type}/${stored.id}`);
        writes.push({ action: 'create', reference: `${p.type}/${stored.id}`, resource: stored });
        out.push(created(stored));
        break;
      }
      case 'PUT': {
        if (!resource) throw badRequest(`PUT entry for ${p.type} has no resource`);
        let id = p.id;
        if (!id && p.query) {
          const existing = await find(client, p.type, p.query, baseUrl);
          id = existing?.id ?? newResourceId();
        }
        if (!id) throw badRequest(`PUT ${p.type} needs an id or a search (conditional update)`);
        const { resource: stored, created: isNew } = await write(client, p.type, id, { ...resource, id } as Resource, {
          ifMatch: p.entry.request?.ifMatch,
        });
        await hooks.onWrite?.(client, isNew ? 'create' : 'update', `${p.type}/${stored.id}`);
        writes.push({ action: isNew ? 'create' : 'update', reference: `${p.type}/${stored.id}`, resource: stored });
        out.push(
          isNew ? created(stored) : { response: { status: '200 OK', location: loc(stored), etag: `W/"${stored.meta?.versionId}"` } },
        );
        break;
      }
      case 'DELETE': {
        if (!p.id) throw badRequest('DELETE entries need Type/id');
        await repo.delete(p.type, p.id, client);
        await hooks.onWrite?.(client, 'delete', `${p.type}/${p.id}`);
        writes.push({ action: 'delete', reference: `${p.type}/${p.id}` });
        out.push({ response: { status: '204 No Content' } });
        break;
      }
      case 'GET': {
        if (p.id) {
          const r = await repo.read(p.type, p.id, client).catch((e) => {
            if (e instanceof HttpError && e.status === 404) throw notFound(`${p.type}/${p.id} not found`);
            throw e;
          });
          const [shown] = hooks.filterRead ? await hooks.filterRead([r], client) : [r];
          if (!shown) throw forbidden(`${p.type}/${p.id} is outside your access scope / 超出授权范围`);
          hooks.onRead?.({ type: p.type, id: p.id }, [shown]);
          out.push({ resource: shown, response: { status: '200 OK' } });
        } else {
          const r = await search(client, p.type, { params: [...(p.query ?? new URLSearchParams()).entries()] }, baseUrl);
          if (hooks.filterRead && r.bundle.entry?.length) {
            const shown = await hooks.filterRead(
              r.bundle.entry.map((e) => e.resource!),
              client,
            );
            r.bundle.entry = r.bundle.entry.flatMap((e, i) => (shown[i] ? [{ ...e, resource: shown[i] }] : []));
          }
          hooks.onRead?.(
            { type: p.type, query: (p.query ?? new URLSearchParams()).toString() },
            (r.bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])),
          );
          out.push({ resource: r.bundle, response: { status: '200 OK' } });
        }
        break;
      }
    }
  }
  if (writes.length) await hooks.onEntriesDone?.(client, writes);
  return out;
}

/** Every conditional reference ("Type?search") in the entries' resources. */
export function collectConditionalReferences(entries: BundleEntry[]): Set<string> {
  const refs = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === 'object') walk(x);
      else if (k === 'reference' && typeof x === 'string' && CONDITIONAL_REFERENCE.test(x)) refs.add(x);
    }
  };
  for (const e of entries) walk(e.resource);
  return refs;
}

async function findOne(client: Queryable, type: string, query: URLSearchParams, baseUrl: string): Promise<Resource | undefined> {
  const r = await search(client, type, { params: [...query.entries(), ['_count', '2']] }, baseUrl);
  const matches = (r.bundle.entry ?? []).filter((e) => e.search?.mode === 'match');
  if (matches.length > 1)
    throw new HttpError(412, `Conditional request '${type}?${query}' matches more than one resource`, 'multiple-matches');
  return matches[0]?.resource;
}

const loc = (r: Resource) => `${r.resourceType}/${r.id}/_history/${r.meta?.versionId}`;
const created = (r: Resource): BundleEntry => ({
  fullUrl: `${r.resourceType}/${r.id}`,
  response: { status: '201 Created', location: loc(r), etag: `W/"${r.meta?.versionId}"`, lastModified: r.meta?.lastUpdated },
});

export { findOne };
