/** Root: locale and theme, sign-in gate, and the route table. */
import { lazy, Suspense, useEffect } from 'react';
import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import type { SessionUser } from '../api/session.js';
import { AuditLogPage } from '../admin/audit-log.component.js';
import { UsersPage } from '../admin/users.component.js';
import { RegistryAdminPage } from '../registry/registry.component.js';
import { ReviewQueuePage } from '../identity/review-queue.component.js';
import { DeadLettersPage } from '../integration/dead-letters.component.js';
import { TerminologyPage } from '../terminology/terminology.component.js';
import { DataQualityPage } from '../quality/quality.component.js';
import { HospitalFeedsPage } from '../hospital-feeds/hospital-feeds.component.js';
import { DashboardPage } from '../dashboard/dashboard.component.js';
import { t, useLang } from '../i18n/i18n.js';
import { ResidentListPage } from '../residents/resident-list.component.js';
import { ResidentRecordPage } from '../residents/resident-record.component.js';
import { AlertBoardPage } from '../surveillance/alert-board.component.js';
import { AlertPage } from '../surveillance/alert-page.component.js';
import { SurveillanceOverviewPage } from '../surveillance/overview.component.js';
import { ReportCardsPage } from '../surveillance/report-cards.component.js';
import { WorklistPage } from '../chronic/worklist.component.js';
import { RegistryPage } from '../chronic/registry.component.js';
import { CheckInPage } from '../care/check-in.component.js';
import { ContractsPage } from '../care/contracts.component.js';
import { ProgrammesPage } from '../programmes/programmes.component.js';
import { ImmunizationPrescriptionPage } from '../care/immunization-print.component.js';
import { IndicatorsPage } from '../indicators/indicators.component.js';
import { ReportingQualityPage } from '../scorecard/reporting-quality.component.js';
import { ScorecardPage } from '../scorecard/scorecard.component.js';
import { MonthlyReportPage } from '../monthly-report/monthly-report.component.js';
import { InvestigationListPage } from '../investigation/investigation-list.component.js';
import { InvestigationDetailPage } from '../investigation/investigation-detail.component.js';
import { FollowUpWorklistPage } from '../investigation/follow-ups.component.js';
import { TeamsPage } from '../emergency/teams.component.js';
import { TeamDetailPage } from '../emergency/team-detail.component.js';
import { ReservesPage } from '../emergency/reserves.component.js';
import { ModePage } from '../emergency/mode.component.js';
import { DrillReportPage, DrillsPage } from '../emergency/drills.component.js';
import { ScanPage } from '../lab/scan.component.js';
import { LabDashboardPage } from '../lab/dashboard.component.js';
import { SpecimenDetailPage, SpecimensPage } from '../lab/specimen.component.js';
import { OutboxPage } from '../lab/outbox.component.js';
import { MassTestingPage } from '../lab/mass.component.js';
import { PortraitPage } from '../portrait/portrait.component.js';
import { StreetProfilePage } from '../portrait/street-profile.component.js';
import { AccountPage } from './account.component.js';
import { AppLayout } from './layout.component.js';
import { LoginPage } from './login.component.js';
import { NotFoundPage } from './placeholder.component.js';
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

// The resident portal (#/portal): its own sign-in, loaded as its own chunk without antd.
const PortalApp = lazy(() => import('../portal/portal-app.component.js'));

