/**
 * The compiled lookup a change-log processor keeps: the current ConceptMaps compiled into one
 * TerminologyIndex, loaded on first use and again whenever the processor's batch holds a
 * ConceptMap change (the change log orders map writes and results, so every result after a map
 * was written is resolved with it; results before it are re-derived by the processor).
 */
import type { ConceptMap } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import type { ChangeRecord } from '../platform/processors.js';
import { mappingsOf, type Mapping } from './concept-map.js';
import { TerminologyIndex } from './resolve.js';
import { currentConceptMaps } from './store.js';
import { labTables } from './targets.js';

export interface LabResolver {
  /** The index current for this batch of changes. */
  current(client: Queryable, changes: readonly ChangeRecord[]): Promise<TerminologyIndex>;
  /** Mappings held by the ConceptMap versions in the batch (what a batch's map writes changed). */
  changedMappings(changes: readonly ChangeRecord[]): Mapping[];
}

export function createLabResolver(): LabResolver {
  let index: TerminologyIndex | undefined;
  return {
    async current(client, changes) {
      if (!index || changes.some((c) => c.type === 'ConceptMap'))
        index = new TerminologyIndex(labTables(), await currentConceptMaps(client));
      return index;
    },
    changedMappings(changes) {
      return changes.flatMap((c) => (c.type === 'ConceptMap' && c.resource && !c.deleted ? mappingsOf(c.resource as ConceptMap) : []));
    },
  };
}
