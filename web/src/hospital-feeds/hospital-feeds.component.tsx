/**
 * 数据接入 · 医院数据上报: a facility chooses a template (patients, visits, diagnoses, lab results,
 * prescriptions, immunizations), downloads it, uploads its HIS export (encoding detected or named),
 * watches the progress bar and reads the report; the uploads are listed paged with the total, and
 * rows that could not be stored (dead letters) are corrected and reprocessed, or dismissed.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Input,
  Modal,
  Progress,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { DownloadOutlined, ReloadOutlined, UploadOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  dismissDeadLetter,
  downloadTemplate,
  fetchDeadLetters,
  fetchUpload,
  fetchUploads,
  reprocessDeadLetter,
  TEMPLATE_NAMES,
  uploadFile,
  type DeadLetter,
  type TemplateName,
  type UploadDetail,
  type UploadSummary,
} from './hospital-feeds.resource.js';
import { PagedTable, useServerPage } from '../shared/paged-table.component.js';

const POLL_MS = 1000;
const totalRows = (n: number) => t('hf.total', '共 {n} 条', { n });

const templateLabel = (name: string) =>
  ({
    patients: t('hf.template.patients', '患者'),
    visits: t('hf.template.visits', '就诊'),
    diagnoses: t('hf.template.diagnoses', '诊断'),
    'lab-results': t('hf.template.labResults', '检验结果'),
    prescriptions: t('hf.template.prescriptions', '处方'),
    immunizations: t('hf.template.immunizations', '预防接种'),
  })[name] ?? name;

function statusTag(status: string) {
  if (status === 'done') return <Tag color="green">{t('hf.status.done', '已完成')}</Tag>;
  if (status === 'running') return <Tag color="blue">{t('hf.status.running', '处理中')}</Tag>;
  if (status === 'queued') return <Tag color="blue">{t('hf.status.queued', '排队中')}</Tag>;
  if (status === 'refused') return <Tag color="red">{t('hf.status.refused', '已拒绝')}</Tag>;
  if (status === 'failed') return <Tag color="red">{t('hf.status.failed', '失败')}</Tag>;
  if (status === 'open') return <Tag color="orange">{t('hf.status.open', '待处理')}</Tag>;
  if (status === 'resolved') return <Tag color="green">{t('hf.status.resolved', '已重新处理')}</Tag>;
  if (status === 'dismissed') return <Tag>{t('hf.status.dismissed', '已忽略')}</Tag>;
  return <Tag>{status}</Tag>;
}

const percent = (u: UploadSummary) =>
  u.status === 'done' ? 100 : u.rowsTotal > 0 ? Math.min(99, Math.floor((u.rowsRead / u.rowsTotal) * 100)) : 0;

function Report({ upload }: { upload: UploadDetail }) {
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Progress percent={percent(upload)} status={upload.status === 'refused' || upload.status === 'failed' ? 'exception' : undefined} />
      <Descriptions size="small" column={3} bordered>
        <Descriptions.Item label={t('hf.report.status', '状态')}>{statusTag(upload.status)}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.encoding', '编码')}>{upload.encoding ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.read', '已读行数')}>{`${upload.rowsRead} / ${upload.rowsTotal}`}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.stored', '已保存')}>{upload.rowsStored}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.unchanged', '其中无变化')}>{upload.rowsUnchanged}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.flagged', '带质量标记')}>{upload.rowsFlagged}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.dead', '进入死信')}>{upload.rowsDead}</Descriptions.Item>
        <Descriptions.Item label={t('hf.report.resources', '写入记录数')}>{upload.resourcesWritten}</Descriptions.Item>
      </Descriptions>
      {upload.error && <Alert type="error" showIcon message={upload.error} />}
      {upload.problems.length > 0 && (
        <Table
          size="small"
          rowKey={(p) => `${p.line}-${p.column ?? ''}-${p.message}`}
          pagination={false}
          dataSource={upload.problems}
          columns={[
            { title: t('hf.problem.line', '行号'), dataIndex: 'line', width: 80 },
            { title: t('hf.problem.column', '列'), dataIndex: 'column', width: 120, render: (c: string | null) => c ?? '—' },
            {
              title: t('hf.problem.kind', '处理'),
              dataIndex: 'kind',
              width: 120,
              render: (k: string) =>
                k === 'flagged' ? (
                  <Tag color="gold">{t('hf.problem.flagged', '已保存并标记')}</Tag>
                ) : k === 'refused' ? (
                  <Tag color="red">{t('hf.problem.refused', '拒绝')}</Tag>
                ) : (
                  <Tag color="orange">{t('hf.problem.dead', '死信')}</Tag>
                ),
            },
            { title: t('hf.problem.message', '说明'), dataIndex: 'message' },
          ]}
        />
      )}
    </Space>
  );
}

function UploadTab({ facility, onUploaded }: { facility: string; onUploaded: () => void }) {
  const { message } = App.useApp();
  const [template, setTemplate] = useState<TemplateName>('patients');
  const [encoding, setEncoding] = useState('auto');
  const [file, setFile] = useState<File | null>(null);
  const [sending, setSending] = useState(false);
  const [upload, setUpload] = useState<UploadDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  const poll = useCallback(
    (id: number) => {
      void fetchUpload(id)
        .then((u) => {
          setUpload(u);
          if (u.status === 'queued' || u.status === 'running') timer.current = setTimeout(() => poll(id), POLL_MS);
          else onUploaded();
        })
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    },
    [onUploaded],
  );

  const send = async () => {
    if (!file || !facility) return;
    setSending(true);
    setError(null);
    setUpload(null);
    try {
      const r = await uploadFile(template, facility, file, encoding);
      message.success(t('hf.upload.accepted', '已接收，正在处理（上传 {id}）', { id: r.uploadId }));
      poll(r.uploadId);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      onUploaded();
    } finally {
      setSending(false);
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Space wrap>
        <span>{t('hf.upload.template', '模板')}</span>
        <Select
          aria-label={t('hf.upload.template', '模板')}
          value={template}
          style={{ width: 160 }}
          onChange={(v) => setTemplate(v)}
          options={TEMPLATE_NAMES.map((n) => ({ value: n, label: templateLabel(n) }))}
        />
        <Button
          icon={<DownloadOutlined />}
          onClick={() => void downloadTemplate(template).catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)))}
        >
          {t('hf.upload.download', '下载模板')}
        </Button>
        <span>{t('hf.upload.encoding', '文件编码')}</span>
        <Select
          aria-label={t('hf.upload.encoding', '文件编码')}
          value={encoding}
          style={{ width: 180 }}
          onChange={(v) => setEncoding(v)}
          options={[
            { value: 'auto', label: t('hf.upload.encodingAuto', '自动识别') },
            { value: 'utf-8', label: 'UTF-8' },
            { value: 'gb18030', label: 'GB18030 / GBK' },
          ]}
        />
      </Space>
      <Space wrap>
        <input
          type="file"
          accept=".csv,.xlsx,text/csv,text/plain,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          aria-label={t('hf.upload.file', '选择文件')}
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <Button type="primary" icon={<UploadOutlined />} loading={sending} disabled={!file || !facility} onClick={() => void send()}>
          {t('hf.upload.send', '上传')}
        </Button>
      </Space>
      {!facility && <Alert type="info" showIcon message={t('hf.upload.needFacility', '请先填写机构编码')} />}
      {error && <Alert type="error" showIcon message={t('hf.upload.refused', '上传被拒绝')} description={error} />}
      {upload && <Report upload={upload} />}
    </Space>
  );
}

function UploadsTab({ facility, version }: { facility: string; version: number }) {
  const [chosen, setChosen] = useState<UploadDetail | null>(null);
  // The facility and the screen's version reload the page on screen (staying on it).
  const list = useServerPage<UploadSummary>((paging, signal) => fetchUploads({ facility: facility || undefined, ...paging }, signal), [], {
    refresh: [facility, version],
  });
  const columns: TableColumnsType<UploadSummary> = [
    { title: t('hf.list.id', '上传'), dataIndex: 'id', width: 80 },
    { title: t('hf.list.facility', '机构'), dataIndex: 'facility' },
    { title: t('hf.list.template', '模板'), dataIndex: 'template', render: templateLabel },
    { title: t('hf.list.file', '文件'), dataIndex: 'fileName', render: (f: string | null) => f ?? '—' },
    { title: t('hf.list.received', '接收时间'), dataIndex: 'receivedAt', render: (d: string) => new Date(d).toLocaleString('zh-CN') },
    { title: t('hf.report.status', '状态'), dataIndex: 'status', render: statusTag },
    { title: t('hf.report.stored', '已保存'), dataIndex: 'rowsStored' },
    { title: t('hf.report.dead', '进入死信'), dataIndex: 'rowsDead' },
    {
      title: '',
      key: 'open',
      render: (_: unknown, u) => (
        <Button size="small" onClick={() => void fetchUpload(u.id).then(setChosen)}>
          {t('hf.list.report', '报告')}
        </Button>
      ),
    },
  ];
  return (
    <>
      {list.error && <Alert type="error" showIcon message={list.error} />}
      <PagedTable list={list} rowKey="id" columns={columns} total={totalRows} />
      {chosen && (
        <Modal
          open
          width={900}
          footer={null}
          onCancel={() => setChosen(null)}
          title={t('hf.list.reportOf', '上传 {id} 的报告', { id: chosen.id })}
        >
          <Report upload={chosen} />
        </Modal>
      )}
    </>
  );
}

function ReprocessDialog({ row, onClose, onDone }: { row: DeadLetter; onClose: () => void; onDone: () => void }) {
  const { message } = App.useApp();
  const [line, setLine] = useState(row.correctedText ?? row.lineText);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const save = async () => {
    setSaving(true);
    setProblem(null);
    try {
      const r = await reprocessDeadLetter(row.id, line);
      if (r.status === 'resolved') {
        message.success(t('hf.dead.resolved', '已重新处理并保存'));
        onDone();
      } else setProblem(`${r.column ? `${r.column}：` : ''}${r.reason ?? ''}`);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open
      width={800}
      title={t('hf.dead.fixTitle', '纠正第 {line} 行并重新处理', { line: row.line })}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t('hf.dead.reprocess', '重新处理')}
      cancelText={t('hf.dead.cancel', '取消')}
      confirmLoading={saving}
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Text type="secondary">{`${row.column ? `${row.column}：` : ''}${row.reason}`}</Typography.Text>
        <Input.TextArea aria-label={t('hf.dead.line', '原始行')} rows={3} value={line} onChange={(e) => setLine(e.target.value)} />
        {problem && <Alert type="error" showIcon message={t('hf.dead.stillBad', '仍无法保存')} description={problem} />}
      </Space>
    </Modal>
  );
}

function DeadLettersTab({ facility, version }: { facility: string; version: number }) {
  const { message } = App.useApp();
  const [status, setStatus] = useState('open');
  const [editing, setEditing] = useState<DeadLetter | null>(null);
  const list = useServerPage<DeadLetter>(
    (paging, signal) =>
      fetchDeadLetters({ facility: facility || undefined, status: status === 'all' ? undefined : status, ...paging }, signal),
    [],
    { refresh: [facility, status, version] },
  );
  const columns: TableColumnsType<DeadLetter> = [
    { title: t('hf.list.id', '上传'), dataIndex: 'uploadId', width: 70 },
    { title: t('hf.list.template', '模板'), dataIndex: 'template', render: templateLabel, width: 100 },
    { title: t('hf.problem.line', '行号'), dataIndex: 'line', width: 70 },
    { title: t('hf.problem.column', '列'), dataIndex: 'column', width: 100, render: (c: string | null) => c ?? '—' },
    { title: t('hf.problem.message', '说明'), dataIndex: 'reason' },
    { title: t('hf.dead.line', '原始行'), dataIndex: 'lineText', render: (s: string) => <Typography.Text code>{s}</Typography.Text> },
    { title: t('hf.report.status', '状态'), dataIndex: 'status', render: statusTag, width: 100 },
    {
      title: '',
      key: 'act',
      width: 170,
      render: (_: unknown, row) =>
        row.status === 'open' ? (
          <Space>
            <Button size="small" type="primary" onClick={() => setEditing(row)}>
              {t('hf.dead.fix', '纠正')}
            </Button>
            <Button
              size="small"
              onClick={() =>
                void dismissDeadLetter(row.id)
                  .then(() => list.reload())
                  .catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)))
              }
            >
              {t('hf.dead.dismiss', '忽略')}
            </Button>
          </Space>
        ) : null,
    },
  ];
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Select
        aria-label={t('hf.report.status', '状态')}
        value={status}
        style={{ width: 160 }}
        onChange={(v) => {
          setStatus(v);
          list.setPage(1);
        }}
        options={[
          { value: 'open', label: t('hf.status.open', '待处理') },
          { value: 'resolved', label: t('hf.status.resolved', '已重新处理') },
          { value: 'dismissed', label: t('hf.status.dismissed', '已忽略') },
          { value: 'all', label: t('hf.dead.all', '全部') },
        ]}
      />
      {list.error && <Alert type="error" showIcon message={list.error} />}
      <PagedTable list={list} rowKey="id" columns={columns} total={totalRows} />
      {editing && (
        <ReprocessDialog
          row={editing}
          onClose={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
    </Space>
  );
}

export function HospitalFeedsPage() {
  const [facility, setFacility] = useState('');
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((n) => n + 1), []);
  return (
    <>
      <PageHeader
        title={t('hf.title', '医院数据上报')}
        crumbs={[{ title: t('nav.integration', '数据接入') }, { title: t('hf.title', '医院数据上报') }]}
      />
      <Card>
        <Space style={{ marginBottom: 16 }}>
          <span>{t('hf.facility', '机构编码')}</span>
          <Input
            aria-label={t('hf.facility', '机构编码')}
            placeholder={t('hf.facilityHint', '如 WSY-01（卫生院编码）')}
            value={facility}
            style={{ width: 220 }}
            onChange={(e) => setFacility(e.target.value.trim())}
          />
          <Button icon={<ReloadOutlined />} onClick={bump}>
            {t('hf.refresh', '刷新')}
          </Button>
        </Space>
        <Tabs
          items={[
            { key: 'upload', label: t('hf.tab.upload', '上传文件'), children: <UploadTab facility={facility} onUploaded={bump} /> },
            { key: 'uploads', label: t('hf.tab.uploads', '上传记录'), children: <UploadsTab facility={facility} version={version} /> },
            { key: 'dead', label: t('hf.tab.dead', '死信（待纠正）'), children: <DeadLettersTab facility={facility} version={version} /> },
          ]}
        />
      </Card>
    </>
  );
}
