/**
 * Issue #14, the HL7 intake without a database: bytes checked against MSH-18, the settings file
 * validated, HTTP bodies split without copying, and the MLLP listener fair to hospitals
 * (per-peer shares, a reserve for allowed senders, idle connections closed, hang-up without ACK).
 */
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { buildAck } from './ack.js';
import { decodeChecked, firstInvalidUtf8, Hl7CharsetError } from './charset.js';
import { DEFAULT_CONFIG_FILE, loadIntakeConfig, parseIntakeConfig } from './config.js';
import { adt } from './ingest-fixtures.js';
import { messageStarts, splitMessages } from './ingest.js';
import { encodeFrame, MllpHangUp, startMllpServer, type MllpServer, type MllpServerEvent, type MllpServerOptions } from './mllp.js';
import { parseHl7 } from './parser.js';
import { ackFields, TestMllpClient } from './test-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('decodeChecked: the bytes must be what MSH-18 says', () => {
  const text = adt('CS-1', { name: '欧阳^娜娜', street: '解放路𠀀号' }); // MSH-18 = UNICODE UTF-8; 𠀀 needs 4 GB18030 bytes

  it('accepts valid UTF-8 without a warning', () => {
    const d = decodeChecked(Buffer.from(text, 'utf8'));
    expect(d.text).toBe(text);
    expect(d.encoding).toBe('utf8');
    expect(d.warning).toBeUndefined();
  });

  it('decodes GB18030 bytes under a UTF-8 MSH-18 exactly, and says so with the first bad offset', () => {
    const raw = iconv.encode(text, 'gb18030');
    const d = decodeChecked(raw);
    expect(d.text).toBe(text);
    expect(d.text).not.toContain('\uFFFD');
    expect(d.encoding).toBe('gb18030');
    // 欧 is C5 B7 in GB18030, which happens to be valid UTF-8 too: the first bad byte comes later
    const first = firstInvalidUtf8(raw);
    expect(first).toBeGreaterThan(raw.findIndex((b) => b >= 0x80));
    expect(d.warning).toMatchObject({ declared: 'UNICODE UTF-8', expected: 'utf8', used: 'gb18030', offset: first });
    expect(d.warning!.message).toBe(
      `MSH-18 'UNICODE UTF-8' but the bytes are not valid UTF-8 (first at byte offset ${first}); decoded as GB18030 instead`,
    );
    expect(parseHl7(d.text, { encoding: d.encoding }).get('PID-5-1')).toBe('欧阳');
  });

  it('uses the charset configured for the sending facility', () => {
    const raw = iconv.encode(adt('CS-2', { facility: 'TWHOSP', name: '陳^大文' }), 'big5');
    const d = decodeChecked(raw, { defaultEncoding: 'utf8', fallbackEncoding: 'gb18030', facilityEncodings: { TWHOSP: 'big5' } });
    expect(d.encoding).toBe('big5');
    expect(parseHl7(d.text).get('PID-5-1')).toBe('陳');
    expect(d.warning?.used).toBe('big5');
  });

  it('an empty MSH-18 means the default (UTF-8); GB18030 bytes are accepted with a warning', () => {
    const bare = text.replace('|CHN|UNICODE UTF-8', '|CHN|');
    expect(decodeChecked(Buffer.from(bare, 'utf8')).warning).toBeUndefined();
    const d = decodeChecked(iconv.encode(bare, 'gb18030'));
    expect(d.text).toBe(bare);
    expect(d.warning?.message).toMatch(/^MSH-18 is empty \(default UTF-8\) but the bytes are not valid UTF-8/);
  });

  it('a declared GB18030 message that is really UTF-8 is decoded as UTF-8, with a warning', () => {
    const gbDeclared = text.replace('UNICODE UTF-8', 'GB 18030-2000');
    const raw = Buffer.from(gbDeclared, 'utf8');
    // UTF-8 Chinese is not always valid GB18030; this text is not, so the declaration is caught
    const d = decodeChecked(raw);
    expect(d.text).toBe(gbDeclared);
    expect(d.warning?.used).toBe('utf8');
  });

  it('refuses bytes no candidate decodes cleanly, naming the byte offset; never invents U+FFFD', () => {
    const utf8 = Buffer.from(text, 'utf8');
    const at = utf8.indexOf('欧阳');
    const raw = Buffer.concat([utf8.subarray(0, at), Buffer.from([0xff, 0x80]), utf8.subarray(at)]);
    let error: unknown;
    try {
      decodeChecked(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Hl7CharsetError);
    const e = error as Hl7CharsetError;
    expect(e.offset).toBe(at);
    expect(e.message).toBe(
      `MSH-18 'UNICODE UTF-8' but the bytes are not valid UTF-8: byte offset ${at} (0xff); not valid GB18030 either; nothing was stored`,
    );
    expect(e.ackCode).toBe('AR');
    const ack = ackFields(buildAck({ raw, error: e }).text);
    expect(ack.MSA![1]).toBe('AR');
    expect(ack.ERR![2]).toBe('MSH^1^18^1');
    expect(ack.ERR![8]).toContain(`byte offset ${at}`);
  });

  it('counts the offset in the message as received (a BOM included)', () => {
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('MSH|^~\\&|A|B|||||ADT^A04|1|P|2.5\rPID|1||x\xff', 'latin1')]);
    expect(() => decodeChecked(raw)).toThrow(/byte offset 44 \(0xff\)/);
  });

  it('firstInvalidUtf8 finds overlongs, surrogates and truncated sequences', () => {
    expect(firstInvalidUtf8(Buffer.from('abc', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xc0, 0x80]))).toBe(1); // overlong
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xed, 0xa0, 0x80]))).toBe(1); // surrogate
    expect(firstInvalidUtf8(Buffer.from([0x41, 0x42, 0xe5, 0xbc]))).toBe(2); // truncated
    expect(firstInvalidUtf8(Buffer.from('张三', 'utf8'))).toBe(-1);
  });
});

