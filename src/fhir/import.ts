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
import { newResourceId } from './ids.js';
import { HttpError } from '../platform/errors.js';
import { getTypeDef } from './definitions.js';
import type { FhirRepository } from './repository.js';
import { prepareBulkRow, writeBulkRows, type BulkRow } from './bulk-write.js';
import { CONDITIONAL_REFERENCE, findOne } from './bundle.js';
import { preparePool, type PreparedChunk } from './prepare-pool.js';
import { checkedResourceTypes, validateFhirResource } from './validate.js';
import { FHIR_LIMITS, jsonDepthExceeded, valueDepthExceeds } from './limits.js';
import { AUDIT_READ_ONLY_RULE } from './audit.js';

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
  /** false: prepare every batch on the main thread (default: a worker thread after the first batch). */
  worker?: boolean;
}

/**
 * Resources per batch. Bigger batches amortise the per-statement work of COPY and the index
 * lookups; PostgreSQL measured 9,300/s at 5,000 and 11,000/s at 10,000 (200k Synthea, 2 cores).
 * Memory stays bounded: at most two batches (one written, one prepared) are held at once.
 */
const DEFAULT_BATCH = { postgres: 10_000, pglite: 5_000 } as const;

/**
 * Writes one after another while the caller prepares what comes next: at most one write is in
 * flight, so memory stays bounded by what is being written plus what is being prepared.
 */
class SerialWrites {
  private inflight: Promise<void> | undefined;

  /** Waits for the write in flight, then starts this one without waiting for it. */
  async run(write: () => Promise<void>): Promise<void> {
    await this.inflight;
    const p = write();
    // Awaited by the next run or by drain(); until then a failure must not count as unhandled.
    p.catch(() => undefined);
    this.inflight = p;
  }

  async drain(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    await p;
  }
}

/** One NDJSON line parsed (throws what is wrong with its text). */
function parseNdjsonLine(line: string): unknown {
  // Checked on the text, before JSON.parse builds a structure the walkers after it would recurse into.
  if (jsonDepthExceeded(line) >= 0) throw new Error(depthMessage);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw new Error(`malformed JSON: ${(e as Error).message}`, { cause: e });
  }
  // The audit trail is written by the server only: an imported AuditEvent line is refused, not stored.
  if ((parsed as { resourceType?: unknown } | null)?.resourceType === 'AuditEvent') throw new Error(AUDIT_READ_ONLY_RULE);
  return parsed;
}

/** `text`: keep the COPY lines as strings (the worker encodes a whole chunk's at once). */
function prepareParsedLine(parsed: unknown, lastUpdated: string, text = false): BulkRow {
  const r = validateFhirResource(parsed);
  if (!r.id) throw new Error('a resource in NDJSON needs an id');
  return prepareBulkRow(r, lastUpdated, { text });
}

/** One NDJSON line, parsed, validated and encoded for the bulk path (throws what is wrong with it). */
export function prepareNdjsonLine(line: string, lastUpdated: string): BulkRow {
  return prepareParsedLine(parseNdjsonLine(line), lastUpdated);
}

/**
 * The same on a thread where modules' resource checks (registerResourceCheck) are not registered:
 * a line whose resource type has checks on the main thread (`mainThreadTypes`, e.g. ConceptMap and
 * the mapping rules) is left for the main thread to prepare (undefined); others are prepared here,
 * their COPY lines kept as strings for RowPacker (prepare-pool.ts) to encode into the reply.
 */
export function prepareNdjsonLineOffThread(line: string, lastUpdated: string, mainThreadTypes: ReadonlySet<string>): BulkRow | undefined {
  const parsed = parseNdjsonLine(line);
  const type = (parsed as { resourceType?: unknown } | null)?.resourceType;
  if (typeof type === 'string' && mainThreadTypes.has(type)) return undefined;
  return prepareParsedLine(parsed, lastUpdated, true);
}

const depthMessage = `nests arrays/objects deeper than the limit of ${FHIR_LIMITS.jsonDepth} levels`;

/** A Bundle file's text, parsed (throws what is wrong with it). */
export function parseBundleText(text: string): Bundle {
  if (jsonDepthExceeded(text) >= 0) throw new Error(depthMessage);
  let bundle: Bundle;
  try {
    bundle = JSON.parse(text) as Bundle;
  } catch (e) {
    throw new Error(`malformed JSON: ${(e as Error).message}`, { cause: e });
  }
  if (bundle?.resourceType !== 'Bundle') throw new Error('not a Bundle (use .ndjson for one resource per line)');
  return bundle;
}

