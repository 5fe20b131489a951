/**
 * A TCP proxy for fault tests (node:net): clients connect to its port and are piped to the
 * target (PostgreSQL). It can be taken down (every open socket destroyed, new connections
 * refused: the listener is closed, so connecting fails with ECONNREFUSED), brought up again on
 * the same port, made a black hole (connections accepted, nothing forwarded: a host that vanished
 * from the network) or slowed down (each protocol message from client to server delayed).
 */
import net from 'node:net';

export type ProxyState = 'up' | 'down' | 'blackhole';

export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private state: ProxyState = 'up';
  /** Delay added before each PostgreSQL protocol message from client to server (ms). */
  delayMs = 0;
  /** Connections accepted so far (diagnostics). */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    public port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  /** The same connection string with host and port replaced by the proxy's. */
  proxied(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get open(): number {
    return this.sockets.size;
  }

  /** Destroys every socket and refuses new connections (the database is gone). */
  async down(): Promise<void> {
    this.state = 'down';
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Destroys every socket; new connections are accepted and then hang with no answer. */
  async blackhole(): Promise<void> {
    if (!this.server) await this.listen();
    this.state = 'blackhole';
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Forwards again (on the same port). */
  async up(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.state = 'up';
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.down();
  }

  private async listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    if (this.state === 'down') return void client.destroy();
    if (this.state === 'blackhole') return; // held open, never answered
    const upstream = net.connect(this.target.port, this.target.host);
    upstream.on('error', () => client.destroy());
    this.sockets.add(upstream);
    upstream.once('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.pipe(client);
    this.forward(client, upstream);
  }

  /**
   * Client to server: passed through, or, with delayMs set, cut into protocol messages (the
   * startup packet has no type byte; every later message is a type byte and an int32 length)
   * and each one sent delayMs after the previous, so a statement's Parse…Sync spreads out.
   */
  private forward(client: net.Socket, upstream: net.Socket): void {
    let buffered: Buffer = Buffer.alloc(0);
    let first = true;
    let queue: Promise<void> = Promise.resolve();
    let pending = 0;
    client.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      for (;;) {
        const headerLen = first ? 0 : 1;
        if (buffered.length < headerLen + 4) break;
        const len = buffered.readInt32BE(headerLen) + headerLen;
        if (buffered.length < len) break;
        const message = buffered.subarray(0, len);
        buffered = buffered.subarray(len);
        // The startup packet comes first without a type byte (pg here never asks for SSL).
        first = false;
        const delay = this.delayMs;
        if (!delay && !pending) {
          upstream.write(message);
          continue;
        }
        pending++;
        queue = queue.then(async () => {
          if (delay) await new Promise((r) => setTimeout(r, delay));
          if (!upstream.destroyed) upstream.write(message);
          pending--;
        });
      }
    });
  }
}
