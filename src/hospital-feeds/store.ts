/** The hospital feeds' SQL: uploads and their progress, column mappings, dead letters, written digests. */
import type { Database, Queryable } from '../platform/db.js';
import type { DeadLetter, DeadLetterList, Problem, UploadDetail, UploadList, UploadSummary } from './schemas.js';
import type { ColumnMapping, TemplateName } from './templates.js';

/** At most this many problems are kept on an upload (the dead-letter table holds every failed row). */
export const MAX_PROBLEMS = 100;

export async function getMapping(q: Queryable, facility: string, template: TemplateName): Promise<ColumnMapping | undefined> {
  const r = await q.query<{ columns: ColumnMapping }>('SELECT columns FROM hf_mapping WHERE facility = $1 AND template = $2', [
    facility,
    template,
  ]);
  return r.rows[0]?.columns;
}

export async function saveMapping(q: Queryable, facility: string, template: TemplateName, columns: ColumnMapping, by: string) {
  await q.query(
    `INSERT INTO hf_mapping (facility, template, columns, updated_by) VALUES ($1,$2,$3,$4)
     ON CONFLICT (facility, template) DO UPDATE SET columns = EXCLUDED.columns, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [facility, template, JSON.stringify(columns), by],
  );
}

/** Saves a facility's column mapping and its audit event in one transaction. */
export async function saveMappingAudited(
  db: Database,
  facility: string,
  template: TemplateName,
  columns: ColumnMapping,
  by: string,
  audit: (client: Queryable) => Promise<unknown>,
): Promise<void> {
  await db.transaction(async (client) => {
    await saveMapping(client, facility, template, columns, by);
    await audit(client);
  });
}

export interface NewUpload {
  facility: string;
  template: TemplateName;
  fileName?: string;
  encoding?: string;
  status: 'queued' | 'refused';
  error?: string;
  receivedBy: string;
  payload: Buffer;
  header?: string[];
  columnIndex?: Record<string, number>;
  rowsTotal: number;
  problems?: Problem[];
}

export async function insertUpload(q: Queryable, u: NewUpload): Promise<number> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO hf_upload (facility, template, file_name, encoding, status, error, received_by, bytes, header, column_index, rows_total, problems, payload, finished_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13, CASE WHEN $5 = 'refused' THEN now() END) RETURNING id`,
    [
      u.facility,
      u.template,
      u.fileName ?? null,
      u.encoding ?? null,
      u.status,
      u.error ?? null,
      u.receivedBy,
      u.payload.length,
      u.header ? JSON.stringify(u.header) : null,
      u.columnIndex ? JSON.stringify(u.columnIndex) : null,
      u.rowsTotal,
      JSON.stringify(u.problems ?? []),
      u.payload,
    ],
  );
  return Number(r.rows[0]!.id);
}

export interface UploadWork {
  id: number;
  facility: string;
  template: TemplateName;
  encoding: string;
  status: string;
  receivedBy: string;
  header: string[];
  columnIndex: Record<string, number>;
  rowsRead: number;
  problems: number;
  payload: Buffer;
}

