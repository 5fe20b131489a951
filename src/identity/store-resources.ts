/**
 * Bulk write of the resources the index derives (Person, household Group): one statement finds
 * and locks the stored versions of every type, first versions go in the bulk way (COPY lines)
 * and later ones as multi-row upserts, instead of one read-modify-write per resource, which had
 * made the Person and Group writes cost ~20 times the linking itself.
 *
 * The resources are not run through the FHIR validator: they are built here (mpi.ts,
 * household.ts) from fields of Patients that were validated when they were stored, and
 * identity.test.ts checks that what the builders produce validates. Validating them again cost
 * about a seventh of the processor's time.
 */
import type { Queryable } from '../platform/db.js';
import type { Resource } from '@medplum/fhirtypes';
import { prepareBulkRow, type BulkRow } from '../fhir/bulk-write.js';
import { copyNewRows, lockVersions, type StoredVersion } from '../fhir/derived-writes.js';
import { groupBy, prepareRow, writeRows, type PreparedRow } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';

export { deleteCurrent, lockVersions, type StoredVersion } from '../fhir/derived-writes.js';

/** Ids of these resources by type, leaving out `except` (ids just minted, which nothing stores yet). */
export function idsByType(resources: Resource[], except: ReadonlySet<string> = new Set()): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [type, list] of groupBy(resources, (r) => r.resourceType))
    out.set(
      type,
      list.map((r) => r.id!).filter((id) => !except.has(id)),
    );
  return out;
}

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
  await writeVersions(db, client, resources, await lockVersions(client, idsByType(resources, newIds)));
}

/**
 * Writes each resource as the version after the one `versions` holds for it (keys `Type/id`;
 * absent: never stored, so version 1).
 */
export async function writeVersions(
  db: Database,
  client: Queryable,
  resources: Resource[],
  versions: ReadonlyMap<string, StoredVersion>,
): Promise<void> {
  const writes = new VersionWrites(db, client);
  for (const r of resources) writes.add(r, versions.get(`${r.resourceType}/${r.id}`));
  await writes.write();
}

/**
 * Resources prepared one by one (the CPU part: search values, COPY lines or bind values) and
 * written together, so that the preparing can happen while the database works on something else.
 */
export class VersionWrites {
  private readonly fresh: BulkRow[] = [];
  private readonly rows: PreparedRow[] = [];
  private readonly now = new Date().toISOString();

  constructor(
    private readonly db: Database,
    private readonly client: Queryable,
  ) {}

  /** Prepares a resource as the version after `stored` (undefined: never stored, so version 1). */
  add(resource: Resource, stored: StoredVersion | undefined): void {
    // First versions go the bulk way (COPY lines, no bind parameters): during a registration burst
    // nearly every Person and household Group is new, and binding their ~60 columns each cost
    // more than linking them. That needs the transaction's own connection.
    if (stored === undefined && 'release' in this.client) this.fresh.push(prepareBulkRow({ ...resource }, this.now, { text: true }));
    else
      this.rows.push(
        prepareRow({
          ...resource,
          meta: { ...(resource.meta ?? {}), versionId: String((stored?.version ?? 0) + 1), lastUpdated: this.now },
        } as Resource),
      );
  }

  get size(): number {
    return this.fresh.length + this.rows.length;
  }

  async write(): Promise<void> {
    if (this.fresh.length && 'release' in this.client) await copyNewRows(this.db, this.client, this.fresh);
    if (this.rows.length) await writeRows(this.client, this.rows);
  }
}
