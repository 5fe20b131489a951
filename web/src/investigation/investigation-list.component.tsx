/**
 * 调查列表 (#/investigation): the investigations, overdue first (the server orders them), with the
 * resident, the disease, the status, the investigator and the deadline in words; filtered by
 * status; 新建调查 opens one by hand for a resident found with the resident picker.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { ApiError, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { ResidentPicker } from '../residents/resident-picker.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import { openInvestigation, listInvestigations, type Investigation, type InvestigationList } from './investigation.resource.js';
import { chinaTime, classLabel, DISEASES, diseaseLabel, sourceLabel, STATUS_COLOURS, statusLabel, timeLeft } from './labels.js';
import { DayInput } from './day-input.component.js';
import { useNames } from './useNames.js';

const STATUS_FILTERS = () => [
  { value: '', label: t('inv.filter.active', '待调查和调查中') },
  { value: 'open', label: statusLabel('open') },
  { value: 'in-progress', label: statusLabel('in-progress') },
  { value: 'closed', label: statusLabel('closed') },
  { value: 'open,in-progress,closed', label: t('inv.filter.all', '全部') },
];

/** The deadline in China time with the time left, or how long overdue in red. */
export function Deadline({ inv }: { inv: Pick<Investigation, 'deadlineAt' | 'status' | 'overdue'> }) {
  const left = timeLeft(inv.deadlineAt, inv.status === 'closed');
  const overdue = inv.overdue || left.overdue;
  return (
    <Space size={4} wrap data-testid="deadline" data-overdue={overdue ? 'true' : 'false'}>
      <span style={overdue ? { color: '#cf1322' } : undefined}>{chinaTime(inv.deadlineAt)}</span>
      {inv.status !== 'closed' && <Tag color={overdue ? 'error' : 'default'}>{left.text}</Tag>}
    </Space>
  );
}

function NewInvestigation({ open, onClose }: { open: boolean; onClose(): void }) {
  const [form] = Form.useForm<{ patientId: string; diseaseCode: string; assignee?: string; onsetDate?: string; note?: string }>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const { message } = App.useApp();
  // The form stays mounted (forceRender) so its fields can be read while closed; each opening starts empty.
  useEffect(() => {
    if (open) {
      form.resetFields();
      setError(undefined);
    }
  }, [open, form]);
  const submit = async () => {
    const v = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!v) return;
    setSaving(true);
    setError(undefined);
    try {
      const inv = await openInvestigation({
        patientId: v.patientId.trim(),
        diseaseCode: v.diseaseCode,
        ...(v.assignee?.trim() ? { assignee: v.assignee.trim() } : {}),
        ...(v.onsetDate ? { onsetDate: v.onsetDate } : {}),
        ...(v.note?.trim() ? { note: v.note.trim() } : {}),
      });
      message.success(t('inv.new.done', '已新建调查'));
      form.resetFields();
      onClose();
      navigate(`/investigation/${inv.id}`);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 409
          ? t('inv.new.duplicate', '该居民已有同一疾病的进行中调查')
          : e instanceof Error
            ? e.message
            : String(e),
      );
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('inv.new.title', '新建流行病学调查')}
      okText={t('inv.new.ok', '新建')}
      cancelText={t('inv.cancel', '取消')}
      confirmLoading={saving}
      onOk={() => void submit()}
      onCancel={onClose}
      forceRender
    >
      <Form form={form} layout="vertical" data-testid="new-investigation-form">
        <Form.Item
          name="patientId"
          label={t('inv.new.resident', '居民')}
          rules={[{ required: true, message: t('inv.new.residentRequired', '请选择居民') }]}
        >
          <ResidentPicker value={form.getFieldValue('patientId') as string} onChange={(id) => form.setFieldValue('patientId', id)} />
        </Form.Item>
        <Form.Item
          name="diseaseCode"
          label={t('inv.new.disease', '疾病')}
          rules={[{ required: true, message: t('inv.new.diseaseRequired', '请选择疾病') }]}
        >
          <Select
            data-testid="disease-select"
            placeholder={t('inv.new.diseasePlaceholder', '选择疾病')}
            options={DISEASES.map((d) => ({ value: d.key, label: `${d.name()}（${classLabel(d.cls)}）` }))}
          />
        </Form.Item>
        <Form.Item name="onsetDate" label={t('inv.new.onset', '发病日期（不填则取诊断记录）')}>
          <DayInput />
        </Form.Item>
        <Form.Item name="assignee" label={t('inv.new.assignee', '调查人（用户名，不填则为本人）')}>
          <Input />
        </Form.Item>
        <Form.Item name="note" label={t('inv.new.note', '备注')}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon message={error} data-testid="new-investigation-error" />}
    </Modal>
  );
}

