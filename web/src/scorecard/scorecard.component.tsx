/**
 * 医防融合评估: a scorecard per institution or street for a period — one coloured cell per item
 * (value, points), the total and rank, a small trend chart per unit, and the tasks red cells opened
 * (closed automatically when a later computation finds the cell green).
 */
import { useCallback, useEffect, useState, type HTMLAttributes } from 'react';
import { App, Button, Card, Empty, Input, Segmented, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { EChart } from '../charts/echart.component.js';
import { t } from '../i18n/i18n.js';
import { ExportButtons } from '../shared/export-buttons.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  computeScorecard,
  getScorecard,
  getScorecards,
  getScorecardTasks,
  thisMonthInChina,
  type BandLevel,
  type ScorecardList,
  type ScorecardResult,
  type TaskList,
} from './scorecard.resource.js';

type Unit = ScorecardResult['units'][number];
type ScoreItem = ScorecardResult['scorecard']['items'][number];

/** Cell backgrounds: light enough for the text, distinct for red–green colour blindness with the ●▲■ marks. */
export const CELL_STYLE: Record<string, { background: string; mark: string }> = {
  green: { background: '#d9f7be', mark: '●' },
  yellow: { background: '#fff1b8', mark: '▲' },
  red: { background: '#ffccc7', mark: '■' },
};
const COLOUR_WORD: Record<string, [string, string]> = {
  green: ['sc.green', '达标'],
  yellow: ['sc.yellow', '预警'],
  red: ['sc.red', '未达标'],
};
const PAGE = 10;

function Trend({ unit }: { unit: Unit }) {
  if (!unit.trend.some((p) => p.total !== null)) return <span>—</span>;
  return (
    <EChart
      height={36}
      style={{ width: 120 }}
      ariaLabel={t('sc.trendOf', '{name} 得分趋势', { name: unit.name ?? unit.code })}
      testId={`sc-trend-${unit.code}`}
      option={{
        animation: false,
        grid: { left: 2, right: 2, top: 4, bottom: 4 },
        xAxis: { type: 'category', show: false, data: unit.trend.map((p) => p.period) },
        yAxis: { type: 'value', show: false, min: 0, max: 100 },
        tooltip: { trigger: 'axis', confine: true },
        series: [{ type: 'line', data: unit.trend.map((p) => p.total), connectNulls: true, symbolSize: 3, lineStyle: { width: 1.5 } }],
      }}
    />
  );
}

