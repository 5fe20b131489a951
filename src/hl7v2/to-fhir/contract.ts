/** What `toFhir` takes and returns: the supported message types, options, result and the identifier systems it mints. */
import { YIFANG_BASE } from '../../shared/uris.js';
import type { Bundle, BundleEntry, BundleEntryRequest, Identifier, Resource } from '@medplum/fhirtypes';
import type { Hl7ErrorLocation } from '../errors.js';

export const SUPPORTED_MESSAGE_TYPES = [
  'ADT^A01',
  'ADT^A02',
  'ADT^A03',
  'ADT^A04',
  'ADT^A08',
  'ADT^A11',
  'ADT^A13',
  'ADT^A28',
  'ADT^A31',
  'ADT^A40',
  'ORU^R01',
  'VXU^V04',
  'ORM^O01',
  'OML^O21',
] as const;
export type SupportedMessageType = (typeof SUPPORTED_MESSAGE_TYPES)[number];

export function isSupportedMessageType(key: string): key is SupportedMessageType {
  return (SUPPORTED_MESSAGE_TYPES as readonly string[]).includes(key);
}

/**
 * Identifier systems introduced by this module; each gets '/<facility id>' appended.
 * (Candidates for ../fhir/uris.ts once the lead agrees on them.)
 */
export const HL7V2_IDENTIFIER_SYSTEMS = {
  /** PV1-19 visit numbers. */
  visit: `${YIFANG_BASE}/sid/visit`,
  /** ORC-2 / OBR-2 placer order numbers. */
  placerOrder: `${YIFANG_BASE}/sid/placer-order`,
  /** ORC-3 / OBR-3 filler order numbers (lab accession, registry record IDs). */
  fillerOrder: `${YIFANG_BASE}/sid/filler-order`,
  /** SPM-2 specimen IDs. */
  specimen: `${YIFANG_BASE}/sid/specimen`,
  /** Keys built from other identifiers when the message carries no identifier of its own. */
  derived: `${YIFANG_BASE}/sid/hl7v2-key`,
  /** MSH-10 message control IDs (Bundle.identifier). */
  message: `${YIFANG_BASE}/sid/hl7v2-message`,
} as const;

/** An entry of the Bundle toFhir builds: its fullUrl, resource and conditional request are always set. */
export interface BuiltEntry<R extends Resource = Resource> extends BundleEntry<R> {
  fullUrl: string;
  resource: R;
  request: BundleEntryRequest;
}

/** The transaction Bundle toFhir builds. */
export interface TransactionBundle extends Bundle {
  type: 'transaction';
  entry: BuiltEntry[];
}

export interface MergeInstruction {
  kind: 'merge';
  /** The identifier that remains (from PID-3). */
  survivor: Identifier;
  /** The identifier being merged away (from MRG-1). */
  merged: Identifier;
}

export interface ToFhirOptions {
  /**
   * Facility (organisation) id used in identifier systems. Default: MSH-4.1, else MSH-4.2,
   * else MSH-3.1. URI-encoded when placed in a system.
   */
  facilityId?: string;
  /** Offset applied to HL7 times sent without one. Default '+08:00'. */
  defaultTimezoneOffset?: string;
  /**
   * Which Patient identifier keys the conditional request: the sending facility's MRN (one
   * Patient per facility record, linked later by the identity service) or the resident ID
   * number when present. Default 'facility-mrn'; each falls back to the other.
   */
  patientKey?: 'facility-mrn' | 'resident-id';
}

export interface ToFhirResult {
  messageType: SupportedMessageType;
  /** MSH-10. */
  controlId: string;
  /** Facility id used in identifier systems (not URI-encoded). */
  facilityId: string;
  bundle: TransactionBundle;
  /** A40 merge instructions (empty for other events). */
  merges: MergeInstruction[];
  /** Non-fatal problems (skipped segments, identifiers that failed validation, ...). */
  warnings: string[];
  /**
   * The warnings that name a field the sender should hear of (data kept but marked, e.g. a
   * resident ID number that failed its check): each becomes an ERR segment of severity W in the AA.
   */
  fieldWarnings?: FieldWarning[];
}

/** A warning about one field of the message (HL7 ERL location). */
export interface FieldWarning {
  message: string;
  location: Hl7ErrorLocation;
}
