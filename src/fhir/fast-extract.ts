/* eslint-disable @typescript-eslint/no-explicit-any -- compiled walkers over arbitrary FHIR JSON in the hot path; the verdicts are tested for equivalence with @medplum/core */
/**
 * Compiled search-value extraction: the same output as `extractSearchValues` (extract.ts) without
 * interpreting FHIRPath for every resource.
 *
 * Each search parameter's expression is parsed once with @medplum/core's parser and its syntax
 * tree is turned into JavaScript closures: property steps (with the element's R4 type taken from
 * the StructureDefinitions medplum indexed, including choice types such as `effective[x]`), type
 * filters (`as X`, `ofType(X)`), `.as(X)` (which medplum treats as a no-op), `where(...)` over
 * `resolve() is T` / `system = 'phone'` style criteria, `[n]`, unions (with FHIRPath duplicate
 * removal), `exists()`, `and`, `=`, `!=` and `is`. Anything else is not compiled: the parameter
 * keeps using medplum's evaluator on the cached parse tree.
 *
 * The compiled steps reproduce what medplum's evaluator returns — the same typed values in the
 * same order, including its departures from the FHIRPath specification (`.as(X)` keeps every type,
 * `a | b` removes FHIRPath-equal duplicates such as quantities within 0.01, `resolve()` only looks
 * at the reference string) — and the conversion to columns follows extract.ts and medplum's
 * convertToSearchable* step by step (tokens, references and date ranges inline, with a memo of the
 * date-to-instant conversions; strings through medplum's typedValueToString), so the output is
 * identical, array order included. Inputs the compiled steps do not model exactly (primitive
 * extension siblings such as `_birthDate` on the path, nulls, property names no schema defines)
 * make the step bail out and that parameter is evaluated by medplum for that resource.
 */
import {
  AndAtom,
  AsAtom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  IsAtom,
  LiteralAtom,
  NotEqualsAtom,
  SymbolAtom,
  UnionAtom,
  capitalize,
  convertToSearchableQuantities,
  evalFhirPathTyped,
  fhirPathArrayEquals,
  fhirPathArrayNotEquals,
  fhirPathIs,
  getElementDefinition,
  isReference,
  isResource,
  isResourceWithId,
  parseFhirPath,
  removeDuplicates,
  singleton,
  toJsBoolean,
  toTypedValue,
  typedValueToString,
  validationRegexes,
  type Atom,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { getTypeDef, loadDefinitions, type ResourceTypeDef, type SearchParamDef } from './definitions.js';
import type { ColumnValue } from './extract.js';

/** Thrown by a compiled step when the input is outside what it models; the caller falls back. */
const BAIL: unique symbol = Symbol('bail');

/** Thrown at compile time for syntax the compiler does not handle. */
class Unsupported extends Error {}

type Item = TypedValue;
type Emit = (type: string, value: any) => void;
/** A per-item step: maps one input item to zero or more outputs, passed to `next`. */
type Op = (type: string, value: any, next: Emit) => void;
/** A collection-level function, the shape of a FHIRPath atom's eval. */
type Coll = (input: Item[]) => Item[];
/** Reads one property of an object of a known FHIR type. */
type Accessor = (obj: any, next: Emit) => void;

const FAR_PAST = '0001-01-01T00:00:00Z';
const FAR_FUTURE = '9999-12-31T23:59:59Z';

/**
 * medplum's isEmpty for JSON values: undefined, null, '', [] and {} are empty (without building a
 * key array for objects).
 */
function isEmptyJson(v: any): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v !== 'object') return false;
  if ('length' in v && v.length > 0) return false;
  for (const _ in v) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Property access, as medplum's getTypedPropertyValueWithSchema does it.
// ---------------------------------------------------------------------------------------------

const accessorCache = new Map<string, Accessor | null>();

function accessorFor(type: string, name: string): Accessor | null {
  const key = type + '\u0000' + name;
  let acc = accessorCache.get(key);
  if (acc === undefined) {
    acc = buildAccessor(type, name);
    accessorCache.set(key, acc);
  }
  return acc;
}

