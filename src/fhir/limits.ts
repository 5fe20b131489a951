/**
 * The bounds of the FHIR API, in one place. Every request is bounded: a search has a limited
 * number of parameters and OR values, includes, page size, chain depth and query length; every
 * JSON body a limited nesting depth, checked on the text before JSON.parse builds anything, so
 * the recursive walkers behind it (validation, reference rewriting, extraction) never meet a
 * structure deeper than they can walk. What goes past a bound is answered with an
 * OperationOutcome naming the bound: 413 (too-costly) for sizes, 400 for malformed input.
 *
 * Also here: what PostgreSQL cannot store as jsonb/text (NUL, unpaired UTF-16 surrogates), found
 * in strings and keys with the path of the field that holds them.
 */
import { isUtf8 } from 'node:buffer';
import { badRequest, HttpError } from '../platform/errors.js';

export const FHIR_LIMITS = {
  /** Comma-separated OR values in one search parameter (`name=a,b,c`). */
  searchOrValues: 100,
  /** Search parameters in one query, counting repeats (`name=a&name=b` is two) and result parameters. */
  searchParams: 50,
  /** `_include` plus `_revinclude` parameters in one query. */
  searchIncludes: 10,
  /** Rounds of `_include:iterate` / `_revinclude:iterate` (each round follows the previous one's results). */
  includeIterations: 3,
  /** Largest `_count` (page size). */
  searchCount: 1000,
  /** Levels of a chained parameter (`subject:Patient.organization.name` is two). */
  chainDepth: 2,
  /** Characters of a query string (GET) or form body (POST _search), names and values together. */
  queryLength: 16 * 1024,
  /** Nesting of arrays and objects in any JSON body, NDJSON line or Bundle file. */
  jsonDepth: 100,
} as const;

export const tooCostly = (msg: string) => new HttpError(413, msg, 'too-costly');

// ---------------------------------------------------------------------------------------------
// JSON nesting depth, on the text
// ---------------------------------------------------------------------------------------------

/**
 * The first position where the JSON text nests deeper than `max` arrays/objects, or -1. A linear
 * scan that jumps over strings with indexOf (most of a FHIR resource's text is in strings), so it
 * costs little next to JSON.parse; malformed text is left to JSON.parse to report. Skipped when
 * the text has too few openings to nest that deep.
 */
export function jsonDepthExceeded(text: string, max: number = FHIR_LIMITS.jsonDepth): number {
  if (!moreOpeningsThan(text, max)) return -1;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip to the closing quote: one not preceded by an odd number of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return -1;
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      i = j;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return i;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return -1;
}

/**
 * Whether the text holds more than `max` '{' and '[' together, strings included. Nesting cannot
 * go deeper than that count, so a text with no more than `max` of them needs no scan: most FHIR
 * resources (99 % of the Synthea sample at the limit of 100), found with a few dozen indexOf calls
 * (~0.45 µs a resource against ~1.8 µs for the scan). Stops counting once past `max`, so a large
 * Bundle costs no more than a small one here.
 */
function moreOpeningsThan(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++n > max) return true;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++n > max) return true;
  return false;
}

/** Throws 400 naming the limit when the JSON text nests deeper than the limit. */
export function assertJsonDepth(text: string, what = 'The JSON body'): void {
  const at = jsonDepthExceeded(text);
  if (at >= 0) throw jsonDepthError(what, at);
}

export function jsonDepthError(what: string, at?: number): HttpError {
  return badRequest(
    `${what} nests arrays/objects deeper than the limit of ${FHIR_LIMITS.jsonDepth} levels${at !== undefined ? ` (at character ${at})` : ''}`,
  );
}

/**
 * A JSON request body (the server's content-type parser for application/json and
 * application/fhir+json): valid UTF-8 (invalid bytes are refused, not silently replaced), nested
 * within the limit (checked on the text, before JSON.parse builds anything), then parsed.
 * An empty body is undefined.
 */
export function parseJsonBody(body: Buffer | string): unknown {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    if (!isUtf8(body)) throw badRequest('The body is not valid UTF-8; send valid UTF-16/UTF-8 text');
    text = body.toString('utf8');
  }
  if (text === '') return undefined;
  assertJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`Malformed JSON: ${(err as Error).message}`);
  }
}

