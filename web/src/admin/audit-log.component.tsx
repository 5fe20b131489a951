/**
 * 系统管理 · 审计查阅 (administrators and auditors): the audit trail in three tabs —
 * 事件 (filtered, paged, exported as CSV), 异常 (unusual patterns; choosing one shows its
 * events) and 完整性 (chain verification and the signed checkpoints for a second party).
 */
import { useState } from 'react';
import { Card, Result, Tabs } from 'antd';
import type { AuditFilter, AuditFlag } from '../api/audit.resource.js';
import { hasRole, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { AuditEventsTab } from './audit-events.component.js';
import { AuditFlagsTab } from './audit-flags.component.js';
import { AuditIntegrityTab } from './audit-integrity.component.js';

type TabKey = 'events' | 'flags' | 'integrity';

/** The events of a flag: its user on its day. */
export function filterOfFlag(flag: AuditFlag): AuditFilter {
  return { user: flag.username || flag.userName, from: flag.day, to: flag.day };
}

function AuditReview() {
  const [tab, setTab] = useState<TabKey>('events');
  const [filter, setFilter] = useState<AuditFilter>({});
  return (
    <Tabs
      activeKey={tab}
      onChange={(key) => setTab(key as TabKey)}
      items={[
        { key: 'events', label: t('audit.tab.events', '事件'), children: <AuditEventsTab filter={filter} onFilter={setFilter} /> },
        {
          key: 'flags',
          label: t('audit.tab.flags', '异常'),
          children: (
            <AuditFlagsTab
              onPick={(flag) => {
                setFilter(filterOfFlag(flag));
                setTab('events');
              }}
            />
          ),
        },
        { key: 'integrity', label: t('audit.tab.integrity', '完整性'), children: <AuditIntegrityTab /> },
      ]}
    />
  );
}

export function AuditLogPage({ user }: { user: SessionUser }) {
  return (
    <div data-testid="audit-log">
      <PageHeader
        title={t('audit.review', '审计查阅')}
        crumbs={[{ title: t('nav.admin', '系统管理') }, { title: t('audit.review', '审计查阅') }]}
      />
      {hasRole(user, 'admin') || hasRole(user, 'auditor') ? (
        <AuditReview />
      ) : (
        <Card>
          <Result status="403" title="403" subTitle={t('audit.forbidden.review', '仅系统管理员和审计员可查阅审计记录。')} />
        </Card>
      )}
    </div>
  );
}