function buildAccessor(type: string, name: string): Accessor | null {
  const element = getElementDefinition(type, name);
  // No schema element: medplum guesses without a schema; we leave that to medplum.
  if (!element) return null;
  const types = element.type ?? [];
  if (types.length === 0) return () => {};
  const last = element.path.substring(element.path.lastIndexOf('.') + 1);
  const cands = types.map((t) => {
    const prop = last.replace('[x]', capitalize(t.code));
    const code = t.code === 'Element' || t.code === 'BackboneElement' ? types[0]!.code : t.code;
    return { prop, ext: '_' + prop, code, resource: code === 'Resource' };
  });
  const emitValue = (code: string, asResource: boolean, value: any, next: Emit): void => {
    if (isEmptyJson(value)) return;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item === undefined) continue;
        if (item === null) throw BAIL;
        next(asResource && isResource(item) ? item.resourceType : code, item);
      }
    } else {
      next(asResource && isResource(value) ? value.resourceType : code, value);
    }
  };
  if (cands.length === 1) {
    const { prop, ext, code, resource } = cands[0]!;
    return (obj, next) => {
      const value = obj[prop];
      if (obj[ext] !== undefined) throw BAIL;
      if (value !== undefined) emitValue(code, resource, value, next);
    };
  }
  return (obj, next) => {
    for (const c of cands) {
      const value = obj[c.prop];
      if (obj[c.ext] !== undefined) throw BAIL;
      if (value !== undefined) {
        emitValue(c.code, c.resource, value, next);
        return;
      }
    }
  };
}

/** A property step (medplum's SymbolAtom on one item). */
function propertyOp(name: string): Op {
  let lastType = '';
  let lastAcc: Accessor | null = null;
  return (type, value, next) => {
    if (!value || typeof value !== 'object') return;
    if (value.resourceType === name) {
      // `Patient.name`: the leading type name selects the resource itself.
      next(type, value);
      return;
    }
    let acc: Accessor | null;
    if (type === lastType && lastAcc) {
      acc = lastAcc;
    } else {
      acc = accessorFor(type, name);
      lastType = type;
      lastAcc = acc;
    }
    if (!acc) throw BAIL;
    acc(value, next);
  };
}

/** `x as T` and `ofType(T)`: keep items whose type is exactly T (medplum's ofType). */
function typeFilterOp(typeAtom: Atom): Op {
  if (!(typeAtom instanceof SymbolAtom)) return () => {};
  const name = typeAtom.name;
  return (type, value, next) => {
    if (type === name) next(type, value);
  };
}

/** medplum's resolve(): a placeholder typed by the referenced resource type. */
const resolveOp: Op = (_type, value, next) => {
  let refStr: string | undefined;
  if (typeof value === 'string') {
    refStr = value;
  } else if (typeof value === 'object' && value !== null) {
    if (value.resource) {
      const tv = toTypedValue(value.resource);
      if (tv.value) next(tv.type, tv.value);
      return;
    }
    if (value.reference) refStr = value.reference;
    else if (value.type && value.identifier) refStr = `${value.type}?identifier=${value.identifier.system}|${value.identifier.value}`;
  }
  if (refStr?.includes('?')) {
    const [resourceType] = refStr.split('?');
    next(resourceType!, { resourceType });
    return;
  }
  if (refStr?.includes('/')) {
    const [resourceType, id] = refStr.split('/');
    next(resourceType!, { resourceType, id });
  }
};

