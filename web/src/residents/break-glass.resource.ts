/**
 * Emergency access (紧急访问/破窗, issue #15) from the resident record: open a grant for one
 * resident outside the user's scope, find an open one the user already holds, and whether the
 * policy gives the user's roles emergency access at all. A grant is remembered in the session
 * (api/session.ts), and the API client then sends X-Purpose-Of-Use: BTG for that resident.
 */
import type { BreakGlassGrantDto } from '../../../src/app/access-routes.js';
import { ApiError, apiRequest } from '../api/http.js';
import { breakGlassUntil, rememberBreakGlass } from '../api/session.js';

/** The durations offered, in minutes (the server allows at most 240). */
export const BREAK_GLASS_MINUTES = [30, 60, 120, 240] as const;
/** The shortest reason the server accepts, in characters. */
export const MIN_REASON = 10;

const JSON_ACCEPT = 'application/json';

/** A 403 of the access policy for a resident outside the user's organisation and areas. */
export function isOutOfScope(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && /break-glass|超出授权范围|outside your access scope/i.test(error.message);
}

/** POST /api/break-glass; the grant is remembered for this session until it ends. */
export async function openBreakGlass(patientId: string, reason: string, minutes: number): Promise<BreakGlassGrantDto> {
  const grant = await apiRequest<BreakGlassGrantDto>('/api/break-glass', {
    method: 'POST',
    body: { patientId, reason: reason.trim(), minutes, purpose: 'BTG' },
    accept: JSON_ACCEPT,
  });
  rememberBreakGlass(grant.patientId, grant.expiresAt);
  return grant;
}

/**
 * An open grant the user already holds for this resident (opened in another tab or before a
 * sign-in), found in GET /api/break-glass and remembered; undefined when there is none.
 */
export async function resumeBreakGlass(patientId: string, signal?: AbortSignal): Promise<string | undefined> {
  const page = await apiRequest<{ total: number; rows: BreakGlassGrantDto[] }>('/api/break-glass?_count=50', {
    signal,
    accept: JSON_ACCEPT,
  });
  const now = Date.now();
  const open = page.rows.find((g) => g.patientId === patientId && !g.endedAt && Date.parse(g.expiresAt) > now + 5_000);
  if (!open) return undefined;
  rememberBreakGlass(open.patientId, open.expiresAt);
  return breakGlassUntil(patientId);
}

interface PolicyAnswer {
  rules: { effect: string; scope?: string; roles: string[] }[];
}

/** Whether an allow rule with the break-glass scope names one of these roles (true when the policy cannot be read). */
export async function mayBreakGlass(roles: readonly string[], signal?: AbortSignal): Promise<boolean> {
  try {
    const policy = await apiRequest<PolicyAnswer>('/api/access/policy', { signal, accept: JSON_ACCEPT });
    return policy.rules.some(
      (r) => r.effect === 'allow' && r.scope === 'break-glass' && r.roles.some((role) => role === '*' || roles.includes(role)),
    );
  } catch (error) {
    if (signal?.aborted) throw error;
    return true;
  }
}
