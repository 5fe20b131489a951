import { readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { enHospitalFeeds } from './en-hospital-feeds.js';
import { HospitalFeedsPage } from './hospital-feeds.component.js';
import type { DeadLetter, UploadDetail } from './hospital-feeds.resource.js';

const upload = (over: Partial<UploadDetail> = {}): UploadDetail => ({
  id: 7,
  facility: 'WSY-01',
  template: 'lab-results',
  fileName: 'lis.csv',
  encoding: 'gb18030',
  status: 'done',
  error: null,
  receivedAt: '2026-03-01T01:00:00Z' as unknown as Date,
  finishedAt: '2026-03-01T01:00:05Z' as unknown as Date,
  receivedBy: 'admin',
  bytes: 1000,
  rowsTotal: 3,
  rowsRead: 3,
  rowsStored: 2,
  rowsUnchanged: 0,
  rowsDead: 1,
  rowsFlagged: 0,
  resourcesWritten: 5,
  header: ['患者编号', '检验项目编码'],
  problems: [{ line: 4, column: '身份证号', message: '无患者标识', kind: 'dead-letter' }],
  ...over,
});

const dead = (n: number): DeadLetter => ({
  id: n,
  uploadId: 7,
  facility: 'WSY-01',
  template: 'lab-results',
  line: n + 1,
  lineText: `,,L00${n},GLU,葡萄糖,7.2`,
  column: '身份证号',
  reason: `无患者标识 ${n}`,
  status: 'open',
  createdAt: '2026-03-01T01:00:00Z' as unknown as Date,
  closedAt: null,
  closedBy: null,
  correctedText: null,
});

describe('HospitalFeedsPage (医院数据上报)', () => {
  it('lists uploads paged with the total and opens a report with its problems by line and column', async () => {
    const api = stubApi({
      '/api/hospital-feeds/uploads': (c: { path: string }) => {
        const offset = Number(new URL(c.path, 'http://x').searchParams.get('offset'));
        return { total: 25, limit: 20, offset, items: Array.from({ length: offset ? 5 : 20 }, (_, i) => upload({ id: offset + i + 1 })) };
      },
      '/api/hospital-feeds/uploads/3': upload({ id: 3 }),
    });
    renderPage(<HospitalFeedsPage />);
    fireEvent.click(screen.getByRole('tab', { name: '上传记录' }));
    expect(await screen.findByText('共 25 条')).toBeTruthy();
    const row = screen.getAllByRole('row').find((r) => r.textContent?.startsWith('3WSY-01'))!;
    fireEvent.click(within(row).getByRole('button', { name: /报\s?告/ }));
    expect(await screen.findByText('上传 3 的报告')).toBeTruthy();
    expect(screen.getByText('无患者标识')).toBeTruthy();
    fireEvent.click(screen.getByTitle('2'));
    await waitFor(() => expect(api.calls.some((c) => c.path === '/api/hospital-feeds/uploads?limit=20&offset=20')).toBe(true));
  });

  it('corrects a dead letter and reprocesses it', async () => {
    const api = stubApi({
      '/api/hospital-feeds/dead-letters': { total: 1, limit: 20, offset: 0, items: [dead(3)] },
      'POST /api/hospital-feeds/dead-letters/3/reprocess': { status: 'resolved', column: null, reason: null, resources: [], warnings: [] },
    });
    renderPage(<HospitalFeedsPage />);
    fireEvent.click(screen.getByRole('tab', { name: '死信（待纠正）' }));
    expect(await screen.findByText('无患者标识 3')).toBeTruthy();
    expect(api.calls.find((c) => c.path.startsWith('/api/hospital-feeds/dead-letters'))!.path).toBe(
      '/api/hospital-feeds/dead-letters?status=open&limit=20&offset=0',
    );
    fireEvent.click(screen.getByRole('button', { name: /纠\s?正/ }));
    const box = await screen.findByLabelText('原始行');
    fireEvent.change(box, { target: { value: 'P002,V9,L003,GLU,葡萄糖,7.2' } });
    fireEvent.click(screen.getByRole('button', { name: '重新处理' }));
    await waitFor(() => expect(api.callsTo('POST /api/hospital-feeds/dead-letters/3/reprocess')).toHaveLength(1));
    expect(api.callsTo('POST /api/hospital-feeds/dead-letters/3/reprocess')[0]!.body).toEqual({ line: 'P002,V9,L003,GLU,葡萄糖,7.2' });
  });

  it('uploads a file for the chosen facility and shows the progress and report', async () => {
    let polls = 0;
    const api = stubApi({
      'POST /api/hospital-feeds/patients/uploads': {
        status: 202,
        body: { uploadId: 9, status: 'queued', rowsTotal: 3, encoding: 'gb18030' },
      },
      '/api/hospital-feeds/uploads/9': () => (++polls === 1 ? upload({ id: 9, status: 'running', rowsRead: 1 }) : upload({ id: 9 })),
      '/api/hospital-feeds/uploads': { total: 0, limit: 20, offset: 0, items: [] },
      '/api/hospital-feeds/dead-letters': { total: 0, limit: 20, offset: 0, items: [] },
    });
    renderPage(<HospitalFeedsPage />);
    fireEvent.change(screen.getByLabelText('机构编码'), { target: { value: 'WSY-01' } });
    const file = new File(['患者编号,姓名\r\nP1,张三\r\n'], 'p.csv', { type: 'text/csv' });
    fireEvent.change(screen.getByLabelText('选择文件'), { target: { files: [file] } });
    fireEvent.click(screen.getByRole('button', { name: /上\s?传/ }));
    await waitFor(() =>
      expect(api.calls.some((c) => c.path.startsWith('/api/hospital-feeds/patients/uploads?facility=WSY-01'))).toBe(true),
    );
    expect(await screen.findByText('处理中')).toBeTruthy();
    expect(await screen.findByText('已完成', {}, { timeout: 3000 })).toBeTruthy();
    expect(screen.getByText('无患者标识')).toBeTruthy();
  });

  it('has an English text for every key it uses', () => {
    const src = readFileSync('web/src/hospital-feeds/hospital-feeds.component.tsx', 'utf8');
    const keys = [...src.matchAll(/t\('(hf\.[\w.]+)'/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(40);
    for (const k of keys) expect(enHospitalFeeds[k], k).toBeTruthy();
  });
});
