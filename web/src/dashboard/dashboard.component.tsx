/**
 * 工作台: a welcome, the figures each role works from (open alerts by level, report cards awaiting
 * review, follow-ups due this week, key indicators against their targets with last year beside
 * them), each a link to its list, and the ways into each module.
 */
import { Alert, Card, Col, Row, Skeleton, Statistic, Typography } from 'antd';
import {
  AlertOutlined,
  ArrowDownOutlined,
  ArrowUpOutlined,
  BarChartOutlined,
  FileSearchOutlined,
  HeartOutlined,
  TeamOutlined,
  AuditOutlined,
} from '@ant-design/icons';
import { useEffect, useState, type ReactNode } from 'react';
import { isAbort } from '../api/http.js';
import { hasRole, userMay, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { todayInChina } from '../../../src/shared/dates.js';
import { loadHomeFigures, type HomeFigures } from './overview.resource.js';
import { DerivingBanner } from '../shell/deriving-banner.component.js';
import { listModes } from '../emergency/emergency.resource.js';
import { chinaTime, levelLabel, scopeLabel } from '../emergency/labels.js';
import type { ModeView } from '../../../src/emergency/schemas.js';

/**
 * 平急转换 on the home page: while an emergency mode is in force (district-wide or for an area),
 * a banner names each level, area and reason, with the ways to what changes (zero reports, the
 * lab's specimens in flight, the mode itself). Drills' exercise modes are not shown.
 */
function EmergencyBanner() {
  const [modes, setModes] = useState<ModeView[]>([]);
  useEffect(() => {
    const ctrl = new AbortController();
    listModes({ active: true, limit: 20, offset: 0 }, ctrl.signal).then(
      (r) => setModes(r.items.filter((m) => m.active && !m.exercise)),
      () => setModes([]),
    );
    return () => ctrl.abort();
  }, []);
  if (!modes.length) return null;
  return (
    <Alert
      type="error"
      showIcon
      data-testid="home-emergency"
      style={{ marginTop: 16 }}
      message={t('home.emergency.title', '应急响应状态生效中：按应急时限报告、流调和检测，逐日零报告')}
      description={
        <>
          {modes.map((m) => (
            <div key={m.id}>
              {t('home.emergency.mode', '{level}（{area}，自 {since}）：{reason}', {
                level: levelLabel(m.level),
                area: scopeLabel(m.areaCode),
                since: chinaTime(m.startedAt),
                reason: m.reason,
              })}
            </div>
          ))}
          <div style={{ marginTop: 8 }}>
            <a href="#/emergency/mode">{t('home.emergency.manage', '应急状态与零报告')}</a>
            {' · '}
            <a href="#/lab/dashboard">{t('home.emergency.lab', '在途标本与超时')}</a>
            {' · '}
            <a href="#/investigation">{t('home.emergency.investigations', '流调任务')}</a>
          </div>
        </>
      }
    />
  );
}

/** One figure: a number with its words, a link to the list behind it. */
function Figure({ title, value, href, danger }: { title: string; value: number; href: string; danger?: boolean }) {
  return (
    <a href={href} className="yf-figure-link" data-testid="home-figure">
      <Statistic title={title} value={value} valueStyle={danger && value > 0 ? { color: '#cf1322' } : undefined} />
    </a>
  );
}

function IndicatorFigures({ figures }: { figures: NonNullable<HomeFigures['indicators']> }) {
  const { thisYear, lastYear } = figures;
  // The district's figure: the row for everyone (no population, or 'all'), else the doses pooled.
  const total = (data: typeof thisYear, code: string): { value: number | null } | undefined => {
    const rows = data.values.filter((v) => v.indicator === code);
    const whole = rows.find((v) => !v.population || v.population === 'all');
    if (whole || !rows.length) return whole;
    const n = rows.reduce((a, v) => a + v.numerator, 0);
    const d = rows.reduce((a, v) => a + v.denominator, 0);
    return { value: d ? Math.round((1000 * n) / d) / 10 : null };
  };
  return (
    <Row gutter={[16, 8]}>
      {thisYear.definitions.map((def) => {
        const now = total(thisYear, def.code);
        const before = total(lastYear, def.code);
        const v = now?.value ?? null;
        const prev = before?.value ?? null;
        const met = v !== null && def.target !== null ? v >= def.target : undefined;
        return (
          <Col key={def.code} xs={24} sm={12} xl={6}>
            <a href="#/indicators" className="yf-figure-link" data-testid="home-indicator">
              <Statistic
                title={t(`ind.def.${def.code}.name`, def.name)}
                value={v === null ? '—' : v.toFixed(1)}
                suffix={v === null ? undefined : '%'}
                valueStyle={met === undefined ? undefined : { color: met ? '#389e0d' : '#d46b08' }}
              />
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {def.target === null ? t('home.noTarget', '无全国统一目标') : t('home.target', '目标 ≥ {n}%', { n: def.target })}
                {'　'}
                {prev === null ? (
                  t('home.noLastYear', '去年无数据')
                ) : (
                  <span>
                    {t('home.lastYear', '去年 {v}%', { v: prev.toFixed(1) })}{' '}
                    {v !== null && v !== prev && (v > prev ? <ArrowUpOutlined /> : <ArrowDownOutlined />)}
                  </span>
                )}
              </Typography.Text>
            </a>
          </Col>
        );
      })}
    </Row>
  );
}

function HomeFiguresPanel({ user }: { user: SessionUser }) {
  const [figures, setFigures] = useState<HomeFigures>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    loadHomeFigures(todayInChina(), { surveillance: userMay(user, 'surveillance:read'), care: userMay(user, 'care:read') }, ctrl.signal)
      .then(setFigures)
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [user]);
  if (error) return <Alert type="warning" showIcon message={t('home.figuresFailed', '工作数据加载失败')} description={error} />;
  if (!figures) return <Skeleton active paragraph={{ rows: 3 }} />;
  const { alerts, cards, followUps, indicators, notices } = figures;
  return (
    <Row gutter={[16, 16]} data-testid="home-figures">
      {alerts && (
        <Col xs={24} lg={12}>
          <Card size="small" title={t('home.alerts', '预警信号')}>
            <Row gutter={16}>
              <Col span={6}>
                <Figure title={t('home.openAlerts', '未结预警')} value={alerts.open} href="#/surveillance/alerts?status=open" />
              </Col>
              <Col span={6}>
                <Figure title={t('home.red', '红色')} value={alerts.red} href="#/surveillance/alerts?status=open&level=red" danger />
              </Col>
              <Col span={6}>
                <Figure title={t('home.orange', '橙色')} value={alerts.orange} href="#/surveillance/alerts?status=open&level=orange" />
              </Col>
              <Col span={6}>
                <Figure
                  title={t('home.overdueAlerts', '研判逾期')}
                  value={alerts.overdue}
                  href="#/surveillance/alerts?status=open"
                  danger
                />
              </Col>
            </Row>
          </Card>
        </Col>
      )}
      {cards && (
        <Col xs={24} sm={12} lg={6}>
          <Card size="small" title={t('home.cards', '传染病报告卡')}>
            <Row gutter={16}>
              <Col span={12}>
                <Figure
                  title={t('home.awaitingReview', '待审核')}
                  value={cards.awaitingReview}
                  href="#/surveillance/reports?status=submitted"
                />
              </Col>
              <Col span={12}>
                <Figure
                  title={t('home.overdueDrafts', '逾期未报')}
                  value={cards.overdueDrafts}
                  href="#/surveillance/reports?status=overdue"
                  danger
                />
              </Col>
            </Row>
          </Card>
        </Col>
      )}
      {followUps && (
        <Col xs={24} sm={12} lg={6}>
          <Card size="small" title={t('home.followUps', '慢病随访')}>
            <Row gutter={16}>
              <Col span={12}>
                <Figure title={t('home.dueThisWeek', '本周应随访')} value={followUps.due} href="#/chronic" />
              </Col>
              <Col span={12}>
                <Figure
                  title={t('home.overdueFollowUps', '逾期随访')}
                  value={followUps.overdue + followUps.recall}
                  href="#/chronic"
                  danger
                />
              </Col>
            </Row>
          </Card>
        </Col>
      )}
      {notices && (
        <Col xs={24} sm={12} lg={6}>
          <Card size="small" title={t('home.contactFollowUps', '密接随访')}>
            <Figure title={t('home.openNotices', '待确认漏访上报')} value={notices.open} href="#/investigation/follow-ups" danger />
          </Card>
        </Col>
      )}
      {indicators && (
        <Col span={24}>
          <Card size="small" title={t('home.indicators', '重点指标（今年，对照目标与去年）')}>
            <IndicatorFigures figures={indicators} />
          </Card>
        </Col>
      )}
    </Row>
  );
}

