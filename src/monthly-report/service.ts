/**
 * The monthly report's operations: generate (build the sections, write xlsx and PDF, store both
 * with a summary, audited), list, hand out a stored file, and the scheduled step that generates
 * the previous month's report once it is over.
 */
import type pg from 'pg';
import type { Database } from '../platform/db.js';
import { badRequest, HttpError, notFound } from '../platform/errors.js';
import { todayInChina } from '../shared/dates.js';
import { NoChineseFontError, reportFile } from '../shared/report-file.js';
import { buildMonthlyReport, monthEnd, reportTitle, type ReportSources, type ScorecardAudit } from './report.js';
import type { MonthlyReportList, MonthlyReportView } from './schemas.js';
import { listReports, readReport, readReportFile, saveReport } from './store.js';

export interface MonthlyReportDeps {
  db: Database;
  sources: ReportSources;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month (YYYY-MM) a China date falls in, and the one before. */
export const monthOf = (now: Date) => todayInChina(now.getTime()).slice(0, 7);
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** A month a report can be made for: YYYY-MM (01–12), this month or earlier (China time). */
export function checkMonth(month: string, now: Date): void {
  if (!MONTH.test(month)) throw badRequest(`month: '${month}' is not a month; expected YYYY-MM with a month 01–12, e.g. 2026-03`);
  const current = monthOf(now);
  if (month > current)
    throw badRequest(`month: ${month} has not begun yet (it is ${current} in China): a report is made for this month or an earlier one`);
}

export interface GenerateOptions {
  /** 'schedule' or the user's name. */
  by: string;
  now: Date;
  /** Audits the generation in the transaction that stores it (a write). */
  audit?: (client: pg.PoolClient, report: MonthlyReportView) => Promise<void>;
  /** Audits a scorecard computation the report needed (the month was never computed). */
  scorecardAudit?: ScorecardAudit;
}

/** Builds a month's report from the other capabilities' figures and stores it (replacing an earlier one). */
export async function generateMonthlyReport(deps: MonthlyReportDeps, month: string, o: GenerateOptions): Promise<MonthlyReportView> {
  checkMonth(month, o.now);
  const today = todayInChina(o.now.getTime());
  const built = await buildMonthlyReport({ db: deps.db, sources: deps.sources, month, today, scorecardAudit: o.scorecardAudit });
  const xlsx = await reportFile('xlsx', built.title, built.sections, { subtitle: built.subtitle });
  let pdf: Buffer | null = null;
  let pdfError: string | null = null;
  try {
    pdf = (await reportFile('pdf', built.title, built.sections, { subtitle: built.subtitle })).body;
  } catch (e) {
    if (!(e instanceof NoChineseFontError)) throw e;
    pdfError = e.message;
  }
  const summary = {
    sections: built.sections.map((s) => ({ heading: s.heading, rows: [...s.rows].length })),
    partial: o.now.getTime() < monthEnd(month).getTime(),
  };
  return deps.db.transaction(async (client) => {
    const saved = await saveReport(client, { month, generatedBy: o.by, generatedAt: o.now, xlsx: xlsx.body, pdf, pdfError, summary });
    await o.audit?.(client, saved);
    return saved;
  });
}

export function listMonthlyReports(db: Database, q: { limit: number; offset: number }): Promise<MonthlyReportList> {
  return listReports(db.pool, q);
}

/** A stored file: 404 when the month has no report, 503 with the stored reason when its PDF could not be drawn. */
export async function monthlyReportFile(
  db: Database,
  month: string,
  format: 'pdf' | 'xlsx',
): Promise<{ body: Buffer; contentType: string; fileName: string }> {
  const stored = await readReportFile(db.pool, month, format);
  if (!stored) throw notFound(`no monthly report for ${month} yet: generate it with POST /api/monthly-reports/${month}`);
  if (!stored.body) {
    throw new HttpError(
      503,
      `${stored.pdfError ?? 'the PDF of this report was not made'} (regenerate the report once a font is installed)`,
      'not-supported',
    );
  }
  return {
    body: stored.body,
    contentType: format === 'pdf' ? 'application/pdf' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    fileName: `${reportTitle(month)}.${format}`,
  };
}

/**
 * The schedule's step: from the 1st of a month (China time) the previous month's report is
 * generated once — when there is none, or the one stored was made before that month was over.
 * Returns the month generated, or null when there was nothing to do.
 */
export async function scheduledStep(
  deps: MonthlyReportDeps,
  now: Date,
  options: Pick<GenerateOptions, 'audit' | 'scorecardAudit'> = {},
): Promise<string | null> {
  const month = previousMonth(monthOf(now));
  const stored = await readReport(deps.db.pool, month);
  if (stored && !stored.summary.partial) return null;
  await generateMonthlyReport(deps, month, { by: 'schedule', now, ...options });
  return month;
}
