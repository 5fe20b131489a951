/**
 * The inbound pipeline for one message: decode bytes → parse → map to FHIR → store (injected)
 * → ACK. Used as the `handle` of startMllpServer, and usable on its own (HTTP endpoint, replay).
 */
import { buildAck, encodeAck, type Ack } from './ack.js';
import { decodeChecked, type CharsetPolicy, type CharsetWarning } from './charset.js';
import { Hl7ParseError } from './errors.js';
import { parseHl7, type Hl7Message } from './parser.js';
import { toFhir, type ToFhirOptions, type ToFhirResult } from './to-fhir/index.js';

export interface Hl7PipelineOptions {
  /**
   * Persists a mapped message (transaction Bundle + merge instructions). Resolve when stored;
   * throw to have the sender told AR 207 (it may resend). Throwing an Hl7ParseError reports that
   * error instead (e.g. a business rule that rejects the content with AE).
   */
  store: (result: ToFhirResult, message: Hl7Message, info: { charsetWarning?: CharsetWarning }) => Promise<void>;
  toFhirOptions?: ToFhirOptions;
  /** How the bytes are decoded and checked against MSH-18 (default: UTF-8, else GB18030 with a warning). */
  charsets?: CharsetPolicy;
  /**
   * Checks the parsed header before anything is mapped or stored (e.g. the sending-facility
   * allow-list); throw an AckError or Hl7ParseError to refuse the message.
   */
  admit?: (message: Hl7Message) => void;
  /** Called for every processed message (logging / metrics). */
  onProcessed?: (outcome: Hl7Outcome) => void;
}

export interface Hl7Outcome {
  ack: Ack;
  /** The parsed message, when parsing succeeded. */
  message?: Hl7Message;
  /** The mapping, when it succeeded. */
  result?: ToFhirResult;
  /** What went wrong, if the ACK is not AA. */
  error?: unknown;
  /** True when the inbound message was itself an acknowledgment (no reply is sent). */
  wasAck: boolean;
  /** The message was decoded in another character set than MSH-18 declares (reported as ERR W). */
  charsetWarning?: CharsetWarning;
}

/** Runs the pipeline on one raw message; never throws. */
export async function processHl7Message(raw: Buffer, options: Hl7PipelineOptions): Promise<Hl7Outcome> {
  let message: Hl7Message | undefined;
  let result: ToFhirResult | undefined;
  let charsetWarning: CharsetWarning | undefined;
  let outcome: Hl7Outcome;
  const warningsOf = (w: CharsetWarning | undefined) =>
    w ? [{ code: 102, message: w.message, location: { segment: 'MSH', field: 18 }, severity: 'W' as const }] : undefined;
  try {
    const decoded = decodeChecked(raw, options.charsets);
    charsetWarning = decoded.warning;
    message = parseHl7(decoded.text, { encoding: decoded.encoding });
    options.admit?.(message);
    if (message.messageType.code === 'ACK') {
      outcome = { ack: buildAck({ message, text: 'ACK received' }), message, wasAck: true };
    } else {
      result = toFhir(message, options.toFhirOptions);
      await options.store(result, message, { charsetWarning });
      // Stored, with what the sender should still hear of: one ERR (severity W) per warning that names a field.
      const warnings = [
        ...(warningsOf(charsetWarning) ?? []),
        ...(result.fieldWarnings ?? []).map((w) => ({ code: 102, message: w.message, location: w.location, severity: 'W' as const })),
      ];
      outcome = { ack: buildAck({ message, warnings }), message, result, wasAck: false, charsetWarning };
    }
  } catch (error) {
    const ack = message ? buildAck({ message, error, warnings: warningsOf(charsetWarning) }) : buildAck({ raw, error });
    outcome = { ack, message, result, error, wasAck: false, charsetWarning };
  }
  try {
    options.onProcessed?.(outcome);
  } catch {
    // observers must not change the answer
  }
  return outcome;
}

/** A `handle` for startMllpServer: replies with the encoded ACK (nothing for inbound ACKs). */
export function createHl7Handler(options: Hl7PipelineOptions): (raw: Buffer) => Promise<Buffer | null> {
  return async (raw) => {
    const outcome = await processHl7Message(raw, options);
    return outcome.wasAck ? null : encodeAck(outcome.ack);
  };
}

export { Hl7ParseError };
