/** /api/registry: the calls of the 机构与地点 screens. */
import type {
  AreaPage,
  ImportReport,
  RecordBody,
  RegistryCodesAnswer,
  RegistryKindName as RegistryKind,
  SitePage,
} from '../../../src/registry/schemas.js';
import { ApiError, apiRequest } from '../api/http.js';
import { getSession } from '../api/session.js';

export type {
  AreaItem,
  AreaPage,
  CodeOption,
  ImportReport,
  RecordBody,
  RegistryCodesAnswer,
  RegistryKindName as RegistryKind,
  RegistryRefusal,
  SiteItem,
  SitePage,
} from '../../../src/registry/schemas.js';

const JSON_ACCEPT = 'application/json';

export interface ListFilter {
  type?: string;
  area?: string;
  level?: string;
  q?: string;
  limit: number;
  offset: number;
}

function query(f: ListFilter): string {
  const p = new URLSearchParams();
  if (f.level) p.set('level', f.level);
  if (f.type) p.set('type', f.type);
  if (f.area) p.set('area', f.area);
  if (f.q) p.set('q', f.q);
  p.set('limit', String(f.limit));
  p.set('offset', String(f.offset));
  return p.toString();
}

export function fetchCodes(signal?: AbortSignal): Promise<RegistryCodesAnswer> {
  return apiRequest('/api/registry/codes', { signal, accept: JSON_ACCEPT });
}

export function fetchAreas(f: ListFilter, signal?: AbortSignal): Promise<AreaPage> {
  return apiRequest(`/api/registry/areas?${query(f)}`, { signal, accept: JSON_ACCEPT });
}

export function fetchSites(kind: 'organizations' | 'places', f: ListFilter, signal?: AbortSignal): Promise<SitePage> {
  return apiRequest(`/api/registry/${kind}?${query(f)}`, { signal, accept: JSON_ACCEPT });
}

/** Saves one record; a refusal (422) comes back as its report, not as an error. */
export async function saveRecord(kind: RegistryKind, code: string, body: RecordBody): Promise<ImportReport> {
  try {
    return await apiRequest<ImportReport>(`/api/registry/${kind}/${encodeURIComponent(code)}`, {
      method: 'PUT',
      body,
      accept: JSON_ACCEPT,
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 422 && e.body) return e.body as ImportReport;
    throw e;
  }
}

/** Uploads one file (multipart); the report comes back whether it was stored or refused. */
export async function uploadRegistryFile(file: Blob, fileName: string, kind?: RegistryKind, encoding?: string): Promise<ImportReport> {
  const form = new FormData();
  if (kind) form.append('kind', kind);
  if (encoding) form.append('encoding', encoding);
  form.append('file', file, fileName);
  const session = getSession();
  const res = await fetch('/api/registry/import', {
    method: 'POST',
    body: form,
    headers: { Accept: JSON_ACCEPT, ...(session ? { Authorization: `Bearer ${session.token}` } : {}) },
  });
  const body = (await res.json().catch(() => undefined)) as (Partial<ImportReport> & { issue?: { diagnostics?: string }[] }) | undefined;
  if (body && typeof body.stored === 'boolean') return body as ImportReport;
  throw new ApiError(res.status, body?.issue?.[0]?.diagnostics ?? `HTTP ${res.status}`, body);
}
