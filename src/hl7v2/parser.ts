/**
 * HL7 v2 ER7 ("pipe and hat") parser.
 *
 * Segments end with CR; LF and CRLF are tolerated. Delimiters come from MSH-1 and MSH-2.
 * Values are kept escaped in the tree and unescaped when read, so splitting never confuses an
 * escaped delimiter with a real one.
 */
import iconv from 'iconv-lite';
import { decodeMessage } from './charset.js';
import { Hl7ParseError, formatLocation, type Hl7ErrorLocation } from './errors.js';

export { Hl7ParseError } from './errors.js';
export type { Hl7ErrorCode, Hl7ErrorLocation } from './errors.js';

export interface Separators {
  field: string;
  component: string;
  repetition: string;
  /** Empty when MSH-2 declares no escape character. */
  escape: string;
  /** Empty when MSH-2 declares no subcomponent separator. */
  subcomponent: string;
  /** v2.7+ truncation character, when declared. */
  truncation: string;
}

export const DEFAULT_SEPARATORS: Separators = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
  truncation: '',
};

/** Raw (still escaped) tree of one field: repetitions → components → subcomponents. */
type RawField = string[][][];

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;

function unescapeValue(s: string, seps: Separators, encoding: string): string {
  const e = seps.escape;
  if (!e || !s.includes(e)) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch !== e) {
      out += ch;
      i++;
      continue;
    }
    const end = s.indexOf(e, i + 1);
    if (end < 0) {
      out += s.slice(i);
      break;
    }
    const seq = s.slice(i + 1, end);
    i = end + 1;
    switch (seq) {
      case 'F':
        out += seps.field;
        continue;
      case 'S':
        out += seps.component;
        continue;
      case 'T':
        out += seps.subcomponent;
        continue;
      case 'R':
        out += seps.repetition;
        continue;
      case 'E':
        out += seps.escape;
        continue;
      case 'P':
        out += seps.truncation;
        continue;
      case '.br':
        out += '\n';
        continue;
      case 'H':
      case 'N':
        continue; // highlighting on/off: no meaning in plain text
    }
    if (/^X(?:[0-9A-Fa-f]{2})+$/.test(seq)) {
      const bytes = Buffer.from(seq.slice(1), 'hex');
      out += encoding === 'utf8' ? bytes.toString('utf8') : iconv.decode(bytes, encoding);
    } else if (/^[CM][0-9A-Fa-f]+$/.test(seq) || /^Z/.test(seq) || /^\.(sp|in|ti|fi|nf|ce|sk)/.test(seq)) {
      // character-set switches, local escapes and formatting commands carry no text
      if (seq.startsWith('.sp')) out += '\n';
    } else {
      out += e + seq + e; // not an escape sequence we know: keep it literally
    }
  }
  return out;
}

/** Escapes text so it can be placed in a field/component of an ER7 message. */
export function escapeHl7(text: string, seps: Separators = DEFAULT_SEPARATORS): string {
  const e = seps.escape || '\\';
  let out = '';
  for (const ch of text) {
    if (ch === e) out += `${e}E${e}`;
    else if (ch === seps.field) out += `${e}F${e}`;
    else if (ch === seps.component) out += `${e}S${e}`;
    else if (ch === seps.repetition) out += `${e}R${e}`;
    else if (seps.subcomponent && ch === seps.subcomponent) out += `${e}T${e}`;
    else if (ch === '\r' || ch === '\n') out += ' ';
    else out += ch;
  }
  return out;
}

/** One repetition of a field: a composite with components and subcomponents. */
export class Hl7Composite {
  constructor(
    private readonly raw: string[][],
    private readonly seps: Separators,
    private readonly encoding: string,
  ) {}

  /** Unescaped value of a component (1-based) / subcomponent; undefined when empty or HL7 null (""). */
  value(component = 1, subcomponent = 1): string | undefined {
    const v = this.raw[component - 1]?.[subcomponent - 1];
    if (v === undefined || v === '' || v === '""') return undefined;
    const u = unescapeValue(v, this.seps, this.encoding).trim();
    return u === '' ? undefined : u;
  }

