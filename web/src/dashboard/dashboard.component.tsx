/** 工作台: a welcome and the ways into each module. */
import { Card, Col, Row, Tag, Typography } from 'antd';
import { AlertOutlined, BarChartOutlined, FileSearchOutlined, HeartOutlined, TeamOutlined, AuditOutlined } from '@ant-design/icons';
import type { ReactNode } from 'react';
import { hasRole, type SessionUser } from '../api/session.js';
import { t } from '../i18n/i18n.js';

interface Tile {
  href: string;
  icon: ReactNode;
  title: string;
  text: string;
  ready: boolean;
}

export function DashboardPage({ user }: { user: SessionUser }) {
  const tiles: Tile[] = [
    {
      href: '#/residents',
      icon: <TeamOutlined />,
      title: t('nav.residents', '居民档案'),
      text: t('home.residentsText', '按姓名或公民身份号码查找居民，查看就诊、诊断、用药、检验和预防接种记录。'),
      ready: true,
    },
    {
      href: '#/surveillance/alerts',
      icon: <AlertOutlined />,
      title: t('nav.surveillance', '传染病监测预警'),
      text: t('home.surveillanceText', '预警信号、传染病报告卡与监测概览。'),
      ready: false,
    },
    {
      href: '#/investigation',
      icon: <FileSearchOutlined />,
      title: t('nav.investigation', '流行病学调查'),
      text: t('home.investigationText', '个案调查、密切接触者追踪与处置记录。'),
      ready: false,
    },
    {
      href: '#/chronic',
      icon: <HeartOutlined />,
      title: t('nav.chronic', '慢病与家庭医生'),
      text: t('home.chronicText', '高血压、糖尿病患者随访管理与家庭医生签约服务。'),
      ready: false,
    },
    {
      href: '#/indicators',
      icon: <BarChartOutlined />,
      title: t('nav.indicators', '指标与决策'),
      text: t('home.indicatorsText', '辖区健康指标、工作量与决策支持。'),
      ready: false,
    },
  ];
  if (hasRole(user, 'admin')) {
    tiles.push({
      href: '#/admin/audit',
      icon: <AuditOutlined />,
      title: t('nav.audit', '审计日志'),
      text: t('home.auditText', '谁在何时访问或修改了哪些数据。'),
      ready: true,
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
                  {!tile.ready && <Tag>{t('home.comingSoon', '建设中')}</Tag>}
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
