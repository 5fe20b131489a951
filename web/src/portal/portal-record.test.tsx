import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { RecordAnswer, ScheduleAnswer } from './portal-api.js';
import { PortalRecord, PortalSchedule } from './portal-record.component.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const person = { residentId: 'pc', name: '李小宝', gender: 'male', birthDate: '2022-11-20', ageYears: 4 };
const record: RecordAnswer = {
  person,
  records: 2,
  total: 2,
  items: [
    {
      kind: 'immunization',
      date: '2022-11-20',
      title: '接种：乙肝疫苗 第1剂',
      detail: '已接种，批号 HB2022-01',
      place: '城东社区卫生服务中心',
      reference: 'Immunization/i1',
    },
    { kind: 'home-reading', date: '2026-12-01', title: '自测：血压', detail: '150/95 mmHg', place: null, reference: 'Observation/o1' },
  ],
};

describe('PortalRecord', () => {
  it("shows a ward's record in words, and asks again by kind", async () => {
    const urls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        urls.push(url);
        return json(200, url.includes('kind=immunization') ? { ...record, total: 1, items: [record.items[0]] } : record);
      }),
    );
    render(<PortalRecord forId="pc" />);
    expect(await screen.findByText('接种：乙肝疫苗 第1剂')).toBeTruthy();
    expect(screen.getByText('自测：血压')).toBeTruthy();
    expect(screen.getByText(/李小宝，共 2 条记录（合并自 2 份机构档案）/)).toBeTruthy();
    expect(screen.getByText('2022-11-20 · 城东社区卫生服务中心')).toBeTruthy();
    expect(urls[0]).toBe('/api/portal/me/record?for=pc');
    fireEvent.click(screen.getByRole('button', { name: '预防接种' }));
    await waitFor(() => expect(screen.queryByText('自测：血压')).toBeNull());
    expect(urls.at(-1)).toBe('/api/portal/me/record?kind=immunization&for=pc');
  });

  it('says why when the server refuses (another resident)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(403, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'forbidden', diagnostics: '只能查看本人及所监护儿童的健康档案' }],
        }),
      ),
    );
    render(<PortalRecord forId="pb" />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/只能查看本人及所监护儿童/);
  });
});

describe('PortalSchedule', () => {
  it('lists doses due first, overdue ones marked, then doses given', async () => {
    const schedule: ScheduleAnswer = {
      person,
      schedule: 'nip-2025',
      given: [{ vaccine: 'HepB', name: '乙肝疫苗', date: '2022-11-20' }],
      due: [{ vaccine: 'HepB', name: '乙肝疫苗', dose: 2, dueDate: '2022-12-20', status: 'overdue', reason: '补种' }],
      services: [],
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, schedule)),
    );
    render(<PortalSchedule forId="pc" />);
    expect(await screen.findByText('乙肝疫苗 第2剂')).toBeTruthy();
    expect(screen.getByText(/已逾期 · 2022-12-20/)).toBeTruthy();
    expect(screen.getByText('2022-11-20')).toBeTruthy();
  });

  it('lists follow-ups and checks from primary care above the vaccines', async () => {
    const schedule: ScheduleAnswer = {
      person,
      schedule: null,
      given: [],
      due: [],
      services: [
        {
          key: 'follow-up:htn',
          kind: 'follow-up',
          title: '高血压随访',
          detail: '调整治疗后2周内随访',
          dueDate: '2026-11-30',
          overdue: true,
        },
        {
          key: 'bp-screening',
          kind: 'bp-screening',
          title: '测量血压（每年至少一次）',
          detail: '56 岁，今年尚无血压记录',
          dueDate: null,
          overdue: false,
        },
      ],
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, schedule)),
    );
    render(<PortalSchedule />);
    expect(await screen.findByText('高血压随访')).toBeTruthy();
    expect(screen.getByText(/已逾期 · 2026-11-30/)).toBeTruthy();
    expect(screen.getByText('调整治疗后2周内随访')).toBeTruthy();
    expect(screen.getByText('测量血压（每年至少一次）')).toBeTruthy();
    expect(screen.getByText('目前没有需要接种的疫苗')).toBeTruthy();
  });
});
