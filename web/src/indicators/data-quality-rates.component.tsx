/**
 * 数据质量 among the indicators (#16): the district's completeness, validity and timeliness over
 * every facility and record type, from the counts the quality module keeps as records arrive,
 * each a link to the 数据质量 screen with the records behind it. Hidden when the user may not read it.
 */
import { useEffect, useState } from 'react';
import { Card, Col, Row, Statistic, Typography } from 'antd';
import type { FacilityQualityList } from '../../../src/quality/schemas.js';
import { ApiError, apiRequest, isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';

export interface QualityTotals {
  records: number;
  completeness: number | null;
  validity: number | null;
  timeliness: number | null;
  facilities: number;
}

/** The district's rates: the facilities' counts summed, then divided (not an average of rates). */
export function qualityTotals(list: FacilityQualityList): QualityTotals {
  let records = 0;
  let flagged = 0;
  let incomplete = 0;
  let timed = 0;
  let late = 0;
  const facilities = new Set<string>();
  for (const f of list.facilities) {
    records += f.records;
    flagged += f.recordsWithOpenIssue;
    incomplete += f.recordsIncomplete;
    timed += f.recordsWithEventTime - f.recordsHistorical;
    late += f.recordsLate;
    if (f.facility) facilities.add(f.facility);
  }
  const rate = (n: number, d: number) => (d > 0 ? Math.round((1000 * n) / d) / 10 : null);
  return {
    records,
    completeness: rate(records - incomplete, records),
    validity: rate(records - flagged, records),
    timeliness: rate(timed - late, timed),
    facilities: facilities.size,
  };
}

export function DataQualityRates() {
  const [totals, setTotals] = useState<QualityTotals | null>();
  useEffect(() => {
    const ctrl = new AbortController();
    apiRequest<FacilityQualityList>('/api/data-quality/facilities', { signal: ctrl.signal, accept: 'application/json' })
      .then((l) => setTotals(qualityTotals(l)))
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        setTotals(e instanceof ApiError && e.status === 403 ? null : undefined);
      });
    return () => ctrl.abort();
  }, []);
  if (!totals) return null;
  const figure = (title: string, v: number | null) => (
    <a href="#/integration/data-quality" className="yf-figure-link">
      <Statistic title={title} value={v === null ? '—' : v.toFixed(1)} suffix={v === null ? undefined : '%'} />
    </a>
  );
  return (
    <Card
      size="small"
      title={t('ind.dq.title', '数据质量（全区，{n} 个机构）', { n: totals.facilities })}
      data-testid="indicator-data-quality"
    >
      <Row gutter={16}>
        <Col span={8}>{figure(t('ind.dq.completeness', '完整性'), totals.completeness)}</Col>
        <Col span={8}>{figure(t('ind.dq.validity', '规范性'), totals.validity)}</Col>
        <Col span={8}>{figure(t('ind.dq.timeliness', '及时性'), totals.timeliness)}</Col>
      </Row>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '8px 0 0' }}>
        {t(
          'ind.dq.definition',
          '完整性：必填项齐全的记录占比；规范性：无未解决数据问题的记录占比；及时性：事件发生后 24 小时内收到的记录占比（补录的历史数据不计）。共 {n} 条记录。',
          { n: totals.records },
        )}
      </Typography.Paragraph>
    </Card>
  );
}
