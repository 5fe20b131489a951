/** Trend charts on the record: blood pressure, glucose, weight/BMI, each with reference lines. */
import { useMemo } from 'react';
import { Card, Empty, Space, Typography } from 'antd';
import { LineChartOutlined } from '@ant-design/icons';
import { EChart } from '../charts/echart.component.js';
import type { EChartsOption } from '../charts/echarts.js';
import { t, useLang } from '../i18n/i18n.js';
import type { Point, RecordModel } from './record.model.js';

const SYSTOLIC_LIMIT = 140;
const DIASTOLIC_LIMIT = 90;
const GLUCOSE_LIMIT = 7.0;
/** Chinese adult BMI cut-offs (WS/T 428): 24 overweight, 28 obese. */
const BMI_OVERWEIGHT = 24;
const BMI_OBESE = 28;

interface AxisExtent {
  min: number;
  max: number;
}

function dataZoom(points: number): EChartsOption['dataZoom'] {
  return points > 12 ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }] : [];
}

function referenceLine(value: number, color: string, label: string) {
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { type: 'dashed', color, width: 1.5 },
    label: { formatter: label, position: 'insideEndTop', color },
    data: [{ yAxis: value }],
  };
}

const baseTooltip = {
  trigger: 'axis',
  valueFormatter: (value: unknown) => (typeof value === 'number' ? String(Math.round(value * 100) / 100) : String(value)),
};

function timeAxis() {
  return {
    type: 'time',
    axisLabel: {
      hideOverlap: true,
      formatter: { year: '{yyyy}', month: '{yyyy}-{MM}', day: '{MM}-{dd}', hour: '{HH}:{mm}', minute: '{HH}:{mm}' },
    },
  };
}

function lineSeries(name: string, data: Point[], color: string, extra: Record<string, unknown> = {}) {
  return { name, type: 'line', data, color, symbolSize: 6, showSymbol: data.length < 60, connectNulls: true, ...extra };
}

function ChartCard({ title, children, extra }: { title: string; children: React.ReactNode; extra?: React.ReactNode }) {
  return (
    <Card
      size="small"
      title={
        <Space>
          <LineChartOutlined />
          {title}
        </Space>
      }
      extra={extra}
      className="yf-chart-card"
    >
      {children}
    </Card>
  );
}

export function BloodPressureChart({ systolic, diastolic }: { systolic: Point[]; diastolic: Point[] }) {
  const lang = useLang();
  const option = useMemo<EChartsOption>(() => {
    const sysName = t('chart.systolic', '收缩压');
    const diaName = t('chart.diastolic', '舒张压');
    return {
      animationDuration: 400,
      tooltip: baseTooltip,
      legend: { top: 0, data: [sysName, diaName] },
      grid: { left: 48, right: 56, top: 32, bottom: systolic.length > 12 ? 48 : 28 },
      xAxis: timeAxis(),
      yAxis: {
        type: 'value',
        name: 'mmHg',
        min: (v: AxisExtent) => Math.max(0, Math.min(60, Math.floor((v.min - 10) / 10) * 10)),
        max: (v: AxisExtent) => Math.max(160, Math.ceil((v.max + 10) / 10) * 10),
      },
      dataZoom: dataZoom(systolic.length),
      series: [
        lineSeries(sysName, systolic, '#d4380d', { markLine: referenceLine(SYSTOLIC_LIMIT, '#d4380d', `${SYSTOLIC_LIMIT}`) }),
        lineSeries(diaName, diastolic, '#1677ff', { markLine: referenceLine(DIASTOLIC_LIMIT, '#1677ff', `${DIASTOLIC_LIMIT}`) }),
      ],
    };
    // `lang` is a dependency because the labels are translated while the option is built.
  }, [systolic, diastolic, lang]);

  return (
    <ChartCard
      title={t('chart.bp', '血压趋势')}
      extra={<Typography.Text type="secondary">{t('chart.bpReference', '参考线 140/90 mmHg')}</Typography.Text>}
    >
      {systolic.length || diastolic.length ? (
        <EChart option={option} testId="bp-chart" height={260} ariaLabel={t('chart.bp', '血压趋势')} />
      ) : (
        <Empty data-testid="bp-empty" image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('chart.noBp', '暂无血压记录')} />
      )}
    </ChartCard>
  );
}

