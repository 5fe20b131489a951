import { describe, expect, it } from 'vitest';
import { Hl7ParseError } from './errors.js';
import { escapeHl7, hl7ToFhirDate, hl7ToFhirDateTime, hl7ToFhirInstant, parseHl7 } from './parser.js';

const ADT = [
  'MSH|^~\\&|HIS|HOSP01|YIFANG|CDC|20240305101500+0800||ADT^A01^ADT_A01|MSG0001|P|2.5.1|||AL|NE|CHN|UNICODE UTF-8',
  'EVN|A01|20240305101500',
  'PID|1||000123^^^HOSP^MR~330102199001011234^^^CHN^ID||张^三||19900101|M|||解放路1号^^杭州市^浙江省^310000^CHN^H||13800000000^PRN^CP',
  'PV1|1|I|NEI^12^3|||||||MED|||||||||V20240305001|||||||||||||||||||||||||20240305100000',
  'OBX|1|ST|8661-1^Chief complaint^LN||发热3天，咳嗽 \\T\\ 咽痛\\F\\ 乏力\\E\\x\\S\\y\\R\\z\\X4F4B\\||||||F',
].join('\r');

function expectError(fn: () => unknown, code: string, pattern?: RegExp): Hl7ParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Hl7ParseError);
    const err = e as Hl7ParseError;
    expect(err.code).toBe(code);
    if (pattern) expect(err.message).toMatch(pattern);
    return err;
  }
  throw new Error(`expected Hl7ParseError ${code}`);
}

describe('parseHl7: structure and accessors', () => {
  const msg = parseHl7(ADT);

  it('reads header fields', () => {
    expect(msg.messageType).toEqual({ code: 'ADT', trigger: 'A01', structure: 'ADT_A01' });
    expect(msg.messageTypeKey).toBe('ADT^A01');
    expect(msg.controlId).toBe('MSG0001');
    expect(msg.sendingFacility).toBe('HOSP01');
    expect(msg.sendingApplication).toBe('HIS');
    expect(msg.version).toBe('2.5.1');
    expect(msg.charset).toBe('UNICODE UTF-8');
    expect(msg.separators).toMatchObject({ field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' });
  });

  it('lists segments in order with occurrences', () => {
    expect(msg.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'OBX']);
    expect(msg.segment('PID')!.occurrence).toBe(1);
  });

  it('get(): components, repetitions, whole fields', () => {
    expect(msg.get('PID-5-1')).toBe('张');
    expect(msg.get('PID.5.2')).toBe('三');
    expect(msg.get('PID-3-1')).toBe('000123');
    expect(msg.get('PID-3[2]-1')).toBe('330102199001011234');
    expect(msg.get('PID-3[2]-5')).toBe('ID');
    expect(msg.get('MSH-1')).toBe('|');
    expect(msg.get('MSH-2')).toBe('^~\\&');
    expect(msg.get('MSH-9')).toBe('ADT^A01^ADT_A01');
    expect(msg.get('MSH-10')).toBe('MSG0001');
    expect(msg.get('PV1-19')).toBe('V20240305001');
    expect(msg.get('PID-99')).toBeUndefined();
    expect(msg.get('ZZZ-1')).toBeUndefined();
    expect(() => msg.get('not a path')).toThrow();
  });

  it('unescapes \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and \\X..\\ hex', () => {
    expect(msg.get('OBX-5-1')).toBe('发热3天，咳嗽 & 咽痛| 乏力\\x^y~zOK');
  });

  it('keeps an unterminated escape literally', () => {
    const m = parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1||1^^^H^MR||C:\\temp');
    expect(m.get('PID-5-1')).toBe('C:\\temp');
  });

  it('accepts CR, LF and CRLF segment terminators, and blank lines', () => {
    for (const sep of ['\r', '\n', '\r\n', '\r\n\r\n']) {
      const m = parseHl7(ADT.split('\r').join(sep) + sep);
      expect(m.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'OBX']);
      expect(m.get('PID-5-2')).toBe('三');
    }
  });

  it('honours non-default delimiters from MSH-1/MSH-2', () => {
    const m = parseHl7('MSH#$*@%#A#B#C#D#20240101##ADT$A04#1#P#2.5\rPID#1##123$$$H$MR*456$$$H$MR##Li$Lei%%x');
    expect(m.get('PID-3-1')).toBe('123');
    expect(m.get('PID-3[2]-1')).toBe('456');
    expect(m.get('PID-5-2-1')).toBe('Lei');
    expect(m.get('PID-5-2-3')).toBe('x');
    expect(m.messageTypeKey).toBe('ADT^A04');
  });

  it('treats "" (HL7 null) as empty', () => {
    const m = parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5\rPID|1||1^^^H^MR||""^""');
    expect(m.get('PID-5-1')).toBeUndefined();
  });

  it('round-trips to ER7 with CR terminators', () => {
    expect(parseHl7(ADT.replace(/\r/g, '\n')).toString()).toBe(ADT + '\r');
  });

  it('escapeHl7 escapes delimiters', () => {
    expect(escapeHl7('a|b^c&d~e\\f')).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
  });
});

