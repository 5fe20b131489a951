/**
 * HL7 v2 inbound interface: hospital systems send ADT / ORU / VXU / ORM / OML messages over
 * MLLP; they are decoded, parsed, mapped to FHIR R4 transaction Bundles and acknowledged.
 * Storage is injected (see createHl7Handler / processHl7Message); the module (hl7Module) stores
 * them through Hl7Ingest.
 *
 * The capability's public entry: the only file other capabilities, the CLI and the composition
 * root import from (dependency-cruiser rule capabilities-meet-through-their-entry).
 */
export { default as hl7Module, mllpPortFrom, HL7_CONTENT_TYPE, type Hl7Runtime } from './module.js';
export { Hl7Ingest, splitMessages, type Hl7Channel, type IngestResult } from './ingest.js';
export { decodeMessage, encodeText, encodingForCharset, type DecodedMessage, type DecodeOptions } from './charset.js';
export {
  parseHl7,
  escapeHl7,
  parseHl7DateTime,
  hl7ToFhirDate,
  hl7ToFhirDateTime,
  hl7ToFhirInstant,
  Hl7Message,
  Hl7Segment,
  Hl7Composite,
  DEFAULT_SEPARATORS,
  type Separators,
  type Hl7MessageType,
  type Hl7DateTimeParts,
  type ParseOptions,
} from './parser.js';
export { Hl7ParseError, isHl7ParseError, formatLocation, HL7_ERROR_CODES, type Hl7ErrorCode, type Hl7ErrorLocation } from './errors.js';
export { checkSegmentOrder } from './structure.js';
export {
  toFhir,
  codingSystemUri,
  isSupportedMessageType,
  SUPPORTED_MESSAGE_TYPES,
  HL7V2_IDENTIFIER_SYSTEMS,
  type BuiltEntry,
  type SupportedMessageType,
  type MergeInstruction,
  type ToFhirOptions,
  type ToFhirResult,
  type TransactionBundle,
} from './to-fhir/index.js';
export { buildAck, encodeAck, type Ack, type AckCode, type AckError, type BuildAckOptions } from './ack.js';
export {
  startMllpServer,
  encodeFrame,
  MllpDecoder,
  MLLP_START,
  MLLP_END,
  MLLP_CR,
  DEFAULT_MAX_MESSAGE_BYTES,
  type MllpEvent,
  type MllpServer,
  type MllpServerOptions,
  type MllpServerEvent,
} from './mllp.js';
export { processHl7Message, createHl7Handler, type Hl7PipelineOptions, type Hl7Outcome } from './handler.js';
export type * from '@medplum/fhirtypes';
export type { DeadLetter, DeadLetterList, Hl7MessageStatus, Hl7MessageView, Hl7Status, ReprocessResult } from './schemas.js';
