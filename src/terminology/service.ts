/**
 * Writing mappings: one code mapped through the API (read the facility's ConceptMap, replace or
 * add the code's element, check, store a new version), or a whole ConceptMap sent by a client.
 * Each is one transaction with its audit event and the queue rows it settles; the change log then
 * carries the ConceptMap to the signal processors, which reload their lookup and re-derive the
 * signals of stored results with the newly mapped codes.
 */
import type { ConceptMap } from '@medplum/fhirtypes';
import type { AuditLog } from '../fhir/audit.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import { badRequest, notFound, unprocessable } from '../platform/errors.js';
import { checkConceptMap, conceptMapId, emptyConceptMap, mappingsOf, withMapping, type Mapping } from './concept-map.js';
import { isKnownTarget, KIND_TARGET_SYSTEM, terminologyTables, type TerminologyTables } from './kinds.js';
import type { MappingBody, MappingResult } from './schemas.js';
import { settleQueue } from './store.js';

export interface TerminologyDeps {
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
}

/** Throws 422 (an OperationOutcome with one issue per problem, each naming its element) when the ConceptMap breaks a mapping rule. */
export function refuseConceptMap(cm: ConceptMap, tables: TerminologyTables, options: { mappingGroupsOnly?: boolean } = {}): void {
  const problems = checkConceptMap(cm, tables, options);
  if (problems.length)
    throw unprocessable(
      `ConceptMap refused: ${problems.map((p) => `${p.expression}: ${p.text}`).join('; ')}`,
      problems.map((p) => ({
        severity: 'error',
        code: 'business-rule',
        diagnostics: p.text,
        details: { text: p.text },
        expression: [p.expression],
      })),
    );
}

async function readCurrent(client: Queryable, repo: FhirRepository, id: string): Promise<ConceptMap | undefined> {
  const r = await client.query('SELECT 1 FROM r_conceptmap WHERE id = $1', [id]);
  return r.rows.length ? ((await repo.read('ConceptMap', id, client)) as ConceptMap) : undefined;
}

const refuse = (cm: ConceptMap): void => refuseConceptMap(cm, terminologyTables());
const KIND_FILE = {
  lab: 'not in config/terminology/lab-tests.json',
  specimen: 'not in config/terminology/specimen-types.json',
  unit: 'not in config/terminology/units.json',
  diagnosis: 'not an ICD-10 code such as J10.1 or A09',
} as const;

/** Maps one source code (or marks it reviewed, target null) in the facility's ConceptMap for its kind (lab tests, specimen types, units or diagnoses). */
export async function applyMapping(deps: TerminologyDeps, user: AuthUser, input: MappingBody): Promise<MappingResult> {
  const { kind = 'lab', ...body } = input;
  if (!body.facility && !body.system) throw badRequest('facility: a code sent without a code system belongs to one facility; name it');
  if (body.target !== null && !isKnownTarget(terminologyTables(), kind, body.target))
    throw unprocessable(`target: unknown ${kind} target ${body.target} (${KIND_FILE[kind]})`, [
      { severity: 'error', code: 'code-invalid', diagnostics: `unknown ${kind} target ${body.target}`, expression: ['target'] },
    ]);
  const targetSystem = KIND_TARGET_SYSTEM[kind];
  const mapping: Mapping = { ...body, system: body.system ?? '', targetSystem };
  const id = conceptMapId(body.facility, mapping.system, targetSystem);
  return deps.db.transaction(async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ConceptMap/${id}`]);
    const current = (await readCurrent(c, deps.repo, id)) ?? emptyConceptMap(body.facility, mapping.system, targetSystem);
    const next = withMapping(current, mapping);
    refuse(next);
    const stored = await deps.repo.update('ConceptMap', id, next, {}, c);
    await deps.audit.recordNow(c, {
      user,
      action: stored.created ? 'C' : 'U',
      subtype: stored.created ? 'create' : 'update',
      entities: [`ConceptMap/${id}`],
      outcome: 'success',
    });
    const settled = await settleQueue(c, [mapping]);
    return { conceptMap: `ConceptMap/${id}`, version: stored.resource.meta!.versionId!, settled };
  });
}

/** Stores a whole ConceptMap (create, or update by id) after the mapping rules. */
export async function storeConceptMap(
  deps: TerminologyDeps,
  user: AuthUser,
  input: ConceptMap,
  id?: string,
): Promise<{ resource: ConceptMap; created: boolean; settled: number }> {
  refuse(input);
  return deps.db.transaction(async (c) => {
    let resource: ConceptMap;
    let created: boolean;
    if (id) {
      const r = await deps.repo.update('ConceptMap', id, { ...input, id }, {}, c);
      resource = r.resource as ConceptMap;
      created = r.created;
    } else {
      resource = (await deps.repo.create({ ...input, id: undefined }, c, 'ConceptMap')) as ConceptMap;
      created = true;
    }
    await deps.audit.recordNow(c, {
      user,
      action: created ? 'C' : 'U',
      subtype: created ? 'create' : 'update',
      entities: [`ConceptMap/${resource.id}`],
      outcome: 'success',
    });
    const settled = await settleQueue(c, mappingsOf(resource));
    return { resource, created, settled };
  });
}

export async function conceptMapOrThrow(deps: TerminologyDeps, id: string): Promise<ConceptMap> {
  const cm = await readCurrent(deps.db.pool, deps.repo, id);
  if (!cm) throw notFound(`ConceptMap/${id} not found`);
  return cm;
}