interface Tile {
  href: string;
  icon: ReactNode;
  title: string;
  text: string;
}

export function DashboardPage({ user }: { user: SessionUser }) {
  // Bumped when the processors have worked through a backlog: the figures are fetched again.
  const [round, setRound] = useState(0);
  const tiles: Tile[] = [
    {
      href: '#/residents',
      icon: <TeamOutlined />,
      title: t('nav.residents', '居民档案'),
      text: t('home.residentsText', '按姓名或公民身份号码查找居民，查看就诊、诊断、用药、检验和预防接种记录。'),
    },
    {
      href: '#/surveillance/alerts',
      icon: <AlertOutlined />,
      title: t('nav.surveillance', '传染病监测预警'),
      text: t('home.surveillanceText', '预警信号、传染病报告卡与监测概览。'),
    },
    {
      href: '#/investigation',
      icon: <FileSearchOutlined />,
      title: t('nav.investigation', '流行病学调查'),
      text: t('home.investigationText', '个案调查、密切接触者追踪与处置记录。'),
    },
    {
      href: '#/chronic',
      icon: <HeartOutlined />,
      title: t('nav.chronic', '慢病与家庭医生'),
      text: t('home.chronicText', '高血压、糖尿病患者随访管理与家庭医生签约服务。'),
    },
    {
      href: '#/indicators',
      icon: <BarChartOutlined />,
      title: t('nav.indicators', '指标与决策'),
      text: t('home.indicatorsText', '辖区健康指标、工作量与决策支持。'),
    },
  ];
  if (hasRole(user, 'admin')) {
    tiles.push({
      href: '#/admin/audit',
      icon: <AuditOutlined />,
      title: t('nav.audit', '审计日志'),
      text: t('home.auditText', '谁在何时访问或修改了哪些数据。'),
    });
  }

  return (
    <div data-testid="dashboard">
      <Card className="yf-welcome">
        <Typography.Title level={3} style={{ marginTop: 0 }}>
          {t('home.welcome', '{name}，您好', { name: user.displayName || user.username })}
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
          {t(
            'home.intro',
            '医防融合平台把医疗机构的诊疗数据与疾病预防控制工作连接起来：以居民健康档案为核心，支撑传染病监测预警、流行病学调查和慢病管理。',
          )}
        </Typography.Paragraph>
      </Card>
      {userMay(user, 'surveillance:read') && <EmergencyBanner />}
      {!user.roles.every((r) => r === 'auditor') && (
        <div style={{ marginTop: 16 }}>
          <DerivingBanner onCaughtUp={() => setRound((r) => r + 1)} />
          <HomeFiguresPanel key={round} user={user} />
        </div>
      )}
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        {tiles.map((tile) => (
          <Col key={tile.href} xs={24} sm={12} xl={8}>
            <a href={tile.href} className="yf-tile-link">
              <Card hoverable className="yf-tile">
                <div className="yf-tile-icon">{tile.icon}</div>
                <div>
                  <Typography.Text strong style={{ fontSize: 16 }}>
                    {tile.title}
                  </Typography.Text>{' '}
                  <Typography.Paragraph type="secondary" style={{ margin: '6px 0 0' }}>
                    {tile.text}
                  </Typography.Paragraph>
                </div>
              </Card>
            </a>
          </Col>
        ))}
      </Row>
    </div>
  );
}
