/**
 * The head of the merged record (一人一档): who the resident is across facilities, the facilities
 * holding a record of them, and — when the facilities disagree — the fields side by side.
 */
import { useState } from 'react';
import { Alert, Avatar, Button, Card, Descriptions, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd';
import { EyeInvisibleOutlined, EyeOutlined, UserOutlined, WarningOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import { formatAge, formatDate, genderLabel, maskIdNumber } from '../shared/format.js';
import type { DemographicComparison, LinkedPatient, MergedRecord } from './merged-record.resource.js';

export function fieldLabel(field: DemographicComparison['field']): string {
  return {
    name: t('residents.col.name', '姓名'),
    gender: t('residents.col.gender', '性别'),
    birthDate: t('record.birthDate', '出生日期'),
    idNumber: t('residents.col.idNumber', '公民身份号码'),
    phone: t('residents.col.phone', '电话'),
    address: t('residents.col.address', '现住址'),
  }[field];
}

function shownValue(field: DemographicComparison['field'], value: string | null, reveal: boolean): string {
  if (!value) return '—';
  if (field === 'gender') return genderLabel(value) || value;
  if (field === 'birthDate') return formatDate(value);
  if (field === 'idNumber' && !reveal) return maskIdNumber(value);
  return value;
}

const ASSURANCE: Record<string, [string, string, string]> = {
  level4: ['identity.level4', '身份证号一致', 'green'],
  level3: ['identity.level3', '高度匹配', 'blue'],
  level2: ['identity.level2', '待核查', 'gold'],
};

export function facilityText(p: Pick<LinkedPatient, 'facilityName' | 'facilityId'>): string {
  return p.facilityName ?? p.facilityId ?? t('merged.unknownFacility', '未知机构');
}

export function MergedHeader({ record }: { record: MergedRecord }) {
  const [reveal, setReveal] = useState(false);
  const value = (field: DemographicComparison['field']) => record.demographics.find((d) => d.field === field);
  const name = value('name')?.value ?? t('resident.unnamed', '（未登记姓名）');
  const gender = value('gender')?.value ?? undefined;
  const birth = value('birthDate')?.value ?? undefined;
  const conflicts = record.demographics.filter((d) => d.conflict);
  const cell = (field: DemographicComparison['field']) => {
    const d = value(field);
    const text = shownValue(field, d?.value ?? null, reveal);
    return (
      <Space size={4}>
        <span className={field === 'idNumber' ? 'yf-mono yf-nowrap' : undefined} data-testid={`merged-${field}`}>
          {text}
        </span>
        {d?.conflict && (
          <Tooltip title={t('merged.conflictHint', '各机构记录不一致，见下方对照表')}>
            <Tag color="warning" icon={<WarningOutlined />}>
              {t('merged.conflict', '不一致')}
            </Tag>
          </Tooltip>
        )}
      </Space>
    );
  };

  return (
    <Card data-testid="demographics" className="yf-demographics">
      <div className="yf-demographics-head">
        <Space size={16} align="center">
          <Avatar size={56} icon={<UserOutlined />} style={{ background: gender === 'female' ? '#c41d7f' : '#0f7b6c' }} />
          <div>
            <Space size={8} align="baseline" wrap>
              <Typography.Title level={3} style={{ margin: 0 }} data-testid="resident-name">
                {name}
              </Typography.Title>
              {genderLabel(gender) && <Tag>{genderLabel(gender)}</Tag>}
              {birth && <Tag color="blue">{formatAge(birth)}</Tag>}
            </Space>
            <Typography.Text type="secondary">
              {record.personId
                ? t('merged.personId', '居民主索引 {id}', { id: record.personId })
                : t('record.recordId', '档案编号 {id}', { id: record.requestedId })}
            </Typography.Text>
          </div>
        </Space>
        <Space size={28} wrap className="yf-demographics-stats">
          <Statistic title={t('merged.stat.facilities', '机构档案')} value={record.patients.length} />
          <Statistic title={t('merged.stat.items', '记录')} value={record.timeline.total} />
          <Statistic title={t('merged.stat.conflicts', '不一致项')} value={record.conflicts} />
        </Space>
      </div>
      {record.withheldPatients > 0 && (
        <Alert
          type="info"
          showIcon
          style={{ marginTop: 16 }}
          data-testid="withheld-patients"
          message={t('merged.withheldPatients', '另有 {n} 份其他机构的档案超出您的授权范围，未显示', { n: record.withheldPatients })}
        />
      )}
      <Descriptions
        style={{ marginTop: 16 }}
        size="small"
        column={{ xs: 1, sm: 2, lg: 3 }}
        items={[
          { key: 'gender', label: fieldLabel('gender'), children: cell('gender') },
          {
            key: 'birth',
            label: fieldLabel('birthDate'),
            children: cell('birthDate'),
          },
          {
            key: 'idNumber',
            label: fieldLabel('idNumber'),
            children: (
              <Space size={4}>
                {cell('idNumber')}
                <Button
                  type="text"
                  size="small"
                  icon={reveal ? <EyeInvisibleOutlined /> : <EyeOutlined />}
                  onClick={() => setReveal((s) => !s)}
                  aria-label={reveal ? t('record.hideId', '隐藏') : t('record.showId', '显示完整号码')}
                />
              </Space>
            ),
          },
          { key: 'phone', label: fieldLabel('phone'), children: cell('phone') },
          { key: 'address', label: fieldLabel('address'), children: cell('address'), span: 2 },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 8 }}>
        {t('merged.facilities', '各机构档案')}
      </Typography.Title>
      <Table<LinkedPatient>
        size="small"
        rowKey="patientId"
        pagination={false}
        dataSource={record.patients}
        data-testid="linked-patients"
        className="yf-person-facilities"
        columns={[
          { title: t('merged.facility', '机构'), key: 'f', render: (_, p) => facilityText(p) },
          {
            title: t('merged.patientId', '机构档案号'),
            dataIndex: 'patientId',
            render: (v: string) => <a href={`#/residents/${v}`}>{v}</a>,
          },
          {
            title: t('merged.assurance', '关联依据'),
            key: 'a',
            render: (_, p) => {
              const a = p.assurance ? ASSURANCE[p.assurance] : undefined;
              return a ? <Tag color={a[2]}>{t(a[0], a[1])}</Tag> : <Typography.Text type="secondary">—</Typography.Text>;
            },
          },
          { title: t('merged.updated', '最近更新'), key: 'u', render: (_, p) => formatDate(p.lastUpdated ?? undefined, true) || '—' },
        ]}
      />
      {conflicts.length > 0 && (
        <div data-testid="conflict-table" style={{ marginTop: 16 }}>
          <Typography.Title level={5}>
            <WarningOutlined style={{ color: '#d48806' }} /> {t('merged.conflicts', '各机构记录不一致（并排对照）')}
          </Typography.Title>
          <Table
            size="small"
            rowKey="field"
            pagination={false}
            dataSource={conflicts}
            scroll={{ x: true }}
            columns={[
              { title: t('merged.field', '项目'), key: 'field', render: (_, d: DemographicComparison) => fieldLabel(d.field), width: 120 },
              ...record.patients.map((p) => ({
                title: (
                  <span>
                    {facilityText(p)}
                    <br />
                    <Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>
                      {p.patientId}
                    </Typography.Text>
                  </span>
                ),
                key: p.patientId,
                render: (_: unknown, d: DemographicComparison) => {
                  const v = d.values.find((x) => x.source === p.patientId)?.value ?? null;
                  const differs = !!v && !!d.value && v !== d.value;
                  return (
                    <span
                      className={differs ? 'yf-conflict-value' : undefined}
                      style={differs ? { color: '#d4380d', fontWeight: 600 } : undefined}
                    >
                      {shownValue(d.field, v, reveal)}
                    </span>
                  );
                },
              })),
            ]}
          />
        </div>
      )}
    </Card>
  );
}
