/**
 * Turning the raw bytes of an HL7 v2 message into text.
 *
 * The character set is declared in MSH-18, which we can only read after decoding... but the MSH
 * segment up to MSH-18 is ASCII in practice, and every encoding we accept keeps ASCII bytes as
 * they are. So the MSH bytes are scanned directly, the declared set is looked up, and the whole
 * buffer is decoded with iconv-lite.
 *
 * When MSH-18 is empty (very common with Chinese HIS interfaces that send GBK anyway) the bytes
 * are decoded as UTF-8 if they are valid UTF-8, otherwise as GB18030.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export interface DecodedMessage {
  /** The message text, BOM removed. */
  text: string;
  /** iconv-lite encoding used to decode (and to encode the reply). */
  encoding: string;
  /** MSH-18 exactly as sent (first repetition), if any. */
  declaredCharset?: string;
  /** True when MSH-18 was empty or unknown and the encoding was inferred from the bytes. */
  inferred: boolean;
  /** True when a UTF-8 byte order mark was removed. */
  bomRemoved: boolean;
}

const BOM = [0xef, 0xbb, 0xbf];
const CR = 0x0d;
const LF = 0x0a;

/**
 * Maps an MSH-18 value (HL7 table 0211, plus the spellings Chinese vendors use) to an
 * iconv-lite encoding name. Returns undefined when the value is not recognised.
 */
export function encodingForCharset(declared: string): string | undefined {
  const key = declared.toUpperCase().replace(/[\s_-]+/g, '');
  if (key === '') return undefined;
  if (key === 'UNICODEUTF8' || key === 'UTF8' || key === 'UNICODE') return 'utf8';
  if (key.startsWith('GB18030')) return 'gb18030';
  if (key === 'GBK' || key === 'CP936' || key === 'GB2312' || key === 'GB23121980' || key === 'EUCCN') return 'gbk';
  if (key === 'BIG5') return 'big5';
  if (key === 'KSX1001' || key === 'EUCKR') return 'euc-kr';
  const iso = /^(?:ISO)?8859\/?(\d{1,2})$/.exec(key.replace('ISO8859', '8859'));
  if (iso) return `iso-8859-${iso[1]}`;
  if (key === 'LATIN1') return 'iso-8859-1';
  return undefined;
}

/** Reads MSH-18 from the raw bytes; `gbAware` steps over double-byte characters. */
function scanDeclaredCharset(bytes: Buffer, start: number, gbAware: boolean): string | undefined {
  // Segment runs to the first CR or LF (neither occurs inside a GB or UTF-8 multibyte character).
  let end = start;
  while (end < bytes.length && bytes[end] !== CR && bytes[end] !== LF) end++;
  if (end - start < 8) return undefined;
  const fieldSep = bytes[start + 3]!;
  const repSep = bytes[start + 5];
  let field = 2; // the byte at start+3 is MSH-1 itself; MSH-2 starts right after it
  let valueStart = -1;
  for (let i = start + 4; i < end; i++) {
    const b = bytes[i]!;
    if (gbAware && b >= 0x81 && b <= 0xfe && i + 1 < end) {
      const next = bytes[i + 1]!;
      // four-byte GB18030 sequences have an ASCII digit second; two-byte ones a trail byte >= 0x40
      i += next >= 0x30 && next <= 0x39 ? 3 : 1;
      continue;
    }
    if (b === fieldSep) {
      field++;
      if (field === 18) valueStart = i + 1;
      else if (field === 19) return ascii(bytes, valueStart, i, repSep);
    }
  }
  return valueStart >= 0 ? ascii(bytes, valueStart, end, repSep) : undefined;
}

function ascii(bytes: Buffer, from: number, to: number, repSep: number | undefined): string | undefined {
  let stop = to;
  for (let i = from; i < to; i++) {
    if (bytes[i] === repSep) {
      stop = i;
      break;
    }
  }
  const s = bytes.subarray(from, stop).toString('latin1').trim();
  return s === '' ? undefined : s;
}

/** Index of the first byte of "MSH", skipping a BOM and blank lines; -1 if the message does not start with MSH. */
function findMsh(bytes: Buffer, from: number): number {
  let i = from;
  while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF || bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x4d && bytes[i + 1] === 0x53 && bytes[i + 2] === 0x48) return i;
  return -1;
}

export interface DecodeOptions {
  /**
   * Encoding used when MSH-18 is empty or unknown and the bytes are not valid UTF-8.
   * Default 'gb18030'.
   */
  fallbackEncoding?: string;
}

/** Decodes raw message bytes to text according to MSH-18 (see the module comment). */
export function decodeMessage(raw: Buffer | Uint8Array, options: DecodeOptions = {}): DecodedMessage {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bomRemoved = bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
  const body = bomRemoved ? bytes.subarray(3) : bytes;
  const fallback = options.fallbackEncoding ?? 'gb18030';

  let declaredCharset: string | undefined;
  let encoding: string | undefined;
  const msh = findMsh(body, 0);
  if (msh >= 0) {
    declaredCharset = scanDeclaredCharset(body, msh, false);
    encoding = declaredCharset ? encodingForCharset(declaredCharset) : undefined;
    if (!encoding) {
      // A double-byte name in MSH-3..17 can contain a trail byte equal to '|'; retry stepping over them.
      const gbDeclared = scanDeclaredCharset(body, msh, true);
      const gbEncoding = gbDeclared ? encodingForCharset(gbDeclared) : undefined;
      if (gbEncoding) {
        declaredCharset = gbDeclared;
        encoding = gbEncoding;
      }
    }
  }
  // ASCII declared but 8-bit bytes present: the declaration is wrong, infer like an empty MSH-18.
  const declaredAscii = declaredCharset !== undefined && /^(US-?)?ASCII$/i.test(declaredCharset.trim());
  let inferred = false;
  if (!encoding) {
    inferred = true;
    encoding = declaredAscii || isUtf8(body) ? 'utf8' : fallback;
  }
  return { text: iconv.decode(body, encoding), encoding, declaredCharset, inferred, bomRemoved };
}

/** Encodes text (for example an ACK) in the given iconv-lite encoding. */
export function encodeText(text: string, encoding: string): Buffer {
  if (encoding === 'utf8' || !iconv.encodingExists(encoding)) return Buffer.from(text, 'utf8');
  return iconv.encode(text, encoding);
}
