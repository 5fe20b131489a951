/**
 * 慢病工作清单: the family doctor's day starts here — residents due for follow-up this week,
 * overdue, to recall, referred and awaiting return, and open referral tasks. A row opens the
 * follow-up form; saving it shows the next visit the rules give.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Badge, Button, DatePicker, Input, Space, Table, Tabs, Tag, type TableColumnsType } from 'antd';
import dayjs from 'dayjs';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { getWorklist, type OpenReferral, type Worklist, type WorkRow } from './chronic.resource.js';
import { FollowUpDrawer } from './follow-up.component.js';
import { decisionLabel, diseaseLabel } from './labels.js';

export function WorklistPage({ doctor, team }: { doctor?: string; team?: string }) {
  const { message } = App.useApp();
  const [data, setData] = useState<Worklist | null>(null);
  const [asOf, setAsOf] = useState<string | undefined>(undefined);
  const [doctorId, setDoctorId] = useState(doctor ?? '');
  const [open, setOpen] = useState<WorkRow | null>(null);
  const load = useCallback(
    () =>
      getWorklist({ doctor: doctorId || undefined, team, asOf })
        .then(setData)
        .catch((e: Error) => message.error(e.message)),
    [doctorId, team, asOf, message],
  );
  useEffect(() => void load(), [load]);

  const columns: TableColumnsType<WorkRow> = [
    {
      title: t('chronic.col.name', '姓名'),
      dataIndex: 'name',
      render: (v: string | null, r) => <a href={`#/residents/${r.patientId}`}>{v ?? r.patientId}</a>,
    },
    {
      title: t('chronic.col.disease', '病种'),
      dataIndex: 'disease',
      render: (d: string) => <Tag color={d === 'htn' ? 'red' : 'blue'}>{diseaseLabel(d)}</Tag>,
    },
    { title: t('chronic.col.nextDue', '应随访日期'), dataIndex: 'nextDue' },
    { title: t('chronic.col.lastVisit', '上次随访'), dataIndex: 'lastVisit', render: (v: string | null) => v ?? '—' },
    { title: t('chronic.col.decision', '上次结论'), dataIndex: 'decision', render: (d: string | null) => decisionLabel(d) },
    {
      title: t('chronic.col.controlled', '控制情况'),
      dataIndex: 'controlled',
      render: (c: boolean | null) =>
        c === null ? (
          '—'
        ) : c ? (
          <Tag color="green">{t('chronic.controlled', '达标')}</Tag>
        ) : (
          <Tag color="orange">{t('chronic.uncontrolled', '未达标')}</Tag>
        ),
    },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) => (
        <Button size="small" type="primary" onClick={() => setOpen(r)}>
          {t('chronic.recordFollowUp', '录入随访')}
        </Button>
      ),
    },
  ];
  const refColumns: TableColumnsType<OpenReferral> = [
    { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
    {
      title: t('care.col.direction', '方向'),
      dataIndex: 'direction',
      render: (d: string) =>
        d === 'down' ? <Tag color="purple">{t('care.down', '下转')}</Tag> : <Tag color="geekblue">{t('care.up', '上转')}</Tag>,
    },
    { title: t('care.col.reason', '原因'), dataIndex: 'reason' },
    { title: t('care.col.status', '状态'), dataIndex: 'status' },
    { title: t('care.col.dueOn', '随访期限'), dataIndex: 'dueOn', render: (v: string | null) => v ?? '—' },
  ];
  const tab = (key: keyof Pick<Worklist, 'due' | 'overdue' | 'recall' | 'referred'>, label: string, color: string) => ({
    key,
    label: (
      <Space>
        {label}
        <Badge count={data?.[key].length ?? 0} color={color} showZero overflowCount={999} />
      </Space>
    ),
    children: (
      <Table
        rowKey={(r) => `${r.patientId}-${r.disease}`}
        size="small"
        columns={columns}
        dataSource={data?.[key] ?? []}
        pagination={{ pageSize: 20 }}
        loading={!data}
      />
    ),
  });
  return (
    <>
      <PageHeader
        title={t('chronic.worklist.title', '今日工作清单')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('chronic.worklist', '工作清单') }]}
        extra={
          <Space>
            <Input.Search
              allowClear
              placeholder={t('chronic.doctorId', '医生编号（空=全部）')}
              defaultValue={doctorId}
              onSearch={setDoctorId}
              style={{ width: 220 }}
            />
            <DatePicker
              allowClear
              placeholder={t('chronic.asOf', '查看日期')}
              onChange={(d) => setAsOf(d ? d.format('YYYY-MM-DD') : undefined)}
              value={asOf ? dayjs(asOf) : null}
            />
          </Space>
        }
      />
      <Alert
        type="info"
        showIcon
        style={{ marginBottom: 12 }}
        message={t('chronic.worklist.help', '本周到期：7天内应随访；逾期：逾期30天内；待召回：逾期超过30天；已转诊：转诊后2周内随访。')}
      />
      <Tabs
        items={[
          tab('due', t('chronic.tab.due', '本周到期'), '#0f7b6c'),
          tab('overdue', t('chronic.tab.overdue', '逾期'), '#fa8c16'),
          tab('recall', t('chronic.tab.recall', '待召回'), '#f5222d'),
          tab('referred', t('chronic.tab.referred', '已转诊待回访'), '#722ed1'),
          {
            key: 'referrals',
            label: (
              <Space>
                {t('chronic.tab.referrals', '转诊任务')}
                <Badge count={data?.referrals.length ?? 0} showZero color="#2f54eb" />
              </Space>
            ),
            children: (
              <Table rowKey="taskId" size="small" columns={refColumns} dataSource={data?.referrals ?? []} pagination={{ pageSize: 20 }} />
            ),
          },
        ]}
      />
      {open && <FollowUpDrawer row={open} onClose={() => setOpen(null)} onSaved={() => void load()} />}
    </>
  );
}
