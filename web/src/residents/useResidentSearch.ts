import { useCallback, useEffect, useState } from 'react';
import { fetchPatientPage, patientSearchPath } from '../api/patient.resource.js';
import { isAbort } from '../api/http.js';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { bundleLink, bundleResources } from '../api/bundle.js';

export interface ResidentSearchState {
  residents: Patient[];
  total?: number;
  loading: boolean;
  error?: string;
  /** 1-based page number within this search. */
  page: number;
  hasNext: boolean;
  hasPrevious: boolean;
  next(): void;
  previous(): void;
  reload(): void;
}

/**
 * Runs a resident search and pages through it with the Bundle's `next` links. Earlier page
 * URLs are kept on a stack, so going back does not depend on the server offering `previous`.
 */
export function useResidentSearch(query: string): ResidentSearchState {
  const [pages, setPages] = useState<string[]>(() => [patientSearchPath(query)]);
  const [bundle, setBundle] = useState<Bundle<Patient>>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reloadCount, setReloadCount] = useState(0);

  // A new query starts a new search from its first page.
  useEffect(() => {
    setPages([patientSearchPath(query)]);
  }, [query]);

  const current = pages[pages.length - 1]!;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    fetchPatientPage(current, controller.signal)
      .then((result) => {
        setBundle(result);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (isAbort(err)) return;
        setBundle(undefined);
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      });
    return () => controller.abort();
  }, [current, reloadCount]);

  const nextLink = bundleLink(bundle, 'next');
  const next = useCallback(() => {
    if (nextLink) setPages((stack) => [...stack, nextLink]);
  }, [nextLink]);
  const previous = useCallback(() => setPages((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)), []);
  const reload = useCallback(() => setReloadCount((n) => n + 1), []);

  return {
    residents: bundleResources(bundle, 'Patient'),
    total: bundle?.total,
    loading,
    error,
    page: pages.length,
    hasNext: !!nextLink && !loading,
    hasPrevious: pages.length > 1 && !loading,
    next,
    previous,
    reload,
  };
}