/**
 * Imports an NDJSON stream. The first batch is prepared here; a stream longer than that hands
 * its chunks to the preparation worker (prepare-pool.ts), so parsing and encoding one chunk
 * overlaps reading the next and writing the previous.
 */
export async function importNdjson(
  repo: FhirRepository,
  input: Readable,
  file: string,
  options: ImportOptions = {},
  stats?: ImportStats,
): Promise<ImportStats> {
  const s = stats ?? { resources: 0, errors: [], files: 1, seconds: 0 };
  const started = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH[repo.db.kind];
  const maxErrors = options.maxErrors ?? 1000;
  let batch: BulkRow[] = [];
  let lastUpdated = new Date().toISOString();
  let lineNo = 0;
  let bytes = 0;
  const writes = new SerialWrites();
  const write = (rows: BulkRow[]) =>
    writes.run(async () => {
      await repo.db.transaction((client) => writeBulkRows(repo.db, client, rows));
      s.resources += rows.length;
      options.onProgress?.({ resources: s.resources, bytes, file });
    });
  const reportError = (line: number, message: string) => {
    if (s.errors.length < maxErrors) s.errors.push({ file, line, message });
  };
  const prepareLine = (line: string, at: number, into: BulkRow[]) => {
    try {
      into.push(prepareNdjsonLine(line, lastUpdated));
    } catch (err) {
      reportError(at, (err as Error).message);
    }
  };

  // Chunks of raw lines for the worker, and the one it is preparing (results are taken in order).
  let useWorker = false;
  let chunk: string[] = [];
  let chunkLines: number[] = [];
  let preparing: { promise: Promise<PreparedChunk>; lines: string[]; lineNumbers: number[]; lastUpdated: string } | undefined;
  const takePrepared = async () => {
    if (!preparing) return;
    const p = preparing;
    preparing = undefined;
    let prepared: PreparedChunk;
    try {
      prepared = await p.promise;
    } catch {
      // The worker died: this chunk is prepared here, and so are the ones after it.
      useWorker = false;
      const rows: BulkRow[] = [];
      p.lines.forEach((line, i) => prepareLine(line, p.lineNumbers[i]!, rows));
      prepared = { rows, errors: [] };
    }
    // Lines the worker left to this thread (types with resource checks registered here): prepared
    // and checked now, each refusal reported on its line; the rest of the chunk is not held up.
    const errors = [...prepared.errors];
    for (const i of prepared.deferredLines ?? []) {
      try {
        prepared.rows.push(prepareNdjsonLine(p.lines[i]!, p.lastUpdated));
      } catch (err) {
        errors.push({ line: p.lineNumbers[i]!, message: (err as Error).message });
      }
    }
    if (prepared.deferredLines) errors.sort((a, b) => a.line - b.line);
    for (const e of errors) reportError(e.line, e.message);
    if (prepared.rows.length) await write(prepared.rows);
  };
  const sendChunk = async () => {
    const next = {
      promise: preparePool.prepare(chunk, chunkLines, lastUpdated, checkedResourceTypes()),
      lines: chunk,
      lineNumbers: chunkLines,
      lastUpdated,
    };
    next.promise.catch(() => undefined);
    chunk = [];
    chunkLines = [];
    lastUpdated = new Date().toISOString();
    await takePrepared();
    preparing = next;
  };

  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      if (!line.trim()) continue;
      if (useWorker) {
        chunk.push(line);
        chunkLines.push(lineNo);
        if (chunk.length >= batchSize) await sendChunk();
        continue;
      }
      prepareLine(line, lineNo, batch);
      if (batch.length >= batchSize) {
        await takePrepared();
        await write(batch);
        batch = [];
        lastUpdated = new Date().toISOString();
        // More than a batch: the rest is prepared on the worker thread, if there is one.
        useWorker = options.worker !== false && preparePool.available();
      }
    }
    if (chunk.length) await sendChunk();
    await takePrepared();
    if (batch.length) await write(batch);
  } finally {
    await preparing?.promise.catch(() => undefined);
    await writes.drain();
  }
  options.onProgress?.({ resources: s.resources, bytes, file });
  s.seconds += (Date.now() - started) / 1000;
  return s;
}

/**
 * Bundles handed to the worker ahead of the one being written: enough to cover a whole group
 * (a Synthea patient is about 600 resources, a group 5,000–10,000), so the worker keeps going
 * while the main thread writes. On PGlite that write occupies the main thread itself.
 */
const LOOK_AHEAD = 16;

/** A Bundle to import: parsed already, or its file's text (then parsed on the worker thread). */
export interface BundleSource {
  bundle?: Bundle;
  text?: string;
  file: string;
}

