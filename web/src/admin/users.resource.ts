/** /api/users: the user administration calls of the 用户管理 screen. */
import type { UserDto, UserPageDto } from '../../../src/app/user-routes.js';
import type { Role } from '../../../src/platform/auth.js';
import { apiRequest } from '../api/http.js';

export type UserRow = UserDto;
export type UserPage = UserPageDto;

export interface UserFilter {
  q?: string;
  role?: Role;
  active?: boolean;
  limit: number;
  offset: number;
}

export interface UserFields {
  displayName: string;
  roles: Role[];
  organization?: string | null;
  areas?: string[];
}

const JSON_ACCEPT = 'application/json';

export function fetchUsers(filter: UserFilter, signal?: AbortSignal): Promise<UserPage> {
  const params = new URLSearchParams();
  if (filter.q) params.set('q', filter.q);
  if (filter.role) params.set('role', filter.role);
  if (filter.active !== undefined) params.set('active', String(filter.active));
  params.set('limit', String(filter.limit));
  params.set('offset', String(filter.offset));
  return apiRequest<UserPage>(`/api/users?${params.toString()}`, { signal, accept: JSON_ACCEPT });
}

/** Creates a user; without a password the server generates a one-time password, answered once. */
export function createUser(
  fields: UserFields & { username: string; password?: string },
): Promise<{ user: UserRow; oneTimePassword?: string }> {
  return apiRequest('/api/users', { method: 'POST', body: fields, accept: JSON_ACCEPT });
}

export function updateUser(username: string, patch: Partial<UserFields> & { active?: boolean }): Promise<UserRow> {
  return apiRequest(`/api/users/${encodeURIComponent(username)}`, { method: 'PATCH', body: patch, accept: JSON_ACCEPT });
}

export function resetPassword(username: string): Promise<{ username: string; oneTimePassword?: string }> {
  return apiRequest(`/api/users/${encodeURIComponent(username)}/reset-password`, { method: 'POST', body: {}, accept: JSON_ACCEPT });
}

export function resetTotp(username: string): Promise<UserRow> {
  return apiRequest(`/api/users/${encodeURIComponent(username)}/reset-totp`, { method: 'POST', accept: JSON_ACCEPT });
}
