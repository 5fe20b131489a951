/**
 * 数据接入 · 术语映射: local codes no mapping knows yet — lab tests, specimen types, units and
 * diagnoses (诊断, to the notifiable diseases' ICD-10 codes), one tab each — per facility, most
 * frequent first (paged on the server with the total), each with its text, how many records
 * carried it, example records and suggestions from its text; mapping one (or marking it not
 * needed) writes the facility's ConceptMap for that kind. Stored results with a newly mapped
 * lab-test code are then counted as lab signals; stored visits with a newly mapped diagnosis are
 * re-classified.
 */
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Radio,
  Select,
  Space,
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
import {
  fetchLabTargets,
  fetchQueueFacilities,
  fetchUnmapped,
  saveMapping,
  type FacilityQueueList,
  type LabTargetList,
  type CodeKind,
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

const KINDS = ['lab', 'specimen', 'unit', 'diagnosis'] as const;

function kindTitle(kind: CodeKind): string {
  if (kind === 'lab') return t('tm.kind.lab', '检验项目');
  if (kind === 'specimen') return t('tm.kind.specimen', '标本类型');
  if (kind === 'unit') return t('tm.kind.unit', '单位');
  return t('tm.kind.diagnosis', '诊断');
}

function targetFieldLabel(kind: CodeKind): string {
  if (kind === 'lab') return t('tm.form.target', '监测检验项目');
  if (kind === 'specimen') return t('tm.form.targetSpecimen', '标准标本类型（SNOMED CT）');
  if (kind === 'unit') return t('tm.form.targetUnit', '标准单位（UCUM）');
  return t('tm.form.targetDiagnosis', '法定传染病诊断（ICD-10）');
}

function targetHint(kind: CodeKind): string {
  if (kind === 'lab') return t('tm.form.targetHint', '选择该编码所报告的检验项目');
  if (kind === 'specimen') return t('tm.form.targetHintSpecimen', '选择该编码所指的标本类型');
  if (kind === 'unit') return t('tm.form.targetHintUnit', '选择该单位对应的UCUM单位');
  return t('tm.form.targetHintDiagnosis', '选择该诊断对应的法定传染病（按名称搜索）');
}

function intro(kind: CodeKind): string {
  if (kind === 'lab')
    return t(
      'tm.intro',
      '检验结果的本地项目编码若无映射，结果会被保存但不计入实验室监测信号。请将每个编码映射到监测检验项目；映射后，已保存的该编码结果也会被计入。',
    );
  if (kind === 'specimen')
    return t(
      'tm.introSpecimen',
      '标本的本地类型编码（SPM-4、OBR-15 或文字）若不在标准表中，将在此列出。请映射到标准标本类型（SNOMED CT，附HL7 v2 0487/0070对照）。',
    );
  if (kind === 'unit')
    return t('tm.introUnit', '检验结果的单位若不是UCUM编码、也不是常见写法（如 μmol/L、10^9/L、IU/mL），将在此列出。请映射到UCUM单位。');
  return t(
    'tm.introDiagnosis',
    '就诊诊断的本地编码若不是ICD-10、没有映射、名称也不能唯一对应一种法定传染病，该次就诊不会计入症候群监测，将在此列出。请映射到法定传染病的ICD-10编码；映射后，已保存的就诊会重新归类。',
  );
}

/** How a target reads in lists: names first (tests, specimen types, diagnoses), the UCUM code for units. */
function targetLabel(kind: CodeKind, x: Pick<LabTargetList['targets'][number], 'code' | 'zh' | 'en'>): string {
  if (kind === 'unit') return `${x.code}（${x.zh}）`;
  if (kind === 'specimen') return `${x.zh} (${x.en}) · SNOMED ${x.code}`;
  if (kind === 'diagnosis') return `${x.zh} · ICD-10 ${x.code}`;
  return `${x.zh} (${x.en})`;
}

/** An ICD-10 code typed in the target search that is not on the list (J06.9), upper-cased; else undefined. */
function otherIcd10(typed: string, targets: readonly { code: string }[]): string | undefined {
  const code = typed.trim().toUpperCase();
  return /^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/.test(code) && !targets.some((x) => x.code === code) ? code : undefined;
}

/** A suggestion's short form on a tag: the name; diagnoses add the code, since one disease has several (流行性感冒 J10, J11). */
const suggestionTag = (kind: CodeKind, s: { code: string; zh: string }) =>
  kind === 'unit' ? s.code : kind === 'diagnosis' ? `${s.zh} ${s.code}` : s.zh;

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
  const [typed, setTyped] = useState('');
  const kind = row.kind;
  const name = (code: string) => {
    const x = targets.find((y) => y.code === code);
    return x ? targetLabel(kind, x) : code;
  };
  const save = async () => {
    if (!target) return;
    setSaving(true);
    try {
      await saveMapping({
        kind,
        facility: row.facility,
        system: row.system,
        code: row.code,
        display: row.display ?? undefined,
        target: target === NOT_NEEDED ? null : target,
      });
      message.success(
        target === NOT_NEEDED
          ? t('tm.savedIgnored', '已标记为无需映射')
          : kind === 'lab'
            ? t('tm.saved', '映射已保存：该编码的已存结果将计入监测')
            : kind === 'diagnosis'
              ? t('tm.savedDiagnosis', '映射已保存：该诊断编码的已存就诊将重新归类')
              : t('tm.savedOther', '映射已保存'),
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
                {kind === 'unit' ? `${s.code}（${s.zh}）` : kind === 'diagnosis' ? targetLabel(kind, s) : s.zh}{' '}
                <Typography.Text type="secondary">{s.en}</Typography.Text>
              </Radio>
            ))}
          </Space>
        </Radio.Group>
      )}
      <Form layout="vertical">
        <Form.Item label={targetFieldLabel(kind)}>
          <Select<string>
            aria-label={targetFieldLabel(kind)}
            showSearch
            onSearch={setTyped}
            filterOption={(input, o) => (o?.search ?? '').toLowerCase().includes(input.trim().toLowerCase())}
            placeholder={targetHint(kind)}
            value={target}
            onChange={setTarget}
            options={[
              ...targets.map((x) => ({
                value: x.code,
                label: targetLabel(kind, x),
                search: [targetLabel(kind, x), ...x.aliases].join(' '),
              })),
              // A diagnosis may map to any ICD-10 code (syndromes read codes beyond the notifiable list): one typed is offered as it is.
              ...(kind === 'diagnosis' && otherIcd10(typed, targets)
                ? [
                    {
                      value: otherIcd10(typed, targets)!,
                      label: t('tm.form.otherIcd10', '其他ICD-10编码 {code}', { code: otherIcd10(typed, targets)! }),
                      search: typed,
                    },
                  ]
                : []),
              {
                value: NOT_NEEDED,
                label: kind === 'lab' ? t('tm.form.notNeeded', '不是监测检验项目（不映射）') : t('tm.form.notNeededOther', '无需映射'),
                search: '',
              },
            ]}
          />
        </Form.Item>
      </Form>
      {target && target !== NOT_NEEDED && <Typography.Text type="secondary">→ {name(target)}</Typography.Text>}
    </Modal>
  );
}

