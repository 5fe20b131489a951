/**
 * /api/audit: the calls of the 审计查阅 screen (permission audit:read, roles admin and auditor).
 * Every call is itself audited by the server.
 */
import type { AuditFilter, AuditFlag, AuditRow, searchAuditEvents } from '../../../src/fhir/audit-review.js';
import type { ChainProblem, CheckpointExport, VerifyReport } from '../../../src/fhir/audit-chain.js';
import { ApiError, apiRequest } from './http.js';
import { getSession, setSession } from './session.js';

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

/** Saves a Blob under a file name through a temporary link (the browser's download). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * GET /api/audit/events.csv with the same filter, downloaded as a file. Sent with the session's
 * bearer token as api/http.ts does (a plain link could not carry it); a 401 ends the session.
 * Answers the file name used.
 */
export async function downloadAuditCsv(filter: AuditFilter): Promise<string> {
  const headers: Record<string, string> = { Accept: 'text/csv' };
  const session = getSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  const query = auditQuery(filter).toString();
  const response = await fetch(`/api/audit/events.csv${query ? `?${query}` : ''}`, { headers });
  if (!response.ok) {
    if (response.status === 401) setSession(null);
    const text = await response.text().catch(() => '');
    let message = `HTTP ${response.status}`;
    try {
      const body = JSON.parse(text) as { message?: string; issue?: { diagnostics?: string }[] };
      message = body.issue?.[0]?.diagnostics ?? body.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, message);
  }
  const named = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const fileName = named ?? `audit-${new Date().toISOString().slice(0, 10)}.csv`;
  saveBlob(await response.blob(), fileName);
  return fileName;
}
