/** 免疫处方: printable list of vaccines due for one resident (from the ImmunizationRecommendation). */
import { useEffect, useState } from 'react';
import { App, Button, Card, Descriptions, Table, Tag } from 'antd';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import type { ImmunizationRecommendation } from '@medplum/fhirtypes';
import { getRecommendation } from '../chronic/chronic.resource.js';

export function ImmunizationPrescriptionPage({ id }: { id: string }) {
  const { message } = App.useApp();
  const [rec, setRec] = useState<ImmunizationRecommendation | null>(null);
  useEffect(
    () =>
      void getRecommendation(id)
        .then(setRec)
        .catch((e: Error) => message.error(e.message)),
    [id, message],
  );
  return (
    <>
      <div className="yf-no-print">
        <PageHeader
          title={t('imm.title', '免疫处方')}
          crumbs={[{ title: t('nav.chronic', '慢病与家庭医生') }, { title: t('imm.title', '免疫处方') }]}
          extra={
            <Button type="primary" onClick={() => window.print()}>
              {t('imm.print', '打印')}
            </Button>
          }
        />
      </div>
      <Card loading={!rec} className="yf-print-sheet">
        <h2 style={{ textAlign: 'center' }}>{t('imm.sheet', '预防接种处方（免疫处方）')}</h2>
        <Descriptions size="small" column={2}>
          <Descriptions.Item label={t('imm.resident', '居民')}>{rec?.patient.display ?? id}</Descriptions.Item>
          <Descriptions.Item label={t('imm.date', '开具日期')}>{rec?.date?.slice(0, 10)}</Descriptions.Item>
        </Descriptions>
        <Table
          size="small"
          pagination={false}
          rowKey={(r) => `${r.vaccineCode?.[0]?.coding?.[0]?.code}-${r.doseNumberPositiveInt}`}
          dataSource={rec?.recommendation ?? []}
          locale={{ emptyText: t('imm.none', '目前无应种疫苗') }}
          columns={[
            { title: t('imm.vaccine', '疫苗'), key: 'v', render: (_: unknown, r) => r.vaccineCode?.[0]?.text },
            { title: t('imm.dose', '剂次'), dataIndex: 'doseNumberPositiveInt' },
            { title: t('imm.due', '应种日期'), key: 'd', render: (_: unknown, r) => r.dateCriterion?.[0]?.value.slice(0, 10) },
            {
              title: t('imm.status', '状态'),
              key: 's',
              render: (_: unknown, r) => (
                <Tag color={r.forecastStatus.coding?.[0]?.code === 'overdue' ? 'red' : 'blue'}>{r.forecastStatus.text}</Tag>
              ),
            },
            { title: t('imm.reason', '说明'), dataIndex: 'description' },
            { title: t('imm.schedule', '程序'), dataIndex: 'series' },
          ]}
        />
        <p style={{ marginTop: 24 }}>{t('imm.footer', '医生签名：____________　　接种单位：____________')}</p>
      </Card>
    </>
  );
}
