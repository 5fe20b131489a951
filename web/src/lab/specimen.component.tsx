/**
 * 标本查询 (#/lab/specimens): specimens paged with the total, by state and in flight/overdue;
 * a specimen's page (#/lab/specimens/:barcode): its state and clock, the order, the timeline of
 * scans (who, when, where, what each carried), the custody chain's state (intact, or the first
 * broken link named), its breaches and flags.
 */
import { useEffect, useState } from 'react';
import { Alert, Card, Descriptions, Input, Select, Space, Switch, Table, Tag, Timeline, Typography, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { usePaged } from './hooks.js';
import { PageHeader } from '../shell/page-header.component.js';
import { navigate } from '../shell/router.js';
import { getSpecimen, listSpecimens, type EventView, type SpecimenDetail, type SpecimenView } from './lab.resource.js';
import {
  chinaTime,
  clock,
  flagLabel,
  interpretationLabel,
  legLabel,
  modeLabel,
  refusal,
  STATE_COLOURS,
  STATES,
  stateLabel,
  stepLabel,
} from './labels.js';

const crumbs = (extra: { title: string }[] = []) => [
  { title: t('nav.lab', '检测送检') },
  { title: t('nav.labSpecimens', '标本查询'), ...(extra.length ? { href: '#/lab/specimens' } : {}) },
  ...extra,
];

export function SpecimensPage() {
  const [state, setState] = useState<string>();
  const [overdue, setOverdue] = useState(false);
  const list = usePaged<SpecimenView>(
    (p, s) => listSpecimens({ ...p, state, overdue: overdue || undefined }, s),
    [state, overdue],
    (n) => t('lab.specimen.total', '共 {n} 份标本', { n }),
  );
  const columns: TableColumnsType<SpecimenView> = [
    {
      title: t('lab.col.barcode', '条码'),
      key: 'barcode',
      render: (_, r) => <a href={`#/lab/specimens/${encodeURIComponent(r.barcode)}`}>{r.barcode}</a>,
    },
    { title: t('lab.col.state', '状态'), key: 'state', render: (_, r) => <Tag color={STATE_COLOURS[r.state]}>{stateLabel(r.state)}</Tag> },
    { title: t('lab.col.test', '检测项目'), key: 'test', render: (_, r) => `${r.testCode} · ${modeLabel(r.mode)}` },
    { title: t('lab.col.collectingUnit', '采样单位'), dataIndex: 'collectingUnit' },
    { title: t('lab.col.collectedAt', '采样时间'), key: 'collected', render: (_, r) => chinaTime(r.collectedAt) },
    { title: t('lab.col.leg', '计时环节'), key: 'leg', render: (_, r) => legLabel(r.leg) },
    {
      title: t('lab.col.clock', '计时'),
      key: 'clock',
      render: (_, r) => {
        const c = clock(r.legDeadline);
        return <Typography.Text type={c.late ? 'danger' : undefined}>{c.text}</Typography.Text>;
      },
    },
  ];
  return (
    <>
      <PageHeader title={t('nav.labSpecimens', '标本查询')} crumbs={crumbs()} />
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search
          placeholder={t('lab.specimen.find', '按条码打开标本')}
          onSearch={(v) => v.trim() && navigate(`/lab/specimens/${encodeURIComponent(v.trim())}`)}
          style={{ width: 240 }}
        />
        <Select
          allowClear
          placeholder={t('lab.filter.state', '全部状态')}
          style={{ width: 160 }}
          value={state}
          onChange={setState}
          options={STATES.map((s) => ({ value: s, label: stateLabel(s) }))}
        />
        <Space>
          <Switch checked={overdue} onChange={setOverdue} />
          {t('lab.filter.overdue', '只看已超时')}
        </Space>
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error} />}
      <Table
        data-testid="specimen-list"
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.loading}
        pagination={list.pagination}
        scroll={{ x: true }}
      />
    </>
  );
}

/** What a scan carried, in words. */
function eventDetail(e: EventView): string {
  const d = e.detail as Record<string, unknown>;
  const parts: string[] = [];
  if (e.shipmentId) parts.push(t('lab.ev.shipment', '转运箱 {id}', { id: e.shipmentId }));
  if (typeof d.specimenType === 'string') parts.push(t('lab.ev.type', '标本类型 {v}', { v: d.specimenType }));
  if (typeof d.courier === 'string') parts.push(t('lab.ev.courier', '承运 {v}', { v: d.courier }));
  if (typeof d.sealNumber === 'string') parts.push(t('lab.ev.seal', '封条 {v}', { v: d.sealNumber }));
  if (typeof d.toLab === 'string') parts.push(t('lab.ev.toLab', '送往 {v}', { v: d.toLab }));
  if (d.accepted === true) parts.push(t('lab.ev.accepted', '接收'));
  if (d.accepted === false) parts.push(t('lab.ev.rejected', '拒收：{v}', { v: String(d.rejectReason ?? '') }));
  if (typeof d.condition === 'string') parts.push(t('lab.ev.condition', '状况 {v}', { v: d.condition }));
  if (typeof d.value === 'string')
    parts.push(t('lab.ev.value', '结果 {v}（{i}）', { v: d.value, i: interpretationLabel(d.interpretation as string | null) }));
  if (typeof d.deliveredTo === 'string') parts.push(t('lab.ev.deliveredTo', '送达 {v}', { v: d.deliveredTo }));
  return parts.join('，');
}

