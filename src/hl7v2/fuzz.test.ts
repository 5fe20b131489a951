import { describe, expect, it } from 'vitest';
import { buildAck } from './ack.js';
import { decodeMessage } from './charset.js';
import { Hl7ParseError } from './errors.js';
import { MllpDecoder } from './mllp.js';
import { parseHl7, type Hl7Message } from './parser.js';
import { toFhir } from './to-fhir/index.js';
import { readSample, sampleFiles } from './test-support.js';

/** Small seeded PRNG (mulberry32) so failures are reproducible. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

interface Failure {
  input: string;
  error: string;
}

/** decode → parse → toFhir → ACK; only Hl7ParseError may escape the first three, the ACK must always parse. */
function pipeline(buf: Buffer): Failure | undefined {
  let message: Hl7Message | undefined;
  let error: unknown;
  try {
    const decoded = decodeMessage(buf);
    message = parseHl7(decoded.text, { encoding: decoded.encoding });
    toFhir(message);
  } catch (e) {
    error = e;
    if (!(e instanceof Hl7ParseError)) {
      return { input: buf.toString('latin1').slice(0, 300), error: (e as Error).stack ?? String(e) };
    }
  }
  try {
    const ack = buildAck(message ? { message, error } : { raw: buf, error });
    const parsed = parseHl7(ack.text);
    if (parsed.messageType.code !== 'ACK')
      return { input: buf.toString('latin1').slice(0, 300), error: `ACK has type ${parsed.messageTypeKey}` };
  } catch (e) {
    return { input: buf.toString('latin1').slice(0, 300), error: `ACK: ${(e as Error).stack ?? String(e)}` };
  }
  return undefined;
}

const HL7ISH = 'MSH|^~\\&PIDV1OBXRA0123456789 \r\n|^~\\&';

function randomBuffer(r: ReturnType<typeof rng>): Buffer {
  const len = r.int(800);
  const buf = Buffer.alloc(len);
  const mode = r.int(3);
  for (let i = 0; i < len; i++) buf[i] = mode === 0 ? r.int(256) : HL7ISH.charCodeAt(r.int(HL7ISH.length));
  return mode === 2 ? Buffer.concat([Buffer.from('MSH|^~\\&|'), buf]) : buf;
}

const SAMPLES = sampleFiles().map((f) => readSample(f));

function mutate(r: ReturnType<typeof rng>): Buffer {
  let buf = Buffer.from(r.pick(SAMPLES));
  const n = 1 + r.int(5);
  for (let k = 0; k < n; k++) {
    const at = r.int(Math.max(1, buf.length));
    switch (r.int(8)) {
      case 0: // flip a byte
        if (buf.length) buf[at] = r.int(256);
        break;
      case 1: // delete a range
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + r.int(200))]);
        break;
      case 2: // duplicate a range
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + r.int(300)), buf.subarray(at)]);
        break;
      case 3: // truncate
        buf = buf.subarray(0, at);
        break;
      case 4: // insert a delimiter or escape character
        buf = Buffer.concat([
          buf.subarray(0, at),
          Buffer.from(r.pick(['|', '^', '~', '\\', '&', '\r', '\n', '\\X', '\\F\\', '""', 'MSH|'])),
          buf.subarray(at),
        ]);
        break;
      case 5: {
        // swap two segments
        const lines = buf.toString('latin1').split('\n');
        const i = r.int(lines.length);
        const j = r.int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        buf = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
      case 6: // replace a digit (dates, lengths, set IDs)
        for (let i = at; i < Math.min(buf.length, at + 200); i++) {
          if (buf[i]! >= 0x30 && buf[i]! <= 0x39) {
            buf[i] = 0x30 + r.int(10);
            break;
          }
        }
        break;
      case 7: // random bytes
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(Array.from({ length: r.int(20) }, () => r.int(256))), buf.subarray(at)]);
        break;
    }
  }
  return buf;
}

describe('fuzz: decode + parse + toFhir + ACK never throw anything but Hl7ParseError', () => {
  it('2,000 random buffers', () => {
    const r = rng(20240305);
    const failures: Failure[] = [];
    const started = Date.now();
    let slowest = 0;
    for (let i = 0; i < 2_000; i++) {
      const t0 = Date.now();
      const f = pipeline(randomBuffer(r));
      slowest = Math.max(slowest, Date.now() - t0);
      if (f) failures.push(f);
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(slowest).toBeLessThan(500);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('3,000 mutated samples', () => {
    const r = rng(7);
    const failures: Failure[] = [];
    let slowest = 0;
    let mapped = 0;
    for (let i = 0; i < 3_000; i++) {
      const buf = mutate(r);
      const t0 = Date.now();
      const f = pipeline(buf);
      slowest = Math.max(slowest, Date.now() - t0);
      if (f) failures.push(f);
      try {
        toFhir(parseHl7(buf));
        mapped++;
      } catch {
        // counted only to make sure the fuzzing is not all rejected at the first step
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(slowest).toBeLessThan(1_000);
    expect(mapped).toBeGreaterThan(200);
  });

  it('the MLLP decoder accepts any byte stream in any chunking', () => {
    const r = rng(99);
    const d = new MllpDecoder({ maxMessageBytes: 5_000 });
    for (let i = 0; i < 2_000; i++) {
      const buf = Buffer.alloc(r.int(2_000));
      for (let k = 0; k < buf.length; k++) buf[k] = r.next() < 0.02 ? r.pick([0x0b, 0x1c, 0x0d]) : r.int(256);
      for (const ev of d.push(buf)) {
        if (ev.type === 'message') expect(ev.payload.length).toBeLessThanOrEqual(5_000);
      }
      expect(d.pendingBytes).toBeLessThanOrEqual(5_000);
    }
  });
});
