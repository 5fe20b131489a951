import { describe, expect, it } from 'vitest';
import {
  AREA_CODE_EXTENSION,
  DEPARTMENT_SYSTEM,
  FACILITY_MRN_SYSTEM_PREFIX,
  ICD10_SYSTEM,
  LOINC_SYSTEM,
  UCUM_SYSTEM,
  VACCINE_SYSTEM,
} from '../shared/uris.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { Hl7ParseError } from './errors.js';
import type {
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  Observation,
  Patient,
  Resource,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import { parseHl7 } from './parser.js';
import { codingSystemUri, SUPPORTED_MESSAGE_TYPES, toFhir, type ToFhirOptions, type TransactionBundle } from './to-fhir/index.js';
import { readSample, validateBundle } from './test-support.js';

/** Builds a segment from field number → value (no pipe counting in tests). */
function seg(name: string, fields: Record<number, string>): string {
  const max = Math.max(0, ...Object.keys(fields).map(Number));
  const parts = [name];
  for (let i = 1; i <= max; i++) parts.push(fields[i] ?? '');
  return parts.join('|');
}
function msh(type: string, id = 'MSG0001', extra: Record<number, string> = {}): string {
  const f: Record<number, string> = {
    3: 'HIS',
    4: 'HOSP01',
    5: 'YIFANG',
    6: 'CDC',
    7: '20240305101500',
    9: type,
    10: id,
    11: 'P',
    12: '2.5.1',
    ...extra,
  };
  const parts = ['MSH', '^~\\&'];
  for (let i = 3; i <= Math.max(...Object.keys(f).map(Number)); i++) parts.push(f[i] ?? '');
  return parts.join('|');
}
const message = (...segments: string[]) => segments.join('\r') + '\r';

const ID_NO = makeIdNumber('330102', '1990-01-01', 123);
const PID = seg('PID', {
  1: '1',
  3: `000123^^^HOSP01^MR~${ID_NO}^^^CHN^ID`,
  5: '张^三^^^^^L~欧阳娜娜',
  7: '19900101',
  8: 'M',
  11: '解放路1号^^杭州市^浙江省^310000^CHN^H^^330102~文三路2号^^杭州市^浙江省^^CHN^C^^330106^330106001001',
  13: '13800000000^PRN^CP~^NET^Internet^zhang@example.cn',
});
const PV1 = seg('PV1', { 1: '1', 2: 'I', 3: '内科^12^3^HOSP01', 7: 'D001^李^明', 10: 'NEI', 19: 'V20240305001', 44: '20240305100000' });
const PV2 = seg('PV2', { 3: '^发热伴咳嗽3天' });
const DG1 = seg('DG1', { 1: '1', 3: 'J10.100^流行性感冒^ICD-10', 5: '20240305103000', 6: 'F' });

function map(text: string, options?: ToFhirOptions) {
  const result = toFhir(parseHl7(text), options);
  expect(validateBundle(result.bundle)).toEqual([]);
  return result;
}
function resources<T extends Resource>(bundle: TransactionBundle, type: T['resourceType']): T[] {
  return bundle.entry.filter((e) => e.resource.resourceType === type).map((e) => e.resource as T);
}
function entryOf(bundle: TransactionBundle, type: string) {
  return bundle.entry.find((e) => e.resource.resourceType === type)!;
}
function expectError(fn: () => unknown, code: string, pattern?: RegExp): Hl7ParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Hl7ParseError);
    expect((e as Hl7ParseError).code).toBe(code);
    if (pattern) expect((e as Hl7ParseError).message).toMatch(pattern);
    return e as Hl7ParseError;
  }
  throw new Error(`expected Hl7ParseError ${code}`);
}

