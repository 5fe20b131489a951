/**
 * MLLP (Minimal Lower Layer Protocol) framing and a TCP listener, optionally speaking MLLP
 * inside TLS.
 *
 * A frame is <VT 0x0B> message <FS 0x1C><CR 0x0D>. The decoder is a streaming state machine:
 * frames may arrive split across reads or several in one read; bytes outside frames are
 * dropped; a frame that grows past the size cap is reported and skipped.
 */
import net from 'node:net';
import tls from 'node:tls';
import { buildAck, encodeAck } from './ack.js';

export const MLLP_START = 0x0b;
export const MLLP_END = 0x1c;
export const MLLP_CR = 0x0d;

export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export type MllpEvent =
  | { type: 'message'; payload: Buffer }
  /** A frame exceeded the cap; `head` holds its first bytes (for a best-effort reply). */
  | { type: 'oversize'; head: Buffer; limit: number }
  /** Non-blank bytes outside any frame, or a frame abandoned by a new start block. */
  | { type: 'garbage'; bytes: number };

const HEAD_BYTES = 4096;

export class MllpDecoder {
  private state: 'idle' | 'frame' | 'afterEnd' | 'skip' = 'idle';
  private chunks: Buffer[] = [];
  private size = 0;
  readonly maxMessageBytes: number;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes of the frame currently being collected. */
  get pendingBytes(): number {
    return this.size;
  }

  /** True while inside a frame (started, not yet ended). */
  get inFrame(): boolean {
    return this.state === 'frame' || this.state === 'skip';
  }

  reset(): void {
    this.state = 'idle';
    this.chunks = [];
    this.size = 0;
  }

  push(chunk: Buffer): MllpEvent[] {
    const events: MllpEvent[] = [];
    let garbage = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case 'afterEnd':
          // The CR after FS; tolerate senders that omit it.
          if (chunk[i] === MLLP_CR) i++;
          this.state = 'idle';
          break;
        case 'idle': {
          const start = chunk.indexOf(MLLP_START, i);
          const stop = start < 0 ? n : start;
          for (let k = i; k < stop; k++) {
            const b = chunk[k]!;
            if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09 && b !== 0x00) garbage++;
          }
          if (start < 0) {
            i = n;
          } else {
            i = start + 1;
            this.state = 'frame';
            this.chunks = [];
            this.size = 0;
          }
          break;
        }
        case 'frame':
        case 'skip': {
          const end = chunk.indexOf(MLLP_END, i);
          const restart = chunk.indexOf(MLLP_START, i);
          const stop = end < 0 ? (restart < 0 ? n : restart) : restart >= 0 && restart < end ? restart : end;
          if (this.state === 'frame') {
            const piece = chunk.subarray(i, stop);
            if (this.size + piece.length > this.maxMessageBytes) {
              const head = Buffer.concat([...this.chunks, piece]).subarray(0, HEAD_BYTES);
              events.push({ type: 'oversize', head: Buffer.from(head), limit: this.maxMessageBytes });
              this.chunks = [];
              this.size = 0;
              this.state = 'skip';
            } else if (piece.length) {
              // copy: the caller may reuse its read buffer
              this.chunks.push(Buffer.from(piece));
              this.size += piece.length;
            }
          }
          if (stop === n) {
            i = n;
          } else if (chunk[stop] === MLLP_START) {
            // New start block before the end of the current frame: drop the unfinished frame.
            if (this.state === 'frame' && this.size > 0) garbage += this.size;
            this.chunks = [];
            this.size = 0;
            this.state = 'frame';
            i = stop + 1;
          } else {
            if (this.state === 'frame' && this.size > 0) {
              events.push({ type: 'message', payload: this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks) });
            }
            this.chunks = [];
            this.size = 0;
            this.state = 'afterEnd';
            i = stop + 1;
          }
          break;
        }
      }
    }
    if (garbage > 0) events.push({ type: 'garbage', bytes: garbage });
    return events;
  }
}

/** Wraps a message in an MLLP frame. */
export function encodeFrame(message: Buffer | string): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = MLLP_START;
  body.copy(out, 1);
  out[body.length + 1] = MLLP_END;
  out[body.length + 2] = MLLP_CR;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export interface MllpServerEvent {
  type:
    | 'connect'
    | 'disconnect'
    | 'idle-timeout'
    | 'garbage'
    | 'oversize'
    | 'handler-error'
    | 'socket-error'
    | 'too-many-connections'
    /** Refused at accept: this peer already holds its share of connections. */
    | 'peer-limit'
    /** Refused at accept: the peer is not on the allow-list and only listed peers may connect. */
    | 'peer-not-allowed'
    /** The handler asked to hang up without an ACK (e.g. the database connection was lost). */
    | 'hang-up'
    /** The TLS handshake failed (no or an untrusted client certificate, not TLS at all, too slow). */
    | 'tls-error';
  remote?: string;
  detail?: string;
}