export function ScorecardPage() {
  const { message } = App.useApp();
  const [list, setList] = useState<ScorecardList | null>(null);
  const [id, setId] = useState<string>();
  const [level, setLevel] = useState<BandLevel>('institution');
  const [period, setPeriod] = useState(thisMonthInChina());
  const [data, setData] = useState<ScorecardResult | null>(null);
  const [tasks, setTasks] = useState<TaskList | null>(null);
  const [taskPage, setTaskPage] = useState(1);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    getScorecards(ctrl.signal)
      .then((l) => {
        setList(l);
        setId((cur) => cur ?? l.scorecards[0]?.id);
      })
      .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
    return () => ctrl.abort();
  }, [message]);

  const load = useCallback(
    (signal?: AbortSignal) => {
      if (!id) return;
      getScorecard(id, level, period, signal)
        .then(setData)
        .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
      getScorecardTasks(id, { level, status: 'open', limit: PAGE, offset: (taskPage - 1) * PAGE }, signal)
        .then(setTasks)
        .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
    },
    [id, level, period, taskPage, message],
  );
  useEffect(() => {
    const ctrl = new AbortController();
    load(ctrl.signal);
    return () => ctrl.abort();
  }, [load]);

  const compute = async () => {
    if (!id) return;
    setBusy(true);
    try {
      const r = await computeScorecard(id, level, period);
      setData(r);
      message.success(t('sc.computed', '已计算：新开整改任务 {o} 项，关闭 {c} 项', { o: r.tasksOpened, c: r.tasksClosed }));
      load();
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const items: ScoreItem[] = data?.scorecard.items ?? list?.scorecards.find((s) => s.id === id)?.items ?? [];
  const itemColumn = (it: ScoreItem) => ({
    key: it.key,
    title: (
      <Tooltip
        title={`${it.indicatorName}；${t('sc.target', '目标')} ${it.better === 'higher' ? '≥' : '≤'} ${it.target}%（${it.targetSource}）；${t('sc.source', '来源')}：${it.source}`}
      >
        <span>
          {t(`sc.item.${it.key}`, it.name)}
          <Typography.Text type="secondary" style={{ fontSize: 11, marginLeft: 4 }}>
            {t('sc.weight', '{w} 分', { w: it.weight })}
          </Typography.Text>
        </span>
      </Tooltip>
    ),
    onCell: (u: Unit) => {
      const c = u.cells.find((x) => x.item === it.key);
      return {
        style: c?.colour ? { background: CELL_STYLE[c.colour]!.background } : undefined,
        'data-testid': `sc-cell-${u.code}-${it.key}`,
        'data-colour': c?.colour ?? 'none',
      } as HTMLAttributes<HTMLTableCellElement>;
    },
    render: (_: unknown, u: Unit) => {
      const c = u.cells.find((x) => x.item === it.key);
      if (!c || c.value === null) return <Typography.Text type="secondary">—</Typography.Text>;
      const [key, zh] = COLOUR_WORD[c.colour!]!;
      return (
        <Tooltip title={`${c.numerator}/${c.denominator} · ${t(key, zh)} · ${t('sc.points', '得 {s} 分', { s: c.score ?? 0 })}`}>
          <span>
            {CELL_STYLE[c.colour!]!.mark} {c.value.toFixed(1)}%
          </span>
        </Tooltip>
      );
    },
  });

  return (
    <>
      <PageHeader
        title={t('sc.title', '医防融合评估')}
        crumbs={[{ title: t('nav.indicators', '指标与决策') }]}
        extra={
          <Space wrap>
            {list && list.scorecards.length > 1 && (
              <Select
                value={id}
                onChange={setId}
                style={{ width: 200 }}
                options={list.scorecards.map((s) => ({ value: s.id, label: s.name }))}
              />
            )}
            <Segmented
              value={level}
              onChange={(v) => setLevel(v as BandLevel)}
              options={[
                { value: 'institution', label: t('sc.institution', '机构') },
                { value: 'street', label: t('sc.street', '街道') },
              ]}
            />
            <Input.Search
              key={period}
              defaultValue={period}
              onSearch={(v) => v.trim() && setPeriod(v.trim())}
              style={{ width: 180 }}
              aria-label={t('rq.period', '统计期')}
              placeholder={t('rq.periodHint', '2025-03、2025-Q1 或 2025')}
            />
            {/* Disabled until the scorecard list has named the one on screen: a click before then did nothing. */}
            <Button type="primary" loading={busy} disabled={!id} onClick={() => void compute()}>
              {t('sc.compute', '计算')}
            </Button>
            {data?.computedAt && id && (
              <ExportButtons
                path={`/api/scorecards/${encodeURIComponent(id)}/file`}
                query={{ level, period }}
                testId="sc-export"
                formats={['pdf', 'xlsx', 'csv']}
              />
            )}
          </Space>
        }
      />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {data?.computedAt
          ? t(
              'sc.computedAt',
              '计算于 {at}。总分 = 100 × Σ(权重 × 达成度) ÷ 有数据项的权重之和；■ 红灯项自动生成整改任务，转绿后自动关闭。',
              {
                at: new Date(data.computedAt).toLocaleString(),
              },
            )
          : t('sc.notComputed', '本期尚未计算，点击“计算”。')}
      </Typography.Paragraph>
      <Table<Unit>
        size="small"
        rowKey="code"
        scroll={{ x: true }}
        dataSource={data?.units ?? []}
        locale={{ emptyText: <Empty description={t('sc.empty', '暂无数据')} /> }}
        pagination={(data?.units.length ?? 0) > 20 ? { pageSize: 20 } : false}
        columns={[
          { key: 'rank', title: t('sc.rank', '排名'), render: (_: unknown, u: Unit) => u.rank ?? '—', width: 60, fixed: 'left' },
          {
            key: 'unit',
            title: level === 'institution' ? t('sc.institution', '机构') : t('sc.street', '街道'),
            fixed: 'left',
            render: (_: unknown, u: Unit) => (
              <>
                {u.name ?? u.code}
                {u.openTasks > 0 && (
                  <Tag color="red" style={{ marginLeft: 6 }}>
                    {t('sc.openTasks', '整改 {n}', { n: u.openTasks })}
                  </Tag>
                )}
              </>
            ),
          },
          {
            key: 'total',
            title: t('sc.total', '总分'),
            render: (_: unknown, u: Unit) => (
              <strong data-testid={`sc-total-${u.code}`}>{u.total === null ? '—' : u.total.toFixed(1)}</strong>
            ),
          },
          { key: 'trend', title: t('sc.trend', '趋势'), render: (_: unknown, u: Unit) => <Trend unit={u} /> },
          ...items.map(itemColumn),
        ]}
      />
      <Card size="small" title={t('sc.tasks', '整改任务（未关闭）')} style={{ marginTop: 16 }}>
        <Table
          size="small"
          rowKey="id"
          dataSource={tasks?.tasks ?? []}
          pagination={{
            current: taskPage,
            pageSize: PAGE,
            total: tasks?.total ?? 0,
            onChange: setTaskPage,
            showTotal: (n) => t('sc.taskTotal', '共 {n} 项', { n }),
          }}
          columns={[
            { title: t('sc.owner', '责任单位'), render: (_: unknown, r) => r.ownerName ?? r.ownerCode, key: 'owner' },
            { title: t('sc.itemCol', '考核项'), render: (_: unknown, r) => t(`sc.item.${r.itemKey}`, r.itemName), key: 'item' },
            { title: t('sc.period', '期'), dataIndex: 'period' },
            {
              title: t('sc.openedValue', '开立时值'),
              dataIndex: 'openedValue',
              render: (v: number | null) => (v === null ? '—' : `${v}%`),
            },
            { title: t('sc.openedAt', '开立时间'), dataIndex: 'openedAt', render: (v: string) => new Date(v).toLocaleString() },
          ]}
        />
      </Card>
    </>
  );
}
