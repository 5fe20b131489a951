/**
 * 月度报告: the monthly reports for the health bureau (医防融合月报), newest month first and paged
 * with the total; a month picker with 生成 / 重新生成; PDF and Excel downloads of the stored files.
 */
import { useCallback, useEffect, useState } from 'react';
import { App, Button, DatePicker, Empty, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { isAbort } from '../api/http.js';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../shared/format.js';
import { PageHeader } from '../shell/page-header.component.js';
import {
  downloadMonthlyReport,
  generateMonthlyReport,
  getMonthlyReports,
  lastMonthInChina,
  thisMonthInChina,
  type MonthlyReportList,
  type MonthlyReportView,
} from './monthly-report.resource.js';

const PAGE = 10;

const monthWords = (month: string) => t('mr.monthLabel', '{y}年{m}月', { y: month.slice(0, 4), m: Number(month.slice(5)) });

function Download({ report, format }: { report: MonthlyReportView; format: 'pdf' | 'xlsx' }) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const missing = format === 'pdf' && report.pdfBytes === null;
  const button = (
    <Button
      size="small"
      icon={<DownloadOutlined />}
      loading={busy}
      disabled={missing}
      data-testid={`mr-${report.month}-${format}`}
      onClick={() => {
        setBusy(true);
        downloadMonthlyReport(report.month, format)
          .then((name) => message.success(t('mr.downloaded', '已下载 {name}', { name })))
          .catch((e: unknown) => message.error(`${t('mr.downloadFailed', '下载失败')}：${(e as Error).message}`))
          .finally(() => setBusy(false));
      }}
    >
      {format === 'pdf' ? t('mr.pdf', 'PDF') : t('mr.xlsx', 'Excel')}
    </Button>
  );
  return missing ? <Tooltip title={t('mr.noPdf', '无 PDF：{reason}', { reason: report.pdfError ?? '' })}>{button}</Tooltip> : button;
}

export function MonthlyReportPage({ initialMonth }: { initialMonth?: string }) {
  const { message } = App.useApp();
  const [month, setMonth] = useState(initialMonth ?? lastMonthInChina());
  const [page, setPage] = useState(1);
  const [data, setData] = useState<MonthlyReportList | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    (signal?: AbortSignal) =>
      getMonthlyReports({ limit: PAGE, offset: (page - 1) * PAGE }, signal)
        .then(setData)
        .catch((e: unknown) => !isAbort(e) && message.error((e as Error).message)),
    [page, message],
  );
  useEffect(() => {
    const ctrl = new AbortController();
    void load(ctrl.signal);
    return () => ctrl.abort();
  }, [load]);

  const exists = data?.rows.some((r) => r.month === month) ?? false;
  const generate = async () => {
    setBusy(true);
    try {
      await generateMonthlyReport(month);
      message.success(t('mr.generated', '已生成 {month} 报告', { month: monthWords(month) }));
      await load();
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const latest = thisMonthInChina();
  return (
    <>
      <PageHeader
        title={t('mr.title', '月度报告')}
        crumbs={[{ title: t('nav.indicators', '指标与决策') }]}
        extra={
          <Space wrap>
            <DatePicker
              picker="month"
              format="YYYY-MM"
              allowClear={false}
              value={dayjs(`${month}-01`)}
              onChange={(d) => d && setMonth(d.format('YYYY-MM'))}
              disabledDate={(d) => d.format('YYYY-MM') > latest}
              aria-label={t('mr.month', '月份')}
              data-testid="mr-month"
              style={{ width: 140 }}
            />
            <Button type="primary" loading={busy} onClick={() => void generate()} data-testid="mr-generate">
              {exists ? t('mr.regenerate', '重新生成') : t('mr.generate', '生成')}
            </Button>
          </Space>
        }
      />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t(
          'mr.intro',
          '医防融合月报：当月的慢病管理与签约、基本公卫服务项目指标、医防融合评估、传染病报告质量、法定传染病病例和预警信号。每月 1 日自动生成上月报告；按街道的单元格不足 5 人不公开。',
        )}
      </Typography.Paragraph>
      <Table<MonthlyReportView>
        rowKey="month"
        size="small"
        dataSource={data?.rows ?? []}
        loading={!data}
        locale={{ emptyText: <Empty description={t('mr.empty', '尚无报告：选择月份后点击“生成”。')} /> }}
        pagination={{
          current: page,
          pageSize: PAGE,
          total: data?.total ?? 0,
          onChange: setPage,
          showTotal: (n) => t('mr.total', '共 {n} 份', { n }),
        }}
        columns={[
          { key: 'month', title: t('mr.month', '月份'), render: (_, r) => <strong>{monthWords(r.month)}</strong> },
          { key: 'at', title: t('mr.generatedAt', '生成时间'), render: (_, r) => formatDateTime(r.generatedAt) },
          {
            key: 'by',
            title: t('mr.generatedBy', '生成方式'),
            render: (_, r) => (r.generatedBy === 'schedule' ? <Tag color="blue">{t('mr.bySchedule', '定时生成')}</Tag> : r.generatedBy),
          },
          {
            key: 'sections',
            title: t('mr.sections', '内容'),
            render: (_, r) => (
              <Tooltip
                title={
                  <ul style={{ margin: 0, paddingLeft: 16 }}>
                    {r.summary.sections.map((s) => (
                      <li key={s.heading}>
                        {s.heading}：{t('mr.rows', '{n} 行', { n: s.rows })}
                      </li>
                    ))}
                  </ul>
                }
              >
                <span>{t('mr.sectionCount', '{n} 部分', { n: r.summary.sections.length })}</span>
              </Tooltip>
            ),
          },
          {
            key: 'status',
            title: t('mr.status', '状态'),
            render: (_, r) =>
              r.summary.partial ? (
                <Tag color="orange">{t('mr.partial', '生成时本月未结束')}</Tag>
              ) : (
                <Tag color="green">{t('mr.complete', '完整')}</Tag>
              ),
          },
          {
            key: 'download',
            title: t('mr.download', '下载'),
            render: (_, r) => (
              <Space size={8}>
                <Download report={r} format="pdf" />
                <Download report={r} format="xlsx" />
              </Space>
            ),
          },
        ]}
      />
    </>
  );
}