/** Who sent a message: the remote address and whether it is on the allow-list. */
export interface MllpPeer {
  /** Remote IP address (IPv4-mapped IPv6 addresses in their IPv4 form). */
  address: string;
  /** On the configured allow-list, or learned as an allowed sender. */
  readonly trusted: boolean;
  /** Marks the address as an allowed sender (it then gets the reserve and the larger per-peer cap). */
  trust(): void;
}

/**
 * Thrown by `handle` to send no ACK at all and close the connection: the sender's MLLP client
 * then resends what it has not had acknowledged (used when the database connection is lost).
 */
export class MllpHangUp extends Error {}

export interface MllpServerOptions {
  port: number;
  host?: string;
  /**
   * Processes one message (raw bytes, frame removed) and returns the reply bytes (the ACK,
   * already encoded in the message's charset), or null to send nothing; throws MllpHangUp to
   * close the connection without an ACK.
   * Messages from one connection are handled one at a time, in order.
   */
  handle: (raw: Buffer, peer: MllpPeer) => Promise<Buffer | null | undefined>;
  /**
   * Close a connection after this long without a message received or an ACK sent (bytes that
   * never make a message do not count) while nothing is being processed. Default 300 000.
   */
  idleTimeoutMs?: number;
  /** Largest accepted message. Default 10 MiB. */
  maxMessageBytes?: number;
  /** Refuse connections beyond this many. Default 256. */
  maxConnections?: number;
  /** Of `maxConnections`, this many are only for allowed peers (the rest is shared). Default 0. */
  reservedForAllowedPeers?: number;
  /** Connections one remote address not on the allow-list may hold. Default 16. */
  maxConnectionsPerPeer?: number;
  /** Connections one allowed remote address may hold. Default 64. */
  maxConnectionsPerAllowedPeer?: number;
  /** Allowed peers: IP addresses or CIDR ranges (IPv4 '10.1.0.0/16', IPv6 'fd00::/8'). */
  allowedPeers?: readonly string[];
  /** Refuse every peer not on `allowedPeers` at accept. Default false. */
  onlyAllowedPeers?: boolean;
  /**
   * Speak MLLP inside TLS with these settings (`cert`, `key`; for mutual TLS also `ca`,
   * `requestCert` and `rejectUnauthorized`). Connection shares are counted at TCP accept, before
   * the handshake, so a peer cannot get round them by never finishing one. Default: plain TCP.
   */
  tls?: tls.TlsOptions;
  /** If `handle` has not settled after this long, reply AR 207. Default 120 000. */
  handlerTimeoutMs?: number;
  /**
   * Start handling each message as soon as it is read instead of after the previous one's ACK.
   * ACKs still go out in arrival order. Only for handlers that keep their own ordering (the HL7
   * ingest does: messages for one patient or control id are stored in arrival order).
   */
  pipelined?: boolean;
  /** Diagnostics hook (connections, timeouts, bad input). */
  onEvent?: (event: MllpServerEvent) => void;
}

export interface MllpServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Open connections right now. */
  readonly connections: number;
  /** Open connections by remote address. */
  connectionsOf(address: string): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Messages queued per connection before reading from it is paused. */
