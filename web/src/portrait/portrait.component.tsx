/**
 * 健康画像: one indicator per street on the district map — crude, age-standardised or
 * empirical-Bayes smoothed — with the district rate, a sequential colour-blind-safe scale, and
 * suppressed streets grey and hatched. A table below gives the same figures in words; clicking
 * a street (on the map or in the table) opens its profile. CDC roles may list the residents
 * behind a street's cell.
 */
import { useEffect, useMemo, useState, type HTMLAttributes } from 'react';
import { MapChart } from 'echarts/charts';
import { GeoComponent, TooltipComponent } from 'echarts/components';
import {
  Alert,
  App,
  Button,
  Card,
  Empty,
  Input,
  Modal,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
  type TableColumnsType,
} from 'antd';
import { InfoCircleOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { EChart } from '../charts/echart.component.js';
import { echarts } from '../charts/echarts.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href, navigate } from '../shell/router.js';
import { classBreaks, colourOf, NO_DATA_FILL, SUPPRESSED_FILL } from './colour-scale.js';
import {
  getCellResidents,
  getPortraitMap,
  thisYearInChina,
  type CellResidents,
  type PortraitIndicator,
  type PortraitMap,
  type RateKind,
  type MapCell,
} from './portrait.resource.js';

echarts.use([MapChart, GeoComponent, TooltipComponent]);

export const PORTRAIT_MAP = 'yifang-portrait-streets';
const PERIOD = /^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/;

export const unitLabel = (unit: PortraitMap['indicator']['unit']) => (unit === 'percent' ? '%' : t('portrait.per100k', '/10万'));
export const show = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toLocaleString('zh-CN'));

const RATE_LABEL: Record<RateKind, [string, string]> = {
  crude: ['portrait.crude', '粗率'],
  standardised: ['portrait.standardised', '标化率'],
  smoothed: ['portrait.smoothed', '平滑率（经验贝叶斯）'],
};

function SuppressedTag() {
  return <Tag color="default">{t('portrait.suppressedTag', '已抑制')}</Tag>;
}