/** An upload to process (with its raw bytes), or undefined when it is not waiting. */
export async function uploadWork(q: Queryable, id: number): Promise<UploadWork | undefined> {
  const r = await q.query<Omit<UploadWork, 'id' | 'problems'> & { id: string; problems: number }>(
    `SELECT id, facility, template, encoding, status, received_by AS "receivedBy", header, column_index AS "columnIndex",
            rows_read AS "rowsRead", jsonb_array_length(problems) AS problems, payload
     FROM hf_upload WHERE id = $1 AND status IN ('queued', 'running')`,
    [id],
  );
  const row = r.rows[0];
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Uploads left queued or running (by a restart): resumed on start. */
export async function pendingUploadIds(q: Queryable): Promise<number[]> {
  const r = await q.query<{ id: string }>(`SELECT id FROM hf_upload WHERE status IN ('queued', 'running') ORDER BY id`);
  return r.rows.map((x) => Number(x.id));
}

export interface Progress {
  rowsRead: number;
  stored: number;
  unchanged: number;
  dead: number;
  flagged: number;
  resources: number;
  problems: Problem[];
}

/** Adds a batch's counts (in the batch's transaction, so progress and writes commit together). */
export async function addProgress(q: Queryable, id: number, p: Progress, done: boolean): Promise<void> {
  await q.query(
    `UPDATE hf_upload SET status = CASE WHEN $9 THEN 'done' ELSE 'running' END,
       finished_at = CASE WHEN $9 THEN now() END,
       rows_total = CASE WHEN $9 THEN $2::int ELSE greatest(rows_total, $2::int) END,
       rows_read = $2, rows_stored = rows_stored + $3, rows_unchanged = rows_unchanged + $4, rows_dead = rows_dead + $5,
       rows_flagged = rows_flagged + $6, resources_written = resources_written + $7,
       problems = CASE WHEN jsonb_array_length(problems) >= ${MAX_PROBLEMS} THEN problems ELSE problems || $8::jsonb END
     WHERE id = $1`,
    [id, p.rowsRead, p.stored, p.unchanged, p.dead, p.flagged, p.resources, JSON.stringify(p.problems), done],
  );
}

export async function failUpload(q: Queryable, id: number, error: string): Promise<void> {
  await q.query(`UPDATE hf_upload SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [id, error.slice(0, 2000)]);
}

export interface NewDeadLetter {
  uploadId: number;
  facility: string;
  template: string;
  line: number;
  lineText: string;
  column?: string;
  reason: string;
}

/** Dead letters of a batch; a line already dead-lettered (by an interrupted run or an earlier upload, still open) is not added twice. */
export async function insertDeadLetters(q: Queryable, rows: NewDeadLetter[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO hf_dead_letter (upload_id, facility, template, line, line_text, column_name, reason)
     SELECT upload_id, facility, template, line, line_text, column_name, reason
     FROM jsonb_to_recordset($1::jsonb) AS x(upload_id bigint, facility text, template text, line int, line_text text, column_name text, reason text)
     WHERE NOT EXISTS (SELECT 1 FROM hf_dead_letter d WHERE d.status = 'open' AND d.facility = x.facility AND d.template = x.template
                       AND md5(d.line_text) = md5(x.line_text) AND d.line_text = x.line_text)
     ON CONFLICT (upload_id, line) DO NOTHING`,
    [
      JSON.stringify(
        rows.map((r) => ({
          upload_id: r.uploadId,
          facility: r.facility,
          template: r.template,
          line: r.line,
          line_text: r.lineText,
          column_name: r.column ?? null,
          reason: r.reason.slice(0, 2000),
        })),
      ),
    ],
  );
}

/** The digests last written for these resources ('Type/id' → digest). */
export async function writtenDigests(q: Queryable, keys: { type: string; id: string }[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const r = await q.query<{ t: string; id: string; digest: string }>(
    `SELECT w.resource_type AS t, w.id, w.digest FROM unnest($1::text[], $2::text[]) AS k(t, id)
     JOIN hf_written w ON w.resource_type = k.t AND w.id = k.id`,
    [keys.map((k) => k.type), keys.map((k) => k.id)],
  );
  return new Map(r.rows.map((x) => [`${x.t}/${x.id}`, x.digest]));
}

export async function saveDigests(q: Queryable, rows: { type: string; id: string; digest: string }[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO hf_written (resource_type, id, digest) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (resource_type, id) DO UPDATE SET digest = EXCLUDED.digest`,
    [rows.map((r) => r.type), rows.map((r) => r.id), rows.map((r) => r.digest)],
  );
}

const SUMMARY_COLUMNS = `id::int AS id, facility, template, file_name AS "fileName", encoding, status, error, received_at AS "receivedAt",
  finished_at AS "finishedAt", received_by AS "receivedBy", bytes, rows_total AS "rowsTotal", rows_read AS "rowsRead",
  rows_stored AS "rowsStored", rows_unchanged AS "rowsUnchanged", rows_dead AS "rowsDead", rows_flagged AS "rowsFlagged",
  resources_written AS "resourcesWritten"`;

export async function listUploads(
  q: Queryable,
  f: { facility?: string; template?: string; limit: number; offset: number },
): Promise<UploadList> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.facility) where.push(`facility = $${args.push(f.facility)}`);
  if (f.template) where.push(`template = $${args.push(f.template)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM hf_upload ${w}`, args);
  const items = await q.query<UploadSummary>(
    `SELECT ${SUMMARY_COLUMNS} FROM hf_upload ${w} ORDER BY id DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
    [...args, f.limit, f.offset],
  );
  return { items: items.rows, total: total.rows[0]!.n, limit: f.limit, offset: f.offset };
}

export async function getUpload(q: Queryable, id: number): Promise<UploadDetail | undefined> {
  const r = await q.query<UploadDetail>(`SELECT ${SUMMARY_COLUMNS}, header, problems FROM hf_upload WHERE id = $1`, [id]);
  return r.rows[0];
}

/** The header and column positions of an upload (for reprocessing one of its lines). */
export async function uploadShape(
  q: Queryable,
  id: number,
): Promise<{ header: string[]; columnIndex: Record<string, number>; receivedBy: string } | undefined> {
  const r = await q.query<{ header: string[]; columnIndex: Record<string, number>; receivedBy: string }>(
    `SELECT header, column_index AS "columnIndex", received_by AS "receivedBy" FROM hf_upload WHERE id = $1`,
    [id],
  );
  return r.rows[0];
}

const DL_COLUMNS = `id::int AS id, upload_id::int AS "uploadId", facility, template, line, line_text AS "lineText", column_name AS "column",
  reason, status, created_at AS "createdAt", closed_at AS "closedAt", closed_by AS "closedBy", corrected_text AS "correctedText"`;

export async function listDeadLetters(
  q: Queryable,
  f: { facility?: string; uploadId?: number; status?: string; limit: number; offset: number },
): Promise<DeadLetterList> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.facility) where.push(`facility = $${args.push(f.facility)}`);
  if (f.uploadId !== undefined) where.push(`upload_id = $${args.push(f.uploadId)}`);
  if (f.status) where.push(`status = $${args.push(f.status)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM hf_dead_letter ${w}`, args);
  const items = await q.query<DeadLetter>(
    `SELECT ${DL_COLUMNS} FROM hf_dead_letter ${w} ORDER BY id DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
    [...args, f.limit, f.offset],
  );
  return { items: items.rows, total: total.rows[0]!.n, limit: f.limit, offset: f.offset };
}

export async function getDeadLetter(q: Queryable, id: number, lock = false): Promise<DeadLetter | undefined> {
  const r = await q.query<DeadLetter>(`SELECT ${DL_COLUMNS} FROM hf_dead_letter WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return r.rows[0];
}

export async function closeDeadLetter(
  q: Queryable,
  id: number,
  status: 'resolved' | 'dismissed',
  by: string,
  corrected?: string,
): Promise<void> {
  await q.query(`UPDATE hf_dead_letter SET status = $2, closed_at = now(), closed_by = $3, corrected_text = $4 WHERE id = $1`, [
    id,
    status,
    by,
    corrected ?? null,
  ]);
}

/** A reprocessed line that still fails: its reason is brought up to date. */
export async function updateDeadLetterReason(q: Queryable, id: number, column: string | undefined, reason: string, corrected: string) {
  await q.query(`UPDATE hf_dead_letter SET column_name = $2, reason = $3, corrected_text = $4 WHERE id = $1`, [
    id,
    column ?? null,
    reason.slice(0, 2000),
    corrected,
  ]);
}

export type { Database };
