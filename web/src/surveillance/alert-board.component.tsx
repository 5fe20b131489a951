/**
 * 预警信号看板: the alert list with filters and a map of the district's streets coloured by alert
 * level, with the space-time scan's recent clusters drawn over it (scan-layer.ts) and a legend.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, Badge, Card, Col, Empty, Row, Select, Space, Table, Tabs, Tag, Typography, type TableColumnsType } from 'antd';
import { EChart } from '../charts/echart.component.js';
import { t } from '../i18n/i18n.js';
import { ExportButtons } from '../shared/export-buttons.component.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href, navigate } from '../shell/router.js';
import { LEVEL_COLOURS, actorLabel, formatDateTime, levelLabel, sourceLabel, statusLabel } from './labels.js';
import { DISTRICT_MAP, registerDistrictMap } from './map.js';
import type { AlertNotification, AlertPage, AlertSummary, GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { getGeography, getNotifications, listAlerts } from './surveillance.resource.js';
import {
  CLUSTER_COLOURS,
  CLUSTER_DAYS,
  clusterLayer,
  clusterText,
  listScanClusters,
  recentClusters,
  type MapCluster,
} from './scan-layer.js';

const LEVEL_RANK: Record<string, number> = { red: 3, orange: 2, yellow: 1 };
const PAGE_SIZE = 15;

export function LevelTag({ level }: { level: string }) {
  return (
    <Tag color={LEVEL_COLOURS[level] ?? 'default'} style={level === 'yellow' ? { color: '#614700' } : undefined} data-testid="alert-level">
      {levelLabel(level)}
    </Tag>
  );
}

export function AlertBoardPage({ status, level }: { status: string; level: string }) {
  const [page, setPage] = useState<AlertPage | null>(null);
  const [pageNo, setPageNo] = useState(1);
  const [openAlerts, setOpenAlerts] = useState<AlertSummary[]>([]);
  const [geo, setGeo] = useState<GeoFeatureCollection | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [news, setNews] = useState<AlertNotification[]>([]);
  const [clusters, setClusters] = useState<MapCluster[]>([]);

  // In-app notifications: the latest alert events, refreshed every 15 s.
  useEffect(() => {
    const ctrl = new AbortController();
    const load = () =>
      getNotifications(ctrl.signal)
        .then(setNews)
        .catch(() => undefined);
    void load();
    const timer = setInterval(load, 15_000);
    return () => {
      clearInterval(timer);
      ctrl.abort();
    };
  }, []);

  // A filter change starts again at the first page.
  useEffect(() => setPageNo(1), [status, level]);

  // The page of the list: worst first (open, past the 研判 deadline, level, agreeing sources, joint p).
  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    listAlerts({ status: status || undefined, level: level || undefined, limit: PAGE_SIZE, offset: (pageNo - 1) * PAGE_SIZE }, ctrl.signal)
      .then(setPage)
      .catch((e: Error) => !ctrl.signal.aborted && setError(e.message));
    return () => ctrl.abort();
  }, [status, level, pageNo]);

  // The map colours every street by its worst open alert, whatever page the list shows.
  useEffect(() => {
    const ctrl = new AbortController();
    listAlerts({ status: 'open', level: level || undefined, limit: 1000 }, ctrl.signal)
      .then((p) => setOpenAlerts(p.rows))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [level]);

  useEffect(() => {
    const ctrl = new AbortController();
    getGeography('street', ctrl.signal)
      .then((g) => {
        registerDistrictMap(g);
        setGeo(g);
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, []);

  // The scan's clusters of its latest run days (none when the scan has not run or found none).
  useEffect(() => {
    const ctrl = new AbortController();
    listScanClusters(ctrl.signal)
      .then((p) => setClusters(recentClusters(p.rows)))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, []);

  const mapOption = useMemo(() => {
    if (!geo || !geo.features.length) return null;
    const worst = new Map<string, AlertSummary>();
    for (const a of openAlerts) {
      if (['dismissed', 'closed'].includes(a.status)) continue;
      for (const code of a.areaCodes.length ? a.areaCodes : [a.areaCode]) {
        const cur = worst.get(code);
        if (!cur || (LEVEL_RANK[a.level] ?? 0) > (LEVEL_RANK[cur.level] ?? 0)) worst.set(code, a);
      }
    }
    // Streets are regions of one geo component, so the cluster circles share its zoom and pan.
    const layer = clusterLayer(clusters, geo);
    const streetLabel = new Map<string, string>();
    const regions = geo.features.map((f) => {
      const code = f.properties.code;
      const a = worst.get(code);
      const outline = layer.outlines.get(code);
      let label = a ? `${f.properties.name}：${levelLabel(a.level)} · ${a.title}` : f.properties.name;
      if (outline) label += `；${clusterText(outline.cluster)}`;
      streetLabel.set(code, label);
      return {
        name: code,
        itemStyle: {
          areaColor: a ? LEVEL_COLOURS[a.level] : '#e6f4f1',
          ...(outline ? { borderColor: outline.color, borderWidth: 3 } : {}),
        },
      };
    });
    const shortName = new Map(geo.features.map((f) => [f.properties.code, f.properties.name]));
    return {
      tooltip: {
        trigger: 'item',
        formatter: (p: { componentType?: string; name?: string; data?: { label?: string } }) =>
          p.componentType === 'geo' ? (streetLabel.get(p.name ?? '') ?? '') : (p.data?.label ?? ''),
      },
      geo: {
        map: DISTRICT_MAP,
        roam: true,
        tooltip: { show: true },
        label: { show: true, formatter: (p: { name?: string }) => shortName.get(p.name ?? '') ?? '', fontSize: 11 },
        itemStyle: { borderColor: '#fff', borderWidth: 1.5, areaColor: '#e6f4f1' },
        emphasis: { label: { show: true } },
        regions,
      },
      series: layer.series,
    };
  }, [geo, openAlerts, clusters]);

  const columns: TableColumnsType<AlertSummary> = [
    {
      title: t('surv.col.id', '编号'),
      dataIndex: 'id',
      width: 70,
      render: (id: number) => (
        <a href={href(`/surveillance/alerts/${id}`)} data-testid="alert-link">
          #{id}
        </a>
      ),
    },
    { title: t('surv.col.level', '级别'), dataIndex: 'level', width: 80, render: (l: string) => <LevelTag level={l} /> },
    {
      title: t('surv.col.title', '预警内容'),
      dataIndex: 'title',
      width: 260,
      render: (title: string, a) => <a href={href(`/surveillance/alerts/${a.id}`)}>{title}</a>,
    },
    {
      title: t('surv.col.sources', '证据来源'),
      dataIndex: 'sources',
      width: 130,
      render: (s: string[]) => s.map((x) => <Tag key={x}>{sourceLabel(x)}</Tag>),
    },
    {
      title: t('surv.col.evidence', '证据日期'),
      key: 'days',
      width: 120,
      // One day, or the first and last day of the evidence.
      render: (_, a) => {
        const first = a.firstEvidenceAt.slice(0, 10);
        const last = a.lastEvidenceAt.slice(0, 10);
        return (
          <span className="yf-nowrap">
            {first}
            {last !== first && (
              <>
                <br />
                {`～${last}`}
              </>
            )}
          </span>
        );
      },
    },
    {
      title: t('surv.col.status', '状态'),
      dataIndex: 'status',
      width: 130,
      render: (s: string, a) => (
        <Space size={4}>
          <Tag data-testid="alert-status">{statusLabel(s)}</Tag>
          {a.overdue && <Tag color="error">{t('surv.overdue', '超时')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('surv.col.due', '研判时限'),
      dataIndex: 'dueAt',
      width: 150,
      render: (d: string | null, a) =>
        d ? <Typography.Text type={a.overdue ? 'danger' : undefined}>{formatDateTime(d)}</Typography.Text> : '—',
    },
    { title: t('surv.col.created', '生成时间'), dataIndex: 'createdAt', width: 150, render: formatDateTime },
  ];

  const counts = page?.counts ?? {};
  const statusTabs = [
    { key: 'open', label: t('surv.filter.open', '未结束') },
    ...['new', 'triage', 'suspected', 'confirmed', 'response', 'dismissed', 'closed'].map((s) => ({ key: s, label: statusLabel(s) })),
  ];
  const allCount = Object.entries(counts)
    .filter(([k]) => k !== 'open' && k !== 'overdue')
    .reduce((n, [, v]) => n + v, 0);

  const setFilter = (key: 'status' | 'level', value: string | undefined) =>
    navigate('/surveillance/alerts', {
      status: key === 'status' ? value : status || undefined,
      level: key === 'level' ? value : level || undefined,
    });

  return (
    <div data-testid="alert-board">
      <PageHeader
        title={t('nav.alerts', '预警信号')}
        crumbs={[{ title: t('nav.surveillance', '传染病监测预警') }, { title: t('nav.alerts', '预警信号') }]}
        extra={
          <Space>
            <Select
              allowClear
              style={{ width: 120 }}
              placeholder={t('surv.filter.level', '级别')}
              value={level || undefined}
              onChange={(v) => setFilter('level', v)}
              options={['red', 'orange', 'yellow'].map((l) => ({ value: l, label: levelLabel(l) }))}
            />
          </Space>
        }
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Row gutter={16}>
        <Col xs={24} xl={8}>
          <Card size="small" title={t('surv.map', '辖区预警地图')} style={{ marginBottom: 16 }}>
            {mapOption ? (
              <EChart option={mapOption} height={380} testId="alert-map" ariaLabel={t('surv.map', '辖区预警地图')} />
            ) : (
              <Empty description={t('surv.noGeo', '尚未导入辖区边界：请在 数据接入 › 机构与地点 导入区划文件')} />
            )}
            <Space size={12} style={{ marginTop: 8 }} wrap data-testid="alert-map-legend">
              {['red', 'orange', 'yellow'].map((l) => (
                <Space key={l} size={4}>
                  <span style={{ display: 'inline-block', width: 12, height: 12, background: LEVEL_COLOURS[l] }} />
                  <Typography.Text type="secondary">{levelLabel(l)}</Typography.Text>
                </Space>
              ))}
              {(['evidence', 'listed'] as const).map((kind) => (
                <Space key={kind} size={4}>
                  <span
                    style={{
                      display: 'inline-block',
                      width: 12,
                      height: 12,
                      borderRadius: 6,
                      border: `2px solid ${CLUSTER_COLOURS[kind]}`,
                      background: `${CLUSTER_COLOURS[kind]}8c`,
                    }}
                  />
                  <Typography.Text type="secondary">
                    {kind === 'evidence'
                      ? t('surv.scan.evidence', '时空聚集（计入预警证据）')
                      : t('surv.scan.listed', '时空聚集（仅列出）')}
                  </Typography.Text>
                </Space>
              ))}
            </Space>
            <div style={{ marginTop: 8 }} data-testid="scan-clusters">
              {clusters.length ? (
                <>
                  <Typography.Text strong>
                    {t('surv.scan.title', '时空扫描聚集 {n} 处（截至 {day}）', {
                      n: clusters.length,
                      day: clusters.reduce((m, c) => (c.runDay > m ? c.runDay : m), clusters[0]!.runDay),
                    })}
                  </Typography.Text>
                  {clusters.slice(0, 5).map((c) => (
                    <div key={c.id} data-testid="scan-cluster">
                      <span
                        style={{
                          display: 'inline-block',
                          width: 8,
                          height: 8,
                          borderRadius: 4,
                          marginRight: 6,
                          background: c.evidence ? CLUSTER_COLOURS.evidence : CLUSTER_COLOURS.listed,
                        }}
                      />
                      <Typography.Text type="secondary">{clusterText(c)}</Typography.Text>
                    </div>
                  ))}
                </>
              ) : (
                <Typography.Text type="secondary">{t('surv.scan.none', '近 {n} 天无时空扫描聚集', { n: CLUSTER_DAYS })}</Typography.Text>
              )}
            </div>
          </Card>
          <Card size="small" title={t('surv.notifications', '最新动态')} data-testid="alert-notifications">
            {news.length ? (
              news.slice(0, 8).map((n) => (
                <div key={n.id} style={{ marginBottom: 6 }}>
                  <LevelTag level={n.level} />
                  <a href={href(`/surveillance/alerts/${n.alertId}`)}>#{n.alertId}</a>{' '}
                  <Typography.Text>
                    {n.action === 'created'
                      ? t('surv.created', '生成预警')
                      : n.action === 'evidence'
                        ? t('surv.newEvidence', '新增证据')
                        : statusLabel(n.to ?? '')}
                  </Typography.Text>{' '}
                  <Typography.Text type="secondary">
                    {formatDateTime(n.at)} · {actorLabel(n.actor)}
                  </Typography.Text>
                </div>
              ))
            ) : (
              <Typography.Text type="secondary">{t('surv.noNotifications', '暂无动态')}</Typography.Text>
            )}
          </Card>
        </Col>
        <Col xs={24} xl={16}>
          <Card
            size="small"
            title={t('surv.alertList', '预警列表')}
            extra={
              <Space size={12}>
                {counts.overdue ? (
                  <Typography.Text type="danger" data-testid="overdue-count">
                    {t('surv.overdueCount', '超时未研判')} {counts.overdue}
                  </Typography.Text>
                ) : null}
                <ExportButtons
                  path="/api/alerts/export"
                  query={{ status: status || undefined, level: level || undefined }}
                  testId="alerts-export"
                />
              </Space>
            }
          >
            <Tabs
              size="small"
              tabBarGutter={14}
              activeKey={status || 'all'}
              onChange={(k) => setFilter('status', k === 'all' ? undefined : k)}
              data-testid="status-tabs"
              items={[
                ...statusTabs.map((tab) => ({
                  key: tab.key,
                  label: (
                    <span>
                      {tab.label}{' '}
                      <Badge
                        size="small"
                        count={counts[tab.key] ?? 0}
                        showZero
                        overflowCount={9999}
                        color={tab.key === 'new' ? 'red' : '#8c8c8c'}
                      />
                    </span>
                  ),
                })),
                {
                  key: 'all',
                  label: (
                    <span>
                      {t('surv.filter.all', '全部')} <Badge size="small" count={allCount} showZero overflowCount={9999} color="#8c8c8c" />
                    </span>
                  ),
                },
              ]}
            />
            <Table
              rowKey="id"
              size="small"
              columns={columns}
              dataSource={page?.rows ?? []}
              loading={page === null && !error}
              pagination={{
                current: pageNo,
                pageSize: PAGE_SIZE,
                total: page?.total ?? 0,
                showSizeChanger: false,
                showTotal: (n) => t('surv.pageTotal', '共 {n} 条', { n }),
                onChange: setPageNo,
              }}
              data-testid="alert-table"
            />
          </Card>
        </Col>
      </Row>
    </div>
  );
}
