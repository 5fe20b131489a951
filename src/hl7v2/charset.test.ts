import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeText, encodingForCharset } from './charset.js';
import { parseHl7 } from './parser.js';

const msh = (charset: string) =>
  `MSH|^~\\&|HIS|浙江省某县人民医院|YIFANG|CDC|20240305101500||ADT^A04^ADT_A01|M0001|P|2.5.1|||AL|NE|CHN|${charset}\r`;
const body = 'PID|1||000123^^^HOSP^MR~330102199001011234^^^CHN^ID||张^三丰||19900101|M|||解放路1号^^杭州市^浙江省^310000^CHN^H^^330102\r';

describe('encodingForCharset (MSH-18)', () => {
  it.each([
    ['UNICODE UTF-8', 'utf8'],
    ['UTF-8', 'utf8'],
    ['GB 18030-2000', 'gb18030'],
    ['GB18030', 'gb18030'],
    ['GBK', 'gbk'],
    ['GB2312', 'gbk'],
    ['8859/1', 'iso-8859-1'],
    ['8859/15', 'iso-8859-15'],
    ['ISO-8859-1', 'iso-8859-1'],
    ['BIG-5', 'big5'],
  ])('%s → %s', (declared, expected) => {
    expect(encodingForCharset(declared)).toBe(expected);
  });
  it('returns undefined for unknown sets', () => {
    expect(encodingForCharset('KLINGON')).toBeUndefined();
  });
});

describe('decodeMessage', () => {
  it('decodes a GB18030-encoded message with a Chinese name (MSH-18 = GB 18030-2000)', () => {
    const text = msh('GB 18030-2000') + body;
    const raw = iconv.encode(text, 'gb18030');
    expect(raw.equals(Buffer.from(text, 'utf8'))).toBe(false);
    const decoded = decodeMessage(raw);
    expect(decoded.encoding).toBe('gb18030');
    expect(decoded.declaredCharset).toBe('GB 18030-2000');
    expect(decoded.inferred).toBe(false);
    expect(decoded.text).toBe(text);
    const msg = parseHl7(decoded.text, { encoding: decoded.encoding });
    expect(msg.get('PID-5-1')).toBe('张');
    expect(msg.get('PID-5-2')).toBe('三丰');
    expect(msg.get('MSH-4')).toBe('浙江省某县人民医院');
  });

  it('parseHl7 accepts raw bytes and decodes them itself', () => {
    const raw = iconv.encode(msh('GBK') + body, 'gbk');
    expect(parseHl7(raw).get('PID-11-1')).toBe('解放路1号');
  });

  it('infers GB18030 when MSH-18 is empty and the bytes are not UTF-8', () => {
    const raw = iconv.encode(msh('') + body, 'gb18030');
    const decoded = decodeMessage(raw);
    expect(decoded.inferred).toBe(true);
    expect(decoded.encoding).toBe('gb18030');
    expect(decoded.text).toContain('张^三丰');
  });

  it('uses UTF-8 by default and strips a UTF-8 BOM', () => {
    const text = msh('') + body;
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    const decoded = decodeMessage(raw);
    expect(decoded.bomRemoved).toBe(true);
    expect(decoded.encoding).toBe('utf8');
    expect(decoded.text).toBe(text);
  });

  it('treats a wrong "ASCII" declaration like an empty one', () => {
    const raw = Buffer.from(msh('ASCII') + body, 'utf8');
    const decoded = decodeMessage(raw);
    expect(decoded.encoding).toBe('utf8');
    expect(decoded.text).toContain('张');
  });

  it('finds MSH-18 even when a GBK trail byte in MSH-4 equals "|"', () => {
    // 丨 (U+4E28) is 0xD8 0x7C in GBK: its second byte is the field separator.
    const text = 'MSH|^~\\&|HIS|丨院|Y|C|20240305||ADT^A04|X1|P|2.5|||||CHN|GBK\rPID|1||9^^^H^MR||王^五\r';
    const raw = iconv.encode(text, 'gbk');
    expect([...raw].includes(0x7c)).toBe(true);
    const decoded = decodeMessage(raw);
    expect(decoded.encoding).toBe('gbk');
    expect(decoded.text).toBe(text);
  });

  it('decodes ISO 8859/1', () => {
    const text = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5|||||DEU|8859/1\rPID|1||1^^^H^MR||Müller^Jürgen\r';
    const decoded = decodeMessage(iconv.encode(text, 'latin1'));
    expect(decoded.encoding).toBe('iso-8859-1');
    expect(decoded.text).toBe(text);
  });

  it('does not throw on bytes that are not HL7', () => {
    const decoded = decodeMessage(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    expect(typeof decoded.text).toBe('string');
  });

  it('encodeText round-trips Chinese text', () => {
    expect(iconv.decode(encodeText('张三', 'gb18030'), 'gb18030')).toBe('张三');
    expect(encodeText('张三', 'utf8').toString('utf8')).toBe('张三');
  });
});

describe('decodeMessage reads MSH-18 from the declared position', () => {
  it('reports the declared value and does not infer', () => {
    const decoded = decodeMessage(Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5|||||CHN|GBK~UNICODE UTF-8\rPID|1\r'));
    expect(decoded.declaredCharset).toBe('GBK');
    expect(decoded.inferred).toBe(false);
    expect(decoded.encoding).toBe('gbk');
  });
});
