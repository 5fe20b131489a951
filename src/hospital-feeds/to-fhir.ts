/**
 * One hospital CSV row → FHIR resources (pure). Shapes follow the HL7 v2 mapping (src/hl7v2/to-fhir)
 * so the MPI, data quality, terminology and surveillance treat a CSV record as they treat an HL7
 * one: the facility's MRN system, the resident ID system (a number failing GB 11643 is kept and
 * marked by validation, never used for linking), the visit-number system shared with HL7, local lab
 * codes sent without a code system (the facility's ConceptMaps apply, as for HL7 OBX-3), and
 * identifiers under …/sid/<kind>/<facility> so a result's facility is known.
 *
 * Ids are deterministic (facility + template + the row's natural key), so re-sending a row lands on
 * the same resource. A row that cannot be stored (no patient identifier, a required value empty or
 * unreadable, an unknown coded value) is a `dead` outcome naming the column; a merely doubtful value
 * (an ID number failing its check, a phone of the wrong length, an unreadable optional date) is
 * stored with a data-quality mark.
 */
import { createHash } from 'node:crypto';
import type {
  CodeableConcept,
  Condition,
  ContactPoint,
  Encounter,
  Extension,
  Identifier,
  Immunization,
  MedicationRequest,
  Observation,
  Patient,
  Reference,
  Resource,
  Specimen,
} from '@medplum/fhirtypes';
import { dataQualityMark } from '../shared/data-quality.js';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { DEPARTMENT_SYSTEM, FACILITY_MRN_SYSTEM_PREFIX, ICD10_SYSTEM, UCUM_SYSTEM, VACCINE_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import { TEMPLATE_DEFS, type TemplateName } from './templates.js';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** Identifier system for keys of rows from hospital files: append '/<facility>'. */
export const HOSPITAL_FEED_KEY_SYSTEM = `${YIFANG_BASE}/sid/hospital-feed`;
/** Visit numbers: the same system HL7 PV1-19 uses, so both channels name one visit alike. */
const VISIT_SYSTEM = `${YIFANG_BASE}/sid/visit`;
/** A facility's own drug codes. */
export const LOCAL_DRUG_SYSTEM = `${YIFANG_BASE}/CodeSystem/local-drug`;

/** A row's values by template column key (trimmed; absent = empty). */
export type RowValues = Record<string, string>;

/** One resource to write: `upsert` writes what the row says; `if-absent` only creates a stub the row implies. */
export interface PlannedResource {
  resource: Resource & { id: string };
  mode: 'upsert' | 'if-absent';
}

export type RowOutcome =
  | { ok: true; resources: PlannedResource[]; warnings: { column: string; message: string }[] }
  | { ok: false; column: string; reason: string };

/** Deterministic name-based UUID (version 5 layout over SHA-1). */
export function deterministicId(name: string): string {
  const h = createHash('sha1').update(`yifang-hospital-feeds:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

class Dead extends Error {
  constructor(
    readonly column: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const zhOf = (template: TemplateName, key: string) => TEMPLATE_DEFS[template].columns.find((c) => c.key === key)?.zh ?? key;

// ---------------------------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------------------------

export type ParsedWhen = { kind: 'date'; value: string } | { kind: 'dateTime'; value: string };

const validDay = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1880 && y <= 2200 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
};
const p2 = (n: number | string) => String(n).padStart(2, '0');

/**
 * A date or date-time as hospitals write them: 2025-01-02, 2025/1/2, 20250102, 2025年1月2日, with
 * an optional time (10:30, 10:30:15, 103015 after a space or 'T'); times are China time (+08:00).
 * Undefined when unreadable.
 */
export function parseWhen(raw: string): ParsedWhen | undefined {
  const s = raw.trim().replace(/\s+/g, ' ');
  const m =
    /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?)?秒?)?$/.exec(s) ??
    /^(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2}):?(\d{2})(?::?(\d{2}))?)?$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDay(y, mo, d)) return undefined;
  const date = `${m[1]}-${p2(mo)}-${p2(d)}`;
  if (m[4] === undefined) return { kind: 'date', value: date };
  const [h, mi, se] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || se > 59) return undefined;
  return { kind: 'dateTime', value: `${date}T${p2(h)}:${p2(mi)}:${p2(se)}+08:00` };
}

const GENDER: Record<string, Patient['gender']> = {
  男: 'male',
  男性: 'male',
  女: 'female',
  女性: 'female',
  未知: 'unknown',
  未知的性别: 'unknown',
  未说明: 'other',
  未说明的性别: 'other',
  '1': 'male',
  '2': 'female',
  '0': 'unknown',
  '9': 'other',
  m: 'male',
  f: 'female',
  male: 'male',
  female: 'female',
  u: 'unknown',
  unknown: 'unknown',
  o: 'other',
  other: 'other',
};

const VISIT_CLASS: Record<string, { code: string; display: string }> = {
  门诊: { code: 'AMB', display: 'ambulatory' },
  急诊: { code: 'EMER', display: 'emergency' },
  住院: { code: 'IMP', display: 'inpatient encounter' },
  体检: { code: 'AMB', display: 'ambulatory' },
  o: { code: 'AMB', display: 'ambulatory' },
  e: { code: 'EMER', display: 'emergency' },
  i: { code: 'IMP', display: 'inpatient encounter' },
  amb: { code: 'AMB', display: 'ambulatory' },
  emer: { code: 'EMER', display: 'emergency' },
  imp: { code: 'IMP', display: 'inpatient encounter' },
  outpatient: { code: 'AMB', display: 'ambulatory' },
  emergency: { code: 'EMER', display: 'emergency' },
  inpatient: { code: 'IMP', display: 'inpatient encounter' },
};

/** Mobile (11 digits from 1), or a landline with or without area code and extension. */
export function phoneProblem(raw: string): string | undefined {
  const v = raw.replace(/[\s()（）+]/g, '').replace(/^86(?=1\d{10}$)/, '');
  if (/^1[3-9]\d{9}$/.test(v)) return undefined;
  if (/^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$/.test(v)) return undefined;
  return `联系电话"${raw}"位数或格式不对（手机应为11位） / phone '${raw}' has the wrong length or form (a mobile number has 11 digits)`;
}

const num = (s: string): number | undefined => {
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
};

function referenceRange(text: string, unit: string | undefined): NonNullable<Observation['referenceRange']>[number] {
  const q = (v: string) => ({ value: Number(v), ...(unit ? { unit } : {}) });
  const n = '([+-]?\\d*\\.?\\d+)';
  const between = new RegExp(`^\\s*${n}\\s*(?:-|–|~|～|－|to)\\s*${n}\\s*$`).exec(text);
  if (between) return { low: q(between[1]!), high: q(between[2]!), text };
  const upper = new RegExp(`^\\s*(?:<=|<|≤|＜)\\s*${n}\\s*$`).exec(text);
  if (upper) return { high: q(upper[1]!), text };
  const lower = new RegExp(`^\\s*(?:>=|>|≥|＞)\\s*${n}\\s*$`).exec(text);
  if (lower) return { low: q(lower[1]!), text };
  return { text };
}

const FLAG: Record<string, { code: string; display: string }> = {
  h: { code: 'H', display: 'High' },
  '↑': { code: 'H', display: 'High' },
  偏高: { code: 'H', display: 'High' },
  l: { code: 'L', display: 'Low' },
  '↓': { code: 'L', display: 'Low' },
  偏低: { code: 'L', display: 'Low' },
  n: { code: 'N', display: 'Normal' },
  正常: { code: 'N', display: 'Normal' },
  a: { code: 'A', display: 'Abnormal' },
  异常: { code: 'A', display: 'Abnormal' },
  pos: { code: 'POS', display: 'Positive' },
  阳性: { code: 'POS', display: 'Positive' },
  '+': { code: 'POS', display: 'Positive' },
  neg: { code: 'NEG', display: 'Negative' },
  阴性: { code: 'NEG', display: 'Negative' },
  '-': { code: 'NEG', display: 'Negative' },
};

// ---------------------------------------------------------------------------------------------
// the row
// ---------------------------------------------------------------------------------------------

interface RowCtx {
  facility: string;
  template: TemplateName;
  v: RowValues;
  warnings: { column: string; message: string }[];
  out: PlannedResource[];
}

const val = (c: RowCtx, key: string): string | undefined => {
  const s = c.v[key]?.trim();
  return s ? s : undefined;
};

function required(c: RowCtx, key: string): string {
  const s = val(c, key);
  if (!s) throw new Dead(zhOf(c.template, key), `必填列"${zhOf(c.template, key)}"为空 / required column ${key} is empty`);
  return s;
}

function when(c: RowCtx, key: string, need: true): ParsedWhen;
function when(c: RowCtx, key: string, need: false): ParsedWhen | undefined;
function when(c: RowCtx, key: string, need: boolean): ParsedWhen | undefined {
  const s = need ? required(c, key) : val(c, key);
  if (!s) return undefined;
  const w = parseWhen(s);
  if (w) return w;
  const msg = `"${zhOf(c.template, key)}"的值"${s}"不是可识别的日期 / ${key} '${s}' is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:mm)`;
  if (need) throw new Dead(zhOf(c.template, key), msg);
  c.warnings.push({ column: zhOf(c.template, key), message: msg });
  return undefined;
}

const facilityPart = (c: RowCtx) => encodeURIComponent(c.facility);
const keySystem = (c: RowCtx) => `${HOSPITAL_FEED_KEY_SYSTEM}/${facilityPart(c)}`;
const rowKey = (c: RowCtx, value: string): Identifier => ({ system: keySystem(c), value });
const idFor = (c: RowCtx, type: string, natural: string) => deterministicId(`${c.facility}|${type}|${natural}`);

interface PatientRef {
  reference: Reference<Patient>;
  /** The patient's natural key within the facility: 'mrn:…' or 'id:…'. */
  key: string;
}

/** The Patient a row names: built in full from a patients row, as a stub (created only if absent) from the others. */
function patientOf(c: RowCtx): PatientRef {
  const mrn = val(c, 'patient_no');
  const idRaw = val(c, 'id_number');
  const idNumber = idRaw?.replace(/\s+/g, '').toUpperCase();
  if (!mrn && !idNumber)
    throw new Dead(
      '身份证号',
      '无患者标识："患者编号"和"身份证号"都为空，无法确定是哪位患者 / no patient identifier: both patient_no and id_number are empty',
    );
  const key = mrn ? `mrn:${mrn}` : `id:${idNumber}`;
  const id = idFor(c, 'Patient', key);
  const identifier: Identifier[] = [];
  if (mrn)
    identifier.push({
      use: 'usual',
      type: { coding: [{ system: V2_0203, code: 'MR' }] },
      system: `${FACILITY_MRN_SYSTEM_PREFIX}/${facilityPart(c)}`,
      value: mrn,
    });
  // The resident ID system even when the number fails its check: validation marks it (as on the
  // FHIR path), and identity never links on a number that fails.
  if (idNumber) {
    const check = parseIdNumber(idNumber);
    if (!check.ok)
      c.warnings.push({
        column: '身份证号',
        message: `公民身份号码未通过校验，已按原值保存并标记 / resident ID number kept with a data-quality mark: ${check.reason}`,
      });
    identifier.push({
      use: 'official',
      type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码' },
      system: RESIDENT_ID_SYSTEM,
      value: idNumber,
    });
  }
  identifier.push(rowKey(c, `patient:${key}`));

  const name = val(c, 'name');
  const genderRaw = val(c, 'gender');
  let gender: Patient['gender'];
  if (genderRaw) {
    gender = GENDER[genderRaw.toLowerCase()];
    if (!gender)
      throw new Dead(
        '性别',
        `性别"${genderRaw}"不是可识别的值（男/女/未知 或 1/2/0/9） / gender '${genderRaw}' is not one of 男/女/未知, 1/2/0/9, M/F`,
      );
  }
  const birth = when(c, 'birth_date', false);
  const extension: Extension[] = [];
  const birthRaw = val(c, 'birth_date');
  if (birthRaw && !birth)
    extension.push(dataQualityMark(`出生日期"${birthRaw}"无法识别，未保存 / birth date '${birthRaw}' is not a date; left out`));
  const telecom: ContactPoint[] = [];
  const phone = val(c, 'phone');
  if (phone) {
    const problem = phoneProblem(phone);
    if (problem) c.warnings.push({ column: '联系电话', message: problem });
    telecom.push({ system: 'phone', value: phone, ...(problem ? { extension: [dataQualityMark(problem)] } : {}) });
  }
  const address = val(c, 'address');
  const patient: Patient & { id: string } = {
    resourceType: 'Patient',
    id,
    ...(extension.length ? { extension } : {}),
    identifier,
    ...(name ? { name: [{ use: 'official', text: name }] } : {}),
    ...(telecom.length ? { telecom } : {}),
    ...(gender ? { gender } : {}),
    ...(birth ? { birthDate: birth.value.slice(0, 10) } : {}),
    ...(address ? { address: [{ use: 'home', text: address, line: [address] }] } : {}),
  };
  c.out.push({ resource: patient, mode: c.template === 'patients' ? 'upsert' : 'if-absent' });
  return { reference: { reference: `Patient/${id}` }, key };
}

function encounterStub(c: RowCtx, patient: PatientRef): Reference<Encounter> | undefined {
  const visitNo = val(c, 'visit_no');
  if (!visitNo) return undefined;
  const id = idFor(c, 'Encounter', visitNo);
  const stub: Encounter & { id: string } = {
    resourceType: 'Encounter',
    id,
    identifier: [
      { use: 'usual', type: { coding: [{ system: V2_0203, code: 'VN' }] }, system: `${VISIT_SYSTEM}/${facilityPart(c)}`, value: visitNo },
    ],
    status: 'unknown',
    class: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
    subject: patient.reference,
  };
  c.out.push({ resource: stub, mode: 'if-absent' });
  return { reference: `Encounter/${id}` };
}

function visit(c: RowCtx, patient: PatientRef): void {
  const visitNo = required(c, 'visit_no');
  const start = when(c, 'visit_date', true);
  const end = when(c, 'discharge_date', false);
  const typeRaw = val(c, 'visit_type');
  let cls = VISIT_CLASS['门诊']!;
  if (typeRaw) {
    const found = VISIT_CLASS[typeRaw.toLowerCase()];
    if (!found)
      throw new Dead('就诊类型', `就诊类型"${typeRaw}"不是 门诊/急诊/住院 之一 / visit type '${typeRaw}' is not one of 门诊/急诊/住院`);
    cls = found;
  }
  const dept = val(c, 'department');
  const encounter: Encounter & { id: string } = {
    resourceType: 'Encounter',
    id: idFor(c, 'Encounter', visitNo),
    identifier: [
      { use: 'usual', type: { coding: [{ system: V2_0203, code: 'VN' }] }, system: `${VISIT_SYSTEM}/${facilityPart(c)}`, value: visitNo },
    ],
    status: cls.code === 'IMP' && !end ? 'in-progress' : 'finished',
    class: { system: ACT_CODE, ...cls },
    ...(dept ? { serviceType: { coding: [{ system: DEPARTMENT_SYSTEM, code: dept, display: dept }], text: dept } } : {}),
    subject: patient.reference,
    period: { start: start.value, ...(end ? { end: end.value } : {}) },
  };
  c.out.push({ resource: encounter, mode: 'upsert' });
}

function diagnosis(c: RowCtx, patient: PatientRef): void {
  const code = required(c, 'diagnosis_code').toUpperCase();
  const at = when(c, 'diagnosis_date', true);
  const name = val(c, 'diagnosis_name');
  const encounter = encounterStub(c, patient);
  const visitNo = val(c, 'visit_no');
  const natural = visitNo ? `visit:${visitNo}/dx:${code}` : `patient:${patient.key}/dx:${code}/${at.value.slice(0, 10)}`;
  const statusRaw = val(c, 'diagnosis_status');
  const verification = statusRaw
    ? /疑似|初步|待查|provisional|suspect/i.test(statusRaw)
      ? 'provisional'
      : /确诊|confirm|最终|出院/i.test(statusRaw)
        ? 'confirmed'
        : undefined
    : undefined;
  const icd = /^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?(\+\d+|x\d+)?$/i.test(code);
  const condition: Condition & { id: string } = {
    resourceType: 'Condition',
    id: idFor(c, 'Condition', natural),
    identifier: [rowKey(c, natural)],
    ...(verification ? { verificationStatus: { coding: [{ system: CONDITION_VER, code: verification }] } } : {}),
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis' }] }],
    code: {
      coding: [{ ...(icd ? { system: ICD10_SYSTEM } : {}), code, ...(name ? { display: name } : {}) }],
      ...(name ? { text: name } : {}),
    },
    subject: patient.reference,
    ...(encounter ? { encounter } : {}),
    recordedDate: at.value,
  };
  c.out.push({ resource: condition, mode: 'upsert' });
}

function labResult(c: RowCtx, patient: PatientRef): void {
  const code = required(c, 'test_code');
  const result = required(c, 'result');
  const reported = when(c, 'reported_at', true);
  const collected = when(c, 'collected_at', false);
  const name = val(c, 'test_name');
  const unit = val(c, 'unit');
  const encounter = encounterStub(c, patient);
  const reportNo = val(c, 'report_no');
  const natural = reportNo ? `report:${reportNo}/test:${code}` : `patient:${patient.key}/test:${code}/${(collected ?? reported).value}`;
  const specimenType = val(c, 'specimen_type');
  let specimen: Reference<Specimen> | undefined;
  if (specimenType) {
    const sNatural = reportNo ? `report:${reportNo}/specimen` : `${natural}/specimen`;
    const s: Specimen & { id: string } = {
      resourceType: 'Specimen',
      id: idFor(c, 'Specimen', sNatural),
      identifier: [rowKey(c, sNatural)],
      type: { text: specimenType },
      subject: patient.reference,
      ...(collected ? { collection: { collectedDateTime: collected.value } } : {}),
    };
    c.out.push({ resource: s, mode: 'upsert' });
    specimen = { reference: `Specimen/${s.id}` };
  }
  const n = num(result);
  const cmp = /^(<=|>=|<|>)\s*(.+)$/.exec(result);
  const cmpNum = cmp ? num(cmp[2]!) : undefined;
  const flagRaw = val(c, 'abnormal_flag');
  const flag = flagRaw ? FLAG[flagRaw.toLowerCase()] : undefined;
  const rangeText = val(c, 'reference_range');
  const issued = reported.kind === 'dateTime' ? reported.value : `${reported.value}T00:00:00+08:00`;
  const observation: Observation & { id: string } = {
    resourceType: 'Observation',
    id: idFor(c, 'Observation', natural),
    identifier: [rowKey(c, natural)],
    status: 'final',
    category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }],
    // The facility's LIS code without a system, as HL7 OBX-3 local codes arrive: the facility's
    // ConceptMaps (terminology) map it; the facility is read from the identifier system.
    code: { coding: [{ code, ...(name ? { display: name } : {}) }], ...(name ? { text: name } : {}) },
    subject: patient.reference,
    ...(encounter ? { encounter } : {}),
    effectiveDateTime: (collected ?? reported).value,
    issued,
    ...(n !== undefined
      ? { valueQuantity: { value: n, ...(unit ? { unit } : {}) } }
      : cmp && cmpNum !== undefined
        ? { valueQuantity: { value: cmpNum, comparator: cmp[1] as '<', ...(unit ? { unit } : {}) } }
        : { valueString: result }),
    ...(flag ? { interpretation: [{ coding: [{ system: INTERPRETATION, ...flag }], text: flagRaw }] } : {}),
    ...(specimen ? { specimen } : {}),
    ...(rangeText ? { referenceRange: [referenceRange(rangeText, unit)] } : {}),
  };
  if (unit && /^[a-zA-Z0-9/.%*^[\]{}-]+$/.test(unit) && observation.valueQuantity) {
    observation.valueQuantity.system = UCUM_SYSTEM;
    observation.valueQuantity.code = unit;
  }
  c.out.push({ resource: observation, mode: 'upsert' });
}

function prescription(c: RowCtx, patient: PatientRef): void {
  const code = required(c, 'drug_code');
  const name = required(c, 'drug_name');
  const at = when(c, 'prescribed_at', true);
  const encounter = encounterStub(c, patient);
  const rxNo = val(c, 'prescription_no');
  const visitNo = val(c, 'visit_no');
  const natural = rxNo
    ? `rx:${rxNo}/drug:${code}`
    : visitNo
      ? `visit:${visitNo}/drug:${code}`
      : `patient:${patient.key}/drug:${code}/${at.value.slice(0, 10)}`;
  const dose = val(c, 'dose');
  const freq = val(c, 'frequency');
  const daysRaw = val(c, 'days');
  let days: number | undefined;
  if (daysRaw) {
    days = num(daysRaw);
    if (days === undefined || days < 0 || !Number.isInteger(days)) {
      c.warnings.push({ column: '天数', message: `天数"${daysRaw}"不是整数，未保存 / days '${daysRaw}' is not a whole number; left out` });
      days = undefined;
    }
  }
  const doseMatch = dose ? /^([0-9]*\.?[0-9]+)\s*([^\d\s].*)?$/.exec(dose) : null;
  const text = [dose, freq, days !== undefined ? `${days}天` : undefined].filter(Boolean).join(' ');
  const medication: CodeableConcept = { coding: [{ system: `${LOCAL_DRUG_SYSTEM}/${facilityPart(c)}`, code, display: name }], text: name };
  const request: MedicationRequest & { id: string } = {
    resourceType: 'MedicationRequest',
    id: idFor(c, 'MedicationRequest', natural),
    identifier: [rowKey(c, natural)],
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: medication,
    subject: patient.reference,
    ...(encounter ? { encounter } : {}),
    authoredOn: at.value,
    ...(text
      ? {
          dosageInstruction: [
            {
              text,
              ...(freq ? { timing: { code: { text: freq } } } : {}),
              ...(doseMatch
                ? {
                    doseAndRate: [
                      { doseQuantity: { value: Number(doseMatch[1]), ...(doseMatch[2] ? { unit: doseMatch[2].trim() } : {}) } },
                    ],
                  }
                : {}),
            },
          ],
        }
      : {}),
    ...(days !== undefined
      ? { dispenseRequest: { expectedSupplyDuration: { value: days, unit: '天', system: UCUM_SYSTEM, code: 'd' } } }
      : {}),
  };
  c.out.push({ resource: request, mode: 'upsert' });
}

function immunization(c: RowCtx, patient: PatientRef): void {
  const code = required(c, 'vaccine_code');
  const at = when(c, 'vaccination_date', true);
  const name = val(c, 'vaccine_name');
  const doseRaw = val(c, 'dose_number');
  let dose: number | undefined;
  if (doseRaw) {
    dose = num(doseRaw);
    if (dose === undefined || dose < 1 || !Number.isInteger(dose)) {
      c.warnings.push({
        column: '剂次',
        message: `剂次"${doseRaw}"不是正整数，未保存 / dose number '${doseRaw}' is not a positive whole number`,
      });
      dose = undefined;
    }
  }
  const natural = `patient:${patient.key}/imm:${code}/${at.value.slice(0, 10)}`;
  const lot = val(c, 'lot_number');
  const maker = val(c, 'manufacturer');
  const imm: Immunization & { id: string } = {
    resourceType: 'Immunization',
    id: idFor(c, 'Immunization', natural),
    identifier: [rowKey(c, natural)],
    status: 'completed',
    vaccineCode: { coding: [{ system: VACCINE_SYSTEM, code, ...(name ? { display: name } : {}) }], ...(name ? { text: name } : {}) },
    patient: patient.reference,
    occurrenceDateTime: at.value,
    primarySource: true,
    ...(lot ? { lotNumber: lot } : {}),
    ...(maker ? { manufacturer: { display: maker } } : {}),
    ...(dose !== undefined ? { protocolApplied: [{ doseNumberPositiveInt: dose }] } : {}),
  };
  c.out.push({ resource: imm, mode: 'upsert' });
}

/** One row of a template to the resources it becomes, or why it cannot be stored (the column named). */
export function rowToFhir(template: TemplateName, facility: string, values: RowValues): RowOutcome {
  const c: RowCtx = { facility, template, v: values, warnings: [], out: [] };
  try {
    const patient = patientOf(c);
    if (template === 'visits') visit(c, patient);
    else if (template === 'diagnoses') diagnosis(c, patient);
    else if (template === 'lab-results') labResult(c, patient);
    else if (template === 'prescriptions') prescription(c, patient);
    else if (template === 'immunizations') immunization(c, patient);
    return { ok: true, resources: c.out, warnings: c.warnings };
  } catch (e) {
    if (e instanceof Dead) return { ok: false, column: e.column, reason: e.reason };
    throw e;
  }
}

/** A stable digest of what a resource says (key order normalised): equal digests, nothing to write. */
export function contentHash(resource: Resource): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canon(resource)))
    .digest('base64url')
    .slice(0, 32);
}
