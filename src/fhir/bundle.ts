/**
 * transaction and batch Bundles. A transaction runs in one database transaction: every entry
 * succeeds or nothing is stored. urn:uuid fullUrls are replaced by the ids assigned here, in
 * every reference of every entry, before anything is validated or written.
 */
import { newResourceId } from './ids.js';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { badRequest, forbidden, HttpError, notFound, preconditionFailed } from '../platform/errors.js';
import type { Queryable } from '../platform/db.js';
import {
  assertValidId,
  prepareRow,
  writeRows,
  type FhirRepository,
  type PreparedRow,
  type StoredResource,
  type WriteOptions,
} from './repository.js';
import {
  lastVersionsSql,
  prepareBulkRow,
  prepareSqlRow,
  writeNewBulkRows,
  writeNewSqlRows,
  type BulkRow,
  type SqlRow,
} from './bulk-write.js';
import { getTypeDef } from './definitions.js';
import { validateFhirResource } from './validate.js';
import { search } from './search.js';
import { jsonDepthError, valueDepthExceeds } from './limits.js';
import { assertReferencesExist } from './references.js';
import { refuseAuditEventWrite } from './audit.js';
import { dataQualityOutcome } from '../shared/data-quality.js';

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
   * The caller hands the Bundle over (REST: the parsed request body, used for nothing after): its
   * resources are rewritten and stamped where they stand instead of being copied, so a large
   * Bundle is held in memory once.
   */
  consume?: boolean;
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

/**
 * Replaces every "urn:uuid:..." and conditional reference by the id it was given, throughout the
 * resource: in a copy, or (`inPlace`, for a Bundle handed over) in the value itself.
 */
