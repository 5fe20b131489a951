/** 家庭医生签约与双向转诊: teams, contracts (individual or household, transfer, renewal), referrals. */
import { useCallback, useEffect, useState } from 'react';
import { App, Button, Form, Input, Modal, Select, Space, Switch, Table, Tabs, Tag, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { createContract, createReferral, decideReferral, getContracts, getReferrals, getTeams, renewContract, type ContractRow, type ReferralRow } from '../chronic/chronic.resource.js';

const PACKAGES: Record<string, string> = { basic: '基础包', elderly: '老年人健康管理包', chronic: '慢病管理包', maternal: '孕产妇健康管理包', child: '0–6岁儿童健康管理包', disabled: '残疾人服务包', hardship: '特困家庭服务包' };
const POP: Record<string, string> = { elderly: '65岁及以上', chronic: '慢病患者', children: '0–6岁儿童' };
const STATUS: Record<string, string> = { requested: '待接收', accepted: '已接收', rejected: '已拒绝', 'in-progress': '诊治中', completed: '已完成', cancelled: '已取消' };

export function ContractsPage({ tab }: { tab?: string }) {
  const { message } = App.useApp();
  const [contracts, setContracts] = useState<ContractRow[]>([]);
  const [referrals, setReferrals] = useState<ReferralRow[]>([]);
  const [teams, setTeams] = useState<Awaited<ReturnType<typeof getTeams>>['rows']>([]);
  const [open, setOpen] = useState<'contract' | 'referral' | null>(null);
  const [form] = Form.useForm();
  const load = useCallback(() => {
    getContracts({}).then((r) => setContracts(r.rows)).catch((e: Error) => message.error(e.message));
    getReferrals({}).then((r) => setReferrals(r.rows)).catch(() => undefined);
    getTeams().then((r) => setTeams(r.rows)).catch(() => undefined);
  }, [message]);
  useEffect(() => void load(), [load]);
  const submit = async () => {
    const v = await form.validateFields();
    try {
      if (open === 'contract') await createContract({ [v.household ? 'householdId' : 'patientId']: v.who, teamId: v.teamId, package: v.package, transfer: v.transfer ?? false });
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
    { title: t('care.col.package', '服务包'), dataIndex: 'package', render: (p: string | null) => (p ? t(`care.pkg.${p}`, PACKAGES[p] ?? p) : '—') },
    { title: t('care.col.populations', '重点人群'), dataIndex: 'populations', render: (ps: string[]) => ps.map((p) => <Tag key={p}>{t(`care.pop.${p}`, POP[p] ?? p)}</Tag>) },
    { title: t('care.col.period', '签约期'), key: 'period', render: (_: unknown, r) => `${r.start} ~ ${r.end}` },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) => (
        <Button size="small" type={r.renewalDue ? 'primary' : 'default'} onClick={() => void renewContract(r.episodeId).then(() => setTimeout(load, 300))}>
          {t('care.renew', '续约')}
        </Button>
      ),
    },
  ];
  const rCols: TableColumnsType<ReferralRow> = [
    { title: t('chronic.col.name', '姓名'), dataIndex: 'name', render: (v: string | null, r) => v ?? r.patientId },
    { title: t('care.col.direction', '方向'), dataIndex: 'direction', render: (d: string) => (d === 'down' ? <Tag color="purple">{t('care.down', '下转')}</Tag> : <Tag color="geekblue">{t('care.up', '上转')}</Tag>) },
    { title: t('care.col.urgency', '紧急程度'), dataIndex: 'urgency' },
    { title: t('care.col.reason', '原因'), dataIndex: 'reason' },
    { title: t('care.col.from', '发起方'), dataIndex: 'requester' },
    { title: t('care.col.to', '接收方'), dataIndex: 'owner' },
    { title: t('care.col.status', '状态'), dataIndex: 'status', render: (s: string) => <Tag>{t(`care.st.${s}`, STATUS[s] ?? s)}</Tag> },
    { title: t('care.col.dueOn', '随访期限'), dataIndex: 'dueOn' },
    {
      title: '',
      key: 'act',
      render: (_: unknown, r) =>
        r.status === 'requested' ? (
          <Space>
            <Button size="small" onClick={() => void decide(r.taskId, 'accept')}>{t('care.accept', '接收')}</Button>
            <Button size="small" danger onClick={() => void decide(r.taskId, 'decline')}>{t('care.decline', '拒绝')}</Button>
          </Space>
        ) : r.status === 'accepted' || r.status === 'in-progress' ? (
          <Button size="small" onClick={() => void decide(r.taskId, 'complete')}>{t('care.complete', '完成')}</Button>
        ) : null,
    },
  ];
  return (
    <>
      <PageHeader
        title={t('care.contracts.title', '家庭医生签约与转诊')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('care.contracts', '签约与转诊') }]}
        extra={
          <Space>
            <Button type="primary" onClick={() => setOpen('contract')}>{t('care.newContract', '新签约')}</Button>
            <Button onClick={() => setOpen('referral')}>{t('care.newReferral', '发起上转')}</Button>
          </Space>
        }
      />
      <Tabs
        defaultActiveKey={tab ?? 'contracts'}
        items={[
          { key: 'contracts', label: t('care.tab.contracts', '签约居民（{n}）', { n: contracts.length }), children: <Table rowKey="episodeId" size="small" columns={cCols} dataSource={contracts} /> },
          { key: 'referrals', label: t('care.tab.referrals', '双向转诊（{n}）', { n: referrals.length }), children: <Table rowKey="taskId" size="small" columns={rCols} dataSource={referrals} /> },
          {
            key: 'teams',
            label: t('care.tab.teams', '团队'),
            children: <Table rowKey="teamId" size="small" dataSource={teams} columns={[{ title: t('care.col.team', '签约团队'), dataIndex: 'name' }, { title: t('care.col.members', '成员'), dataIndex: 'members', render: (m: string[]) => m.join('、') }, { title: t('care.col.contracts', '签约人数'), dataIndex: 'contracts' }]} />,
          },
        ]}
      />
      <Modal open={!!open} title={open === 'contract' ? t('care.newContract', '新签约') : t('care.newReferral', '发起上转')} onCancel={() => setOpen(null)} onOk={() => void submit()} okText={t('care.save', '保存')}>
        <Form form={form} layout="vertical" initialValues={{ package: 'basic', urgency: 'routine' }}>
          <Form.Item name="who" label={t('care.who', '居民编号 / 家庭户编号')} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          {open === 'contract' ? (
            <>
              <Form.Item name="household" label={t('care.household', '按家庭户签约')} valuePropName="checked">
                <Switch />
              </Form.Item>
              <Form.Item name="teamId" label={t('care.col.team', '签约团队')} rules={[{ required: true }]}>
                <Select options={teams.map((x) => ({ value: x.teamId, label: x.name }))} />
              </Form.Item>
              <Form.Item name="package" label={t('care.col.package', '服务包')}>
                <Select options={Object.entries(PACKAGES).map(([value, zh]) => ({ value, label: t(`care.pkg.${value}`, zh) }))} />
              </Form.Item>
              <Form.Item name="transfer" label={t('care.transfer', '已在他处签约时转签')} valuePropName="checked">
                <Switch />
              </Form.Item>
            </>
          ) : (
            <>
              <Form.Item name="reason" label={t('care.col.reason', '原因')} rules={[{ required: true }]}>
                <Input.TextArea rows={2} />
              </Form.Item>
              <Form.Item name="urgency" label={t('care.col.urgency', '紧急程度')}>
                <Select options={[{ value: 'routine', label: t('care.routine', '常规') }, { value: 'urgent', label: t('care.urgent', '紧急') }, { value: 'stat', label: t('care.stat', '立即') }]} />
              </Form.Item>
              <Form.Item name="to" label={t('care.to', '接收医院（机构编号）')} rules={[{ required: true }]}>
                <Input />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </>
  );
}
