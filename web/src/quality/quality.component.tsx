/**
 * 数据接入 · 数据质量 (issue #16): per facility and kind of record, the three rates of 数据质量 —
 * 完整性 (completeness), 规范性 (validity), 及时性 (timeliness) — as the server keeps them while
 * records arrive, worst first; each figure opens the records behind it, paged with the total.
 */
import { useEffect, useState } from 'react';
import { Alert, Card, Drawer, Progress, Select, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  fetchFacilityQuality,
  fetchQualityRecords,
  type FacilityQualityList,
  type FigureProblem,
  type RecordList,
} from './quality.resource.js';

type Row = FacilityQualityList['facilities'][number];
const TYPES = ['Patient', 'Encounter', 'Condition', 'Observation', 'Immunization'];
const PAGE_SIZE = 20;

const typeLabel = (type: string) =>
  t(
    `dq.type.${type}`,
    (
      { Patient: '居民档案', Encounter: '就诊', Condition: '诊断', Observation: '检验检查结果', Immunization: '预防接种' } as Record<
        string,
        string
      >
    )[type] ?? type,
  );

/** A rate as a bar that opens its records when any are behind it. */
function Rate({
  rate,
  bad,
  of,
  late,
  onOpen,
  testId,
}: {
  rate: number;
  bad: number;
  of: number;
  late?: boolean;
  onOpen: () => void;
  testId: string;
}) {
  const percent = Math.round(rate * 1000) / 10;
  const status = rate >= 0.95 ? 'success' : rate >= 0.8 ? 'normal' : 'exception';
  return (
    <Space direction="vertical" size={0} style={{ width: '100%' }}>
      <Progress percent={percent} size="small" status={status} format={(p) => `${p}%`} />
      {bad > 0 ? (
        <Typography.Link onClick={onOpen} data-testid={testId}>
          {late ? t('dq.lateOf', '{n} 条中 {bad} 条迟报', { bad, n: of }) : t('dq.of', '{n} 条中 {bad} 条', { bad, n: of })}
        </Typography.Link>
      ) : (
        <Typography.Text type="secondary">{t('dq.of', '{n} 条中 {bad} 条', { bad: 0, n: of })}</Typography.Text>
      )}
    </Space>
  );
}

function RecordsDrawer({ open, onClose }: { open: { row: Row; problem: FigureProblem } | null; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const [list, setList] = useState<RecordList | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setPage(1), [open]);
  useEffect(() => {
    if (!open) return;
    const ctrl = new AbortController();
    setList(null);
    setError(null);
    fetchQualityRecords(
      {
        facility: open.row.facility || undefined,
        type: open.row.type,
        problem: open.problem,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
      },
      ctrl.signal,
    )
      .then(setList)
      .catch((e: Error) => !isAbort(e) && setError(e.message));
    return () => ctrl.abort();
  }, [open, page]);
  const columns: TableColumnsType<RecordList['rows'][number]> = [
    { title: t('dq.record', '记录'), dataIndex: 'resource', render: (_: string, r) => `${typeLabel(r.type)} ${r.resource.split('/')[1]}` },
    ...(open?.problem === 'incomplete'
      ? [{ title: t('dq.missing', '缺少'), dataIndex: 'missing', render: (m: string[]) => m.map((x) => <Tag key={x}>{x}</Tag>) }]
      : []),
    ...(open?.problem === 'invalid' ? [{ title: t('dq.openIssues', '待更正问题'), dataIndex: 'openIssues' }] : []),
    ...(open?.problem === 'late'
      ? [
          { title: t('dq.event', '发生时间'), dataIndex: 'eventAt', render: (v: string | null) => (v ? formatDateTime(v) : '—') },
          { title: t('dq.hoursLate', '上报滞后（小时）'), dataIndex: 'hoursLate' },
        ]
      : []),
    { title: t('dq.received', '接收时间'), dataIndex: 'receivedAt', render: (v: string | null) => (v ? formatDateTime(v) : '—') },
  ];
  const title = open
    ? `${open.row.facilityName ?? (open.row.facility || t('dq.noFacility', '（未注明机构）'))} · ${typeLabel(open.row.type)} · ${
        {
          incomplete: t('dq.behind.incomplete', '不完整的记录'),
          invalid: t('dq.behind.invalid', '含存疑数据的记录'),
          late: t('dq.behind.late', '迟报的记录'),
        }[open.problem]
      }`
    : '';
  return (
    <Drawer open={!!open} onClose={onClose} width={760} title={title} data-testid="dq-records">
      {error && <Alert type="error" showIcon message={error} />}
      <Table
        rowKey="resource"
        size="small"
        columns={columns}
        dataSource={list?.rows ?? []}
        loading={!list && !error}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total: list?.total ?? 0,
          showSizeChanger: false,
          showTotal: (n) => t('dq.total', '共 {n} 条', { n }),
          onChange: setPage,
        }}
      />
    </Drawer>
  );
}

