/** Data access of the data-quality screen: the server's own response types, imported as types only. */
import type { FacilityQualityList, IssueList, RecordList, RecordQuery } from '../../../src/quality/schemas.js';
import { apiRequest } from '../api/http.js';

export type { FacilityQualityList, IssueList, RecordList };
export type FigureProblem = RecordQuery['problem'];

const query = (q: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined && v !== '') as [string, string][]).toString();

export const fetchFacilityQuality = (type?: string, signal?: AbortSignal) =>
  apiRequest<FacilityQualityList>(`/api/data-quality/facilities?${query({ type })}`, { signal, accept: 'application/json' });

export const fetchQualityRecords = (
  q: { facility?: string; type?: string; problem: FigureProblem; limit: number; offset: number },
  signal?: AbortSignal,
) => apiRequest<RecordList>(`/api/data-quality/records?${query(q)}`, { signal, accept: 'application/json' });

export const fetchIssues = (q: { facility?: string; limit: number; offset: number }, signal?: AbortSignal) =>
  apiRequest<IssueList>(`/api/data-quality/issues?${query(q)}`, { signal, accept: 'application/json' });
