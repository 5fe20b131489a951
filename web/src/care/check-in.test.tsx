import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { DueItem } from '../chronic/chronic.resource.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { CheckInPage } from './check-in.component.js';

// Without message keys (i18n), as an older server sent them: the screen falls back to the zh-CN text.
const item = (kind: DueItem['kind'], key: string, title: string, over: Partial<DueItem> = {}): DueItem =>
  ({
    kind,
    key,
    title,
    detail: `${title}说明`,
    dueDate: '2025-06-10',
    overdue: false,
    patientId: 'p-1',
    ...over,
  }) as DueItem;

const due: DueItem[] = [
  item('follow-up', 'follow-up:htn', '高血压随访', { overdue: true }),
  item('vaccine', 'vaccine:MMR-2', '麻腮风疫苗第2剂'),
  item('education', 'education:salt', '限盐健康教育', { dueDate: null }),
];

describe('CheckInPage', () => {
  it('checks a resident in and lists the services due, with kinds and counts in Chinese', async () => {
    const api = stubApi({ 'POST /api/care/check-in': { encounterId: 'enc-1', items: due } });
    renderPage(<CheckInPage />);
    expect(screen.getByText('输入居民编号后登记到诊，系统列出该居民所有待办的医防服务。')).toBeTruthy();
    const register = screen.getByRole('button', { name: '登记到诊' }) as HTMLButtonElement;
    expect(register.disabled).toBe(true);

    fireEvent.change(screen.getByPlaceholderText('居民编号（Patient 或 Person）'), { target: { value: 'p-1' } });
    fireEvent.click(register);

    expect(await screen.findByText('待办服务 3 项')).toBeTruthy();
    expect(api.callsTo('POST /api/care/check-in')[0]!.body).toEqual({ patientId: 'p-1' });
    const rows = document.querySelectorAll('.ant-list-item');
    expect(rows).toHaveLength(3);
    const tags = [...document.querySelectorAll('.ant-list-item .ant-tag')].map((t) => t.textContent);
    expect(tags).toEqual(['随访', '逾期', '疫苗', '健康教育']);
    expect(within(rows[0] as HTMLElement).getByText('高血压随访说明 · 应于 2025-06-10')).toBeTruthy();
    expect(within(rows[2] as HTMLElement).getByText('限盐健康教育说明')).toBeTruthy();
    // The action offered per kind.
    expect(within(rows[0] as HTMLElement).getByRole('button', { name: /^录\s?入$/ })).toBeTruthy();
    expect(within(rows[1] as HTMLElement).getByRole('button', { name: '免疫处方' })).toBeTruthy();
    expect(await screen.findByText('已登记到诊')).toBeTruthy();
  });

  it('发放 gives the health-education item and reloads what is still due', async () => {
    let given = false;
    const api = stubApi({
      '/api/residents/p-1/due-services': () => ({ residentId: 'p-1', asOf: '2025-06-08', items: given ? due.slice(0, 2) : due }),
      'POST /api/care/education': () => {
        given = true;
        return { ok: true };
      },
    });
    renderPage(<CheckInPage patientId="p-1" />);
    fireEvent.click(screen.getByRole('button', { name: '仅查看待办' }));
    expect(await screen.findByText('待办服务 3 项')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /^发\s?放$/ }));
    await waitFor(() => expect(api.callsTo('POST /api/care/education')).toHaveLength(1));
    expect(api.callsTo('POST /api/care/education')[0]!.body).toEqual({ patientId: 'p-1', itemIds: ['salt'] });
    expect(await screen.findByText('待办服务 2 项')).toBeTruthy();
    expect(screen.queryByText('限盐健康教育')).toBeNull();
    expect(api.unmatched).toEqual([]);
  });

  it('shows the server error as a message', async () => {
    stubApi({ 'POST /api/care/check-in': { status: 404, body: { error: '找不到居民 p-404' } } });
    renderPage(<CheckInPage patientId="p-404" />);
    fireEvent.click(screen.getByRole('button', { name: '登记到诊' }));
    expect(await screen.findByText('找不到居民 p-404')).toBeTruthy();
  });
});
