/** 指标: 规范管理率, 控制率, 签约覆盖率, 疫苗接种率 with definitions; each figure drills down to residents. */
import { useCallback, useEffect, useState } from 'react';
import { App, Card, Drawer, Input, Segmented, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { t } from '../i18n/i18n.js';
import { ExportButtons } from '../shared/export-buttons.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { DerivingBanner } from '../shell/deriving-banner.component.js';
import { getIndicatorResidents, getIndicators, type Indicators, type IndicatorValue } from '../chronic/chronic.resource.js';
import { populationLabel } from '../chronic/labels.js';
import { DataQualityRates } from './data-quality-rates.component.js';

type Definition = Indicators['definitions'][number];
/** Definitions come from the server in Chinese; other languages use the keys ind.def.<code>.*. */
const defText = (d: Definition, part: 'name' | 'numerator' | 'denominator') => t(`ind.def.${d.code}.${part}`, d[part]);
/** Contract coverage groups by key population; vaccine coverage by dose (a code such as MMR-1). */
const yesNo = (b: unknown) => (b ? t('ind.yes', '是') : t('ind.no', '否'));

/** A resident's figures behind an indicator, in words (随访 6 次；全部按时：是；达标：否). */
function detailText(d: Record<string, unknown> | undefined, drill: IndicatorValue | null): string {
  if (!d) return '';
  const parts: string[] = [];
  if (typeof d.followUps === 'number') parts.push(t('ind.d.followUps', '随访 {n} 次', { n: d.followUps }));
  if ('allOnTime' in d) parts.push(`${t('ind.d.allOnTime', '全部按时')}：${yesNo(d.allOnTime)}`);
  if ('controlled' in d && d.controlled !== null) parts.push(`${t('ind.d.controlled', '控制达标')}：${yesNo(d.controlled)}`);
  if (typeof d.dose === 'string') parts.push(drill?.population === d.dose && drill.populationLabel ? drill.populationLabel : d.dose);
  return parts.join('；');
}

const populationText = (v: IndicatorValue) =>
  v.population && v.indicator === 'contract-coverage' ? populationLabel(v.population) : (v.populationLabel ?? v.population ?? '');

export function IndicatorsPage() {
  const { message } = App.useApp();
  const [period, setPeriod] = useState(String(new Date().getFullYear()));
  const [groupBy, setGroupBy] = useState('total');
  const [data, setData] = useState<Indicators | null>(null);
  const [drill, setDrill] = useState<IndicatorValue | null>(null);
  const [rows, setRows] = useState<Awaited<ReturnType<typeof getIndicatorResidents>>['rows']>([]);
  const load = useCallback(
    () =>
      getIndicators({ period, groupBy })
        .then(setData)
        .catch((e: Error) => message.error(e.message)),
    [period, groupBy, message],
  );
  useEffect(() => void load(), [load]);
  // Bumped when the processors have worked through a backlog: the quality figures are fetched again.
  const [round, setRound] = useState(0);
  const reloadAll = useCallback(() => {
    setRound((r) => r + 1);
    void load();
  }, [load]);
  useEffect(() => {
    if (!drill) return;
    getIndicatorResidents(drill.indicator, { period, groupBy, group: drill.group, population: drill.population })
      .then((r) => setRows(r.rows))
      .catch((e: Error) => message.error(e.message));
  }, [drill, period, groupBy, message]);
  const name = (code: string) => {
    const d = data?.definitions.find((x) => x.code === code);
    return d ? defText(d, 'name') : code;
  };
  return (
    <>
      <PageHeader
        title={t('ind.title', '医防指标')}
        crumbs={[{ title: t('nav.indicators', '指标与决策') }]}
        extra={
          <Space>
            <Input.Search
              defaultValue={period}
              onSearch={setPeriod}
              style={{ width: 240 }}
              placeholder={t('ind.periodHint', '2025 或 2025-01-01/2025-06-30')}
            />
            <Segmented
              value={groupBy}
              onChange={(v) => setGroupBy(String(v))}
              options={[
                { value: 'total', label: t('ind.total', '全区') },
                { value: 'street', label: t('ind.street', '街道') },
                { value: 'organization', label: t('ind.centre', '中心') },
                { value: 'team', label: t('ind.team', '团队') },
                { value: 'doctor', label: t('ind.doctor', '医生') },
              ]}
            />
            <ExportButtons path="/api/indicators/file" query={{ period, groupBy }} testId="ind-export" formats={['xlsx', 'pdf', 'csv']} />
          </Space>
        }
      />
      <DerivingBanner onCaughtUp={reloadAll} />
      <Space direction="vertical" style={{ width: '100%' }}>
        <DataQualityRates key={round} />
        {(data?.definitions ?? []).map((def) => {
          const values = data!.values.filter((v) => v.indicator === def.code);
          return (
            <Card
              key={def.code}
              size="small"
              title={
                <Tooltip
                  title={`${t('ind.numerator', '分子')}: ${defText(def, 'numerator')}; ${t('ind.denominator', '分母')}: ${defText(def, 'denominator')} (${def.source})`}
                >
                  <span>{defText(def, 'name')}</span>
                </Tooltip>
              }
            >
              <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
                {t('ind.numerator', '分子')}: {defText(def, 'numerator')}
                {'\u3000'}
                {t('ind.denominator', '分母')}: {defText(def, 'denominator')}
                <br />
                {t('ind.target', '目标')}: {def.target === null ? t('ind.noTarget', '无全国统一目标值') : `≥ ${def.target}%`}
                {def.targetSource ? `（${def.targetSource}）` : ''}
              </Typography.Paragraph>
              <Table
                size="small"
                pagination={values.length > 12 ? { pageSize: 12 } : false}
                rowKey={(v) => `${v.group}-${v.population ?? ''}`}
                dataSource={values}
                columns={[
                  { title: t('ind.group', '分组'), dataIndex: 'group', render: (g: string, v: IndicatorValue) => v.groupName ?? g },
                  ...(values.some((v) => v.population)
                    ? [
                        {
                          title: t('ind.population', '人群/剂次'),
                          dataIndex: 'population',
                          render: (_: unknown, v: IndicatorValue) => populationText(v),
                        },
                      ]
                    : []),
                  { title: t('ind.numerator', '分子'), dataIndex: 'numerator' },
                  { title: t('ind.denominator', '分母'), dataIndex: 'denominator' },
                  {
                    title: t('ind.value', '率'),
                    dataIndex: 'value',
                    render: (v: number | null, r: IndicatorValue) => (
                      <a onClick={() => setDrill(r)}>
                        {v === null ? '—' : `${v.toFixed(1)}%`}
                        {v !== null && def.target !== null && !r.population && (
                          <Tag color={v >= def.target ? 'green' : 'orange'} style={{ marginLeft: 8 }}>
                            {v >= def.target ? t('ind.met', '达标') : t('ind.below', '未达标')}
                          </Tag>
                        )}
                      </a>
                    ),
                  },
                ]}
              />
            </Card>
          );
        })}
      </Space>
      <Drawer
        open={!!drill}
        width={640}
        onClose={() => setDrill(null)}
        title={
          drill
            ? `${name(drill.indicator)} · ${drill.groupName ?? drill.group}${drill.population ? ` · ${populationText(drill)}` : ''}`
            : ''
        }
      >
        <Table
          size="small"
          rowKey="patientId"
          dataSource={rows}
          columns={[
            {
              title: t('chronic.col.name', '姓名'),
              dataIndex: 'name',
              render: (v: string | null, r) => <a href={`#/residents/${r.patientId}`}>{v ?? r.patientId}</a>,
            },
            {
              title: t('ind.inNumerator', '计入分子'),
              dataIndex: 'inNumerator',
              render: (b: boolean) => (b ? <Tag color="green">{t('ind.yes', '是')}</Tag> : <Tag>{t('ind.no', '否')}</Tag>),
            },
            { title: t('ind.detail', '明细'), dataIndex: 'detail', render: (d?: Record<string, unknown>) => detailText(d, drill) },
          ]}
        />
      </Drawer>
    </>
  );
}
