/**
 * Requests and responses of /api/monthly-reports as zod schemas: they validate each request, check
 * each response and make the OpenAPI document. The web app takes the inferred types with `import type`.
 */
import { z } from 'zod';

/** YYYY-MM with a month 01–12 (China time). */
export const MonthText = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'a month YYYY-MM (01–12), e.g. 2026-03' })
  .describe('The month, YYYY-MM (China time)');

export const MonthParams = z.object({ month: MonthText });
export type MonthParams = z.infer<typeof MonthParams>;

export const MonthlyReportFileQuery = z.object({
  format: z.enum(['pdf', 'xlsx'], { message: "format: 'pdf' or 'xlsx'" }).describe('pdf (A4, Chinese font) or xlsx (a sheet per section)'),
});
export type MonthlyReportFileQuery = z.infer<typeof MonthlyReportFileQuery>;

export const MonthlyReportListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type MonthlyReportListQuery = z.infer<typeof MonthlyReportListQuery>;

export const MonthlyReportSection = z.object({ heading: z.string(), rows: z.number().int() });
export type MonthlyReportSection = z.infer<typeof MonthlyReportSection>;

export const MonthlyReportSummary = z.object({
  /** Every section of the report, in order, with its number of rows. */
  sections: z.array(MonthlyReportSection),
  /** Generated before the month was over: the schedule generates it again after the month ends. */
  partial: z.boolean(),
});
export type MonthlyReportSummary = z.infer<typeof MonthlyReportSummary>;

export const MonthlyReportView = z.object({
  month: z.string(),
  generatedAt: z.string(),
  /** 'schedule' or the user who generated it. */
  generatedBy: z.string(),
  xlsxBytes: z.number().int(),
  /** null when no PDF could be drawn (pdfError says why). */
  pdfBytes: z.number().int().nullable(),
  pdfError: z.string().nullable(),
  summary: MonthlyReportSummary,
});
export type MonthlyReportView = z.infer<typeof MonthlyReportView>;

export const MonthlyReportList = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  rows: z.array(MonthlyReportView),
});
export type MonthlyReportList = z.infer<typeof MonthlyReportList>;
