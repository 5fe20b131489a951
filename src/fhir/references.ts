/**
 * Existence of the resources local references point at ("Patient/123"), checked for a whole
 * request in one query: every reference of every resource written is collected, and one
 * UNION ALL over the target types' tables says which exist. Contained ("#x"), absolute
 * (another server's URL), urn:uuid and conditional references are not local and are left alone,
 * as are references to resources the same request writes (`known`).
 *
 * References to master data (MASTER_DATA_TYPES) are not checked for existence.
 *
 * Who checks (per source): REST create/update/conditional update and transaction/batch Bundles
 * do by default; bulk import does not (its files arrive in any order); HL7 transactions
 * (processTransactionOn) only when asked.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { getTypeDef } from './definitions.js';

/**
 * Master data: organisations, practitioners, places, households and products are registered by
 * the district (or arrive later from their own source) and clinical records cite them first.
 * Refusing a visit because its hospital's Organization is not registered yet would lose the
 * visit, so references to these types are not required to exist; references between clinical
 * records (Patient, Encounter, Observation, …) are.
 */
export const MASTER_DATA_TYPES: ReadonlySet<string> = new Set([
  'Organization',
  'OrganizationAffiliation',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'HealthcareService',
  'Group',
  'CareTeam',
  'Device',
  'Endpoint',
  'Medication',
  'Substance',
]);

const LOCAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export interface LocalReference {
  type: string;
  id: string;
  /** Where it is: `Observation.subject`. */
  path: string;
}

/** The local references of a resource (iterative walk: safe on any depth). */
export function localReferences(resource: unknown, root: string, into: LocalReference[] = []): LocalReference[] {
  if (typeof resource !== 'object' || resource === null) return into;
  const stack: [unknown, string][] = [[resource, root]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' && v[i] !== null) stack.push([v[i], `${path}[${i}]`]);
      continue;
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === 'object' && x !== null) {
        // A contained resource's references are to its container's world too, but stay in it.
        stack.push([x, `${path}.${k}`]);
      } else if (k === 'reference' && typeof x === 'string') {
        const m = LOCAL.exec(x);
        if (m && getTypeDef(m[1]!)) into.push({ type: m[1]!, id: m[2]!, path });
      }
    }
  }
  return into;
}

/**
 * Throws 400 naming the first reference whose target does not exist ("Observation.subject:
 * Patient/nope does not exist"). One query for all references of all resources.
 */
export async function assertReferencesExist(client: Queryable, resources: Resource[], known: Set<string> = new Set()): Promise<void> {
  const refs: LocalReference[] = [];
  for (const r of resources) localReferences(r, String(r?.resourceType ?? 'Resource'), refs);
  const wanted = new Map<string, Set<string>>();
  for (const ref of refs) {
    if (known.has(`${ref.type}/${ref.id}`) || MASTER_DATA_TYPES.has(ref.type)) continue;
    let ids = wanted.get(ref.type);
    if (!ids) wanted.set(ref.type, (ids = new Set()));
    ids.add(ref.id);
  }
  if (!wanted.size) return;
  const args: unknown[] = [];
  const parts: string[] = [];
  for (const [type, ids] of wanted) {
    args.push([...ids]);
    // Table names come from the R4 definitions only.
    parts.push(`SELECT '${type}' AS t, id FROM ${getTypeDef(type)!.table} WHERE id = ANY($${args.length}::text[])`);
  }
  const found = await client.query<{ t: string; id: string }>(parts.join(' UNION ALL '), args);
  const present = new Set(found.rows.map((r) => `${r.t}/${r.id}`));
  const missing = refs.filter(
    (r) => !known.has(`${r.type}/${r.id}`) && !MASTER_DATA_TYPES.has(r.type) && !present.has(`${r.type}/${r.id}`),
  );
  if (missing.length) {
    const list = missing.slice(0, 10).map((r) => `${r.path}: ${r.type}/${r.id} does not exist`);
    throw badRequest(list.join('; ') + (missing.length > 10 ? `; and ${missing.length - 10} more` : ''));
  }
}
