/**
 * 诊疗时间轴 (merged): every linked Patient's encounters, diagnoses, medications, labs, vital
 * signs, immunizations and care plans in one table, newest first, each with its facility;
 * filtered by facility and kind, paged by the server with a total.
 */
import { Alert, Card, Select, Space, Table, Tag, Typography } from 'antd';
import { HistoryOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import { formatDate } from '../shared/format.js';
import { statusLabel } from './labels.js';
import type { MergedRecord, TimelineItem, TimelineKind } from './merged-record.resource.js';
import { facilityText } from './merged-header.component.js';

export const KINDS: TimelineKind[] = ['encounter', 'condition', 'medication', 'lab', 'vital', 'observation', 'immunization', 'careplan'];

const KIND_COLOR: Record<TimelineKind, string> = {
  encounter: 'cyan',
  condition: 'red',
  medication: 'purple',
  lab: 'blue',
  vital: 'green',
  observation: 'default',
  immunization: 'gold',
  careplan: 'geekblue',
};

export function kindLabel(kind: TimelineKind): string {
  return {
    encounter: t('merged.kind.encounter', '就诊'),
    condition: t('merged.kind.condition', '诊断'),
    medication: t('merged.kind.medication', '用药'),
    lab: t('merged.kind.lab', '检验'),
    vital: t('merged.kind.vital', '体征'),
    observation: t('merged.kind.observation', '其他观察'),
    immunization: t('merged.kind.immunization', '接种'),
    careplan: t('merged.kind.careplan', '管理计划'),
  }[kind];
}

export interface TimelineFilter {
  facility?: string;
  types: TimelineKind[];
  page: number;
  pageSize: number;
}

export function MergedTimeline({
  record,
  filter,
  loading,
  onChange,
}: {
  record: MergedRecord;
  filter: TimelineFilter;
  loading: boolean;
  onChange(filter: TimelineFilter): void;
}) {
  const { timeline } = record;
  return (
    <Card
      title={
        <Space>
          <HistoryOutlined />
          {t('merged.timeline', '诊疗时间轴（全部机构）')}
        </Space>
      }
      extra={
        <Typography.Text type="secondary" data-testid="timeline-total">
          {t('merged.total', '共 {n} 条', { n: timeline.total })}
        </Typography.Text>
      }
      data-testid="merged-timeline"
    >
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          data-testid="facility-filter"
          style={{ minWidth: 220 }}
          value={filter.facility ?? ''}
          onChange={(v: string) => onChange({ ...filter, facility: v || undefined, page: 1 })}
          options={[
            { value: '', label: t('merged.allFacilities', '全部机构') },
            ...record.facilities.map((f) => ({ value: f.id, label: f.name ?? f.id })),
          ]}
        />
        <Select
          data-testid="kind-filter"
          mode="multiple"
          allowClear
          style={{ minWidth: 280 }}
          placeholder={t('merged.allKinds', '全部类型')}
          value={filter.types}
          onChange={(v: TimelineKind[]) => onChange({ ...filter, types: v, page: 1 })}
          options={KINDS.map((k) => ({ value: k, label: kindLabel(k) }))}
        />
      </Space>
      {timeline.withheld > 0 && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          data-testid="withheld-items"
          message={t('merged.withheldItems', '{n} 条记录超出您的授权范围，未显示', { n: timeline.withheld })}
        />
      )}
      <Table<TimelineItem>
        data-testid="timeline-table"
        size="small"
        rowKey="key"
        loading={loading}
        dataSource={timeline.items}
        scroll={{ x: true }}
        pagination={{
          current: filter.page,
          pageSize: filter.pageSize,
          // The server serves the first 1000 items by offset.
          total: Math.min(timeline.total, 1000),
          showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100],
          showTotal: () => t('merged.total', '共 {n} 条', { n: timeline.total }),
          onChange: (page, pageSize) => onChange({ ...filter, page: pageSize === filter.pageSize ? page : 1, pageSize }),
        }}
        columns={[
          {
            title: t('merged.col.date', '日期'),
            key: 'date',
            width: 120,
            render: (_, i) => <span className="yf-nowrap">{i.date ? formatDate(i.date) : '—'}</span>,
          },
          {
            title: t('merged.col.kind', '类型'),
            key: 'kind',
            width: 100,
            render: (_, i) => <Tag color={KIND_COLOR[i.kind]}>{kindLabel(i.kind)}</Tag>,
          },
          { title: t('merged.col.title', '项目'), key: 'title', render: (_, i) => i.title },
          { title: t('merged.col.detail', '结果/说明'), key: 'detail', render: (_, i) => i.detail ?? '—' },
          {
            title: t('merged.col.status', '状态'),
            key: 'status',
            width: 100,
            render: (_, i) => (i.status ? statusLabel(i.status) || i.status : '—'),
          },
          {
            title: t('merged.col.facility', '机构'),
            key: 'facility',
            render: (_, i) => <span data-testid="item-facility">{facilityText(i)}</span>,
          },
          {
            title: t('merged.col.source', '来源档案'),
            key: 'source',
            width: 130,
            render: (_, i) => <Typography.Text type="secondary">{i.sourcePatient}</Typography.Text>,
          },
        ]}
      />
    </Card>
  );
}