function renderRoute(route: Route, user: SessionUser) {
  const { path } = route;
  // A password reset by an administrator is changed before anything else.
  if (user.mustChangePassword || path === '/account') return <AccountPage user={user} />;
  // A family doctor's day starts from the follow-up worklist.
  if (path === '/')
    return user.roles.includes('family-doctor') && !user.roles.includes('admin') ? <WorklistPage /> : <DashboardPage user={user} />;
  if (path === '/residents') return <ResidentListPage query={route.query.get('q') ?? ''} />;
  const record = matchPath('/residents/:id', path);
  if (record) return <ResidentRecordPage key={record.id} id={record.id!} />;
  const immunization = matchPath('/care/immunization/:id', path);
  if (immunization) return <ImmunizationPrescriptionPage key={immunization.id} id={immunization.id!} />;
  const alertMatch = matchPath('/surveillance/alerts/:id', path);
  if (alertMatch) return <AlertPage key={alertMatch.id} id={Number(alertMatch.id)} />;
  if (path === '/investigation/follow-ups') return <FollowUpWorklistPage organization={route.query.get('organization') ?? undefined} />;
  const investigation = matchPath('/investigation/:id', path);
  if (investigation && /^\d+$/.test(investigation.id!))
    return <InvestigationDetailPage key={investigation.id} id={Number(investigation.id)} tab={route.query.get('tab') ?? undefined} />;
  const team = matchPath('/emergency/teams/:id', path);
  if (team && /^\d+$/.test(team.id!)) return <TeamDetailPage key={team.id} id={Number(team.id)} />;
  const drill = matchPath('/emergency/drills/:id', path);
  if (drill && /^\d+$/.test(drill.id!)) return <DrillReportPage key={drill.id} id={Number(drill.id)} />;
  const street = matchPath('/portrait/streets/:code', path);
  if (street) return <StreetProfilePage key={street.code} code={street.code!} period={route.query.get('period') ?? undefined} />;
  const specimen = matchPath('/lab/specimens/:barcode', path);
  if (specimen) return <SpecimenDetailPage key={specimen.barcode} barcode={decodeURIComponent(specimen.barcode!)} />;
  switch (path) {
    case '/surveillance/alerts':
      return <AlertBoardPage status={route.query.get('status') ?? ''} level={route.query.get('level') ?? ''} />;
    case '/surveillance/reports':
      return <ReportCardsPage status={route.query.get('status') ?? ''} open={route.query.get('open') ?? ''} />;
    case '/surveillance/overview':
      return <SurveillanceOverviewPage />;
    case '/investigation':
      return <InvestigationListPage status={route.query.get('status') ?? ''} />;
    case '/emergency/teams':
      return <TeamsPage tab={route.query.get('tab') ?? undefined} />;
    case '/emergency/reserves':
      return <ReservesPage tab={route.query.get('tab') ?? undefined} />;
    case '/emergency/mode':
      return <ModePage />;
    case '/emergency/drills':
      return <DrillsPage />;
    case '/lab/scan':
      return <ScanPage />;
    case '/lab/dashboard':
      return <LabDashboardPage />;
    case '/lab/specimens':
      return <SpecimensPage />;
    case '/lab/outbox':
      return <OutboxPage status={route.query.get('status') ?? undefined} />;
    case '/lab/mass':
      return <MassTestingPage campaign={Number(route.query.get('campaign')) || undefined} />;
    case '/chronic':
      return <WorklistPage doctor={route.query.get('doctor') ?? undefined} team={route.query.get('team') ?? undefined} />;
    case '/chronic/registry':
      return <RegistryPage />;
    case '/care/check-in':
      return <CheckInPage patientId={route.query.get('patient') ?? undefined} />;
    case '/care/contracts':
      return <ContractsPage tab={route.query.get('tab') ?? undefined} />;
    case '/programmes':
      return <ProgrammesPage code={route.query.get('code') ?? undefined} tab={route.query.get('tab') ?? undefined} />;
    case '/indicators':
      return <IndicatorsPage />;
    case '/indicators/reporting-quality':
      return <ReportingQualityPage initialPeriod={route.query.get('period') ?? undefined} />;
    case '/indicators/scorecard':
      return <ScorecardPage />;
    case '/indicators/monthly-report':
      return <MonthlyReportPage initialMonth={route.query.get('month') ?? undefined} />;
    case '/portrait':
      return <PortraitPage initialPeriod={route.query.get('period') ?? undefined} />;
    case '/admin/users':
      return <UsersPage currentUser={user.username} />;
    case '/admin/registry':
      return <RegistryAdminPage tab={route.query.get('tab') ?? undefined} />;
    case '/integration/dead-letters':
      return <DeadLettersPage />;
    case '/integration/identity-review':
      return <ReviewQueuePage />;
    case '/integration/terminology':
      return <TerminologyPage />;
    case '/integration/data-quality':
      return <DataQualityPage />;
    case '/integration/hospital-feeds':
      return <HospitalFeedsPage />;
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

  if (route.path === '/portal' || route.path.startsWith('/portal/'))
    return (
      <Suspense fallback={null}>
        <PortalApp />
      </Suspense>
    );
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