describe('ADT → Patient + Encounter', () => {
  const a01 = message(msh('ADT^A01^ADT_A01'), seg('EVN', { 1: 'A01', 2: '20240305101500' }), PID, PV1, PV2, DG1);

  it('maps PID to a Patient with facility MRN and resident ID identifiers', () => {
    const { bundle } = map(a01);
    const patient = resources<Patient>(bundle, 'Patient')[0]!;
    expect(patient.identifier).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ system: `${FACILITY_MRN_SYSTEM_PREFIX}/HOSP01`, value: '000123' }),
        expect.objectContaining({ system: RESIDENT_ID_SYSTEM, value: ID_NO }),
      ]),
    );
    expect(patient.name).toEqual([{ use: 'official', text: '张三', family: '张', given: ['三'] }, { text: '欧阳娜娜' }]);
    expect(patient.gender).toBe('male');
    expect(patient.birthDate).toBe('1990-01-01');
    expect(patient.address![0]).toMatchObject({
      use: 'home',
      line: ['解放路1号'],
      city: '杭州市',
      state: '浙江省',
      postalCode: '310000',
      extension: [{ url: AREA_CODE_EXTENSION, valueCode: '330102' }],
    });
    // the 12-digit statistical code (XAD-10) wins over the county code
    expect(patient.address![1]!.extension).toEqual([{ url: AREA_CODE_EXTENSION, valueCode: '330106001001' }]);
    expect(patient.address![1]!.use).toBe('temp');
    expect(patient.telecom).toEqual([
      { system: 'phone', value: '13800000000', use: 'mobile' },
      { system: 'email', value: 'zhang@example.cn', use: 'home' },
    ]);
    const entry = entryOf(bundle, 'Patient');
    expect(entry.request).toEqual({
      method: 'PUT',
      url: `Patient?identifier=${encodeURIComponent(`${FACILITY_MRN_SYSTEM_PREFIX}/HOSP01`)}|000123`,
    });
    expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });

  it('maps PV1/PV2 to an in-progress inpatient Encounter referencing the Patient', () => {
    const { bundle } = map(a01);
    const enc = resources<Encounter>(bundle, 'Encounter')[0]!;
    expect(enc.status).toBe('in-progress');
    expect(enc.class).toMatchObject({ code: 'IMP' });
    expect(enc.identifier![0]).toMatchObject({ value: 'V20240305001' });
    expect(enc.period).toEqual({ start: '2024-03-05T10:00:00+08:00' });
    expect(enc.location).toEqual([{ location: { display: '内科 12 3' }, status: 'active' }]);
    expect(enc.serviceType).toEqual({ coding: [{ system: DEPARTMENT_SYSTEM, code: 'NEI' }] });
    expect(enc.participant![0]).toMatchObject({ individual: { display: '李明', identifier: { value: 'D001' } } });
    expect(enc.reasonCode).toEqual([{ text: '发热伴咳嗽3天' }]);
    expect(enc.subject).toEqual({ reference: entryOf(bundle, 'Patient').fullUrl });
    expect(entryOf(bundle, 'Encounter').request.method).toBe('PUT');
  });

  it('maps DG1 to a Condition with the ICD-10 system', () => {
    const { bundle } = map(a01);
    const cond = resources<Condition>(bundle, 'Condition')[0]!;
    expect(cond.code).toEqual({ coding: [{ system: ICD10_SYSTEM, code: 'J10.100', display: '流行性感冒' }], text: '流行性感冒' });
    expect(cond.verificationStatus!.coding![0]!.code).toBe('confirmed');
    expect(cond.recordedDate).toBe('2024-03-05T10:30:00+08:00');
    expect(cond.encounter).toEqual({ reference: entryOf(bundle, 'Encounter').fullUrl });
  });

  it('is idempotent: the same message gives the same bundle', () => {
    expect(map(a01).bundle).toEqual(map(a01).bundle);
  });

  it('keys the Patient on the resident ID when asked', () => {
    const { bundle } = map(a01, { patientKey: 'resident-id' });
    expect(entryOf(bundle, 'Patient').request.url).toBe(`Patient?identifier=${encodeURIComponent(RESIDENT_ID_SYSTEM)}|${ID_NO}`);
  });

  it('uses the facility id override in identifier systems', () => {
    const { bundle, facilityId } = map(a01, { facilityId: '12330100470000000X' });
    expect(facilityId).toBe('12330100470000000X');
    expect(resources<Patient>(bundle, 'Patient')[0]!.identifier![0]!.system).toBe(`${FACILITY_MRN_SYSTEM_PREFIX}/12330100470000000X`);
  });

  it('accepts NNCHN, and an untyped valid ID number in PID-3; warns on an invalid one', () => {
    const ok = map(message(msh('ADT^A04'), seg('PID', { 3: `${ID_NO}^^^^NNCHN~X9^^^^MR`, 5: '王^五' }), PV1));
    expect(resources<Patient>(ok.bundle, 'Patient')[0]!.identifier!.map((i) => i.system)).toContain(RESIDENT_ID_SYSTEM);
    const untyped = map(message(msh('ADT^A04'), seg('PID', { 3: ID_NO, 5: '王^五' }), PV1));
    expect(resources<Patient>(untyped.bundle, 'Patient')[0]!.identifier![0]!.system).toBe(RESIDENT_ID_SYSTEM);
    const bad = `${ID_NO.slice(0, 17)}${ID_NO[17] === '0' ? '1' : '0'}`;
    const r = map(message(msh('ADT^A04'), seg('PID', { 3: `X9^^^^MR~${bad}^^^^ID`, 5: '王^五' }), PV1));
    const ids = resources<Patient>(r.bundle, 'Patient')[0]!.identifier!;
    expect(ids.some((i) => i.system === RESIDENT_ID_SYSTEM)).toBe(false);
    expect(ids.some((i) => i.value === bad)).toBe(true);
    expect(r.warnings.join()).toMatch(/PID-3\[2\].*failed validation/);
  });

  it('maps GB/T 2261.1 sex codes', () => {
    const sex = (code: string) =>
      resources<Patient>(map(message(msh('ADT^A28'), seg('PID', { 3: '1^^^^MR', 8: code }))).bundle, 'Patient')[0]!.gender;
    expect(sex('1')).toBe('male');
    expect(sex('2')).toBe('female');
    expect(sex('9')).toBe('unknown');
    expect(sex('F')).toBe('female');
  });

  it('A03 → finished, end from PV1-45 or else EVN-6', () => {
    const withEnd = map(
      message(msh('ADT^A03'), seg('EVN', { 1: 'A03' }), PID, seg('PV1', { 2: 'I', 19: 'V1', 44: '20240301080000', 45: '20240305120000' })),
    );
    expect(resources<Encounter>(withEnd.bundle, 'Encounter')[0]).toMatchObject({
      status: 'finished',
      period: { start: '2024-03-01T08:00:00+08:00', end: '2024-03-05T12:00:00+08:00' },
    });
    const fromEvn = map(
      message(msh('ADT^A03'), seg('EVN', { 1: 'A03', 2: '20240305130000', 6: '20240305121500' }), PID, seg('PV1', { 2: 'I', 19: 'V1' })),
    );
    expect(resources<Encounter>(fromEvn.bundle, 'Encounter')[0]!.period).toEqual({ end: '2024-03-05T12:15:00+08:00' });
    // a discharge message mentions the patient but does not overwrite demographics
    expect(entryOf(withEnd.bundle, 'Patient').request).toMatchObject({ method: 'POST', url: 'Patient' });
    expect(entryOf(withEnd.bundle, 'Patient').request.ifNoneExist).toMatch(/^identifier=/);
  });

  it('A11 cancels, A13 re-opens, A02 moves the patient', () => {
    const pv1 = seg('PV1', { 2: 'I', 3: '外科^5^1', 6: '内科^12^3', 19: 'V1', 44: '20240301080000', 45: '20240305120000' });
    expect(resources<Encounter>(map(message(msh('ADT^A11'), PID, pv1)).bundle, 'Encounter')[0]!.status).toBe('cancelled');
    const a13 = resources<Encounter>(map(message(msh('ADT^A13'), PID, pv1)).bundle, 'Encounter')[0]!;
    expect(a13.status).toBe('in-progress');
    expect(a13.period!.end).toBeUndefined();
    const a02 = resources<Encounter>(
      map(message(msh('ADT^A02'), PID, seg('PV1', { 2: 'I', 3: '外科^5^1', 6: '内科^12^3', 19: 'V1' }))).bundle,
      'Encounter',
    )[0]!;
    expect(a02.location).toEqual([
      { location: { display: '外科 5 1' }, status: 'active' },
      { location: { display: '内科 12 3' }, status: 'completed' },
    ]);
  });

  it('A28/A31 map the person; an Encounter only for a real visit', () => {
    const a28 = map(message(msh('ADT^A28'), seg('EVN', { 1: 'A28' }), PID, seg('PV1', { 2: 'N' })));
    expect(resources(a28.bundle, 'Encounter')).toHaveLength(0);
    expect(entryOf(a28.bundle, 'Patient').request.method).toBe('PUT');
    const a31 = map(message(msh('ADT^A31'), PID));
    expect(a31.bundle.entry.map((e) => e.resource.resourceType)).toEqual(['Patient']);
  });

  it('keys an Encounter without a visit number on the message, with a warning', () => {
    const r = map(message(msh('ADT^A04'), PID, seg('PV1', { 2: 'O' })));
    expect(resources<Encounter>(r.bundle, 'Encounter')[0]!.class.code).toBe('AMB');
    expect(r.warnings.join()).toMatch(/PV1-19/);
  });

  it('maps ADT OBX to Observations and a chief-complaint OBX to the encounter reason', () => {
    const r = map(
      message(
        msh('ADT^A04'),
        PID,
        PV1,
        seg('OBX', {
          1: '1',
          2: 'NM',
          3: '8310-5^体温^LN',
          5: '38.6',
          6: 'Cel^°C^UCUM',
          7: '36.0-37.3',
          8: 'H',
          11: 'F',
          14: '20240305101000',
        }),
        seg('OBX', { 1: '2', 2: 'ST', 3: '8661-1^主诉^LN', 5: '发热3天', 11: 'F' }),
      ),
    );
    const [temp] = resources<Observation>(r.bundle, 'Observation');
    expect(temp).toMatchObject({
      status: 'final',
      code: { coding: [{ system: LOINC_SYSTEM, code: '8310-5', display: '体温' }] },
      valueQuantity: { value: 38.6, unit: '°C', system: UCUM_SYSTEM, code: 'Cel' },
      referenceRange: [{ low: { value: 36, unit: '°C' }, high: { value: 37.3, unit: '°C' }, text: '36.0-37.3' }],
      interpretation: [{ coding: [{ code: 'H' }] }],
      effectiveDateTime: '2024-03-05T10:10:00+08:00',
    });
    expect(resources<Encounter>(r.bundle, 'Encounter')[0]!.reasonCode).toEqual([{ text: '发热3天' }]);
  });
});

