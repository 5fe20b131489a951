import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { DATA_QUALITY_EXTENSION } from '../shared/data-quality.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { decide, loadLinkageConfig, weightsOf } from './linkage.js';
import { blockingKeys, toIdentityRecord } from './record.js';

const VALID = makeIdNumber('339902', '1972-11-05', 33);
/** The same number with a wrong check character: fails GB 11643, stored with a data-quality mark. */
const INVALID = `${VALID.slice(0, 17)}${VALID[17] === '0' ? '1' : '0'}`;

function patient(
  id: string,
  o: { name: string; birth: string; sex: Patient['gender']; phone: string; line: string; org: string },
): Patient {
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      {
        system: `https://yifang.health/fhir/sid/mrn/${o.org}`,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        value: `MRN-${id}`,
      },
      { system: RESIDENT_ID_SYSTEM, value: INVALID },
    ],
    name: [{ use: 'official', text: o.name }],
    gender: o.sex,
    birthDate: o.birth,
    telecom: [{ system: 'phone', value: o.phone }],
    address: [{ use: 'home', line: [o.line] }],
    managingOrganization: { reference: `Organization/${o.org}` },
  };
}

// Two different people whose records were keyed with the same (wrong) ID number.
const A = patient('badid-a', {
  name: '刘建国',
  birth: '1972-11-05',
  sex: 'male',
  phone: '13611112222',
  line: '解放路12号',
  org: 'org-dq-a',
});
const B = patient('badid-b', {
  name: '陈秀英',
  birth: '1981-04-19',
  sex: 'female',
  phone: '13933334444',
  line: '河滨路8号',
  org: 'org-dq-b',
});

describe('an ID number that fails GB 11643 is never a deterministic link', () => {
  it('is kept as the raw number only: no idNumber, no ID blocking key, no ID decision', () => {
    const a = toIdentityRecord(A);
    const b = toIdentityRecord(B);
    expect(a.idNumber).toBeUndefined();
    expect(a.idRaw).toBe(INVALID);
    expect(blockingKeys(a).some((k) => k.startsWith('id:'))).toBe(false);
    // The HL7 v2 form (typed NI, no resident system, marked) reads the same.
    const hl7 = toIdentityRecord({
      ...B,
      identifier: [
        {
          extension: [{ url: DATA_QUALITY_EXTENSION, valueString: '校验码错误 / check character' }],
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] },
          value: INVALID,
        },
      ],
    });
    expect(hl7.idNumber).toBeUndefined();
    const cfg = loadLinkageConfig();
    const d = decide(b, [{ record: a, personId: 'P-A' }], weightsOf(cfg.defaults), cfg.thresholds);
    expect(d.kind).not.toBe('id');
    expect(d.kind).toBe('new');
    expect(d.ranked[0]?.idMatch).toBe(false);
    // Control: had the shared number been valid, it alone would have linked them (level4).
    const withValid = (p: Patient) => toIdentityRecord({ ...p, identifier: [{ system: RESIDENT_ID_SYSTEM, value: VALID }] });
    expect(decide(withValid(B), [{ record: withValid(A), personId: 'P-A' }], weightsOf(cfg.defaults), cfg.thresholds)).toMatchObject({
      kind: 'id',
      assurance: 'level4',
    });
  });
});

describeEachStore('identity with invalid ID numbers', (server) => {
  it('leaves two Patients sharing the same invalid ID number as two persons, neither linked at level4', async () => {
    for (const p of [A, B]) {
      const r = await server().api(`/fhir/Patient/${p.id}`, { method: 'PUT', body: JSON.stringify(p) });
      expect(r.status).toBe(201);
      const stored = (await r.json()) as Patient;
      expect(stored.identifier![1]!.extension?.[0]?.url).toBe(DATA_QUALITY_EXTENSION);
    }
    await server().processors.drain();
    const personOf = async (id: string) =>
      (await (await server().api(`/api/identity/patients/${id}/person`)).json()) as {
        personId: string;
        patients: { patientId: string; assurance: string }[];
      };
    const a = await personOf(A.id!);
    const b = await personOf(B.id!);
    expect(a.personId).not.toBe(b.personId);
    expect(a.patients.map((p) => `${p.patientId}:${p.assurance}`)).toEqual([`${A.id}:level3`]);
    expect(b.patients.map((p) => `${p.patientId}:${p.assurance}`)).toEqual([`${B.id}:level3`]);
  });
});
