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
import type { MappingBody, MappingResult } from './schemas.js';
import { settleQueue } from './store.js';
import { LAB_TEST_SYSTEM, labTables } from './targets.js';

export interface TerminologyDeps {
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
}

function refuse(cm: ConceptMap): void {
  const problems = checkConceptMap(cm, labTables());
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

/** Maps one source code (or marks it reviewed, target null) in the facility's ConceptMap for lab tests. */
export async function applyMapping(deps: TerminologyDeps, user: AuthUser, body: MappingBody): Promise<MappingResult> {
  if (!body.facility && !body.system) throw badRequest('facility: a code sent without a code system belongs to one facility; name it');
  if (body.target !== null && !labTables().byCode.has(body.target))
    throw unprocessable(`target: unknown lab-test code ${body.target} (not in config/terminology/lab-tests.json)`, [
      { severity: 'error', code: 'code-invalid', diagnostics: `unknown lab-test code ${body.target}`, expression: ['target'] },
    ]);
  const mapping: Mapping = { ...body, system: body.system ?? '', targetSystem: LAB_TEST_SYSTEM };
  const id = conceptMapId(body.facility, mapping.system, LAB_TEST_SYSTEM);
  return deps.db.transaction(async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ConceptMap/${id}`]);
    const current = (await readCurrent(c, deps.repo, id)) ?? emptyConceptMap(body.facility, mapping.system, LAB_TEST_SYSTEM);
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