/** Whether a parsed value nests deeper than `max` (iterative: safe on any depth). */
export function valueDepthExceeds(value: unknown, max: number = FHIR_LIMITS.jsonDepth): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Text PostgreSQL cannot store
// ---------------------------------------------------------------------------------------------

/** NUL or any surrogate code unit: a quick test; `textProblem` tells whether a surrogate is paired. */
const SUSPECT = /[\u0000\ud800-\udfff]/;

const hex4 = (c: number) => '\\u' + c.toString(16).padStart(4, '0');

/**
 * What PostgreSQL cannot store in a string: NUL (U+0000) or an unpaired surrogate, as a message
 * ("contains an unpaired surrogate (\ud800); send valid UTF-16/UTF-8 text"), or undefined.
 */
export function textProblem(s: string): string | undefined {
  if (!SUSPECT.test(s)) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains a NUL character (\\u0000), which cannot be stored; remove it';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains an unpaired surrogate (${hex4(c)}); send valid UTF-16/UTF-8 text`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `contains an unpaired surrogate (${hex4(c)}); send valid UTF-16/UTF-8 text`;
  }
  return undefined;
}

/**
 * The first string or key in a value that PostgreSQL cannot store, with its path
 * (`Patient.name[0].family`), or undefined. Iterative: safe on any depth.
 */
export function findUnstorableText(value: unknown, root: string): { path: string; problem: string } | undefined {
  // Nearly every resource is clean: look first without building a path per node (that walk
  // cost ~60 µs per resource on the bulk path), and name the field only when there is one.
  if (!hasSuspectText(value)) return undefined;
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        const keyProblem = textProblem(k);
        if (keyProblem) return { path: `${path} (property name ${JSON.stringify(k)})`, problem: keyProblem };
        stack.push([o[k], `${path}.${k}`]);
      }
    }
  }
  return undefined;
}

/** Whether any string or key in the value has a NUL or a surrogate (iterative, no allocation per string). */
function hasSuspectText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (SUSPECT.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (SUSPECT.test(k)) return true;
        stack.push(o[k]);
      }
    }
  }
  return false;
}

/** Throws 400 naming the field when a value holds text PostgreSQL cannot store. */
export function assertStorableText(value: unknown, root: string): void {
  const found = findUnstorableText(value, root);
  if (found) throw badRequest(`${found.path}: ${found.problem}`);
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

/**
 * The bounds of a search that can be checked before it is planned: query length, number of
 * parameters, includes, text that cannot be compared. OR values, `_count` and chains are checked
 * where they are parsed (search.ts).
 */
export function assertSearchBounds(params: [string, string][]): void {
  let length = 0;
  let includes = 0;
  for (const [name, value] of params) {
    length += name.length + value.length + 2;
    if (name.startsWith('_include') || name.startsWith('_revinclude')) includes++;
  }
  if (length > FHIR_LIMITS.queryLength)
    throw tooCostly(`The search is ${length} characters long; the limit is ${FHIR_LIMITS.queryLength} (query string or form body)`);
  if (params.length > FHIR_LIMITS.searchParams)
    throw tooCostly(
      `The search has ${params.length} parameters; the limit is ${FHIR_LIMITS.searchParams} per query (repeats count). Narrow it or split it.`,
    );
  if (includes > FHIR_LIMITS.searchIncludes)
    throw tooCostly(`The search has ${includes} _include/_revinclude parameters; the limit is ${FHIR_LIMITS.searchIncludes}`);
  for (const [name, value] of params) {
    const nameProblem = textProblem(name);
    if (nameProblem) throw badRequest(`Search parameter name ${JSON.stringify(name)}: ${nameProblem}`);
    const valueProblem = textProblem(value);
    if (valueProblem) throw badRequest(`Search parameter '${name}': ${valueProblem}`);
  }
}

/** Throws 413 naming the parameter when an OR list is longer than the limit. */
export function assertOrValues(name: string, count: number): void {
  if (count > FHIR_LIMITS.searchOrValues)
    throw tooCostly(
      `Search parameter '${name}' has ${count} comma-separated values; the limit is ${FHIR_LIMITS.searchOrValues} per parameter`,
    );
}