function rewriteReferences(value: unknown, ids: Map<string, string>, inPlace = false): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = inPlace ? value : new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = rewriteReferences(value[i], ids, inPlace);
    return out;
  }
  // for…in, not Object.entries: this walks every resource of every Bundle and HL7 message.
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = inPlace ? source : {};
  for (const k in source) {
    const v = source[k];
    if (typeof v === 'object') out[k] = rewriteReferences(v, ids, inPlace);
    else if (k === 'reference' && typeof v === 'string' && (v.startsWith('urn:') || CONDITIONAL_REFERENCE.test(v))) {
      const target = ids.get(v);
      if (!target) throw badRequest(`Reference '${v}' does not match any fullUrl in the Bundle or any stored resource`);
      out[k] = target;
    } else if (!inPlace) out[k] = v;
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

  // A Bundle handed over is rewritten where it stands; otherwise each resource is copied.
  const rewritten = planned.map((p) =>
    p.entry.resource ? (rewriteReferences(p.entry.resource, ids, hooks.consume) as Resource) : undefined,
  );
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

  const writer: EntryWriter = hooks.write ? new HookWriter(client, hooks) : new BulkEntryWriter(repo, client, hooks);
  if (writer instanceof BulkEntryWriter) {
    // Every POST id is new; every PUT target's current version is read (and locked) in one query.
    for (const [p, id] of preassigned) if (id) writer.knownNew(p.type, id);
    await writer.loadVersions(planned.filter((p) => p.method === 'PUT' && p.id).map((p) => ({ type: p.type, id: p.id! })));
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
        const id = preassigned.get(p)!;
        const { resource: stored } = await writer.write(p.type, id, { ...resource, id } as Resource, {});
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
        const { resource: stored, created: isNew } = await writer.write(p.type, id, { ...resource, id } as Resource, {
          ifMatch: p.entry.request?.ifMatch,
        });
        writes.push({ action: isNew ? 'create' : 'update', reference: `${p.type}/${stored.id}`, resource: stored });
        out.push(isNew ? created(stored) : updated(stored));
        break;
      }
      case 'DELETE': {
        if (!p.id) throw badRequest('DELETE entries need Type/id');
        // Writes before it are in the store first, so a DELETE of one of them finds it.
        await writer.flush();
        await repo.delete(p.type, p.id, client);
        writer.forget(p.type, p.id);
        await hooks.onWrite?.(client, 'delete', `${p.type}/${p.id}`);
        writes.push({ action: 'delete', reference: `${p.type}/${p.id}` });
        out.push({ response: { status: '204 No Content' } });
        break;
      }
      case 'GET': {
        // A read sees the writes of the entries before it.
        await writer.flush();
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
  await writer.flush();
  if (writes.length) await hooks.onEntriesDone?.(client, writes);
  return out;
}

/** Where a transaction's creates and updates go. */
interface EntryWriter {
  /** Validates and stamps one resource; it may be stored only at the next flush. */
  write(type: string, id: string, resource: Resource, options: WriteOptions): Promise<StoredResource>;
  /** Stores what write() has collected. */
  flush(): Promise<void>;
  /** A resource changed behind the writer's back (a DELETE entry): look its version up again. */
  forget(type: string, id: string): void;
}

/** The caller's own write (hooks.write: the HL7 group commit collects rows for many messages). */
class HookWriter implements EntryWriter {
  constructor(
    private readonly client: Queryable,
    private readonly hooks: BundleHooks,
  ) {}

  async write(type: string, id: string, resource: Resource, options: WriteOptions): Promise<StoredResource> {
    const stored = await this.hooks.write!(this.client, type, id, resource, options);
    await this.hooks.onWrite?.(this.client, stored.created ? 'create' : 'update', `${type}/${stored.resource.id}`);
    return stored;
  }

  async flush(): Promise<void> {}

  forget(): void {}
}

/** A flush goes out once this many rows, or this much encoded text, have gathered. */
const FLUSH_ROWS = 1000;
const FLUSH_CHARS = 4 * 1024 * 1024;

interface KnownVersion {
  /** Version in the type table (undefined: no current resource). */
  current?: number;
  /** Last version in history, a deletion included (undefined: never stored). */
  last?: number;
}

/**
 * The bulk path inside a transaction: each resource is validated, stamped and encoded as it
 * comes, and the rows go out together — new resources (every POST, PUTs of unknown ids) as one
 * multi-row INSERT per table in a single statement (COPY on PGlite), later versions as multi-row
 * upserts — instead of three or four statements per resource. Versions of PUT targets come from
 * one locking query. Rows are sent in slices of at most FLUSH_ROWS rows / FLUSH_CHARS characters,
 * so a large Bundle is never encoded whole beside its parsed self.
 */
class BulkEntryWriter implements EntryWriter {
  private readonly versions = new Map<string, KnownVersion>();
  private readonly now = new Date().toISOString();
  /** New resources: SQL tuples on PostgreSQL (one INSERT per table), COPY lines on PGlite. */
  private fresh: SqlRow[] = [];
  private freshCopy: BulkRow[] = [];
  private later: PreparedRow[] = [];
  private pending: { action: 'create' | 'update'; reference: string }[] = [];
  private keys = new Set<string>();
  private chars = 0;

  constructor(
    private readonly repo: FhirRepository,
    private readonly client: Queryable,
    private readonly hooks: BundleHooks,
  ) {}

  knownNew(type: string, id: string): void {
    this.versions.set(`${type}/${id}`, {});
  }

  forget(type: string, id: string): void {
    this.versions.delete(`${type}/${id}`);
  }

  /** Current and last versions of the given resources, current rows locked until commit. */
  async loadVersions(targets: { type: string; id: string }[]): Promise<void> {
    const byType = new Map<string, Set<string>>();
    for (const t of targets) {
      if (this.versions.has(`${t.type}/${t.id}`)) continue;
      assertValidId(t.id);
      const def = getTypeDef(t.type);
      if (!def) continue; // validation names the unknown type
      let set = byType.get(t.type);
      if (!set) byType.set(t.type, (set = new Set()));
      set.add(t.id);
    }
    if (!byType.size) return;
    const args: unknown[] = [];
    const ctes: string[] = [];
    for (const [type, list] of byType) {
      args.push([...list]);
      // Table names come from the R4 definitions only.
      ctes.push(
        `c${args.length} AS (SELECT '${type}'::text AS t, id, version_id FROM ${getTypeDef(type)!.table} WHERE id = ANY($${args.length}::text[]) FOR UPDATE)`,
      );
    }
    const current = await this.client.query<{ t: string; id: string; version_id: number }>(
      `WITH ${ctes.join(', ')} ${ctes.map((_, i) => `SELECT t, id, version_id FROM c${i + 1}`).join(' UNION ALL ')}`,
      args,
    );
    for (const r of current.rows) this.versions.set(`${r.t}/${r.id}`, { current: r.version_id, last: r.version_id });
    // Targets without a current row may have been deleted: their history goes on after its last version.
    const missing = new Map<string, string[]>();
    for (const [type, list] of byType)
      for (const id of list) {
        if (this.versions.has(`${type}/${id}`)) continue;
        let m = missing.get(type);
        if (!m) missing.set(type, (m = []));
        m.push(id);
      }
    if (!missing.size) return;
    const margs: unknown[] = [];
    const selects: string[] = [];
    for (const [type, list] of missing) {
      margs.push(type, list);
      selects.push(lastVersionsSql(`$${margs.length - 1}::text`, `$${margs.length}::text[]`));
    }
    const past = await this.client.query<{ type: string; id: string; v: number }>(selects.join(' UNION ALL '), margs);
    const last = new Map(past.rows.map((r) => [`${r.type}/${r.id}`, r.v]));
    for (const [type, list] of missing) for (const id of list) this.versions.set(`${type}/${id}`, { last: last.get(`${type}/${id}`) });
  }

  async write(type: string, id: string, input: Resource, options: WriteOptions): Promise<StoredResource> {
    assertValidId(id);
    const resource = validateFhirResource(input, type);
    const key = `${type}/${id}`;
    // A resource the Bundle writes twice: its first version goes out before the second is stamped.
    if (this.keys.has(key)) await this.flush();
    let known = this.versions.get(key);
    if (!known) {
      await this.loadVersions([{ type, id }]);
      known = this.versions.get(key) ?? {};
    }
    if (options.ifMatch !== undefined) {
      const expected = options.ifMatch.replace(/^W\//, '').replace(/"/g, '');
      if (String(known.current ?? '') !== expected)
        throw preconditionFailed(`Version conflict: If-Match ${options.ifMatch} but ${key} is at version ${known.current ?? 'none'}`);
    }
    let stored: Resource;
    if (known.last === undefined) {
      stored = resource;
      if (this.repo.db.kind === 'postgres') {
        const row = prepareSqlRow(resource, this.now);
        this.fresh.push(row);
        this.chars += row.typeTuple.length + row.historyTuple.length + row.prefixTuples.length;
      } else {
        const row = prepareBulkRow(resource, this.now, { text: true });
        this.freshCopy.push(row);
        this.chars += row.typeLine.length + row.historyLine.length + (row.prefixLines?.length ?? 0);
      }
    } else {
      stored = { ...resource, meta: { ...(resource.meta ?? {}), versionId: String(known.last + 1), lastUpdated: this.now } } as Resource;
      this.later.push(prepareRow(stored));
    }
    const version = Number(stored.meta!.versionId);
    this.versions.set(key, { current: version, last: version });
    this.keys.add(key);
    const isNew = known.current === undefined;
    this.pending.push({ action: isNew ? 'create' : 'update', reference: key });
    if (this.pending.length >= FLUSH_ROWS || this.chars >= FLUSH_CHARS) await this.flush();
    return { resource: stored, created: isNew };
  }

  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const { fresh, freshCopy, later, pending } = this;
    this.fresh = [];
    this.freshCopy = [];
    this.later = [];
    this.pending = [];
    this.keys = new Set();
    this.chars = 0;
    try {
      await writeNewSqlRows(this.client, fresh);
      await writeNewBulkRows(this.repo.db, this.client as pg.PoolClient, freshCopy);
      if (later.length) await writeRows(this.client, later);
    } catch (e) {
      // Two requests creating the same id at once: the later one is told to try again.
      if ((e as { code?: string }).code === '23505')
        throw new HttpError(409, `A resource of this Bundle was written by another request at the same time; send it again`, 'conflict');
      throw e;
    }
    if (this.hooks.onWrite) for (const w of pending) await this.hooks.onWrite(this.client, w.action, w.reference);
  }
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
/** A write's entry response; values stored with a data-quality mark are named in its outcome (warnings). */
const created = (r: Resource): BundleEntry => {
  const outcome = dataQualityOutcome(r);
  return {
    fullUrl: `${r.resourceType}/${r.id}`,
    response: {
      status: '201 Created',
      location: loc(r),
      etag: `W/"${r.meta?.versionId}"`,
      lastModified: r.meta?.lastUpdated,
      ...(outcome ? { outcome: outcome as OperationOutcome } : {}),
    },
  };
};
const updated = (r: Resource): BundleEntry => {
  const outcome = dataQualityOutcome(r);
  return {
    response: {
      status: '200 OK',
      location: loc(r),
      etag: `W/"${r.meta?.versionId}"`,
      ...(outcome ? { outcome: outcome as OperationOutcome } : {}),
    },
  };
};

export { findOne };
