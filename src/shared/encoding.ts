/**
 * Turning an uploaded feed file's bytes into text without silent corruption. The encoding named
 * by the sender (charset=…, ?encoding=…, --encoding) is used when given; otherwise it is
 * detected: a BOM (UTF-8, UTF-16), bytes that are valid UTF-8, else bytes that are valid GB18030
 * (the superset of GBK and GB2312 that Chinese spreadsheets save as "CSV"), else what chardet
 * suggests when those bytes decode cleanly in it. Every decoding is strict: bytes that are not
 * valid in the encoding are a refusal naming where they are, never U+FFFD in the stored text.
 */
import { invalidUtf8 } from './utf8.js';
import chardet from 'chardet';
import iconv from 'iconv-lite';

/** Encoding names as recorded on the upload (lower case; UTF-8 is 'utf-8'). */
export type DecodeResult =
  | { ok: true; text: string; encoding: string }
  /** `status` 415 when the named encoding is unknown; 400 when the bytes are not valid in it (or in any detected one). */
  | { ok: false; status: 400 | 415; message: string; line?: number };

const HOW_TO_SAY = "say the encoding with charset=… in the Content-Type (e.g. 'text/csv; charset=gb18030') or ?encoding=…";

/** The canonical name of an encoding iconv-lite knows, or undefined. UTF-8 spellings become 'utf-8'. */
export function normalizeEncoding(name: string): string | undefined {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  if (!n) return undefined;
  if (n === 'utf8' || n === 'utf-8') return 'utf-8';
  if (!iconv.encodingExists(n)) return undefined;
  return n;
}

/** The `charset` parameter of a Content-Type header, if any. */
export function charsetOf(contentType: string): string | undefined {
  const m = /;\s*charset\s*=\s*("?)([^";,\s]+)\1/i.exec(contentType);
  return m?.[2];
}

const hex = (bytes: Uint8Array, start: number, end: number) =>
  Array.from(bytes.subarray(start, end), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

/** 1-based line number of a byte offset (0x0A is never part of a multi-byte UTF-8 or GB18030 character). */
function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

export { invalidUtf8 };

/** "bytes 120–121 (81 20)" or "byte 7 (FF)": offsets count from 0. */
function where(bytes: Uint8Array, [start, end]: [number, number]): string {
  return end - start > 1 ? `bytes ${start}–${end - 1} (${hex(bytes, start, end)})` : `byte ${start} (${hex(bytes, start, end)})`;
}

/** The first byte sequence that breaks GB18030's structure (1, 2 or 4 bytes) as [start, end), or undefined. */
export function invalidGb18030Structure(bytes: Uint8Array): [number, number] | undefined {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b === 0x80 || b === 0xff) return [i, i + 1];
    const c = bytes[i + 1];
    if (c === undefined) return [i, i + 1];
    if ((c >= 0x40 && c <= 0x7e) || (c >= 0x80 && c <= 0xfe)) {
      i += 2;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      const d = bytes[i + 2];
      const e = bytes[i + 3];
      if (d !== undefined && d >= 0x81 && d <= 0xfe && e !== undefined && e >= 0x30 && e <= 0x39) {
        i += 4;
        continue;
      }
      return [i, Math.min(i + 4, n)];
    }
    return [i, i + 2];
  }
  return undefined;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8: the text, or where the first invalid sequence is. */
function decodeUtf8(bytes: Uint8Array): { text: string } | { bad: [number, number] } {
  try {
    return { text: fatalUtf8.decode(bytes) };
  } catch {
    return { bad: invalidUtf8(bytes) ?? [0, Math.min(1, bytes.length)] };
  }
}

/**
 * Strict decoding with iconv-lite: the bytes must come back unchanged when the text is encoded
 * again (iconv-lite substitutes U+FFFD for what it cannot read; the round trip shows it). Where
 * it fails, the GB structure check or the first byte that differs names the place.
 */
function decodeStrict(bytes: Buffer, encoding: string): { text: string } | { bad: [number, number] } {
  const text = iconv.decode(bytes, encoding, { stripBOM: false });
  const again = iconv.encode(text, encoding, { addBOM: false });
  if (again.equals(bytes)) return { text };
  if (/^(gb|cp936|euc-?cn|windows-?936)/.test(encoding)) {
    const bad = invalidGb18030Structure(bytes);
    if (bad) return { bad };
  }
  let i = 0;
  while (i < bytes.length && i < again.length && bytes[i] === again[i]) i++;
  return { bad: [Math.min(i, Math.max(bytes.length - 1, 0)), Math.min(i + 1, bytes.length)] };
}

