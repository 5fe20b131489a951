/** 慢病登记册: hypertension and diabetes registries with status, and the confirmation list. */
import { useCallback, useEffect, useState } from 'react';
import { App, Button, Input, Segmented, Space, Table, Tabs, Tag, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { getConfirmations, getRegistry, setConfirmation, type RegistryRow } from './chronic.resource.js';
import { decisionLabel, diseaseLabel, statusLabel } from './labels.js';

export function RegistryPage() {
  const { message } = App.useApp();
  const [disease, setDisease] = useState<'htn' | 'dm'>('htn');
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ total: number; rows: RegistryRow[] } | null>(null);
  const [conf, setConf] = useState<Awaited<ReturnType<typeof getConfirmations>>['rows']>([]);
  const load = useCallback(() => {
    getRegistry({ disease, status: status || undefined, q: q || undefined, limit: '20', offset: String((page - 1) * 20) })
      .then(setData)
      .catch((e: Error) => message.error(e.message));
    getConfirmations()
      .then((r) => setConf(r.rows))
      .catch(() => undefined);
  }, [disease, status, q, page, message]);
  useEffect(() => void load(), [load]);
  const columns: TableColumnsType<RegistryRow> = [
    {
      title: t('chronic.col.name', '姓名'),
      dataIndex: 'name',
      render: (v: string | null, r) => <a href={`#/residents/${r.patientId}`}>{v ?? r.patientId}</a>,
    },
    { title: t('chronic.col.birthDate', '出生日期'), dataIndex: 'birthDate' },
    { title: t('chronic.col.diagnosedOn', '确诊日期'), dataIndex: 'diagnosedOn' },
    {
      title: t('chronic.col.source', '来源'),
      dataIndex: 'source',
      render: (s: string) => (s === 'manual' ? t('chronic.src.manual', '手工建档') : t('chronic.src.record', '诊疗记录')),
    },
    {
      title: t('chronic.col.team', '管理团队'),
      key: 'team',
      render: (_: unknown, r: RegistryRow) =>
        r.teamName ?? (r.teamId ? t('chronic.unnamedTeam', '（未命名团队）') : t('chronic.noTeam', '未分配')),
    },
    {
      title: t('chronic.col.status', '管理状态'),
      dataIndex: 'status',
      render: (s: string) => (
        <Tag color={s === 'managed' ? 'green' : s === 'lost-to-follow-up' ? 'orange' : 'default'}>{statusLabel(s)}</Tag>
      ),
    },
    { title: t('chronic.col.nextDue', '应随访日期'), dataIndex: 'nextDue' },
    { title: t('chronic.col.decision', '上次结论'), dataIndex: 'decision', render: (d: string | null) => decisionLabel(d) },
  ];
  return (
    <>
      <PageHeader
        title={t('chronic.registry.title', '慢病登记管理')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('chronic.registry', '登记册') }]}
      />
      <Tabs
        items={[
          {
            key: 'registry',
            label: t('chronic.registry', '登记册'),
            children: (
              <>
                <Space style={{ marginBottom: 12 }} wrap>
                  <Segmented
                    value={disease}
                    onChange={(v) => (setDisease(v as 'htn' | 'dm'), setPage(1))}
                    options={[
                      { value: 'htn', label: diseaseLabel('htn') },
                      { value: 'dm', label: diseaseLabel('dm') },
                    ]}
                  />
                  <Segmented
                    value={status}
                    onChange={(v) => (setStatus(String(v)), setPage(1))}
                    options={[
                      { value: '', label: t('chronic.all', '全部') },
                      { value: 'managed', label: statusLabel('managed') },
                      { value: 'lost-to-follow-up', label: statusLabel('lost-to-follow-up') },
                      { value: 'transferred', label: statusLabel('transferred') },
                      { value: 'died', label: statusLabel('died') },
                    ]}
                  />
                  <Input.Search
                    allowClear
                    placeholder={t('chronic.search', '姓名或编号')}
                    onSearch={(v) => (setQ(v), setPage(1))}
                    style={{ width: 220 }}
                  />
                  <span>{t('chronic.total', '共 {n} 人', { n: data?.total ?? 0 })}</span>
                </Space>
                <Table
                  rowKey={(r) => `${r.patientId}-${r.disease}`}
                  size="small"
                  columns={columns}
                  dataSource={data?.rows ?? []}
                  loading={!data}
                  pagination={{ current: page, pageSize: 20, total: data?.total ?? 0, onChange: setPage, showSizeChanger: false }}
                />
              </>
            ),
          },
          {
            key: 'confirm',
            label: t('chronic.confirmations', '疑似待确诊（{n}）', { n: conf.length }),
            children: (
              <Table
                rowKey={(r) => `${r.patientId}-${r.disease}`}
                size="small"
                dataSource={conf}
                columns={[
                  { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
                  { title: t('chronic.col.disease', '病种'), dataIndex: 'disease', render: diseaseLabel },
                  { title: t('chronic.col.reason', '依据'), dataIndex: 'reason' },
                  { title: t('chronic.col.detectedOn', '发现日期'), dataIndex: 'detectedOn' },
                  {
                    title: '',
                    key: 'act',
                    render: (_: unknown, r) => (
                      <Space>
                        <Button size="small" onClick={() => void setConfirmation(r.patientId, r.disease, 'confirmed').then(load)}>
                          {t('chronic.confirm', '确诊')}
                        </Button>
                        <Button size="small" onClick={() => void setConfirmation(r.patientId, r.disease, 'dismissed').then(load)}>
                          {t('chronic.dismiss', '排除')}
                        </Button>
                      </Space>
                    ),
                  },
                ]}
              />
            ),
          },
        ]}
      />
    </>
  );
}
