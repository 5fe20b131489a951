/**
 * Errors raised while reading an HL7 v2 message, and how each one is reported back to the
 * sender in the ACK (HL7 table 0357 error code, AE or AR).
 */

export type Hl7ErrorCode =
  /** No MSH segment at the start of the message (or nothing at all). */
  | 'MISSING_MSH'
  /** MSH-1 / MSH-2 do not define a usable set of delimiters, or a segment uses other ones. */
  | 'BAD_SEPARATORS'
  /** The message stops part-way (inside MSH, or in the middle of a segment ID). */
  | 'TRUNCATED'
  /** A line that is not an HL7 segment (no valid 3-character segment ID). */
  | 'BAD_SEGMENT'
  /** A date/time field is not a valid HL7 DT/DTM/TS value. */
  | 'BAD_DATE'
  /** A field has a value of the wrong form (other than dates). */
  | 'BAD_VALUE'
  /** A field the mapping cannot do without is empty. */
  | 'MISSING_FIELD'
  /** The message type (MSH-9) is not one this hub accepts. */
  | 'UNSUPPORTED_TYPE'
  /** Segments are out of order, or a required segment is missing. */
  | 'SEGMENT_ORDER'
  /** The bytes are not valid in the character set MSH-18 declares, nor in any tried instead. */
  | 'BAD_ENCODING'
  /** MSH-4 names a sending facility that is not on the allow-list (HL7 table 0362). */
  | 'UNKNOWN_FACILITY';

/** Where in the message an error was found (HL7 ERL data type, 1-based). */
export interface Hl7ErrorLocation {
  segment: string;
  /** Which occurrence of that segment (1 = first). */
  occurrence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

/** HL7 table 0357 (message error condition codes) used by this module. */
export const HL7_ERROR_CODES = {
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  207: 'Application internal error',
} as const;
export type Hl7TableErrorCode = keyof typeof HL7_ERROR_CODES;

const REPORTING: Record<Hl7ErrorCode, { table: Hl7TableErrorCode; ack: 'AE' | 'AR' }> = {
  // The header itself is unreadable: reject, the sender must fix its interface.
  MISSING_MSH: { table: 100, ack: 'AR' },
  BAD_SEPARATORS: { table: 102, ack: 'AR' },
  TRUNCATED: { table: 101, ack: 'AR' },
  UNSUPPORTED_TYPE: { table: 200, ack: 'AR' },
  BAD_ENCODING: { table: 102, ack: 'AR' },
  UNKNOWN_FACILITY: { table: 103, ack: 'AR' },
  // The header is fine but the content is wrong: application error.
  BAD_SEGMENT: { table: 100, ack: 'AE' },
  SEGMENT_ORDER: { table: 100, ack: 'AE' },
  MISSING_FIELD: { table: 101, ack: 'AE' },
  BAD_DATE: { table: 102, ack: 'AE' },
  BAD_VALUE: { table: 102, ack: 'AE' },
};

export class Hl7ParseError extends Error {
  readonly code: Hl7ErrorCode;
  readonly location?: Hl7ErrorLocation;

  constructor(code: Hl7ErrorCode, message: string, location?: Hl7ErrorLocation) {
    super(message);
    this.name = 'Hl7ParseError';
    this.code = code;
    this.location = location;
  }

  /** HL7 table 0357 code reported in ERR-3. */
  get hl7ErrorCode(): Hl7TableErrorCode {
    return REPORTING[this.code].table;
  }

  /** Acknowledgment code (MSA-1) this error leads to. */
  get ackCode(): 'AE' | 'AR' {
    return REPORTING[this.code].ack;
  }
}

export function isHl7ParseError(e: unknown): e is Hl7ParseError {
  return e instanceof Hl7ParseError;
}

/** 'PID-7', 'OBX[2]-5-1' style label for messages. */
export function formatLocation(loc: Hl7ErrorLocation): string {
  let s = loc.segment;
  if (loc.occurrence && loc.occurrence > 1) s += `[${loc.occurrence}]`;
  if (loc.field !== undefined) {
    s += `-${loc.field}`;
    if (loc.repetition && loc.repetition > 1) s += `[${loc.repetition}]`;
    if (loc.component !== undefined) {
      s += `-${loc.component}`;
      if (loc.subcomponent !== undefined) s += `-${loc.subcomponent}`;
    }
  }
  return s;
}