/** A Bundle read and, when it needs no lookups, validated and encoded: ready for its transaction. */
interface PreparedBundle {
  file: string;
  pending: { resource: Resource; fullUrl?: string; ifNoneExist?: string; entry: number }[];
  ids: Map<string, string>;
  /** Encoded rows, when every entry is a plain create/update (no ifNoneExist, no conditional reference). */
  rows?: BulkRow[];
  /**
   * Prepared off the main thread: entries of types whose resource checks are registered only on
   * the main thread, as their rewritten JSON with the entry's index, for the main thread to
   * validate and encode (their rows are then added to `rows`).
   */
  deferred?: { entry: number; json: string }[];
}

/**
 * The CPU half of a Bundle import: no database access, so it can run while another Bundle is
 * written (with `yieldEvery`, it yields to the event loop so that write's round trips go on).
 * `owned`: the Bundle was parsed here from its text, so its resources are rewritten and stamped
 * where they stand instead of being copied first.
 */
export async function prepareBundle(
  bundle: Bundle,
  file: string,
  yieldEvery = 0,
  owned = false,
  mainThreadTypes?: ReadonlySet<string>,
): Promise<PreparedBundle> {
  if (bundle?.resourceType !== 'Bundle') throw new HttpError(400, `${file}: not a Bundle`);
  // A Bundle parsed here was checked on its text; one handed over as a value is checked here.
  if (!owned && valueDepthExceeds(bundle)) throw new HttpError(400, `${file}: ${depthMessage}`);
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw new HttpError(400, `${file}: Bundle.entry must be an array`);
  const ids = new Map<string, string>();
  const pending: PreparedBundle['pending'] = [];
  for (const [entry, e] of (bundle.entry ?? []).entries()) {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new HttpError(400, `${file}: a Bundle entry must be an object`);
    if (!e.resource) continue;
    if (typeof e.resource !== 'object' || Array.isArray(e.resource))
      throw new HttpError(400, `${file}: a Bundle entry's resource must be an object`);
    if (e.fullUrl !== undefined && typeof e.fullUrl !== 'string')
      throw new HttpError(400, `${file}: Bundle.entry.fullUrl must be a string`);
    // The whole Bundle is refused (nothing of it stored): the audit trail is written by the server only.
    if (e.resource.resourceType === 'AuditEvent' || e.request?.url?.split(/[/?]/)[0] === 'AuditEvent')
      throw new HttpError(403, `${file}: ${AUDIT_READ_ONLY_RULE}`, 'forbidden');
    const id = e.resource.id ?? e.fullUrl?.replace(/^urn:uuid:/, '') ?? newResourceId();
    const resource = owned ? Object.assign(e.resource, { id }) : ({ ...e.resource, id } as Resource);
    pending.push({ resource, fullUrl: e.fullUrl, ifNoneExist: e.request?.ifNoneExist, entry });
    if (e.fullUrl) ids.set(e.fullUrl, `${e.resource.resourceType}/${id}`);
    if (e.request?.ifNoneExist) ids.set(`${e.resource.resourceType}?${e.request.ifNoneExist}`, `${e.resource.resourceType}/${id}`);
  }
  // Plain creates and updates (the common case) are rewritten, validated and encoded before
  // the transaction opens; only ifNoneExist entries and conditional references need the database.
  let rows: BulkRow[] | undefined;
  let deferred: PreparedBundle['deferred'];
  if (!pending.some((p) => p.ifNoneExist)) {
    const lastUpdated = new Date().toISOString();
    const unresolved = new Set<string>();
    const rewritten = pending.map((p) => rewriteReferences(p.resource, ids, unresolved, owned));
    if (!unresolved.size) {
      rows = [];
      for (let i = 0; i < rewritten.length; i++) {
        // Yield now and then, so the previous Bundle's round trips are answered meanwhile.
        if (yieldEvery && i % yieldEvery === yieldEvery - 1) await new Promise<void>((resolve) => setImmediate(resolve));
        const r = rewritten[i]!;
        if (mainThreadTypes?.has(r.resourceType)) (deferred ??= []).push({ entry: pending[i]!.entry, json: JSON.stringify(r) });
        else rows.push(prepareBulkRow(validateFhirResource(r), lastUpdated));
      }
    }
  }
  return { file, pending, ids, rows, ...(deferred ? { deferred } : {}) };
}

