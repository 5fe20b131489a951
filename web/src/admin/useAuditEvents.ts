import { useCallback, useEffect, useState } from 'react';
import { fetchRecentAuditEvents } from '../api/audit.resource.js';
import { ApiError, isAbort } from '../api/http.js';
import type { AuditEvent } from '@medplum/fhirtypes';
import { bundleResources } from '../api/bundle.js';

export function useAuditEvents() {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [forbidden, setForbidden] = useState(false);
  const [reloadCount, setReloadCount] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    fetchRecentAuditEvents(controller.signal)
      .then((bundle) => {
        setEvents(bundleResources(bundle, 'AuditEvent'));
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
  }, [reloadCount]);

  const reload = useCallback(() => setReloadCount((n) => n + 1), []);
  return { events, loading, error, forbidden, reload };
}
