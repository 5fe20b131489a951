/**
 * FHIR R4 resources. Only elements defined in R4 are used, with the datatypes R4 requires;
 * local codes use the URIs in src/fhir/uris.ts and ./uris.ts. The resources written millions of
 * times (Patient, Encounter, Condition, Observation, Immunization, MedicationRequest, household
 * Group) are built as JSON text directly, which is several times faster than building objects
 * and stringifying them; the rest are objects. Every string value goes through q() (JSON.stringify),
 * so the text is always valid JSON.
 */
import {
  AREA_CODE_EXTENSION,
  AREA_CODE_SYSTEM,
  DEPARTMENT_SYSTEM,
  FACILITY_KIND_SYSTEM,
  FACILITY_MRN_SYSTEM_PREFIX,
  HOUSEHOLD_EXTENSION,
  ICD10_SYSTEM,
  LOINC_SYSTEM,
  OCCUPATION_CLASS_EXTENSION,
  OCCUPATION_CLASS_SYSTEM,
  ORGANIZATION_CODE_SYSTEM,
  RESIDENT_ID_SYSTEM,
  UCUM_SYSTEM,
} from '../shared/uris.js';
import type { Area, Department, District, Facility, FamilyDoctorTeam, Practitioner } from './district.js';
import { FACILITY_KIND_NAMES } from './district.js';
import type { NameBook } from './names.js';
import {
  ATC_SYSTEM,
  CVX_SYSTEM,
  GROUP_KIND_SYSTEM,
  HOUSEHOLD_ID_SYSTEM,
  PRACTITIONER_LICENCE_SYSTEM,
  SCHOOL_CLASS_ID_SYSTEM,
  V2_0203,
  V3_ACT_CODE,
  VISIT_TYPE_SYSTEM,
} from './uris.js';

export type FhirResource = { resourceType: string; id: string; [k: string]: unknown };

export const ref = (type: string, id: string): { reference: string } => ({ reference: `${type}/${id}` });

export interface PostalAddress {
  /** 12-digit community code. */
  areaCode: string;
  province: string;
  city: string;
  district: string;
  street: string;
  community: string;
  line: string;
  postalCode: string;
}

export const addressText = (a: PostalAddress): string => `${a.province}${a.city}${a.district}${a.street}${a.community}${a.line}`;

export function fhirAddress(a: PostalAddress, use: 'home' | 'work' = 'home'): Record<string, unknown> {
  return {
    extension: [{ url: AREA_CODE_EXTENSION, valueString: a.areaCode }],
    use,
    type: 'physical',
    text: addressText(a),
    line: [a.street + a.community, a.line],
    city: a.city,
    district: a.district,
    state: a.province,
    postalCode: a.postalCode,
    country: 'CN',
  };
}

export function organizationResource(d: District, f: Facility, addr: PostalAddress): FhirResource {
  return {
    resourceType: 'Organization',
    id: f.id,
    identifier: [{ system: ORGANIZATION_CODE_SYSTEM, value: f.code }],
    active: true,
    type: [{ coding: [{ system: FACILITY_KIND_SYSTEM, code: f.kind, display: FACILITY_KIND_NAMES[f.kind] }] }],
    name: f.name,
    address: [fhirAddress(addr, 'work')],
    ...(f.parent >= 0 ? { partOf: ref('Organization', d.facilities[f.parent]!.id) } : {}),
  };
}

export function departmentLocation(f: Facility, dept: Department): FhirResource {
  const ward = dept.kind === 'ward';
  return {
    resourceType: 'Location',
    id: dept.id,
    status: 'active',
    name: `${f.name}${dept.name}`,
    mode: 'instance',
    type: [{ coding: [{ system: DEPARTMENT_SYSTEM, code: dept.code, display: dept.name }] }],
    physicalType: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
          code: ward ? 'wa' : 'ro',
          display: ward ? 'Ward' : 'Room',
        },
      ],
    },
    position: { longitude: f.lonLat[0], latitude: f.lonLat[1] },
    managingOrganization: ref('Organization', f.id),
  };
}

