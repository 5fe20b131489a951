/** The monthly-report API: types from the server's route schemas, imported as types only. */
import type { MonthlyReportList, MonthlyReportView } from '../../../src/monthly-report/schemas.js';
import { apiRequest } from '../api/http.js';
import { downloadFile } from '../api/download.js';

export type { MonthlyReportList, MonthlyReportView };

const json = { accept: 'application/json' };

export function getMonthlyReports(q: { limit: number; offset: number }, signal?: AbortSignal) {
  return apiRequest<MonthlyReportList>(`/api/monthly-reports?limit=${q.limit}&offset=${q.offset}`, { ...json, signal });
}

export function generateMonthlyReport(month: string) {
  return apiRequest<MonthlyReportView>(`/api/monthly-reports/${encodeURIComponent(month)}`, { ...json, method: 'POST' });
}

/** Saves a stored report file under the server's name; answers the name used. */
export function downloadMonthlyReport(month: string, format: 'pdf' | 'xlsx') {
  return downloadFile(`/api/monthly-reports/${encodeURIComponent(month)}/file?format=${format}`, `monthly-report-${month}.${format}`);
}

/** The month before this one in China time, YYYY-MM (the month a report is usually made for). */
export function lastMonthInChina(now = Date.now()): string {
  const [y, m] = new Date(now + 8 * 3_600_000).toISOString().slice(0, 7).split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** This month in China time, YYYY-MM (no report for a later month). */
export function thisMonthInChina(now = Date.now()): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 7);
}