export function InvestigationListPage({ status = '' }: { status?: string }) {
  const [paged, setPaged] = useState({ page: 1, size: 20 });
  const [data, setData] = useState<InvestigationList>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const { page, size } = paged;
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    listInvestigations({ status, limit: size, offset: (page - 1) * size }, ctrl.signal)
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
  }, [status, page, size]);
  const names = useNames(data?.items.map((i) => i.patientId) ?? []);

  const columns: TableColumnsType<Investigation> = [
    {
      title: t('inv.col.resident', '调查对象'),
      key: 'resident',
      render: (_, r) => (
        <a href={`#/investigation/${r.id}`} data-testid="investigation-link">
          {names.resident(r.patientId)}
        </a>
      ),
    },
    {
      title: t('inv.col.disease', '疾病'),
      key: 'disease',
      render: (_, r) => (
        <Space size={4}>
          <span>{diseaseLabel(r.diseaseKey, r.diseaseName)}</span>
          <Tag>{classLabel(r.diseaseClass)}</Tag>
        </Space>
      ),
    },
    { title: t('inv.col.source', '来源'), key: 'source', render: (_, r) => sourceLabel(r.source) },
    {
      title: t('inv.col.status', '状态'),
      key: 'status',
      render: (_, r) => (
        <Tag color={STATUS_COLOURS[r.status]} data-testid="investigation-status">
          {statusLabel(r.status)}
        </Tag>
      ),
    },
    { title: t('inv.col.assignee', '调查人'), key: 'assignee', render: (_, r) => r.assignee ?? t('inv.unassigned', '未分派') },
    { title: t('inv.col.onset', '发病日期'), key: 'onset', render: (_, r) => r.onsetDate ?? '—' },
    { title: t('inv.col.deadline', '调查时限'), key: 'deadline', render: (_, r) => <Deadline inv={r} /> },
  ];

  return (
    <div data-testid="investigation-list">
      <PageHeader
        title={t('inv.list.title', '调查列表')}
        crumbs={[{ title: t('nav.investigation', '流行病学调查') }, { title: t('inv.list.title', '调查列表') }]}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="new-investigation">
            {t('inv.new.button', '新建调查')}
          </Button>
        }
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Card size="small">
        <Space style={{ marginBottom: 12 }} wrap>
          <Typography.Text>{t('inv.filter.status', '状态')}</Typography.Text>
          <Select
            data-testid="status-filter"
            style={{ width: 180 }}
            value={status}
            options={STATUS_FILTERS()}
            onChange={(v: string) => {
              setPaged({ page: 1, size });
              navigate('/investigation', { status: v || undefined });
            }}
          />
          <Typography.Text type="secondary">{t('inv.list.order', '超时未完成的调查排在最前')}</Typography.Text>
        </Space>
        <Table
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={data?.items ?? []}
          loading={loading}
          data-testid="investigations-table"
          rowClassName={(r) => (r.overdue ? 'yf-row-overdue' : '')}
          onRow={(r) => ({ style: r.overdue ? { background: '#fff1f0' } : undefined })}
          pagination={{
            current: page,
            pageSize: size,
            total: data?.total ?? 0,
            showSizeChanger: true,
            pageSizeOptions: [20, 50, 100],
            showTotal: (n) => t('inv.list.total', '共 {n} 项调查', { n }),
            onChange: (p, s) => setPaged({ page: s !== size ? 1 : p, size: s }),
          }}
        />
      </Card>
      <NewInvestigation open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}
