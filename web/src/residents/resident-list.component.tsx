/** 居民档案: find residents by name, pinyin initials, ID number or phone and open their merged record. */
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Empty, Input, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { LeftOutlined, RightOutlined, ManOutlined, WomanOutlined } from '@ant-design/icons';
import { t } from '../i18n/i18n.js';
import { formatAge, formatDate, genderLabel, maskIdNumber } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import { href, navigate } from '../shell/router.js';
import { useResidentSearch, type ResidentRow } from './useResidentSearch.js';

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

  const columns: TableColumnsType<ResidentRow> = [
    {
      title: t('residents.col.name', '姓名'),
      key: 'name',
      render: (_, row) => (
        <a href={href(`/residents/${row.recordId}`)} data-testid="resident-link" data-value="name">
          {row.name}
        </a>
      ),
    },
    {
      title: t('residents.col.gender', '性别'),
      key: 'gender',
      width: 90,
      render: (_, row) => <GenderCell gender={row.gender} />,
    },
    {
      title: t('residents.col.birth', '出生日期/年龄'),
      key: 'birth',
      width: 170,
      render: (_, row) =>
        row.birthDate ? (
          <span>
            {formatDate(row.birthDate)}
            <Typography.Text type="secondary">
              {t('record.ageParen', '（{age}）', {
                age: row.deceased ? t('record.deceased', '已故') : formatAge(row.birthDate),
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
      render: (_, row) => (row.idNumber ? <span className="yf-mono">{maskIdNumber(row.idNumber)}</span> : dash),
    },
    {
      title: t('residents.col.address', '现住址'),
      key: 'address',
      ellipsis: true,
      render: (_, row) => row.address || dash,
    },
    {
      title: t('residents.col.phone', '电话'),
      key: 'phone',
      width: 150,
      render: (_, row) => row.phone || dash,
    },
    {
      title: t('residents.col.facilities', '建档机构'),
      key: 'facilities',
      render: (_, row) =>
        row.facilities.length ? (
          <Space size={[4, 4]} wrap>
            {row.facilities.map((f) => (
              <Tag key={f}>{f}</Tag>
            ))}
          </Space>
        ) : (
          dash
        ),
    },
  ];

  const totalText =
    search.total !== undefined
      ? search.capped
        ? t('residents.totalCapped', '超过 {n} 人，请输入更多内容', { n: search.total })
        : t('residents.total', '共 {n} 人', { n: search.total })
      : t('residents.shown', '本页 {n} 人', { n: search.rows.length });
  const kindText: Record<string, string> = {
    name: t('residents.searchingName', '按姓名查询：{q}', { q: query }),
    pinyin: t('residents.searchingPinyin', '按拼音（首字母）查询：{q}', { q: query }),
    idNumber: t('residents.searchingId', '按公民身份号码查询：{q}', { q: query }),
    phone: t('residents.searchingPhone', '按电话号码查询：{q}', { q: query }),
    digits: t('residents.searchingDigits', '按身份证号或电话号码（开头或末尾数字）查询：{q}', { q: query }),
  };

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
            placeholder={t('residents.findPlaceholder', '输入姓名、拼音首字母、身份证号或电话')}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onSearch={submit}
            style={{ maxWidth: 560 }}
          />
          {query && search.kind && (
            <Typography.Text type="secondary" data-testid="search-kind">
              {kindText[search.kind]}
            </Typography.Text>
          )}
          {search.withheld > 0 && (
            <Alert
              type="info"
              showIcon
              message={t('residents.withheld', '本页另有 {n} 人超出您的授权范围，未显示', { n: search.withheld })}
            />
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
          <Table<ResidentRow>
            data-testid="resident-table"
            rowKey="key"
            columns={columns}
            dataSource={search.rows}
            loading={search.loading}
            pagination={false}
            size="middle"
            onRow={(row) => ({
              onDoubleClick: () => row.recordId && navigate(`/residents/${row.recordId}`),
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
