/**
 * 在途看板 (#/lab/dashboard): specimens in flight by leg and responsible unit (overdue ones
 * counted), in flight by state, breaches of the clocks by leg and unit (open and total), the open
 * breaches with how late each clock is, turnaround (median and p90 hours) per test and lab and the
 * rejection rate per test and collecting unit — from GET /api/lab/dashboard and the breach and
 * specimen lists. Every list is paged with its total.
 */
import { useEffect, useState } from 'react';
import { Alert, Card, Col, Row, Statistic, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { usePaged } from './hooks.js';
import { PageHeader } from '../shell/page-header.component.js';
import { dashboard, listBreaches, listSpecimens, type BreachView, type Dashboard, type SpecimenView } from './lab.resource.js';
import { chinaTime, clock, hours, legLabel, modeLabel, percent, refusal, STATE_COLOURS, STATES, stateLabel } from './labels.js';

type InFlightRow = Dashboard['inFlight']['byLegAndUnit'][number];
type BreachTableRow = Dashboard['breaches']['byLegAndUnit'][number];
type TurnRow = Dashboard['turnaround'][number];
type RejectRow = Dashboard['rejections'][number];

/** Client-side pages for the dashboard's own arrays, with the total in words. */
const localPages = () => ({
  defaultPageSize: 10,
  showSizeChanger: true,
  pageSizeOptions: [10, 20, 50],
  showTotal: (n: number) => t('lab.total', '共 {n} 项', { n }),
});

function StateCounts() {
  const [counts, setCounts] = useState<Partial<Record<string, number>>>({});
  useEffect(() => {
    const ctrl = new AbortController();
    const inFlight = STATES.filter((s) => s !== 'rejected' && s !== 'reported');
    Promise.all(inFlight.map((state) => listSpecimens({ state, limit: 1, offset: 0 }, ctrl.signal).then((l) => [state, l.total] as const)))
      .then((pairs) => setCounts(Object.fromEntries(pairs)))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, []);
  return (
    <Row gutter={[12, 12]} data-testid="state-counts">
      {Object.entries(counts).map(([state, n]) => (
        <Col key={state} xs={12} sm={8} md={4}>
          <Statistic title={stateLabel(state)} value={n ?? 0} />
        </Col>
      ))}
    </Row>
  );
}

export function LabDashboardPage() {
  const [data, setData] = useState<Dashboard>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    dashboard(ctrl.signal)
      .then(setData)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, []);
  const open = usePaged<BreachView>(
    (p, s) => listBreaches({ ...p, open: true }, s),
    [],
    (n) => t('lab.breach.total', '共 {n} 个超时', { n }),
    10,
  );
  const overdue = usePaged<SpecimenView>(
    (p, s) => listSpecimens({ ...p, inFlight: true }, s),
    [],
    (n) => t('lab.specimen.inFlightTotal', '在途标本共 {n} 份', { n }),
    10,
  );

  const inFlightCols: TableColumnsType<InFlightRow> = [
    { title: t('lab.col.leg', '计时环节'), key: 'leg', render: (_, r) => legLabel(r.leg) },
    { title: t('lab.col.unit', '责任单位'), dataIndex: 'unit' },
    { title: t('lab.col.count', '在途'), dataIndex: 'count', align: 'right' },
    {
      title: t('lab.col.overdue', '已超时'),
      key: 'overdue',
      align: 'right',
      render: (_, r) => <Typography.Text type={r.overdue ? 'danger' : undefined}>{r.overdue}</Typography.Text>,
    },
  ];
  const breachCols: TableColumnsType<BreachTableRow> = [
    { title: t('lab.col.leg', '计时环节'), key: 'leg', render: (_, r) => legLabel(r.leg) },
    { title: t('lab.col.unit', '责任单位'), dataIndex: 'unit' },
    {
      title: t('lab.col.openBreaches', '未结超时'),
      key: 'open',
      align: 'right',
      render: (_, r) => <Typography.Text type={r.open ? 'danger' : undefined}>{r.open}</Typography.Text>,
    },
    { title: t('lab.col.allBreaches', '累计超时'), dataIndex: 'total', align: 'right' },
  ];
  const openCols: TableColumnsType<BreachView> = [
    {
      title: t('lab.col.barcode', '条码'),
      key: 'barcode',
      render: (_, r) => <a href={`#/lab/specimens/${encodeURIComponent(r.barcode)}`}>{r.barcode}</a>,
    },
    { title: t('lab.col.leg', '计时环节'), key: 'leg', render: (_, r) => legLabel(r.leg) },
    { title: t('lab.col.unit', '责任单位'), dataIndex: 'unit' },
    { title: t('lab.col.test', '检测项目'), key: 'test', render: (_, r) => `${r.testCode} · ${modeLabel(r.mode)}` },
    { title: t('lab.col.deadline', '时限'), key: 'deadline', render: (_, r) => chinaTime(r.deadline) },
    {
      title: t('lab.col.clock', '计时'),
      key: 'clock',
      render: (_, r) => (
        <Typography.Text type="danger" data-testid="breach-clock">
          {clock(r.deadline).text}
        </Typography.Text>
      ),
    },
  ];
  const flightCols: TableColumnsType<SpecimenView> = [
    {
      title: t('lab.col.barcode', '条码'),
      key: 'barcode',
      render: (_, r) => <a href={`#/lab/specimens/${encodeURIComponent(r.barcode)}`}>{r.barcode}</a>,
    },
    {
      title: t('lab.col.state', '状态'),
      key: 'state',
      render: (_, r) => <Tag color={STATE_COLOURS[r.state]}>{stateLabel(r.state)}</Tag>,
    },
    { title: t('lab.col.leg', '计时环节'), key: 'leg', render: (_, r) => legLabel(r.leg) },
    { title: t('lab.col.unit', '责任单位'), key: 'unit', render: (_, r) => r.legUnit ?? '—' },
    {
      title: t('lab.col.clock', '计时'),
      key: 'clock',
      render: (_, r) => {
        const c = clock(r.legDeadline);
        return <Typography.Text type={c.late ? 'danger' : undefined}>{c.text}</Typography.Text>;
      },
    },
  ];
  const turnCols: TableColumnsType<TurnRow> = [
    { title: t('lab.col.test', '检测项目'), dataIndex: 'testCode' },
    { title: t('lab.col.lab', '实验室'), dataIndex: 'lab' },
    { title: t('lab.col.verified', '已审核'), dataIndex: 'verified', align: 'right' },
    { title: t('lab.col.r2rMedian', '接收→结果 中位数'), key: 'a', render: (_, r) => hours(r.receiptToResultHours.median) },
    { title: t('lab.col.r2rP90', '接收→结果 P90'), key: 'b', render: (_, r) => hours(r.receiptToResultHours.p90) },
    { title: t('lab.col.c2rMedian', '采样→报告 中位数'), key: 'c', render: (_, r) => hours(r.collectionToReportHours.median) },
    { title: t('lab.col.c2rP90', '采样→报告 P90'), key: 'd', render: (_, r) => hours(r.collectionToReportHours.p90) },
  ];
  const rejectCols: TableColumnsType<RejectRow> = [
    { title: t('lab.col.test', '检测项目'), dataIndex: 'testCode' },
    { title: t('lab.col.collectingUnit', '采样单位'), dataIndex: 'unit' },
    { title: t('lab.col.received', '送达'), dataIndex: 'received', align: 'right' },
    { title: t('lab.col.rejected', '拒收'), dataIndex: 'rejected', align: 'right' },
    {
      title: t('lab.col.rate', '拒收率'),
      key: 'rate',
      align: 'right',
      render: (_, r) => <span data-testid="reject-rate">{percent(r.rate)}</span>,
    },
  ];

  return (
    <>
      <PageHeader
        title={t('nav.labDashboard', '在途看板')}
        crumbs={[{ title: t('nav.lab', '检测送检') }, { title: t('nav.labDashboard', '在途看板') }]}
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      {data && (
        <Row gutter={[12, 12]} style={{ marginBottom: 12 }} data-testid="lab-figures">
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('lab.fig.inFlight', '在途标本')} value={data.inFlight.total} />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic
                title={t('lab.fig.overdue', '在途已超时')}
                value={data.inFlight.overdue}
                valueStyle={data.inFlight.overdue ? { color: '#cf1322' } : undefined}
              />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('lab.fig.openBreaches', '未结超时')} value={data.breaches.open} />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('lab.fig.breaches', '累计超时')} value={data.breaches.total} />
            </Card>
          </Col>
        </Row>
      )}
      <Card size="small" title={t('lab.card.byState', '在途标本（按状态）')} style={{ marginBottom: 12 }}>
        <StateCounts />
      </Card>
      <Row gutter={[12, 12]}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('lab.card.inFlight', '在途标本（按环节与责任单位）')}>
            <Table
              data-testid="in-flight-table"
              size="small"
              rowKey={(r) => `${r.leg}|${r.unit}`}
              columns={inFlightCols}
              dataSource={data?.inFlight.byLegAndUnit ?? []}
              loading={!data && !error}
              pagination={localPages()}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('lab.card.breaches', '超时（按环节与责任单位）')}>
            <Table
              data-testid="breach-table"
              size="small"
              rowKey={(r) => `${r.leg}|${r.unit}`}
              columns={breachCols}
              dataSource={data?.breaches.byLegAndUnit ?? []}
              loading={!data && !error}
              pagination={localPages()}
            />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('lab.card.openBreaches', '未结超时（时钟）')} style={{ marginTop: 12 }}>
        {open.error && <Alert type="error" showIcon message={open.error} />}
        <Table
          data-testid="open-breaches"
          size="small"
          rowKey="id"
          columns={openCols}
          dataSource={open.data?.items ?? []}
          loading={open.loading}
          pagination={open.pagination}
        />
      </Card>
      <Card size="small" title={t('lab.card.flight', '在途标本（按时限先后）')} style={{ marginTop: 12 }}>
        {overdue.error && <Alert type="error" showIcon message={overdue.error} />}
        <Table
          data-testid="in-flight-list"
          size="small"
          rowKey="id"
          columns={flightCols}
          dataSource={overdue.data?.items ?? []}
          loading={overdue.loading}
          pagination={overdue.pagination}
        />
      </Card>
      <Row gutter={[12, 12]} style={{ marginTop: 12 }}>
        <Col xs={24} lg={14}>
          <Card
            size="small"
            title={t('lab.card.turnaround', '周转时间')}
            extra={data && t('lab.period', '{from} 至 {to} 采样的标本', { from: chinaTime(data.from), to: chinaTime(data.to) })}
          >
            <Table
              data-testid="turnaround-table"
              size="small"
              rowKey={(r) => `${r.testCode}|${r.lab}`}
              columns={turnCols}
              dataSource={data?.turnaround ?? []}
              loading={!data && !error}
              pagination={localPages()}
              scroll={{ x: true }}
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('lab.card.rejections', '拒收率')}>
            <Table
              data-testid="rejection-table"
              size="small"
              rowKey={(r) => `${r.testCode}|${r.unit}`}
              columns={rejectCols}
              dataSource={data?.rejections ?? []}
              loading={!data && !error}
              pagination={localPages()}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
