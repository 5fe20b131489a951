/**
 * A list paged on the server: the hook that loads the page on screen (with its total) and the
 * table that shows it with the paging and the total in words. Every screen's server-paged lists
 * use these (contracts, hospital feeds, the registry, emergency).
 */
import { useCallback, useEffect, useState } from 'react';
import { Table, type TableProps } from 'antd';
import { isAbort } from '../api/http.js';

/** What a list's fetch is asked for: one page. */
export interface PageQuery {
  limit: number;
  offset: number;
}

/** What a list's fetch answers: the page's rows and the count of all of them. */
export interface PageOf<T> {
  items: T[];
  total: number;
}

export interface ServerPaged<T, A extends PageOf<T> = PageOf<T>> {
  /** The last page that came (kept on screen while the next one loads); undefined until the first. */
  data?: A;
  loading: boolean;
  error?: string;
  page: number;
  size: number;
  /** Goes to `page`; a new page size goes back to the first page. */
  setPage(page: number, size?: number): void;
  /** Loads the current page again. */
  reload(): void;
}

export interface ServerPageOptions {
  /** Rows per page at first (20). */
  pageSize?: number;
  /** Reload the current page when one of these changes, staying on it (a screen's version). */
  refresh?: readonly unknown[];
  /** Called with each failed fetch (besides `error`), e.g. to show a message. */
  onError?: (e: Error) => void;
}

/**
 * Loads a page with `fetch` whenever the page changes, when asked (`reload`) or when `deps` (the
 * filters) change: then back to the first page. `fetch` may be rebuilt each render: `deps` carry
 * what it depends on.
 */
export function useServerPage<T, A extends PageOf<T> = PageOf<T>>(
  fetch: (page: PageQuery, signal: AbortSignal) => Promise<A>,
  deps: readonly unknown[],
  { pageSize = 20, refresh = [], onError }: ServerPageOptions = {},
): ServerPaged<T, A> {
  const [paged, setPaged] = useState({ page: 1, size: pageSize });
  const [data, setData] = useState<A>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(deps);
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    // Filters changed: back to the first page (set during render, before the fetch below runs).
    setLastKey(key);
    if (paged.page !== 1) setPaged({ page: 1, size: paged.size });
  }
  const { page, size } = paged;
  const refreshKey = JSON.stringify(refresh);
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    fetch({ limit: size, offset: (page - 1) * size }, ctrl.signal)
      .then((d) => {
        if (ctrl.signal.aborted) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e) || ctrl.signal.aborted) return;
        const err = e instanceof Error ? e : new Error(String(e));
        setError(err.message);
        setLoading(false);
        onError?.(err);
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `fetch` is rebuilt each render; `key` and `refreshKey` carry what it depends on
  }, [key, refreshKey, page, size, tick]);
  const setPage = useCallback(
    (p: number, s?: number) => setPaged((old) => (s === undefined || s === old.size ? { page: p, size: old.size } : { page: 1, size: s })),
    [],
  );
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, loading, error, page, size, setPage, reload };
}

/** antd paging for a server-paged list: the total in words, page sizes to choose from with `sizeChanger`. */
export function pageControls<T>(list: ServerPaged<T, PageOf<T>>, total: (n: number) => string, sizeChanger = false) {
  return {
    current: list.page,
    pageSize: list.size,
    total: list.data?.total ?? 0,
    showSizeChanger: sizeChanger,
    ...(sizeChanger ? { pageSizeOptions: [10, 20, 50, 100] } : {}),
    showTotal: total,
    onChange: list.setPage,
  };
}

export type PagedTableProps<T> = Omit<TableProps<T>, 'dataSource' | 'loading' | 'pagination' | 'rowKey'> & {
  list: ServerPaged<T, PageOf<T>>;
  rowKey: NonNullable<TableProps<T>['rowKey']>;
  /** The count of all rows in words ("共 {n} 条"). */
  total: (n: number) => string;
  /** Let the reader choose 10, 20, 50 or 100 rows a page. */
  sizeChanger?: boolean;
  'data-testid'?: string;
};

/** The table of a server-paged list: the page's rows, loading while a page comes, the paging with the total. */
export function PagedTable<T extends object>({ list, total, sizeChanger, ...table }: PagedTableProps<T>) {
  return (
    <Table<T>
      size="small"
      {...table}
      dataSource={list.data?.items ?? []}
      loading={list.loading}
      pagination={pageControls(list, total, sizeChanger)}
    />
  );
}
