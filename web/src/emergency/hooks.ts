/** Hooks the 应急管理 screens share: a paged list, the units' and items' names. */
import { useCallback, useEffect, useState } from 'react';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { listUnits, reserveItems, type ReserveItem, type UnitView } from './emergency.resource.js';

export interface Paged<T> {
  data?: { items: T[]; total: number };
  loading: boolean;
  error?: string;
  page: number;
  size: number;
  setPage(page: number, size: number): void;
  reload(): void;
  /** antd Table pagination with the total in words. */
  pagination: {
    current: number;
    pageSize: number;
    total: number;
    showSizeChanger: boolean;
    pageSizeOptions: number[];
    showTotal(n: number): string;
    onChange(p: number, s: number): void;
  };
}

/**
 * A list fetched a page at a time; `deps` (filters) restart it at page 1. `total` words the
 * count ("共 {n} 项").
 */
export function usePaged<T, A extends { items: T[]; total: number } = { items: T[]; total: number }>(
  fetch: (page: { limit: number; offset: number }, signal: AbortSignal) => Promise<A>,
  deps: readonly unknown[],
  total: (n: number) => string = (n) => t('em.total', '共 {n} 项', { n }),
  initialSize = 20,
): Paged<T> & { answer?: A } {
  const [paged, setPaged] = useState({ page: 1, size: initialSize });
  const [answer, setAnswer] = useState<A>();
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
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    fetch({ limit: size, offset: (page - 1) * size }, ctrl.signal)
      .then((d) => {
        setAnswer(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `fetch` is rebuilt each render; `key` carries what it depends on
  }, [key, page, size, tick]);
  const setPage = useCallback((p: number, s: number) => setPaged((old) => ({ page: s !== old.size ? 1 : p, size: s })), []);
  return {
    answer,
    data: answer,
    loading,
    error,
    page,
    size,
    setPage,
    reload: () => setTick((n) => n + 1),
    pagination: {
      current: page,
      pageSize: size,
      total: answer?.total ?? 0,
      showSizeChanger: true,
      pageSizeOptions: [10, 20, 50, 100],
      showTotal: total,
      onChange: setPage,
    },
  };
}

export interface Names {
  units: UnitView[];
  items: ReserveItem[];
  standardDays: number;
  unit(code: string | null | undefined): string;
  item(code: string): string;
  uom(code: string): string;
}

/**
 * The units taking part and the item catalogue, to say names rather than codes. A code the lists
 * do not know is shown as （未登记单位）/ （未知物资）, never bare.
 */
export function useNames(): Names {
  const [units, setUnits] = useState<UnitView[]>([]);
  const [items, setItems] = useState<ReserveItem[]>([]);
  const [standardDays, setStandardDays] = useState(30);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    const ctrl = new AbortController();
    Promise.all([
      listUnits({ limit: 200, offset: 0 }, ctrl.signal).catch((e: unknown) => {
        if (isAbort(e)) throw e;
        return { items: [] as UnitView[] };
      }),
      reserveItems(ctrl.signal).catch((e: unknown) => {
        if (isAbort(e)) throw e;
        return { items: [] as ReserveItem[], standardDays: 30 };
      }),
    ])
      .then(([u, i]) => {
        setUnits(u.items);
        setItems(i.items);
        setStandardDays(i.standardDays);
        setLoaded(true);
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, []);
  const unitMap = new Map(units.map((u) => [u.code, u.name]));
  const itemMap = new Map(items.map((i) => [i.code, i]));
  return {
    units,
    items,
    standardDays,
    unit: (code) => (code ? (unitMap.get(code) ?? (loaded ? t('em.unit.unknown', '（未登记单位）') : '…')) : '—'),
    item: (code) => itemMap.get(code)?.name ?? (loaded ? t('em.item.unknown', '（未知物资）') : '…'),
    uom: (code) => itemMap.get(code)?.uom ?? '',
  };
}
