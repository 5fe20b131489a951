/**
 * 居民健康档案: one resident's record, from GET /fhir/Patient/:id/$everything. A resident outside
 * the user's scope is refused in words, with emergency access (破窗) offered where the policy
 * allows it; a red banner shows while an emergency grant lasts.
 */
import { useState } from 'react';
import { Alert, Badge, Button, Card, Col, Result, Row, Skeleton, Space, Tabs } from 'antd';
import { ArrowLeftOutlined, ReloadOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { Demographics } from './demographics.component.js';
import { EncounterTimeline } from './encounter-timeline.component.js';
import { ConditionsTable, ImmunizationsTable, LabsTable, MedicationsTable, ProceduresTable } from './record-tables.component.js';
import { residentName } from './resident.model.js';
import { useResidentRecord } from './useResidentRecord.js';
import { VitalCharts } from './vital-charts.component.js';
import { PersonFacilitiesCard } from '../identity/person-facilities.component.js';
import { BreakGlassModal, EmergencyBanner, OutOfScopeResult } from './break-glass.component.js';

function tabLabel(text: string, count: number) {
  return (
    <Space size={6}>
      {text}
      <Badge count={count} showZero color={count ? '#0f7b6c' : '#bfbfbf'} overflowCount={999} />
    </Space>
  );
}

export function ResidentRecordPage({ id }: { id: string }) {
  const { record, loading, error, notFound, outOfScope, canBreakGlass, emergencyUntil, reload } = useResidentRecord(id);
  const [askingAccess, setAskingAccess] = useState(false);
  const patient = record?.patient;

  const crumbs = [
    { title: t('nav.home', '首页/工作台'), href: '#/' },
    { title: t('nav.residents', '居民档案'), href: '#/residents' },
    { title: patient ? residentName(patient) : id },
  ];
  const back = (
    <Space>
      <Button icon={<ArrowLeftOutlined />} onClick={() => window.history.back()}>
        {t('common.back', '返回')}
      </Button>
      <Button icon={<ReloadOutlined />} onClick={reload} loading={loading}>
        {t('common.refresh', '刷新')}
      </Button>
    </Space>
  );

  if (notFound) {
    return (
      <Card>
        <Result
          status="404"
          title={t('record.notFound', '未找到该居民档案')}
          subTitle={id}
          extra={<a href="#/residents">{t('record.backToList', '返回居民列表')}</a>}
        />
      </Card>
    );
  }

  return (
    <div data-testid="resident-record">
      <PageHeader title={t('record.title', '居民健康档案')} crumbs={crumbs} extra={back} />
      {emergencyUntil && <EmergencyBanner until={emergencyUntil} />}
      {outOfScope && !record && !loading && (
        <>
          <OutOfScopeResult canBreakGlass={canBreakGlass} onBreakGlass={() => setAskingAccess(true)} />
          <BreakGlassModal
            patientId={id}
            open={askingAccess}
            onClose={() => setAskingAccess(false)}
            onGranted={() => {
              setAskingAccess(false);
              reload();
            }}
          />
        </>
      )}
      {error && (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('record.loadFailed', '档案加载失败')}
          description={error}
          action={<Button onClick={reload}>{t('common.retry', '重试')}</Button>}
        />
      )}
      {outOfScope && !record && !loading ? null : !record || !patient ? (
        !error && (
          <Card>
            <Skeleton active avatar paragraph={{ rows: 6 }} />
          </Card>
        )
      ) : (
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          <Demographics patient={patient} record={record} />
          <PersonFacilitiesCard patientId={id} />
          <Row gutter={[16, 16]}>
            <Col xs={24} xl={10}>
              <EncounterTimeline encounters={record.encounters} names={record.referenceNames} />
            </Col>
            <Col xs={24} xl={14}>
              <VitalCharts record={record} />
            </Col>
          </Row>
          <Card className="yf-record-tabs">
            <Tabs
              items={[
                {
                  key: 'conditions',
                  label: tabLabel(t('record.tab.conditions', '诊断'), record.conditions.length),
                  children: <ConditionsTable conditions={record.conditions} />,
                },
                {
                  key: 'medications',
                  label: tabLabel(t('record.tab.medications', '用药'), record.medications.length),
                  children: <MedicationsTable medications={record.medications} names={record.referenceNames} />,
                },
                {
                  key: 'labs',
                  label: tabLabel(t('record.tab.labs', '检验检查'), record.labs.length),
                  children: <LabsTable labs={record.labs} />,
                },
                {
                  key: 'immunizations',
                  label: tabLabel(t('record.tab.immunizations', '预防接种'), record.immunizations.length),
                  children: <ImmunizationsTable immunizations={record.immunizations} />,
                },
                {
                  key: 'procedures',
                  label: tabLabel(t('record.tab.procedures', '手术/操作'), record.procedures.length),
                  children: <ProceduresTable procedures={record.procedures} />,
                },
              ]}
            />
          </Card>
        </Space>
      )}
    </div>
  );
}
