/**
 * Output files. Every file is written as <name>.partial, hashed (SHA-256) and counted as it
 * streams, and renamed only when the whole run has succeeded; manifest.json comes last. An
 * interrupted run therefore leaves only *.partial files and no manifest.
 *
 * The main thread encodes records straight into 1 MB chunks of a SharedArrayBuffer and tells a
 * writer thread which chunk to write; the writer hashes and writes it and hands the chunk back.
 * Nothing is copied between threads, and the simulation waits when chunks run short, so memory
 * stays bounded.
 */
import { Worker } from 'node:worker_threads';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ManifestFile {
  path: string;
  /** fhir-ndjson | fhir-bundle | hl7v2 | csv | report-cards | json */
  type: string;
  resourceType?: string;
  facility?: string;
  records: number;
  bytes: number;
  sha256: string;
}

/** Bytes buffered per file before they are handed to the writer thread. */
const CHUNK_BYTES = 1 << 20;
/** Chunks shared with the writer thread. */
const POOL_CHUNKS = 96;
/** The simulation waits at the end of a day while fewer chunks than this are free. */
const LOW_WATER = 48;

/** The writer thread: plain JavaScript so that it runs the same under node, tsx and vitest. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pool = Buffer.from(workerData.pool);
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const files = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'open') {
      fs.mkdirSync(path.dirname(m.partial), { recursive: true });
      files.set(m.id, { fd: fs.openSync(m.partial, 'w'), hash: crypto.createHash('sha256'), bytes: 0, partial: m.partial, final: m.final });
    } else if (m.op === 'write') {
      const f = files.get(m.id);
      const buf = m.chunk >= 0 ? pool.subarray(m.chunk * workerData.chunk, m.chunk * workerData.chunk + m.len) : Buffer.from(m.buf, 0, m.len);
      f.hash.update(buf);
      let off = 0;
      while (off < buf.length) off += fs.writeSync(f.fd, buf, off);
      f.bytes += buf.length;
      parentPort.postMessage({ op: 'ack', chunk: m.chunk });
    } else if (m.op === 'close') {
      const f = files.get(m.id);
      fs.closeSync(f.fd);
      files.delete(m.id);
      if (m.rename) fs.renameSync(f.partial, f.final);
      parentPort.postMessage({ op: 'closed', id: m.id, bytes: f.bytes, sha256: f.hash.digest('hex') });
    }
  } catch (e) {
    parentPort.postMessage({ op: 'error', message: String(e && e.message || e) });
  }
});
`;

class OutputFile {
  /** Current chunk (index into the pool, or -1 for a private buffer) and its buffer. */
  chunk = -1;
  buf: Buffer | null = null;
  used = 0;
  records = 0;
  constructor(
    readonly id: number,
    readonly path: string,
    readonly type: string,
    readonly meta: { resourceType?: string; facility?: string },
  ) {}
}

export class OutputDir {
  private readonly files = new Map<string, OutputFile>();
  private readonly worker: Worker;
  private readonly pool: Buffer;
  private readonly free: number[] = [];
  private error: Error | null = null;
  private waiters: (() => void)[] = [];
  private closed = new Map<number, (r: { bytes: number; sha256: string }) => void>();
  private totalRecords = 0;

