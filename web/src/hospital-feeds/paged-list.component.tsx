/**
 * One paged list of the 医院数据上报 screen (uploads, dead letters): the page loaded from the
 * server with its total whenever the page, the query or the screen's version changes, and the
 * table that shows it with the paging.
 */
import { useCallback, useEffect, useState } from 'react';
import { Table, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';

export const PAGE_SIZE = 20;

export interface Paging {
  limit: number;
  offset: number;
}

export interface PagedList<T> {
  page: number;
  setPage: (page: number) => void;
  data: { items: T[]; total: number } | null;
  error: string | null;
  /** Loads the current page again. */
  reload: () => void;
}

/** Loads the current page with `load` (keep it stable with useCallback) whenever the page, `load` or `version` changes. */
export function usePagedList<T>(
  load: (paging: Paging, signal: AbortSignal) => Promise<{ items: T[]; total: number }>,
  version: number,
): PagedList<T> {
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ items: T[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    load({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, ctl.signal)
      .then(setData)
      .catch((e: unknown) => !isAbort(e) && setError(e instanceof Error ? e.message : String(e)));
    return () => ctl.abort();
  }, [load, page, version, reload]);
  return { page, setPage, data, error, reload: useCallback(() => setReload((n) => n + 1), []) };
}

/** The list's table, paged on the server with the total. */
export function PagedTable<T extends { id: number }>({ list, columns }: { list: PagedList<T>; columns: TableColumnsType<T> }) {
  return (
    <Table
      rowKey="id"
      size="small"
      dataSource={list.data?.items ?? []}
      columns={columns}
      loading={!list.data && !list.error}
      pagination={{
        current: list.page,
        pageSize: PAGE_SIZE,
        total: list.data?.total ?? 0,
        showSizeChanger: false,
        showTotal: (n) => t('hf.total', '共 {n} 条', { n }),
        onChange: list.setPage,
      }}
    />
  );
}
