/**
 * 报告质量: per reporting facility, the five reporting-quality rates of a month, quarter or year
 * (及时报告率, 报告卡完整率, 重卡率, 审核及时率, 订正率) with numerator and denominator; a figure
 * opens the cards behind it (paged), each a link to the card.
 */
import { useCallback, useEffect, useState } from 'react';
import { App, Drawer, Input, Segmented, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  getReportingQuality,
  getReportingQualityCards,
  thisMonthInChina,
  type ReportingQualityCards,
  type ReportingQualityCode,
  type ReportingQualityList,
} from './scorecard.resource.js';

type QualityFacilityRow = ReportingQualityList['facilities'][number];
type Definition = ReportingQualityList['definitions'][number];
interface Drill {
  facility: string;
  facilityName: string;
  code: ReportingQualityCode;
  numerator?: 'true' | 'false';
}

const PAGE = 20;
export const rateName = (d: Definition) => t(`rq.def.${d.code}`, d.name);
const pctText = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)}%`);
const when = (iso: string | null) => (iso ? new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ') : '—');

export function ReportingQualityPage({ initialPeriod }: { initialPeriod?: string }) {
  const { message } = App.useApp();
  const [period, setPeriod] = useState(initialPeriod ?? thisMonthInChina());
  const [data, setData] = useState<ReportingQualityList | null>(null);
  const [drill, setDrill] = useState<Drill | null>(null);
  const [page, setPage] = useState(1);
  const [cards, setCards] = useState<ReportingQualityCards | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    getReportingQuality(period, ctrl.signal)
      .then(setData)
      .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
    return () => ctrl.abort();
  }, [period, message]);

  useEffect(() => {
    if (!drill) return undefined;
    const ctrl = new AbortController();
    getReportingQualityCards(
      { period, facility: drill.facility, indicator: drill.code, numerator: drill.numerator, limit: PAGE, offset: (page - 1) * PAGE },
      ctrl.signal,
    )
      .then(setCards)
      .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
    return () => ctrl.abort();
  }, [drill, page, period, message]);

  const open = useCallback((f: QualityFacilityRow, code: ReportingQualityCode, numerator?: 'true' | 'false') => {
    setCards(null);
    setPage(1);
    setDrill({ facility: f.facility, facilityName: f.name ?? f.facility, code, numerator });
  }, []);

  const defs = data?.definitions ?? [];
  const rateColumn = (d: Definition) => ({
    key: d.code,
    title: (
      <Tooltip title={`${t('ind.numerator', '分子')}: ${d.numerator}; ${t('ind.denominator', '分母')}: ${d.denominator}（${d.source}）`}>
        <span>{rateName(d)}</span>
      </Tooltip>
    ),
    render: (_: unknown, f: QualityFacilityRow) => {
      const r = f.rates.find((x) => x.code === d.code)!;
      // The figure that needs attention: the cards outside the numerator (higher is better) or inside it (lower is better).
      const attention = d.better === 'higher' ? 'false' : 'true';
      return (
        <Space size={4} direction="vertical">
          <a onClick={() => open(f, d.code)} data-testid={`rq-${f.facility || 'district'}-${d.code}`}>
            {pctText(r.value)}
          </a>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {r.numerator}/{r.denominator}
            {f.facility && r.denominator > 0 ? (
              <a style={{ marginLeft: 6 }} onClick={() => open(f, d.code, attention)}>
                {d.better === 'higher' ? t('rq.notMet', '未达') : t('rq.cases', '明细')}
              </a>
            ) : null}
          </Typography.Text>
        </Space>
      );
    },
  });

  const rows = data ? data.facilities : [];
  return (
    <>
      <PageHeader
        title={t('rq.title', '报告质量')}
        crumbs={[{ title: t('nav.indicators', '指标与决策') }]}
        extra={
          <Space>
            <Segmented
              value={period.includes('Q') ? 'quarter' : period.length === 4 ? 'year' : 'month'}
              onChange={(v) => {
                const y = period.slice(0, 4);
                setPeriod(v === 'year' ? y : v === 'quarter' ? `${y}-Q1` : `${y}-01`);
              }}
              options={[
                { value: 'month', label: t('rq.month', '月') },
                { value: 'quarter', label: t('rq.quarter', '季') },
                { value: 'year', label: t('rq.year', '年') },
              ]}
            />
            <Input.Search
              key={period}
              defaultValue={period}
              onSearch={(v) => v.trim() && setPeriod(v.trim())}
              style={{ width: 200 }}
              placeholder={t('rq.periodHint', '2025-03、2025-Q1 或 2025')}
              aria-label={t('rq.period', '统计期')}
            />
          </Space>
        }
      />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t(
          'rq.note',
          '按报告单位、首次报告时间（北京时间）所在期统计初次报告卡。时限与审核要求依《传染病信息报告管理规范（2015年版）》：甲类及按甲类管理的乙类 2 小时，其他 24 小时。',
        )}
      </Typography.Paragraph>
      <Table<QualityFacilityRow>
        size="small"
        rowKey={(f) => f.facility || '(none)'}
        dataSource={rows}
        pagination={rows.length > 20 ? { pageSize: 20 } : false}
        summary={() =>
          data && data.facilities.length > 0 ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>
                <strong>{t('rq.district', '全区')}</strong>
              </Table.Summary.Cell>
              <Table.Summary.Cell index={1}>{data.district.reported}</Table.Summary.Cell>
              {defs.map((d, i) => {
                const r = data.district.rates.find((x) => x.code === d.code)!;
                return (
                  <Table.Summary.Cell key={d.code} index={i + 2}>
                    {pctText(r.value)} ({r.numerator}/{r.denominator})
                  </Table.Summary.Cell>
                );
              })}
            </Table.Summary.Row>
          ) : null
        }
        columns={[
          {
            key: 'facility',
            title: t('rq.facility', '报告单位'),
            render: (_: unknown, f: QualityFacilityRow) => f.name ?? (f.facility || '—'),
          },
          {
            key: 'reported',
            title: t('rq.reported', '报告卡数'),
            render: (_: unknown, f: QualityFacilityRow) => (
              <>
                {f.reported}
                {f.awaitingReview > 0 && (
                  <Tag color="orange" style={{ marginLeft: 6 }}>
                    {t('rq.awaiting', '待审核 {n}', { n: f.awaitingReview })}
                  </Tag>
                )}
              </>
            ),
          },
          ...defs.map(rateColumn),
        ]}
      />
      <Drawer
        open={!!drill}
        width={760}
        onClose={() => setDrill(null)}
        title={
          drill
            ? `${drill.facilityName} · ${rateName(defs.find((d) => d.code === drill.code)!)}${
                drill.numerator === 'true'
                  ? ` · ${t('rq.inNumerator', '分子')}`
                  : drill.numerator === 'false'
                    ? ` · ${t('rq.outNumerator', '未计入分子')}`
                    : ''
              }`
            : ''
        }
      >
        <Table
          size="small"
          rowKey="cardId"
          dataSource={cards?.cards ?? []}
          loading={!cards}
          pagination={{
            current: page,
            pageSize: PAGE,
            total: cards?.total ?? 0,
            onChange: setPage,
            showTotal: (n) => t('rq.total', '共 {n} 张', { n }),
          }}
          columns={[
            {
              title: t('rq.card', '卡片编号'),
              dataIndex: 'cardId',
              render: (id: string) => <a href={`#/surveillance/reports?open=${encodeURIComponent(id)}`}>{id}</a>,
            },
            {
              title: t('rq.resident', '患者'),
              dataIndex: 'name',
              render: (v: string | null, r) => (r.patientId ? <a href={`#/residents/${r.patientId}`}>{v ?? r.patientId}</a> : (v ?? '—')),
            },
            { title: t('rq.disease', '疾病'), dataIndex: 'diseaseName' },
            { title: t('rq.reportedAt', '报告时间'), dataIndex: 'reportedAt', render: when },
            {
              title: t('rq.flags', '情况'),
              key: 'flags',
              render: (_: unknown, r) => (
                <Space size={2} wrap>
                  {!r.timely && <Tag color="red">{t('rq.late', '迟报')}</Tag>}
                  {r.missing.length > 0 && <Tag color="orange">{t('rq.missing', '缺 {f}', { f: r.missing.join('、') })}</Tag>}
                  {r.duplicateOf && <Tag>{t('rq.duplicateOf', '重卡（{id}）', { id: r.duplicateOf })}</Tag>}
                  {r.firstReviewedAt ? (
                    !r.reviewTimely && <Tag color="gold">{t('rq.lateReview', '审核超 {h} 小时', { h: r.reviewLimitHours })}</Tag>
                  ) : (
                    <Tag color="gold">{t('rq.unreviewed', '未审核')}</Tag>
                  )}
                  {r.corrected && <Tag color="blue">{t('rq.corrected', '已订正')}</Tag>}
                </Space>
              ),
            },
          ]}
        />
      </Drawer>
    </>
  );
}