export function areaLocation(a: Area, parent: Area | null): FhirResource {
  return {
    resourceType: 'Location',
    id: `area-${a.code}`,
    identifier: [{ system: AREA_CODE_SYSTEM, value: a.code }],
    status: 'active',
    name: a.name,
    description: a.level === 'street' ? `${a.type}（乡级）` : `${a.type}（村级）`,
    mode: 'instance',
    physicalType: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'jdn', display: 'Jurisdiction' }],
    },
    position: { longitude: a.centroid[0], latitude: a.centroid[1] },
    ...(parent ? { partOf: ref('Location', `area-${parent.code}`) } : {}),
  };
}

export function practitionerResources(d: District, names: NameBook, p: Practitioner): FhirResource[] {
  const f = d.facilities[p.facility]!;
  const dept = f.departments[p.department]!;
  const family = names.surnames[p.surname]!.hanzi;
  const given = names.given[p.given]!.hanzi;
  const roleCode = p.role === 'nurse' ? 'nurse' : 'doctor';
  return [
    {
      resourceType: 'Practitioner',
      id: p.id,
      identifier: [{ system: PRACTITIONER_LICENCE_SYSTEM, value: p.licence }],
      active: true,
      name: [{ use: 'official', text: family + given, family, given: [given] }],
      gender: p.sex === 1 ? 'male' : 'female',
      birthDate: `${p.birthYear}`,
    },
    {
      resourceType: 'PractitionerRole',
      id: `${p.id}-role`,
      active: true,
      practitioner: ref('Practitioner', p.id),
      organization: ref('Organization', f.id),
      code: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/practitioner-role',
              code: roleCode,
              display: roleCode === 'nurse' ? 'Nurse' : 'Doctor',
            },
          ],
          text: p.role === 'nurse' ? '护士' : p.role === 'public-health' ? '公共卫生医师' : '医师',
        },
      ],
      specialty: [{ coding: [{ system: DEPARTMENT_SYSTEM, code: dept.code, display: dept.name }] }],
      location: [ref('Location', dept.id)],
    },
  ];
}

export function careTeamResource(d: District, team: FamilyDoctorTeam): FhirResource {
  const roles = ['家庭医生', '社区护士', '公共卫生医师'];
  return {
    resourceType: 'CareTeam',
    id: team.id,
    status: 'active',
    category: [{ text: '家庭医生签约服务团队' }],
    name: team.name,
    participant: team.members.map((m, k) => ({
      role: [{ text: roles[k] ?? '团队成员' }],
      member: ref('Practitioner', d.practitioners[m]!.id),
      onBehalfOf: ref('Organization', d.facilities[team.facility]!.id),
    })),
    managingOrganization: [ref('Organization', d.facilities[team.facility]!.id)],
  };
}

export function groupResource(opts: {
  id: string;
  kind: 'household' | 'school-class' | 'care-home-residents';
  identifierSystem?: string;
  identifier?: string;
  name: string;
  members: { id: string; start?: string; end?: string }[];
  managingEntity?: string;
}): FhirResource {
  const display = { household: '家庭户', 'school-class': '班级', 'care-home-residents': '养老机构住养老人' }[opts.kind];
  return {
    resourceType: 'Group',
    id: opts.id,
    ...(opts.identifier
      ? {
          identifier: [
            {
              system: opts.identifierSystem ?? (opts.kind === 'household' ? HOUSEHOLD_ID_SYSTEM : SCHOOL_CLASS_ID_SYSTEM),
              value: opts.identifier,
            },
          ],
        }
      : {}),
    active: true,
    type: 'person',
    actual: true,
    code: { coding: [{ system: GROUP_KIND_SYSTEM, code: opts.kind, display }] },
    name: opts.name,
    quantity: opts.members.length,
    ...(opts.managingEntity ? { managingEntity: ref('Organization', opts.managingEntity) } : {}),
    member: opts.members.map((m) => ({
      entity: ref('Patient', m.id),
      ...(m.start || m.end ? { period: { ...(m.start ? { start: m.start } : {}), ...(m.end ? { end: m.end } : {}) } } : {}),
    })),
  };
}

