/**
 * The cold chain's MQTT subscriber: sensors publish to the configured topic (the sensor named at
 * the {sensorId} level), the payload JSON {"t": 4.2, "at": "<ISO time>"} (also "celsius"/"time")
 * or a bare number (the time is then the arrival). Readings are gathered and stored in bulk: a
 * batch every `flushMs` or `batchReadings` readings, whichever comes first, one flush at a time.
 *
 * Delivery: a persistent session (clean: false, a fixed client id) subscribed at QoS 1, so the
 * broker keeps what is published while the server is away and resends what was not acknowledged.
 * A message is acknowledged once in the buffer; when the buffer holds `maxBuffered` readings
 * (the database slow or down) acknowledgements wait for the next flush, so the broker holds the
 * rest: memory stays bounded and nothing is dropped. A failed flush keeps its readings and retries.
 *
 * The broker being down does not stop the server: the client reconnects with a backoff (1 s
 * doubling to 30 s) and the outage is logged once, and once more when it is back.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IncomingReading } from './service.js';
import type { MqttSettings } from './settings.js';

/** The subscription filter and the level of the sensor id in the topic. */
export function topicFilter(pattern: string): { filter: string; level: number } {
  const levels = pattern.split('/');
  const level = levels.indexOf('{sensorId}');
  if (level < 0) throw new Error(`MQTT topic '${pattern}' does not name the sensor ({sensorId})`);
  return { filter: levels.map((l, i) => (i === level ? '+' : l)).join('/'), level };
}

/** One message → one reading, or the problem (pure). */
export function parsePayload(
  sensorId: string,
  payload: Buffer | string,
  receivedAt: Date,
): { reading: IncomingReading } | { problem: string; raw: string } {
  const raw = payload.toString('utf8').trim().slice(0, 2000);
  let celsius: unknown;
  let at: unknown;
  if (/^-?\d+(\.\d+)?$/.test(raw)) celsius = Number(raw);
  else {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return { problem: 'payload is neither JSON nor a number', raw };
    }
    if (typeof v === 'number') celsius = v;
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      celsius = o.t ?? o.celsius ?? o.temperature;
      at = o.at ?? o.time ?? o.ts;
    } else return { problem: 'payload is not an object or a number', raw };
  }
  if (typeof celsius !== 'number' || !Number.isFinite(celsius)) return { problem: 'no temperature (t) in the payload', raw };
  if (celsius < -90 || celsius > 90) return { problem: `temperature ${celsius} °C is outside −90…90 °C: a broken sensor?`, raw };
  let when = receivedAt;
  if (at !== undefined && at !== null) {
    const d = typeof at === 'number' ? new Date(at < 1e12 ? at * 1000 : at) : typeof at === 'string' ? new Date(at) : new Date(NaN);
    if (Number.isNaN(d.getTime())) return { problem: `time '${String(at)}' is not an ISO time`, raw };
    when = d;
  }
  return { reading: { sensorId, at: when, celsius, raw } };
}

export interface SubscriberOptions {
  url: string;
  settings: MqttSettings;
  /** Stores one batch (throws on failure: the batch is kept and retried). */
  store(batch: IncomingReading[], bad: { sensorId: string; problem: string; raw: string }[]): Promise<void>;
  log(message: string): void;
}

export interface SubscriberStats {
  received: number;
  stored: number;
  flushes: number;
  failedFlushes: number;
  buffered: number;
  connected: boolean;
}

export class ColdChainSubscriber {
  private client: MqttClient | undefined;
  private buffer: IncomingReading[] = [];
  private bad: { sensorId: string; problem: string; raw: string }[] = [];
  private waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private outageLogged = false;
  private backoffMs = 1000;
  private stopped = false;
  readonly stats: SubscriberStats = { received: 0, stored: 0, flushes: 0, failedFlushes: 0, buffered: 0, connected: false };
  private readonly topic: { filter: string; level: number };

