/**
 * Yifang as an MLLP client: one connection to one receiver, used for one message at a time
 * (send a frame, wait for the answer frame or a timeout). A connection that breaks, or whose
 * answer did not come in time, is closed and opened again for the next message, so a late ACK
 * can never be taken for the next message's.
 */
import net from 'node:net';
import { encodeFrame, MllpDecoder } from '../hl7v2/index.js';

export type SendOutcome =
  | { kind: 'answer'; payload: Buffer }
  | { kind: 'timeout'; detail: string }
  | { kind: 'closed'; detail: string }
  | { kind: 'error'; detail: string };

export class MllpClient {
  private socket: net.Socket | undefined;
  private decoder = new MllpDecoder();
  private waiting: ((o: SendOutcome) => void) | undefined;
  private early: Buffer[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {}

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no connection to ${this.host}:${this.port} within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.decoder = new MllpDecoder();
        this.early = [];
        s.on('data', (chunk: Buffer) => {
          for (const ev of this.decoder.push(chunk)) {
            if (ev.type !== 'message') continue;
            const w = this.waiting;
            this.waiting = undefined;
            if (w) w({ kind: 'answer', payload: ev.payload });
            else this.early.push(ev.payload);
          }
        });
        s.on('close', () => this.lost(s, { kind: 'closed', detail: `the receiver closed the connection before answering` }));
        s.on('error', (err) => this.lost(s, { kind: 'error', detail: `connection error: ${err.message}` }));
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private lost(s: net.Socket, outcome: SendOutcome): void {
    if (this.socket !== s) return;
    this.socket = undefined;
    s.destroy();
    const w = this.waiting;
    this.waiting = undefined;
    w?.(outcome);
  }

  /** Sends one message and waits for one answer frame. */
  async send(message: string, ackTimeoutMs: number): Promise<SendOutcome> {
    if (!this.socket || this.socket.destroyed) {
      try {
        this.socket = await this.connect();
      } catch (err) {
        return { kind: 'error', detail: `cannot connect to ${this.host}:${this.port}: ${(err as Error).message}` };
      }
    }
    const s = this.socket;
    // Anything the receiver sent unasked belongs to no message of ours.
    this.early = [];
    return new Promise<SendOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        if (this.socket === s) this.socket = undefined;
        s.destroy();
        resolve({ kind: 'timeout', detail: `no answer within ${ackTimeoutMs} ms` });
      }, ackTimeoutMs);
      this.waiting = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      s.write(encodeFrame(message));
    });
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    s?.destroy();
    w?.({ kind: 'closed', detail: 'the sender closed the connection' });
  }
}
