/**
 * 漏访上报: escalation notices of missed daily checks (a check still missing a day after it was
 * missed), sent to the investigator, the contact's team and its supervisor, and the CDC. Shown on
 * the investigation page (all of its notices, open ones first, paged with the total) and from the
 * worklist row; each is acknowledged once, with a note.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Input, Modal, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import {
  acknowledgeEscalation,
  EPIINV,
  listEscalations,
  purposeFor,
  type EscalationList,
  type EscalationItem,
} from './investigation.resource.js';
import { chinaTime } from './labels.js';
import { useNames } from './useNames.js';

export const recipientKindLabel = (kind: string): string =>
  ({
    investigator: t('inv.esc.investigator', '调查人员'),
    team: t('inv.esc.team', '随访团队'),
    supervisor: t('inv.esc.supervisor', '团队负责人'),
    cdc: t('inv.esc.cdc', '疾控中心'),
  })[kind] ?? kind;

/** Acknowledges one notice with an optional note; calls back when done. */
export function AcknowledgeButton({ escalationId, onDone, purpose }: { escalationId: number; onDone(): void; purpose?: string }) {
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button size="small" data-testid="escalation-ack" onClick={() => setOpen(true)}>
        {t('inv.esc.ack', '确认收到')}
      </Button>
      <Modal
        open={open}
        title={t('inv.esc.ackTitle', '确认漏访上报')}
        okText={t('inv.esc.ack', '确认收到')}
        cancelText={t('inv.cancel', '取消')}
        confirmLoading={busy}
        onCancel={() => setOpen(false)}
        onOk={() => {
          setBusy(true);
          acknowledgeEscalation(escalationId, note.trim() || undefined, purpose ?? purposeFor())
            .then(() => {
              setOpen(false);
              setNote('');
              onDone();
            })
            .catch((e: unknown) => void message.error(e instanceof Error ? e.message : String(e)))
            .finally(() => setBusy(false));
        }}
      >
        <Input.TextArea
          rows={3}
          maxLength={1000}
          value={note}
          data-testid="escalation-note"
          placeholder={t('inv.esc.notePlaceholder', '处理情况，如：已电话联系，今日补查')}
          onChange={(e) => setNote(e.target.value)}
        />
      </Modal>
    </>
  );
}

/** The investigation's notices; nothing when it has none. */
export function EscalationsCard({ investigationId }: { investigationId: number }) {
  const [data, setData] = useState<EscalationList>();
  const [error, setError] = useState<string>();
  const [page, setPage] = useState({ page: 1, size: 10 });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    listEscalations({ investigationId, state: 'all', limit: page.size, offset: (page.page - 1) * page.size }, ctrl.signal, EPIINV)
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [investigationId, page, tick]);
  const names = useNames(data?.items.map((r) => r.patientId) ?? [], [], EPIINV);
  if (error) return <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />;
  if (!data || data.total === 0) return null;
  const open = data.items.filter((r) => !r.acknowledgedAt).length;
  const columns: TableColumnsType<EscalationItem> = [
    { title: t('inv.esc.contact', '密接'), key: 'who', render: (_, r) => names.resident(r.patientId) },
    { title: t('inv.esc.day', '漏访日期'), dataIndex: 'day' },
    {
      title: t('inv.esc.to', '已通知'),
      key: 'to',
      render: (_, r) => (
        <Space size={[4, 4]} wrap>
          {r.recipients.map((x) => (
            <Tag key={`${x.kind}-${x.ref}`}>
              {recipientKindLabel(x.kind)}：{x.display}
            </Tag>
          ))}
        </Space>
      ),
    },
    { title: t('inv.esc.at', '上报时间'), key: 'at', render: (_, r) => chinaTime(r.createdAt) },
    {
      title: t('inv.esc.state', '处理'),
      key: 'state',
      render: (_, r) =>
        r.acknowledgedAt ? (
          <Typography.Text type="secondary" data-testid="escalation-acked">
            {t('inv.esc.acked', '{who} 于 {time} 确认', { who: r.acknowledgedBy ?? '', time: chinaTime(r.acknowledgedAt) })}
            {r.ackNote ? `：${r.ackNote}` : ''}
          </Typography.Text>
        ) : (
          <AcknowledgeButton escalationId={r.id} purpose={EPIINV} onDone={() => setTick((n) => n + 1)} />
        ),
    },
  ];
  return (
    <Card
      size="small"
      style={{ marginBottom: 12 }}
      data-testid="escalations"
      title={
        <Space>
          {t('inv.esc.title', '漏访上报')}
          {open > 0 && <Tag color="error">{t('inv.esc.open', '{n} 条待确认', { n: open })}</Tag>}
        </Space>
      }
    >
      <Table
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={data.items}
        pagination={{
          current: page.page,
          pageSize: page.size,
          total: data.total,
          showTotal: (n) => t('inv.fu.total', '共 {n} 项', { n }),
          onChange: (p, s) => setPage({ page: s !== page.size ? 1 : p, size: s }),
        }}
      />
    </Card>
  );
}
