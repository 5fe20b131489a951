/**
 * 密接随访 (#/investigation/follow-ups): a community health centre's (or a family-doctor team's)
 * daily checks of the close contacts it manages, overdue first (the server orders them), today's
 * due next, a page at a time with the total; each row names the team member its daily monitoring
 * Task is assigned to and any escalation notice (漏访上报), acknowledged from the row; above the
 * table the notices still to acknowledge of the centre or team (its inbox, with how each text
 * message fared); a check is recorded from the row. The centre is the user's own organisation, or one chosen by name; a
 * team is chosen by name.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Select, Space, Table, Tag, Tooltip, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { getSession } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import { CheckModal, type CheckTarget } from './check-form.component.js';
import { findOrganizations, findTeams, followUps, purposeFor, type Worklist, type WorklistRow } from './investigation.resource.js';
import { AcknowledgeButton, EscalationsCard } from './escalations.component.js';
import { checkStatusLabel, daysBetween } from './labels.js';
import { useNames } from './useNames.js';

const STATUS_COLOURS: Record<string, string> = { overdue: 'error', due: 'warning', done: 'success' };

/**
 * Choices found by name as the user types: searched a quarter of a second after the last
 * keystroke, the search before it cancelled; none when the search fails.
 */
function useNameSearch(find: (text: string, signal: AbortSignal) => Promise<{ id: string; name: string }[]>) {
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  const [text, setText] = useState('');
  useEffect(() => {
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      find(text, ctrl.signal)
        .then((found) => setOptions(found.map((x) => ({ value: x.id, label: x.name }))))
        .catch((e: unknown) => {
          if (!isAbort(e)) setOptions([]);
        });
    }, 250);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [find, text]);
  return { options, setText };
}

function OrganizationChoice({ value, name, onChange }: { value: string; name: string; onChange(id: string): void }) {
  const { options, setText } = useNameSearch(findOrganizations);
  const all = value && !options.some((o) => o.value === value) ? [{ value, label: name }, ...options] : options;
  return (
    <Select
      showSearch
      data-testid="organization-choice"
      style={{ minWidth: 280 }}
      value={value || undefined}
      placeholder={t('inv.fu.chooseCentre', '选择社区卫生服务中心')}
      filterOption={false}
      onSearch={setText}
      options={all}
      onChange={onChange}
      notFoundContent={t('inv.fu.noCentre', '没有匹配的机构')}
    />
  );
}

function TeamChoice({ value, onChange }: { value: string; onChange(id: string): void }) {
  const { options, setText } = useNameSearch(findTeams);
  return (
    <Select
      showSearch
      allowClear
      data-testid="team-choice"
      style={{ minWidth: 220 }}
      value={value || undefined}
      placeholder={t('inv.fu.chooseTeam', '按家庭医生团队查看（可选）')}
      filterOption={false}
      onSearch={setText}
      options={options}
      onChange={(v: string | undefined) => onChange(v ?? '')}
      notFoundContent={t('inv.fu.noTeam', '没有匹配的团队')}
    />
  );
}

