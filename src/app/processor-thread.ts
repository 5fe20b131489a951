/**
 * Where the change-log processors run. On PostgreSQL, in a worker thread of their own (the
 * processor thread) with their own connections: deriving identity links, visit counts and
 * registries then takes the machine's second core instead of competing with intake (HL7, FHIR,
 * the web app) for the event loop's one. On PGlite they run on the main thread, where the
 * embedded database lives.
 *
 * The main thread talks to the processor thread with small messages: start, stop, poke, drain and
 * lag go there; readiness, replies and processor events (e.g. "these surveillance counts changed")
 * come back. Should the thread fail to start, the processors run on the main thread instead; should
 * it die later, it is started again (processors keep their cursors in the database, so nothing is
 * missed and nothing is handled twice but for the batch in flight, which handlers tolerate).
 */
import { Worker } from 'node:worker_threads';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import type { YifangModule } from '../platform/module.js';
import { ProcessorRunner, type ProcessorControl, type ProcessorLag } from '../platform/processors.js';

export interface ProcessorThreadData {
  databaseUrl: string;
  poolSize: number;
}

export type HostRequest = { op: 'start' | 'stop' | 'poke' | 'drain' | 'lag' | 'lags' | 'close'; id?: number };
export type HostReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'reply'; id: number; value?: unknown; error?: string }
  | { type: 'event'; event: string; payload: unknown };

export interface ProcessorHubOptions {
  db: Database;
  repo: FhirRepository;
  modules: YifangModule[];
  /** Run the processors in their own thread (only possible on PostgreSQL). */
  thread: boolean;
  onEvent(event: string, payload: unknown): void;
  log(message: string): void;
}

type Pending = { op: HostRequest['op']; resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Most restarts of a processor thread that keeps dying before the processors move to the main thread. */
const MAX_RESTARTS = 5;

export class ProcessorHub implements ProcessorControl {
  private local: ProcessorRunner | undefined;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private started = false;
  private closing = false;
  /** The current thread has loaded its modules and answers requests. */
  private ready = false;
  private restarts = 0;

  constructor(private readonly options: ProcessorHubOptions) {
    if (options.thread && options.db.url) this.spawn();
    else this.runLocally();
  }

  /** Where the processors run now: 'thread' or 'main' (tests, diagnostics). */
  get where(): 'thread' | 'main' {
    return this.worker ? 'thread' : 'main';
  }

  start(): void {
    this.started = true;
    if (this.local) this.local.start();
    else this.worker?.postMessage({ op: 'start' } satisfies HostRequest);
  }

  poke(): void {
    if (this.local) this.local.poke();
    else this.worker?.postMessage({ op: 'poke' } satisfies HostRequest);
  }

  async lag(): Promise<number> {
    return (await this.request('lag')) as number;
  }

  async lags(): Promise<ProcessorLag[]> {
    // A thread that went away while closing answers nothing: no processor is behind then.
    return ((await this.request('lags')) as ProcessorLag[] | undefined) ?? [];
  }

  async drain(): Promise<void> {
    await this.request('drain');
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.request('stop');
  }

  /** Stops the processors and ends the thread with its connections. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.local) return this.local.stop();
    const worker = this.worker;
    if (!worker) return;
    // A thread still loading its modules runs no processor yet: nothing to stop, and its answer
    // would only come once the import is done (1.5-2.4 s at a server's start).
    if (this.ready) await this.request('close').catch(() => undefined);
    await worker.terminate();
    this.worker = undefined;
    // Whatever still waited on the thread has its answer: there is none to come.
    for (const p of this.pending.values()) p.resolve(undefined);
    this.pending.clear();
  }

  private runLocally(): void {
    const { db, repo, modules, onEvent } = this.options;
    this.local = new ProcessorRunner(db);
    for (const m of modules) for (const p of m.processors?.({ db, repo, emit: onEvent }) ?? []) this.local.add(p);
    if (this.started) this.local.start();
  }

  private spawn(): void {
    // One connection per processor loop (four today), one for drain and lag, one to spare.
    const data: ProcessorThreadData = { databaseUrl: this.options.db.url!, poolSize: 6 };
    const worker = new Worker(new URL('./processor-worker.mjs', import.meta.url), { workerData: data });
    this.worker = worker;
    this.ready = false;
    let ready = false;
    worker.on('message', (m: HostReply) => {
      if (m.type === 'ready') {
        ready = true;
        if (this.worker === worker) this.ready = true;
      } else if (m.type === 'failed') {
        this.options.log(`[processors] the processor thread could not start; processors run on the main thread: ${m.message}`);
        this.abandon(worker, true);
      } else if (m.type === 'event') this.options.onEvent(m.event, m.payload);
      else if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.value);
      }
    });
    worker.on('error', (e) => this.options.log(`[processors] processor thread error: ${e.stack ?? e.message}`));
    worker.on('exit', (code) => {
      if (this.worker !== worker || this.closing) return;
      this.options.log(`[processors] the processor thread exited (code ${code})`);
      this.abandon(worker, !ready || ++this.restarts > MAX_RESTARTS);
    });
  }

  /** After the thread failed: start a new one or run on the main thread, and hand over what waited on it. */
  private abandon(worker: Worker, runHere: boolean): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    if (this.closing) {
      for (const p of waiting) p.resolve(undefined);
      return;
    }
    if (runHere) this.runLocally();
    else {
      this.spawn();
      if (this.started) this.start();
    }
    // What was asked of the dead thread is asked again, of its successor or here.
    for (const p of waiting) this.request(p.op).then(p.resolve, p.reject);
  }

  /** Asks the thread and waits for its answer; with no thread, does the same here. */
  private request(op: HostRequest['op']): Promise<unknown> {
    if (this.local) {
      const local = this.local;
      if (op === 'lag') return local.lag();
      if (op === 'lags') return local.lags();
      if (op === 'drain') return local.drain();
      return op === 'close' ? Promise.resolve() : local.stop();
    }
    const worker = this.worker;
    if (!worker) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
      worker.postMessage({ op, id } satisfies HostRequest);
    });
  }
}
