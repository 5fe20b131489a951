/**
 * Group commit for inbound HL7 v2: messages that arrive while a database transaction is in
 * flight wait and are stored together in the next one, so a burst costs a handful of round trips
 * and one commit per batch instead of ~20 round trips and a commit per message.
 *
 * Within a batch each message is still all-or-nothing: its Bundle is planned against rows
 * fetched for the whole batch (conditional lookups by identifier) and its writes are only
 * collected; a message that fails planning or validation is rejected alone and leaves nothing
 * behind. The collected rows, the hl7_message rows and the commit are shared. Messages that touch
 * the same conditional key (same patient, same visit) or the same control id never share a
 * batch, and keep their arrival order, so no batch depends on its own writes.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { collectConditionalReferences, findOne, processTransactionOn } from '../fhir/bundle.js';
import { prepareBulkRow, type BulkRow } from '../fhir/bulk-write.js';
import { getTypeDef } from '../fhir/definitions.js';
import { currentContentSql } from '../fhir/schema.js';
import type { Queryable } from '../platform/db.js';
import { prepareRow, type FhirRepository, type PreparedRow, type StoredResource, type WriteOptions } from '../fhir/repository.js';
import { validateFhirResource } from '../fhir/validate.js';
import { HttpError } from '../platform/errors.js';
import type { ToFhirResult } from './to-fhir/index.js';

/** A message ready to store: mapped to FHIR, with its idempotency key and lock keys. */
export interface BatchItem {
  key: string;
  locks: number[];
  result: ToFhirResult;
  insertRow: { facility: string; controlId: string; messageType: string; channel: string; raw: Buffer; charsetWarning?: string | null };
}

export type BatchOutcome =
  | { kind: 'stored'; messageId: number; resources: string[] }
  | { kind: 'duplicate'; messageId: number }
  /** Planning or validation rejected this message; nothing of it was written. */
  | { kind: 'failed'; error: unknown }
  /** Not suited to the batch path (or the batch failed as a whole): store it on its own. */
  | { kind: 'single' };

/** Thrown inside planning when a message needs the one-message path. */
class NeedsSinglePath extends Error {}

/** `identifier=system|value` (and nothing else): the lookups the batch can answer from one query. */
function identifierToken(query: URLSearchParams): string | undefined {
  const entries = [...query.entries()];
  if (entries.length !== 1 || entries[0]![0] !== 'identifier') return undefined;
  const value = entries[0]![1];
  if (value.includes('\\')) return undefined;
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1 || value.indexOf('|', bar + 1) >= 0) return undefined;
  return value;
}

/** Bundles whose every entry the batch path can plan: POSTs and conditional PUTs by identifier. */
export function batchable(bundle: Bundle): boolean {
  for (const e of bundle.entry ?? []) {
    const method = e.request?.method;
    const url = e.request?.url ?? '';
    if (method === 'POST') {
      if (url.includes('?') || url.includes('/')) return false;
      if (e.request?.ifNoneExist && !identifierToken(new URLSearchParams(e.request.ifNoneExist))) return false;
    } else if (method === 'PUT') {
      const [path, qs] = url.split('?');
      if (!qs || (path ?? '').includes('/') || !identifierToken(new URLSearchParams(qs))) return false;
      if (e.request?.ifMatch) return false;
    } else return false;
  }
  return true;
}

/**
 * Conditional lookups for a whole batch: one query per resource type, rows locked until commit.
 * Reads the same `p_identifier` tokens the FHIR search uses (`system|value`).
 */
class IdentifierLookups {
  private readonly byToken = new Map<string, Resource[]>();
  /** Resources found, by "Type/id": their stored version is the base of an update. */
  readonly found = new Map<string, Resource>();

