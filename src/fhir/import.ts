/**
 * Bulk import of FHIR NDJSON (one resource per line, as $export writes them) and Bundle JSON
 * files. NDJSON streams line by line in batches, so memory is bounded by the batch size, not
 * the file. Resources keep their ids; a re-import makes a new version. A bad line is reported
 * with its line number and skipped; good lines are kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { HttpError } from '../platform/errors.js';
import { getTypeDef } from './definitions.js';
import type pg from 'pg';
import { copyNewRows, groupBy, prepareRow, writeRows, type FhirRepository, type PreparedRow } from './repository.js';
import { findOne } from './bundle.js';
import { validateFhirResource } from './validate.js';

export interface ImportError {
  file: string;
  line?: number;
  message: string;
}

export interface ImportStats {
  resources: number;
  errors: ImportError[];
  files: number;
  seconds: number;
}

export interface ImportOptions {
  batchSize?: number;
  onProgress?: (p: { resources: number; bytes: number; totalBytes?: number; file: string }) => void;
  /** Stop collecting error details after this many (counting continues). */
  maxErrors?: number;
}

const DEFAULT_BATCH = 2000;

/**
 * Stamps version ids after those already stored and writes one batch in one transaction:
 * new ids through COPY (the bulk path), ids already stored through upserts.
 */
async function writeBatch(repo: FhirRepository, resources: Resource[], client?: pg.PoolClient): Promise<void> {
  if (!resources.length) return;
  const now = new Date().toISOString();
  const run = async (c: pg.PoolClient) => {
    const byType = groupBy(resources, (r) => r.resourceType);
    const fresh: PreparedRow[] = [];
    const updates: PreparedRow[] = [];
    for (const [type, list] of byType) {
      const def = getTypeDef(type)!;
      const existing = await c.query<{ id: string; version_id: number }>(`SELECT id, version_id FROM ${def.table} WHERE id = ANY($1::text[])`, [
        list.map((r) => r.id),
      ]);
      const versions = new Map(existing.rows.map((r) => [r.id, r.version_id]));
      // A batch may hold one id twice: the later line wins.
      const unique = new Map<string, Resource>();
      for (const r of list) unique.set(r.id!, r);
      for (const r of unique.values()) {
        const previous = versions.get(r.id!);
        const row = prepareRow({ ...r, meta: { ...(r.meta ?? {}), versionId: String((previous ?? 0) + 1), lastUpdated: now } } as Resource);
        (previous === undefined ? fresh : updates).push(row);
      }
    }
    if (fresh.length) await copyNewRows(repo.db, c, fresh);
    if (updates.length) await writeRows(c, updates);
  };
  if (client) await run(client);
  else await repo.db.transaction(run);
}

/** Imports an NDJSON stream. */
export async function importNdjson(repo: FhirRepository, input: Readable, file: string, options: ImportOptions = {}, stats?: ImportStats): Promise<ImportStats> {
  const s = stats ?? { resources: 0, errors: [], files: 1, seconds: 0 };
  const started = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const maxErrors = options.maxErrors ?? 1000;
  let batch: Resource[] = [];
  let lineNo = 0;
  let bytes = 0;
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    lineNo++;
    bytes += Buffer.byteLength(line) + 1;
    if (!line.trim()) continue;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (e) {
        throw new Error(`malformed JSON: ${(e as Error).message}`);
      }
      const r = validateFhirResource(parsed);
      if (!r.id) throw new Error('a resource in NDJSON needs an id');
      batch.push(r);
    } catch (err) {
      if (s.errors.length < maxErrors) s.errors.push({ file, line: lineNo, message: (err as Error).message });
      continue;
    }
    if (batch.length >= batchSize) {
      await writeBatch(repo, batch);
      s.resources += batch.length;
      batch = [];
      options.onProgress?.({ resources: s.resources, bytes, file });
    }
  }
  await writeBatch(repo, batch);
  s.resources += batch.length;
  options.onProgress?.({ resources: s.resources, bytes, file });
  s.seconds += (Date.now() - started) / 1000;
  return s;
}

/**
 * Imports a transaction/batch/collection Bundle as one database transaction, resolving
 * urn:uuid and conditional references; entries with ifNoneExist that already match are skipped.
 */