  /** Number of components present. */
  get componentCount(): number {
    return this.raw.length;
  }

  /** True when no component has a value. */
  get isEmpty(): boolean {
    return this.raw.every((c) => c.every((s) => s === '' || s === '""'));
  }

  /** ER7 text of this repetition, escapes kept. */
  toString(): string {
    return this.raw.map((c) => c.join(this.seps.subcomponent)).join(this.seps.component);
  }

  /** ER7 text of one component (subcomponents joined), escapes kept. */
  rawComponent(component: number): string {
    return (this.raw[component - 1] ?? []).join(this.seps.subcomponent);
  }

  /** True when the repetition is a single simple value (no component or subcomponent delimiters). */
  get isSimple(): boolean {
    return this.raw.length <= 1 && (this.raw[0]?.length ?? 0) <= 1;
  }
}

export class Hl7Segment {
  /** Segment ID, e.g. 'PID'. */
  readonly name: string;
  /** 0-based position in the message. */
  readonly index: number;
  /** 1-based occurrence among segments with the same ID. */
  readonly occurrence: number;
  private readonly fields: RawField[];
  private readonly seps: Separators;
  private readonly encoding: string;
  /** The segment as received (one line, no terminator). */
  readonly text: string;

  constructor(init: {
    name: string;
    index: number;
    occurrence: number;
    fields: RawField[];
    seps: Separators;
    encoding: string;
    text: string;
  }) {
    this.name = init.name;
    this.index = init.index;
    this.occurrence = init.occurrence;
    this.fields = init.fields;
    this.seps = init.seps;
    this.encoding = init.encoding;
    this.text = init.text;
  }

  /** Highest field number present. */
  get fieldCount(): number {
    return this.fields.length - 1;
  }

  /** All repetitions of a field (empty array when the field is absent or empty). */
  reps(field: number): Hl7Composite[] {
    const f = this.fields[field];
    if (!f) return [];
    return f.map((r) => new Hl7Composite(r, this.seps, this.encoding)).filter((c) => !c.isEmpty);
  }

  /** One repetition (1-based) of a field, or undefined when absent/empty. */
  rep(field: number, repetition = 1): Hl7Composite | undefined {
    const r = this.fields[field]?.[repetition - 1];
    if (!r) return undefined;
    const c = new Hl7Composite(r, this.seps, this.encoding);
    return c.isEmpty ? undefined : c;
  }

  /** Unescaped value at field/component/subcomponent of the given repetition (all 1-based). */
  value(field: number, component = 1, subcomponent = 1, repetition = 1): string | undefined {
    return this.rep(field, repetition)?.value(component, subcomponent);
  }

  /** ER7 text of a whole field (all repetitions), escapes kept. */
  raw(field: number): string {
    const f = this.fields[field];
    if (!f) return '';
    return f.map((r) => r.map((c) => c.join(this.seps.subcomponent)).join(this.seps.component)).join(this.seps.repetition);
  }

  /** Location record for error reporting. */
  location(field?: number, component?: number): Hl7ErrorLocation {
    return { segment: this.name, occurrence: this.occurrence, field, component };
  }
}

export interface Hl7MessageType {
  /** MSH-9.1, e.g. 'ADT'. */
  code: string;
  /** MSH-9.2, e.g. 'A01' (may be empty for ACK). */
  trigger: string;
  /** MSH-9.3, e.g. 'ADT_A01', when sent. */
  structure?: string;
}

const PATH = /^([A-Za-z][A-Za-z0-9]{2})(?:\[(\d+)\])?(?:[-.](\d+)(?:\[(\d+)\])?(?:[-.](\d+)(?:[-.](\d+))?)?)?$/;

export class Hl7Message {
  readonly segments: readonly Hl7Segment[];
  readonly separators: Separators;
  /** Encoding the text came from (used for \X..\ escapes and for replies). */
  readonly encoding: string;

