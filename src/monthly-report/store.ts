/** The SQL of the monthly reports (monthly_report): one row per month, the files as generated. */
import type { Queryable } from '../platform/db.js';
import type { MonthlyReportList, MonthlyReportSummary, MonthlyReportView } from './schemas.js';

export interface StoredReport {
  month: string;
  generatedBy: string;
  /** When it was generated (default: now). */
  generatedAt?: Date;
  xlsx: Buffer;
  pdf: Buffer | null;
  pdfError: string | null;
  summary: MonthlyReportSummary;
}

interface Row {
  month: string;
  generated_at: Date | string;
  generated_by: string;
  xlsx_bytes: number;
  pdf_bytes: number | null;
  pdf_error: string | null;
  summary: MonthlyReportSummary | string;
}

const COLUMNS = `month, generated_at, generated_by, octet_length(xlsx)::int AS xlsx_bytes, octet_length(pdf)::int AS pdf_bytes, pdf_error, summary`;

const view = (r: Row): MonthlyReportView => ({
  month: r.month,
  generatedAt: new Date(r.generated_at).toISOString(),
  generatedBy: r.generated_by,
  xlsxBytes: r.xlsx_bytes,
  pdfBytes: r.pdf_bytes,
  pdfError: r.pdf_error,
  summary: typeof r.summary === 'string' ? (JSON.parse(r.summary) as MonthlyReportSummary) : r.summary,
});

/** Stores (or replaces) a month's report; returns it as listed. */
export async function saveReport(db: Queryable, r: StoredReport): Promise<MonthlyReportView> {
  const res = await db.query<Row>(
    `INSERT INTO monthly_report (month, generated_at, generated_by, xlsx, pdf, pdf_error, summary)
     VALUES ($1, coalesce($2::timestamptz, now()), $3, $4, $5, $6, $7::jsonb)
     ON CONFLICT (month) DO UPDATE SET generated_at = EXCLUDED.generated_at, generated_by = EXCLUDED.generated_by,
       xlsx = EXCLUDED.xlsx, pdf = EXCLUDED.pdf, pdf_error = EXCLUDED.pdf_error, summary = EXCLUDED.summary
     RETURNING ${COLUMNS}`,
    [r.month, r.generatedAt?.toISOString() ?? null, r.generatedBy, r.xlsx, r.pdf, r.pdfError, JSON.stringify(r.summary)],
  );
  return view(res.rows[0]!);
}

/** Reports newest month first, a page at a time, with the total. */
export async function listReports(db: Queryable, q: { limit: number; offset: number }): Promise<MonthlyReportList> {
  const [rows, total] = await Promise.all([
    db.query<Row>(`SELECT ${COLUMNS} FROM monthly_report ORDER BY month DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM monthly_report`),
  ]);
  return { total: total.rows[0]!.n, limit: q.limit, offset: q.offset, rows: rows.rows.map(view) };
}

/** One month's report as listed, or undefined. */
export async function readReport(db: Queryable, month: string): Promise<MonthlyReportView | undefined> {
  const res = await db.query<Row>(`SELECT ${COLUMNS} FROM monthly_report WHERE month = $1`, [month]);
  return res.rows[0] ? view(res.rows[0]) : undefined;
}

const bytes = (v: unknown): Buffer | null =>
  v === null || v === undefined ? null : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));

/** The stored bytes of one format (null with the reason when that file was not made), or undefined when no report. */
export async function readReportFile(
  db: Queryable,
  month: string,
  format: 'pdf' | 'xlsx',
): Promise<{ body: Buffer | null; pdfError: string | null } | undefined> {
  const res = await db.query<{ body: unknown; pdf_error: string | null }>(
    `SELECT ${format === 'pdf' ? 'pdf' : 'xlsx'} AS body, pdf_error FROM monthly_report WHERE month = $1`,
    [month],
  );
  const r = res.rows[0];
  return r ? { body: bytes(r.body), pdfError: r.pdf_error } : undefined;
}