describe('ADT^A40 merge', () => {
  it('returns merge instructions and the surviving Patient', () => {
    const r = map(
      message(
        msh('ADT^A40^ADT_A39'),
        seg('EVN', { 1: 'A40' }),
        seg('PID', { 3: '000123^^^HOSP01^MR', 5: '张^三' }),
        seg('MRG', { 1: '000999^^^HOSP01^MR' }),
      ),
    );
    expect(r.merges).toEqual([
      {
        kind: 'merge',
        survivor: { system: `${FACILITY_MRN_SYSTEM_PREFIX}/HOSP01`, value: '000123' },
        merged: { system: `${FACILITY_MRN_SYSTEM_PREFIX}/HOSP01`, value: '000999' },
      },
    ]);
    expect(resources(r.bundle, 'Patient')).toHaveLength(1);
  });

  it('handles several PID/MRG pairs (sample ADT-A40-02)', () => {
    expect(toFhir(parseHl7(readSample('ADT-A40-02.hl7'))).merges.map((m) => `${m.merged.value}->${m.survivor.value}`)).toEqual([
      '56789->12345',
      '569->145',
    ]);
  });

  it('rejects an MRG without identifiers', () => {
    expectError(
      () => toFhir(parseHl7(message(msh('ADT^A40'), seg('PID', { 3: '1^^^^MR' }), seg('MRG', { 7: 'x' })))),
      'MISSING_FIELD',
      /MRG-1/,
    );
  });
});

