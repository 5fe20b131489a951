/** The data-quality queue's SQL (quality_record, quality_issue): written by the processor, read by the routes. */
import type { Queryable } from '../platform/db.js';
import type { Mark } from './marks.js';
import { facilityNames } from '../registry/index.js';
import { HISTORICAL_DAYS, TIMELY_HOURS } from './completeness.js';
import type { FacilityQuality, IssueList, IssueQuery, RecordList, RecordQuery } from './schemas.js';

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
  /** The resident the record is about. */
  patientId?: string;
  /** Mandatory fields the version lacks. */
  missing?: string[];
  /** When the recorded event happened. */
  eventAt?: string;
}

/** What a record state counts for (a row of quality_record as read, or its JSON image). */
interface CountedRow {
  facility: string;
  deleted: boolean;
  open_issues: number;
  missing: string[];
  event_at: string | Date | null;
  received_at: string | Date | null;
}

type Contribution = { facility: string; type: string; n: [number, number, number, number, number, number, number] };

/**
 * A record's part in its facility's counts: records, flagged, open issues, incomplete, timed
 * (event time known, not a historical load), late, historical (times sign).
 */
function contribution(type: string, r: CountedRow, sign: 1 | -1): Contribution {
  if (r.deleted) return { facility: r.facility, type, n: [0, 0, 0, 0, 0, 0, 0] };
  const event = r.event_at ? new Date(r.event_at).getTime() : undefined;
  const received = r.received_at ? new Date(r.received_at).getTime() : undefined;
  const after = event !== undefined && received !== undefined ? received - event : undefined;
  const historical = after !== undefined && after > HISTORICAL_DAYS * 86_400_000;
  const late = after !== undefined && !historical && after > TIMELY_HOURS * 3_600_000;
  return {
    facility: r.facility,
    type,
    n: [
      sign,
      r.open_issues > 0 ? sign : 0,
      sign * r.open_issues,
      r.missing.length ? sign : 0,
      event !== undefined && !historical ? sign : 0,
      late ? sign : 0,
      historical ? sign : 0,
    ],
  };
}

