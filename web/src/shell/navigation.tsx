/** The side menu: one entry per module, in the order a district public-health team works. */
import type { ReactNode } from 'react';
import {
  AlertOutlined,
  ApiOutlined,
  AuditOutlined,
  BarChartOutlined,
  FileSearchOutlined,
  FlagOutlined,
  HeartOutlined,
  MedicineBoxOutlined,
  HomeOutlined,
  SettingOutlined,
  TeamOutlined,
  UserOutlined,
  ProfileOutlined,
  RadarChartOutlined,
  ThunderboltOutlined,
  ExperimentOutlined,
  EnvironmentOutlined,
} from '@ant-design/icons';
import type { Role } from '../../../src/platform/auth.js';
import { rolesMay, type Permission } from '../../../src/shared/roles.js';
import { t } from '../i18n/i18n.js';

export interface NavItem {
  key: string;
  label: string;
  icon?: ReactNode;
  children?: NavItem[];
  adminOnly?: boolean;
  /** Shown only to users with one of these roles. */
  roles?: Role[];
  /** Shown only to users whose roles carry one of these permissions (what the screen's API needs). */
  permission?: Permission | Permission[];
}

/** Whether the user may see a menu entry (administrators see every one). */
export function mayOpen(item: NavItem, user: { roles: readonly string[] }): boolean {
  if (user.roles.includes('admin')) return true;
  if (item.adminOnly) return false;
  if (item.permission && ![item.permission].flat().some((p) => rolesMay(user.roles, p))) return false;
  // An auditor reads the audit trail and nothing else: entries without roles are for care and public-health staff.
  if (!item.roles) return user.roles.some((r) => r !== 'auditor') || item.key === '/';
  return item.roles.some((r) => user.roles.includes(r));
}

