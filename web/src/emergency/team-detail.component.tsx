/**
 * 应急队伍 · one team (#/emergency/teams/:id): its members with role, phone and certificate
 * counts; the certificates and training of its members (expired red, expiring within 90 days
 * orange), soonest expiry first, paged; and who is on call each of the next 14 days.
 */
import { useEffect, useState } from 'react';
import { Alert, Card, Descriptions, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { addDays, todayInChina } from '../../../src/shared/dates.js';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PagedTable, useServerPage } from '../shared/paged-table.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { getTeam, listTrainings, onCall, type MemberView, type TeamDetail, type TrainingView } from './emergency.resource.js';
import { useNames } from './hooks.js';
import { CERT_COLOURS, certStateLabel, chinaTime, refusal, roleLabel, teamKindLabel, trainingKindLabel } from './labels.js';

const ROTA_DAYS = 14;

const weekday = (day: string): string =>
  [
    t('em.wd.0', '周日'),
    t('em.wd.1', '周一'),
    t('em.wd.2', '周二'),
    t('em.wd.3', '周三'),
    t('em.wd.4', '周四'),
    t('em.wd.5', '周五'),
    t('em.wd.6', '周六'),
  ][new Date(`${day}T00:00:00Z`).getUTCDay()]!;

function Certificates({ teamId }: { teamId: number }) {
  const list = useServerPage<TrainingView>((p, s) => listTrainings({ ...p, teamId }, s), [teamId]);
  const columns: TableColumnsType<TrainingView> = [
    { title: t('em.member.name', '姓名'), dataIndex: 'name' },
    { title: t('em.cert.kind', '类别'), key: 'kind', render: (_, r) => trainingKindLabel(r.kind) },
    { title: t('em.cert.title', '名称'), dataIndex: 'title' },
    { title: t('em.cert.issuer', '发证/培训机构'), key: 'issuer', render: (_, r) => r.issuer ?? '—' },
    { title: t('em.cert.completedOn', '取得日期'), dataIndex: 'completedOn' },
    {
      title: t('em.cert.expiresOn', '有效期至'),
      key: 'expires',
      render: (_, r) =>
        r.expiresOn ? (
          <span style={r.state === 'expired' ? { color: '#cf1322' } : r.state === 'expiring' ? { color: '#d46b08' } : undefined}>
            {r.expiresOn}
          </span>
        ) : (
          t('em.cert.noExpiry', '长期有效')
        ),
    },
    {
      title: t('em.cert.state', '状态'),
      key: 'state',
      render: (_, r) => (
        <Space size={4} data-testid="cert-state" data-state={r.state}>
          <Tag color={CERT_COLOURS[r.state]}>{certStateLabel(r.state)}</Tag>
          {r.state === 'expiring' && r.daysLeft !== null && (
            <Typography.Text type="warning">{t('em.cert.daysLeft', '剩 {n} 天', { n: r.daysLeft })}</Typography.Text>
          )}
          {r.state === 'expired' && r.daysLeft !== null && (
            <Typography.Text type="danger">{t('em.cert.daysAgo', '已过期 {n} 天', { n: -r.daysLeft })}</Typography.Text>
          )}
        </Space>
      ),
    },
  ];
  return (
    <Card size="small" title={t('em.cert.heading', '培训与证书')} style={{ marginBottom: 16 }}>
      {list.error && <Alert type="error" showIcon message={list.error} style={{ marginBottom: 12 }} />}
      <PagedTable
        list={list}
        rowKey="id"
        columns={columns}
        data-testid="certificates-table"
        onRow={(r) => ({
          style: r.state === 'expired' ? { background: '#fff1f0' } : r.state === 'expiring' ? { background: '#fff7e6' } : undefined,
        })}
        total={(n) => t('em.cert.total', '共 {n} 条培训与证书', { n })}
        sizeChanger
      />
    </Card>
  );
}

interface RotaDay {
  day: string;
  names: { name: string; role: string }[];
}