export type EncounterClass = 'AMB' | 'EMER' | 'IMP' | 'HH' | 'FLD';
const CLASS_DISPLAY: Record<EncounterClass, string> = {
  AMB: 'ambulatory',
  EMER: 'emergency',
  IMP: 'inpatient encounter',
  HH: 'home health',
  FLD: 'field',
};

export type VisitType = 'outpatient' | 'emergency' | 'inpatient' | 'follow-up' | 'vaccination' | 'home-visit' | 'investigation';
export const VISIT_TYPE_NAMES: Record<VisitType, string> = {
  outpatient: '门诊',
  emergency: '急诊',
  inpatient: '住院',
  'follow-up': '慢病随访',
  vaccination: '预防接种',
  'home-visit': '上门服务',
  investigation: '流行病学调查采样',
};

const LAB = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] },
];

export function codedLabObservation(o: {
  id: string;
  patientId: string;
  encounterId: string | null;
  codings: { system: string; code: string; display: string }[];
  text: string;
  positive: boolean;
  time: string;
  issued: string;
  specimenId: string;
  performerOrgId: string;
}): FhirResource {
  return {
    resourceType: 'Observation',
    id: o.id,
    status: 'final',
    category: LAB,
    code: { coding: o.codings, text: o.text },
    subject: ref('Patient', o.patientId),
    ...(o.encounterId ? { encounter: ref('Encounter', o.encounterId) } : {}),
    effectiveDateTime: o.time,
    issued: o.issued,
    performer: [ref('Organization', o.performerOrgId)],
    valueCodeableConcept: o.positive
      ? { coding: [{ system: 'http://snomed.info/sct', code: '260373001', display: 'Detected' }], text: '阳性' }
      : { coding: [{ system: 'http://snomed.info/sct', code: '260415000', display: 'Not detected' }], text: '阴性' },
    interpretation: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
            code: o.positive ? 'POS' : 'NEG',
            display: o.positive ? 'Positive' : 'Negative',
          },
        ],
      },
    ],
    specimen: ref('Specimen', o.specimenId),
  };
}

export function serviceRequestLab(o: {
  id: string;
  labId: string;
  identifierSystem: string;
  panelSystem: string;
  panelCode: string;
  panelName: string;
  patientId: string;
  encounterId: string | null;
  time: string;
  requesterId: string;
  performerOrgId: string;
  specimenId: string;
  completed: boolean;
}): FhirResource {
  return {
    resourceType: 'ServiceRequest',
    id: o.id,
    identifier: [{ system: o.identifierSystem, value: o.labId }],
    status: o.completed ? 'completed' : 'active',
    intent: 'order',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '108252007', display: 'Laboratory procedure' }], text: '检验' }],
    code: { coding: [{ system: o.panelSystem, code: o.panelCode, display: o.panelName }], text: o.panelName },
    subject: ref('Patient', o.patientId),
    ...(o.encounterId ? { encounter: ref('Encounter', o.encounterId) } : {}),
    occurrenceDateTime: o.time,
    authoredOn: o.time,
    requester: ref('Practitioner', o.requesterId),
    performer: [ref('Organization', o.performerOrgId)],
    specimen: [ref('Specimen', o.specimenId)],
  };
}

