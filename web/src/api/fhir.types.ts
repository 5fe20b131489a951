/**
 * The slice of FHIR R4 the web app reads. Hand-written and partial on purpose: fields are
 * optional as in FHIR, and unknown fields pass through untouched.
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

export interface Reference {
  reference?: string;
  display?: string;
  identifier?: Identifier;
}

export interface Period {
  start?: string;
  end?: string;
}

export interface Identifier {
  use?: string;
  type?: CodeableConcept;
  system?: string;
  value?: string;
  assigner?: Reference;
  period?: Period;
}

export interface HumanName {
  use?: string;
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
}

export interface ContactPoint {
  system?: string;
  value?: string;
  use?: string;
}

export interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueCoding?: Coding;
  valueReference?: Reference;
  extension?: Extension[];
}

export interface Address {
  use?: string;
  text?: string;
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
  extension?: Extension[];
}

export interface Quantity {
  value?: number;
  unit?: string;
  system?: string;
  code?: string;
  comparator?: string;
}

export interface Meta {
  lastUpdated?: string;
  versionId?: string;
}

export interface Resource {
  resourceType: string;
  id?: string;
  meta?: Meta;
}

export interface Patient extends Resource {
  resourceType: 'Patient';
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: string;
  birthDate?: string;
  deceasedBoolean?: boolean;
  deceasedDateTime?: string;
  address?: Address[];
  maritalStatus?: CodeableConcept;
  managingOrganization?: Reference;
  generalPractitioner?: Reference[];
  extension?: Extension[];
}

export interface Encounter extends Resource {
  resourceType: 'Encounter';
  status?: string;
  class?: Coding;
  type?: CodeableConcept[];
  serviceType?: CodeableConcept;
  period?: Period;
  reasonCode?: CodeableConcept[];
  serviceProvider?: Reference;
  participant?: Array<{ individual?: Reference }>;
  location?: Array<{ location?: Reference }>;
  hospitalization?: { dischargeDisposition?: CodeableConcept };
}

export interface Condition extends Resource {
  resourceType: 'Condition';
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  onsetDateTime?: string;
  onsetPeriod?: Period;
  onsetString?: string;
  abatementDateTime?: string;
  recordedDate?: string;
}

export interface ObservationComponent {
  code: CodeableConcept;
  valueQuantity?: Quantity;
  valueString?: string;
  valueCodeableConcept?: CodeableConcept;
}

export interface Observation extends Resource {
  resourceType: 'Observation';
  status?: string;
  category?: CodeableConcept[];
  code: CodeableConcept;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  valueQuantity?: Quantity;
  valueString?: string;
  valueCodeableConcept?: CodeableConcept;
  valueBoolean?: boolean;
  valueInteger?: number;
  interpretation?: CodeableConcept[];
  referenceRange?: Array<{ low?: Quantity; high?: Quantity; text?: string }>;
  component?: ObservationComponent[];
}

export interface Dosage {
  text?: string;
  asNeededBoolean?: boolean;
  timing?: { repeat?: { frequency?: number; period?: number; periodUnit?: string } };
  doseAndRate?: Array<{ doseQuantity?: Quantity }>;
}

export interface MedicationRequest extends Resource {
  resourceType: 'MedicationRequest';
  status?: string;
  intent?: string;
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: Reference;
  authoredOn?: string;
  requester?: Reference;
  dosageInstruction?: Dosage[];
}

export interface Immunization extends Resource {
  resourceType: 'Immunization';
  status?: string;
  vaccineCode?: CodeableConcept;
  occurrenceDateTime?: string;
  occurrenceString?: string;
  lotNumber?: string;
  performer?: Array<{ actor?: Reference }>;
  location?: Reference;
  protocolApplied?: Array<{ doseNumberPositiveInt?: number; doseNumberString?: string }>;
}

export interface Procedure extends Resource {
  resourceType: 'Procedure';
  status?: string;
  code?: CodeableConcept;
  performedDateTime?: string;
  performedPeriod?: Period;
}

export interface AllergyIntolerance extends Resource {
  resourceType: 'AllergyIntolerance';
  clinicalStatus?: CodeableConcept;
  code?: CodeableConcept;
  category?: string[];
  criticality?: string;
  recordedDate?: string;
}

export interface DiagnosticReport extends Resource {
  resourceType: 'DiagnosticReport';
  status?: string;
  code?: CodeableConcept;
  effectiveDateTime?: string;
  issued?: string;
}

export interface CarePlan extends Resource {
  resourceType: 'CarePlan';
  status?: string;
  category?: CodeableConcept[];
  title?: string;
  period?: Period;
}

export interface Organization extends Resource {
  resourceType: 'Organization';
  name?: string;
}

export interface Practitioner extends Resource {
  resourceType: 'Practitioner';
  name?: HumanName[];
}

export interface AuditEvent extends Resource {
  resourceType: 'AuditEvent';
  type?: Coding;
  subtype?: Coding[];
  action?: string;
  recorded?: string;
  outcome?: string;
  outcomeDesc?: string;
  agent?: Array<{
    who?: Reference;
    altId?: string;
    name?: string;
    requestor?: boolean;
    network?: { address?: string };
  }>;
  source?: { observer?: Reference; site?: string };
  entity?: Array<{ what?: Reference; name?: string; query?: string; description?: string }>;
}

export interface BundleLink {
  relation: string;
  url: string;
}

export interface BundleEntry<T extends Resource = Resource> {
  fullUrl?: string;
  resource?: T;
  search?: { mode?: string };
}

export interface Bundle<T extends Resource = Resource> extends Resource {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: BundleLink[];
  entry?: Array<BundleEntry<T>>;
}

export function bundleResources<T extends Resource>(bundle: Bundle<Resource> | undefined, type: T['resourceType']): T[] {
  return (bundle?.entry ?? [])
    .map((entry) => entry.resource)
    .filter((resource): resource is T => !!resource && resource.resourceType === type);
}

export function bundleLink(bundle: Bundle<Resource> | undefined, relation: string): string | undefined {
  return bundle?.link?.find((link) => link.relation === relation)?.url;
}
