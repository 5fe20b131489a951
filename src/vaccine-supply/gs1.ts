/**
 * GS1 element strings as printed in the DataMatrix on a vaccine box or vial (药品追溯码 in the GS1
 * form): (01) GTIN-14, (17) expiry YYMMDD (day 00: the end of the month), (10) lot, (21) serial.
 * Accepts the scanner's raw text (FNC1 sent as GS, \x1d, after each variable-length field; an
 * optional "]d2" symbology identifier and a leading FNC1) and the human-readable form with the AIs
 * in parentheses. Pure: no I/O. A bad code is answered with the problem named, never guessed.
 */

export interface Gs1Code {
  gtin: string;
  /** ISO date (YYYY-MM-DD); day 00 in the code is the last day of the month. */
  expiry: string | null;
  lot: string | null;
  serial: string | null;
  /** Every element string read, AI → value (also the ones with no field above). */
  elements: Record<string, string>;
}

export type Gs1Result = { ok: true; code: Gs1Code } | { ok: false; problem: string };

const GS = '\x1d';

/** AI → fixed length of its value, or { max } for a variable-length one (ended by GS or the end). */
const AIS: Record<string, number | { max: number }> = {
  '00': 18,
  '01': 14,
  '02': 14,
  '10': { max: 20 },
  '11': 6,
  '13': 6,
  '15': 6,
  '17': 6,
  '21': { max: 20 },
  '30': { max: 8 },
  '37': { max: 8 },
  '240': { max: 30 },
  '241': { max: 30 },
  '710': { max: 20 },
  '711': { max: 20 },
  '712': { max: 20 },
  '713': { max: 20 },
  '714': { max: 20 },
};
const NAMES: Record<string, string> = { '01': 'GTIN', '17': 'expiry', '10': 'lot', '21': 'serial' };
/** GS1's character set 82 for alphanumeric values. */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;
const DATE_AIS = new Set(['11', '13', '15', '17']);
const NUMERIC_AIS = new Set(['00', '01', '02', '11', '13', '15', '17', '30', '37']);

/** The GS1 mod-10 check digit of the digits before it (GTIN-8/12/13/14, SSCC). */
export function gs1CheckDigit(body: string): number {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += Number(body[i]) * w;
  return (10 - (sum % 10)) % 10;
}

/** YYMMDD → YYYY-MM-DD (20YY; day 00 is the month's last day), or the problem. */
export function gs1Date(v: string): { date: string } | { problem: string } {
  if (!/^\d{6}$/.test(v)) return { problem: `'${v}' is not a date YYMMDD` };
  const year = 2000 + Number(v.slice(0, 2));
  const month = Number(v.slice(2, 4));
  let day = Number(v.slice(4, 6));
  if (month < 1 || month > 12) return { problem: `month ${v.slice(2, 4)} in '${v}' is not 01–12` };
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day === 0) day = last;
  if (day > last) return { problem: `day ${v.slice(4, 6)} in '${v}' is past the end of the month (${last})` };
  return { date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
}

function aiAt(s: string, i: number): string | undefined {
  for (const len of [2, 3, 4]) {
    const ai = s.slice(i, i + len);
    if (AIS[ai] !== undefined) return ai;
  }
  return undefined;
}

/** Splits the raw (scanner) form into AI → value. */
function splitRaw(s: string): { elements: [string, string][] } | { problem: string } {
  const out: [string, string][] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) {
      i++;
      continue;
    }
    const ai = aiAt(s, i);
    if (!ai) return { problem: `unknown application identifier at position ${i + 1} ('${s.slice(i, i + 4)}…')` };
    const spec = AIS[ai]!;
    const start = i + ai.length;
    if (typeof spec === 'number') {
      const value = s.slice(start, start + spec);
      if (value.length < spec || value.includes(GS)) return { problem: `(${ai}) needs ${spec} characters, found '${value.split(GS)[0]}'` };
      out.push([ai, value]);
      i = start + spec;
    } else {
      const end = s.indexOf(GS, start);
      const value = s.slice(start, end < 0 ? s.length : end);
      if (value.length > spec.max)
        return {
          problem: `(${ai}) ${NAMES[ai] ?? ''} is ${value.length} characters, more than ${spec.max}: a separator (GS) is missing after it?`,
        };
      out.push([ai, value]);
      i = end < 0 ? s.length : end + 1;
    }
  }
  return { elements: out };
}