/** Built on each render so labels follow the current language. */
export function navItems(): NavItem[] {
  return [
    { key: '/', label: t('nav.home', '首页/工作台'), icon: <HomeOutlined /> },
    { key: '/residents', label: t('nav.residents', '居民档案'), icon: <TeamOutlined />, permission: 'fhir:read' },
    {
      key: 'surveillance',
      label: t('nav.surveillance', '传染病监测预警'),
      icon: <AlertOutlined />,
      permission: 'surveillance:read',
      children: [
        { key: '/surveillance/alerts', label: t('nav.alerts', '预警信号'), icon: <AlertOutlined /> },
        { key: '/surveillance/reports', label: t('nav.reportCards', '传染病报告卡'), icon: <ProfileOutlined /> },
        { key: '/surveillance/overview', label: t('nav.surveillanceOverview', '监测概览'), icon: <RadarChartOutlined /> },
      ],
    },
    {
      key: 'investigation',
      label: t('nav.investigation', '流行病学调查'),
      icon: <FileSearchOutlined />,
      permission: ['surveillance:read', 'care:write'],
      children: [
        {
          key: '/investigation',
          label: t('nav.investigationList', '调查列表'),
          icon: <FileSearchOutlined />,
          permission: 'surveillance:read',
        },
        { key: '/investigation/follow-ups', label: t('nav.contactFollowUps', '密接随访'), icon: <TeamOutlined /> },
      ],
    },
    {
      key: 'emergency',
      label: t('nav.emergency', '应急管理'),
      icon: <ThunderboltOutlined />,
      permission: 'surveillance:read',
      children: [
        { key: '/emergency/teams', label: t('nav.emergencyTeams', '应急队伍'), icon: <TeamOutlined /> },
        { key: '/emergency/reserves', label: t('nav.emergencyReserves', '物资储备'), icon: <MedicineBoxOutlined /> },
        { key: '/emergency/mode', label: t('nav.emergencyMode', '应急状态与零报告'), icon: <AlertOutlined /> },
        { key: '/emergency/drills', label: t('nav.emergencyDrills', '演练'), icon: <FlagOutlined /> },
      ],
    },
    {
      key: 'lab',
      label: t('nav.lab', '检测送检'),
      icon: <ExperimentOutlined />,
      permission: ['fhir:write', 'surveillance:read'],
      children: [
        { key: '/lab/scan', label: t('nav.labScan', '扫码'), icon: <ExperimentOutlined />, permission: 'fhir:write' },
        { key: '/lab/dashboard', label: t('nav.labDashboard', '在途看板'), icon: <BarChartOutlined />, permission: 'surveillance:read' },
        { key: '/lab/specimens', label: t('nav.labSpecimens', '标本查询'), icon: <FileSearchOutlined />, permission: 'fhir:read' },
        { key: '/lab/outbox', label: t('nav.labOutbox', '结果回传'), icon: <ApiOutlined />, permission: 'surveillance:read' },
        { key: '/lab/mass', label: t('nav.labMass', '大规模检测'), icon: <TeamOutlined />, permission: 'surveillance:read' },
      ],
    },
    {
      key: 'chronic',
      label: t('nav.chronic', '慢病与家庭医生'),
      icon: <HeartOutlined />,
      permission: 'care:read',
      children: [
        { key: '/chronic', label: t('nav.worklist', '工作清单'), icon: <ProfileOutlined /> },
        { key: '/chronic/registry', label: t('nav.registry', '慢病登记册'), icon: <TeamOutlined /> },
        { key: '/care/check-in', label: t('nav.checkIn', '到诊服务'), icon: <HomeOutlined /> },
        { key: '/care/contracts', label: t('nav.contracts', '签约与转诊'), icon: <UserOutlined /> },
        { key: '/programmes', label: t('nav.programmes', '基本公卫服务项目'), icon: <ProfileOutlined /> },
      ],
    },
    { key: '/indicators', label: t('nav.indicators', '指标与决策'), icon: <BarChartOutlined />, permission: 'care:read' },
    {
      key: '/indicators/reporting-quality',
      label: t('nav.reportingQuality', '报告质量'),
      icon: <ProfileOutlined />,
      permission: 'surveillance:read',
    },
    { key: '/indicators/scorecard', label: t('nav.scorecard', '医防融合评估'), icon: <BarChartOutlined />, permission: 'care:read' },
    { key: '/indicators/monthly-report', label: t('nav.monthlyReport', '月度报告'), icon: <FileSearchOutlined />, permission: 'care:read' },
    {
      key: '/portrait',
      label: t('nav.portrait', '健康画像'),
      icon: <EnvironmentOutlined />,
      permission: ['care:read', 'surveillance:read'],
    },
    {
      key: 'integration',
      label: t('nav.integration', '数据接入'),
      icon: <ApiOutlined />,
      adminOnly: true,
      children: [
        { key: '/integration/dead-letters', label: t('nav.deadLetters', 'HL7 死信队列'), icon: <ApiOutlined /> },
        { key: '/integration/identity-review', label: t('nav.identityReview', '身份核查'), icon: <TeamOutlined /> },
        { key: '/integration/terminology', label: t('nav.terminology', '术语映射'), icon: <ApiOutlined /> },
        { key: '/integration/data-quality', label: t('nav.dataQuality', '数据质量'), icon: <ApiOutlined /> },
        { key: '/integration/hospital-feeds', label: t('nav.hospitalFeeds', '医院数据上报'), icon: <ApiOutlined /> },
        { key: '/admin/registry', label: t('nav.masterData', '机构与地点'), icon: <HomeOutlined /> },
      ],
    },
    {
      key: 'admin',
      label: t('nav.admin', '系统管理'),
      icon: <SettingOutlined />,
      roles: ['admin', 'auditor'],
      children: [
        { key: '/admin/users', label: t('nav.users', '用户管理'), icon: <UserOutlined />, adminOnly: true },
        { key: '/admin/audit', label: t('nav.audit', '审计日志'), icon: <AuditOutlined />, roles: ['admin', 'auditor'] },
      ],
    },
  ];
}

/**
 * The menu key to highlight for a path (a record page highlights its list); '' when no entry
 * leads there (a page opened from another one, such as a prescription), so 首页 is not lit.
 */
export function selectedNavKey(path: string, items: NavItem[]): string {
  const flat = items.flatMap((item) => (item.children ? item.children : [item]));
  let best = path === '/' ? '/' : '';
  for (const item of flat) {
    if (item.key === '/') continue;
    if ((path === item.key || path.startsWith(`${item.key}/`)) && item.key.length > best.length) best = item.key;
  }
  return best;
}

/** The group (submenu) that contains a key, to open it. */
export function parentNavKey(key: string, items: NavItem[]): string | undefined {
  return items.find((item) => item.children?.some((child) => child.key === key))?.key;
}

export function findNavItem(key: string, items: NavItem[]): NavItem | undefined {
  for (const item of items) {
    if (item.key === key) return item;
    const child = item.children?.find((c) => c.key === key);
    if (child) return child;
  }
  return undefined;
}
