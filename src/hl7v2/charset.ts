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
import { invalidUtf8 } from '../shared/utf8.js';
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { Hl7ParseError } from './errors.js';

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

// ---------------------------------------------------------------------------------------------
// Checked decoding: the bytes must be what MSH-18 says (issue #14)
// ---------------------------------------------------------------------------------------------

/**
 * How the intake decodes: what an empty MSH-18 means, and which character set to try when the
 * bytes are not valid in the declared one (per sending facility, MSH-4.1, with a default).
 * Encodings are iconv-lite names (see `encodingForCharset`).
 */
export interface CharsetPolicy {
  /** The encoding an empty MSH-18 stands for. Default 'utf8'. */
  defaultEncoding: string;
  /** Tried when the bytes do not match the declared (or default) encoding. Default 'gb18030'. */
  fallbackEncoding: string;
  /** Per sending facility (MSH-4.1 exactly as sent): the encoding to try instead of `fallbackEncoding`. */
  facilityEncodings: Readonly<Record<string, string>>;
}

export const DEFAULT_CHARSET_POLICY: CharsetPolicy = { defaultEncoding: 'utf8', fallbackEncoding: 'gb18030', facilityEncodings: {} };

/** A decoding the intake accepted but must report: ACK AA with an ERR of severity W on MSH-18. */
export interface CharsetWarning {
  /** MSH-18 as sent ('' when empty). */
  declared: string;
  /** The encoding the declaration stands for (utf8 for an empty MSH-18 by default). */
  expected: string;
  /** The encoding the message was decoded with. */
  used: string;
  /** Byte offset (in the message as received) of the first byte not valid in `expected`; -1 when MSH-18 was not recognised. */
  offset: number;
  /** One sentence for the ERR segment and the stored message. */
  message: string;
}

export interface CheckedDecode extends DecodedMessage {
  warning?: CharsetWarning;
}

/** Readable names for the reason texts. */
const ENCODING_LABELS: Record<string, string> = {
  utf8: 'UTF-8',
  gb18030: 'GB18030',
  gbk: 'GBK',
  big5: 'Big5',
  'euc-kr': 'EUC-KR',
  ascii: 'ASCII',
};
export const encodingLabel = (enc: string) => ENCODING_LABELS[enc] ?? enc.toUpperCase();

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence; -1 when all are. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  return invalidUtf8(bytes)?.[0] ?? -1;
}

/** True when decoding with `encoding` loses nothing: the text encodes back to exactly these bytes. */
function decodesCleanly(bytes: Buffer, encoding: string): string | undefined {
  if (encoding === 'utf8') return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
  if (encoding === 'ascii') {
    for (const b of bytes) if (b >= 0x80) return undefined;
    return bytes.toString('latin1');
  }
  const text = iconv.decode(bytes, encoding);
  return iconv.encode(text, encoding).equals(bytes) ? text : undefined;
}

/** Offset of the first byte `encoding` cannot decode faithfully; -1 when none. Slow path: only for reasons. */
export function firstUndecodableByte(bytes: Buffer, encoding: string): number {
  if (encoding === 'utf8') return firstInvalidUtf8(bytes);
  if (encoding === 'ascii') return bytes.findIndex((b) => b >= 0x80);
  const decoder = iconv.getDecoder(encoding);
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    const out = decoder.write(bytes.subarray(i, i + 1));
    if (!out) continue;
    const back = iconv.encode(out, encoding);
    if (!back.equals(bytes.subarray(from, from + back.length))) return from;
    from += back.length;
  }
  const tail = decoder.end() ?? '';
  if (tail && !iconv.encode(tail, encoding).equals(bytes.subarray(from))) return from;
  return from < bytes.length ? from : -1;
}

/** MSH-4.1 read from the bytes (ASCII-compatible encodings keep it as sent). */
function scanFacility(bytes: Buffer, start: number): string {
  let end = start;
  while (end < bytes.length && bytes[end] !== CR && bytes[end] !== LF) end++;
  if (end - start < 8) return '';
  const fieldSep = bytes[start + 3]!;
  const compSep = bytes[start + 4]!;
  let field = 2;
  let from = -1;
  for (let i = start + 4; i < end; i++) {
    if (bytes[i] !== fieldSep) continue;
    field++;
    if (field === 4) from = i + 1;
    else if (field === 5) {
      end = i;
      break;
    }
  }
  if (from < 0) return '';
  let stop = end;
  for (let i = from; i < end; i++)
    if (bytes[i] === compSep) {
      stop = i;
      break;
    }
  const raw = bytes.subarray(from, stop);
  return (isUtf8(raw) ? raw.toString('utf8') : raw.toString('latin1')).trim();
}