  constructor(segments: Hl7Segment[], separators: Separators, encoding: string) {
    this.segments = segments;
    this.separators = separators;
    this.encoding = encoding;
  }

  get msh(): Hl7Segment {
    return this.segments[0]!;
  }

  /** The n-th (1-based) segment with this ID. */
  segment(name: string, occurrence = 1): Hl7Segment | undefined {
    let n = 0;
    for (const s of this.segments) if (s.name === name && ++n === occurrence) return s;
    return undefined;
  }

  segmentsNamed(name: string): Hl7Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  /**
   * Reads a value by path: `SEG[occurrence]-field[repetition]-component-subcomponent`, 1-based,
   * '-' or '.' between parts, e.g. 'PID-5-1', 'PID-3[2]-1', 'OBX[3]-5'.
   * With a component the unescaped value is returned. Without one, a simple value is returned
   * unescaped and a composite one as its ER7 text (escapes kept), e.g. get('MSH-9') → 'ADT^A01^ADT_A01'.
   * Empty values and HL7 null ("") read as undefined.
   */
  get(path: string): string | undefined {
    const m = PATH.exec(path.trim());
    if (!m) throw new Error(`Invalid HL7 path "${path}"`);
    const seg = this.segment(m[1]!.toUpperCase(), m[2] ? Number(m[2]) : 1);
    if (!seg) return undefined;
    if (!m[3]) return seg.text;
    const field = Number(m[3]);
    if (seg.name === 'MSH' && field <= 2) return field === 1 ? this.separators.field : seg.raw(2);
    const rep = seg.rep(field, m[4] ? Number(m[4]) : 1);
    if (!rep) return undefined;
    if (m[5]) return rep.value(Number(m[5]), m[6] ? Number(m[6]) : 1);
    return rep.isSimple ? rep.value(1) : rep.toString();
  }

  /** Message type from MSH-9. */
  get messageType(): Hl7MessageType {
    const r = this.msh.rep(9);
    return { code: (r?.value(1) ?? '').toUpperCase(), trigger: (r?.value(2) ?? '').toUpperCase(), structure: r?.value(3) };
  }

  /** 'ADT^A01' style key (code^trigger). */
  get messageTypeKey(): string {
    const t = this.messageType;
    return t.trigger ? `${t.code}^${t.trigger}` : t.code;
  }

  /** MSH-10. */
  get controlId(): string {
    return this.msh.value(10) ?? '';
  }
  /** MSH-3.1 (namespace ID), or MSH-3.2 when only a universal ID is sent. */
  get sendingApplication(): string | undefined {
    return this.msh.value(3, 1) ?? this.msh.value(3, 2);
  }
  /** MSH-4.1 (namespace ID), or MSH-4.2 when only a universal ID is sent. */
  get sendingFacility(): string | undefined {
    return this.msh.value(4, 1) ?? this.msh.value(4, 2);
  }
  get receivingApplication(): string | undefined {
    return this.msh.value(5, 1) ?? this.msh.value(5, 2);
  }
  get receivingFacility(): string | undefined {
    return this.msh.value(6, 1) ?? this.msh.value(6, 2);
  }
  /** MSH-12.1, e.g. '2.5.1'. */
  get version(): string | undefined {
    return this.msh.value(12);
  }
  /** MSH-11.1 (P production, T training, D debugging). */
  get processingId(): string | undefined {
    return this.msh.value(11);
  }
  /** MSH-7 as sent. */
  get dateTime(): string | undefined {
    return this.msh.value(7);
  }
  /** MSH-18 first repetition, as sent. */
  get charset(): string | undefined {
    return this.msh.value(18);
  }

  /** ER7 text with CR segment terminators. */
  toString(): string {
    return this.segments.map((s) => s.text).join('\r') + '\r';
  }
}

export interface ParseOptions {
  /** Encoding the text was decoded from, for \X..\ hex escapes (default 'utf8'). */
  encoding?: string;
}