const MAX_QUEUED = 64;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`message handler did not finish within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function fallbackReply(raw: Buffer, error: unknown): Buffer | null {
  try {
    return encodeAck(buildAck({ raw, error }));
  } catch {
    return null;
  }
}

/** '::ffff:10.0.0.1' → '10.0.0.1'. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '?';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Parses an allow-list (addresses and CIDR ranges); throws naming the first bad entry. */
export function peerAllowList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.trim().split('/');
    const type = net.isIP(address ?? '');
    const prefix = bits === undefined ? undefined : Number(bits);
    if (
      !type ||
      extra !== undefined ||
      (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 4 ? 32 : 128) || bits === ''))
    )
      throw new Error(`'${entry}' is not an IP address or CIDR range (e.g. 10.1.2.3, 10.1.0.0/16, fd00::/8)`);
    const family = type === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, prefix, family);
  }
  return list;
}

/** A test for one address against an allow-list (addresses and CIDR ranges); throws like `peerAllowList`. */
export function peerMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = peerAllowList(entries);
  return (address) => {
    const a = normalizeAddress(address);
    const type = net.isIP(a);
    return type !== 0 && list.check(a, type === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Longest a TLS handshake may take before the connection is dropped. */
const TLS_HANDSHAKE_MS = 30_000;

/** Learned allowed senders kept at most (oldest forgotten first). */
const MAX_LEARNED_PEERS = 4096;

export function startMllpServer(options: MllpServerOptions): Promise<MllpServer> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxConnections = options.maxConnections ?? 256;
  const reserved = Math.min(options.reservedForAllowedPeers ?? 0, maxConnections);
  const perPeer = options.maxConnectionsPerPeer ?? 16;
  const perAllowedPeer = options.maxConnectionsPerAllowedPeer ?? 64;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 120_000;
  const allowList = peerAllowList(options.allowedPeers ?? []);
  const learned = new Set<string>();
  const isAllowed = (address: string) => {
    if (learned.has(address)) return true;
    const type = net.isIP(address);
    return type !== 0 && allowList.check(address, type === 4 ? 'ipv4' : 'ipv6');
  };
  const learn = (address: string) => {
    if (learned.has(address) || isAllowed(address)) return;
    if (learned.size >= MAX_LEARNED_PEERS) learned.delete(learned.values().next().value!);
    learned.add(address);
  };
  const perAddress = new Map<string, number>();
  const emit = (event: MllpServerEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a logging hook must not take the server down
    }
  };
  const sockets = new Set<net.Socket>();
  // Client certificates are checked here rather than by node:tls, which drops a connection with
  // an untrusted one without saying why; this way the log names the reason.
  const verifyClients = !!options.tls?.requestCert && options.tls.rejectUnauthorized !== false;
  const tlsServer = options.tls
    ? tls.createServer({
        handshakeTimeout: Math.min(TLS_HANDSHAKE_MS, idleTimeoutMs),
        ...options.tls,
        ...(verifyClients ? { rejectUnauthorized: false } : {}),
      })
    : undefined;
  tlsServer?.on('secureConnection', (socket: tls.TLSSocket) => {
    const address = normalizeAddress(socket.remoteAddress);
    const remote = `${address}:${socket.remotePort ?? '?'}`;
    if (verifyClients && !socket.authorized) {
      const cert = socket.getPeerCertificate();
      const detail =
        cert && Object.keys(cert).length
          ? `client certificate '${String(cert.subject?.CN ?? '?').slice(0, 200)}' refused: ${String(socket.authorizationError)}`
          : 'no client certificate';
      emit({ type: 'tls-error', remote, detail });
      socket.destroy();
      return;
    }
    serve(socket, address, remote);
  });
  tlsServer?.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => {
    const address = normalizeAddress(socket.remoteAddress);
    // OpenSSL's own text is long and cryptic; its code says it (e.g. ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE).
    const code = (e as NodeJS.ErrnoException).code;
    emit({ type: 'tls-error', remote: `${address}:${socket.remotePort ?? '?'}`, detail: code ? `${code}: handshake failed` : e.message });
    socket.destroy();
  });

  const onConnection = (socket: net.Socket) => {
    const address = normalizeAddress(socket.remoteAddress);
    const remote = `${address}:${socket.remotePort ?? '?'}`;
    const allowed = isAllowed(address);
    const mine = perAddress.get(address) ?? 0;
    const refuse = (type: MllpServerEvent['type'], detail: string) => {
      emit({ type, remote, detail });
      socket.destroy();
    };
    if (!allowed && options.onlyAllowedPeers) return refuse('peer-not-allowed', 'not on the allow-list');
    if (sockets.size >= (allowed ? maxConnections : maxConnections - reserved))
      return refuse(
        'too-many-connections',
        allowed
          ? `all ${maxConnections} connections in use`
          : `${maxConnections - reserved} connections in use (${reserved} more are kept for allowed senders)`,
      );
    if (mine >= (allowed ? perAllowedPeer : perPeer))
      return refuse('peer-limit', `${address} already holds ${mine} connections (limit ${allowed ? perAllowedPeer : perPeer})`);
    sockets.add(socket);
    perAddress.set(address, mine + 1);
    emit({ type: 'connect', remote });
    socket.setNoDelay(true);
    // The share is given back when the TCP connection closes (a TLS socket closes it too).
    socket.on('close', () => {
      sockets.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
      emit({ type: 'disconnect', remote });
    });
    if (!tlsServer) return serve(socket, address, remote);
    socket.on('error', (e) => emit({ type: 'socket-error', remote, detail: e.message }));
    // The TLS server (never listening itself) does the handshake; `secureConnection` serves it.
    tlsServer.emit('connection', socket);
  };

  /** Reads MLLP frames from one accepted connection (plain, or TLS after its handshake). */
  const serve = (socket: net.Socket, address: string, remote: string) => {
    const peer: MllpPeer = {
      address,
      get trusted() {
        return isAllowed(address);
      },
      trust: () => learn(address),
    };
    // Idle: no message received and no ACK sent for idleTimeoutMs (a trickle of bytes that never
    // makes a message does not keep a connection, so nobody can hold slots with keep-alive junk).
    const idleTimer = setTimeout(function onIdle() {
      if (pending > 0) {
        idleTimer.refresh(); // a message is being processed; the reply re-arms the timer
        return;
      }
      emit({ type: 'idle-timeout', remote, detail: `no message for ${idleTimeoutMs} ms` });
      socket.destroy();
    }, idleTimeoutMs);
    idleTimer.unref();
    const touch = () => idleTimer.refresh();

    const decoder = new MllpDecoder({ maxMessageBytes });
    let queue: Promise<void> = Promise.resolve();
    let pending = 0;
    let closing = false;
    let hungUp = false;

    const send = (reply: Buffer | null | undefined) => {
      if (hungUp) return;
      touch();
      if (reply && !socket.destroyed && socket.writable) socket.write(encodeFrame(reply));
    };

    const enqueue = (task: () => Promise<void>) => {
      pending++;
      if (pending >= MAX_QUEUED) socket.pause();
      queue = queue
        .then(task)
        .catch(() => undefined)
        .finally(() => {
          pending--;
          if (pending < MAX_QUEUED / 2 && socket.isPaused() && !closing) socket.resume();
        });
    };

    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      let events: MllpEvent[];
      try {
        events = decoder.push(chunk);
      } catch (e) {
        emit({ type: 'socket-error', remote, detail: `decoder: ${(e as Error).message}` });
        socket.destroy();
        return;
      }
      for (const ev of events) {
        if (ev.type === 'message') {
          touch();
          const payload = ev.payload;
          // Pipelined: start handling at once (a client that keeps a window of messages open gets
          // them stored together in one batch) and let the queue keep only the ACKs in order.
          const start = () =>
            withTimeout(
              Promise.resolve().then(() => options.handle(payload, peer)),
              handlerTimeoutMs,
            );
          const handled = options.pipelined ? start() : undefined;
          handled?.catch(() => undefined);
          enqueue(async () => {
            let reply: Buffer | null | undefined;
            try {
              reply = await (handled ?? start());
            } catch (e) {
              if (e instanceof MllpHangUp) {
                // No ACK for this message nor for any after it: the sender resends them all
                // (those already stored are recognised by facility + MSH-10 and answered AA).
                if (!hungUp) emit({ type: 'hang-up', remote, detail: e.message });
                hungUp = true;
                closing = true;
                socket.end(() => socket.destroy());
                return;
              }
              emit({ type: 'handler-error', remote, detail: e instanceof Error ? e.message : String(e) });
              reply = fallbackReply(payload, e);
            }
            send(reply);
          });
        } else if (ev.type === 'garbage') {
          emit({ type: 'garbage', remote, detail: `${ev.bytes} bytes outside MLLP frames` });
        } else {
          // Oversized frame: answer AR from what we saw of its header, then hang up.
          emit({ type: 'oversize', remote, detail: `frame larger than ${ev.limit} bytes` });
          closing = true;
          const head = ev.head;
          enqueue(async () => {
            send(fallbackReply(head, { code: 207, message: `Message exceeds the ${ev.limit}-byte limit and was not processed` }));
            socket.end();
          });
          break;
        }
      }
    });

    socket.on('error', (e) => emit({ type: 'socket-error', remote, detail: e.message }));
    socket.on('close', () => clearTimeout(idleTimer));
  };

  const server = net.createServer({ pauseOnConnect: false }, onConnection);
  server.on('error', (e) => emit({ type: 'socket-error', detail: `server: ${e.message}` }));

  return new Promise<MllpServer>((resolve, reject) => {
    const onListenError = (e: Error) => reject(e);
    server.once('error', onListenError);
    server.listen(options.port, options.host, () => {
      server.off('error', onListenError);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        port,
        get connections() {
          return sockets.size;
        },
        connectionsOf: (a: string) => perAddress.get(normalizeAddress(a)) ?? 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
