/** Names for the ids an investigation answer carries: residents (Patient) and facilities (Organization). */
import { useEffect, useState } from 'react';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { EPIINV, facilityNames, residentNames } from './investigation.resource.js';

export interface Names {
  resident(id: string | null | undefined): string;
  facility(key: string | null | undefined): string;
}

/**
 * Looks the names up once per list of ids; until they come (or when one is not visible to the
 * user) the words say so, never the id itself.
 */
export function useNames(patientIds: readonly string[], facilityKeys: readonly string[] = [], purpose: string | undefined = EPIINV): Names {
  const [residents, setResidents] = useState<Map<string, string>>(new Map());
  const [facilities, setFacilities] = useState<Map<string, string>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const pKey = [...new Set(patientIds)].sort().join(',');
  const fKey = [...new Set(facilityKeys.filter(Boolean))].sort().join(',');
  useEffect(() => {
    const ctrl = new AbortController();
    setLoaded(false);
    Promise.all([
      pKey ? residentNames(pKey.split(','), ctrl.signal, purpose) : Promise.resolve(new Map<string, string>()),
      fKey
        ? facilityNames(fKey.split(','), ctrl.signal).catch(() => new Map<string, string>())
        : Promise.resolve(new Map<string, string>()),
    ])
      .then(([r, f]) => {
        setResidents(r);
        setFacilities(f);
        setLoaded(true);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setLoaded(true);
      });
    return () => ctrl.abort();
  }, [pKey, fKey, purpose]);
  return {
    resident: (id) => (id && residents.get(id)) || (loaded ? t('inv.name.unknown', '（姓名不可见）') : t('inv.name.loading', '…')),
    facility: (key) =>
      key ? facilities.get(key) || (loaded ? t('inv.facility.unknown', '（未登记机构）') : '…') : t('inv.facility.none', '（未注明机构）'),
  };
}