function describe(text: string): string {
  const shown = text.slice(0, 20).replace(/[^\x20-\x7e\u4e00-\u9fff]/g, '?');
  return JSON.stringify(shown + (text.length > 20 ? '…' : ''));
}

function badDelimiter(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return code <= 0x20 || code === 0x7f || /[A-Za-z0-9]/.test(ch);
}

function readSeparators(mshLine: string, isLast: boolean): Separators {
  const field = mshLine[3];
  if (field === undefined) {
    throw new Hl7ParseError('TRUNCATED', 'MSH segment ends before MSH-1 (field separator): the message is truncated', {
      segment: 'MSH',
      field: 1,
    });
  }
  if (badDelimiter(field)) {
    throw new Hl7ParseError(
      'BAD_SEPARATORS',
      `MSH-1 field separator ${JSON.stringify(field)} is not usable: it must be a punctuation character such as "|"`,
      { segment: 'MSH', field: 1 },
    );
  }
  const end = mshLine.indexOf(field, 4);
  if (end < 0 && isLast) {
    throw new Hl7ParseError('TRUNCATED', 'MSH segment ends inside MSH-2 (encoding characters): the message is truncated', {
      segment: 'MSH',
      field: 2,
    });
  }
  const enc = end < 0 ? mshLine.slice(4) : mshLine.slice(4, end);
  const problem =
    enc.length < 2
      ? `must hold at least the component and repetition separators, got ${JSON.stringify(enc)}`
      : enc.length > 5
        ? `is too long (${JSON.stringify(enc.slice(0, 10))}); expected 4 characters such as "^~\\&"`
        : [...enc].some(badDelimiter)
          ? `contains a letter, digit or blank (${JSON.stringify(enc)})`
          : new Set([...enc, field]).size !== enc.length + 1
            ? `repeats a delimiter or reuses the field separator (${JSON.stringify(field + enc)})`
            : undefined;
  if (problem) {
    throw new Hl7ParseError('BAD_SEPARATORS', `MSH-2 encoding characters ${problem}`, { segment: 'MSH', field: 2 });
  }
  return {
    field,
    component: enc[0]!,
    repetition: enc[1]!,
    escape: enc[2] ?? '',
    subcomponent: enc[3] ?? '',
    truncation: enc[4] ?? '',
  };
}

function splitField(text: string, seps: Separators): RawField {
  // Most fields are empty or a single value: three splits and their arrays for each of a PV1's
  // fifty-odd fields were most of the parse time.
  if (
    text === '' ||
    (text.indexOf(seps.repetition) < 0 && text.indexOf(seps.component) < 0 && (!seps.subcomponent || text.indexOf(seps.subcomponent) < 0))
  )
    return [[[text]]];
  return text.split(seps.repetition).map((r) => r.split(seps.component).map((c) => (seps.subcomponent ? c.split(seps.subcomponent) : [c])));
}

function splitLines(text: string): string[] {
  // With CR present, CR is the terminator and a stray LF inside a segment is content.
  const lines = text.includes('\r') ? text.split(/\r\n?/).map((l) => l.replace(/^\n+|\n+$/g, '')) : text.split('\n');
  return lines.filter((l) => l.trim() !== '');
}

/**
 * Parses ER7 text (or raw bytes, decoded with MSH-18) into an Hl7Message.
 * Throws Hl7ParseError with codes MISSING_MSH, BAD_SEPARATORS, TRUNCATED, BAD_SEGMENT,
 * SEGMENT_ORDER or MISSING_FIELD.
 */