/** Encodings in which every byte is a character: a clean decoding proves nothing. */
const SINGLE_BYTE = /^(iso-?8859|latin|windows-?125|cp125|koi8|macintosh|mac|ibm|cp4|cp8)/;

const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

function utf16Bom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe && !(bytes[2] === 0 && bytes[3] === 0)) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** UTF-16 without a BOM as Excel may write it: an ASCII header with every other byte 0. */
function utf16WithoutBom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(bytes.length, 32) & ~1;
  if (n < 8) return undefined;
  let le = true;
  let be = true;
  for (let i = 0; i < n; i += 2) {
    const [a, b] = [bytes[i]!, bytes[i + 1]!];
    if (!(a !== 0 && a < 0x80 && b === 0)) le = false;
    if (!(b !== 0 && b < 0x80 && a === 0)) be = false;
  }
  return le ? 'utf-16le' : be ? 'utf-16be' : undefined;
}

function refuse(bytes: Uint8Array, bad: [number, number], what: string): DecodeResult {
  const line = lineAt(bytes, bad[0]);
  return { ok: false, status: 400, line, message: `line ${line}: ${where(bytes, bad)} ${what}; ${HOW_TO_SAY}` };
}

/**
 * Decodes an upload. `declared` is the encoding the sender named (unchecked spelling); without
 * it the encoding is detected as described at the top of this file. A BOM is not part of the text.
 */
export function decodeFeed(payload: Buffer, declared?: string): DecodeResult {
  if (declared !== undefined) {
    let encoding = normalizeEncoding(declared);
    if (!encoding)
      return {
        ok: false,
        status: 415,
        message: `unknown encoding '${declared.slice(0, 40)}'; use e.g. utf-8, gb18030, gbk, big5 or utf-16le`,
      };
    if (encoding === 'utf-16' || encoding === 'utf16') encoding = payload[0] === 0xfe && payload[1] === 0xff ? 'utf-16be' : 'utf-16le';
    const r = encoding === 'utf-8' ? decodeUtf8(payload) : decodeStrict(payload, encoding);
    if ('bad' in r)
      return refuse(payload, r.bad, `${r.bad[1] - r.bad[0] > 1 ? 'are' : 'is'} not valid ${encoding.toUpperCase()} (the encoding named)`);
    return { ok: true, text: stripBom(r.text), encoding };
  }

  const bom16 = utf16Bom(payload) ?? utf16WithoutBom(payload);
  if (bom16) {
    const r = decodeStrict(payload, bom16);
    if ('bad' in r) return refuse(payload, r.bad, `${r.bad[1] - r.bad[0] > 1 ? 'are' : 'is'} not valid ${bom16.toUpperCase()}`);
    return { ok: true, text: stripBom(r.text), encoding: bom16 };
  }

  const hasUtf8Bom = payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf;
  const utf8 = decodeUtf8(payload);
  if ('text' in utf8) return { ok: true, text: stripBom(utf8.text), encoding: 'utf-8' };
  if (hasUtf8Bom) return refuse(payload, utf8.bad, 'are not valid UTF-8 (the file opens with a UTF-8 byte order mark)');

  const gb = decodeStrict(payload, 'gb18030');
  if ('text' in gb) return { ok: true, text: stripBom(gb.text), encoding: 'gb18030' };

  // Neither: ask the detector. Its first suggestion is taken when it is a multi-byte encoding
  // (Big5, Shift_JIS, EUC-KR, …) in which the bytes decode cleanly, a real check; a single-byte
  // encoding reads any bytes at all, so it is only named in the refusal. A damaged UTF-8 or
  // GB18030 file is refused rather than read as something else.
  const [guess] = chardet.analyse(payload);
  const hinted = guess && guess.confidence >= 50 ? normalizeEncoding(guess.name) : undefined;
  let hint = '';
  if (hinted && hinted !== 'utf-8' && !/^(gb|cp936)/.test(hinted)) {
    if (SINGLE_BYTE.test(hinted)) hint = `; it may be ${guess!.name} (if so, say charset=${hinted})`;
    else {
      const r = decodeStrict(payload, hinted);
      if ('text' in r) return { ok: true, text: stripBom(r.text), encoding: hinted };
    }
  }
  const gbFurther = gb.bad[0] >= utf8.bad[0];
  const bad = gbFurther ? gb.bad : utf8.bad;
  const other = gbFurther ? `as UTF-8 only up to byte ${utf8.bad[0]}` : `as GB18030 only up to byte ${gb.bad[0]}`;
  return refuse(
    payload,
    bad,
    `${bad[1] - bad[0] > 1 ? 'are' : 'is'} not valid UTF-8 or GB18030 (the file reads as ${gbFurther ? 'GB18030' : 'UTF-8'} up to there, ${other})${hint}`,
  );
}
