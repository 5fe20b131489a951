import { useSyncExternalStore } from 'react';
import { getSession, subscribeSession, type Session } from '../api/session.js';

/** The current session (null when signed out); re-renders on sign-in, sign-out and 401. */
export function useSession(): Session | null {
  return useSyncExternalStore(subscribeSession, getSession, getSession);
}