describe('ORU^R01 → DiagnosticReport + Observations + Specimen', () => {
  const oru = message(
    msh('ORU^R01^ORU_R01'),
    PID,
    seg('ORC', { 1: 'RE', 2: 'P100', 3: 'F200' }),
    seg('OBR', { 1: '1', 2: 'P100', 3: 'F200', 4: '24317-0^血常规^LN', 7: '20240305080000', 22: '20240305093000', 24: 'HM', 25: 'F' }),
    seg('OBX', { 1: '1', 2: 'NM', 3: '6690-2^白细胞^LN', 5: '12.5', 6: '10*9/L^10\\S\\9/L^UCUM', 7: '3.5-9.5', 8: 'H', 11: 'F' }),
    seg('NTE', { 1: '1', 3: '已复查' }),
    seg('OBX', { 1: '2', 2: 'SN', 3: '5195-3^HBsAg^LN', 5: '<^0.05', 6: 'IU/mL^^UCUM', 7: '<0.05', 11: 'F' }),
    seg('OBX', { 1: '3', 2: 'SN', 3: '5196-1^titer^LN', 5: '^1^:^64', 11: 'F' }),
    seg('OBX', { 1: '4', 2: 'SN', 3: '1234-5^range^LN', 5: '^10^-^20', 11: 'P' }),
    seg('OBX', { 1: '5', 2: 'ST', 3: '8251-1^描述^LN', 5: '可见异型淋巴细胞', 11: 'F' }),
    seg('OBX', {
      1: '6',
      2: 'CE',
      3: '600-7^Bacteria identified in Blood by Culture^LN',
      5: '112283007^Escherichia coli^SCT',
      8: 'A',
      11: 'F',
    }),
    seg('SPM', { 1: '1', 2: 'S300&LAB', 4: '119297000^Blood specimen^SCT', 17: '20240305073000', 18: '20240305080000' }),
  );

  it('maps the report, results and specimen', () => {
    const { bundle } = map(oru);
    const report = resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!;
    const obs = resources<Observation>(bundle, 'Observation');
    const specimen = resources<Specimen>(bundle, 'Specimen')[0]!;
    expect(report).toMatchObject({
      status: 'final',
      code: { coding: [{ system: LOINC_SYSTEM, code: '24317-0' }] },
      effectiveDateTime: '2024-03-05T08:00:00+08:00',
      issued: '2024-03-05T09:30:00+08:00',
      category: [{ coding: [{ code: 'HM' }] }],
    });
    expect(report.identifier!.map((i) => i.value)).toEqual(['P100', 'F200']);
    expect(report.result).toHaveLength(6);
    expect(report.specimen).toEqual([{ reference: entryOf(bundle, 'Specimen').fullUrl }]);
    expect(obs[0]).toMatchObject({
      status: 'final',
      valueQuantity: { value: 12.5, unit: '10^9/L', system: UCUM_SYSTEM, code: '10*9/L' },
      referenceRange: [{ low: { value: 3.5 }, high: { value: 9.5 }, text: '3.5-9.5' }],
      interpretation: [{ coding: [{ code: 'H' }] }],
      note: [{ text: '已复查' }],
      category: [{ coding: [{ code: 'laboratory' }] }],
      effectiveDateTime: '2024-03-05T08:00:00+08:00',
    });
    expect(obs[1]!.valueQuantity).toEqual({ value: 0.05, comparator: '<', unit: 'IU/mL', system: UCUM_SYSTEM, code: 'IU/mL' });
    expect(obs[1]!.referenceRange![0]).toMatchObject({ high: { value: 0.05 }, text: '<0.05' });
    expect(obs[2]!.valueRatio).toEqual({ numerator: { value: 1 }, denominator: { value: 64 } });
    expect(obs[3]).toMatchObject({ status: 'preliminary', valueRange: { low: { value: 10 }, high: { value: 20 } } });
    expect(obs[4]!.valueString).toBe('可见异型淋巴细胞');
    expect(obs[5]!.valueCodeableConcept).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '112283007', display: 'Escherichia coli' }],
      text: 'Escherichia coli',
    });
    expect(specimen).toMatchObject({
      identifier: [{ value: 'S300' }],
      type: { coding: [{ code: '119297000' }] },
      collection: { collectedDateTime: '2024-03-05T07:30:00+08:00' },
      receivedTime: '2024-03-05T08:00:00+08:00',
    });
    for (const o of obs) expect(o.specimen).toEqual({ reference: entryOf(bundle, 'Specimen').fullUrl });
    expect(entryOf(bundle, 'Patient').request.method).toBe('POST');
  });

  it('builds the Specimen from OBR-15 and OBR-7 when there is no SPM (v2.3)', () => {
    const { bundle } = map(
      message(
        msh('ORU^R01', 'M2', { 12: '2.3' }),
        PID,
        seg('OBR', { 1: '1', 3: 'F9', 4: '600-7^血培养^LN', 7: '20240305070000', 15: 'BLD&Blood&HL70070' }),
        seg('OBX', { 1: '1', 2: 'ST', 3: '600-7^血培养^LN', 5: '阴性', 11: 'F' }),
      ),
    );
    expect(resources<Specimen>(bundle, 'Specimen')[0]).toMatchObject({
      type: { coding: [{ code: 'BLD', display: 'Blood' }] },
      collection: { collectedDateTime: '2024-03-05T07:00:00+08:00' },
    });
  });

  it('derives the report status from its results when OBR-25 is empty', () => {
    const { bundle } = map(
      message(msh('ORU^R01'), PID, seg('OBR', { 1: '1', 3: 'F9', 4: 'X^Y' }), seg('OBX', { 1: '1', 2: 'ST', 3: 'A^B', 5: 'v', 11: 'P' })),
    );
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.status).toBe('preliminary');
  });

  it('rejects OBX before OBR (after the visit) with SEGMENT_ORDER', () => {
    const err = expectError(
      () =>
        toFhir(
          parseHl7(message(msh('ORU^R01'), PID, PV1, seg('OBX', { 1: '1', 2: 'ST', 3: 'A^B', 5: 'v' }), seg('OBR', { 1: '1', 4: 'X^Y' }))),
        ),
      'SEGMENT_ORDER',
      /Segment OBX \(segment 4 of the message\) is out of order for ORU_R01: expected one of OBR, ORC, PV2 at this point/,
    );
    expect(err.hl7ErrorCode).toBe(100);
    expect(err.location).toMatchObject({ segment: 'OBX' });
  });

  it('rejects an ORU with results but no OBR', () => {
    expectError(() => toFhir(parseHl7(message(msh('ORU^R01'), PID, PV1))), 'SEGMENT_ORDER', /Required segment.*OBR/);
  });

  it('requires OBR-4', () => {
    expectError(() => toFhir(parseHl7(message(msh('ORU^R01'), PID, seg('OBR', { 1: '1', 3: 'F1' })))), 'MISSING_FIELD', /OBR-4/);
  });

  it('rejects an invalid OBX-14 naming the field', () => {
    const err = expectError(
      () =>
        toFhir(
          parseHl7(
            message(
              msh('ORU^R01'),
              PID,
              seg('OBR', { 1: '1', 4: 'X^Y' }),
              seg('OBX', { 1: '1', 2: 'ST', 3: 'A^B', 5: 'v' }),
              seg('OBX', { 1: '2', 2: 'ST', 3: 'C^D', 5: 'w', 14: '20240230' }),
            ),
          ),
        ),
      'BAD_DATE',
      /^OBX\[2\]-14 has an invalid date\/time "20240230": day 30 does not exist/,
    );
    expect(err.location).toEqual({ segment: 'OBX', occurrence: 2, field: 14 });
  });
});

