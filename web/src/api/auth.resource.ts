import { apiRequest } from './http.js';
import type { Session, SessionUser } from './session.js';

interface LoginResponse {
  access_token: string;
  user: SessionUser;
}

/** POST /auth/login; resolves to the new session (not yet stored). */
export async function login(username: string, password: string): Promise<Session> {
  const response = await apiRequest<LoginResponse>('/auth/login', {
    method: 'POST',
    body: { username, password },
    accept: 'application/json',
    authRedirect: false,
  });
  if (!response?.access_token) throw new Error('login response has no access_token');
  const user = response.user ?? { username, displayName: username, roles: [] };
  return { token: response.access_token, user: { ...user, roles: user.roles ?? [] } };
}
