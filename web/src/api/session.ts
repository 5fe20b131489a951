/** The signed-in user's token and profile, kept in sessionStorage (gone when the tab closes). */
import type { AuthUser, Role } from '../../../src/platform/auth.js';
import { rolesMay, type Permission } from '../../../src/shared/roles.js';

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
  if (!session) forgetBreakGlass();
  for (const listener of listeners) listener();
}

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the user's roles carry a permission (the server's own table, src/shared/roles.ts). */
export function userMay(user: SessionUser | undefined | null, permission: Permission): boolean {
  return !!user && rolesMay(user.roles, permission);
}

export function hasRole(user: SessionUser | undefined | null, role: Role): boolean {
  return !!user?.roles?.includes(role);
}

// ---------------------------------------------------------------------------------------------
// Emergency access (break-glass): the grants this user opened in this tab, patientId → expiresAt.
// The API client sends X-Purpose-Of-Use: BTG on a resident's requests while the grant lasts.

const GRANTS_KEY = 'yifang.breakGlass';
const grantListeners = new Set<() => void>();
let grantsInMemory: { username: string; grants: Record<string, string> } | null = null;

function readGrants(): Record<string, string> {
  const username = getSession()?.user.username;
  if (!username) return {};
  let stored = grantsInMemory;
  try {
    const raw = sessionStorage.getItem(GRANTS_KEY);
    stored = raw ? (JSON.parse(raw) as typeof stored) : null;
  } catch {
    // storage unavailable: the copy in memory holds
  }
  return stored && stored.username === username && stored.grants && typeof stored.grants === 'object' ? stored.grants : {};
}

function writeGrants(grants: Record<string, string> | null): void {
  const username = getSession()?.user.username;
  grantsInMemory = grants && username ? { username, grants } : null;
  try {
    if (grantsInMemory) sessionStorage.setItem(GRANTS_KEY, JSON.stringify(grantsInMemory));
    else sessionStorage.removeItem(GRANTS_KEY);
  } catch {
    // kept in memory only
  }
  for (const listener of grantListeners) listener();
}

/** Remembers an emergency-access grant for one resident until `expiresAt` (ISO time). */
export function rememberBreakGlass(patientId: string, expiresAt: string): void {
  const now = Date.now();
  const grants = Object.fromEntries(Object.entries(readGrants()).filter(([, until]) => Date.parse(until) > now));
  grants[patientId] = expiresAt;
  writeGrants(grants);
}

/** Forgets every remembered grant (signing out does it too). */
export function forgetBreakGlass(): void {
  writeGrants(null);
}

/** When the open grant for this resident ends (ISO time), or undefined when there is none now. */
export function breakGlassUntil(patientId: string, now = Date.now()): string | undefined {
  const until = readGrants()[patientId];
  return until && Date.parse(until) > now ? until : undefined;
}

/** Residents with an open grant now. */
export function breakGlassPatients(now = Date.now()): string[] {
  return Object.entries(readGrants())
    .filter(([, until]) => Date.parse(until) > now)
    .map(([id]) => id);
}

export function subscribeBreakGlass(listener: () => void): () => void {
  grantListeners.add(listener);
  return () => grantListeners.delete(listener);
}
