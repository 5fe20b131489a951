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
import { createHash } from 'node:crypto';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../../shared/id-number.js';
import {
  AREA_CODE_EXTENSION,
  DEPARTMENT_SYSTEM,
  FACILITY_MRN_SYSTEM_PREFIX,
  ICD10_SYSTEM,
  LOINC_SYSTEM,
  UCUM_SYSTEM,
  VACCINE_SYSTEM,
  YIFANG_BASE,
} from '../../shared/uris.js';
import { Hl7ParseError } from '../errors.js';
import { hl7ToFhirDate, hl7ToFhirDateTime, hl7ToFhirInstant, type Hl7Composite, type Hl7Message, type Hl7Segment } from '../parser.js';
import { checkSegmentOrder } from '../structure.js';
import type {
  Address,
  Bundle,
  BundleEntry,
  CodeableConcept,
  Coding,
  Condition,
  ContactPoint,
  DiagnosticReport,
  Encounter,
  EncounterParticipant,
  HumanName,
  Identifier,
  Immunization,
  Observation,
  Patient,
  Quantity,
  Reference,
  Resource,
  ServiceRequest,
  Specimen,
} from '../fhir-types.js';

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
  bundle: Bundle;
  /** A40 merge instructions (empty for other events). */
  merges: MergeInstruction[];
  /** Non-fatal problems (skipped segments, identifiers that failed validation, ...). */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Small value helpers
// ---------------------------------------------------------------------------------------------

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const SNOMED = 'http://snomed.info/sct';
const ICD9CM = 'http://hl7.org/fhir/sid/icd-9-cm';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const CVX = 'http://hl7.org/fhir/sid/cvx';
const MVX = 'http://hl7.org/fhir/sid/mvx';
const NDC = 'http://hl7.org/fhir/sid/ndc';
const NCIT = 'http://ncithesaurus-stage.nci.nih.gov';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const IMM_FUNCTION = 'http://terminology.hl7.org/CodeSystem/v2-0443';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** FHIR `code` values may not have leading/trailing or repeated whitespace. */
function asCode(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const c = s.replace(/\s+/g, ' ').trim();
  return c === '' ? undefined : c;
}

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return o;
}

/** Maps an HL7 coding-system name (CWE-3) to a FHIR system URI, when we know one. */
export function codingSystemUri(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const key = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (key === 'LN' || key === 'LOINC') return LOINC_SYSTEM;
  if (key === 'SCT' || key === 'SNOMED' || key === 'SNOMEDCT' || key === 'SNM') return SNOMED;
  if (key === 'I10C' || key === 'ICD10CM') return ICD10CM;
  // I10 / ICD10 / ICD-10, and the Chinese national clinical edition (国家临床版, GB/T 14396)
  if (/^I(CD)?10(CN|GB|WHO|GBT14396)?$/.test(key)) return ICD10_SYSTEM;
  if (/^I(CD)?9(CM|C)?$/.test(key)) return ICD9CM;
  if (key === 'CVX') return CVX;
  if (key === 'MVX') return MVX;
  if (key === 'NDC') return NDC;
  if (key === 'UCUM') return UCUM_SYSTEM;
  if (key === 'NCIT') return NCIT;
  const table = /^HL7(\d{4})$/.exec(key);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  return undefined;
}

/** CWE/CE/CNE → CodeableConcept (primary and alternate codings, original text). */
function concept(
  c: Hl7Composite | undefined,
  systemFor: (name: string | undefined) => string | undefined = codingSystemUri,
): CodeableConcept | undefined {
  if (!c) return undefined;
  const coding: Coding[] = [];
  for (const base of [1, 4]) {
    const code = asCode(c.value(base));
    if (code) coding.push(compact({ system: systemFor(c.value(base + 2)), code, display: c.value(base + 1) }));
  }
  const text = c.value(9) ?? c.value(2) ?? c.value(5) ?? (coding.length ? undefined : c.value(1));
  if (!coding.length && !text) return undefined;
  return compact({ coding, text });
}

function textConcept(text: string | undefined): CodeableConcept | undefined {
  return text ? { text } : undefined;
}

/** XCN (person with id) → display name. */
function personName(c: Hl7Composite, offset = 0): string | undefined {
  const family = c.value(offset + 1, 1);
  const given = c.value(offset + 2);
  const middle = c.value(offset + 3);
  if (!family && !given) return undefined;
  if ((family && CJK.test(family)) || (given && CJK.test(given))) return `${family ?? ''}${given ?? ''}`;
  return [c.value(offset + 5), given, middle, family].filter(Boolean).join(' ');
}

function practitionerRef(c: Hl7Composite | undefined): Reference | undefined {
  if (!c) return undefined;
  const id = c.value(1);
  const display = personName(c, 1);
  if (!id && !display) return undefined;
  return compact({ type: 'Practitioner', identifier: id ? { value: id } : undefined, display });
}

function escapeSearch(v: string): string {
  return v.replace(/[\\|,$]/g, (ch) => `\\${ch}`);
}

