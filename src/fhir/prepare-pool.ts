/**
 * One worker thread that prepares NDJSON chunks and Bundle files for the bulk path (see prepare-worker.ts),
 * started on the first import big enough to need it and kept for the next. It does not keep the
 * process alive; should it fail to start or die, imports prepare on the main thread instead.
 */
import { Worker } from 'node:worker_threads';
import type { BulkRow, CopyText } from './bulk-write.js';
import { getTypeDef } from './definitions.js';

export interface PrepareRequest {
  id: number;
  lines: string[];
  lineNumbers: number[];
  lastUpdated: string;
  /** Resource types with checks registered only on the main thread: lines of these types are left to it. */
  mainThreadTypes: string[];
}

/** A Bundle file's text, parsed and prepared on the worker when it needs no lookups. */
export interface BundleRequest {
  id: number;
  text: string;
  file: string;
  /** As for PrepareRequest: entries of these types come back as JSON for the main thread to check and encode. */
  mainThreadTypes: string[];
}

export interface PrepareReply {
  id: number;
  /** Bundle: it has conditional entries; prepare it on the main thread. */
  fallback?: boolean;
  /** Bundle: why it was rejected (malformed JSON, an unknown urn:uuid, an invalid resource). */
  error?: string;
  buffer: ArrayBuffer;
  /** type, id, then offset and length of the type line, history line and prefix lines (length -1: none). */
  rows: [string, string, number, number, number, number, number, number][];
  errors: { line: number; message: string }[];
  /** NDJSON: indexes (in the request's lines) of the lines left to the main thread. */
  deferred?: number[];
  /** Bundle: entries left to the main thread, rewritten, as JSON with the entry's index. */
  deferredEntries?: { entry: number; json: string }[];
}

export interface PreparedChunk {
  rows: BulkRow[];
  errors: { line: number; message: string }[];
  fallback?: boolean;
  error?: string;
  /** NDJSON: indexes of lines the main thread prepares (their type has checks registered there). */
  deferredLines?: number[];
  /** Bundle: entries the main thread validates and encodes. */
  deferred?: { entry: number; json: string }[];
}

/**
 * Prepared rows as a reply: every COPY line written once, UTF-8, into one buffer of its own (so it
 * is transferred, not copied), with the rows' offsets into it. Lines kept as strings are encoded
 * straight into it as each row is added, while they are still young for the collector: one copy
 * of the text, where a Buffer per line joined by Buffer.concat at the end made two, and three
 * allocations a row.
 */
export class RowPacker {
  private buffer: Buffer;
  private offset = 0;
  private readonly rows: PrepareReply['rows'] = [];

  /** `expectedBytes`: room to start with (it grows by doubling). */
  constructor(expectedBytes = 1 << 20) {
    this.buffer = Buffer.allocUnsafeSlow(Math.max(64, expectedBytes));
  }

  add(row: BulkRow): void {
    this.rows.push([row.def.type, row.id, ...this.put(row.typeLine), ...this.put(row.historyLine), ...this.put(row.prefixLines)]);
  }

  /** The reply and what to transfer with it; the packer is not used after this. */
  finish(id: number, errors: PrepareReply['errors'], extra: Partial<PrepareReply> = {}): [PrepareReply, ArrayBuffer[]] {
    // Up to half of a grown buffer is empty: hand over only what is used.
    const ab = (this.offset < this.buffer.length / 2 ? this.buffer.buffer.slice(0, this.offset) : this.buffer.buffer) as ArrayBuffer;
    return [{ id, buffer: ab, rows: this.rows, errors, ...extra }, [ab]];
  }

  private put(line: CopyText | undefined): [number, number] {
    if (!line) return [0, -1];
    const start = this.offset;
    if (typeof line === 'string') {
      // A UTF-16 code unit is at most 3 bytes of UTF-8: the exact length is needed only near the end.
      if (start + line.length * 3 > this.buffer.length) this.room(Buffer.byteLength(line));
      this.offset += this.buffer.write(line, start);
    } else {
      this.room(line.length);
      this.offset += line.copy(this.buffer, start);
    }
    return [start, this.offset - start];
  }

  private room(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const larger = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(larger, 0, 0, this.offset);
    this.buffer = larger;
  }
}

/** Rows prepared already, packed into a reply (see RowPacker). */
export function packRows(
  id: number,
  prepared: BulkRow[],
  errors: PrepareReply['errors'],
  extra: Partial<PrepareReply> = {},
): [PrepareReply, ArrayBuffer[]] {
  let bytes = 0;
  for (const row of prepared) bytes += row.typeLine.length + row.historyLine.length + (row.prefixLines?.length ?? 0);
  const packer = new RowPacker(Math.ceil(bytes * 1.1));
  for (const row of prepared) packer.add(row);
  return packer.finish(id, errors, extra);
}

type Waiter = { resolve: (c: PreparedChunk) => void; reject: (e: Error) => void };

class PreparePool {
  private worker: Worker | undefined;
  private failed = false;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();

  /** False when no worker can be had: the caller prepares inline. */
  available(): boolean {
    if (this.failed) return false;
    if (this.worker) return true;
    try {
      // A young generation larger than V8's default (16 MB semi-spaces): preparing a Bundle makes
      // megabytes of short-lived objects, and with the default most of them were copied by
      // scavenges before dying (paired runs: 7–16 % less CPU per resource with 128 MB).
      const worker = new Worker(new URL('./prepare-worker.mjs', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 128 } });
      worker.unref();
      worker.on('message', (reply: PrepareReply) => this.settle(reply));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => this.fail(new Error(`preparation worker exited with code ${code}`)));
      this.worker = worker;
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  prepare(lines: string[], lineNumbers: number[], lastUpdated: string, mainThreadTypes: string[] = []): Promise<PreparedChunk> {
    return this.send((id) => ({ id, lines, lineNumbers, lastUpdated, mainThreadTypes }) satisfies PrepareRequest);
  }

  prepareBundle(text: string, file: string, mainThreadTypes: string[] = []): Promise<PreparedChunk> {
    return this.send((id) => ({ id, text, file, mainThreadTypes }) satisfies BundleRequest);
  }

  private send(message: (id: number) => PrepareRequest | BundleRequest): Promise<PreparedChunk> {
    const id = this.nextId++;
    return new Promise<PreparedChunk>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // While a chunk is being prepared the worker must keep the process alive.
      this.worker!.ref();
      this.worker!.postMessage(message(id));
    });
  }

  private settle(reply: PrepareReply): void {
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (!this.waiting.size) this.worker?.unref();
    const view = (offset: number, length: number) => (length < 0 ? undefined : Buffer.from(reply.buffer, offset, length));
    const rows = reply.rows.map(([type, id, to, tl, ho, hl, po, pl]): BulkRow => ({
      def: getTypeDef(type)!,
      id,
      typeLine: view(to, tl)!,
      historyLine: view(ho, hl)!,
      prefixLines: view(po, pl),
    }));
    waiter?.resolve({
      rows,
      errors: reply.errors,
      fallback: reply.fallback,
      error: reply.error,
      ...(reply.deferred?.length ? { deferredLines: reply.deferred } : {}),
      ...(reply.deferredEntries?.length ? { deferred: reply.deferredEntries } : {}),
    });
  }

  private fail(e: Error): void {
    this.failed = true;
    this.worker = undefined;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

export const preparePool = new PreparePool();
