import { afterEach, describe, expect, it } from 'vitest';
import { createHl7Handler } from './handler.js';
import { encodeFrame, MllpDecoder, startMllpServer, type MllpEvent, type MllpServer, type MllpServerEvent } from './mllp.js';
import { parseHl7 } from './parser.js';
import type { ToFhirResult } from './to-fhir/index.js';
import { ackFields, readSample, TestMllpClient } from './test-support.js';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

const messages = (events: MllpEvent[]) =>
  events.filter((e) => e.type === 'message').map((e) => (e as { payload: Buffer }).payload.toString('latin1'));

function adt(controlId: string): Buffer {
  return Buffer.from(
    `MSH|^~\\&|HIS|HOSP01|YIFANG|CDC|20240305101500||ADT^A04^ADT_A01|${controlId}|P|2.5.1\rPID|1||${controlId}^^^HOSP01^MR||张^三\rPV1|1|O\r`,
    'utf8',
  );
}

describe('MllpDecoder', () => {
  it('decodes one frame', () => {
    const d = new MllpDecoder();
    expect(messages(d.push(encodeFrame('MSH|x')))).toEqual(['MSH|x']);
    expect(d.inFrame).toBe(false);
  });

  it('reassembles a frame split at every possible position', () => {
    const frame = encodeFrame(adt('M1'));
    for (let cut = 1; cut < frame.length; cut++) {
      const d = new MllpDecoder();
      const out = [...d.push(frame.subarray(0, cut)), ...d.push(frame.subarray(cut))];
      expect(messages(out)).toEqual([adt('M1').toString('latin1')]);
    }
  });

  it('handles byte-by-byte delivery', () => {
    const d = new MllpDecoder();
    const out: MllpEvent[] = [];
    for (const b of encodeFrame(adt('M1'))) out.push(...d.push(Buffer.from([b])));
    expect(messages(out)).toHaveLength(1);
  });

  it('returns several frames from one read, dropping bytes between them', () => {
    const d = new MllpDecoder();
    const buf = Buffer.concat([
      Buffer.from('junk'),
      encodeFrame('A'),
      Buffer.from('\r\n'),
      encodeFrame('B'),
      Buffer.from('more junk'),
      encodeFrame('C'),
    ]);
    const out = d.push(buf);
    expect(messages(out)).toEqual(['A', 'B', 'C']);
    expect(out.find((e) => e.type === 'garbage')).toEqual({
      type: 'garbage',
      bytes: 'junk'.length + 'more junk'.length - 1 /* the space */,
    });
  });

  it('tolerates a missing CR after the end block', () => {
    const d = new MllpDecoder();
    expect(messages(d.push(Buffer.from([VT, 0x41, FS, VT, 0x42, FS, CR])))).toEqual(['A', 'B']);
  });

  it('drops an unfinished frame when a new start block arrives', () => {
    const d = new MllpDecoder();
    const out = d.push(Buffer.from([VT, 0x41, 0x41, VT, 0x42, FS, CR]));
    expect(messages(out)).toEqual(['B']);
    expect(out.some((e) => e.type === 'garbage')).toBe(true);
  });

  it('ignores empty frames (keep-alives)', () => {
    expect(new MllpDecoder().push(Buffer.from([VT, FS, CR]))).toEqual([]);
  });

  it('reports a frame that grows beyond the cap, skips it, then recovers', () => {
    const d = new MllpDecoder({ maxMessageBytes: 100 });
    const events = [
      ...d.push(Buffer.concat([Buffer.from([VT]), Buffer.from('MSH|^~\\&|'), Buffer.alloc(60, 0x41)])),
      ...d.push(Buffer.alloc(60, 0x41)),
    ];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'oversize', limit: 100 });
    expect((events[0] as { head: Buffer }).head.toString('latin1').startsWith('MSH|')).toBe(true);
    expect(d.pendingBytes).toBe(0);
    // still inside the oversized frame: more bytes are discarded without buffering
    expect(d.push(Buffer.alloc(10_000, 0x41))).toEqual([]);
    expect(d.pendingBytes).toBe(0);
    expect(messages(d.push(Buffer.from([FS, CR, VT, 0x4f, 0x4b, FS, CR])))).toEqual(['OK']);
  });
});

