/**
 * 大规模检测 (#/lab/mass): the campaigns, and a campaign's progress by area — registered,
 * sampled, tested, negative, positive pools, re-tests ordered and resulted — with the totals.
 */
import { useEffect, useState } from 'react';
import { Alert, Card, Col, Progress, Row, Select, Space, Statistic, Table, type TableColumnsType } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { campaignProgress, listCampaigns, type CampaignView, type ProgressView } from './lab.resource.js';
import { chinaTime, modeLabel, refusal } from './labels.js';

type ProgressAreaRow = ProgressView['byArea'][number];
const share = (part: number, whole: number) => (whole ? Math.round((part / whole) * 1000) / 10 : 0);

export function MassTestingPage({ campaign: initial }: { campaign?: number }) {
  const [campaigns, setCampaigns] = useState<CampaignView[]>();
  const [id, setId] = useState<number | undefined>(initial);
  const [progress, setProgress] = useState<ProgressView>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    listCampaigns(ctrl.signal)
      .then((l) => {
        setCampaigns(l.items);
        setId((old) => old ?? l.items[0]?.id);
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, []);
  useEffect(() => {
    if (!id) return;
    const ctrl = new AbortController();
    setProgress(undefined);
    campaignProgress(id, ctrl.signal)
      .then(setProgress)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(refusal(e));
      });
    return () => ctrl.abort();
  }, [id]);
  const columns: TableColumnsType<ProgressAreaRow> = [
    { title: t('lab.mass.area', '区划'), dataIndex: 'areaCode' },
    { title: t('lab.mass.registered', '登记'), dataIndex: 'registered', align: 'right' },
    { title: t('lab.mass.sampled', '已采样'), dataIndex: 'sampled', align: 'right' },
    {
      title: t('lab.mass.sampledShare', '采样进度'),
      key: 'share',
      render: (_, r) => <Progress percent={share(r.sampled, r.registered)} size="small" />,
    },
    { title: t('lab.mass.tested', '已出结果'), dataIndex: 'tested', align: 'right' },
    { title: t('lab.mass.negative', '阴性'), dataIndex: 'negative', align: 'right' },
    { title: t('lab.mass.positivePools', '阳性混管'), dataIndex: 'positivePools', align: 'right' },
    { title: t('lab.mass.retestOrdered', '待复检'), dataIndex: 'retestOrdered', align: 'right' },
    { title: t('lab.mass.retested', '已复检'), dataIndex: 'retested', align: 'right' },
    { title: t('lab.mass.retestPositive', '复检阳性'), dataIndex: 'retestPositive', align: 'right' },
  ];
  const total = progress?.total;
  return (
    <>
      <PageHeader
        title={t('nav.labMass', '大规模检测')}
        crumbs={[{ title: t('nav.lab', '检测送检') }, { title: t('nav.labMass', '大规模检测') }]}
      />
      <Space direction="vertical" style={{ width: '100%' }} size="middle">
        <Select
          style={{ minWidth: 280 }}
          placeholder={t('lab.mass.pick', '选择检测任务')}
          value={id}
          onChange={setId}
          loading={!campaigns && !error}
          data-testid="campaign-select"
          options={(campaigns ?? []).map((c) => ({
            value: c.id,
            label: t('lab.mass.option', '{name}（{mode}，{n} 混 1，{at}）', {
              name: c.name,
              mode: modeLabel(c.mode),
              n: c.poolSize,
              at: chinaTime(c.createdAt),
            }),
          }))}
        />
        {campaigns && !campaigns.length && <Alert type="info" showIcon message={t('lab.mass.none', '还没有大规模检测任务')} />}
        {error && <Alert type="error" showIcon message={error} />}
        {total && (
          <Row gutter={[12, 12]} data-testid="mass-totals">
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('lab.mass.registered', '登记')} value={total.registered} />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic
                  title={t('lab.mass.sampled', '已采样')}
                  value={total.sampled}
                  suffix={`(${share(total.sampled, total.registered)}%)`}
                />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('lab.mass.positivePools', '阳性混管')} value={total.positivePools} />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('lab.mass.retestPositive', '复检阳性')} value={total.retestPositive} />
              </Card>
            </Col>
          </Row>
        )}
        {progress && (
          <Table
            data-testid="mass-areas"
            rowKey="areaCode"
            size="small"
            columns={columns}
            dataSource={progress.byArea}
            pagination={{ defaultPageSize: 20, showSizeChanger: true, showTotal: (n) => t('lab.mass.areas', '共 {n} 个区划', { n }) }}
            scroll={{ x: true }}
          />
        )}
      </Space>
    </>
  );
}