export function specimenResource(o: {
  id: string;
  labId: string;
  identifierSystem: string;
  type: { code: string; display: string; text: string };
  patientId: string;
  requestId: string;
  collected: string;
  shipped: string;
  received: string;
  collectorId: string;
  shippedExtension: string;
}): FhirResource {
  return {
    resourceType: 'Specimen',
    id: o.id,
    extension: [{ url: o.shippedExtension, valueDateTime: o.shipped }],
    accessionIdentifier: { system: o.identifierSystem, value: o.labId },
    status: 'available',
    type: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0487', code: o.type.code, display: o.type.display }],
      text: o.type.text,
    },
    subject: ref('Patient', o.patientId),
    receivedTime: o.received,
    request: [ref('ServiceRequest', o.requestId)],
    collection: { collector: ref('Practitioner', o.collectorId), collectedDateTime: o.collected },
  };
}

export function diagnosticReportResource(o: {
  id: string;
  requestId: string;
  panelSystem: string;
  panelCode: string;
  panelName: string;
  patientId: string;
  encounterId: string | null;
  collected: string;
  tested: string;
  issued: string;
  performerOrgId: string;
  specimenId: string;
  resultIds: string[];
  conclusion: string;
  testedExtension: string;
}): FhirResource {
  return {
    resourceType: 'DiagnosticReport',
    id: o.id,
    extension: [{ url: o.testedExtension, valueDateTime: o.tested }],
    basedOn: [ref('ServiceRequest', o.requestId)],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'MB', display: 'Microbiology' }] }],
    code: { coding: [{ system: o.panelSystem, code: o.panelCode, display: o.panelName }], text: o.panelName },
    subject: ref('Patient', o.patientId),
    ...(o.encounterId ? { encounter: ref('Encounter', o.encounterId) } : {}),
    effectiveDateTime: o.collected,
    issued: o.issued,
    performer: [ref('Organization', o.performerOrgId)],
    specimen: [ref('Specimen', o.specimenId)],
    result: o.resultIds.map((r) => ref('Observation', r)),
    conclusion: o.conclusion,
  };
}

const ROUTE_V3: Record<string, [string, string]> = {
  IM: ['IM', 'Injection, intramuscular'],
  SC: ['SQ', 'Injection, subcutaneous'],
  ID: ['IDINJ', 'Injection, intradermal'],
  PO: ['PO', 'Swallow, oral'],
};

export function referralResource(o: {
  id: string;
  patientId: string;
  encounterId: string;
  urgent: boolean;
  text: string;
  reason: string;
  time: string;
  requesterId: string;
  targetOrgId: string;
}): FhirResource {
  return {
    resourceType: 'ServiceRequest',
    id: o.id,
    status: 'active',
    intent: 'order',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }], text: '转诊' }],
    priority: o.urgent ? 'urgent' : 'routine',
    code: { text: o.text },
    subject: ref('Patient', o.patientId),
    encounter: ref('Encounter', o.encounterId),
    authoredOn: o.time,
    requester: ref('Practitioner', o.requesterId),
    performer: [ref('Organization', o.targetOrgId)],
    reasonCode: [{ text: o.reason }],
  };
}

// --- JSON text builders for the high-volume resources -------------------------------------

const q = JSON.stringify;
const R = (type: string, id: string): string => `{"reference":${q(`${type}/${id}`)}}`;
const NUM = (n: number): string => {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(n);
};

function addressJson(a: PostalAddress, use: 'home' | 'work'): string {
  return `{"extension":[{"url":${q(AREA_CODE_EXTENSION)},"valueString":${q(a.areaCode)}}],"use":"${use}","type":"physical","text":${q(addressText(a))},"line":[${q(a.street + a.community)},${q(a.line)}],"city":${q(a.city)},"district":${q(a.district)},"state":${q(a.province)},"postalCode":${q(a.postalCode)},"country":"CN"}`;
}

