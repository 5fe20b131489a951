/**
 * 家庭医生签约与双向转诊: teams, contracts (individual or household, transfer, renewal), key
 * populations (pregnant from the record; disabled and hardship flagged here), referrals.
 */
import { useCallback, useEffect, useState } from 'react';
import { App, Button, Form, Input, Modal, Select, Space, Switch, Table, Tabs, Tag, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  createContract,
  createReferral,
  decideReferral,
  endKeyPopulationFlag,
  flagKeyPopulation,
  getContracts,
  getKeyPopulations,
  getReferrals,
  getTeams,
  renewContract,
} from '../chronic/chronic.resource.js';
import type { ContractRow, KeyPopulationRow, ReferralRow } from '../chronic/chronic.resource.js';
import { populationLabel } from '../chronic/labels.js';
import { PagedTable, useServerPage, type PageOf, type PageQuery } from '../shared/paged-table.component.js';

const PACKAGE_CODES = ['basic', 'elderly', 'chronic', 'maternal', 'child', 'disabled', 'hardship'];
const packageLabel = (p: string) =>
  ({
    basic: t('care.pkg.basic', '基础包'),
    elderly: t('care.pkg.elderly', '老年人健康管理包'),
    chronic: t('care.pkg.chronic', '慢病管理包'),
    maternal: t('care.pkg.maternal', '孕产妇健康管理包'),
    child: t('care.pkg.child', '0–6岁儿童健康管理包'),
    disabled: t('care.pkg.disabled', '残疾人服务包'),
    hardship: t('care.pkg.hardship', '特困家庭服务包'),
  })[p] ?? p;
const statusLabel = (s: string) =>
  ({
    requested: t('care.st.requested', '待接收'),
    accepted: t('care.st.accepted', '已接收'),
    rejected: t('care.st.rejected', '已拒绝'),
    'in-progress': t('care.st.in-progress', '诊治中'),
    completed: t('care.st.completed', '已完成'),
    cancelled: t('care.st.cancelled', '已取消'),
  })[s] ?? s;
const urgencyLabel = (u: string | null) =>
  u
    ? ({ routine: t('care.routine', '常规'), urgent: t('care.urgent', '紧急'), asap: t('care.asap', '尽快'), stat: t('care.stat', '立即') }[
        u
      ] ?? u)
    : '—';

/** One of the screen's lists, paged on the server (its fetch answers `rows`). */
const paged =
  <T,>(fetchPage: (q: Record<string, string>) => Promise<{ rows: T[]; total: number }>) =>
  (p: PageQuery): Promise<PageOf<T>> =>
    fetchPage({ limit: String(p.limit), offset: String(p.offset) }).then((r) => ({ items: r.rows, total: r.total }));
const fetchContracts = paged<ContractRow>(getContracts);
const fetchReferrals = paged<ReferralRow>(getReferrals);
const fetchKeyPopulations = paged<KeyPopulationRow>(getKeyPopulations);
const totalPeople = (n: number) => t('care.total', '共 {n} 人', { n });

