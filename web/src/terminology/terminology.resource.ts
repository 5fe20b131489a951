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
/** What the codes are: lab tests, specimen types, units or diagnoses. */
export type CodeKind = UnmappedCode['kind'];

export interface UnmappedFilter {
  kind: CodeKind;
  facility?: string;
  status: QueueStatus;
  q?: string;
  limit: number;
  offset: number;
}

export function fetchUnmapped(filter: UnmappedFilter, signal?: AbortSignal) {
  const q = new URLSearchParams();
  q.set('kind', filter.kind);
  if (filter.facility !== undefined) q.set('facility', filter.facility);
  q.set('status', filter.status);
  if (filter.q) q.set('q', filter.q);
  q.set('limit', String(filter.limit));
  q.set('offset', String(filter.offset));
  return apiRequest<UnmappedList>(`/api/terminology/unmapped?${q}`, { signal, accept: 'application/json' });
}

export const fetchQueueFacilities = (kind: CodeKind, signal?: AbortSignal) =>
  apiRequest<FacilityQueueList>(`/api/terminology/facilities?kind=${kind}`, { signal, accept: 'application/json' });

/** The targets of one kind: lab-test codes, SNOMED CT specimen concepts, UCUM units or notifiable diseases' ICD-10 codes. */
export const fetchLabTargets = (kind: CodeKind = 'lab', signal?: AbortSignal) =>
  apiRequest<LabTargetList>(`/api/terminology/targets?kind=${kind}`, { signal, accept: 'application/json' });

export const saveMapping = (body: Omit<MappingBody, 'system'> & { system: string }) =>
  apiRequest<MappingResult>('/api/terminology/mappings', { method: 'PUT', body, accept: 'application/json' });
