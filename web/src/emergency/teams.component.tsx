/**
 * 应急队伍 (#/emergency/teams): the teams by unit and kind, paged with the total; and the
 * mobilisations (调动记录) with their acknowledgement counts, each opening to every member
 * notified and their acknowledgement — with 确认收到 for the signed-in user when they are one
 * of them and have not acknowledged yet.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Drawer, Select, Space, Table, Tabs, Tag, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PagedTable, useServerPage } from '../shared/paged-table.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import {
  acknowledge,
  getMobilisation,
  listMobilisations,
  listTeams,
  type MobilisationDetail,
  type MobilisationView,
  type MobilisedMember,
  type TeamView,
} from './emergency.resource.js';
import { useNames } from './hooks.js';
import { ackState, chinaTime, mayWrite, myUsername, refusal, roleLabel, sourceKindLabel, TEAM_KINDS, teamKindLabel } from './labels.js';

const crumbs = () => [{ title: t('nav.emergency', '应急管理') }, { title: t('nav.emergencyTeams', '应急队伍') }];

function TeamsTab() {
  const names = useNames();
  const [unit, setUnit] = useState<string>();
  const [kind, setKind] = useState<string>();
  const list = useServerPage<TeamView>((p, s) => listTeams({ ...p, unit, kind }, s), [unit, kind]);
  const columns: TableColumnsType<TeamView> = [
    {
      title: t('em.team.name', '队伍'),
      key: 'name',
      render: (_, r) => (
        <a href={`#/emergency/teams/${r.id}`} data-testid="team-link">
          {r.name}
        </a>
      ),
    },
    { title: t('em.team.kind', '类别'), key: 'kind', render: (_, r) => <Tag>{teamKindLabel(r.kind)}</Tag> },
    { title: t('em.team.unit', '所属单位'), key: 'unit', render: (_, r) => names.unit(r.unit) },
    { title: t('em.team.members', '在队人数'), dataIndex: 'members', width: 100 },
    {
      title: t('em.team.onCallToday', '今日值守'),
      key: 'onCall',
      width: 110,
      render: (_, r) =>
        r.onCallToday ? (
          t('em.team.onCallN', '{n} 人', { n: r.onCallToday })
        ) : (
          <Typography.Text type="warning">{t('em.team.noOnCall', '未排班')}</Typography.Text>
        ),
    },
    { title: t('em.team.created', '组建时间'), key: 'created', render: (_, r) => chinaTime(r.createdAt) },
  ];
  return (
    <Card size="small">
      <Space style={{ marginBottom: 12 }} wrap>
        <Typography.Text>{t('em.filter.unit', '单位')}</Typography.Text>
        <Select
          allowClear
          data-testid="unit-filter"
          style={{ width: 220 }}
          placeholder={t('em.filter.allUnits', '全部单位')}
          value={unit}
          onChange={(v?: string) => setUnit(v)}
          options={names.units.map((u) => ({ value: u.code, label: u.name }))}
        />
        <Typography.Text>{t('em.filter.kind', '类别')}</Typography.Text>
        <Select
          allowClear
          data-testid="kind-filter"
          style={{ width: 160 }}
          placeholder={t('em.filter.allKinds', '全部类别')}
          value={kind}
          onChange={(v?: string) => setKind(v)}
          options={TEAM_KINDS.map((k) => ({ value: k, label: teamKindLabel(k) }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey="id"
        columns={columns}
        data-testid="teams-table"
        total={(n) => t('em.teams.total', '共 {n} 支队伍', { n })}
        sizeChanger
        onRow={(r) => ({ onDoubleClick: () => navigate(`/emergency/teams/${r.id}`) })}
      />
    </Card>
  );
}

/** A mobilisation's source in words, with a link to the alert or investigation it came from. */
function Source({ m }: { m: Pick<MobilisationView, 'source' | 'exercise'> }) {
  const href =
    m.source.kind === 'alert' && /^\d+$/.test(m.source.id)
      ? `#/surveillance/alerts/${m.source.id}`
      : m.source.kind === 'investigation' && /^\d+$/.test(m.source.id)
        ? `#/investigation/${m.source.id}`
        : undefined;
  return (
    <Space size={4}>
      {href ? <a href={href}>{sourceKindLabel(m.source.kind)}</a> : <span>{sourceKindLabel(m.source.kind)}</span>}
      {m.exercise && <Tag color="purple">{t('em.exercise', '演练')}</Tag>}
    </Space>
  );
}

