/**
 * The portal's own small client: a resident session kept apart from staff sign-in (its own
 * storage key), JSON calls to /api/portal/*, and the server's message when a call is refused.
 * No antd and no shell code, so the portal's bundle stays small.
 */
import type {
  AccessLog,
  ConsentAnswer,
  LoginFinishAnswer,
  LoginStartAnswer,
  Me,
  MyContracts,
  NoticeList,
  Preferences,
  ReadingAnswer,
  RecordAnswer,
  ScheduleAnswer,
  TeamsAnswer,
  ContractRequestView,
} from '../../../src/portal/schemas.js';
import { useSyncExternalStore } from 'react';

export type {
  AccessLog,
  ConsentAnswer,
  ContractRequestView,
  Me,
  MyContracts,
  NoticeList,
  Preferences,
  ReadingAnswer,
  RecordAnswer,
  ScheduleAnswer,
  TeamsAnswer,
};

const KEY = 'yifang.portal';
const listeners = new Set<() => void>();

export interface PortalSession {
  token: string;
  displayName: string;
}

function read(): PortalSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as PortalSession) : null;
  } catch {
    return null;
  }
}

let cached: PortalSession | null | undefined;

export function portalSession(): PortalSession | null {
  if (cached === undefined) cached = read();
  return cached;
}

export function setPortalSession(s: PortalSession | null): void {
  cached = s;
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // kept for this page only
  }
  for (const l of listeners) l();
}

/** Forgets the cached session (tests: storage is cleared between them). */
export function resetPortalSessionCache(): void {
  cached = undefined;
}

export function usePortalSession(): PortalSession | null {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    portalSession,
    portalSession,
  );
}

export class PortalError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function messageOf(body: unknown, status: number): string {
  const b = body as { issue?: { diagnostics?: string; details?: { text?: string } }[]; message?: string } | undefined;
  const text =
    b?.issue
      ?.map((i) => i.diagnostics ?? i.details?.text)
      .filter(Boolean)
      .join('; ') ?? b?.message;
  return text || `HTTP ${status}`;
}

/** An answer web/public/portal-prefetch.js asked for before the scripts ran. */
interface EarlyAnswer {
  ok: boolean;
  status: number;
  text: string;
}

/** What portal-prefetch.js leaves on the page: the token it asked with and its requests by path. */
interface EarlyRequests {
  token: string;
  requests: Record<string, Promise<EarlyAnswer> | undefined>;
}

/** The early answer for this GET, once, if it was asked with the session in force. */
function takeEarly(path: string, token: string | undefined): Promise<EarlyAnswer> | undefined {
  const early = typeof window === 'undefined' ? undefined : (window as { __portalEarly?: EarlyRequests }).__portalEarly;
  const request = early?.requests[path];
  if (!request) return undefined;
  early.requests[path] = undefined;
  return early.token === token ? request : undefined;
}

export async function portalRequest<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const session = portalSession();
  const early = init.method === undefined && init.body === undefined ? takeEarly(path, session?.token) : undefined;
  const res: EarlyAnswer = early
    ? await early
    : await fetch(path, {
        method: init.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(session ? { authorization: `Bearer ${session.token}` } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: init.signal,
      }).then(async (r) => ({ ok: r.ok, status: r.status, text: await r.text() }));
  const text = res.text;
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    if (res.status === 401 && session && !path.startsWith('/api/portal/login')) setPortalSession(null);
    throw new PortalError(res.status, messageOf(body, res.status));
  }
  return body as T;
}

const forQuery = (forId?: string, extra = '') => {
  const q = new URLSearchParams(extra);
  if (forId) q.set('for', forId);
  const s = q.toString();
  return s ? `?${s}` : '';
};

export const portalApi = {
  start: (idNumber: string, phone: string) =>
    portalRequest<LoginStartAnswer>('/api/portal/login/start', { method: 'POST', body: { idNumber, phone } }),
  finish: (idNumber: string, phone: string, code: string) =>
    portalRequest<LoginFinishAnswer>('/api/portal/login/finish', { method: 'POST', body: { idNumber, phone, code } }),
  me: (signal?: AbortSignal) => portalRequest<Me>('/api/portal/me', { signal }),
  record: (forId: string | undefined, kind: string | undefined, signal?: AbortSignal) =>
    portalRequest<RecordAnswer>(`/api/portal/me/record${forQuery(forId, kind ? `kind=${kind}` : '')}`, { signal }),
  schedule: (forId: string | undefined, signal?: AbortSignal) =>
    portalRequest<ScheduleAnswer>(`/api/portal/me/schedule${forQuery(forId)}`, { signal }),
  addReading: (body: Record<string, unknown>) => portalRequest<ReadingAnswer>('/api/portal/me/readings', { method: 'POST', body }),
  accessLog: (forId: string | undefined, offset: number, signal?: AbortSignal) =>
    portalRequest<AccessLog>(`/api/portal/me/access-log${forQuery(forId, `_count=20&_offset=${offset}`)}`, { signal }),
  consents: (forId: string | undefined, signal?: AbortSignal) =>
    portalRequest<ConsentAnswer>(`/api/portal/me/consents${forQuery(forId)}`, { signal }),
  saveConsents: (forId: string | undefined, choices: { choice: string; allow: boolean }[]) =>
    portalRequest<ConsentAnswer>('/api/portal/me/consents', { method: 'PUT', body: { ...(forId ? { for: forId } : {}), choices } }),
  preferences: (signal?: AbortSignal) => portalRequest<Preferences>('/api/portal/me/preferences', { signal }),
  savePreferences: (p: Partial<Preferences>) => portalRequest<Preferences>('/api/portal/me/preferences', { method: 'PUT', body: p }),
  notices: (signal?: AbortSignal) => portalRequest<NoticeList>('/api/portal/me/notices', { signal }),
  readNotice: (id: string) => portalRequest<{ ok: true }>(`/api/portal/me/notices/${id}/read`, { method: 'POST', body: {} }),
  linkWard: (childIdNumber: string) => portalRequest<Me>('/api/portal/me/wards', { method: 'POST', body: { childIdNumber } }),
  teams: (signal?: AbortSignal) => portalRequest<TeamsAnswer>('/api/portal/teams', { signal }),
  contracts: (forId: string | undefined, signal?: AbortSignal) =>
    portalRequest<MyContracts>(`/api/portal/me/contracts${forQuery(forId)}`, { signal }),
  sign: (body: { for?: string; kind: 'sign' | 'renew' | 'transfer'; teamId: string; package: string; agree: true }) =>
    portalRequest<ContractRequestView>('/api/portal/me/contracts', { method: 'POST', body }),
};
