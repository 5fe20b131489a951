/** Who the resident is: name, sex, age, ID number, phone, address and every facility identifier. */
import { useState } from 'react';
import { Alert, Avatar, Button, Card, Descriptions, Space, Statistic, Tag, Tooltip, Typography } from 'antd';
import { EyeInvisibleOutlined, EyeOutlined, UserOutlined } from '@ant-design/icons';
import type { Patient } from '@medplum/fhirtypes';
import { t } from '../i18n/i18n.js';
import { conceptText, formatAge, formatDate, genderLabel, hasCode, maskIdNumber } from '../shared/format.js';
import { maritalStatusLabel } from './labels.js';
import { identifierLabel, residentAddress, residentIdNumber, residentName, residentPhone } from './resident.model.js';
import type { RecordModel } from './record.model.js';

function IdNumber({ value }: { value: string }) {
  const [shown, setShown] = useState(false);
  return (
    <Space size={4}>
      <span className="yf-mono yf-nowrap" data-testid="resident-id-number">
        {shown ? value : maskIdNumber(value)}
      </span>
      <Tooltip title={shown ? t('record.hideId', '隐藏') : t('record.showId', '显示完整号码')}>
        <Button
          type="text"
          size="small"
          icon={shown ? <EyeInvisibleOutlined /> : <EyeOutlined />}
          onClick={() => setShown((s) => !s)}
          aria-label={shown ? t('record.hideId', '隐藏') : t('record.showId', '显示完整号码')}
        />
      </Tooltip>
    </Space>
  );
}

export function Demographics({ patient, record }: { patient: Patient; record: RecordModel }) {
  const idNumber = residentIdNumber(patient);
  const deceased = patient.deceasedDateTime ?? (patient.deceasedBoolean ? true : undefined);
  const dash = <Typography.Text type="secondary">—</Typography.Text>;
  const identifiers = (patient.identifier ?? []).filter((id) => id.value && id.value !== idNumber);
  const allergies = record.allergies.filter((a) => !hasCode(a.clinicalStatus, ['inactive', 'resolved']));

  return (
    <Card data-testid="demographics" className="yf-demographics">
      <div className="yf-demographics-head">
        <Space size={16} align="center">
          <Avatar size={56} icon={<UserOutlined />} style={{ background: patient.gender === 'female' ? '#c41d7f' : '#0f7b6c' }} />
          <div>
            <Space size={8} align="baseline" wrap>
              <Typography.Title level={3} style={{ margin: 0 }} data-testid="resident-name">
                {residentName(patient)}
              </Typography.Title>
              {genderLabel(patient.gender) && <Tag>{genderLabel(patient.gender)}</Tag>}
              {patient.birthDate && !deceased && <Tag color="blue">{formatAge(patient.birthDate)}</Tag>}
              {deceased && (
                <Tag color="default">
                  {t('record.deceased', '已故')}
                  {typeof deceased === 'string' ? ` ${formatDate(deceased)}` : ''}
                </Tag>
              )}
              {patient.active === false && <Tag color="warning">{t('record.inactive', '档案已停用')}</Tag>}
            </Space>
            <Typography.Text type="secondary">{t('record.recordId', '档案编号 {id}', { id: patient.id ?? '' })}</Typography.Text>
          </div>
        </Space>
        <Space size={28} wrap className="yf-demographics-stats">
          <Statistic title={t('record.stat.encounters', '就诊')} value={record.encounters.length} />
          <Statistic title={t('record.stat.conditions', '诊断')} value={record.conditions.length} />
          <Statistic title={t('record.stat.medications', '用药')} value={record.medications.length} />
          <Statistic title={t('record.stat.labs', '检验')} value={record.labs.length} />
          <Statistic title={t('record.stat.immunizations', '接种')} value={record.immunizations.length} />
        </Space>
      </div>
      {allergies.length > 0 && (
        <Alert
          type="warning"
          showIcon
          style={{ marginTop: 16 }}
          message={t('record.allergies', '过敏史：{list}', {
            list: allergies
              .map((a) => conceptText(a.code))
              .filter(Boolean)
              .join('、'),
          })}
        />
      )}
      <Descriptions
        style={{ marginTop: 16 }}
        size="small"
        column={{ xs: 1, sm: 2, lg: 3 }}
        items={[
          { key: 'gender', label: t('residents.col.gender', '性别'), children: genderLabel(patient.gender) || dash },
          {
            key: 'birth',
            label: t('record.birthDate', '出生日期'),
            children: patient.birthDate
              ? `${formatDate(patient.birthDate)}${deceased ? '' : t('record.ageParen', '（{age}）', { age: formatAge(patient.birthDate) })}`
              : dash,
          },
          {
            key: 'idNumber',
            label: t('residents.col.idNumber', '公民身份号码'),
            children: idNumber ? <IdNumber value={idNumber} /> : dash,
          },
          { key: 'phone', label: t('residents.col.phone', '电话'), children: residentPhone(patient) || dash },
          { key: 'address', label: t('residents.col.address', '现住址'), children: residentAddress(patient) || dash, span: 2 },
          {
            key: 'marital',
            label: t('record.marital', '婚姻状况'),
            children: maritalStatusLabel(patient.maritalStatus?.coding?.[0]?.code) ?? (conceptText(patient.maritalStatus) || dash),
          },
          {
            key: 'managing',
            label: t('record.managingOrg', '管理机构'),
            children:
              patient.managingOrganization?.display ?? record.referenceNames.get(patient.managingOrganization?.reference ?? '') ?? dash,
          },
          {
            key: 'gp',
            label: t('record.gp', '家庭医生'),
            children:
              (patient.generalPractitioner ?? [])
                .map((gp) => gp.display)
                .filter(Boolean)
                .join('、') || dash,
          },
          {
            key: 'identifiers',
            label: t('record.identifiers', '各机构标识'),
            span: 'filled',
            children: identifiers.length ? (
              <Space size={[8, 6]} wrap data-testid="identifiers">
                {identifiers.map((id, index) => (
                  <Tag key={`${id.system}-${index}`} className="yf-identifier">
                    <Typography.Text type="secondary">{identifierLabel(id)}：</Typography.Text>
                    <span className="yf-mono">{id.value}</span>
                  </Tag>
                ))}
              </Space>
            ) : (
              dash
            ),
          },
        ]}
      />
    </Card>
  );
}
