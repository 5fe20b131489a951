/** 导出 Excel / 导出 CSV: a list's current filter as a file from the server (xlsx, or CSV in GB18030 for Chinese Excel). */
import { useState } from 'react';
import { App, Button, Space } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { downloadFile } from '../api/download.js';
import { t } from '../i18n/i18n.js';

export function ExportButtons({ path, query, testId }: { path: string; query: Record<string, string | undefined>; testId: string }) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState<'xlsx' | 'csv'>();
  const run = async (format: 'xlsx' | 'csv') => {
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
      <Button
        size="small"
        icon={<DownloadOutlined />}
        loading={busy === 'xlsx'}
        onClick={() => void run('xlsx')}
        data-testid={`${testId}-xlsx`}
      >
        {t('export.xlsx', '导出 Excel')}
      </Button>
      <Button size="small" loading={busy === 'csv'} onClick={() => void run('csv')} data-testid={`${testId}-csv`}>
        {t('export.csv', '导出 CSV')}
      </Button>
    </Space>
  );
}