/** `where(criteria)`: specialised for `resolve() is T` and `prop = 'literal'`, generic otherwise. */
function whereOp(criteria: Atom): Op {
  // resolve() is T
  if (
    criteria instanceof IsAtom &&
    criteria.left instanceof FunctionAtom &&
    criteria.left.name === 'resolve' &&
    criteria.left.args.length === 0 &&
    criteria.right instanceof SymbolAtom
  ) {
    const target = criteria.right.name;
    let hit: Item | undefined;
    let count = 0;
    const collect: Emit = (type, value) => {
      count++;
      hit = { type, value };
    };
    return (type, value, next) => {
      count = 0;
      hit = undefined;
      resolveOp(type, value, collect);
      if (count === 1 && fhirPathIs(hit!, target)) next(type, value);
    };
  }
  // prop = 'literal'
  if (criteria instanceof EqualsAtom && criteria.left instanceof SymbolAtom && criteria.right instanceof LiteralAtom) {
    const prop = propertyOp(criteria.left.name);
    const literal = [criteria.right.value];
    const matches: Item[] = [];
    const collect: Emit = (type, value) => {
      matches.push({ type, value });
    };
    return (type, value, next) => {
      matches.length = 0;
      prop(type, value, collect);
      if (matches.length === 1 && toJsBoolean(fhirPathArrayEquals(matches, literal))) next(type, value);
    };
  }
  const pred = compileColl(criteria);
  return (type, value, next) => {
    if (toJsBoolean(pred([{ type, value }]))) next(type, value);
  };
}

/** The per-item steps of an atom, or null when it is not a pure per-item chain. */
function chainOf(atom: Atom): Op[] | null {
  if (atom instanceof FhirPathAtom) return chainOf(atom.child);
  if (atom instanceof SymbolAtom) {
    if (atom.name.startsWith('%')) throw new Unsupported(atom.name);
    return atom.name === '$this' ? [] : [propertyOp(atom.name)];
  }
  if (atom instanceof DotAtom) {
    const left = chainOf(atom.left);
    const right = left && chainOf(atom.right);
    return left && right ? [...left, ...right] : null;
  }
  if (atom instanceof AsAtom) {
    const left = chainOf(atom.left);
    return left ? [...left, typeFilterOp(atom.right)] : null;
  }
  if (atom instanceof FunctionAtom) {
    switch (atom.name) {
      case 'as':
        return [];
      case 'ofType':
        if (atom.args.length !== 1) throw new Unsupported('ofType');
        return [typeFilterOp(atom.args[0]!)];
      case 'where':
        if (atom.args.length !== 1) throw new Unsupported('where');
        return [whereOp(atom.args[0]!)];
      case 'resolve':
        return [resolveOp];
      default:
        return null;
    }
  }
  return null;
}

function chainColl(ops: Op[]): Coll {
  if (ops.length === 0) return (input) => input;
  // A chain is never re-entered while it runs (a where() criteria compiles to chains of its own),
  // so one output slot per chain is enough; a bail-out leaves it to be reset by the next run.
  let out: Item[] = [];
  let k: Emit = (type, value) => {
    out.push({ type, value });
  };
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    const next = k;
    k = (type, value) => op(type, value, next);
  }
  const first = k;
  return (input) => {
    out = [];
    for (const item of input) first(item.type, item.value);
    return out;
  };
}

const TRUE: Item[] = [{ type: 'boolean', value: true }];
const FALSE: Item[] = [{ type: 'boolean', value: false }];