export function GlucoseChart({ glucose, fasting }: { glucose: Point[]; fasting: Point[] }) {
  const lang = useLang();
  const option = useMemo<EChartsOption>(() => {
    const fastingName = t('chart.fastingGlucose', '空腹血糖');
    const otherName = t('chart.glucose', '血糖');
    const series = [];
    if (fasting.length) series.push(lineSeries(fastingName, fasting, '#722ed1'));
    if (glucose.length) series.push(lineSeries(otherName, glucose, '#fa8c16'));
    if (series[0]) series[0] = { ...series[0], markLine: referenceLine(GLUCOSE_LIMIT, '#cf1322', GLUCOSE_LIMIT.toFixed(1)) };
    const count = Math.max(fasting.length, glucose.length);
    return {
      animationDuration: 400,
      tooltip: baseTooltip,
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 32, bottom: count > 12 ? 48 : 28 },
      xAxis: timeAxis(),
      yAxis: {
        type: 'value',
        name: 'mmol/L',
        min: (v: AxisExtent) => Math.max(0, Math.floor((Math.min(v.min, 4) - 1) / 2) * 2),
        max: (v: AxisExtent) => Math.max(9, Math.ceil(v.max + 1)),
      },
      dataZoom: dataZoom(count),
      series,
    };
  }, [glucose, fasting, lang]);

  return (
    <ChartCard
      title={t('chart.glucoseTrend', '血糖趋势')}
      extra={<Typography.Text type="secondary">{t('chart.glucoseReference', '参考线 7.0 mmol/L')}</Typography.Text>}
    >
      {glucose.length || fasting.length ? (
        <EChart option={option} testId="glucose-chart" height={240} ariaLabel={t('chart.glucoseTrend', '血糖趋势')} />
      ) : (
        <Empty data-testid="glucose-empty" image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('chart.noGlucose', '暂无血糖记录')} />
      )}
    </ChartCard>
  );
}

export function WeightBmiChart({ weight, bmi }: { weight: Point[]; bmi: Point[] }) {
  const lang = useLang();
  const option = useMemo<EChartsOption>(() => {
    const weightName = t('chart.weight', '体重 (kg)');
    const bmiName = t('chart.bmi', 'BMI');
    const count = Math.max(weight.length, bmi.length);
    const series = [];
    if (weight.length) series.push(lineSeries(weightName, weight, '#13a8a8', { yAxisIndex: 0 }));
    if (bmi.length) {
      series.push(
        lineSeries(bmiName, bmi, '#eb2f96', {
          yAxisIndex: 1,
          markLine: {
            ...referenceLine(BMI_OVERWEIGHT, '#faad14', `${BMI_OVERWEIGHT}`),
            data: [
              { yAxis: BMI_OVERWEIGHT },
              { yAxis: BMI_OBESE, lineStyle: { color: '#cf1322' }, label: { formatter: `${BMI_OBESE}`, color: '#cf1322' } },
            ],
          },
        }),
      );
    }
    return {
      animationDuration: 400,
      tooltip: baseTooltip,
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 32, bottom: count > 12 ? 48 : 28 },
      xAxis: timeAxis(),
      yAxis: [
        { type: 'value', name: 'kg', scale: true, show: weight.length > 0 },
        {
          type: 'value',
          name: 'BMI',
          min: (v: AxisExtent) => Math.max(0, Math.floor(Math.min(v.min, 18) - 2)),
          max: (v: AxisExtent) => Math.max(30, Math.ceil(v.max + 2)),
          splitLine: { show: false },
          show: bmi.length > 0,
        },
      ],
      dataZoom: dataZoom(count),
      series,
    };
  }, [weight, bmi, lang]);

  if (!weight.length && !bmi.length) return null;
  return (
    <ChartCard
      title={t('chart.weightTrend', '体重/BMI 趋势')}
      extra={<Typography.Text type="secondary">{t('chart.bmiReference', 'BMI 参考线 24 / 28')}</Typography.Text>}
    >
      <EChart option={option} testId="weight-chart" height={240} ariaLabel={t('chart.weightTrend', '体重/BMI 趋势')} />
    </ChartCard>
  );
}

export function VitalCharts({ record }: { record: RecordModel }) {
  return (
    <div className="yf-charts">
      <BloodPressureChart systolic={record.systolic} diastolic={record.diastolic} />
      <GlucoseChart glucose={record.glucose} fasting={record.fastingGlucose} />
      <WeightBmiChart weight={record.weight} bmi={record.bmi} />
    </div>
  );
}