export async function importBundle(repo: FhirRepository, bundle: Bundle, file: string, stats?: ImportStats): Promise<ImportStats> {
  const s = stats ?? { resources: 0, errors: [], files: 1, seconds: 0 };
  const started = Date.now();
  if (bundle?.resourceType !== 'Bundle') throw new HttpError(400, `${file}: not a Bundle`);
  const baseUrl = '';
  await repo.db.transaction(async (client) => {
    const ids = new Map<string, string>();
    const pending: { resource: Resource; fullUrl?: string; ifNoneExist?: string }[] = [];
    for (const e of bundle.entry ?? []) {
      if (!e.resource) continue;
      const id = e.resource.id ?? e.fullUrl?.replace(/^urn:uuid:/, '') ?? crypto.randomUUID();
      pending.push({ resource: { ...e.resource, id } as Resource, fullUrl: e.fullUrl, ifNoneExist: e.request?.ifNoneExist });
      if (e.fullUrl) ids.set(e.fullUrl, `${e.resource.resourceType}/${id}`);
      if (e.request?.ifNoneExist) ids.set(`${e.resource.resourceType}?${e.request.ifNoneExist}`, `${e.resource.resourceType}/${id}`);
    }
    const keep: Resource[] = [];
    for (const p of pending) {
      if (p.ifNoneExist) {
        const existing = await findOne(client, p.resource.resourceType, new URLSearchParams(p.ifNoneExist), baseUrl);
        if (existing) {
          ids.set(`${p.resource.resourceType}?${p.ifNoneExist}`, `${existing.resourceType}/${existing.id}`);
          if (p.fullUrl) ids.set(p.fullUrl, `${existing.resourceType}/${existing.id}`);
          continue;
        }
      }
      keep.push(p.resource);
    }
    const resolveConditional = async (ref: string): Promise<string> => {
      const known = ids.get(ref);
      if (known) return known;
      const [type, qs] = ref.split('?') as [string, string];
      const found = await findOne(client, type, new URLSearchParams(qs), baseUrl);
      if (!found) throw new HttpError(400, `${file}: reference '${ref}' matches no resource`);
      ids.set(ref, `${type}/${found.id}`);
      return ids.get(ref)!;
    };
    const rewritten: Resource[] = [];
    for (const r of keep) rewritten.push(validateFhirResource(await rewrite(r, ids, resolveConditional)));
    for (let i = 0; i < rewritten.length; i += DEFAULT_BATCH) await writeBatch(repo, rewritten.slice(i, i + DEFAULT_BATCH), client as pg.PoolClient);
    s.resources += rewritten.length;
  });
  s.seconds += (Date.now() - started) / 1000;
  return s;
}

async function rewrite<T>(value: T, ids: Map<string, string>, conditional: (ref: string) => Promise<string>): Promise<T> {
  if (Array.isArray(value)) return (await Promise.all(value.map((v) => rewrite(v, ids, conditional)))) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        if (ids.has(v)) out[k] = ids.get(v);
        else if (/^[A-Z][A-Za-z]+\?/.test(v)) out[k] = await conditional(v);
        else if (v.startsWith('urn:uuid:')) throw new HttpError(400, `reference '${v}' matches no entry of the Bundle`);
        else out[k] = v;
      } else out[k] = await rewrite(v, ids, conditional);
    }
    return out as T;
  }
  return value;
}

/** Lists importable files under a path, Bundles of shared resources (organisations, practitioners) first. */
export function listImportFiles(target: string): string[] {
  const stat = fs.statSync(target);
  // In a directory, NDJSON files are named by resource type as $export writes them
  // (Patient.000.ndjson); others there, such as an export's log.ndjson, are not resources.
  const files = stat.isDirectory()
    ? fs
        .readdirSync(target)
        .filter((f) => f.endsWith('.json') || (f.endsWith('.ndjson') && getTypeDef(f.split('.')[0]!) !== undefined))
        .map((f) => path.join(target, f))
    : [target];
  const rank = (f: string) => {
    const b = path.basename(f);
    if (/^(Organization|Location|Practitioner|hospitalInformation|practitionerInformation)/.test(b)) return 0;
    if (/^Patient/.test(b)) return 1;
    return 2;
  };
  return files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export async function importPath(repo: FhirRepository, target: string, options: ImportOptions = {}): Promise<ImportStats> {
  const stats: ImportStats = { resources: 0, errors: [], files: 0, seconds: 0 };
  for (const file of listImportFiles(target)) {
    stats.files++;
    if (file.endsWith('.ndjson')) {
      await importNdjson(repo, fs.createReadStream(file), file, options, stats);
    } else {
      let bundle: Bundle;
      try {
        bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
      } catch (e) {
        stats.errors.push({ file, message: `malformed JSON: ${(e as Error).message}` });
        continue;
      }
      if (bundle.resourceType !== 'Bundle') {
        stats.errors.push({ file, message: 'not a Bundle (use .ndjson for one resource per line)' });
        continue;
      }
      try {
        await importBundle(repo, bundle, file, stats);
      } catch (e) {
        stats.errors.push({ file, message: (e as Error).message });
      }
      options.onProgress?.({ resources: stats.resources, bytes: 0, file });
    }
  }
  return stats;
}