describe('VXU^V04 → Immunization', () => {
  it('maps RXA/RXR with CVX and local (Chinese schedule) vaccine codes', () => {
    const { bundle } = map(
      message(
        msh('VXU^V04^VXU_V04'),
        PID,
        seg('ORC', { 1: 'RE', 3: 'IMM-1' }),
        seg('RXA', {
          1: '0',
          2: '1',
          3: '20240301093000',
          5: '08^Hep B, adolescent or pediatric^CVX',
          6: '0.5',
          7: 'mL^mL^UCUM',
          9: '00^New record^NIP001',
          10: 'N01^周^护士',
          11: '^^^社区卫生服务中心',
          15: 'LOT123',
          16: '20260101',
          17: 'KX^康泰^MVX',
          20: 'CP',
          21: 'A',
        }),
        seg('RXR', { 1: 'IM^Intramuscular^HL70162', 2: 'LA^Left arm^HL70163' }),
        seg('OBX', { 1: '1', 2: 'CE', 3: '64994-7^Eligibility^LN', 5: 'V02^Medicaid^HL70064' }),
        seg('ORC', { 1: 'RE' }),
        seg('RXA', {
          1: '0',
          2: '1',
          3: '20240101',
          5: '0201^乙肝疫苗(10μg)^YMCODE',
          6: '999',
          20: 'RE',
          18: '00^Parental decision^NIP002',
        }),
      ),
    );
    const [first, second] = resources<Immunization>(bundle, 'Immunization');
    expect(first).toMatchObject({
      status: 'completed',
      vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '08' }] },
      occurrenceDateTime: '2024-03-01T09:30:00+08:00',
      primarySource: true,
      lotNumber: 'LOT123',
      expirationDate: '2026-01-01',
      doseQuantity: { value: 0.5, unit: 'mL', system: UCUM_SYSTEM, code: 'mL' },
      manufacturer: { display: '康泰', identifier: { value: 'KX' } },
      route: { coding: [{ code: 'IM' }] },
      site: { coding: [{ code: 'LA' }] },
      location: { display: '社区卫生服务中心' },
      performer: [{ actor: { display: '周护士' } }],
      programEligibility: [{ coding: [{ code: 'V02' }] }],
    });
    expect(first!.patient).toEqual({ reference: entryOf(bundle, 'Patient').fullUrl });
    expect(entryOf(bundle, 'Patient').request.method).toBe('POST');
    expect(second).toMatchObject({
      status: 'not-done',
      vaccineCode: { coding: [{ system: VACCINE_SYSTEM, code: '0201' }] },
      occurrenceDateTime: '2024-01-01',
      statusReason: { coding: [{ code: '00' }] },
    });
    expect(second!.doseQuantity).toBeUndefined();
  });

  it('requires RXA-3 and RXA-5', () => {
    expectError(
      () => toFhir(parseHl7(message(msh('VXU^V04'), PID, seg('RXA', { 1: '0', 2: '1', 5: '08^HepB^CVX' })))),
      'MISSING_FIELD',
      /RXA-3/,
    );
    expectError(
      () => toFhir(parseHl7(message(msh('VXU^V04'), PID, seg('RXA', { 1: '0', 2: '1', 3: '20240101' })))),
      'MISSING_FIELD',
      /RXA-5/,
    );
  });
});

