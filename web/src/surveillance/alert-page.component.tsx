/**
 * 预警详情: what the alert is, every contributing signal's time series with its threshold, the
 * cases behind it on a map and in a line list, the workflow steps (研判 → 处置) and the
 * hospital–CDC discussion (研判会商).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Form,
  Input,
  List,
  Modal,
  Row,
  Space,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { EChart } from '../charts/echart.component.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href } from '../shell/router.js';
import { LevelTag } from './alert-board.component.js';
import { LEVEL_COLOURS, actorLabel, formatDateTime, sourceLabel, statusLabel } from './labels.js';
import { DISTRICT_MAP, registerDistrictMap } from './map.js';
import { alertClusters, clusterLayer, clusterText, listScanClustersBetween, type MapCluster } from './scan-layer.js';
import type { AlertCase, AlertDetail, AlertSeries, GeoFeatureCollection } from '../../../src/surveillance/schemas.js';
import { addAlertComment, getAlert, getAlertCases, getAlertSeries, getGeography, transitionAlert } from './surveillance.resource.js';

const STEP_LABELS = (): Record<string, string> => ({
  triage: t('surv.step.triage', '开始研判'),
  dismissed: t('surv.step.dismiss', '排除'),
  suspected: t('surv.step.suspected', '判为疑似事件'),
  confirmed: t('surv.step.confirmed', '确认为事件'),
  response: t('surv.step.response', '启动响应（流调）'),
  closed: t('surv.step.close', '结案关闭'),
});

function SeriesChart({ s }: { s: AlertSeries }) {
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [t('surv.observed', '观察值'), t('surv.threshold', '阈值')] },
      grid: { left: 40, right: 16, top: 30, bottom: 28 },
      xAxis: { type: 'category', data: s.days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          name: t('surv.observed', '观察值'),
          type: 'bar',
          data: s.compared.map((v, i) => ({ value: v, itemStyle: { color: s.alarm[i] ? '#cf1322' : '#5b8ff9' } })),
        },
        {
          name: t('surv.threshold', '阈值'),
          type: 'line',
          step: 'middle',
          symbol: 'none',
          lineStyle: { type: 'dashed', color: '#fa8c16' },
          data: s.threshold.map((v) => (v === null ? null : Math.round(v * 100) / 100)),
        },
      ],
    }),
    [s],
  );
  return (
    <Card
      size="small"
      title={`${s.label}（${s.areaCode} · ${s.method ?? ''}）`}
      extra={
        s.evidence === 'weak' ? (
          <Tag color="gold" data-testid="evidence-weak">
            {t('surv.evidence.weak', '弱证据（未达阈值）')}
          </Tag>
        ) : (
          <Tag color="red">{t('surv.evidence.alarm', '超阈值告警')}</Tag>
        )
      }
      style={{ marginBottom: 12 }}
      data-testid="signal-series"
    >
      <EChart option={option} height={200} ariaLabel={s.label} />
    </Card>
  );
}

/**
 * The alert's cases on the district map, its streets shaded, and the space-time scan's clusters
 * behind it drawn as on the 辖区预警地图 (scan-layer.ts: each cluster's streets outlined, a circle
 * at its centre sized by its cases), listed under the map.
 */
function CaseMap({
  cases,
  geo,
  areaCode,
  areaCodes,
  clusters,
}: {
  cases: AlertCase[];
  geo: GeoFeatureCollection | null;
  areaCode: string;
  areaCodes: string[];
  clusters: MapCluster[];
}) {
  const option = useMemo(() => {
    if (!geo) return null;
    const jitter = (i: number) => ((i * 7919) % 100) / 100 - 0.5;
    const layer = clusterLayer(clusters, geo);
    const shaded = new Set([areaCode, ...areaCodes]);
    const regions = geo.features
      .map((f) => f.properties.code)
      .filter((code) => shaded.has(code) || layer.outlines.has(code))
      .map((code) => {
        const outline = layer.outlines.get(code);
        return {
          name: code,
          itemStyle: {
            areaColor: code === areaCode ? '#ffe7ba' : shaded.has(code) ? '#fff4e0' : '#f0f5f4',
            ...(outline ? { borderColor: outline.color, borderWidth: 3 } : {}),
          },
        };
      });
    return {
      tooltip: { trigger: 'item', formatter: (p: { data?: { label?: string } }) => p.data?.label ?? '' },
      geo: {
        map: DISTRICT_MAP,
        roam: true,
        itemStyle: { areaColor: '#f0f5f4', borderColor: '#9bb' },
        regions,
      },
      series: [
        ...layer.series.filter((x) => x.data.length),
        {
          type: 'scatter',
          coordinateSystem: 'geo',
          symbolSize: 8,
          itemStyle: { color: '#cf1322' },
          data: cases
            .filter((c) => c.location)
            .map((c, i) => ({
              value: [c.location![0] + jitter(i) * 0.006, c.location![1] + jitter(i + 3) * 0.006],
              label: `${c.day} ${c.areaName} ${c.detail}`,
            })),
        },
      ],
    };
  }, [cases, geo, areaCode, areaCodes, clusters]);
  if (!option) return <Empty />;
  return (
    <>
      <EChart option={option} height={300} testId="case-map" ariaLabel={t('surv.caseMap', '病例分布')} />
      {clusters.length ? (
        <div style={{ marginTop: 8 }} data-testid="alert-scan-clusters">
          <Typography.Text strong>{t('surv.scan.alertTitle', '时空扫描聚集 {n} 处', { n: clusters.length })}</Typography.Text>
          {clusters.map((c) => (
            <div key={c.id} data-testid="alert-scan-cluster">
              <Typography.Text type="secondary">{clusterText(c)}</Typography.Text>
            </div>
          ))}
        </div>
      ) : null}
    </>
  );
}

