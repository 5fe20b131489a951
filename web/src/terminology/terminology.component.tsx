/**
 * 数据接入 · 术语映射: local lab-test codes no mapping knows yet, per facility, most frequent first
 * (paged on the server with the total), each with its text, how many results carried it, example
 * results and suggestions from its text; mapping one (or marking it not needed) writes the
 * facility's ConceptMap, and the stored results with that code are then counted as lab signals.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Modal, Radio, Select, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  fetchLabTargets,
  fetchQueueFacilities,
  fetchUnmapped,
  saveMapping,
  type FacilityQueueList,
  type LabTargetList,
  type QueueStatus,
  type UnmappedCode,
  type UnmappedList,
} from './terminology.resource.js';

const PAGE_SIZE = 20;
const NOT_NEEDED = '__none__';

function statusTag(status: UnmappedCode['status']) {
  if (status === 'open') return <Tag color="orange">{t('tm.status.open', '待映射')}</Tag>;
  if (status === 'mapped') return <Tag color="green">{t('tm.status.mapped', '已映射')}</Tag>;
  return <Tag>{t('tm.status.ignored', '无需映射')}</Tag>;
}

const facilityLabel = (f: string) => f || t('tm.noFacility', '（未知机构）');

function MapDialog({
  row,
  targets,
  onClose,
  onSaved,
}: {
  row: UnmappedCode;
  targets: LabTargetList['targets'];
  onClose: () => void;
  onSaved: () => void;
}) {
  const { message } = App.useApp();
  const [target, setTarget] = useState<string | undefined>(row.target ?? row.suggestions?.[0]?.code);
  const [saving, setSaving] = useState(false);
  const name = (code: string) => targets.find((x) => x.code === code)?.zh ?? code;
  const save = async () => {
    if (!target) return;
    setSaving(true);
    try {
      await saveMapping({
        facility: row.facility,
        system: row.system,
        code: row.code,
        display: row.display ?? undefined,
        target: target === NOT_NEEDED ? null : target,
      });
      message.success(
        target === NOT_NEEDED ? t('tm.savedIgnored', '已标记为无需映射') : t('tm.saved', '映射已保存：该编码的已存结果将计入监测'),
      );
      onSaved();
    } catch (e) {
      message.error(`${t('tm.saveFailed', '映射未保存')}：${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open
      title={t('tm.form.title', '映射本地编码 {code}', { code: row.code })}
      onCancel={onClose}
      onOk={save}
      okText={t('tm.form.save', '保存映射')}
      cancelText={t('tm.form.cancel', '取消')}
      okButtonProps={{ disabled: !target, loading: saving }}
    >
      <Typography.Paragraph>
        {facilityLabel(row.facility)} · <Typography.Text strong>{row.display ?? row.code}</Typography.Text>
      </Typography.Paragraph>
      {!!row.suggestions?.length && (
        <Radio.Group value={target} onChange={(e) => setTarget(e.target.value as string)} style={{ marginBottom: 12 }}>
          <Space direction="vertical">
            {row.suggestions.map((s) => (
              <Radio key={s.code} value={s.code}>
                {s.zh} <Typography.Text type="secondary">{s.en}</Typography.Text>
              </Radio>
            ))}
          </Space>
        </Radio.Group>
      )}
      <Form layout="vertical">
        <Form.Item label={t('tm.form.target', '监测检验项目')}>
          <Select<string>
            aria-label={t('tm.form.target', '监测检验项目')}
            showSearch
            optionFilterProp="label"
            placeholder={t('tm.form.targetHint', '选择该编码所报告的检验项目')}
            value={target}
            onChange={setTarget}
            options={[
              ...targets.map((x) => ({ value: x.code, label: `${x.zh} (${x.en})` })),
              { value: NOT_NEEDED, label: t('tm.form.notNeeded', '不是监测检验项目（不映射）') },
            ]}
          />
        </Form.Item>
      </Form>
      {target && target !== NOT_NEEDED && <Typography.Text type="secondary">→ {name(target)}</Typography.Text>}
    </Modal>
  );
}

export function TerminologyPage() {
  const [facility, setFacility] = useState<string>();
  const [status, setStatus] = useState<QueueStatus>('open');
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<UnmappedList>({ total: 0, limit: PAGE_SIZE, offset: 0, items: [] });
  const [facilities, setFacilities] = useState<FacilityQueueList['facilities']>([]);
  const [targets, setTargets] = useState<LabTargetList['targets']>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<UnmappedCode>();

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchUnmapped({ facility, status, q: q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, c.signal)
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
    return () => c.abort();
  }, [facility, status, q, page, reload]);

  useEffect(() => {
    const c = new AbortController();
    fetchQueueFacilities(c.signal)
      .then((d) => setFacilities(d.facilities))
      .catch(() => undefined);
    return () => c.abort();
  }, [reload]);

  useEffect(() => {
    const c = new AbortController();
    fetchLabTargets(c.signal)
      .then((d) => setTargets(d.targets))
      .catch(() => undefined);
    return () => c.abort();
  }, []);

  const refresh = useCallback(() => setReload((n) => n + 1), []);
  const targetName = (code: string | null) => (code ? (targets.find((x) => x.code === code)?.zh ?? code) : '—');

  const columns: TableColumnsType<UnmappedCode> = [
    { title: t('tm.facility', '机构'), key: 'facility', width: 150, render: (_, r) => facilityLabel(r.facility) },
    {
      title: t('tm.text', '项目名称'),
      key: 'text',
      render: (_, r) => (
        <span>
          <Typography.Text strong>{r.display ?? '—'}</Typography.Text>
          <br />
          <Typography.Text type="secondary">
            {t('tm.code', '本地编码')} {r.code} · {r.system || t('tm.systemNone', '本地（未注明编码系统）')}
          </Typography.Text>
        </span>
      ),
    },
    { title: t('tm.records', '结果数'), dataIndex: 'records', width: 80 },
    {
      title: t('tm.examples', '示例结果'),
      key: 'examples',
      width: 200,
      render: (_, r) => (
        <Typography.Paragraph type="secondary" ellipsis={{ rows: 2, expandable: true }} style={{ marginBottom: 0 }}>
          {r.examples.join('、')}
        </Typography.Paragraph>
      ),
    },
    {
      title: t('tm.suggestions', '建议映射'),
      key: 'suggestions',
      width: 200,
      render: (_, r) =>
        r.status === 'open'
          ? (r.suggestions ?? []).map((s) => (
              <Tag
                key={s.code}
                color="blue"
                style={{ cursor: 'pointer' }}
                onClick={() => setEditing({ ...r, suggestions: [s, ...(r.suggestions ?? []).filter((x) => x !== s)] })}
              >
                {s.zh}
              </Tag>
            ))
          : targetName(r.target),
    },
    { title: t('tm.status', '状态'), key: 'status', width: 90, render: (_, r) => statusTag(r.status) },
    { title: t('tm.lastSeen', '最近出现'), key: 'last', width: 150, render: (_, r) => formatDateTime(r.lastSeen) },
    {
      title: '',
      key: 'act',
      width: 80,
      render: (_, r) => (
        <Button size="small" autoInsertSpace={false} type={r.status === 'open' ? 'primary' : 'default'} onClick={() => setEditing(r)}>
          {r.status === 'open' ? t('tm.map', '映射') : t('tm.remap', '修改')}
        </Button>
      ),
    },
  ];

  return (
    <div data-testid="terminology">
      <PageHeader
        title={t('tm.title', '术语映射')}
        crumbs={[{ title: t('nav.integration', '数据接入') }, { title: t('tm.title', '术语映射') }]}
      />
      <Card>
        <Typography.Paragraph type="secondary">
          {t(
            'tm.intro',
            '检验结果的本地项目编码若无映射，结果会被保存但不计入实验室监测信号。请将每个编码映射到监测检验项目；映射后，已保存的该编码结果也会被计入。',
          )}
        </Typography.Paragraph>
        <Space style={{ marginBottom: 12 }} wrap>
          <Select<string>
            aria-label={t('tm.facility', '机构')}
            style={{ width: 240 }}
            allowClear
            placeholder={t('tm.allFacilities', '全部机构')}
            value={facility}
            onChange={(v) => {
              setFacility(v);
              setPage(1);
            }}
            options={facilities.map((f) => ({
              value: f.facility,
              label: t('tm.facilityOption', '{facility} · 待映射 {n}', { facility: facilityLabel(f.facility), n: f.openCodes }),
            }))}
          />
          <Select<QueueStatus>
            aria-label={t('tm.status', '状态')}
            style={{ width: 140 }}
            value={status}
            onChange={(v) => {
              setStatus(v);
              setPage(1);
            }}
            options={[
              { value: 'open', label: t('tm.status.open', '待映射') },
              { value: 'mapped', label: t('tm.status.mapped', '已映射') },
              { value: 'ignored', label: t('tm.status.ignored', '无需映射') },
              { value: 'all', label: t('tm.status.all', '全部') },
            ]}
          />
          <Input.Search
            aria-label={t('tm.search', '编码或名称')}
            placeholder={t('tm.search', '编码或名称')}
            allowClear
            style={{ width: 220 }}
            onSearch={(v) => {
              setQ(v.trim());
              setPage(1);
            }}
          />
          <Button icon={<ReloadOutlined />} onClick={refresh}>
            {t('tm.refresh', '刷新')}
          </Button>
        </Space>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        <Table
          rowKey={(r) => `${r.facility}|${r.system}|${r.code}`}
          columns={columns}
          dataSource={data.items}
          loading={loading}
          locale={{ emptyText: t('tm.empty', '没有待映射的编码') }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: data.total,
            showSizeChanger: false,
            showTotal: (n) => t('tm.total', '共 {n} 条', { n }),
            onChange: setPage,
          }}
        />
      </Card>
      {editing && (
        <MapDialog
          row={editing}
          targets={targets}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            refresh();
          }}
        />
      )}
    </div>
  );
}
