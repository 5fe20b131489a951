import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DATA_QUALITY_EXTENSION } from '../shared/data-quality.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { processHl7Message } from './handler.js';
import { parseHl7 } from './parser.js';
import { toFhir, type ToFhirResult } from './to-fhir/index.js';
import { validateBundle } from './test-support.js';

const GOOD = makeIdNumber('330102', '1990-01-01', 123);
const BAD = `${GOOD.slice(0, 17)}${GOOD[17] === '0' ? '1' : '0'}`;

const adt = (pid3: string, id = 'DQ1') =>
  [
    `MSH|^~\\&|HIS|HOSPDQ|YIFANG|339902|20260101095100+0800||ADT^A04^ADT_A01|${id}|P|2.5|||||CHN|UNICODE UTF-8`,
    'EVN|A04|20260101095100+0800',
    `PID|1||${pid3}||王^五||19900101|M`,
    'PV1|1|O|general^^^HOSPDQ||||||||||||||||||V1',
  ].join('\r') + '\r';

const patientOf = (r: ToFhirResult) => r.bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource as Patient;

describe('HL7 v2 resident ID numbers that fail GB 11643', () => {
  it('keeps the value as sent with a data-quality mark, never as the resident system or the key', () => {
    const r = toFhir(parseHl7(adt(`X9^^^HOSPDQ^MR~${BAD}^^^^NNCHN`)));
    expect(validateBundle(r.bundle)).toEqual([]);
    const ids = patientOf(r).identifier!;
    const marked = ids.find((i) => i.value === BAD)!;
    expect(marked.system).toBeUndefined();
    expect(marked.type?.coding?.[0]?.code).toBe('NI');
    expect(marked.extension).toEqual([{ url: DATA_QUALITY_EXTENSION, valueString: expect.stringMatching(/校验码错误.*check character/) }]);
    expect(ids.some((i) => i.system === RESIDENT_ID_SYSTEM)).toBe(false);
    expect(r.fieldWarnings).toEqual([
      {
        message: expect.stringMatching(/PID-3\[2\].*failed validation/),
        location: { segment: 'PID', occurrence: 1, field: 3, repetition: 2 },
      },
    ]);
    // Only a failing number is marked: a valid one is the resident system, unmarked, and no warning.
    const ok = toFhir(parseHl7(adt(`X9^^^HOSPDQ^MR~${GOOD}^^^^NNCHN`)));
    expect(patientOf(ok).identifier!.find((i) => i.value === GOOD)).not.toHaveProperty('extension');
    expect(ok.fieldWarnings).toBeUndefined();
  });

  it('with the resident-id key and no MRN, a failing number is no key: the message is refused, not merged on it', () => {
    expect(() => toFhir(parseHl7(adt(`${BAD}^^^^NNCHN`)), { patientKey: 'resident-id' })).toThrow(/no usable patient identifier/);
  });

  it('answers AA with an ERR of severity W naming PID-3 and its repetition', async () => {
    let stored: ToFhirResult | undefined;
    const outcome = await processHl7Message(Buffer.from(adt(`X9^^^HOSPDQ^MR~${BAD}^^^^NNCHN`)), {
      store: async (result) => {
        stored = result;
      },
    });
    expect(stored).toBeDefined();
    const segments = outcome.ack.text.split('\r').filter(Boolean);
    const msa = segments.find((s) => s.startsWith('MSA|'))!.split('|');
    expect(msa[1]).toBe('AA');
    expect(msa[3]).toMatch(/accepted with a warning/);
    const errs = segments.filter((s) => s.startsWith('ERR|')).map((s) => s.split('|'));
    expect(errs).toHaveLength(1);
    const err = errs[0]!;
    expect(err[2]).toBe('PID^1^3^2'); // ERR-2 location: segment, occurrence, field, repetition
    expect(err[3]).toBe('102^Data type error^HL70357');
    expect(err[4]).toBe('W');
    expect(err[8]).toMatch(/PID-3\[2\].*resident ID number failed validation/);
    // A clean message still gets a bare AA.
    const clean = await processHl7Message(Buffer.from(adt(`X9^^^HOSPDQ^MR~${GOOD}^^^^NNCHN`, 'DQ2')), { store: async () => undefined });
    expect(clean.ack.text).not.toMatch(/\rERR\|/);
    expect(clean.ack.ackCode).toBe('AA');
  });
});
