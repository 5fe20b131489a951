import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { DueItem } from '../chronic/chronic.resource.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { byUrgency, CheckInPage, dueText } from './check-in.component.js';
import { addDays, todayInChina } from '../../../src/shared/dates.js';

const today = todayInChina();
const shift = (days: number) => addDays(today, days);

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
  item('vaccine', 'vaccine:MMR-2', '麻腮风疫苗第2剂', { dueDate: shift(20) }),
  item('education', 'education:salt', '限盐健康教育', { dueDate: null }),
  item('follow-up', 'follow-up:htn', '高血压随访', { overdue: true, dueDate: shift(-400) }),
];
const resident = {
  patientId: 'p-1',
  name: '赵凤英',
  gender: 'female',
  birthDate: '1950-03-02',
  age: 76,
  team: '东城家庭医生一队',
  keyPopulations: [
    { code: 'elderly', label: '65岁及以上老年人' },
    { code: 'chronic', label: '慢病患者' },
  ],
};

describe('due times in words', () => {
  it('says how late or how soon, not the date alone', () => {
    expect(dueText('2011-05-10', '2016-06-01')).toBe('逾期 5 年');
    expect(dueText('2026-01-01', '2026-04-15')).toBe('逾期 3 个月');
    expect(dueText('2026-04-03', '2026-04-15')).toBe('逾期 12 天');
    expect(dueText('2026-04-15', '2026-04-15')).toBe('今日到期');
    expect(dueText('2026-04-20', '2026-04-15')).toBe('5 天后到期（2026-04-20）');
  });
  it('orders by urgency: overdue, due now (or undated), later; by date within each', () => {
    const groups = byUrgency(due, today);
    expect(groups.map((g) => [g.urgency, g.items.map((i) => i.key)])).toEqual([
      ['overdue', ['follow-up:htn']],
      ['now', ['education:salt']],
      ['later', ['vaccine:MMR-2']],
    ]);
  });
});

describe('CheckInPage', () => {
  it('checks a resident in found by name, shows who they are and what is due, most urgent first, in words', async () => {
    const api = stubApi({
      'POST /api/care/check-in': { encounterId: 'enc-1', resident, items: due },
      '/api/residents/search': { total: 1, rows: [] },
    });
    renderPage(<CheckInPage />);
    expect(screen.getByText('输入姓名、拼音首字母、身份证号或电话找到居民，登记到诊后系统列出该居民所有待办的医防服务。')).toBeTruthy();
    const register = screen.getByRole('button', { name: '登记到诊' }) as HTMLButtonElement;
    expect(register.disabled).toBe(true);

    fireEvent.change(screen.getByPlaceholderText('姓名、拼音首字母、身份证号或电话'), { target: { value: 'p-1' } });
    fireEvent.click(register);

    const header = await screen.findByTestId('checkin-resident');
    expect(header.textContent).toContain('赵凤英');
    expect(header.textContent).toContain('76 岁');
    expect(header.textContent).toContain('东城家庭医生一队');
    expect(header.textContent).toContain('65岁及以上老年人');
    expect(api.callsTo('POST /api/care/check-in')[0]!.body).toEqual({ patientId: 'p-1' });
    expect(screen.getByTestId('due-group-overdue').querySelector('.ant-card-head-title')!.textContent).toBe('已逾期 · 1 项');
    const rows = document.querySelectorAll('.ant-list-item');
    expect(rows).toHaveLength(3);
    const tags = [...document.querySelectorAll('.ant-list-item .ant-tag')].map((t) => t.textContent);
    expect(tags).toEqual(['随访', '逾期 1 年', '健康教育', '疫苗', `20 天后到期（${shift(20)}）`]);
    expect(within(rows[0] as HTMLElement).getByText('高血压随访说明')).toBeTruthy();
    // The action offered per kind.
    expect(within(rows[0] as HTMLElement).getByRole('button', { name: /^录\s?入$/ })).toBeTruthy();
    expect(within(rows[2] as HTMLElement).getByRole('button', { name: '免疫处方' })).toBeTruthy();
    expect(await screen.findByText('已登记到诊')).toBeTruthy();
  });

  it('发放 gives the health-education item and reloads what is still due', async () => {
    let given = false;
    const api = stubApi({
      '/api/residents/p-1/due-services': () => ({
        residentId: 'p-1',
        asOf: '2025-06-08',
        items: given ? due.filter((i) => i.kind !== 'education') : due,
      }),
      'POST /api/care/education': () => {
        given = true;
        return { ok: true };
      },
    });
    renderPage(<CheckInPage patientId="p-1" />);
    fireEvent.click(screen.getByRole('button', { name: '仅查看待办' }));
    await screen.findByTestId('due-group-now');
    expect(document.querySelectorAll('.ant-list-item')).toHaveLength(3);

    fireEvent.click(screen.getByRole('button', { name: /^发\s?放$/ }));
    await waitFor(() => expect(api.callsTo('POST /api/care/education')).toHaveLength(1));
    expect(api.callsTo('POST /api/care/education')[0]!.body).toEqual({ patientId: 'p-1', itemIds: ['salt'] });
    await waitFor(() => expect(document.querySelectorAll('.ant-list-item')).toHaveLength(2));
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