describe('parseHl7: errors', () => {
  it('MISSING_MSH for empty input', () => {
    expectError(() => parseHl7(''), 'MISSING_MSH', /empty/);
    expectError(() => parseHl7(Buffer.alloc(0)), 'MISSING_MSH');
  });

  it('MISSING_MSH when the first segment is not MSH', () => {
    expectError(
      () => parseHl7('PID|1||123\rMSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5'),
      'MISSING_MSH',
      /must start with an MSH segment.*PID/,
    );
  });

  it('BAD_SEPARATORS for an unusable field separator or encoding characters', () => {
    expectError(() => parseHl7('MSHA^~\\&A1'), 'BAD_SEPARATORS', /MSH-1/);
    expectError(() => parseHl7('MSH|||A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1'), 'BAD_SEPARATORS', /MSH-2/);
    expectError(() => parseHl7('MSH|^^\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1'), 'BAD_SEPARATORS', /MSH-2.*repeats/);
    expectError(() => parseHl7('MSH|^~\\&ABCDEFG|A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1'), 'BAD_SEPARATORS', /MSH-2/);
  });

  it('BAD_SEPARATORS when a segment uses a different field separator than MSH-1', () => {
    const err = expectError(
      () => parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rEVN^A04^20240101\rPID|1||1^^^H^MR'),
      'BAD_SEPARATORS',
      /Segment 2 \(EVN\).*"\^".*"\|"/,
    );
    expect(err.location?.segment).toBe('EVN');
  });

  it('TRUNCATED when the message stops inside MSH', () => {
    const full = 'MSH|^~\\&|HIS|HOSP01|YIFANG|CDC|20240305101500||ADT^A01^ADT_A01|MSG0001|P|2.5.1';
    expectError(() => parseHl7(full.slice(0, 6)), 'TRUNCATED', /MSH-2/);
    expectError(() => parseHl7(full.slice(0, 40)), 'TRUNCATED', /before MSH-9/);
    expectError(() => parseHl7(full.slice(0, 72)), 'TRUNCATED', /truncated/);
    expectError(() => parseHl7('MSH'), 'TRUNCATED', /MSH-1/);
  });

  it('TRUNCATED when the message ends inside a segment ID', () => {
    expectError(() => parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1||1\rP'), 'TRUNCATED', /segment ID/);
  });

  it('BAD_SEGMENT for a line that is not a segment', () => {
    expectError(() => parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rhello world\rPID|1'), 'BAD_SEGMENT', /Line 2/);
  });

  it('SEGMENT_ORDER for a second MSH', () => {
    expectError(
      () => parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\rPID|1\rMSH|^~\\&|A|B|C|D|20240101||ADT^A04|2|P|2.5'),
      'SEGMENT_ORDER',
    );
  });

  it('MISSING_FIELD for empty MSH-9 or MSH-10', () => {
    expectError(() => parseHl7('MSH|^~\\&|A|B|C|D|20240101|||1|P|2.5\rPID|1'), 'MISSING_FIELD', /MSH-9/);
    expectError(() => parseHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A04||P|2.5\rPID|1'), 'MISSING_FIELD', /MSH-10/);
  });

  it('maps each error code to its table 0357 code and AE/AR', () => {
    expect(new Hl7ParseError('SEGMENT_ORDER', 'x').hl7ErrorCode).toBe(100);
    expect(new Hl7ParseError('MISSING_FIELD', 'x').hl7ErrorCode).toBe(101);
    expect(new Hl7ParseError('BAD_DATE', 'x')).toMatchObject({ hl7ErrorCode: 102, ackCode: 'AE' });
    expect(new Hl7ParseError('UNSUPPORTED_TYPE', 'x')).toMatchObject({ hl7ErrorCode: 200, ackCode: 'AR' });
    expect(new Hl7ParseError('MISSING_MSH', 'x').ackCode).toBe('AR');
  });
});

describe('HL7 dates → FHIR', () => {
  it.each([
    ['2024', '2024'],
    ['202403', '2024-03'],
    ['20240305', '2024-03-05'],
    ['2024030510', '2024-03-05T10:00:00+08:00'],
    ['202403051015', '2024-03-05T10:15:00+08:00'],
    ['20240305101530', '2024-03-05T10:15:30+08:00'],
    ['20240305101530.1234', '2024-03-05T10:15:30.1234+08:00'],
    ['20240305101530-0500', '2024-03-05T10:15:30-05:00'],
    ['201203141259-0215', '2012-03-14T12:59:00-02:15'],
    ['20240229', '2024-02-29'],
    ['2024-03-05 10:15:30', '2024-03-05T10:15:30+08:00'],
    ['', undefined],
    ['""', undefined],
  ])('dateTime %j → %j', (input, expected) => {
    expect(hl7ToFhirDateTime(input, 'OBX-14')).toBe(expected);
  });

  it('date drops the time; instant needs minutes', () => {
    expect(hl7ToFhirDate('198808181126+0215', 'PID-7')).toBe('1988-08-18');
    expect(hl7ToFhirInstant('20240305', 'MSH-7')).toBeUndefined();
    expect(hl7ToFhirInstant('202403051015', 'MSH-7')).toBe('2024-03-05T10:15:00+08:00');
    expect(hl7ToFhirDateTime('2024030510', 'X-1', '+00:00')).toBe('2024-03-05T10:00:00+00:00');
  });

  it.each([
    ['20241305', /month 13/],
    ['20230229', /day 29 does not exist/],
    ['20240431', /day 31/],
    ['2024030525', /hour 25/],
    ['202403051061', /minute 61/],
    ['20240305101599', /second 99/],
    ['20240305+2500', /offset/],
    ['2024-3-5', /expected YYYY/],
    ['yesterday', /expected YYYY/],
    ['0000', /year 0000/],
  ])('rejects %j naming the field', (input, why) => {
    const err = expectError(() => hl7ToFhirDateTime(input, 'PID-7'), 'BAD_DATE', why);
    expect(err.message.startsWith('PID-7 ')).toBe(true);
    expect(err.location).toMatchObject({ segment: 'PID', field: 7 });
  });
});