/** Compiles an atom to a collection function with medplum's semantics; throws Unsupported. */
function compileColl(atom: Atom): Coll {
  const chain = chainOf(atom);
  if (chain) return chainColl(chain);
  if (atom instanceof FhirPathAtom) return compileColl(atom.child);
  if (atom instanceof UnionAtom) {
    const left = compileColl(atom.left);
    const right = compileColl(atom.right);
    return (input) => removeDuplicates([...left(input), ...right(input)]);
  }
  if (atom instanceof DotAtom) {
    const left = compileColl(atom.left);
    const rightChain = chainOf(atom.right);
    const right = rightChain ? chainColl(rightChain) : compileColl(atom.right);
    return (input) => right(left(input));
  }
  if (atom instanceof AsAtom) {
    const left = compileColl(atom.left);
    const filter = chainColl([typeFilterOp(atom.right)]);
    return (input) => filter(left(input));
  }
  if (atom instanceof IndexerAtom) {
    if (!(atom.expr instanceof LiteralAtom) || typeof atom.expr.value.value !== 'number') throw new Unsupported('indexer');
    const index = atom.expr.value.value;
    const left = compileColl(atom.left);
    return (input) => {
      const result = left(input);
      return index in result ? [result[index]!] : [];
    };
  }
  if (atom instanceof LiteralAtom) {
    const value = [atom.value];
    return () => value;
  }
  if (atom instanceof FunctionAtom && atom.name === 'exists' && atom.args.length === 0) {
    return (input) => (input.length > 0 && input.every((e) => !isEmptyJson(e.value)) ? TRUE : FALSE);
  }
  if (atom instanceof IsAtom && atom.right instanceof SymbolAtom) {
    const left = compileColl(atom.left);
    const name = atom.right.name;
    return (input) => {
      const values = left(input);
      if (values.length !== 1) return [];
      return fhirPathIs(values[0]!, name) ? TRUE : FALSE;
    };
  }
  if (atom instanceof EqualsAtom || atom instanceof NotEqualsAtom) {
    const left = compileColl(atom.left);
    const right = compileColl(atom.right);
    const op = atom instanceof EqualsAtom ? fhirPathArrayEquals : fhirPathArrayNotEquals;
    return (input) => op(left(input), right(input));
  }
  if (atom instanceof AndAtom) {
    const left = compileColl(atom.left);
    const right = compileColl(atom.right);
    return (input) => {
      const l = singleton(left(input), 'boolean');
      const r = singleton(right(input), 'boolean');
      if (l?.value === true && r?.value === true) return TRUE;
      if (l?.value === false || r?.value === false) return FALSE;
      return [];
    };
  }
  throw new Unsupported(atom.constructor.name);
}

// ---------------------------------------------------------------------------------------------
// Per-parameter evaluation and conversion to columns (same code path as extract.ts).
// ---------------------------------------------------------------------------------------------

interface CompiledParam {
  param: SearchParamDef;
  column: string;
  /**
   * The column names of a date's range and a quantity's units, made once: built per resource
   * (`${column}_lo`), each was a new string that every store into the result had to look up.
   */
  lo: string;
  hi: string;
  unit: string;
  ast: FhirPathAtom;
  /** Null when the expression is evaluated by medplum for every resource. */
  fast: Coll | null;
}

/** Counters for tests and benchmarks. */
export const fastExtractStats = { compiled: 0, interpreted: 0, bailouts: 0 };

function compileParam(param: SearchParamDef): CompiledParam {
  const ast = parseFhirPath(param.expression);
  let fast: Coll | null = null;
  try {
    fast = compileColl(ast);
    fastExtractStats.compiled++;
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    fastExtractStats.interpreted++;
  }
  const column = param.column!;
  return { param, column, lo: `${column}_lo`, hi: `${column}_hi`, unit: `${column}_unit`, ast, fast };
}

function interpret(ast: FhirPathAtom, resource: Resource): Item[] {
  try {
    return evalFhirPathTyped(ast, [toTypedValue(resource)]);
  } catch {
    return [];
  }
}

function evaluate(p: CompiledParam, resource: Resource, root: Item[]): Item[] {
  if (!p.fast) return interpret(p.ast, resource);
  try {
    return p.fast(root);
  } catch (err) {
    if (err === BAIL) {
      fastExtractStats.bailouts++;
      return interpret(p.ast, resource);
    }
    // medplum's evaluator failed the same way; extract.ts treats that as no values.
    return [];
  }
}

/** Describes how each parameter of a type is evaluated: compiled, or by medplum's FHIRPath. */
export function describeExtractor(def: ResourceTypeDef): { code: string; expression: string; compiled: boolean }[] {
  return [...def.params.values()]
    .filter((p) => p.column)
    .map((p) => {
      let compiled = true;
      try {
        compileColl(parseFhirPath(p.expression));
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        compiled = false;
      }
      return { code: p.code, expression: p.expression, compiled };
    });
}

