/** 审计日志: the latest 50 AuditEvents, newest first (administrators only). */
import { Alert, Button, Card, Empty, Result, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import type { AuditEvent } from '@medplum/fhirtypes';
import { hasRole, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import { useAuditEvents } from './useAuditEvents.js';

function actionLabel(action: string | undefined): string {
  switch (action) {
    case 'C':
      return t('audit.action.C', '新建');
    case 'R':
      return t('audit.action.R', '查看');
    case 'U':
      return t('audit.action.U', '修改');
    case 'D':
      return t('audit.action.D', '删除');
    case 'E':
      return t('audit.action.E', '执行');
    default:
      return action ?? '';
  }
}

/** Known operation names (AuditEvent.subtype codes the server writes). */
function subtypeLabel(code: string | undefined): string | undefined {
  switch (code) {
    case 'login':
      return t('audit.subtype.login', '登录');
    case 'logout':
      return t('audit.subtype.logout', '退出');
    case 'read':
    case 'vread':
      return t('audit.subtype.read', '读取');
    case 'search':
    case 'search-type':
      return t('audit.subtype.search', '查询');
    case 'everything':
      return t('audit.subtype.everything', '调阅完整档案');
    case 'create':
      return t('audit.subtype.create', '新建');
    case 'update':
      return t('audit.subtype.update', '更新');
    case 'delete':
      return t('audit.subtype.delete', '删除');
    case 'transaction':
      return t('audit.subtype.transaction', '事务提交');
    case 'batch':
      return t('audit.subtype.batch', '批量提交');
    case 'import':
      return t('audit.subtype.import', '批量导入');
    default:
      return undefined;
  }
}

function actionColor(action: string | undefined): string {
  return action === 'D' ? 'red' : action === 'U' ? 'orange' : action === 'C' ? 'green' : 'blue';
}

function agentName(event: AuditEvent): string {
  const agent = event.agent?.find((a) => a.requestor) ?? event.agent?.[0];
  return agent?.who?.display ?? agent?.name ?? agent?.altId ?? agent?.who?.identifier?.value ?? agent?.who?.reference ?? '';
}

function AuditTable() {
  const { events, loading, error, forbidden, reload } = useAuditEvents();
  const dash = <Typography.Text type="secondary">—</Typography.Text>;

  if (forbidden) {
    return <Result status="403" title="403" subTitle={t('audit.forbidden', '仅系统管理员可查看审计日志。')} />;
  }

  const columns: TableColumnsType<AuditEvent> = [
    { title: t('audit.time', '时间'), key: 'time', width: 160, render: (_, e) => formatDateTime(e.recorded) || dash },
    { title: t('audit.user', '用户'), key: 'user', width: 160, render: (_, e) => agentName(e) || dash },
    {
      title: t('audit.action', '操作'),
      key: 'action',
      width: 200,
      render: (_, e) => (
        <span>
          {e.action && <Tag color={actionColor(e.action)}>{actionLabel(e.action)}</Tag>}
          {e.subtype
            ?.map((s) => subtypeLabel(s.code) ?? s.display ?? s.code)
            .filter(Boolean)
            .join('、') ||
            e.type?.display ||
            e.type?.code}
        </span>
      ),
    },
    {
      title: t('audit.entity', '对象'),
      key: 'entity',
      ellipsis: true,
      render: (_, e) => {
        const entity = e.entity?.[0];
        const text = entity?.what?.reference ?? entity?.what?.display ?? entity?.name ?? entity?.description;
        return text ? <span className="yf-mono">{text}</span> : dash;
      },
    },
    {
      title: t('audit.address', '来源地址'),
      key: 'address',
      width: 140,
      render: (_, e) => e.agent?.find((a) => a.network?.address)?.network?.address ?? dash,
    },
    {
      title: t('audit.outcome', '结果'),
      key: 'outcome',
      width: 100,
      render: (_, e) =>
        !e.outcome || e.outcome === '0' ? (
          <Tag color="success">{t('audit.success', '成功')}</Tag>
        ) : (
          <Tag color="error" title={e.outcomeDesc}>
            {t('audit.failure', '失败')}
          </Tag>
        ),
    },
  ];

  return (
    <Card
      extra={
        <Button icon={<ReloadOutlined />} onClick={reload} loading={loading}>
          {t('common.refresh', '刷新')}
        </Button>
      }
      title={t('audit.latest', '最近 50 条')}
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Table<AuditEvent>
        data-testid="audit-table"
        size="small"
        rowKey={(e) => e.id ?? `${e.recorded}-${agentName(e)}`}
        columns={columns}
        dataSource={events}
        loading={loading}
        pagination={false}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.empty', '暂无审计记录')} /> }}
      />
    </Card>
  );
}

export function AuditLogPage({ user }: { user: SessionUser }) {
  return (
    <div data-testid="audit-log">
      <PageHeader
        title={t('nav.audit', '审计日志')}
        crumbs={[{ title: t('nav.admin', '系统管理') }, { title: t('nav.audit', '审计日志') }]}
      />
      {hasRole(user, 'admin') || hasRole(user, 'auditor') ? (
        <AuditTable />
      ) : (
        <Card>
          <Result status="403" title="403" subTitle={t('audit.forbidden', '仅系统管理员可查看审计日志。')} />
        </Card>
      )}
    </div>
  );
}