export function parseHl7(input: string | Buffer, options: ParseOptions = {}): Hl7Message {
  let text: string;
  let encoding = options.encoding ?? 'utf8';
  if (typeof input === 'string') {
    text = input;
  } else {
    const decoded = decodeMessage(input);
    text = decoded.text;
    encoding = decoded.encoding;
  }
  // BOM, MLLP block characters left by a sloppy framer, leading blank lines.
  text = text.replace(/^[\uFEFF\x0b\s]+/, '').replace(/[\x1c\s]+$/, '');
  if (text === '') throw new Hl7ParseError('MISSING_MSH', 'The message is empty: expected an MSH segment');
  if (!text.startsWith('MSH')) {
    const what = /^(FHS|BHS)/.test(text) ? ' (batch files are not accepted; send one message per frame)' : '';
    throw new Hl7ParseError('MISSING_MSH', `The message must start with an MSH segment but starts with ${describe(text)}${what}`);
  }
  const lines = splitLines(text);
  const seps = readSeparators(lines[0]!, lines.length === 1);

  const segments: Hl7Segment[] = [];
  const counts = new Map<string, number>();
  lines.forEach((line, index) => {
    const sepAt = line.indexOf(seps.field);
    const id = sepAt < 0 ? line : line.slice(0, sepAt);
    const isLast = index === lines.length - 1;
    if (!SEGMENT_ID.test(id)) {
      const head = line.slice(0, 3);
      if (SEGMENT_ID.test(head) && line.length > 3 && badDelimiter(line[3]!) === false) {
        throw new Hl7ParseError(
          'BAD_SEPARATORS',
          `Segment ${index + 1} (${head}) is followed by ${JSON.stringify(line[3])} where the field separator ${JSON.stringify(seps.field)} from MSH-1 was expected`,
          { segment: head },
        );
      }
      if (isLast && line.length < 3 && /^[A-Z][A-Z0-9]*$/.test(line)) {
        throw new Hl7ParseError('TRUNCATED', `The message ends inside a segment ID (${JSON.stringify(line)}): it is truncated`);
      }
      throw new Hl7ParseError(
        'BAD_SEGMENT',
        `Line ${index + 1} is not an HL7 segment: ${describe(line)} has no valid 3-character segment ID`,
      );
    }
    if (id === 'MSH' && index > 0) {
      throw new Hl7ParseError('SEGMENT_ORDER', `A second MSH segment was found at segment ${index + 1}: send one message per frame`, {
        segment: 'MSH',
        occurrence: 2,
      });
    }
    const parts = line.split(seps.field);
    const fields: RawField[] = [[[['']]]];
    if (id === 'MSH') {
      fields.push([[[seps.field]]], [[[parts[1] ?? '']]]);
      for (let i = 2; i < parts.length; i++) fields.push(splitField(parts[i]!, seps));
    } else {
      for (let i = 1; i < parts.length; i++) fields.push(splitField(parts[i]!, seps));
    }
    const occurrence = (counts.get(id) ?? 0) + 1;
    counts.set(id, occurrence);
    segments.push(new Hl7Segment({ name: id, index, occurrence, fields, seps, encoding, text: line }));
  });

  const message = new Hl7Message(segments, seps, encoding);
  const msh = message.msh;
  if (segments.length === 1 && msh.fieldCount < 12) {
    const missing = msh.fieldCount < 9 ? 'MSH-9 (message type)' : msh.fieldCount < 10 ? 'MSH-10 (control ID)' : 'MSH-12 (version)';
    throw new Hl7ParseError('TRUNCATED', `The message is truncated: it ends in the MSH segment before ${missing}`, {
      segment: 'MSH',
      field: msh.fieldCount + 1,
    });
  }
  if (!msh.value(9, 1)) {
    throw new Hl7ParseError('MISSING_FIELD', 'MSH-9 (message type) is empty', { segment: 'MSH', field: 9 });
  }
  if (!msh.value(10)) {
    throw new Hl7ParseError('MISSING_FIELD', 'MSH-10 (message control ID) is empty', { segment: 'MSH', field: 10 });
  }
  return message;
}

// ---------------------------------------------------------------------------------------------
// Dates: HL7 DT / DTM / TS → FHIR date, dateTime, instant
// ---------------------------------------------------------------------------------------------

export interface Hl7DateTimeParts {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  /** Fraction of a second as written, without the dot ('4', '123'). */
  fraction?: string;
  /** '+08:00' style offset when the value carries one. */
  offset?: string;
}