export function TerminologyPage() {
  const [kind, setKind] = useState<CodeKind>('lab');
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
    fetchUnmapped({ kind, facility, status, q: q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, c.signal)
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
  }, [kind, facility, status, q, page, reload]);

  useEffect(() => {
    const c = new AbortController();
    fetchQueueFacilities(kind, c.signal)
      .then((d) => setFacilities(d.facilities))
      .catch(() => undefined);
    return () => c.abort();
  }, [kind, reload]);

  useEffect(() => {
    const c = new AbortController();
    setTargets([]);
    fetchLabTargets(kind, c.signal)
      .then((d) => setTargets(d.targets))
      .catch(() => undefined);
    return () => c.abort();
  }, [kind]);

  const refresh = useCallback(() => setReload((n) => n + 1), []);
  const targetName = (code: string | null) => {
    if (!code) return '—';
    const x = targets.find((y) => y.code === code);
    return x ? targetLabel(kind, x) : code;
  };

  const columns: TableColumnsType<UnmappedCode> = [
    { title: t('tm.facility', '机构'), key: 'facility', width: 150, render: (_, r) => facilityLabel(r.facility) },
    {
      title: kind === 'diagnosis' ? t('tm.textDiagnosis', '诊断名称') : t('tm.text', '项目名称'),
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
    {
      title:
        kind === 'specimen'
          ? t('tm.recordsSpecimen', '标本数')
          : kind === 'diagnosis'
            ? t('tm.recordsDiagnosis', '诊断数')
            : t('tm.records', '结果数'),
      dataIndex: 'records',
      width: 80,
    },
    {
      title:
        kind === 'specimen'
          ? t('tm.examplesSpecimen', '示例标本')
          : kind === 'diagnosis'
            ? t('tm.examplesDiagnosis', '示例诊断')
            : t('tm.examples', '示例结果'),
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
                {suggestionTag(kind, s)}
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
        <Tabs
          activeKey={kind}
          onChange={(k) => {
            setKind(k as CodeKind);
            setFacility(undefined);
            setPage(1);
          }}
          items={KINDS.map((k) => ({ key: k, label: kindTitle(k) }))}
        />
        <Typography.Paragraph type="secondary">{intro(kind)}</Typography.Paragraph>
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
          rowKey={(r) => `${r.kind}|${r.facility}|${r.system}|${r.code}`}
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
