import { apiRequest } from './http.js';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';

/** The most recent audit events, newest first (administrators only on the server side). */
export function fetchRecentAuditEvents(signal?: AbortSignal, count = 50): Promise<Bundle<AuditEvent>> {
  return apiRequest<Bundle<AuditEvent>>(`/fhir/AuditEvent?_sort=-date&_count=${count}`, { signal });
}