  constructor(private readonly o: SubscriberOptions) {
    this.topic = topicFilter(o.settings.topic);
  }

  /** Resolves once subscribed, or at once if the broker cannot be reached (it keeps trying). */
  start(): Promise<void> {
    const { settings } = this.o;
    const options: IClientOptions = {
      clientId: settings.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 30,
      resubscribe: true,
    };
    const client = mqtt.connect(this.o.url, options);
    this.client = client;
    client.handleMessage = (packet, done) => {
      this.accept(packet.topic, packet.payload as Buffer);
      if (this.buffer.length + this.bad.length >= settings.maxBuffered) {
        this.waiting.push(() => done());
        this.flushSoon();
      } else done();
    };
    let firstConnect: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (firstConnect = resolve));
    client.on('connect', () => {
      this.backoffMs = 1000;
      client.options.reconnectPeriod = 1000;
      this.stats.connected = true;
      if (this.outageLogged) this.o.log(`cold chain: MQTT broker ${this.o.url} reached again`);
      this.outageLogged = false;
      // A resumed persistent session keeps its subscription; subscribing again is harmless.
      client.subscribe(this.topic.filter, { qos: settings.qos }, (err) => {
        if (err) this.o.log(`cold chain: MQTT subscription to ${this.topic.filter} refused: ${err.message}`);
        firstConnect();
      });
    });
    const outage = (why: string) => {
      this.stats.connected = false;
      if (!this.outageLogged && !this.stopped) {
        this.outageLogged = true;
        this.o.log(`cold chain: MQTT broker ${this.o.url} unreachable (${why}); retrying with backoff up to 30 s`);
      }
      firstConnect();
    };
    client.on('error', (err) => outage(err.message));
    client.on('offline', () => outage('offline'));
    client.on('close', () => {
      this.stats.connected = false;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      client.options.reconnectPeriod = this.backoffMs;
    });
    this.timer = setInterval(() => this.flushSoon(), settings.flushMs);
    this.timer.unref?.();
    return ready;
  }

  private accept(topic: string, payload: Buffer): void {
    this.stats.received++;
    const sensorId = topic.split('/')[this.topic.level] ?? '';
    const r = parsePayload(sensorId, payload, new Date());
    if ('reading' in r) this.buffer.push(r.reading);
    else this.bad.push({ sensorId, problem: r.problem, raw: r.raw });
    this.stats.buffered = this.buffer.length;
    if (this.buffer.length >= this.o.settings.batchReadings) this.flushSoon();
  }

  private flushSoon(): void {
    if (this.flushing || (!this.buffer.length && !this.bad.length)) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length >= this.o.settings.batchReadings) this.flushSoon();
    });
  }

  /** Stores what is buffered now (one batch at a time); resolves when done. */
  async flush(): Promise<void> {
    const batch = this.buffer.splice(0, this.o.settings.batchReadings * 4);
    const bad = this.bad.splice(0);
    if (!batch.length && !bad.length) return;
    try {
      await this.o.store(batch, bad);
      this.stats.flushes++;
      this.stats.stored += batch.length;
    } catch (err) {
      this.stats.failedFlushes++;
      // Kept, in order, ahead of what came since; retried at the next tick.
      this.buffer.unshift(...batch);
      this.bad.unshift(...bad);
      if (this.stats.failedFlushes === 1 || this.stats.failedFlushes % 60 === 0)
        this.o.log(`cold chain: storing ${batch.length} readings failed (${(err as Error).message}); kept and retried`);
    }
    this.stats.buffered = this.buffer.length;
    if (this.buffer.length + this.bad.length < this.o.settings.maxBuffered) for (const release of this.waiting.splice(0)) release();
  }

  /** Stores what remains and disconnects (the broker keeps the session for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush().catch(() => undefined);
    for (const release of this.waiting.splice(0)) release();
    await new Promise<void>((resolve) => (this.client ? this.client.end(false, {}, () => resolve()) : resolve()));
  }
}
