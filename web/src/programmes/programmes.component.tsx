/**
 * 基本公共卫生服务项目: the programmes (0～6岁儿童, 孕产妇, 老年人, 严重精神障碍, 肺结核), and for
 * the one chosen its worklist, registry, indicators with drill-down and its schedule. Every
 * list is paged with its total.
 */
import { useCallback, useEffect, useState } from 'react';
import { App, Button, Input, Modal, Segmented, Space, Table, Tabs, Tag, Typography, type TableColumnsType } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { DerivingBanner } from '../shell/deriving-banner.component.js';
import {
  getIndicatorResidents,
  getProgrammeIndicators,
  getProgrammeRegistry,
  getProgrammes,
  getProgrammeWorklist,
  type DrillPage,
  type IndicatorValue,
  type ProgrammeIndicators,
  type ProgrammeSummary,
  type RegistryPage,
  type RegistryRow,
  type WorkItem,
  type Worklist,
} from './programmes.resource.js';

const PAGE = 20;
const page = (n: number) => ({ limit: String(PAGE), offset: String((n - 1) * PAGE) });
const pager = (current: number, total: number, onChange: (n: number) => void) => ({
  current,
  pageSize: PAGE,
  total,
  onChange,
  showSizeChanger: false,
  showTotal: (n: number) => t('programmes.total', '共 {n} 条', { n }),
});
const residentLink = (name: string | null, patientId: string) => <a href={`#/residents/${patientId}`}>{name ?? patientId}</a>;
const percent = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)}%`);

export function ProgrammesPage({ code, tab }: { code?: string; tab?: string }) {
  const { message } = App.useApp();
  const [list, setList] = useState<ProgrammeSummary[] | null>(null);
  const [listPage, setListPage] = useState(1);
  const [selected, setSelected] = useState<string | undefined>(code);
  const [activeTab, setActiveTab] = useState(tab ?? 'worklist');
  // Bumped when the processors have worked through a backlog: the counts and the open tab are fetched again.
  const [round, setRound] = useState(0);
  useEffect(() => {
    getProgrammes()
      .then((r) => {
        setList(r.rows);
        setSelected((s) => s ?? r.rows[0]?.code);
      })
      .catch((e: Error) => message.error(e.message));
  }, [message, round]);
  const programme = list?.find((p) => p.code === selected);
  const columns: TableColumnsType<ProgrammeSummary> = [
    {
      title: t('programmes.col.name', '项目'),
      dataIndex: 'name',
      render: (v: string, r) => <a onClick={() => setSelected(r.code)}>{v}</a>,
    },
    { title: t('programmes.col.enrolled', '在管人数'), dataIndex: 'enrolled' },
    { title: t('programmes.col.version', '现行规范'), key: 'version', render: (_: unknown, r) => r.versions.at(-1)?.version ?? '' },
    { title: t('programmes.col.source', '依据'), dataIndex: 'source' },
  ];
  return (
    <>
      <PageHeader
        title={t('programmes.title', '基本公共卫生服务项目')}
        crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('programmes.title', '基本公共卫生服务项目') }]}
      />
      <DerivingBanner onCaughtUp={() => setRound((r) => r + 1)} />
      <Table
        rowKey="code"
        size="small"
        columns={columns}
        dataSource={list ?? []}
        loading={!list}
        rowClassName={(r) => (r.code === selected ? 'ant-table-row-selected' : '')}
        onRow={(r) => ({ onClick: () => setSelected(r.code) })}
        pagination={pager(listPage, list?.length ?? 0, setListPage)}
      />
      {programme && (
        <Tabs
          activeKey={activeTab}
          onChange={setActiveTab}
          destroyOnHidden
          items={[
            {
              key: 'worklist',
              label: t('programmes.tab.worklist', '工作清单'),
              children: <WorklistTab key={`${programme.code}:${round}`} programme={programme} />,
            },
            {
              key: 'registry',
              label: t('programmes.tab.registry', '登记册'),
              children: <RegistryTab key={`${programme.code}:${round}`} programme={programme} />,
            },
            {
              key: 'indicators',
              label: t('programmes.tab.indicators', '指标'),
              children: <IndicatorsTab key={`${programme.code}:${round}`} programme={programme} />,
            },
            { key: 'schedule', label: t('programmes.tab.schedule', '服务规范'), children: <ScheduleTab programme={programme} /> },
          ]}
        />
      )}
    </>
  );
}

function WorklistTab({ programme }: { programme: ProgrammeSummary }) {
  const { message } = App.useApp();
  const [status, setStatus] = useState('all');
  const [n, setN] = useState(1);
  const [data, setData] = useState<Worklist | null>(null);
  useEffect(() => {
    getProgrammeWorklist(programme.code, { status, ...page(n) })
      .then(setData)
      .catch((e: Error) => message.error(e.message));
  }, [programme.code, status, n, message]);
  const columns: TableColumnsType<WorkItem> = [
    { title: t('programmes.col.resident', '姓名'), dataIndex: 'name', render: (v: string | null, r) => residentLink(v, r.patientId) },
    { title: t('programmes.col.birthDate', '出生日期'), dataIndex: 'birthDate' },
    {
      title: t('programmes.col.item', '服务项目'),
      dataIndex: 'itemName',
      render: (v: string, r) => t(`programme.item.${programme.code}.${r.item}`, v),
    },
    { title: t('programmes.col.recommended', '规范要求'), dataIndex: 'recommended', render: (v: string | null) => v ?? '' },
    {
      title: t('programmes.col.window', '时间窗'),
      key: 'window',
      render: (_: unknown, r) => `${r.windowFrom} ～ ${r.windowLast}`,
    },
    {
      title: t('programmes.col.status', '状态'),
      dataIndex: 'status',
      render: (s: string) =>
        s === 'overdue' ? <Tag color="red">{t('programmes.overdue', '逾期')}</Tag> : <Tag color="blue">{t('programmes.due', '到期')}</Tag>,
    },
  ];
  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Segmented
          value={status}
          onChange={(v) => (setStatus(String(v)), setN(1))}
          options={[
            { value: 'all', label: t('programmes.all', '全部') },
            { value: 'due', label: t('programmes.due', '到期') },
            { value: 'overdue', label: t('programmes.overdue', '逾期') },
          ]}
        />
        {data && (
          <span>
            {t('programmes.worklistCounts', '到期 {due} 项，逾期 {overdue} 项', { due: data.counts.due, overdue: data.counts.overdue })}
          </span>
        )}
      </Space>
      <Table
        rowKey={(r) => `${r.patientId}-${r.episodeKey}-${r.item}-${r.windowFrom}`}
        size="small"
        columns={columns}
        dataSource={data?.rows ?? []}
        loading={!data}
        pagination={pager(n, data?.total ?? 0, setN)}
      />
    </>
  );
}

function RegistryTab({ programme }: { programme: ProgrammeSummary }) {
  const { message } = App.useApp();
  const [status, setStatus] = useState('active');
  const [q, setQ] = useState('');
  const [n, setN] = useState(1);
  const [data, setData] = useState<RegistryPage | null>(null);
  useEffect(() => {
    getProgrammeRegistry(programme.code, { status, q: q || undefined, ...page(n) })
      .then(setData)
      .catch((e: Error) => message.error(e.message));
  }, [programme.code, status, q, n, message]);
  const columns: TableColumnsType<RegistryRow> = [
    { title: t('programmes.col.resident', '姓名'), dataIndex: 'name', render: (v: string | null, r) => residentLink(v, r.patientId) },
    { title: t('programmes.col.birthDate', '出生日期'), dataIndex: 'birthDate' },
    { title: t('programmes.col.startOn', '纳入日期'), dataIndex: 'startOn' },
    { title: t('programmes.col.endOn', '结束日期'), dataIndex: 'endOn', render: (v: string | null) => v ?? '' },
    {
      title: t('programmes.col.flags', '标记'),
      dataIndex: 'flags',
      render: (flags: string[]) =>
        flags.map((f) => (
          <Tag key={f} color="volcano">
            {f === 'high-risk'
              ? t('programmes.highRisk', '高危')
              : t(`programme.flag.${programme.code}.${f}`, programme.flags.find((x) => x.code === f)?.name ?? f)}
          </Tag>
        )),
    },
    { title: t('programmes.col.lastService', '最近服务'), dataIndex: 'lastService', render: (v: string | null) => v ?? '' },
    // Hypertension and diabetes: the day the last follow-up set for the next one.
    ...(data?.rows.some((r) => r.nextDue)
      ? [{ title: t('programmes.col.nextDue', '下次随访'), dataIndex: 'nextDue', render: (v: string | null) => v ?? '' }]
      : []),
    // Recorded by hand (POST/PUT /api/programmes/{code}/registry): enrolled without a diagnosis record, transferred out, died;
    // and a death the Patient record gives (its day ends the episode), unless a death set by hand already says so.
    ...(data?.rows.some((r) => r.source === 'manual' || r.registryStatus !== 'managed' || r.deceased)
      ? [
          {
            title: t('programmes.col.registration', '登记'),
            key: 'registration',
            render: (_: unknown, r: RegistryRow) => (
              <>
                {r.source === 'manual' && <Tag>{t('programmes.manual', '手工纳入')}</Tag>}
                {r.registryStatus === 'transferred' && (
                  <Tag color="default">{t('programmes.transferred', '{on} 转出', { on: r.statusOn ?? '' })}</Tag>
                )}
                {r.registryStatus === 'died' && <Tag color="default">{t('programmes.died', '{on} 死亡', { on: r.statusOn ?? '' })}</Tag>}
                {r.deceased &&
                  r.registryStatus !== 'died' &&
                  (r.deceasedOn ? (
                    <Tag color="default">{t('programmes.died', '{on} 死亡', { on: r.deceasedOn })}</Tag>
                  ) : (
                    <Tag color="default">{t('programmes.deceased', '已故')}</Tag>
                  ))}
              </>
            ),
          },
        ]
      : []),
    {
      title: t('programmes.col.missed', '未按时完成'),
      dataIndex: 'missed',
      render: (v: number) => (v ? <Tag color="orange">{v}</Tag> : 0),
    },
  ];
  return (
    <>
      <Space style={{ marginBottom: 12 }} wrap>
        <Segmented
          value={status}
          onChange={(v) => (setStatus(String(v)), setN(1))}
          options={[
            { value: 'active', label: t('programmes.active', '在管') },
            { value: 'ended', label: t('programmes.ended', '已结束') },
            { value: 'all', label: t('programmes.all', '全部') },
          ]}
        />
        <Input.Search
          allowClear
          placeholder={t('programmes.search', '姓名或编号')}
          onSearch={(v) => (setQ(v), setN(1))}
          style={{ width: 220 }}
        />
      </Space>
      <Table
        rowKey={(r) => `${r.patientId}-${r.episodeKey}`}
        size="small"
        columns={columns}
        dataSource={data?.rows ?? []}
        loading={!data}
        pagination={pager(n, data?.total ?? 0, setN)}
      />
    </>
  );
}

function IndicatorsTab({ programme }: { programme: ProgrammeSummary }) {
  const { message } = App.useApp();
  const [period, setPeriod] = useState(String(new Date().getFullYear()));
  const [n, setN] = useState(1);
  const [groupBy, setGroupBy] = useState<'total' | 'organization' | 'area' | 'team'>('total');
  const [data, setData] = useState<ProgrammeIndicators | null>(null);
  const [drill, setDrill] = useState<IndicatorValue | null>(null);
  useEffect(() => {
    setData(null);
    getProgrammeIndicators(programme.code, { period, ...(groupBy === 'total' ? {} : { groupBy }) })
      .then(setData)
      .catch((e: Error) => message.error(e.message));
  }, [programme.code, period, groupBy, message]);
  const name = (code: string) => data?.definitions.find((d) => d.code === code)?.name ?? code;
  const columns: TableColumnsType<IndicatorValue> = [
    { title: t('programmes.col.indicator', '指标'), dataIndex: 'indicator', render: (c: string) => name(c) },
    ...(groupBy === 'total'
      ? []
      : [
          {
            title: t('programmes.col.group', '分组'),
            dataIndex: 'group',
            render: (g: string, v: IndicatorValue) => v.groupName ?? g,
          },
        ]),
    { title: t('programmes.col.numerator', '分子'), dataIndex: 'numerator' },
    { title: t('programmes.col.denominator', '分母'), dataIndex: 'denominator' },
    { title: t('programmes.col.rate', '率'), dataIndex: 'value', render: percent },
    { title: t('programmes.col.target', '目标'), dataIndex: 'target', render: (v: number | null) => (v === null ? '—' : `≥ ${v}%`) },
    {
      title: t('programmes.col.meets', '达标'),
      dataIndex: 'meetsTarget',
      render: (v: boolean | null) =>
        v === null ? (
          '—'
        ) : v ? (
          <Tag color="green">{t('programmes.met', '达标')}</Tag>
        ) : (
          <Tag color="red">{t('programmes.notMet', '未达标')}</Tag>
        ),
    },
    {
      title: '',
      key: 'drill',
      render: (_: unknown, r) => (
        <Button size="small" onClick={() => setDrill(r)}>
          {t('programmes.drill', '查看居民')}
        </Button>
      ),
    },
  ];
  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <span>{t('programmes.period', '统计年度')}</span>
        <Input.Search defaultValue={period} onSearch={(v) => /^\d{4}$/.test(v) && (setPeriod(v), setN(1))} style={{ width: 140 }} />
        <Segmented
          value={groupBy}
          onChange={(v) => (setGroupBy(v as typeof groupBy), setN(1))}
          options={[
            { value: 'total', label: t('programmes.group.total', '全区') },
            { value: 'organization', label: t('programmes.group.organization', '按机构') },
            { value: 'area', label: t('programmes.group.area', '按街道') },
            { value: 'team', label: t('programmes.group.team', '按签约团队') },
          ]}
        />
      </Space>
      <Table
        rowKey={(r) => `${r.indicator}-${r.group}`}
        size="small"
        columns={columns}
        dataSource={data?.values ?? []}
        loading={!data}
        pagination={pager(n, data?.values.length ?? 0, setN)}
      />
      {data && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {data.definitions.map((d) => (
            <span key={d.code} style={{ display: 'block' }}>
              {t('programmes.definition', '{name}：{numerator} ÷ {denominator}（{source}）', {
                name: d.name,
                numerator: d.numerator,
                denominator: d.denominator,
                source: d.source,
              })}
            </span>
          ))}
        </Typography.Paragraph>
      )}
      {drill && (
        <DrillModal
          programme={programme.code}
          indicator={drill.indicator}
          title={groupBy === 'total' ? name(drill.indicator) : `${name(drill.indicator)} · ${drill.groupName ?? drill.group}`}
          period={period}
          group={groupBy === 'total' ? undefined : { groupBy, group: drill.group }}
          onClose={() => setDrill(null)}
        />
      )}
    </>
  );
}

function DrillModal(props: {
  programme: string;
  indicator: string;
  title: string;
  period: string;
  /** One group's residents (a centre, street or team), or everyone's. */
  group?: { groupBy: string; group: string };
  onClose: () => void;
}) {
  const { message } = App.useApp();
  const [n, setN] = useState(1);
  const [data, setData] = useState<DrillPage | null>(null);
  const { groupBy, group } = props.group ?? {};
  const load = useCallback(() => {
    getIndicatorResidents(props.programme, props.indicator, { period: props.period, ...(groupBy ? { groupBy, group } : {}), ...page(n) })
      .then(setData)
      .catch((e: Error) => message.error(e.message));
  }, [props.programme, props.indicator, props.period, groupBy, group, n, message]);
  useEffect(() => void load(), [load]);
  return (
    <Modal open title={props.title} onCancel={props.onClose} footer={null} width={760}>
      <Table
        rowKey={(r) => `${r.patientId}-${r.episodeKey}`}
        size="small"
        dataSource={data?.rows ?? []}
        loading={!data}
        pagination={pager(n, data?.total ?? 0, setN)}
        columns={[
          { title: t('programmes.col.resident', '姓名'), dataIndex: 'name', render: (v: string | null, r) => residentLink(v, r.patientId) },
          { title: t('programmes.col.startOn', '纳入日期'), dataIndex: 'startOn' },
          {
            title: t('programmes.col.inNumerator', '计入分子'),
            dataIndex: 'inNumerator',
            render: (v: boolean) => (v ? <Tag color="green">{t('programmes.yes', '是')}</Tag> : <Tag>{t('programmes.no', '否')}</Tag>),
          },
        ]}
      />
    </Modal>
  );
}

function ScheduleTab({ programme }: { programme: ProgrammeSummary }) {
  const [n, setN] = useState(1);
  const version = programme.versions.at(-1)!;
  return (
    <>
      <Typography.Paragraph>
        {t('programmes.versionLine', '{version}（{from} 起施行）：{source}；规范管理：{managed}', {
          version: version.version,
          from: version.effectiveFrom,
          source: version.source,
          managed: version.managed,
        })}
      </Typography.Paragraph>
      <Table
        rowKey="code"
        size="small"
        dataSource={version.items}
        pagination={pager(n, version.items.length, setN)}
        columns={[
          { title: t('programmes.col.item', '服务项目'), dataIndex: 'name' },
          { title: t('programmes.col.recommended', '规范要求'), dataIndex: 'recommended', render: (v: string | null) => v ?? '' },
          {
            title: t('programmes.col.window', '时间窗'),
            key: 'window',
            render: (_: unknown, r) => `${r.relativeTo === 'end' ? t('programmes.fromEnd', '分娩后') : ''}${r.from} ～ ${r.to}`,
          },
        ]}
      />
    </>
  );
}
