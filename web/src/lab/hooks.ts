/** Hooks the 采送检报 screens share. */
import { t } from '../i18n/i18n.js';
import { pageControls, useServerPage, type PageOf, type PageQuery, type ServerPaged } from '../shared/paged-table.component.js';

/**
 * A server-paged list with its antd paging: the total in words ("共 {n} 项", or the caller's
 * wording) and page sizes to choose from.
 */
export function usePaged<T, A extends PageOf<T> = PageOf<T>>(
  fetch: (page: PageQuery, signal: AbortSignal) => Promise<A>,
  deps: readonly unknown[],
  total: (n: number) => string = (n) => t('lab.total', '共 {n} 项', { n }),
  initialSize = 20,
): ServerPaged<T, A> & { answer?: A; pagination: ReturnType<typeof pageControls> } {
  const list = useServerPage<T, A>(fetch, deps, { pageSize: initialSize });
  return { ...list, answer: list.data, pagination: pageControls(list, total, true) };
}