  async load(client: Queryable, bundles: Bundle[]): Promise<void> {
    // Written targets are locked until commit; merely referenced ones (a facility's Organization,
    // shared by every message from it) are only read, so concurrent batches do not queue on them.
    const written = new Map<string, Set<string>>();
    const referenced = new Map<string, Set<string>>();
    const add = (into: Map<string, Set<string>>, type: string, query: URLSearchParams) => {
      const token = identifierToken(query);
      if (!token || !getTypeDef(type)) return;
      let set = into.get(type);
      if (!set) into.set(type, (set = new Set()));
      set.add(token);
    };
    for (const b of bundles) {
      for (const e of b.entry ?? []) {
        const [path, qs] = (e.request?.url ?? '').split('?');
        if (qs && path) add(written, path, new URLSearchParams(qs));
        if (e.request?.ifNoneExist && path) add(written, path, new URLSearchParams(e.request.ifNoneExist));
      }
      for (const ref of collectConditionalReferences(b.entry ?? [])) {
        const [type, qs] = ref.split('?') as [string, string];
        add(referenced, type, new URLSearchParams(qs));
      }
    }
    for (const [type, tokens] of referenced) {
      const locked = written.get(type);
      for (const t of tokens) if (locked?.has(t)) tokens.delete(t);
    }
    for (const [tokensByType, lock] of [
      [written, true],
      [referenced, false],
    ] as const) {
      for (const [type, tokens] of tokensByType) {
        const def = getTypeDef(type)!;
        if (!def.params.has('identifier') || !tokens.size) continue;
        const list = [...tokens];
        const r = await client.query<{ content: Resource; tokens: string[] }>(
          `SELECT ${currentContentSql('t', type)} AS content, t.p_identifier AS tokens FROM ${def.table} t WHERE t.p_identifier && $1::text[]${lock ? ' FOR UPDATE OF t' : ''}`,
          [list],
        );
        for (const token of list) this.byToken.set(`${type}|${token}`, []);
        for (const row of r.rows) {
          this.found.set(`${type}/${row.content.id}`, row.content);
          for (const t of row.tokens ?? []) this.byToken.get(`${type}|${t}`)?.push(row.content);
        }
      }
    }
  }

  /** The one match (undefined: none; 412 when ambiguous, as the search would say). */
  find(type: string, query: URLSearchParams): Resource | undefined | 'unknown' {
    const token = identifierToken(query);
    const hits = token ? this.byToken.get(`${type}|${token}`) : undefined;
    if (!hits) return 'unknown';
    if (hits.length > 1)
      throw new HttpError(412, `Conditional request '${type}?${query}' matches more than one resource`, 'multiple-matches');
    return hits[0];
  }
}

/**
 * Plans every message of a batch against the batch's lookups and collects their rows. Returns
 * the rows to write (first versions, most of a registration burst, encoded for the bulk path;
 * later versions as upserts) and one outcome per message (stored outcomes get their message id
 * later).
 */
export async function planBatch(
  repo: FhirRepository,
  client: Queryable,
  items: BatchItem[],
  baseUrl: string,
  now: string,
): Promise<{ rows: PreparedRow[]; firstVersions: BulkRow[]; outcomes: (BatchOutcome | { kind: 'planned'; resources: string[] })[] }> {
  const lookups = new IdentifierLookups();
  await lookups.load(
    client,
    items.map((i) => i.result.bundle),
  );
  const rows: PreparedRow[] = [];
  const firstVersions: BulkRow[] = [];
  const outcomes: (BatchOutcome | { kind: 'planned'; resources: string[] })[] = [];
  for (const item of items) {
    if (!batchable(item.result.bundle) || item.result.merges.length) {
      outcomes.push({ kind: 'single' });
      continue;
    }
    const mine: PreparedRow[] = [];
    const mineFirst: BulkRow[] = [];
    const write = async (_c: Queryable, type: string, id: string, input: Resource, options: WriteOptions): Promise<StoredResource> => {
      if (options.ifMatch !== undefined) throw new NeedsSinglePath();
      const resource = validateFhirResource(input, type);
      if (resource.id && resource.id !== id) throw new HttpError(400, `Resource id '${resource.id}' does not match the URL id '${id}'`);
      const previous = lookups.found.get(`${type}/${id}`);
      const version = previous ? Number(previous.meta?.versionId ?? 0) + 1 : 1;
      const stored = { ...resource, id, meta: { ...(resource.meta ?? {}), versionId: String(version), lastUpdated: now } } as Resource;
      if (previous) mine.push(prepareRow(stored));
      else mineFirst.push(prepareBulkRow(stored, now, { text: true }));
      return { resource: stored, created: !previous };
    };
    const find = async (c: Queryable, type: string, query: URLSearchParams, base: string): Promise<Resource | undefined> => {
      const hit = lookups.find(type, query);
      if (hit !== 'unknown') return hit;
      // A lookup the batch did not prefetch: ask the store (a read; nothing is written).
      return findOne(c, type, query, base);
    };
    try {
      const response = await processTransactionOn(repo, client, item.result.bundle, baseUrl, { find, write });
      rows.push(...mine);
      firstVersions.push(...mineFirst);
      const resources = (response.entry ?? [])
        .map((e) => e.response?.location?.replace(/\/_history\/.*$/, ''))
        .filter((s): s is string => !!s);
      outcomes.push({ kind: 'planned', resources });
    } catch (error) {
      outcomes.push(error instanceof NeedsSinglePath ? { kind: 'single' } : { kind: 'failed', error });
    }
  }
  return { rows, firstVersions, outcomes };
}