describe('intake settings', () => {
  it('the shipped file is valid and gives the documented defaults', () => {
    const c = loadIntakeConfig({ HL7V2_CONFIG: DEFAULT_CONFIG_FILE });
    expect(c.charsets).toEqual({ defaultEncoding: 'utf8', fallbackEncoding: 'gb18030', facilityEncodings: {} });
    expect(c.http).toEqual({ maxMessagesPerRequest: 10_000, maxBodyBytes: 16 * 1024 * 1024, concurrency: 400 });
    expect(c.mllp).toMatchObject({ maxConnections: 256, reservedForAllowedPeers: 32, maxConnectionsPerPeer: 16, idleTimeoutMs: 300_000 });
  });

  it('refuses bad values at start, naming each field', () => {
    expect(() =>
      parseIntakeConfig({
        charsets: { fallback: 'KLINGON', facilities: { H1: 'EBCDIC' } },
        mllp: { maxConnections: 10, reservedForAllowedPeers: 10, allowedPeers: ['10.0.0.0/33'] },
      }),
    ).toThrow(
      /charsets\.fallback is not a character set.*charsets\.facilities\.H1 is not a character set.*mllp\.reservedForAllowedPeers must be less than maxConnections.*mllp\.allowedPeers '10\.0\.0\.0\/33' is not an IP address/,
    );
    expect(() => parseIntakeConfig({ http: { maxMessages: 5 } })).toThrow(/Unrecognized key/);
    expect(() => parseIntakeConfig({ mllp: { onlyAllowedPeers: true } })).toThrow(/allowedPeers is empty/);
    expect(() => loadIntakeConfig({ HL7V2_CONFIG: '/nonexistent/intake.json' })).toThrow(/cannot be read/);
  });
});

describe('HTTP bodies are split on offsets', () => {
  it('finds every MSH, keeps leading junk as its own message, normalises line ends', () => {
    const s1 = adt('S-1', { mrn: 'A' });
    const s2 = adt('S-2', { mrn: 'B' });
    const body = Buffer.from(`junk\n${s1}\r\n${s2}\n\n`.replace(/\r(?=[A-Z]{2}[A-Z0-9]\|)/g, '\n'), 'utf8');
    expect(messageStarts(body)).toHaveLength(3);
    const parts = splitMessages(body);
    expect(parts.map((p) => p.toString('utf8'))).toEqual(['junk', s1, s2]);
    expect(messageStarts(Buffer.from(' \r\n'))).toEqual([]);
  });
});