export interface PatientFacts {
  id: string;
  idNumber: string | null;
  mrnSystemOrg: string;
  mrn: string;
  name: { text: string; family: string; given: string };
  sex: 1 | 2;
  birthDate: string;
  phone: string | null;
  /** 'mobile' (own phone) or 'home' (a child's: the guardian's number). */
  phoneUse?: 'mobile' | 'home';
  address: PostalAddress;
  household: string | null;
  occupation: { code: string; display: string } | null;
  guardian: { relation: 'MTH' | 'FTH' | 'GRD'; name: string; phone: string } | null;
  managingOrganization: string;
  /** The time of death (FHIR dateTime), written on the version of the Patient sent on the day of death. */
  deceasedDateTime?: string;
}

const RELATION_TEXT = { MTH: '母亲', FTH: '父亲', GRD: '监护人' } as const;
const NI_TYPE = `{"coding":[{"system":"${V2_0203}","code":"NI","display":"National unique individual identifier"}],"text":"居民身份证"}`;
const MR_TYPE = `{"coding":[{"system":"${V2_0203}","code":"MR","display":"Medical record number"}]}`;

export function patientJson(p: PatientFacts): string {
  const ext: string[] = [];
  if (p.household) ext.push(`{"url":${q(HOUSEHOLD_EXTENSION)},"valueReference":${R('Group', p.household)}}`);
  if (p.occupation)
    ext.push(
      `{"url":${q(OCCUPATION_CLASS_EXTENSION)},"valueCoding":{"system":${q(OCCUPATION_CLASS_SYSTEM)},"code":${q(p.occupation.code)},"display":${q(p.occupation.display)}}}`,
    );
  const ids: string[] = [];
  if (p.idNumber) ids.push(`{"use":"official","type":${NI_TYPE},"system":${q(RESIDENT_ID_SYSTEM)},"value":${q(p.idNumber)}}`);
  ids.push(`{"use":"usual","type":${MR_TYPE},"system":${q(`${FACILITY_MRN_SYSTEM_PREFIX}/${p.mrnSystemOrg}`)},"value":${q(p.mrn)}}`);
  const g = p.guardian;
  return (
    `{"resourceType":"Patient","id":${q(p.id)},` +
    (ext.length ? `"extension":[${ext.join(',')}],` : '') +
    `"identifier":[${ids.join(',')}],"active":true,` +
    `"name":[{"use":"official","text":${q(p.name.text)},"family":${q(p.name.family)},"given":[${q(p.name.given)}]}],` +
    (p.phone ? `"telecom":[{"system":"phone","value":${q(p.phone)},"use":"${p.phoneUse ?? 'mobile'}"}],` : '') +
    `"gender":"${p.sex === 1 ? 'male' : 'female'}","birthDate":${q(p.birthDate)},` +
    (p.deceasedDateTime ? `"deceasedDateTime":${q(p.deceasedDateTime)},` : '') +
    `"address":[${addressJson(p.address, 'home')}],` +
    (g
      ? `"contact":[{"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"${g.relation}"}],"text":"${RELATION_TEXT[g.relation]}"}],"name":{"text":${q(g.name)}},"telecom":[{"system":"phone","value":${q(g.phone)},"use":"mobile"}]}],`
      : '') +
    `"managingOrganization":${R('Organization', p.managingOrganization)}}`
  );
}

export function householdGroupJson(id: string, identifier: string, name: string, memberIds: string[]): string {
  return (
    `{"resourceType":"Group","id":${q(id)},"identifier":[{"system":${q(HOUSEHOLD_ID_SYSTEM)},"value":${q(identifier)}}],"active":true,"type":"person","actual":true,` +
    `"code":{"coding":[{"system":${q(GROUP_KIND_SYSTEM)},"code":"household","display":"家庭户"}]},"name":${q(name)},"quantity":${memberIds.length},` +
    `"member":[${memberIds.map((m) => `{"entity":${R('Patient', m)}}`).join(',')}]}`
  );
}

