import { apiRequest } from './http.js';
import type { Session, SessionUser } from './session.js';

/** POST /auth/login's answer: OAuth 2.0 token response fields and the user. */
interface LoginAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: SessionUser;
}

/** POST /auth/login; resolves to the new session (not yet stored). */
export async function login(username: string, password: string): Promise<Session> {
  const response = await apiRequest<LoginAnswer>('/auth/login', {
    method: 'POST',
    body: { username, password },
    accept: 'application/json',
    authRedirect: false,
  });
  if (!response?.access_token) throw new Error('login response has no access_token');
  const user = response.user ?? { username, displayName: username, roles: [] };
  return { token: response.access_token, user: { ...user, roles: user.roles ?? [] } };
}
