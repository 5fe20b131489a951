import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DATA_QUALITY_EXTENSION } from '../shared/data-quality.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { HttpError } from '../platform/errors.js';
import { validateFhirResource } from './validate.js';

const GOOD = makeIdNumber('330102', '1985-03-07', 21);
const BAD_CHECK = `${GOOD.slice(0, 17)}${GOOD[17] === '0' ? '1' : '0'}`;
const OTHER_EXT = { url: 'https://example.org/ext', valueString: 'keep me' };

type PatientJson = Patient & { _birthDate?: { extension?: { url: string; valueString?: string }[] } };
const check = (p: PatientJson) => validateFhirResource(p, 'Patient') as PatientJson;
const marksOn = (e: { extension?: { url?: string; valueString?: string }[] } | undefined) =>
  (e?.extension ?? []).filter((x) => x.url === DATA_QUALITY_EXTENSION).map((x) => x.valueString ?? '');

describe('Patient data-quality marks', () => {
  it('keeps a resident ID number that fails GB 11643 exactly as sent and marks that identifier', () => {
    for (const [value, words] of [
      [BAD_CHECK, /校验码错误.*check character/],
      ['110105199002300025', /出生日期无效.*not a valid date/],
      ['12345', /18位.*17 digits/],
    ] as const) {
      const input: Patient = {
        resourceType: 'Patient',
        identifier: [
          { system: 'https://yifang.health/fhir/sid/mrn/org-a', value: 'M1' },
          { system: RESIDENT_ID_SYSTEM, value, extension: [OTHER_EXT] },
        ],
      };
      const out = check(input);
      expect(out.identifier![1]!.value).toBe(value);
      expect(out.identifier![1]!.extension![0]).toEqual(OTHER_EXT);
      expect(marksOn(out.identifier![1])).toHaveLength(1);
      expect(marksOn(out.identifier![1])[0]).toMatch(words);
      expect(out.identifier![0]).toBe(input.identifier![0]);
      expect(input.identifier![1]!.extension).toEqual([OTHER_EXT]); // the caller's object is not changed
    }
  });

  it('passes a Patient with nothing to mark through untouched', () => {
    const input: Patient = { resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: GOOD }], birthDate: '1985-03-07' };
    expect(check(input)).toBe(input);
    const year: Patient = { resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: GOOD }], birthDate: '1985' };
    expect(check(year)).toBe(year);
  });

  it('marks a birthDate that disagrees with the valid ID number on _birthDate, keeping both values', () => {
    const out = check({ resourceType: 'Patient', identifier: [{ system: RESIDENT_ID_SYSTEM, value: GOOD }], birthDate: '1985-07-03' });
    expect(out.birthDate).toBe('1985-07-03');
    expect(out.identifier![0]!.extension).toBeUndefined();
    expect(marksOn(out._birthDate)).toEqual([expect.stringMatching(/1985-07-03.*1985-03-07.*disagrees/)]);
  });

  it('recomputes marks on every write: the same mark once, a stale one dropped when the value is corrected', () => {
    const first = check({
      resourceType: 'Patient',
      identifier: [{ system: RESIDENT_ID_SYSTEM, value: BAD_CHECK }],
      birthDate: '1985-03-07',
    });
    const again = check(structuredClone(first));
    expect(again).toEqual(first);
    expect(marksOn(again.identifier![0])).toHaveLength(1);

    const corrected = structuredClone(first);
    corrected.identifier![0]!.value = GOOD;
    corrected._birthDate = { extension: [{ url: DATA_QUALITY_EXTENSION, valueString: 'old' }, OTHER_EXT] };
    const out = check(corrected);
    expect(out.identifier![0]).toEqual({ system: RESIDENT_ID_SYSTEM, value: GOOD });
    expect(out._birthDate).toEqual({ extension: [OTHER_EXT] });

    const onlyStale = check({
      resourceType: 'Patient',
      identifier: [{ system: RESIDENT_ID_SYSTEM, value: GOOD }],
      birthDate: '1985-03-07',
      _birthDate: { extension: [{ url: DATA_QUALITY_EXTENSION, valueString: 'old' }] },
    } as PatientJson);
    expect(onlyStale._birthDate).toBeUndefined();
  });

  it('still refuses what cannot be stored', () => {
    expect(() => check({ resourceType: 'Patient', birthDate: 19850307 } as unknown as Patient)).toThrow(HttpError);
    expect(() =>
      check({
        resourceType: 'Patient',
        identifier: [{ system: RESIDENT_ID_SYSTEM, value: BAD_CHECK, extension: [{ url: DATA_QUALITY_EXTENSION }] }],
      } as Patient),
    ).toThrow(/extension/);
  });
});