export function encounterJson(e: {
  id: string;
  patientId: string;
  cls: EncounterClass;
  visitType: VisitType;
  dept: Department;
  facility: Facility;
  doctorId: string;
  start: string;
  end: string | null;
  complaint: string;
  conditionIds: string[];
}): string {
  const dept = `{"coding":[{"system":${q(DEPARTMENT_SYSTEM)},"code":${q(e.dept.code)},"display":${q(e.dept.name)}}]}`;
  return (
    `{"resourceType":"Encounter","id":${q(e.id)},"status":"${e.end ? 'finished' : 'in-progress'}",` +
    `"class":{"system":"${V3_ACT_CODE}","code":"${e.cls}","display":"${CLASS_DISPLAY[e.cls]}"},` +
    `"type":[${dept},{"coding":[{"system":${q(VISIT_TYPE_SYSTEM)},"code":"${e.visitType}","display":"${VISIT_TYPE_NAMES[e.visitType]}"}]}],` +
    `"serviceType":${dept},"subject":${R('Patient', e.patientId)},` +
    `"participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND","display":"attender"}]}],"individual":${R('Practitioner', e.doctorId)}}],` +
    `"period":{"start":${q(e.start)}${e.end ? `,"end":${q(e.end)}` : ''}},` +
    `"reasonCode":[{"text":${q(e.complaint)}}],` +
    (e.conditionIds.length
      ? `"diagnosis":[${e.conditionIds.map((c, k) => `{"condition":${R('Condition', c)},"rank":${k + 1}}`).join(',')}],`
      : '') +
    `"location":[{"location":${R('Location', e.dept.id)},"status":"${e.end ? 'completed' : 'active'}"}],` +
    `"serviceProvider":${R('Organization', e.facility.id)}}`
  );
}

export function conditionJson(c: {
  id: string;
  patientId: string;
  encounterId: string | null;
  icd: string;
  display: string;
  category: 'encounter-diagnosis' | 'problem-list-item';
  provisional: boolean;
  onset: string;
  recorded: string;
  recorderId: string;
}): string {
  return (
    `{"resourceType":"Condition","id":${q(c.id)},` +
    `"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},` +
    `"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"${c.provisional ? 'provisional' : 'confirmed'}"}]},` +
    `"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"${c.category}"}]}],` +
    `"code":{"coding":[{"system":"${ICD10_SYSTEM}","code":${q(c.icd)},"display":${q(c.display)}}],"text":${q(c.display)}},` +
    `"subject":${R('Patient', c.patientId)},` +
    (c.encounterId ? `"encounter":${R('Encounter', c.encounterId)},` : '') +
    `"onsetDateTime":${q(c.onset)},"recordedDate":${q(c.recorded)},"recorder":${R('Practitioner', c.recorderId)}}`
  );
}

const CATEGORY_JSON = {
  'vital-signs': `[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}]`,
  laboratory: `[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}]`,
};

export function quantityObservationJson(o: {
  id: string;
  patientId: string;
  encounterId: string | null;
  loinc: string;
  display: string;
  value: number;
  unit: string;
  ucum: string;
  time: string;
  category: 'vital-signs' | 'laboratory';
  performerId?: string;
}): string {
  return (
    `{"resourceType":"Observation","id":${q(o.id)},"status":"final","category":${CATEGORY_JSON[o.category]},` +
    `"code":{"coding":[{"system":"${LOINC_SYSTEM}","code":${q(o.loinc)},"display":${q(o.display)}}]},` +
    `"subject":${R('Patient', o.patientId)},` +
    (o.encounterId ? `"encounter":${R('Encounter', o.encounterId)},` : '') +
    `"effectiveDateTime":${q(o.time)},` +
    (o.performerId ? `"performer":[${R('Practitioner', o.performerId)}],` : '') +
    `"valueQuantity":{"value":${NUM(o.value)},"unit":${q(o.unit)},"system":"${UCUM_SYSTEM}","code":${q(o.ucum)}}}`
  );
}

