import iconv from 'iconv-lite';
import { describe, expect, it, vi } from 'vitest';
import { buildAck, encodeAck } from './ack.js';
import { Hl7ParseError } from './errors.js';
import { createHl7Handler, processHl7Message } from './handler.js';
import { parseHl7 } from './parser.js';
import { toFhir } from './to-fhir/index.js';
import { ackFields, readSample } from './test-support.js';

const NOW = new Date(Date.UTC(2024, 2, 5, 2, 15, 30)); // 10:15:30 in Beijing

const INBOUND = [
  'MSH|^~\\&|HIS^1.2.3^ISO|HOSP01|YIFANG|CDC|20240305101500||ADT^A04^ADT_A01|MSG0001|P|2.5.1',
  'PID|1||000123^^^HOSP01^MR||张^三||19901301|M',
  'PV1|1|O',
].join('\r');

describe('buildAck', () => {
  it('AA: swaps applications/facilities, echoes MSH-10 in MSA-2', () => {
    const ack = buildAck({ message: parseHl7(INBOUND), now: NOW, controlId: 'ACK1' });
    expect(ack.ackCode).toBe('AA');
    const f = ackFields(ack.text);
    expect(f.MSH!.slice(0, 12)).toEqual([
      'MSH',
      '^~\\&',
      'YIFANG',
      'CDC',
      'HIS^1.2.3^ISO',
      'HOSP01',
      '20240305101530+0800',
      '',
      'ACK^A04^ACK',
      'ACK1',
      'P',
      '2.5.1',
    ]);
    expect(f.MSA).toEqual(['MSA', 'AA', 'MSG0001', 'Message accepted']);
    expect(f.ERR).toBeUndefined();
    expect(ack.text.endsWith('\r')).toBe(true);
  });

  it('AE 102 for an invalid date, naming the field in ERR and MSA-3', () => {
    const message = parseHl7(INBOUND);
    let error: unknown;
    try {
      toFhir(message);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Hl7ParseError);
    const ack = buildAck({ message, error, now: NOW });
    const f = ackFields(ack.text);
    expect(ack).toMatchObject({ ackCode: 'AE', errorCode: 102 });
    expect(f.MSA![1]).toBe('AE');
    expect(f.MSA![2]).toBe('MSG0001');
    expect(f.MSA![3]).toMatch(/^PID-7 has an invalid date\/time "19901301": month 13 is out of range/);
    expect(f.ERR![2]).toBe('PID^1^7^1');
    expect(f.ERR![3]).toBe('102^Data type error^HL70357');
    expect(f.ERR![4]).toBe('E');
    expect(f.ERR![8]).toMatch(/PID-7/);
  });

  it('AR 200 for an unsupported message type', () => {
    const message = parseHl7(readSample('SIU-S12-01.hl7'));
    let error: unknown;
    try {
      toFhir(message);
    } catch (e) {
      error = e;
    }
    const ack = buildAck({ message, error });
    const f = ackFields(ack.text);
    expect(f.MSA![1]).toBe('AR');
    expect(f.MSA![2]).toBe(message.controlId);
    expect(f.ERR![3]).toBe('200^Unsupported message type^HL70357');
    expect(f.ERR![2]).toBe('MSH^1^9^1');
  });

  it('AE 100 for segments out of order', () => {
    const message = parseHl7('MSH|^~\\&|HIS|HOSP01|Y|C|20240305||ADT^A01|M2|P|2.5.1\rEVN|A01\rPV1|1|I\rPID|1||1^^^^MR');
    let error: unknown;
    try {
      toFhir(message);
    } catch (e) {
      error = e;
    }
    const f = ackFields(buildAck({ message, error }).text);
    expect(f.MSA![1]).toBe('AE');
    expect(f.ERR![3]).toMatch(/^100\^Segment sequence error/);
    expect(f.ERR![2]).toBe('PV1^1');
    expect(f.ERR![8]).toMatch(/PV1.*expected PID/);
  });

  it('AR 207 for an application failure (e.g. storage down)', () => {
    const ack = buildAck({ message: parseHl7(INBOUND), error: new Error('database unavailable') });
    const f = ackFields(ack.text);
    expect(f.MSA![1]).toBe('AR');
    expect(f.ERR![3]).toBe('207^Application internal error^HL70357');
    expect(f.ERR![8]).toMatch(/database unavailable/);
  });

  it('best-effort AR when the inbound message could not be parsed', () => {
    const raw = 'MSH|^~\\&|LIS|LAB9|YIFANG|CDC|20240305||ORU^R01|LAB-77|P|2.5\rP\u0001I\u0002D';
    let error: unknown;
    try {
      parseHl7(raw);
    } catch (e) {
      error = e;
    }
    const ack = buildAck({ raw: Buffer.from(raw), error });
    const f = ackFields(ack.text);
    expect(f.MSH![2]).toBe('YIFANG');
    expect(f.MSH![4]).toBe('LIS');
    expect(f.MSH![8]).toBe('ACK^R01^ACK');
    expect(f.MSA![1]).toBe('AR');
    expect(f.MSA![2]).toBe('LAB-77');
    expect(f.ERR![3]).toMatch(/^100\^/);
  });

  it('best-effort AR for garbage and for a message without MSH', () => {
    for (const raw of [Buffer.from([0xde, 0xad, 0xbe, 0xef]), Buffer.from('PID|1||123'), Buffer.alloc(0)]) {
      let error: unknown;
      try {
        parseHl7(raw);
      } catch (e) {
        error = e;
      }
      const ack = buildAck({ raw, error, application: 'YIFANG', facility: 'CDC' });
      const f = ackFields(ack.text);
      expect(f.MSA![1]).toBe('AR');
      expect(f.MSA![2]).toBe('');
      expect(f.MSH![2]).toBe('YIFANG');
      expect(f.ERR![3]).toMatch(/^100\^/);
      expect(parseHl7(ack.text).messageTypeKey).toBe('ACK');
    }
  });

  it('escapes delimiters in echoed text and writes ERR-1 for versions before 2.5', () => {
    const message = parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|X|P|2.3\rPID|1');
    const ack = buildAck({ message, error: new Hl7ParseError('MISSING_FIELD', 'PID-3 a|b^c is empty', { segment: 'PID', field: 3 }) });
    const f = ackFields(ack.text);
    expect(f.MSA![3]).toBe('PID-3 a\\F\\b\\S\\c is empty');
    expect(f.ERR![1]).toBe('PID^1^3^101&Required field missing&HL70357');
    expect(parseHl7(ack.text).get('MSA-3')).toBe('PID-3 a|b^c is empty');
  });

  it('encodes the ACK in the inbound charset and echoes MSH-18', () => {
    const text = 'MSH|^~\\&|HIS|医院|Y|C|20240101||ADT^A04|X|P|2.5|||||CHN|GB 18030-2000\rPID|1||1^^^^MR||张^三||2024130';
    const raw = iconv.encode(text, 'gb18030');
    const message = parseHl7(raw);
    const ack = buildAck({ message, error: new Hl7ParseError('BAD_DATE', 'PID-7 日期无效', { segment: 'PID', field: 7 }) });
    expect(ack.encoding).toBe('gb18030');
    const bytes = encodeAck(ack);
    const back = parseHl7(bytes);
    expect(back.charset).toBe('GB 18030-2000');
    expect(back.get('MSH-6')).toBe('医院');
    expect(back.get('MSA-3')).toBe('PID-7 日期无效');
  });
});

