/**
 * The compiled validator against medplum's `validateResource`: the same verdict for every
 * resource of the shared R4 examples and Synthea data, and for seeded random mutations of them
 * (medplum rejects ⇒ the fast validator rejects; the reverse only for the documented cases).
 */
import { OperationOutcomeError, getElementDefinitionFromElements, isPrimitiveType, tryGetDataType, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpus, prng, type Sample } from './test-corpus.js';
import { loadDefinitions } from './definitions.js';
import { assertValidResource, compileValidator, constraintCrossCheck, fastValidateResource, fastValidateStats } from './fast-validate.js';
import { slowProfileIssues } from './profile-checks.js';

/**
 * The reference verdict: medplum's error issues plus those of the schema walk for what medplum
 * does not check (required bindings, reference targets, text PostgreSQL cannot store); [] when
 * valid. medplum may modify what it validates, so it gets a copy.
 */
function medplum(resource: unknown): string[] {
  const extra = slowProfileIssues(resource as Resource).map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
  try {
    validateResource(structuredClone(resource) as Resource);
    return extra;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return [
        ...(err.outcome.issue ?? []).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text}`),
        ...extra,
      ];
    }
    return [String(err), ...extra];
  }
}

function fast(resource: unknown): OperationOutcomeIssue[] {
  return fastValidateResource(resource as Resource);
}

// --- a schema-aware view of a resource, for targeted mutations ----------------------------------

interface Node {
  obj: Record<string, unknown>;
  type: string;
  path: string;
}
interface Slot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  value: unknown;
  type: string;
  path: string;
}

function explore(resource: Resource): { nodes: Node[]; slots: Slot[]; leaves: Slot[] } {
  const nodes: Node[] = [];
  const slots: Slot[] = [];
  const leaves: Slot[] = [];
  const walk = (obj: Record<string, unknown>, type: string, at: string): void => {
    const schema = tryGetDataType(type);
    if (!schema) return;
    nodes.push({ obj, type, path: at });
    for (const key of Object.keys(obj)) {
      if (key === 'resourceType' || key.startsWith('_')) continue;
      const el = getElementDefinitionFromElements(schema.elements, key);
      if (!el) continue;
      const last = el.path.slice(el.path.lastIndexOf('.') + 1);
      const code = el.type.find((t) => last.replace('[x]', t.code[0]!.toUpperCase() + t.code.slice(1)) === key)?.code ?? el.type[0]!.code;
      const value = obj[key];
      slots.push({ holder: obj, key, value, type: code, path: `${at}.${key}` });
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, i) => {
        const p = Array.isArray(value) ? `${at}.${key}[${i}]` : `${at}.${key}`;
        if (isPrimitiveType(code))
          leaves.push({
            holder: Array.isArray(value) ? value : obj,
            key: Array.isArray(value) ? i : key,
            value: item,
            type: code,
            path: p,
          });
        else if (item && typeof item === 'object')
          walk(item as Record<string, unknown>, code === 'Resource' ? (item as Resource).resourceType : code, p);
      });
    }
  };
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType);
  return { nodes, slots, leaves };
}

type Mutation = (r: Resource, pick: <T>(xs: T[]) => T) => string | undefined;

const set = (s: Slot, v: unknown): void => {
  (s.holder as Record<string | number, unknown>)[s.key] = v;
};

/** The mutations of the brief: each returns a description, or undefined when it does not apply. */
const MUTATIONS: Record<string, Mutation> = {
  'delete required element': (r, pick) => {
    const found: [Node, string][] = [];
    for (const n of explore(r).nodes) {
      for (const [key, el] of Object.entries(tryGetDataType(n.type)!.elements)) {
        if (el.min < 1) continue;
        const base = key.replace('[x]', '');
        for (const k of Object.keys(n.obj))
          if (k === base || (key.endsWith('[x]') && k.startsWith(base) && /^[A-Z]/.test(k.slice(base.length)))) found.push([n, k]);
      }
    }
    if (!found.length) return undefined;
    const [n, k] = pick(found);
    delete n.obj[k];
    delete n.obj['_' + k];
    return `delete ${n.path}.${k}`;
  },
  'add unknown property': (r, pick) => {
    const n = pick(explore(r).nodes);
    const key = pick(['foo', 'unknownElement', 'extra_1', 'Status', 'valeur', 'notes']);
    n.obj[key] = pick([1, 'x', { a: 1 }, [1], true]);
    return `add ${n.path}.${key}`;
  },
  'number <-> string': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => ['number', 'string', 'boolean'].includes(typeof l.value));
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = typeof l.value === 'string' ? pick([42, 0, -1.5, true]) : String(l.value);
    set(l, v);
    return `retype ${l.path} -> ${JSON.stringify(v)}`;
  },
  'object <-> array': (r, pick) => {
    const slots = explore(r).slots.filter((s) => s.value && typeof s.value === 'object');
    if (!slots.length) return undefined;
    const s = pick(slots);
    set(s, Array.isArray(s.value) ? s.value[0] : [s.value]);
    return `reshape ${s.path}`;
  },
  'invalid date': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => ['date', 'dateTime', 'instant', 'time'].includes(l.type));
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = pick([
      '2020-13-01',
      'not-a-date',
      '2020-02-30T25:00:00Z',
      '2020/01/01',
      '20200101',
      '2020-01-01T10:00',
      '2020-1-1',
      '2020-01-01T10:00:00',
    ]);
    set(l, v);
    return `date ${l.path} -> ${v}`;
  },
  'wrong contained resourceType': (r, pick) => {
    const nested = explore(r).nodes.filter((n) => n.path !== r.resourceType && typeof n.obj['resourceType'] === 'string');
    if (!nested.length) return undefined;
    const n = pick(nested);
    const v = pick(['Patient', 'Observation', 'Foo', 'HumanName', 'Medication', 'Organization', 'Practitioner', 'DomainResource']);
    n.obj['resourceType'] = v;
    return `resourceType ${n.path} -> ${v}`;
  },
};

/** Harsher probes: nulls and empties, primitive extensions, bad primitives, extensions, choice types. */
const PROBES: Record<string, Mutation> = {
  'null or empty': (r, pick) => {
    const s = pick(explore(r).slots);
    const v = pick([null, '', '  ', [], {}, [null], [{}], ['']]);
    set(s, structuredClone(v));
    return `set ${s.path} -> ${JSON.stringify(v)}`;
  },
  'delete any element': (r, pick) => {
    const s = pick(explore(r).slots);
    delete (s.holder as Record<string, unknown>)[s.key];
    return `delete ${s.path}`;
  },
  'primitive extension': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => typeof l.key === 'string');
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = pick([
      { extension: [{ url: 'http://x', valueString: 'a' }] },
      { id: 'a' },
      {},
      [{ id: 'a' }],
      { extension: [{ url: 'http://x' }] },
      { foo: 1 },
    ]);
    (l.holder as Record<string, unknown>)['_' + String(l.key)] = structuredClone(v);
    return `_ext ${l.path} -> ${JSON.stringify(v)}`;
  },
  'bad primitive': (r, pick) => {
    const l = pick(explore(r).leaves);
    const v = pick(['a b', ' ', 'x\u0001y', -1, 0, 1.5, 'http://a b', '1e5', 2147483648, 'ok']);
    set(l, v);
    return `prim ${l.path} (${l.type}) -> ${JSON.stringify(v)}`;
  },
  extension: (r, pick) => {
    const n = pick(explore(r).nodes);
    const v = pick([
      [{ url: 'http://x', valueString: 'a', extension: [{ url: 'y', valueCode: 'b' }] }],
      [{ url: 'http://x' }],
      [{ valueString: 'a' }],
      [{ url: 'http://x', valueQuantity: { value: 'a' } }],
      [{ url: 'http://x', valueString: 'a' }],
      [{ url: 'http://x', valuePeriod: { start: '2020-01-01', end: '2019' } }],
    ]);
    n.obj['extension'] = structuredClone(v);
    return `extension ${n.path} -> ${JSON.stringify(v)}`;
  },
  'choice type': (r, pick) => {
    const slots = explore(r).slots.filter((s) => /[a-z][A-Z]/.test(String(s.key)));
    if (!slots.length) return undefined;
    const s = pick(slots);
    const key = String(s.key).replace(/[A-Z].*$/, '') + pick(['String', 'Foo', 'Boolean', 'Integer', 'DateTime', 'CodeableConcept']);
    const v = pick(['x', true, 5, { text: 'a' }, '2020-01-01']);
    (s.holder as Record<string, unknown>)[key] = v;
    return `choice ${s.path} + ${key}=${JSON.stringify(v)}`;
  },
};

/** Required bindings, reference targets and unstorable text: the compiled checks against the schema walk. */
const PROFILE_MUTATIONS: Record<string, Mutation> = {
  'code outside its value set': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => l.type === 'code' && typeof l.value === 'string');
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = pick(['bogus', 'not-a-gender', 'FINAL', 'x-y']);
    set(l, v);
    return `code ${l.path} -> ${v}`;
  },
  'reference to another type': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => String(l.path).endsWith('.reference') && typeof l.value === 'string');
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = `${pick(['Observation', 'Basic', 'Library', 'Patient', 'Substance'])}/x1`;
    set(l, v);
    return `reference ${l.path} -> ${v}`;
  },
  'unstorable text': (r, pick) => {
    const leaves = explore(r).leaves.filter((l) => typeof l.value === 'string');
    if (!leaves.length) return undefined;
    const l = pick(leaves);
    const v = String(l.value) + pick(['\u0000', '\ud800', '\udfff', '\ud83d']);
    set(l, v);
    return `text ${l.path} -> ${JSON.stringify(v)}`;
  },
};

/**
 * Where the fast validator is stricter than medplum on purpose (see fast-validate.ts): the issue
 * texts it uses for those cases.
 */
const DOCUMENTED_STRICTER = [
  /^Conflicting choice of type properties/,
  /^Invalid additional property "[a-z][a-zA-Z]*[A-Z][a-zA-Z]*"$/, // unknown choice-type suffix next to a valid one
  /^Primitive extension must (be an object|have the shape of its value)/,
  /^Invalid JSON type: expected \S+ object, but got (number|boolean)$/,
  /^Invalid JSON type: expected \S+, but got (object|array)$/,
  /^Missing resourceType$/,
  /^Unknown data type: /,
];

function mutate(samples: Sample[], mutations: Record<string, Mutation>, count: number, seed: number) {
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const kinds = Object.keys(mutations);
  const counts: Record<string, Record<string, number>> = {};
  const refOnly: string[] = [];
  const fastOnly: { text: string; line: string }[] = [];
  let done = 0;
  for (let attempt = 0; done < count && attempt < count * 20; attempt++) {
    const kind = kinds[done % kinds.length]!;
    const { src, resource } = pick(samples);
    const r = structuredClone(resource);
    const what = mutations[kind]!(r, pick);
    if (!what) continue;
    done++;
    const refIssues = medplum(r);
    const fastIssues = fast(r);
    const verdict =
      !refIssues.length === !fastIssues.length
        ? refIssues.length
          ? 'both reject'
          : 'both accept'
        : refIssues.length
          ? 'only medplum rejects'
          : 'only fast rejects';
    counts[kind] ??= {};
    counts[kind][verdict] = (counts[kind][verdict] ?? 0) + 1;
    if (verdict === 'only medplum rejects') refOnly.push(`${src}: ${what} | medplum: ${refIssues.slice(0, 2).join('; ')}`);
    if (verdict === 'only fast rejects')
      fastOnly.push({ text: fastIssues[0]!.details!.text!, line: `${src}: ${what} | fast: ${fastIssues[0]!.details!.text}` });
  }
  return { counts, refOnly, fastOnly, done };
}

let samples: Sample[];

beforeAll(() => {
  loadDefinitions();
  samples = corpus();
});

describe('compiled validation', () => {
  it('accepts every resource of the shared data, as medplum does, with the same invariant results', () => {
    expect(samples.length).toBeGreaterThan(5000);
    constraintCrossCheck.enabled = true;
    constraintCrossCheck.mismatches.length = 0;
    const fallbacks = fastValidateStats.fallbacks;
    try {
      const disagreements: string[] = [];
      for (const { src, resource } of samples) {
        const ref = medplum(resource);
        const issues = fast(resource);
        if (ref.length || issues.length)
          disagreements.push(`${src}: medplum ${JSON.stringify(ref)} fast ${JSON.stringify(issues.map((i) => i.details?.text))}`);
      }
      expect(disagreements).toEqual([]);
      expect(constraintCrossCheck.mismatches).toEqual([]);
      expect(fastValidateStats.fallbacks).toBe(fallbacks);
    } finally {
      constraintCrossCheck.enabled = false;
    }
  });

  it('rejects whatever medplum rejects among seeded mutations of the shared data', () => {
    const { counts, refOnly, fastOnly, done } = mutate(samples, MUTATIONS, 3000, 7);
    console.info(`[fast-validate] ${done} mutations: ${JSON.stringify(counts)}`);
    expect(refOnly).toEqual([]);
    // For these mutations the verdicts agree the other way too.
    expect(fastOnly.map((f) => f.line)).toEqual([]);
    for (const kind of Object.keys(MUTATIONS)) expect(counts[kind]?.['both reject'] ?? 0, kind).toBeGreaterThan(300);
  });

  it('rejects whatever medplum rejects among harsher probes, stricter only where documented', () => {
    const { counts, refOnly, fastOnly, done } = mutate(samples, PROBES, 1800, 11);
    console.info(`[fast-validate] ${done} probes: ${JSON.stringify(counts)}`);
    expect(refOnly).toEqual([]);
    expect(fastOnly.filter((f) => !DOCUMENTED_STRICTER.some((re) => re.test(f.text))).map((f) => f.line)).toEqual([]);
  });

  it('agrees with the schema walk on required bindings, reference targets and unstorable text', () => {
    const { counts, refOnly, fastOnly, done } = mutate(samples, PROFILE_MUTATIONS, 1500, 13);
    console.info(`[fast-validate] ${done} profile mutations: ${JSON.stringify(counts)}`);
    expect(refOnly).toEqual([]);
    expect(fastOnly.map((f) => f.line)).toEqual([]);
    for (const kind of Object.keys(PROFILE_MUTATIONS)) expect(counts[kind]?.['both reject'] ?? 0, kind).toBeGreaterThan(100);
  });

  it('reports issues the way medplum does', () => {
    const issues = fast({
      resourceType: 'Patient',
      gender: 'male ',
      birthDate: '1970-02-30x',
      name: [{ given: ['A', 5] }],
      contact: [{ gender: 'female' }],
      multipleBirthInteger: 1.5,
      foo: 1,
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'value',
      expression: ['Patient.gender'],
      details: { text: 'Invalid code format' },
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'value',
      expression: ['Patient.birthDate'],
      details: { text: 'Invalid date format' },
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'structure',
      expression: ['Patient.name[0].given[1]'],
      details: { text: 'Invalid JSON type: expected string, but got number' },
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'invariant',
      expression: ['Patient.contact[0]'],
      details: { text: "Constraint pat-1 not met: SHALL at least contain a contact's details or a reference to an organization" },
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'value',
      expression: ['Patient.multipleBirth[x]'],
      details: { text: 'Expected number to be an integer' },
    });
    expect(issues).toContainEqual({
      severity: 'error',
      code: 'structure',
      expression: ['Patient.foo'],
      details: { text: 'Invalid additional property "foo"' },
    });
    expect(fast({ resourceType: 'Observation', code: { text: 'x' } })).toEqual([
      { severity: 'error', code: 'required', expression: ['Observation.status'], details: { text: 'Missing required property' } },
    ]);
    expect(() => assertValidResource({ resourceType: 'Observation' } as Resource)).toThrow(OperationOutcomeError);
    expect(() => assertValidResource(samples[0]!.resource)).not.toThrow();
    expect(compileValidator('Patient')({ resourceType: 'Patient', active: 'yes' } as unknown as Resource)).toHaveLength(1);
  });

  it('agrees with medplum on primitive extensions, nulls and empty values', () => {
    const cases: unknown[] = [
      {
        resourceType: 'Patient',
        birthDate: '1970-01-01',
        _birthDate: { extension: [{ url: 'http://x', valueDateTime: '1970-01-01T08:00:00Z' }] },
      },
      { resourceType: 'Patient', _birthDate: { extension: [{ url: 'http://x', valueString: 'unknown' }] } },
      { resourceType: 'Patient', _birthDate: { foo: 1 } },
      { resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, { extension: [{ url: 'http://x', valueString: 'b' }] }] }] },
      { resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, null] }] },
      { resourceType: 'Patient', gender: '' },
      { resourceType: 'Patient', gender: '  ' },
      { resourceType: 'Patient', gender: null },
      { resourceType: 'Patient', name: [] },
      { resourceType: 'Patient', name: [{}] },
      { resourceType: 'Patient', name: [{ given: [''] }] },
      { resourceType: 'Patient', deceasedDateTime: '' },
      { resourceType: 'Patient', extension: [{ url: 'http://x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }] },
      { resourceType: 'Patient', extension: [{ url: 'http://x' }] },
      { resourceType: 'Patient', contained: [{ resourceType: 'Foo' }] },
      { resourceType: 'Patient', contained: [{ resourceType: 'Patient', contained: [{ resourceType: 'Patient' }] }] },
      { resourceType: 'Patient', contained: [{ resourceType: 'Patient', meta: { versionId: '1' } }] },
      {
        resourceType: 'Claim',
        status: 'active',
        type: { text: 't' },
        use: 'claim',
        patient: { reference: 'Patient/1' },
        created: '2020',
        provider: { reference: 'Organization/1' },
        priority: { text: 'p' },
        insurance: [{ sequence: 1, _sequence: {}, focal: true, coverage: { reference: 'Coverage/1' } }],
      },
      {
        resourceType: 'Condition',
        subject: { reference: 'Patient/1' },
        abatementDateTime: '2020',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      },
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', dataAbsentReason: { text: 'b' } },
      {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ fullUrl: 'urn:a' }, { fullUrl: 'http://x/Patient/1/_history/1', resource: { resourceType: 'Patient' } }],
      },
    ];
    for (const c of cases) expect(!fast(c).length, JSON.stringify(c)).toBe(!medplum(c).length);
  });

  it('is stricter than medplum on malformed JSON medplum lets through', () => {
    const stricter: unknown[] = [
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: 5 },
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueFoo: 1 },
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueInteger: 2 },
      { resourceType: 'Patient', contained: [{ id: 'x' }] },
      { resourceType: 'Patient', contained: [{ resourceType: 'HumanName', family: 'x' }] },
      { resourceType: 'Patient', constructor: 1 },
      { resourceType: 'Observation', status: 'final', code: { text: 'x', resourceType: 'Z' } },
      { resourceType: 'Patient', birthDate: { id: 'a' } },
      { resourceType: 'Patient', gender: 'male', _gender: '' },
      { resourceType: 'Patient', name: [{ family: 'x' }], _name: [{ id: 'a' }] },
    ];
    for (const c of stricter) {
      expect(medplum(c), JSON.stringify(c)).toEqual([]);
      expect(fast(c).length, JSON.stringify(c)).toBeGreaterThan(0);
    }
  });

  it('hands primitive extension arrays of another length than their values to medplum', () => {
    const before = fastValidateStats.fallbacks;
    const r = { resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [{ id: 'x' }] }] };
    expect(!fast(r).length).toBe(!medplum(r).length);
    expect(fastValidateStats.fallbacks).toBe(before + 1);
  });
});
