/**
 * 检测结果 on an investigation (issue #20 item 4: a verified result goes "into the investigation"):
 * the specimens ordered for it (lab orders naming the investigation), newest first, paged with the
 * total — state, test, when collected, the result and its interpretation once verified, late legs
 * marked — each a link to the specimen's custody and timeline on the 检测送检 screens.
 */
import { Alert, Table, Tag } from 'antd';
import { useEffect, useState } from 'react';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { listSpecimens } from '../lab/lab.resource.js';
import { interpretationLabel, modeLabel, stateLabel, STATE_COLOURS } from '../lab/labels.js';
import type { SpecimenList } from '../../../src/lab/schemas.js';
import { chinaDateTimeOf } from '../../../src/shared/dates.js';

const PAGE = 20;
const when = (iso: string | null) => (iso ? chinaDateTimeOf(iso) : '—');

export function LabTab({ investigationId }: { investigationId: number }) {
  const [page, setPage] = useState(1);
  const [data, setData] = useState<SpecimenList>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ctrl = new AbortController();
    listSpecimens({ investigationId: String(investigationId), limit: PAGE, offset: (page - 1) * PAGE }, ctrl.signal).then(
      (d) => {
        setData(d);
        setError(undefined);
      },
      (e: unknown) => {
        if (!isAbort(e)) setError((e as Error).message);
      },
    );
    return () => ctrl.abort();
  }, [investigationId, page]);
  if (error) return <Alert type="warning" showIcon message={t('inv.lab.failed', '检测结果加载失败')} description={error} />;
  return (
    <Table
      data-testid="inv-lab"
      size="small"
      rowKey="id"
      loading={!data}
      dataSource={data?.items ?? []}
      locale={{ emptyText: t('inv.lab.none', '本次调查尚未送检标本') }}
      pagination={{
        current: page,
        pageSize: PAGE,
        total: data?.total ?? 0,
        onChange: setPage,
        showTotal: (n) => t('inv.lab.total', '共 {n} 份标本', { n }),
      }}
      columns={[
        {
          title: t('lab.col.barcode', '条码'),
          key: 'barcode',
          render: (_, r) => <a href={`#/lab/specimens/${encodeURIComponent(r.barcode)}`}>{r.barcode}</a>,
        },
        { title: t('inv.lab.test', '检测项目'), key: 'test', render: (_, r) => r.testCode },
        { title: t('inv.lab.mode', '模式'), key: 'mode', render: (_, r) => modeLabel(r.mode) },
        {
          title: t('inv.lab.state', '状态'),
          key: 'state',
          render: (_, r) => (
            <>
              <Tag color={STATE_COLOURS[r.state]}>{stateLabel(r.state)}</Tag>
              {r.overdue && <Tag color="red">{t('inv.lab.overdue', '超时')}</Tag>}
            </>
          ),
        },
        { title: t('inv.lab.collected', '采样时间'), key: 'collected', render: (_, r) => when(r.collectedAt) },
        {
          title: t('inv.lab.result', '结果'),
          key: 'result',
          render: (_, r) =>
            r.result && (r.state === 'verified' || r.state === 'reported')
              ? `${r.result.value}${r.result.interpretation ? `（${interpretationLabel(r.result.interpretation)}）` : ''}`
              : t('inv.lab.pending', '待出具'),
        },
        { title: t('inv.lab.verified', '审核时间'), key: 'verified', render: (_, r) => when(r.verifiedAt) },
      ]}
    />
  );
}