/** The bytes match neither MSH-18 nor any character set tried instead: AR, nothing stored. */
export class Hl7CharsetError extends Hl7ParseError {
  constructor(
    message: string,
    /** Byte offset of the first byte not valid in the declared (or default) encoding. */
    readonly offset: number,
  ) {
    super('BAD_ENCODING', message, { segment: 'MSH', field: 18 });
  }
}

/**
 * Decodes raw message bytes, checking that they are valid in the character set MSH-18 declares
 * (or the policy's default when MSH-18 is empty). When they are not, the facility's configured
 * character set (else the policy's fallback) and UTF-8 are tried, each strictly (the text must
 * encode back to the very same bytes, so no U+FFFD is ever made up); the first that fits is used
 * and reported in `warning`. Throws Hl7CharsetError, naming the byte offset, when none fits.
 */
export function decodeChecked(raw: Buffer | Uint8Array, policy: CharsetPolicy = DEFAULT_CHARSET_POLICY): CheckedDecode {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bomRemoved = bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
  const body = bomRemoved ? bytes.subarray(3) : bytes;
  const msh = findMsh(body, 0);
  let declaredCharset: string | undefined;
  let declaredEncoding: string | undefined;
  let facility = '';
  if (msh >= 0) {
    facility = scanFacility(body, msh);
    declaredCharset = scanDeclaredCharset(body, msh, false);
    declaredEncoding = declaredCharset ? encodingForCharset(declaredCharset) : undefined;
    if (!declaredEncoding) {
      const gb = scanDeclaredCharset(body, msh, true);
      const gbEncoding = gb ? encodingForCharset(gb) : undefined;
      if (gbEncoding) {
        declaredCharset = gb;
        declaredEncoding = gbEncoding;
      }
    }
    if (!declaredEncoding && declaredCharset && /^(US-?)?ASCII$/i.test(declaredCharset.trim())) declaredEncoding = 'ascii';
  }
  const unknownDeclared = declaredCharset !== undefined && declaredEncoding === undefined;
  const expected = declaredEncoding ?? policy.defaultEncoding;
  const declared = declaredCharset ?? '';
  const said = declared ? `MSH-18 '${declared}'` : `MSH-18 is empty (default ${encodingLabel(expected)})`;
  const result = (text: string, encoding: string, warning?: CharsetWarning): CheckedDecode => ({
    text,
    encoding: encoding === 'ascii' ? 'utf8' : encoding,
    declaredCharset,
    inferred: declaredEncoding === undefined,
    bomRemoved,
    warning,
  });

  if (!unknownDeclared) {
    const text = decodesCleanly(body, expected);
    if (text !== undefined) return result(text, expected);
  }
  /** Offset in the message as received (BOM included). */
  const badAt = (encoding: string) => Math.max(0, firstUndecodableByte(body, encoding)) + (bomRemoved ? 3 : 0);
  const offset = unknownDeclared ? -1 : badAt(expected);
  const candidates = [...new Set([policy.facilityEncodings[facility] ?? policy.fallbackEncoding, 'utf8', policy.defaultEncoding])].filter(
    (e) => unknownDeclared || e !== expected,
  );
  for (const encoding of candidates) {
    const text = decodesCleanly(body, encoding);
    if (text === undefined) continue;
    const why = unknownDeclared
      ? `${said} is not a character set this hub knows`
      : `${said} but the bytes are not valid ${encodingLabel(expected)} (first at byte offset ${offset})`;
    return result(text, encoding, {
      declared,
      expected: unknownDeclared ? '' : expected,
      used: encoding,
      offset,
      message: `${why}; decoded as ${encodingLabel(encoding)} instead`,
    });
  }
  const at = offset >= 0 ? offset : badAt(candidates[0] ?? expected);
  const b = bytes[at];
  const tried = candidates.map(encodingLabel).join(', ');
  throw new Hl7CharsetError(
    unknownDeclared
      ? `${said} is not a character set this hub knows, and the bytes are not valid ${tried} either (first bad byte at offset ${at}${b === undefined ? '' : `: 0x${b.toString(16).padStart(2, '0')}`}); nothing was stored`
      : `${said} but the bytes are not valid ${encodingLabel(expected)}: byte offset ${at}${b === undefined ? '' : ` (0x${b.toString(16).padStart(2, '0')})`}; not valid ${tried} either; nothing was stored`,
    at,
  );
}
