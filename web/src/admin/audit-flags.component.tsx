/**
 * 审计查阅 · 异常: unusual patterns the server finds (one user reading many residents in a day,
 * reads outside working hours, emergency "break-glass" access). Choosing one shows its events.
 */
import { useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Empty,
  Form,
  InputNumber,
  Result,
  Space,
  Table,
  Tag,
  Typography,
  type TableColumnsType,
} from 'antd';
import { ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { fetchAuditFlags, type AuditFlag, type AuditFlagsAnswer } from '../api/audit.resource.js';
import { ApiError, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { flagDetail, flagKindColor, flagKindLabel } from './audit-words.js';

interface FlagQuery {
  range?: [Dayjs | null, Dayjs | null];
  maxResidents: number;
}

const DAY = 'YYYY-MM-DD';

export function AuditFlagsTab({ onPick }: { onPick: (flag: AuditFlag) => void }) {
  const [form] = Form.useForm<FlagQuery>();
  const [query, setQuery] = useState<{ from?: string; to?: string; maxResidents: number }>({ maxResidents: 50 });
  const [answer, setAnswer] = useState<AuditFlagsAnswer>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [forbidden, setForbidden] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchAuditFlags(query, c.signal)
      .then((a) => {
        setAnswer(a);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setForbidden(e instanceof ApiError && e.status === 403);
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [query, reload]);

  if (forbidden) return <Result status="403" title="403" subTitle={t('audit.forbidden.review', '仅系统管理员和审计员可查阅审计记录。')} />;

  const max = answer?.maxResidents ?? query.maxResidents;
  const hours = answer?.workingHours ?? '07:00–20:00 UTC+8';

  const columns: TableColumnsType<AuditFlag> = [
    {
      title: t('audit.flag.kind', '类型'),
      key: 'kind',
      width: 170,
      render: (_, f) => <Tag color={flagKindColor(f.kind)}>{flagKindLabel(f.kind)}</Tag>,
    },
    {
      title: t('audit.user', '用户'),
      key: 'user',
      width: 180,
      render: (_, f) => (
        <Space direction="vertical" size={0}>
          <span>{f.userName || f.username}</span>
          {f.username && f.username !== f.userName && (
            <Typography.Text type="secondary" className="yf-mono">
              {f.username}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: t('audit.flag.day', '日期'), dataIndex: 'day', width: 120 },
    {
      title: t('audit.flag.count', '数量'),
      key: 'count',
      width: 110,
      render: (_, f) =>
        f.kind === 'many-residents'
          ? t('audit.flag.residents', '{n} 位居民', { n: f.count })
          : t('audit.flag.times', '{n} 次', { n: f.count }),
    },
    { title: t('audit.flag.detail', '说明'), key: 'detail', render: (_, f) => flagDetail(f.kind, f.count, max, hours) },
    {
      title: '',
      key: 'open',
      width: 120,
      render: (_, f) => (
        <Button
          type="link"
          size="small"
          onClick={(e) => {
            e.stopPropagation();
            onPick(f);
          }}
        >
          {t('audit.flag.open', '查看事件')}
        </Button>
      ),
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card size="small">
        <Form<FlagQuery>
          form={form}
          layout="inline"
          initialValues={{ maxResidents: 50 }}
          onFinish={(v) =>
            setQuery({
              from: v.range?.[0]?.format(DAY),
              to: v.range?.[1]?.format(DAY),
              maxResidents: v.maxResidents ?? 50,
            })
          }
        >
          <Form.Item name="range" label={t('audit.flag.period', '期间')}>
            <DatePicker.RangePicker allowEmpty={[true, true]} />
          </Form.Item>
          <Form.Item name="maxResidents" label={t('audit.flag.max', '单人单日调阅居民上限')}>
            <InputNumber min={0} max={100000} style={{ width: 110 }} />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="audit-flags-search">
              {t('audit.search', '查询')}
            </Button>
          </Form.Item>
        </Form>
        <Typography.Paragraph type="secondary" style={{ margin: '12px 0 0' }}>
          {t(
            'audit.flag.help',
            '列出：一天内调阅居民档案超过上限的用户；在工作时间（{hours}）以外调阅居民档案的用户；每一次紧急访问（破窗）。未选期间时为最近 30 天。点击一行查看其事件。',
            { hours: hours.replace(/\s*UTC\+8/, t('audit.flag.chinaTime', '，北京时间')) },
          )}
        </Typography.Paragraph>
      </Card>
      <Card
        size="small"
        title={t('audit.flag.total', '{n} 项异常', { n: answer?.flags.length ?? 0 })}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => setReload((n) => n + 1)} loading={loading}>
            {t('common.refresh', '刷新')}
          </Button>
        }
      >
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        <Table<AuditFlag>
          data-testid="audit-flags-table"
          size="small"
          rowKey={(f) => `${f.kind}-${f.username}-${f.day}`}
          columns={columns}
          dataSource={answer?.flags ?? []}
          loading={loading}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          onRow={(f) => ({ onClick: () => onPick(f), style: { cursor: 'pointer' } })}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.flag.none', '该期间没有异常')} /> }}
        />
      </Card>
    </Space>
  );
}
