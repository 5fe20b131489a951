/** The data-quality queue's SQL (quality_record, quality_issue): written by the processor, read by the routes. */
import type { Queryable } from '../platform/db.js';
import type { Mark } from './marks.js';
import type { FacilityQuality, IssueList, IssueQuery } from './schemas.js';

/** One version of a record as the processor hands it over (deleted: no marks, not counted). */
export interface RecordVersion {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
  facility: string;
  marks: Mark[];
  /** When the version was stored (meta.lastUpdated); now when unknown. */
  at?: string;
}

/**
 * Records the newest version of each record (one per record in `versions`). An older version
 * than the one already recorded (a retried change) changes nothing; the same version again
 * changes nothing either (the processor delivers at least once).
 */
export async function recordVersions(client: Queryable, versions: RecordVersion[]): Promise<void> {
  if (!versions.length) return;
  const applied = await client.query<{ resource_type: string; resource_id: string }>(
    `INSERT INTO quality_record (resource_type, resource_id, facility, version_id, deleted, open_issues)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::boolean[], $6::int[])
     ON CONFLICT (resource_type, resource_id) DO UPDATE
       SET facility = EXCLUDED.facility, version_id = EXCLUDED.version_id, deleted = EXCLUDED.deleted, open_issues = EXCLUDED.open_issues
       WHERE quality_record.version_id <= EXCLUDED.version_id
     RETURNING resource_type, resource_id`,
    [
      versions.map((v) => v.type),
      versions.map((v) => v.id),
      versions.map((v) => v.facility),
      versions.map((v) => v.version),
      versions.map((v) => v.deleted),
      versions.map((v) => (v.deleted ? 0 : v.marks.length)),
    ],
  );
  const keep = new Set(applied.rows.map((r) => `${r.resource_type}/${r.resource_id}`));
  const current = versions.filter((v) => keep.has(`${v.type}/${v.id}`));
  if (!current.length) return;

  // Marks the version carries: opened, kept open, or reopened.
  const marks = current.flatMap((v) => (v.deleted ? [] : v.marks.map((m) => ({ v, m }))));
  if (marks.length)
    await client.query(
      `INSERT INTO quality_issue (resource_type, resource_id, field, problem, status, opened_version, opened_at, seen_version)
       SELECT x.t, x.i, x.f, x.p, 'open', x.v, coalesce(x.a, now()), x.v
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[]) AS x(t, i, f, p, v, a)
       ON CONFLICT (resource_type, resource_id, field, problem) DO UPDATE SET
         seen_version = EXCLUDED.seen_version,
         opened_version = CASE WHEN quality_issue.status = 'resolved' THEN EXCLUDED.opened_version ELSE quality_issue.opened_version END,
         opened_at = CASE WHEN quality_issue.status = 'resolved' THEN EXCLUDED.opened_at ELSE quality_issue.opened_at END,
         status = 'open',
         resolved_version = NULL,
         resolved_at = NULL`,
      [
        marks.map((x) => x.v.type),
        marks.map((x) => x.v.id),
        marks.map((x) => x.m.field),
        marks.map((x) => x.m.problem),
        marks.map((x) => x.v.version),
        marks.map((x) => x.v.at ?? null),
      ],
    );

  // Open issues this version no longer carries: resolved by it.
  await client.query(
    `UPDATE quality_issue q SET status = 'resolved', resolved_version = x.v, resolved_at = coalesce(x.a, now())
     FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[]) AS x(t, i, v, a)
     WHERE q.resource_type = x.t AND q.resource_id = x.i AND q.status = 'open' AND q.seen_version < x.v`,
    [current.map((v) => v.type), current.map((v) => v.id), current.map((v) => v.version), current.map((v) => v.at ?? null)],
  );
}

interface IssueRow {
  id: string;
  resource_type: string;
  resource_id: string;
  field: string;
  problem: string;
  status: 'open' | 'resolved';
  facility: string;
  opened_version: number;
  opened_at: Date;
  resolved_version: number | null;
  resolved_at: Date | null;
}

/** Issues, newest first, with the total for the filter (facility, status). */
export async function listIssues(db: Queryable, q: IssueQuery): Promise<IssueList> {
  const status = q.status === 'all' ? null : q.status;
  const facility = q.facility ?? null;
  const where = `($1::text IS NULL OR r.facility = $1) AND ($2::text IS NULL OR q.status = $2)`;
  const total = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM quality_issue q
     JOIN quality_record r ON r.resource_type = q.resource_type AND r.resource_id = q.resource_id
     WHERE ${where}`,
    [facility, status],
  );
  const rows = await db.query<IssueRow>(
    `SELECT q.id, q.resource_type, q.resource_id, q.field, q.problem, q.status, r.facility,
            q.opened_version, q.opened_at, q.resolved_version, q.resolved_at
     FROM quality_issue q
     JOIN quality_record r ON r.resource_type = q.resource_type AND r.resource_id = q.resource_id
     WHERE ${where}
     ORDER BY q.opened_at DESC, q.id DESC
     LIMIT $3 OFFSET $4`,
    [facility, status, q.limit, q.offset],
  );
  return {
    total: Number(total.rows[0]?.n ?? 0),
    limit: q.limit,
    offset: q.offset,
    issues: rows.rows.map((r) => ({
      id: Number(r.id),
      // Patient is the only type followed today; the row names its resident for the access policy.
      patientId: r.resource_id,
      resource: `${r.resource_type}/${r.resource_id}`,
      field: r.field,
      problem: r.problem,
      status: r.status,
      facility: r.facility,
      openedVersion: r.opened_version,
      openedAt: new Date(r.opened_at).toISOString(),
      resolvedVersion: r.resolved_version,
      resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
    })),
  };
}

/** Per facility: records, records with an open issue, open issues and the share without any (worst first). */
export async function facilityQuality(db: Queryable, facility?: string): Promise<FacilityQuality[]> {
  const r = await db.query<{ facility: string; records: string; flagged: string; open_issues: string }>(
    `SELECT facility, count(*) AS records, count(*) FILTER (WHERE open_issues > 0) AS flagged, coalesce(sum(open_issues), 0) AS open_issues
     FROM quality_record
     WHERE NOT deleted AND ($1::text IS NULL OR facility = $1)
     GROUP BY facility`,
    [facility ?? null],
  );
  return r.rows
    .map((x) => {
      const records = Number(x.records);
      const flagged = Number(x.flagged);
      return {
        facility: x.facility,
        records,
        recordsWithOpenIssue: flagged,
        openIssues: Number(x.open_issues),
        validityRate: records ? Math.round(((records - flagged) / records) * 10_000) / 10_000 : 1,
      };
    })
    .sort((a, b) => a.validityRate - b.validityRate || a.facility.localeCompare(b.facility));
}
