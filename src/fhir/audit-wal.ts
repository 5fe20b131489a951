/**
 * Write-ahead file for read audit (issues #15 and #2). A read's AuditEvent must survive a crash
 * once the read is answered; committing it to the database first costs PGlite (one connection,
 * on the main thread) a transaction per read. Instead the built event is appended to a file in
 * the data directory and flushed with fdatasync before the response leaves; a background drain
 * then stores the events in the database (and so in the audit chain, which is still sequenced
 * there, audit-chain.ts) in batches, and drops the file once what it holds is committed. On
 * start, before serving, whatever the file holds that the database does not is replayed.
 *
 * Files: `<dir>/reads-<n>.wal`, one JSON line per event, `{"h":"<check>","e":<AuditEvent>}`,
 * where the check is the first 16 hex digits of the SHA-256 of the event's JSON text as it
 * stands in the line. Appends are grouped: while one write + fdatasync is in flight, the events
 * that arrive wait and go together into the next, so one flush covers many concurrent reads.
 *
 * Crash safety:
 * - An event is acknowledged (its `append` promise resolves, and only then its read's response
 *   may leave) after the fdatasync that covers its line has returned. Everything written before
 *   that fdatasync is on disk intact.
 * - A crash can leave a torn last line (a write cut by SIGKILL, or after power loss a tail in
 *   any state: partial, zero-filled, stale blocks). All of that lies after the last completed
 *   fdatasync, so none of its events was acknowledged and no response was sent for them:
 *   skipping a line whose check fails loses no answered read. (A line there that is whole and
 *   checks is replayed: an event for a read that was served but perhaps never answered, as the
 *   database path would also have stored.)
 * - After a restart the old files are replayed and removed; new appends always go to a new
 *   file, never after a possibly torn tail.
 * - Replay is idempotent: the WAL entry's id is the AuditEvent's id, and events already in the
 *   chain (`audit_chain.event_id` is unique) are skipped, so a crash between the drain's commit
 *   and the file's removal (or during replay itself) stores nothing twice.
 * - A file is removed (or truncated) only after the transaction holding all its events has
 *   committed. On PostgreSQL the drain commits synchronously (never `synchronous_commit = off`)
 *   so dropping the file never leans on a commit PostgreSQL could still lose.
 *
 * Bounded: when the files hold `maxBytes` (default 64 MiB) the drain has fallen behind and
 * `append` returns undefined; the caller stores the event in the database before answering, as
 * without the file. One process per directory: a lock file names the process using it.
 *
 * On PGlite (which runs with fsync off) the file guards against the process dying (kill -9,
 * a crash), as PGlite's own commits do; against power loss the store is as safe as PGlite. So
 * there the server acknowledges a line once written (`syncToDisk` false): the page cache keeps
 * it when the process dies, and no read waits for the disk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

export interface AuditWalOptions {
  /** Directory of the files (created); one process per directory. */
  dir: string;
  /** Largest size of the files together; beyond it reads are stored in the database directly. */
  maxBytes: number;
  /** A file past this size takes no more appends; a new one starts, the old goes once drained. */
  segmentBytes: number;
  /** Longest an acknowledged event waits for the drain (ms). */
  drainMs: number;
  /** The drain runs this long after the last append when no more came (ms). */
  drainIdleMs: number;
  /** Events per drain transaction; a full batch waiting is drained at once. */
  drainBatch: number;
  /**
   * fdatasync each group before acknowledging it (true), or acknowledge once the operating
   * system holds the write (false): a line in the page cache survives the process dying (kill -9,
   * a crash), not the machine losing power. False is the server's choice on PGlite, which runs
   * with fsync off: its own commits make the same promise, and an fdatasync on a disk busy with
   * the store's writes (a full recompute) took up to 60 ms, which every read then waited for.
   */
  syncToDisk: boolean;
}

export const DEFAULT_AUDIT_WAL_OPTIONS: Omit<AuditWalOptions, 'dir'> = {
  maxBytes: 64 * 1024 * 1024,
  segmentBytes: 4 * 1024 * 1024,
  // A drain holds PGlite's one connection (and its thread) for its batch: small, frequent
  // batches keep the read that meets one from waiting long.
  drainMs: 500,
  drainIdleMs: 100,
  drainBatch: 250,
  syncToDisk: true,
};

