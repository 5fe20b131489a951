/**
 * Keeps inv_stay in step with the FHIR store: every Encounter written or deleted (FHIR API, HL7
 * ADT, hospital CSV feeds) has its stays recomputed (stays.ts), so co-stay candidates are one
 * index range per place. Idempotent: a change replaces the encounter's rows.
 */
import type { Encounter } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { staysOf, type StayRow } from './stays.js';
import { replaceStays } from './store.js';

export function stayProcessor(): Processor {
  return {
    name: 'investigation-stays',
    types: ['Encounter'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) latest.set(c.id, c);
      const rows: StayRow[] = [];
      for (const c of latest.values()) if (!c.deleted && c.resource) rows.push(...staysOf(c.resource as Encounter));
      await replaceStays(client, [...latest.keys()], rows);
    },
  };
}
