/**
 * 居民健康门户 (#/portal): its own sign-in and a mobile-first layout — whose record (yourself or
 * a child), then one page at a time. Plain React and a small stylesheet, no antd: the portal is
 * loaded as its own chunk and paints fast on a slow phone.
 */
import { setLang, t, useLang } from '../i18n/i18n-core.js';
import { href, navigate, useRoute } from '../shell/router.js';
import { portalApi, setPortalSession, usePortalSession } from './portal-api.js';
import { PortalLogin } from './portal-login.component.js';
import {
  PortalAccessLog,
  PortalAddChild,
  PortalConsents,
  PortalContract,
  PortalNotices,
  PortalReadings,
} from './portal-pages.component.js';
import { PortalRecord, PortalSchedule } from './portal-record.component.js';
import { useLoad } from './use-load.js';
import './portal.css';

const PAGES = ['record', 'schedule', 'readings', 'access', 'consents', 'contract', 'notices'] as const;
type PortalTab = (typeof PAGES)[number];

function pageLabel(p: PortalTab): string {
  const labels: Record<PortalTab, () => string> = {
    record: () => t('portal.nav.record', '档案'),
    schedule: () => t('portal.nav.schedule', '接种'),
    readings: () => t('portal.nav.readings', '自测'),
    access: () => t('portal.nav.access', '查阅记录'),
    consents: () => t('portal.nav.consents', '授权'),
    contract: () => t('portal.nav.contract', '签约'),
    notices: () => t('portal.nav.notices', '消息'),
  };
  return labels[p]();
}

export function PortalApp() {
  const lang = useLang();
  const session = usePortalSession();
  const route = useRoute();
  const page = (PAGES as readonly string[]).includes(route.path.split('/')[2] ?? '') ? (route.path.split('/')[2] as PortalTab) : 'record';
  const forId = route.query.get('for') ?? undefined;
  const me = useLoad((signal) => (session ? portalApi.me(signal) : Promise.resolve(undefined)), [session?.token]);

  const langButton = (
    <button type="button" className="pt-link" onClick={() => setLang(lang === 'en' ? 'zh-CN' : 'en')}>
      {lang === 'en' ? '中文' : 'English'}
    </button>
  );
  if (!session)
    return (
      <div className="pt-app">
        <header className="pt-header">{langButton}</header>
        <PortalLogin />
      </div>
    );
  const people = me.data
    ? [{ id: undefined as string | undefined, name: me.data.self.name }, ...me.data.wards.map((w) => ({ id: w.residentId, name: w.name }))]
    : [];
  const go = (p: PortalTab, who = forId) => navigate(`/portal/${p}`, { for: who });
  return (
    <div className="pt-app">
      <header className="pt-header">
        <strong>{t('portal.title', '居民健康门户')}</strong>
        <span>
          {langButton}
          <button
            type="button"
            className="pt-link"
            onClick={() => {
              void fetch('/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${session.token}` } }).catch(() => undefined);
              setPortalSession(null);
            }}
          >
            {t('portal.logout', '退出')}
          </button>
        </span>
      </header>
      {people.length > 1 && (
        <div className="pt-chips" role="group" aria-label={t('portal.whose', '查看谁的档案')}>
          {people.map((p) => (
            <button key={p.id ?? 'self'} type="button" aria-pressed={forId === p.id} onClick={() => go(page, p.id)}>
              {p.name}
            </button>
          ))}
        </div>
      )}
      <nav className="pt-nav">
        {PAGES.map((p) => (
          <a key={p} href={href(`/portal/${p}`, { for: forId })} aria-current={p === page ? 'page' : undefined}>
            {pageLabel(p)}
            {p === 'notices' && me.data?.unreadNotices ? ` (${me.data.unreadNotices})` : ''}
          </a>
        ))}
      </nav>
      <main>
        {page === 'record' && <PortalRecord forId={forId} />}
        {page === 'schedule' && <PortalSchedule forId={forId} />}
        {page === 'readings' && <PortalReadings forId={forId} />}
        {page === 'access' && <PortalAccessLog forId={forId} />}
        {page === 'consents' && <PortalConsents forId={forId} />}
        {page === 'contract' && <PortalContract forId={forId} />}
        {page === 'notices' && <PortalNotices />}
        {page === 'record' && !forId && <PortalAddChild onLinked={me.reload} />}
      </main>
    </div>
  );
}

export default PortalApp;
