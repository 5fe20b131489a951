/** 就诊时间轴: every encounter, newest first, with facility, class, type, reason and period. */
import { useState } from 'react';
import { Button, Card, Empty, Space, Tag, Timeline, Typography } from 'antd';
import { MedicineBoxOutlined } from '@ant-design/icons';
import type { Encounter } from '@medplum/fhirtypes';
import { t } from '../i18n/i18n.js';
import { conceptText, formatDate, formatPeriod } from '../shared/format.js';
import { encounterClassColor, encounterClassLabel, statusLabel } from './labels.js';
import { encounterTime, referenceName } from './record.model.js';

const INITIAL = 30;

export function EncounterTimeline({ encounters, names }: { encounters: Encounter[]; names: Map<string, string> }) {
  const [showAll, setShowAll] = useState(false);
  const visible = showAll ? encounters : encounters.slice(0, INITIAL);

  return (
    <Card
      title={
        <Space>
          <MedicineBoxOutlined />
          {t('record.timeline', '就诊时间轴')}
        </Space>
      }
      extra={<Typography.Text type="secondary">{t('record.timelineCount', '共 {n} 次', { n: encounters.length })}</Typography.Text>}
      data-testid="encounter-timeline"
      className="yf-timeline-card"
    >
      {encounters.length === 0 ? (
        <Empty description={t('record.noEncounters', '暂无就诊记录')} />
      ) : (
        <div className="yf-timeline-scroll">
          <Timeline
            items={visible.map((encounter, index) => {
              const facility = referenceName(encounter.serviceProvider, names) || referenceName(encounter.location?.[0]?.location, names);
              const type = encounter.type?.map(conceptText).filter(Boolean).join('；');
              const reasons = encounter.reasonCode?.map(conceptText).filter(Boolean).join('；');
              const doctor = referenceName(encounter.participant?.[0]?.individual, names);
              const classLabel = encounterClassLabel(encounter.class);
              return {
                key: encounter.id ?? index,
                color: encounter.class?.code === 'EMER' ? 'red' : encounter.class?.code === 'IMP' ? 'purple' : '#0f7b6c',
                children: (
                  <div className="yf-encounter" data-testid="encounter-item">
                    <div className="yf-encounter-head">
                      <Typography.Text strong>{formatDate(encounterTime(encounter))}</Typography.Text>
                      {classLabel && <Tag color={encounterClassColor(encounter.class?.code)}>{classLabel}</Tag>}
                      {encounter.status && encounter.status !== 'finished' && <Tag>{statusLabel(encounter.status)}</Tag>}
                      {facility && <Typography.Text>{facility}</Typography.Text>}
                    </div>
                    {type && <div className="yf-encounter-line">{type}</div>}
                    {reasons && (
                      <div className="yf-encounter-line">
                        <Typography.Text type="secondary">{t('record.reason', '就诊原因')}：</Typography.Text>
                        {reasons}
                      </div>
                    )}
                    <div className="yf-encounter-meta">
                      <Typography.Text type="secondary">{formatPeriod(encounter.period)}</Typography.Text>
                      {doctor && <Typography.Text type="secondary"> · {doctor}</Typography.Text>}
                    </div>
                  </div>
                ),
              };
            })}
          />
          {!showAll && encounters.length > INITIAL && (
            <Button block onClick={() => setShowAll(true)}>
              {t('record.showAllEncounters', '显示全部 {n} 次就诊', { n: encounters.length })}
            </Button>
          )}
        </div>
      )}
    </Card>
  );
}