export function ContractsPage({ tab }: { tab?: string }) {
  const { message } = App.useApp();
  const showError = useCallback((e: Error) => message.error(e.message), [message]);
  const contracts = useServerPage<ContractRow>(fetchContracts, [], { onError: showError });
  const referrals = useServerPage<ReferralRow>(fetchReferrals, []);
  const keyPops = useServerPage<KeyPopulationRow>(fetchKeyPopulations, []);
  const [teams, setTeams] = useState<Awaited<ReturnType<typeof getTeams>>['rows']>([]);
  const [open, setOpen] = useState<'contract' | 'referral' | 'flag' | null>(null);
  const [form] = Form.useForm();
  const loadTeams = useCallback(() => {
    getTeams()
      .then((r) => setTeams(r.rows))
      .catch(() => undefined);
  }, []);
  useEffect(() => void loadTeams(), [loadTeams]);
  const { reload: reloadContracts } = contracts;
  const { reload: reloadReferrals } = referrals;
  const { reload: reloadKeyPops } = keyPops;
  const load = useCallback(() => {
    reloadContracts();
    reloadReferrals();
    reloadKeyPops();
    loadTeams();
  }, [reloadContracts, reloadReferrals, reloadKeyPops, loadTeams]);
  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    try {
      if (open === 'contract')
        await createContract({
          [v.household ? 'householdId' : 'patientId']: v.who,
          teamId: v.teamId,
          package: v.package,
          transfer: v.transfer ?? false,
        });
      else if (open === 'flag') await flagKeyPopulation({ patientId: v.who, population: v.population, note: v.note || undefined });
      else await createReferral({ patientId: v.who, reason: v.reason, urgency: v.urgency, toOrganizationId: v.to });
      message.success(t('care.saved', '已保存'));
      setOpen(null);
      form.resetFields();
      setTimeout(load, 500);
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  const decide = async (taskId: string, action: string) => {
    try {
      await decideReferral(taskId, { action });
      setTimeout(load, 300);
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  const cCols: TableColumnsType<ContractRow> = [
    { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
    { title: t('care.col.team', '签约团队'), dataIndex: 'teamId', render: (id: string) => teams.find((x) => x.teamId === id)?.name ?? id },
    { title: t('care.col.package', '服务包'), dataIndex: 'package', render: (p: string | null) => (p ? packageLabel(p) : '—') },
    {
      title: t('care.col.populations', '重点人群'),
      dataIndex: 'populations',
      render: (ps: string[]) => ps.map((p) => <Tag key={p}>{populationLabel(p)}</Tag>),
    },
    { title: t('care.col.period', '签约期'), key: 'period', render: (_: unknown, r) => `${r.start} ~ ${r.end}` },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) => (
        <Button
          size="small"
          type={r.renewalDue ? 'primary' : 'default'}
          onClick={() => void renewContract(r.episodeId).then(() => setTimeout(load, 300))}
        >
          {t('care.renew', '续约')}
        </Button>
      ),
    },
  ];
  const rCols: TableColumnsType<ReferralRow> = [
    { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
    {
      title: t('care.col.direction', '方向'),
      dataIndex: 'direction',
      render: (d: string) =>
        d === 'down' ? <Tag color="purple">{t('care.down', '下转')}</Tag> : <Tag color="geekblue">{t('care.up', '上转')}</Tag>,
    },
    { title: t('care.col.urgency', '紧急程度'), dataIndex: 'urgency', render: urgencyLabel },
    { title: t('care.col.reason', '原因'), dataIndex: 'reason' },
    { title: t('care.col.from', '发起方'), dataIndex: 'requester' },
    { title: t('care.col.to', '接收方'), dataIndex: 'owner' },
    { title: t('care.col.status', '状态'), dataIndex: 'status', render: (s: string) => <Tag>{statusLabel(s)}</Tag> },
    { title: t('care.col.dueOn', '随访期限'), dataIndex: 'dueOn' },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) =>
        r.status === 'requested' ? (
          <Space>
            <Button size="small" onClick={() => void decide(r.taskId, 'accept')}>
              {t('care.accept', '接收')}
            </Button>
            <Button size="small" danger onClick={() => void decide(r.taskId, 'decline')}>
              {t('care.decline', '拒绝')}
            </Button>
          </Space>
        ) : r.status === 'accepted' || r.status === 'in-progress' ? (
          <Button size="small" onClick={() => void decide(r.taskId, 'complete')}>
            {t('care.complete', '完成')}
          </Button>
        ) : null,
    },
  ];
  const kCols: TableColumnsType<KeyPopulationRow> = [
    { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
    { title: t('care.col.population', '重点人群'), dataIndex: 'population', render: (p: string) => <Tag>{populationLabel(p)}</Tag> },
    {
      title: t('care.col.keySource', '来源'),
      dataIndex: 'source',
      render: (src: string) => (src.startsWith('Flag/') ? t('care.keySource.flag', '人工标记') : t('care.keySource.record', '诊疗记录')),
    },
    { title: t('care.col.validity', '有效期'), key: 'period', render: (_: unknown, r) => `${r.start ?? '…'} ~ ${r.end ?? '…'}` },
    { title: t('care.col.note', '备注'), dataIndex: 'note' },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) =>
        r.source.startsWith('Flag/') && !r.end ? (
          <Button
            size="small"
            onClick={() =>
              void endKeyPopulationFlag(r.source.slice(5))
                .then(() => setTimeout(load, 300))
                .catch((e: Error) => message.error(e.message))
            }
          >
            {t('care.endFlag', '取消标记')}
          </Button>
        ) : null,
    },
  ];
  const modalTitle =
    open === 'contract'
      ? t('care.newContract', '新签约')
      : open === 'flag'
        ? t('care.newFlag', '标记重点人群')
        : t('care.newReferral', '发起上转');
  return (
    <>
      <PageHeader
        title={t('care.contracts.title', '家庭医生签约与转诊')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('care.contracts', '签约与转诊') }]}
        extra={
          <Space>
            <Button type="primary" onClick={() => setOpen('contract')}>
              {t('care.newContract', '新签约')}
            </Button>
            <Button onClick={() => setOpen('flag')}>{t('care.newFlag', '标记重点人群')}</Button>
            <Button onClick={() => setOpen('referral')}>{t('care.newReferral', '发起上转')}</Button>
          </Space>
        }
      />
      <Tabs
        defaultActiveKey={tab ?? 'contracts'}
        items={[
          {
            key: 'contracts',
            label: contracts.data
              ? t('care.tab.contracts', '签约居民（{n}）', { n: contracts.data.total })
              : t('care.tab.contractsLoading', '签约居民'),
            children: <PagedTable list={contracts} rowKey="episodeId" columns={cCols} total={totalPeople} />,
          },
          {
            key: 'key-populations',
            label: keyPops.data
              ? t('care.tab.keyPopulations', '重点人群（{n}）', { n: keyPops.data.total })
              : t('care.tab.keyPopulationsLoading', '重点人群'),
            children: <PagedTable list={keyPops} rowKey="source" columns={kCols} total={totalPeople} />,
          },
          {
            key: 'referrals',
            label: referrals.data
              ? t('care.tab.referrals', '双向转诊（{n}）', { n: referrals.data.total })
              : t('care.tab.referralsLoading', '双向转诊'),
            children: <PagedTable list={referrals} rowKey="taskId" columns={rCols} total={totalPeople} />,
          },
          {
            key: 'teams',
            label: t('care.tab.teams', '团队'),
            children: (
              <Table
                rowKey="teamId"
                size="small"
                dataSource={teams}
                columns={[
                  { title: t('care.col.team', '签约团队'), dataIndex: 'name' },
                  { title: t('care.col.members', '成员'), dataIndex: 'members', render: (m: string[]) => m.join('、') },
                  { title: t('care.col.contracts', '签约人数'), dataIndex: 'contracts' },
                ]}
              />
            ),
          },
        ]}
      />
      <Modal open={!!open} title={modalTitle} onCancel={() => setOpen(null)} onOk={() => void submit()} okText={t('care.save', '保存')}>
        <Form form={form} layout="vertical" initialValues={{ package: 'basic', urgency: 'routine', population: 'disabled' }}>
          <Form.Item
            name="who"
            label={open === 'contract' ? t('care.who', '居民编号 / 家庭户编号') : t('care.patientIdShort', '居民编号')}
            rules={[{ required: true, message: t('care.required', '必填') }]}
          >
            <Input />
          </Form.Item>
          {open === 'flag' ? (
            <>
              <Form.Item
                name="population"
                label={t('care.col.population', '重点人群')}
                extra={t('care.flagHelp', '孕产妇由妊娠诊断或孕产期保健记录自动识别，无需标记。')}
              >
                <Select options={['disabled', 'hardship'].map((value) => ({ value, label: populationLabel(value) }))} />
              </Form.Item>
              <Form.Item name="note" label={t('care.col.note', '备注')}>
                <Input />
              </Form.Item>
            </>
          ) : open === 'contract' ? (
            <>
              <Form.Item name="household" label={t('care.household', '按家庭户签约')} valuePropName="checked">
                <Switch />
              </Form.Item>
              <Form.Item
                name="teamId"
                label={t('care.col.team', '签约团队')}
                rules={[{ required: true, message: t('care.required', '必填') }]}
              >
                <Select options={teams.map((x) => ({ value: x.teamId, label: x.name }))} />
              </Form.Item>
              <Form.Item name="package" label={t('care.col.package', '服务包')}>
                <Select options={PACKAGE_CODES.map((value) => ({ value, label: packageLabel(value) }))} />
              </Form.Item>
              <Form.Item name="transfer" label={t('care.transfer', '已在他处签约时转签')} valuePropName="checked">
                <Switch />
              </Form.Item>
            </>
          ) : (
            <>
              <Form.Item
                name="reason"
                label={t('care.col.reason', '原因')}
                rules={[{ required: true, message: t('care.required', '必填') }]}
              >
                <Input.TextArea rows={2} />
              </Form.Item>
              <Form.Item name="urgency" label={t('care.col.urgency', '紧急程度')}>
                <Select
                  options={[
                    { value: 'routine', label: t('care.routine', '常规') },
                    { value: 'urgent', label: t('care.urgent', '紧急') },
                    { value: 'stat', label: t('care.stat', '立即') },
                  ]}
                />
              </Form.Item>
              <Form.Item
                name="to"
                label={t('care.to', '接收医院（机构编号）')}
                rules={[{ required: true, message: t('care.required', '必填') }]}
              >
                <Input />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </>
  );
}
