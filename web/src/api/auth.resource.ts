import { ApiError, apiRequest } from './http.js';
import type { Session, SessionUser } from './session.js';

/** POST /auth/login's answer: OAuth 2.0 token response fields and the user. */
interface LoginAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: SessionUser;
}

/** POST /auth/login; resolves to the new session (not yet stored). `code`: the authenticator's one-time code. */
export async function login(username: string, password: string, code?: string): Promise<Session> {
  const response = await apiRequest<LoginAnswer>('/auth/login', {
    method: 'POST',
    body: { username, password, ...(code ? { code } : {}) },
    accept: 'application/json',
    authRedirect: false,
  });
  if (!response?.access_token) throw new Error('login response has no access_token');
  const user = response.user ?? { username, displayName: username, roles: [] };
  return { token: response.access_token, user: { ...user, roles: user.roles ?? [] } };
}

/** True when a refused sign-in asks for the one-time code of a second factor (the user enrolled one). */
export function needsOneTimeCode(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401 && JSON.stringify(error.body ?? '').includes('totp-required');
}

/** POST /auth/logout: ends the session on the server (the token is refused from then on). */
export async function logout(): Promise<void> {
  await apiRequest('/auth/logout', { method: 'POST', accept: 'application/json', authRedirect: false });
}

/** POST /auth/password: the signed-in user changes their password; their other sessions end. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await apiRequest('/auth/password', { method: 'POST', body: { currentPassword, newPassword }, accept: 'application/json' });
}

/** POST /auth/totp/enrol: a new secret for the authenticator app (administrators and auditors). */
export function enrolTotp(): Promise<{ secret: string; otpauthUrl: string }> {
  return apiRequest('/auth/totp/enrol', { method: 'POST', accept: 'application/json' });
}

/** POST /auth/totp/confirm: confirms the enrolment with a code from the app. */
export async function confirmTotp(code: string): Promise<void> {
  await apiRequest('/auth/totp/confirm', { method: 'POST', body: { code }, accept: 'application/json' });
}
