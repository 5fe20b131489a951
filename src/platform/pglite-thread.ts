/**
 * PGlite on a worker thread of its own. PGlite executes SQL synchronously inside WebAssembly: on
 * the server's main thread every statement of a background job (a full recompute's reads and
 * writes, a bulk import) held up every request for as long as it ran, and the requests' own
 * JavaScript waited behind it. Here the store lives on a worker thread and the main thread keeps
 * only node-postgres: its protocol messages are serialized as usual, handed to the worker in one
 * message per burst (a parameterized query's Parse, Bind, Describe, Execute and Sync travel
 * together), executed there in order by `execProtocolRaw`, and the raw answer comes back in one
 * transferred buffer to be parsed on the main thread, as a socket's bytes would be. The session
 * is still one: statements are executed one at a time in the order they arrive, so transactions
 * and the ForegroundGate (db.ts) behave as before.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { protocol as PgliteProtocol } from '@electric-sql/pglite';

type Protocol = typeof PgliteProtocol;
type Reply = { id: number; data?: Uint8Array; heapUsed?: number; error?: Record<string, unknown> };

/** An Error rebuilt from the worker's description, PostgreSQL's fields (code, detail, …) included. */
function rebuild(e: Record<string, unknown>): Error {
  const err = new Error(String(e.message));
  Object.assign(err, e);
  return err;
}

/** The worker thread holding one PGlite store. */
export class PgliteThread {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (!this.waiting.size) this.worker.unref();
      if (m.error) w.reject(rebuild(m.error));
      else w.resolve(m);
    });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`Connection terminated: the PGlite thread exited with code ${code}`)));
  }

  /** Starts the thread and opens the store in `dataDir`; rejects with the store's own error when it cannot be opened. */
  static async open(dataDir: string, startParams: string[]): Promise<PgliteThread> {
    const worker = new Worker(new URL('./pglite-thread-worker.mjs', import.meta.url), { workerData: { dataDir, startParams } });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the PGlite thread exited with code ${code} while opening ${dataDir}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: { type: string; error?: Record<string, unknown> }) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.type === 'ready') resolve();
        else reject(rebuild(m.error ?? { message: 'PGlite failed to open' }));
      });
    });
    worker.unref();
    return new PgliteThread(worker);
  }

  private send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // While a statement is out, the thread must keep the process alive.
      this.worker.ref();
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Executes frontend protocol messages in order; the backend's answer to all of them. */
  async protocol(messages: Uint8Array[]): Promise<Uint8Array> {
    return (await this.send({ type: 'protocol', messages })).data!;
  }

  /** COPY … FROM '/dev/blob' with `data` as the blob, in the session's current transaction. */
  async copyFrom(sql: string, data: string | Uint8Array): Promise<void> {
    await this.send({ type: 'copyFrom', sql, data });
  }

  /** The JavaScript heap the thread uses, in bytes (garbage not yet collected included). */
  async heapUsed(): Promise<number> {
    return (await this.send({ type: 'heap' })).heapUsed!;
  }

  async close(): Promise<void> {
    if (this.dead) return;
    await this.send({ type: 'close' });
    await this.worker.terminate();
  }
}

/**
 * What node-postgres's Client needs of a connection (the shape of PGlite's own node-postgres
 * adapter), speaking to the thread. Messages written in one turn of the event loop go to the
 * thread together; answers are emitted as events in order, as pg's socket connection does.
 */
class ThreadConnection extends EventEmitter {
  _connecting = false;
  stream = { destroy: () => this.end() };
  parsedStatements: Record<string, string> = {};
  submittedNamedStatements: Record<string, string> = {};
  private pending: Uint8Array[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private listening = false;
  private readonly parser: InstanceType<Protocol['Parser']>;

  constructor(
    private readonly thread: PgliteThread,
    private readonly protocol: Protocol,
  ) {
    super();
    this.parser = new protocol.Parser();
    this.on('newListener', (name: string) => {
      if (name === 'message') this.listening = true;
    });
  }

  connect(): void {
    this._connecting = true;
    void this.chain.then(() => process.nextTick(() => this.emit('readyForQuery')));
  }

  private write(message: Uint8Array): void {
    if (!this.pending.length) queueMicrotask(() => this.flush_());
    this.pending.push(message);
  }

  private flush_(): void {
    const messages = this.pending;
    this.pending = [];
    this.chain = this.chain
      .then(() => this.thread.protocol(messages))
      .then((data) => {
        this.parser.parse(data, (msg: { name: string }) => {
          if (this.listening) this.emit('message', msg);
          this.emit(msg.name === 'error' ? 'errorMessage' : msg.name, msg);
        });
      })
      .catch((err: unknown) => {
        this.emit('error', err);
      });
  }

  private get s() {
    return this.protocol.serialize;
  }

  requestSsl(): void {}
  startup(): void {}
  cancel(): void {}
  password(): void {}
  sendSASLInitialResponseMessage(mechanism: string, initialResponse: string): void {
    this.write(this.s.sendSASLInitialResponseMessage(mechanism, initialResponse));
  }
  sendSCRAMClientFinalMessage(additionalData: string): void {
    this.write(this.s.sendSCRAMClientFinalMessage(additionalData));
  }
  query(text: string): void {
    this.write(this.s.query(text));
  }
  parse(q: Parameters<Protocol['serialize']['parse']>[0]): void {
    this.write(this.s.parse(q));
  }
  bind(config: Parameters<Protocol['serialize']['bind']>[0]): void {
    this.write(this.s.bind(config));
  }
  execute(config: Parameters<Protocol['serialize']['execute']>[0]): void {
    this.write(this.s.execute(config));
  }
  describe(msg: Parameters<Protocol['serialize']['describe']>[0]): void {
    this.write(this.s.describe(msg));
  }
  close(msg: Parameters<Protocol['serialize']['close']>[0]): void {
    this.write(this.s.close(msg));
  }
  flush(): void {
    this.write(this.s.flush());
  }
  sync(): void {
    this.write(this.s.sync());
  }
  sendCopyFromChunk(chunk: Uint8Array): void {
    this.write(this.s.copyData(chunk as unknown as ArrayBuffer));
  }
  endCopyFrom(): void {
    this.write(this.s.copyDone());
  }
  sendCopyFail(message: string): void {
    this.write(this.s.copyFail(message));
  }
  end(): void {
    this.chain = this.chain.then(() => {
      this.emit('end');
    });
    for (const name of this.eventNames()) if (name !== 'newListener') this.removeAllListeners(name);
    this.listening = false;
  }
  ref(): void {}
  unref(): void {}
}

/** node-postgres Pool settings whose one connection is the thread's store. */
export async function threadPgConfig(thread: PgliteThread): Promise<pg.PoolConfig> {
  const { protocol } = await import('@electric-sql/pglite');
  const connection = new ThreadConnection(thread, protocol);
  return {
    user: 'postgres',
    password: 'dummy',
    database: 'postgres',
    host: 'localhost',
    port: 5432,
    connection,
  } as unknown as pg.PoolConfig;
}