/** Who is on call each of the next 14 days (one question per day: the API answers a day at a time). */
function Rota({ teamId }: { teamId: number }) {
  const [days, setDays] = useState<RotaDay[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    const today = todayInChina();
    const wanted = Array.from({ length: ROTA_DAYS }, (_, i) => addDays(today, i));
    Promise.all(wanted.map((day) => onCall({ day, teamId }, ctrl.signal)))
      .then((answers) =>
        setDays(
          answers.map((a, i) => ({
            day: wanted[i]!,
            names: a.teams.filter((x) => x.teamId === teamId).flatMap((x) => x.onCall.map((p) => ({ name: p.name, role: p.role }))),
          })),
        ),
      )
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, [teamId]);
  const columns: TableColumnsType<RotaDay> = [
    {
      title: t('em.rota.day', '日期'),
      key: 'day',
      width: 150,
      render: (_, r) => `${r.day} ${weekday(r.day)}`,
    },
    {
      title: t('em.rota.onCall', '值守人员'),
      key: 'names',
      render: (_, r) =>
        r.names.length ? (
          <Space size={4} wrap>
            {r.names.map((n) => (
              <Tag key={n.name} color={n.role === 'leader' ? 'blue' : undefined}>
                {n.name}
                {n.role !== 'member' ? `（${roleLabel(n.role)}）` : ''}
              </Tag>
            ))}
          </Space>
        ) : (
          <Typography.Text type="warning">{t('em.rota.nobody', '未排班（调动时将通知全体队员）')}</Typography.Text>
        ),
    },
  ];
  return (
    <Card size="small" title={t('em.rota.heading', '未来 14 天值守排班')}>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Table
        rowKey="day"
        size="small"
        columns={columns}
        dataSource={days ?? []}
        loading={!days && !error}
        data-testid="rota-table"
        pagination={false}
      />
    </Card>
  );
}

export function TeamDetailPage({ id }: { id: number }) {
  const names = useNames();
  const [team, setTeam] = useState<TeamDetail>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    getTeam(id, ctrl.signal)
      .then(setTeam)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e, { 404: t('em.team.notFound', '没有这支队伍') }));
      });
    return () => ctrl.abort();
  }, [id]);
  const columns: TableColumnsType<MemberView> = [
    { title: t('em.member.name', '姓名'), dataIndex: 'name' },
    { title: t('em.member.role', '职务'), key: 'role', render: (_, r) => roleLabel(r.role) },
    { title: t('em.member.phone', '联系电话'), key: 'phone', render: (_, r) => r.phone ?? '—' },
    {
      title: t('em.member.active', '在队'),
      key: 'active',
      render: (_, r) => (r.active ? t('em.member.yes', '在队') : <Tag>{t('em.member.left', '已离队')}</Tag>),
    },
    {
      title: t('em.member.certs', '证书'),
      key: 'certs',
      render: (_, r) => (
        <Space size={4} wrap data-testid="member-certs">
          {r.certificates.valid > 0 && <Tag color="green">{t('em.member.valid', '有效 {n}', { n: r.certificates.valid })}</Tag>}
          {r.certificates.expiring > 0 && (
            <Tag color="orange">{t('em.member.expiring', '即将到期 {n}', { n: r.certificates.expiring })}</Tag>
          )}
          {r.certificates.expired > 0 && <Tag color="red">{t('em.member.expired', '已过期 {n}', { n: r.certificates.expired })}</Tag>}
          {r.certificates.valid + r.certificates.expiring + r.certificates.expired === 0 && (
            <Typography.Text type="secondary">{t('em.member.noCerts', '无')}</Typography.Text>
          )}
        </Space>
      ),
    },
  ];
  const title = team?.name ?? t('nav.emergencyTeams', '应急队伍');
  return (
    <div data-testid="team-detail">
      <PageHeader
        title={title}
        crumbs={[
          { title: t('nav.emergency', '应急管理') },
          { title: t('nav.emergencyTeams', '应急队伍'), href: '#/emergency/teams' },
          { title },
        ]}
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      {team && (
        <>
          <Card size="small" style={{ marginBottom: 16 }}>
            <Descriptions size="small" column={4}>
              <Descriptions.Item label={t('em.team.kind', '类别')}>{teamKindLabel(team.kind)}</Descriptions.Item>
              <Descriptions.Item label={t('em.team.unit', '所属单位')}>{names.unit(team.unit)}</Descriptions.Item>
              <Descriptions.Item label={t('em.team.members', '在队人数')}>{team.members}</Descriptions.Item>
              <Descriptions.Item label={t('em.team.created', '组建时间')}>{chinaTime(team.createdAt)}</Descriptions.Item>
            </Descriptions>
          </Card>
          <Card size="small" title={t('em.member.heading', '队员')} style={{ marginBottom: 16 }}>
            <Table
              rowKey="practitionerId"
              size="small"
              columns={columns}
              dataSource={team.memberList}
              data-testid="members-table"
              pagination={{ pageSize: 20, showTotal: (n) => t('em.member.total', '共 {n} 名队员', { n }) }}
            />
          </Card>
          <Certificates teamId={team.id} />
          <Rota teamId={team.id} />
        </>
      )}
    </div>
  );
}