/** Where the drain and the replay store events. */
export interface AuditWalStore {
  /** Stores events and appends them to the chain, in one transaction, committed durably. */
  commit(events: Resource[]): Promise<void>;
  /** The ids among these that are stored already. */
  stored(ids: string[]): Promise<Set<string>>;
}

export interface ReplayReport {
  files: number;
  /** Whole lines read (distinct events). */
  entries: number;
  /** Events that were not in the database and now are. */
  replayed: number;
  /** Lines skipped: torn or damaged (see the crash-safety notes above). */
  torn: number;
}

interface Segment {
  no: number;
  file: string;
  fh: fsp.FileHandle;
  bytes: number;
  /** Events written (or being written) to it and not yet committed to the database. */
  live: number;
  /** Takes no more appends (full, or failed). */
  sealed: boolean;
}

interface Waiting {
  event: Resource;
  line: string;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Ready {
  seq: number;
  event: Resource;
  seg: Segment;
  /** When it was acknowledged (Date.now()). */
  at: number;
}

const FILE = /^reads-(\d+)\.wal$/;
const fileName = (no: number) => `reads-${String(no).padStart(12, '0')}.wal`;
const check = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, 16);
const PREFIX_LENGTH = '{"h":"0123456789abcdef","e":'.length;

/** Whether a directory holds write-ahead files (what a run left). */
export function hasWalFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => FILE.test(f));
  } catch {
    return false;
  }
}

/** One line of the file for an event. */
export function walLine(event: Resource): string {
  const json = JSON.stringify(event);
  return `{"h":"${check(json)}","e":${json}}\n`;
}