describe('startMllpServer (real TCP on port 0)', () => {
  let server: MllpServer | undefined;
  const clients: TestMllpClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function start(opts: Partial<Parameters<typeof startMllpServer>[0]> = {}) {
    const stored: ToFhirResult[] = [];
    const events: MllpServerEvent[] = [];
    server = await startMllpServer({
      port: 0,
      host: '127.0.0.1',
      handle: createHl7Handler({ store: async (r) => void stored.push(r) }),
      onEvent: (e) => events.push(e),
      ...opts,
    });
    return { server, stored, events };
  }
  async function client(port: number) {
    const c = await TestMllpClient.connect(port);
    clients.push(c);
    return c;
  }

  it('answers a message split across several TCP writes', async () => {
    const { server, stored } = await start();
    const c = await client(server.port);
    const frame = encodeFrame(readSample('ADT-A01-01.hl7'));
    const third = Math.floor(frame.length / 3);
    await c.write(frame.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 30));
    await c.write(frame.subarray(7, third));
    await new Promise((r) => setTimeout(r, 30));
    await c.write(frame.subarray(third));
    const [reply] = await c.waitForReplies(1);
    expect(ackFields(reply!).MSA!.slice(0, 3)).toEqual(['MSA', 'AA', 'MSG00001']);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.messageType).toBe('ADT^A01');
  });

  it('answers several messages sent in one write, in order', async () => {
    const { server } = await start();
    const c = await client(server.port);
    const ids = Array.from({ length: 20 }, (_, i) => `M${i}`);
    await c.write(Buffer.concat(ids.map((id) => encodeFrame(adt(id)))));
    const replies = await c.waitForReplies(ids.length);
    expect(replies.map((r) => ackFields(r).MSA![2])).toEqual(ids);
    expect(replies.every((r) => ackFields(r).MSA![1] === 'AA')).toBe(true);
  });

  it('processes one connection in order even when handling takes variable time', async () => {
    const seen: string[] = [];
    const { server } = await start({
      handle: async (raw) => {
        const id = parseHl7(raw).controlId;
        await new Promise((r) => setTimeout(r, Number(id.slice(1)) % 2 === 0 ? 40 : 1));
        seen.push(id);
        return Buffer.from(`MSH|^~\\&|Y|C|H|F|20240101||ACK|A${id}|P|2.5\rMSA|AA|${id}\r`);
      },
    });
    const c = await client(server.port);
    const ids = ['M0', 'M1', 'M2', 'M3', 'M4', 'M5'];
    await c.write(Buffer.concat(ids.map((id) => encodeFrame(adt(id)))));
    const replies = await c.waitForReplies(ids.length);
    expect(seen).toEqual(ids);
    expect(replies.map((r) => ackFields(r).MSA![2])).toEqual(ids);
  });

  it('pipelined: handles a window of messages at once but still answers in arrival order', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    const { server } = await start({
      pipelined: true,
      handle: async (raw) => {
        const id = parseHl7(raw).controlId;
        started.push(id);
        await new Promise((r) => setTimeout(r, Number(id.slice(1)) % 2 === 0 ? 40 : 1));
        finished.push(id);
        return Buffer.from(`MSH|^~\\&|Y|C|H|F|20240101||ACK|A${id}|P|2.5\rMSA|AA|${id}\r`);
      },
    });
    const c = await client(server.port);
    const ids = ['M0', 'M1', 'M2', 'M3', 'M4', 'M5'];
    await c.write(Buffer.concat(ids.map((id) => encodeFrame(adt(id)))));
    const replies = await c.waitForReplies(ids.length);
    expect(started).toEqual(ids);
    expect(finished).not.toEqual(ids); // the slow even ones finished after the quick odd ones
    expect(replies.map((r) => ackFields(r).MSA![2])).toEqual(ids);
  });

  it('serves other clients while one connects and says nothing, and closes the idle one', async () => {
    const { server, events } = await start({ idleTimeoutMs: 400 });
    const silent = await client(server.port);
    const half = await client(server.port);
    await half.write(Buffer.from([VT, ...Buffer.from('MSH|^~\\&|half a frame')])); // never finished
    const busy = await Promise.all([client(server.port), client(server.port), client(server.port)]);
    const started = Date.now();
    await Promise.all(busy.map((c, i) => c.write(encodeFrame(adt(`B${i}`)))));
    const replies = await Promise.all(busy.map((c) => c.waitForReplies(1, 2_000)));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(replies.map(([r]) => ackFields(r!).MSA![2])).toEqual(['B0', 'B1', 'B2']);
    await silent.waitForClose(3_000);
    await half.waitForClose(3_000);
    expect(events.filter((e) => e.type === 'idle-timeout').length).toBeGreaterThanOrEqual(2);
  });

  it('replies AR to garbage inside a frame and keeps the connection usable', async () => {
    const { server } = await start();
    const c = await client(server.port);
    await c.write(
      Buffer.concat([
        Buffer.from('noise before'),
        encodeFrame(Buffer.from([0xde, 0xad, 0xbe, 0xef])),
        Buffer.from('\x00\x01'),
        encodeFrame(adt('OK1')),
      ]),
    );
    const [bad, good] = await c.waitForReplies(2);
    expect(ackFields(bad!).MSA![1]).toBe('AR');
    expect(ackFields(good!).MSA!.slice(1, 3)).toEqual(['AA', 'OK1']);
  });

  it('answers AR 207 when the handler throws or times out', async () => {
    const { server } = await start({
      handlerTimeoutMs: 200,
      handle: async (raw) => {
        const id = parseHl7(raw).controlId;
        if (id === 'THROW') throw new Error('boom');
        await new Promise((r) => setTimeout(r, 5_000));
        return null;
      },
    });
    const c = await client(server.port);
    await c.write(Buffer.concat([encodeFrame(adt('THROW')), encodeFrame(adt('SLOW'))]));
    const [a, b] = await c.waitForReplies(2);
    expect(ackFields(a!).MSA!.slice(1, 3)).toEqual(['AR', 'THROW']);
    expect(ackFields(a!).ERR![3]).toMatch(/^207\^/);
    expect(ackFields(b!).MSA!.slice(1, 3)).toEqual(['AR', 'SLOW']);
    expect(ackFields(b!).ERR![8]).toMatch(/did not finish/);
  });

  it('rejects a frame beyond maxMessageBytes with AR and hangs up; others are unaffected', async () => {
    const { server } = await start({ maxMessageBytes: 2_000 });
    const big = await client(server.port);
    await big.write(Buffer.concat([Buffer.from([VT]), adt('BIG').subarray(0, 80), Buffer.alloc(5_000, 0x41)]));
    const [reply] = await big.waitForReplies(1);
    expect(ackFields(reply!).MSA![1]).toBe('AR');
    expect(ackFields(reply!).MSA![3]).toMatch(/2000-byte limit/);
    await big.waitForClose();
    const other = await client(server.port);
    await other.write(encodeFrame(adt('SMALL')));
    expect(ackFields((await other.waitForReplies(1))[0]!).MSA![1]).toBe('AA');
  });

  it('survives random bytes from many connections', async () => {
    const { server } = await start({ idleTimeoutMs: 2_000 });
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sprayers = await Promise.all(Array.from({ length: 8 }, () => client(server.port)));
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        sprayers.map((c) => {
          const buf = Buffer.alloc(Math.floor(rnd() * 3_000));
          for (let i = 0; i < buf.length; i++) {
            const r = rnd();
            buf[i] = r < 0.01 ? VT : r < 0.02 ? FS : r < 0.03 ? CR : Math.floor(rnd() * 256);
          }
          return c.closed ? undefined : c.write(buf);
        }),
      );
    }
    const c = await client(server.port);
    await c.write(encodeFrame(adt('AFTER')));
    expect(ackFields((await c.waitForReplies(1))[0]!).MSA!.slice(1, 3)).toEqual(['AA', 'AFTER']);
  });

  it('handles concurrent connections, each in order', async () => {
    const { server, stored } = await start();
    const cs = await Promise.all(Array.from({ length: 10 }, () => client(server.port)));
    await Promise.all(cs.map((c, i) => c.write(Buffer.concat([0, 1, 2, 3, 4].map((j) => encodeFrame(adt(`C${i}-${j}`)))))));
    const all = await Promise.all(cs.map((c) => c.waitForReplies(5)));
    all.forEach((replies, i) => expect(replies.map((r) => ackFields(r).MSA![2])).toEqual([0, 1, 2, 3, 4].map((j) => `C${i}-${j}`)));
    expect(stored).toHaveLength(50);
    expect(server.connections).toBe(10);
  });

  it('close() stops the server and drops connections', async () => {
    const { server } = await start();
    const c = await client(server.port);
    await server.close();
    await c.waitForClose();
    await expect(TestMllpClient.connect(server.port)).rejects.toThrow();
  });
});
