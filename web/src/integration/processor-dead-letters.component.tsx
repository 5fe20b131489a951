/**
 * 数据接入 · 变更处理失败: changes a change-log processor (identity matching, surveillance,
 * chronic-care registers…) failed on, retried, then parked with their error. Paged on the server
 * with the total shown; a parked change can be queued again after its record was fixed.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Empty, Popconfirm, Select, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import {
  fetchProcessorDeadLetters,
  replayProcessorDeadLetter,
  type ProcessorDeadLetterPage,
  type ProcessorDeadLetterRow,
  type ProcessorDeadLetterStatus,
} from './hl7.resource.js';

const PAGE_SIZE = 20;

/** Status in words, with the tag colour. */
function statusLabel(status: ProcessorDeadLetterStatus): { text: string; color: string } {
  switch (status) {
    case 'retrying':
      return { text: t('pdl.status.retrying', '自动重试中'), color: 'gold' };
    case 'parked':
      return { text: t('pdl.status.parked', '已搁置，待处理'), color: 'red' };
    case 'resolved':
      return { text: t('pdl.status.resolved', '已处理成功'), color: 'green' };
    case 'superseded':
      return { text: t('pdl.status.superseded', '已被新版本取代'), color: 'default' };
  }
}

/** What each processor does, in words; an unknown one shows its name. */
function processorLabel(name: string): string {
  const known: Record<string, () => string> = {
    'mpi-candidates': () => t('pdl.proc.mpi-candidates', '居民身份匹配'),
    'identity-mpi': () => t('pdl.proc.identity-mpi', '居民身份匹配'),
    'surveillance-report-drafts': () => t('pdl.proc.surveillance-report-drafts', '传染病报告卡草稿'),
    'chronic-care': () => t('pdl.proc.chronic-care', '慢病登记与随访'),
    'care-key-populations': () => t('pdl.proc.care-key-populations', '重点人群标记'),
    feeds: () => t('pdl.proc.feeds', '数据推送'),
  };
  return known[name]?.() ?? name;
}

/** The record a change was about, in words ("居民 p-1"). */
function resourceLabel(type: string): string {
  const known: Record<string, () => string> = {
    Patient: () => t('pdl.type.Patient', '居民'),
    Encounter: () => t('pdl.type.Encounter', '就诊'),
    Observation: () => t('pdl.type.Observation', '检查检验结果'),
    Condition: () => t('pdl.type.Condition', '诊断'),
    Immunization: () => t('pdl.type.Immunization', '接种记录'),
    DiagnosticReport: () => t('pdl.type.DiagnosticReport', '检验报告'),
    Person: () => t('pdl.type.Person', '身份档案'),
  };
  return known[type]?.() ?? type;
}

