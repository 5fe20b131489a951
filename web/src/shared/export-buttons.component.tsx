/**
 * 导出 Excel / 导出 CSV / 导出 PDF: a list's current filter as a file from the server (xlsx, CSV in
 * GB18030 for Chinese Excel, or a printable PDF where the route makes one).
 */
import { useState } from 'react';
import { App, Button, Space } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { downloadFile } from '../api/download.js';
import { t } from '../i18n/i18n.js';

type Format = 'xlsx' | 'csv' | 'pdf';
const LABELS: Record<Format, [string, string]> = {
  xlsx: ['export.xlsx', '导出 Excel'],
  csv: ['export.csv', '导出 CSV'],
  pdf: ['export.pdf', '导出 PDF'],
};

export function ExportButtons({
  path,
  query,
  testId,
  formats = ['xlsx', 'csv'],
}: {
  path: string;
  query: Record<string, string | undefined>;
  testId: string;
  /** The formats the route makes, in the order shown (the first with the download icon). */
  formats?: Format[];
}) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState<Format>();
  const run = async (format: Format) => {
    setBusy(format);
    try {
      const q = new URLSearchParams({ format });
      for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
      const name = await downloadFile(`${path}?${q.toString()}`, `export.${format}`);
      message.success(t('export.done', '已导出 {name}', { name }));
    } catch (e) {
      message.error(`${t('export.failed', '导出失败')}：${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Space size={8}>
      {formats.map((format, i) => (
        <Button
          key={format}
          size="small"
          icon={i === 0 ? <DownloadOutlined /> : undefined}
          loading={busy === format}
          onClick={() => void run(format)}
          data-testid={`${testId}-${format}`}
        >
          {t(...LABELS[format])}
        </Button>
      ))}
    </Space>
  );
}