export function SpecimenDetailPage({ barcode }: { barcode: string }) {
  const [s, setS] = useState<SpecimenDetail>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    getSpecimen(barcode, ctrl.signal)
      .then(setS)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e, { 404: t('lab.specimen.notFound', '没有这个条码的标本') }));
      });
    return () => ctrl.abort();
  }, [barcode]);
  const c = clock(s?.legDeadline);
  return (
    <>
      <PageHeader title={t('lab.specimen.title', '标本 {barcode}', { barcode })} crumbs={crumbs([{ title: barcode }])} />
      {error && <Alert type="error" showIcon message={error} />}
      {s && (
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          <Card size="small">
            <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3 }}>
              <Descriptions.Item label={t('lab.col.state', '状态')}>
                <Tag color={STATE_COLOURS[s.state]} data-testid="detail-state">
                  {stateLabel(s.state)}
                </Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('lab.col.test', '检测项目')}>
                {s.order.testName ?? s.testCode} · {modeLabel(s.mode)}
              </Descriptions.Item>
              <Descriptions.Item label={t('lab.col.orderingUnit', '申请单位')}>{s.order.orderingUnit}</Descriptions.Item>
              <Descriptions.Item label={t('lab.col.leg', '计时环节')}>
                {legLabel(s.leg)}
                {s.leg && (
                  <Typography.Text type={c.late ? 'danger' : undefined} style={{ marginLeft: 8 }}>
                    {c.text}
                  </Typography.Text>
                )}
              </Descriptions.Item>
              <Descriptions.Item label={t('lab.col.referrals', '转送次数')}>{s.hop}</Descriptions.Item>
              {s.order.investigationId && (
                <Descriptions.Item label={t('lab.col.investigation', '所属流调')}>
                  <a href={`#/investigation/${s.order.investigationId}`}>{s.order.investigationId}</a>
                </Descriptions.Item>
              )}
              {s.result && (
                <Descriptions.Item label={t('lab.f.value', '检测结果')}>
                  {s.result.value}（{interpretationLabel(s.result.interpretation)}）
                </Descriptions.Item>
              )}
              {s.rejectedReason && <Descriptions.Item label={t('lab.f.rejectReason', '拒收原因')}>{s.rejectedReason}</Descriptions.Item>}
            </Descriptions>
          </Card>
          <Card size="small" title={t('lab.custody.title', '监管链')}>
            {s.custody.ok ? (
              <Alert
                type="success"
                showIcon
                data-testid="custody-state"
                message={t('lab.custody.ok', '完整：{n} 次交接逐条哈希相连，未被改动', { n: s.events.length })}
              />
            ) : (
              <Alert
                type="error"
                showIcon
                data-testid="custody-state"
                message={t('lab.custody.broken', '监管链断裂：第 {seq} 条记录有问题', { seq: s.custody.broken?.seq ?? '?' })}
                description={s.custody.broken?.problem}
              />
            )}
          </Card>
          <Card size="small" title={t('lab.timeline', '全程记录（{n} 次扫码）', { n: s.events.length })}>
            <Timeline
              data-testid="timeline"
              items={s.events.map((e) => ({
                color: e.toState === 'rejected' ? 'red' : 'green',
                children: (
                  <div data-testid="timeline-item">
                    <Typography.Text strong>{stepLabel(e.step)}</Typography.Text>
                    {' → '}
                    {stateLabel(e.toState)}
                    <div>
                      {t('lab.ev.who', '{when}，{who}，{unit}{where}', {
                        when: chinaTime(e.at),
                        who: e.performer ? `${e.performer}（${t('lab.ev.recordedBy', '{user} 登记', { user: e.byUser })}）` : e.byUser,
                        unit: e.unit,
                        where: e.location ? ` · ${e.location}` : '',
                      })}
                    </div>
                    {eventDetail(e) && <Typography.Text type="secondary">{eventDetail(e)}</Typography.Text>}
                  </div>
                ),
              }))}
            />
          </Card>
          {(s.breaches.length > 0 || s.flags.length > 0) && (
            <Card size="small" title={t('lab.specimen.problems', '超时与异常')}>
              <Table
                size="small"
                rowKey={(r) => r.key}
                pagination={{ pageSize: 10, showTotal: (n) => t('lab.total', '共 {n} 项', { n }) }}
                dataSource={[
                  ...s.breaches.map((b) => ({
                    key: `b${b.id}`,
                    what: t('lab.specimen.breach', '{leg} 超时', { leg: legLabel(b.leg) }),
                    unit: b.unit,
                    at: b.detectedAt,
                    detail: b.closedAt
                      ? t('lab.specimen.closed', '时限 {deadline}，{closed} 完成', {
                          deadline: chinaTime(b.deadline),
                          closed: chinaTime(b.closedAt),
                        })
                      : t('lab.specimen.open', '时限 {deadline}，仍未完成', { deadline: chinaTime(b.deadline) }),
                  })),
                  ...s.flags.map((f) => ({
                    key: `f${f.id}`,
                    what: flagLabel(f.kind),
                    unit: f.unit ?? '—',
                    at: f.raisedAt,
                    detail: f.detail,
                  })),
                ]}
                columns={[
                  { title: t('lab.col.what', '事项'), dataIndex: 'what' },
                  { title: t('lab.col.unit', '责任单位'), dataIndex: 'unit' },
                  { title: t('lab.col.when', '时间'), key: 'at', render: (_, r) => chinaTime(r.at) },
                  { title: t('lab.col.detail', '说明'), dataIndex: 'detail' },
                ]}
              />
            </Card>
          )}
        </Space>
      )}
    </>
  );
}
