/**
 * Keeps portrait_resident in step with the FHIR store: every Patient written or deleted (FHIR
 * API, HL7, imports, hospital feeds) replaces its row. Idempotent, so at-least-once delivery is
 * safe.
 */
import type { Patient } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { replaceResidents, residentOf, type PortraitResidentRow } from './store.js';

export function residentProcessor(): Processor {
  return {
    name: 'portrait-residents',
    types: ['Patient'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) latest.set(c.id, c);
      const rows: PortraitResidentRow[] = [];
      for (const c of latest.values()) if (!c.deleted && c.resource) rows.push(residentOf(c.resource as Patient));
      await replaceResidents(client, [...latest.keys()], rows);
    },
  };
}
