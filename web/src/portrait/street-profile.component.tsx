/**
 * A street's profile (街道健康画像): population by sex and age band, programmes (managed,
 * 规范管理率, 控制率), infectious-disease cases by disease over the last 12 months, and services
 * (contracts by key population, vaccine doses). Suppressed figures show as 已抑制 for roles
 * outside the CDC.
 */
import { useEffect, useState } from 'react';
import { Alert, App, Card, Col, Descriptions, Empty, Row, Table, Tag, Typography } from 'antd';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href } from '../shell/router.js';
import { getStreetProfile, thisYearInChina, type StreetProfile } from './portrait.resource.js';
import { show } from './portrait.component.js';

type ProfileFigure = StreetProfile['burden']['total'];

const SEX: Record<string, [string, string]> = {
  male: ['portrait.male', '男'],
  female: ['portrait.female', '女'],
  unknown: ['portrait.sexUnknown', '不详'],
};

function Hidden() {
  return <Tag color="default">{t('portrait.suppressedTag', '已抑制')}</Tag>;
}

/** A count, or 已抑制 when the figure is hidden from this role. */
const count = (v: number | null, suppressed: boolean) => (v === null && suppressed ? <Hidden /> : show(v));
const rate = (f: ProfileFigure, unit = '%') =>
  f.suppressed && f.value === null && f.denominator === null ? <Hidden /> : f.value === null ? '—' : `${show(f.value)}${unit}`;