export function FollowUpWorklistPage({ organization: chosen }: { organization?: string }) {
  const own = getSession()?.user.organization ?? '';
  const organization = chosen || own;
  const [team, setTeam] = useState('');
  const [status, setStatus] = useState<'open' | ''>('');
  const [data, setData] = useState<Worklist>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const [checking, setChecking] = useState<CheckTarget>();
  const [paged, setPaged] = useState({ page: 1, size: 20 });
  useEffect(() => {
    if (!organization && !team) return;
    const ctrl = new AbortController();
    setLoading(true);
    followUps(
      {
        ...(team ? { team } : { organization }),
        ...(status ? { status } : {}),
        limit: paged.size,
        offset: (paged.page - 1) * paged.size,
      },
      ctrl.signal,
    )
      .then((d) => {
        setData(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => ctrl.abort();
  }, [organization, team, status, tick, paged]);
  const names = useNames(data?.items.map((r) => r.patientId) ?? [], organization ? [organization] : [], purposeFor());
  const counts = useMemo(() => {
    const c = { overdue: 0, due: 0, done: 0 };
    for (const r of data?.items ?? []) c[r.status] += 1;
    return c;
  }, [data]);

  const columns: TableColumnsType<WorklistRow> = [
    {
      title: t('inv.fu.name', '姓名'),
      key: 'name',
      render: (_, r) => <span data-testid="worklist-name">{names.resident(r.patientId)}</span>,
    },
    {
      title: t('inv.fu.disease', '密接病种'),
      key: 'disease',
      render: (_, r) => <a href={`#/investigation/${r.investigationId}`}>{r.diseaseName}</a>,
    },
    { title: t('inv.fu.day', '监测日期'), dataIndex: 'day' },
    {
      title: t('inv.fu.status', '状态'),
      key: 'status',
      render: (_, r) => (
        <Space size={4}>
          <Tag color={STATUS_COLOURS[r.status]} data-testid="worklist-status">
            {checkStatusLabel(r.status)}
          </Tag>
          {r.status === 'overdue' && data && (
            <Typography.Text type="danger">
              {t('inv.fu.lateDays', '已逾期 {n} 天', { n: Math.max(1, daysBetween(r.day, data.date)) })}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('inv.fu.symptoms', '症状'),
      key: 'symptoms',
      render: (_, r) =>
        r.symptoms === null ? (
          '—'
        ) : r.symptoms ? (
          <Tag color="error">{t('inv.check.hasSymptoms', '有症状')}</Tag>
        ) : (
          t('inv.check.noSymptoms', '无症状')
        ),
    },
    { title: t('inv.fu.end', '观察期至'), dataIndex: 'followUpEnd' },
    {
      title: t('inv.fu.assignee', '随访人员'),
      key: 'assignee',
      render: (_, r) => (
        <Space size={4}>
          <span data-testid="worklist-assignee">
            {r.assigneeName ?? r.teamName ?? (r.team ? t('inv.fu.teamOnly', '团队') : t('inv.fu.notPlanned', '未派发'))}
          </span>
          {r.note && (
            <Tooltip title={r.note}>
              <Tag color="purple" data-testid="worklist-handover">
                {t('inv.fu.handover', '协查')}
              </Tag>
            </Tooltip>
          )}
        </Space>
      ),
    },
    {
      title: t('inv.fu.escalation', '漏访上报'),
      key: 'escalation',
      render: (_, r) =>
        r.escalation ? (
          r.escalation.acknowledgedAt ? (
            <Tag data-testid="worklist-escalation">
              {t('inv.fu.escalationAcked', '已上报，{who} 已确认', { who: r.escalation.acknowledgedBy ?? '' })}
            </Tag>
          ) : (
            <Space size={4}>
              <Tag color="error" data-testid="worklist-escalation">
                {t('inv.fu.escalated', '已上报')}
              </Tag>
              <AcknowledgeButton escalationId={r.escalation.id} onDone={() => setTick((n) => n + 1)} />
            </Space>
          )
        ) : (
          '—'
        ),
    },
    {
      title: t('inv.actions', '操作'),
      key: 'actions',
      render: (_, r) =>
        r.status !== 'done' ? (
          <Button
            size="small"
            type={r.status === 'overdue' ? 'primary' : 'default'}
            data-testid="worklist-check"
            onClick={() =>
              setChecking({ contactId: r.contactId, name: names.resident(r.patientId), day: r.day, followUpEnd: r.followUpEnd })
            }
          >
            {t('inv.contact.recordCheck', '记录健康监测')}
          </Button>
        ) : null,
    },
  ];
  const orgName = organization ? names.facility(organization) : '';
  return (
    <div data-testid="follow-up-worklist">
      <PageHeader
        title={t('inv.fu.title', '密接随访')}
        crumbs={[{ title: t('nav.investigation', '流行病学调查') }, { title: t('inv.fu.title', '密接随访') }]}
      />
      <Card size="small">
        <Space style={{ marginBottom: 12 }} wrap>
          <Typography.Text>{t('inv.fu.centre', '管理机构')}</Typography.Text>
          <OrganizationChoice
            value={organization}
            name={orgName}
            onChange={(id) => {
              setPaged({ page: 1, size: paged.size });
              navigate('/investigation/follow-ups', { organization: id });
            }}
          />
          <TeamChoice
            value={team}
            onChange={(v) => {
              setPaged({ page: 1, size: paged.size });
              setTeam(v);
            }}
          />
          <Select
            style={{ width: 200 }}
            value={status}
            data-testid="worklist-filter"
            onChange={(v: 'open' | '') => {
              setPaged({ page: 1, size: paged.size });
              setStatus(v);
            }}
            options={[
              { value: '', label: t('inv.fu.withDone', '全部（含今日已完成）') },
              { value: 'open', label: t('inv.fu.open', '只看今日待查和逾期') },
            ]}
          />
          {data && (
            <Typography.Text type="secondary" data-testid="worklist-summary">
              {t('inv.fu.summary', '{date}：逾期 {overdue} 项，今日待查 {due} 项，今日已完成 {done} 项', {
                date: data.date,
                ...counts,
              })}
            </Typography.Text>
          )}
        </Space>
        {!organization && !team && <Alert type="info" showIcon message={t('inv.fu.pick', '请选择要查看的社区卫生服务中心')} />}
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
        {(organization || team) && (
          <EscalationsCard
            organization={team ? undefined : organization}
            team={team || undefined}
            onChanged={() => setTick((n) => n + 1)}
          />
        )}
        {(organization || team) && (
          <Table
            rowKey={(r) => `${r.contactId}|${r.day}`}
            size="small"
            columns={columns}
            dataSource={data?.items ?? []}
            loading={loading}
            data-testid="worklist-table"
            pagination={{
              current: paged.page,
              pageSize: paged.size,
              total: data?.total ?? 0,
              showSizeChanger: true,
              pageSizeOptions: [20, 50, 100],
              showTotal: (n) => t('inv.fu.total', '共 {n} 项', { n }),
              onChange: (p, s) => setPaged({ page: s !== paged.size ? 1 : p, size: s }),
            }}
          />
        )}
      </Card>
      <CheckModal
        target={checking}
        onClose={() => setChecking(undefined)}
        onSaved={() => {
          setChecking(undefined);
          setTick((n) => n + 1);
        }}
      />
    </div>
  );
}