/** The event of a line, or undefined when the line is torn or damaged. */
export function parseWalLine(line: string): Resource | undefined {
  if (line.length <= PREFIX_LENGTH + 1 || !line.startsWith('{"h":"') || !line.endsWith('}')) return undefined;
  const h = line.slice(6, 22);
  if (line.slice(22, PREFIX_LENGTH) !== '","e":') return undefined;
  const json = line.slice(PREFIX_LENGTH, -1);
  if (check(json) !== h) return undefined;
  try {
    const event = JSON.parse(json) as Resource;
    return event && typeof event === 'object' && typeof event.id === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync of a directory, so a new file's name is on disk with its data (not possible everywhere). */
async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open a directory; its file system keeps names with their data.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export class AuditWal {
  readonly options: AuditWalOptions;
  private segments: Segment[] = [];
  private active: Segment | undefined;
  private lastNo = 0;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  /** Appends waiting for the next write. */
  private waiting: Waiting[] = [];
  private waitingBytes = 0;
  /** The writer (a write + fdatasync, or removing drained files) is busy: one thing at a time. */
  private writing = false;
  /** Drained files to remove or empty when the writer is next free. */
  private retireDue = false;
  /** Removal passes started and finished, and who waits for one. */
  private retiresStarted = 0;
  private retiresDone = 0;
  private retireWaiters: { upTo: number; resolve: () => void }[] = [];
  /** Appends taken and appends settled (written or failed), and who waits for a count. */
  private appendsTaken = 0;
  private appendsSettled = 0;
  private settledWaiters: { upTo: number; resolve: () => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Bytes in the files now (written, not yet removed). */
  private diskBytes = 0;
  /** Acknowledged events not yet committed, in order. */
  private ready: Ready[] = [];
  private seq = 0;
  private committedSeq = 0;
  private drainChain: Promise<void> = Promise.resolve();
  private drainTimer: NodeJS.Timeout | undefined;
  private backoffUntil = 0;
  private lastAppendAt = 0;
  private failedDrains = 0;
  /** After a failed commit, the next one first leaves out what is stored (the commit may have landed). */
  private recheck = false;
  readonly stats = { appended: 0, writes: 0, drained: 0, drains: 0, overflow: 0, writeFailures: 0, drainFailures: 0 };

  constructor(
    options: Partial<AuditWalOptions> & { dir: string },
    private readonly store: AuditWalStore,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {
    this.options = { ...DEFAULT_AUDIT_WAL_OPTIONS, ...options, dir: path.resolve(options.dir) };
  }

  /** Takes the directory, replays what a previous run left, and starts taking appends. */
  async open(): Promise<ReplayReport> {
    if (this.state !== 'new') throw new Error('the audit write-ahead file was opened already');
    fs.mkdirSync(this.options.dir, { recursive: true });
    this.lock();
    try {
      const report = await this.replay();
      this.state = 'open';
      return report;
    } catch (err) {
      this.unlock();
      this.state = 'closed';
      throw err;
    }
  }

  /**
   * One process per directory: a lock file holds the pid. A lock whose process is gone, older
   * than the machine's boot, or of this very process (a start in it that failed part way, or a
   * restarted container given the same pid) is taken over.
   */
  private lock(): void {
    const file = path.join(this.options.dir, 'lock');
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      const sinceBoot = fs.statSync(file).mtimeMs >= Date.now() - os.uptime() * 1000;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && sinceBoot && alive(pid))
        throw new Error(
          `the audit write-ahead file in ${this.options.dir} is in use by process ${pid}: one server per data directory (if that process is not Yifang, remove ${file})`,
        );
      fs.rmSync(file, { force: true });
    }
  }

  private unlock(): void {
    const file = path.join(this.options.dir, 'lock');
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // gone already
    }
  }

  /** Stores what earlier runs left in the files and the database lacks, then removes the files. */
  private async replay(): Promise<ReplayReport> {
    const dir = this.options.dir;
    const files = fs
      .readdirSync(dir)
      .map((f) => ({ f, no: Number(FILE.exec(f)?.[1]) }))
      .filter((x) => Number.isInteger(x.no) && x.no > 0)
      .sort((a, b) => a.no - b.no);
    const report: ReplayReport = { files: files.length, entries: 0, replayed: 0, torn: 0 };
    const seen = new Set<string>();
    for (const { f, no } of files) {
      this.lastNo = Math.max(this.lastNo, no);
      const events: Resource[] = [];
      for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        if (!line) continue;
        // A line whose check fails is torn or damaged. It lies past the last completed fdatasync
        // (see the notes at the top): no response waited for it, so skipping it loses no answered read.
        const event = parseWalLine(line);
        if (!event) {
          report.torn++;
          continue;
        }
        if (seen.has(event.id!)) continue;
        seen.add(event.id!);
        events.push(event);
      }
      report.entries += events.length;
      for (let i = 0; i < events.length; i += this.options.drainBatch) {
        const chunk = events.slice(i, i + this.options.drainBatch);
        const stored = await this.store.stored(chunk.map((e) => e.id!));
        const missing = chunk.filter((e) => !stored.has(e.id!));
        if (missing.length) await this.store.commit(missing);
        report.replayed += missing.length;
      }
    }
    // Only now, with everything committed: a crash before this replays again (idempotent).
    for (const { f } of files) fs.rmSync(path.join(dir, f), { force: true });
    if (report.torn) this.log(`[audit] write-ahead file: skipped ${report.torn} torn line(s) left by a crash (never acknowledged)`);
    return report;
  }

  /**
   * Appends an event. The promise resolves once its line is on disk (fdatasync) and rejects when
   * the write failed (the caller then stores the event another way). Undefined when the files
   * are full (the drain is behind) or the file is not open: the caller stores the event itself.
   */
  append(event: Resource): Promise<void> | undefined {
    if (this.state !== 'open') return undefined;
    const line = walLine(event);
    const bytes = Buffer.byteLength(line);
    if (this.diskBytes + this.waitingBytes + bytes > this.options.maxBytes) {
      this.stats.overflow++;
      return undefined;
    }
    this.waitingBytes += bytes;
    this.appendsTaken++;
    const p = new Promise<void>((resolve, reject) => this.waiting.push({ event, line, bytes, resolve, reject }));
    this.kickWriter();
    return p;
  }

  /** Gives the writer its next job: a group of appends first, else removing drained files. */
  private kickWriter(): void {
    if (this.writing) return;
    if (this.waiting.length) {
      this.writing = true;
      // One turn of the event loop first, so reads answered in this turn share the flush.
      setImmediate(() => void this.writeGroup());
    } else if (this.retireDue) {
      this.writing = true;
      void this.retire()
        .catch((err: unknown) => this.log(`[audit] write-ahead file: could not remove a drained file: ${(err as Error).message}`))
        .finally(() => {
          this.writing = false;
          this.kickWriter();
        });
    } else for (const fn of this.idleWaiters.splice(0)) fn();
  }

  private async writeGroup(): Promise<void> {
    const group = this.waiting.splice(0);
    const buf = Buffer.from(group.map((w) => w.line).join(''));
    this.waitingBytes -= buf.length;
    let seg: Segment | undefined;
    try {
      seg = await this.segmentFor();
      seg.live += group.length;
      seg.bytes += buf.length;
      this.diskBytes += buf.length;
      for (let off = 0; off < buf.length;) off += (await seg.fh.write(buf, off, buf.length - off)).bytesWritten;
      if (this.options.syncToDisk) await seg.fh.datasync();
      this.stats.writes++;
      this.stats.appended += group.length;
      const at = Date.now();
      this.lastAppendAt = at;
      for (const w of group) this.ready.push({ seq: ++this.seq, event: w.event, seg, at });
      for (const w of group) w.resolve();
      this.scheduleDrain();
    } catch (err) {
      this.stats.writeFailures++;
      // After a failed write or fdatasync the file's state is unknown: it takes no more appends.
      // The caller stores these events directly; a line of theirs that did reach the file is
      // skipped by a replay, being stored already.
      if (seg) {
        seg.live -= group.length;
        seg.sealed = true;
        if (this.active === seg) this.active = undefined;
      }
      for (const w of group) w.reject(err);
      this.log(`[audit] write-ahead file: a write failed (${(err as Error).message}); those reads are stored directly`);
    }
    this.appendsSettled += group.length;
    for (const w of this.settledWaiters.filter((x) => x.upTo <= this.appendsSettled)) {
      this.settledWaiters.splice(this.settledWaiters.indexOf(w), 1);
      w.resolve();
    }
    try {
      if (this.retireDue) await this.retire();
    } catch (err) {
      this.log(`[audit] write-ahead file: could not remove a drained file: ${(err as Error).message}`);
    }
    this.writing = false;
    this.kickWriter();
  }

  /** The file appends go to: the active one, or a new one when it is full or there is none. */
  private async segmentFor(): Promise<Segment> {
    const current = this.active;
    if (current && current.bytes < this.options.segmentBytes) return current;
    if (current) {
      current.sealed = true;
      this.active = undefined;
      await this.retire();
    }
    const no = ++this.lastNo;
    const file = path.join(this.options.dir, fileName(no));
    // 'ax': always a new file, never an append after a tail a crash may have torn.
    const fh = await fsp.open(file, 'ax');
    if (this.options.syncToDisk) await syncDir(this.options.dir);
    const seg: Segment = { no, file, fh, bytes: 0, live: 0, sealed: false };
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  /**
   * Removes sealed files whose events are all committed, and empties the active file when all
   * of its are. Runs only as the writer's job: no write is in flight meanwhile.
   */
  private async retire(): Promise<void> {
    this.retireDue = false;
    const pass = ++this.retiresStarted;
    try {
      await this.retireDrained();
    } finally {
      this.retiresDone = pass;
      for (const w of this.retireWaiters.filter((x) => x.upTo <= pass)) {
        this.retireWaiters.splice(this.retireWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  private async retireDrained(): Promise<void> {
    for (const seg of [...this.segments]) {
      if (seg.live > 0) continue;
      if (seg.sealed) {
        this.segments.splice(this.segments.indexOf(seg), 1);
        this.diskBytes -= seg.bytes;
        await seg.fh.close().catch(() => undefined);
        await fsp.rm(seg.file, { force: true });
      } else if (seg === this.active && seg.bytes > 0) {
        // Not made durable on purpose: should the old lines come back after a crash, they are
        // stored already and the replay skips them.
        await seg.fh.truncate(0);
        this.diskBytes -= seg.bytes;
        seg.bytes = 0;
      }
    }
  }

  private scheduleDrain(): void {
    if (this.ready.length >= this.options.drainBatch && Date.now() >= this.backoffUntil) void this.drainReady().catch(() => undefined);
    else this.armDrain();
  }

  /**
   * The drain runs when appends have paused for `drainIdleMs`, when the oldest waiting event is
   * `drainMs` old, or when a full batch waits (after a failure, not before its back-off ends).
   */
  private armDrain(): void {
    if (this.drainTimer || !this.ready.length || this.state !== 'open') return;
    this.drainTimer = setTimeout(
      () => {
        this.drainTimer = undefined;
        if (this.ready.length && Date.now() >= this.drainDue()) void this.drainReady().catch(() => undefined);
        else this.armDrain();
      },
      Math.max(0, this.drainDue() - Date.now()),
    );
    this.drainTimer.unref();
  }

  private drainDue(): number {
    const oldest = this.ready[0]?.at ?? Date.now();
    return Math.max(this.backoffUntil, Math.min(this.lastAppendAt + this.options.drainIdleMs, oldest + this.options.drainMs));
  }

  /**
   * Commits every event acknowledged so far (in batches of `drainBatch`): what readers of the
   * audit trail wait for. Rejects when the database refused; the events stay in the file and
   * are tried again.
   */
  drainReady(): Promise<void> {
    const target = this.seq;
    const run = this.drainChain.then(() => this.drainTo(target));
    this.drainChain = run.catch(() => undefined);
    return run;
  }

  private async drainTo(target: number): Promise<void> {
    if (this.committedSeq >= target) return;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    try {
      while (this.committedSeq < target && this.ready.length) {
        const batch = this.ready.slice(0, this.options.drainBatch);
        let events = batch.map((r) => r.event);
        if (this.recheck) {
          const stored = await this.store.stored(events.map((e) => e.id!));
          events = events.filter((e) => !stored.has(e.id!));
        }
        try {
          if (events.length) await this.store.commit(events);
        } catch (err) {
          this.recheck = true;
          throw err;
        }
        this.recheck = false;
        this.failedDrains = 0;
        this.backoffUntil = 0;
        // Only the drain takes from the front of `ready` (appends push at its back).
        this.ready.splice(0, batch.length);
        this.committedSeq = batch[batch.length - 1]!.seq;
        for (const r of batch) r.seg.live--;
        this.stats.drains++;
        this.stats.drained += batch.length;
        this.retireDue = true;
        this.kickWriter();
      }
    } catch (err) {
      this.stats.drainFailures++;
      this.failedDrains++;
      if (this.failedDrains === 1 || this.failedDrains % 30 === 0)
        this.log(`[audit] write-ahead file: storing read events failed, will retry: ${(err as Error).message}`);
      // Back off (1 s doubling to 30 s); meanwhile reads are still acknowledged from the file, up to maxBytes.
      this.backoffUntil = Date.now() + Math.min(30_000, 1000 * 2 ** Math.min(5, this.failedDrains - 1));
      throw err;
    } finally {
      this.armDrain();
    }
  }

  /**
   * Waits for the appends taken so far to be written, commits everything acknowledged, and waits
   * for the drained files to be removed.
   */
  async flush(): Promise<void> {
    const upTo = this.appendsTaken;
    if (this.appendsSettled < upTo) await new Promise<void>((resolve) => this.settledWaiters.push({ upTo, resolve }));
    await this.drainReady();
    // A pass due (or one running since the drain asked for it) is what removes the files.
    const pass = this.retireDue ? this.retiresStarted + 1 : this.retiresStarted;
    if (this.retiresDone < pass) await new Promise<void>((resolve) => this.retireWaiters.push({ upTo: pass, resolve }));
  }

  /** Bytes the files hold now. */
  get bytesOnDisk(): number {
    return this.diskBytes;
  }

  /** Events acknowledged and not yet committed. */
  get backlog(): number {
    return this.ready.length;
  }

  /**
   * Stops taking appends, commits what it can and removes the drained files. What could not be
   * committed stays in its file and is replayed on the next start.
   */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'closed';
      return;
    }
    this.state = 'closing';
    try {
      await this.flush();
    } catch (err) {
      this.log(`[audit] write-ahead file: ${this.ready.length} read event(s) left for the next start: ${(err as Error).message}`);
    }
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    while (this.writing) await new Promise<void>((r) => this.idleWaiters.push(r));
    for (const seg of this.segments) if (seg.live === 0) seg.sealed = true;
    await this.retire();
    for (const seg of this.segments) await seg.fh.close().catch(() => undefined);
    this.segments = [];
    this.active = undefined;
    this.state = 'closed';
    this.unlock();
  }
}
