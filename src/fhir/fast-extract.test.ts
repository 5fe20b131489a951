/**
 * The compiled extractor against the reference (extract.ts, medplum's FHIRPath evaluator): the
 * same columns and values, in the same order, for every resource of the shared R4 examples and
 * Synthea data, and for seeded random mutations of them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpus, prng, type Sample } from './test-corpus.js';
import { getTypeDef, loadDefinitions } from './definitions.js';
import { extractSearchValues, type ColumnValue } from './extract.js';
import { compileExtractor, describeExtractor, fastExtractSearchValues, fastExtractStats } from './fast-extract.js';

/** Extraction result, or the class of the error it threw. */
function run(fn: () => Record<string, ColumnValue>): Record<string, ColumnValue> | string {
  try {
    return fn();
  } catch (err) {
    return `throws ${(err as Error).constructor.name}`;
  }
}

function sortedColumns(values: Record<string, ColumnValue>): Record<string, ColumnValue> {
  const out: Record<string, ColumnValue> = {};
  for (const [k, v] of Object.entries(values)) out[k] = Array.isArray(v) ? (([...v] as (string | number)[]).sort() as ColumnValue) : v;
  return out;
}

function differences(a: Record<string, ColumnValue>, b: Record<string, ColumnValue>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !isDeepStrictEqual(a[k], b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])} ≠ ${JSON.stringify(b[k])}`);
}

let samples: Sample[];

beforeAll(() => {
  loadDefinitions();
  samples = corpus();
});

describe('compiled search-value extraction', () => {
  it('compiles every R4 search parameter expression', () => {
    const interpreted: string[] = [];
    let compiled = 0;
    for (const def of loadDefinitions().values()) {
      for (const p of describeExtractor(def)) {
        if (p.compiled) compiled++;
        else interpreted.push(`${def.type}.${p.code}: ${p.expression}`);
      }
    }
    expect(interpreted).toEqual([]);
    expect(compiled).toBeGreaterThan(1500);
  });

  it('gives exactly the reference columns for every resource of the shared data', () => {
    expect(samples.length).toBeGreaterThan(5000);
    const bailouts = fastExtractStats.bailouts;
    const diffs: string[] = [];
    let orderOnly = 0;
    for (const { src, resource } of samples) {
      const ref = extractSearchValues(resource);
      const fast = fastExtractSearchValues(resource);
      if (isDeepStrictEqual(ref, fast)) continue;
      if (isDeepStrictEqual(sortedColumns(ref), sortedColumns(fast))) orderOnly++;
      diffs.push(`${src} (${resource.resourceType}): ${differences(ref, fast).join('; ')}`);
    }
    expect(orderOnly, 'resources whose values differ only in order').toBe(0);
    expect(diffs).toEqual([]);
    // The primitive extensions of a few examples (_family, _birthDate, ...) go to medplum.
    expect(fastExtractStats.bailouts - bailouts).toBeLessThan(50);
  });

  it('gives the reference columns (or the same error) for seeded random mutations', () => {
    const rand = prng(20240601);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const replacements: unknown[] = [null, '', ' ', 0, 1.5, true, 'text', '2020-02-30', '2019-13', [], {}, [{}], { text: 'x' }, [1, 'a']];
    const diffs: string[] = [];
    for (let n = 0; n < 1500; n++) {
      const { src, resource } = pick(samples);
      const r = structuredClone(resource) as unknown as Record<string, unknown>;
      // Pick a random property somewhere in the resource and replace, wrap, unwrap or delete it.
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (o: unknown): void => {
        if (!o || typeof o !== 'object') return;
        if (Array.isArray(o)) return o.forEach(walk);
        for (const [k, v] of Object.entries(o)) {
          if (k !== 'resourceType') slots.push([o as Record<string, unknown>, k]);
          walk(v);
        }
      };
      walk(r);
      if (!slots.length) continue;
      const [obj, key] = pick(slots);
      const action = n % 4;
      if (action === 0) obj[key] = structuredClone(pick(replacements));
      else if (action === 1) obj[key] = Array.isArray(obj[key]) ? (obj[key] as unknown[])[0] : [obj[key]];
      else if (action === 2) delete obj[key];
      else obj['_' + key] = pick([{ extension: [{ url: 'http://example.org', valueString: 'x' }] }, { id: 'a' }]);
      const ref = run(() => extractSearchValues(structuredClone(r) as unknown as Resource));
      const fast = run(() => fastExtractSearchValues(r as unknown as Resource));
      if (!isDeepStrictEqual(ref, fast)) {
        diffs.push(
          `${src} ${key}: ${typeof ref === 'string' || typeof fast === 'string' ? `${String(ref)} vs ${String(fast)}` : differences(ref, fast).join('; ')}`,
        );
      }
    }
    expect(diffs).toEqual([]);
  });

  it('reproduces medplum FHIRPath semantics that differ from the FHIR specification', () => {
    const condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/p1' },
      onsetDateTime: '2020-05-04T10:00:00+08:00',
      abatementAge: { value: 3, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' },
    } as unknown as Resource;
    const fast = fastExtractSearchValues(condition);
    expect(fast).toEqual(extractSearchValues(condition));
    // medplum's .as(string) does not filter: the dateTime is indexed as onset-info too.
    expect(fast['p_onset_info']).toEqual(['2020-05-04T10:00:00+08:00']);
    // `abatement.as(Age) | abatement.as(Range)` yields the same Age twice; the union keeps one.
    expect(fast['p_abatement_age']).toEqual([3]);
    expect(fast['p_onset_date_lo']).toBe('2020-05-04T02:00:00.000Z');
    // Seconds precision: the upper bound is the end of that second.
    expect(fast['p_onset_date_hi']).toBe('2020-05-04T02:00:00.999Z');

    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'bp' },
      subject: { identifier: { system: 'urn:sys', value: '42' } },
      effectiveDateTime: '2021-03',
      component: [
        { code: { text: 'sys' }, valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { text: 'dia' }, valueQuantity: { value: 120.004, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    } as unknown as Resource;
    const o = fastExtractSearchValues(obs);
    expect(o).toEqual(extractSearchValues(obs));
    // Union duplicate removal uses FHIRPath quantity equivalence (values within 0.01, same unit):
    // two components of 120 and 120.004 mmHg index one number.
    expect(o['p_combo_value_quantity']).toEqual([120]);
    expect(o['p_component_value_quantity']).toEqual([120]);
    // An identifier-only reference is indexed as a placeholder (medplum's :missing support).
    expect(o['p_subject']).toEqual(['identifier:urn:sys|42']);
    expect(o['p_patient']).toBeNull();
    // Partial dates span their whole precision.
    expect([o['p_date_lo'], o['p_date_hi']]).toEqual(['2021-03-01T00:00:00.000Z', '2021-03-31T23:59:59.999Z']);

    // `deceased.exists() and deceased != false` is false, not empty, without deceased[x].
    const patient = { resourceType: 'Patient', id: 'p', name: [{ family: '张', given: ['伟'] }] } as unknown as Resource;
    const p = fastExtractSearchValues(patient);
    expect(p).toEqual(extractSearchValues(patient));
    expect(p['p_deceased']).toEqual(['|false', 'false']);
    expect(p['p_name']).toEqual(['伟 张', '张伟']);
  });

  it('hands primitive extensions on the path to medplum and still matches', () => {
    const patient = {
      resourceType: 'Patient',
      birthDate: '1970-01-01',
      _birthDate: {
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1970-01-01T08:00:00+08:00' }],
      },
      name: [{ family: 'Li', _family: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }, given: ['Lei'] }],
    } as unknown as Resource;
    const before = fastExtractStats.bailouts;
    expect(fastExtractSearchValues(patient)).toEqual(extractSearchValues(patient));
    expect(fastExtractStats.bailouts).toBeGreaterThan(before);
  });

  it('compiles per type definition', () => {
    const extract = compileExtractor(getTypeDef('Encounter')!);
    const enc = samples.find((s) => s.resource.resourceType === 'Encounter')!.resource;
    expect(extract(enc)).toEqual(extractSearchValues(enc));
  });
});