/** Adds the contributions to quality_facility_count, one statement. */
async function addCounts(client: Queryable, parts: Contribution[]): Promise<void> {
  const sums = new Map<string, Contribution>();
  for (const p of parts) {
    const key = `${p.facility}\u0000${p.type}`;
    const s = sums.get(key);
    if (!s) sums.set(key, { facility: p.facility, type: p.type, n: [...p.n] });
    else for (let i = 0; i < 7; i++) s.n[i]! += p.n[i]!;
  }
  const rows = [...sums.values()].filter((s) => s.n.some((x) => x !== 0));
  if (!rows.length) return;
  const col = (i: number) => rows.map((r) => r.n[i]!);
  await client.query(
    `INSERT INTO quality_facility_count AS c (facility, resource_type, records, flagged, open_issues, incomplete, timed, late, historical)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
     ON CONFLICT (facility, resource_type) DO UPDATE SET
       records = c.records + EXCLUDED.records, flagged = c.flagged + EXCLUDED.flagged, open_issues = c.open_issues + EXCLUDED.open_issues,
       incomplete = c.incomplete + EXCLUDED.incomplete, timed = c.timed + EXCLUDED.timed, late = c.late + EXCLUDED.late,
       historical = c.historical + EXCLUDED.historical`,
    [rows.map((r) => r.facility), rows.map((r) => r.type), col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
  );
}

/**
 * Records the newest version of each record (one per record in `versions`). An older version
 * than the one already recorded (a retried change) changes nothing; the same version again
 * changes nothing either (the processor delivers at least once).
 */
export async function recordVersions(client: Queryable, versions: RecordVersion[]): Promise<void> {
  if (!versions.length) return;
  // The rows as they were (the same snapshot as the upsert beside it; no FOR UPDATE, which would
  // follow the upsert to the new row) and as they are now: the difference is what each record
  // changes in the per-facility counts. One processor writes these rows, so nothing else moves them.
  const applied = await client.query<CountedRow & { resource_type: string; resource_id: string; was: CountedRow | null }>(
    `WITH x AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::boolean[], $6::int[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])
         AS x(t, i, f, v, d, o, p, m, e, a)
     ), old AS (
       SELECT q.resource_type, q.resource_id, q.facility, q.deleted, q.open_issues, q.missing, q.event_at, q.received_at
       FROM quality_record q JOIN x ON q.resource_type = x.t AND q.resource_id = x.i
     ), up AS (
       INSERT INTO quality_record (resource_type, resource_id, facility, version_id, deleted, open_issues, patient_id, missing, event_at, received_at)
       SELECT t, i, f, v, d, o, p, CASE WHEN m = '' THEN '{}'::text[] ELSE string_to_array(m, E'\\x1f') END, e, coalesce(a, now()) FROM x
       ON CONFLICT (resource_type, resource_id) DO UPDATE
         SET facility = EXCLUDED.facility, version_id = EXCLUDED.version_id, deleted = EXCLUDED.deleted, open_issues = EXCLUDED.open_issues,
             patient_id = EXCLUDED.patient_id, missing = EXCLUDED.missing, event_at = EXCLUDED.event_at
         WHERE quality_record.version_id <= EXCLUDED.version_id
       RETURNING resource_type, resource_id, facility, deleted, open_issues, missing, event_at, received_at
     )
     SELECT up.*, CASE WHEN old.resource_id IS NULL THEN NULL ELSE json_build_object(
              'facility', old.facility, 'deleted', old.deleted, 'open_issues', old.open_issues, 'missing', old.missing,
              'event_at', old.event_at, 'received_at', old.received_at) END AS was
     FROM up LEFT JOIN old ON old.resource_type = up.resource_type AND old.resource_id = up.resource_id`,
    [
      versions.map((v) => v.type),
      versions.map((v) => v.id),
      versions.map((v) => v.facility),
      versions.map((v) => v.version),
      versions.map((v) => v.deleted),
      versions.map((v) => (v.deleted ? 0 : v.marks.length)),
      versions.map((v) => v.patientId ?? null),
      versions.map((v) => (v.missing ?? []).join('\u001f')),
      versions.map((v) => v.eventAt ?? null),
      versions.map((v) => v.at ?? null),
    ],
  );
  await addCounts(
    client,
    applied.rows.flatMap((r) => [...(r.was ? [contribution(r.resource_type, r.was, -1)] : []), contribution(r.resource_type, r, 1)]),
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
  patient_id: string | null;
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
            q.opened_version, q.opened_at, q.resolved_version, q.resolved_at, r.patient_id
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
      // The row names its resident for the access policy.
      patientId: r.patient_id ?? (r.resource_type === 'Patient' ? r.resource_id : ''),
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

/**
 * Per facility (and record type): records, and the three rates of 数据质量 — completeness (no
 * mandatory field missing), validity (no open data-quality issue) and timeliness (first received
 * within TIMELY_HOURS of the event, among records that say when it happened) — worst first.
 */
export async function facilityQuality(db: Queryable, facility?: string, type?: string): Promise<FacilityQuality[]> {
  const r = await db.query<{
    facility: string;
    resource_type: string;
    records: string;
    flagged: string;
    open_issues: string;
    incomplete: string;
    timed: string;
    late: string;
    historical: string;
  }>(
    `SELECT facility, resource_type, records, flagged, open_issues, incomplete, timed, late, historical FROM quality_facility_count
     WHERE records > 0 AND ($1::text IS NULL OR facility = $1) AND ($2::text IS NULL OR resource_type = $2)`,
    [facility ?? null, type ?? null],
  );
  const rate = (good: number, of: number) => (of ? Math.round((good / of) * 10_000) / 10_000 : 1);
  // Facilities in words: the registry's names, by code or FHIR id, else the FHIR Organization's.
  const names = await facilityNames(
    db,
    r.rows.map((x) => x.facility),
  );
  return r.rows
    .map((x) => {
      const records = Number(x.records);
      const flagged = Number(x.flagged);
      const timed = Number(x.timed);
      const late = Number(x.late);
      const incomplete = Number(x.incomplete);
      return {
        facility: x.facility,
        facilityName: names.get(x.facility) ?? null,
        type: x.resource_type,
        records,
        recordsWithOpenIssue: flagged,
        openIssues: Number(x.open_issues),
        validityRate: rate(records - flagged, records),
        recordsIncomplete: incomplete,
        completenessRate: rate(records - incomplete, records),
        recordsWithEventTime: timed,
        recordsLate: late,
        recordsHistorical: Number(x.historical),
        timelinessRate: rate(timed - late, timed),
      };
    })
    .sort(
      (a, b) =>
        Math.min(a.validityRate, a.completenessRate, a.timelinessRate) - Math.min(b.validityRate, b.completenessRate, b.timelinessRate) ||
        a.facility.localeCompare(b.facility) ||
        a.type.localeCompare(b.type),
    );
}

/** The records behind a figure: incomplete, invalid (an open issue) or late, for a facility and type; paged with the total. */
export async function qualityRecords(db: Queryable, q: RecordQuery): Promise<RecordList> {
  const args: unknown[] = [q.facility ?? null, q.type ?? null];
  const problem =
    q.problem === 'incomplete'
      ? 'cardinality(missing) > 0'
      : q.problem === 'invalid'
        ? 'open_issues > 0'
        : `received_at > event_at + make_interval(hours => $${args.push(TIMELY_HOURS)}) AND received_at <= event_at + make_interval(days => $${args.push(HISTORICAL_DAYS)})`;
  const where = `NOT deleted AND ($1::text IS NULL OR facility = $1) AND ($2::text IS NULL OR resource_type = $2) AND ${problem}`;
  const total = await db.query<{ n: string }>(`SELECT count(*) AS n FROM quality_record WHERE ${where}`, args);
  const rows = await db.query<{
    resource_type: string;
    resource_id: string;
    facility: string;
    patient_id: string | null;
    missing: string[];
    open_issues: number;
    event_at: Date | null;
    received_at: Date | null;
  }>(
    `SELECT resource_type, resource_id, facility, patient_id, missing, open_issues, event_at, received_at FROM quality_record
     WHERE ${where} ORDER BY received_at DESC NULLS LAST, resource_type, resource_id LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
    [...args, q.limit, q.offset],
  );
  return {
    total: Number(total.rows[0]?.n ?? 0),
    limit: q.limit,
    offset: q.offset,
    rows: rows.rows.map((r) => ({
      resource: `${r.resource_type}/${r.resource_id}`,
      type: r.resource_type,
      facility: r.facility,
      patientId: r.patient_id ?? '',
      missing: r.missing,
      openIssues: r.open_issues,
      eventAt: r.event_at ? new Date(r.event_at).toISOString() : null,
      receivedAt: r.received_at ? new Date(r.received_at).toISOString() : null,
      hoursLate:
        r.event_at && r.received_at
          ? Math.round(((new Date(r.received_at).getTime() - new Date(r.event_at).getTime()) / 3_600_000) * 10) / 10
          : null,
    })),
  };
}
