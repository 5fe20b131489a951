/**
 * 数据接入 · 死信队列: rejected HL7 v2 messages (their reason, correction and reprocessing) and,
 * on a second tab, the changes a change-log processor failed on (processor-dead-letters).
 */
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Drawer,
  Empty,
  Input,
  Space,
  Statistic,
  Table,
  Tabs,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import { ProcessorDeadLettersPanel } from './processor-dead-letters.component.js';
import { fetchDeadLetters, fetchHl7Status, reprocessDeadLetter, saveCorrection, type DeadLetter } from './hl7.resource.js';

/** Segments on their own lines for reading and editing (HL7 uses CR between segments). */
const toLines = (s: string) => s.replace(/\r\n?/g, '\n');

export function DeadLettersPage() {
  const { message } = App.useApp();
  const [items, setItems] = useState<DeadLetter[]>([]);
  const [status, setStatus] = useState<{ mllpPort: number; messages: Record<string, number> }>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState<DeadLetter>();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    Promise.all([fetchDeadLetters(c.signal), fetchHl7Status(c.signal)])
      .then(([d, s]) => {
        setItems(d.items);
        setStatus(s);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [reload]);

  const refresh = useCallback(() => setReload((n) => n + 1), []);
  const edit = (d: DeadLetter) => {
    setOpen(d);
    setDraft(toLines(d.correctedText ?? d.text));
  };
  const saveAndReprocess = async () => {
    if (!open) return;
    setBusy(true);
    try {
      await saveCorrection(open.id, draft);
      const r = await reprocessDeadLetter(open.id);
      if (r.ackCode === 'AA') {
        message.success(t('hl7.reprocessed', '已重新处理并入库'));
        setOpen(undefined);
        refresh();
      } else message.error(`${t('hl7.stillRejected', '仍被拒收')}：${r.error ?? r.ackCode}`);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const columns: TableColumnsType<DeadLetter> = [
    { title: t('hl7.received', '接收时间'), key: 'received', width: 160, render: (_, d) => formatDateTime(d.receivedAt) },
    { title: t('hl7.facility', '发送机构'), dataIndex: 'facility', width: 130, render: (v: string | null) => v ?? '—' },
    { title: t('hl7.type', '消息类型'), dataIndex: 'messageType', width: 110, render: (v: string | null) => v ?? '—' },
    { title: t('hl7.controlId', '控制号'), dataIndex: 'controlId', width: 170, render: (v: string | null) => v ?? '—' },
    {
      title: t('hl7.ack', '应答'),
      dataIndex: 'ackCode',
      width: 70,
      render: (v: string) => <Tag color={v === 'AR' ? 'red' : 'orange'}>{v}</Tag>,
    },
    { title: t('hl7.reason', '拒收原因'), dataIndex: 'error', render: (v: string | null) => <Typography.Text>{v ?? '—'}</Typography.Text> },
    { title: t('hl7.attempts', '次数'), dataIndex: 'attempts', width: 60 },
    {
      title: '',
      key: 'act',
      width: 100,
      render: (_, d) => (
        <Button size="small" onClick={() => edit(d)}>
          {t('hl7.fix', '修正')}
        </Button>
      ),
    },
  ];

  return (
    <div>
      <PageHeader
        title={t('hl7.deadLetters', 'HL7 消息死信队列')}
        crumbs={[{ title: t('nav.integration', '数据接入') }, { title: t('hl7.deadLetters', 'HL7 消息死信队列') }]}
        extra={
          <Button icon={<ReloadOutlined />} onClick={refresh}>
            {t('common.refresh', '刷新')}
          </Button>
        }
      />
      <Tabs
        items={[
          {
            key: 'hl7',
            label: t('hl7.tab.messages', 'HL7 消息'),
            children: (
              <div>
                {status && (
                  <Card size="small" style={{ marginBottom: 16 }}>
                    <Space size={48}>
                      <Statistic title={t('hl7.port', 'MLLP 端口')} value={status.mllpPort} groupSeparator="" />
                      <Statistic title={t('hl7.stored', '已入库')} value={status.messages.stored ?? 0} />
                      <Statistic
                        title={t('hl7.rejected', '待处理')}
                        value={status.messages.rejected ?? 0}
                        valueStyle={{ color: (status.messages.rejected ?? 0) ? '#cf1322' : undefined }}
                      />
                      <Statistic title={t('hl7.resolved', '已修正')} value={status.messages.resolved ?? 0} />
                    </Space>
                  </Card>
                )}
                {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
                <Card>
                  <Table
                    rowKey="id"
                    size="small"
                    loading={loading}
                    columns={columns}
                    dataSource={items}
                    locale={{ emptyText: <Empty description={t('hl7.none', '没有被拒收的消息')} /> }}
                    pagination={{ pageSize: 20 }}
                  />
                </Card>
              </div>
            ),
          },
          {
            key: 'processors',
            label: t('hl7.tab.processors', '变更处理失败'),
            children: (
              <Card>
                <ProcessorDeadLettersPanel />
              </Card>
            ),
          },
        ]}
      />
      <Drawer
        width={760}
        open={!!open}
        onClose={() => setOpen(undefined)}
        title={`${t('hl7.fix', '修正')} #${open?.id ?? ''}`}
        destroyOnHidden
      >
        {open && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Descriptions
              size="small"
              column={2}
              bordered
              items={[
                { key: 'f', label: t('hl7.facility', '发送机构'), children: open.facility ?? '—' },
                { key: 'c', label: t('hl7.controlId', '控制号'), children: open.controlId ?? '—' },
                { key: 'e', label: t('hl7.reason', '拒收原因'), children: open.error ?? '—', span: 2 },
              ]}
            />
            <Typography.Text type="secondary">{t('hl7.editHint', '原始报文始终保留；修正后的报文单独保存并重新处理。')}</Typography.Text>
            <Input.TextArea
              className="yf-hl7-editor"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              autoSize={{ minRows: 10, maxRows: 28 }}
              style={{ fontFamily: 'monospace', fontSize: 12 }}
            />
            <Button type="primary" loading={busy} onClick={() => void saveAndReprocess()}>
              {t('hl7.saveReprocess', '保存并重新处理')}
            </Button>
          </Space>
        )}
      </Drawer>
    </div>
  );
}