export function DataQualityPage() {
  const [type, setType] = useState<string | undefined>();
  const [data, setData] = useState<FacilityQualityList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<{ row: Row; problem: FigureProblem } | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    fetchFacilityQuality(type, ctrl.signal)
      .then(setData)
      .catch((e: Error) => !isAbort(e) && setError(e.message));
    return () => ctrl.abort();
  }, [type]);
  const columns: TableColumnsType<Row> = [
    {
      title: t('dq.facility', '机构'),
      dataIndex: 'facility',
      render: (f: string, r) => (r.facilityName ? <span title={f}>{r.facilityName}</span> : f || t('dq.noFacility', '（未注明机构）')),
    },
    { title: t('dq.type', '记录类型'), dataIndex: 'type', render: typeLabel },
    { title: t('dq.records', '记录数'), dataIndex: 'records', align: 'right' },
    // 完整性 and 规范性: a rate over all records, opening the records that fail it.
    ...(
      [
        [t('dq.completeness', '完整性'), 'incomplete', (r: Row) => [r.completenessRate, r.recordsIncomplete] as const],
        [t('dq.validity', '规范性'), 'invalid', (r: Row) => [r.validityRate, r.recordsWithOpenIssue] as const],
      ] as const
    ).map(([title, problem, figures]) => ({
      title,
      key: problem,
      width: 190,
      render: (_: unknown, r: Row) => (
        <Rate
          rate={figures(r)[0]}
          bad={figures(r)[1]}
          of={r.records}
          onOpen={() => setOpen({ row: r, problem })}
          testId={`dq-open-${problem}`}
        />
      ),
    })),
    {
      title: t('dq.timeliness', '及时性'),
      key: 't',
      width: 190,
      render: (_, r) =>
        r.recordsWithEventTime || r.recordsHistorical ? (
          <Space direction="vertical" size={0} style={{ width: '100%' }}>
            {r.recordsWithEventTime ? (
              <Rate
                rate={r.timelinessRate}
                bad={r.recordsLate}
                of={r.recordsWithEventTime}
                late
                onOpen={() => setOpen({ row: r, problem: 'late' })}
                testId="dq-open-late"
              />
            ) : null}
            {r.recordsHistorical ? (
              <Typography.Text type="secondary" data-testid="dq-historical">
                {t('dq.historical', '另有 {n} 条历史补录（事件 30 天后才到，不计及时性）', { n: r.recordsHistorical })}
              </Typography.Text>
            ) : null}
          </Space>
        ) : (
          '—'
        ),
    },
  ];
  const rows = data?.facilities ?? [];
  return (
    <div data-testid="data-quality">
      <PageHeader
        title={t('dq.title', '数据质量')}
        crumbs={[{ title: t('nav.integration', '数据接入') }, { title: t('dq.title', '数据质量') }]}
        extra={
          <Select
            allowClear
            style={{ width: 160 }}
            placeholder={t('dq.allTypes', '全部记录类型')}
            value={type}
            onChange={setType}
            options={TYPES.map((x) => ({ value: x, label: typeLabel(x) }))}
            data-testid="dq-type"
          />
        }
      />
      <Typography.Paragraph type="secondary">
        {t(
          'dq.intro',
          '按机构和记录类型统计数据质量：完整性（必填项齐全）、规范性（无存疑数据）、及时性（事件发生后 24 小时内上报）。有问题的记录按原样保存并在此列出，退回来源更正。点击数字查看对应记录。',
        )}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Card size="small">
        <Table
          rowKey={(r) => `${r.facility}|${r.type}`}
          size="small"
          columns={columns}
          dataSource={rows}
          loading={!data && !error}
          locale={{ emptyText: t('dq.none', '暂无记录') }}
          pagination={{ pageSize: PAGE_SIZE, showTotal: (n) => t('dq.total', '共 {n} 条', { n }) }}
          data-testid="dq-table"
        />
      </Card>
      <RecordsDrawer open={open} onClose={() => setOpen(null)} />
    </div>
  );
}
