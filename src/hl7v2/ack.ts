/**
 * Building HL7 v2 acknowledgments (original mode): MSH + MSA, plus ERR when the message is not
 * accepted. Works from a parsed message, or — when parsing failed — from whatever of the MSH
 * can still be read out of the raw text, so the sender always gets an answer.
 */
import { randomBytes } from 'node:crypto';
import { decodeMessage, encodeText } from './charset.js';
import { HL7_ERROR_CODES, Hl7ParseError, formatLocation, type Hl7ErrorLocation } from './errors.js';
import { DEFAULT_SEPARATORS, escapeHl7, type Hl7Message, type Separators } from './parser.js';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckError {
  /** HL7 table 0357 code (100, 101, 102, 200, 207, ...). */
  code: number;
  /** Human readable explanation (ERR-8, and MSA-3). */
  message: string;
  location?: Hl7ErrorLocation;
  severity?: 'E' | 'W' | 'I';
}

export interface BuildAckOptions {
  /** The inbound message, when it could be parsed. */
  message?: Hl7Message;
  /** The inbound text or bytes; used to echo the header when `message` is absent. */
  raw?: string | Buffer;
  /**
   * What went wrong, if anything: an Hl7ParseError (mapped to its table 0357 code and AE/AR),
   * an AckError, or any other thrown value (AR, 207 application internal error).
   * Without `message` (parsing failed) the acknowledgment is always AR.
   */
  error?: unknown;
  /** Problems that did not stop the message: one ERR segment each, severity W unless set (also on AA). */
  warnings?: AckError[];
  /** Overrides the acknowledgment code derived from `error`. */
  ackCode?: AckCode;
  /** MSA-3 text; defaults to the error message, or 'Message accepted'. */
  text?: string;
  /** MSH-10 of the ACK itself (default: random). */
  controlId?: string;
  /** MSH-7 of the ACK (default: now). */
  now?: Date;
  /** UTC offset used for MSH-7, in minutes (default 480, China Standard Time). */
  utcOffsetMinutes?: number;
  /** Our application / facility names, used when the inbound MSH-5 / MSH-6 are empty. */
  application?: string;
  facility?: string;
}

export interface Ack {
  /** ER7 text with CR segment terminators. */
  text: string;
  ackCode: AckCode;
  /** Table 0357 code reported in ERR-3 (absent for AA). */
  errorCode?: number;
  /** Encoding to send the ACK in (the inbound message's). */
  encoding: string;
}

/** Header fields echoed into the ACK, as ER7 text in `seps`. */
interface Header {
  seps: Separators;
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  receivingFacility: string;
  trigger: string;
  controlId: string;
  processingId: string;
  version: string;
  charset: string;
}

function headerFromMessage(m: Hl7Message): Header {
  const msh = m.msh;
  return {
    seps: m.separators,
    sendingApp: msh.raw(3),
    sendingFacility: msh.raw(4),
    receivingApp: msh.raw(5),
    receivingFacility: msh.raw(6),
    trigger: msh.value(9, 2) ?? '',
    controlId: msh.raw(10),
    processingId: msh.raw(11),
    version: msh.value(12) ?? '',
    charset: msh.raw(18),
  };
}

const usable = (ch: string | undefined) => ch !== undefined && ch.length === 1 && !/[A-Za-z0-9\s]/.test(ch) && ch.charCodeAt(0) > 0x20;

/** Reads what it can of MSH from text that failed to parse. Never throws. */
function headerFromRaw(raw: string | Buffer | undefined): Header {
  const empty: Header = {
    seps: DEFAULT_SEPARATORS,
    sendingApp: '',
    sendingFacility: '',
    receivingApp: '',
    receivingFacility: '',
    trigger: '',
    controlId: '',
    processingId: '',
    version: '',
    charset: '',
  };
  if (raw === undefined) return empty;
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : decodeMessage(raw).text;
  } catch {
    return empty;
  }
  const start = text.indexOf('MSH');
  if (start < 0 || start > 64) return empty;
  const line = text
    .slice(start)
    .split(/[\r\n]/)[0]!
    .slice(0, 4096);
  const fs = line[3];
  if (!usable(fs)) return empty;
  const parts = line.split(fs!);
  const enc = parts[1] ?? '';
  const encOk = enc.length >= 2 && enc.length <= 5 && [...enc].every(usable) && new Set([...enc, fs]).size === enc.length + 1;
  const field = (n: number) => parts[n - 1] ?? '';
  if (!encOk) {
    // Delimiters unknown: echo plain text, escaped for our default delimiters.
    const plain = (n: number) => escapeHl7(field(n).replace(/[^\x20-\x7e\u00a0-\uffff]/g, ''), DEFAULT_SEPARATORS);
    return {
      ...empty,
      sendingApp: plain(3),
      sendingFacility: plain(4),
      receivingApp: plain(5),
      receivingFacility: plain(6),
      controlId: plain(10),
    };
  }
  const seps: Separators = {
    field: fs!,
    component: enc[0]!,
    repetition: enc[1]!,
    escape: enc[2] ?? '',
    subcomponent: enc[3] ?? '',
    truncation: enc[4] ?? '',
  };
  const first = (n: number, comp = 0) => (field(n).split(seps.repetition)[0] ?? '').split(seps.component)[comp] ?? '';
  return {
    seps,
    sendingApp: field(3),
    sendingFacility: field(4),
    receivingApp: field(5),
    receivingFacility: field(6),
    trigger: /^[A-Z0-9]{1,3}$/i.test(first(9, 1)) ? first(9, 1) : '',
    controlId: field(10),
    processingId: field(11),
    version: first(12),
    charset: field(18),
  };
}