describe('ORM^O01 / OML^O21 → ServiceRequest', () => {
  it('maps ORC/OBR, DG1 reasons, AOE OBX and SPM', () => {
    const { bundle } = map(
      message(
        msh('OML^O21^OML_O21'),
        PID,
        PV1,
        seg('ORC', { 1: 'NW', 2: 'P500', 9: '20240305090000', 12: 'D001^李^明' }),
        seg('OBR', { 1: '1', 2: 'P500', 4: '94500-6^SARS-CoV-2 RNA^LN', 5: 'S' }),
        seg('DG1', { 1: '1', 3: 'U07.1^COVID-19^I10' }),
        seg('OBX', { 1: '1', 2: 'CWE', 3: '95418-0^Employed in healthcare^LN', 5: 'N^No^HL70136' }),
        seg('SPM', { 1: '1', 2: '^S777', 4: '258500001^Nasopharyngeal swab^SCT', 17: '20240305091500' }),
      ),
    );
    const sr = resources<ServiceRequest>(bundle, 'ServiceRequest')[0]!;
    expect(sr).toMatchObject({
      status: 'active',
      intent: 'order',
      priority: 'stat',
      code: { coding: [{ system: LOINC_SYSTEM, code: '94500-6' }] },
      authoredOn: '2024-03-05T09:00:00+08:00',
      requester: { display: '李明' },
      reasonCode: [{ coding: [{ system: ICD10_SYSTEM, code: 'U07.1' }] }],
    });
    expect(sr.identifier![0]).toMatchObject({ value: 'P500' });
    expect(sr.supportingInfo).toHaveLength(1);
    expect(sr.specimen).toEqual([{ reference: entryOf(bundle, 'Specimen').fullUrl }]);
    expect(resources<Specimen>(bundle, 'Specimen')[0]).toMatchObject({
      identifier: [{ value: 'S777' }],
      collection: { collectedDateTime: '2024-03-05T09:15:00+08:00' },
    });
    expect(entryOf(bundle, 'Encounter').request.method).toBe('POST');
  });

  it('maps a cancelled ORM order to revoked', () => {
    const { bundle } = map(message(msh('ORM^O01'), PID, seg('ORC', { 1: 'CA', 2: 'P1' }), seg('OBR', { 1: '1', 2: 'P1', 4: 'X^Y' })));
    expect(resources<ServiceRequest>(bundle, 'ServiceRequest')[0]!.status).toBe('revoked');
  });

  it('requires ORC before OBR in ORM', () => {
    expectError(
      () => toFhir(parseHl7(message(msh('ORM^O01'), PID, seg('OBR', { 1: '1', 4: 'X^Y' })))),
      'SEGMENT_ORDER',
      /OBR.*expected.*ORC/,
    );
  });
});

