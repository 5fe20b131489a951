/** One page of audit events for a filter, from GET /api/audit/events (paged on the server, with the total). */
import { useCallback, useEffect, useState } from 'react';
import { fetchAuditEvents, type AuditEventPage, type AuditFilter } from '../api/audit.resource.js';
import { ApiError, isAbort } from '../api/http.js';

const EMPTY: AuditEventPage = { total: 0, rows: [], count: 0, offset: 0 };

export function useAuditEvents(filter: AuditFilter, page: number, pageSize: number) {
  const [data, setData] = useState<AuditEventPage>(EMPTY);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [forbidden, setForbidden] = useState(false);
  const [reloadCount, setReloadCount] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    fetchAuditEvents(filter, { count: pageSize, offset: (page - 1) * pageSize }, controller.signal)
      .then((answer) => {
        setData(answer);
        setError(undefined);
        setForbidden(false);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (isAbort(err)) return;
        setForbidden(err instanceof ApiError && err.status === 403);
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      });
    return () => controller.abort();
  }, [filter, page, pageSize, reloadCount]);

  const reload = useCallback(() => setReloadCount((n) => n + 1), []);
  return { data, loading, error, forbidden, reload };
}