export function StreetProfilePage({ code, period: initial }: { code: string; period?: string }) {
  const { message } = App.useApp();
  const period = initial ?? thisYearInChina();
  const [p, setP] = useState<StreetProfile | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    getStreetProfile(code, period, ctrl.signal)
      .then(setP)
      .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message));
    return () => ctrl.abort();
  }, [code, period, message]);

  const title = `${p?.name ?? code} · ${t('portrait.profile', '街道健康画像')}`;
  return (
    <div>
      <PageHeader
        title={title}
        crumbs={[{ title: t('portrait.title', '健康画像'), href: href('/portrait', { period }) }, { title: p?.name ?? code }]}
      />
      {!p ? (
        <Card loading />
      ) : (
        <>
          {!p.viewer.cdc && (p.population.suppressed || p.programmes.some((x) => x.suppressed) || p.burden.total.suppressed) && (
            <Alert
              style={{ marginBottom: 12 }}
              type="info"
              showIcon
              data-testid="profile-suppressed-note"
              message={t('portrait.profileNote', '人数为 1–{m} 的数字及可据以反推的合计已抑制。', { m: p.minCell - 1 })}
            />
          )}
          <Row gutter={[12, 12]}>
            <Col xs={24} xl={14}>
              <Card size="small" title={`${t('portrait.population', '人口构成')}（${p.population.on}）`} data-testid="profile-population">
                <Table
                  size="small"
                  pagination={false}
                  rowKey="sex"
                  dataSource={[...p.population.rows, { sex: 'total' as const, counts: p.population.totals, total: p.population.total }]}
                  columns={[
                    {
                      title: t('portrait.sex', '性别'),
                      dataIndex: 'sex',
                      render: (s: string) => (s === 'total' ? t('portrait.total', '合计') : t(...SEX[s]!)),
                    },
                    ...p.population.bands.map((b, j) => ({
                      title: b,
                      key: b,
                      align: 'right' as const,
                      render: (_: unknown, r: { counts: (number | null)[] }) => count(r.counts[j] ?? null, p.population.suppressed),
                    })),
                    {
                      title: t('portrait.total', '合计'),
                      dataIndex: 'total',
                      align: 'right' as const,
                      render: (v: number | null) => count(v, p.population.suppressed),
                    },
                  ]}
                />
              </Card>
            </Col>
            <Col xs={24} xl={10}>
              <Card
                size="small"
                title={`${t('portrait.programmes', '重点疾病管理')}（${p.period.label}）`}
                data-testid="profile-programmes"
              >
                <Table
                  size="small"
                  pagination={false}
                  rowKey="disease"
                  dataSource={p.programmes}
                  columns={[
                    {
                      title: t('portrait.programme', '病种'),
                      dataIndex: 'name',
                      render: (n: string, x) => t(`portrait.prog.${x.disease}`, n),
                    },
                    {
                      title: t('portrait.managed', '期内管理人数'),
                      dataIndex: 'managed',
                      align: 'right',
                      render: (v: number | null, x) => count(v, x.suppressed),
                    },
                    {
                      title: t('portrait.standardRate', '规范管理率'),
                      key: 's',
                      align: 'right',
                      render: (_: unknown, x) => rate(x.standardManagement),
                    },
                    { title: t('portrait.controlRate', '控制率'), key: 'c', align: 'right', render: (_: unknown, x) => rate(x.control) },
                  ]}
                />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card
                size="small"
                title={`${t('portrait.burden', '传染病负担')}（${p.burden.from} – ${p.burden.to}）`}
                data-testid="profile-burden"
              >
                <Descriptions size="small" column={2} style={{ marginBottom: 8 }}>
                  <Descriptions.Item label={t('portrait.cases', '报告病例')}>
                    {count(p.burden.total.numerator, p.burden.total.suppressed)}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('portrait.incidence', '报告发病率')}>
                    {rate(p.burden.total, t('portrait.per100k', '/10万'))}
                  </Descriptions.Item>
                </Descriptions>
                {p.burden.diseases.length ? (
                  <Table
                    size="small"
                    pagination={false}
                    rowKey="key"
                    dataSource={p.burden.diseases}
                    columns={[
                      { title: t('portrait.diseaseCol', '病种'), dataIndex: 'name' },
                      {
                        title: t('portrait.cases', '报告病例'),
                        dataIndex: 'cases',
                        align: 'right',
                        render: (v: number | null, d) => count(v, d.suppressed),
                      },
                      {
                        title: `${t('portrait.incidence', '报告发病率')}（${t('portrait.per100k', '/10万')}）`,
                        dataIndex: 'per100k',
                        align: 'right',
                        render: (v: number | null, d) => count(v, d.suppressed),
                      },
                    ]}
                  />
                ) : (
                  <Empty description={t('portrait.noCases', '近 12 个月无报告病例')} />
                )}
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card size="small" title={`${t('portrait.services', '服务提供')}（${p.period.label}）`} data-testid="profile-services">
                <Table
                  size="small"
                  pagination={false}
                  rowKey="population"
                  dataSource={p.services.contracts}
                  columns={[
                    {
                      title: t('portrait.contractPopulation', '签约人群'),
                      dataIndex: 'label',
                      render: (l: string, c) => t(`portrait.pop.${c.population}`, l),
                    },
                    {
                      title: t('portrait.contracted', '签约人数'),
                      dataIndex: 'numerator',
                      align: 'right',
                      render: (v: number | null, c) => count(v, c.suppressed),
                    },
                    {
                      title: t('portrait.residentsCol', '在册居民'),
                      dataIndex: 'denominator',
                      align: 'right',
                      render: (v: number | null, c) => count(v, c.suppressed),
                    },
                    { title: t('portrait.coverage', '覆盖率'), key: 'v', align: 'right', render: (_: unknown, c) => rate(c) },
                  ]}
                />
                <Typography.Paragraph style={{ marginTop: 8, marginBottom: 0 }}>
                  {t('portrait.vaccineDoses', '国家免疫规划疫苗接种率（全部剂次）')}：{rate(p.services.vaccineDoses)}
                </Typography.Paragraph>
              </Card>
            </Col>
          </Row>
          <Typography.Paragraph type="secondary" style={{ marginTop: 12 }} data-testid="profile-not-exported">
            {t('portrait.notExported', '暂无数据来源')}：{p.notExported.join(' ')}
          </Typography.Paragraph>
        </>
      )}
    </div>
  );
}
