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
import { terminologyTables } from './kinds.js';
import { TerminologyIndex } from './resolve.js';
import { conceptMapVersion, currentConceptMaps } from './store.js';

export interface LabResolver {
  /** The index current for this batch of changes. */
  current(client: Queryable, changes: readonly ChangeRecord[]): Promise<TerminologyIndex>;
  /** Mappings held by the ConceptMap versions in the batch (what a batch's map writes changed). */
  changedMappings(changes: readonly ChangeRecord[]): Mapping[];
  /**
   * What the batch's ConceptMap versions changed against each one's previous version: mappings
   * added or given another target, and (target null) mappings removed, or all of a deleted or
   * retired map's mappings. A map written again unchanged changes nothing.
   */
  changedSincePrevious(client: Queryable, changes: readonly ChangeRecord[]): Promise<Mapping[]>;
}

const mappingKey = (m: Mapping) => `${m.targetSystem}\u0000${m.facility}\u0000${m.system}\u0000${m.code}`;

export function createLabResolver(): LabResolver {
  let index: TerminologyIndex | undefined;
  return {
    async current(client, changes) {
      if (!index || changes.some((c) => c.type === 'ConceptMap'))
        index = new TerminologyIndex(terminologyTables(), await currentConceptMaps(client));
      return index;
    },
    changedMappings(changes) {
      return changes.flatMap((c) => (c.type === 'ConceptMap' && c.resource && !c.deleted ? mappingsOf(c.resource as ConceptMap) : []));
    },
    async changedSincePrevious(client, changes) {
      const out = new Map<string, Mapping>();
      for (const c of changes) {
        if (c.type !== 'ConceptMap') continue;
        const now = c.resource && !c.deleted ? mappingsOf(c.resource as ConceptMap) : [];
        const prevMap = c.versionId > 1 ? await conceptMapVersion(client, c.id, c.versionId - 1) : undefined;
        const before = new Map((prevMap ? mappingsOf(prevMap) : []).map((m) => [mappingKey(m), m]));
        for (const m of now) {
          const old = before.get(mappingKey(m));
          before.delete(mappingKey(m));
          if (!old || old.target !== m.target) out.set(mappingKey(m), m);
        }
        for (const [k, m] of before) out.set(k, { ...m, target: null });
      }
      return [...out.values()];
    },
  };
}
