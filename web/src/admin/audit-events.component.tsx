/**
 * 审计查阅 · 事件: the audit trail filtered by user, resident, purpose, action, operation, time
 * and outcome, paged on the server with the total; the same list as CSV.
 */
import { useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Descriptions,
  Empty,
  Form,
  Input,
  Result,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { DownloadOutlined, ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { downloadAuditCsv, type AuditFilter, type AuditRow } from '../api/audit.resource.js';
import { t } from '../i18n/i18n.js';
import { roleLabel } from '../shell/roles.js';
import {
  actionChoices,
  actionColor,
  actionLabel,
  formatInstant,
  objectLabel,
  objectsSummary,
  queryLabel,
  purposeChoices,
  PurposeTag,
  subtypeChoices,
  subtypeLabel,
  type Choice,
} from './audit-words.js';
import { useAuditEvents } from './useAuditEvents.js';

interface EventForm {
  user?: string;
  resident?: string;
  purpose?: string;
  action?: string;
  subtype?: string;
  range?: [Dayjs | null, Dayjs | null];
  outcome?: 'success' | 'failure';
}

const DAY = 'YYYY-MM-DD';

export function filterOfForm(v: EventForm): AuditFilter {
  const f: AuditFilter = {};
  if (v.user?.trim()) f.user = v.user.trim();
  if (v.resident?.trim()) f.resident = v.resident.trim();
  if (v.purpose) f.purpose = v.purpose;
  if (v.action) f.action = v.action;
  if (v.subtype) f.subtype = v.subtype;
  if (v.range?.[0]) f.from = v.range[0].format(DAY);
  if (v.range?.[1]) f.to = v.range[1].format(DAY);
  if (v.outcome) f.outcome = v.outcome;
  return f;
}

function formOfFilter(f: AuditFilter): EventForm {
  return {
    user: f.user,
    resident: f.resident,
    purpose: f.purpose,
    action: f.action,
    subtype: f.subtype,
    range: f.from || f.to ? [f.from ? dayjs(f.from) : null, f.to ? dayjs(f.to) : null] : undefined,
    outcome: f.outcome,
  };
}

/** A choice of known values in words that also takes typed text ("含 …"). */
function WordsSelect({
  choices,
  value,
  onChange,
  placeholder,
  id,
}: {
  choices: Choice[];
  value?: string;
  onChange?: (v: string | undefined) => void;
  placeholder: string;
  id?: string;
}) {
  const [search, setSearch] = useState('');
  const typed = search.trim();
  const options = [
    ...choices,
    ...(typed && !choices.some((c) => c.label === typed)
      ? [{ value: typed, label: t('audit.filter.contains', '含“{text}”', { text: typed }) }]
      : []),
    ...(value && !choices.some((c) => c.value === value) && value !== typed ? [{ value, label: value }] : []),
  ];
  return (
    <Select
      id={id}
      allowClear
      showSearch
      value={value}
      placeholder={placeholder}
      options={options}
      optionFilterProp="label"
      onSearch={setSearch}
      onChange={(v: string | undefined) => {
        setSearch('');
        onChange?.(v);
      }}
    />
  );
}

const dash = <Typography.Text type="secondary">—</Typography.Text>;

function residentsCell(row: AuditRow) {
  if (!row.residents.length) return dash;
  const shown = row.residents.slice(0, 3);
  return (
    <Space direction="vertical" size={0}>
      {shown.map((p) => (
        <span key={p.id} title={p.id}>
          {p.name ?? t('audit.residentUnnamed', '居民')}
        </span>
      ))}
      {row.residents.length > shown.length && (
        <Typography.Text type="secondary">{t('audit.moreResidents', '等 {n} 位居民', { n: row.residents.length })}</Typography.Text>
      )}
    </Space>
  );
}

function whatCell(row: AuditRow) {
  const objects = objectsSummary(row.objects);
  return (
    <Space direction="vertical" size={0}>
      <span>{subtypeLabel(row.subtype) || dash}</span>
      {objects.length > 0 && (
        <Typography.Text type="secondary" ellipsis={{ tooltip: objects.join('、') }} style={{ maxWidth: 260 }}>
          {objects.slice(0, 3).join('、')}
          {objects.length > 3 ? t('audit.moreObjects', ' 等 {n} 项', { n: objects.length }) : ''}
        </Typography.Text>
      )}
      {row.query && (
        <Typography.Text type="secondary" ellipsis={{ tooltip: row.query }} style={{ maxWidth: 260 }}>
          {queryLabel(row.query) ?? t('audit.queryText', '查询条件：{q}', { q: row.query })}
        </Typography.Text>
      )}
    </Space>
  );
}

function details(row: AuditRow) {
  return (
    <Descriptions size="small" column={2} bordered>
      <Descriptions.Item label={t('audit.eventId', '事件编号')}>
        <span className="yf-mono">{row.id}</span>
      </Descriptions.Item>
      <Descriptions.Item label={t('audit.roles', '角色')}>{row.roles.map(roleLabel).join('、') || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('audit.organization', '机构')}>{row.organization ?? '—'}</Descriptions.Item>
      <Descriptions.Item label={t('audit.username', '用户名')}>{row.username || '—'}</Descriptions.Item>
      {row.objects.length > 0 && (
        <Descriptions.Item label={t('audit.objects', '对象')} span={2}>
          {row.objects.map(objectLabel).join('、')}
        </Descriptions.Item>
      )}
      {row.query && (
        <Descriptions.Item label={t('audit.query', '查询条件')} span={2}>
          <span className="yf-mono">{row.query}</span>
        </Descriptions.Item>
      )}
      {row.outcomeText && (
        <Descriptions.Item label={t('audit.outcomeText', '结果说明')} span={2}>
          {row.outcomeText}
        </Descriptions.Item>
      )}
    </Descriptions>
  );
}

export function AuditEventsTab({ filter, onFilter }: { filter: AuditFilter; onFilter: (f: AuditFilter) => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<EventForm>();
  // The page belongs to a filter: a new filter starts from its first page.
  const [paged, setPaged] = useState<{ filter: AuditFilter; page: number }>({ filter, page: 1 });
  const page = paged.filter === filter ? paged.page : 1;
  const setPage = (p: number) => setPaged({ filter, page: p });
  const [pageSize, setPageSize] = useState(20);
  const [exporting, setExporting] = useState(false);
  const { data, loading, error, forbidden, reload } = useAuditEvents(filter, page, pageSize);

  // A filter set from outside (a flag) shows in the form.
  useEffect(() => {
    form.resetFields();
    form.setFieldsValue(formOfFilter(filter));
  }, [filter, form]);

  if (forbidden) return <Result status="403" title="403" subTitle={t('audit.forbidden.review', '仅系统管理员和审计员可查阅审计记录。')} />;

  const exportCsv = async () => {
    setExporting(true);
    try {
      const name = await downloadAuditCsv(filter);
      message.success(t('audit.exported', '已导出 {name}', { name }));
    } catch (e) {
      message.error(`${t('audit.exportFailed', '导出失败')}：${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  };

  const columns: TableColumnsType<AuditRow> = [
    {
      title: t('audit.time', '时间'),
      key: 'time',
      width: 160,
      render: (_, r) => <span className="yf-nowrap">{formatInstant(r.recorded)}</span>,
    },
    {
      title: t('audit.user', '用户'),
      key: 'user',
      width: 170,
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <span>{r.userName || r.username || '—'}</span>
          {r.username && r.username !== r.userName && (
            <Typography.Text type="secondary" className="yf-mono">
              {r.username}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('audit.actionWord', '动作'),
      key: 'action',
      width: 80,
      render: (_, r) => (r.action ? <Tag color={actionColor(r.action)}>{actionLabel(r.action)}</Tag> : dash),
    },
    { title: t('audit.what', '操作与对象'), key: 'what', render: (_, r) => whatCell(r) },
    { title: t('audit.resident', '居民'), key: 'resident', width: 190, render: (_, r) => residentsCell(r) },
    {
      title: t('audit.purpose', '目的'),
      key: 'purpose',
      width: 150,
      render: (_, r) => (r.purpose || r.purposeCode ? <PurposeTag code={r.purposeCode} text={r.purpose} /> : dash),
    },
    {
      title: t('audit.address', '来源地址'),
      key: 'address',
      width: 130,
      render: (_, r) => (r.address ? <span className="yf-mono">{r.address}</span> : dash),
    },
    {
      title: t('audit.outcome', '结果'),
      key: 'outcome',
      width: 80,
      render: (_, r) =>
        r.outcome === 'success' ? (
          <Tag color="success">{t('audit.success', '成功')}</Tag>
        ) : (
          <Tag color="error" title={r.outcomeText}>
            {t('audit.failure', '失败')}
          </Tag>
        ),
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card size="small" data-testid="audit-filter">
        <Form<EventForm> form={form} layout="vertical" onFinish={(v) => onFilter(filterOfForm(v))} className="yf-audit-filter">
          <Row gutter={16}>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="user" label={t('audit.filter.user', '用户')}>
                <Input allowClear placeholder={t('audit.filter.userHint', '用户名或姓名')} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="resident" label={t('audit.filter.resident', '居民')}>
                <Input allowClear placeholder={t('audit.filter.residentHint', '居民姓名或档案编号')} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="purpose" label={t('audit.filter.purpose', '目的')}>
                <WordsSelect choices={purposeChoices()} placeholder={t('audit.filter.any', '全部')} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="action" label={t('audit.filter.action', '动作')}>
                <Select allowClear placeholder={t('audit.filter.any', '全部')} options={actionChoices()} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="subtype" label={t('audit.filter.subtype', '操作')}>
                <WordsSelect choices={subtypeChoices()} placeholder={t('audit.filter.any', '全部')} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="range" label={t('audit.filter.range', '时间（按天）')}>
                <DatePicker.RangePicker allowEmpty={[true, true]} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item name="outcome" label={t('audit.filter.outcome', '结果')}>
                <Select
                  allowClear
                  placeholder={t('audit.filter.any', '全部')}
                  options={[
                    { value: 'success', label: t('audit.success', '成功') },
                    { value: 'failure', label: t('audit.failure', '失败') },
                  ]}
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Form.Item label=" " colon={false}>
                <Space>
                  <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="audit-search">
                    {t('audit.search', '查询')}
                  </Button>
                  <Button
                    onClick={() => {
                      form.resetFields();
                      onFilter({});
                    }}
                  >
                    {t('audit.reset', '重置')}
                  </Button>
                </Space>
              </Form.Item>
            </Col>
          </Row>
        </Form>
      </Card>
      <Card
        size="small"
        title={t('audit.total', '共 {n} 条记录', { n: data.total })}
        extra={
          <Space>
            <Button icon={<DownloadOutlined />} onClick={() => void exportCsv()} loading={exporting} data-testid="audit-export">
              {t('audit.exportCsv', '导出 CSV')}
            </Button>
            <Button icon={<ReloadOutlined />} onClick={reload} loading={loading}>
              {t('common.refresh', '刷新')}
            </Button>
          </Space>
        }
      >
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        <Table<AuditRow>
          data-testid="audit-table"
          size="small"
          rowKey="id"
          columns={columns}
          dataSource={data.rows}
          loading={loading}
          expandable={{ expandedRowRender: details }}
          pagination={{
            current: page,
            pageSize,
            total: data.total,
            showSizeChanger: true,
            pageSizeOptions: [20, 50, 100],
            showTotal: (total) => t('audit.pageTotal', '共 {n} 条', { n: total }),
            onChange: (p, size) => {
              if (size !== pageSize) {
                setPageSize(size);
                setPage(1);
              } else setPage(p);
            },
          }}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.none', '没有符合条件的审计记录')} /> }}
        />
      </Card>
    </Space>
  );
}