export function PortraitPage({ initialPeriod }: { initialPeriod?: string }) {
  const { message } = App.useApp();
  const [indicator, setIndicator] = useState<PortraitIndicator>('infectious-incidence');
  const [period, setPeriod] = useState(initialPeriod ?? thisYearInChina());
  const [periodText, setPeriodText] = useState(period);
  const [disease, setDisease] = useState<string>();
  const [rate, setRate] = useState<RateKind>('crude');
  const [data, setData] = useState<PortraitMap | null>(null);
  const [loading, setLoading] = useState(false);
  const [drill, setDrill] = useState<CellResidents | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    getPortraitMap({ indicator, period, disease }, ctrl.signal)
      .then((d) => {
        setData(d);
        setLoading(false);
        // Standardised rates exist only for some indicators: fall back to crude.
        if (!d.indicator.standardised) setRate((r) => (r === 'standardised' ? 'crude' : r));
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setLoading(false);
        message.error((e as Error).message);
      });
    return () => ctrl.abort();
  }, [indicator, period, disease, message]);

  const breaks = useMemo(() => classBreaks((data?.streets ?? []).map((s) => s[rate]).filter((v): v is number => v !== null)), [data, rate]);

  const mapOption = useMemo(() => {
    if (!data || !data.geography.features.length) return null;
    echarts.registerMap(PORTRAIT_MAP, {
      type: 'FeatureCollection',
      features: data.geography.features.map((f) => ({ ...f, properties: { ...f.properties, name: f.properties.code } })),
    } as never);
    const byCode = new Map(data.streets.map((s) => [s.code, s]));
    const unit = unitLabel(data.indicator.unit);
    return {
      aria: { enabled: true, decal: { show: false } },
      tooltip: { trigger: 'item', formatter: (p: { data?: { label: string } }) => p.data?.label ?? '' },
      series: [
        {
          type: 'map',
          map: PORTRAIT_MAP,
          roam: true,
          label: { show: true, fontSize: 11, formatter: (p: { data?: { short: string } }) => p.data?.short ?? '' },
          itemStyle: { borderColor: '#595959', borderWidth: 1 },
          emphasis: { label: { show: true }, itemStyle: { borderWidth: 2 } },
          data: data.geography.features.map((f) => {
            const s = byCode.get(f.properties.code);
            const v = s ? s[rate] : null;
            const hidden = !!s?.suppressed && !data.viewer.cdc;
            return {
              name: f.properties.code,
              short: f.properties.name,
              value: v ?? NaN,
              label: hidden
                ? `${f.properties.name}：${t('portrait.suppressedNote', '人数少于 {n}，已抑制', { n: data.minCell })}`
                : `${f.properties.name}：${show(v)}${v === null ? '' : unit}`,
              itemStyle: hidden
                ? {
                    areaColor: SUPPRESSED_FILL,
                    decal: { symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: Math.PI / 4, color: '#8c8c8c' },
                  }
                : { areaColor: colourOf(v, breaks) ?? NO_DATA_FILL },
            };
          }),
        },
      ],
    };
  }, [data, rate, breaks]);

  const openDrill = async (s: MapCell) => {
    try {
      setDrill(await getCellResidents({ indicator, street: s.code, period, disease }));
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  const unit = data ? unitLabel(data.indicator.unit) : '';
  const columns: TableColumnsType<MapCell> = [
    {
      title: t('portrait.street', '街道'),
      dataIndex: 'name',
      render: (_: unknown, s) => (
        <a href={href(`/portrait/streets/${s.code}`, { period })} data-testid={`portrait-street-${s.code}`}>
          {s.name ?? s.code}
        </a>
      ),
    },
    { title: t('portrait.numerator', '分子'), dataIndex: 'numerator', align: 'right', render: (v: number | null) => show(v) },
    { title: t('portrait.denominator', '分母'), dataIndex: 'denominator', align: 'right', render: (v: number | null) => show(v) },
    ...(['crude', 'standardised', 'smoothed'] as const).map((k) => ({
      title: `${t(...RATE_LABEL[k])}（${unit}）`,
      dataIndex: k,
      align: 'right' as const,
      render: (v: number | null, s: MapCell) => (s.suppressed && !data?.viewer.cdc ? <SuppressedTag /> : show(v)),
    })),
    {
      title: t('portrait.status', '说明'),
      key: 'status',
      render: (_: unknown, s) =>
        s.suppressed ? (
          <Typography.Text type="secondary">
            {s.suppression === 'complementary'
              ? t('portrait.complementary', '互补抑制（防止由合计反推）')
              : t('portrait.small', '人数少于 {n}', { n: data?.minCell ?? 5 })}
            {data?.viewer.cdc ? ` · ${t('portrait.cdcSees', '疾控可见')}` : ''}
          </Typography.Text>
        ) : null,
    },
    {
      title: t('portrait.residents', '人员明细'),
      key: 'drill',
      render: (_: unknown, s) =>
        data?.viewer.cdc || s.suppressed ? (
          <Button size="small" type="link" onClick={() => void openDrill(s)} data-testid={`portrait-drill-${s.code}`}>
            {t('portrait.drill', '下钻')}
          </Button>
        ) : null,
    },
  ];

  return (
    <div>
      <PageHeader title={t('portrait.title', '健康画像')} />
      <Card size="small" style={{ marginBottom: 12 }}>
        <Space wrap>
          <Select
            aria-label={t('portrait.indicator', '指标')}
            data-testid="portrait-indicator"
            style={{ minWidth: 280 }}
            value={indicator}
            onChange={(v: PortraitIndicator) => {
              setIndicator(v);
              setDisease(undefined);
            }}
            options={(data?.indicators ?? []).map((i) => ({ value: i.code, label: t(`portrait.ind.${i.code}`, i.name) }))}
          />
          <Input
            aria-label={t('portrait.period', '期间')}
            data-testid="portrait-period"
            style={{ width: 140 }}
            value={periodText}
            placeholder={t('portrait.periodHint', '2025、2025-Q1 或 2025-03')}
            status={PERIOD.test(periodText) ? undefined : 'error'}
            onChange={(e) => setPeriodText(e.target.value.trim())}
            onPressEnter={() => PERIOD.test(periodText) && setPeriod(periodText)}
            onBlur={() => PERIOD.test(periodText) && setPeriod(periodText)}
          />
          {indicator === 'infectious-incidence' && (
            <Select
              aria-label={t('portrait.disease', '病种')}
              allowClear
              style={{ minWidth: 180 }}
              placeholder={t('portrait.allDiseases', '全部法定传染病')}
              value={disease}
              onChange={(v: string | undefined) => setDisease(v)}
              options={(data?.diseases ?? []).map((d) => ({ value: d.key, label: d.name }))}
            />
          )}
          <Segmented
            data-testid="portrait-rate"
            value={rate}
            onChange={(v) => setRate(v as RateKind)}
            options={(['crude', 'standardised', 'smoothed'] as const).map((k) => ({
              value: k,
              label: t(...RATE_LABEL[k]),
              disabled: k === 'standardised' && !!data && !data.indicator.standardised,
            }))}
          />
        </Space>
      </Card>
      {data && (
        <Card
          size="small"
          loading={loading && !data}
          title={`${t(`portrait.ind.${data.indicator.code}`, data.indicator.name)} · ${data.period.label}`}
          extra={
            <span data-testid="portrait-district">
              {t('portrait.district', '全区')}：
              {data.district.suppressed && !data.viewer.cdc ? (
                <SuppressedTag />
              ) : (
                `${show(data.district[rate === 'smoothed' ? 'crude' : rate])}${unit}`
              )}
            </span>
          }
        >
          {mapOption ? (
            <EChart
              option={mapOption}
              height={420}
              testId="portrait-map"
              ariaLabel={t('portrait.mapLabel', '{name}分街道地图', { name: data.indicator.name })}
              onClick={(code) => navigate(`/portrait/streets/${code}`, { period })}
            />
          ) : (
            <Empty description={t('portrait.noGeo', '尚未导入街道边界：请在 数据接入 › 机构与地点 导入区划文件')} />
          )}
          <Space wrap size={12} style={{ marginTop: 8 }} data-testid="portrait-legend" aria-label={t('portrait.legend', '图例')}>
            {breaks.map((b) => (
              <Space key={b.colour} size={4}>
                <span style={{ display: 'inline-block', width: 14, height: 14, background: b.colour, border: '1px solid #bfbfbf' }} />
                <Typography.Text type="secondary">
                  {show(Math.round(b.from * 10) / 10)}–{show(Math.round(b.to * 10) / 10)}
                </Typography.Text>
              </Space>
            ))}
            <Space size={4}>
              <span
                style={{
                  display: 'inline-block',
                  width: 14,
                  height: 14,
                  border: '1px solid #bfbfbf',
                  background: `repeating-linear-gradient(45deg, ${SUPPRESSED_FILL}, ${SUPPRESSED_FILL} 3px, #8c8c8c 3px, #8c8c8c 4px)`,
                }}
              />
              <Typography.Text type="secondary">
                {t('portrait.legendSuppressed', '已抑制（少于 {n} 人）', { n: data.minCell })}
              </Typography.Text>
            </Space>
          </Space>
          <Alert
            style={{ marginTop: 8 }}
            type="info"
            showIcon
            data-testid="portrait-note"
            message={
              data.viewer.cdc
                ? t(
                    'portrait.noteCdc',
                    '疾控角色可见全部数值；标记“已抑制”的单元格对其他角色不显示（分子或分母为 1–{m} 人，及其互补单元格）。',
                    { m: data.minCell - 1 },
                  )
                : t('portrait.noteOther', '分子或分母为 1–{m} 人的街道已抑制（灰色斜线），为防止由全区合计反推，另有一个街道互补抑制。', {
                    m: data.minCell - 1,
                  })
            }
            description={
              <>
                {data.standardPopulation && (
                  <div>
                    {t('portrait.standardByWho', '标化人口：世界卫生组织世界标准人口（2000–2025）')}{' '}
                    <Tooltip title={`${data.standardPopulation.name} — ${data.standardPopulation.source}`}>
                      <InfoCircleOutlined aria-label={t('portrait.source', '出处')} />
                    </Tooltip>
                  </div>
                )}
                <div>
                  {t('portrait.smoothingByEb', '平滑：全局经验贝叶斯估计，人口越少的街道越向全区均值收缩。')}{' '}
                  <Tooltip title="Marshall RJ. Mapping disease and mortality rates using empirical Bayes estimators. J R Stat Soc C 1991;40:283–294">
                    <InfoCircleOutlined aria-label={t('portrait.source', '出处')} />
                  </Tooltip>
                </div>
              </>
            }
          />
          <Table<MapCell>
            style={{ marginTop: 12 }}
            size="small"
            rowKey="code"
            pagination={false}
            dataSource={data.streets}
            columns={columns}
            data-testid="portrait-table"
            onRow={(s) => ({ 'data-testid': `portrait-row-${s.code}` }) as HTMLAttributes<HTMLElement>}
          />
        </Card>
      )}
      <Modal open={!!drill} title={t('portrait.drillTitle', '单元格人员明细')} footer={null} onCancel={() => setDrill(null)} width={760}>
        {drill?.suppressed ? (
          <Alert
            type="warning"
            showIcon
            data-testid="portrait-drill-suppressed"
            message={t('portrait.drillSuppressed', '该单元格人数少于 {n}，已抑制，不提供人员明细。', { n: data?.minCell ?? 5 })}
          />
        ) : drill?.via ? (
          <Typography.Paragraph>
            {t('portrait.drillVia', '该指标的人员明细由慢病与家庭医生模块提供：')}
            <Typography.Text code>{drill.via}</Typography.Text>
          </Typography.Paragraph>
        ) : (
          <Table
            size="small"
            rowKey={(r) => `${r.patientId ?? ''}-${r.name ?? ''}-${r.diagnosedOn ?? ''}`}
            dataSource={drill?.residents ?? []}
            pagination={{ pageSize: 10 }}
            columns={[
              { title: t('portrait.name', '姓名'), dataIndex: 'name' },
              { title: t('portrait.age', '年龄'), dataIndex: 'age' },
              { title: t('portrait.diseaseCol', '病种'), dataIndex: 'disease' },
              { title: t('portrait.diagnosedOn', '诊断日期'), dataIndex: 'diagnosedOn' },
            ]}
          />
        )}
      </Modal>
    </div>
  );
}
