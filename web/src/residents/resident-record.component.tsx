/**
 * 居民健康档案 (一人一档): the merged record of a resident from GET /api/residents/{id}/record —
 * the Person's demographics with the facilities' disagreements side by side, every facility's
 * record of them, and one timeline across facilities (filtered by facility and kind, paged with a
 * total), plus vital-sign charts over all facilities. A resident outside the user's scope is
 * refused in words, with emergency access (破窗) offered where the policy allows it; a red
 * banner shows while an emergency grant lasts.
 */
import { useEffect, useState } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Card, Col, Result, Row, Select, Skeleton, Space, Tabs } from 'antd';
import { ArrowLeftOutlined, ReloadOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { fetchPatientEverything } from '../api/patient.resource.js';
import { EncounterTimeline } from './encounter-timeline.component.js';
import { ConditionsTable, ImmunizationsTable, LabsTable, MedicationsTable, ProceduresTable } from './record-tables.component.js';
import { facilityText } from './merged-header.component.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { MergedHeader } from './merged-header.component.js';
import { fetchMergedRecord } from './merged-record.resource.js';
import { MergedTimeline, type TimelineFilter } from './merged-timeline.component.js';
import { buildRecordModel, type RecordModel } from './record.model.js';
import { useResidentRecord } from './useResidentRecord.js';
import { VitalCharts } from './vital-charts.component.js';
import { BreakGlassModal, EmergencyBanner, OutOfScopeResult } from './break-glass.component.js';

function tabLabel(text: string, count: number) {
  return (
    <Space size={6}>
      {text}
      <Badge count={count} showZero color={count ? '#0f7b6c' : '#bfbfbf'} overflowCount={999} />
    </Space>
  );
}

/** One facility's record in full ($everything of one linked Patient), for the detail tabs. */
function usePatientDetail(patientId: string | undefined): RecordModel | undefined {
  const [model, setModel] = useState<RecordModel>();
  useEffect(() => {
    setModel(undefined);
    if (!patientId) return;
    const controller = new AbortController();
    fetchPatientEverything(patientId, controller.signal)
      .then((resources) => setModel(buildRecordModel(resources)))
      .catch((e: unknown) => {
        if (!isAbort(e)) setModel(undefined);
      });
    return () => controller.abort();
  }, [patientId]);
  return model;
}

/** Vital signs over all facilities (the newest 100), for the charts. */
function useVitals(id: string, enabled: boolean): RecordModel | undefined {
  const [model, setModel] = useState<RecordModel>();
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    fetchMergedRecord(id, { limit: 100, offset: 0, types: ['vital', 'lab'] }, controller.signal)
      .then((r) => setModel(buildRecordModel(r.timeline.items.map((i) => i.resource as unknown as Resource))))
      .catch((e: unknown) => {
        if (!isAbort(e)) setModel(undefined);
      });
    return () => controller.abort();
  }, [id, enabled]);
  return model;
}

export function ResidentRecordPage({ id }: { id: string }) {
  const [filter, setFilter] = useState<TimelineFilter>({ types: [], page: 1, pageSize: 20 });
  useEffect(() => setFilter({ types: [], page: 1, pageSize: 20 }), [id]);
  const { record, loading, error, notFound, outOfScope, canBreakGlass, emergencyUntil, reload } = useResidentRecord(id, {
    limit: filter.pageSize,
    offset: (filter.page - 1) * filter.pageSize,
    types: filter.types,
    facility: filter.facility,
  });
  const [askingAccess, setAskingAccess] = useState(false);
  const vitals = useVitals(id, !!record);
  const [detailOf, setDetailOf] = useState<string>();
  const linked = record?.patients ?? [];
  const detailId = linked.some((p) => p.patientId === detailOf)
    ? detailOf
    : (linked.find((p) => p.patientId === id) ?? linked[0])?.patientId;
  const detail = usePatientDetail(detailId);
  const name = record?.demographics.find((d) => d.field === 'name')?.value;

  const crumbs = [
    { title: t('nav.home', '首页/工作台'), href: '#/' },
    { title: t('nav.residents', '居民档案'), href: '#/residents' },
    { title: name ?? id },
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
      {outOfScope && !record && !loading ? null : !record ? (
        !error && (
          <Card>
            <Skeleton active avatar paragraph={{ rows: 6 }} />
          </Card>
        )
      ) : (
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          <MergedHeader record={record} />
          <MergedTimeline record={record} filter={filter} loading={loading} onChange={setFilter} />
          {vitals && <VitalCharts record={vitals} />}
          <Card
            title={t('merged.detail', '机构档案详情')}
            extra={
              linked.length > 1 && (
                <Select
                  data-testid="detail-patient"
                  style={{ minWidth: 260 }}
                  value={detailId}
                  onChange={setDetailOf}
                  options={linked.map((p) => ({ value: p.patientId, label: `${facilityText(p)} · ${p.patientId}` }))}
                />
              )
            }
          >
            {!detail ? (
              <Skeleton active paragraph={{ rows: 4 }} />
            ) : (
              <Row gutter={[16, 16]}>
                <Col xs={24} xl={10}>
                  <EncounterTimeline encounters={detail.encounters} names={detail.referenceNames} />
                </Col>
                <Col xs={24} xl={14} className="yf-record-tabs">
                  <Tabs
                    items={[
                      {
                        key: 'conditions',
                        label: tabLabel(t('record.tab.conditions', '诊断'), detail.conditions.length),
                        children: <ConditionsTable conditions={detail.conditions} />,
                      },
                      {
                        key: 'medications',
                        label: tabLabel(t('record.tab.medications', '用药'), detail.medications.length),
                        children: <MedicationsTable medications={detail.medications} names={detail.referenceNames} />,
                      },
                      {
                        key: 'labs',
                        label: tabLabel(t('record.tab.labs', '检验检查'), detail.labs.length),
                        children: <LabsTable labs={detail.labs} />,
                      },
                      {
                        key: 'immunizations',
                        label: tabLabel(t('record.tab.immunizations', '预防接种'), detail.immunizations.length),
                        children: <ImmunizationsTable immunizations={detail.immunizations} />,
                      },
                      {
                        key: 'procedures',
                        label: tabLabel(t('record.tab.procedures', '手术/操作'), detail.procedures.length),
                        children: <ProceduresTable procedures={detail.procedures} />,
                      },
                    ]}
                  />
                </Col>
              </Row>
            )}
          </Card>
        </Space>
      )}
    </div>
  );
}