export function ProcessorDeadLettersPanel() {
  const { message } = App.useApp();
  const [status, setStatus] = useState<ProcessorDeadLetterStatus | undefined>('parked');
  const [processor, setProcessor] = useState<string>();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<ProcessorDeadLetterPage>({ total: 0, rows: [] });
  const [known, setKnown] = useState<string[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  const [replaying, setReplaying] = useState<string>();

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchProcessorDeadLetters({ status, processor, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, c.signal)
      .then((d) => {
        setData(d);
        setKnown((k) => [...new Set([...k, ...d.rows.map((r) => r.processor)])].sort());
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [status, processor, page, reload]);

  const refresh = useCallback(() => setReload((n) => n + 1), []);
  const replay = async (row: ProcessorDeadLetterRow) => {
    const key = `${row.processor}/${row.seq}`;
    setReplaying(key);
    try {
      await replayProcessorDeadLetter(row.processor, row.seq);
      message.success(t('pdl.replayed', '已重新排队，处理器将很快再试一次'));
      refresh();
    } catch (e) {
      message.error(`${t('pdl.replayFailed', '重新处理失败')}：${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setReplaying(undefined);
    }
  };

  const columns: TableColumnsType<ProcessorDeadLetterRow> = [
    { title: t('pdl.lastFailed', '最近失败时间'), key: 'last', width: 160, render: (_, r) => formatDateTime(r.lastFailedAt) },
    { title: t('pdl.processor', '处理环节'), key: 'processor', width: 150, render: (_, r) => processorLabel(r.processor) },
    {
      title: t('pdl.record', '涉及记录'),
      key: 'record',
      width: 190,
      render: (_, r) => (
        <span>
          {resourceLabel(r.resourceType)} <Typography.Text type="secondary">{r.resourceId}</Typography.Text>
        </span>
      ),
    },
    {
      title: t('pdl.status', '状态'),
      key: 'status',
      width: 140,
      render: (_, r) => {
        const s = statusLabel(r.status);
        return <Tag color={s.color}>{s.text}</Tag>;
      },
    },
    { title: t('pdl.attempts', '已尝试'), dataIndex: 'attempts', width: 70 },
    {
      title: t('pdl.error', '失败原因'),
      dataIndex: 'error',
      render: (v: string) => <Typography.Paragraph ellipsis={{ rows: 2, expandable: true }}>{v}</Typography.Paragraph>,
    },
    {
      title: t('pdl.nextAttempt', '下次重试'),
      key: 'next',
      width: 150,
      render: (_, r) => (r.status === 'retrying' && r.nextAttemptAt ? formatDateTime(r.nextAttemptAt) : '—'),
    },
    {
      title: '',
      key: 'act',
      width: 110,
      render: (_, r) =>
        r.status === 'parked' || r.status === 'retrying' ? (
          <Popconfirm
            title={t('pdl.replayConfirm', '重新处理这条变更？')}
            description={t('pdl.replayHint', '请先确认记录或处理器的问题已修复；处理器会立即再试一次。')}
            okText={t('pdl.replayOk', '确认重新处理')}
            cancelText={t('common.cancel', '取消')}
            onConfirm={() => replay(r)}
          >
            <Button size="small" loading={replaying === `${r.processor}/${r.seq}`}>
              {t('pdl.replay', '重新处理')}
            </Button>
          </Popconfirm>
        ) : null,
    },
  ];

  return (
    <div>
      <Space style={{ marginBottom: 12 }} wrap>
        <Select<ProcessorDeadLetterStatus | 'all'>
          aria-label={t('pdl.status', '状态')}
          style={{ width: 180 }}
          value={status ?? 'all'}
          onChange={(v) => {
            setStatus(v === 'all' ? undefined : v);
            setPage(1);
          }}
          options={[
            { value: 'parked', label: statusLabel('parked').text },
            { value: 'retrying', label: statusLabel('retrying').text },
            { value: 'resolved', label: statusLabel('resolved').text },
            { value: 'superseded', label: statusLabel('superseded').text },
            { value: 'all', label: t('pdl.allStatuses', '全部状态') },
          ]}
        />
        <Select<string>
          aria-label={t('pdl.processor', '处理环节')}
          style={{ width: 200 }}
          allowClear
          placeholder={t('pdl.allProcessors', '全部处理环节')}
          value={processor}
          onChange={(v) => {
            setProcessor(v);
            setPage(1);
          }}
          options={known.map((p) => ({ value: p, label: processorLabel(p) }))}
        />
        <Button icon={<ReloadOutlined />} onClick={refresh}>
          {t('common.refresh', '刷新')}
        </Button>
      </Space>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Table
        rowKey={(r) => `${r.processor}/${r.seq}`}
        size="small"
        loading={loading}
        columns={columns}
        dataSource={data.rows}
        locale={{ emptyText: <Empty description={t('pdl.none', '没有处理失败的变更')} /> }}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total: data.total,
          showSizeChanger: false,
          showTotal: (n) => t('pdl.total', '共 {n} 条', { n }),
          onChange: setPage,
        }}
      />
    </div>
  );
}
