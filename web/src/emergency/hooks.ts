/** Hooks the 应急管理 screens share: the units' and items' names. */
import { useEffect, useState } from 'react';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { listUnits, reserveItems, type ReserveItem, type UnitView } from './emergency.resource.js';

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