describe('MLLP: fair to hospitals (real TCP)', () => {
  let server: MllpServer | undefined;
  const clients: TestMllpClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });
  const echo: MllpServerOptions['handle'] = async (raw) => Buffer.from(buildAck({ raw }).text);
  async function start(opts: Partial<MllpServerOptions>) {
    const events: MllpServerEvent[] = [];
    server = await startMllpServer({ port: 0, host: '127.0.0.1', handle: echo, onEvent: (e) => events.push(e), ...opts });
    return { server, events };
  }
  async function connect(from: string) {
    const c = await TestMllpClient.connect(server!.port, from);
    clients.push(c);
    return c;
  }
  const stillOpen = async (cs: TestMllpClient[]) => {
    await sleep(150);
    return cs.every((c) => !c.closed);
  };

  it('a peer holding many idle connections cannot block an allow-listed sender', async () => {
    const { events } = await start({
      maxConnections: 8,
      reservedForAllowedPeers: 3,
      maxConnectionsPerPeer: 3,
      allowedPeers: ['127.0.0.3'],
    });
    // One stranger: 3 connections, the 4th refused at accept and closed.
    const a = await Promise.all([1, 2, 3].map(() => connect('127.0.0.2')));
    const refused = await connect('127.0.0.2');
    await refused.waitForClose(2000);
    expect(await stillOpen(a)).toBe(true);
    expect(server!.connectionsOf('127.0.0.2')).toBe(3);
    expect(events.some((e) => e.type === 'peer-limit' && e.detail?.includes('limit 3'))).toBe(true);
    // Another stranger takes the rest of the shared part (8 − 3 = 5), then is refused.
    const b = await Promise.all([1, 2].map(() => connect('127.0.0.4')));
    const over = await connect('127.0.0.4');
    await over.waitForClose(2000);
    expect(await stillOpen(b)).toBe(true);
    expect(events.some((e) => e.type === 'too-many-connections' && e.detail?.includes('3 more are kept for allowed senders'))).toBe(true);
    // The allowed hospital still gets in, three times, and is served.
    const h = await Promise.all([1, 2, 3].map(() => connect('127.0.0.3')));
    expect(await stillOpen(h)).toBe(true);
    await h[0]!.write(encodeFrame(adt('RES-1')));
    const [ack] = await h[0]!.waitForReplies(1);
    expect(ackFields(ack!).MSA![1]).toBe('AA');
    expect(server!.connections).toBe(8);
  });

  it('a peer that sent an accepted message from an allowed facility joins the reserve', async () => {
    await start({
      maxConnections: 3,
      reservedForAllowedPeers: 1,
      maxConnectionsPerPeer: 2,
      handle: async (raw, peer) => {
        peer.trust();
        return Buffer.from(buildAck({ raw }).text);
      },
    });
    const [first, second] = await Promise.all([connect('127.0.0.5'), connect('127.0.0.5')]);
    const third = await connect('127.0.0.5');
    await third.waitForClose(2000); // over its per-peer share
    await first!.write(encodeFrame(adt('LEARN-1')));
    await first!.waitForReplies(1);
    const now = await connect('127.0.0.5'); // trusted now: the larger share and the reserve
    expect(await stillOpen([first!, second!, now])).toBe(true);
  });

  it('only listed peers connect when onlyAllowedPeers is set', async () => {
    const { events } = await start({ allowedPeers: ['127.0.0.0/30'], onlyAllowedPeers: true });
    const ok = await connect('127.0.0.2');
    const no = await connect('127.0.0.9');
    await no.waitForClose(2000);
    expect(await stillOpen([ok])).toBe(true);
    expect(events.some((e) => e.type === 'peer-not-allowed')).toBe(true);
  });

  it('closes a connection idle for the timeout, even one trickling bytes that never make a message', async () => {
    const { events } = await start({ idleTimeoutMs: 300 });
    const busy = await connect('127.0.0.2');
    const idle = await connect('127.0.0.2');
    const trickle = await connect('127.0.0.2');
    await trickle.write(Buffer.from([0x0b, 0x4d]));
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      await busy.write(encodeFrame(adt(`BUSY-${i}`)));
      await trickle.write(Buffer.from('S'));
      await sleep(120);
    }
    await idle.waitForClose(2000);
    await trickle.waitForClose(2000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(busy.closed).toBe(false);
    expect((await busy.waitForReplies(5)).length).toBe(5);
    expect(events.filter((e) => e.type === 'idle-timeout')).toHaveLength(2);
  });

  it('hangs up without an ACK when the handler says so; earlier ACKs are delivered', async () => {
    const { events } = await start({
      pipelined: true,
      handle: async (raw) => {
        if (raw.includes('DOWN-')) throw new MllpHangUp('database unavailable');
        return Buffer.from(buildAck({ raw }).text);
      },
    });
    const c = await connect('127.0.0.2');
    await c.write(Buffer.concat([encodeFrame(adt('UP-1')), encodeFrame(adt('DOWN-2')), encodeFrame(adt('UP-3'))]));
    await c.waitForClose(2000);
    expect(c.replies.map((r) => ackFields(r).MSA![2])).toEqual(['UP-1']);
    expect(events.some((e) => e.type === 'hang-up')).toBe(true);
  });
});