function formatTimestamp(now: Date, offsetMinutes: number): string {
  const local = new Date(now.getTime() + offsetMinutes * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${p(local.getUTCFullYear(), 4)}${p(local.getUTCMonth() + 1)}${p(local.getUTCDate())}` +
    `${p(local.getUTCHours())}${p(local.getUTCMinutes())}${p(local.getUTCSeconds())}` +
    `${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`
  );
}

function describeError(error: unknown): { ack: AckCode; err: AckError } | undefined {
  if (error === undefined || error === null) return undefined;
  if (error instanceof Hl7ParseError) {
    return { ack: error.ackCode, err: { code: error.hl7ErrorCode, message: error.message, location: error.location } };
  }
  if (typeof error === 'object' && 'code' in error && 'message' in error && typeof (error as AckError).code === 'number') {
    const e = error as AckError;
    return { ack: e.code >= 200 ? 'AR' : 'AE', err: e };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { ack: 'AR', err: { code: 207, message: `Application internal error: ${message}` } };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Is the version older than 2.5 (where ERR-1 was the only error field)? */
function legacyErr(version: string): boolean {
  const m = /^2\.(\d+)/.exec(version);
  return !!m && Number(m[1]) < 5;
}

// ACK control ids: a random prefix per process and a counter (unique without a random draw per ACK).
const ACK_ID_PREFIX = randomBytes(6).toString('hex');
let ackCounter = 0;
const nextAckControlId = () => `${ACK_ID_PREFIX}${(ackCounter++).toString(36).padStart(8, '0')}`;

/**
 * Builds an ACK for an inbound message. With no `error` the ACK is AA; with an error it is AE
 * or AR (per the error) and carries an ERR segment: ERR-2 location, ERR-3 table 0357 code,
 * ERR-4 severity, ERR-8 readable message (ERR-1 too for versions before 2.5).
 */
export function buildAck(options: BuildAckOptions): Ack {
  const h = options.message ? headerFromMessage(options.message) : headerFromRaw(options.raw);
  const described = describeError(options.error);
  // A message that could not be parsed at all is rejected (AR), whatever the reason.
  const ackCode: AckCode = options.ackCode ?? (described && !options.message ? 'AR' : described?.ack) ?? 'AA';
  const s = h.seps;
  const esc = (t: string) => escapeHl7(t, s);
  const controlId = options.controlId ?? nextAckControlId();
  const timestamp = formatTimestamp(options.now ?? new Date(), options.utcOffsetMinutes ?? 480);
  const version = h.version || '2.5.1';
  const enc = s.component + s.repetition + s.escape + s.subcomponent + s.truncation;
  const messageType = h.trigger ? `ACK${s.component}${esc(h.trigger)}${s.component}ACK` : 'ACK';

  const msh = [
    'MSH',
    enc,
    h.receivingApp || esc(options.application ?? ''),
    h.receivingFacility || esc(options.facility ?? ''),
    h.sendingApp,
    h.sendingFacility,
    timestamp,
    '',
    messageType,
    esc(controlId),
    h.processingId || 'P',
    esc(version),
  ];
  if (h.charset) msh.push('', '', '', '', '', h.charset);

  const err = described?.err;
  const warned = options.warnings?.length ? `Message accepted with a warning: ${options.warnings[0]!.message}` : 'Message accepted';
  const text = options.text ?? (err ? err.message : warned);
  const msa = ['MSA', ackCode, h.controlId, esc(clip(text, 250))];
  const segments = [msh.join(s.field), msa.join(s.field)];

  const errSegment = (e: AckError, severity: 'E' | 'W' | 'I') => {
    const loc = e.location;
    const table = HL7_ERROR_CODES[e.code as keyof typeof HL7_ERROR_CODES] ?? 'Error';
    const sub = s.subcomponent || s.component;
    const erl = loc
      ? [
          esc(loc.segment),
          loc.occurrence ?? 1,
          loc.field ?? '',
          loc.field !== undefined ? (loc.repetition ?? 1) : '',
          loc.component ?? '',
          loc.subcomponent ?? '',
        ]
          .join(s.component)
          .replace(new RegExp(`(${s.component.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})+$`), '')
      : '';
    const erlLegacy = loc
      ? [esc(loc.segment), loc.occurrence ?? 1, loc.field ?? '', `${e.code}${sub}${esc(table)}${sub}HL70357`].join(s.component)
      : `${s.component}${s.component}${s.component}${e.code}${sub}${esc(table)}${sub}HL70357`;
    return [
      'ERR',
      legacyErr(version) ? erlLegacy : '',
      erl,
      `${e.code}${s.component}${esc(table)}${s.component}HL70357`,
      severity,
      '',
      '',
      loc ? esc(formatLocation(loc)) : '',
      esc(clip(e.message, 1000)),
    ].join(s.field);
  };
  if (err && ackCode !== 'AA') segments.push(errSegment(err, err.severity ?? 'E'));
  // Accepted, but with something the sender should know (e.g. MSH-18 did not match the bytes).
  for (const w of options.warnings ?? []) segments.push(errSegment(w, w.severity ?? 'W'));

  let encoding = 'utf8';
  if (options.message) encoding = options.message.encoding;
  else if (Buffer.isBuffer(options.raw)) {
    try {
      encoding = decodeMessage(options.raw).encoding;
    } catch {
      encoding = 'utf8';
    }
  }
  return { text: segments.join('\r') + '\r', ackCode, errorCode: err && ackCode !== 'AA' ? err.code : undefined, encoding };
}

/** The ACK as bytes, in the inbound message's encoding. */
export function encodeAck(ack: Ack): Buffer {
  return encodeText(ack.text, ack.encoding);
}
