/** The terminology API (/api/terminology/…): types from the server's route schemas, imported as types only. */
import type {
  FacilityQueueList,
  LabTargetList,
  MappingBody,
  MappingResult,
  UnmappedCode,
  UnmappedList,
} from '../../../src/terminology/schemas.js';
import { apiRequest } from '../api/http.js';

export type { FacilityQueueList, LabTargetList, MappingResult, UnmappedCode, UnmappedList };
export type QueueStatus = 'open' | 'mapped' | 'ignored' | 'all';

export interface UnmappedFilter {
  facility?: string;
  status: QueueStatus;
  q?: string;
  limit: number;
  offset: number;
}

export function fetchUnmapped(filter: UnmappedFilter, signal?: AbortSignal) {
  const q = new URLSearchParams();
  if (filter.facility !== undefined) q.set('facility', filter.facility);
  q.set('status', filter.status);
  if (filter.q) q.set('q', filter.q);
  q.set('limit', String(filter.limit));
  q.set('offset', String(filter.offset));
  return apiRequest<UnmappedList>(`/api/terminology/unmapped?${q}`, { signal, accept: 'application/json' });
}

export const fetchQueueFacilities = (signal?: AbortSignal) =>
  apiRequest<FacilityQueueList>('/api/terminology/facilities', { signal, accept: 'application/json' });

export const fetchLabTargets = (signal?: AbortSignal) =>
  apiRequest<LabTargetList>('/api/terminology/targets', { signal, accept: 'application/json' });

export const saveMapping = (body: Omit<MappingBody, 'system'> & { system: string }) =>
  apiRequest<MappingResult>('/api/terminology/mappings', { method: 'PUT', body, accept: 'application/json' });
