import { useCallback, useEffect, useState } from 'react';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { fetchPatientPage, patientSearchPath } from '../api/patient.resource.js';
import { isAbort } from '../api/http.js';
import { bundleLink, bundleResources } from '../api/bundle.js';
import { residentAddress, residentIdNumber, residentName, residentPhone } from './resident.model.js';
import { searchResidents, type ResidentSearchResult } from './merged-record.resource.js';

/** One row of the resident list: a person (all their facilities' records) or, when browsing, a Patient. */
export interface ResidentRow {
  key: string;
  /** What #/residents/{recordId} opens: the Person when linked, else the Patient. */
  recordId: string;
  name: string;
  gender?: string;
  birthDate?: string;
  deceased?: boolean;
  idNumber?: string;
  phone?: string;
  address?: string;
  /** Facilities holding a record of the person (search results only). */
  facilities: string[];
}

export interface ResidentSearchState {
  rows: ResidentRow[];
  total?: number;
  /** More than 10,000 matched: the total is a floor. */
  capped: boolean;
  /** Rows on this page outside the user's access scope. */
  withheld: number;
  /** How the server read the query (name, pinyin, idNumber, phone, digits); undefined when browsing. */
  kind?: ResidentSearchResult['kind'];
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

export const PAGE_SIZE = 20;

function patientRow(p: Patient): ResidentRow {
  return {
    key: p.id ?? residentName(p),
    recordId: p.id ?? '',
    name: residentName(p),
    gender: p.gender,
    birthDate: p.birthDate,
    deceased: !!(p.deceasedBoolean || p.deceasedDateTime),
    idNumber: residentIdNumber(p),
    phone: residentPhone(p) || undefined,
    address: residentAddress(p) || undefined,
    facilities: [],
  };
}

/**
 * A query searches persons by name, pinyin initials, ID number or phone (GET
 * /api/residents/search, paged by offset); an empty query browses Patients through FHIR, paged
 * with the Bundle's `next` links (earlier page URLs kept on a stack).
 */
export function useResidentSearch(query: string): ResidentSearchState {
  const q = query.trim();
  const [pages, setPages] = useState<string[]>(() => [patientSearchPath('')]);
  const [page, setPage] = useState(1);
  const [bundle, setBundle] = useState<Bundle<Patient>>();
  const [found, setFound] = useState<ResidentSearchResult>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reloadCount, setReloadCount] = useState(0);

  // A new query starts a new search from its first page.
  useEffect(() => {
    setPages([patientSearchPath('')]);
    setPage(1);
  }, [q]);

  const current = pages[pages.length - 1]!;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    const done = () => setLoading(false);
    const fail = (err: unknown) => {
      if (isAbort(err)) return;
      setBundle(undefined);
      setFound(undefined);
      setError(err instanceof Error ? err.message : String(err));
      setLoading(false);
    };
    if (q)
      searchResidents(q, PAGE_SIZE, (page - 1) * PAGE_SIZE, controller.signal)
        .then((r) => {
          setFound(r);
          setBundle(undefined);
          done();
        })
        .catch(fail);
    else
      fetchPatientPage(current, controller.signal)
        .then((result) => {
          setBundle(result);
          setFound(undefined);
          done();
        })
        .catch(fail);
    return () => controller.abort();
  }, [q, page, current, reloadCount]);

  const nextLink = bundleLink(bundle, 'next');
  const searchHasNext = !!found && found.offset + found.limit < found.total + found.withheld;
  const next = useCallback(() => {
    if (q) setPage((n) => n + 1);
    else if (nextLink) setPages((stack) => [...stack, nextLink]);
  }, [q, nextLink]);
  const previous = useCallback(() => {
    if (q) setPage((n) => Math.max(1, n - 1));
    else setPages((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack));
  }, [q]);
  const reload = useCallback(() => setReloadCount((n) => n + 1), []);

  const rows: ResidentRow[] = q
    ? (found?.rows ?? []).map((h) => ({
        key: h.recordId,
        recordId: h.recordId,
        name: h.name ?? residentName(undefined),
        gender: h.gender ?? undefined,
        birthDate: h.birthDate ?? undefined,
        idNumber: h.idNumber ?? undefined,
        phone: h.phone ?? undefined,
        address: h.address ?? undefined,
        facilities: h.facilities.map((f) => f.name ?? f.id),
      }))
    : bundleResources(bundle, 'Patient').map(patientRow);

  const pageNumber = q ? page : pages.length;
  return {
    rows,
    total: q ? found?.total : bundle?.total,
    capped: !!found?.capped,
    withheld: found?.withheld ?? 0,
    kind: q ? found?.kind : undefined,
    loading,
    error,
    page: pageNumber,
    hasNext: (q ? searchHasNext : !!nextLink) && !loading,
    hasPrevious: pageNumber > 1 && !loading,
    next,
    previous,
    reload,
  };
}