export function bloodPressureJson(o: {
  id: string;
  patientId: string;
  encounterId: string;
  sbp: number;
  dbp: number;
  time: string;
  performerId: string;
}): string {
  const mm = (v: number): string => `{"value":${NUM(v)},"unit":"mmHg","system":"${UCUM_SYSTEM}","code":"mm[Hg]"}`;
  return (
    `{"resourceType":"Observation","id":${q(o.id)},"status":"final","category":${CATEGORY_JSON['vital-signs']},` +
    `"code":{"coding":[{"system":"${LOINC_SYSTEM}","code":"85354-9","display":"Blood pressure panel with all children optional"}],"text":"血压"},` +
    `"subject":${R('Patient', o.patientId)},"encounter":${R('Encounter', o.encounterId)},"effectiveDateTime":${q(o.time)},` +
    `"performer":[${R('Practitioner', o.performerId)}],` +
    `"component":[{"code":{"coding":[{"system":"${LOINC_SYSTEM}","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":${mm(o.sbp)}},` +
    `{"code":{"coding":[{"system":"${LOINC_SYSTEM}","code":"8462-4","display":"Diastolic blood pressure"}]},"valueQuantity":${mm(o.dbp)}}]}`
  );
}

export function immunizationJson(o: {
  id: string;
  vaccineSystem: string;
  vaccineCode: string;
  vaccineName: string;
  cvx?: string;
  patientId: string;
  time: string;
  locationId: string;
  manufacturer: string;
  lot: string;
  expiry: string;
  site: string;
  route: string;
  doseMl: number;
  performerId: string;
  series: string;
  doseNumber: number;
}): string {
  const route = ROUTE_V3[o.route];
  return (
    `{"resourceType":"Immunization","id":${q(o.id)},"status":"completed",` +
    `"vaccineCode":{"coding":[{"system":${q(o.vaccineSystem)},"code":${q(o.vaccineCode)},"display":${q(o.vaccineName)}}` +
    (o.cvx ? `,{"system":"${CVX_SYSTEM}","code":${q(o.cvx)}}` : '') +
    `],"text":${q(o.vaccineName)}},` +
    `"patient":${R('Patient', o.patientId)},"occurrenceDateTime":${q(o.time)},"recorded":${q(o.time)},"primarySource":true,` +
    `"location":${R('Location', o.locationId)},"manufacturer":{"display":${q(o.manufacturer)}},"lotNumber":${q(o.lot)},"expirationDate":${q(o.expiry)},` +
    `"site":{"text":${q(o.site)}},` +
    (route
      ? `"route":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration","code":"${route[0]}","display":"${route[1]}"}]},`
      : '') +
    `"doseQuantity":{"value":${NUM(o.doseMl)},"unit":"mL","system":"${UCUM_SYSTEM}","code":"mL"},` +
    `"performer":[{"function":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0443","code":"AP","display":"Administering Provider"}]},"actor":${R('Practitioner', o.performerId)}}],` +
    `"protocolApplied":[{"series":${q(o.series)},"doseNumberPositiveInt":${NUM(o.doseNumber)}}]}`
  );
}

export function medicationRequestJson(o: {
  id: string;
  patientId: string;
  encounterId: string | null;
  atc: string | null;
  localSystem: string;
  localCode: string;
  text: string;
  dosage: string;
  time: string;
  requesterId: string;
}): string {
  return (
    `{"resourceType":"MedicationRequest","id":${q(o.id)},"status":"active","intent":"order",` +
    `"medicationCodeableConcept":{"coding":[{"system":${q(o.localSystem)},"code":${q(o.localCode)},"display":${q(o.text)}}` +
    (o.atc ? `,{"system":"${ATC_SYSTEM}","code":${q(o.atc)}}` : '') +
    `],"text":${q(o.text)}},"subject":${R('Patient', o.patientId)},` +
    (o.encounterId ? `"encounter":${R('Encounter', o.encounterId)},` : '') +
    `"authoredOn":${q(o.time)},"requester":${R('Practitioner', o.requesterId)},"dosageInstruction":[{"text":${q(o.dosage)}}]}`
  );
}
