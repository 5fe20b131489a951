/**
 * 漏访上报: escalation notices of missed daily checks (a check still missing a day after it was
 * missed), sent to the investigator, the contact's team and its supervisor, and the CDC — into
 * their inbox (工作台, a FHIR Communication) and by text message where a phone is on record; each
 * recipient shows how its message fared. Shown on the investigation page (all of its notices, open
 * ones first, paged with the total) and from the worklist row; each is acknowledged once, with a
 * note (which completes the Communication and drops messages not yet sent).
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
  type NoticeDelivery,
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

/** How a recipient's text message fared, in words (the inbox entry is always there). */
export function deliveryLabel(d: NoticeDelivery | undefined): { text: string; colour?: string } {
  if (!d) return { text: t('inv.esc.inboxOnly', '已送达工作台') };
  switch (d.status) {
    case 'sent':
    case 'delivered':
      return { text: t('inv.esc.smsSent', '短信已发送'), colour: 'green' };
    case 'queued':
      return d.attempts > 0
        ? { text: t('inv.esc.smsRetrying', '短信重试中'), colour: 'orange' }
        : { text: t('inv.esc.smsQueued', '短信待发送') };
    case 'failed':
      return { text: t('inv.esc.smsFailed', '短信发送失败'), colour: 'red' };
    default:
      return /no phone/.test(d.lastError ?? '')
        ? { text: t('inv.esc.noPhone', '无手机号，仅工作台') }
        : { text: t('inv.esc.smsDropped', '已确认，短信未再发送') };
  }
}

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

/**
 * Notices, nothing when there are none: an investigation's (all of them), or — on the worklist, the
 * team's or the centre's inbox (工作台) — those of an organisation or a team still to acknowledge.
 */
export function EscalationsCard({
  investigationId,
  organization,
  team,
  onChanged,
}: {
  investigationId?: number;
  organization?: string;
  team?: string;
  onChanged?(): void;
}) {
  const inbox = investigationId === undefined;
  const purpose = inbox ? purposeFor() : EPIINV;
  const [data, setData] = useState<EscalationList>();
  const [error, setError] = useState<string>();
  const [page, setPage] = useState({ page: 1, size: 10 });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (inbox && !organization && !team) return;
    const ctrl = new AbortController();
    listEscalations(
      {
        ...(inbox ? (team ? { team } : { organization }) : { investigationId }),
        state: inbox ? 'open' : 'all',
        limit: page.size,
        offset: (page.page - 1) * page.size,
      },
      ctrl.signal,
      purpose,
    )
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [investigationId, organization, team, inbox, purpose, page, tick]);
  const names = useNames(data?.items.map((r) => r.patientId) ?? [], [], purpose);
  if (error) return <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />;
  if (!data || data.total === 0) return null;
  const open = data.items.filter((r) => !r.acknowledgedAt).length;
  const columns: TableColumnsType<EscalationItem> = [
    { title: t('inv.esc.contact', '密接'), key: 'who', width: 96, render: (_, r) => names.resident(r.patientId) },
    ...(inbox
      ? [
          {
            title: t('inv.fu.disease', '密接病种'),
            width: 96,
            key: 'disease',
            render: (_: unknown, r: EscalationItem) => <a href={`#/investigation/${r.investigationId}`}>{r.diseaseName}</a>,
          },
        ]
      : []),
    { title: t('inv.esc.day', '漏访日期'), dataIndex: 'day', width: 112 },
    {
      title: t('inv.esc.to', '已通知'),
      key: 'to',
      render: (_, r) => (
        <Space size={[4, 4]} wrap>
          {r.recipients.map((x) => {
            const sms = (r.deliveries ?? []).find((d) => d.channel === 'sms' && d.recipientRef === x.ref && d.recipientKind === x.kind);
            const label = x.kind === 'investigator' ? undefined : deliveryLabel(sms);
            return (
              <Tag key={`${x.kind}-${x.ref}`} color={label?.colour} data-testid="escalation-recipient" title={sms?.lastError ?? undefined}>
                {recipientKindLabel(x.kind)}：{x.display}
                {label ? `（${label.text}）` : ''}
              </Tag>
            );
          })}
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
          <AcknowledgeButton
            escalationId={r.id}
            purpose={purpose}
            onDone={() => {
              setTick((n) => n + 1);
              onChanged?.();
            }}
          />
        ),
    },
  ];
  return (
    <Card
      size="small"
      style={{ marginBottom: 12 }}
      data-testid={inbox ? 'escalation-inbox' : 'escalations'}
      title={
        <Space>
          {inbox ? t('inv.esc.inbox', '待确认的漏访上报（工作台通知）') : t('inv.esc.title', '漏访上报')}
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
