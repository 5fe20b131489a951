import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { fetchMergedRecord, type MergedRecord, type TimelineQuery } from './merged-record.resource.js';
import { ApiError, isAbort } from '../api/http.js';
import { breakGlassUntil, getSession, subscribeBreakGlass } from '../api/session.js';
import { isOutOfScope, mayBreakGlass, resumeBreakGlass } from './break-glass.resource.js';

export interface ResidentRecordState {
  record?: MergedRecord;
  loading: boolean;
  error?: string;
  notFound: boolean;
  /** The access policy refused the resident: outside the user's organisation and areas. */
  outOfScope: boolean;
  /** Whether the policy gives the user's roles emergency access (break-glass). */
  canBreakGlass: boolean;
  /** When this resident's emergency access ends (ISO time), while it lasts. */
  emergencyUntil?: string;
  reload(): void;
}

/**
 * Loads a resident's merged record (the Person, every linked Patient, one page of the timeline
 * across facilities: GET /api/residents/{id}/record) for the record page; `query` pages and
 * filters the timeline. A
 * refusal for a resident outside the user's scope is told apart from other errors; an open
 * emergency grant the user already holds for the resident is picked up once and used.
 */
export function useResidentRecord(id: string, query: TimelineQuery = { limit: 20, offset: 0 }): ResidentRecordState {
  const [record, setRecord] = useState<MergedRecord>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [notFound, setNotFound] = useState(false);
  const [outOfScope, setOutOfScope] = useState(false);
  const [canBreakGlass, setCanBreakGlass] = useState(false);
  const [reloadCount, setReloadCount] = useState(0);
  const resumed = useRef(false);
  const emergencyUntil = useSyncExternalStore(subscribeBreakGlass, () => breakGlassUntil(id));

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    setLoading(true);
    setError(undefined);
    setNotFound(false);
    fetchMergedRecord(id, query, signal)
      .then((merged) => {
        setRecord(merged);
        setOutOfScope(false);
        setNotFound(merged.patients.length === 0 && merged.withheldPatients === 0);
        setLoading(false);
      })
      .catch(async (err: unknown) => {
        if (isAbort(err)) return;
        setRecord(undefined);
        if (isOutOfScope(err)) {
          if (!resumed.current && !breakGlassUntil(id)) {
            resumed.current = true;
            const until = await resumeBreakGlass(id, signal).catch(() => undefined);
            if (signal.aborted) return;
            if (until) return setReloadCount((n) => n + 1);
          }
          const allowed = await mayBreakGlass(getSession()?.user.roles ?? [], signal).catch(() => false);
          if (signal.aborted) return;
          setCanBreakGlass(allowed);
          setOutOfScope(true);
        } else {
          setOutOfScope(false);
          if (err instanceof ApiError && (err.status === 404 || err.status === 410)) setNotFound(true);
          else setError(err instanceof Error ? err.message : String(err));
        }
        setLoading(false);
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the query's fields are the dependencies
  }, [id, reloadCount, query.limit, query.offset, query.facility, query.types?.join(',')]);

  const reload = useCallback(() => setReloadCount((n) => n + 1), []);

  // When the grant ends the record is asked for again (and refused again).
  useEffect(() => {
    if (!emergencyUntil) return;
    const timer = setTimeout(reload, Math.max(0, Date.parse(emergencyUntil) - Date.now()) + 500);
    return () => clearTimeout(timer);
  }, [emergencyUntil, reload]);

  return { record, loading, error, notFound, outOfScope, canBreakGlass, emergencyUntil, reload };
}