describe('codingSystemUri', () => {
  it('maps HL7 coding-system names to FHIR system URIs', () => {
    expect(codingSystemUri('I10')).toBe(ICD10_SYSTEM);
    expect(codingSystemUri('ICD-10')).toBe(ICD10_SYSTEM);
    expect(codingSystemUri('ICD10CN')).toBe(ICD10_SYSTEM);
    expect(codingSystemUri('I10C')).toBe('http://hl7.org/fhir/sid/icd-10-cm');
    expect(codingSystemUri('LN')).toBe(LOINC_SYSTEM);
    expect(codingSystemUri('SCT')).toBe('http://snomed.info/sct');
    expect(codingSystemUri('HL70078')).toBe('http://terminology.hl7.org/CodeSystem/v2-0078');
    expect(codingSystemUri('99LOCAL')).toBeUndefined();
  });
});

describe('type and order checks', () => {
  it('exports the supported types', () => {
    expect(SUPPORTED_MESSAGE_TYPES).toContain('ADT^A01');
    expect(SUPPORTED_MESSAGE_TYPES).toContain('OML^O21');
    expect(SUPPORTED_MESSAGE_TYPES).not.toContain('ADT^A05');
  });

  it('rejects unsupported types with UNSUPPORTED_TYPE (200)', () => {
    const err = expectError(() => toFhir(parseHl7(readSample('SIU-S12-01.hl7'))), 'UNSUPPORTED_TYPE', /SIU\^S12.*not supported/);
    expect(err.hl7ErrorCode).toBe(200);
    expectError(() => toFhir(parseHl7(message(msh('ADT^A05'), PID, PV1))), 'UNSUPPORTED_TYPE');
    expectError(() => toFhir(parseHl7(message(msh('ZZZ^Z99'), PID))), 'UNSUPPORTED_TYPE');
  });

  it('rejects PV1 before PID with SEGMENT_ORDER (100) naming the segment', () => {
    const err = expectError(
      () => toFhir(parseHl7(message(msh('ADT^A01'), seg('EVN', { 1: 'A01' }), PV1, PID))),
      'SEGMENT_ORDER',
      /Segment PV1 \(segment 3 of the message\) is out of order for ADT_A01: expected PID/,
    );
    expect(err.hl7ErrorCode).toBe(100);
  });

  it('rejects an ADT without PID, or an admission without PV1', () => {
    expectError(
      () => toFhir(parseHl7(message(msh('ADT^A01'), seg('EVN', { 1: 'A01' })))),
      'SEGMENT_ORDER',
      /Required segment PID is missing/,
    );
    expectError(() => toFhir(parseHl7(message(msh('ADT^A01'), PID))), 'SEGMENT_ORDER', /PV1/);
  });

  it('ignores segments it does not map (Z-segments, NK1, IN1 ...)', () => {
    const r = map(
      message(
        msh('ADT^A01'),
        seg('ZXY', { 1: 'vendor' }),
        PID,
        seg('NK1', { 1: '1', 2: '张^父' }),
        PV1,
        seg('IN1', { 1: '1' }),
        seg('ZPV', { 1: 'x' }),
      ),
    );
    expect(r.bundle.entry.map((e) => e.resource.resourceType)).toEqual(['Patient', 'Encounter']);
  });

  it('rejects an invalid birth date naming PID-7', () => {
    expectError(
      () => toFhir(parseHl7(message(msh('ADT^A04'), seg('PID', { 3: '1^^^^MR', 7: '19901301' }), PV1))),
      'BAD_DATE',
      /^PID-7 .*month 13/,
    );
  });

  it('rejects a PID without a usable identifier', () => {
    expectError(() => toFhir(parseHl7(message(msh('ADT^A04'), seg('PID', { 5: '张^三' }), PV1))), 'MISSING_FIELD', /PID-3/);
  });

  it('the bundle validator really catches invalid resources', () => {
    const { bundle } = toFhir(parseHl7(message(msh('ADT^A04'), PID, PV1)));
    const broken = structuredClone(bundle);
    delete (broken.entry[1]!.resource as Partial<Encounter>).status;
    (broken.entry[0]!.resource as Patient).birthDate = '1990-13-01';
    const problems = validateBundle(broken);
    expect(problems.join('\n')).toMatch(/Encounter lacks status/);
    expect(problems.join('\n')).toMatch(/birthDate/);
  });
});