export function AlertPage({ id }: { id: number }) {
  const { message } = App.useApp();
  const [alert, setAlert] = useState<AlertDetail | null>(null);
  const [series, setSeries] = useState<AlertSeries[]>([]);
  const [cases, setCases] = useState<AlertCase[]>([]);
  const [geo, setGeo] = useState<GeoFeatureCollection | null>(null);
  const [scanRows, setScanRows] = useState<MapCluster[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [step, setStep] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const [form] = Form.useForm<{ reason?: string; assignee?: string }>();

  const load = useCallback(async () => {
    try {
      setAlert(await getAlert(id));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [id]);

  useEffect(() => {
    void load();
    getAlertSeries(id)
      .then(setSeries)
      .catch(() => undefined);
    getAlertCases(id)
      .then(setCases)
      .catch(() => undefined);
    getGeography('street')
      .then((g) => {
        registerDistrictMap(g);
        setGeo(g);
      })
      .catch(() => undefined);
  }, [id, load]);

  // The scan's clusters of the alert's evidence days (fetched once its days are known).
  const evidenceFrom = alert?.firstEvidenceAt.slice(0, 10);
  const evidenceTo = alert?.lastEvidenceAt.slice(0, 10);
  useEffect(() => {
    if (!evidenceFrom || !evidenceTo) return;
    const ctrl = new AbortController();
    listScanClustersBetween(evidenceFrom, evidenceTo, ctrl.signal)
      .then((p) => setScanRows(p.rows))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [evidenceFrom, evidenceTo]);
  const clusters = useMemo(() => (alert ? alertClusters(scanRows, alert) : []), [scanRows, alert]);

  const doStep = async () => {
    if (!alert || !step) return;
    const values = await form.validateFields().catch(() => undefined);
    // A field left empty or wrong is shown on the form itself; nothing is sent.
    if (!values) return;
    try {
      await transitionAlert(id, { to: step, version: alert.version, reason: values.reason, assignee: values.assignee });
      message.success(t('surv.stepDone', '已更新预警状态'));
      setStep(null);
      form.resetFields();
    } catch (e) {
      message.error((e as Error).message);
    }
    await load();
  };

  const sendComment = async () => {
    if (!comment.trim()) return;
    try {
      await addAlertComment(id, comment.trim());
      setComment('');
      await load();
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!alert) return <Card loading />;
  const labels = STEP_LABELS();
  const seriesLabel = new Map(series.map((x) => [x.signal, x.label]));
  const needsReason = step && ['dismissed', 'suspected', 'confirmed', 'closed', 'response'].includes(step);

  return (
    <div data-testid="alert-page">
      <PageHeader
        title={
          <Space>
            <span>#{alert.id}</span>
            <LevelTag level={alert.level} />
            <span>{alert.title}</span>
          </Space>
        }
        crumbs={[
          { title: t('nav.surveillance', '传染病监测预警') },
          { title: t('nav.alerts', '预警信号'), href: href('/surveillance/alerts') },
          { title: `#${alert.id}` },
        ]}
        extra={
          <Space wrap>
            {alert.nextSteps.map((s) => (
              <Button
                key={s}
                type={s === 'triage' || s === 'confirmed' || s === 'response' ? 'primary' : 'default'}
                danger={s === 'dismissed'}
                onClick={() => setStep(s)}
                data-testid={`step-${s}`}
              >
                {labels[s] ?? s}
              </Button>
            ))}
          </Space>
        }
      />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Descriptions size="small" column={{ xs: 1, md: 3 }}>
          <Descriptions.Item label={t('surv.col.status', '状态')}>
            <Tag data-testid="alert-status">{statusLabel(alert.status)}</Tag>
            {alert.overdue && <Tag color="error">{t('surv.overdue', '超时')}</Tag>}
          </Descriptions.Item>
          <Descriptions.Item label={t('surv.area', '地区')}>{alert.areaName ?? alert.areaCode}</Descriptions.Item>
          <Descriptions.Item label={t('surv.col.sources', '证据来源')}>
            {alert.sources.map((s) => (
              <Tag key={s}>{sourceLabel(s)}</Tag>
            ))}
          </Descriptions.Item>
          <Descriptions.Item
            label={t('surv.col.evidence', '证据日期')}
          >{`${alert.firstEvidenceAt.slice(0, 10)} ~ ${alert.lastEvidenceAt.slice(0, 10)}`}</Descriptions.Item>
          <Descriptions.Item label={t('surv.jointP', '联合概率')}>
            {alert.jointP !== null ? alert.jointP.toExponential(2) : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('surv.assignee', '研判负责人')}>{alert.assignee ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('surv.due', '处理时限')}>{formatDateTime(alert.dueAt)}</Descriptions.Item>
          <Descriptions.Item label={t('surv.col.created', '生成时间')}>{formatDateTime(alert.createdAt)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Row gutter={16}>
        <Col xs={24} xl={14}>
          <Typography.Title level={5}>{t('surv.signals', '各来源信号与阈值')}</Typography.Title>
          {series.length ? series.map((s) => <SeriesChart key={`${s.signal}|${s.areaCode}`} s={s} />) : <Empty />}
          <Card size="small" title={t('surv.lineList', '病例一览')} style={{ marginBottom: 16 }}>
            <Table
              rowKey={(c) => `${c.kind}|${c.id}`}
              size="small"
              dataSource={cases}
              pagination={{ pageSize: 10 }}
              columns={[
                { title: t('surv.case.day', '日期'), dataIndex: 'day', width: 110 },
                { title: t('surv.case.kind', '来源'), dataIndex: 'kind', width: 180, render: (k: string) => seriesLabel.get(k) ?? k },
                { title: t('surv.area', '地区'), dataIndex: 'areaName', width: 110 },
                { title: t('surv.case.detail', '内容'), dataIndex: 'detail' },
              ]}
              data-testid="case-table"
            />
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title={t('surv.caseMap', '病例分布')} style={{ marginBottom: 16 }}>
            <CaseMap cases={cases} geo={geo} areaCode={alert.areaCode} areaCodes={alert.areaCodes} clusters={clusters} />
          </Card>
          <Card size="small" title={t('surv.workflow', '处置流程')} style={{ marginBottom: 16 }}>
            <Timeline
              items={alert.events.map((e) => ({
                color: e.action === 'created' ? LEVEL_COLOURS[alert.level] : e.to === 'dismissed' ? 'gray' : 'green',
                children: (
                  <div data-testid="workflow-event">
                    <Typography.Text strong>
                      {e.action === 'transition'
                        ? `${statusLabel(e.from ?? '')} → ${statusLabel(e.to ?? '')}`
                        : e.action === 'created'
                          ? t('surv.created', '生成预警')
                          : e.action === 'frozen'
                            ? t('surv.frozen', '证据时段已满，后续信号另起预警')
                            : t('surv.newEvidence', '新增证据')}
                    </Typography.Text>
                    <div>
                      <Typography.Text type="secondary">{`${formatDateTime(e.at)} · ${actorLabel(e.actor)}`}</Typography.Text>
                    </div>
                    {e.reason && <div>{e.reason}</div>}
                  </div>
                ),
              }))}
            />
          </Card>
          <Card size="small" title={t('surv.discussion', '研判会商')}>
            <List
              size="small"
              dataSource={alert.comments}
              locale={{ emptyText: t('surv.noComments', '暂无会商记录') }}
              renderItem={(c) => (
                <List.Item>
                  <List.Item.Meta
                    title={`${c.author}${c.organization ? `（${c.organization}）` : ''} · ${formatDateTime(c.at)}`}
                    description={c.body}
                  />
                </List.Item>
              )}
            />
            <Space.Compact style={{ width: '100%', marginTop: 8 }}>
              <Input
                value={comment}
                onChange={(e) => setComment(e.target.value)}
                placeholder={t('surv.commentPlaceholder', '输入会商意见')}
                onPressEnter={sendComment}
                data-testid="comment-input"
              />
              <Button type="primary" onClick={sendComment} data-testid="comment-send">
                {t('surv.send', '发送')}
              </Button>
            </Space.Compact>
          </Card>
        </Col>
      </Row>
      <Modal
        open={!!step}
        title={step ? labels[step] : ''}
        onOk={doStep}
        onCancel={() => setStep(null)}
        okText={t('surv.confirm', '确定')}
        cancelText={t('surv.cancel', '取消')}
        destroyOnHidden
      >
        <Form form={form} layout="vertical">
          {step === 'triage' && (
            <Form.Item
              name="assignee"
              label={t('surv.assignee', '研判负责人')}
              rules={[{ required: true, message: t('surv.assigneeRequired', '请填写研判负责人') }]}
            >
              <Input data-testid="assignee-input" />
            </Form.Item>
          )}
          <Form.Item
            name="reason"
            label={t('surv.reason', '理由/说明')}
            rules={needsReason ? [{ required: true, message: t('surv.reasonRequired', '请填写理由') }] : []}
          >
            <Input.TextArea rows={3} data-testid="reason-input" />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
