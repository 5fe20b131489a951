/** 数据接入 · 身份核查: record pairs scored between the thresholds, side by side, for a person to decide. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Empty, Space, Table, Tag, Typography, type TableColumnsType } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { PageHeader } from '../shell/page-header.component.js';
import { acceptReview, fetchReview, rejectReview, undoEvent, type IdentityData, type ReviewItem } from './identity.resource.js';

const FIELD_LABELS: [keyof IdentityData, string, string][] = [
  ['name', 'identity.name', '姓名'],
  ['sex', 'identity.sex', '性别'],
  ['birthDate', 'identity.birthDate', '出生日期'],
  ['idRaw', 'identity.idNumber', '身份证号'],
  ['phone', 'identity.phone', '电话'],
  ['address', 'identity.address', '住址'],
  ['facility', 'identity.facility', '来源机构'],
];

/** ID numbers are shown masked, as on the resident pages (first 6 and last 4 characters). */
const maskId = (v?: string) => (v && v.length >= 15 ? `${v.slice(0, 6)}********${v.slice(-4)}` : (v ?? ''));

const sexLabel = (s?: string) => (s === 'male' ? t('identity.male', '男') : s === 'female' ? t('identity.female', '女') : (s ?? ''));

/** The two records field by field; differing values are marked. */
function Comparison({ a, b }: { a: IdentityData | null; b: IdentityData | null }) {
  return (
    <table className="yf-identity-compare">
      <tbody>
        {FIELD_LABELS.map(([field, key, label]) => {
          const show = (r: IdentityData | null) =>
            field === 'sex' ? sexLabel(r?.sex) : field === 'idRaw' ? maskId(r?.idRaw) : String(r?.[field] ?? '');
          const va = show(a);
          const vb = show(b);
          const differs = va !== vb && va !== '' && vb !== '';
          return (
            <tr key={field}>
              <th style={{ textAlign: 'left', paddingRight: 12, fontWeight: 400, color: '#888' }}>{t(key, label)}</th>
              <td style={{ paddingRight: 16 }}>{va || '—'}</td>
              <td>
                <Typography.Text type={differs ? 'danger' : undefined}>{vb || '—'}</Typography.Text>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ReviewQueuePage() {
  const { message } = App.useApp();
  const [items, setItems] = useState<ReviewItem[]>([]);
  const [thresholds, setThresholds] = useState<{ upper: number; lower: number }>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const c = new AbortController();
    setLoading(true);
    fetchReview(c.signal)
      .then((r) => {
        setItems(r.items);
        setThresholds(r.thresholds);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setError(e instanceof Error ? e.message : String(e));
        setLoading(false);
      });
    return () => c.abort();
  }, [reload]);
  const refresh = useCallback(() => setReload((n) => n + 1), []);

  const act = async (item: ReviewItem, accept: boolean) => {
    try {
      if (accept) {
        const r = await acceptReview(item.id);
        message.success({
          content: (
            <span>
              {t('identity.linked', '已合并为同一居民')}{' '}
              <Button size="small" type="link" onClick={() => void undoEvent(r.event).then(refresh)}>
                {t('identity.undo', '撤销')}
              </Button>
            </span>
          ),
          duration: 8,
        });
      } else {
        await rejectReview(item.id);
        message.info(t('identity.rejected', '已确认为不同居民'));
      }
      refresh();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const columns: TableColumnsType<ReviewItem> = [
    { title: t('identity.score', '匹配分'), dataIndex: 'score', width: 90, render: (s: number) => <Tag color="gold">{s.toFixed(1)}</Tag> },
    { title: t('identity.records', '新记录 / 候选居民的记录'), key: 'cmp', render: (_, i) => <Comparison a={i.patient} b={i.candidate} /> },
    {
      title: '',
      key: 'act',
      width: 200,
      render: (_, i) => (
        <Space>
          <Button type="primary" size="small" onClick={() => void act(i, true)}>
            {t('identity.same', '同一人')}
          </Button>
          <Button size="small" onClick={() => void act(i, false)}>
            {t('identity.different', '不同人')}
          </Button>
        </Space>
      ),
    },
  ];

  return (
    <div>
      <PageHeader
        title={t('identity.review', '身份核查')}
        crumbs={[{ title: t('nav.integration', '数据接入') }, { title: t('identity.review', '身份核查') }]}
        extra={
          <Button icon={<ReloadOutlined />} onClick={refresh}>
            {t('common.refresh', '刷新')}
          </Button>
        }
      />
      {thresholds && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          message={t(
            'identity.explain',
            '匹配分介于 {lower} 与 {upper} 之间的记录需要人工确认；身份证号一致或分数高于上限的记录已自动合并。',
          )
            .replace('{lower}', String(thresholds.lower))
            .replace('{upper}', String(thresholds.upper))}
        />
      )}
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
      <Card>
        <Table
          rowKey="id"
          size="small"
          loading={loading}
          columns={columns}
          dataSource={items}
          locale={{ emptyText: <Empty description={t('identity.noneOpen', '没有待核查的记录')} /> }}
          pagination={{ pageSize: 10 }}
        />
      </Card>
    </div>
  );
}