export function compileExtractor(def: ResourceTypeDef): (resource: Resource) => Record<string, ColumnValue> {
  loadDefinitions();
  const params = [...def.params.values()].filter((p) => p.column).map(compileParam);
  return (resource) => {
    const out: Record<string, ColumnValue> = {};
    // toTypedValue's guesses come before the resource type; a resource with a numeric `value`
    // would be typed as a Quantity. Leave such oddities to the reference path.
    const rootType = typeof (resource as { value?: unknown }).value === 'number' ? undefined : resource.resourceType;
    const root: Item[] = [{ type: rootType ?? '', value: resource }];
    for (const p of params) {
      const values = rootType ? evaluate(p, resource, root) : interpret(p.ast, resource);
      convert(p, values, out);
    }
    return out;
  };
}

const extractors = new Map<string, (resource: Resource) => Record<string, ColumnValue>>();

/** Drop-in replacement for `extractSearchValues(resource)`, with the compiled extractor per type. */
export function fastExtractSearchValues(resource: Resource): Record<string, ColumnValue> {
  let extractor = extractors.get(resource.resourceType);
  if (!extractor) {
    const def = getTypeDef(resource.resourceType);
    if (!def) throw new Error(`Unknown resource type ${resource.resourceType}`);
    extractor = compileExtractor(def);
    extractors.set(resource.resourceType, extractor);
  }
  return extractor(resource);
}

function convert(compiled: CompiledParam, values: Item[], out: Record<string, ColumnValue>): void {
  const column = compiled.column;
  switch (compiled.param.kind) {
    case 'string': {
      if (values.length === 0) {
        out[column] = null;
        break;
      }
      // convertToSearchableStrings, then extract.ts's HumanName additions.
      const strings: string[] = [];
      for (const v of values) {
        const str = typedValueToString(v);
        if (str) pushUnique(strings, str);
      }
      for (const v of values) {
        if (v.type !== 'HumanName' || !v.value || typeof v.value !== 'object') continue;
        const name = v.value as { text?: string; family?: string; given?: string[] };
        if (name.text) pushUnique(strings, name.text);
        if (name.family && name.given?.length) pushUnique(strings, name.family + name.given.join(''));
      }
      out[column] = strings.length ? strings : null;
      break;
    }
    case 'token': {
      if (values.length === 0) {
        out[column] = null;
        break;
      }
      const entries: string[] = [];
      for (const v of values) {
        if (v.type === 'boolean' && typeof v.value === 'boolean') addToken(entries, undefined, String(v.value));
        else addTokens(entries, v);
      }
      out[column] = entries.length ? entries : null;
      break;
    }
    case 'reference': {
      if (values.length === 0) {
        out[column] = null;
        break;
      }
      const refs: string[] = [];
      for (const { value } of values) {
        if (!value) continue;
        let ref: string | undefined;
        if (typeof value === 'string') ref = value;
        else if (isReference(value)) ref = value.reference;
        else if (isResourceWithId(value)) ref = `${value.resourceType}/${value.id}`;
        else if (typeof value.identifier === 'object') ref = `identifier:${value.identifier.system}|${value.identifier.value}`;
        if (ref && !ref.startsWith('#')) pushUnique(refs, ref);
      }
      out[column] = refs.length ? refs : null;
      break;
    }
    case 'uri': {
      const uris: string[] = [];
      for (const v of values) if (typeof v.value === 'string') pushUnique(uris, v.value);
      out[column] = uris.length ? uris : null;
      break;
    }
    case 'date': {
      let lo: string | null = null;
      let hi: string | null = null;
      for (const v of values) {
        const per = searchablePeriod(v.value);
        if (!per) continue;
        const s = per[0] ?? FAR_PAST;
        const e = per[1] ?? FAR_FUTURE;
        if (lo === null || s < lo) lo = s;
        if (hi === null || e > hi) hi = e;
      }
      out[compiled.lo] = lo;
      out[compiled.hi] = hi;
      break;
    }
    case 'number': {
      const nums: number[] = [];
      for (const v of values) {
        const n = Number(v.value);
        if (Number.isFinite(n)) nums.push(n);
      }
      out[column] = nums.length ? nums : null;
      break;
    }
    case 'quantity': {
      const nums: number[] = [];
      const units: string[] = [];
      if (values.length) {
        for (const q of convertToSearchableQuantities(values)) {
          if (typeof q.value === 'number') nums.push(q.value);
          if (q.code !== undefined && q.code !== '') {
            pushUnique(units, `${q.system ?? ''}|${q.code}`);
            pushUnique(units, q.code);
          }
          if (q.unit) pushUnique(units, q.unit);
        }
      }
      out[column] = nums.length ? nums : null;
      out[compiled.unit] = units.length ? units : null;
      break;
    }
  }
}