/** The database half: one transaction, all or nothing. */
async function writeBundle(repo: FhirRepository, prepared: PreparedBundle, s: ImportStats): Promise<void> {
  const { file, pending, ids } = prepared;
  let rows = prepared.rows;
  const baseUrl = '';
  await repo.db.transaction(async (client) => {
    if (!rows) {
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
      const unresolved = new Set<string>();
      for (const r of keep) rewriteReferences(r, ids, unresolved);
      for (const ref of unresolved) {
        const [type, qs] = ref.split('?') as [string, string];
        const found = await findOne(client, type, new URLSearchParams(qs), baseUrl);
        if (!found) throw new HttpError(400, `${file}: reference '${ref}' matches no resource`);
        ids.set(ref, `${type}/${found.id}`);
      }
      const lastUpdated = new Date().toISOString();
      rows = keep.map((r) => prepareBulkRow(validateFhirResource(rewriteReferences(r, ids, unresolved)), lastUpdated));
    }
    await writeBulkRows(repo.db, client, rows);
    s.resources += rows.length;
  });
}

/**
 * Imports a transaction/batch/collection Bundle as one database transaction, resolving
 * urn:uuid and conditional references; entries with ifNoneExist that already match are skipped.
 * Entries are written through the bulk path (COPY for new ids).
 */
export async function importBundle(repo: FhirRepository, bundle: Bundle, file: string, stats?: ImportStats): Promise<ImportStats> {
  const s = stats ?? { resources: 0, errors: [], files: 1, seconds: 0 };
  const started = Date.now();
  await writeBundle(repo, await prepareBundle(bundle, file), s);
  s.seconds += (Date.now() - started) / 1000;
  return s;
}

/**
 * Many Bundles, each all or nothing, written in groups: Bundles that need no lookups (plain
 * creates and updates, the bulk case) are prepared while the previous group is written and share
 * one transaction until the group holds a batch's worth of resources, so a Synthea patient's few
 * hundred resources do not each pay a transaction, a version lookup and a round of COPYs. A group
 * never holds two Bundles writing the same resource (each would need its own version), and a
 * Bundle with conditional entries waits for the groups before it and is written alone. Should a
 * group's transaction fail, its Bundles are written again one by one, so only the bad one fails.
 * A Bundle that fails is reported by `onError` (or rethrown without it) and the others go on.
 */
export async function importBundles(
  repo: FhirRepository,
  bundles: Iterable<BundleSource>,
  stats?: ImportStats,
  onError?: (file: string, error: Error) => void,
  onWritten?: (file: string) => void,
  options: { groupRows?: number; worker?: boolean } = {},
): Promise<ImportStats> {
  const s = stats ?? { resources: 0, errors: [], files: 0, seconds: 0 };
  const started = Date.now();
  const groupRows = options.groupRows ?? DEFAULT_BATCH[repo.db.kind];
  const fail = (file: string, e: Error) => {
    if (!onError) throw e;
    onError(file, e);
  };
  const writeAlone = (prepared: PreparedBundle) =>
    writeBundle(repo, prepared, s).then(
      () => onWritten?.(prepared.file),
      (e: Error) => fail(prepared.file, e),
    );
  const writeGroup = async (group: PreparedBundle[]): Promise<void> => {
    if (group.length === 1) return writeAlone(group[0]!);
    try {
      await repo.db.transaction((client) =>
        writeBulkRows(
          repo.db,
          client,
          group.flatMap((g) => g.rows!),
        ),
      );
    } catch {
      for (const prepared of group) await writeAlone(prepared);
      return;
    }
    for (const prepared of group) {
      s.resources += prepared.rows!.length;
      onWritten?.(prepared.file);
    }
  };

  const writes = new SerialWrites();
  let group: PreparedBundle[] = [];
  let groupSize = 0;
  let groupKeys = new Set<string>();
  const flush = async () => {
    if (!group.length) return;
    const g = group;
    group = [];
    groupSize = 0;
    groupKeys = new Set();
    await writes.run(() => writeGroup(g));
  };

  // Bundles given as text are parsed and prepared on the worker thread, a few ahead, while this
  // thread writes (and, on PGlite, runs the database).
  let useWorker = options.worker !== false && preparePool.available();
  const prepareSource = async (source: BundleSource): Promise<PreparedBundle> => {
    if (source.text !== undefined && useWorker) {
      let chunk: PreparedChunk | undefined;
      try {
        chunk = await preparePool.prepareBundle(source.text, source.file, checkedResourceTypes());
      } catch {
        useWorker = false; // the worker died: prepare here from now on
      }
      if (chunk?.error !== undefined) throw new HttpError(400, chunk.error);
      if (chunk && !chunk.fallback) {
        // Entries whose type has resource checks registered only here (a ConceptMap and the mapping
        // rules): validated on this thread; one refused refuses its Bundle, naming the entry.
        const lastUpdated = new Date().toISOString();
        for (const d of chunk.deferred ?? []) {
          try {
            chunk.rows.push(prepareBulkRow(validateFhirResource(JSON.parse(d.json)), lastUpdated));
          } catch (e) {
            const message = `${source.file}: Bundle.entry[${d.entry}]: ${(e as Error).message}`;
            throw e instanceof HttpError ? new HttpError(e.status, message, e.issueCode, e.issues) : new HttpError(400, message);
          }
        }
        return { file: source.file, pending: [], ids: new Map(), rows: chunk.rows };
      }
    }
    return source.bundle
      ? prepareBundle(source.bundle, source.file, 32)
      : prepareBundle(parseBundleText(source.text!), source.file, 32, true);
  };
  const sources = bundles[Symbol.iterator]();
  const ahead: { file: string; prepared: Promise<PreparedBundle> }[] = [];
  const lookAhead = () => {
    while (ahead.length < (useWorker ? LOOK_AHEAD : 1)) {
      const next = sources.next();
      if (next.done) return;
      const prepared = prepareSource(next.value);
      prepared.catch(() => undefined);
      ahead.push({ file: next.value.file, prepared });
    }
  };
  lookAhead();
  while (ahead.length) {
    const { file, prepared: preparing } = ahead.shift()!;
    lookAhead();
    let prepared: PreparedBundle;
    try {
      prepared = await preparing;
    } catch (e) {
      if (!onError) {
        await writes.drain();
        throw e;
      }
      onError(file, e as Error);
      continue;
    }
    if (!prepared.rows) {
      // Conditional entries are resolved against what the Bundles before it stored.
      await flush();
      await writes.run(() => writeAlone(prepared));
      continue;
    }
    const keys = prepared.rows.map((r) => `${r.def.type}/${r.id}`);
    if (keys.some((k) => groupKeys.has(k))) await flush();
    group.push(prepared);
    groupSize += prepared.rows.length;
    for (const k of keys) groupKeys.add(k);
    if (groupSize >= groupRows) await flush();
  }
  await flush();
  await writes.drain();
  s.seconds += (Date.now() - started) / 1000;
  return s;
}

