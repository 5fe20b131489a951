/**
 * /api/audit: the calls of the 审计查阅 screen (permission audit:read, roles admin and auditor).
 * Every call is itself audited by the server.
 */
import type { AuditFilter, AuditFlag, AuditRow, searchAuditEvents } from '../../../src/fhir/audit-review.js';
import type { ChainProblem, CheckpointExport, VerifyReport } from '../../../src/fhir/audit-chain.js';
import { downloadFile, saveBlob } from './download.js';
import { apiRequest } from './http.js';

export { saveBlob };

export type { AuditFilter, AuditFlag, AuditRow, ChainProblem, CheckpointExport, VerifyReport };

/** GET /api/audit/events: one page, newest first, with the total of the filter. */
export type AuditEventPage = Awaited<ReturnType<typeof searchAuditEvents>> & { count: number; offset: number };

/** GET /api/audit/flags: unusual patterns, with the limits they were computed with. */
export interface AuditFlagsAnswer {
  maxResidents: number;
  workingHours: string;
  flags: AuditFlag[];
}

const JSON_ACCEPT = 'application/json';

/** The filter as query parameters: empty fields left out, in a fixed order. */
export function auditQuery(filter: AuditFilter, extra: Record<string, string | number | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  const keys: (keyof AuditFilter)[] = ['user', 'resident', 'purpose', 'action', 'subtype', 'from', 'to', 'outcome'];
  for (const key of keys) {
    const value = filter[key]?.trim();
    if (value) params.set(key, value);
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined && value !== '') params.set(key, String(value));
  return params;
}

export function fetchAuditEvents(
  filter: AuditFilter,
  page: { count: number; offset: number },
  signal?: AbortSignal,
): Promise<AuditEventPage> {
  const q = auditQuery(filter, { _count: page.count, _offset: page.offset });
  return apiRequest<AuditEventPage>(`/api/audit/events?${q.toString()}`, { signal, accept: JSON_ACCEPT });
}

export function fetchAuditFlags(
  options: { from?: string; to?: string; maxResidents?: number },
  signal?: AbortSignal,
): Promise<AuditFlagsAnswer> {
  const q = auditQuery({ from: options.from, to: options.to }, { maxResidents: options.maxResidents });
  const query = q.toString();
  return apiRequest<AuditFlagsAnswer>(`/api/audit/flags${query ? `?${query}` : ''}`, { signal, accept: JSON_ACCEPT });
}

export function verifyAuditChain(signal?: AbortSignal): Promise<VerifyReport> {
  return apiRequest<VerifyReport>('/api/audit/verify', { signal, accept: JSON_ACCEPT });
}

export function fetchCheckpoints(signal?: AbortSignal): Promise<CheckpointExport> {
  return apiRequest<CheckpointExport>('/api/audit/checkpoints', { signal, accept: JSON_ACCEPT });
}

/** GET /api/audit/events.csv with the same filter, downloaded as a file; answers the file name used. */
export function downloadAuditCsv(filter: AuditFilter): Promise<string> {
  const query = auditQuery(filter).toString();
  return downloadFile(`/api/audit/events.csv${query ? `?${query}` : ''}`, `audit-${new Date().toISOString().slice(0, 10)}.csv`, 'text/csv');
}
