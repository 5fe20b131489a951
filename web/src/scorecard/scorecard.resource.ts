/** The reporting-quality and scorecard APIs: types from the server's route schemas, imported as types only. */
import type {
  ReportingQualityCards,
  ReportingQualityCode,
  ReportingQualityList,
} from '../../../src/surveillance/reporting/quality-schemas.js';
import type { ScorecardList, ScorecardResult, TaskList } from '../../../src/scorecard/schemas.js';
import { apiRequest } from '../api/http.js';

export type { ReportingQualityCards, ReportingQualityCode, ReportingQualityList, ScorecardList, ScorecardResult, TaskList };
export type BandLevel = ScorecardResult['level'];

const qs = (q: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
};
const json = { accept: 'application/json' };

export function getReportingQuality(period: string, signal?: AbortSignal) {
  return apiRequest<ReportingQualityList>(`/api/reporting-quality?${qs({ period })}`, { ...json, signal });
}

export function getReportingQualityCards(
  q: { period: string; facility: string; indicator: ReportingQualityCode; numerator?: 'true' | 'false'; limit: number; offset: number },
  signal?: AbortSignal,
) {
  return apiRequest<ReportingQualityCards>(`/api/reporting-quality/cards?${qs(q)}`, { ...json, signal });
}

export function getScorecards(signal?: AbortSignal) {
  return apiRequest<ScorecardList>('/api/scorecards', { ...json, signal });
}

export function getScorecard(id: string, level: BandLevel, period: string, signal?: AbortSignal) {
  return apiRequest<ScorecardResult>(`/api/scorecards/${encodeURIComponent(id)}?${qs({ level, period })}`, { ...json, signal });
}

export function computeScorecard(id: string, level: BandLevel, period: string) {
  return apiRequest<ScorecardResult>(`/api/scorecards/${encodeURIComponent(id)}/compute`, {
    ...json,
    method: 'POST',
    body: { level, period },
  });
}

export function getScorecardTasks(
  id: string,
  q: { level?: BandLevel; status: 'open' | 'closed' | 'all'; limit: number; offset: number },
  signal?: AbortSignal,
) {
  return apiRequest<TaskList>(`/api/scorecards/${encodeURIComponent(id)}/tasks?${qs(q)}`, { ...json, signal });
}

/** This month in China time, YYYY-MM (the default period of both screens). */
export function thisMonthInChina(now = Date.now()): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 7);
}
