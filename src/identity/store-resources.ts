/**
 * Bulk write of the resources the index derives (Person, household Group): one version lookup per
 * type and the repository's multi-row upsert, instead of one read-modify-write per resource,
 * which made the Person and Group writes cost ~20 times the linking itself.
 */
import type { Queryable } from '../platform/db.js';
import type { Resource } from '@medplum/fhirtypes';
import { prepareBulkRow, writeNewBulkRows, type BulkRow } from '../fhir/bulk-write.js';
import { getTypeDef } from '../fhir/definitions.js';
import { groupBy, prepareRow, writeRows, type PreparedRow } from '../fhir/repository.js';
import { validateFhirResource } from '../fhir/validate.js';
import type { Database } from '../platform/db.js';

/**
 * Creates or updates these resources (ids set, at most one per id) as new versions, in the
 * caller's transaction. `newIds`: ids the caller has just minted, stored as version 1 without
 * looking them up.
 */
export async function storeResources(
  db: Database,
  client: Queryable,
  resources: Resource[],
  newIds: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (!resources.length) return;
  const now = new Date().toISOString();
  const rows: PreparedRow[] = [];
  // First versions go the bulk way (COPY lines, no bind parameters): during a registration burst
  // nearly every Person and household Group is new, and binding their ~60 columns each cost
  // more than linking them. That needs the transaction's own connection.
  const bulk = 'release' in client ? client : undefined;
  const fresh: BulkRow[] = [];
  for (const [type, list] of groupBy(resources, (r) => r.resourceType)) {
    const def = getTypeDef(type)!;
    const ids = list.map((r) => r.id!).filter((id) => !newIds.has(id));
    const current = ids.length
      ? (
          await client.query<{ id: string; version_id: number }>(
            `SELECT id, version_id FROM ${def.table} WHERE id = ANY($1::text[]) FOR UPDATE`,
            [ids],
          )
        ).rows
      : [];
    const version = new Map(current.map((r) => [r.id, Number(r.version_id)]));
    // A deleted resource comes back with the version after its deletion.
    const missing = ids.filter((id) => !version.has(id));
    if (missing.length) {
      const h = await client.query<{ id: string; v: number }>(
        'SELECT id, max(version_id) AS v FROM resource_history WHERE resource_type = $1 AND id = ANY($2::text[]) GROUP BY id',
        [type, missing],
      );
      for (const r of h.rows) version.set(r.id, Number(r.v));
    }
    for (const r of list) {
      const valid = validateFhirResource(r, type);
      const previous = version.get(r.id!);
      if (previous === undefined && bulk) fresh.push(prepareBulkRow({ ...valid, id: r.id } as Resource, now, { text: true }));
      else
        rows.push(
          prepareRow({
            ...valid,
            id: r.id,
            meta: { ...(valid.meta ?? {}), versionId: String((previous ?? 0) + 1), lastUpdated: now },
          } as Resource),
        );
    }
  }
  if (bulk && fresh.length) await writeNewBulkRows(db, bulk, fresh);
  if (rows.length) await writeRows(client, rows);
}
