/**
 * HL7 v2 → FHIR R4 transaction Bundle.
 *
 * Every resource is written with a conditional request keyed on a business identifier, so a
 * message sent twice produces the same end state:
 *   - PUT `Type?identifier=system|value` (conditional update) where the message is the source of
 *     truth for that resource (Patient in demographic ADT events, Encounter in ADT, results,
 *     orders, immunizations);
 *   - POST with `ifNoneExist` (conditional create) where the message only mentions the resource
 *     in passing (the Patient of a lab result, order or vaccination, or of A02/A03/A11/A13; the
 *     visit of an order or result), so it never overwrites what the ADT feed said.
 * Patient demographics are therefore overwritten only by ADT A01, A04, A08, A28, A31 and A40.
 * References between entries use the entries' `urn:uuid:` fullUrls (deterministic UUIDs).
 */
import { Hl7ParseError } from '../errors.js';
import type { Hl7Message } from '../parser.js';
import { checkSegmentOrder } from '../structure.js';
import {
  isSupportedMessageType,
  SUPPORTED_MESSAGE_TYPES,
  type MergeInstruction,
  type ToFhirOptions,
  type ToFhirResult,
  type TransactionBundle,
} from './contract.js';
import { Ctx } from './context.js';
import { mapAdt, mapMerge } from './message-adt.js';
import { mapOrders } from './message-orders.js';
import { mapOru } from './message-oru.js';
import { mapVxu } from './message-vxu.js';
import type { EncounterEvent } from './visit.js';

export {
  HL7V2_IDENTIFIER_SYSTEMS,
  isSupportedMessageType,
  SUPPORTED_MESSAGE_TYPES,
  type BuiltEntry,
  type MergeInstruction,
  type SupportedMessageType,
  type ToFhirOptions,
  type ToFhirResult,
  type TransactionBundle,
} from './contract.js';
export { codingSystemUri } from './datatypes.js';

/**
 * Maps a parsed message to a FHIR R4 transaction Bundle (plus merge instructions for A40).
 * Throws Hl7ParseError: UNSUPPORTED_TYPE, SEGMENT_ORDER, MISSING_FIELD, BAD_DATE.
 */
export function toFhir(message: Hl7Message, options: ToFhirOptions = {}): ToFhirResult {
  const key = message.messageTypeKey;
  if (!isSupportedMessageType(key)) {
    throw new Hl7ParseError(
      'UNSUPPORTED_TYPE',
      `Message type ${key || '(empty)'} (MSH-9) is not supported; accepted types: ${SUPPORTED_MESSAGE_TYPES.join(', ')}`,
      { segment: 'MSH', field: 9 },
    );
  }
  checkSegmentOrder(message);
  const ctx = new Ctx(message, options);
  let merges: MergeInstruction[] = [];
  const [code, trigger] = key.split('^') as [string, string];
  if (code === 'ADT') {
    if (trigger === 'A40') merges = mapMerge(ctx);
    else mapAdt(ctx, trigger as EncounterEvent);
  } else if (code === 'ORU') {
    mapOru(ctx);
  } else if (code === 'VXU') {
    mapVxu(ctx);
  } else {
    mapOrders(ctx);
  }
  const msh = message.msh;
  const bundle: TransactionBundle = { resourceType: 'Bundle', type: 'transaction', entry: [] };
  if (message.controlId) bundle.identifier = { system: ctx.system('message'), value: message.controlId };
  const timestamp = ctx.instant(msh, 7);
  if (timestamp) bundle.timestamp = timestamp;
  bundle.entry = ctx.builder.entries;
  return {
    messageType: key,
    controlId: message.controlId,
    facilityId: ctx.facility,
    bundle,
    merges,
    warnings: ctx.warnings,
    ...(ctx.fieldWarnings.length ? { fieldWarnings: ctx.fieldWarnings } : {}),
  };
}