describe('processHl7Message / createHl7Handler', () => {
  it('stores a mapped message and answers AA', async () => {
    const store = vi.fn(async () => undefined);
    const outcome = await processHl7Message(readSample('ADT-A01-01.hl7'), { store });
    expect(store).toHaveBeenCalledTimes(1);
    const [result] = store.mock.calls[0] as unknown as [{ bundle: { type: string } }];
    expect(result.bundle.type).toBe('transaction');
    expect(outcome.ack.ackCode).toBe('AA');
    expect(ackFields(outcome.ack.text).MSA![2]).toBe('MSG00001');
  });

  it('answers AR 207 when storage fails, AE when the store rejects the content', async () => {
    const failing = await processHl7Message(readSample('ADT-A01-01.hl7'), {
      store: async () => {
        throw new Error('disk full');
      },
    });
    expect(failing.ack).toMatchObject({ ackCode: 'AR', errorCode: 207 });
    const rejecting = await processHl7Message(readSample('ADT-A01-01.hl7'), {
      store: async () => {
        throw new Hl7ParseError('MISSING_FIELD', 'PID-3 resident ID required by district policy', { segment: 'PID', field: 3 });
      },
    });
    expect(rejecting.ack).toMatchObject({ ackCode: 'AE', errorCode: 101 });
  });

  it('does not store or answer inbound ACKs', async () => {
    const store = vi.fn(async () => undefined);
    const handle = createHl7Handler({ store });
    expect(await handle(Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ACK^A01^ACK|9|P|2.5\rMSA|AA|1'))).toBeNull();
    expect(store).not.toHaveBeenCalled();
  });

  it('returns an AR for random bytes without throwing', async () => {
    const handle = createHl7Handler({ store: async () => undefined });
    const reply = await handle(Buffer.from([1, 2, 3, 0xff, 0x0d]));
    expect(ackFields(reply!).MSA![1]).toBe('AR');
  });
});
