/** Root: locale and theme, sign-in gate, and the route table. */
import { useEffect } from 'react';
import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { SessionUser } from '../api/session.js';
import { AuditLogPage } from '../admin/audit-log.component.js';
import { DashboardPage } from '../dashboard/dashboard.component.js';
import { t, useLang } from '../i18n/i18n.js';
import { ResidentListPage } from '../residents/resident-list.component.js';
import { ResidentRecordPage } from '../residents/resident-record.component.js';
import { AppLayout } from './layout.component.js';
import { LoginPage } from './login.component.js';
import { NotFoundPage, PlaceholderPage } from './placeholder.component.js';
import { matchPath, navigate, useRoute, type Route } from './router.js';
import { useSession } from './useSession.js';

const theme = {
  token: {
    colorPrimary: '#0f7b6c',
    colorLink: '#0f7b6c',
    borderRadius: 6,
    fontFamily:
      "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', 'Helvetica Neue', Arial, sans-serif",
  },
};

function renderRoute(route: Route, user: SessionUser) {
  const { path } = route;
  if (path === '/') return <DashboardPage user={user} />;
  if (path === '/residents') return <ResidentListPage query={route.query.get('q') ?? ''} />;
  const record = matchPath('/residents/:id', path);
  if (record) return <ResidentRecordPage key={record.id} id={record.id!} />;
  switch (path) {
    case '/surveillance/alerts':
      return <PlaceholderPage title={t('nav.alerts', '预警信号')} />;
    case '/surveillance/reports':
      return <PlaceholderPage title={t('nav.reportCards', '传染病报告卡')} />;
    case '/surveillance/overview':
      return <PlaceholderPage title={t('nav.surveillanceOverview', '监测概览')} />;
    case '/investigation':
      return <PlaceholderPage title={t('nav.investigation', '流行病学调查')} />;
    case '/chronic':
      return <PlaceholderPage title={t('nav.chronic', '慢病与家庭医生')} />;
    case '/indicators':
      return <PlaceholderPage title={t('nav.indicators', '指标与决策')} />;
    case '/admin/users':
      return <PlaceholderPage title={t('nav.users', '用户管理')} />;
    case '/admin/audit':
      return <AuditLogPage user={user} />;
    default:
      return <NotFoundPage />;
  }
}

export function App() {
  const lang = useLang();
  const session = useSession();
  const route = useRoute();

  // Signed in and still on the login URL: go to the workbench.
  useEffect(() => {
    if (session && route.path === '/login') navigate('/');
  }, [session, route.path]);

  useEffect(() => {
    document.title = `${t('app.name', '医防')} · ${t('app.title', '区域公共卫生医防融合平台')}`;
  }, [lang]);

  return (
    <ConfigProvider locale={lang === 'en' ? enUS : zhCN} theme={theme}>
      <AntApp>
        {session ? (
          <AppLayout path={route.path} user={session.user}>
            {renderRoute(route, session.user)}
          </AppLayout>
        ) : (
          <LoginPage />
        )}
      </AntApp>
    </ConfigProvider>
  );
}