  constructor(readonly root: string) {
    const shared = new SharedArrayBuffer(CHUNK_BYTES * POOL_CHUNKS);
    this.pool = Buffer.from(shared);
    for (let c = POOL_CHUNKS - 1; c >= 0; c--) this.free.push(c);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pool: shared, chunk: CHUNK_BYTES } });
    this.worker.on('message', (m: { op: string; id?: number; chunk?: number; bytes?: number; sha256?: string; message?: string }) => {
      if (m.op === 'ack') {
        if (m.chunk! >= 0) this.free.push(m.chunk!);
        this.wake();
      } else if (m.op === 'closed') {
        this.closed.get(m.id!)?.({ bytes: m.bytes!, sha256: m.sha256! });
        this.closed.delete(m.id!);
      } else if (m.op === 'error') {
        this.error ??= new Error(`writing output: ${m.message}`);
        this.wake();
        for (const [, r] of this.closed) r({ bytes: -1, sha256: '' });
      }
    });
    this.worker.on('error', (e) => {
      this.error ??= e;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Removes the manifest of an earlier run (and the files it listed) so nothing stale looks complete. */
  async prepare(): Promise<void> {
    const manifestPath = join(this.root, 'manifest.json');
    try {
      const old = JSON.parse(await readFile(manifestPath, 'utf8')) as { files?: { path?: unknown }[] };
      await rm(manifestPath, { force: true });
      for (const f of old.files ?? []) {
        if (typeof f.path === 'string' && !f.path.includes('..')) await rm(join(this.root, f.path), { force: true });
      }
    } catch {
      // no earlier manifest
    }
  }

  private file(path: string, type: string, meta: { resourceType?: string; facility?: string }): OutputFile {
    let f = this.files.get(path);
    if (!f) {
      f = new OutputFile(this.files.size, path, type, meta);
      this.files.set(path, f);
      const full = join(this.root, path);
      this.worker.postMessage({ op: 'open', id: f.id, partial: full + '.partial', final: full });
    }
    return f;
  }

  /** Appends text holding `records` records to a file (opened on first use). */
  write(path: string, type: string, text: string, records = 1, meta: { resourceType?: string; facility?: string } = {}): void {
    const f = this.file(path, type, meta);
    f.records += records;
    this.totalRecords += records;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; count exactly only when it might not fit.
    if (f.buf && f.used + text.length * 3 > CHUNK_BYTES) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (f.used + bytes > CHUNK_BYTES) this.flush(f);
    }
    if (!f.buf) {
      if (text.length * 3 > CHUNK_BYTES && Buffer.byteLength(text, 'utf8') > CHUNK_BYTES) {
        const big = Buffer.from(text, 'utf8');
        this.post(f, -1, big, big.length);
        return;
      }
      // A chunk of the shared pool, or (if the writer is far behind) a private buffer.
      f.chunk = this.free.pop() ?? -1;
      f.buf = f.chunk >= 0 ? this.pool.subarray(f.chunk * CHUNK_BYTES, (f.chunk + 1) * CHUNK_BYTES) : Buffer.allocUnsafe(CHUNK_BYTES);
      f.used = 0;
    }
    f.used += f.buf.write(text, f.used, 'utf8');
  }

  private flush(f: OutputFile): void {
    if (!f.buf || f.used === 0) return;
    const { chunk, buf, used } = f;
    f.buf = null;
    f.chunk = -1;
    f.used = 0;
    this.post(f, chunk, buf, used);
  }

  /** Hands bytes to the writer thread: a pool chunk by number, a private buffer by copy. */
  private post(f: OutputFile, chunk: number, buf: Buffer, len: number): void {
    if (chunk >= 0) this.worker.postMessage({ op: 'write', id: f.id, chunk, len });
    else this.worker.postMessage({ op: 'write', id: f.id, chunk: -1, buf: new Uint8Array(buf.buffer, buf.byteOffset, len), len });
  }

  /** Waits while too few chunks are free, i.e. too much is waiting to be written (bounded memory). */
  async drain(): Promise<void> {
    // Files that are no longer written to (daily bundles) would hold their chunk: send them all.
    if (this.free.length < LOW_WATER) for (const f of this.files.values()) this.flush(f);
    while (this.free.length < LOW_WATER && !this.error) await new Promise<void>((r) => this.waiters.push(r));
    if (this.error) throw this.error;
  }

  get recordCount(): number {
    return this.totalRecords;
  }

  /** Closes and renames every file (listed by path), then writes manifest.json last. */
  async finish(manifestHead: Record<string, unknown>): Promise<{ files: ManifestFile[] }> {
    const paths = [...this.files.keys()].sort();
    const results = new Map<string, { bytes: number; sha256: string }>();
    await Promise.all(
      paths.map((p) => {
        const f = this.files.get(p)!;
        this.flush(f);
        return new Promise<void>((resolve) => {
          this.closed.set(f.id, (r) => {
            results.set(p, r);
            resolve();
          });
          this.worker.postMessage({ op: 'close', id: f.id, rename: true });
        });
      }),
    );
    await this.worker.terminate();
    if (this.error) throw this.error;
    const files: ManifestFile[] = paths.map((p) => {
      const f = this.files.get(p)!;
      const r = results.get(p)!;
      return { path: p, type: f.type, ...f.meta, records: f.records, bytes: r.bytes, sha256: r.sha256 };
    });
    const manifest = { ...manifestHead, files };
    const text = JSON.stringify(manifest, null, 2) + '\n';
    await writeFile(join(this.root, 'manifest.json.partial'), text);
    await rename(join(this.root, 'manifest.json.partial'), join(this.root, 'manifest.json'));
    return manifest;
  }

  /** After an interruption: write what is buffered and leave every file as .partial. */
  async abandon(): Promise<void> {
    const all = [...this.files.values()].map((f) => {
      this.flush(f);
      return new Promise<void>((resolve) => {
        this.closed.set(f.id, () => resolve());
        this.worker.postMessage({ op: 'close', id: f.id, rename: false });
      });
    });
    await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 5000))]);
    await this.worker.terminate();
  }
}
