/**
 * 结果回传 (#/lab/outbox): results queued for the ordering facilities (HL7 ORU^R01 over MLLP),
 * paged with the total, parked ones first to hand: the receiver's error or why it was parked,
 * the attempts, and 重新发送 for a parked message (the same message and control id; the
 * server's refusal, e.g. for one already delivered, shown in words).
 */
import { useState } from 'react';
import { Alert, App, Button, Segmented, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { usePaged } from './hooks.js';
import { PageHeader } from '../shell/page-header.component.js';
import { listOutbox, resend, type OutboxView } from './lab.resource.js';
import { chinaTime, mayScan, OUTBOX_COLOURS, outboxStatusLabel, refusal } from './labels.js';

export function OutboxPage({ status: initial = 'parked' }: { status?: string }) {
  const { message } = App.useApp();
  const [status, setStatus] = useState(initial);
  const [busy, setBusy] = useState<number>();
  const [error, setError] = useState<string>();
  const write = mayScan();
  const list = usePaged<OutboxView>(
    (p, s) => listOutbox({ ...p, status: status || undefined }, s),
    [status],
    (n) => t('lab.outbox.total', '共 {n} 条', { n }),
  );
  const doResend = async (r: OutboxView) => {
    setBusy(r.id);
    setError(undefined);
    try {
      await resend(r.id);
      message.success(t('lab.outbox.resent', '已重新排队发送：{barcode} → {facility}', { barcode: r.barcode, facility: r.facility }));
      list.reload();
    } catch (e) {
      setError(refusal(e, { 409: t('lab.outbox.notParked', '该消息不是搁置状态，不能重发') }));
    } finally {
      setBusy(undefined);
    }
  };
  const columns: TableColumnsType<OutboxView> = [
    {
      title: t('lab.col.barcode', '条码'),
      key: 'barcode',
      render: (_, r) => <a href={`#/lab/specimens/${encodeURIComponent(r.barcode)}`}>{r.barcode}</a>,
    },
    { title: t('lab.col.facility', '接收机构'), dataIndex: 'facility' },
    {
      title: t('lab.col.status', '状态'),
      key: 'status',
      render: (_, r) => (
        <Tag color={OUTBOX_COLOURS[r.status]} data-testid="outbox-status">
          {outboxStatusLabel(r.status)}
        </Tag>
      ),
    },
    { title: t('lab.col.attempts', '尝试次数'), dataIndex: 'attempts', align: 'right' },
    {
      title: t('lab.col.receiverError', '对方回执 / 错误'),
      key: 'error',
      render: (_, r) => {
        const text = r.parkedReason ?? r.ackText ?? r.lastError;
        return text ? (
          <Typography.Text type={r.status === 'parked' ? 'danger' : 'secondary'} data-testid="outbox-error">
            {r.ackCode ? `${r.ackCode}：` : ''}
            {text}
          </Typography.Text>
        ) : (
          '—'
        );
      },
    },
    { title: t('lab.col.verifiedAt', '审核时间'), key: 'verified', render: (_, r) => chinaTime(r.verifiedAt) },
    {
      title: t('lab.col.nextOrDelivered', '送达 / 下次尝试'),
      key: 'when',
      render: (_, r) => (r.deliveredAt ? chinaTime(r.deliveredAt) : chinaTime(r.nextAttemptAt)),
    },
    {
      title: t('lab.actions', '操作'),
      key: 'actions',
      render: (_, r) =>
        r.status === 'parked' && write ? (
          <Button size="small" type="primary" loading={busy === r.id} onClick={() => void doResend(r)} data-testid="resend">
            {t('lab.outbox.resend', '重新发送')}
          </Button>
        ) : null,
    },
  ];
  return (
    <>
      <PageHeader
        title={t('nav.labOutbox', '结果回传')}
        crumbs={[{ title: t('nav.lab', '检测送检') }, { title: t('nav.labOutbox', '结果回传') }]}
      />
      <Space direction="vertical" style={{ width: '100%' }}>
        <Segmented
          value={status}
          onChange={(v) => setStatus(String(v))}
          options={[
            { value: 'parked', label: outboxStatusLabel('parked') },
            { value: 'pending', label: outboxStatusLabel('pending') },
            { value: 'delivered', label: outboxStatusLabel('delivered') },
            { value: '', label: t('lab.outbox.all', '全部') },
          ]}
        />
        {error && <Alert type="error" showIcon message={error} data-testid="outbox-refusal" />}
        {list.error && <Alert type="error" showIcon message={list.error} />}
        <Table
          data-testid="outbox-table"
          rowKey="id"
          size="small"
          columns={columns}
          dataSource={list.data?.items ?? []}
          loading={list.loading}
          pagination={list.pagination}
          scroll={{ x: true }}
        />
      </Space>
    </>
  );
}
