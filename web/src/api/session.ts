/** The signed-in user's token and profile, kept in sessionStorage (gone when the tab closes). */
import type { AuthUser, Role } from '../../../src/platform/auth.js';

/** The user as the server's login answers it (username, display name, roles, organization). */
export type SessionUser = AuthUser;

export interface Session {
  token: string;
  user: SessionUser;
}

const STORAGE_KEY = 'yifang.session';
const listeners = new Set<() => void>();
let cached: Session | null | undefined;

export function getSession(): Session | null {
  if (cached !== undefined) return cached;
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    cached = parsed && typeof parsed.token === 'string' && parsed.user ? parsed : null;
  } catch {
    cached = null;
  }
  return cached;
}

export function setSession(session: Session | null): void {
  cached = session;
  try {
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // the session then lasts only as long as this page
  }
  for (const listener of listeners) listener();
}

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function hasRole(user: SessionUser | undefined | null, role: Role): boolean {
  return !!user?.roles?.includes(role);
}