/**
 * Replaces references by the ids the Bundle gave them, in a copy or, `inPlace`, in the value
 * itself. Conditional references not known yet are collected in `unresolved` and left as they
 * are; an unknown urn:uuid is an error.
 */
function rewriteReferences<T>(value: T, ids: Map<string, string>, unresolved: Set<string>, inPlace = false): T {
  if (Array.isArray(value)) {
    const out = inPlace ? value : new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = rewriteReferences(value[i], ids, unresolved, inPlace);
    return out as T;
  }
  if (value && typeof value === 'object') {
    const out = (inPlace ? value : {}) as Record<string, unknown>;
    for (const k in value) {
      const v = (value as Record<string, unknown>)[k];
      if (k === 'reference' && typeof v === 'string') {
        const known = ids.get(v);
        if (known) out[k] = known;
        else if (CONDITIONAL_REFERENCE.test(v)) {
          unresolved.add(v);
          out[k] = v;
        } else if (v.startsWith('urn:uuid:')) throw new HttpError(400, `reference '${v}' matches no entry of the Bundle`);
        else out[k] = v;
      } else out[k] = typeof v === 'object' && v !== null ? rewriteReferences(v, ids, unresolved, inPlace) : v;
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
  const files = listImportFiles(target);
  // Files in their listed order; a run of Bundle files is pipelined: each is read and prepared
  // while the previous one is written (writes stay in order, so references resolve as before).
  for (let i = 0; i < files.length;) {
    const file = files[i]!;
    if (file.endsWith('.ndjson')) {
      stats.files++;
      await importNdjson(repo, fs.createReadStream(file), file, options, stats);
      i++;
      continue;
    }
    let end = i;
    while (end < files.length && !files[end]!.endsWith('.ndjson')) end++;
    const run = files.slice(i, end);
    i = end;
    function* bundles(): Generator<BundleSource> {
      for (const f of run) {
        stats.files++;
        // Parsed (and its malformed JSON or non-Bundle reported) where it is prepared.
        yield { text: fs.readFileSync(f, 'utf8'), file: f };
      }
    }
    await importBundles(
      repo,
      bundles(),
      stats,
      (f, e) => stats.errors.push({ file: f, message: e.message }),
      (f) => options.onProgress?.({ resources: stats.resources, bytes: 0, file: f }),
      { worker: options.worker },
    );
  }
  return stats;
}
