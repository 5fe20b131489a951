/** 监测概览: every signal's recent daily trend by street, with the days the detector alarmed. */
import { useEffect, useMemo, useState } from 'react';
import { Alert, Card, Col, Empty, Row, Select, Space, Tag } from 'antd';
import { EChart } from '../charts/echart.component.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { sourceLabel } from './labels.js';
import type { Overview } from '../../../src/surveillance/schemas.js';
import { getOverview } from './surveillance.resource.js';

function SignalCard({ s, days }: { s: Overview['signals'][number]; days: string[] }) {
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 36, right: 12, top: 12, bottom: 48 },
      xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: s.areas.map((a) => ({
        name: a.areaName,
        type: 'line',
        symbolSize: 6,
        data: a.counts.map((v, i) => ({
          value: v,
          symbol: a.alarms[i] ? 'triangle' : 'none',
          itemStyle: a.alarms[i] ? { color: '#cf1322' } : undefined,
        })),
      })),
    }),
    [s, days],
  );
  const alarms = s.areas.reduce((n, a) => n + a.alarms.filter(Boolean).length, 0);
  return (
    <Card
      size="small"
      title={s.label}
      extra={
        <Space size={4}>
          {s.source && <Tag>{sourceLabel(s.source)}</Tag>}
          {alarms > 0 && <Tag color="error">{t('surv.alarms', '{n} 次报警', { n: alarms })}</Tag>}
        </Space>
      }
      style={{ marginBottom: 16 }}
      data-testid="overview-signal"
    >
      <EChart option={option} height={220} ariaLabel={s.label} />
    </Card>
  );
}

export function SurveillanceOverviewPage() {
  const [days, setDays] = useState(28);
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    getOverview(days, ctrl.signal)
      .then(setData)
      .catch((e: Error) => !ctrl.signal.aborted && setError(e.message));
    return () => ctrl.abort();
  }, [days]);
  return (
    <div data-testid="surveillance-overview">
      <PageHeader
        title={t('nav.surveillanceOverview', '监测概览')}
        crumbs={[{ title: t('nav.surveillance', '传染病监测预警') }, { title: t('nav.surveillanceOverview', '监测概览') }]}
        extra={
          <Select
            value={days}
            style={{ width: 120 }}
            onChange={setDays}
            options={[14, 28, 56, 91].map((d) => ({ value: d, label: t('surv.lastDays', '近 {n} 天', { n: d }) }))}
          />
        }
      />
      {error && <Alert type="error" showIcon message={error} />}
      {data && !data.signals.length && <Empty description={t('surv.noData', '暂无监测数据')} />}
      {data && (
        <Row gutter={16}>
          {data.signals.map((s) => (
            <Col xs={24} lg={12} xxl={8} key={s.signal}>
              <SignalCard s={s} days={data.days} />
            </Col>
          ))}
        </Row>
      )}
    </div>
  );
}