const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;
// Non-standard but common from Chinese HIS: '2023-01-05', '2023-01-05 10:20:30', '2023-01-05T10:20'.
const ISOISH = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?)?(?:([+-])(\d{2}):?(\d{2})|Z)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an HL7 DTM/TS value (YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]).
 * `field` names the field in error messages (e.g. 'PID-7'). Returns undefined for empty input.
 */
export function parseHl7DateTime(value: string | undefined, field: string): Hl7DateTimeParts | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '' || v === '""') return undefined;
  const m = DTM.exec(v) ?? ISOISH.exec(v);
  const fail = (why: string): never => {
    const loc = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?-(\d+)/.exec(field);
    throw new Hl7ParseError(
      'BAD_DATE',
      `${field} has an invalid date/time ${JSON.stringify(v.slice(0, 40))}: ${why}`,
      loc ? { segment: loc[1]!, occurrence: loc[2] ? Number(loc[2]) : undefined, field: Number(loc[3]) } : undefined,
    );
  };
  if (!m) return fail('expected YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ]');
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const parts: Hl7DateTimeParts = {
    year: Number(m[1]),
    month: num(m[2]),
    day: num(m[3]),
    hour: num(m[4]),
    minute: num(m[5]),
    second: num(m[6]),
    fraction: m[7],
  };
  if (parts.year < 1) fail('year 0000 does not exist');
  if (parts.month !== undefined && (parts.month < 1 || parts.month > 12)) fail(`month ${m[2]} is out of range`);
  if (parts.day !== undefined && (parts.day < 1 || parts.day > daysInMonth(parts.year, parts.month!))) {
    fail(`day ${m[3]} does not exist in ${m[1]}-${m[2]}`);
  }
  if (parts.hour !== undefined && parts.hour > 23) fail(`hour ${m[4]} is out of range`);
  if (parts.minute !== undefined && parts.minute > 59) fail(`minute ${m[5]} is out of range`);
  if (parts.second !== undefined && parts.second > 59) fail(`second ${m[6]} is out of range`);
  if (m[8]) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 14 || om > 59 || (oh === 14 && om > 0)) fail(`time zone offset ${m[8]}${m[9]}${m[10]} is out of range`);
    parts.offset = `${m[8]}${m[9]}:${m[10]}`;
  } else if (v.endsWith('Z')) {
    parts.offset = '+00:00';
  }
  return parts;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD); any time part is dropped. */
export function hl7ToFhirDate(value: string | undefined, field: string): string | undefined {
  const p = parseHl7DateTime(value, field);
  if (!p) return undefined;
  let s = pad(p.year, 4);
  if (p.month !== undefined) s += `-${pad(p.month)}`;
  if (p.day !== undefined) s += `-${pad(p.day)}`;
  return s;
}

/**
 * FHIR `dateTime`. Values with a time get seconds and a time zone (FHIR requires both):
 * missing minutes/seconds become 00 and a missing offset becomes `defaultOffset`
 * (default '+08:00', China Standard Time).
 */
export function hl7ToFhirDateTime(value: string | undefined, field: string, defaultOffset = '+08:00'): string | undefined {
  const p = parseHl7DateTime(value, field);
  if (!p) return undefined;
  const date = hl7ToFhirDate(value, field)!;
  if (p.hour === undefined) return date;
  const frac = p.fraction ? `.${p.fraction}` : '';
  return `${date}T${pad(p.hour)}:${pad(p.minute ?? 0)}:${pad(p.second ?? 0)}${frac}${p.offset ?? defaultOffset}`;
}

/** FHIR `instant`, or undefined when the value is not precise to the minute. */
export function hl7ToFhirInstant(value: string | undefined, field: string, defaultOffset = '+08:00'): string | undefined {
  const p = parseHl7DateTime(value, field);
  if (!p || p.minute === undefined) return undefined;
  return hl7ToFhirDateTime(value, field, defaultOffset);
}

export { formatLocation };
