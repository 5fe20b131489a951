/**
 * The subset of FHIR R4 types the HL7 v2 mapping produces.
 *
 * `@medplum/fhirtypes` is not installed in this project (only @medplum/core, whose own
 * declarations import it), so these local, structurally compatible types are used instead.
 * They list only the elements this module fills in.
 */

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Identifier {
  use?: 'usual' | 'official' | 'temp' | 'secondary' | 'old';
  type?: CodeableConcept;
  system?: string;
  value?: string;
}
export interface Reference {
  reference?: string;
  type?: string;
  identifier?: Identifier;
  display?: string;
}
export interface Period {
  start?: string;
  end?: string;
}
export interface Quantity {
  value?: number;
  comparator?: '<' | '<=' | '>=' | '>';
  unit?: string;
  system?: string;
  code?: string;
}
export interface Range {
  low?: Quantity;
  high?: Quantity;
}
export interface Ratio {
  numerator?: Quantity;
  denominator?: Quantity;
}
export interface Extension {
  url: string;
  valueCode?: string;
  valueCoding?: Coding;
  valueString?: string;
}
export interface HumanName {
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
}
export interface Address {
  extension?: Extension[];
  use?: 'home' | 'work' | 'temp' | 'old' | 'billing';
  type?: 'postal' | 'physical' | 'both';
  text?: string;
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}
export interface ContactPoint {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
}
export interface Annotation {
  text: string;
}

interface ResourceBase {
  id?: string;
}

export interface Patient extends ResourceBase {
  resourceType: 'Patient';
  identifier?: Identifier[];
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
  deceasedBoolean?: boolean;
  deceasedDateTime?: string;
  address?: Address[];
}

export interface EncounterLocation {
  location: Reference;
  status?: 'planned' | 'active' | 'reserved' | 'completed';
}
export interface EncounterParticipant {
  type?: CodeableConcept[];
  individual?: Reference;
}
export interface Encounter extends ResourceBase {
  resourceType: 'Encounter';
  identifier?: Identifier[];
  status: 'planned' | 'arrived' | 'triaged' | 'in-progress' | 'onleave' | 'finished' | 'cancelled' | 'entered-in-error' | 'unknown';
  class: Coding;
  serviceType?: CodeableConcept;
  subject?: Reference;
  participant?: EncounterParticipant[];
  period?: Period;
  reasonCode?: CodeableConcept[];
  hospitalization?: { admitSource?: CodeableConcept; dischargeDisposition?: CodeableConcept };
  location?: EncounterLocation[];
}

export interface Condition extends ResourceBase {
  resourceType: 'Condition';
  identifier?: Identifier[];
  verificationStatus?: CodeableConcept;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  onsetDateTime?: string;
  recordedDate?: string;
}

export interface ObservationReferenceRange {
  low?: Quantity;
  high?: Quantity;
  text?: string;
}
export interface Observation extends ResourceBase {
  resourceType: 'Observation';
  identifier?: Identifier[];
  status: 'registered' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error' | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueRange?: Range;
  valueRatio?: Ratio;
  valueDateTime?: string;
  valueTime?: string;
  dataAbsentReason?: CodeableConcept;
  interpretation?: CodeableConcept[];
  note?: Annotation[];
  method?: CodeableConcept;
  specimen?: Reference;
  referenceRange?: ObservationReferenceRange[];
}

export interface DiagnosticReport extends ResourceBase {
  resourceType: 'DiagnosticReport';
  identifier?: Identifier[];
  basedOn?: Reference[];
  status:
    | 'registered'
    | 'partial'
    | 'preliminary'
    | 'final'
    | 'amended'
    | 'corrected'
    | 'appended'
    | 'cancelled'
    | 'entered-in-error'
    | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  issued?: string;
  specimen?: Reference[];
  result?: Reference[];
  conclusion?: string;
}

export interface Specimen extends ResourceBase {
  resourceType: 'Specimen';
  identifier?: Identifier[];
  type?: CodeableConcept;
  subject?: Reference;
  receivedTime?: string;
  collection?: {
    collectedDateTime?: string;
    collectedPeriod?: Period;
    method?: CodeableConcept;
    bodySite?: CodeableConcept;
  };
  note?: Annotation[];
}

export interface Immunization extends ResourceBase {
  resourceType: 'Immunization';
  identifier?: Identifier[];
  status: 'completed' | 'entered-in-error' | 'not-done';
  statusReason?: CodeableConcept;
  vaccineCode: CodeableConcept;
  patient: Reference;
  encounter?: Reference;
  occurrenceDateTime: string;
  recorded?: string;
  primarySource?: boolean;
  reportOrigin?: CodeableConcept;
  location?: Reference;
  manufacturer?: Reference;
  lotNumber?: string;
  expirationDate?: string;
  site?: CodeableConcept;
  route?: CodeableConcept;
  doseQuantity?: Quantity;
  performer?: { function?: CodeableConcept; actor: Reference }[];
  isSubpotent?: boolean;
  programEligibility?: CodeableConcept[];
  fundingSource?: CodeableConcept;
}

export interface ServiceRequest extends ResourceBase {
  resourceType: 'ServiceRequest';
  identifier?: Identifier[];
  status: 'draft' | 'active' | 'on-hold' | 'revoked' | 'completed' | 'entered-in-error' | 'unknown';
  intent: 'proposal' | 'plan' | 'directive' | 'order' | 'original-order' | 'reflex-order' | 'filler-order' | 'instance-order' | 'option';
  priority?: 'routine' | 'urgent' | 'asap' | 'stat';
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  occurrenceDateTime?: string;
  authoredOn?: string;
  requester?: Reference;
  reasonCode?: CodeableConcept[];
  supportingInfo?: Reference[];
  specimen?: Reference[];
  note?: Annotation[];
}

export type Resource = Patient | Encounter | Condition | Observation | DiagnosticReport | Specimen | Immunization | ServiceRequest;

export interface BundleEntry<R extends Resource = Resource> {
  fullUrl: string;
  resource: R;
  request: { method: 'POST' | 'PUT'; url: string; ifNoneExist?: string };
}

export interface Bundle {
  resourceType: 'Bundle';
  type: 'transaction';
  identifier?: Identifier;
  timestamp?: string;
  entry: BundleEntry[];
}
