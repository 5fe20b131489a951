/** The hospital feeds API (/api/hospital-feeds/…): types from the server's route schemas, imported as types only. */
import type { DeadLetter, DeadLetterList, UploadDetail, UploadList, UploadSummary } from '../../../src/hospital-feeds/schemas.js';
import type { TemplateName } from '../../../src/hospital-feeds/templates.js';
import { ApiError, apiRequest } from '../api/http.js';
import { getSession } from '../api/session.js';

export type { DeadLetter, DeadLetterList, TemplateName, UploadDetail, UploadList, UploadSummary };

export const TEMPLATE_NAMES: TemplateName[] = ['patients', 'visits', 'diagnoses', 'lab-results', 'prescriptions', 'immunizations'];

const auth = (): Record<string, string> => {
  const s = getSession();
  return s ? { Authorization: `Bearer ${s.token}` } : {};
};

async function failure(r: Response): Promise<ApiError> {
  const text = await r.text();
  let body: unknown = text;
  let message = `HTTP ${r.status}`;
  try {
    body = JSON.parse(text);
    const issue = (body as { issue?: { diagnostics?: string }[] }).issue?.[0]?.diagnostics;
    if (issue) message = issue;
  } catch {
    if (text) message = text;
  }
  return new ApiError(r.status, message, body);
}

/** Sends the file's bytes as they are (the server detects or is told the encoding). */
export async function uploadFile(template: TemplateName, facility: string, file: Blob & { name?: string }, encoding: string) {
  const q = new URLSearchParams({ facility });
  if (encoding !== 'auto') q.set('encoding', encoding);
  if (file.name) q.set('fileName', file.name);
  const r = await fetch(`/api/hospital-feeds/${template}/uploads?${q}`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'text/csv', Accept: 'application/json' },
    body: file,
  });
  if (!r.ok) throw await failure(r);
  return (await r.json()) as { uploadId: number; status: string; rowsTotal: number; encoding: string };
}

/** The template file (UTF-8 with BOM), fetched with the session and saved by the browser. */
export async function downloadTemplate(template: TemplateName) {
  const r = await fetch(`/api/hospital-feeds/templates/${template}.csv`, { headers: { ...auth(), Accept: 'text/csv' } });
  if (!r.ok) throw await failure(r);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${template}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const fetchUpload = (id: number, signal?: AbortSignal) =>
  apiRequest<UploadDetail>(`/api/hospital-feeds/uploads/${id}`, { signal, accept: 'application/json' });

export function fetchUploads(f: { facility?: string; limit: number; offset: number }, signal?: AbortSignal) {
  const q = new URLSearchParams();
  if (f.facility) q.set('facility', f.facility);
  q.set('limit', String(f.limit));
  q.set('offset', String(f.offset));
  return apiRequest<UploadList>(`/api/hospital-feeds/uploads?${q}`, { signal, accept: 'application/json' });
}

export function fetchDeadLetters(f: { facility?: string; status?: string; limit: number; offset: number }, signal?: AbortSignal) {
  const q = new URLSearchParams();
  if (f.facility) q.set('facility', f.facility);
  if (f.status) q.set('status', f.status);
  q.set('limit', String(f.limit));
  q.set('offset', String(f.offset));
  return apiRequest<DeadLetterList>(`/api/hospital-feeds/dead-letters?${q}`, { signal, accept: 'application/json' });
}

export const reprocessDeadLetter = (id: number, line: string) =>
  apiRequest<{ status: 'resolved' | 'open'; column: string | null; reason: string | null }>(
    `/api/hospital-feeds/dead-letters/${id}/reprocess`,
    {
      method: 'POST',
      body: { line },
      accept: 'application/json',
    },
  );

export const dismissDeadLetter = (id: number) =>
  apiRequest<{ status: 'dismissed' }>(`/api/hospital-feeds/dead-letters/${id}/dismiss`, {
    method: 'POST',
    body: {},
    accept: 'application/json',
  });