/** Appends unless already present (the arrays are short; extract.ts dedupes with a Set). */
function pushUnique<T>(xs: T[], x: T): void {
  if (!xs.includes(x)) xs.push(x);
}

/** extract.ts's tokenEntries, appended in place without duplicates. */
function addToken(entries: any[], system: string | undefined, value: any): void {
  // medplum's buildSimpleToken drops a token with neither system nor value.
  if (!system && !value) return;
  if (value === undefined || value === '') return;
  pushUnique(entries, `${system ?? ''}|${value}`);
  pushUnique(entries, value);
}

/** medplum's buildTokens (convertToSearchableTokens with no context) feeding addToken. */
function addTokens(entries: any[], { type, value }: Item): void {
  switch (type) {
    case 'Identifier':
      if (value?.type?.text) addToken(entries, undefined, value.type.text);
      addToken(entries, value?.system, value?.value);
      break;
    case 'CodeableConcept':
      if (value?.text) addToken(entries, undefined, value.text);
      if (value?.coding) for (const coding of value.coding) addCodingToken(entries, coding);
      break;
    case 'Coding':
      addCodingToken(entries, value);
      break;
    case 'ContactPoint':
      if (value) addToken(entries, value.system, value.value?.toLocaleLowerCase());
      break;
    default:
      addToken(entries, undefined, value?.toString());
  }
}

function addCodingToken(entries: any[], coding: any): void {
  if (!coding) return;
  if (coding.display) addToken(entries, undefined, coding.display);
  addToken(entries, coding.system, coding.code);
}

// --- dates: medplum's toPeriod, with the instant conversions memoised ---------------------------

const LOW_FILL = '0000-01-01T00:00:00.000';
const HIGH_FILL = 'xxxx-12-31T23:59:59.999';
const dateRegex = validationRegexes.date!;
const dateTimeRegex = validationRegexes.dateTime!;
const periodCache = new Map<string, [string, string]>();

/** [start, end] as medplum's toPeriod computes them (either may be undefined for a Period). */
function searchablePeriod(input: any): [string | undefined, string | undefined] | undefined {
  if (!input) return undefined;
  if (typeof input === 'string') {
    const cached = periodCache.get(input);
    if (cached) return cached;
    if (!dateRegex.test(input) && !dateTimeRegex.test(input)) return undefined;
    const result: [string, string] = [toInstant(input, LOW_FILL), toInstant(input, HIGH_FILL)];
    if (periodCache.size > 50_000) periodCache.clear();
    periodCache.set(input, result);
    return result;
  }
  // isPeriod: an object whose start or end is a dateTime string.
  if (
    typeof input === 'object' &&
    (('start' in input && typeof input.start === 'string' && dateTimeRegex.test(input.start)) ||
      ('end' in input && typeof input.end === 'string' && dateTimeRegex.test(input.end)))
  ) {
    return [input.start ? instantOf(input.start, 0) : undefined, input.end ? instantOf(input.end, 1) : undefined];
  }
  return undefined;
}

function instantOf(s: string, side: 0 | 1): string {
  const cached = periodCache.get(s);
  if (cached) return cached[side];
  return toInstant(s, side === 0 ? LOW_FILL : HIGH_FILL);
}

/** medplum's dateStringToInstantString: fill the missing precision, normalise to UTC. */
function toInstant(input: string, fill: string): string {
  let timezone = 'Z';
  const tz = Math.max(input.indexOf('+', 10), input.indexOf('-', 10));
  if (tz > -1) {
    timezone = input.substring(tz);
    input = input.substring(0, tz);
  } else if (input.endsWith('Z')) {
    input = input.substring(0, input.length - 1);
  }
  return new Date(input + fill.substring(input.length) + timezone).toISOString();
}