/** Deterministic name-based UUID (version 5 layout over SHA-1). */
function uuidFor(name: string): string {
  const h = createHash('sha1').update(`yifang-hl7v2:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Bundle assembly
// ---------------------------------------------------------------------------------------------

class BundleBuilder {
  readonly entries: BundleEntry[] = [];
  private readonly byUrl = new Map<string, BundleEntry>();

  /**
   * Adds a resource keyed by `key`: 'update' = conditional PUT, 'create' = POST + ifNoneExist.
   * A second resource with the same key in this bundle returns the first entry.
   */
  add<R extends Resource>(resource: R, key: Identifier, mode: 'update' | 'create'): { entry: BundleEntry<R>; existed: boolean } {
    const query = `identifier=${encodeURIComponent(escapeSearch(key.system!))}|${encodeURIComponent(escapeSearch(key.value!))}`;
    const url = `${resource.resourceType}?${query}`;
    const existing = this.byUrl.get(url);
    if (existing) return { entry: existing as BundleEntry<R>, existed: true };
    // The conditional search must find the resource again on a resend: it has to carry its key.
    const ids = (resource as { identifier?: Identifier[] }).identifier ?? [];
    if (!ids.some((i) => i.system === key.system && i.value === key.value)) {
      (resource as { identifier?: Identifier[] }).identifier = [...ids, { system: key.system, value: key.value }];
    }
    const entry: BundleEntry<R> = {
      fullUrl: `urn:uuid:${uuidFor(url)}`,
      resource,
      request: mode === 'update' ? { method: 'PUT', url } : { method: 'POST', url: resource.resourceType, ifNoneExist: query },
    };
    this.entries.push(entry as BundleEntry);
    this.byUrl.set(url, entry as BundleEntry);
    return { entry, existed: false };
  }

  has(resourceType: string, key: Identifier): boolean {
    return this.byUrl.has(
      `${resourceType}?identifier=${encodeURIComponent(escapeSearch(key.system!))}|${encodeURIComponent(escapeSearch(key.value!))}`,
    );
  }
}

const ref = (entry: BundleEntry): Reference => ({ reference: entry.fullUrl });

// ---------------------------------------------------------------------------------------------
// Mapping context
// ---------------------------------------------------------------------------------------------

interface PatientCtx {
  entry: BundleEntry<Patient>;
  key: Identifier;
}

class Ctx {
  readonly builder = new BundleBuilder();
  readonly warnings: string[] = [];
  readonly facility: string;
  private readonly facilityPart: string;
  readonly tz: string;
  readonly controlId: string;
  readonly patientKey: 'facility-mrn' | 'resident-id';
  private readonly usedKeys = new Map<string, number>();

  constructor(
    readonly msg: Hl7Message,
    options: ToFhirOptions,
  ) {
    this.facility = options.facilityId ?? msg.sendingFacility ?? msg.sendingApplication ?? 'unknown';
    this.facilityPart = encodeURIComponent(this.facility);
    this.tz = options.defaultTimezoneOffset ?? '+08:00';
    this.controlId = msg.controlId;
    this.patientKey = options.patientKey ?? 'facility-mrn';
  }

  get mrnSystem(): string {
    return `${FACILITY_MRN_SYSTEM_PREFIX}/${this.facilityPart}`;
  }

  system(kind: keyof typeof HL7V2_IDENTIFIER_SYSTEMS): string {
    return `${HL7V2_IDENTIFIER_SYSTEMS[kind]}/${this.facilityPart}`;
  }

  /** A derived key, made unique within this message if the same key is produced twice. */
  derived(value: string, unique = false): Identifier {
    let v = value;
    if (unique) {
      const n = (this.usedKeys.get(value) ?? 0) + 1;
      this.usedKeys.set(value, n);
      if (n > 1) v = `${value}#${n}`;
    }
    return { system: this.system('derived'), value: v };
  }

  /** 'PID-7', 'OBX[3]-14' */
  label(seg: Hl7Segment, field: number): string {
    return `${seg.name}${seg.occurrence > 1 ? `[${seg.occurrence}]` : ''}-${field}`;
  }

  dateTime(seg: Hl7Segment, field: number, component = 1, repetition = 1): string | undefined {
    return hl7ToFhirDateTime(seg.value(field, component, 1, repetition), this.label(seg, field), this.tz);
  }

  date(seg: Hl7Segment, field: number): string | undefined {
    return hl7ToFhirDate(seg.value(field), this.label(seg, field));
  }

  instant(seg: Hl7Segment, field: number): string | undefined {
    return hl7ToFhirInstant(seg.value(field), this.label(seg, field), this.tz);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Patient (PID)
// ---------------------------------------------------------------------------------------------

const MRN_TYPES = new Set(['MR', 'MRN', 'PI', 'PT', 'PN']);
const RESIDENT_TYPES = new Set(['ID', 'NNCHN', 'RID', 'SFZ']);

interface MappedId {
  identifier: Identifier;
  kind: 'resident' | 'mrn' | 'other';
}

function mapCx(cx: Hl7Composite, ctx: Ctx, label: string): MappedId | undefined {
  const value = cx.value(1);
  if (!value) return undefined;
  const type = cx.value(5)?.toUpperCase();
  const authority = `${cx.value(4, 1) ?? ''} ${cx.value(4, 2) ?? ''}`.toUpperCase();
  const compactValue = value.replace(/\s+/g, '').toUpperCase();
  const residentTyped = (type !== undefined && RESIDENT_TYPES.has(type)) || (type === 'NN' && authority.includes('CHN'));
  const looksResident = type === undefined && /^\d{17}[\dX]$/.test(compactValue) && parseIdNumber(compactValue).ok;
  if (residentTyped || looksResident) {
    const parsed = parseIdNumber(compactValue);
    if (parsed.ok) {
      return {
        kind: 'resident',
        identifier: {
          use: 'official',
          type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码' },
          system: RESIDENT_ID_SYSTEM,
          value: compactValue,
        },
      };
    }
    ctx.warn(
      `${label}: resident ID number ${JSON.stringify(value)} failed validation (${parsed.reason}); kept without the resident ID system`,
    );
    return { kind: 'other', identifier: { type: { text: '居民身份证号码 (未通过校验 / failed validation)' }, value } };
  }
  if (type === undefined || MRN_TYPES.has(type)) {
    return { kind: 'mrn', identifier: { use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: ctx.mrnSystem, value } };
  }
  const uid = cx.value(4, 2);
  const uidType = cx.value(4, 3)?.toUpperCase();
  const system = uid && uidType === 'ISO' && /^[0-2](\.(0|[1-9]\d*))+$/.test(uid) ? `urn:oid:${uid}` : undefined;
  return { kind: 'other', identifier: compact({ type: { coding: [{ system: V2_0203, code: asCode(type) }] }, system, value }) };
}

function mapIdentifiers(pid: Hl7Segment, ctx: Ctx): MappedId[] {
  let list = pid.reps(3).map((cx, i) => mapCx(cx, ctx, `${ctx.label(pid, 3)}[${i + 1}]`));
  if (!list.some(Boolean)) list = pid.reps(2).map((cx) => mapCx(cx, ctx, ctx.label(pid, 2)));
  const out = list.filter((x): x is MappedId => x !== undefined);
  // PID-19 (SSN) carries the resident ID number in many Chinese HIS interfaces: accept it if it validates.
  const ssn = pid.value(19)?.replace(/\s+/g, '').toUpperCase();
  if (ssn && !out.some((m) => m.kind === 'resident') && parseIdNumber(ssn).ok) {
    out.push({
      kind: 'resident',
      identifier: {
        use: 'official',
        type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码' },
        system: RESIDENT_ID_SYSTEM,
        value: ssn,
      },
    });
  }
  // drop exact duplicates
  const seen = new Set<string>();
  return out.filter((m) => {
    const k = `${m.identifier.system}|${m.identifier.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function chooseKey(ids: MappedId[], ctx: Ctx): Identifier | undefined {
  const mrn = ids.find((m) => m.kind === 'mrn');
  const resident = ids.find((m) => m.kind === 'resident');
  const order = ctx.patientKey === 'resident-id' ? [resident, mrn] : [mrn, resident];
  const pick = order.find(Boolean) ?? ids.find((m) => m.identifier.system);
  return pick ? { system: pick.identifier.system, value: pick.identifier.value } : undefined;
}

const NAME_USE: Record<string, HumanName['use']> = {
  L: 'official',
  D: 'usual',
  M: 'maiden',
  N: 'nickname',
  T: 'temp',
  U: 'old',
  A: 'usual',
};

function mapName(x: Hl7Composite): HumanName | undefined {
  const family = x.value(1, 1);
  const given = [x.value(2), x.value(3)].filter((s): s is string => !!s);
  const use = NAME_USE[x.value(7)?.toUpperCase() ?? ''];
  if (!family && !given.length) return undefined;
  const cjk = CJK.test(family ?? '') || given.some((g) => CJK.test(g));
  if (family && !given.length && (cjk || /\s/.test(family))) {
    // The whole name in one component (common for Chinese names): do not guess the split.
    return compact({ use, text: family });
  }
  const suffix = [x.value(4), x.value(6)].filter((s): s is string => !!s);
  const prefix = x.value(5) ? [x.value(5)!] : [];
  return compact({ use, text: cjk ? `${family ?? ''}${given.join('')}` : undefined, family, given, prefix, suffix });
}

const SEX: Record<string, Patient['gender']> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  U: 'unknown',
  N: 'unknown',
  '1': 'male', // GB/T 2261.1
  '2': 'female',
  '0': 'unknown',
  '9': 'unknown',
  男: 'male',
  女: 'female',
};

const ADDRESS_USE: Record<string, Address['use']> = {
  H: 'home',
  P: 'home',
  L: 'home',
  B: 'work',
  O: 'work',
  C: 'temp',
  BA: 'billing',
  BI: 'billing',
  OLD: 'old',
};

function mapAddress(x: Hl7Composite): Address | undefined {
  const street = [x.value(1, 1), x.value(1, 2), x.value(1, 3)].filter(Boolean).join(' ');
  const line = [street, x.value(2)].filter((s): s is string => !!s);
  const typeCode = x.value(7)?.toUpperCase() ?? '';
  const county = x.value(9);
  const tract = x.value(10);
  // Most precise administrative division code present: 12-digit statistical code, else 6-digit GB/T 2260.
  const areaCode = [tract, county]
    .filter((s): s is string => !!s && /^\d{6}(\d{3}|\d{6})?$/.test(s))
    .sort((a, b) => b.length - a.length)[0];
  const district = county && !/^\d+$/.test(county) ? county : undefined;
  const addr: Address = compact({
    extension: areaCode ? [{ url: AREA_CODE_EXTENSION, valueCode: areaCode }] : undefined,
    use: ADDRESS_USE[typeCode],
    type: typeCode === 'M' ? ('postal' as const) : undefined,
    line,
    city: x.value(3),
    district,
    state: x.value(4),
    postalCode: x.value(5),
    country: x.value(6),
  });
  return Object.keys(addr).some((k) => k !== 'use' && k !== 'type') ? addr : undefined;
}

function mapTelecom(x: Hl7Composite, defaultUse: ContactPoint['use']): ContactPoint | undefined {
  const useCode = x.value(2)?.toUpperCase();
  const equip = x.value(3)?.toUpperCase();
  const email = x.value(4);
  if (email && (useCode === 'NET' || equip === 'INTERNET' || equip === 'X.400' || !x.value(1))) {
    return { system: 'email', value: email, use: useCode === 'WPN' ? 'work' : defaultUse };
  }
  let value = x.value(1) ?? x.value(12);
  if (!value) {
    const local = x.value(7);
    if (!local) return undefined;
    value = [x.value(5) ? `+${x.value(5)}` : '', x.value(6) ? `(${x.value(6)})` : '', local, x.value(8) ? `ext ${x.value(8)}` : '']
      .filter(Boolean)
      .join(' ');
  }
  const system: ContactPoint['system'] = equip === 'FX' ? 'fax' : equip === 'BP' ? 'pager' : 'phone';
  const use: ContactPoint['use'] = equip === 'CP' ? 'mobile' : useCode === 'WPN' ? 'work' : useCode === 'PRN' ? 'home' : defaultUse;
  return { system, value, use };
}

function mapPatient(pid: Hl7Segment, ctx: Ctx, mode: 'update' | 'create'): PatientCtx {
  const ids = mapIdentifiers(pid, ctx);
  const key = chooseKey(ids, ctx);
  if (!key) {
    throw new Hl7ParseError(
      'MISSING_FIELD',
      `${ctx.label(pid, 3)} (patient identifier list) has no usable patient identifier`,
      pid.location(3),
    );
  }
  const deceasedAt = ctx.dateTime(pid, 29);
  const deceasedFlag = pid.value(30)?.toUpperCase();
  const patient: Patient = compact({
    resourceType: 'Patient' as const,
    identifier: ids.map((m) => m.identifier),
    name: pid
      .reps(5)
      .map(mapName)
      .filter((n): n is HumanName => !!n),
    telecom: [...pid.reps(13).map((x) => mapTelecom(x, 'home')), ...pid.reps(14).map((x) => mapTelecom(x, 'work'))].filter(
      (t): t is ContactPoint => !!t,
    ),
    gender: SEX[pid.value(8)?.toUpperCase() ?? ''],
    birthDate: ctx.date(pid, 7),
    deceasedDateTime: deceasedAt,
    deceasedBoolean: deceasedAt ? undefined : deceasedFlag === 'Y' ? true : deceasedFlag === 'N' ? false : undefined,
    address: pid
      .reps(11)
      .map(mapAddress)
      .filter((a): a is Address => !!a),
  });
  const { entry } = ctx.builder.add(patient, key, mode);
  return { entry, key };
}

// ---------------------------------------------------------------------------------------------
// Encounter (PV1, PV2)
// ---------------------------------------------------------------------------------------------

const ENCOUNTER_CLASS: Record<string, Coding> = {
  E: { system: ACT_CODE, code: 'EMER', display: 'emergency' },
  I: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  O: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  P: { system: ACT_CODE, code: 'PRENC', display: 'pre-admission' },
  R: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  B: { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  C: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
};

interface EncounterCtx {
  entry: BundleEntry<Encounter>;
  /** Value used to derive keys of resources belonging to this visit. */
  keyValue: string;
}

function locationDisplay(pl: Hl7Composite): string | undefined {
  const desc = pl.value(9);
  if (desc) return desc;
  const parts = [pl.value(1), pl.value(2), pl.value(3)].filter(Boolean);
  return parts.length ? parts.join(' ') : pl.value(4);
}

type EncounterEvent = 'A01' | 'A02' | 'A03' | 'A04' | 'A08' | 'A11' | 'A13' | 'A28' | 'A31' | 'other';

function mapEncounter(
  pv1: Hl7Segment,
  pv2: Hl7Segment | undefined,
  evn: Hl7Segment | undefined,
  patient: PatientCtx,
  ctx: Ctx,
  event: EncounterEvent,
  mode: 'update' | 'create',
): EncounterCtx {
  const visitNumber = pv1.value(19);
  let key: Identifier;
  if (visitNumber) {
    key = { system: ctx.system('visit'), value: visitNumber };
  } else {
    ctx.warn(
      `${ctx.label(pv1, 19)} (visit number) is empty: the encounter is keyed on message ${ctx.controlId} and will not match later events for the same visit`,
    );
    key = ctx.derived(`msg:${ctx.controlId}/PV1`);
  }
  const classCode = pv1.value(2)?.toUpperCase() ?? '';
  const start = ctx.dateTime(pv1, 44);
  let end = ctx.dateTime(pv1, 45);
  if (event === 'A03' && !end && evn) end = ctx.dateTime(evn, 6) ?? ctx.dateTime(evn, 2);
  if (event === 'A13' || event === 'A11') end = undefined;
  if (start && end && Date.parse(end) < Date.parse(start)) {
    ctx.warn(`${ctx.label(pv1, 45)} (discharge time) is before ${ctx.label(pv1, 44)} (admit time); discharge time dropped`);
    end = undefined;
  }
  const status: Encounter['status'] =
    event === 'A11' ? 'cancelled' : event === 'A03' ? 'finished' : event === 'A13' ? 'in-progress' : end ? 'finished' : 'in-progress';

  const locations: NonNullable<Encounter['location']> = [];
  const here = pv1.rep(3);
  const hereText = here && locationDisplay(here);
  if (hereText) locations.push({ location: { display: hereText }, status: status === 'finished' ? 'completed' : 'active' });
  const prior = pv1.rep(6);
  const priorText = prior && locationDisplay(prior);
  if (priorText && event === 'A02') locations.push({ location: { display: priorText }, status: 'completed' });

  const participant: EncounterParticipant[] = [];
  for (const [field, code] of [
    [7, 'ATND'],
    [8, 'REF'],
    [9, 'CON'],
    [17, 'ADM'],
  ] as const) {
    for (const x of pv1.reps(field)) {
      const individual = practitionerRef(x);
      if (individual) participant.push({ type: [{ coding: [{ system: PARTICIPATION, code }] }], individual });
    }
  }

  const service = asCode(pv1.value(10));
  const reason = pv2 ? concept(pv2.rep(3)) : undefined;
  const admitSource = asCode(pv1.value(14));
  const disposition = asCode(pv1.value(36));
  const encounter: Encounter = compact({
    resourceType: 'Encounter' as const,
    identifier: [{ use: 'usual' as const, type: { coding: [{ system: V2_0203, code: 'VN' }] }, ...key }],
    status,
    class: ENCOUNTER_CLASS[classCode] ?? { system: NULL_FLAVOR, code: 'UNK', display: classCode ? `PV1-2 ${classCode}` : 'unknown' },
    serviceType: service ? { coding: [{ system: DEPARTMENT_SYSTEM, code: service }] } : undefined,
    subject: ref(patient.entry),
    participant,
    period: start || end ? compact({ start, end }) : undefined,
    reasonCode: reason ? [reason] : undefined,
    hospitalization:
      admitSource || disposition
        ? compact({
            admitSource: admitSource
              ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0023', code: admitSource }] }
              : undefined,
            dischargeDisposition: disposition
              ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0112', code: disposition }] }
              : undefined,
          })
        : undefined,
    location: locations,
  });
  const { entry } = ctx.builder.add(encounter, key, mode);
  return { entry, keyValue: `visit:${key.value}` };
}

// ---------------------------------------------------------------------------------------------
// Condition (DG1)
// ---------------------------------------------------------------------------------------------

function diagnosisSystem(dg1: Hl7Segment): (name: string | undefined) => string | undefined {
  const method = dg1.value(2);
  return (name) => codingSystemUri(name ?? method);
}

function mapCondition(
  dg1: Hl7Segment,
  patient: PatientCtx,
  encounter: EncounterCtx | undefined,
  ctx: Ctx,
): BundleEntry<Condition> | undefined {
  const code = concept(dg1.rep(3), diagnosisSystem(dg1)) ?? textConcept(dg1.value(4));
  if (!code) {
    ctx.warn(`${ctx.label(dg1, 3)} (diagnosis code) is empty: DG1 skipped`);
    return undefined;
  }
  if (!code.text && dg1.value(4)) code.text = dg1.value(4);
  const dxId = dg1.value(20);
  const codeKey = code.coding?.[0]?.code ?? code.text!;
  const scope = encounter?.keyValue ?? `patient:${patient.key.value}`;
  const key = dxId ? ctx.derived(`dx:${dxId}`) : ctx.derived(`${scope}/dx:${codeKey}`, true);
  const type = dg1.value(6)?.toUpperCase();
  const verification = type === 'F' ? 'confirmed' : type === 'A' || type === 'W' || type === 'P' ? 'provisional' : undefined;
  const condition: Condition = compact({
    resourceType: 'Condition' as const,
    identifier: [key],
    verificationStatus: verification ? { coding: [{ system: CONDITION_VER, code: verification }] } : undefined,
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis' }] }],
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    recordedDate: ctx.dateTime(dg1, 5),
  });
  return ctx.builder.add(condition, key, 'update').entry;
}

// ---------------------------------------------------------------------------------------------
// Observation (OBX)
// ---------------------------------------------------------------------------------------------

const OBX_STATUS: Record<string, Observation['status']> = {
  F: 'final',
  U: 'final',
  C: 'corrected',
  A: 'amended',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  I: 'registered',
  O: 'registered',
  D: 'entered-in-error',
  W: 'entered-in-error',
  X: 'cancelled',
  N: 'cancelled',
};

const V3_INTERPRETATION = new Set([
  '<',
  '>',
  'A',
  'AA',
  'AC',
  'B',
  'CAR',
  'D',
  'DET',
  'E',
  'EX',
  'EXP',
  'H',
  'HH',
  'HU',
  'HX',
  'I',
  'IE',
  'IND',
  'L',
  'LL',
  'LU',
  'LX',
  'MS',
  'N',
  'NCL',
  'ND',
  'NEG',
  'NR',
  'NS',
  'POS',
  'QCF',
  'R',
  'RR',
  'S',
  'SDD',
  'SYN-R',
  'SYN-S',
  'TOX',
  'U',
  'UNE',
  'VS',
  'W',
  'WR',
]);

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function toNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function unitOf(obx: Hl7Segment): Omit<Quantity, 'value' | 'comparator'> {
  const u = obx.rep(6);
  if (!u) return {};
  const code = asCode(u.value(1));
  const text = u.value(2);
  const isUcum = codingSystemUri(u.value(3)) === UCUM_SYSTEM;
  return compact({ unit: text ?? code, system: isUcum && code ? UCUM_SYSTEM : undefined, code: isUcum ? code : undefined });
}

function quantity(value: number, units: Omit<Quantity, 'value' | 'comparator'>, comparator?: string): Quantity {
  const q: Quantity = { value, ...units };
  if (comparator === '<' || comparator === '>' || comparator === '<=' || comparator === '>=') q.comparator = comparator;
  return q;
}

function parseReferenceRange(
  text: string,
  units: Omit<Quantity, 'value' | 'comparator'>,
): NonNullable<Observation['referenceRange']>[number] {
  const num = '([+-]?\\d*\\.?\\d+)';
  const between = new RegExp(`^\\s*${num}\\s*(?:-|–|~|～|－|to|TO)\\s*${num}\\s*$`).exec(text);
  if (between) return { low: { value: Number(between[1]), ...units }, high: { value: Number(between[2]), ...units }, text };
  const upper = new RegExp(`^\\s*(?:<=|<|≤|＜)\\s*${num}\\s*$`).exec(text);
  if (upper) return { high: { value: Number(upper[1]), ...units }, text };
  const lower = new RegExp(`^\\s*(?:>=|>|≥|＞)\\s*${num}\\s*$`).exec(text);
  if (lower) return { low: { value: Number(lower[1]), ...units }, text };
  return { text };
}

/** Fills value[x] from OBX-2/OBX-5 (left empty when OBX-5 has no usable value). */
function setObservationValue(obs: Observation, obx: Hl7Segment, ctx: Ctx): void {
  const type = obx.value(2)?.toUpperCase() ?? '';
  const reps = obx.reps(5);
  const first = reps[0];
  if (!first) return;
  const units = unitOf(obx);
  const label = ctx.label(obx, 5);
  switch (type) {
    case 'NM': {
      const raw = first.value(1);
      const n = toNumber(raw);
      const cmp = raw ? /^(<=|>=|<|>)\s*(.+)$/.exec(raw) : null;
      if (n !== undefined) obs.valueQuantity = quantity(n, units);
      else if (cmp && toNumber(cmp[2]) !== undefined) obs.valueQuantity = quantity(toNumber(cmp[2])!, units, cmp[1]);
      else if (raw) {
        obs.valueString = raw;
        ctx.warn(`${label}: NM value ${JSON.stringify(raw)} is not a number; stored as text`);
      }
      break;
    }
    case 'SN': {
      const comparator = first.value(1);
      const n1 = toNumber(first.value(2));
      const sep = first.value(3);
      const n2 = toNumber(first.value(4));
      if (n1 !== undefined && n2 !== undefined && (sep === ':' || sep === '/')) {
        obs.valueRatio = { numerator: { value: n1 }, denominator: { value: n2 } };
      } else if (n1 !== undefined && n2 !== undefined && sep === '-') {
        obs.valueRange = { low: { value: n1, ...units }, high: { value: n2, ...units } };
      } else if (n1 !== undefined && !sep && (!comparator || ['<', '>', '<=', '>=', '='].includes(comparator))) {
        obs.valueQuantity = quantity(n1, units, comparator);
      } else {
        const text = [comparator, first.value(2), sep, first.value(4)].filter(Boolean).join('');
        if (text) obs.valueString = text;
      }
      break;
    }
    case 'CE':
    case 'CWE':
    case 'CNE':
    case 'CF':
    case 'CV': {
      const cc = concept(first);
      if (cc) obs.valueCodeableConcept = cc;
      break;
    }
    case 'DT':
    case 'TS':
    case 'DTM':
    case 'DR': {
      const dt = hl7ToFhirDateTime(first.value(1), label, ctx.tz);
      if (dt) obs.valueDateTime = dt;
      break;
    }
    case 'TM': {
      const m = /^(\d{2})(\d{2})?(\d{2})?/.exec(first.value(1) ?? '');
      if (m && Number(m[1]) < 24 && Number(m[2] ?? 0) < 60 && Number(m[3] ?? 0) < 60)
        obs.valueTime = `${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}`;
      break;
    }
    case 'ED':
    case 'RP': {
      // Attachments are not an Observation value type in R4; keep a pointer as text, mark embedded data absent.
      const pointer = type === 'RP' ? first.value(1) : undefined;
      if (pointer) obs.valueString = pointer;
      else
        obs.dataAbsentReason = { coding: [{ system: DATA_ABSENT, code: 'unsupported' }], text: `OBX-2 ${type} (embedded data) not stored` };
      return;
    }
    default: {
      // ST, TX, FT, ID, IS, and anything unknown: text, repetitions on separate lines.
      const text = reps
        .map((r) => r.value(1))
        .filter(Boolean)
        .join('\n');
      if (text) obs.valueString = text;
      return;
    }
  }
  if (reps.length > 1) {
    const extra = reps
      .slice(1)
      .map((r) => r.toString())
      .join(', ');
    obs.note = [...(obs.note ?? []), { text: `Additional ${label} values: ${extra}` }];
  }
}

interface ObsContext {
  patient: PatientCtx;
  encounter?: EncounterCtx;
  /** Scope for the derived identifier (order key or visit key). */
  scope: string;
  category?: string;
  specimen?: BundleEntry<Specimen>;
  effectiveFallback?: string;
}

function mapObservation(obx: Hl7Segment, oc: ObsContext, ctx: Ctx): BundleEntry<Observation> | undefined {
  const code = concept(obx.rep(3));
  if (!code) {
    ctx.warn(`${ctx.label(obx, 3)} (observation identifier) is empty: OBX skipped`);
    return undefined;
  }
  const codeKey = code.coding?.[0]?.code ?? code.text!;
  const subId = obx.value(4);
  const key = ctx.derived(`${oc.scope}/obs:${codeKey}${subId ? `/${subId}` : ''}`, true);
  const obs: Observation = {
    resourceType: 'Observation',
    identifier: [key],
    status: OBX_STATUS[obx.value(11)?.toUpperCase() ?? ''] ?? 'unknown',
    code,
    subject: ref(oc.patient.entry),
  };
  if (oc.category) obs.category = [{ coding: [{ system: OBS_CATEGORY, code: oc.category }] }];
  if (oc.encounter) obs.encounter = ref(oc.encounter.entry);
  const effective = ctx.dateTime(obx, 14) ?? oc.effectiveFallback;
  if (effective) obs.effectiveDateTime = effective;
  setObservationValue(obs, obx, ctx);
  const interpretation = obx
    .reps(8)
    .map((r): CodeableConcept | undefined => {
      const c = asCode(r.value(1)?.toUpperCase());
      if (!c) return undefined;
      return V3_INTERPRETATION.has(c) ? { coding: [{ system: INTERPRETATION, code: c }] } : { text: r.value(2) ?? c };
    })
    .filter((c): c is CodeableConcept => !!c);
  if (interpretation.length) obs.interpretation = interpretation;
  const range = obx.value(7);
  if (range)
    obs.referenceRange = [parseReferenceRange(range, { ...unitOf(obx), system: undefined, code: undefined })].map((r) => {
      if (r.low) r.low = compact(r.low);
      if (r.high) r.high = compact(r.high);
      return r;
    });
  const method = concept(obx.rep(17));
  if (method) obs.method = method;
  if (oc.specimen) obs.specimen = ref(oc.specimen);
  return ctx.builder.add(obs, key, 'update').entry;
}

// ---------------------------------------------------------------------------------------------
// Specimen (SPM, or OBR-15 in older messages)
// ---------------------------------------------------------------------------------------------

function mapSpecimen(spm: Hl7Segment, patient: PatientCtx, scope: string, ctx: Ctx): BundleEntry<Specimen> {
  const id = spm.value(2, 2, 1) ?? spm.value(2, 1, 1);
  const key: Identifier = id
    ? { system: ctx.system('specimen'), value: id }
    : ctx.derived(`${scope}/spm:${spm.value(1) ?? spm.occurrence}`, true);
  const collectedStart = ctx.dateTime(spm, 17, 1);
  const collectedEnd = ctx.dateTime(spm, 17, 2);
  const collection = compact({
    collectedDateTime: collectedEnd && collectedEnd !== collectedStart ? undefined : collectedStart,
    collectedPeriod: collectedEnd && collectedEnd !== collectedStart ? compact({ start: collectedStart, end: collectedEnd }) : undefined,
    method: concept(spm.rep(7)),
    bodySite: concept(spm.rep(8)),
  });
  const specimen: Specimen = compact({
    resourceType: 'Specimen' as const,
    identifier: [key],
    type: concept(spm.rep(4)),
    subject: ref(patient.entry),
    receivedTime: ctx.dateTime(spm, 18),
    collection: Object.keys(collection).length ? collection : undefined,
    note: spm.value(14) ? [{ text: spm.value(14)! }] : undefined,
  });
  return ctx.builder.add(specimen, key, 'update').entry;
}

function specimenFromObr(obr: Hl7Segment, patient: PatientCtx, scope: string, ctx: Ctx): BundleEntry<Specimen> | undefined {
  const source = obr.rep(15);
  if (!source) return undefined;
  // OBR-15 (SPS): specimen source code (sub-components of the first component), ..., body site (4th).
  const typeText = source.value(1, 2) ?? source.value(1, 1);
  const typeCode = asCode(source.value(1, 1));
  const type: CodeableConcept | undefined = typeCode
    ? compact({
        coding: [compact({ system: codingSystemUri(source.value(1, 3)), code: typeCode, display: source.value(1, 2) })],
        text: typeText,
      })
    : textConcept(typeText);
  const key = ctx.derived(`${scope}/specimen`);
  const collected = ctx.dateTime(obr, 7);
  const specimen: Specimen = compact({
    resourceType: 'Specimen' as const,
    identifier: [key],
    type,
    subject: ref(patient.entry),
    receivedTime: ctx.dateTime(obr, 14),
    collection:
      collected || source.value(4) ? compact({ collectedDateTime: collected, bodySite: textConcept(source.value(4)) }) : undefined,
  });
  return ctx.builder.add(specimen, key, 'update').entry;
}

// ---------------------------------------------------------------------------------------------
// Order keys (ORC / OBR)
// ---------------------------------------------------------------------------------------------

interface OrderKeys {
  placer?: string;
  filler?: string;
  identifiers: Identifier[];
  /** Identifier used for conditional requests. */
  key: Identifier;
  scope: string;
}

function orderKeys(orc: Hl7Segment | undefined, obr: Hl7Segment | undefined, ctx: Ctx, prefer: 'filler' | 'placer'): OrderKeys {
  const placer = orc?.value(2) ?? obr?.value(2);
  const filler = orc?.value(3) ?? obr?.value(3);
  const identifiers: Identifier[] = [];
  if (placer) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: ctx.system('placerOrder'), value: placer });
  if (filler) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: ctx.system('fillerOrder'), value: filler });
  const anchor = obr ?? orc!;
  const chosen = prefer === 'filler' ? (filler ? identifiers[identifiers.length - 1] : identifiers[0]) : identifiers[0];
  const key: Identifier = chosen
    ? { system: chosen.system, value: chosen.value }
    : ctx.derived(`msg:${ctx.controlId}/${anchor.name}${anchor.occurrence}`);
  const scope = filler ? `filler:${filler}` : placer ? `placer:${placer}` : `msg:${ctx.controlId}/${anchor.name}${anchor.occurrence}`;
  return { placer, filler, identifiers, key, scope };
}

/**
 * Two OBRs sharing one order number (seen in the wild) would collapse into one resource and lose
 * the second; give the later one a key of its own and say so.
 */
function uniqueOrderKey(resourceType: string, keys: OrderKeys, seg: Hl7Segment, ctx: Ctx): Identifier {
  if (!ctx.builder.has(resourceType, keys.key)) return keys.key;
  const alt = ctx.derived(`${keys.scope}/${seg.name}:${seg.value(1) ?? seg.occurrence}`, true);
  ctx.warn(
    `${ctx.label(seg, 2)}: order number ${keys.key.value} is used by more than one ${seg.name} in this message; this one is keyed ${alt.value}`,
  );
  return alt;
}

// ---------------------------------------------------------------------------------------------
// DiagnosticReport (ORU OBR)
// ---------------------------------------------------------------------------------------------

const REPORT_STATUS: Record<string, DiagnosticReport['status']> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  A: 'partial',
  P: 'preliminary',
  R: 'preliminary',
  C: 'corrected',
  F: 'final',
  X: 'cancelled',
};

interface ReportGroup {
  obr: Hl7Segment;
  orc?: Hl7Segment;
  keys: OrderKeys;
  observations: BundleEntry<Observation>[];
  specimens: BundleEntry<Specimen>[];
  lastObservation?: BundleEntry<Observation>;
  inSpecimen?: BundleEntry<Specimen>;
  effective?: string;
}

function finishReport(g: ReportGroup, patient: PatientCtx, encounter: EncounterCtx | undefined, ctx: Ctx): void {
  const code = concept(g.obr.rep(4));
  if (!code) {
    throw new Hl7ParseError(
      'MISSING_FIELD',
      `${ctx.label(g.obr, 4)} (universal service identifier) is required for a result report`,
      g.obr.location(4),
    );
  }
  if (!g.specimens.length) {
    const s = specimenFromObr(g.obr, patient, g.keys.scope, ctx);
    if (s) g.specimens.push(s);
  }
  const specimen = g.specimens[0];
  for (const o of g.observations) if (!o.resource.specimen && specimen) o.resource.specimen = ref(specimen);
  let status = REPORT_STATUS[g.obr.value(25)?.toUpperCase() ?? ''];
  if (!status) {
    const statuses = g.observations.map((o) => o.resource.status);
    status =
      statuses.length && statuses.every((s) => s === 'final') ? 'final' : statuses.includes('preliminary') ? 'preliminary' : 'unknown';
  }
  const section = asCode(g.obr.value(24));
  const report: DiagnosticReport = compact({
    resourceType: 'DiagnosticReport' as const,
    identifier: g.keys.identifiers.length ? g.keys.identifiers : [g.keys.key],
    status,
    category: section ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: section }] }] : undefined,
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    effectiveDateTime: g.effective,
    issued: ctx.instant(g.obr, 22),
    specimen: g.specimens.map(ref),
    result: g.observations.map(ref),
  });
  ctx.builder.add(report, uniqueOrderKey('DiagnosticReport', g.keys, g.obr, ctx), 'update');
}

// ---------------------------------------------------------------------------------------------
// Immunization (RXA)
// ---------------------------------------------------------------------------------------------

function vaccineSystem(name: string | undefined): string {
  const uri = codingSystemUri(name);
  return uri === CVX || uri === NDC ? uri : VACCINE_SYSTEM;
}

function mapImmunization(
  rxa: Hl7Segment,
  orc: Hl7Segment | undefined,
  patient: PatientCtx,
  encounter: EncounterCtx | undefined,
  ctx: Ctx,
): BundleEntry<Immunization> {
  const vaccineCode = concept(rxa.rep(5), vaccineSystem);
  if (!vaccineCode)
    throw new Hl7ParseError('MISSING_FIELD', `${ctx.label(rxa, 5)} (administered vaccine code) is required`, rxa.location(5));
  const occurrence = ctx.dateTime(rxa, 3);
  if (!occurrence)
    throw new Hl7ParseError('MISSING_FIELD', `${ctx.label(rxa, 3)} (date/time of administration) is required`, rxa.location(3));
  const identifiers: Identifier[] = [];
  const filler = orc?.value(3);
  const placer = orc?.value(2);
  if (filler) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: ctx.system('fillerOrder'), value: filler });
  if (placer) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: ctx.system('placerOrder'), value: placer });
  const codeKey = vaccineCode.coding?.[0]?.code ?? vaccineCode.text!;
  const natural = ctx.derived(`patient:${patient.key.value}/imm:${codeKey}/${rxa.value(3)}`, true);
  const key = identifiers[0] ? { system: identifiers[0].system, value: identifiers[0].value } : natural;
  if (!identifiers.length) identifiers.push(natural);

  const completion = rxa.value(20)?.toUpperCase();
  const action = rxa.value(21)?.toUpperCase();
  const status: Immunization['status'] =
    action === 'D' ? 'entered-in-error' : completion === 'RE' || completion === 'NA' ? 'not-done' : 'completed';
  const amount = toNumber(rxa.value(6));
  const unit = rxa.rep(7);
  const unitCode = asCode(unit?.value(1));
  const unitIsUcum = codingSystemUri(unit?.value(3)) === UCUM_SYSTEM;
  const sourceCode = rxa.value(9)?.trim();
  const manufacturer = rxa.rep(17);
  const lot = rxa.value(15);
  const provider = practitionerRef(rxa.rep(10));
  const place = rxa.rep(11);
  const placeName = place ? (place.value(4, 1) ?? place.value(1) ?? place.value(9)) : undefined;

  const imm: Immunization = compact({
    resourceType: 'Immunization' as const,
    identifier: identifiers,
    status,
    statusReason: status === 'not-done' ? concept(rxa.rep(18)) : undefined,
    vaccineCode,
    patient: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    occurrenceDateTime: occurrence,
    recorded: ctx.dateTime(rxa, 22),
    primarySource: sourceCode === '00' ? true : sourceCode && /^0[1-8]$/.test(sourceCode) ? false : undefined,
    reportOrigin: sourceCode && sourceCode !== '00' ? concept(rxa.rep(9)) : undefined,
    location: placeName ? { display: placeName } : undefined,
    manufacturer: manufacturer?.value(1)
      ? compact({
          identifier: { system: codingSystemUri(manufacturer.value(3)) === MVX ? MVX : undefined, value: manufacturer.value(1) },
          display: manufacturer.value(2),
        })
      : undefined,
    lotNumber: lot,
    expirationDate: ctx.date(rxa, 16),
    doseQuantity:
      amount !== undefined && amount !== 999
        ? compact({
            value: amount,
            unit: unit?.value(2) ?? unitCode,
            system: unitIsUcum && unitCode ? UCUM_SYSTEM : undefined,
            code: unitIsUcum ? unitCode : undefined,
          })
        : undefined,
    performer: provider ? [{ function: { coding: [{ system: IMM_FUNCTION, code: 'AP' }] }, actor: provider }] : undefined,
    isSubpotent: completion === 'PA' ? true : undefined,
  });
  if (imm.manufacturer?.identifier) imm.manufacturer.identifier = compact(imm.manufacturer.identifier);
  return ctx.builder.add(imm, key, 'update').entry;
}

// ---------------------------------------------------------------------------------------------
// ServiceRequest (ORC + OBR/RXO/...)
// ---------------------------------------------------------------------------------------------

const ORDER_STATUS: Record<string, ServiceRequest['status']> = {
  A: 'active',
  IP: 'active',
  SC: 'active',
  CM: 'completed',
  CA: 'revoked',
  DC: 'revoked',
  RP: 'revoked',
  HD: 'on-hold',
  ER: 'entered-in-error',
};
const ORDER_CONTROL: Record<string, ServiceRequest['status']> = {
  NW: 'active',
  OK: 'active',
  RL: 'active',
  OR: 'active',
  XO: 'active',
  XX: 'active',
  SC: 'active',
  RE: 'active',
  SN: 'active',
  CA: 'revoked',
  OC: 'revoked',
  CR: 'revoked',
  DC: 'revoked',
  OD: 'revoked',
  DR: 'revoked',
  HD: 'on-hold',
  OH: 'on-hold',
};
const PRIORITY: Record<string, ServiceRequest['priority']> = { S: 'stat', A: 'asap', R: 'routine', P: 'urgent', C: 'urgent', T: 'urgent' };

interface OrderGroup {
  orc?: Hl7Segment;
  detail?: Hl7Segment;
  dg1: Hl7Segment[];
  observations: BundleEntry<Observation>[];
  specimens: BundleEntry<Specimen>[];
  notes: string[];
  keys?: OrderKeys;
  lastObservation?: BundleEntry<Observation>;
}

function orderScope(g: OrderGroup, ctx: Ctx): OrderKeys {
  if (!g.keys) g.keys = orderKeys(g.orc, g.detail?.name === 'OBR' ? g.detail : undefined, ctx, 'placer');
  return g.keys;
}

function finishOrder(g: OrderGroup, patient: PatientCtx, encounter: EncounterCtx | undefined, ctx: Ctx): void {
  const keys = orderScope(g, ctx);
  const orc = g.orc;
  const obr = g.detail?.name === 'OBR' ? g.detail : undefined;
  let code: CodeableConcept | undefined;
  if (g.detail) {
    const field = { OBR: 4, RXO: 1, RQD: 2, ODS: 3, ODT: 2 }[g.detail.name] ?? 1;
    code = concept(g.detail.rep(field)) ?? textConcept(g.detail.value(field));
  }
  const status =
    ORDER_STATUS[orc?.value(5)?.toUpperCase() ?? ''] ?? ORDER_CONTROL[orc?.value(1)?.toUpperCase() ?? ''] ?? (orc ? 'unknown' : 'active');
  const priorityCode = (obr?.value(27, 6) ?? orc?.value(7, 6) ?? obr?.value(5))?.toUpperCase();
  const reasons = [
    ...(obr ? obr.reps(31).map((r) => concept(r)) : []),
    ...g.dg1.map((d) => concept(d.rep(3), diagnosisSystem(d)) ?? textConcept(d.value(4))),
  ].filter((c): c is CodeableConcept => !!c);
  const sr: ServiceRequest = compact({
    resourceType: 'ServiceRequest' as const,
    identifier: keys.identifiers.length ? keys.identifiers : [keys.key],
    status,
    intent: 'order' as const,
    priority: PRIORITY[priorityCode ?? ''],
    code,
    subject: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    occurrenceDateTime: obr ? ctx.dateTime(obr, 6) : undefined,
    authoredOn: orc ? ctx.dateTime(orc, 9) : undefined,
    requester: practitionerRef(orc?.rep(12) ?? obr?.rep(16)),
    reasonCode: reasons,
    supportingInfo: g.observations.map(ref),
    specimen: g.specimens.map(ref),
    note: g.notes.map((text) => ({ text })),
  });
  ctx.builder.add(sr, uniqueOrderKey('ServiceRequest', keys, g.detail ?? orc!, ctx), 'update');
}

// ---------------------------------------------------------------------------------------------
// Message walkers
// ---------------------------------------------------------------------------------------------

const CHIEF_COMPLAINT_LOINC = new Set(['8661-1', '10154-3']);

function nextSegment(msg: Hl7Message, seg: Hl7Segment, name: string, stopAt: string[]): Hl7Segment | undefined {
  for (let i = seg.index + 1; i < msg.segments.length; i++) {
    const s = msg.segments[i]!;
    if (s.name === name) return s;
    if (stopAt.includes(s.name)) return undefined;
  }
  return undefined;
}

function mapAdt(ctx: Ctx, event: EncounterEvent): void {
  const msg = ctx.msg;
  const demographic = event === 'A01' || event === 'A04' || event === 'A08' || event === 'A28' || event === 'A31';
  const evn = msg.segment('EVN');
  const pid = msg.segment('PID')!;
  const patient = mapPatient(pid, ctx, demographic ? 'update' : 'create');
  const pv1 = msg.segment('PV1');
  let encounter: EncounterCtx | undefined;
  if (pv1) {
    const personOnly = event === 'A28' || event === 'A31';
    const meaningful = !!pv1.value(19) && pv1.value(2)?.toUpperCase() !== 'N';
    if (!personOnly || meaningful) {
      encounter = mapEncounter(pv1, msg.segment('PV2'), evn, patient, ctx, event, 'update');
    }
  }
  const scope = encounter?.keyValue ?? `msg:${ctx.controlId}`;
  for (const obx of msg.segmentsNamed('OBX')) {
    const o = mapObservation(obx, { patient, encounter, scope }, ctx);
    const code = o?.resource.code.coding?.[0];
    if (o && encounter && code?.system === LOINC_SYSTEM && CHIEF_COMPLAINT_LOINC.has(code.code ?? '')) {
      const text = o.resource.valueString ?? o.resource.valueCodeableConcept?.text;
      if (text) encounter.entry.resource.reasonCode = [...(encounter.entry.resource.reasonCode ?? []), { text }];
    }
  }
  for (const dg1 of msg.segmentsNamed('DG1')) mapCondition(dg1, patient, encounter, ctx);
}

function mapMerge(ctx: Ctx): MergeInstruction[] {
  const merges: MergeInstruction[] = [];
  const msg = ctx.msg;
  for (const pid of msg.segmentsNamed('PID')) {
    const patient = mapPatient(pid, ctx, 'update');
    const mrg = nextSegment(msg, pid, 'MRG', ['PID']);
    if (!mrg) continue;
    const candidates = [...mrg.reps(1), ...mrg.reps(4)]
      .map((cx) => mapCx(cx, ctx, ctx.label(mrg, 1)))
      .filter((m): m is MappedId => !!m && !!m.identifier.system);
    const merged = candidates.find((m) => m.identifier.system === patient.key.system) ?? candidates[0];
    if (!merged) {
      throw new Hl7ParseError(
        'MISSING_FIELD',
        `${ctx.label(mrg, 1)} (prior patient identifier list) has no usable identifier to merge`,
        mrg.location(1),
      );
    }
    merges.push({
      kind: 'merge',
      survivor: { ...patient.key },
      merged: { system: merged.identifier.system, value: merged.identifier.value },
    });
  }
  return merges;
}

/** Patient, optional visit (only with a visit number) for result/order/immunization messages. */
function visitFor(pv1: Hl7Segment, patient: PatientCtx, ctx: Ctx): EncounterCtx | undefined {
  if (!pv1.value(19)) return undefined;
  return mapEncounter(
    pv1,
    nextSegment(ctx.msg, pv1, 'PV2', ['PID', 'PV1', 'ORC', 'OBR', 'RXA', 'OBX']),
    undefined,
    patient,
    ctx,
    'other',
    'create',
  );
}

function mapOru(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let orc: Hl7Segment | undefined;
  let group: ReportGroup | undefined;
  let lastPatientObs: BundleEntry<Observation> | undefined;
  const close = () => {
    if (group && patient) finishReport(group, patient, encounter, ctx);
    group = undefined;
  };
  for (const seg of ctx.msg.segments) {
    switch (seg.name) {
      case 'PID':
        close();
        patient = mapPatient(seg, ctx, 'create');
        encounter = undefined;
        orc = undefined;
        lastPatientObs = undefined;
        break;
      case 'PV1':
        if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        close();
        orc = seg;
        break;
      case 'OBR': {
        close();
        const keys = orderKeys(orc, seg, ctx, 'filler');
        group = { obr: seg, orc, keys, observations: [], specimens: [], effective: ctx.dateTime(seg, 7) };
        orc = undefined;
        break;
      }
      case 'OBX':
        if (!patient) break;
        if (group) {
          const o = mapObservation(
            seg,
            {
              patient,
              encounter,
              scope: group.keys.scope,
              category: 'laboratory',
              specimen: group.inSpecimen,
              effectiveFallback: group.effective,
            },
            ctx,
          );
          if (o && !group.observations.includes(o)) group.observations.push(o);
          group.lastObservation = o;
        } else if (!orc) {
          lastPatientObs = mapObservation(seg, { patient, encounter, scope: `msg:${ctx.controlId}/patient` }, ctx);
        }
        // OBX between ORC and OBR belongs to a v2.8 order document (TXA): not a result.
        break;
      case 'NTE': {
        const text = seg.value(3);
        const target = group ? group.lastObservation : lastPatientObs;
        if (text && target) target.resource.note = [...(target.resource.note ?? []), { text }];
        break;
      }
      case 'SPM':
        if (group && patient) {
          const s = mapSpecimen(seg, patient, group.keys.scope, ctx);
          if (!group.specimens.includes(s)) group.specimens.push(s);
          group.inSpecimen = s;
          group.lastObservation = undefined;
        }
        break;
    }
  }
  close();
}

function mapVxu(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let orc: Hl7Segment | undefined;
  let current: BundleEntry<Immunization> | undefined;
  for (const seg of ctx.msg.segments) {
    switch (seg.name) {
      case 'PID':
        patient = mapPatient(seg, ctx, 'create');
        break;
      case 'PV1':
        if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        orc = seg;
        current = undefined;
        break;
      case 'RXA':
        if (patient) current = mapImmunization(seg, orc, patient, encounter, ctx);
        orc = undefined;
        break;
      case 'RXR':
        if (current) {
          const route = concept(seg.rep(1));
          const site = concept(seg.rep(2));
          if (route) current.resource.route = route;
          if (site) current.resource.site = site;
        }
        break;
      case 'OBX':
        if (!patient) break;
        if (current) {
          // Immunization-level observations: funding and eligibility go on the Immunization.
          const code = seg.value(3);
          const value = concept(seg.rep(5));
          if (code === '64994-7' && value) current.resource.programEligibility = [...(current.resource.programEligibility ?? []), value];
          else if (code === '30963-3' && value) current.resource.fundingSource = value;
        } else {
          mapObservation(seg, { patient, encounter, scope: `msg:${ctx.controlId}/patient` }, ctx);
        }
        break;
    }
  }
}

function mapOrders(ctx: Ctx): void {
  let patient: PatientCtx | undefined;
  let encounter: EncounterCtx | undefined;
  let group: OrderGroup | undefined;
  let sawOrder = false;
  let prior = false;
  const close = () => {
    if (group && patient && (group.orc || group.detail)) finishOrder(group, patient, encounter, ctx);
    group = undefined;
  };
  for (const seg of ctx.msg.segments) {
    if (prior) continue;
    switch (seg.name) {
      case 'PID':
      case 'PV1':
        if (sawOrder) {
          // OML v2.6+ "prior results" (patient/visit repeated, then old orders with results): not new orders.
          close();
          prior = true;
          ctx.warn(`${seg.name} at segment ${seg.index + 1} starts prior results; they are not mapped`);
          break;
        }
        if (seg.name === 'PID') patient = mapPatient(seg, ctx, 'create');
        else if (patient) encounter = visitFor(seg, patient, ctx);
        break;
      case 'ORC':
        close();
        group = { orc: seg, dg1: [], observations: [], specimens: [], notes: [] };
        sawOrder = true;
        break;
      case 'OBR':
      case 'RXO':
      case 'RQD':
      case 'ODS':
      case 'ODT':
        if (!group || group.detail) {
          close();
          group = { dg1: [], observations: [], specimens: [], notes: [] };
        }
        group.detail = seg;
        sawOrder = true;
        break;
      case 'DG1':
        group?.dg1.push(seg);
        break;
      case 'OBX':
        if (group && patient) {
          const o = mapObservation(seg, { patient, encounter, scope: `${orderScope(group, ctx).scope}/aoe` }, ctx);
          if (o && !group.observations.includes(o)) group.observations.push(o);
          group.lastObservation = o;
        }
        break;
      case 'NTE': {
        const text = seg.value(3);
        if (!text || !group) break;
        if (group.lastObservation) group.lastObservation.resource.note = [...(group.lastObservation.resource.note ?? []), { text }];
        else group.notes.push(text);
        break;
      }
      case 'SPM':
        if (group && patient) {
          const s = mapSpecimen(seg, patient, orderScope(group, ctx).scope, ctx);
          if (!group.specimens.includes(s)) group.specimens.push(s);
          group.lastObservation = undefined;
        }
        break;
    }
  }
  close();
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

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
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [] };
  if (message.controlId) bundle.identifier = { system: ctx.system('message'), value: message.controlId };
  const timestamp = ctx.instant(msh, 7);
  if (timestamp) bundle.timestamp = timestamp;
  bundle.entry = ctx.builder.entries;
  return { messageType: key, controlId: message.controlId, facilityId: ctx.facility, bundle, merges, warnings: ctx.warnings };
}
