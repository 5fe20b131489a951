/**
 * The merged resident record (一人一档) and the resident search, from the identity module:
 * GET /api/residents/{id}/record and GET /api/residents/search. Types come from the server's schemas.
 */
import type { MergedRecord, ResidentHit, ResidentSearchResult, TimelineKind } from '../../../src/identity/search-schemas.js';
import { apiRequest } from '../api/http.js';

export type {
  DemographicComparison,
  LinkedPatient,
  MergedRecord,
  ResidentHit,
  ResidentSearchResult,
  TimelineItem,
  TimelineKind,
} from '../../../src/identity/search-schemas.js';

const JSON_ACCEPT = 'application/json';

export interface TimelineQuery {
  limit: number;
  offset: number;
  types?: TimelineKind[];
  facility?: string;
}

export function recordPath(id: string, q: TimelineQuery): string {
  const params = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
  if (q.types?.length) params.set('types', q.types.join(','));
  if (q.facility) params.set('facility', q.facility);
  return `/api/residents/${encodeURIComponent(id)}/record?${params.toString()}`;
}

export function fetchMergedRecord(id: string, q: TimelineQuery, signal?: AbortSignal): Promise<MergedRecord> {
  return apiRequest<MergedRecord>(recordPath(id, q), { signal, accept: JSON_ACCEPT });
}

export function searchResidents(q: string, limit: number, offset: number, signal?: AbortSignal): Promise<ResidentSearchResult> {
  const params = new URLSearchParams({ q, limit: String(limit), offset: String(offset) });
  return apiRequest<ResidentSearchResult>(`/api/residents/search?${params.toString()}`, { signal, accept: JSON_ACCEPT });
}

/** Whether text is worth a search as typed: hanzi, two or more letters, or four or more digits. */
export function searchable(text: string): boolean {
  const q = text.trim();
  if (/[\u3400-\u9fff]/.test(q)) return true;
  if (/^[A-Za-z][A-Za-z\s']+$/.test(q)) return true;
  return /^\+?[\d\s-]{4,}[xX]?$/.test(q) && q.replace(/\D/g, '').length >= 4;
}

export type { ResidentHit as ResidentRow };