/** Splits the human-readable form "(01)0690…(17)270331(10)A1" into AI → value. */
function splitReadable(s: string): { elements: [string, string][] } | { problem: string } {
  const out: [string, string][] = [];
  const re = /\((\d{2,4})\)([^()]*)/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(s))) {
    out.push([m[1]!, m[2]!.trim()]);
    last = re.lastIndex;
  }
  if (last !== s.length) return { problem: `cannot read '${s.slice(last, last + 12)}…' at position ${last + 1}: expected (AI)value` };
  for (const [ai] of out) if (AIS[ai] === undefined) return { problem: `unknown application identifier (${ai})` };
  return { elements: out };
}

/** Parses one scanned GS1 code. */
export function parseGs1(input: string): Gs1Result {
  let s = input.replace(/[\r\n]+$/g, '').trim();
  if (!s) return { ok: false, problem: 'the code is empty' };
  if (s.startsWith(']d2') || s.startsWith(']C1') || s.startsWith(']Q3')) s = s.slice(3);
  // Scanners send FNC1 as GS; some keyboard wedges spell it out.
  s = s.replace(/<GS>|\\x1d|\u241d/gi, GS);
  while (s.startsWith(GS)) s = s.slice(1);
  const split = s.startsWith('(') ? splitReadable(s) : splitRaw(s);
  if ('problem' in split) return { ok: false, problem: split.problem };
  const elements: Record<string, string> = {};
  for (const [ai, value] of split.elements) {
    if (elements[ai] !== undefined) return { ok: false, problem: `(${ai}) appears twice` };
    if (!value) return { ok: false, problem: `(${ai}) ${NAMES[ai] ?? ''} is empty`.replace('  ', ' ') };
    const spec = AIS[ai]!;
    if (typeof spec === 'number' && value.length !== spec)
      return {
        ok: false,
        problem: `(${ai}) ${NAMES[ai] ?? ''} needs ${spec} digits, found ${value.length} ('${value}')`.replace('  ', ' '),
      };
    if (typeof spec !== 'number' && value.length > spec.max)
      return { ok: false, problem: `(${ai}) is ${value.length} characters, more than ${spec.max}` };
    if (NUMERIC_AIS.has(ai) && !/^\d+$/.test(value)) return { ok: false, problem: `(${ai}) must be digits, found '${value}'` };
    if (!NUMERIC_AIS.has(ai) && !CSET82.test(value))
      return { ok: false, problem: `(${ai}) '${value}' has a character outside GS1's set (letters, digits, !"%&'()*+,-./:;<=>?_)` };
    elements[ai] = value;
  }
  const gtin = elements['01'];
  if (!gtin) return { ok: false, problem: 'no GTIN (01) in the code' };
  const check = gs1CheckDigit(gtin.slice(0, 13));
  if (check !== Number(gtin[13])) return { ok: false, problem: `GTIN ${gtin} has a bad check digit: ${gtin[13]}, expected ${check}` };
  let expiry: string | null = null;
  for (const ai of Object.keys(elements).filter((a) => DATE_AIS.has(a))) {
    const d = gs1Date(elements[ai]!);
    if ('problem' in d) return { ok: false, problem: `(${ai}) ${NAMES[ai] ?? 'date'}: ${d.problem}` };
    if (ai === '17') expiry = d.date;
  }
  return { ok: true, code: { gtin, expiry, lot: elements['10'] ?? null, serial: elements['21'] ?? null, elements } };
}