/** Every member notified, with their acknowledgement; 确认收到 for the signed-in user. */
export function MobilisationDrawer({ id, onClose, onChanged }: { id?: number; onClose(): void; onChanged(): void }) {
  const [detail, setDetail] = useState<MobilisationDetail>();
  const [error, setError] = useState<string>();
  const [acking, setAcking] = useState(false);
  const { message } = App.useApp();
  const me = myUsername();
  useEffect(() => {
    if (!id) return;
    const ctrl = new AbortController();
    setDetail(undefined);
    setError(undefined);
    getMobilisation(id, ctrl.signal)
      .then(setDetail)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, [id]);
  const mine = detail?.members.find((m) => me && m.practitionerId.toLowerCase() === me.toLowerCase());
  const ack = async () => {
    if (!detail || !mine) return;
    setAcking(true);
    setError(undefined);
    try {
      const d = await acknowledge(detail.id, mine.practitionerId);
      setDetail(d);
      const after = d.members.find((m) => m.practitionerId === mine.practitionerId);
      message.success(after?.late ? t('em.ack.savedLate', '已确认（已超过确认时限）') : t('em.ack.saved', '已确认收到'));
      onChanged();
    } catch (e) {
      setError(refusal(e, { 409: t('em.ack.already', '已确认过') }));
    } finally {
      setAcking(false);
    }
  };
  const columns: TableColumnsType<MobilisedMember> = [
    { title: t('em.member.name', '姓名'), dataIndex: 'name' },
    { title: t('em.member.role', '职务'), key: 'role', render: (_, r) => roleLabel(r.role) },
    { title: t('em.mob.notifiedAt', '通知时间'), key: 'notified', render: (_, r) => chinaTime(r.notifiedAt) },
    { title: t('em.mob.dueAt', '确认时限'), key: 'due', render: (_, r) => chinaTime(r.dueAt) },
    {
      title: t('em.mob.ack', '确认情况'),
      key: 'ack',
      render: (_, r) => {
        const s = ackState(r);
        return (
          <Space size={4} data-testid="ack-state" data-state={s.key}>
            <Tag color={s.colour}>{s.text}</Tag>
            {r.acknowledgedAt && <span>{chinaTime(r.acknowledgedAt)}</span>}
          </Space>
        );
      },
    },
  ];
  return (
    <Drawer open={!!id} onClose={onClose} width={760} title={t('em.mob.title', '调动详情')} data-testid="mobilisation-drawer">
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} data-testid="mobilisation-error" />}
      {detail && (
        <>
          <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }}>
            <Space wrap>
              <Source m={detail} />
              <span>{t('em.mob.at', '发起于 {time}（{who}）', { time: chinaTime(detail.createdAt), who: detail.createdBy })}</span>
              <span>{t('em.mob.limit', '须在 {n} 分钟内确认', { n: detail.ackLimitMinutes })}</span>
              {detail.onCallOnly && <Tag>{t('em.mob.onCallOnly', '仅通知当日值守人员')}</Tag>}
            </Space>
            {detail.reason && <Typography.Text type="secondary">{detail.reason}</Typography.Text>}
            {mine &&
              (mine.acknowledgedAt ? (
                <Alert
                  type="success"
                  showIcon
                  message={t('em.ack.mineDone', '您已于 {time} 确认', { time: chinaTime(mine.acknowledgedAt) })}
                />
              ) : (
                <Alert
                  type={mine.overdue ? 'error' : 'warning'}
                  showIcon
                  message={
                    mine.overdue
                      ? t('em.ack.mineOverdue', '您在本次调动中，已超过确认时限，请立即确认')
                      : t('em.ack.mine', '您在本次调动中，请在 {time} 前确认', { time: chinaTime(mine.dueAt) })
                  }
                  action={
                    mayWrite() && (
                      <Button type="primary" loading={acking} onClick={() => void ack()} data-testid="acknowledge">
                        {t('em.ack.button', '确认收到')}
                      </Button>
                    )
                  }
                />
              ))}
          </Space>
          <Table
            rowKey={(r) => `${r.teamId}-${r.practitionerId}`}
            size="small"
            columns={columns}
            dataSource={detail.members}
            data-testid="mobilised-members"
            pagination={{
              pageSize: 20,
              hideOnSinglePage: false,
              showTotal: (n) => t('em.mob.membersTotal', '共通知 {n} 人', { n }),
            }}
          />
        </>
      )}
    </Drawer>
  );
}

function MobilisationsTab() {
  const [open, setOpen] = useState<number>();
  const list = useServerPage<MobilisationView>((p, s) => listMobilisations(p, s), []);
  const columns: TableColumnsType<MobilisationView> = [
    { title: t('em.mob.createdAt', '发起时间'), key: 'at', render: (_, r) => chinaTime(r.createdAt) },
    { title: t('em.mob.source', '来源'), key: 'source', render: (_, r) => <Source m={r} /> },
    { title: t('em.mob.teams', '调动队伍'), key: 'teams', render: (_, r) => t('em.mob.teamsN', '{n} 支', { n: r.teamIds.length }) },
    { title: t('em.mob.notified', '已通知'), dataIndex: 'notified', width: 80 },
    { title: t('em.mob.acknowledged', '已确认'), dataIndex: 'acknowledged', width: 80 },
    {
      title: t('em.mob.pending', '待确认'),
      key: 'pending',
      width: 150,
      render: (_, r) => (
        <Space size={4}>
          <span>{r.pending}</span>
          {r.overdue > 0 && <Tag color="red">{t('em.mob.overdueN', '{n} 人超时', { n: r.overdue })}</Tag>}
        </Space>
      ),
    },
    {
      title: t('em.actions', '操作'),
      key: 'open',
      render: (_, r) => (
        <Button size="small" onClick={() => setOpen(r.id)} data-testid="open-mobilisation">
          {t('em.mob.open', '查看确认情况')}
        </Button>
      ),
    },
  ];
  return (
    <Card size="small">
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey="id"
        columns={columns}
        data-testid="mobilisations-table"
        total={(n) => t('em.mob.total', '共 {n} 次调动', { n })}
        sizeChanger
      />
      <MobilisationDrawer id={open} onClose={() => setOpen(undefined)} onChanged={list.reload} />
    </Card>
  );
}

export function TeamsPage({ tab }: { tab?: string }) {
  return (
    <div data-testid="emergency-teams">
      <PageHeader title={t('nav.emergencyTeams', '应急队伍')} crumbs={crumbs()} />
      <Tabs
        activeKey={tab === 'mobilisations' ? 'mobilisations' : 'teams'}
        onChange={(k) => navigate('/emergency/teams', { tab: k === 'teams' ? undefined : k })}
        items={[
          { key: 'teams', label: t('em.tab.teams', '队伍'), children: <TeamsTab /> },
          { key: 'mobilisations', label: t('em.tab.mobilisations', '调动与响应确认'), children: <MobilisationsTab /> },
        ]}
      />
    </div>
  );
}
