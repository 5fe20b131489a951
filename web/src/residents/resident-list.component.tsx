/** 居民档案: search residents by name or ID number and open a record. */
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Empty, Input, Space, Table, Typography, type TableColumnsType } from 'antd';
import { LeftOutlined, RightOutlined, ManOutlined, WomanOutlined } from '@ant-design/icons';
import type { Patient } from '@medplum/fhirtypes';
import { looksLikeIdNumber } from '../api/patient.resource.js';
import { t } from '../i18n/i18n.js';
import { formatAge, formatDate, genderLabel, maskIdNumber } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href, navigate } from '../shell/router.js';
import { residentAddress, residentIdNumber, residentName, residentPhone } from './resident.model.js';
import { useResidentSearch } from './useResidentSearch.js';

function GenderCell({ gender }: { gender?: string }) {
  const label = genderLabel(gender);
  if (!label) return <Typography.Text type="secondary">—</Typography.Text>;
  const icon =
    gender === 'male' ? (
      <ManOutlined style={{ color: '#1677ff' }} />
    ) : gender === 'female' ? (
      <WomanOutlined style={{ color: '#eb2f96' }} />
    ) : null;
  return (
    <Space size={4}>
      {icon}
      {label}
    </Space>
  );
}

export function ResidentListPage({ query }: { query: string }) {
  const [text, setText] = useState(query);
  const search = useResidentSearch(query);

  useEffect(() => setText(query), [query]);

  const submit = (value: string) => navigate('/residents', { q: value.trim() || undefined });
  const dash = <Typography.Text type="secondary">—</Typography.Text>;

  const columns: TableColumnsType<Patient> = [
    {
      title: t('residents.col.name', '姓名'),
      key: 'name',
      render: (_, patient) => (
        <a href={href(`/residents/${patient.id}`)} data-testid="resident-link">
          {residentName(patient)}
        </a>
      ),
    },
    {
      title: t('residents.col.gender', '性别'),
      key: 'gender',
      width: 90,
      render: (_, patient) => <GenderCell gender={patient.gender} />,
    },
    {
      title: t('residents.col.birth', '出生日期/年龄'),
      key: 'birth',
      width: 170,
      render: (_, patient) =>
        patient.birthDate ? (
          <span>
            {formatDate(patient.birthDate)}
            <Typography.Text type="secondary">
              {t('record.ageParen', '（{age}）', {
                age: patient.deceasedBoolean || patient.deceasedDateTime ? t('record.deceased', '已故') : formatAge(patient.birthDate),
              })}
            </Typography.Text>
          </span>
        ) : (
          dash
        ),
    },
    {
      title: t('residents.col.idNumber', '公民身份号码'),
      key: 'idNumber',
      width: 200,
      render: (_, patient) => {
        const value = residentIdNumber(patient);
        return value ? <span className="yf-mono">{maskIdNumber(value)}</span> : dash;
      },
    },
    {
      title: t('residents.col.address', '现住址'),
      key: 'address',
      ellipsis: true,
      render: (_, patient) => residentAddress(patient) || dash,
    },
    {
      title: t('residents.col.phone', '电话'),
      key: 'phone',
      width: 150,
      render: (_, patient) => residentPhone(patient) || dash,
    },
  ];

  const totalText =
    search.total !== undefined
      ? t('residents.total', '共 {n} 人', { n: search.total })
      : t('residents.shown', '本页 {n} 人', { n: search.residents.length });

  return (
    <div data-testid="resident-list">
      <PageHeader
        title={t('nav.residents', '居民档案')}
        crumbs={[{ title: t('nav.home', '首页/工作台'), href: '#/' }, { title: t('nav.residents', '居民档案') }]}
      />
      <Card>
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          <Input.Search
            data-testid="resident-search"
            allowClear
            enterButton={t('residents.search', '查询')}
            size="large"
            placeholder={t('residents.searchPlaceholder', '输入姓名或公民身份号码')}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onSearch={submit}
            style={{ maxWidth: 560 }}
          />
          {query && (
            <Typography.Text type="secondary">
              {looksLikeIdNumber(query)
                ? t('residents.searchingId', '按公民身份号码查询：{q}', { q: query })
                : t('residents.searchingName', '按姓名查询：{q}', { q: query })}
            </Typography.Text>
          )}
          {search.error && (
            <Alert
              type="error"
              showIcon
              message={t('residents.error', '查询失败')}
              description={search.error}
              action={<Button onClick={search.reload}>{t('common.retry', '重试')}</Button>}
            />
          )}
          <Table<Patient>
            data-testid="resident-table"
            rowKey={(patient) => patient.id ?? residentName(patient)}
            columns={columns}
            dataSource={search.residents}
            loading={search.loading}
            pagination={false}
            size="middle"
            onRow={(patient) => ({
              onDoubleClick: () => patient.id && navigate(`/residents/${patient.id}`),
            })}
            locale={{
              emptyText: (
                <Empty
                  image={Empty.PRESENTED_IMAGE_SIMPLE}
                  description={query ? t('residents.noMatch', '没有找到匹配的居民') : t('residents.none', '暂无居民档案')}
                />
              ),
            }}
          />
          <div className="yf-pager">
            <Typography.Text type="secondary">
              {totalText} · {t('residents.page', '第 {n} 页', { n: search.page })}
            </Typography.Text>
            <Space>
              <Button icon={<LeftOutlined />} disabled={!search.hasPrevious} onClick={search.previous} data-testid="page-previous">
                {t('residents.previous', '上一页')}
              </Button>
              <Button disabled={!search.hasNext} onClick={search.next} data-testid="page-next">
                {t('residents.next', '下一页')} <RightOutlined />
              </Button>
            </Space>
          </div>
        </Space>
      </Card>
    </div>
  );
}
